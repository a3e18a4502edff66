"""Tests of the data helpers the image benchmarks use: ENRC §3.1's channel-wise z-transformation (the core's
preprocessing) and C-MNIST (the bench's data preparation)."""

import numpy as np
import pytest

from clustpy_acedec.preprocessing import channel_zscore
from clustpy_acedec_bench.data import make_concatenated_mnist


@pytest.mark.parametrize("channels_last", [True, False])
def test_channel_zscore_gives_every_channel_mean_0_and_variance_1(channels_last):
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, size=(20, 6, 5, 3)) * np.array([1.0, 0.2, 3.0]) + np.array([0.0, 50.0, -7.0])
    if not channels_last:
        images = images.transpose(0, 3, 1, 2)
    scored = channel_zscore(images, channels_last=channels_last)
    axes = (0, 1, 2) if channels_last else (0, 2, 3)
    assert scored.dtype == np.float32 and scored.shape == images.shape
    np.testing.assert_allclose(scored.mean(axis=axes), 0.0, atol=1e-5)
    np.testing.assert_allclose(scored.std(axis=axes), 1.0, atol=1e-5)


def test_channel_zscore_of_grey_images_is_one_affine_map_and_survives_a_constant_image():
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    scored = channel_zscore(images)
    np.testing.assert_allclose(scored, (images - images.mean()) / images.std(), rtol=1e-6)
    assert np.all(channel_zscore(np.full((2, 3, 4), 7.0)) == 0.0)


def test_concatenated_mnist_puts_two_independent_digits_side_by_side():
    digits = np.stack([np.full((28, 28), 10 * k, dtype=np.uint8) for k in range(10)])
    pairs, labels = make_concatenated_mnist(digits, np.arange(10), n_samples=500, random_state=0)
    assert pairs.shape == (500, 56, 56) and pairs.dtype == np.uint8 and labels.shape == (500, 2)
    # the left digit in the left half, the right one in the right half, black rows above and below
    np.testing.assert_array_equal(pairs[:, 14:42, :28], digits[labels[:, 0]])
    np.testing.assert_array_equal(pairs[:, 14:42, 28:], digits[labels[:, 1]])
    assert not pairs[:, :14].any() and not pairs[:, 42:].any()
    # all 100 combinations occur, and the two labelings are independent draws
    assert len({(a, b) for a, b in labels}) == 100
    assert abs(np.corrcoef(labels[:, 0], labels[:, 1])[0, 1]) < 0.15
    again, _ = make_concatenated_mnist(digits, np.arange(10), n_samples=500, random_state=0)
    np.testing.assert_array_equal(again, pairs)
