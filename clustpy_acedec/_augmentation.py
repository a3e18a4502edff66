"""
Image augmentation on the device: random rotations and shifts (ACe/DeC §2.2, "+ Aug" of Table 1).
"""

import math

import torch


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
    channels_first : bool
        whether batches come as (N, C, H, W), as for convolutional autoencoders; otherwise (N, H, W, C)
        or flattened in that order (default: False)
    """

    def __init__(self, image_shape: tuple, max_degrees: float = 15.0, max_shift: float = 0.1,
                 channels_first: bool = False):
        if len(image_shape) not in (2, 3):
            raise ValueError(f"image_shape must be (H, W) or (H, W, C), got {image_shape}")
        self.image_shape = tuple(image_shape)
        self.max_degrees = max_degrees
        self.max_shift = max_shift
        self.channels_first = channels_first

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        if x.shape[0] == 0:  # a distributed fit's rank may hold none of a batch (affine_grid refuses 0 images)
            return x
        h, w = self.image_shape[:2]
        c = self.image_shape[2] if len(self.image_shape) == 3 else 1
        n = x.shape[0]
        images = x.reshape(n, c, h, w) if self.channels_first else x.reshape(n, h, w, c).permute(0, 3, 1, 2)
        draws = torch.rand(n, 3, generator=generator, device=x.device) * 2.0 - 1.0
        angle = draws[:, 0] * math.radians(self.max_degrees)
        cos, sin = torch.cos(angle), torch.sin(angle)
        # affine_grid works in [-1, 1] coordinates: a shift of s image widths is 2 s.
        theta = torch.stack([torch.stack([cos, -sin, 2.0 * self.max_shift * draws[:, 1]], 1),
                             torch.stack([sin, cos, 2.0 * self.max_shift * draws[:, 2]], 1)], 1)
        grid = torch.nn.functional.affine_grid(theta, list(images.shape), align_corners=False)
        out = torch.nn.functional.grid_sample(images, grid, padding_mode="zeros", align_corners=False)
        if not self.channels_first:
            out = out.permute(0, 2, 3, 1)
        return out.reshape(x.shape)
