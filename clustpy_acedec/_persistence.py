"""
Saving and loading fitted estimators without pickled Python objects.

``torch.save`` of a whole estimator pickles it: ``torch.load(weights_only=False)`` of such a file runs whatever
code the file names (a model file from someone else is a program), and any change of a class breaks every saved
model. This module writes one file that holds only what ``torch.load(..., weights_only=True)`` accepts: a dict
of strings, ints, lists and tensors. Everything that is not a tensor is described by JSON metadata inside it;
classes are recorded by name and resolved against allowlists of classes this package and its dependencies
define (never by importing a module path from the file), and the network is rebuilt from its class and
constructor arguments and then given the saved weights.

File layout (format "clustpy-acedec-model", version :data:`FORMAT_VERSION`)::

    {"format": "clustpy-acedec-model",
     "format_version": [major, minor],
     "estimator_class": "ACeDeC" | "ENRC",
     "metadata": "<JSON text, see below>",
     "tensors": {name: torch.Tensor}}

metadata::

    package_version, torch_version   (optional) versions that wrote the file, for information only
    params        {name: value}      the estimator's get_params(deep=False), encoded values (see _Encoder)
    fitted        {name: value}      every public attribute ending in "_" (labels_, V_, base_, model_, ...)
    networks      [network]          every torch network referenced by the above (the model's autoencoder first):
                                     qualname, module, builtin (bool), kwargs (encoded constructor arguments or
                                     null), fitted (optional), training_modules (optional), state (tensor prefix)
    model         {network, parametrization, normalization, objectives: [...], training_modules (optional)}

A file is untrusted input: besides the allowlists, loading checks sizes, nesting and consistency before it
builds anything from them (:func:`load_estimator`).

Versioning: a reader of major version M reads every file of major M. A file of an older minor version lacks
some optional fields and gets their defaults; a newer minor version only adds optional fields, which are
ignored. A file of a newer major version is refused with a ValueError.
"""

import copy
import dataclasses
import enum
import functools
import inspect
import json
import os
import pickle
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from clustpy_acedec._centers import MiniBatchCenters
from clustpy_acedec._model import SubspaceClusteringModel
from clustpy_acedec._objectives import HardCentroidObjective, SharedMeanObjective, StudentTObjective
from clustpy_acedec._random_state import preserved_global_random_state
from clustpy_acedec._subspace import SubspaceLayer
from clustpy_acedec._version import __version__
from clustpy_acedec.bases import registered_bases, registered_objective
from clustpy_acedec.devices import resolve_device
from clustpy_acedec.losses import CLUSTER_SIZE, POINTS
from clustpy_acedec._network import network_defaults
from clustpy_acedec.networks import SmallConvAutoencoder
from clustpy_acedec.pretraining import StackedDenoisingPretraining
from clustpy_acedec._warning import warn_caller

#: The marker of files written by :func:`save_estimator`.
FORMAT_NAME = "clustpy-acedec-model"

#: (major, minor) of the layout written here. Bump the minor version for added optional fields, the major
#: version for anything an older reader would misread. 1.1 added a hard-centroid objective's ``batch_size`` (a file
#: of 1.0 gets None: every batch counts towards re-initialisation); 1.2 the estimators' ``init_screen_iterations``
#: and the initial phase records' ``screening_loss`` and ``kept`` (see :data:`_PARAMETERS_ADDED`); 1.3 the fitted
#: ``feature_names_in_`` of a fit on a data frame (a list of str; an older reader loads it as that list).
FORMAT_VERSION = (1, 3)

#: Estimator parameters added in a minor version, with the value that describes what the fits saved in earlier
#: versions did (rather than the constructor's default): {name: (minor version that added it, value before)}.
_PARAMETERS_ADDED = {"init_screen_iterations": (2, 0)}

#: numpy dtypes that travel as tensors of the same dtype (torch has no tensor of object or string dtype).
_NUMPY_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "float16", "float32", "float64",
                 "complex64", "complex128")


class _Unrepresentable(Exception):
    """A value that cannot be stored without pickling, or a stored name that does not resolve here."""

    def __init__(self, description: str):
        super().__init__(description)
        self.description = description


# ------------------------------------------------------------------------------------------------- allowlists

def _canonical_name(obj) -> str:
    """``module.qualname`` of a class or function: the name under which it is recorded."""
    return f"{obj.__module__}.{obj.__qualname__}"


def _builtin_networks() -> dict:
    """The network classes rebuilt without help, by canonical name, with their constructor-argument recovery."""
    from clustpy.deep.neural_networks import ConvolutionalAutoencoder, FeedforwardAutoencoder
    return {_canonical_name(FeedforwardAutoencoder): (FeedforwardAutoencoder, _feedforward_kwargs),
            _canonical_name(ConvolutionalAutoencoder): (ConvolutionalAutoencoder, _convolutional_kwargs),
            _canonical_name(SmallConvAutoencoder): (SmallConvAutoencoder, _small_conv_kwargs)}


def _allowed_references(estimator_class: type) -> dict:
    """
    Classes and functions a file may name as parameter values: torch's optimisers, activations and losses, the
    built-in networks, and every class or function that is a default value of a constructor of the estimator
    class being loaded, the supported bases or the pretraining schedule (e.g. sklearn's KMeans, clustpy's
    mean_squared_error).
    """

    candidates = []
    for module in (torch.optim, torch.nn):
        for name in dir(module):
            obj = getattr(module, name)
            if isinstance(obj, type) and (issubclass(obj, torch.optim.Optimizer) or
                                          (issubclass(obj, torch.nn.Module) and obj.__module__ in (
                                              "torch.nn.modules.activation", "torch.nn.modules.loss"))):
                candidates.append(obj)
    candidates += [cls for cls, _ in _builtin_networks().values()]
    candidates.append(torch.nn.Identity)  # no activation: a linear network (it lives in torch.nn.modules.linear)
    for owner in (estimator_class, *registered_bases()):
        candidates += [p.default for p in inspect.signature(owner.__init__).parameters.values()]
    candidates += [f.default for f in dataclasses.fields(StackedDenoisingPretraining)]
    return {_canonical_name(obj): obj for obj in candidates
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and obj is not inspect.Parameter.empty}


def _references_outside(encoded, allowed: dict) -> list:
    """The names of the classes and functions an encoded value refers to that are not in ``allowed``."""
    found, stack = [], [encoded]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if value.get("$") == "ref" and value.get("name") not in allowed:
                found.append(value["name"])
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return sorted(set(found))


def _allowed_estimators() -> dict:
    """Estimator classes a file may name (ACeDeC's bases): those registered with register_base in this process."""
    return {_canonical_name(cls): cls for cls in registered_bases()}


def _is_base(estimator: object) -> bool:
    """Whether ``estimator`` is an ACeDeC base: its class or a parent of it is registered with register_base."""
    try:
        registered_objective(estimator)
    except TypeError:
        return False
    return True


def _package_record_class(module: str, qualname: str) -> type | None:
    """
    A plain record class of this package named by a file: a dataclass or an enum defined in an already imported
    ``clustpy_acedec`` module (e.g. the pretraining schedule, the fit history). Nothing is imported, and only
    record types qualify: their construction assigns fields and runs no other code of the file's choosing.
    """
    import sys
    if not (module == "clustpy_acedec" or module.startswith("clustpy_acedec.")) or module not in sys.modules:
        return None
    obj = sys.modules[module]
    for part in qualname.split("."):
        if not part.isidentifier():
            return None
        obj = getattr(obj, part, None)
    if isinstance(obj, type) and (dataclasses.is_dataclass(obj) or issubclass(obj, enum.Enum)) \
            and obj.__module__ == module:
        return obj
    return None


# ------------------------------------------------------------------------------------------------- networks

def _feedforward_kwargs(network) -> dict:
    """FeedforwardAutoencoder keeps its arguments on its two FullyConnectedBlocks."""
    encoder, decoder = network.encoder, network.decoder
    return dict(layers=list(encoder.layers), batch_norm=encoder.batch_norm, dropout=encoder.dropout,
                activation_fn=encoder.activation_fn, bias=encoder.bias, decoder_layers=list(decoder.layers),
                decoder_output_fn=decoder.output_fn, work_on_copy=network.work_on_copy)


def _convolutional_kwargs(network) -> dict:
    """
    ConvolutionalAutoencoder does not keep the names of its ResNets; a bottleneck block is what tells ResNet-50
    from ResNet-18. Pretrained torchvision weights are never requested again (they would be downloaded): the
    saved state replaces them anyway.
    """
    from clustpy.deep.neural_networks._resnet_ae_modules import DecoderBottleneck, EncoderBottleneck

    def resnet(module, bottleneck):
        return "resnet50" if any(isinstance(m, bottleneck) for m in module.modules()) else "resnet18"

    fc_encoder, fc_decoder = network.fc_encoder, network.fc_decoder
    return dict(input_height=network.input_height, fc_layers=list(fc_encoder.layers),
                conv_encoder_name=resnet(network.conv_encoder, EncoderBottleneck),
                conv_decoder_name=resnet(network.conv_decoder, DecoderBottleneck),
                activation_fn=fc_encoder.activation_fn, fc_decoder_layers=list(fc_decoder.layers),
                decoder_output_fn=fc_decoder.output_fn, work_on_copy=network.work_on_copy,
                batch_norm=fc_encoder.batch_norm, dropout=fc_encoder.dropout, bias=fc_encoder.bias)


def _small_conv_kwargs(network) -> dict:
    return dict(image_shape=tuple(network.image_shape), embedding_size=network.encoder[-1].out_features,
                channels=tuple(network.encoder[i][0].out_channels for i in range(3)),
                work_on_copy=network.work_on_copy)


def _tuple_kwargs(network, estimator) -> dict | None:
    """
    Constructor arguments of a network of a custom class that the estimator built from a ``(class, params)``
    tuple (clustpy's convention), completed as ``clustpy.deep.get_neural_network`` completes them.
    """
    params = estimator.get_params(deep=False)
    base = params.get("base")
    if base is not None and hasattr(base, "get_params"):
        params = base.get_params(deep=False)
    spec = params.get("neural_network")
    if not (isinstance(spec, tuple) and len(spec) == 2 and spec[0] is type(network) and isinstance(spec[1], dict)):
        return None
    defaults = network_defaults(type(network), int(estimator.n_features_in_), int(estimator.V_.shape[0]), None)
    return {**defaults, **spec[1]}


def _state_signature(module: torch.nn.Module) -> dict:
    return {name: tuple(t.shape) for name, t in module.state_dict().items()}


def _construct(cls: type, kwargs: dict) -> torch.nn.Module:
    """Build a network without touching the global random generators (clustpy's constructors reseed them: saving
    must not change a later draw), and not while a fit in another thread seeds them."""
    with preserved_global_random_state():
        return cls(**kwargs)


def _construct_for(cls: type, kwargs: dict, state: dict, qualname: str, user_class: bool = False) -> torch.nn.Module:
    """
    Build the network a file describes, but first on the meta device (no memory): constructor arguments that do
    not give the saved weights' shapes are refused before anything is allocated (a damaged or hand-made file
    could otherwise ask for any amount of memory). A class the user passed (``user_class``) that cannot be built
    on the meta device (its ``__init__`` reads its own weights) is built directly, as at saving.
    """
    try:
        with torch.device("meta"):
            skeleton = _construct(cls, kwargs)
    except Exception as error:  # e.g. arguments the class does not take
        if user_class:
            return _construct(cls, kwargs)
        raise ValueError(f"the recorded constructor arguments do not build {_with_article(qualname)}: "
                         f"{type(error).__name__}: {error}") from None
    if _state_signature(skeleton) != {name: tuple(tensor.shape) for name, tensor in state.items()}:
        raise ValueError(f"the recorded constructor arguments of its {qualname} do not give the shapes of its saved "
                         "weights")
    return _construct(cls, kwargs)


def _verified_kwargs(network, kwargs: dict | None) -> dict | None:
    """``kwargs`` if they rebuild ``network``'s architecture (same state names and shapes), otherwise None."""
    if kwargs is None:
        return None
    # The constructor may be a user's class, which can raise anything for arguments it does not take; then the
    # file records no arguments and ``load`` asks for ``network=`` (its error says so), as for an instance.
    try:
        with torch.device("meta"):  # no memory, no initialisation: only the shapes are compared
            rebuilt = _construct(type(network), kwargs)
    except Exception:  # some constructors cannot run on the meta device (e.g. they read their weights)
        try:
            rebuilt = _construct(type(network), kwargs)
        except Exception:
            return None
    return kwargs if _state_signature(rebuilt) == _state_signature(network) else None


def _stored(tensor: torch.Tensor) -> torch.Tensor:
    """A tensor as the file holds it: on the CPU, every element stored (no expanded view, which the loader
    refuses as larger than its bytes)."""
    return tensor.detach().cpu().contiguous()


def _non_finite(named_tensors) -> str | None:
    """The name of the first floating-point tensor among ``(name, tensor)`` pairs that holds NaN or infinity."""
    return next((name for name, tensor in named_tensors
                 if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())), None)


def _check_finite(model) -> None:
    """Refuse a model whose trained values are NaN or infinite (the loader refuses such a file): V, β, the
    centres and the network's parameters (its buffers may hold infinities on purpose, e.g. a clamp bound)."""
    network_buffers = {id(buffer) for buffer in model.autoencoder.buffers()}
    non_finite = _non_finite([*model.named_parameters(), *((name, buffer) for name, buffer in model.named_buffers()
                                                          if id(buffer) not in network_buffers)])
    if non_finite is not None:
        raise ValueError(f"cannot save the model: its {non_finite} holds NaN or infinite values")


def _training_modules(module: torch.nn.Module) -> list:
    """Names of the submodules in training mode (eval/train is not part of the state dict)."""
    return [name for name, m in module.named_modules() if m.training]


def _set_training_modules(module: torch.nn.Module, names: list) -> None:
    names = set(names)
    for name, m in module.named_modules():
        m.training = name in names


# ------------------------------------------------------------------------------------------------- encoding

class _Encoder:
    """
    Turns values into JSON with tensors set aside. Plain JSON values stand for themselves; everything else is
    an object with a "$" tag: tuple, dict, ndarray, tensor, scalar, device, random_state, ref (class or
    function by name), object / enum (a dataclass or enum of this package, e.g. the
    pretraining schedule, the fit history), estimator (by class name and get_params), network
    (index into the network table), model, unrepresentable.
    """

    def __init__(self, estimator):
        self.estimator = estimator
        self.tensors = {}
        self.networks = []
        self._network_index = {}
        self._n_values = 0
        self.unresolvable = set()  # built-in networks' arguments that loading cannot rebuild (outside the allowlist,
        # or not recordable at all, e.g. a functools.partial)

    @functools.cached_property
    def _allowed(self) -> dict:
        """What loading this estimator's class resolves by name (computed once per save: it inspects torch)."""
        return _allowed_references(type(self.estimator))

    def _tensor(self, tensor: torch.Tensor) -> str:
        name = f"values/{self._n_values}"
        self._n_values += 1
        self.tensors[name] = _stored(tensor)
        return name

    def network(self, network: torch.nn.Module) -> int:
        """Index of ``network`` in the table; each network (by identity) is stored once."""
        if id(network) in self._network_index:
            return self._network_index[id(network)]
        index = len(self.networks)
        self._network_index[id(network)] = index
        builtin = _builtin_networks().get(_canonical_name(type(network)))
        kwargs = builtin[1](network) if builtin is not None and type(network) is builtin[0] else \
            _tuple_kwargs(network, self.estimator)
        kwargs = _verified_kwargs(network, kwargs)
        encoded_kwargs = None
        if kwargs is not None:
            tensors, n_values = dict(self.tensors), self._n_values
            try:
                encoded_kwargs = self.encode(kwargs, strict=True)
            except _Unrepresentable as error:  # not recorded: neither are the tensors of its arguments
                encoded_kwargs = None
                self.tensors, self._n_values = tensors, n_values
                if builtin is not None:
                    self.unresolvable.add(error.description)
        if builtin is not None:  # what loading cannot name makes it need network=: said once, at the save
            self.unresolvable.update(_references_outside(encoded_kwargs, self._allowed))
        prefix = f"networks/{index}/"
        for name, tensor in network.state_dict().items():
            self.tensors[prefix + name] = _stored(tensor)
        self.networks.append(dict(qualname=type(network).__qualname__, module=type(network).__module__,
                                  builtin=builtin is not None and encoded_kwargs is not None, kwargs=encoded_kwargs,
                                  fitted=bool(getattr(network, "fitted", False)),
                                  training_modules=_training_modules(network), state=prefix))
        return index

    def encode(self, value, strict: bool = False):
        """
        The JSON form of ``value``. A value that cannot be represented becomes an "unrepresentable" entry, or
        raises :class:`_Unrepresentable` with ``strict`` (and for class references outside the allowlist).
        """
        from sklearn.base import BaseEstimator

        if isinstance(value, enum.Enum):  # first: an enum may also be a str or an int
            record_class = type(value)
            if _package_record_class(record_class.__module__, record_class.__qualname__) is not record_class:
                return self._unrepresentable(value, strict)
            return {"$": "enum", "module": record_class.__module__, "qualname": record_class.__qualname__,
                    "value": self.encode(value.value, strict)}
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, np.generic) and value.dtype.name in _NUMPY_DTYPES and value.dtype.kind != "c":
            return {"$": "scalar", "dtype": value.dtype.name, "value": value.item()}  # (JSON has no complex number)
        if isinstance(value, list):
            return [self.encode(v, strict) for v in value]
        if isinstance(value, tuple):
            return {"$": "tuple", "items": [self.encode(v, strict) for v in value]}
        if isinstance(value, dict):
            return {"$": "dict", "items": [[self.encode(k, strict), self.encode(v, strict)] for k, v in value.items()]}
        if isinstance(value, np.ndarray) and value.dtype.name in _NUMPY_DTYPES:
            tensor = torch.from_numpy(np.ascontiguousarray(value))
            return {"$": "ndarray", "dtype": value.dtype.name, "shape": list(value.shape), "tensor": self._tensor(tensor)}
        if isinstance(value, torch.Tensor):
            return {"$": "tensor", "tensor": self._tensor(value)}
        if isinstance(value, torch.device):
            return {"$": "device", "value": str(value)}
        if isinstance(value, np.random.RandomState):
            # The generator's state at saving time (after the fit drew from it), exactly.
            kind, keys, pos, has_gauss, cached = value.get_state()
            return {"$": "random_state", "kind": kind, "keys": self._tensor(torch.from_numpy(keys.astype(np.int64))),
                    "pos": int(pos), "has_gauss": int(has_gauss), "cached_gaussian": float(cached)}
        if inspect.isclass(value) or inspect.isfunction(value):
            # Recorded by name; whether the name resolves is decided on loading, against the allowlist.
            return {"$": "ref", "name": _canonical_name(value), "qualname": value.__qualname__}
        if isinstance(value, SubspaceClusteringModel) and value is getattr(self.estimator, "model_", None):
            return {"$": "model"}
        if isinstance(value, torch.nn.Module) and hasattr(value, "encode") and hasattr(value, "decode"):
            return {"$": "network", "index": self.network(value)}
        record_class = type(value)
        if _package_record_class(record_class.__module__, record_class.__qualname__) is record_class:
            fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
            return {"$": "object", "module": record_class.__module__, "qualname": record_class.__qualname__,
                    "fields": self.encode(fields, strict)}
        if isinstance(value, BaseEstimator) and _is_base(value):
            # recorded by its own class, also a subclass of a registered one (fit matches those): loading
            # resolves the name against the classes registered in the loading process
            return {"$": "estimator", "class": _canonical_name(type(value)),
                    "params": {k: self.encode(v) for k, v in value.get_params(deep=False).items()}}
        return self._unrepresentable(value, strict)

    @staticmethod
    def _unrepresentable(value, strict: bool) -> dict:
        description = _with_article(f"{type(value).__module__}.{type(value).__qualname__}")
        if strict:
            raise _Unrepresentable(description)
        return {"$": "unrepresentable", "type": description}


class _Decoder:
    """The inverse of :class:`_Encoder`; names resolve against the allowlists only."""

    def __init__(self, metadata: dict, tensors: dict, network_option, estimator_class: type,
                 file_minor: int = FORMAT_VERSION[1]):
        self.metadata = metadata
        self.file_minor = file_minor  # the file's minor format version
        self.tensors = tensors
        self.network_option = network_option
        self.references = _allowed_references(estimator_class)
        if isinstance(network_option, type):
            # The user's own network class resolves where the file names it (e.g. a (class, params) tuple).
            self.custom_class = network_option
        else:
            self.custom_class = None
        self.notes = []
        self._networks = {}
        self.model = None

    def tensor(self, name: str) -> torch.Tensor:
        if not isinstance(name, str) or name not in self.tensors:
            raise ValueError(f"the file lacks the tensor {name!r}")
        return self.tensors[name]

    def decode(self, value):
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, list):
            return [self.decode(v) for v in value]
        if not isinstance(value, dict) or "$" not in value:
            raise ValueError(f"unexpected value {value!r} in the metadata")
        tag = value["$"]
        if tag == "tuple":
            return tuple(self.decode(v) for v in value["items"])
        if tag == "dict":
            return {self.decode(k): self.decode(v) for k, v in value["items"]}
        if tag == "scalar":
            return np.dtype(_checked_dtype(value["dtype"])).type(value["value"])
        if tag == "ndarray":
            array = self.tensor(value["tensor"]).numpy().astype(_checked_dtype(value["dtype"]), copy=True)
            return array.reshape(value["shape"])
        if tag == "tensor":
            return self.tensor(value["tensor"]).clone()
        if tag == "device":
            return torch.device(value["value"])
        if tag == "random_state":
            state = np.random.RandomState()
            keys = self.tensor(value["keys"]).numpy().astype(np.uint32)
            state.set_state((value["kind"], keys, value["pos"], value["has_gauss"], value["cached_gaussian"]))
            return state
        if tag == "ref":
            if value["name"] in self.references:
                return self.references[value["name"]]
            if self.custom_class is not None and self.custom_class.__qualname__ == value.get("qualname"):
                return self.custom_class
            raise _Unrepresentable(f"{value['name']}, not a class or function this version can rebuild")
        if tag in ("object", "enum"):
            cls = _package_record_class(value["module"], value["qualname"])
            if cls is None:
                raise _Unrepresentable(f"{_with_article(value['module'] + '.' + value['qualname'])}, not a record class "
                                       "this version knows")
            if tag == "enum":
                return cls(self.decode(value["value"]))
            fields = self.decode(value["fields"])
            known = {f.name: f for f in dataclasses.fields(cls)}
            unknown = [k for k in fields if k not in known]
            if unknown and self.file_minor > FORMAT_VERSION[1]:  # optional fields of a newer minor version
                self.notes.append(f"the record {value['qualname']} has no fields {unknown[:5]} in this version; "
                                  f"they were dropped")
                fields = {k: v for k, v in fields.items() if k in known}
            elif unknown:  # only the record's own fields: a file must not set other attributes (or its class)
                raise ValueError(f"the record {value['qualname']} has no fields {unknown[:5]}")
            init = {name for name, f in known.items() if f.init}
            record = cls(**{k: v for k, v in fields.items() if k in init})
            for k, v in fields.items():  # fields outside __init__ are set afterwards
                if k not in init:
                    setattr(record, k, v)
            return record
        if tag == "estimator":
            cls = _allowed_estimators().get(value["class"])
            if cls is None:
                raise _Unrepresentable(f"{_with_article(value['class'])}, not a registered base: register its class "
                                       "with clustpy_acedec.register_base before loading")
            return self.estimator(cls, value["params"])
        if tag == "network":
            try:
                return self.network(value["index"])
            except ValueError as error:
                raise _Unrepresentable(str(error)) from None
        if tag == "model":
            if self.model is None:
                raise ValueError("the model is referenced before it is built")
            return self.model
        if tag == "unrepresentable":
            raise _Unrepresentable(value["type"])
        raise ValueError(f"unknown value tag {tag!r} in the metadata")

    def estimator(self, cls: type, params: dict):
        """``cls(**params)``; parameters that cannot be rebuilt keep the constructor's default (noted)."""
        accepted = inspect.signature(cls.__init__).parameters
        kwargs = {}
        for name, encoded in params.items():
            if name not in accepted:
                self.notes.append(f"{cls.__name__} has no parameter {name!r} in this version; it was dropped")
                continue
            try:
                kwargs[name] = self.decode(encoded)
            except _Unrepresentable as error:
                self.notes.append(f"{cls.__name__}.{name} ({error.description}) was not stored; it has its default")
        for name, (added_in, before) in _PARAMETERS_ADDED.items():
            if name in accepted and name not in params and self.file_minor < added_in:
                kwargs[name] = before  # what the fit of an older version did, not today's default
        return cls(**kwargs)

    def network(self, index: int) -> torch.nn.Module:
        """The network of the table entry ``index``, built once, with its saved weights."""
        if index in self._networks:
            return self._networks[index]
        spec = self.metadata["networks"][index]
        qualname = spec["qualname"]
        builtin = _builtin_networks().get(f"{spec['module']}.{qualname}") if spec.get("builtin") else None
        kwargs, unresolved = None, None
        if spec.get("kwargs") is not None:
            try:
                kwargs = self.decode(spec["kwargs"])
            except _Unrepresentable as error:  # e.g. a custom activation class: only network= can rebuild it
                kwargs, unresolved = None, error.description
        prefix = spec["state"]
        state = {name[len(prefix):]: tensor for name, tensor in self.tensors.items() if name.startswith(prefix)}
        if builtin is not None and kwargs is not None:
            network = _construct_for(builtin[0], kwargs, state, qualname)
        else:
            network = self._custom_network(spec, kwargs, state, unresolved)
        parameters = {name for name, _ in network.named_parameters()}  # buffers may hold infinities on purpose
        non_finite = _non_finite((name, tensor) for name, tensor in state.items() if name in parameters)
        if non_finite is not None:
            raise ValueError(f"the saved weight {non_finite} of the {qualname} holds NaN or infinite values")
        try:
            network.load_state_dict(state, strict=True)
        except RuntimeError as error:
            raise ValueError(f"the network does not fit the saved weights of the {qualname}: {error}") from None
        network.fitted = bool(spec.get("fitted", True))
        _set_training_modules(network, spec.get("training_modules", []))  # default: eval mode, as after a fit
        self._networks[index] = network
        return network

    def _custom_network(self, spec: dict, kwargs: dict | None, state: dict,
                        unresolved: str | None = None) -> torch.nn.Module:
        qualname = f"{spec['module']}.{spec['qualname']}"
        option = self.network_option
        if option is None:
            if unresolved is not None:  # a built-in class, built with an argument this version cannot name
                raise ValueError(f"the saved network is {_with_article(qualname)} built with {unresolved}; pass "
                                 "network= to load: a factory that returns an untrained instance built that way, or "
                                 "an instance")
            if qualname in _builtin_networks():  # a built-in class whose arguments could not be recorded
                raise ValueError(f"the saved network is {_with_article(qualname)} whose constructor arguments could "
                                 "not be recorded (e.g. an activation given as a functools.partial); pass network= "
                                 "to load: a factory that returns an untrained instance built that way, or an "
                                 "instance")
            raise ValueError(f"the saved network is {_with_article(qualname)}, which is not a network clustpy-acedec "
                             "rebuilds by "
                             "itself (FeedforwardAutoencoder, ConvolutionalAutoencoder, SmallConvAutoencoder); pass "
                             "network= to load: the class, a factory that returns an untrained instance, or an "
                             "instance")
        if isinstance(option, torch.nn.Module):
            network = copy.deepcopy(option)
        elif isinstance(option, type):
            if kwargs is None:
                raise ValueError(f"the file records no constructor arguments of its {qualname} (it was passed as an "
                                 "instance); pass a factory instead, e.g. network=lambda: "
                                 f"{spec['qualname']}(...)")
            try:
                network = _construct_for(option, kwargs, state, qualname, user_class=True)
            except ValueError:
                raise
            except Exception as error:  # the user's class failed: not the file's fault
                raise ValueError(f"network={option.__name__} failed to build with the recorded arguments: "
                                 f"{type(error).__name__}: {error}") from None
        else:
            try:
                with preserved_global_random_state():
                    network = option()
            except Exception as error:  # the user's factory failed: not the file's fault
                raise ValueError(f"network= (the factory) failed: {type(error).__name__}: {error}") from None
        if not isinstance(network, torch.nn.Module):
            raise ValueError(f"network= returned {_with_article(type(network).__name__)}, not a torch.nn.Module")
        if type(network).__qualname__ != spec["qualname"]:
            raise ValueError(f"network= gave {_with_article(type(network).__qualname__)}, but the file holds the "
                             f"weights of {_with_article(qualname)}")
        if self.custom_class is None:  # the user's class, from the user's own object: it resolves where the file
            self.custom_class = type(network)  # names it (e.g. the neural_network=(class, params) parameter)
        return network


def _checked_dtype(name: str) -> str:
    if name not in _NUMPY_DTYPES:
        raise ValueError(f"unsupported dtype {name!r} in the metadata")
    return name


# ------------------------------------------------------------------------------------------------- the model

def _model_spec(model, encoder: _Encoder) -> dict:
    """Constructor arguments of the model's parts; their tensors go into the state dict."""

    if type(model) is not SubspaceClusteringModel or type(model.layer) is not SubspaceLayer:
        raise ValueError(f"cannot save a model of type {type(model).__name__} with "
                         f"{_with_article(type(model.layer).__name__)}: "
                         "only clustpy-acedec's SubspaceClusteringModel and SubspaceLayer are supported")
    objectives = []
    for objective in model.objectives:
        kind = type(objective)
        if kind is HardCentroidObjective and type(objective.centers) is MiniBatchCenters:
            centers = objective.centers
            objectives.append(dict(type="hard_centroid", spaces=list(centers.spaces), n_clusters=list(centers.n_clusters),
                                   discount=float(centers.discount), lloyd_steps=int(centers.lloyd_steps),
                                   batch_size=centers.batch_size))
        elif kind is StudentTObjective:
            objectives.append(dict(type="student_t", space=int(objective.spaces[0]), alpha=float(objective.alpha)))
        elif kind is SharedMeanObjective:
            objectives.append(dict(type="shared_mean", space=int(objective.spaces[0]), scale=float(objective.scale)))
        else:
            # A registered custom objective holds state and behaviour this module cannot describe.
            raise ValueError(f"cannot save a model with the objective {kind.__module__}.{kind.__qualname__}: only "
                             "HardCentroidObjective, StudentTObjective and SharedMeanObjective can be saved")
    network_index = encoder.network(model.autoencoder)
    for name, tensor in model.state_dict().items():
        if not name.startswith("autoencoder."):
            encoder.tensors["model/" + name] = _stored(tensor)
    return dict(network=network_index, parametrization=model.layer.parametrization,
                normalization=model.normalization, objectives=objectives,
                training_modules=_training_modules(model))


def _check_objective_specs(entries: list, n_spaces: int) -> None:
    """The objectives' description is refused before anything is built from it: spaces of the model's β, one or
    more clusters per clustering (a long or inconsistent list would otherwise cost time before failing)."""
    def is_count(value, minimum: int) -> bool:
        return type(value) is int and minimum <= value

    if not isinstance(entries, list) or not 0 < len(entries) <= n_spaces:
        raise ValueError(f"the model describes {len(entries) if isinstance(entries, list) else 'no'} objectives for "
                         f"{n_spaces} spaces")
    for entry in entries:
        if entry.get("type") == "hard_centroid":
            spaces, n_clusters = entry.get("spaces"), entry.get("n_clusters")
            if not (isinstance(spaces, list) and isinstance(n_clusters, list) and 0 < len(spaces) == len(n_clusters)
                    <= n_spaces and all(is_count(s, 0) and s < n_spaces for s in spaces)
                    and all(is_count(k, 1) for k in n_clusters)):
                raise ValueError("a hard-centroid objective's spaces and numbers of clusters do not fit the model's "
                                 f"{n_spaces} spaces")
            batch_size = entry.get("batch_size")
            if batch_size is not None and not (is_count(batch_size, 1) and batch_size < 2 ** 62):
                raise ValueError(f"a hard-centroid objective's batch_size {batch_size!r} is not a positive count")
        elif not (is_count(entry.get("space"), 0) and entry["space"] < n_spaces):
            raise ValueError(f"an objective's space {entry.get('space')!r} is not one of the model's {n_spaces}")


def _build_model(spec: dict, decoder: _Decoder):

    state = {name[len("model/"):]: t for name, t in decoder.tensors.items() if name.startswith("model/")}
    non_finite = _non_finite(state.items())
    if non_finite is not None:
        raise ValueError(f"the model's {non_finite} holds NaN or infinite values")
    autoencoder = decoder.network(spec["network"])
    V, beta_logits = decoder.tensor("model/layer.V"), decoder.tensor("model/layer.beta_logits")
    if V.dtype != torch.float32 or beta_logits.dtype != torch.float32:  # the estimators keep them in float32
        raise ValueError(f"the model's V and β logits must be float32, got {V.dtype} and {beta_logits.dtype}")
    layer = SubspaceLayer(V, beta_logits, parametrization=spec["parametrization"])
    if spec["normalization"] not in (POINTS, CLUSTER_SIZE):
        raise ValueError(f"unknown loss normalisation {spec['normalization']!r}")
    _check_objective_specs(spec["objectives"], layer.n_spaces)
    objectives = []
    for i, entry in enumerate(spec["objectives"]):
        prefix = f"model/objectives.{i}."
        if entry["type"] == "hard_centroid":
            stacked, initial = decoder.tensor(prefix + "centers.centers"), decoder.tensor(prefix + "centers.initial_counts")
            starts = np.cumsum([0] + entry["n_clusters"][:-1]).tolist()
            centers = list(stacked.split(entry["n_clusters"]))
            objectives.append(HardCentroidObjective(MiniBatchCenters(
                centers, entry["spaces"], [float(initial[s]) for s in starts], discount=entry.get("discount", 0.5),
                lloyd_steps=entry.get("lloyd_steps", 10), batch_size=entry.get("batch_size"))))
        elif entry["type"] == "student_t":
            objectives.append(StudentTObjective(decoder.tensor(prefix + "centers"), space=entry["space"],
                                                alpha=entry.get("alpha", 1.0)))
        elif entry["type"] == "shared_mean":
            objectives.append(SharedMeanObjective(decoder.tensor(prefix + "mean"), space=entry["space"],
                                                  scale=entry.get("scale", 1.0)))
        else:
            raise ValueError(f"unknown objective type {entry['type']!r}")
    model = SubspaceClusteringModel(autoencoder, layer, objectives, spec["normalization"])
    full_state = dict(state, **{f"autoencoder.{k}": v for k, v in autoencoder.state_dict().items()})
    try:
        model.load_state_dict(full_state, strict=True)
    except RuntimeError as error:
        raise ValueError(f"the saved model state does not fit its description: {error}") from None
    # Default for files without the field: eval mode everywhere, as the estimators leave the model after fit.
    _set_training_modules(model, spec.get("training_modules", []))
    return model


# ------------------------------------------------------------------------------------------------- public seams

def save_estimator(estimator, path: "str | os.PathLike") -> None:
    """
    Save a fitted ACeDeC or ENRC as parameters and tensors only (no pickled Python objects).

    Parameters that cannot be written without pickling are recorded by type and get their default on loading
    (with a warning): e.g. a lambda, an object of an unknown class. Classes are recorded by name (a class
    outside :func:`load_estimator`'s allowlist also loads as the default). A network instance passed as a
    parameter is stored with its weights; a ``np.random.RandomState`` with its state at saving time.

    Parameters
    ----------
    estimator : ACeDeC | ENRC
        the fitted estimator
    path : str | os.PathLike
        target file; written to a temporary file first and renamed, so a failed save leaves no partial file

    Raises
    ------
    sklearn.exceptions.NotFittedError
        if the estimator is not fitted
    TypeError
        if ``path`` is neither a path nor a file object
    FileNotFoundError
        if the folder of ``path`` does not exist
    IsADirectoryError
        if ``path`` is a folder
    OSError
        if the file cannot be written (e.g. no permission), naming ``path``
    ValueError
        if the model holds a part that cannot be described (a custom objective registered with a callable), or
        a fitted attribute of a type that cannot be stored
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator, "model_")
    encoder = _Encoder(estimator)
    model_spec = _model_spec(estimator.model_, encoder)  # first: the model's network gets index 0
    _check_finite(estimator.model_)
    fitted = {}
    for name, value in vars(estimator).items():
        if name.endswith("_") and not name.startswith("_"):
            if not _is_fitted_attribute_name(type(estimator), name):  # what the loader would refuse
                raise ValueError(f"cannot save the fitted attribute {name}: a fitted attribute's name is letters, "
                                 "digits and underscores (ASCII), ending in '_'")
            if name == "feature_names_in_":  # an object array of str: stored as a JSON list
                value = [str(feature) for feature in value]
            try:
                fitted[name] = encoder.encode(value, strict=True)
            except _Unrepresentable as error:
                raise ValueError(f"cannot save the fitted attribute {name} ({error.description})") from None
    params = {name: encoder.encode(value) for name, value in estimator.get_params(deep=False).items()}
    if encoder.unresolvable:  # saved all the same (the weights are what matters); say now what loading will need
        warn_caller(f"the network is built with {', '.join(sorted(encoder.unresolvable))}, which loading does not "
                    "resolve by itself: load this file with network= (a factory that builds the network that way, "
                    "or an instance)")
    metadata = dict(package_version=__version__, torch_version=torch.__version__, params=params, fitted=fitted,
                    networks=encoder.networks, model=model_spec)
    content = {"format": FORMAT_NAME, "format_version": list(FORMAT_VERSION),
               "estimator_class": type(estimator).__name__, "metadata": json.dumps(metadata),
               "tensors": encoder.tensors}
    if not isinstance(path, (str, os.PathLike)):
        if not callable(getattr(path, "write", None)):
            raise TypeError(f"path must be a str, an os.PathLike or a binary file object, got {type(path).__name__}")
        torch.save(content, path)  # a file object: the caller owns it
        return
    _write_atomically(content, Path(path).expanduser())


def _write_atomically(content: dict, path: Path) -> None:
    """
    ``torch.save`` to a new file beside ``path``, then renamed over it: a failed save leaves no partial file. The
    file gets the permissions a plain ``open`` would give it (those of the file it replaces, or the umask's);
    a symbolic link is followed, so that its target is replaced, not the link. Errors name ``path``.
    """
    try:
        path = path.resolve() if path.is_symlink() else path
    except (OSError, RuntimeError) as error:  # e.g. a loop of links
        raise OSError(f"cannot save to {path}: {error}") from None
    if path.is_dir():
        raise IsADirectoryError(f"cannot save to {path}: it is a folder")
    if not path.parent.is_dir():  # say so for the target, not for the temporary file beside it
        raise FileNotFoundError(f"cannot save to {path}: the folder {path.parent} does not exist")
    mode = path.stat().st_mode & 0o777 if path.exists() else None
    temporary = None
    try:
        for _ in range(100):  # a fresh name: O_EXCL never opens someone else's file
            candidate = path.parent / f".{path.name}.{os.urandom(6).hex()}.tmp"
            try:
                handle = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
            except FileExistsError:
                continue
            temporary = candidate
            break
        else:
            raise FileExistsError(f"cannot save to {path}: no free temporary name beside it")
        with os.fdopen(handle, "wb") as file:  # written through the handle: its mode may not allow reopening
            torch.save(content, file)
        if mode is not None:
            os.chmod(temporary, mode)  # after writing: the replaced file may have been read-only
        os.replace(temporary, path)
    except BaseException as error:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        if isinstance(error, RuntimeError):  # torch reports a failed write (e.g. a full disk) as RuntimeError
            raise OSError(f"cannot save to {path}: {error}") from None
        if isinstance(error, OSError) and error.errno is not None and str(path) not in str(error):
            raise type(error)(error.errno, f"cannot save to {path}: {error.strerror or error}") from None
        raise


def load_estimator(cls: type, path: "str | os.PathLike", device=None,
                   network: "type | Callable | torch.nn.Module | None" = None):
    """
    Load an estimator saved with :func:`save_estimator`, reading the file with ``torch.load(weights_only=True)``:
    no code named by the file runs.

    Parameters
    ----------
    cls : type
        the estimator class the file must hold (ACeDeC or ENRC)
    path : str | os.PathLike
        the file
    device : torch.device | str | int | None
        where to put the model; None: CUDA when available, else the CPU
        (:func:`clustpy_acedec.devices.resolve_device`)
    network : type | Callable | torch.nn.Module | None
        how to rebuild a network whose class is not one of those clustpy-acedec rebuilds by itself (clustpy's
        FeedforwardAutoencoder and ConvolutionalAutoencoder, clustpy_acedec.networks.SmallConvAutoencoder);
        ignored for those. Either the class (called with the constructor arguments the file records; they are
        recorded when the network was given to the estimator as clustpy's ``(class, params)`` tuple), or a
        factory called without arguments, or an instance (copied). The result must be of the class the file
        names; it gets the saved weights. (default: None)

    Returns
    -------
    estimator
        the fitted estimator; its predictions equal those of the saved one

    Raises
    ------
    ValueError
        if the file is not a clustpy-acedec model file, is truncated or damaged, carries pickled Python objects,
        has a newer major format version, holds another estimator class, or its network needs ``network=``;
        and, before any harm, for what a hand-made file could use against the loading process: metadata nested
        deeper than :data:`MAX_METADATA_NESTING`, compressed entries, tensors larger than their stored bytes or
        not used by the description, non-finite model values, objectives or fitted attributes that do not fit
        the model, names among the fitted attributes that are not fitted attributes
    OSError
        if the file cannot be read (missing, a folder, no permission), unchanged

    Warns
    -----
    UserWarning
        when parameters could not be stored or rebuilt and have their defaults
    """

    if network is not None and not (isinstance(network, torch.nn.Module) or callable(network)):
        raise TypeError(f"network must be a class, a callable or a torch.nn.Module, got {type(network).__name__}")
    target = resolve_device(device)
    if isinstance(path, (str, os.PathLike)):
        path = Path(path).expanduser()  # as save does
    content = _read(path)
    recorded_class = content.get("estimator_class")
    if recorded_class != cls.__name__:
        raise ValueError(f"{path} holds a fitted {recorded_class}, not {_with_article(cls.__name__)}: use "
                         f"{recorded_class}.load")
    try:
        metadata = json.loads(content["metadata"])
        unused = sorted(set(content["tensors"]) - _described_tensors(metadata, content["tensors"]))
        if unused:
            raise ValueError(f"{path} is damaged: it holds tensors its description does not use: {unused[:5]}")
        decoder = _Decoder(metadata, content["tensors"], network, cls, file_minor=content["format_version"][1])
        decoder.model = _build_model(metadata["model"], decoder)
        estimator = decoder.estimator(cls, metadata["params"])
        for name, encoded in metadata["fitted"].items():
            if not _is_fitted_attribute_name(cls, name):  # a file sets fitted attributes, not methods or the class
                raise ValueError(f"{path} is damaged: {name!r} is not the name of a fitted attribute")
            try:
                value = decoder.decode(encoded)
                if name == "feature_names_in_":
                    value = _feature_names(value)
                setattr(estimator, name, value)
            except _Unrepresentable as error:
                raise ValueError(f"cannot rebuild the fitted attribute {name}: {error.description}") from None
        _check_consistency(estimator, decoder.model)
        estimator.model_ = decoder.model.to(target)
    except ValueError as error:
        raise ValueError(f"{path}: {error}" if str(path) not in str(error) else str(error)) from None
    except (KeyError, IndexError, TypeError, AttributeError, OverflowError, RuntimeError, NotImplementedError,
            json.JSONDecodeError) as error:  # whatever a hand-made or damaged description makes the rebuild raise
        raise ValueError(f"{path} is damaged: its description is incomplete or malformed "
                         f"({type(error).__name__}: {error})") from None
    estimator.neural_network_trained_ = estimator.model_.autoencoder
    if decoder.notes:
        warn_caller(f"{path}: " + "; ".join(dict.fromkeys(decoder.notes)))
    return estimator


def _described_tensors(metadata: dict, tensors: dict) -> set:
    """
    The tensors the metadata names, whether or not loading uses them (e.g. those of a parameter this version
    drops): a tensor name among its strings, the state of a network of its table, or the model's.
    """
    strings, stack = set(), [metadata]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            strings.add(value)
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
    prefixes = tuple(["model/"] + [spec["state"] for spec in metadata.get("networks", [])
                                   if isinstance(spec, dict) and isinstance(spec.get("state"), str) and spec["state"]])
    return {name for name in tensors if name in strings or name.startswith(prefixes)}


def _feature_names(value) -> np.ndarray:
    """A file's list of feature names as scikit-learn's object array of str."""
    if not (isinstance(value, list) and all(isinstance(name, str) for name in value)):
        raise ValueError("its feature_names_in_ is not a list of strings")
    return np.asarray(value, dtype=object)


def _is_fitted_attribute_name(cls: type, name) -> bool:
    """A public name ending in "_" (scikit-learn's convention) that is not an attribute of the class itself."""
    return (isinstance(name, str) and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*_", name) is not None
            and not hasattr(cls, name))


def _check_consistency(estimator, model) -> None:
    """
    The fitted attributes that repeat the model must agree with it, and the network must take the fitted input
    and give the rotation's embedding (a hand-made file could pair any of them).
    """
    V = model.layer.V.detach()
    if getattr(estimator, "V_", None) is not None and tuple(np.shape(estimator.V_)) != tuple(V.shape):
        raise ValueError(f"its V_ of shape {tuple(np.shape(estimator.V_))} does not fit the model's V {tuple(V.shape)}")
    betas = model.layer.betas().detach()
    if getattr(estimator, "betas_", None) is not None and tuple(np.shape(estimator.betas_)) != tuple(betas.shape):
        raise ValueError(f"its betas_ of shape {tuple(np.shape(estimator.betas_))} do not fit the model's β "
                         f"{tuple(betas.shape)}")
    input_shape = getattr(estimator, "input_shape_", None)
    if input_shape is None:
        return
    if not (isinstance(input_shape, tuple) and all(type(n) is int and n > 0 for n in input_shape)
            and int(np.prod(input_shape)) == getattr(estimator, "n_features_in_", int(np.prod(input_shape)))):
        raise ValueError(f"its input_shape_ {input_shape!r} and n_features_in_ do not agree")
    autoencoder = model.autoencoder
    # one sample as the fit gave it to the network: flattened unless the network takes n-d input
    sample_shape = input_shape if getattr(autoencoder, "allow_nd_input", False) else (int(np.prod(input_shape)),)
    # The probe leaves no trace: a network's encode may draw random numbers or update its buffers.
    training = _training_modules(autoencoder)
    buffers = {name: buffer.clone() for name, buffer in autoencoder.named_buffers()}
    autoencoder.eval()  # one sample: batch normalisation in training mode would refuse it
    try:
        with torch.no_grad(), preserved_global_random_state():
            embedding = autoencoder.encode(torch.zeros(1, *sample_shape, dtype=V.dtype))
    except Exception as error:
        raise ValueError(f"its network does not take samples of the fitted shape {input_shape}: "
                         f"{type(error).__name__}: {error}") from None
    finally:
        _set_training_modules(autoencoder, training)
        with torch.no_grad():
            for name, buffer in autoencoder.named_buffers():
                if name in buffers:
                    buffer.copy_(buffers[name])
    if tuple(embedding.shape) != (1, V.shape[0]):
        raise ValueError(f"its network embeds into {tuple(embedding.shape[1:])}, but V is {tuple(V.shape)}")


def _read(path) -> dict:
    """
    The file's top-level dict, read with weights_only=True; every way a file can be wrong is a ValueError (an
    OSError of reading it, e.g. a missing file or a folder, passes unchanged).
    """
    _check_archive(path)
    try:
        with warnings.catch_warnings():  # torch's note on a foreign pickle protocol: such a file is refused below
            warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)
            content = torch.load(path, map_location="cpu", weights_only=True)
    except OSError:
        raise
    except pickle.UnpicklingError as error:
        message = str(error)
        if "Weights only load failed" in message:
            # Name what the file tried to load (torch's line with the GLOBAL), never torch's advice to load it
            # with weights_only=False: that would run it.
            culprit = next((line.strip() for line in message.splitlines()
                            if "global" in line.lower() and "weights_only" not in line), "")
            culprit = culprit.split(" Please use")[0]
            raise ValueError(f"{path} carries pickled Python objects, not only tensors and plain values; refused "
                             f"without running them (files of the earlier pickle-based format of clustpy-acedec "
                             f"cannot be read safely: refit and save again). {culprit}".rstrip()) from None
        raise ValueError(f"{path} is truncated or damaged: {message}") from None
    except Exception as error:
        raise ValueError(f"{path} is truncated, damaged or not a file written by torch.save "
                         f"({type(error).__name__}: {error})") from None
    if not isinstance(content, dict) or content.get("format") != FORMAT_NAME:
        raise ValueError(f"{path} is not a clustpy-acedec model file (no {FORMAT_NAME!r} marker)")
    version = content.get("format_version")
    if not (isinstance(version, (list, tuple)) and len(version) == 2
            and all(type(v) is int and v >= 0 for v in version)):
        raise ValueError(f"{path} is damaged: format_version {version!r} is not [major, minor]")
    major, minor = version
    if major > FORMAT_VERSION[0]:
        raise ValueError(f"{path} has format version {major}.{minor}, newer than this clustpy-acedec reads "
                         f"({FORMAT_VERSION[0]}.x): upgrade clustpy-acedec to load it")
    if major < FORMAT_VERSION[0]:
        raise ValueError(f"{path} has format version {major}.{minor}, which this clustpy-acedec no longer reads "
                         f"({FORMAT_VERSION[0]}.x)")
    if not isinstance(content.get("estimator_class"), str):
        raise ValueError(f"{path} is damaged: it does not name its estimator class")
    if not isinstance(content.get("metadata"), str) or not isinstance(content.get("tensors"), dict):
        raise ValueError(f"{path} is damaged: it lacks its metadata or tensors")
    for name, tensor in content["tensors"].items():
        problem = _tensor_problem(tensor) if isinstance(name, str) else "a name that is not a string"
        if problem:
            raise ValueError(f"{path} is damaged: its tensor {name!r} is {problem}")
    _check_nesting(content["metadata"], path)
    return content


def _check_archive(path) -> None:
    """
    Refuse a file whose zip entries are compressed before torch reads it: torch.save stores them as they are, and
    a compressed entry can expand to any size in memory (a file of kilobytes asking for gigabytes).
    """
    import zipfile
    if isinstance(path, (str, os.PathLike)):
        if not os.path.isfile(path):
            return  # torch.load raises the OSError
        source, start = path, None
    elif callable(getattr(path, "seekable", None)) and path.seekable():
        source, start = path, path.tell()  # a file object: read from where torch.load will, then back there
    else:
        return
    try:
        if not zipfile.is_zipfile(source):
            return  # not a zip archive: torch.load refuses what it cannot read
        with zipfile.ZipFile(source) as archive:
            compressed = [info.filename for info in archive.infolist() if info.compress_type != zipfile.ZIP_STORED]
    except (zipfile.BadZipFile, ValueError) as error:  # an OSError of reading passes, as in _read
        raise ValueError(f"{path} is truncated, damaged or not a file written by torch.save "
                         f"({type(error).__name__}: {error})") from None
    finally:
        if start is not None:
            path.seek(start)
    if compressed:
        raise ValueError(f"{path} is not a file written by torch.save: its entries {compressed[:3]} are compressed")


def _tensor_problem(tensor) -> str | None:
    """
    Why a stored tensor cannot be part of a model file, or None. Each tensor must be a dense tensor of the CPU
    whose elements are all in the file: an expanded tensor (stride 0) of a few stored bytes would be copied to
    its full size on loading.
    """
    if not isinstance(tensor, torch.Tensor):
        return f"{_with_article(type(tensor).__name__)}, not a tensor"
    if tensor.layout != torch.strided or tensor.device.type != "cpu":
        return f"a {tensor.layout} tensor on {tensor.device}, not a dense tensor of the CPU"
    if tensor.numel() * tensor.element_size() > tensor.untyped_storage().nbytes():
        return (f"of shape {tuple(tensor.shape)}, larger than the {tensor.untyped_storage().nbytes()} bytes the file "
                "holds for it")
    return None


#: Deepest nesting of lists and objects a model file's metadata may have (the estimators write about 12 levels):
#: deeper text is refused before it is parsed, since parsing it recursively could exhaust the stack (clustpy
#: raises Python's recursion limit, so the interpreter would crash instead of raising).
MAX_METADATA_NESTING = 100


def _check_nesting(text: str, path) -> None:
    """
    Refuse metadata nested deeper than :data:`MAX_METADATA_NESTING`, in one pass over its brackets, quotes and
    backslashes (brackets inside strings do not count).
    """
    depth, in_string, skip = 0, False, -1
    for match in re.finditer(r'[\[\]{}"\\]', text):
        position, char = match.start(), match.group()
        if position == skip:  # the character after a backslash inside a string
            continue
        if in_string:
            if char == "\\":
                skip = position + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_METADATA_NESTING:
                raise ValueError(f"{path} is damaged: its metadata is nested deeper than {MAX_METADATA_NESTING} "
                                 "levels")
        elif char in "]}":
            depth -= 1


# ------------------------------------------------------------------------------------------------- messages

def _with_article(name: str) -> str:
    """
    ``name`` after "a" or "an" as it is read: by its first letter's sound, an acronym letter by letter.

    Examples
    --------
    >>> for name in ("ACeDeC", "ENRC", "DCN", "MLP", "int", "numpy.ndarray", "UserWarning", "Unrepresentable"):
    ...     print(_with_article(name))
    an ACeDeC
    an ENRC
    a DCN
    an MLP
    an int
    a numpy.ndarray
    a UserWarning
    an Unrepresentable
    """
    head = name[:3]
    if len(head) >= 2 and head[:2].isupper() and head[:2].isalpha():  # an acronym: "an MLP", "a DCN", "an ENRC"
        vowel_sound = head[0] in "AEFHILMNORSX"
    elif head[:1].lower() == "u":  # "a UserWarning" (you-), "an Unrepresentable" (un-)
        vowel_sound = not (len(head) == 3 and head[1].lower() not in "aeiou" and head[2].lower() in "aeiou")
    else:
        vowel_sound = head[:1].lower() in ("a", "e", "i", "o")
    return f"{'an' if vowel_sound else 'a'} {name}"
