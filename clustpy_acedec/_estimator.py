"""
What ACeDeC and ENRC share as scikit-learn estimators: the fit pipeline (checks, device, seeding,
autoencoder, pretraining, initialisation, clustering phase) and embedding helpers for predict/transform.
"""

from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from clustpy_acedec._validation import check_bool, check_choice, check_data, resolve_device, seed_from
from clustpy_acedec.augmentation import RandomRotationShift
from clustpy_acedec.execution import PRECISIONS, Execution, make_optimizer
from clustpy_acedec.model import SubspaceClusteringModel
from clustpy_acedec.placement import PLACEMENT_MODES, DataPlacement, place
from clustpy_acedec.pretraining import pretrain
from clustpy_acedec.training import encode_all, train_clustering

#: Marks files written by ``save``.
_SAVE_FORMAT = "clustpy-acedec-estimator/1"

#: ENRC §3.2: β is learned faster than the network, "so that the feature space soft-assignments are updated
#: faster" (the paper starts β at 0.01 and does not give the network's rate of the clustering phase). β's
#: rate is this factor times the phase's rate: 0.01 in the initial phase (network rate 1e-3) and 1e-3 in the
#: clustering phase at clustpy's default 1e-4 (USPS, seeds 5-9: factor 1 and 10 give the same NMI).
BETA_LR_FACTOR = 10.0


#: numpydoc of the parameters on where and how a fit runs, the same for ACeDeC and ENRC (filled into their
#: docstrings by :func:`document_execution_parameters`)
EXECUTION_PARAMETERS_DOC = """\
    data_placement : str
        where the data set lives during the fit: "device" (copied to the device once), "host" (kept in host
        memory; every batch is gathered there, into pinned memory on CUDA, and copied with non_blocking=True,
        the next one on a side stream while the current one is computed) or "auto": "device" when the data set
        takes at most half (``placement.RESIDENT_FRACTION``) of the free memory of the CUDA device at the start
        of the fit, "host" otherwise; on the CPU always "device". Both give the same batches and results (on
        CUDA up to the order of atomic additions, which is not deterministic there); the embedding
        (n_samples x d) always stays on the device (default: "auto")
    precision : str
        "float32" or "bfloat16": run the forward passes of the pretraining and clustering steps under
        ``torch.autocast(dtype=torch.bfloat16)``; parameters, V, β, centres, the distances that decide the
        assignments and the losses stay float32, inference (labels, predict, transform) runs in float32
        (default: "float32")
    compile_step : bool
        compile every training step's forward pass with ``torch.compile`` (mode "reduce-overhead", i.e. CUDA
        graphs, on CUDA; the default mode elsewhere), with static shapes: the last, smaller batch of an epoch
        runs eagerly. If compilation fails, the fit warns once and continues eagerly (default: False)
"""


def document_execution_parameters(estimator_class: type) -> type:
    """Class decorator: put :data:`EXECUTION_PARAMETERS_DOC` where the docstring says ``{execution_parameters}``."""
    estimator_class.__doc__ = estimator_class.__doc__.replace("    {execution_parameters}\n", EXECUTION_PARAMETERS_DOC)
    return estimator_class


@dataclass
class FitConfig:
    """Hyperparameters of one fit, resolved from the estimator (and, for ACeDeC, its base)."""
    n_clusters: list
    batch_size: int = 256
    pretrain_epochs: int = 100
    clustering_epochs: int = 150
    init_iterations: int = 5000
    pretrain_optimizer_params: dict = field(default_factory=lambda: {"lr": 1e-3})
    clustering_optimizer_params: dict = field(default_factory=lambda: {"lr": 1e-4})
    optimizer_class: type = torch.optim.Adam
    neural_network: object = None
    neural_network_weights: object = None
    embedding_size: int = 10
    augmentation_invariance: bool = False
    device: object = None
    random_state: object = None
    base: object = None  # ACeDeC: the resolved, cloned base estimator
    pretraining: object = None  # a StackedDenoisingPretraining, or None for end-to-end pretraining
    data_placement: str = "auto"  # see clustpy_acedec.placement
    precision: str = "float32"  # see clustpy_acedec.execution
    compile_step: bool = False
    reinit_sample_size: int = 1000  # n_s of ENRC §2.8
    reinit_lloyd_steps: int = 10  # l of ENRC §2.8


@dataclass
class FitContext:
    """Everything of a running fit that the initialisation needs."""
    config: FitConfig
    device: torch.device
    data: DataPlacement  # the data set, resident on the device or streamed from the host
    embedded: torch.Tensor  # enc(X), always on the device
    autoencoder: torch.nn.Module
    generator: torch.Generator  # on the device: batch order, augmentation
    cpu_generator: torch.Generator  # initialisation draws, identical on every device
    execution: Execution  # precision and compilation of the training steps
    augment: object = None
    betas_init: object = None  # β of the kept initialisation, set by _initialize


class SubspaceClustererMixin(TransformerMixin, ClusterMixin, BaseEstimator):
    """
    Fit pipeline of the subspace-layer clusterers. Subclasses provide ``_fit_config``, ``_initialize``
    and ``_fitted_attributes``.
    """

    # ------------------------------------------------------------------------------------- hooks
    def _fit_config(self, n_samples: int) -> FitConfig:
        raise NotImplementedError

    def _initialize(self, context: FitContext) -> SubspaceClusteringModel:
        raise NotImplementedError

    def _fitted_attributes(self, model: SubspaceClusteringModel, labels: np.ndarray, context: FitContext) -> dict:
        raise NotImplementedError

    def _scheduler(self, optimizer: torch.optim.Optimizer, config: FitConfig):
        return None

    # ------------------------------------------------------------------------------------- fit
    def fit(self, X, y=None):
        """
        Pretrain (if needed), initialise and train; the result is stored in attributes ending in ``_``.

        Parameters
        ----------
        X : array-like
            the data set, (n_samples, n_features) or (n_samples, *image_shape)
        y : ignored

        Returns
        -------
        self
        """
        X_np = check_data(X)
        config = self._fit_config(X_np.shape[0])
        self._set_performance_options(config)
        device = resolve_device(config.device)
        seed = seed_from(config.random_state)
        torch.manual_seed(seed)  # network weights are drawn from torch's global generator
        clock = _PhaseClock(device)
        context = self._prepare(X_np, config, device, seed)
        clock.lap("pretraining")
        model = self._initialize(context)
        clock.lap("initialization")
        optimizer = self._optimizer(model, config.clustering_optimizer_params, config.optimizer_class,
                                    train_autoencoder=True)
        train_clustering(model, context.data, config.clustering_epochs, config.batch_size, optimizer, context.generator,
                         augment=context.augment, scheduler=self._scheduler(optimizer, config),
                         reinit_sample_size=config.reinit_sample_size, verbose=self.verbose,
                         desc=f"{type(self).__name__} clustering", execution=context.execution)
        clock.lap("clustering")
        labels = predict_labels(model, context.data)
        clock.lap("prediction")
        attributes = self._fitted_attributes(model, labels, context)
        attributes.update(model_=model, neural_network_trained_=model.autoencoder, n_features_in_=int(np.prod(X_np.shape[1:])),
                          input_shape_=tuple(X_np.shape[1:]), labels_=attributes.get("labels_", labels),
                          fit_seconds_=clock.seconds)
        # Assign only now: a fit that raised above leaves the estimator as it was.
        for name, value in attributes.items():
            setattr(self, name, value)
        return self

    def _set_performance_options(self, config: FitConfig) -> None:
        """Check ``data_placement``, ``precision`` and ``compile_step`` and copy them into the fit's config."""
        config.data_placement = check_choice(getattr(self, "data_placement", "auto"), "data_placement",
                                             PLACEMENT_MODES)
        config.precision = check_choice(getattr(self, "precision", "float32"), "precision", PRECISIONS)
        config.compile_step = check_bool(getattr(self, "compile_step", False), "compile_step")

    def _prepare(self, X_np: np.ndarray, config: FitConfig, device: torch.device, seed: int) -> FitContext:
        from clustpy.deep import get_neural_network
        input_dim = int(np.prod(X_np.shape[1:]))
        autoencoder = get_neural_network(input_dim, config.embedding_size, config.neural_network,
                                         neural_network_weights=config.neural_network_weights, device=device,
                                         random_state=seed)
        if not hasattr(autoencoder, "encode") or not hasattr(autoencoder, "decode"):
            raise TypeError(f"neural_network must be an autoencoder with encode and decode, got {type(autoencoder).__name__}")
        data = network_input(X_np, autoencoder, device, config.data_placement)
        generator = torch.Generator(device=device).manual_seed(seed)
        cpu_generator = torch.Generator().manual_seed(seed)
        execution = Execution(device, config.precision, config.compile_step)
        augment = self._augmentation(X_np, autoencoder) if config.augmentation_invariance else None
        if not getattr(autoencoder, "fitted", False):
            pretrain(autoencoder, data, config.pretraining, config.pretrain_epochs, config.batch_size,
                     config.optimizer_class, config.pretrain_optimizer_params, generator, verbose=self.verbose,
                     execution=execution)
        embedded = encode_all(autoencoder, data)
        return FitContext(config, device, data, embedded, autoencoder, generator, cpu_generator, execution, augment)

    def _augmentation(self, X_np: np.ndarray, autoencoder: torch.nn.Module) -> RandomRotationShift:
        image_shape = getattr(self, "image_shape", None)
        channels_first = bool(getattr(autoencoder, "allow_nd_input", False)) and X_np.ndim == 4
        if image_shape is None:
            if X_np.ndim < 3:
                raise ValueError("augmentation_invariance needs images: pass X as (n_samples, H, W[, C]) "
                                 "or set image_shape")
            image_shape = X_np.shape[1:] if not channels_first else (*X_np.shape[2:], X_np.shape[1])
        return RandomRotationShift(image_shape, channels_first=channels_first)

    @staticmethod
    def _optimizer(model: SubspaceClusteringModel, params: dict, optimizer_class: type,
                   train_autoencoder: bool) -> torch.optim.Optimizer:
        """Optimiser over V, β (at BETA_LR_FACTOR times the rate), learnable centres and optionally the autoencoder."""
        beta_params = dict(params, lr=params.get("lr", 1e-3) * BETA_LR_FACTOR)
        groups = [dict(params=[model.layer.V], **params),
                  dict(params=[model.layer.beta_logits], **beta_params)]
        objective_params = [p for o in model.objectives for p in o.parameters()]
        if objective_params:
            groups.append(dict(params=objective_params, **params))
        if train_autoencoder:
            groups.append(dict(params=list(model.autoencoder.parameters()), **params))
        return make_optimizer(optimizer_class, groups)

    def _run_initial_phase(self, model: SubspaceClusteringModel, context: FitContext) -> float:
        """
        Train V, β (and learnable centres; mini-batch centres keep following Eq. 6-7) on the fixed embedding.

        The autoencoder is fixed in this phase (ACe/DeC §2.2, ENRC §2.6), so the embedding is computed once
        and L_orth (ENRC Eq. 8) stands in for the reconstruction through the fixed decoder: it keeps V from
        degenerating at the cost of a d x d product instead of a decoder pass, so that many iterations are
        cheap. The iteration count is rounded up to whole epochs. Returns the last epoch's mean loss (NaN
        when ``init_iterations`` is 0 and the phase is skipped).
        """
        config = context.config
        embedded = context.embedded
        batches_per_epoch = -(-embedded.shape[0] // config.batch_size)
        epochs = -(-config.init_iterations // batches_per_epoch)
        optimizer = self._optimizer(model, config.pretrain_optimizer_params, config.optimizer_class,
                                    train_autoencoder=False)
        loss, _, _ = train_clustering(model, embedded, epochs, config.batch_size, optimizer, context.generator,
                                      embedded=embedded, regularizer="orthogonality",
                                      reinit_sample_size=config.reinit_sample_size, verbose=self.verbose,
                                      desc=f"{type(self).__name__} initialisation", execution=context.execution)
        return loss

    def _best_of_rounds(self, context: FitContext, make_candidate, n_rounds: int) -> SubspaceClusteringModel:
        """
        Initialisation rounds (ENRC §2.6): every candidate model gets the initial phase with the autoencoder
        fixed, and the one with the lowest loss on the whole embedded data set is kept.

        Parameters
        ----------
        context : FitContext
            the running fit; its ``betas_init`` is set to the kept candidate's β before training
        make_candidate : Callable
            ``make_candidate(round_index) -> SubspaceClusteringModel``, a fresh initial model on the device
        n_rounds : int
            number of candidates

        Returns
        -------
        model : SubspaceClusteringModel
            the kept candidate
        """
        best, best_loss, betas_init = None, float("inf"), None
        for round_index in range(n_rounds):
            candidate = make_candidate(round_index)
            initial_betas = candidate.layer.betas().detach().cpu().numpy()
            self._run_initial_phase(candidate, context)
            loss = candidate.embedded_loss(context.embedded)
            if best is None or loss < best_loss:
                best, best_loss, betas_init = candidate, loss, initial_betas
        context.betas_init = betas_init
        return best

    # ------------------------------------------------------------------------------------- persistence
    def save(self, path) -> None:
        """
        Save the fitted estimator (parameters, network weights, V, β, centres) to a file.

        Parameters
        ----------
        path : str | Path
            target file
        """
        check_is_fitted(self, "model_")
        from clustpy_acedec import __version__
        torch.save({"format": _SAVE_FORMAT, "version": __version__, "class": type(self).__name__,
                    "estimator": self}, path)

    @classmethod
    def load(cls, path, device=None):
        """
        Load an estimator saved with :meth:`save`.

        Parameters
        ----------
        path : str | Path
            the file
        device : torch.device | str | int | None
            where to put the model; None: CUDA when available, else the CPU

        Returns
        -------
        estimator
            the fitted estimator; its predictions equal those of the saved one

        Raises
        ------
        ValueError
            if the file was written by another version of clustpy-acedec, or holds another class
        """
        from clustpy_acedec import __version__
        # A resolved torch.device: torch.load takes an int as a callable, and None would restore the saving device.
        target = resolve_device(device)
        content = torch.load(path, map_location=target, weights_only=False)
        if not isinstance(content, dict) or content.get("format") != _SAVE_FORMAT:
            raise ValueError(f"{path} is not a file saved by clustpy-acedec")
        if content["version"] != __version__:
            raise ValueError(f"{path} was saved by clustpy-acedec {content['version']}, this is {__version__}; "
                             "refit the model with this version")
        if content["class"] != cls.__name__:
            raise ValueError(f"{path} holds a fitted {content['class']}, not a {cls.__name__}: "
                             f"use {content['class']}.load")
        estimator = content["estimator"]
        estimator.model_.to(target)
        return estimator

    # ------------------------------------------------------------------------------------- after fit
    def _embed(self, X) -> torch.Tensor:
        check_is_fitted(self, "model_")
        X_np = check_data(X, min_samples=1)
        if tuple(X_np.shape[1:]) != self.input_shape_ and int(np.prod(X_np.shape[1:])) != self.n_features_in_:
            raise ValueError(f"X has shape {X_np.shape[1:]} per sample, but {type(self).__name__} was fitted on "
                             f"{self.input_shape_}")
        device = next(self.model_.parameters()).device
        data = network_input(X_np, self.model_.autoencoder, device, getattr(self, "data_placement", "auto"))
        return encode_all(self.model_.autoencoder, data)

    def _rotated(self, X) -> torch.Tensor:
        embedded = self._embed(X)
        with torch.no_grad():
            return self.model_.layer.rotate(embedded)


class _PhaseClock:
    """Wall-clock seconds per phase of a fit; waits for the device at each lap, never inside a phase."""

    def __init__(self, device: torch.device):
        import time
        self._now, self._device, self.seconds = time.perf_counter, device, {}
        self._start = self._now()

    def lap(self, phase: str) -> None:
        if self._device.type == "cuda":
            torch.cuda.synchronize(self._device)
        now = self._now()
        self.seconds[phase] = now - self._start
        self._start = now


def network_input(X_np: np.ndarray, autoencoder: torch.nn.Module, device: torch.device,
                  data_placement: str = "device") -> DataPlacement:
    """
    The data as the network takes it (flattened unless the network accepts n-d input), placed for ``device``
    by ``data_placement`` ("auto", "device" or "host", see :func:`clustpy_acedec.placement.place`).
    """
    if not getattr(autoencoder, "allow_nd_input", False):
        X_np = X_np.reshape(X_np.shape[0], -1)
    X_host = torch.from_numpy(np.ascontiguousarray(X_np, dtype=np.float32))
    return place(X_host, device, data_placement)


def predict_labels(model: SubspaceClusteringModel, X: "torch.Tensor | DataPlacement",
                   batch_size: int = 4096) -> np.ndarray:
    """Hard labels (N, S) of the data set (a tensor on the device or a placed data set), ENRC Eq. 5 per space."""
    embedded = encode_all(model.autoencoder, X, batch_size)
    return model.predict_embedded(embedded).cpu().numpy()
