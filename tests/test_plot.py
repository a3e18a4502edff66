"""Plots of fitted models: rendered with the Agg backend and checked for their structure."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from clustpy.deep import DCN

from clustpy_acedec import ACeDeC, ENRC
from clustpy_acedec import plot
from clustpy_acedec.plot import (plot_betas, plot_cluster_space, plot_decoded_centers,
                                 plot_space_reconstructions)


@pytest.fixture(autouse=True)
def _close_figures():
    """Every test's figures closed after it: the tests keep what they draw to inspect it."""
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    X = rng.random((96, 8, 8)).astype(np.float32) * 0.2
    X[:48, :, :4] += 0.8  # two kinds of images: left half bright or not
    return X


@pytest.fixture(scope="module")
def acedec(images):
    base = DCN(n_clusters=2, pretrain_epochs=2, clustering_epochs=1, batch_size=32, embedding_size=4, device="cpu",
               random_state=0)
    return ACeDeC(base=base, init_iterations=10, verbose=False).fit(images)


@pytest.fixture(scope="module")
def enrc(images):
    return ENRC(n_clusters=[2, 3], pretrain_epochs=2, clustering_epochs=1, batch_size=32, embedding_size=4,
                init_rounds=1, init_iterations=10, device="cpu", random_state=0, verbose=False).fit(images)


def test_beta_bars_one_axis_per_space(acedec, tmp_path):
    figure = plot_betas(acedec, path=tmp_path / "betas.png")
    assert len(figure.axes) == 2
    assert [a.get_title() for a in figure.axes] == ["β of the cluster space", "β of the shared space"]
    # initial and trained bars for every dimension
    assert len(figure.axes[0].patches) == 2 * acedec.betas_.shape[1]
    assert (tmp_path / "betas.png").stat().st_size > 0


def test_beta_plot_draws_the_cluster_space_cut_off(acedec, enrc):
    figure = plot_betas(acedec)
    cluster_axis, shared_axis = figure.axes
    cut_offs = [line for line in cluster_axis.get_lines() if line.get_label().startswith("cut-off")]
    assert len(cut_offs) == 1 and np.allclose(cut_offs[0].get_ydata(), 0.55)  # 0.5 + dim_margin / 2
    assert "cut-off β = 0.55" in [text.get_text() for text in cluster_axis.get_legend().get_texts()]
    assert not shared_axis.get_lines()  # the shared space is every other dimension: no cut-off of its own
    import copy
    wider = copy.copy(acedec)
    wider.dim_margin = 0.3
    assert np.allclose(plot_betas(wider).axes[0].get_lines()[0].get_ydata(), 0.65)  # the model's own margin
    # ENRC with two clusterings: each space has the cut-off
    assert [len(axis.get_lines()) for axis in plot_betas(enrc).axes] == [1, 1]


def test_cluster_space_scatter_matrix(acedec, images, tmp_path):
    figure = plot_cluster_space(acedec, images, n_dims=2, path=tmp_path / "space.png")
    assert len(figure.axes) == 4
    assert (tmp_path / "space.png").is_file()
    # a legend says which colour is which cluster, in the colours of the points
    legend, = figure.legends
    assert [text.get_text() for text in legend.get_texts()] == ["cluster 0", "cluster 1"]
    scatter = figure.axes[1].collections  # off the diagonal: one scatter per cluster
    assert [c.get_label() for c in scatter] == ["cluster 0", "cluster 1"]
    np.testing.assert_allclose(legend.legend_handles[1].get_facecolor()[0], scatter[1].get_facecolor()[0])
    assert not np.allclose(scatter[0].get_facecolor()[0], scatter[1].get_facecolor()[0])
    histogram = figure.axes[0].patches  # on the diagonal, in the same colour per cluster
    np.testing.assert_allclose(histogram[-1].get_facecolor()[:3], scatter[1].get_facecolor()[0][:3])
    labels = np.arange(len(images)) % 3  # given labels are named as such
    legend, = plot_cluster_space(acedec, images, labels=labels, n_dims=2).legends
    assert [text.get_text() for text in legend.get_texts()] == ["label 0", "label 1", "label 2"]


def test_space_reconstructions_three_rows_of_images(acedec, images, tmp_path):
    figure = plot_space_reconstructions(acedec, images, n_images=5, path=tmp_path / "rec.png")
    assert len(figure.axes) == 3 * 5
    shown = figure.axes[0].get_images()[0].get_array()
    assert shown.shape == (8, 8)
    np.testing.assert_allclose(shown, images[0])
    assert figure.axes[0].get_ylabel() == "input" and figure.axes[5].get_ylabel() == "cluster space only"


def test_decoded_centres_one_row_per_clustering(enrc, acedec, tmp_path):
    figure = plot_decoded_centers(enrc, path=tmp_path / "centres.png")
    assert len(figure.axes) == 2 * 3  # two rows, as many columns as the largest clustering
    assert sum(len(a.get_images()) for a in figure.axes) == 2 + 3
    # every centre titled with its cluster number, the rows with their clustering
    assert [a.get_title() for a in figure.axes if a.get_images()] == ["cluster 0", "cluster 1",
                                                                       "cluster 0", "cluster 1", "cluster 2"]
    assert [figure.axes[0].get_ylabel(), figure.axes[3].get_ylabel()] == ["clustering 0", "clustering 1"]
    figure = plot_decoded_centers(acedec)
    shown = [a.get_images()[0] for a in figure.axes if a.get_images()]
    assert len(shown) == 2 and all(image.get_array().shape == (8, 8) for image in shown)
    assert all(image.get_cmap().name == "gray" for image in shown)


def test_decoded_centres_of_flat_images_take_the_models_image_shape(images):
    flat = images.reshape(len(images), -1)
    model = ACeDeC(base=DCN(n_clusters=2, pretrain_epochs=1, clustering_epochs=1, batch_size=32, embedding_size=4,
                            device="cpu", random_state=0), image_shape=(8, 8), init_iterations=5,
                   verbose=False).fit(flat)
    assert plot_decoded_centers(model).axes[0].get_images()[0].get_array().shape == (8, 8)


def test_shared_traversal_rows_are_clusters_and_columns_steps(acedec, images, tmp_path):
    from clustpy_acedec.plot import plot_shared_traversal, shared_traversal
    walked, clusters = shared_traversal(acedec, images, n_steps=5)
    assert walked.shape == (2, 5, 64) and clusters.tolist() == [0, 1]
    assert not np.allclose(walked[0, 0], walked[0, -1])  # the walk changes the image
    figure = plot_shared_traversal(acedec, images, n_steps=5, path=tmp_path / "walk.png")
    assert len(figure.axes) == 2 * 5
    assert [figure.axes[0].get_ylabel(), figure.axes[5].get_ylabel()] == ["cluster 0", "cluster 1"]
    # the columns are the steps of the walk in standard deviations of the component: −2σ, −1σ, 0, +1σ, +2σ
    assert [a.get_title() for a in figure.axes[:5]] == ["\N{MINUS SIGN}2σ", "\N{MINUS SIGN}1σ", "0", "+1σ", "+2σ"]
    titles = [a.get_title() for a in plot_shared_traversal(acedec, images, n_steps=7).axes[:7]]
    assert titles[1] == "\N{MINUS SIGN}1.3σ" and titles[3] == "0" and titles[-1] == "+2σ"


def test_traversal_refuses_a_component_the_shared_space_does_not_have(acedec, images):
    from clustpy_acedec.plot import shared_traversal
    n_components = min(len(images), len(acedec.shared_space_dims_))
    assert shared_traversal(acedec, images, n_steps=3, component=n_components - 1)[0].shape == (2, 3, 64)
    for component, error in [(n_components, ValueError), (-1, ValueError), (0.5, TypeError), (True, TypeError)]:
        with pytest.raises(error, match="component"):
            shared_traversal(acedec, images, component=component)


def test_plots_keep_the_users_matplotlib_backend(acedec):
    import matplotlib
    from clustpy_acedec.plot import plot_betas
    before = matplotlib.get_backend()
    matplotlib.use("svg")
    try:
        plot_betas(acedec)
        assert matplotlib.get_backend() == "svg"
    finally:
        matplotlib.use(before)


def test_traversal_needs_a_dimension_outside_the_cluster_space(acedec, images):
    from clustpy_acedec.plot import shared_traversal
    import copy
    model = copy.copy(acedec)
    model.cluster_space_dims_ = np.arange(acedec.betas_.shape[1])
    model.shared_space_dims_ = np.array([], dtype=int)
    with pytest.raises(ValueError, match="no shared space"):
        shared_traversal(model, images)
    # the traversal walks exactly the shared space of the fitted attributes
    model.cluster_space_dims_, model.shared_space_dims_ = np.array([0]), np.arange(1, acedec.betas_.shape[1])
    assert shared_traversal(model, images, n_steps=3)[0].shape == (2, 3, 64)


def test_traversal_consistency_counts_the_grid(acedec, images, monkeypatch):
    from clustpy_acedec import plot
    result = plot.traversal_consistency(acedec, images, n_steps=4)
    assert result["row_pixel_variance"].shape == (2,) and np.all(result["row_pixel_variance"] > 0)
    data_variance = images.reshape(len(images), -1).var(axis=0).mean()
    np.testing.assert_allclose(result["relative_row_variance"], result["row_pixel_variance"] / data_variance,
                               rtol=1e-5)
    # a model that puts every image into its row's cluster keeps the class everywhere, and one that
    # always answers cluster 0 keeps it in row 0 only
    monkeypatch.setattr(type(acedec), "predict", lambda self, X: np.repeat(np.arange(2), 4))
    assert plot.traversal_consistency(acedec, images, n_steps=4)["class_kept"] == 1.0
    monkeypatch.setattr(type(acedec), "predict", lambda self, X: np.zeros(len(X), dtype=int))
    assert plot.traversal_consistency(acedec, images, n_steps=4)["class_kept"] == 0.5


def test_colour_images_render_in_colour(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.random((64, 6, 6, 3)).astype(np.float32) * 0.2
    X[:32, ..., 0] += 0.8  # red images and dark ones
    model = ACeDeC(base=DCN(n_clusters=2, pretrain_epochs=2, clustering_epochs=1, batch_size=32, embedding_size=4,
                            device="cpu", random_state=0), init_iterations=10, verbose=False).fit(X)
    figure = plot_space_reconstructions(model, X, n_images=3, path=tmp_path / "colour.png")
    shown = figure.axes[0].get_images()[0].get_array()
    assert shown.shape == (6, 6, 3)
    assert shown[..., 0].mean() > shown[..., 1].mean()  # the first image is red
    figure = plot_decoded_centers(model, image_shape=(6, 6, 3))
    assert figure.axes[0].get_images()[0].get_array().shape == (6, 6, 3)


def test_pictures_of_an_unfitted_model_or_of_the_wrong_estimator_are_refused(enrc, images):
    from sklearn.exceptions import NotFittedError
    X = images
    unfitted = ACeDeC(n_clusters=3)
    for draw in (lambda m: plot.plot_betas(m), lambda m: plot.plot_cluster_space(m, X),
                 lambda m: plot.plot_decoded_centers(m), lambda m: plot.plot_space_reconstructions(m, X),
                 lambda m: plot.shared_traversal(m, X)):
        with pytest.raises(NotFittedError):
            draw(unfitted)
    for draw in (lambda m: plot.plot_space_reconstructions(m, X), lambda m: plot.shared_traversal(m, X),
                 lambda m: plot.plot_shared_traversal(m, X)):
        with pytest.raises(TypeError, match="ACeDeC's cluster and shared spaces"):
            draw(enrc)
    with pytest.raises(TypeError, match="fitted ACeDeC or ENRC"):
        plot.plot_betas("model")


def test_bad_picture_arguments_are_named_and_leave_no_figure_open(acedec, images):
    X = images
    open_before = len(plt.get_fignums())
    for call, error, message in (
            (lambda: plot.plot_betas(acedec, space_names=["only one"]), ValueError, "one name per space"),
            (lambda: plot.plot_cluster_space(acedec, X, labels=np.zeros(5)), ValueError, "one label per sample"),
            (lambda: plot.plot_cluster_space(acedec, X, n_dims="x"), TypeError, "n_dims"),
            (lambda: plot.plot_space_reconstructions(acedec, X, n_images=-1), ValueError, "n_images"),
            (lambda: plot.shared_traversal(acedec, X, n_steps=1), ValueError, "n_steps"),
            (lambda: plot.shared_traversal(acedec, X, spread=float("nan")), ValueError, "spread"),
            (lambda: plot.plot_decoded_centers(acedec, image_shape=(3, 3)), ValueError, "reshape")):
        with pytest.raises(error, match=message):
            call()
    assert len(plt.get_fignums()) == open_before
