"""
Saving and loading fitted estimators without pickled Python objects (clustpy_acedec._persistence).

The tests go through the estimators' ``save`` / ``load``; the file layout (format name and version) is the
module's.
"""

import copy
import dataclasses
import functools
import io
import json
import warnings

import numpy as np
import pytest
import torch
from clustpy.deep import DCN, DEC, IDEC
from clustpy.deep.neural_networks import FeedforwardAutoencoder
from clustpy.deep.neural_networks._abstract_autoencoder import _AbstractAutoencoder
from sklearn.base import BaseEstimator
from sklearn.datasets import make_blobs

from clustpy_acedec import ACeDeC, ENRC, register_base
from clustpy_acedec._persistence import FORMAT_NAME, FORMAT_VERSION
from clustpy_acedec._objectives import StudentTObjective
from clustpy_acedec.pretraining import StackedDenoisingPretraining

N_FEATURES = 6


@pytest.fixture(scope="module")
def data():
    X, _ = make_blobs(n_samples=120, n_features=N_FEATURES, centers=3, random_state=0)
    return X.astype(np.float32)


def _fit_acedec(base, data, **kwargs):
    return ACeDeC(base=base, init_iterations=20, init_rounds=2, verbose=False, **kwargs).fit(data)


def _base_params(**kwargs):
    return dict(n_clusters=3, pretrain_epochs=2, clustering_epochs=2, batch_size=32, embedding_size=3, device="cpu",
                **kwargs)


@pytest.fixture(scope="module", params=["DCN", "DEC", "IDEC"])
def acedec(request, data):
    """ACeDeC over each base; each exercises a kind of parameter that needs more than JSON."""
    if request.param == "DCN":
        # A network instance as parameter (stored with its weights) and a torch optimiser class.
        network = FeedforwardAutoencoder([N_FEATURES, 8, 3], random_state=1)
        base = DCN(neural_network=network, optimizer_class=torch.optim.AdamW, **_base_params(random_state=0))
        return _fit_acedec(base, data)
    if request.param == "DEC":
        # A RandomState as random_state: stored with its state.
        return _fit_acedec(DEC(**_base_params(random_state=np.random.RandomState(0))), data)
    # IDEC under DEC's stacked denoising pretraining, given as a schedule object.
    return _fit_acedec(IDEC(**_base_params(random_state=0)), data,
                       pretraining=StackedDenoisingPretraining(layerwise_epochs=1, finetune_epochs=1))


@pytest.fixture(scope="module")
def enrc(data):
    return ENRC(n_clusters=[3, 2], pretrain_epochs=2, clustering_epochs=2, batch_size=32, embedding_size=4,
                init_rounds=1, init_iterations=20, optimizer_class=torch.optim.AdamW, device="cpu", random_state=0,
                verbose=False).fit(data)


def _assert_same(a, b, where=""):
    """Recursive equality of fitted attributes and parameters: exact arrays, same types."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, torch.nn.Module):
        _assert_same(dict(a.state_dict()), dict(b.state_dict()), where)
        assert [m.training for m in a.modules()] == [m.training for m in b.modules()], where
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b), where
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            _assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, BaseEstimator):
        _assert_same(a.get_params(deep=False), b.get_params(deep=False), where)
    elif isinstance(a, np.random.RandomState):
        _assert_same(list(a.get_state()), list(b.get_state()), where)
    elif dataclasses.is_dataclass(a):
        _assert_same(dataclasses.asdict(a), dataclasses.asdict(b), where)
    else:
        assert a == b or (a != a and b != b), f"{where}: {a!r} != {b!r}"  # NaN equals NaN here


def _fitted(estimator) -> dict:
    return {k: v for k, v in vars(estimator).items() if k.endswith("_") and not k.startswith("_")}


def _assert_round_trip(original, loaded):
    assert sorted(_fitted(loaded)) == sorted(_fitted(original))
    for name, value in _fitted(original).items():
        _assert_same(value, getattr(loaded, name), name)
    assert loaded.neural_network_trained_ is loaded.model_.autoencoder
    assert next(loaded.model_.parameters()).device == torch.device("cpu")
    _assert_same(original.get_params(deep=False), loaded.get_params(deep=False), "params")


def test_acedec_round_trip(acedec, data, tmp_path):
    path = tmp_path / "acedec.pt"
    acedec.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every parameter of these fits is stored: no default is substituted
        loaded = ACeDeC.load(path, device="cpu")
    np.testing.assert_array_equal(loaded.predict(data), acedec.predict(data))
    np.testing.assert_array_equal(loaded.transform(data), acedec.transform(data))
    np.testing.assert_array_equal(loaded.transform_shared(data), acedec.transform_shared(data))
    _assert_round_trip(acedec, loaded)
    assert type(loaded.model_.objectives[0]) is type(acedec.model_.objectives[0])


def test_enrc_round_trip(enrc, data, tmp_path):
    path = tmp_path / "enrc.pt"
    enrc.save(path)
    loaded = ENRC.load(path, device="cpu")
    np.testing.assert_array_equal(loaded.predict(data), enrc.predict(data))
    np.testing.assert_array_equal(loaded.transform(data), enrc.transform(data))
    np.testing.assert_array_equal(loaded.transform_subspace(data, 0), enrc.transform_subspace(data, 0))
    np.testing.assert_array_equal(loaded.reconstruct_centers(0), enrc.reconstruct_centers(0))
    _assert_round_trip(enrc, loaded)
    assert loaded.get_params()["optimizer_class"] is torch.optim.AdamW
    # the centres keep the full batch size that §2.8's counter compares batches with
    assert loaded.model_.objectives[0].centers.batch_size == enrc.model_.objectives[0].centers.batch_size
    assert enrc.model_.objectives[0].centers.batch_size is not None


def test_enrc_with_the_small_convolutional_network_round_trips(data, tmp_path):
    from clustpy_acedec.networks import SmallConvAutoencoder
    images = np.random.default_rng(0).random((60, 1, 8, 8), dtype=np.float32)
    network = SmallConvAutoencoder((1, 8, 8), embedding_size=4, channels=(2, 3, 4), random_state=0)
    enrc = ENRC(n_clusters=[2, 2], neural_network=network, pretrain_epochs=1, clustering_epochs=1, batch_size=32,
                embedding_size=4, init_rounds=1, init_iterations=4, device="cpu", random_state=0,
                verbose=False).fit(images)
    path = tmp_path / "conv.pt"
    enrc.save(path)
    loaded = ENRC.load(path, device="cpu")
    np.testing.assert_array_equal(loaded.predict(images), enrc.predict(images))
    np.testing.assert_array_equal(loaded.transform(images), enrc.transform(images))
    _assert_round_trip(enrc, loaded)  # includes the network passed as parameter, with its own weights
    assert loaded.model_.autoencoder.image_shape == (1, 8, 8)


def test_the_file_holds_only_tensors_and_plain_values(enrc, tmp_path):
    path = tmp_path / "enrc.pt"
    enrc.save(path)
    content = torch.load(path, weights_only=True)
    assert content["format"] == FORMAT_NAME and content["estimator_class"] == "ENRC"
    assert all(isinstance(t, torch.Tensor) for t in content["tensors"].values())
    assert json.loads(content["metadata"])["params"]["n_clusters"] == [3, 2]


# ------------------------------------------------------------------------------------------------- refused files

class _Marker:
    """Unpickling this would create a file: the stand-in for code carried by a malicious model file."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return open, (self.path, "w")


def test_a_file_with_a_pickled_object_is_refused_without_running_it(tmp_path):
    marker, path = tmp_path / "marker", tmp_path / "malicious.pt"
    torch.save({"format": FORMAT_NAME, "format_version": list(FORMAT_VERSION), "estimator_class": "ENRC",
                "payload": _Marker(str(marker))}, path)
    with pytest.raises(ValueError, match="carries pickled Python objects"):
        ENRC.load(path, device="cpu")
    assert not marker.exists()


@pytest.mark.parametrize("fraction", [0.0, 0.3, 0.99])
def test_a_truncated_file_is_refused(enrc, tmp_path, fraction):
    path = tmp_path / "enrc.pt"
    enrc.save(path)
    content = path.read_bytes()
    path.write_bytes(content[:int(len(content) * fraction)])
    with pytest.raises(ValueError, match="truncated"):
        ENRC.load(path, device="cpu")


def test_a_foreign_file_is_refused(tmp_path):
    path = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(ValueError, match="not a clustpy-acedec model file"):
        ENRC.load(path, device="cpu")


def test_loading_into_the_wrong_class_names_the_right_one(acedec, tmp_path):
    path = tmp_path / "acedec.pt"
    acedec.save(path)
    with pytest.raises(ValueError, match=r"holds a fitted ACeDeC, not an ENRC: use ACeDeC\.load"):
        ENRC.load(path, device="cpu")


def test_saving_an_unfitted_estimator_fails(tmp_path):
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError):
        ACeDeC(n_clusters=3).save(tmp_path / "x.pt")
    assert not (tmp_path / "x.pt").exists()


@pytest.mark.parametrize("target", [None, 3])
def test_saving_to_what_is_not_a_path_or_file_is_a_type_error(enrc, target):
    with pytest.raises(TypeError, match="path must be a str, an os.PathLike or a binary file object"):
        enrc.save(target)


def test_saving_into_a_missing_folder_names_the_folder(enrc, tmp_path):
    with pytest.raises(FileNotFoundError, match="the folder .*missing does not exist"):
        enrc.save(tmp_path / "missing" / "x.pt")


@pytest.mark.parametrize("edit", [
    lambda m: m.update(params=[]),
    lambda m: m["params"].update(device={"$": "device", "value": "no such device"}),
    lambda m: m["model"]["objectives"][0].update(n_clusters=[99]),
], ids=["params_not_a_dict", "bad_device", "centres_of_another_size"])
def test_a_damaged_description_is_a_value_error(enrc, tmp_path, edit):
    path = tmp_path / "damaged.pt"
    enrc.save(path)
    _rewrite(path, lambda content: None, edit)
    with pytest.raises(ValueError, match="damaged|does not fit"):
        ENRC.load(path, device="cpu")


def test_network_arguments_that_do_not_give_the_saved_shapes_are_refused_before_building(enrc, tmp_path):
    """A hand-made file could ask for a network of any size: its arguments are checked on the meta device, before
    anything is built (the message of that check, not of the weights' loading)."""
    path = tmp_path / "huge.pt"
    enrc.save(path)

    def widen(metadata):
        items = dict(metadata["networks"][0]["kwargs"]["items"])
        items["layers"] = [items["layers"][0], 3_000, items["layers"][-1]]
        items["decoder_layers"] = None
        metadata["networks"][0]["kwargs"]["items"] = [list(item) for item in items.items()]

    _rewrite(path, lambda content: None, widen)
    with pytest.raises(ValueError, match="do not give the shapes of its saved weights"):
        ENRC.load(path, device="cpu")


# ------------------------------------------------------------------------------------------------- versions

def _rewrite(path, edit_content, edit_metadata=None):
    content = torch.load(path, weights_only=True)
    metadata = json.loads(content["metadata"])
    if edit_metadata is not None:
        edit_metadata(metadata)
    content["metadata"] = json.dumps(metadata)
    edit_content(content)
    torch.save(content, path)


def _strip_optional_fields(metadata):
    """What a writer of minor version 0 need not have written: every field the reader gives a default."""
    for key in ("package_version", "torch_version"):
        del metadata[key]
    for network in metadata["networks"]:
        del network["fitted"], network["training_modules"]
    del metadata["model"]["training_modules"]
    for objective in metadata["model"]["objectives"]:
        for key in ("discount", "lloyd_steps", "batch_size", "alpha", "scale"):
            objective.pop(key, None)
    del metadata["params"]["init_screen_iterations"]
    for record in _initial_records(metadata):
        record["fields"]["items"] = [item for item in record["fields"]["items"]
                                     if item[0] not in ("screening_loss", "kept")]


def _initial_records(metadata):
    """The encoded records of ``history_["initial"]``."""
    return dict(metadata["fitted"]["history_"]["items"])["initial"]


def test_a_file_of_minor_version_0_without_optional_fields_loads(enrc, data, tmp_path):
    path = tmp_path / "old.pt"
    enrc.save(path)
    _rewrite(path, lambda c: c.update(format_version=[FORMAT_VERSION[0], 0]), _strip_optional_fields)
    loaded = ENRC.load(path, device="cpu")
    np.testing.assert_array_equal(loaded.predict(data), enrc.predict(data))
    assert loaded.neural_network_trained_.fitted and not loaded.model_.training
    # files from before the screening of the initial candidates describe fits that ran without it
    assert loaded.init_screen_iterations == 0 and ENRC([2]).init_screen_iterations is None
    assert [(r.screening_loss, r.kept) for r in loaded.history_["initial"]] == [(None, False)]


def test_a_file_of_a_newer_minor_version_drops_record_fields_it_does_not_know(enrc, data, tmp_path):
    path = _saved(enrc, tmp_path)

    def add_field(metadata):
        _initial_records(metadata)[0]["fields"]["items"].append(["a_later_statistic", 1.5])

    _rewrite(path, lambda c: c.update(format_version=[FORMAT_VERSION[0], FORMAT_VERSION[1] + 1]), add_field)
    with pytest.warns(UserWarning, match=r"no fields \['a_later_statistic'\] in this version"):
        loaded = ENRC.load(path, device="cpu")
    assert not hasattr(loaded.history_["initial"][0], "a_later_statistic")
    np.testing.assert_array_equal(loaded.predict(data), enrc.predict(data))


def test_a_file_of_a_newer_minor_version_with_unknown_fields_loads(enrc, data, tmp_path):
    path = tmp_path / "newer.pt"
    enrc.save(path)
    _rewrite(path, lambda c: c.update(format_version=[FORMAT_VERSION[0], FORMAT_VERSION[1] + 3], extra=[1, 2]),
             lambda m: m.update(a_later_field={"$": "tuple", "items": []}))
    np.testing.assert_array_equal(ENRC.load(path, device="cpu").predict(data), enrc.predict(data))


def test_a_file_of_a_newer_major_version_is_refused(enrc, tmp_path):
    path = tmp_path / "future.pt"
    enrc.save(path)
    _rewrite(path, lambda c: c.update(format_version=[FORMAT_VERSION[0] + 1, 0]))
    with pytest.raises(ValueError, match=rf"format version {FORMAT_VERSION[0] + 1}\.0, newer .* upgrade"):
        ENRC.load(path, device="cpu")


# ------------------------------------------------------------------------------------------------- custom parts

class TinyAutoencoder(_AbstractAutoencoder):
    """A network class clustpy-acedec does not know: load needs network=."""

    def __init__(self, layers, work_on_copy=True, random_state=None):
        super().__init__(work_on_copy, random_state)
        self.encoder_layer = torch.nn.Linear(layers[0], layers[-1])
        self.decoder_layer = torch.nn.Linear(layers[-1], layers[0])

    def encode(self, x):
        return self.encoder_layer(x)

    def decode(self, embedded):
        return self.decoder_layer(embedded)


class SizedAutoencoder(TinyAutoencoder):
    """A network class that takes the embedding's size instead of clustpy's layers."""

    def __init__(self, n_features, embedding_size=16, random_state=None):
        super().__init__([n_features, embedding_size], random_state=random_state)


def test_a_class_that_takes_the_embedding_size_is_built_and_rebuilt_from_its_tuple(data, tmp_path):
    """neural_network=(class, params): the estimator's embedding_size where the class takes it, no layers; the
    file records the arguments the network was built with, so network=the class rebuilds it."""
    model = ENRC(n_clusters=[3, 2], neural_network=(SizedAutoencoder, {"n_features": N_FEATURES}), embedding_size=4,
                 pretrain_epochs=1, clustering_epochs=1, batch_size=32, init_rounds=1, init_iterations=5,
                 device="cpu", random_state=0, verbose=False).fit(data)
    assert model.neural_network_trained_.encoder_layer.out_features == 4
    model.save(tmp_path / "sized.pt")
    loaded = ENRC.load(tmp_path / "sized.pt", device="cpu", network=SizedAutoencoder)
    np.testing.assert_array_equal(loaded.predict(data), model.predict(data))


class CustomAdam(torch.optim.Adam):
    """An optimiser class outside the allowlist: it loads as the default, with a warning."""


@pytest.fixture(scope="module")
def custom_enrc(data):
    return ENRC(n_clusters=[3, 2], neural_network=(TinyAutoencoder, {"layers": [N_FEATURES, 4]}),
                optimizer_class=CustomAdam, pretrain_epochs=2, clustering_epochs=2, batch_size=32, embedding_size=4,
                init_rounds=1, init_iterations=20, device="cpu", random_state=0, verbose=False).fit(data)


def test_a_custom_network_needs_network_on_loading(custom_enrc, tmp_path):
    path = tmp_path / "custom.pt"
    custom_enrc.save(path)
    with pytest.raises(ValueError, match=r"TinyAutoencoder.*pass network="):
        ENRC.load(path, device="cpu")


@pytest.mark.parametrize("how", ["class", "factory", "instance"])
def test_a_custom_network_loads_when_passed(custom_enrc, data, tmp_path, how):
    path = tmp_path / "custom.pt"
    custom_enrc.save(path)
    network = {"class": TinyAutoencoder, "factory": lambda: TinyAutoencoder([N_FEATURES, 4]),
               "instance": TinyAutoencoder([N_FEATURES, 4])}[how]
    with pytest.warns(UserWarning, match=r"optimizer_class \(.*CustomAdam.*\).*default") as record:
        loaded = ENRC.load(path, device="cpu", network=network)
    assert {w.filename for w in record if "CustomAdam" in str(w.message)} == {__file__}  # the caller's load
    np.testing.assert_array_equal(loaded.predict(data), custom_enrc.predict(data))
    np.testing.assert_array_equal(loaded.transform(data), custom_enrc.transform(data))
    assert type(loaded.model_.autoencoder) is TinyAutoencoder and loaded.model_.autoencoder is not network
    assert loaded.get_params()["optimizer_class"] is torch.optim.Adam  # the default replaced the unknown class
    # the class (given, or that of the factory's or instance's network) resolves the (class, params) parameter too
    assert loaded.get_params()["neural_network"] == (TinyAutoencoder, {"layers": [N_FEATURES, 4]})


class HalfReLU(torch.nn.Module):
    def forward(self, x):
        return torch.relu(x) / 2


def test_a_linear_network_round_trips(data, tmp_path):
    """torch.nn.Identity as the activation (no nonlinearity) is one loading resolves by itself."""
    network = FeedforwardAutoencoder([N_FEATURES, 5, 3], activation_fn=torch.nn.Identity, random_state=1)
    model = _fit_acedec(DCN(neural_network=network, **_base_params(random_state=0)), data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning at saving or loading
        model.save(tmp_path / "linear.pt")
        loaded = ACeDeC.load(tmp_path / "linear.pt")
    np.testing.assert_array_equal(loaded.predict(data), model.predict(data))


@pytest.mark.parametrize("activation, saved, loaded_message", [
    (HalfReLU, r"HalfReLU", r"FeedforwardAutoencoder built with .*HalfReLU.*pass network="),
    (functools.partial(torch.nn.LeakyReLU, 0.2), r"functools.partial",  # not even recordable by name
     r"FeedforwardAutoencoder whose constructor arguments could not be recorded.*pass network=")])
def test_a_built_in_network_with_a_custom_activation_warns_at_saving_and_names_it_at_loading(
        data, tmp_path, activation, saved, loaded_message):
    network = FeedforwardAutoencoder([N_FEATURES, 5, 3], activation_fn=activation, random_state=1)
    model = _fit_acedec(DCN(neural_network=network, **_base_params(random_state=0)), data)
    path = tmp_path / "custom_activation.pt"
    with pytest.warns(UserWarning, match=rf"built with .*{saved}.*load this file with network=") as record:
        model.save(path)
    assert [w.filename for w in record if "load this file with" in str(w.message)] == [__file__]  # once, here
    with pytest.raises(ValueError, match=loaded_message):
        ACeDeC.load(path)
    loaded = ACeDeC.load(path, network=lambda: FeedforwardAutoencoder([N_FEATURES, 5, 3], activation_fn=activation))
    np.testing.assert_array_equal(loaded.predict(data), model.predict(data))


def test_a_network_of_another_class_is_refused(custom_enrc, tmp_path):
    path = tmp_path / "custom.pt"
    custom_enrc.save(path)
    with pytest.raises(ValueError, match=r"FeedforwardAutoencoder.*TinyAutoencoder"):
        ENRC.load(path, device="cpu", network=lambda: FeedforwardAutoencoder([N_FEATURES, 4]))


def test_a_custom_network_passed_as_instance_needs_a_factory(custom_enrc, tmp_path):
    # Given as an instance, the network's constructor arguments are unknown: the class alone cannot rebuild it.
    estimator = custom_enrc.set_params(neural_network=TinyAutoencoder([N_FEATURES, 4]))
    path = tmp_path / "instance.pt"
    try:
        estimator.save(path)
    finally:
        estimator.set_params(neural_network=(TinyAutoencoder, {"layers": [N_FEATURES, 4]}))
    with pytest.raises(ValueError, match="pass a factory"):
        ENRC.load(path, device="cpu", network=TinyAutoencoder)


class CustomObjective(StudentTObjective):
    """A cluster-space objective registered with a callable: its state cannot be described in the file."""


class CustomDCN(DCN):
    pass


def test_a_model_with_a_custom_objective_is_refused_at_saving(data, tmp_path, clean_registry):
    register_base(CustomDCN, lambda base, centers, space: CustomObjective(centers, space))
    estimator = _fit_acedec(CustomDCN(**_base_params(random_state=0)), data)
    path = tmp_path / "custom_objective.pt"
    with pytest.raises(ValueError, match="objective .*CustomObjective"):
        estimator.save(path)
    assert list(tmp_path.iterdir()) == []  # neither the file nor its temporary remains


def test_a_subclass_of_a_registered_base_saves_and_loads_where_it_is_registered(data, tmp_path, clean_registry):
    """fit takes a subclass of a registered base (matched through its parents): save records it by its own class,
    and a process loads it when that class is registered there (the file names it; nothing is imported)."""
    estimator = _fit_acedec(CustomDCN(**_base_params(random_state=0)), data)
    path = tmp_path / "subclass.pt"
    estimator.save(path)
    with pytest.raises(ValueError, match="CustomDCN, not a registered base: register its class"):
        ACeDeC.load(path, device="cpu")
    register_base(CustomDCN, "hard")
    loaded = ACeDeC.load(path, device="cpu")
    assert type(loaded.base_) is CustomDCN and type(loaded.base) is CustomDCN
    np.testing.assert_array_equal(loaded.predict(data), estimator.labels_)


def test_estimators_save_and_load_through_their_own_methods(tmp_path):
    """The public seam: ``model.save(path)`` and ``ACeDeC.load(path)`` / ``ENRC.load(path)``."""
    from clustpy.deep import DCN
    from clustpy_acedec import ACeDeC, ENRC
    X = np.random.default_rng(0).normal(size=(60, 6)).astype(np.float32)
    acedec = ACeDeC(base=DCN(n_clusters=3, pretrain_epochs=1, clustering_epochs=1, batch_size=32, embedding_size=3,
                             device="cpu"), random_state=0, init_iterations=5).fit(X)
    enrc = ENRC([3, 2], pretrain_epochs=1, clustering_epochs=1, batch_size=32, embedding_size=4, init_rounds=1,
                init_iterations=5, device="cpu", random_state=0).fit(X)
    for model in (acedec, enrc):
        path = tmp_path / f"{type(model).__name__}.pt"
        model.save(path)
        loaded = type(model).load(path, device="cpu")
        np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
        np.testing.assert_array_equal(loaded.labels_, model.labels_)
    with pytest.raises(ValueError, match="use ACeDeC.load"):
        ENRC.load(tmp_path / "ACeDeC.pt")


class ScaleReadingAutoencoder(TinyAutoencoder):
    """A custom class whose constructor reads its own weights: it cannot be built on the meta device."""

    def __init__(self, layers, work_on_copy=True, random_state=None):
        super().__init__(layers, work_on_copy, random_state)
        self.initial_scale = float(self.encoder_layer.weight.detach().abs().max())


def test_a_custom_class_that_reads_its_weights_in_its_constructor_loads(data, tmp_path):
    model = ENRC(n_clusters=[3, 2], neural_network=(ScaleReadingAutoencoder, {"layers": [N_FEATURES, 4]}),
                 pretrain_epochs=1, clustering_epochs=1, batch_size=32, embedding_size=4, init_rounds=1,
                 init_iterations=5, device="cpu", random_state=0, verbose=False).fit(data)
    model.save(tmp_path / "scaled.pt")
    loaded = ENRC.load(tmp_path / "scaled.pt", device="cpu", network=ScaleReadingAutoencoder)
    np.testing.assert_array_equal(loaded.predict(data), model.predict(data))


def test_a_failing_network_factory_is_named_as_the_users(custom_enrc, tmp_path):
    custom_enrc.save(tmp_path / "custom.pt")

    def factory():
        raise RuntimeError("no GPU for my network")

    with pytest.raises(ValueError, match="network= \\(the factory\\) failed: RuntimeError: no GPU for my network"):
        ENRC.load(tmp_path / "custom.pt", device="cpu", network=factory)


# ------------------------------------------------------------------------------------------------- hostile files
# Files made by hand to harm the process that loads them: each is refused with a ValueError that says why,
# before the harm (a crash, a large allocation, an attribute the file should not set).

def _saved(model, tmp_path, name="model.pt"):
    path = tmp_path / name
    model.save(path)
    return path


def test_metadata_nested_deep_enough_to_crash_the_parser_is_refused(enrc, tmp_path):
    # clustpy raises Python's recursion limit, so parsing this would overflow the C stack and kill the process.
    path = _saved(enrc, tmp_path)
    _rewrite(path, lambda content: content.update(metadata=content["metadata"][:-1] + ', "deep": '
                                                  + "[" * 100_000 + "]" * 100_000 + "}"))
    with pytest.raises(ValueError, match="nested deeper than"):
        ENRC.load(path, device="cpu")


@pytest.mark.parametrize("name, value", [
    ("__class__", {"$": "ref", "name": "sklearn.cluster._kmeans.KMeans", "qualname": "KMeans"}),
    ("predict", {"$": "ref", "name": "clustpy.deep._utils.mean_squared_error", "qualname": "mean_squared_error"}),
    ("n_clusters", 1),
], ids=["class", "method", "parameter"])
def test_a_file_sets_only_fitted_attributes(enrc, tmp_path, name, value):
    path = _saved(enrc, tmp_path)
    _rewrite(path, lambda content: None, lambda metadata: metadata["fitted"].update({name: value}))
    with pytest.raises(ValueError, match=f"'{name}' is not the name of a fitted attribute"):
        ENRC.load(path, device="cpu")


def test_a_record_gets_only_its_own_fields(enrc, tmp_path):
    def inject(metadata):
        record = metadata["fitted"]["history_"]["items"][0][1][0]  # the first record of the first phase
        record["fields"]["items"].append(["evil_attr", 42])

    path = _saved(enrc, tmp_path)
    _rewrite(path, lambda content: None, inject)
    with pytest.raises(ValueError, match=r"has no fields \['evil_attr'\]"):
        ENRC.load(path, device="cpu")


def test_a_tensor_larger_than_its_stored_bytes_is_refused(enrc, tmp_path):
    # 4 stored bytes that would become a 15,000 x 15,000 array (900 MB) when the loader copies them out
    path = _saved(enrc, tmp_path)
    _rewrite(path, lambda content: content["tensors"].update({"model/layer.V": torch.zeros(1).expand(15_000, 15_000)}))
    with pytest.raises(ValueError, match=r"'model/layer.V' is of shape \(15000, 15000\), larger than the 4 bytes"):
        ENRC.load(path, device="cpu")


def test_a_compressed_archive_is_refused_before_it_is_expanded(enrc, tmp_path):
    import zipfile
    path = _saved(enrc, tmp_path)
    deflated = tmp_path / "deflated.pt"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(deflated, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename), compress_type=zipfile.ZIP_DEFLATED)
    with pytest.raises(ValueError, match="are compressed"):
        ENRC.load(deflated, device="cpu")
    with open(deflated, "rb") as file, pytest.raises(ValueError, match="are compressed"):
        ENRC.load(io.BytesIO(file.read()), device="cpu")  # a file object too


def test_tensors_the_description_does_not_use_are_refused(enrc, tmp_path):
    path = _saved(enrc, tmp_path)
    _rewrite(path, lambda content: content["tensors"].update({"junk/x": torch.zeros(10)}))
    with pytest.raises(ValueError, match=r"tensors its description does not use: \['junk/x'\]"):
        ENRC.load(path, device="cpu")


@pytest.mark.parametrize("tensor, message", [
    ("model/layer.beta_logits", "layer.beta_logits holds NaN"),
    ("networks/0/encoder.block.0.weight", "encoder.block.0.weight of the FeedforwardAutoencoder holds NaN"),
])
def test_non_finite_model_values_are_refused(enrc, tmp_path, tensor, message):
    def poison(content):
        content["tensors"][tensor] = content["tensors"][tensor].clone()
        content["tensors"][tensor].view(-1)[0] = float("nan")

    path = _saved(enrc, tmp_path)
    _rewrite(path, poison)
    with pytest.raises(ValueError, match=message):
        ENRC.load(path, device="cpu")


def test_fitted_attributes_that_contradict_the_model_are_refused(enrc, tmp_path):
    path = _saved(enrc, tmp_path)
    _rewrite(path, lambda content: None, lambda metadata: metadata["fitted"]["V_"].update(shape=[1, 16]))
    with pytest.raises(ValueError, match=r"V_ of shape \(1, 16\) does not fit the model's V \(4, 4\)"):
        ENRC.load(path, device="cpu")


@pytest.mark.parametrize("batch_size", ["128", 0, -3, 1.5, True, 10 ** 30])
def test_a_bad_batch_size_of_the_centres_is_refused(enrc, tmp_path, batch_size):
    path = _saved(enrc, tmp_path)
    _rewrite(path, lambda content: None,
             lambda metadata: metadata["model"]["objectives"][0].update(batch_size=batch_size))
    with pytest.raises(ValueError, match="batch_size"):
        ENRC.load(path, device="cpu")


def test_an_inconsistent_objective_is_refused_before_anything_is_built(enrc, tmp_path):
    # 100,000 empty clusterings: building them before checking took minutes
    def inflate(metadata):
        objective = metadata["model"]["objectives"][0]
        objective["n_clusters"] = [0] * 100_000 + objective["n_clusters"]
        objective["spaces"] = list(range(2, 100_002)) + objective["spaces"]

    path = _saved(enrc, tmp_path)
    _rewrite(path, lambda content: None, inflate)
    with pytest.raises(ValueError, match="do not fit the model's"):
        ENRC.load(path, device="cpu")


@pytest.mark.parametrize("edit, message", [
    (lambda content: content.update(format_version=[True, 0]), "format_version"),
    (lambda content: content.pop("estimator_class"), "does not name its estimator class"),
    (lambda content: content["tensors"].update({"model/layer.V": content["tensors"]["model/layer.V"].double()}),
     "must be float32"),
])
def test_malformed_top_level_fields_are_refused(enrc, tmp_path, edit, message):
    path = _saved(enrc, tmp_path)
    _rewrite(path, edit)
    with pytest.raises(ValueError, match=message):
        ENRC.load(path, device="cpu")


class _Command:
    """A pickled object that runs a shell command when it is unpickled (torch blocks the whole module os)."""

    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        import os
        return os.system, (self.command,)


@pytest.mark.parametrize("payload, named", [(_Marker, "open"), (_Command, "system")])
def test_the_refusal_of_a_pickled_object_names_it_and_does_not_advise_loading_it(tmp_path, payload, named):
    marker, path = tmp_path / "marker", tmp_path / "malicious.pt"
    argument = str(marker) if payload is _Marker else f"touch {marker}"
    torch.save({"format": FORMAT_NAME, "format_version": list(FORMAT_VERSION), "estimator_class": "ENRC",
                "payload": payload(argument)}, path)
    with pytest.raises(ValueError) as refused:
        ENRC.load(path, device="cpu")
    assert "GLOBAL" in str(refused.value) and named in str(refused.value)
    assert "weights_only" not in str(refused.value) and not marker.exists()


# ------------------------------------------------------------------------------------------------- the saved file

def test_a_saved_file_gets_the_permissions_of_a_plain_open(enrc, tmp_path):
    import os
    import stat
    old_umask = os.umask(0o022)
    try:
        fresh = _saved(enrc, tmp_path, "fresh.pt")
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o644  # 0o666 under the umask, not mkstemp's 0o600
        fresh.chmod(0o640)
        enrc.save(fresh)  # replacing a file keeps its mode
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o640
    finally:
        os.umask(old_umask)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh.pt"]  # no temporary file left


def test_saving_through_a_symbolic_link_replaces_its_target(enrc, tmp_path):
    target, link = tmp_path / "target.pt", tmp_path / "link.pt"
    target.write_bytes(b"old")
    link.symlink_to(target)
    enrc.save(link)
    assert link.is_symlink() and target.stat().st_size > 3
    ENRC.load(link, device="cpu")


def test_a_model_fitted_on_images_with_a_fully_connected_network_round_trips(data, tmp_path):
    # the network took the images flattened: the loader's check of the network must do the same
    images = np.random.default_rng(0).uniform(size=(96, 4, 4)).astype(np.float32)
    images[:48, :2] += 1.0
    model = _fit_acedec(DCN(**_base_params()), images)
    loaded = ACeDeC.load(_saved(model, tmp_path), device="cpu")
    assert loaded.input_shape_ == (4, 4)
    np.testing.assert_array_equal(loaded.predict(images), model.predict(images))


def test_saving_onto_a_folder_names_the_folder(enrc, tmp_path):
    with pytest.raises(IsADirectoryError, match=f"cannot save to {tmp_path}: it is a folder"):
        enrc.save(tmp_path)


# ------------------------------------------------------------------------------------------------- what the checks let through

class _ClampedAutoencoder(_AbstractAutoencoder):
    """A custom network with an infinite buffer (its clamp bound), random numbers and a counter in encode, and
    constructor arguments a file cannot hold (a function) beside an array."""

    def __init__(self, layers, random_state=None, work_on_copy=True, activation=None, scale=None):
        super().__init__(work_on_copy, random_state)
        self.enc, self.dec = torch.nn.Linear(layers[0], layers[-1]), torch.nn.Linear(layers[-1], layers[0])
        self.activation = activation or (lambda z: z)
        self.register_buffer("clip", torch.tensor(float("inf")))
        self.register_buffer("calls", torch.zeros((), dtype=torch.long))

    def encode(self, x):
        self.calls += 1
        return self.activation(self.enc(x)).clamp(-self.clip, self.clip) + 0 * torch.randn(1)

    def decode(self, z):
        return self.dec(z)


def test_a_custom_network_with_an_infinite_buffer_and_unstorable_arguments_round_trips(data, tmp_path):
    import functools
    activation = functools.partial(torch.nn.functional.leaky_relu, negative_slope=0.1)
    network = (_ClampedAutoencoder, {"layers": [N_FEATURES, 3], "activation": activation, "scale": np.ones(3)})
    model = _fit_acedec(DCN(**_base_params(neural_network=network, random_state=0)), data)
    path = _saved(model, tmp_path)
    rng_before, calls_before = torch.get_rng_state(), int(model.model_.autoencoder.calls)
    with pytest.warns(UserWarning, match="DCN.neural_network .* has its default"):  # the tuple's function
        loaded = ACeDeC.load(path, device="cpu",
                             network=lambda: _ClampedAutoencoder([N_FEATURES, 3], activation=activation))
    # loading checked the network on one sample, and left no trace of it: no random number drawn, no call counted
    assert torch.equal(torch.get_rng_state(), rng_before) and int(loaded.model_.autoencoder.calls) == calls_before
    np.testing.assert_array_equal(loaded.predict(data), model.predict(data))


def test_a_model_with_nan_weights_or_a_name_the_loader_refuses_is_not_saved(data, tmp_path):
    model = _fit_acedec(DCN(**_base_params(random_state=0)), data)
    broken = copy.deepcopy(model)
    with torch.no_grad():
        next(broken.model_.autoencoder.parameters()).view(-1)[0] = float("nan")
    with pytest.raises(ValueError, match="holds NaN or infinite values"):
        broken.save(tmp_path / "broken.pt")
    model.β_ = 1.0
    with pytest.raises(ValueError, match="cannot save the fitted attribute β_"):
        model.save(tmp_path / "named.pt")
    del model.β_
    for value in (np.complex128(1 + 2j), 1 + 2j):  # JSON has no complex number: named, not a bare TypeError
        model.phase_ = value
        with pytest.raises(ValueError, match="cannot save the fitted attribute phase_"):
            model.save(tmp_path / "complex.pt")
    assert list(tmp_path.iterdir()) == []


def test_a_model_round_trips_through_a_file_object(enrc, data):
    buffer = io.BytesIO()
    enrc.save(buffer)
    buffer.seek(0)
    loaded = ENRC.load(buffer, device="cpu")
    np.testing.assert_array_equal(loaded.predict(data), enrc.predict(data))
