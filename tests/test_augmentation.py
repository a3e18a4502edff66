"""Device-side image augmentation (ACe/DeC §2.2) and its use in a fit."""

import numpy as np
import pytest
import torch
from clustpy.deep import DCN

from clustpy_acedec import ACeDeC
from clustpy_acedec._augmentation import RandomRotationShift
from clustpy_acedec.preprocessing import channel_means, channel_zscore


def _images(n=4, h=9, w=9):
    images = torch.zeros(n, h, w)
    images[:, 1:8, 4] = 1.0  # a vertical bar through the centre column
    return images


def test_zero_rotation_and_shift_is_identity():
    images = _images()
    augment = RandomRotationShift((9, 9), max_degrees=0.0, max_shift=0.0)
    out = augment(images.reshape(4, -1), torch.Generator().manual_seed(0))
    torch.testing.assert_close(out.reshape(4, 9, 9), images, atol=1e-5, rtol=0)


def test_ninety_degree_rotation_turns_a_vertical_bar_horizontal():
    augment = RandomRotationShift((9, 9), max_degrees=90.0, max_shift=0.0)
    generator = torch.Generator().manual_seed(0)
    images = _images(n=1)
    out = None
    for _ in range(200):  # draws are uniform in ±90 degrees: one close to ±90 comes soon
        candidate = augment(images.reshape(1, -1), generator).reshape(9, 9)
        if candidate[4, 1:8].sum() > 5.0:
            out = candidate
            break
    assert out is not None, "no near-90-degree rotation drawn"
    assert out[1:3, 4].sum() < 0.5  # the vertical bar has left the column
    # ±10 degrees never turn it: the bound on the angle holds
    small = RandomRotationShift((9, 9), max_degrees=10.0, max_shift=0.0)
    assert all(small(images.reshape(1, -1), generator).reshape(9, 9)[4, 1:8].sum() < 5.0 for _ in range(200))


def test_a_shear_slants_a_vertical_bar_and_keeps_the_centre_row():
    """An x-shear (as torchvision's RandomAffine(shear=...)) moves rows sideways by their height: a vertical bar
    leans, its top and bottom ends move to opposite sides, and the centre row stays where it was."""
    augment = RandomRotationShift((9, 9), max_degrees=0.0, max_shift=0.0, max_shear=40.0)
    generator = torch.Generator().manual_seed(0)
    columns = torch.arange(9.0)
    leaned = 0
    for _ in range(20):
        out = augment(_images(n=1).reshape(1, -1), generator).reshape(9, 9)
        top = (out[1:3] * columns).sum() / out[1:3].sum()
        bottom = (out[6:8] * columns).sum() / out[6:8].sum()
        torch.testing.assert_close(out[4, 4], torch.tensor(1.0), atol=1e-5, rtol=0)  # the centre stays
        assert (top - 4.0) * (bottom - 4.0) <= 1e-6  # the ends lean to opposite sides (or not at all)
        leaned += bool(abs(top - bottom) > 1.0)
    assert leaned >= 10  # most draws of up to ±40 degrees lean the bar by more than a column


@pytest.mark.parametrize("shape", [(15, 15), (11, 17)])
def test_rotations_and_shears_are_torchvisions_random_affine(shape):
    """The same draws as torchvision's affine (rotation after an x-shear, in pixels, also on images that are not
    square; angles and shears of opposite sign, which for symmetric draws is the same distribution)."""
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms import functional
    h, w = shape
    images = torch.rand(4, h, w, generator=torch.Generator().manual_seed(1))
    augment = RandomRotationShift((h, w), max_degrees=25.0, max_shift=0.0, max_shear=20.0)
    out = augment(images.reshape(4, -1), torch.Generator().manual_seed(0)).reshape(4, h, w)
    generator = torch.Generator().manual_seed(0)  # the draws of the call above, in its order
    angles = (torch.rand(4, 3, generator=generator)[:, 0] * 2.0 - 1.0) * 25.0
    shears = (torch.rand(4, generator=generator) * 2.0 - 1.0) * 20.0
    for image, result, angle, shear in zip(images, out, angles.tolist(), shears.tolist()):
        expected = functional.affine(image[None], angle=-angle, translate=[0, 0], scale=1.0, shear=[-shear, 0.0],
                                     interpolation=InterpolationMode.BILINEAR)[0]
        torch.testing.assert_close(result, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("name, value, error", [("max_shear", 90.0, ValueError), ("max_shear", -1.0, ValueError),
                                                ("max_degrees", float("nan"), ValueError),
                                                ("max_shift", "0.1", TypeError),
                                                ("channels_first", "no", TypeError)])
def test_rejects_bad_ranges(name, value, error):
    with pytest.raises(error, match=name):
        RandomRotationShift((9, 9), **{name: value})


def test_shapes_channels_last_and_first():
    x = torch.rand(5, 6, 7, 3)
    last = RandomRotationShift((6, 7, 3))(x.reshape(5, -1), torch.Generator().manual_seed(0))
    assert last.shape == (5, 6 * 7 * 3)
    first = RandomRotationShift((6, 7, 3), channels_first=True)(x.permute(0, 3, 1, 2), torch.Generator().manual_seed(0))
    assert first.shape == (5, 3, 6, 7)


def test_rejects_bad_image_shape():
    with pytest.raises(ValueError):
        RandomRotationShift((10,))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16])
def test_a_batch_of_another_floating_point_type_is_augmented_as_float32_and_keeps_its_type(dtype):
    """The same draws move the images alike whatever their floating-point type; the result has the batch's type."""
    augment = RandomRotationShift((9, 9), max_degrees=30.0, max_shift=0.1, max_shear=8.0, fill=0.25)
    images = _images().reshape(4, -1)
    expected = augment(images, torch.Generator().manual_seed(3))
    out = augment(images.to(dtype), torch.Generator().manual_seed(3))
    assert out.dtype == dtype and out.shape == images.shape
    tolerance = 1e-6 if dtype == torch.float64 else 1e-2
    torch.testing.assert_close(out.float(), expected, atol=tolerance, rtol=0)


def test_a_batch_of_integers_is_refused_with_its_type_named():
    augment = RandomRotationShift((9, 9))
    with pytest.raises(TypeError, match="floating-point images, got dtype torch.uint8"):
        augment(torch.zeros(2, 81, dtype=torch.uint8), torch.Generator())


def test_what_comes_into_view_is_the_fill_value():
    """What a rotation or shift moves into view has the fill value: a blank image of that value stays blank, and
    with the default fill 0 it gets a frame."""
    background = -0.42  # black in z-scored MNIST
    blank = torch.full((64, 9 * 9), background)
    generator = torch.Generator().manual_seed(0)
    filled = RandomRotationShift((9, 9), max_degrees=30.0, max_shift=0.2, fill=background)(blank, generator)
    torch.testing.assert_close(filled, blank, atol=1e-5, rtol=0)
    zero_filled = RandomRotationShift((9, 9), max_degrees=30.0, max_shift=0.2)(blank, generator)
    assert (zero_filled > background + 0.1).any()  # the default fill 0 is brighter than this background


def test_one_fill_value_per_channel():
    background = torch.tensor([-1.0, 0.5, 2.0])
    blank = background.expand(16, 6, 7, 3).reshape(16, -1)
    out = RandomRotationShift((6, 7, 3), max_degrees=45.0, max_shift=0.3, fill=background.tolist())(
        blank, torch.Generator().manual_seed(0))
    torch.testing.assert_close(out, blank, atol=1e-5, rtol=0)
    first = RandomRotationShift((6, 7, 3), max_degrees=45.0, max_shift=0.3, channels_first=True,
                                fill=background.tolist())
    blank_first = background.reshape(1, 3, 1, 1).expand(16, 3, 6, 7)
    torch.testing.assert_close(first(blank_first, torch.Generator().manual_seed(0)), blank_first, atol=1e-5, rtol=0)


@pytest.mark.parametrize("fill", [(0.0, 1.0), float("nan"), (0.0, 1.0, 2.0, 3.0)])
def test_rejects_a_bad_fill(fill):
    with pytest.raises(ValueError, match="fill"):
        RandomRotationShift((6, 7, 3), fill=fill)


def test_channel_means_is_what_channel_zscore_maps_to_zero():
    rng = np.random.default_rng(0)
    colour = rng.random((20, 5, 6, 3)).astype(np.float32) + np.array([-2.0, 0.0, 3.0], dtype=np.float32)
    assert channel_means(channel_zscore(colour)) == pytest.approx((0.0, 0.0, 0.0), abs=1e-5)  # float32 z-scores
    assert channel_means(colour) == pytest.approx(tuple(colour.mean(axis=(0, 1, 2), dtype=np.float64)), rel=1e-9)
    first = colour.transpose(0, 3, 1, 2)
    assert channel_means(first, channels_last=False) == pytest.approx(channel_means(colour), rel=1e-9)
    assert channel_means(colour[..., 0]) == pytest.approx((colour[..., 0].mean(dtype=np.float64),), rel=1e-9)


def test_channel_statistics_refuse_what_is_not_a_batch_of_images():
    for function in (channel_means, channel_zscore):
        for images in (np.zeros((4, 16)), np.zeros((0, 4, 4)), np.zeros((2, 4, 4, 3, 1))):
            with pytest.raises(ValueError, match="images must be a non-empty batch"):
                function(images)
        with pytest.raises(TypeError, match="real numbers"):
            function(np.full((2, 4, 4), "a"))
    assert channel_zscore([[[0.0, 1.0]], [[2.0, 3.0]]]).shape == (2, 1, 2)  # nested lists are images too


class _ConvStub(torch.nn.Module):
    allow_nd_input = True  # as clustpy's convolutional autoencoders: batches (N, C, H, W)


class _TwoRanks:
    """A collective whose other rank holds ``other`` (channels-last) images: all_gather_object returns both ranks'
    values."""

    def __init__(self, other: np.ndarray):
        self.other = other

    def all_gather_object(self, value):
        return [value, (channel_means(self.other), len(self.other))]


def test_the_estimators_fill_with_the_mean_of_each_channel():
    """Unit test of the fit's augmentation (no public seam shows it): the data set's mean per channel, in every
    input layout, over all ranks' shards."""
    from clustpy_acedec._estimator import _augmentation
    rng = np.random.default_rng(0)
    colour = rng.random((50, 8, 8, 3)).astype(np.float32) + np.array([-2.0, 0.0, 3.0], dtype=np.float32)
    expected = tuple(colour.mean(axis=(0, 1, 2), dtype=np.float64).tolist())
    plain = torch.nn.Linear(1, 1)
    assert _augmentation(colour, plain, None, None).fill == pytest.approx(expected, rel=1e-6)
    assert _augmentation(colour.reshape(50, -1), plain, (8, 8, 3), None).fill == pytest.approx(expected, rel=1e-6)
    channels_first = _augmentation(colour.transpose(0, 3, 1, 2).copy(), _ConvStub(), None, None)
    assert channels_first.channels_first and channels_first.fill == pytest.approx(expected, rel=1e-6)
    grey = colour[..., 1]
    assert _augmentation(grey, plain, None, None).fill == pytest.approx((grey.mean(dtype=np.float64),), rel=1e-6)
    # two ranks of 20 and 30 images: the mean over all 50, not the mean of the two means
    shards = _augmentation(colour[:20], plain, None, _TwoRanks(colour[20:]))
    assert shards.fill == pytest.approx(expected, rel=1e-6)
    mean_of_means = (np.array(channel_means(colour[:20])) + np.array(channel_means(colour[20:]))) / 2
    assert shards.fill != pytest.approx(tuple(mean_of_means), rel=1e-6)


def test_fit_with_augmentation_on_images_changes_the_result():
    rng = np.random.default_rng(0)
    X = rng.random((120, 8, 8)).astype(np.float32)
    X[:60, :, :4] += 1.0
    kwargs = dict(n_clusters=2, pretrain_epochs=1, clustering_epochs=2, batch_size=32, embedding_size=3,
                  device="cpu", random_state=0)
    plain = ACeDeC(base=DCN(**kwargs), init_iterations=10, verbose=False).fit(X)
    augmented = ACeDeC(base=DCN(augmentation_invariance=True, **kwargs), init_iterations=10, verbose=False).fit(X)
    assert augmented.labels_.shape == (120,)
    # the same seed and schedule: only the augmentation terms (and the augmented pretraining batches) differ
    assert not np.allclose(plain.V_, augmented.V_)
    assert plain.history_["clustering"].loss_terms == ("compression", "reconstruction")
    assert augmented.history_["clustering"].loss_terms == ("compression", "reconstruction", "augmentation")


def test_augmentation_of_flat_data_needs_an_image_shape():
    X = np.random.default_rng(0).random((50, 64)).astype(np.float32)
    base = DCN(n_clusters=2, pretrain_epochs=1, clustering_epochs=1, batch_size=16, embedding_size=3,
               augmentation_invariance=True, device="cpu", random_state=0)
    model = ACeDeC(base=base, init_iterations=5, verbose=False)
    with pytest.raises(ValueError, match="image_shape"):
        model.fit(X)
    assert not hasattr(model, "labels_")
    model.set_params(image_shape=(8, 8)).fit(X)
    assert model.labels_.shape == (50,)


def test_decoding_x_aug_from_the_mixed_spaces_trains_the_encoder_but_not_beta():
    # One cluster whose centre is also the shared mean, and x_aug encoded exactly onto it: the pull of z_aug to
    # the centre (and to the shared mean) is zero with zero gradient, so what the augmentation adds to the
    # gradient comes from decoding x_aug out of x's cluster-space and x_aug's shared-space coordinates alone.
    from clustpy.deep.neural_networks import FeedforwardAutoencoder
    from clustpy_acedec._centers import MiniBatchCenters
    from clustpy_acedec._initialization import random_orthogonal, split_beta_logits
    from clustpy_acedec._model import SubspaceClusteringModel
    from clustpy_acedec._objectives import HardCentroidObjective, SharedMeanObjective
    from clustpy_acedec._subspace import SubspaceLayer
    from clustpy_acedec.losses import POINTS
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    d = 4
    layer = SubspaceLayer(random_orthogonal(d, generator), split_beta_logits(d, generator), parametrization="sigmoid")
    centre = torch.randn(1, d, generator=generator)  # rotated coordinates; the shared mean is kept unrotated
    objectives = [HardCentroidObjective(MiniBatchCenters([centre.clone()], [0], [10.0])),
                  SharedMeanObjective((centre @ layer.V.detach().T)[0], space=1)]
    autoencoder = FeedforwardAutoencoder([d, d])
    with torch.no_grad():  # the encoder is the identity: x_aug can be placed anywhere in the embedding
        autoencoder.encoder.block[0].weight.copy_(torch.eye(d))
        autoencoder.encoder.block[0].bias.zero_()
    model = SubspaceClusteringModel(autoencoder, layer, objectives, POINTS)
    x = torch.randn(16, d, generator=generator)
    x_aug = (centre @ layer.V.detach().T).expand(16, d)  # V^T z_aug = the centre

    def gradients(*batch) -> tuple:
        model.zero_grad()
        model.clustering_loss(*batch)[0].backward()
        return layer.beta_logits.grad.clone(), autoencoder.encoder.block[0].weight.grad.clone()

    beta_plain, encoder_plain = gradients(x)
    beta_augmented, encoder_augmented = gradients(x, x_aug)
    torch.testing.assert_close(beta_augmented, beta_plain, atol=1e-6, rtol=0)
    assert float((encoder_augmented - encoder_plain).abs().max()) > 1e-3


def test_rotation_shift_augmentation_reads_the_layout_and_fills_with_the_channel_means():
    """The public builder: (H, W[, C]) and the channel order read from the images, the fill their mean per
    channel; and it refuses what is not a batch of images."""
    from clustpy_acedec.preprocessing import rotation_shift_augmentation
    rng = np.random.default_rng(1)
    colour = rng.random((40, 6, 7, 3)).astype(np.float32) + np.array([1.0, -1.0, 0.5], dtype=np.float32)
    means = tuple(colour.mean(axis=(0, 1, 2), dtype=np.float64))
    last = rotation_shift_augmentation(colour)
    first = rotation_shift_augmentation(colour.transpose(0, 3, 1, 2).copy(), channels_last=False)
    grey = rotation_shift_augmentation(colour[..., 0])
    assert (last.image_shape, last.channels_first) == ((6, 7, 3), False)
    assert (first.image_shape, first.channels_first) == ((6, 7, 3), True)
    assert (grey.image_shape, grey.channels_first) == ((6, 7), False)
    assert last.fill == pytest.approx(means, rel=1e-6) and first.fill == pytest.approx(means, rel=1e-6)
    assert grey.fill == pytest.approx((colour[..., 0].mean(dtype=np.float64),), rel=1e-6)
    batch = torch.as_tensor(colour[:5])
    assert last(batch, torch.Generator().manual_seed(0)).shape == batch.shape
    with pytest.raises(ValueError, match="images must be a non-empty batch"):
        rotation_shift_augmentation(colour.reshape(40, -1))


def test_a_channels_first_image_shape_for_a_network_that_reads_channels_last_is_refused():
    """A feedforward network reads (n, A, B, C) images channels last: image_shape (B, C, A) contradicts it."""
    from clustpy_acedec import ACeDeC
    from clustpy.deep import DCN
    X = np.random.default_rng(0).random((40, 3, 6, 7)).astype(np.float32)
    base = DCN(n_clusters=2, pretrain_epochs=1, clustering_epochs=1, batch_size=16, embedding_size=3, device="cpu",
               augmentation_invariance=True, random_state=0)
    model = ACeDeC(base=base, image_shape=(6, 7, 3), init_iterations=5, verbose=False)
    with pytest.raises(ValueError, match="contradicts how the network reads the images of X, channels last"):
        model.fit(X)
    assert not hasattr(model, "labels_")


def test_bad_image_batches_and_options_are_named():
    from clustpy_acedec.preprocessing import rotation_shift_augmentation
    images = np.zeros((4, 5, 5), dtype=np.float32)
    images[0, 0, 0] = np.nan
    for function in (channel_means, channel_zscore, rotation_shift_augmentation):
        with pytest.raises(ValueError, match="NaN or infinite"):
            function(images)
        with pytest.raises(TypeError, match="channels_last must be True or False"):
            function(np.zeros((4, 5, 5)), channels_last="no")
    for image_shape in ("ab", (-4, 4), (4.0, 4)):
        with pytest.raises(ValueError, match="image_shape must be"):
            RandomRotationShift(image_shape)
    assert RandomRotationShift((np.int64(4), np.int64(4))).image_shape == (4, 4)


class _Jitter:
    """A user's augmentation: Gaussian noise drawn from the fit's generator; it records the batches it got."""

    def __init__(self):
        self.batches = []

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        assert isinstance(generator, torch.Generator) and generator.device == x.device
        self.batches.append(tuple(x.shape))
        return x + 0.1 * torch.randn(x.shape, generator=generator, device=x.device)


@pytest.mark.parametrize("estimator", ["ACeDeC", "ENRC"])
def test_a_given_augmentation_replaces_the_rotations_in_pretraining_and_clustering(estimator):
    """``augmentation=f``: f gets every batch of the pretraining and of the clustering phase, as the network takes
    it (here flat rows with no image shape, which the rotations could not take), and fits stay reproducible."""
    from clustpy_acedec import ENRC
    X = np.random.default_rng(0).random((64, 6)).astype(np.float32)
    X[:32, :3] += 2.0
    schedule = dict(pretrain_epochs=2, clustering_epochs=3, batch_size=16, embedding_size=3, device="cpu",
                    augmentation_invariance=True, random_state=0)

    def fit(augmentation):
        if estimator == "ACeDeC":
            return ACeDeC(base=DCN(n_clusters=2, **schedule), augmentation=augmentation, init_iterations=5).fit(X)
        return ENRC(n_clusters=[2, 2], augmentation=augmentation, init_rounds=1, init_iterations=5, **schedule).fit(X)

    jitter = _Jitter()
    model = fit(jitter)
    assert model.history_["clustering"].loss_terms[-1] == "augmentation"
    assert len(jitter.batches) == (2 + 3) * 4  # 4 batches of 16 in each of 2 + 3 epochs
    assert set(jitter.batches) == {(16, 6)}
    again = fit(_Jitter())
    np.testing.assert_array_equal(model.labels_, again.labels_)
    np.testing.assert_allclose(model.V_, again.V_, rtol=0, atol=0)


def test_augmentation_needs_augmentation_invariance_and_a_callable():
    """A given augmentation without augmentation_invariance, or one that is no callable, fails before any work and
    leaves the previous fit as it was."""
    X = np.random.default_rng(0).random((40, 6)).astype(np.float32)
    base = DCN(n_clusters=2, pretrain_epochs=1, clustering_epochs=1, batch_size=16, embedding_size=3, device="cpu",
               random_state=0)
    model = ACeDeC(base=base, init_iterations=5).fit(X)
    labels = model.labels_.copy()
    jitter = _Jitter()
    with pytest.raises(ValueError, match="augmentation is used only with augmentation_invariance=True"):
        model.set_params(augmentation=jitter).fit(X)
    assert jitter.batches == []
    for wrong, message in ((RandomRotationShift, "not the class RandomRotationShift"),
                           ("rotate", "augmentation must be None or a callable")):
        with pytest.raises(TypeError, match=message):
            model.set_params(augmentation=wrong).fit(X)
    np.testing.assert_array_equal(model.labels_, labels)
    from clustpy_acedec import ENRC
    enrc = ENRC(n_clusters=[2, 2], pretrain_epochs=1, clustering_epochs=1, embedding_size=2, augmentation=jitter,
                device="cpu")
    with pytest.raises(ValueError, match="augmentation is used only with augmentation_invariance=True"):
        enrc.fit(X)
    assert jitter.batches == [] and not hasattr(enrc, "labels_")


def test_an_augmentation_that_changes_the_batch_shape_is_named():
    X = np.random.default_rng(0).random((40, 6)).astype(np.float32)
    base = DCN(n_clusters=2, pretrain_epochs=1, clustering_epochs=1, batch_size=16, embedding_size=3, device="cpu",
               augmentation_invariance=True, random_state=0)
    for wrong, got in ((lambda x, generator: x[:, :3], r"\(16, 3\) torch.float32"),
                       (lambda x, generator: x.double(), "torch.float64"),
                       (lambda x, generator: x.numpy(), "ndarray")):
        with pytest.raises(ValueError, match=r"augmentation must return a tensor shaped as its batch, \(16, 6\) "
                                             rf"torch.float32 on cpu, got .*{got}"):
            ACeDeC(base=base, augmentation=wrong, init_iterations=5).fit(X)


def test_a_given_augmentation_feeds_the_stacked_denoising_pretraining():
    """DEC's layer-wise pretraining trains every layer pair on codes of augmented batches: the user's augmentation
    gets the image batches there too."""
    X = np.random.default_rng(0).random((64, 6)).astype(np.float32)
    base = DCN(n_clusters=2, pretrain_epochs=2, clustering_epochs=1, batch_size=16, embedding_size=3, device="cpu",
               augmentation_invariance=True, random_state=0)
    jitter = _Jitter()
    model = ACeDeC(base=base, augmentation=jitter, pretraining="stacked_denoising", init_iterations=5).fit(X)
    assert model.labels_.shape == (64,)
    assert set(jitter.batches) == {(16, 6)} and len(jitter.batches) > (2 + 1) * 4


def test_a_model_fitted_with_a_given_augmentation_saves_and_loads_without_it(tmp_path):
    """The augmentation is fit-time code: ``save`` does not store it (no pickling), and the loaded model predicts
    as the fitted one, with ``augmentation=None`` and a note."""
    X = np.random.default_rng(0).random((48, 6)).astype(np.float32)
    base = DCN(n_clusters=2, pretrain_epochs=1, clustering_epochs=1, batch_size=16, embedding_size=3, device="cpu",
               augmentation_invariance=True, random_state=0)
    model = ACeDeC(base=base, augmentation=RandomRotationShift((2, 3), max_shear=8.0), init_iterations=5).fit(X)
    model.save(tmp_path / "model.pt")
    with pytest.warns(UserWarning, match=r"ACeDeC.augmentation \(.*RandomRotationShift\) was not stored"):
        loaded = ACeDeC.load(tmp_path / "model.pt")
    assert loaded.augmentation is None
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_passing_the_default_augmentation_gives_the_default_fit():
    """``augmentation=rotation_shift_augmentation(images)`` is what the fit builds without one: the same fit."""
    from clustpy_acedec.preprocessing import rotation_shift_augmentation
    X = np.random.default_rng(0).random((64, 6, 6)).astype(np.float32)
    X[:32, :, :3] += 1.0
    base = DCN(n_clusters=2, pretrain_epochs=2, clustering_epochs=2, batch_size=16, embedding_size=3, device="cpu",
               augmentation_invariance=True, random_state=0)
    default = ACeDeC(base=base, init_iterations=10).fit(X)
    given = ACeDeC(base=base, augmentation=rotation_shift_augmentation(X), init_iterations=10).fit(X)
    np.testing.assert_array_equal(given.labels_, default.labels_)
    np.testing.assert_allclose(given.V_, default.V_, rtol=0, atol=0)
    sheared = ACeDeC(base=base, augmentation=RandomRotationShift((6, 6), max_shear=20.0, fill=channel_means(X)),
                     init_iterations=10).fit(X)
    assert not np.allclose(sheared.V_, default.V_)  # the shear draws change the batches


def test_an_augmentation_pickles_without_its_device_cache():
    """After use (the fill copied to the batches' device once), a pickled or copied augmentation holds no tensor
    and augments as before."""
    import copy
    import pickle
    augment = RandomRotationShift((6, 6), fill=0.5)
    batch = torch.zeros(3, 36)
    expected = augment(batch, torch.Generator().manual_seed(0))
    assert b"_rebuild_tensor" not in pickle.dumps(augment)  # how torch pickles a tensor
    for restored in (pickle.loads(pickle.dumps(augment)), copy.deepcopy(augment)):
        assert restored.fill == (0.5,)
        torch.testing.assert_close(restored(batch, torch.Generator().manual_seed(0)), expected, rtol=0, atol=0)
