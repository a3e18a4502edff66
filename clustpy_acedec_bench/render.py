"""
A small, dependency-free ray caster for the synthetic image sets of the papers: OBJECTS (ACe/DeC §4: grey
cubes, spheres and cylinders under random lighting) and NR-Objects (ENRC §3.1: shape x colour x material,
rendered in the papers with CLEVR's Blender scenes, which are not available here).

Every image shows one object, seen by an orthographic camera that looks down at 30°; the object turns about
its vertical axis, moves and scales a little, and a directional light comes from a random direction above.
Rays are cast per pixel (vectorised with numpy) at twice the resolution and averaged down (anti-aliasing).
"""

import numpy as np

SHAPES = ("cube", "sphere", "cylinder")
MATERIALS = ("rubber", "metal")
#: six of CLEVR's colours (RGB in [0, 1])
COLORS = {"gray": (0.5, 0.5, 0.5), "red": (0.68, 0.14, 0.14), "blue": (0.16, 0.29, 0.84),
          "green": (0.11, 0.41, 0.08), "yellow": (1.0, 0.93, 0.2), "purple": (0.51, 0.15, 0.75)}

_CAMERA_PITCH = np.deg2rad(30.0)
_FAR = np.inf


def _rotation(yaw: float) -> np.ndarray:
    """Object-to-camera rotation: turn about the vertical axis, then tilt by the camera's pitch."""
    cy, sy = np.cos(yaw), np.sin(yaw)
    turn = np.array([[cy, -sy, 0.0], [sy, cy, 0.0], [0.0, 0.0, 1.0]])  # object z is "up"
    cp, sp = np.cos(_CAMERA_PITCH), np.sin(_CAMERA_PITCH)
    # camera: x right, y up, z towards the viewer; object "up" leans towards the viewer by the pitch, so the
    # top face is visible
    tilt = np.array([[1.0, 0.0, 0.0], [0.0, cp, -sp], [0.0, sp, cp]]) @ np.array(
        [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
    return tilt @ turn


def _finite(t: np.ndarray) -> np.ndarray:
    """Ray parameters with misses (inf) set to 0, so that hit points of missing rays stay finite (and unused)."""
    return np.where(np.isfinite(t), t, 0.0)


def _hit_sphere(o: np.ndarray, d: np.ndarray, radius: float) -> tuple:
    b = o @ d
    disc = b ** 2 - ((o ** 2).sum(1) - radius ** 2)
    t = np.where(disc >= 0, -b - np.sqrt(np.maximum(disc, 0)), _FAR)
    return t, (o + _finite(t)[:, None] * d) / radius


def _hit_cube(o: np.ndarray, d: np.ndarray, half: float) -> tuple:
    with np.errstate(divide="ignore", invalid="ignore"):
        t1, t2 = (-half - o) / d, (half - o) / d
    near, far = np.minimum(t1, t2), np.maximum(t1, t2)
    near = np.nan_to_num(near, nan=-_FAR)
    t_near, t_far = near.max(1), np.nan_to_num(far, nan=_FAR).min(1)
    t = np.where((t_near <= t_far) & (t_far > 0), t_near, _FAR)
    axis = near.argmax(1)
    normal = np.zeros_like(o)
    normal[np.arange(len(o)), axis] = -np.sign(d[axis])
    return t, normal


def _hit_cylinder(o: np.ndarray, d: np.ndarray, radius: float, half_height: float) -> tuple:
    a = d[0] ** 2 + d[1] ** 2
    b = o[:, 0] * d[0] + o[:, 1] * d[1]
    c = o[:, 0] ** 2 + o[:, 1] ** 2 - radius ** 2
    disc = b ** 2 - a * c
    t_side = np.where(disc >= 0, (-b - np.sqrt(np.maximum(disc, 0))) / max(a, 1e-12), _FAR)
    z_side = o[:, 2] + t_side * d[2]
    t_side = np.where(np.abs(z_side) <= half_height, t_side, _FAR)
    cap_z = -np.sign(d[2]) * half_height  # the cap that faces the ray
    t_cap = (cap_z - o[:, 2]) / d[2] if abs(d[2]) > 1e-12 else np.full(len(o), _FAR)
    p_cap = o + _finite(t_cap)[:, None] * d
    t_cap = np.where(p_cap[:, 0] ** 2 + p_cap[:, 1] ** 2 <= radius ** 2, t_cap, _FAR)
    t = np.minimum(t_side, t_cap)
    p = o + _finite(t_side)[:, None] * d
    side_normal = np.stack([p[:, 0], p[:, 1], np.zeros(len(o))], 1) / radius
    cap_normal = np.tile([0.0, 0.0, np.sign(cap_z)], (len(o), 1))
    return t, np.where((t_cap < t_side)[:, None], cap_normal, side_normal)


def render_object(shape: str, color: tuple, material: str, yaw: float, light: np.ndarray, offset: np.ndarray,
                  scale: float, size: int = 64, background: float = 0.35) -> np.ndarray:
    """
    One RGB image (size, size, 3) in [0, 1] of one object.

    Parameters
    ----------
    shape : str
        "cube", "sphere" or "cylinder"
    color : tuple
        RGB of the surface, in [0, 1]
    material : str
        "rubber" (diffuse) or "metal" (darker diffuse, sharp specular highlight)
    yaw : float
        rotation about the vertical axis, radians
    light : np.ndarray
        unit vector towards the light, camera coordinates
    offset : np.ndarray
        (x, y) shift of the object in the image plane, in units of the half image width
    scale : float
        size factor of the object (1 = the default size)
    size : int
        image side in pixels (default: 64)
    background : float
        grey value of the background (default: 0.35)
    """
    n = 2 * size  # rendered at twice the resolution, then averaged
    coords = (np.arange(n) + 0.5) / n * 2 - 1
    x, y = np.meshgrid(coords, -coords)
    origin = np.stack([x.ravel() - offset[0], y.ravel() - offset[1], np.full(n * n, 5.0)], 1)
    rotation = _rotation(yaw)
    o, d = origin @ rotation, np.array([0.0, 0.0, -1.0]) @ rotation  # into object coordinates
    r = 0.45 * scale
    if shape == "sphere":
        t, normal = _hit_sphere(o, d, r)
    elif shape == "cube":
        t, normal = _hit_cube(o, d, 0.8 * r)
    elif shape == "cylinder":
        t, normal = _hit_cylinder(o, d, 0.8 * r, 0.8 * r)
    else:
        raise ValueError(f"unknown shape {shape!r}; known: {SHAPES}")
    normal = normal @ rotation.T  # back to camera coordinates
    lambert = np.clip(normal @ light, 0, None)
    halfway = (light + np.array([0.0, 0.0, 1.0])) / np.linalg.norm(light + np.array([0.0, 0.0, 1.0]))
    if material == "metal":
        diffuse, specular = 0.15 + 0.45 * lambert, np.clip(normal @ halfway, 0, None) ** 40
    elif material == "rubber":
        diffuse, specular = 0.25 + 0.75 * lambert, 0.05 * np.clip(normal @ halfway, 0, None) ** 4
    else:
        raise ValueError(f"unknown material {material!r}; known: {MATERIALS}")
    shaded = diffuse[:, None] * np.asarray(color)[None, :] + specular[:, None]
    image = np.where(np.isfinite(t)[:, None], shaded, background).reshape(n, n, 3)
    return np.clip(image.reshape(size, 2, size, 2, 3).mean((1, 3)), 0, 1)


def _random_scene(rng: np.random.RandomState, azimuth_spread: float = np.pi, elevation: tuple = (20.0, 70.0),
                  max_offset: float = 0.15, scale: tuple = (0.85, 1.15)) -> dict:
    """
    Lighting jitter and pose: a light from above whose azimuth lies within ``azimuth_spread`` of the camera's
    side and whose elevation (degrees) lies in ``elevation``; a turn about the vertical axis, a shift of at most
    ``max_offset`` and a size factor in ``scale``.
    """
    azimuth = np.pi / 2 + rng.uniform(-azimuth_spread, azimuth_spread)
    height = np.deg2rad(rng.uniform(*elevation))
    light = np.array([np.cos(height) * np.cos(azimuth), np.sin(height), np.cos(height) * np.sin(azimuth)])
    light[2] = abs(light[2]) + 0.2  # from the camera's side, so the object is never black
    return dict(yaw=rng.uniform(0, 2 * np.pi), light=light / np.linalg.norm(light),
                offset=rng.uniform(-max_offset, max_offset, 2), scale=rng.uniform(*scale))


def make_objects(n_samples: int = 10000, size: int = 64, random_state=None) -> tuple:
    """
    OBJECTS (ACe/DeC §4): grey renders of cubes, spheres and cylinders under random lighting; the clusters are
    the shapes, everything else (light, turn, size) is shared detail. The objects are centred, large and on a
    black background, so that the silhouette dominates the pixels: the paper's k-means separates its OBJECTS
    (NMI 1.00), and on these k-means separates most of them (docs/benchmarks.md), while the lighting
    still changes every pixel of the object.

    Returns
    -------
    tuple : (np.ndarray, np.ndarray)
        images (n_samples, size, size) float32 in [0, 1] (64 x 64 = 4,096 features by default), shape labels
    """
    from sklearn.utils import check_random_state
    rng = check_random_state(random_state)
    shapes = np.arange(n_samples) % len(SHAPES)
    rng.shuffle(shapes)
    images = np.empty((n_samples, size, size), dtype=np.float32)
    for i, shape in enumerate(shapes):
        scene = _random_scene(rng, azimuth_spread=np.pi / 3, elevation=(30.0, 60.0), max_offset=0.0, scale=(1.25, 1.35))
        images[i] = render_object(SHAPES[shape], (0.8, 0.8, 0.8), "rubber", size=size, background=0.0, **scene)[..., 0]
    return images, shapes.astype(np.int64)


def make_nr_objects(n_samples: int = 10000, size: int = 64, random_state=None) -> tuple:
    """
    NR-Objects (ENRC §3.1): objects with three non-redundant labelings, colour (6), shape (3) and material (2),
    drawn independently, under jittered lighting and pose. The paper used CLEVR's renderer (16,384 features);
    these are 64 x 64 RGB images (12,288 features) of this package's ray caster.

    Returns
    -------
    tuple : (np.ndarray, np.ndarray)
        images (n_samples, size, size, 3) float32 in [0, 1]; labels (n_samples, 3): colour, shape, material
    """
    from sklearn.utils import check_random_state
    rng = check_random_state(random_state)
    labels = np.stack([rng.randint(0, len(COLORS), n_samples), rng.randint(0, len(SHAPES), n_samples),
                       rng.randint(0, len(MATERIALS), n_samples)], axis=1).astype(np.int64)
    palette = list(COLORS.values())
    images = np.empty((n_samples, size, size, 3), dtype=np.float32)
    for i, (color, shape, material) in enumerate(labels):
        images[i] = render_object(SHAPES[shape], palette[color], MATERIALS[material], size=size, **_random_scene(rng))
    return images, labels
