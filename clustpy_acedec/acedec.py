"""
ACeDeC: the ACe/DeC framework (Miklautz, Bauer et al., IJCAI 2021) wrapped around a clustpy deep clusterer.
"""

import numpy as np
import torch
from sklearn.base import clone

from clustpy_acedec._estimator import FitConfig, FitContext, SubspaceClustererMixin
from clustpy_acedec._validation import check_n_clusters, check_positive_int
from clustpy_acedec.centers import MiniBatchCenters
from clustpy_acedec.initialization import weighted_kmeans
from clustpy_acedec.losses import POINTS
from clustpy_acedec.model import SubspaceClusteringModel
from clustpy_acedec.objectives import (HardCentroidObjective, SharedMeanObjective, StudentTObjective,
                                       registered_objective)
from clustpy_acedec.pretraining import resolve_pretraining
from clustpy_acedec.subspace import (DEFAULT_DIM_MARGIN, SubspaceLayer, hardened_dims, random_orthogonal,
                                     split_beta_logits)

#: Hyperparameters ACeDeC reads from its base; the base's loss weights are dropped on purpose.
_BASE_PARAMETERS = ("batch_size", "pretrain_epochs", "clustering_epochs", "pretrain_optimizer_params",
                    "clustering_optimizer_params", "optimizer_class", "neural_network", "neural_network_weights",
                    "embedding_size", "augmentation_invariance", "device", "random_state")


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
    init_iterations : int
        mini-batch iterations of the initial phase that trains only V and b (and the centres) with the
        autoencoder fixed (§2.2); it runs on the cached embedding, so it is cheap (default: 5000)
    dim_margin : float
        a dimension belongs to the cluster space when β_cs - β_ss >= dim_margin, i.e. β_cs >= 0.55 for the
        default; see :func:`clustpy_acedec.subspace.hardened_dims` (default: 0.1)
    pretraining : str | StackedDenoisingPretraining
        how an unfitted autoencoder is pretrained: "end_to_end" (the reconstruction loss with the optimiser and
        epochs of the base's pretraining parameters) or "stacked_denoising" (DEC's greedy layer-wise denoising
        autoencoders, then fine-tuning, the base's ``pretrain_epochs`` of it; ACe/DeC §3 pretrains this way), or a
        :class:`clustpy_acedec.pretraining.StackedDenoisingPretraining` with its own schedule
        (default: "end_to_end")
    image_shape : tuple | None
        (H, W) or (H, W, C) of flattened image input, needed for augmentation when X is 2-D (default: None)
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

    def __init__(self, base=None, n_clusters: int | None = None, init_iterations: int = 5000,
                 dim_margin: float = DEFAULT_DIM_MARGIN, pretraining="end_to_end", image_shape: tuple | None = None,
                 verbose: bool = True):
        self.base = base
        self.n_clusters = n_clusters
        self.init_iterations = init_iterations
        self.dim_margin = dim_margin
        self.pretraining = pretraining
        self.image_shape = image_shape
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
        if not 0.0 < self.dim_margin < 1.0:
            raise ValueError(f"dim_margin must lie in (0, 1), got {self.dim_margin}")
        if params.get("custom_dataloaders") is not None:
            raise ValueError("custom_dataloaders are not supported: ACeDeC keeps the data on the device and "
                             "augments there; pass X (images as (n, H, W[, C])) and augmentation_invariance=True")
        kwargs = {name: params[name] for name in _BASE_PARAMETERS if params.get(name) is not None}
        config = FitConfig(n_clusters=[n_clusters], init_iterations=self.init_iterations, base=base, **kwargs)
        config.pretraining = resolve_pretraining(self.pretraining, config.pretrain_epochs)
        check_positive_int(config.batch_size, "batch_size")
        return config

    def _initialize(self, context: FitContext) -> SubspaceClusteringModel:
        """§2.2: random orthogonal V, random split of the dimensions, k-means in the cluster space, μ = data mean,
        then the phase that trains V and b with the autoencoder fixed."""
        config, device = context.config, context.device
        base = config.base
        d = context.embedded.shape[1]
        layer = SubspaceLayer(random_orthogonal(d, context.cpu_generator, device),
                              split_beta_logits(d, context.cpu_generator).to(device), parametrization="sigmoid")
        n_clusters = config.n_clusters[0]
        with torch.no_grad():
            rotated = layer.rotate(context.embedded)
            cluster_dims = (layer.beta_logits > 0).float()
            centers, _, _ = weighted_kmeans(rotated, n_clusters, cluster_dims, context.cpu_generator)
        kind = registered_objective(base)
        alpha = float(getattr(base, "alpha", 1.0))
        if kind == "hard":
            expected_per_batch = config.batch_size / n_clusters
            cluster_objective = HardCentroidObjective(MiniBatchCenters([centers], [0], [expected_per_batch]))
        elif kind == "student_t":
            cluster_objective = StudentTObjective(centers, space=0, alpha=alpha)
        else:
            cluster_objective = kind(base, centers, 0)
        scale = getattr(cluster_objective, "distance_scale", 1.0)
        shared_objective = SharedMeanObjective(context.embedded.mean(0), space=1, scale=scale)
        model = SubspaceClusteringModel(context.autoencoder, layer, [cluster_objective, shared_objective], POINTS)
        model.to(device)
        context.betas_init = layer.betas().detach().cpu().numpy()
        self._run_initial_phase(model, context)
        return model

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
