"""Tests of the ACeDeC estimator: fitted attributes, reproducibility, bases, sklearn API and input checks."""

import copy
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from clustpy.deep import DCN, DEC, IDEC
from clustpy.deep.neural_networks import FeedforwardAutoencoder
from sklearn.base import BaseEstimator, clone
from sklearn.cluster import KMeans
from sklearn.exceptions import NotFittedError
from sklearn.metrics import normalized_mutual_info_score

from clustpy_acedec import ACeDeC, register_base
from clustpy_acedec._objectives import HardCentroidObjective, SharedMeanObjective, StudentTObjective
from clustpy_acedec._subspace import hardened_dims
from clustpy_acedec_bench.data import anisotropic_linear_autoencoder, make_synth

N_SAMPLES = 300


def tiny(base_class=DCN, **params):
    """A base with a tiny network and 2 + 2 epochs, on the CPU."""
    kwargs = dict(n_clusters=4, pretrain_epochs=2, clustering_epochs=2, batch_size=64, embedding_size=4,
                  device="cpu", random_state=0)
    kwargs.update(params)
    return base_class(**kwargs)


def _rotated(model, X):
    with torch.no_grad():
        embedded = model.model_.autoencoder.encode(torch.as_tensor(X))
    return embedded.numpy() @ model.V_


def _fitted_state(model):
    return {name: copy.deepcopy(value) for name, value in vars(model).items() if name.endswith("_")}


def _assert_same_state(before, model):
    after = _fitted_state(model)
    assert before.keys() == after.keys()
    for name, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(after[name], value, err_msg=name)
        elif isinstance(value, torch.nn.Module):
            for (k1, t1), (k2, t2) in zip(value.state_dict().items(), after[name].state_dict().items()):
                assert k1 == k2
                torch.testing.assert_close(t2, t1, rtol=0, atol=0)
        elif isinstance(value, BaseEstimator):
            assert after[name].get_params(deep=False).keys() == value.get_params(deep=False).keys()
        else:
            assert after[name] == value, name


@pytest.fixture(scope="module")
def data():
    X, y = make_synth(n_noise_dims=3, n_samples=N_SAMPLES, noise_std=1.0, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def fitted(data):
    X, _ = data
    base = tiny()
    params_before = base.get_params(deep=True)
    model = ACeDeC(base=base, verbose=False).fit(X)
    return SimpleNamespace(model=model, base=base, params_before=params_before)


# ------------------------------------------------------------------------------------------ fitted attributes

def test_fitted_attribute_shapes(fitted):
    model, d = fitted.model, 4
    assert model.labels_.shape == (N_SAMPLES,)
    assert np.issubdtype(model.labels_.dtype, np.integer)
    assert set(np.unique(model.labels_)) <= set(range(4))
    assert model.cluster_centers_.shape == (4, d)
    assert model.shared_center_.shape == (d,)
    assert model.V_.shape == (d, d)
    assert model.betas_.shape == (2, d)
    np.testing.assert_allclose(model.betas_.sum(0), 1.0, atol=1e-6)
    assert ((model.betas_ > 0) & (model.betas_ < 1)).all()
    assert model.n_features_in_ == 5
    assert isinstance(model.base_, DCN) and model.base_ is not fitted.base


def test_betas_init_is_a_split_of_the_dimensions(fitted):
    betas_init = fitted.model.betas_init_
    assert betas_init.shape == (2, 4)
    np.testing.assert_allclose(betas_init.sum(0), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.sort(np.unique(np.round(betas_init[0], 5))), [0.1, 0.9])


def test_space_dims_are_disjoint_and_follow_betas(fitted):
    model = fitted.model
    cluster, shared = model.cluster_space_dims_, model.shared_space_dims_
    # One definition of the shared space: every rotated dimension outside the cluster space.
    assert len(np.intersect1d(cluster, shared)) == 0
    assert sorted(set(cluster) | set(shared)) == list(range(4))
    np.testing.assert_array_equal(cluster, hardened_dims(torch.as_tensor(model.betas_), model.dim_margin)[0])
    np.testing.assert_array_equal(cluster, np.flatnonzero(model.betas_[0] - model.betas_[1] >= 0.1 - 1e-7))


def test_transform_widths_and_values(fitted, data):
    model, (X, _) = fitted.model, data
    rotated = _rotated(model, X)
    cluster = model.transform(X)
    shared = model.transform_shared(X)
    assert cluster.shape == (N_SAMPLES, len(model.cluster_space_dims_))
    assert shared.shape == (N_SAMPLES, len(model.shared_space_dims_))
    np.testing.assert_allclose(cluster, rotated[:, model.cluster_space_dims_], atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(shared, rotated[:, model.shared_space_dims_], atol=1e-5, rtol=1e-5)


def test_predict_on_training_data_equals_labels(fitted, data):
    X, _ = data
    np.testing.assert_array_equal(fitted.model.predict(X), fitted.model.labels_)
    # also for a torch tensor and a list input
    np.testing.assert_array_equal(fitted.model.predict(torch.as_tensor(X[:20])), fitted.model.labels_[:20])
    np.testing.assert_array_equal(fitted.model.predict(X[:20].tolist()), fitted.model.labels_[:20])


def test_a_data_frames_column_names_are_kept_and_checked(data, tmp_path):
    """scikit-learn's feature_names_in_: a frame whose columns come in another order or under other names is
    refused at predict (it would be read by position), kept through save and load, and gone after a refit on an
    array."""
    X, _ = data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    model = ACeDeC(base=tiny(), verbose=False).fit(frame)
    np.testing.assert_array_equal(model.feature_names_in_, np.asarray(frame.columns, dtype=object))
    np.testing.assert_array_equal(model.predict(frame), model.labels_)
    with pytest.raises(ValueError, match="feature names should match those that were passed during fit.*another "
                                         "order"):
        model.predict(frame[frame.columns[::-1]])
    with pytest.raises(ValueError, match=r"unseen at fit time: \['g0'\]"):
        model.predict(frame.rename(columns={"f0": "g0"}))
    with pytest.warns(UserWarning, match="does not have valid feature names") as record:
        model.predict(X)
        model.transform_shared(X)  # another path through the package: the warning still names this line
    assert [w.filename for w in record if "feature names" in str(w.message)] == [__file__, __file__]
    model.save(tmp_path / "model.pt")
    loaded = ACeDeC.load(tmp_path / "model.pt")
    np.testing.assert_array_equal(loaded.feature_names_in_, model.feature_names_in_)
    with pytest.raises(ValueError, match="feature names should match"):
        loaded.transform(frame[frame.columns[::-1]])
    model.fit(X)
    assert not hasattr(model, "feature_names_in_")


def test_a_frame_with_mixed_column_name_types_is_refused(data):
    X, _ = data
    frame = pd.DataFrame(X, columns=["a", *range(1, X.shape[1])])
    with pytest.raises(TypeError, match="column names must all be strings"):
        ACeDeC(base=tiny(), verbose=False).fit(frame)


def test_predict_takes_tensors_of_types_numpy_lacks(fitted, data):
    """A bfloat16 tensor (a model's own output, say) is read as the float32 numbers it holds."""
    X, _ = data
    half = torch.as_tensor(X[:20]).to(torch.bfloat16)
    np.testing.assert_array_equal(fitted.model.predict(half), fitted.model.predict(half.float().numpy()))
    with pytest.raises(TypeError, match="real numbers"):
        fitted.model.predict(torch.ones(4, X.shape[1], dtype=torch.complex64))


def test_labels_are_nearest_center_under_cluster_space_betas(fitted, data):
    model, (X, _) = fitted.model, data
    rotated = _rotated(model, X)
    dist = ((rotated[:, None, :] - model.cluster_centers_[None]) ** 2 * model.betas_[0] ** 2).sum(2)
    np.testing.assert_array_equal(model.labels_, dist.argmin(1))


def test_finds_the_synthetic_clusters(fitted, data):
    _, y = data
    assert normalized_mutual_info_score(y, fitted.model.labels_) > 0.6


def test_predict_and_transform_single_sample(fitted, data):
    X, _ = data
    np.testing.assert_array_equal(fitted.model.predict(X[:1]), fitted.model.labels_[:1])
    np.testing.assert_allclose(fitted.model.transform(X[:1]), fitted.model.transform(X[:2])[:1], atol=1e-6)


def test_predict_rejects_wrong_number_of_features(fitted, data):
    X, _ = data
    with pytest.raises(ValueError, match="X has 4 features, but ACeDeC is expecting 5"):
        fitted.model.predict(X[:, :4])


def test_predict_takes_the_fit_shape_or_flat_rows_and_nothing_else_of_that_size(fitted, data):
    """Samples of another shape with the same number of values (channels first instead of last, say) would be
    read as a silent guess: refused, while flat rows of the fit's size are the documented alternative."""
    X, _ = data
    with pytest.raises(ValueError, match=r"fitted on samples of shape \(5,\): pass them in that shape or flattened"):
        fitted.model.predict(X.reshape(len(X), 5, 1))


@pytest.mark.parametrize("method", ["predict", "transform", "transform_shared"])
def test_unfitted_estimator_raises_not_fitted_error(method, data):
    X, _ = data
    with pytest.raises(NotFittedError):
        getattr(ACeDeC(base=tiny()), method)(X)


# ------------------------------------------------------------------------------------------ reproducibility

def test_same_random_state_gives_identical_results(fitted, data):
    X, _ = data
    again = ACeDeC(base=tiny(), verbose=False)
    labels = again.fit_predict(X)
    np.testing.assert_array_equal(labels, fitted.model.labels_)
    np.testing.assert_array_equal(again.labels_, fitted.model.labels_)
    np.testing.assert_array_equal(again.V_, fitted.model.V_)
    np.testing.assert_array_equal(again.betas_, fitted.model.betas_)
    np.testing.assert_array_equal(again.cluster_centers_, fitted.model.cluster_centers_)


def test_other_random_state_gives_other_rotation(fitted, data):
    X, _ = data
    other = ACeDeC(base=tiny(random_state=1), init_iterations=20, verbose=False).fit(X)
    assert not np.allclose(other.V_, fitted.model.V_)


# ------------------------------------------------------------------------------------------ bases

@pytest.mark.parametrize("base_class", [DEC, IDEC])
def test_dec_and_idec_bases_fit(base_class, data):
    X, _ = data
    model = ACeDeC(base=tiny(base_class, alpha=3.0), init_iterations=20, verbose=False).fit(X)
    cluster_objective, shared_objective = model.model_.objectives
    assert isinstance(cluster_objective, StudentTObjective) and cluster_objective.alpha == 3.0
    assert isinstance(shared_objective, SharedMeanObjective)
    assert shared_objective.scale == pytest.approx(cluster_objective.distance_scale) == pytest.approx(4.0 / 6.0)
    assert isinstance(model.base_, base_class)
    assert model.labels_.shape == (N_SAMPLES,)
    assert model.cluster_centers_.shape == (4, 4)
    np.testing.assert_allclose(model.cluster_centers_, cluster_objective.centers.detach().numpy())
    np.testing.assert_allclose(model.betas_.sum(0), 1.0, atol=1e-6)
    np.testing.assert_array_equal(model.predict(X), model.labels_)


def test_dcn_base_uses_hard_centroids(fitted):
    cluster_objective, shared_objective = fitted.model.model_.objectives
    assert isinstance(cluster_objective, HardCentroidObjective)
    assert isinstance(shared_objective, SharedMeanObjective) and shared_objective.scale == 1.0
    np.testing.assert_allclose(fitted.model.cluster_centers_, cluster_objective.centers.centers.numpy())


# ------------------------------------------------------------------------------------------ sklearn API

def test_clone_and_nested_params():
    model = ACeDeC(base=tiny(), init_iterations=30, dim_margin=0.2, verbose=False)
    cloned = clone(model)
    assert cloned is not model and cloned.base is not model.base
    without_base = lambda params: {k: v for k, v in params.items() if k != "base"}  # noqa: E731
    assert without_base(cloned.get_params(deep=True)) == without_base(model.get_params(deep=True))
    params = model.get_params(deep=True)
    assert params["base__n_clusters"] == 4
    assert params["base__embedding_size"] == 4
    assert params["init_iterations"] == 30 and params["dim_margin"] == 0.2
    assert model.set_params(base__n_clusters=3) is model
    assert model.base.n_clusters == 3
    assert model._resolved_base().n_clusters == 3
    assert cloned.base.n_clusters == 4


def test_fit_does_not_mutate_base(fitted):
    assert fitted.base.get_params(deep=True) == fitted.params_before


def test_a_cuda_device_the_machine_lacks_is_refused(monkeypatch):
    from clustpy_acedec.devices import resolve_device
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # a machine with one GPU
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert resolve_device("cuda:0") == torch.device("cuda:0") and resolve_device(0) == torch.device("cuda:0")
    for device in ("cuda:1", 3):
        with pytest.raises(ValueError, match="has 1 CUDA device"):
            resolve_device(device)


def test_a_network_with_a_one_dimensional_embedding_is_refused(data):
    from clustpy.deep.neural_networks import FeedforwardAutoencoder
    X, _ = data
    model = ACeDeC(base=tiny(neural_network=FeedforwardAutoencoder(layers=[5, 8, 1])), verbose=False)
    with pytest.raises(ValueError, match="embedding has 1 dimension.*at least 2"):
        model.fit(X)
    assert not hasattr(model, "labels_")


def test_fit_does_not_train_the_bases_network(data):
    from clustpy.deep.neural_networks import FeedforwardAutoencoder
    X, _ = data
    network = FeedforwardAutoencoder(layers=[5, 8, 4], work_on_copy=False, random_state=0)
    weights = copy.deepcopy(network.state_dict())
    model = ACeDeC(base=tiny(neural_network=network), init_iterations=20, verbose=False).fit(X)
    assert model.base.neural_network is network
    assert not getattr(network, "fitted", False)
    for name, tensor in network.state_dict().items():
        torch.testing.assert_close(tensor, weights[name], rtol=0, atol=0)
    assert model.neural_network_trained_ is not network
    assert model.neural_network_trained_.fitted


def test_n_clusters_shorthand_resolves_to_default_dcn():
    base = ACeDeC(n_clusters=4)._resolved_base()
    assert type(base) is DCN
    assert base.n_clusters == 4
    default = DCN(n_clusters=4).get_params()
    assert {k: v for k, v in base.get_params().items() if k != "n_clusters"} == \
        {k: v for k, v in default.items() if k != "n_clusters"}


def test_wrapper_n_clusters_and_random_state_fill_or_override_the_bases(data):
    """As scikit-learn's meta-estimators: an explicit value on the wrapper wins, a None base value is filled."""
    X, _ = data
    model = ACeDeC(base=tiny(n_clusters=None, random_state=None, clustering_epochs=0), n_clusters=3,
                   random_state=7, init_iterations=10).fit(X)
    assert (model.base_.n_clusters, model.base_.random_state) == (3, 7)
    assert model.base.n_clusters is None  # the user's base is never changed
    overridden = ACeDeC(base=tiny(n_clusters=4, clustering_epochs=0), n_clusters=3, init_iterations=10).fit(X)
    assert overridden.base_.n_clusters == 3 and len(set(overridden.labels_)) == 3


def test_repetitions_seeded_on_the_wrapper_differ_and_repeat(data):
    """clustpy's evaluate_dataset seeds repetitions through the wrapper's random_state."""
    X, _ = data
    fits = [ACeDeC(base=tiny(clustering_epochs=1, random_state=None), random_state=seed, init_iterations=10).fit(X)
            for seed in (1, 2, 1)]
    assert np.array_equal(fits[0].V_, fits[2].V_) and not np.array_equal(fits[0].V_, fits[1].V_)


def test_a_base_class_instead_of_an_instance_is_explained(data):
    X, _ = data
    with pytest.raises(TypeError, match=r"pass|instance.*DCN\(n_clusters=10\)"):
        ACeDeC(base=DCN).fit(X)


def test_ignored_trade_off_weights_are_announced(data):
    X, _ = data
    with pytest.warns(UserWarning, match="clustering_loss_weight=0.5") as record:
        ACeDeC(base=tiny(clustering_loss_weight=0.5, clustering_epochs=0), init_iterations=10).fit(X)
    assert any(w.filename == __file__ for w in record)  # points at the caller's fit


def test_neither_base_nor_n_clusters_raises(data):
    X, _ = data
    model = ACeDeC(verbose=False)
    with pytest.raises(ValueError, match="needs n_clusters or a base"):
        model.fit(X)
    assert not hasattr(model, "labels_")


# ------------------------------------------------------------------------------------------ bad input

def _valid_X():
    return make_synth(n_noise_dims=3, n_samples=40, noise_std=1.0, random_state=1)[0]


def _with(value):
    X = _valid_X()
    X[3, 2] = value
    return X


def _with_pandas_missing_value():
    frame = pd.DataFrame(_valid_X()).astype("Float64")  # a nullable column: its missing value is pd.NA
    frame.iloc[3, 2] = pd.NA
    return frame


BAD_INPUT = {  # case: (data, base parameters, error, message)
    "nan": (lambda: _with(np.nan), {}, ValueError, "NaN or infinity"),
    "inf": (lambda: _with(np.inf), {}, ValueError, "NaN or infinity"),
    "minus_inf": (lambda: _with(-np.inf), {}, ValueError, "NaN or infinity"),
    "1d": (lambda: _valid_X()[:, 0], {}, ValueError, "shape"),
    "empty": (lambda: np.zeros((0, 5), dtype=np.float32), {}, ValueError, "at least 2 samples"),
    "no_features": (lambda: np.zeros((40, 0), dtype=np.float32), {}, ValueError, "at least 1 feature"),
    "single_sample": (lambda: _valid_X()[:1], {"n_clusters": 1}, ValueError, "at least 2 samples"),
    "strings": (lambda: np.array([["a", "b"], ["c", "d"], ["e", "f"]]), {}, TypeError, "numbers"),
    "objects": (lambda: np.array([[1.0, None], [2.0, 3.0], [4.0, 5.0]], dtype=object), {}, TypeError, "numbers"),
    "pandas_missing_value": (lambda: _with_pandas_missing_value(), {}, ValueError, "NaN or infinity"),
    "n_clusters_1": (_valid_X, {"n_clusters": 1}, ValueError, "n_clusters must be at least 2"),
    "n_clusters_0": (_valid_X, {"n_clusters": 0}, ValueError, "n_clusters must be at least 2"),
    "n_clusters_above_n_samples": (lambda: _valid_X()[:3], {"n_clusters": 4}, ValueError,
                                   "larger than the number of samples"),
    "n_clusters_float": (_valid_X, {"n_clusters": 2.5}, TypeError, "n_clusters must be an integer"),
    "n_clusters_none": (_valid_X, {"n_clusters": None}, TypeError, "n_clusters must be an integer"),
    "batch_size_0": (_valid_X, {"batch_size": 0}, ValueError, "batch_size"),
    "embedding_size_1": (_valid_X, {"embedding_size": 1}, ValueError, "embedding_size must be an integer >= 2"),
    "custom_dataloaders": (_valid_X, {"custom_dataloaders": ("train", "test")}, ValueError, "custom_dataloaders"),
    "beyond_float32": (lambda: _valid_X().astype(np.float64) * 1e39, {}, ValueError, "beyond float32's range"),
    "diverging_pretraining": (lambda: _valid_X() * 1e30, {}, ValueError, "pretraining diverged"),
    # torch checks optimiser arguments when an optimiser is built, not in the per-group dicts of a fit
    "negative_lr": (_valid_X, {"clustering_optimizer_params": {"lr": -1.0}}, ValueError,
                    "Adam cannot be built with clustering_optimizer_params"),
    "unknown_optimizer_argument": (_valid_X, {"pretrain_optimizer_params": {"lr": 1e-3, "bogus": 1}}, TypeError,
                                   "Adam cannot be built with pretrain_optimizer_params"),
    "text_lr": (_valid_X, {"clustering_optimizer_params": {"lr": "fast"}}, TypeError, "clustering_optimizer_params"),
}


@pytest.mark.filterwarnings("ignore:Casting complex values")
def test_complex_input_raises_type_error():
    model = ACeDeC(base=tiny(), verbose=False)
    with pytest.raises(TypeError, match="real numbers, got dtype complex"):
        model.fit(_valid_X() + 1j)
    assert not hasattr(model, "labels_")


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_raises_and_leaves_no_fitted_attribute(case):
    make_X, base_params, error, message = BAD_INPUT[case]
    model = ACeDeC(base=tiny(**base_params), verbose=False)
    with pytest.raises(error, match=message):
        model.fit(make_X())
    assert not hasattr(model, "labels_")
    assert not hasattr(model, "model_")


def test_unsupported_base_raises_type_error():
    model = ACeDeC(base=KMeans(n_clusters=4), verbose=False)
    with pytest.raises(TypeError, match="KMeans") as info:
        model.fit(_valid_X())
    assert "DCN" in str(info.value) and "register_base" in str(info.value)
    assert not hasattr(model, "labels_")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("device", ["cuda", "cuda:0", 0])
def test_cuda_device_without_cuda_raises(device):
    model = ACeDeC(base=tiny(device=device), verbose=False)
    with pytest.raises(ValueError, match="CUDA"):
        model.fit(_valid_X())
    assert not hasattr(model, "labels_")


@pytest.mark.parametrize("device, message", [("meta", "holds no data"), ("xla", "cannot use it"),
                                             pytest.param("mps", "cannot use it", marks=pytest.mark.skipif(
                                                 torch.backends.mps.is_available(), reason="a Mac has MPS"))])
def test_a_device_that_cannot_compute_here_is_refused(device, message):
    model = ACeDeC(base=tiny(device=device), verbose=False)
    with pytest.raises(ValueError, match=message):
        model.fit(_valid_X())
    assert not hasattr(model, "labels_")


@pytest.mark.parametrize("params", [{"dim_margin": 1.0}, {"dim_margin": -0.1}, {"init_iterations": -1}, {"dim_margin": 0.0},
                                    {"init": "kmeans"}, {"init_rounds": 0}, {"init_screen_iterations": -1}])
def test_bad_acedec_parameters_raise(params):
    model = ACeDeC(base=tiny(), verbose=False, **params)
    with pytest.raises(ValueError, match=f"^{next(iter(params))} must"):
        model.fit(_valid_X())
    assert not hasattr(model, "labels_")


def test_failed_refit_keeps_previous_fit(fitted, data):
    model = copy.deepcopy(fitted.model)
    before = _fitted_state(model)
    fitted_model = model.model_
    X_bad = data[0].copy()
    X_bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        model.fit(X_bad)
    assert model.model_ is fitted_model
    _assert_same_state(before, model)
    np.testing.assert_array_equal(model.predict(data[0]), fitted.model.labels_)


class _FailingBase(BaseEstimator):
    def __init__(self, n_clusters=4, pretrain_epochs=1, clustering_epochs=1, batch_size=64, embedding_size=4,
                 device="cpu", random_state=0):
        self.n_clusters = n_clusters
        self.pretrain_epochs = pretrain_epochs
        self.clustering_epochs = clustering_epochs
        self.batch_size = batch_size
        self.embedding_size = embedding_size
        self.device = device
        self.random_state = random_state


def test_refit_failing_late_keeps_previous_fit(fitted, data, clean_registry):
    """A fit that fails after pretraining (in the initialisation) changes nothing either."""
    def failing_objective(base, centers, space):
        raise RuntimeError("objective construction failed")

    register_base(_FailingBase, failing_objective)
    model = copy.deepcopy(fitted.model)
    before = _fitted_state(model)
    model.base = _FailingBase()
    with pytest.raises(RuntimeError, match="objective construction failed"):
        model.fit(data[0])
    _assert_same_state(before, model)


def test_a_registered_objective_that_is_no_objective_is_a_type_error(data, clean_registry):
    register_base(_FailingBase, lambda base, centers, space: "not an objective")
    model = ACeDeC(base=_FailingBase(), init_rounds=1, init_iterations=5, verbose=False)
    with pytest.raises(TypeError, match="must return a clustpy_acedec.bases.SpaceObjective, got str"):
        model.fit(data[0])
    assert not hasattr(model, "labels_")


class _BaseWithout(BaseEstimator):
    """A base of another library with DCN's hard assignments but neither n_clusters nor random_state."""

    def __init__(self, pretrain_epochs=1, clustering_epochs=1, batch_size=64, embedding_size=4, device="cpu"):
        self.pretrain_epochs = pretrain_epochs
        self.clustering_epochs = clustering_epochs
        self.batch_size = batch_size
        self.embedding_size = embedding_size
        self.device = device


def test_a_base_without_n_clusters_or_random_state_takes_acedecs_own(data, clean_registry):
    """clustpy's evaluate_dataset always sets random_state: such a base must still fit, with ACeDeC's values."""
    register_base(_BaseWithout, "hard")
    X = data[0]
    fits = [ACeDeC(base=_BaseWithout(), n_clusters=3, random_state=seed, init_rounds=1, init_iterations=5,
                   verbose=False).fit(X) for seed in (0, 0, 1)]
    assert fits[0].cluster_centers_.shape[0] == 3 and set(fits[0].labels_) <= {0, 1, 2}
    np.testing.assert_array_equal(fits[0].labels_, fits[1].labels_)  # ACeDeC's random_state seeds the fit
    np.testing.assert_array_equal(fits[0].V_, fits[1].V_)
    assert not np.array_equal(fits[0].V_, fits[2].V_)
    assert fits[0].base_.get_params() == _BaseWithout().get_params()  # nothing set on the clone it cannot hold
    model = ACeDeC(base=_BaseWithout(), random_state=0, verbose=False)
    with pytest.raises(ValueError, match="its base _BaseWithout has no n_clusters parameter"):
        model.fit(X)
    assert not hasattr(model, "labels_")


def test_fit_reports_seconds_per_phase():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 6)).astype(np.float32)
    model = ACeDeC(base=DCN(n_clusters=2, pretrain_epochs=1, clustering_epochs=1, batch_size=32, embedding_size=3,
                            device="cpu", random_state=0), init_iterations=2, verbose=False).fit(X)
    assert list(model.fit_seconds_) == ["pretraining", "initialization", "clustering", "prediction"]
    assert all(seconds > 0 for seconds in model.fit_seconds_.values())  # every phase ran and was timed


@pytest.mark.parametrize("init, finds_clusters", [("cluster_span", True), ("random", False)])
def test_initialisation_survives_an_autoencoder_that_shrinks_the_cluster_directions(init, finds_clusters):
    """SYNTH-like data through an autoencoder that shrinks the two cluster dimensions and stretches the noise:
    k-means on the embedding, and so the paper's random-split start, see only the noise; the cluster-span
    start finds the clusters and a two-dimensional cluster space. (With this much anisotropy the loss of a
    noise clustering is lower, so ``init="best"`` would keep one: the objective is not scale-free.)"""
    X, y = make_synth(n_noise_dims=8, n_samples=1200, random_state=0)
    scales = np.r_[0.6, 0.6, np.full(8, 1.4)]  # the spread of encoder singular values measured on SYNTH-25
    embedded = X * scales
    assert normalized_mutual_info_score(y, KMeans(4, n_init=3, random_state=0).fit_predict(embedded)) < 0.3
    base = DCN(n_clusters=4, neural_network=anisotropic_linear_autoencoder(scales), clustering_epochs=0,
               batch_size=128, device="cpu", random_state=0)
    model = ACeDeC(base=base, init=init, init_rounds=2, init_iterations=300, verbose=False).fit(X)
    score = normalized_mutual_info_score(y, model.labels_)
    if finds_clusters:
        assert score > 0.95 and len(model.cluster_space_dims_) == 2
    else:
        assert score < 0.5


def test_best_init_keeps_the_candidate_with_the_lowest_loss(data):
    X, _ = data
    model = ACeDeC(base=tiny(clustering_epochs=0), init_rounds=3, init_iterations=20).fit(X)
    losses = [record.candidate_loss for record in model.history_["initial"]]
    assert len(losses) == 3 and len(set(losses)) == 3  # three different candidates: the choice means something
    with torch.no_grad():
        embedded = model.model_.autoencoder.encode(torch.as_tensor(X))
    assert model.model_.embedded_loss(embedded) == pytest.approx(min(losses), rel=1e-5)


def test_whole_data_passes_are_chunked_without_changing_the_result(fitted, data):
    X, _ = data
    model = fitted.model.model_
    with torch.no_grad():
        embedded = model.autoencoder.encode(torch.as_tensor(X))
    np.testing.assert_array_equal(model.predict_embedded(embedded, chunk_size=7).numpy(),
                                  model.predict_embedded(embedded).numpy())
    whole = model.embedded_loss(embedded, chunk_size=N_SAMPLES)
    for chunk_size in (50, 7):  # N_SAMPLES = 300: several chunks, the last one short for 7
        assert model.embedded_loss(embedded, chunk_size=chunk_size) == pytest.approx(whole, rel=1e-6)


@pytest.mark.parametrize("estimator", ["ACeDeC", "ENRC"])
def test_a_fit_leaves_the_global_random_states_as_they_were(data, estimator):
    """A user's later torch.rand / np.random / random draws are the same with or without a fit in between."""
    import random
    from clustpy_acedec import ENRC
    X, _ = data

    def draws():
        return torch.rand(3).tolist(), np.random.rand(3).tolist(), [random.random() for _ in range(3)]

    def reseed():
        torch.manual_seed(123), np.random.seed(123), random.seed(123)

    reseed()
    without_fit = draws()
    reseed()
    # Before CUDA (or XPU) starts, torch keeps its seeds in this (private) queue and seeds the devices with them
    # when it starts: the user's torch.manual_seed(123) must stay the last one there, or their later draws change.
    trackers = {backend: getattr(getattr(torch, backend), "_lazy_seed_tracker", None) for backend in ("cuda", "xpu")}
    queued_seeds = {backend: list(tracker.call_order) for backend, tracker in trackers.items()
                    if tracker is not None and not getattr(torch, backend).is_initialized()}
    assert all(queued_seeds.values())  # the user's seed is queued: the check below can fail
    if estimator == "ACeDeC":  # the network is drawn with clustpy's set_torch_seed, which reseeds all three
        ACeDeC(base=tiny(clustering_epochs=1), init_iterations=10).fit(X)
    else:
        ENRC([3, 2], pretrain_epochs=1, clustering_epochs=1, embedding_size=4, init_rounds=1, init_iterations=10,
             batch_size=64, device="cpu", random_state=0).fit(X)
    assert draws() == without_fit
    for backend, queued in queued_seeds.items():
        assert trackers[backend].call_order == queued, backend


def test_base_parameters_acedec_reads_are_checked_before_anything_is_trained(data):
    X, _ = data
    with pytest.raises(ValueError, match="alpha"):
        ACeDeC(base=tiny(DEC, alpha=0.0)).fit(X)
    with pytest.raises(TypeError, match="batch_size"):
        ACeDeC(base=tiny(batch_size="64")).fit(X)
    with pytest.raises(ValueError, match="image_shape"):
        ACeDeC(base=tiny(), image_shape=(3, 3)).fit(X)
    with pytest.warns(UserWarning, match="initial_clustering_params"):
        ACeDeC(base=tiny(clustering_epochs=0, initial_clustering_params={"n_init": 3}), init_iterations=5).fit(X)


def test_a_random_state_object_on_the_base_gives_each_fit_its_next_seed(data):
    X, _ = data
    state = np.random.RandomState(0)
    model = ACeDeC(base=tiny(clustering_epochs=0, random_state=state), init_iterations=5)
    first, second = model.fit(X).V_, model.fit(X).V_
    assert not np.array_equal(first, second)


def test_fitted_arrays_are_copies_of_the_models_tensors(fitted, data):
    model = copy.deepcopy(fitted.model)
    labels = model.predict(data[0])
    model.V_[:] = 0.0
    model.cluster_centers_[:] = 0.0
    np.testing.assert_array_equal(model.predict(data[0]), labels)


def test_a_read_only_array_fits_without_warnings(data):
    # e.g. np.load(path, mmap_mode="r"): the input is never written, so torch's warning about it would only be noise
    import warnings
    X = np.array(data[0], dtype=np.float32)
    X.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = ACeDeC(base=tiny(clustering_epochs=1), init_iterations=10, init_rounds=1).fit(X)
    assert model.predict(X).shape == (len(X),)


@pytest.mark.parametrize("network, message", [
    ((FeedforwardAutoencoder,), "must be \\(network class, dict of its parameters\\)"),
    (("FeedforwardAutoencoder", {"layers": [5, 4]}), "must be \\(network class, dict of its parameters\\)"),
    (torch.nn.Linear(5, 4), "must be a clustpy autoencoder"),
    # clustpy's defaults (layers, random_state) only go to a class that takes them: Linear is built, and refused
    ((torch.nn.Linear, {"in_features": 5, "out_features": 4}), "must be a clustpy autoencoder"),
    ((torch.nn.Linear, {"layers": [5, 4], "random_state": 0, "in_features": 5, "out_features": 4}),
     "Linear cannot be built"),
    ((torch.nn.Identity, {}), "must be a clustpy autoencoder")])
def test_what_is_not_an_autoencoder_gets_a_type_error(data, network, message):
    X, _ = data
    model = ACeDeC(base=tiny(neural_network=network), verbose=False)
    with pytest.raises(TypeError, match=message):
        model.fit(X)
    assert not hasattr(model, "labels_")


def test_network_warnings_are_warnings_from_the_callers_line_not_prints(data, capsys):
    """clustpy prints its network warnings to stdout; a fit warns instead (a library is quiet), pointing at the
    line that called fit, and builds the network clustpy would."""
    X, _ = data
    base = tiny(neural_network=(FeedforwardAutoencoder, {"layers": [X.shape[1], 16, 3]}), embedding_size=4,
                pretrain_epochs=1, clustering_epochs=0)
    with pytest.warns(UserWarning, match="layers end in 3 dimensions, not embedding_size = 4") as caught:
        model = ACeDeC(base=base, init_rounds=1, init_iterations=5, verbose=False).fit(X)
    assert all(record.filename == __file__ for record in caught if "layers end in" in str(record.message))
    assert model.V_.shape == (3, 3)
    assert model.neural_network_trained_.encoder.block[0].in_features == X.shape[1]
    assert capsys.readouterr().out == ""


def test_image_shape_must_match_images_given_as_images():
    grey = np.random.default_rng(0).random((60, 4, 6)).astype(np.float32)
    for image_shape in ((6, 4), (2, 12)):
        model = ACeDeC(base=tiny(augmentation_invariance=True), image_shape=image_shape, verbose=False)
        with pytest.raises(ValueError, match="contradicts the shape of the images in X"):
            model.fit(grey)
        assert not hasattr(model, "labels_")
    with pytest.raises(ValueError, match=r"H \* W \* C = 24"):
        ACeDeC(base=tiny(), image_shape=(5, 5)).fit(grey)
    # a channel axis of size 1 restates the same grey images
    model = ACeDeC(base=tiny(clustering_epochs=0, pretrain_epochs=1), image_shape=(4, 6, 1), init_rounds=1,
                   init_iterations=5, verbose=False).fit(grey)
    assert model.labels_.shape == (60,)


def test_neural_network_weights_load_into_the_network_and_bad_ones_are_named(data, tmp_path):
    """A saved state_dict starts the fit from those weights (no pretraining: the network is fitted); a path of
    the wrong type, a missing file, a file that is not a state_dict, or one of another network are refused."""
    import pickle
    X, _ = data
    source = FeedforwardAutoencoder(layers=[X.shape[1], 8, 4])
    torch.save(source.state_dict(), tmp_path / "weights.pt")
    model = ACeDeC(base=tiny(neural_network=(FeedforwardAutoencoder, {"layers": [X.shape[1], 8, 4]}),
                             neural_network_weights=str(tmp_path / "weights.pt"), clustering_epochs=0),
                   init_rounds=1, init_iterations=5, verbose=False).fit(X)
    # not pretrained (the weights make it fitted) and no clustering epoch: the network is the saved one
    assert model.neural_network_trained_.fitted
    torch.testing.assert_close(model.neural_network_trained_.encoder.block[0].weight,
                               source.encoder.block[0].weight)
    (tmp_path / "text.pt").write_text("not weights")
    (tmp_path / "pickled.pt").write_bytes(pickle.dumps({"a": object()}))
    torch.save(FeedforwardAutoencoder(layers=[X.shape[1], 6, 4]).state_dict(), tmp_path / "other.pt")
    for weights, error, message in ((3, TypeError, "must be the path of a saved state_dict"),
                                    (tmp_path / "missing.pt", ValueError, "is not a file"),
                                    (tmp_path / "text.pt", ValueError, "cannot be loaded"),
                                    (tmp_path / "pickled.pt", ValueError, "cannot be loaded"),
                                    (tmp_path / "other.pt", ValueError, "cannot be loaded")):
        estimator = ACeDeC(base=tiny(neural_network=(FeedforwardAutoencoder, {"layers": [X.shape[1], 8, 4]}),
                                     neural_network_weights=weights), verbose=False)
        with pytest.raises(error, match=message):
            estimator.fit(X)
        assert not hasattr(estimator, "labels_")


def test_the_default_network_is_clustpys():
    """Our default layers must stay clustpy 0.0.3's (DEC's), so that a fit without a network matches clustpy's."""
    from clustpy.deep._train_utils import _get_default_layers
    from clustpy_acedec.networks import default_layers
    assert default_layers(64, 10) == _get_default_layers(64, 10) == [64, 500, 500, 2000, 10]
