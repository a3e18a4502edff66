"""
A small convolutional autoencoder for image data of any size, in clustpy's autoencoder interface.

clustpy's ``ConvolutionalAutoencoder`` needs ResNet-18/50 and an input height that is a multiple of 32;
ENRC's images (C-MNIST 56 x 56, GTSRB 32 x 32) and a laptop CPU call for something lighter. Like ENRC's
network (§3.2) it starts with stride-one 3 x 3 convolutions and halves the resolution twice.
"""

import numbers

import numpy as np
import torch
from clustpy.deep.neural_networks._abstract_autoencoder import _AbstractAutoencoder

from clustpy_acedec._validation import check_positive_int


def default_layers(input_dim: int, embedding_size: int) -> list:
    """
    The layers of clustpy's default feedforward autoencoder, DEC's [D, 500, 500, 2000, d] (Xie et al. 2016, §4.3),
    which ACe/DeC §4 and ENRC §3.2 use too.

    Parameters
    ----------
    input_dim : int
        D, the number of features
    embedding_size : int
        d, the size of the embedding

    Returns
    -------
    layers : list
        the encoder's layer sizes, [input_dim, 500, 500, 2000, embedding_size]
    """
    return [input_dim, 500, 500, 2000, embedding_size]


def _three_positive_ints(value, name: str) -> tuple:
    """A sequence of three positive integers as a tuple: TypeError for another type, ValueError otherwise."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value):
        raise TypeError(f"{name} must be three positive integers, got {value!r}")
    if len(value) != 3 or not all(v > 0 for v in value):
        raise ValueError(f"{name} must be three positive integers, got {value!r}")
    return tuple(int(v) for v in value)


def _down(in_channels: int, out_channels: int, stride: int) -> torch.nn.Sequential:
    return torch.nn.Sequential(torch.nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1),
                               torch.nn.BatchNorm2d(out_channels), torch.nn.LeakyReLU())


def _up(in_channels: int, out_channels: int) -> torch.nn.Sequential:
    return torch.nn.Sequential(torch.nn.Upsample(scale_factor=2, mode="nearest"),
                               torch.nn.Conv2d(in_channels, out_channels, 3, padding=1),
                               torch.nn.BatchNorm2d(out_channels), torch.nn.LeakyReLU())


class SmallConvAutoencoder(_AbstractAutoencoder):
    """
    Convolutional autoencoder: 3 x 3 convolutions (stride 1, then two stride-2 stages), a fully connected
    bottleneck of ``embedding_size``, and the mirrored decoder (nearest upsampling + convolutions).

    Parameters
    ----------
    image_shape : tuple
        (C, H, W) of the input; H and W must be divisible by 4
    embedding_size : int
        d (default: 16, as ENRC §3.2)
    channels : tuple
        feature maps of the three stages (default: (32, 64, 128))
    work_on_copy : bool
        clustpy convention: deep clustering algorithms train a copy (default: True)
    random_state : int | np.random.RandomState | None
        seed (default: None)

    Attributes
    ----------
    allow_nd_input : bool
        True: batches are (N, C, H, W)
    """

    def __init__(self, image_shape: tuple, embedding_size: int = 16, channels: tuple = (32, 64, 128),
                 work_on_copy: bool = True, random_state: np.random.RandomState | int | None = None):
        super().__init__(work_on_copy, random_state)
        image_shape, channels = _three_positive_ints(image_shape, "image_shape (C, H, W)"), \
            _three_positive_ints(channels, "channels")
        embedding_size = check_positive_int(embedding_size, "embedding_size")
        n_channels, height, width = image_shape
        if height % 4 or width % 4:
            raise ValueError(f"image height and width must be divisible by 4, got {height} x {width}")
        self.allow_nd_input = True
        self.image_shape = tuple(image_shape)
        c1, c2, c3 = channels
        self._feature_shape = (c3, height // 4, width // 4)
        flat = int(np.prod(self._feature_shape))
        self.encoder = torch.nn.Sequential(_down(n_channels, c1, 1), _down(c1, c2, 2), _down(c2, c3, 2),
                                           torch.nn.Flatten(), torch.nn.Linear(flat, embedding_size))
        self.decoder_fc = torch.nn.Linear(embedding_size, flat)
        self.decoder_conv = torch.nn.Sequential(_up(c3, c2), _up(c2, c1),
                                                torch.nn.Conv2d(c1, n_channels, 3, padding=1))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """
        The embedding of a batch of images.

        Parameters
        ----------
        x : torch.Tensor
            images of shape (N, C, H, W)

        Returns
        -------
        torch.Tensor
            shape (N, embedding_size)
        """
        return self.encoder(x)

    def decode(self, embedded: torch.Tensor) -> torch.Tensor:
        """
        The images decoded from a batch of embeddings.

        Parameters
        ----------
        embedded : torch.Tensor
            shape (N, embedding_size)

        Returns
        -------
        torch.Tensor
            images of shape (N, C, H, W)
        """
        features = self.decoder_fc(embedded).reshape(-1, *self._feature_shape)
        return self.decoder_conv(torch.nn.functional.leaky_relu(features))
