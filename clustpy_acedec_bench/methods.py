"""
The methods of the benchmark, each a function ``run(data, context) -> dict`` returning ``labels`` ((n,) or
(n, S)) and optionally ``n_cluster_dims``. Deep methods and the AE+ baselines share the context's pretrained
autoencoder (one per data set and seed, and a second one pretrained on augmented images for the "+ Aug"
methods); every deep method trains a copy of it for the same number of clustering epochs.
"""

import copy
import pickle
from dataclasses import dataclass, field

import numpy as np
import torch

from clustpy_acedec.losses import reconstruction_loss
from clustpy_acedec.pretraining import embed as encode_all
from clustpy_acedec_bench.datasets import BenchmarkDataset


#: the hidden activation of the feedforward autoencoder: clustpy's FeedforwardAutoencoder default, or DEC's ReLU
ACTIVATIONS = {"leaky_relu": torch.nn.LeakyReLU, "relu": torch.nn.ReLU}


#: Settings that cache files written before 2026-12-02 also hold, and that no longer select a file
_FORMER_CACHE_KEYS = ("device_type", "cpu_threads")


def _without_former_keys(settings: dict) -> dict:
    return {name: value for name, value in settings.items() if name not in _FORMER_CACHE_KEYS}


@dataclass
class RunContext:
    """One data set and seed: the schedule, and the autoencoders the deep methods start from (plain, and
    pretrained on augmented images)."""
    seed: int
    device: str
    pretrain_epochs: int
    clustering_epochs: int
    batch_size: int = 256
    embedding_size: int = 10
    pretraining: str = "stacked_denoising"
    linear_autoencoder: bool = False  # ACe/DeC §4: one linear layer with d = D for SYNTH-25
    network: str = "feedforward"  # or "convolutional": SmallConvAutoencoder on the images (ENRC §3.2)
    activation: str = "leaky_relu"  # of the feedforward network's hidden layers, a key of ACTIVATIONS
    init_iterations: int | None = None  # ACeDeC's initial phase / each ENRC init round; None: estimator default
    precision: str = "float32"  # of the pretraining and of our estimators (clustpy's baselines run in float32)
    subset_for_linear_methods: int = 10000  # SubKmeans / Nr-Kmeans on raw data: the papers' 10,000-point subsets
    verbose: bool = False
    autoencoder_cache: object = None  # str | Path | None: folder of pretrained weights, reused by later runs
    _autoencoders: dict = field(default_factory=dict, repr=False)  # augmented or not -> pretrained autoencoder
    _embedded: dict = field(default_factory=dict, repr=False)  # augmented or not -> enc(X)
    _network_input: object = field(default=None, repr=False)
    _data_digest: str | None = field(default=None, repr=False)  # sha256 of the network input, for the cache
    pretrain_seconds: dict = field(default_factory=dict)  # augmented or not -> seconds of that pretraining

    def autoencoder(self, data: BenchmarkDataset, augmented: bool = False) -> torch.nn.Module:
        """
        The pretrained autoencoder of this data set and seed, trained on first use; ``augmented``: the one
        pretrained on augmented images, which the "+ Aug" methods start from (as the estimators pretrain with
        ``augmentation_invariance=True``). With ``autoencoder_cache`` set, a pretraining is saved there when it
        ends and read back instead of repeated, so that a benchmark stopped during its clustering runs resumes
        without the hours of pretraining (the weights only, read with ``weights_only=True``, and only by a run
        whose settings, data and versions agree with the file's; an unusable file is pretrained anew).
        """
        if augmented not in self._autoencoders:
            import time
            from clustpy_acedec.devices import resolve_device
            start = time.perf_counter()
            torch.manual_seed(self.seed)  # pretrain() restores the global state: the same for a cached network
            host = self.network_input(data)
            autoencoder = self._untrained_autoencoder(data, host).to(resolve_device(self.device))
            seconds = path = None
            if self.autoencoder_cache is not None:
                settings = self._pretraining_settings(data, augmented)
                path = self._cache_path(data, settings)
                seconds = self._load_cached(self._cached_file(path, settings), settings, autoencoder)
            if seconds is None:
                self._pretrain(data, host, autoencoder, augmented)
                seconds = time.perf_counter() - start
                if path is not None:
                    self._save_to_cache(path, settings, autoencoder, seconds)
            self._autoencoders[augmented], self.pretrain_seconds[augmented] = autoencoder, seconds
        return self._autoencoders[augmented]

    def _pretrain(self, data: BenchmarkDataset, host: np.ndarray, autoencoder: torch.nn.Module,
                  augmented: bool) -> None:
        from clustpy_acedec.preprocessing import rotation_shift_augmentation
        from clustpy_acedec.pretraining import pretrain, resolve_pretraining
        device = next(autoencoder.parameters()).device
        generator = torch.Generator(device=device).manual_seed(self.seed)
        schedule = resolve_pretraining(self.pretraining, self.pretrain_epochs)
        augment = None
        if augmented:
            if data.image_shape is None:
                raise ValueError(f"{data.name} has no images to augment")
            channels_first = self.network == "convolutional"
            images = host if host.ndim > 2 else host.reshape(len(host), *data.image_shape)
            augment = rotation_shift_augmentation(images, channels_last=not channels_first)  # the estimators'
        pretrain(autoencoder, torch.as_tensor(host, device=device), schedule, self.pretrain_epochs, self.batch_size,
                 torch.optim.Adam, {"lr": 1e-3}, generator, verbose=self.verbose, execution=self.precision,
                 augment=augment)

    def _untrained_autoencoder(self, data: BenchmarkDataset, host: np.ndarray) -> torch.nn.Module:
        from clustpy.deep.neural_networks import FeedforwardAutoencoder
        from clustpy_acedec.networks import SmallConvAutoencoder, default_layers
        if self.network == "convolutional":
            return SmallConvAutoencoder(host.shape[1:], self.embedding_size, random_state=self.seed)
        dim = data.X.shape[1]
        layers = [dim, dim] if self.linear_autoencoder else default_layers(dim, self.embedding_size)
        return FeedforwardAutoencoder(layers=layers, activation_fn=ACTIVATIONS[self.activation],
                                      random_state=self.seed)

    def _pretraining_settings(self, data: BenchmarkDataset, augmented: bool) -> dict:
        """What defines the pretraining: a cached file is used only where all of it agrees (the data by their
        digest, the code by its versions). Not the device or the CPU threads: they change the last bits of the
        arithmetic, not the procedure, and a resumed run on another machine or thread count (with the same
        versions) should go on with the autoencoder its folder's other runs of the seed used, not average runs of
        two pretrainings in one cell."""
        import clustpy
        import clustpy_acedec
        if self._data_digest is None:
            import hashlib
            self._data_digest = hashlib.sha256(np.ascontiguousarray(self.network_input(data)).data).hexdigest()
        return {"dataset": data.name, "n_samples": int(len(data.X)), "n_features": int(data.X.shape[1]),
                "data_sha256": self._data_digest, "seed": self.seed, "augmented": bool(augmented),
                "network": self.network, "activation": self.activation,
                "linear_autoencoder": self.linear_autoencoder,
                "embedding_size": self.embedding_size, "pretraining": self.pretraining,
                "pretrain_epochs": self.pretrain_epochs, "batch_size": self.batch_size, "precision": self.precision,
                "versions": {"clustpy_acedec": str(clustpy_acedec.__version__), "clustpy": str(clustpy.__version__),
                             "torch": str(torch.__version__)}}

    def _cache_path(self, data: BenchmarkDataset, settings: dict):
        """The cache file of a pretraining: the data set, the seed and a digest of all its ``settings``."""
        import hashlib
        import json
        from pathlib import Path
        digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
        name = "".join(c if c.isalnum() else "-" for c in data.name)
        return Path(self.autoencoder_cache) / f"{name}-seed{self.seed}-{digest}.pt"

    def _cached_file(self, path, settings: dict):
        """``path``, or where it does not exist a file of the same data set and seed written before 2026-12-02,
        whose name and settings also held the device type and CPU threads (:data:`_FORMER_CACHE_KEYS`), if its
        other settings are these; else ``path``."""
        if path.is_file():
            return path
        prefix = path.name[: path.name.rindex("-") + 1]  # "<data set>-seed<seed>-"
        for candidate in sorted(path.parent.glob(f"{prefix}*.pt")):
            try:
                stored = torch.load(candidate, map_location="cpu", weights_only=True)["settings"]
            except (OSError, EOFError, RuntimeError, pickle.UnpicklingError, KeyError, TypeError):
                continue  # unreadable, or not a cache file: not this run's
            if set(_FORMER_CACHE_KEYS) <= set(stored) and _without_former_keys(stored) == settings:
                return candidate
        return path

    def _load_cached(self, path, settings: dict, autoencoder: torch.nn.Module) -> float | None:
        """
        Load the cached weights into ``autoencoder`` and mark it pretrained, as :func:`pretrain` leaves a network;
        the seconds of their pretraining, or None without a usable file (``autoencoder`` is then untouched: a
        damaged or foreign file is never half-used, and the pretraining runs again and replaces it).
        """
        if not path.is_file():
            return None
        try:
            stored = torch.load(path, map_location=next(autoencoder.parameters()).device, weights_only=True)
            if _without_former_keys(stored["settings"]) != settings:
                raise ValueError("its pretraining settings differ from this run's")
            state, expected = stored["state_dict"], autoencoder.state_dict()
            if {k: tuple(v.shape) for k, v in state.items()} != {k: tuple(v.shape) for k, v in expected.items()}:
                raise ValueError("its tensors are not this network's")
            seconds = float(stored["pretrain_seconds"])
        except Exception as error:
            import warnings
            warnings.warn(f"the cached autoencoder {path} cannot be used ({type(error).__name__}: {error}); "
                          "pretraining again", RuntimeWarning, stacklevel=2)
            return None
        autoencoder.load_state_dict(state)
        autoencoder.eval()
        autoencoder.fitted = True
        return seconds

    def _save_to_cache(self, path, settings: dict, autoencoder: torch.nn.Module, seconds: float) -> None:
        """Write the pretrained weights whole or not at all (a unique temporary file, flushed, then renamed); a
        failure to write costs the next run its pretraining, not this run its result."""
        import os
        import tempfile
        import warnings
        state = {key: value.detach().cpu() for key, value in autoencoder.state_dict().items()}
        record = {"settings": settings, "state_dict": state, "pretrain_seconds": seconds}
        partial = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor, partial = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".partial")
            with os.fdopen(descriptor, "wb") as file:
                torch.save(record, file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(partial, path)
        except OSError as error:
            warnings.warn(f"the pretrained autoencoder could not be kept in {path} ({error})", RuntimeWarning,
                          stacklevel=2)
            if partial is not None and os.path.exists(partial):
                os.remove(partial)

    def embedded(self, data: BenchmarkDataset, augmented: bool = False) -> np.ndarray:
        """enc(X) of the plain or the augmented pretrained autoencoder, computed on first use."""
        if augmented not in self._embedded:
            autoencoder = self.autoencoder(data, augmented)
            device = next(autoencoder.parameters()).device
            host = self.network_input(data)
            X = torch.as_tensor(host, device=device)
            self._embedded[augmented] = encode_all(autoencoder, X).cpu().numpy()
        return self._embedded[augmented]

    def network_input(self, data: BenchmarkDataset) -> np.ndarray:
        """The data as the network takes them: the flat rows, or (n, C, H, W) images for the convolutional AE;
        converted once per data set, since the pretraining, the embedding and every deep method need them."""
        if self._network_input is None:
            self._network_input = data.network_input(self.network)
        return self._network_input

    def fresh_autoencoder(self, data: BenchmarkDataset, augmented: bool = False) -> torch.nn.Module:
        """A copy of the pretrained autoencoder, so that no method trains the shared one."""
        return copy.deepcopy(self.autoencoder(data, augmented))

    def estimator_parameters(self) -> dict:
        """What our estimators take beyond the base's parameters: precision, and the initial phase's length."""
        params = {"precision": self.precision}
        if self.init_iterations is not None:
            params["init_iterations"] = self.init_iterations
        return params

    def subset(self, n: int, on_embedding: bool = False) -> np.ndarray:
        """The points a linear method fits on: the papers' seeded 10,000-point subset of a large raw data set
        (ACe/DeC Table 1's '*'); all points of an embedding, which the papers' AE + baselines used whole."""
        if on_embedding:
            return np.arange(n)
        rng = np.random.default_rng(self.seed)
        return np.sort(rng.choice(n, self.subset_for_linear_methods, replace=False)) \
            if n > self.subset_for_linear_methods else np.arange(n)


def _deep_params(data: BenchmarkDataset, context: RunContext, augmentation: bool = False,
                 lr_factor: float | None = None, augmented_pretraining: bool = False) -> dict:
    """Parameters every deep method shares; ``lr_factor`` γ sets the clustering learning rate to 10⁻³·γ (the
    stability study of ACe/DeC Fig. 4), otherwise clustpy's default; ``augmented_pretraining``: start from the
    autoencoder pretrained on augmented images."""
    params = dict(n_clusters=data.n_clusters[0], batch_size=context.batch_size, pretrain_epochs=0,
                  clustering_epochs=context.clustering_epochs,
                  neural_network=context.fresh_autoencoder(data, augmented=augmented_pretraining),
                  embedding_size=context.embedding_size, augmentation_invariance=augmentation, device=context.device,
                  random_state=context.seed)
    if lr_factor is not None:
        params["clustering_optimizer_params"] = {"lr": 1e-3 * lr_factor}
    return params


def _predict_all(model, X: np.ndarray, subset: np.ndarray) -> np.ndarray:
    """Labels of all points of a method fitted on a subset."""
    return model.labels_ if len(subset) == len(X) else model.predict(X)


# ------------------------------------------------------------------------------------------ raw data and AE+
def kmeans(data, context, on_embedding: bool = False, augmented_pretraining: bool = False) -> dict:
    """k-means on the raw data or (``on_embedding``) on the seed's pretrained embedding: the rows "k-means" and
    "AE + k-means"."""
    from sklearn.cluster import KMeans
    X = context.embedded(data, augmented_pretraining) if on_embedding else data.X
    return {"labels": KMeans(data.n_clusters[0], n_init=10, random_state=context.seed).fit_predict(X)}


def subkmeans(data, context, on_embedding: bool = False) -> dict:
    """clustpy's SubKmeans on the raw data or on the pretrained embedding: "SubKmeans" and "AE + SubKmeans"."""
    from clustpy.centroid import SubKmeans
    X = context.embedded(data) if on_embedding else data.X
    subset = context.subset(len(X), on_embedding)
    model = SubKmeans(data.n_clusters[0], random_state=context.seed).fit(X[subset])
    return {"labels": _predict_all(model, X, subset), "n_cluster_dims": int(model.m_)}


def nrkmeans(data, context, on_embedding: bool = False) -> dict:
    """Nr-Kmeans, best of 10 runs by its own cost (ENRC §3.4); one noise space added."""
    from clustpy.alternative import NrKmeans
    X = context.embedded(data) if on_embedding else data.X
    subset = context.subset(len(X), on_embedding)
    model = NrKmeans([*data.n_clusters, 1], n_init=10, random_state=context.seed).fit(X[subset])
    labels = _predict_all(model, X, subset)
    return {"labels": labels[:, :len(data.n_clusters)]}


def orthogonal(data, context, variant: int, on_embedding: bool = False) -> dict:
    """Orth1 / Orth2 of Cui et al. 2007 (clustpy); ENRC §3.4 runs them on the embedding."""
    from clustpy.alternative import ClusteringInOrthogonalSpaces, OrthogonalClustering
    cls = OrthogonalClustering if variant == 1 else ClusteringInOrthogonalSpaces
    model = cls(data.n_clusters, random_state=context.seed).fit(context.embedded(data) if on_embedding else data.X)
    return {"labels": model.labels_}


# ------------------------------------------------------------------------------------------ deep
def dcn(data, context, lam: float, lr_factor: float | None = None) -> dict:
    """clustpy's DCN with λ of the DCN paper: L_rec (summed over features) + λ/2 · L_clust, i.e. clustpy's
    ``clustering_loss_weight`` = λ with our estimators' L_rec, :func:`clustpy_acedec.losses.reconstruction_loss`
    (clustpy multiplies by 1/2 itself)."""
    from clustpy.deep import DCN
    model = DCN(**_deep_params(data, context, lr_factor=lr_factor), clustering_loss_weight=lam, ssl_loss_weight=1.0,
                ssl_loss_fn=reconstruction_loss).fit(context.network_input(data))
    return {"labels": model.labels_}


def dec(data, context, improved: bool = False) -> dict:
    """clustpy's DEC (``improved``: IDEC) on the seed's pretrained autoencoder, Table 2's reimplementations."""
    from clustpy.deep import DEC, IDEC
    params = _deep_params(data, context)
    model = (IDEC(**params, ssl_loss_fn=reconstruction_loss) if improved else DEC(**params)).fit(
        context.network_input(data))
    return {"labels": model.labels_}


def acedec(data, context, base: str, augmentation: bool = False, lr_factor: float | None = None,
           augmented_pretraining: bool = False) -> dict:
    """ACeDeC with clustpy's ``base`` ("DCN", "DEC", "IDEC") on the seed's pretrained autoencoder; ``lr_factor``
    scales the clustering learning rate (the paper's Fig. 4)."""
    from clustpy.deep import DCN, DEC, IDEC
    from clustpy_acedec import ACeDeC
    params = _deep_params(data, context, augmentation, lr_factor, augmented_pretraining)
    base_estimator = dict(DCN=DCN, DEC=DEC, IDEC=IDEC)[base](**params)
    model = ACeDeC(base=base_estimator, image_shape=data.image_shape, verbose=context.verbose,
                   **context.estimator_parameters()).fit(context.network_input(data))
    return {"labels": model.labels_, "n_cluster_dims": len(model.cluster_space_dims_),
            "betas": model.betas_.tolist(), "betas_init": model.betas_init_.tolist(),
            "init_screen_iterations": model.init_screen_iterations}


def enrc(data, context, augmentation: bool = False, **options) -> dict:
    """ENRC with ``options`` of the estimator (``init``, ``loss_normalization``) over its defaults; with
    ``augmentation``, from the autoencoder pretrained on augmented images."""
    from clustpy_acedec import ENRC
    params = _deep_params(data, context, augmentation, augmented_pretraining=augmentation)
    params.pop("n_clusters")
    params.update(options)
    model = ENRC(n_clusters=data.n_clusters, image_shape=data.image_shape, verbose=context.verbose,
                 **context.estimator_parameters(), **params).fit(context.network_input(data))
    return {"labels": model.labels_, "betas": model.betas_.tolist(), "betas_init": model.betas_init_.tolist()}


@dataclass(frozen=True)
class Method:
    """A row of the benchmark: its name in the reports and the function that runs it on a data set."""

    name: str
    run: object
    kwargs: dict
    multi: bool = False  # finds several clusterings (needs a data set with several labelings)
    deep: bool = False

    @property
    def uses_autoencoder(self) -> bool:
        """Deep methods and the baselines on the pretrained embedding: they need the shared autoencoder."""
        return self.deep or self.kwargs.get("on_embedding", False)

    @property
    def augmented_autoencoder(self) -> bool:
        """Whether it starts from the autoencoder pretrained on augmented images."""
        return self.kwargs.get("augmented_pretraining", False)


def _method(name, run, multi=False, deep=False, **kwargs) -> Method:
    return Method(name, run, kwargs, multi, deep)


#: ACe/DeC Fig. 4: clustering learning rates 10⁻³·γ
LR_FACTORS = (0.1, 0.5, 0.9)

#: ENRC with our options (not in the paper): the Nr-Kmeans start, the loss normalisation that does not grow with K_s
ENRC_VARIANTS = ["ENRC (Nr-Kmeans start)", "ENRC (points)", "ENRC (Nr-Kmeans start, points)", "ENRC (best start)",
                 "ENRC (best start, points)", "ENRC (best start, points, unscreened)"]

#: name -> Method; names as in the papers' tables ("@γ=..." for the learning-rate study of Fig. 4).
METHODS = {m.name: m for m in [
    _method("k-means", kmeans),
    _method("SubKmeans", subkmeans),
    _method("AE + k-means", kmeans, on_embedding=True),
    _method("AE (Aug) + k-means", kmeans, on_embedding=True, augmented_pretraining=True),
    _method("AE + SubKmeans", subkmeans, on_embedding=True),
    *[_method(f"DCN (λ={lam})", dcn, deep=True, lam=lam) for lam in (0.1, 1.0, 10.0)],
    _method("DEC", dec, deep=True),
    _method("IDEC", dec, deep=True, improved=True),
    *[_method(f"ACe/DeC+{base}", acedec, deep=True, base=base) for base in ("DCN", "DEC", "IDEC")],
    *[_method(f"ACe/DeC+{base} + Aug", acedec, deep=True, base=base, augmentation=True,
              augmented_pretraining=True) for base in ("DCN", "DEC", "IDEC")],
    # ablation: the augmentation of the clustering phase alone, from the plain autoencoder
    _method("ACe/DeC+DCN + Aug (plain AE)", acedec, deep=True, base="DCN", augmentation=True),
    *[_method(f"ACe/DeC+DCN @γ={gamma}", acedec, deep=True, base="DCN", lr_factor=gamma) for gamma in LR_FACTORS],
    *[_method(f"DCN (λ={lam}) @γ={gamma}", dcn, deep=True, lam=lam, lr_factor=gamma)
      for lam in (0.1, 1.0, 10.0) for gamma in LR_FACTORS],
    _method("ENRC", enrc, multi=True, deep=True, init="random", loss_normalization="cluster_size"),  # the paper's
    # each variant names both options: with ENRC's defaults (best, points) an unnamed one would not be the paper's
    _method("ENRC (Nr-Kmeans start)", enrc, multi=True, deep=True, init="nrkmeans", loss_normalization="cluster_size"),
    _method("ENRC (points)", enrc, multi=True, deep=True, init="random", loss_normalization="points"),
    _method("ENRC (Nr-Kmeans start, points)", enrc, multi=True, deep=True, init="nrkmeans",
            loss_normalization="points"),
    _method("ENRC (best start)", enrc, multi=True, deep=True, init="best", loss_normalization="cluster_size"),
    _method("ENRC (best start, points)", enrc, multi=True, deep=True, init="best", loss_normalization="points"),
    # the defaults with every initial candidate trained through the whole phase, as the paper does (§2.6)
    _method("ENRC (best start, points, unscreened)", enrc, multi=True, deep=True, init="best",
            loss_normalization="points", init_screen_iterations=0),
    _method("Nr-Kmeans", nrkmeans, multi=True),
    _method("AE + Nr-Kmeans", nrkmeans, multi=True, on_embedding=True),
    _method("Orth1", orthogonal, multi=True, variant=1, on_embedding=True),
    _method("Orth2", orthogonal, multi=True, variant=2, on_embedding=True),
]}
