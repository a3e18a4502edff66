"""The ray caster of OBJECTS and NR-Objects."""

import numpy as np
import pytest

from clustpy_acedec_bench.render import COLORS, make_nr_objects, make_objects, render_object

_SCENE = dict(yaw=0.3, light=np.array([0.0, 0.6, 0.8]), offset=np.zeros(2), scale=1.0, size=64)


def _silhouette(image: np.ndarray, background: float = 0.35) -> np.ndarray:
    return np.abs(image - background).max(-1) > 1e-3


def test_sphere_silhouette_is_a_disc_of_the_expected_area():
    image = render_object("sphere", (0.8, 0.8, 0.8), "rubber", **_SCENE)
    assert image.shape == (64, 64, 3) and 0 <= image.min() and image.max() <= 1
    radius_pixels = 0.45 * 32  # radius 0.45 of the half width
    assert _silhouette(image).sum() == pytest.approx(np.pi * radius_pixels ** 2, rel=0.05)


def test_shapes_differ_and_the_top_faces_are_lit():
    images = {shape: render_object(shape, (0.8, 0.8, 0.8), "rubber", **_SCENE) for shape in ("cube", "sphere", "cylinder")}
    masks = {shape: _silhouette(image) for shape, image in images.items()}
    assert (masks["cube"] != masks["sphere"]).sum() > 50 and (masks["cylinder"] != masks["sphere"]).sum() > 50
    cylinder = images["cylinder"][..., 0]
    rows = np.where(masks["cylinder"].any(1))[0]
    top, bottom = cylinder[rows[2], 32], cylinder[rows[-3], 32]
    assert top > bottom  # the camera looks down: the lit top cap is at the top of the image


def test_metal_has_a_highlight_rubber_has_not():
    metal = render_object("sphere", (0.5, 0.1, 0.1), "metal", **_SCENE)
    rubber = render_object("sphere", (0.5, 0.1, 0.1), "rubber", **_SCENE)
    assert metal[..., 1].max() > 0.8 > rubber[..., 1].max()  # a white highlight on a red object


def test_generators_are_seeded_balanced_and_labelled():
    X, y = make_objects(30, size=16, random_state=1)
    assert X.shape == (30, 16, 16) and X.dtype == np.float32 and np.bincount(y).tolist() == [10, 10, 10]
    assert np.array_equal(X, make_objects(30, size=16, random_state=1)[0])
    X, y = make_nr_objects(12, size=16, random_state=0)
    assert X.shape == (12, 16, 16, 3) and y.shape == (12, 3)
    assert y[:, 0].max() < len(COLORS) and y[:, 1].max() < 3 and y[:, 2].max() < 2


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="unknown shape"):
        render_object("cone", (1, 1, 1), "rubber", **_SCENE)
    with pytest.raises(ValueError, match="unknown material"):
        render_object("cube", (1, 1, 1), "glass", **_SCENE)
