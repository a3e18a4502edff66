"""Checks of user input, raising clear errors before anything is fitted."""

import numbers

import numpy as np
import torch

from clustpy_acedec._warning import warn_caller


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
    import scipy.sparse
    if scipy.sparse.issparse(X):
        raise TypeError("sparse input is not supported: the network needs dense data, pass X.toarray()")
    if isinstance(X, torch.Tensor):
        X = _tensor_as_numpy(X)
    try:
        X = np.asarray(X)
    except Exception as error:  # ragged nested lists and the like
        raise TypeError(f"X must be an array of numbers: {error}") from None
    if X.dtype == object:  # e.g. a pandas frame of object columns that hold numbers
        X = _object_array_as_float(X)
    if np.iscomplexobj(X) or not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise TypeError(f"X must hold real numbers, got dtype {X.dtype}")
    if X.ndim < 2:
        raise ValueError(f"X must have shape (n_samples, n_features) or (n_samples, *image_shape), got shape {X.shape}")
    if X.shape[0] < min_samples or X.shape[0] == 0:
        raise ValueError(f"X must contain at least {min_samples} samples, got n_samples={X.shape[0]} "
                         f"(shape={X.shape})")
    if X[0].size == 0:
        raise ValueError(f"X must contain at least 1 feature, got 0 feature(s) (shape={X.shape}) while a minimum "
                         "of 1 is required.")
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or infinity")
    with np.errstate(over="ignore"):  # the overflow is reported below, as an error
        X32 = X.astype(np.float32, copy=False)
    if X32 is not X and not np.isfinite(X32).all():
        raise ValueError(f"X holds values beyond float32's range (±{np.finfo(np.float32).max:.1e}), which the fit "
                         "computes in: scale the data (e.g. z-score it)")
    return X32


def feature_names(X) -> "np.ndarray | None":
    """
    The column names of a data frame (pandas, polars: anything with ``columns``), as scikit-learn's
    ``feature_names_in_`` holds them: an object array of str, or None for data without names or with
    non-string names (e.g. pandas' default integer columns).

    Raises
    ------
    TypeError
        for columns named partly by strings and partly otherwise (scikit-learn refuses them too)
    """
    columns = getattr(X, "columns", None)
    if columns is None:
        return None
    names = list(columns)
    strings = [isinstance(name, str) for name in names]
    if not any(strings):
        return None
    if not all(strings):
        kinds = sorted({type(name).__name__ for name in names})
        raise TypeError(f"X's column names must all be strings or all be non-strings, got {kinds}: convert them "
                        "with X.columns = X.columns.astype(str)")
    return np.asarray(names, dtype=object)


def check_feature_names(fitted_names: "np.ndarray | None", X, estimator_name: str) -> None:
    """
    The column names of X (:func:`feature_names`) are those the estimator was fitted with, in the same order: a
    frame with its columns reordered, renamed or replaced would otherwise be read by position, silently wrong.
    A frame against a fit without names, or an array against a fit with names, only warns (as scikit-learn).

    Raises
    ------
    ValueError
        if both have names and they differ
    """
    names = feature_names(X)
    if fitted_names is None:
        if names is not None:
            warn_caller(f"X has feature names, but {estimator_name} was fitted without feature names")
        return
    if names is None:
        warn_caller(f"X does not have valid feature names, but {estimator_name} was fitted with feature names")
        return
    if list(names) == list(fitted_names):
        return
    fitted_set, given_set = set(fitted_names), set(names)
    unseen = [name for name in names if name not in fitted_set]
    missing = [name for name in fitted_names if name not in given_set]
    details = "; ".join(([f"unseen at fit time: {unseen[:5]}"] if unseen else []) +
                        ([f"seen at fit time, missing now: {missing[:5]}"] if missing else []))
    # scikit-learn's wording first, so that code (and its estimator checks) that match it match ours
    raise ValueError(f"The feature names should match those that were passed during fit. {estimator_name} was "
                     "fitted with other names, or in another order (the columns are read by position): "
                     + (details or "the same names in another order"))


def _tensor_as_numpy(X: torch.Tensor) -> np.ndarray:
    """A tensor's values as a NumPy array; floating-point types NumPy lacks (bfloat16, the float8 types) as float32,
    which holds each of their values exactly."""
    X = X.detach().cpu()
    try:
        return X.numpy()
    except TypeError:
        if X.is_floating_point():
            return X.float().numpy()
        raise TypeError(f"X must hold real numbers, got a tensor of dtype {X.dtype}") from None


def _object_array_as_float(X: np.ndarray) -> np.ndarray:
    """An object array of numbers as float64; pandas' missing value (pd.NA, in its nullable columns) becomes NaN,
    which the caller's NaN check names. NumPy's conversion first: an element-wise walk in Python only where it
    fails or yields NaN, to tell None (no number) and pd.NA apart from NaN."""
    try:
        converted = X.astype(np.float64)
    except (TypeError, ValueError):
        converted = None
    if converted is not None and not np.isnan(converted).any():
        return converted
    missing = np.fromiter((_is_missing_number(value) for value in X.flat), dtype=bool, count=X.size)
    X = np.where(missing.reshape(X.shape), np.nan, X)
    try:
        return X.astype(np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"X must hold real numbers, got dtype object ({error})") from None


def _is_missing_number(value) -> bool:
    """Whether an element of an object array is pandas' missing value (pd.NA, in its nullable columns): a
    missing number, which the NaN check names. None is no number: TypeError."""
    if value is None:  # identity: elements may be arrays, whose == is elementwise
        raise TypeError("X must hold real numbers, got None in an object array")
    return type(value).__name__ == "NAType"


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
    """An integer (not a bool) of at least ``minimum``: TypeError for another type, ValueError below it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_image_shape(image_shape, sample_shape: tuple) -> tuple | None:
    """
    None, or (H, W) / (H, W, C) of positive integers whose product is the number of features per sample; for
    samples that are images already (``sample_shape`` (H, W), (H, W, C), or (C, H, W) of a convolutional
    network), their own shape.

    Raises
    ------
    TypeError
        if it is not a tuple or list of integers
    ValueError
        if its length or product does not fit, or it contradicts the images' shape
    """
    if image_shape is None:
        return None
    if not isinstance(image_shape, (tuple, list)) or not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in image_shape):
        raise TypeError(f"image_shape must be a tuple (H, W) or (H, W, C) of integers, got {image_shape!r}")
    image_shape = tuple(int(v) for v in image_shape)
    n_features = int(np.prod(sample_shape))
    if len(image_shape) not in (2, 3) or min(image_shape) < 1 or int(np.prod(image_shape)) != n_features:
        raise ValueError(f"image_shape must be (H, W) or (H, W, C) with H * W * C = {n_features} (the features per "
                         f"sample), got {image_shape}")
    sample_shape = tuple(sample_shape)
    channels_first = [(*sample_shape[1:], sample_shape[0])] if len(sample_shape) == 3 else []
    readings = [grey_image_shape(shape) for shape in [sample_shape, *channels_first]]
    if len(sample_shape) > 1 and grey_image_shape(image_shape) not in readings:
        raise ValueError(f"image_shape {image_shape} contradicts the shape of the images in X, {sample_shape}: "
                         "leave it out for images, or pass flattened rows")
    return image_shape


def grey_image_shape(shape: tuple) -> tuple:
    """An image shape without a channel axis of size 1: (H, W, 1) and (H, W) describe the same grey images."""
    return shape[:2] if len(shape) == 3 and shape[2] == 1 else shape


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


# ------------------------------------------------------------------------------ declared parameter constraints
# Each estimator declares its parameters once, as a table name -> constraint (as scikit-learn's
# ``_parameter_constraints``); :func:`check_parameters` checks a whole table at ``fit``. A wrong type is a
# TypeError, a value outside the allowed range a ValueError; both name the parameter.

class Constraint:
    """A rule one parameter value must satisfy; ``check`` returns the value or raises."""

    def check(self, value, name: str):
        raise NotImplementedError


class Integer(Constraint):
    """An integer (not a bool) of at least ``minimum``."""

    def __init__(self, minimum: int = 1):
        self.minimum = minimum

    def check(self, value, name: str) -> int:
        return check_positive_int(value, name, minimum=self.minimum)


class Real(Constraint):
    """A real number in an interval; ``closed`` says which ends belong to it ("left", "right", "both", "neither")."""

    def __init__(self, low: float, high: float, closed: str = "neither"):
        self.low, self.high, self.closed = low, high, closed

    def check(self, value, name: str) -> float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a real number, got {value!r}")
        above = value >= self.low if self.closed in ("left", "both") else value > self.low
        below = value <= self.high if self.closed in ("right", "both") else value < self.high
        if not (above and below):
            left = "[" if self.closed in ("left", "both") else "("
            right = "]" if self.closed in ("right", "both") else ")"
            raise ValueError(f"{name} must lie in {left}{self.low}, {self.high}{right}, got {value}")
        return float(value)


class Choice(Constraint):
    """One of a fixed set of strings."""

    def __init__(self, choices: tuple):
        self.choices = tuple(choices)

    def check(self, value, name: str) -> str:
        return check_choice(value, name, self.choices)


class Flag(Constraint):
    """True or False."""

    def check(self, value, name: str) -> bool:
        return check_bool(value, name)


class OptimizerParams(Constraint):
    """A dict of keyword arguments for a torch optimiser (or None for the default)."""

    def check(self, value, name: str):
        if value is not None and not isinstance(value, dict):
            raise TypeError(f"{name} must be a dict of optimiser arguments such as {{'lr': 1e-3}}, got {value!r}")
        return value


def check_optimizer_arguments(optimizer_class: type, arguments: dict, name: str) -> None:
    """
    ``optimizer_class(parameters, **arguments)`` can be built: torch checks the arguments when the optimiser is
    built, but not in the per-group dicts the fit builds (a negative or text ``lr``, an unknown key there would
    only fail, or silently train wrongly, after pretraining). Builds one on a throwaway tensor.

    Raises
    ------
    TypeError
        for an argument the optimiser does not take, or of the wrong type
    ValueError
        for a value the optimiser refuses (e.g. a negative learning rate)
    """
    try:  # a matrix: some optimisers (Muon) take only 2-D parameters
        optimizer_class([torch.zeros(1, 1, requires_grad=True)], **arguments)
    except TypeError as error:
        raise TypeError(f"{optimizer_class.__name__} cannot be built with {name} {arguments!r}: {error}") from error
    except (ValueError, RuntimeError) as error:
        raise ValueError(f"{optimizer_class.__name__} cannot be built with {name} {arguments!r}: {error}") from error


class OptimizerClass(Constraint):
    """A subclass of ``torch.optim.Optimizer``."""

    def check(self, value, name: str):
        if not (isinstance(value, type) and issubclass(value, torch.optim.Optimizer)):
            raise TypeError(f"{name} must be a torch.optim.Optimizer class such as torch.optim.Adam, got {value!r}")
        return value


class OrNone(Constraint):
    """None, or a value that satisfies ``constraint``."""

    def __init__(self, constraint: Constraint):
        self.constraint = constraint

    def check(self, value, name: str):
        return None if value is None else self.constraint.check(value, name)


class Augmentation(Constraint):
    """None, or a callable ``augment(x, generator) -> x_aug`` (an image augmentation of a batch)."""

    def check(self, value, name: str):
        if isinstance(value, type):
            raise TypeError(f"{name} must be an augmentation, not the class {value.__name__}: pass an instance, "
                            f"e.g. RandomRotationShift(image_shape)")
        if value is not None and not callable(value):
            raise TypeError(f"{name} must be None or a callable augment(x, generator) -> x_aug, such as "
                            f"clustpy_acedec.preprocessing.RandomRotationShift(...), got {value!r}")
        return value


def check_augmentation_needs_invariance(augmentation, augmentation_invariance: bool) -> None:
    """A given ``augmentation`` is used only with ``augmentation_invariance=True``: refuse it otherwise."""
    if augmentation is not None and not augmentation_invariance:
        raise ValueError("augmentation is used only with augmentation_invariance=True (set on the base for "
                         "ACeDeC, on the estimator for ENRC); set it, or leave augmentation=None")


class Unchecked(Constraint):
    """Checked where it is used (a device, a network, a random state, a schedule)."""

    def check(self, value, name: str):
        return value


def check_declared_parameters(estimator, constraints: dict) -> dict:
    """
    :func:`check_parameters` on an estimator's parameters that ``constraints`` declares, as scikit-learn
    validates: a subclass may add parameters of its own, which are its business (the tests check that every
    parameter of the package's estimators is declared).
    """
    return check_parameters({name: getattr(estimator, name) for name in constraints}, constraints)


def check_parameters(values: dict, constraints: dict) -> dict:
    """
    Check parameter values against a declared constraints table.

    Parameters
    ----------
    values : dict
        parameter name -> value, e.g. ``estimator.get_params(deep=False)``
    constraints : dict
        parameter name -> :class:`Constraint`; every name of ``values`` must be declared

    Returns
    -------
    checked : dict
        the checked values (integers as int, reals as float)

    Raises
    ------
    TypeError, ValueError
        naming the first parameter that breaks its constraint
    """
    undeclared = sorted(set(values) - set(constraints))
    if undeclared:
        raise RuntimeError(f"parameters without a declared constraint: {undeclared}")  # a bug of ours
    return {name: constraints[name].check(value, name) for name, value in values.items()}
