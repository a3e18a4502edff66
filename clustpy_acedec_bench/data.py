"""
Data preparation for the benchmark and the demo: the synthetic SYNTH-25 of ACe/DeC, C-MNIST, GTSRB's grey
equalised images, the rendered OBJECTS and NR-Objects (ray casting in :mod:`clustpy_acedec_bench.render`,
re-exported here) and offline loading of the benchmark .npz files. The channel-wise z-transformation of ENRC
§3.1, which users of the estimators apply to their own images, is in the core:
:func:`clustpy_acedec.preprocessing.channel_zscore`.
"""

import os
from pathlib import Path

import numpy as np

from clustpy_acedec_bench.render import make_nr_objects, make_objects

__all__ = ["make_synth", "make_concatenated_mnist", "make_objects", "make_nr_objects", "load_npz", "default_data_dir",
           "scale_images", "equalize_histogram", "grey_resized"]

#: Offline benchmark data (see ../shared/data/MANIFEST.md): name -> file name.
NPZ_FILES = {"mnist": "mnist.npz", "fashion_mnist": "fashion_mnist.npz", "usps": "usps.npz",
             "cmu_faces": "cmu_faces_4.npz", "gtsrb": "gtsrb_test_35x35.npz"}


def make_synth(n_noise_dims: int = 25, n_samples: int = 12000, cluster_distance: float = 8.0,
               noise_std: float = 3.9, random_state: int | np.random.RandomState | None = None) -> tuple:
    """
    SYNTH-25 of ACe/DeC (§4, Fig. 1a): four well-separated Gaussian clusters in two dimensions plus
    ``n_noise_dims`` independent unimodal Gaussian dimensions without cluster structure.

    The paper leaves the variances to its supplement. The defaults are calibrated so that k-means on the
    raw 27-D data reaches an NMI of about 0.9 over seeds (Table 1: 0.90 ± 0.16): the four clusters sit on
    the corners of a square of side ``cluster_distance`` with unit variance, and the noise dimensions have
    standard deviation ``noise_std``, so that 25 of them are enough to mislead k-means now and then.
    ``n_noise_dims`` = 0 ... 25 gives the sweep of Fig. 1a.

    Parameters
    ----------
    n_noise_dims : int
        number of dimensions without cluster structure (default: 25)
    n_samples : int
        number of points, split evenly over the four clusters (default: 12000)
    cluster_distance : float
        side of the square whose corners are the cluster means (default: 8.0)
    noise_std : float
        standard deviation of the noise dimensions (default: 3.9)
    random_state : int | np.random.RandomState | None
        seed (default: None)

    Returns
    -------
    tuple : (np.ndarray, np.ndarray)
        data (n_samples, 2 + n_noise_dims) as float32, labels (n_samples,)
    """
    from sklearn.utils import check_random_state
    rng = check_random_state(random_state)
    labels = np.arange(n_samples) % 4
    corners = cluster_distance / 2.0 * np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]], dtype=float)
    clustered = corners[labels] + rng.standard_normal((n_samples, 2))
    noise = noise_std * rng.standard_normal((n_samples, n_noise_dims))
    X = np.hstack([clustered, noise]).astype(np.float32)
    order = rng.permutation(n_samples)
    return X[order], labels[order]


def anisotropic_linear_autoencoder(scales: np.ndarray):
    """
    A fitted linear autoencoder that multiplies feature i by ``scales[i]`` and decodes exactly: the embedding of
    SYNTH-like data through an autoencoder that has shrunk the cluster directions and stretched the noise, which
    costs a linear autoencoder nothing in reconstruction (docs/design.md, "Initial candidates").

    Parameters
    ----------
    scales : np.ndarray
        one positive factor per feature

    Returns
    -------
    clustpy.deep.neural_networks.FeedforwardAutoencoder
        marked ``fitted``, so that a fit does not pretrain it
    """
    import torch
    from clustpy.deep.neural_networks import FeedforwardAutoencoder
    scales = np.asarray(scales, dtype=np.float32)
    autoencoder = FeedforwardAutoencoder(layers=[len(scales), len(scales)])
    encoder, decoder = autoencoder.encoder.block[0], autoencoder.decoder.block[0]
    with torch.no_grad():
        encoder.weight.copy_(torch.diag(torch.as_tensor(scales)))
        decoder.weight.copy_(torch.diag(torch.as_tensor(1.0 / scales)))
        encoder.bias.zero_()
        decoder.bias.zero_()
    autoencoder.fitted = True
    return autoencoder


def default_data_dir() -> Path | None:
    """``$CLUSTPY_ACEDEC_DATA`` if set, else a ``shared/data`` folder beside or above the working directory."""
    env = os.environ.get("CLUSTPY_ACEDEC_DATA")
    if env:
        return Path(env)
    for parent in [Path.cwd(), *Path.cwd().parents]:
        for candidate in (parent / "shared" / "data", parent.parent / "shared" / "data"):
            if candidate.is_dir():
                return candidate
    return None


def load_npz(name: str, data_dir: str | Path | None = None, subset: str = "all") -> tuple:
    """
    Load one of the offline benchmark sets (``NPZ_FILES``) from a folder of .npz files.

    Parameters
    ----------
    name : str
        "mnist", "fashion_mnist", "usps", "cmu_faces" or "gtsrb"
    data_dir : str | Path | None
        the folder; None: :func:`default_data_dir`
    subset : str
        "all", "train" or "test" (the official split, where the file records ``n_train``)

    Returns
    -------
    tuple : (np.ndarray, np.ndarray)
        images (n, H, W) or (n, H, W, C) as stored, labels (n,) or (n, L)

    Raises
    ------
    FileNotFoundError
        if the file is not in the folder
    """
    if name not in NPZ_FILES:
        raise ValueError(f"unknown data set {name!r}; known: {sorted(NPZ_FILES)}")
    folder = Path(data_dir) if data_dir is not None else default_data_dir()
    if folder is None or not (folder / NPZ_FILES[name]).is_file():
        raise FileNotFoundError(f"{NPZ_FILES[name]} not found in {folder}; pass data_dir or set CLUSTPY_ACEDEC_DATA")
    with np.load(folder / NPZ_FILES[name]) as archive:
        data, labels = archive["data"], archive["labels"]
        n_train = int(archive["n_train"]) if "n_train" in archive else None
    if subset != "all":
        if n_train is None:
            raise ValueError(f"{name} has no official train/test split")
        part = slice(0, n_train) if subset == "train" else slice(n_train, None)
        data, labels = data[part], labels[part]
    return data, labels


def scale_images(images: np.ndarray) -> np.ndarray:
    """Images as float32 in [0, 1] (uint8 images are divided by 255)."""
    images = images.astype(np.float32)
    return images / 255.0 if images.max() > 1.0 else images


def make_concatenated_mnist(images: np.ndarray, labels: np.ndarray, n_samples: int = 60000,
                            random_state: int | np.random.RandomState | None = None) -> tuple:
    """
    C-MNIST (ENRC §3.1): two MNIST digits side by side, padded with black rows to 56 x 56, so that the left
    and the right digit are two independent labelings (100 combinations).

    Parameters
    ----------
    images : np.ndarray
        MNIST digits (n, 28, 28), e.g. the training part of ``load_npz("mnist")``
    labels : np.ndarray
        their digits (n,)
    n_samples : int
        number of pairs (ENRC Table 2: 60,000) (default: 60000)
    random_state : int | np.random.RandomState | None
        seed (default: None)

    Returns
    -------
    tuple : (np.ndarray, np.ndarray)
        images (n_samples, 56, 56) of the input's dtype, labels (n_samples, 2): left and right digit
    """
    from sklearn.utils import check_random_state
    rng = check_random_state(random_state)
    left, right = rng.randint(0, len(images), n_samples), rng.randint(0, len(images), n_samples)
    pairs = np.zeros((n_samples, 56, 56), dtype=images.dtype)
    pairs[:, 14:42, :28] = images[left]
    pairs[:, 14:42, 28:] = images[right]
    return pairs, np.stack([labels[left], labels[right]], axis=1)


def equalize_histogram(images: np.ndarray) -> np.ndarray:
    """
    Per-image histogram equalisation of grey uint8 images (n, H, W): every image's grey values are mapped
    through its own cumulative histogram, which lifts the low contrast of real-world photos (ENRC §3.1, GTSRB).
    """
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(f"expected grey uint8 images (n, H, W), got {images.dtype} {images.shape}")
    flat = images.reshape(len(images), -1)
    counts = np.stack([np.bincount(row, minlength=256) for row in flat])
    cdf = counts.cumsum(axis=1)
    cdf_min = np.where(counts > 0, cdf, cdf[:, -1:]).min(axis=1, keepdims=True)
    lookup = np.round(255 * (cdf - cdf_min) / np.maximum(cdf[:, -1:] - cdf_min, 1)).clip(0, 255).astype(np.uint8)
    return np.take_along_axis(lookup, flat.astype(np.int64), axis=1).reshape(images.shape)


def grey_resized(images: np.ndarray, size: tuple) -> np.ndarray:
    """RGB uint8 images (n, H, W, 3) as grey uint8 images (n, *size): ITU-R 601 luminance, area-averaged resize."""
    import torch
    grey = np.asarray(images, dtype=np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    resized = torch.nn.functional.interpolate(torch.from_numpy(grey)[:, None], size=size, mode="area")[:, 0]
    return resized.round().clamp(0, 255).to(torch.uint8).numpy()
