"""
Image augmentation on the device: random rotations and shifts (ACe/DeC §2.2, "+ Aug" of Table 1).
"""

import math
import numbers
from collections.abc import Callable

import numpy as np
import torch


def checked_augmentation(augmentation: Callable) -> Callable:
    """
    ``augmentation`` (a user's ``f(x, generator) -> x_aug``) with its output checked on every call: a tensor of
    the batch's shape, dtype and device, so that a wrong one fails naming the augmentation, not later in the
    network (or, for a channels-last function on channels-first batches, silently).
    """
    def checked(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        if x.shape[0] == 0:
            # a rank's part of a global batch may be empty in a distributed fit: nothing to draw, and a function
            # written for the batches of one process (e.g. torch.stack over the samples) need not handle it
            return x
        x_aug = augmentation(x, generator)
        # shapes, dtypes and devices are host metadata: checking them costs no synchronisation
        if not isinstance(x_aug, torch.Tensor) or (x_aug.shape, x_aug.dtype, x_aug.device) != (x.shape, x.dtype,
                                                                                               x.device):
            got = (f"{tuple(x_aug.shape)} {x_aug.dtype} on {x_aug.device}" if isinstance(x_aug, torch.Tensor)
                   else type(x_aug).__name__)
            raise ValueError(f"augmentation must return a tensor shaped as its batch, {tuple(x.shape)} {x.dtype} on "
                             f"{x.device}, got {got}")
        return x_aug
    return checked


class RandomRotationShift:
    """
    Randomly rotate and shift a batch of images, as one affine resampling on the device.

    Parameters
    ----------
    image_shape : tuple
        (H, W) or (H, W, C) of one image; flattened batches (N, H*W*C) are reshaped accordingly
    max_degrees : float
        rotations are drawn uniformly from [-max_degrees, max_degrees] (default: 15)
    max_shift : float
        shifts are drawn uniformly from [-max_shift, max_shift] of the image size (default: 0.1)
    max_shear : float
        shears along the x axis are drawn uniformly from [-max_shear, max_shear] degrees and applied before the
        rotation, as torchvision's ``RandomAffine(shear=max_shear)`` does (clustpy's augmented loaders use 8);
        rotations and shears act on pixels, also of images that are not square;
        0 draws none and leaves the random stream of the rotations and shifts as it is (default: 0, the paper's
        rotations and shifts alone)
    channels_first : bool
        whether batches come as (N, C, H, W), as for convolutional autoencoders; otherwise (N, H, W, C)
        or flattened in that order (default: False)
    fill : float | sequence of float
        value of the pixels that a rotation or shift moves into view, one for all channels or one per channel;
        the estimators use the data set's mean per channel, the 0 of z-scored images (default: 0.0)
    """

    def __init__(self, image_shape: tuple, max_degrees: float = 15.0, max_shift: float = 0.1,
                 channels_first: bool = False, fill: float | tuple = 0.0, max_shear: float = 0.0):
        if isinstance(image_shape, str) or len(image_shape) not in (2, 3) or not all(
                isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > 0 for v in image_shape):
            raise ValueError(f"image_shape must be (H, W) or (H, W, C) of positive integers, got {image_shape!r}")
        for name, value, limit in (("max_degrees", max_degrees, math.inf), ("max_shift", max_shift, math.inf),
                                   ("max_shear", max_shear, 90.0)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"{name} must be a real number, got {value!r}")
            if not 0.0 <= value < limit:
                raise ValueError(f"{name} must lie in [0, {limit}), got {value!r}")
        if not isinstance(channels_first, (bool, np.bool_)):
            raise TypeError(f"channels_first must be True or False, got {channels_first!r}")
        n_channels = image_shape[2] if len(image_shape) == 3 else 1
        fill_values = torch.as_tensor(fill, dtype=torch.float32).flatten()
        if fill_values.numel() not in (1, n_channels) or not torch.isfinite(fill_values).all():
            raise ValueError(f"fill must be one finite value or one per channel ({n_channels}), got {fill!r}")
        self.image_shape = tuple(int(v) for v in image_shape)
        self.max_degrees = max_degrees
        self.max_shift = max_shift
        self.max_shear = max_shear
        self.channels_first = bool(channels_first)
        self.fill = tuple(fill_values.tolist())
        self._fill_tensors = {}  # (device, dtype) -> the fill as a (1, C, 1, 1) tensor, made once per fit's device

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """
        A randomly rotated, sheared and shifted copy of every image of a batch.

        Parameters
        ----------
        x : torch.Tensor
            the batch as the network takes it: (N, H·W·C) or (N, H, W, C) channels last, (N, C, H, W) with
            ``channels_first``
        generator : torch.Generator
            on the batch's device; every image draws its own angle, shear and shift from it

        Returns
        -------
        torch.Tensor
            the augmented batch, shaped as ``x``; what comes into view is ``fill``
        """
        if not isinstance(generator, torch.Generator):  # never torch's global one: a library leaves it alone
            raise TypeError(f"generator must be a torch.Generator on the batch's device, got {generator!r}")
        if not x.is_floating_point():
            raise TypeError(f"the batch must hold floating-point images, got dtype {x.dtype}: convert it first "
                            "(e.g. x.float() / 255)")
        if x.shape[0] == 0:  # a distributed fit's rank may hold none of a batch (affine_grid refuses 0 images)
            return x
        h, w = self.image_shape[:2]
        c = self.image_shape[2] if len(self.image_shape) == 3 else 1
        n = x.shape[0]
        images = x.reshape(n, c, h, w) if self.channels_first else x.reshape(n, h, w, c).permute(0, 3, 1, 2)
        # the sampling grid and the images share a dtype (grid_sample's rule): float64 stays, half-precision
        # batches are resampled in float32 (the rounding of a bfloat16 grid would move pixels) and returned as given
        images = images if images.dtype == torch.float64 else images.float()
        draws = torch.rand(n, 3, generator=generator, device=x.device) * 2.0 - 1.0
        angle = draws[:, 0] * math.radians(self.max_degrees)
        cos, sin = torch.cos(angle), torch.sin(angle)
        # theta maps every output pixel to where it samples the input: the inverse of the image's motion.
        top_left, top_right = cos, -sin
        if self.max_shear:
            # torchvision's motion shears along x, then rotates: R(-a) [[1, -tan s], [0, 1]]; its inverse is
            # [[1, tan s], [0, 1]] R(a); the draws are symmetric, so `shear` = -tan s draws the same
            shear = torch.tan((torch.rand(n, generator=generator, device=x.device) * 2.0 - 1.0)
                              * math.radians(self.max_shear))
            top_left, top_right = cos - shear * sin, -sin - shear * cos
        # affine_grid works in [-1, 1] coordinates: a shift of s image widths is 2 s, and a map of pixel
        # coordinates is D M D^-1 there, D = diag(2/W, 2/H), which for an image that is not square scales what
        # mixes x and y (rotations and shears by pixels, not by fractions of the sides)
        theta = torch.stack([torch.stack([top_left, top_right * (h / w), 2.0 * self.max_shift * draws[:, 1]], 1),
                             torch.stack([sin * (w / h), cos, 2.0 * self.max_shift * draws[:, 2]], 1)], 1)
        grid = torch.nn.functional.affine_grid(theta.to(images.dtype), list(images.shape), align_corners=False)
        if any(self.fill):
            # grid_sample fills with zeros: sampling the images less the fill value and adding it back fills with
            # it (and blends the edges with it)
            fill = self._fill_tensor(images)
            out = torch.nn.functional.grid_sample(images - fill, grid, padding_mode="zeros", align_corners=False) + fill
        else:
            out = torch.nn.functional.grid_sample(images, grid, padding_mode="zeros", align_corners=False)
        if not self.channels_first:
            out = out.permute(0, 2, 3, 1)
        return out.reshape(x.shape).to(x.dtype)

    def __getstate__(self) -> dict:
        # the fill copies on devices are a cache: a pickled or copied augmentation (e.g. an estimator's parameter
        # after a CUDA fit) does not carry device tensors
        return {k: v for k, v in self.__dict__.items() if k != "_fill_tensors"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _fill_tensors={})

    def _fill_tensor(self, images: torch.Tensor) -> torch.Tensor:
        """The fill on the images' device, copied there once (not on every step: a host-to-device copy syncs)."""
        key = (images.device, images.dtype)
        if key not in self._fill_tensors:
            self._fill_tensors[key] = torch.tensor(self.fill, dtype=images.dtype).reshape(1, -1, 1, 1).to(images.device)
        return self._fill_tensors[key]
