"""
ACeDeC: the ACe/DeC framework (Miklautz, Bauer et al., IJCAI 2021) wrapped around a clustpy deep clusterer.
"""

import inspect
import math
from collections.abc import Callable

import numpy as np
import torch
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, clone

from clustpy_acedec._fitted import SubspaceClustererMixin
from clustpy_acedec._estimator import (DEFAULT_CLUSTERING_OPTIMIZER_PARAMS, DEFAULT_PRETRAIN_OPTIMIZER_PARAMS,
                                       EXECUTION_CONSTRAINTS, INIT_SCREEN_ITERATIONS, INIT_TOL, FitConfig, FitRun,
                                       best_of_rounds, checked_input, clustering_phase,
                                       document_shared_parameters, finish_fit, for_this_rank, start_fit)
from clustpy_acedec._distributed import Collective, agreed, current_collective, quiet_unless_main
from clustpy_acedec._validation import (Augmentation, Choice, Flag, Integer, OptimizerClass, OptimizerParams, Real,
                                         Unchecked, check_augmentation_needs_invariance, check_image_shape,
                                         check_declared_parameters, check_n_clusters, check_no_custom_dataloaders,
                                         check_parameters)
from clustpy_acedec._random_state import preserved_global_random_state, seed_for_fit
from clustpy_acedec._centers import MiniBatchCenters
from clustpy_acedec._initialization import (cluster_span_start, kmeans_sample, random_orthogonal, split_beta_logits,
                                             weighted_kmeans)
from clustpy_acedec.losses import POINTS
from clustpy_acedec._model import SubspaceClusteringModel
from clustpy_acedec._objectives import HardCentroidObjective, SharedMeanObjective, SpaceObjective, StudentTObjective
from clustpy_acedec.bases import registered_objective
from clustpy_acedec.pretraining import StackedDenoisingPretraining, resolve_pretraining
from clustpy_acedec.devices import resolve_device
from clustpy_acedec._subspace import DEFAULT_DIM_MARGIN, SubspaceLayer, hardened_dims
from clustpy_acedec._warning import warn_caller

#: n_s and l of the centre re-initialisation (ENRC §2.8), which ACeDeC uses with the paper's values.
REINIT_SAMPLE_SIZE = 1000
REINIT_LLOYD_STEPS = 10

#: Ways to draw ACeDeC's initial candidates, see the ``init`` parameter.
INIT_STRATEGIES = ("best", "random", "cluster_span")

#: ACeDeC's own parameters.
_PARAMETER_CONSTRAINTS = {
    "base": Unchecked(),  # an estimator instance of a registered class, checked by _resolved_base
    "n_clusters": Unchecked(),  # None or an int; checked against the number of samples
    "random_state": Unchecked(),  # checked by seed_for_fit
    "init": Choice(INIT_STRATEGIES),
    "init_rounds": Integer(minimum=1),
    "init_iterations": Integer(minimum=0),
    "init_tol": Real(0.0, 1.0, closed="left"),
    "init_screen_iterations": Integer(minimum=0),
    "dim_margin": Real(0.0, 1.0),
    "pretraining": Unchecked(),  # checked by resolve_pretraining
    "image_shape": Unchecked(),
    "augmentation": Augmentation(),
    **EXECUTION_CONSTRAINTS,
}

#: The hyperparameters ACeDeC reads from its base, and what they must be. The base's loss weights are not read:
#: removing that trade-off is the point of ACe/DeC (a warning says so when they differ from the defaults).
_BASE_PARAMETER_CONSTRAINTS = {
    "batch_size": Integer(minimum=1),
    "pretrain_epochs": Integer(minimum=0),
    "clustering_epochs": Integer(minimum=0),
    "pretrain_optimizer_params": OptimizerParams(),
    "clustering_optimizer_params": OptimizerParams(),
    "optimizer_class": OptimizerClass(),
    "neural_network": Unchecked(),  # checked where the fit builds the network (TypeError)
    "neural_network_weights": Unchecked(),
    "embedding_size": Integer(minimum=2),  # one dimension per space at least
    "augmentation_invariance": Flag(),
    "device": Unchecked(),  # checked by resolve_device
    "random_state": Unchecked(),
}

#: Trade-off weights of clustpy's bases that ACe/DeC replaces by its cluster/shared split.
_IGNORED_BASE_WEIGHTS = ("clustering_loss_weight", "ssl_loss_weight")

#: Settings of clustpy's bases that ACeDeC replaces by its own: the reconstruction loss (ACe/DeC Eq. 1's squared
#: error) and the initial clustering (k-means in the cluster space, §2.2).
_REPLACED_BASE_SETTINGS = ("ssl_loss_fn", "initial_clustering_class", "initial_clustering_params")


@document_shared_parameters
class ACeDeC(SubspaceClustererMixin):
    """
    Autoencoder Centroid-based Deep Clustering with a cluster space and a shared space.

    Splits the autoencoder's embedding with a learnable d x d matrix V and weights β_cs = sigmoid(b),
    β_ss = 1 - β_cs into a cluster space, where the base's clustering objective runs, and a shared space
    that models everything common to all clusters by the data mean (Eq. 1). The reconstruction of
    dec(V V^T z) keeps all details, so there is no cluster/reconstruction trade-off weight.

    Parameters
    ----------
    base : clustpy.deep.DCN | clustpy.deep.DEC | clustpy.deep.IDEC | None
        the centroid-based deep clusterer to wrap (or any class added with
        :func:`clustpy_acedec.register_base`). Its hyperparameters are used (n_clusters, batch_size,
        pretrain/clustering epochs and optimiser parameters, optimizer_class, neural_network,
        neural_network_weights, embedding_size, augmentation_invariance, device, random_state and
        DEC's alpha); its clustering_loss_weight / ssl_loss_weight are ignored. The base is cloned,
        never modified. None means ``DCN(n_clusters=n_clusters)`` (default: None)
    n_clusters : int | None
        the number of clusters; sets (or overrides) the base's ``n_clusters``, as scikit-learn's meta-estimators
        do; without a base it means ``base=DCN(n_clusters=n_clusters)`` (default: None)
    random_state : int | np.random.RandomState | None
        seed of the fit; sets (or overrides) the base's ``random_state``. None: a fresh seed per fit. The global
        random states of torch, numpy and ``random`` are left as they were (default: None)
    init : str
        how the initial candidates are drawn (see :data:`INIT_STRATEGIES`): "random" is the paper's §2.2 (random
        orthogonal V, random split of the dimensions, k-means in the cluster space); "cluster_span" puts the
        span of a whitened k-means clustering into the cluster space
        (:func:`clustpy_acedec._initialization.cluster_span_start`), which does not depend on how the
        autoencoder scaled the directions; "best" draws the first candidate by "cluster_span" and the others by
        "random" (default: "best")
    init_rounds : int
        number of initial candidates; each gets the initial phase and the one with the lowest loss on the whole
        data set is kept, as in ENRC §2.6, among those that complete it (see ``init_screen_iterations``)
        (default: 3)
    init_iterations : int
        mini-batch iterations of the initial phase that trains only V and b (and the centres) with the
        autoencoder fixed (§2.2), per candidate; it runs on the cached embedding, so it is cheap (default: 5000)
    init_tol : float
        the initial phase of a candidate ends before ``init_iterations`` when its loss has fallen by less than
        this fraction over the last 250 iterations (:class:`clustpy_acedec._training.Plateau`); 0 runs every
        iteration (default: 0.01)
    init_screen_iterations : int
        the candidates are screened after this many iterations of the initial phase (rounded up to whole
        epochs): only the best third of them (at least one) complete the phase, and the kept one is the best of
        those by its loss on the whole data set (our addition: most candidates then cost a fraction of the
        phase). The screening ranks by that loss with β at its optimum for each candidate's V and centres
        (:func:`clustpy_acedec.losses.profiled_compression_loss`): ACeDeC's candidates put different numbers of
        dimensions into the cluster space and β settles slowly, so their losses themselves are not yet comparable
        after 250 iterations (docs/design.md). 0, or a value of as many epochs as ``init_iterations``, runs every
        candidate through the whole phase as the papers do (default: 250)
    dim_margin : float
        a dimension belongs to the cluster space when β_cs - β_ss >= dim_margin, i.e. β_cs >= 0.55 for the
        default; see :func:`clustpy_acedec._subspace.hardened_dims` (default: 0.1)
    pretraining : str | StackedDenoisingPretraining
        how an unfitted autoencoder is pretrained: "end_to_end" (the reconstruction loss with the optimiser and
        epochs of the base's pretraining parameters) or "stacked_denoising" (DEC's greedy layer-wise denoising
        autoencoders, then fine-tuning, the base's ``pretrain_epochs`` of it; ACe/DeC §3 pretrains this way) or
        "stacked_denoising_full" (the same with DEC's whole budget: 50,000 iterations per layer pair and 100,000
        of fine-tuning), or a :class:`clustpy_acedec.pretraining.StackedDenoisingPretraining` with its own schedule
        (default: "end_to_end")
    image_shape : tuple | None
        (H, W) or (H, W, C) of flattened image input, needed for the default augmentation when X is 2-D; for X
        given as images it may only restate their shape (a channel axis of size 1 aside) (default: None)
    {execution_parameters}
    verbose : bool
        show progress bars (default: False)
    {augmentation_parameter}

    Attributes
    ----------
    labels_ : np.ndarray
        cluster label of every training sample, shape (n_samples,)
    cluster_centers_ : np.ndarray
        centres in the rotated space V^T z, shape (n_clusters, d)
    shared_center_ : np.ndarray
        the shared-space centre V^T μ, shape (d,)
    V_ : np.ndarray
        the learned d x d matrix
    betas_ : np.ndarray
        β_cs (row 0) and β_ss (row 1), shape (2, d)
    betas_init_ : np.ndarray
        β at initialisation, shape (2, d)
    cluster_space_dims_ : np.ndarray
        rotated dimensions that belong to the cluster space (Table 3): β_cs - β_ss >= ``dim_margin``
    shared_space_dims_ : np.ndarray
        every other rotated dimension (:func:`cluster_and_shared_dims`); the two partition the d dimensions
    base_ : estimator
        the resolved (cloned) base, with ACeDeC's n_clusters and random_state where those are set
    history_ : dict
        what the phases did: "initial" (one :class:`clustpy_acedec._training.PhaseRecord` per candidate, with
        its whole-data loss) and "clustering" (one record)
    neural_network_trained_ : torch.nn.Module
        the trained autoencoder
    fit_seconds_ : dict
        wall-clock seconds of the phases of ``fit``: "pretraining", "initialization", "clustering", "prediction"
    data_placement_ : str
        where the data set was during the fit: "device" or "host" (streamed), ``data_placement`` resolved
    model_ : clustpy_acedec._model.SubspaceClusteringModel
        autoencoder, subspace layer and objectives
    n_features_in_ : int
        features per sample seen in ``fit`` (the product of the samples' shape)
    input_shape_ : tuple
        the shape of one sample seen in ``fit`` (``predict`` and ``transform`` take the same)
    feature_names_in_ : np.ndarray
        the column names of a data frame seen in ``fit``, when they are all strings (absent otherwise);
        ``predict`` and ``transform`` refuse a frame whose names differ or come in another order

    Examples
    --------
    >>> from clustpy.deep import DCN
    >>> from sklearn.datasets import make_blobs
    >>> X, _ = make_blobs(200, n_features=6, centers=3, random_state=0)
    >>> model = ACeDeC(base=DCN(n_clusters=3, pretrain_epochs=5, clustering_epochs=5, embedding_size=4,
    ...                         device="cpu"), random_state=0, init_iterations=50).fit(X)
    >>> model.labels_.shape, model.V_.shape
    ((200,), (4, 4))
    >>> sorted(model.cluster_space_dims_.tolist() + model.shared_space_dims_.tolist())
    [0, 1, 2, 3]

    References
    ----------
    Miklautz, Lukas, Lena G. M. Bauer, Dominik Mautz, Sebastian Tschiatschek, Christian Böhm, and Claudia Plant.
    "Details (Don't) Matter: Isolating Cluster Information in Deep Embedded Spaces." IJCAI 2021.
    """

    def __init__(self, base: BaseEstimator | None = None, n_clusters: int | None = None,
                 random_state: int | np.random.RandomState | None = None, init: str = "best",
                 init_rounds: int = 3, init_iterations: int = 5000, init_tol: float = INIT_TOL,
                 init_screen_iterations: int = INIT_SCREEN_ITERATIONS,
                 dim_margin: float = DEFAULT_DIM_MARGIN,
                 pretraining: "str | StackedDenoisingPretraining" = "end_to_end", image_shape: tuple | None = None,
                 data_placement: str = "auto",
                 precision: str = "float32", compile_step: bool = False, verbose: bool = False,
                 augmentation: Callable | None = None):
        self.base = base
        self.n_clusters = n_clusters
        self.random_state = random_state
        self.init = init
        self.init_rounds = init_rounds
        self.init_iterations = init_iterations
        self.init_tol = init_tol
        self.init_screen_iterations = init_screen_iterations
        self.dim_margin = dim_margin
        self.pretraining = pretraining
        self.image_shape = image_shape
        self.augmentation = augmentation
        self.data_placement = data_placement
        self.precision = precision
        self.compile_step = compile_step
        self.verbose = verbose

    def fit(self, X: ArrayLike, y: None = None) -> "ACeDeC":
        """
        Pretrain the base's autoencoder (unless it is fitted), find the best initial cluster/shared split and
        train everything; the result is stored in attributes ending in ``_``.

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

    def _fit(self, X: ArrayLike, collective: Collective | None) -> "ACeDeC":
        X, n_samples, names = checked_input(X, collective, type(self).__name__)
        base = agreed(collective, self._resolved_base)
        config = for_this_rank(agreed(collective, lambda: self._fit_config(base, X, n_samples)), collective,
                               self.get_params(deep=True))
        with preserved_global_random_state(config.device):
            run = start_fit(X, config, collective)
            sample = kmeans_sample(run.embedded, run.cpu_generator)
            model, betas_init = best_of_rounds(run, lambda round_index: self._candidate(run, sample, round_index),
                                               config.init_rounds,
                                               screening_score=SubspaceClusteringModel.profiled_loss)
            # agreed: a registered objective that fails on one rank fails the fit on every rank
            model = agreed(collective, lambda: _with_base_objective(model, base, run.device))
            clustering_phase(model, run)
            labels, attributes = finish_fit(model, run, X, betas_init)
        cluster_dims, shared_dims = cluster_and_shared_dims(torch.as_tensor(attributes["betas_"]), self.dim_margin)
        centers = model.cluster_centers()
        self._set_fitted(dict(attributes, feature_names_in_=names, labels_=labels[:, 0],
                              cluster_centers_=centers[0].cpu().numpy().copy(),
                              shared_center_=centers[1][0].cpu().numpy(), cluster_space_dims_=cluster_dims,
                              shared_space_dims_=shared_dims, base_=base), collective)
        return self

    def _resolved_base(self):
        """
        The base that this fit uses: a clone of ``base`` (or ``DCN()`` without one) with ACeDeC's ``n_clusters`` and
        ``random_state`` filled in or overriding its own where they are set; a registered base that lacks either
        parameter is left without it, and the fit reads ACeDeC's value (:meth:`_fit_config`).
        """
        from clustpy.deep import DCN
        if isinstance(self.base, type):
            raise TypeError(f"base must be an estimator instance, e.g. {self.base.__name__}(n_clusters=10), "
                            f"got the class {self.base.__name__}")
        if self.base is None:
            base = DCN(n_clusters=self.n_clusters)
        else:
            registered_objective(self.base)  # TypeError naming the supported bases
            base = clone(self.base)
        overrides = {name: value for name, value in (("n_clusters", self.n_clusters),
                                                     ("random_state", self.random_state)) if value is not None}
        own_state = getattr(self.base, "random_state", None)
        if self.random_state is None and isinstance(own_state, np.random.RandomState):
            # clone deep-copies a RandomState, which would give every fit the same seed; as in scikit-learn,
            # repeated fits with one RandomState draw from the user's object
            overrides["random_state"] = own_state
        # a registered base of another library may lack either parameter: _fit_config then reads ACeDeC's own
        settable = base.get_params(deep=False)
        return base.set_params(**{name: value for name, value in overrides.items() if name in settable})

    def _fit_config(self, base, X: np.ndarray, n_samples: int) -> FitConfig:
        """Check ACeDeC's and its base's parameters against their declared constraints; the fit's settings for a
        data set of ``n_samples`` (all ranks' shards together in a distributed fit) shaped like ``X``."""
        own = check_declared_parameters(self, _PARAMETER_CONSTRAINTS)
        base_params = base.get_params(deep=False)
        if base_params.get("n_clusters") is None and self.n_clusters is None and self.base is None:
            raise ValueError("ACeDeC needs n_clusters or a base, e.g. ACeDeC(base=DCN(n_clusters=10))")
        for name in ("n_clusters", "random_state"):  # a base without them: ACeDeC's own (_resolved_base)
            if name not in base_params:
                if name == "n_clusters" and self.n_clusters is None:
                    raise ValueError(f"ACeDeC needs n_clusters: its base {type(base).__name__} has no n_clusters "
                                     "parameter, so pass it to ACeDeC, e.g. ACeDeC(base=..., n_clusters=10)")
                base_params[name] = getattr(self, name)
        n_clusters = check_n_clusters(base_params.get("n_clusters"), n_samples)
        if registered_objective(base) == "student_t":  # the Student-t kernel's degrees of freedom
            Real(0.0, math.inf).check(base_params.get("alpha", 1.0), "alpha")
        check_no_custom_dataloaders(base_params.get("custom_dataloaders"))
        # A registered base of another library may lack some of clustpy's parameters: DCN's defaults stand in.
        defaults = _clustpy_defaults()
        read = check_parameters({name: base_params.get(name, defaults[name]) for name in _BASE_PARAMETER_CONSTRAINTS},
                                _BASE_PARAMETER_CONSTRAINTS)
        check_augmentation_needs_invariance(own["augmentation"], read["augmentation_invariance"])
        _warn_ignored_weights(base, base_params)
        return FitConfig(
            name=type(self).__name__, n_clusters=[n_clusters], batch_size=read["batch_size"],
            pretrain_epochs=read["pretrain_epochs"], clustering_epochs=read["clustering_epochs"],
            init_rounds=own["init_rounds"], init_iterations=own["init_iterations"],
            init_tol=own["init_tol"], init_screen_iterations=own["init_screen_iterations"],
            pretrain_optimizer_params=dict(read["pretrain_optimizer_params"] or DEFAULT_PRETRAIN_OPTIMIZER_PARAMS),
            clustering_optimizer_params=dict(read["clustering_optimizer_params"]
                                             or DEFAULT_CLUSTERING_OPTIMIZER_PARAMS),
            optimizer_class=read["optimizer_class"], neural_network=read["neural_network"],
            neural_network_weights=read["neural_network_weights"], embedding_size=read["embedding_size"],
            min_embedding_size=2,
            augmentation_invariance=read["augmentation_invariance"], augmentation=own["augmentation"],
            image_shape=check_image_shape(self.image_shape, X.shape[1:]),
            pretraining=resolve_pretraining(self.pretraining, read["pretrain_epochs"]),
            reinit_sample_size=REINIT_SAMPLE_SIZE, reinit_lloyd_steps=REINIT_LLOYD_STEPS,
            device=resolve_device(read["device"]), seed=seed_for_fit(read["random_state"]),
            data_placement=own["data_placement"], precision=own["precision"], compile_step=own["compile_step"],
            verbose=own["verbose"])

    def _candidate(self, run: FitRun, sample: torch.Tensor, round_index: int) -> SubspaceClusteringModel:
        """
        One initial model (§2.2): V and the split of the dimensions, k-means in the cluster space on ``sample``
        (the embedding, or a random part of a large one), μ = the data mean. "cluster_span" (and the first
        round of "best") starts from :func:`clustpy_acedec._initialization.cluster_span_start` instead of a random
        orthogonal V and a random split.

        The candidate carries ACe/DeC's k-means objective (mini-batch centres, Eq. 1) for every base: the
        initial phase looks for the cluster space of the k-means centres that DEC and IDEC start from as well;
        the base's own objective takes over with the resulting centres for the clustering phase
        (:func:`_with_base_objective`).
        """
        config, device, generator = run.config, run.device, run.cpu_generator
        n_clusters, d = config.n_clusters[0], run.embedded.shape[1]
        if self.init == "cluster_span" or (self.init == "best" and round_index == 0):
            V, beta_logits = cluster_span_start(sample, n_clusters, generator)
        else:
            V, beta_logits = random_orthogonal(d, generator, device), split_beta_logits(d, generator).to(device)
        layer = SubspaceLayer(V, beta_logits, parametrization="sigmoid")
        with torch.no_grad():
            cluster_dims = (layer.beta_logits > 0).float()
            centers, _, _ = weighted_kmeans(layer.rotate(sample), n_clusters, cluster_dims, generator)
        objectives = [_kmeans_objective(centers, run.full_batch_size, config.reinit_lloyd_steps),
                      SharedMeanObjective(run.embedded.mean(0), 1)]
        return SubspaceClusteringModel(run.autoencoder, layer, objectives, POINTS).to(device)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """
        Cluster labels of new data: nearest centre in the cluster space (Eq. 5 with β_cs).

        Parameters
        ----------
        X : array-like
            data of the shape seen in fit

        Returns
        -------
        labels : np.ndarray
            shape (n_samples,)
        """
        embedded = self._embed(X)
        return self.model_.predict_embedded(embedded)[:, 0].cpu().numpy()

    def transform(self, X: ArrayLike) -> np.ndarray:
        """
        Coordinates in the cluster space: the rotated dimensions in ``cluster_space_dims_``.

        Parameters
        ----------
        X : array-like
            data shaped like the training data

        Returns
        -------
        coordinates : np.ndarray
            shape (n_samples, len(cluster_space_dims_))
        """
        return self._rotated(X)[:, torch.as_tensor(self.cluster_space_dims_, dtype=torch.long)].cpu().numpy()

    def transform_shared(self, X: ArrayLike) -> np.ndarray:
        """
        Coordinates in the shared space: the rotated dimensions in ``shared_space_dims_``.

        Parameters
        ----------
        X : array-like
            data shaped like the training data

        Returns
        -------
        coordinates : np.ndarray
            shape (n_samples, len(shared_space_dims_))
        """
        return self._rotated(X)[:, torch.as_tensor(self.shared_space_dims_, dtype=torch.long)].cpu().numpy()


def cluster_and_shared_dims(betas: torch.Tensor, margin: float) -> tuple:
    """
    The hardened cluster space and shared space (Table 3): a rotated dimension belongs to the cluster space
    when β_cs - β_ss >= margin (:func:`clustpy_acedec._subspace.hardened_dims`), and to the shared space
    otherwise. A dimension whose β_cs sits near 0.5 carries no usable cluster structure (its stationary β_cs
    is c / (a + c), just above 0.5 for a structureless dimension), so it is modelled by the data mean like
    the rest of the shared space: cluster and shared dimensions partition the d rotated dimensions.

    Parameters
    ----------
    betas : torch.Tensor
        (β_cs, β_ss), shape (2, d)
    margin : float
        the estimator's ``dim_margin``

    Returns
    -------
    tuple : (np.ndarray, np.ndarray)
        the cluster-space dimensions and the shared-space dimensions, each a sorted integer array
    """
    cluster_dims = hardened_dims(betas, margin)[0]
    shared_dims = np.setdiff1d(np.arange(betas.shape[1]), cluster_dims)
    return cluster_dims, shared_dims


def _clustpy_defaults() -> dict:
    """clustpy's defaults of the hyperparameters ACeDeC reads from a base (those of its DCN)."""
    from clustpy.deep import DCN
    return {name: p.default for name, p in inspect.signature(DCN.__init__).parameters.items()}


def _warn_ignored_weights(base, params: dict) -> None:
    """ACe/DeC replaces the base's cluster/reconstruction trade-off, its reconstruction loss and its initial
    clustering: say so when the user set any of them."""
    defaults = inspect.signature(type(base).__init__).parameters

    def changed(names: tuple) -> list:
        return [f"{name}={params[name]!r} (default {defaults[name].default!r})" for name in names
                if name in params and name in defaults and params[name] is not defaults[name].default
                and params[name] != defaults[name].default]

    weights, replaced = changed(_IGNORED_BASE_WEIGHTS), changed(_REPLACED_BASE_SETTINGS)
    if weights:
        warn_caller(f"ACeDeC ignores the base's {', '.join(weights)}: ACe/DeC has no "
                    "trade-off between the clustering and the reconstruction loss to weight")
    if replaced:
        warn_caller(f"ACeDeC ignores the base's {', '.join(replaced)}: it reconstructs "
                    "with ACe/DeC's squared error (Eq. 1) and starts from k-means in the cluster space (§2.2)")


def _kmeans_objective(centers: torch.Tensor, batch_size: int, lloyd_steps: int) -> HardCentroidObjective:
    """DCN's objective in the cluster space: hard assignments, mini-batch k-means centres (ENRC Eq. 6-7) for full
    batches of ``batch_size`` points."""
    return HardCentroidObjective(MiniBatchCenters.for_batches([centers], [0], batch_size, lloyd_steps=lloyd_steps))


def _with_base_objective(model: SubspaceClusteringModel, base, device: torch.device) -> SubspaceClusteringModel:
    """The initialised model with the base's own cluster-space objective, started from its k-means centres;
    the shared term takes that objective's distance units."""
    kind = registered_objective(base)
    if kind == "hard":
        return model
    centers = model.cluster_centers()[0]
    cluster_objective = (StudentTObjective(centers, space=0, alpha=float(getattr(base, "alpha", 1.0)))
                         if kind == "student_t" else kind(base, centers, 0))
    if not isinstance(cluster_objective, SpaceObjective):
        raise TypeError(f"the objective registered for {type(base).__name__} (register_base) must return a "
                        f"clustpy_acedec.bases.SpaceObjective, got {type(cluster_objective).__name__}")
    shared_objective = model.objectives[1]
    shared_objective.scale = getattr(cluster_objective, "distance_scale", 1.0)
    return SubspaceClusteringModel(model.autoencoder, model.layer, [cluster_objective, shared_objective],
                                   POINTS).to(device)
