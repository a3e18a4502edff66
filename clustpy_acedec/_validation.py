"""Checks of user input, raising clear errors before anything is fitted."""

import numbers

import numpy as np
import torch


def check_data(X, min_samples: int = 2) -> np.ndarray:
    """
    Check a data set: array-like of real numbers, at least 2-D, at least ``min_samples`` samples, finite.

    Returns
    -------
    X : np.ndarray
        float32 copy or view of the data

    Raises
    ------
    TypeError
        if X is not numeric
    ValueError
        if X is 1-D, empty, holds a single sample, or contains NaN or inf
    """
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    try:
        X = np.asarray(X)
    except Exception as error:  # ragged nested lists and the like
        raise TypeError(f"X must be an array of numbers: {error}") from None
    if X.dtype == object or np.iscomplexobj(X) or not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise TypeError(f"X must hold real numbers, got dtype {X.dtype}")
    if X.ndim < 2:
        raise ValueError(f"X must have shape (n_samples, n_features) or (n_samples, *image_shape), got shape {X.shape}")
    if X.shape[0] < min_samples or X.shape[0] == 0 or X[0].size == 0:
        raise ValueError(f"X must contain at least {min_samples} samples with at least 1 feature, got shape {X.shape}")
    X = X.astype(np.float32, copy=False)
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or infinity")
    return X


def check_n_clusters(n_clusters, n_samples: int, name: str = "n_clusters", minimum: int = 2) -> int:
    """
    Check a number of clusters: an integer in [minimum, n_samples].
    """
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {n_clusters!r}")
    if n_clusters < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {n_clusters}")
    if n_clusters > n_samples:
        raise ValueError(f"{name}={n_clusters} is larger than the number of samples ({n_samples})")
    return int(n_clusters)


def check_positive_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_choice(value, name: str, choices: tuple) -> str:
    """
    Check a string option against its allowed values.

    Raises
    ------
    TypeError
        if value is not a string
    ValueError
        if value is not one of ``choices``
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {choices}, got {type(value).__name__} {value!r}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_bool(value, name: str) -> bool:
    """
    Check a flag: a Python or numpy bool.

    Raises
    ------
    TypeError
        if value is not a bool
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_no_custom_dataloaders(custom_dataloaders) -> None:
    """clustpy's ``custom_dataloaders`` (its augmentation mechanism) have no place in a device-resident fit."""
    if custom_dataloaders is not None:
        raise ValueError("custom_dataloaders are not supported: the data stay on the device and are augmented "
                         "there; pass X (images as (n, H, W[, C])) and augmentation_invariance=True")


def resolve_device(device) -> torch.device:
    """
    The device to fit on: None picks CUDA when available, else the CPU.

    Raises
    ------
    ValueError
        if a CUDA device is requested but CUDA is not available
    """
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if isinstance(device, numbers.Integral) and not isinstance(device, bool):
        device = "cpu" if device < 0 else f"cuda:{device}"
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device must be None, an int, a str or a torch.device, got {device!r}: {error}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device} was requested but CUDA is not available on this machine")
    return device


def seed_from(random_state) -> int:
    """An integer seed from None, an int or a np.random.RandomState (sklearn convention)."""
    from sklearn.utils import check_random_state
    return int(check_random_state(random_state).randint(0, 2**31 - 1))
