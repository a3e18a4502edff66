"""
ACeDeC: the ACe/DeC framework (Miklautz, Bauer et al., IJCAI 2021) wrapped around a clustpy deep clusterer.
"""

import numpy as np
import torch
from sklearn.base import clone

from clustpy_acedec._estimator import FitConfig, FitContext, SubspaceClustererMixin, document_execution_parameters
from clustpy_acedec._validation import (check_choice, check_n_clusters, check_no_custom_dataloaders,
                                         check_positive_int)
from clustpy_acedec.centers import MiniBatchCenters
from clustpy_acedec.initialization import cluster_span_start, kmeans_sample, weighted_kmeans
from clustpy_acedec.losses import POINTS
from clustpy_acedec.model import SubspaceClusteringModel
from clustpy_acedec.objectives import (HardCentroidObjective, SharedMeanObjective, StudentTObjective,
                                       registered_objective)
from clustpy_acedec.pretraining import resolve_pretraining
from clustpy_acedec.subspace import (DEFAULT_DIM_MARGIN, SubspaceLayer, hardened_dims, random_orthogonal,
                                     split_beta_logits)

#: Ways to draw ACeDeC's initial candidates, see the ``init`` parameter.
INIT_STRATEGIES = ("best", "random", "cluster_span")

#: Hyperparameters ACeDeC reads from its base; the base's loss weights are dropped on purpose.
_BASE_PARAMETERS = ("batch_size", "pretrain_epochs", "clustering_epochs", "pretrain_optimizer_params",
                    "clustering_optimizer_params", "optimizer_class", "neural_network", "neural_network_weights",
                    "embedding_size", "augmentation_invariance", "device", "random_state")


@document_execution_parameters
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
        shorthand for ``base=DCN(n_clusters=n_clusters)``; must agree with the base's if both are given
        (default: None)
    init : str
        how the initial candidates are drawn (see :data:`INIT_STRATEGIES`): "random" is the paper's §2.2 (random
        orthogonal V, random split of the dimensions, k-means in the cluster space); "cluster_span" puts the
        span of a whitened k-means clustering into the cluster space
        (:func:`clustpy_acedec.initialization.cluster_span_start`), which does not depend on how the
        autoencoder scaled the directions; "best" draws the first candidate by "cluster_span" and the others by
        "random" (default: "best")
    init_rounds : int
        number of initial candidates; each gets the initial phase and the one with the lowest loss on the whole
        data set is kept, as in ENRC §2.6 (default: 3)
    init_iterations : int
        mini-batch iterations of the initial phase that trains only V and b (and the centres) with the
        autoencoder fixed (§2.2), per candidate; it runs on the cached embedding, so it is cheap (default: 5000)
    dim_margin : float
        a dimension belongs to the cluster space when β_cs - β_ss >= dim_margin, i.e. β_cs >= 0.55 for the
        default; see :func:`clustpy_acedec.subspace.hardened_dims` (default: 0.1)
    pretraining : str | StackedDenoisingPretraining
        how an unfitted autoencoder is pretrained: "end_to_end" (the reconstruction loss with the optimiser and
        epochs of the base's pretraining parameters) or "stacked_denoising" (DEC's greedy layer-wise denoising
        autoencoders, then fine-tuning, the base's ``pretrain_epochs`` of it; ACe/DeC §3 pretrains this way) or
        "stacked_denoising_full" (the same with DEC's whole budget: 50,000 iterations per layer pair and 100,000
        of fine-tuning), or a :class:`clustpy_acedec.pretraining.StackedDenoisingPretraining` with its own schedule
        (default: "end_to_end")
    image_shape : tuple | None
        (H, W) or (H, W, C) of flattened image input, needed for augmentation when X is 2-D (default: None)
    {execution_parameters}
    verbose : bool
        show progress bars (default: True)

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
        rotated dimensions that belong to the cluster space (Table 3)
    shared_space_dims_ : np.ndarray
        rotated dimensions that belong to the shared space
    base_ : estimator
        the resolved (cloned) base
    neural_network_trained_ : torch.nn.Module
        the trained autoencoder
    fit_seconds_ : dict
        wall-clock seconds of the phases of ``fit``: "pretraining", "initialization", "clustering", "prediction"
    model_ : clustpy_acedec.model.SubspaceClusteringModel
        autoencoder, subspace layer and objectives

    Examples
    --------
    >>> from clustpy.deep import DCN
    >>> model = ACeDeC(base=DCN(n_clusters=10)).fit(X)
    >>> model.labels_, model.cluster_space_dims_

    References
    ----------
    Miklautz, Lukas, Lena G. M. Bauer, Dominik Mautz, Sebastian Tschiatschek, Christian Böhm, and Claudia Plant.
    "Details (Don't) Matter: Isolating Cluster Information in Deep Embedded Spaces." IJCAI 2021.
    """

    def __init__(self, base=None, n_clusters: int | None = None, init: str = "best", init_rounds: int = 3,
                 init_iterations: int = 5000, dim_margin: float = DEFAULT_DIM_MARGIN, pretraining="end_to_end", image_shape: tuple | None = None,
                 data_placement: str = "auto", precision: str = "float32", compile_step: bool = False,
                 verbose: bool = True):
        self.base = base
        self.n_clusters = n_clusters
        self.init = init
        self.init_rounds = init_rounds
        self.init_iterations = init_iterations
        self.dim_margin = dim_margin
        self.pretraining = pretraining
        self.image_shape = image_shape
        self.data_placement = data_placement
        self.precision = precision
        self.compile_step = compile_step
        self.verbose = verbose

    def _resolved_base(self):
        from clustpy.deep import DCN
        if self.base is None:
            if self.n_clusters is None:
                raise ValueError("ACeDeC needs n_clusters or a base, e.g. ACeDeC(base=DCN(n_clusters=10))")
            return DCN(n_clusters=self.n_clusters)
        registered_objective(self.base)  # TypeError naming the supported bases
        base = clone(self.base)
        if self.n_clusters is not None and base.n_clusters != self.n_clusters:
            raise ValueError(f"n_clusters={self.n_clusters} contradicts the base's n_clusters={base.n_clusters}")
        return base

    def _fit_config(self, n_samples: int) -> FitConfig:
        base = self._resolved_base()
        params = base.get_params(deep=False)
        n_clusters = check_n_clusters(params.get("n_clusters"), n_samples)
        check_positive_int(self.init_iterations, "init_iterations", minimum=0)
        check_positive_int(self.init_rounds, "init_rounds")
        check_choice(self.init, "init", INIT_STRATEGIES)
        if not 0.0 < self.dim_margin < 1.0:
            raise ValueError(f"dim_margin must lie in (0, 1), got {self.dim_margin}")
        check_no_custom_dataloaders(params.get("custom_dataloaders"))
        kwargs = {name: params[name] for name in _BASE_PARAMETERS if params.get(name) is not None}
        config = FitConfig(n_clusters=[n_clusters], init_iterations=self.init_iterations, base=base, **kwargs)
        config.pretraining = resolve_pretraining(self.pretraining, config.pretrain_epochs)
        check_positive_int(config.batch_size, "batch_size")
        return config

    def _initialize(self, context: FitContext) -> SubspaceClusteringModel:
        """
        §2.2: ``init_rounds`` candidates (V, split of the dimensions, k-means in the cluster space, μ = data
        mean), each trained in the phase that trains V and b with the autoencoder fixed; the lowest loss wins.

        The initial phase runs ACe/DeC's k-means objective (mini-batch centres, Eq. 1) for every base: it
        looks for the cluster space of the k-means centres that DEC and IDEC start from as well. The base's
        own objective takes over with the resulting centres for the clustering phase. (Measured on SYNTH-25,
        seed 0: running DEC's KL objective with learnable centres in the initial phase instead moved a start
        at NMI 0.999 to 0.09, with β_cs below 0.6 in every dimension.)
        """
        sample = kmeans_sample(context.embedded, context.cpu_generator)
        model = self._best_of_rounds(context, lambda round_index: self._candidate(context, sample, round_index),
                                     self.init_rounds)
        return _with_base_objective(model, context)

    def _candidate(self, context: FitContext, sample: torch.Tensor, round_index: int) -> SubspaceClusteringModel:
        """One initial model; the k-means runs on ``sample`` (the embedding, or a random part of a large one)."""
        config, device, generator = context.config, context.device, context.cpu_generator
        n_clusters, d = config.n_clusters[0], context.embedded.shape[1]
        if self.init == "cluster_span" or (self.init == "best" and round_index == 0):
            V, beta_logits = cluster_span_start(sample, n_clusters, generator)
        else:
            V, beta_logits = random_orthogonal(d, generator, device), split_beta_logits(d, generator).to(device)
        layer = SubspaceLayer(V, beta_logits, parametrization="sigmoid")
        with torch.no_grad():
            cluster_dims = (layer.beta_logits > 0).float()
            centers, _, _ = weighted_kmeans(layer.rotate(sample), n_clusters, cluster_dims, generator)
        objectives = [_kmeans_objective(centers, config.batch_size), SharedMeanObjective(context.embedded.mean(0), 1)]
        return SubspaceClusteringModel(context.autoencoder, layer, objectives, POINTS).to(device)

    def _fitted_attributes(self, model, labels, context) -> dict:
        betas = model.layer.betas().detach()
        cluster_dims, shared_dims = hardened_dims(betas, self.dim_margin)
        centers = model.cluster_centers()
        attributes = dict(labels_=labels[:, 0], cluster_centers_=centers[0].cpu().numpy(),
                          shared_center_=centers[1][0].cpu().numpy(), V_=model.layer.V.detach().cpu().numpy(),
                          betas_=betas.cpu().numpy(), betas_init_=context.betas_init, cluster_space_dims_=cluster_dims,
                          shared_space_dims_=shared_dims, base_=context.config.base)
        return attributes

    def predict(self, X) -> np.ndarray:
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

    def transform(self, X) -> np.ndarray:
        """Coordinates in the cluster space: the rotated dimensions in ``cluster_space_dims_``, (n_samples, |dims|)."""
        return self._rotated(X)[:, torch.as_tensor(self.cluster_space_dims_, dtype=torch.long)].cpu().numpy()

    def transform_shared(self, X) -> np.ndarray:
        """Coordinates in the shared space: the rotated dimensions in ``shared_space_dims_``, (n_samples, |dims|)."""
        return self._rotated(X)[:, torch.as_tensor(self.shared_space_dims_, dtype=torch.long)].cpu().numpy()


def _kmeans_objective(centers: torch.Tensor, batch_size: int) -> HardCentroidObjective:
    """DCN's objective in the cluster space: hard assignments, mini-batch k-means centres (ENRC Eq. 6-7)."""
    return HardCentroidObjective(MiniBatchCenters([centers], [0], [batch_size / centers.shape[0]]))


def _with_base_objective(model: SubspaceClusteringModel, context: FitContext) -> SubspaceClusteringModel:
    """The initialised model with the base's own cluster-space objective, started from its k-means centres;
    the shared term takes that objective's distance units."""
    base = context.config.base
    kind = registered_objective(base)
    if kind == "hard":
        return model
    centers = model.cluster_centers()[0]
    cluster_objective = (StudentTObjective(centers, space=0, alpha=float(getattr(base, "alpha", 1.0)))
                         if kind == "student_t" else kind(base, centers, 0))
    shared_objective = model.objectives[1]
    shared_objective.scale = getattr(cluster_objective, "distance_scale", 1.0)
    return SubspaceClusteringModel(model.autoencoder, model.layer, [cluster_objective, shared_objective],
                                   POINTS).to(context.device)
