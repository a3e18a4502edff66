"""
The fit's network: built from the estimators' ``neural_network`` and ``neural_network_weights`` parameters,
checked against the data and, in a distributed fit, against the other ranks' networks; and the data as it takes
them.
"""

import copy
import inspect
import os
import warnings

import numpy as np
import torch

from clustpy_acedec._distributed import Collective, comparable
from clustpy_acedec._placement import DataPlacement, place
from clustpy_acedec.networks import default_layers
from clustpy_acedec._warning import warn_caller


def network_defaults(network_class: type, input_dim: int, embedding_size: int, seed) -> dict:
    """
    The constructor arguments a network built from a ``(class, params)`` tuple gets where ``params`` lacks them:
    clustpy's (a feedforward network's layers, the seed) and the estimator's embedding_size for a class that takes
    it instead of layers (SmallConvAutoencoder), each only where the class takes it.
    """
    defaults = {"layers": default_layers(input_dim, embedding_size), "random_state": seed,
                "embedding_size": embedding_size}
    return {name: value for name, value in defaults.items() if _takes(network_class, name)}


def _takes(network_class: type, name: str) -> bool:
    """
    Whether to pass ``network_class(...)`` the keyword argument ``name``: clustpy's defaults (layers,
    random_state) unless the signature shows that the class does not take them, embedding_size only to a class
    that names it (a ``**kwargs`` class may hand its arguments on to clustpy's feedforward network, which has none).
    """
    try:
        parameters = inspect.signature(network_class).parameters
    except (TypeError, ValueError):  # no signature to read
        return name != "embedding_size"
    return name in parameters or (name != "embedding_size" and any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()))


def build_autoencoder(input_dim: int, neural_network: "torch.nn.Module | tuple | None",
                      neural_network_weights: "str | os.PathLike | None", embedding_size: int, device: torch.device,
                      seed: int, warn: bool) -> torch.nn.Module:
    """
    The fit's autoencoder from the estimator's ``neural_network`` and ``neural_network_weights``, as clustpy's
    ``get_neural_network`` builds it (a given network as it is, or a new one of the given class, by default
    clustpy's feedforward [input_dim, 500, 500, 2000, embedding_size]), but with ``TypeError`` for what is not a
    network and warnings instead of clustpy's prints to stdout (a library is quiet; ``warn``: on the main rank
    only). The warnings name the caller of the estimator's ``fit``.
    """
    from clustpy.deep import get_neural_network
    from clustpy.deep.neural_networks import FeedforwardAutoencoder
    from clustpy.deep.neural_networks._abstract_neural_network import _AbstractNeuralNetwork
    network = neural_network
    if network is None or isinstance(network, tuple):
        if network is None:
            network_class, params = FeedforwardAutoencoder, {}
        elif len(network) != 2 or not isinstance(network[0], type) or not isinstance(network[1], dict):
            raise TypeError("neural_network given as a tuple must be (network class, dict of its parameters), got "
                            f"{comparable(network)}")
        else:
            network_class, params = network
        params = {**network_defaults(network_class, input_dim, embedding_size, seed), **params}
        if warn and embedding_size > input_dim:
            warn_caller(f"embedding_size ({embedding_size}) is larger than the number of features ({input_dim})")
        if warn and "layers" in params and params["layers"][-1] != embedding_size:
            warn_caller(f"the network's layers end in {params['layers'][-1]} dimensions, not embedding_size = "
                        f"{embedding_size}: the embedding has {params['layers'][-1]}")
        try:
            network = network_class(**params)
        except TypeError as error:  # clustpy's defaults (layers, random_state) are not this class's parameters
            raise TypeError(f"neural_network: {network_class.__name__} cannot be built with the parameters "
                            f"{sorted(params)}: {error}") from error
    if not isinstance(network, _AbstractNeuralNetwork) or not hasattr(network, "encode") \
            or not hasattr(network, "decode"):
        raise TypeError("neural_network must be a clustpy autoencoder (encode and decode, subclassing "
                        "clustpy.deep.neural_networks._abstract_neural_network._AbstractNeuralNetwork), a (class, "
                        f"parameters) tuple or None, got {type(network).__name__}")
    weights = neural_network_weights
    if weights is not None and not isinstance(weights, (str, os.PathLike)):
        raise TypeError(f"neural_network_weights must be the path of a saved state_dict or None, got {weights!r}")
    if network is neural_network and not network.work_on_copy:
        # fit never trains the object the user passed (the parameter stays as given, and a second fit with the
        # same seed repeats the first); get_neural_network copies it itself unless work_on_copy=False, which would
        # hand the object back to be trained in place
        network = copy.deepcopy(network)
    network = get_neural_network(input_dim, embedding_size, network, device=device,
                                 random_state=seed)
    if weights is not None:
        if not os.path.isfile(weights):
            raise ValueError(f"neural_network_weights {weights} is not a file")
        try:  # clustpy reads it with torch.load(weights_only=True): no code in the file runs
            with warnings.catch_warnings():  # torch's note on a foreign pickle protocol: the file is refused anyway
                warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)
                network.load_parameters(weights)
        except Exception as error:  # torch raises UnpicklingError, RuntimeError, KeyError, EOFError, ... here
            first_line = str(error).splitlines()[0] if str(error) else ""
            raise ValueError(f"neural_network_weights {weights} cannot be loaded into the {type(network).__name__}: "
                             f"{type(error).__name__}: {first_line}") from None
    return network


def check_embedding_size(autoencoder: torch.nn.Module, data: DataPlacement, min_embedding_size: int,
                         estimator_name: str) -> None:
    """
    The network's embedding must have a dimension per space: d is read from one point encoded in evaluation
    mode (no dropout draw, no batch-norm update), before anything is trained.

    Raises
    ------
    ValueError
        if the network cannot encode the data, or its embedding has fewer than ``min_embedding_size``
        dimensions
    """
    was_training = autoencoder.training
    autoencoder.eval()
    try:
        with torch.no_grad():
            embedding_size = int(autoencoder.encode(data.take(torch.zeros(1, dtype=torch.long))).flatten(1).shape[1])
    except (RuntimeError, ValueError) as error:  # torch's layers raise either (batch norm: ValueError)
        layout = (" (a network of n-d input, e.g. convolutional, takes images as torch lays them out: (n, C, H, W))"
                  if getattr(autoencoder, "allow_nd_input", False) else "")
        raise ValueError(f"the network cannot encode the data (samples shaped {tuple(data.shape[1:])}){layout}: "
                         f"{error}") from None
    finally:
        autoencoder.train(was_training)
    if embedding_size < min_embedding_size:
        raise ValueError(f"the network's embedding has {embedding_size} dimension(s); {estimator_name} needs at "
                         f"least {min_embedding_size} (one per space)")


def check_network_for_ranks(autoencoder: torch.nn.Module, collective: Collective) -> None:
    """
    The ranks of a distributed fit must start from the same kind of network: the same tensors (rank 0's values
    are then broadcast), fitted or not on every rank alike, and no batch normalisation, whose statistics would
    be those of each rank's part of a batch, not of the global batch (and which fails on a part of one sample).
    """
    batch_norms = [name for name, module in autoencoder.named_modules()
                   if isinstance(module, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.BatchNorm3d,
                                          torch.nn.SyncBatchNorm))]
    signature = (sorted((name, tuple(t.shape)) for name, t in autoencoder.state_dict().items()),
                 bool(getattr(autoencoder, "fitted", False)))
    signatures = collective.all_gather_object(signature)
    differing = [rank for rank, other in enumerate(signatures) if other != signatures[0]]
    if differing:
        raise ValueError(f"the ranks of a distributed fit must start from the same network (the same layers, fitted "
                         f"or not alike), but ranks {differing} differ from rank 0")
    if batch_norms:
        raise ValueError(f"a distributed fit cannot train batch normalisation ({', '.join(batch_norms[:3])}): its "
                         "statistics would be those of each rank's part of a batch; use a network without it (e.g. "
                         "FeedforwardAutoencoder(batch_norm=False)) or fit in one process")


def network_input(X_np: np.ndarray, autoencoder: torch.nn.Module, device: torch.device,
                  data_placement: str = "device") -> DataPlacement:
    """
    The data as the network takes it (flattened unless the network accepts n-d input), placed for ``device``
    by ``data_placement`` ("auto", "device" or "host", see :func:`clustpy_acedec._placement.place`).
    """
    if not getattr(autoencoder, "allow_nd_input", False):
        X_np = X_np.reshape(X_np.shape[0], -1)
    with warnings.catch_warnings():  # a read-only array (e.g. np.load(mmap_mode="r")) is fine: it is never written
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        X_host = torch.from_numpy(np.ascontiguousarray(X_np, dtype=np.float32))
    return place(X_host, device, data_placement)
