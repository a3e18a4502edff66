"""
The benchmark's data sets: offline first (.npz files of a data folder, data bundled in clustpy, generators
of this package), clustpy's online loaders only as a announced fallback.
"""

import re
from dataclasses import dataclass, field
import numpy as np

from clustpy_acedec.preprocessing import channel_zscore
from clustpy_acedec_bench.data import (equalize_histogram, grey_resized, load_npz, make_concatenated_mnist, make_synth,
                                       scale_images)


@dataclass
class BenchmarkDataset:
    """A data set as the methods take it: flat features, labels with one column per ground-truth clustering."""
    name: str
    X: np.ndarray  # (n, D) float32
    labels: np.ndarray  # (n, L) int
    image_shape: tuple | None = None  # (H, W) or (H, W, C) for image data
    source: str = ""
    notes: list = field(default_factory=list)

    @property
    def n_clusters(self) -> list:
        """The number of clusters of each ground truth (one per column of ``labels``)."""
        return [len(np.unique(self.labels[:, g])) for g in range(self.labels.shape[1])]

    @property
    def is_multi(self) -> bool:
        """Whether the data set has several ground truths (a non-redundant clustering task)."""
        return self.labels.shape[1] > 1

    def network_input(self, network: str) -> np.ndarray:
        """``X`` for a "feedforward" network; (n, C, H, W) contiguous images for a "convolutional" one."""
        if network == "feedforward":
            return self.X
        if network != "convolutional":
            raise ValueError(f"network must be 'feedforward' or 'convolutional', got {network!r}")
        if self.image_shape is None:
            raise ValueError(f"{self.name} has no image shape; it needs network='feedforward'")
        height, width, *channels = self.image_shape
        images = self.X.reshape(len(self.X), height, width, channels[0] if channels else 1)
        return np.ascontiguousarray(images.transpose(0, 3, 1, 2))


def _images(name: str, images: np.ndarray, labels: np.ndarray, source: str, zscore: bool = False):
    images = channel_zscore(images) if zscore else scale_images(images)
    labels = np.asarray(labels).reshape(len(labels), -1).astype(np.int64)
    return BenchmarkDataset(name, images.reshape(len(images), -1), labels, tuple(images.shape[1:]), source)


def _synth(seed: int, data_dir, n_noise_dims: int = 25):
    X, y = make_synth(n_noise_dims=n_noise_dims, random_state=seed)
    return BenchmarkDataset(f"SYNTH-{n_noise_dims}", X, y[:, None], None, "generated: clustpy_acedec_bench.data.make_synth")


def _digits(seed: int, data_dir):
    """scikit-learn's 8 x 8 digits (1,797 images) scaled to [0, 1]: the small first contact of issue 20."""
    from sklearn.datasets import load_digits
    X, y = load_digits(return_X_y=True)
    return BenchmarkDataset("digits", (X / 16.0).astype(np.float32), y[:, None].astype(np.int64), (8, 8),
                            "scikit-learn's load_digits (bundled), divided by 16")


def _blobs_noise(seed: int, data_dir, n_samples: int = 2000, n_noise_dims: int = 30):
    """Five Gaussian blobs in 5 dimensions beside 30 dimensions of Gaussian noise as wide as the blobs' spread
    (issue 20's second small case): a centroid method on all 35 dimensions mostly sees the noise."""
    from sklearn.datasets import make_blobs
    rng = np.random.default_rng(seed)
    X, y = make_blobs(n_samples, n_features=5, centers=5, random_state=seed)
    noise = rng.normal(scale=X.std(0).mean(), size=(n_samples, n_noise_dims))
    X = np.hstack([X, noise]).astype(np.float32)
    X = (X - X.mean(0)) / X.std(0)
    return BenchmarkDataset("blobs-noise", X, y[:, None].astype(np.int64), None,
                            "generated: 5 blobs in 5-D (sklearn make_blobs) + 30 Gaussian noise dimensions, z-scored")


def _usps_first(seed: int, data_dir, n_samples: int = 4000):
    """The first 4,000 USPS images, z-scored (``channel_zscore``): issue 20's medium first contact."""
    images, labels, source = load_images("usps", data_dir)
    return _images("USPS-4000", images[:n_samples], labels[:n_samples], f"{source}: the first {n_samples} images",
                   zscore=True)


#: clustpy's online loader of each .npz file, the image shape of its flat rows and its fixed arguments (our GTSRB
#: file holds the final-test images at 35 x 35; clustpy's CMU faces have no train/test split).
_ONLINE = {"mnist": ("load_mnist", (28, 28), {}), "fashion_mnist": ("load_fmnist", (28, 28), {}),
           "usps": ("load_usps", (16, 16), {}), "cmu_faces": ("load_cmu_faces", (30, 32), {}),
           "gtsrb": ("load_gtsrb", (35, 35, 3), {"subset": "test", "image_size": (35, 35)})}


#: Starts the source of a data set that clustpy's loader downloaded; load_dataset puts such a source in the notes.
DOWNLOADED = "downloaded by"


def load_images(file_key: str, data_dir, subset: str = "all") -> tuple:
    """
    (images, labels, source) of one of the data folder's .npz files; where the file is missing, from clustpy's
    online loader (which downloads), with a printed notice and a source that says so.
    """
    try:
        images, labels = load_npz(file_key, data_dir, subset=subset)
        return images, labels, f"{file_key}.npz ({subset})"
    except FileNotFoundError as missing:
        import clustpy.data
        loader, shape, fixed = _ONLINE[file_key]
        print(f"{missing}; falling back to clustpy.data.{loader}, which downloads")
        kwargs = dict(fixed) if subset == "all" or "subset" in fixed else dict(fixed, subset=subset)
        X, labels = getattr(clustpy.data, loader)(return_X_y=True, **kwargs)
        return X.reshape(len(X), *shape), labels, f"{DOWNLOADED} clustpy.data.{loader}({kwargs}): {missing}"


def _npz(file_key: str, display: str, subset: str = "all"):
    def load(seed: int, data_dir):
        return _images(display, *load_images(file_key, data_dir, subset=subset))
    return load


#: ENRC §3.1: 'Speed limit (70km/h)', 'No passing' (red), 'Ahead only', 'Keep right' (blue)
GTSRB_SIGNS = np.array([4, 9, 35, 38])


def _gtsrb(seed: int, data_dir):
    """ENRC's GTSRB: the four signs, labelled by type and colour; grey 32 x 32 (1,024 features, ENRC Table 2),
    histogram-equalised and z-scored (§3.1)."""
    images, labels, source = load_images("gtsrb", data_dir)
    keep = np.isin(labels, GTSRB_SIGNS)
    images, labels = images[keep], labels[keep]
    red = np.isin(labels, GTSRB_SIGNS[:2]).astype(np.int64)
    grey = equalize_histogram(grey_resized(images, (32, 32)))
    data = _images("GTSRB", grey, np.stack([np.searchsorted(GTSRB_SIGNS, labels), red], axis=1),
                   f"{source}: signs 4, 9, 35, 38; grey 32x32, histogram-equalised", zscore=True)
    data.notes.append(f"{len(grey)} images of the GTSRB final-test set (paper: 6,720 from train and test)")
    return data


def _clustpy(loader_name: str, display: str, image_shape: tuple | None = None):
    """A data set bundled in clustpy; ``image_shape`` for those whose rows are images."""
    def load(seed: int, data_dir):
        import clustpy.data
        X, labels = getattr(clustpy.data, loader_name)(return_X_y=True)
        data = _images(display, X, labels, f"clustpy.data.{loader_name} (bundled)")
        data.image_shape = image_shape
        return data
    return load


def _objects(seed: int, data_dir):
    from clustpy_acedec_bench.render import make_objects
    images, labels = make_objects(random_state=0)  # one fixed data set; the seed varies the methods
    return _images("OBJECTS", images, labels, "generated: clustpy_acedec_bench.render.make_objects (64x64 grey)")


def _nr_objects(seed: int, data_dir):
    from clustpy_acedec_bench.render import make_nr_objects
    images, labels = make_nr_objects(random_state=0)
    data = _images("NR-Objects", images, labels, "generated: clustpy_acedec_bench.render.make_nr_objects", zscore=True)
    data.notes.append("our ray-cast renders, 64x64 RGB (paper: CLEVR renders, 16,384 features)")
    return data


def _c_mnist(seed: int, data_dir):
    images, labels, source = load_images("mnist", data_dir, subset="train")
    pairs, pair_labels = make_concatenated_mnist(images, labels, random_state=seed)
    return _images("C-MNIST", pairs, pair_labels, f"generated from {source} by make_concatenated_mnist")


#: The names of the ground-truth labelings, in the order of the loaders' label columns, where a paper's table
#: lists them in another order (ENRC Table 1: NR-Objects as color, material, shape; make_nr_objects' columns are
#: color, shape, material, the order of ENRC Table 2).
LABELING_NAMES = {"NR-Objects": ("color", "shape", "material")}

#: name -> loader(seed, data_dir); the ACe/DeC and ENRC data sets available offline.
LOADERS = {
    "SYNTH-25": _synth,
    "MNIST": _npz("mnist", "MNIST"),
    "MNIST-Test": _npz("mnist", "MNIST-Test", subset="test"),
    "FMNIST": _npz("fashion_mnist", "FMNIST"),
    "USPS": _npz("usps", "USPS"),
    "GTSRB": _gtsrb,
    "CMU faces": _npz("cmu_faces", "CMU faces"),
    "stickfigures": _clustpy("load_stickfigures", "stickfigures", image_shape=(20, 20)),
    "nrLetters": _clustpy("load_nrletters", "nrLetters"),
    "C-MNIST": _c_mnist,
    "OBJECTS": _objects,
    "NR-Objects": _nr_objects,
    "digits": _digits,
    "blobs-noise": _blobs_noise,
    "USPS-4000": _usps_first,
}


def load_dataset(name: str, seed: int = 0, data_dir=None, max_samples: int | None = None) -> BenchmarkDataset:
    """
    Load a benchmark data set.

    Parameters
    ----------
    name : str
        one of ``LOADERS``, or "SYNTH-<k>" for SYNTH with k noise dimensions
    seed : int
        seed of generated data and of the subset (default: 0)
    data_dir : str | Path | None
        folder of the .npz files (default: ``$CLUSTPY_ACEDEC_DATA`` or ../shared/data)
    max_samples : int | None
        keep a random, seeded subset of at most this many points (default: None)

    Returns
    -------
    BenchmarkDataset
    """
    sweep = re.fullmatch(r"SYNTH-(\d+)", name)  # the noise-dimension sweep of ACe/DeC Fig. 1a
    if name not in LOADERS and not sweep:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(LOADERS)}, SYNTH-<noise dimensions>")
    data = _synth(seed, data_dir, int(sweep.group(1))) if sweep else LOADERS[name](seed, data_dir)
    if DOWNLOADED in data.source:  # the report's notes say where the data came from (C-MNIST: inside its source)
        data.notes.append(data.source)
    if max_samples is not None and len(data.X) > max_samples:
        keep = np.sort(np.random.default_rng(seed).choice(len(data.X), max_samples, replace=False))
        data.X, data.labels = data.X[keep], data.labels[keep]
        data.notes.append(f"random subset of {max_samples} points")
    return data
