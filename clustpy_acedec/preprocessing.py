"""
Preprocessing of image data for the estimators: the channel-wise z-transformation of ENRC §3.1, which puts
every colour channel on the same scale before a (convolutional) autoencoder is pretrained on the images, and
the random rotations and shifts of ACe/DeC §2.2 (for pretraining a network yourself with
:func:`clustpy_acedec.pretraining.pretrain`).
"""

import numpy as np

from clustpy_acedec._augmentation import RandomRotationShift

__all__ = ["RandomRotationShift", "channel_means", "channel_zscore", "rotation_shift_augmentation"]


def channel_means(images: np.ndarray, channels_last: bool = True) -> tuple:
    """
    Mean of every colour channel over the data set: the value :func:`channel_zscore` maps to 0, and what the
    estimators' augmentation fills into view (``RandomRotationShift(fill=channel_means(images))``).

    Parameters
    ----------
    images : np.ndarray
        (n, H, W) grey or (n, H, W, C) / (n, C, H, W) colour images, n >= 1
    channels_last : bool
        whether the channel axis is the last one (default: True)

    Returns
    -------
    means : tuple
        one float per channel (one for grey images), computed in float64

    Raises
    ------
    ValueError
        for input that is not a batch of images (3 or 4 dimensions, at least one image), or holds NaN or infinite
        values
    TypeError
        for images that do not hold real numbers, or ``channels_last`` that is not a bool
    """
    return _means_of(_image_batch(images), _channels_last(channels_last))


def channel_zscore(images: np.ndarray, channels_last: bool = True) -> np.ndarray:
    """
    Channel-wise z-transformation (ENRC §3.1): every colour channel to mean 0 and variance 1 over the data set.

    Parameters
    ----------
    images : np.ndarray
        (n, H, W) grey or (n, H, W, C) / (n, C, H, W) colour images
    channels_last : bool
        whether the channel axis is the last one (default: True)

    Returns
    -------
    images : np.ndarray
        float32, same shape

    Raises
    ------
    ValueError
        for input that is not a batch of images (3 or 4 dimensions, at least one image), or holds NaN or infinite
        values
    TypeError
        for images that do not hold real numbers, or ``channels_last`` that is not a bool
    """
    images, channels_last = _image_batch(images).astype(np.float32), _channels_last(channels_last)
    if images.ndim == 3:
        return (images - images.mean()) / max(float(images.std()), 1e-8)
    axes = (0, 1, 2) if channels_last else (0, 2, 3)
    mean = images.mean(axis=axes, keepdims=True)
    std = np.maximum(images.std(axis=axes, keepdims=True), 1e-8)
    return (images - mean) / std


def rotation_shift_augmentation(images: np.ndarray, channels_last: bool = True) -> RandomRotationShift:
    """
    The estimators' augmentation (ACe/DeC §2.2) for these images: random rotations and shifts that fill what they
    move into view with the images' mean per channel (:func:`channel_means`), as a fit with
    ``augmentation_invariance=True`` builds it. Pass it to :func:`clustpy_acedec.pretraining.pretrain` to pretrain
    a network yourself as the fit would.

    Parameters
    ----------
    images : np.ndarray
        (n, H, W) grey or (n, H, W, C) / (n, C, H, W) colour images
    channels_last : bool
        whether the channel axis is the last one; False for the (N, C, H, W) batches of convolutional networks
        (default: True)

    Returns
    -------
    RandomRotationShift
        for batches shaped as ``images`` (or flattened in that order)

    Raises
    ------
    ValueError
        for input that is not a batch of images (3 or 4 dimensions, at least one image), or holds NaN or infinite
        values
    TypeError
        for images that do not hold real numbers, or ``channels_last`` that is not a bool
    """
    images, channels_last = _image_batch(images), _channels_last(channels_last)
    channels_first = images.ndim == 4 and not channels_last
    image_shape = (*images.shape[2:], images.shape[1]) if channels_first else images.shape[1:]
    return RandomRotationShift(image_shape, channels_first=channels_first,
                               fill=_means_of(images, channels_last=not channels_first))


def _means_of(images: np.ndarray, channels_last: bool) -> tuple:
    """:func:`channel_means` of a batch :func:`_image_batch` has checked already."""
    if images.ndim == 3:
        return (float(images.mean(dtype=np.float64)),)
    axes = (0, 1, 2) if channels_last else (0, 2, 3)
    return tuple(float(v) for v in images.mean(axis=axes, dtype=np.float64))


def _image_batch(images) -> np.ndarray:
    """``images`` as an array of (n, H, W) or (n, H, W, C) / (n, C, H, W) real numbers, n >= 1."""
    images = np.asarray(images)
    if images.ndim not in (3, 4) or len(images) == 0:
        raise ValueError(f"images must be a non-empty batch shaped (n, H, W), (n, H, W, C) or (n, C, H, W), "
                         f"got shape {images.shape}")
    if not (np.issubdtype(images.dtype, np.number) or images.dtype == bool) \
            or np.issubdtype(images.dtype, np.complexfloating):
        raise TypeError(f"images must hold real numbers, got dtype {images.dtype}")
    if not np.isfinite(images).all():
        raise ValueError("images contain NaN or infinite values")
    return images


def _channels_last(value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"channels_last must be True or False, got {value!r}")
    return bool(value)
