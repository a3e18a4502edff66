"""clustpy_acedec.networks: the small convolutional autoencoder's shapes and its checks of bad arguments."""

import pytest
import torch

from clustpy_acedec.networks import SmallConvAutoencoder


def test_encodes_and_decodes_images_of_its_shape():
    network = SmallConvAutoencoder((3, 8, 12), embedding_size=5, channels=(4, 4, 4), random_state=0)
    x = torch.rand(2, 3, 8, 12)
    assert network.encode(x).shape == (2, 5)
    assert network.decode(network.encode(x)).shape == x.shape


@pytest.mark.parametrize("arguments, message", [
    (dict(image_shape=(28, 28)), r"image_shape must be three positive integers \(C, H, W\), got \(28, 28\)"),
    (dict(image_shape=(1, 28, 0)), "image_shape must be three positive integers"),
    (dict(image_shape=(1, 30, 28)), "divisible by 4"),
    (dict(image_shape=(1, 28, 28), channels=(8, 16)), r"channels must be three positive integers, got \(8, 16\)"),
    (dict(image_shape=(1, 28, 28), embedding_size=0), "embedding_size must be a positive integer"),
    (dict(image_shape=(1, 28, 28), embedding_size=2.5), "embedding_size must be a positive integer"),
])
def test_bad_arguments_are_named(arguments, message):
    with pytest.raises(ValueError, match=message):
        SmallConvAutoencoder(**arguments)
