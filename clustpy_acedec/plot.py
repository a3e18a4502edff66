"""
Pictures of a fitted model. This module imports matplotlib only when a plot is made (clustpy, which the
package builds on, imports it on its own import already).
"""

import contextlib
import math
import numbers
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from clustpy_acedec._subspace import DEFAULT_DIM_MARGIN, two_space_cutoff
from clustpy_acedec._validation import check_positive_int

if TYPE_CHECKING:  # annotations only: the plots take fitted estimators, this module imports none of them
    from matplotlib.figure import Figure

    from clustpy_acedec.acedec import ACeDeC
    from clustpy_acedec.enrc import ENRC

#: the range of :func:`shared_traversal` in standard deviations, shared with its plot's column labels
_TRAVERSAL_SPREAD = 2.0


def _pyplot():
    """pyplot, with whatever backend the user chose or matplotlib picked (it falls back to Agg without a display):
    figures made through it show in notebooks and interactive sessions as any matplotlib figure does."""
    import matplotlib.pyplot as plt
    return plt


def _fitted(model, spaces: str = "any") -> None:
    """
    ``model`` a fitted ACeDeC or ENRC; ``spaces="acedec"``: one with ACeDeC's cluster and shared space.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        for an estimator before ``fit``
    TypeError
        for anything else, or an ENRC where the picture is of ACeDeC's two spaces
    """
    from sklearn.utils.validation import check_is_fitted
    if not hasattr(model, "fit") or not hasattr(model, "get_params"):
        raise TypeError(f"model must be a fitted ACeDeC or ENRC, got {type(model).__name__}")
    check_is_fitted(model, "model_")
    if spaces == "acedec" and not hasattr(model, "shared_center_"):
        raise TypeError(f"this picture shows ACeDeC's cluster and shared spaces; {type(model).__name__} has none "
                        "(plot_decoded_centers, plot_betas and plot_cluster_space take either estimator)")


@contextlib.contextmanager
def _closed_on_error(figure):
    """A figure that failed half-way is closed, not left open in pyplot's list of figures."""
    try:
        yield figure
    except BaseException:
        _pyplot().close(figure)
        raise


def _check_spread(spread) -> float:
    if isinstance(spread, bool) or not isinstance(spread, numbers.Real) or not math.isfinite(spread) or spread <= 0:
        raise ValueError(f"spread must be a positive finite number of standard deviations, got {spread!r}")
    return float(spread)


def beta_cutoff(model: "ACeDeC | ENRC") -> float:
    """
    The β a dimension needs to belong to a space when there are two spaces
    (:func:`clustpy_acedec._subspace.two_space_cutoff`: 0.55 for the estimators' default ``dim_margin`` 0.1).

    Parameters
    ----------
    model : ACeDeC | ENRC
        a model; its ``dim_margin`` is read when it has one, else the estimators' default 0.1

    Returns
    -------
    float
    """
    return two_space_cutoff(getattr(model, "dim_margin", DEFAULT_DIM_MARGIN))


def plot_betas(model: "ACeDeC | ENRC", space_names: list | None = None, path: str | None = None) -> "Figure":
    """
    Sorted bar chart of the feature weights of every space, at initialisation and after training
    (ACe/DeC Fig. 2, ENRC Fig. 4). With two spaces a dashed line marks the cut-off of :func:`beta_cutoff`: the
    dimensions whose trained β reaches it belong to the space (for ACeDeC drawn in the cluster space only, its
    shared space being every other dimension).

    Parameters
    ----------
    model : ACeDeC
        a fitted model with ``betas_`` and ``betas_init_`` of shape (S, d)
    space_names : list | None
        one title per space (default: "cluster space", "shared space" for two spaces)
    path : str | None
        where to save the figure (default: None)

    Returns
    -------
    figure : matplotlib.figure.Figure
    """
    _fitted(model)
    plt = _pyplot()
    betas, betas_init = np.asarray(model.betas_), np.asarray(model.betas_init_)
    n_spaces = betas.shape[0]
    if space_names is None:
        space_names = ["cluster space", "shared space"] if n_spaces == 2 else [f"clustering {s}" for s in range(n_spaces)]
    if isinstance(space_names, str) or len(space_names) != n_spaces:
        raise ValueError(f"space_names must hold one name per space ({n_spaces}), got {space_names!r}")
    figure, axes = plt.subplots(1, n_spaces, figsize=(4 * n_spaces, 3), squeeze=False)
    with _closed_on_error(figure):
        _draw_betas(model, betas, betas_init, space_names, axes)
        if path is not None:
            figure.savefig(path, dpi=120)
    return figure


def _draw_betas(model, betas: np.ndarray, betas_init: np.ndarray, space_names: list, axes) -> None:
    """The bars of :func:`plot_betas`."""
    dims = np.arange(betas.shape[1])
    cutoff = beta_cutoff(model) if len(betas) == 2 else None
    # ACeDeC's shared space is every dimension outside the cluster space: only the cluster space has a cut-off
    spaces_with_cutoff = [] if cutoff is None else [0] if hasattr(model, "cluster_space_dims_") else [0, 1]
    for s, axis in enumerate(axes[0]):
        order = np.argsort(-betas[s])
        axis.bar(dims - 0.2, betas_init[s][order], width=0.4, label="initial", color="0.7")
        axis.bar(dims + 0.2, betas[s][order], width=0.4, label="trained", color="C0")
        if s in spaces_with_cutoff:
            axis.axhline(cutoff, color="C3", linestyle="--", linewidth=1, label=f"cut-off β = {cutoff:.2f}")
        axis.set_xticks(dims, [str(d) for d in order], fontsize=7)
        axis.set_ylim(0, 1.2)  # a band above β = 1 for the legend, which would hide the tallest bars
        axis.set_yticks(np.linspace(0, 1, 6))
        axis.set_title(f"β of the {space_names[s]}")
        axis.set_xlabel("rotated dimension (sorted by trained β)")
        if s == 0 or s in spaces_with_cutoff:
            axis.legend(fontsize=7, loc="upper center", ncol=3, frameon=False)
    axes[0][0].set_ylabel("β")
    axes[0][0].figure.tight_layout()


def plot_cluster_space(model: "ACeDeC | ENRC", X: ArrayLike, labels: np.ndarray | None = None, n_dims: int = 3,
                       path: str | None = None) -> "Figure":
    """
    Scatter matrix of the cluster-space dimensions with the highest β_cs, histograms on the diagonal,
    coloured by labels: the cluster space seen without t-SNE (ACe/DeC Fig. 3, ENRC Fig. 3). A legend names the
    colours ("cluster k" for the model's clusters, "label k" for given labels).

    Parameters
    ----------
    model : ACeDeC
        a fitted model
    X : array-like
        data to embed
    labels : np.ndarray | None
        colours; None uses ``model.predict(X)``, the first clustering of an ENRC (default: None)
    n_dims : int
        number of top-β dimensions to show (default: 3)
    path : str | None
        where to save the figure (default: None)

    Returns
    -------
    figure : matplotlib.figure.Figure
    """
    _fitted(model)
    n_dims = check_positive_int(n_dims, "n_dims")
    plt = _pyplot()
    rotated = model.transform_rotated(X)
    predicted = labels is None
    labels = model.predict(X) if predicted else np.asarray(labels)
    if len(labels) != len(rotated):
        raise ValueError(f"labels must hold one label per sample of X ({len(rotated)}), got {len(labels)}")
    labels = labels.reshape(len(labels), -1)[:, 0]  # ENRC: the first clustering
    top = np.argsort(-np.asarray(model.betas_)[0])[:max(1, min(n_dims, rotated.shape[1]))]
    k = len(top)
    values = np.unique(labels)
    # one colour per label, the same in the scatter plots, the histograms and the legend
    palette = plt.get_cmap("tab10" if len(values) <= 10 else "tab20")
    colours = {value: palette(i % palette.N) for i, value in enumerate(values)}
    names = {value: f"{'cluster' if predicted else 'label'} {value}" for value in values}
    figure, axes = plt.subplots(k, k, figsize=(2.6 * k, 2.6 * k), squeeze=False)
    with _closed_on_error(figure):
        _draw_cluster_space(model, rotated, labels, top, values, colours, names, axes)
        if path is not None:
            figure.savefig(path, dpi=120)
    return figure


def _draw_cluster_space(model, rotated: np.ndarray, labels: np.ndarray, top: np.ndarray, values: np.ndarray,
                        colours: dict, names: dict, axes) -> None:
    """The scatter matrix of :func:`plot_cluster_space`."""
    k, figure = len(top), axes[0][0].figure
    for row, dim_y in enumerate(top):
        for col, dim_x in enumerate(top):
            axis = axes[row][col]
            for value in values:
                members = labels == value
                if row == col:
                    axis.hist(rotated[members, dim_x], bins=30, alpha=0.5, color=colours[value], label=names[value])
                else:
                    axis.scatter(rotated[members, dim_x], rotated[members, dim_y], s=2, color=colours[value],
                                 label=names[value])
            if row == k - 1:
                axis.set_xlabel(f"dim {dim_x} (β={model.betas_[0][dim_x]:.2f})", fontsize=8)
            if col == 0:
                axis.set_ylabel(f"dim {dim_y}", fontsize=8)
    figure.suptitle("cluster space (top-β dimensions)")
    figure.tight_layout(rect=(0, 0, 0.85, 1))  # room for the legend on the right
    handles, texts = axes[0][min(1, k - 1)].get_legend_handles_labels()  # a scatter's dots unless one dimension
    figure.legend(handles, texts, loc="center right", fontsize=7, markerscale=4,
                  ncol=int(np.ceil(len(values) / 25)))  # ncol: also matplotlib < 3.6


def _decode(model, rotated) -> np.ndarray:
    """Decode rotated coordinates: dec(V r), as images in the model's input shape."""
    import torch
    layer, autoencoder = model.model_.layer, model.model_.autoencoder
    with torch.no_grad():
        r = torch.as_tensor(np.asarray(rotated), dtype=torch.float32, device=layer.V.device)
        decoded = autoencoder.decode(layer.rotate_back(r))
    return decoded.reshape(len(r), -1).cpu().numpy()


def _as_image(vector: np.ndarray, image_shape: tuple) -> np.ndarray:
    """A flat vector as an (H, W) or (H, W, C) image for imshow; channel-first input is moved last."""
    image = vector.reshape(image_shape)
    if image.ndim == 3 and image.shape[0] in (1, 3) and image.shape[-1] not in (1, 3):
        image = np.moveaxis(image, 0, -1)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    return (image - image.min()) / max(float(image.max() - image.min()), 1e-8) if image.ndim == 3 else image


def _image_shape(model, image_shape: tuple | None) -> tuple:
    """
    The shape the plots draw a sample in: ``image_shape`` if given, else the estimator's ``image_shape``
    parameter (flat input of images), else the shape the model was fitted on when it has two or more axes,
    else a square for a square number of features; a ValueError names the argument otherwise.
    """
    if image_shape is not None:
        return tuple(image_shape)
    if getattr(model, "image_shape", None) is not None:
        return tuple(model.image_shape)
    if len(model.input_shape_) >= 2:
        return tuple(model.input_shape_)
    side = int(round(np.sqrt(model.n_features_in_)))
    if side * side == model.n_features_in_:
        return side, side
    raise ValueError(f"the model was fitted on {model.n_features_in_} features, which are not a square image: "
                     "pass image_shape=(H, W) or (H, W, C)")


def _image_grid(rows: list, row_titles: list, image_shape: tuple, title: str, path: str | None,
                column_titles: list | None = None, image_titles: list | None = None):
    """
    A grid of images, one list per row; ``column_titles`` above the first row, ``image_titles`` (one list per
    row) above every image.
    """
    plt = _pyplot()
    n_rows, n_cols = len(rows), max(len(r) for r in rows)
    has_titles = column_titles is not None or image_titles is not None
    figure, axes = plt.subplots(n_rows, n_cols, figsize=(1.2 * n_cols, (1.5 if has_titles else 1.3) * n_rows),
                                squeeze=False)
    with _closed_on_error(figure):
        _draw_image_grid(rows, row_titles, image_shape, axes, column_titles, image_titles)
        figure.suptitle(title)
        figure.tight_layout()
        if path is not None:
            figure.savefig(path, dpi=120)
    return figure


def _draw_image_grid(rows: list, row_titles: list, image_shape: tuple, axes, column_titles: list | None,
                     image_titles: list | None) -> None:
    """The images of :func:`_image_grid`."""
    n_cols = max(len(r) for r in rows)
    for i, row in enumerate(rows):
        for j in range(n_cols):
            axis = axes[i][j]
            axis.set_xticks([])
            axis.set_yticks([])
            if j < len(row):
                axis.imshow(_as_image(row[j], image_shape), cmap="gray", interpolation="nearest")
                if image_titles is not None:
                    axis.set_title(image_titles[i][j], fontsize=7)
            else:
                axis.set_axis_off()  # a shorter row (a clustering with fewer clusters): no empty frame
        axes[i][0].set_ylabel(row_titles[i], fontsize=7)
    for j, column_title in enumerate(column_titles or []):
        axes[0][j].set_title(column_title, fontsize=7)


def plot_space_reconstructions(model: "ACeDeC", X: ArrayLike, image_shape: tuple | None = None, n_images: int = 8,
                               path: str | None = None) -> "Figure":
    """
    Input images and their reconstructions from one space alone (ACe/DeC Fig. 1b): for "cluster space only"
    the rotated coordinates outside ``cluster_space_dims_`` are replaced by their data mean (not zero, which
    would be an arbitrary point of the embedding), and vice versa for "shared space only".

    Parameters
    ----------
    model : ACeDeC
        a fitted model
    X : array-like
        data; the first ``n_images`` samples are shown
    image_shape : tuple | None
        (H, W) or (H, W, C); None uses the model's ``image_shape``, else the shape it was fitted on (default:
        None)
    n_images : int
        number of columns (default: 8)
    path : str | None
        where to save the figure (default: None)

    Returns
    -------
    figure : matplotlib.figure.Figure
    """
    _fitted(model, spaces="acedec")
    X = np.asarray(X)[:check_positive_int(n_images, "n_images")]
    image_shape = _image_shape(model, image_shape)
    rotated = model.transform_rotated(X)
    data_mean = np.asarray(model.shared_center_)  # V^T μ, μ the mean of the embedded training data
    in_cluster = np.zeros(rotated.shape[1], dtype=bool)
    in_cluster[np.asarray(model.cluster_space_dims_, dtype=int)] = True
    cluster_only = np.where(in_cluster, rotated, data_mean)
    shared_only = np.where(in_cluster, data_mean, rotated)
    rows = [X.reshape(len(X), -1), _decode(model, cluster_only), _decode(model, shared_only)]
    return _image_grid(rows, ["input", "cluster space only", "shared space only"], image_shape,
                       "reconstructions from one space", path)


def plot_decoded_centers(model: "ACeDeC | ENRC", image_shape: tuple | None = None,
                         path: str | None = None) -> "Figure":
    """
    The centres decoded as images, dec(V μ) (ENRC Fig. 3 bottom): one row per clustering, each image titled
    with its cluster number, grey images in the grey colour map.

    Parameters
    ----------
    model : ACeDeC | ENRC
        a fitted model
    image_shape : tuple | None
        (H, W) or (H, W, C); None uses the model's ``image_shape``, else the shape it was fitted on (default:
        None)
    path : str | None
        where to save the figure (default: None)

    Returns
    -------
    figure : matplotlib.figure.Figure
    """
    _fitted(model)
    image_shape = _image_shape(model, image_shape)
    centers = model.cluster_centers_ if isinstance(model.cluster_centers_, list) else [model.cluster_centers_]
    rows = [_decode(model, c) for c in centers]
    titles = ["centres"] if len(rows) == 1 else [f"clustering {s}" for s in range(len(rows))]
    return _image_grid(rows, titles, image_shape, "decoded centres dec(V μ)", path,
                       image_titles=[[f"cluster {k}" for k in range(len(row))] for row in rows])


def shared_traversal(model: "ACeDeC", X: ArrayLike, n_steps: int = 7, component: int = 0, spread: float = _TRAVERSAL_SPREAD) -> tuple:
    """
    Walk the shared space along one of its principal components while the cluster-space coordinates stay at
    a centre (ACe/DeC Fig. 3 right): row k starts from centre k, and its shared-space coordinates run from
    ``-spread`` to ``+spread`` standard deviations of that component around the data mean. The shared space
    here is every rotated dimension outside ``cluster_space_dims_``, as in :func:`plot_space_reconstructions`.

    Parameters
    ----------
    model : ACeDeC
        a fitted model with at least one shared-space dimension
    X : array-like
        data that define the principal components of the shared space
    n_steps : int
        images per row, at least 2 (default: 7)
    component : int
        which principal component, 0 = the direction of most variance, at most min(n_samples, shared dimensions)
        - 1 (default: 0)
    spread : float
        range of the walk in standard deviations, positive (default: 2.0)

    Returns
    -------
    tuple : (np.ndarray, np.ndarray)
        decoded images (n_clusters, n_steps, n_features) and the cluster of every row (n_clusters,)
    """
    _fitted(model, spaces="acedec")
    n_steps = check_positive_int(n_steps, "n_steps", minimum=2)
    spread = _check_spread(spread)
    shared_dims = np.asarray(model.shared_space_dims_, dtype=int)
    if len(shared_dims) == 0:
        raise ValueError("every dimension belongs to the cluster space: there is no shared space to traverse")
    shared = model.transform_rotated(X)[:, shared_dims]
    mean = shared.mean(0)
    _, singular_values, directions = np.linalg.svd(shared - mean, full_matrices=False)
    if isinstance(component, bool) or not isinstance(component, (int, np.integer)):
        raise TypeError(f"component must be an integer, got {component!r}")
    if not 0 <= component < len(singular_values):
        raise ValueError(f"component must be an integer in [0, {len(singular_values)}) (the shared space's principal "
                         f"components), got {component!r}")
    std = singular_values[component] / np.sqrt(max(len(shared) - 1, 1))
    steps = np.linspace(-spread, spread, n_steps)[:, None] * std * directions[component][None, :]
    centers = np.asarray(model.cluster_centers_)
    images = []
    for center in centers:
        walk = np.repeat(center[None, :], n_steps, axis=0)
        walk[:, shared_dims] = mean + steps
        images.append(_decode(model, walk))
    return np.stack(images), np.arange(len(centers))


def plot_shared_traversal(model: "ACeDeC", X: ArrayLike, image_shape: tuple | None = None, n_steps: int = 7,
                          component: int = 0, path: str | None = None) -> "Figure":
    """
    Images of :func:`shared_traversal`: one row per cluster ("cluster k"), the shared space walked from left
    to right, each column titled with its offset from the data mean in standard deviations of the component
    (−2σ ... +2σ). The cluster (row) should stay while the style changes.

    Parameters
    ----------
    model, X, n_steps, component
        as in :func:`shared_traversal`
    image_shape : tuple | None
        (H, W) or (H, W, C); None uses the model's ``image_shape``, else the shape it was fitted on (default:
        None)
    path : str | None
        where to save the figure (default: None)

    Returns
    -------
    figure : matplotlib.figure.Figure
    """
    _fitted(model, spaces="acedec")
    image_shape = _image_shape(model, image_shape)
    images, clusters = shared_traversal(model, X, n_steps=n_steps, component=component)
    offsets = np.linspace(-_TRAVERSAL_SPREAD, _TRAVERSAL_SPREAD, n_steps)  # the steps shared_traversal takes
    return _image_grid(list(images), [f"cluster {k}" for k in clusters], image_shape,
                       f"shared-space traversal along PC{component + 1}", path,
                       column_titles=[_sigma_label(offset) for offset in offsets])


def _sigma_label(offset: float) -> str:
    """An offset in standard deviations as a column title: "−2σ", "−0.67σ", "0", "+1.3σ"."""
    if abs(offset) < 1e-9:
        return "0"
    return f"{offset:+.2g}σ".replace("-", "\N{MINUS SIGN}")


def traversal_consistency(model: "ACeDeC", X: ArrayLike, n_steps: int = 7, component: int = 0, spread: float = 2.0) -> dict:
    """
    Measure what :func:`shared_traversal` should show: the class stays while the style changes.

    Every decoded image of the walk is clustered again with ``model.predict``; ``class_kept`` is the fraction
    of the grid assigned to its row's cluster. The change along a row is the per-pixel variance over the
    steps, averaged over pixels; it is reported in absolute terms and relative to the per-pixel variance of
    X (1 would mean the walk varies a pixel as much as the whole data set does).

    Parameters
    ----------
    model, X, n_steps, component, spread
        as in :func:`shared_traversal`

    Returns
    -------
    dict
        ``class_kept`` (float), ``row_pixel_variance`` (np.ndarray, one per row), ``relative_row_variance``
        (np.ndarray, the same divided by the mean per-pixel variance of X)
    """
    images, clusters = shared_traversal(model, X, n_steps=n_steps, component=component, spread=spread)
    n_rows = images.shape[0]
    predicted = model.predict(images.reshape(n_rows * n_steps, *model.input_shape_)).reshape(n_rows, n_steps)
    row_variance = images.var(axis=1).mean(axis=1)
    data_variance = float(np.asarray(X, dtype=np.float64).reshape(len(X), -1).var(axis=0).mean())
    return {"class_kept": float(np.mean(predicted == clusters[:, None])),
            "row_pixel_variance": row_variance,
            "relative_row_variance": row_variance / max(data_variance, 1e-12)}
