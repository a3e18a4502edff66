"""
ENRC: Embedded Non-Redundant Clustering (Miklautz, Mautz et al., AAAI 2020).

Several clusterings at once, each in its own (soft) subspace of one rotated embedding: the same subspace
layer, centre state and training loop as ACeDeC, configured with S clusterings, softmax β and ENRC's
per-cluster loss normalisation (Eq. 4).
"""

import numbers
from collections.abc import Callable

import numpy as np
import torch
from numpy.typing import ArrayLike
from sklearn.utils.validation import check_is_fitted

from clustpy_acedec._fitted import SubspaceClustererMixin
from clustpy_acedec._estimator import (DEFAULT_CLUSTERING_OPTIMIZER_PARAMS, DEFAULT_PRETRAIN_OPTIMIZER_PARAMS,
                                       EXECUTION_CONSTRAINTS, INIT_SCREEN_ITERATIONS, FitConfig, FitRun,
                                       best_of_rounds, checked_input, clustering_phase,
                                       document_shared_parameters, finish_fit, for_this_rank, start_fit)
from clustpy_acedec._distributed import Collective, agreed, current_collective, quiet_unless_main
from clustpy_acedec._validation import (Augmentation, Choice, Flag, Integer, OptimizerClass, OptimizerParams,
                                         OrNone, Real, Unchecked, check_augmentation_needs_invariance, check_image_shape,
                                         check_declared_parameters, check_n_clusters, check_no_custom_dataloaders)
from clustpy_acedec._random_state import preserved_global_random_state, seed_for_fit
from clustpy_acedec._centers import MiniBatchCenters
from clustpy_acedec._initialization import (block_beta_logits, kmeans_sample, nrkmeans_start, random_orthogonal,
                                             seed_centers)
from clustpy_acedec.losses import CLUSTER_SIZE, POINTS
from clustpy_acedec._model import SubspaceClusteringModel
from clustpy_acedec._objectives import HardCentroidObjective
from clustpy_acedec.pretraining import StackedDenoisingPretraining, resolve_pretraining
from clustpy_acedec.devices import resolve_device
from clustpy_acedec._subspace import DEFAULT_DIM_MARGIN, SubspaceLayer, hardened_dims


#: Ways to draw ENRC's initial candidates, see the ``init`` parameter.
INIT_STRATEGIES = ("random", "nrkmeans", "best")

#: Normalisations of the compression loss, see the ``loss_normalization`` parameter.
LOSS_NORMALIZATIONS = (CLUSTER_SIZE, POINTS)

#: ENRC's parameters and what they must be.
_PARAMETER_CONSTRAINTS = {
    "n_clusters": Unchecked(),  # a list, checked against the number of samples by _checked_n_clusters
    "batch_size": Integer(minimum=1),
    "pretrain_optimizer_params": OptimizerParams(),
    "clustering_optimizer_params": OptimizerParams(),
    "pretrain_epochs": Integer(minimum=0),
    "clustering_epochs": Integer(minimum=0),
    "optimizer_class": OptimizerClass(),
    "neural_network": Unchecked(),  # checked where the fit builds the network (TypeError)
    "neural_network_weights": Unchecked(),
    "embedding_size": Integer(minimum=1),  # and at least one dimension per clustering, checked in fit
    "augmentation_invariance": Flag(),
    "custom_dataloaders": Unchecked(),  # must be None: check_no_custom_dataloaders
    "init": Choice(INIT_STRATEGIES),
    "init_rounds": Integer(minimum=1),
    "init_iterations": Integer(minimum=0),
    "init_tol": Real(0.0, 1.0, closed="left"),
    "init_screen_iterations": OrNone(Integer(minimum=0)),
    "loss_normalization": Choice(LOSS_NORMALIZATIONS),
    "lr_decay_step": Integer(minimum=1),
    "lr_decay": Real(0.0, 1.0, closed="right"),
    "reinit_sample_size": Integer(minimum=1),
    "reinit_lloyd_steps": Integer(minimum=0),
    "dim_margin": Real(0.0, 1.0),
    "pretraining": Unchecked(),  # checked by resolve_pretraining
    "image_shape": Unchecked(),
    "augmentation": Augmentation(),
    "device": Unchecked(),  # checked by resolve_device
    "random_state": Unchecked(),  # checked by seed_for_fit
    **EXECUTION_CONSTRAINTS,
}


@document_shared_parameters
class ENRC(SubspaceClustererMixin):
    """
    Embedded Non-Redundant Clustering: S non-redundant clusterings in the embedding of an autoencoder.

    A d x d matrix V rotates the embedding; β_s = softmax_s(B) softly assigns every rotated dimension to
    clustering s (§2.2). Each clustering compresses its clusters in its β_s-weighted space (Eq. 4), with
    centres updated by mini-batch k-means (Eq. 5-7), while the autoencoder reconstructs the input from
    V V^T z (Eq. 1, Eq. 9 with λ = 1). A clustering with one cluster models a shared/noise space.

    Parameters
    ----------
    n_clusters : list
        number of clusters of each clustering, e.g. [3, 3]; a 1 adds a shared (noise) space
    batch_size : int
        size of the mini-batches (default: 128)
    pretrain_optimizer_params : dict | None
        optimiser parameters of the pretraining, and of the initialisation phase; None: {"lr": 1e-3}
    clustering_optimizer_params : dict | None
        optimiser parameters of the clustering phase; β uses a 10 times higher learning rate (§3.2 starts β at
        0.01 and leaves the network's rate of this phase open; ours follow clustpy's default, so β starts at
        1e-3; in the initial phase, at the pretraining rate 1e-3, β's is §3.2's 0.01); None: {"lr": 1e-4}
    pretrain_epochs : int
        epochs of autoencoder pretraining, skipped for a fitted network (default: 100)
    clustering_epochs : int
        epochs of the clustering phase (default: 150)
    optimizer_class : type
        torch optimiser (default: torch.optim.Adam)
    neural_network : torch.nn.Module | tuple | None
        a clustpy autoencoder, a (class, params) tuple, or None for a FeedforwardAutoencoder
        [D, 500, 500, 2000, embedding_size] (default: None)
    neural_network_weights : str | None
        state dict to load into the network (default: None)
    embedding_size : int
        d, the embedding size of a new network (default: 20)
    augmentation_invariance : bool
        learn clusterings invariant to random rotations and shifts of images; an unfitted network is then also
        pretrained on augmented images (default: False)
    custom_dataloaders : None
        clustpy's name, kept so that clustpy code ports; any other value raises a ValueError: the data set stays
        on the device and is augmented there (``augmentation_invariance``) (default: None)
    init : str
        how the initial candidates are drawn (see :data:`INIT_STRATEGIES`): "random" is §2.6 (random orthogonal V,
        'strong' block β, k-means++ seeds); "nrkmeans" starts from Nr-Kmeans on the embedding
        (:func:`clustpy_acedec._initialization.nrkmeans_start`: with a noise space, the best of
        ``clustpy_acedec._initialization.NRKMEANS_RUNS`` runs by Nr-Kmeans's own cost), one candidate; "best" draws the first
        candidate by "nrkmeans" and the other ``init_rounds`` - 1 by "random", and keeps the one with the lowest
        loss after the initial phase (see ``init_rounds``). Both seed on the embedding, or on a random sample of
        ``clustpy_acedec._initialization.KMEANS_SAMPLE_SIZE`` points of a larger one. "best" with
        ``loss_normalization="points"`` is the project's recommended configuration (docs/benchmarks.md); the
        paper's own is ``init="random", loss_normalization="cluster_size"`` (default: "best")
    init_rounds : int
        number of initialisations (§2.6); the one with the lowest loss after the initial phase is kept, among
        those that complete it (see ``init_screen_iterations``); "nrkmeans" has a single one (default: 10)
    init_iterations : int
        mini-batch iterations of every initialisation round (default: 1000)
    init_tol : float
        an initialisation round ends before ``init_iterations`` when its loss has fallen by less than this
        fraction over the last 250 iterations (:class:`clustpy_acedec._training.Plateau`); 0 runs every
        iteration. Off by default: ENRC compares its rounds by their loss, and rounds stopped at different
        times compare less fairly (default: 0.0)
    init_screen_iterations : int | None
        the candidates are screened after this many iterations of the initial phase (rounded up to whole
        epochs): only the best third of them by their loss on the whole data set (at least one) complete the
        phase, and the kept one is the best of those (our addition: most candidates then cost a fraction of the
        phase). 0, or a value of as many epochs as ``init_iterations``, runs every candidate through the whole
        phase as the paper does. None: 250 (``clustpy_acedec._estimator.INIT_SCREEN_ITERATIONS``) with
        ``init="best"``, where the Nr-Kmeans start competes and ranks first early, 0 otherwise: among random
        starts alone the early ranking can drop the one that ends best (docs/design.md) (default: None)
    loss_normalization : str
        "cluster_size": Eq. 4, (1/S) Σ_s Σ_k (1/|C_s,k|) Σ_{z ∈ C_s,k} ||V^T z - μ_s,k||²_β_s, every cluster's mean
        distance counts once (the paper's). A clustering's term then grows with its number of clusters K_s, and β
        (one softmax per dimension) moves dimensions away from clusterings with many clusters. "points": Σ_s of
        the mean distance over the points (ACe/DeC's Eq. 1 normalisation), which does not depend on K_s, which
        matters where the K_s differ a lot (default: "points")
    lr_decay_step : int
        the learning rate decays every this many iterations of the clustering phase (§3.2: 2,000) (default: 2000)
    lr_decay : float
        factor of each decay (default: 0.8, i.e. about 1/10 after ten decays)
    reinit_sample_size : int
        n_s of the centre re-initialisation (§2.8): the points sampled to re-place a lost centre (default: 1000)
    reinit_lloyd_steps : int
        l of §2.8: Lloyd steps of the re-initialised clustering on that sample (default: 10)
    dim_margin : float
        a dimension belongs to clustering s when β_s exceeds every other β on it by this margin (default: 0.1)
    pretraining : str | StackedDenoisingPretraining
        how an unfitted autoencoder is pretrained: "end_to_end" (the reconstruction loss with the optimiser and
        epochs of the pretraining parameters) or "stacked_denoising" (DEC's greedy layer-wise denoising
        autoencoders, then fine-tuning, ``pretrain_epochs`` of it) or "stacked_denoising_full" (DEC's whole
        budget: 50,000 iterations per layer pair and 100,000 of fine-tuning), or a
        :class:`clustpy_acedec.pretraining.StackedDenoisingPretraining` with its own schedule
        (default: "end_to_end")
    image_shape : tuple | None
        (H, W) or (H, W, C) of flattened images, for the default augmentation; for X given as images it may only
        restate their shape (a channel axis of size 1 aside) (default: None)
    device : torch.device | str | int | None
        None: CUDA when available (default: None)
    random_state : int | np.random.RandomState | None
        seed (default: None)
    {execution_parameters}
    verbose : bool
        progress bars (default: False)
    {augmentation_parameter}

    Attributes
    ----------
    labels_ : np.ndarray
        shape (n_samples, S), one column per clustering
    cluster_centers_ : list
        one (K_s, d) array of centres in the rotated space per clustering
    V_ : np.ndarray
        the d x d matrix
    betas_ : np.ndarray
        β, shape (S, d); every column sums to one
    betas_init_ : np.ndarray
        β of the kept initialisation
    subspace_dims_ : list
        hardened dimensions per clustering (dimensions spread evenly belong to none)
    neural_network_trained_ : torch.nn.Module
        the trained autoencoder
    fit_seconds_ : dict
        wall-clock seconds of the phases of ``fit``: "pretraining", "initialization", "clustering", "prediction"
    history_ : dict
        what the phases did: "initial" (one :class:`clustpy_acedec._training.PhaseRecord` per round, with its
        whole-data loss) and "clustering" (one record)
    data_placement_ : str
        where the data set was during the fit: "device" or "host" (streamed), ``data_placement`` resolved
    n_clusters_ : list
        the number of clusters of every clustering, as fitted
    model_ : clustpy_acedec._model.SubspaceClusteringModel
        autoencoder, subspace layer and the clusterings' objective
    n_features_in_ : int
        features per sample seen in ``fit`` (the product of the samples' shape)
    input_shape_ : tuple
        the shape of one sample seen in ``fit`` (``predict`` and ``transform`` take the same)
    feature_names_in_ : np.ndarray
        the column names of a data frame seen in ``fit``, when they are all strings (absent otherwise);
        ``predict`` and ``transform`` refuse a frame whose names differ or come in another order

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> # two clusterings, one in each block of three features
    >>> X = np.hstack([make_blobs(300, n_features=3, centers=3, random_state=seed)[0] for seed in (0, 1)])
    >>> model = ENRC(n_clusters=[3, 3], pretrain_epochs=5, clustering_epochs=5, embedding_size=4, init_rounds=2,
    ...              init_iterations=50, device="cpu", random_state=0).fit(X)
    >>> model.labels_.shape, len(model.cluster_centers_), model.betas_.shape
    ((300, 2), 2, (2, 4))

    References
    ----------
    Miklautz, Lukas, Dominik Mautz, Muzaffer Can Altinigneli, Christian Böhm, and Claudia Plant.
    "Deep Embedded Non-Redundant Clustering." AAAI 2020.
    """

    def __init__(self, n_clusters: list, batch_size: int = 128, pretrain_optimizer_params: dict | None = None,
                 clustering_optimizer_params: dict | None = None, pretrain_epochs: int = 100,
                 clustering_epochs: int = 150, optimizer_class: type = torch.optim.Adam,
                 neural_network: torch.nn.Module | tuple | None = None, neural_network_weights: str | None = None,
                 embedding_size: int = 20, augmentation_invariance: bool = False,
                 custom_dataloaders: None = None, init: str = "best", init_rounds: int = 10, init_iterations: int = 1000,
                 init_tol: float = 0.0, init_screen_iterations: int | None = None,
                 loss_normalization: str = POINTS, lr_decay_step: int = 2000, lr_decay: float = 0.8,
                 reinit_sample_size: int = 1000, reinit_lloyd_steps: int = 10,
                 dim_margin: float = DEFAULT_DIM_MARGIN, pretraining: "str | StackedDenoisingPretraining" = "end_to_end",
                 image_shape: tuple | None = None, device: torch.device | str | int | None = None,
                 random_state: int | np.random.RandomState | None = None, data_placement: str = "auto",
                 precision: str = "float32",
                 compile_step: bool = False, verbose: bool = False,
                 augmentation: Callable | None = None):
        self.n_clusters = n_clusters
        self.batch_size = batch_size
        self.pretrain_optimizer_params = pretrain_optimizer_params
        self.clustering_optimizer_params = clustering_optimizer_params
        self.pretrain_epochs = pretrain_epochs
        self.clustering_epochs = clustering_epochs
        self.optimizer_class = optimizer_class
        self.neural_network = neural_network
        self.neural_network_weights = neural_network_weights
        self.embedding_size = embedding_size
        self.augmentation_invariance = augmentation_invariance
        self.custom_dataloaders = custom_dataloaders
        self.init = init
        self.init_rounds = init_rounds
        self.init_iterations = init_iterations
        self.init_tol = init_tol
        self.init_screen_iterations = init_screen_iterations
        self.loss_normalization = loss_normalization
        self.lr_decay_step = lr_decay_step
        self.lr_decay = lr_decay
        self.reinit_sample_size = reinit_sample_size
        self.reinit_lloyd_steps = reinit_lloyd_steps
        self.dim_margin = dim_margin
        self.pretraining = pretraining
        self.image_shape = image_shape
        self.augmentation = augmentation
        self.device = device
        self.random_state = random_state
        self.data_placement = data_placement
        self.precision = precision
        self.compile_step = compile_step
        self.verbose = verbose

    def fit(self, X: ArrayLike, y: None = None) -> "ENRC":
        """
        Pretrain the autoencoder (unless it is fitted), keep the best of the initial candidates (§2.6) and train
        everything (Eq. 9); the result is stored in attributes ending in ``_``.

        Parameters
        ----------
        X : array-like
            the data set, (n_samples, n_features) or (n_samples, *image_shape)
        y : ignored

        Returns
        -------
        self
        """
        collective = current_collective()
        with quiet_unless_main(collective):
            return self._fit(X, collective)

    def _fit(self, X: ArrayLike, collective: Collective | None) -> "ENRC":
        X, n_samples, names = checked_input(X, collective, type(self).__name__)
        config = for_this_rank(agreed(collective, lambda: self._fit_config(X, n_samples)), collective,
                               self.get_params(deep=True))
        # "nrkmeans" has a single candidate: its restarts are Nr-Kmeans's own.
        n_candidates = 1 if self.init == "nrkmeans" else config.init_rounds
        with preserved_global_random_state(config.device):
            run = start_fit(X, config, collective)
            sample = kmeans_sample(run.embedded, run.cpu_generator)
            model, betas_init = best_of_rounds(run, lambda round_index: self._candidate(run, sample, round_index),
                                               n_candidates)
            clustering_phase(model, run, scheduler=self._step_decay)
            labels, attributes = finish_fit(model, run, X, betas_init)
        self._set_fitted(dict(attributes, feature_names_in_=names, labels_=labels,
                              cluster_centers_=[c.cpu().numpy().copy() for c in model.cluster_centers()],
                              subspace_dims_=hardened_dims(torch.as_tensor(attributes["betas_"]), self.dim_margin),
                              n_clusters_=list(config.n_clusters)), collective)
        return self

    def _fit_config(self, X: np.ndarray, n_samples: int) -> FitConfig:
        """Check the parameters against their declared constraints; the fit's settings for a data set of
        ``n_samples`` (all ranks' shards together in a distributed fit) shaped like ``X``."""
        params = check_declared_parameters(self, _PARAMETER_CONSTRAINTS)
        check_augmentation_needs_invariance(params["augmentation"], params["augmentation_invariance"])
        n_clusters = _checked_n_clusters(self.n_clusters, n_samples)
        if self.neural_network is None and params["embedding_size"] < len(n_clusters):
            raise ValueError(f"embedding_size={params['embedding_size']} is smaller than the number of clusterings "
                             f"({len(n_clusters)}): every clustering needs at least one dimension")
        if params["init"] in ("nrkmeans", "best") and n_clusters.count(1) > 1:  # Nr-Kmeans has one noise space
            raise ValueError(f"init={params['init']!r} starts from Nr-Kmeans, which takes at most one one-cluster "
                             f"(noise) space, got n_clusters={n_clusters}; use init='random' or one 1")
        check_no_custom_dataloaders(self.custom_dataloaders)
        return FitConfig(
            name=type(self).__name__, n_clusters=n_clusters, batch_size=params["batch_size"],
            pretrain_epochs=params["pretrain_epochs"], clustering_epochs=params["clustering_epochs"],
            init_rounds=params["init_rounds"], init_iterations=params["init_iterations"],
            init_tol=params["init_tol"],
            init_screen_iterations=_screen_iterations(params["init_screen_iterations"], params["init"]),
            pretrain_optimizer_params=dict(params["pretrain_optimizer_params"] or DEFAULT_PRETRAIN_OPTIMIZER_PARAMS),
            clustering_optimizer_params=dict(params["clustering_optimizer_params"]
                                             or DEFAULT_CLUSTERING_OPTIMIZER_PARAMS),
            optimizer_class=params["optimizer_class"], neural_network=self.neural_network,
            neural_network_weights=self.neural_network_weights, embedding_size=params["embedding_size"],
            min_embedding_size=len(n_clusters),
            augmentation_invariance=params["augmentation_invariance"], augmentation=params["augmentation"],
            image_shape=check_image_shape(self.image_shape, X.shape[1:]),
            pretraining=resolve_pretraining(self.pretraining, params["pretrain_epochs"]),
            reinit_sample_size=params["reinit_sample_size"], reinit_lloyd_steps=params["reinit_lloyd_steps"],
            device=resolve_device(self.device), seed=seed_for_fit(self.random_state),
            data_placement=params["data_placement"], precision=params["precision"],
            compile_step=params["compile_step"], verbose=params["verbose"])

    def _candidate(self, run: FitRun, sample: torch.Tensor, round_index: int) -> SubspaceClusteringModel:
        """
        One initialisation on ``sample`` (the embedding, or a random part of a large one): Nr-Kmeans, best of
        ``NRKMEANS_RUNS`` runs by its own cost (:func:`clustpy_acedec._initialization.nrkmeans_start`), for
        "nrkmeans" and the first round of "best"; otherwise, or when Nr-Kmeans loses a clustering, §2.6's random
        orthogonal V, 'strong' block β and k-means++ seeds per clustering.
        """
        config, device, generator = run.config, run.device, run.cpu_generator
        d, n_spaces = run.embedded.shape[1], len(config.n_clusters)
        start = None
        if self.init == "nrkmeans" or (self.init == "best" and round_index == 0):
            start = nrkmeans_start(sample, config.n_clusters, generator)
        if start is not None:
            V, beta_logits, centers = start
            layer = SubspaceLayer(V, beta_logits, parametrization="softmax")
        else:
            layer = SubspaceLayer(random_orthogonal(d, generator, device), block_beta_logits(d, n_spaces).to(device),
                                  parametrization="softmax")
            with torch.no_grad():
                centers = seed_centers(layer.rotate(sample), config.n_clusters, layer.betas(), generator)
        objective = HardCentroidObjective(MiniBatchCenters.for_batches(centers, list(range(n_spaces)),
                                                                       run.full_batch_size,
                                                                       lloyd_steps=config.reinit_lloyd_steps))
        return SubspaceClusteringModel(run.autoencoder, layer, [objective], self.loss_normalization).to(device)

    def _step_decay(self, optimizer: torch.optim.Optimizer) -> torch.optim.lr_scheduler.StepLR:
        """§3.2: the clustering phase's learning rate decays by ``lr_decay`` every ``lr_decay_step`` iterations."""
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=self.lr_decay_step, gamma=self.lr_decay)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """
        Labels of every clustering (Eq. 5): each point goes to the nearest centre of every clustering in that
        clustering's β-weighted distance.

        Parameters
        ----------
        X : array-like
            data shaped like the training data

        Returns
        -------
        labels : np.ndarray
            shape (n_samples, S)
        """
        embedded = self._embed(X)
        return self.model_.predict_embedded(embedded).cpu().numpy()

    def transform(self, X: ArrayLike) -> np.ndarray:
        """
        The rotated embedding V^T z of every point.

        Parameters
        ----------
        X : array-like
            data shaped like the training data

        Returns
        -------
        rotated : np.ndarray
            shape (n_samples, d)
        """
        return self._rotated(X).cpu().numpy()

    def transform_subspace(self, X: ArrayLike, subspace: int) -> np.ndarray:
        """
        Coordinates in the hardened subspace of one clustering (``subspace_dims_[subspace]``).

        Parameters
        ----------
        X : array-like
            data shaped like the training data
        subspace : int
            index of the clustering, 0 <= subspace < S

        Returns
        -------
        coordinates : np.ndarray
            shape (n_samples, len(subspace_dims_[subspace]))
        """
        subspace = self._checked_subspace(subspace)
        rotated = self._rotated(X)
        return rotated[:, torch.as_tensor(self.subspace_dims_[subspace], dtype=torch.long)].cpu().numpy()

    def reconstruct_centers(self, subspace: int) -> np.ndarray:
        """
        The decoded centres dec(V μ) of one clustering (ENRC Fig. 3).

        Parameters
        ----------
        subspace : int
            index of the clustering, 0 <= subspace < S

        Returns
        -------
        centers : np.ndarray
            shape (K_s, *input shape)
        """
        subspace = self._checked_subspace(subspace)
        model = self.model_
        centers = torch.as_tensor(self.cluster_centers_[subspace], device=model.layer.V.device)
        with torch.no_grad():
            decoded = model.autoencoder.decode(model.layer.rotate_back(centers))
        return decoded.reshape(len(centers), *self.input_shape_).cpu().numpy()

    def _checked_subspace(self, subspace) -> int:
        check_is_fitted(self, "model_")
        n_subspaces = len(self.n_clusters_)
        if isinstance(subspace, bool) or not isinstance(subspace, numbers.Integral):
            raise TypeError(f"subspace must be an integer, got {subspace!r}")
        if not 0 <= subspace < n_subspaces:
            raise ValueError(f"subspace must lie in [0, {n_subspaces}) (one per clustering), got {subspace}")
        return int(subspace)


def _screen_iterations(init_screen_iterations: int | None, init: str) -> int:
    """``init_screen_iterations`` of a fit: None screens only when the Nr-Kmeans start competes (``init="best"``)."""
    if init_screen_iterations is not None:
        return init_screen_iterations
    return INIT_SCREEN_ITERATIONS if init == "best" else 0


def _checked_n_clusters(n_clusters, n_samples: int) -> list:
    """ENRC's n_clusters: a non-empty list of integers in [1, n_samples], at least one of them 2 or more."""
    if not isinstance(n_clusters, (list, tuple, np.ndarray)) or np.ndim(n_clusters) != 1 or len(n_clusters) == 0:
        raise TypeError(f"n_clusters must be a non-empty list of integers, one per clustering, got {n_clusters!r}")
    checked = [check_n_clusters(k, n_samples, name=f"n_clusters[{s}]", minimum=1) for s, k in enumerate(n_clusters)]
    if max(checked) < 2:
        raise ValueError(f"at least one clustering needs 2 or more clusters, got n_clusters={checked}")
    return checked
