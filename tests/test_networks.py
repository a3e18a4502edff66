"""clustpy_acedec.networks: the small convolutional autoencoder's shapes and its checks of bad arguments."""

import numpy as np
import pytest
import torch

from clustpy_acedec.networks import SmallConvAutoencoder


def test_encodes_and_decodes_images_of_its_shape():
    network = SmallConvAutoencoder((3, 8, 12), embedding_size=5, channels=(4, 4, 4), random_state=0)
    x = torch.rand(2, 3, 8, 12)
    assert network.encode(x).shape == (2, 5)
    assert network.decode(network.encode(x)).shape == x.shape


def test_the_shapes_may_be_any_sequence_of_integers():
    network = SmallConvAutoencoder(np.array([1, 8, 8]), embedding_size=np.int64(3), channels=[2, 2, 2])
    assert network.image_shape == (1, 8, 8)
    assert network.encode(torch.rand(2, 1, 8, 8)).shape == (2, 3)


@pytest.mark.parametrize("arguments, error, message", [
    (dict(image_shape=(28, 28)), ValueError, r"image_shape \(C, H, W\) must be three positive integers, got \(28, 28\)"),
    (dict(image_shape=(1, 28, 0)), ValueError, "image_shape .* must be three positive integers"),
    (dict(image_shape="1x28"), TypeError, "image_shape .* must be three positive integers"),
    (dict(image_shape=(1, 30, 28)), ValueError, "divisible by 4"),
    (dict(image_shape=(1, 28, 28), channels=(8, 16)), ValueError, r"channels must be three positive integers, got \(8, 16\)"),
    (dict(image_shape=(1, 28, 28), channels=(8.0, 16, 32)), TypeError, "channels must be three positive integers"),
    (dict(image_shape=(1, 28, 28), embedding_size=0), ValueError, "embedding_size must be an integer >= 1"),
    (dict(image_shape=(1, 28, 28), embedding_size=2.5), TypeError, "embedding_size must be an integer >= 1"),
])
def test_bad_arguments_are_named(arguments, error, message):
    with pytest.raises(error, match=message):
        SmallConvAutoencoder(**arguments)


def test_an_estimator_builds_it_from_a_class_and_parameters_with_its_embedding_size():
    """neural_network=(SmallConvAutoencoder, {...}): the estimator passes clustpy's defaults only where the class
    takes them (no feedforward `layers`), and its own embedding_size, which the class names."""
    from clustpy_acedec import ENRC
    X = np.random.RandomState(0).rand(48, 1, 8, 8).astype(np.float32)
    model = ENRC([2, 2], neural_network=(SmallConvAutoencoder, {"image_shape": (1, 8, 8), "channels": (4, 4, 4)}),
                 embedding_size=3, pretrain_epochs=1, clustering_epochs=1, batch_size=16, init_rounds=1,
                 init_iterations=5, device="cpu", random_state=0).fit(X)
    assert type(model.neural_network_trained_) is SmallConvAutoencoder
    assert model.neural_network_trained_.encoder[-1].out_features == 3 and model.V_.shape == (3, 3)
