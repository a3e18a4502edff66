"""
Pictures of a fitted model. matplotlib is imported only when a plot is made.
"""

import numpy as np


def _pyplot():
    import matplotlib
    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        import os
        if not os.environ.get("DISPLAY"):
            matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_betas(model, space_names: list | None = None, path: str | None = None):
    """
    Sorted bar chart of the feature weights of every space, at initialisation and after training
    (ACe/DeC Fig. 2, ENRC Fig. 4).

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
    plt = _pyplot()
    betas, betas_init = np.asarray(model.betas_), np.asarray(model.betas_init_)
    n_spaces = betas.shape[0]
    if space_names is None:
        space_names = ["cluster space", "shared space"] if n_spaces == 2 else [f"clustering {s}" for s in range(n_spaces)]
    figure, axes = plt.subplots(1, n_spaces, figsize=(4 * n_spaces, 3), squeeze=False)
    dims = np.arange(betas.shape[1])
    for s, axis in enumerate(axes[0]):
        order = np.argsort(-betas[s])
        axis.bar(dims - 0.2, betas_init[s][order], width=0.4, label="initial", color="0.7")
        axis.bar(dims + 0.2, betas[s][order], width=0.4, label="trained", color="C0")
        axis.set_xticks(dims, [str(d) for d in order], fontsize=7)
        axis.set_ylim(0, 1)
        axis.set_title(f"β of the {space_names[s]}")
        axis.set_xlabel("rotated dimension (sorted by trained β)")
    axes[0][0].set_ylabel("β")
    axes[0][0].legend(fontsize=7)
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, dpi=120)
    return figure


def plot_cluster_space(model, X, labels: np.ndarray | None = None, n_dims: int = 3, path: str | None = None):
    """
    Scatter matrix of the cluster-space dimensions with the highest β_cs, histograms on the diagonal,
    coloured by labels: the cluster space seen without t-SNE (ACe/DeC Fig. 3, ENRC Fig. 3).

    Parameters
    ----------
    model : ACeDeC
        a fitted model
    X : array-like
        data to embed
    labels : np.ndarray | None
        colours; None uses ``model.predict(X)`` (default: None)
    n_dims : int
        number of top-β dimensions to show (default: 3)
    path : str | None
        where to save the figure (default: None)

    Returns
    -------
    figure : matplotlib.figure.Figure
    """
    plt = _pyplot()
    rotated = model._rotated(X).cpu().numpy()
    labels = model.predict(X) if labels is None else np.asarray(labels)
    top = np.argsort(-np.asarray(model.betas_)[0])[:max(1, min(n_dims, rotated.shape[1]))]
    k = len(top)
    figure, axes = plt.subplots(k, k, figsize=(2.6 * k, 2.6 * k), squeeze=False)
    for row, dim_y in enumerate(top):
        for col, dim_x in enumerate(top):
            axis = axes[row][col]
            if row == col:
                for label in np.unique(labels):
                    axis.hist(rotated[labels == label, dim_x], bins=30, alpha=0.5)
            else:
                axis.scatter(rotated[:, dim_x], rotated[:, dim_y], c=labels, s=2, cmap="tab10")
            if row == k - 1:
                axis.set_xlabel(f"dim {dim_x} (β={model.betas_[0][dim_x]:.2f})", fontsize=8)
            if col == 0:
                axis.set_ylabel(f"dim {dim_y}", fontsize=8)
    figure.suptitle("cluster space (top-β dimensions)")
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, dpi=120)
    return figure
