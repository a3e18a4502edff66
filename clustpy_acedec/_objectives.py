"""
Compression objectives of the spaces of the subspace layer.

An objective owns the centre state of one or more spaces and turns a batch of rotated points into a
per-sample loss and hard labels for each of its spaces:

- :class:`HardCentroidObjective` - DCN and ENRC: hard assignment to the nearest centre (ENRC Eq. 5),
  loss dist_β(V^T z, μ_k) (ACe/DeC Eq. 5, ENRC Eq. 4), centres by mini-batch k-means (ENRC Eq. 6-7).
- :class:`StudentTObjective` - DEC and IDEC: Student-t soft assignment under the β-weighted distance and
  the KL divergence to DEC's sharpened target distribution; centres are learnable.
- :class:`SharedMeanObjective` - ACe/DeC's shared space: one 'cluster' whose centre is the mean of the
  embedded data (ACe/DeC Eq. 1, L_shared).

Which objective a clustpy base maps to is kept in :mod:`clustpy_acedec.bases`.
"""

from collections.abc import Callable

import torch

from clustpy_acedec._centers import MiniBatchCenters, bin_counts, reinitialized_centers
from clustpy_acedec._distributed import batch_sum
from clustpy_acedec._subspace import SubspaceLayer, weighted_squared_distance


class SpaceObjective(torch.nn.Module):
    """
    Interface of a compression objective over one or more spaces of a :class:`SubspaceLayer`; what a callable
    registered with :func:`clustpy_acedec.bases.register_base` returns (public there as
    ``clustpy_acedec.bases.SpaceObjective``).

    Attributes
    ----------
    spaces : list
        the rows of β (spaces) this objective is responsible for
    """

    spaces: list

    def loss(self, rotated: torch.Tensor, betas: torch.Tensor, layer: SubspaceLayer) -> tuple:
        """
        Per-sample compression loss and hard labels of a batch.

        Parameters
        ----------
        rotated : torch.Tensor
            the batch in the rotated space, V^T z, shape (N, d)
        betas : torch.Tensor
            β of every space, shape (S, d)
        layer : SubspaceLayer
            the layer that holds V and β (for objectives whose centres live there)

        Returns
        -------
        tuple : (torch.Tensor, torch.Tensor)
            loss of shape (N, len(spaces)), labels of shape (N, len(spaces))
        """
        raise NotImplementedError

    def augmented_loss(self, rotated_aug: torch.Tensor, betas: torch.Tensor, layer: SubspaceLayer,
                       labels: torch.Tensor) -> torch.Tensor:
        """
        Per-sample loss pulling augmented points to the centres their originals were assigned to.

        Parameters
        ----------
        rotated_aug : torch.Tensor
            the augmented batch in the rotated space, shape (N, d)
        betas : torch.Tensor
            β of every space, shape (S, d)
        layer : SubspaceLayer
            the layer that holds V and β
        labels : torch.Tensor
            the originals' labels from :meth:`loss`, shape (N, len(spaces))

        Returns
        -------
        torch.Tensor
            shape (N, len(spaces))
        """
        raise NotImplementedError

    def predict(self, rotated: torch.Tensor, betas: torch.Tensor, layer: SubspaceLayer) -> torch.Tensor:
        """
        Hard labels of a batch (by default those of :meth:`loss`).

        Parameters
        ----------
        rotated : torch.Tensor
            the batch in the rotated space, V^T z, shape (N, d)
        betas : torch.Tensor
            β of every space, shape (S, d)
        layer : SubspaceLayer
            the layer that holds V and β (for objectives whose centres live there)

        Returns
        -------
        torch.Tensor
            shape (N, len(spaces))
        """
        return self.loss(rotated, betas, layer)[1]

    def update(self, embedded: torch.Tensor, rotated: torch.Tensor, labels: torch.Tensor) -> None:
        """
        Gradient-free state update after an optimiser step (e.g. the mini-batch centres of ENRC Eq. 6-7).

        Parameters
        ----------
        embedded : torch.Tensor
            the batch's embedding z, detached, shape (N, d)
        rotated : torch.Tensor
            V^T z, detached, shape (N, d)
        labels : torch.Tensor
            the labels :meth:`loss` gave, shape (N, len(spaces))
        """

    def end_epoch(self) -> None:
        """Called after every epoch."""

    def cluster_centers(self, layer: SubspaceLayer) -> list:
        """
        The centres of this objective's spaces.

        Parameters
        ----------
        layer : SubspaceLayer
            the layer that holds V and β

        Returns
        -------
        list of torch.Tensor
            one (K_s, d) tensor of centres in the rotated space per space
        """
        raise NotImplementedError

    def reinitialize_lost(self, sample: Callable, betas: torch.Tensor, iteration: int) -> int:
        """
        Re-initialise centres that lost their points (ENRC §2.8); called between epochs.

        Parameters
        ----------
        sample : Callable
            returns n_s points of the data set in the rotated space; only called when a centre is lost
        betas : torch.Tensor
            current β
        iteration : int
            the mini-batch iteration count

        Returns
        -------
        n_reinitialized : int
        """
        return 0


class HardCentroidObjective(SpaceObjective):
    """
    k-means compression with mini-batch k-means centres (DCN in ACe/DeC; every clustering of ENRC).

    Parameters
    ----------
    centers : MiniBatchCenters
        the centre state; its ``spaces`` are this objective's spaces
    """

    def __init__(self, centers: MiniBatchCenters):
        super().__init__()
        self.centers = centers
        self.spaces = centers.spaces

    def loss(self, rotated, betas, layer):
        # Assignment (Eq. 5) is a discrete choice: no gradient flows through it, and centres are constants.
        with torch.no_grad():
            labels = self.centers.assign(rotated, betas)
        return self._distance_to(rotated, betas, labels), labels

    def augmented_loss(self, rotated_aug, betas, layer, labels):
        return self._distance_to(rotated_aug, betas, labels)

    def _distance_to(self, rotated: torch.Tensor, betas: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        assigned = self.centers.assigned_centers(labels)  # (N, S, d)
        return weighted_squared_distance(rotated.unsqueeze(1), assigned, betas[self.spaces], pairwise=False)

    def update(self, embedded, rotated, labels):
        self.centers.update(rotated, labels)

    def cluster_centers(self, layer):
        return [self.centers.centers_of(s) for s in range(len(self.spaces))]

    def reinitialize_lost(self, sample, betas, iteration):
        lost = self.centers.lost_centers(iteration)
        if lost:
            points = sample()
            for clustering, cluster in lost:
                self.centers.reinitialize(clustering, cluster, points, betas)
        return len(lost)


class StudentTObjective(SpaceObjective):
    """
    DEC / IDEC in the cluster space: Student-t soft assignments Q under the β-weighted distance of Eq. 2 in
    the rotated space, and the KL divergence to DEC's sharpened target P (Xie et al. 2016); centres are
    learnable. P is computed from the batch and detached, as clustpy's DEC does.

    With ACe/DeC the reconstruction is always part of the loss and the trade-off weights are dropped, so
    DEC and IDEC become one objective. The KL divergence alone cannot decide which dimensions belong to
    the cluster space: it depends on relative distances only (adding a constant to every distance of a
    point hardly changes it), while the shared term rewards moving every dimension out of the shared space.
    So the cluster space also carries ACe/DeC's own compression, the β_cs-weighted squared distance to the
    most probable centre (centres detached: they are trained by the KL term only). Per dimension this
    gives the same competition with the shared term as for DCN (stationary β_cs = c / (a + c)).

    The squared-distance terms are expressed in the kernel's units: (α+1)/(2α) · d² is the small-distance
    limit of the Student-t negative log-likelihood (α+1)/2 · log(1 + d²/α) that the KL term is built from,
    so compression, shared term and KL divergence are commensurate without a tuned weight (the factor is 1
    for DEC's default α = 1). The same factor scales the shared term (see :attr:`distance_scale`).

    Parameters
    ----------
    centers : torch.Tensor
        initial centres in the rotated space, shape (K, d); they become learnable parameters
    space : int
        the row of β this clustering lives in
    alpha : float
        degrees of freedom of the Student-t kernel (default: 1.0)
    """

    def __init__(self, centers: torch.Tensor, space: int = 0, alpha: float = 1.0):
        super().__init__()
        self.centers = torch.nn.Parameter(centers.detach().clone().float())
        self.spaces = [space]
        self.alpha = alpha
        self.register_buffer("_epoch_counts", torch.zeros(centers.shape[0], dtype=torch.long, device=centers.device))

    @property
    def distance_scale(self) -> float:
        """(α+1)/(2α): the Student-t negative log-likelihood per squared distance near a centre."""
        return (self.alpha + 1.0) / (2.0 * self.alpha)

    def soft_assignment(self, rotated: torch.Tensor, betas: torch.Tensor) -> torch.Tensor:
        """Q: Student-t kernel of the β-weighted distance, normalised over clusters, shape (N, K)."""
        sq_dist = weighted_squared_distance(rotated, self.centers, betas[self.spaces[0]])
        return torch.softmax(-(self.alpha + 1.0) / 2.0 * torch.log1p(sq_dist / self.alpha), dim=1)

    def loss(self, rotated, betas, layer):
        beta = betas[self.spaces[0]]
        q = self.soft_assignment(rotated, betas)
        labels = q.detach().argmax(1, keepdim=True)
        kl = _kl_to_target(q, target_distribution(q.detach()))
        compression = weighted_squared_distance(rotated, self.centers.detach()[labels[:, 0]], beta, pairwise=False)
        return (kl + self.distance_scale * compression).unsqueeze(1), labels

    def augmented_loss(self, rotated_aug, betas, layer, labels):
        # The target of an augmented point is its original's one-hot cluster.
        q_aug = self.soft_assignment(rotated_aug, betas)
        return -torch.log(q_aug.gather(1, labels).clamp_min(1e-12))

    def predict(self, rotated, betas, layer):
        return self.soft_assignment(rotated, betas).argmax(1, keepdim=True)

    def update(self, embedded, rotated, labels):
        self._epoch_counts += bin_counts(labels[:, 0], self._epoch_counts.shape[0], torch.long)

    def reinitialize_lost(self, sample, betas, iteration):
        # Student-t centres have no mini-batch counts, so §2.8's "lost more than √iteration batches" becomes
        # "won no point in a whole epoch"; the re-placement is §2.8's, without the Lloyd steps, which would move
        # every learnable centre (a choice of this package, not of the papers).
        lost = torch.nonzero(batch_sum(self._epoch_counts) == 0).flatten().tolist()
        self._epoch_counts.zero_()
        if lost:
            points = sample()
            beta = betas[self.spaces[0]]
            with torch.no_grad():
                for cluster in lost:
                    self.centers.copy_(reinitialized_centers(points, self.centers, beta, cluster, lloyd_steps=0))
        return len(lost)

    def cluster_centers(self, layer):
        return [self.centers.detach()]


def target_distribution(q: torch.Tensor) -> torch.Tensor:
    """DEC's sharpened target P: p_ik ∝ q_ik² / f_k with the cluster frequencies f_k = Σ_i q_ik of the (global)
    batch, normalised per point."""
    frequencies = batch_sum(q.sum(0, keepdim=True))
    weight = q.square() / frequencies.clamp_min(1e-12)
    return weight / weight.sum(1, keepdim=True).clamp_min(1e-12)


def _kl_to_target(q: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """Per-sample KL(p_i || q_i), shape (N,)."""
    return (p * (torch.log(p.clamp_min(1e-12)) - torch.log(q.clamp_min(1e-12)))).sum(1)


class SharedMeanObjective(SpaceObjective):
    """
    ACe/DeC's shared space (Eq. 1, L_shared): every point is compared with the mean μ of the embedded data.

    μ lives in the embedded space and is rotated with the current V (Eq. 1 uses V^T μ). It receives no
    gradient; it is recomputed every epoch as the mean over that epoch's batches.

    Parameters
    ----------
    mean : torch.Tensor
        mean of the embedded data, shape (d,)
    space : int
        the row of β of the shared space (default: 1)
    scale : float
        factor of the squared distance, to express it in the cluster objective's units
        (1 for DCN, :attr:`StudentTObjective.distance_scale` for DEC/IDEC) (default: 1.0)
    """

    def __init__(self, mean: torch.Tensor, space: int = 1, scale: float = 1.0):
        super().__init__()
        self.register_buffer("mean", mean.detach().clone().float())
        self.register_buffer("_epoch_sum", torch.zeros_like(self.mean))
        self.register_buffer("_epoch_count", torch.zeros((), device=mean.device))
        self.spaces = [space]
        self.scale = scale

    def _loss(self, rotated, betas, layer):
        center = layer.rotate(self.mean.unsqueeze(0))
        sq_dist = weighted_squared_distance(rotated, center, betas[self.spaces[0]], pairwise=False)
        return (self.scale * sq_dist).unsqueeze(1)

    def loss(self, rotated, betas, layer):
        labels = torch.zeros(rotated.shape[0], 1, dtype=torch.long, device=rotated.device)
        return self._loss(rotated, betas, layer), labels

    def augmented_loss(self, rotated_aug, betas, layer, labels):
        return self._loss(rotated_aug, betas, layer)

    def update(self, embedded, rotated, labels):
        self._epoch_sum += embedded.sum(0)
        self._epoch_count += embedded.shape[0]

    def end_epoch(self):
        total = batch_sum(torch.cat([self._epoch_sum, self._epoch_count.reshape(1)]))  # over all ranks' batches
        if bool(total[-1] > 0):
            self.mean.copy_(total[:-1] / total[-1])
        self._epoch_sum.zero_()
        self._epoch_count.zero_()

    def cluster_centers(self, layer):
        return [layer.rotate(self.mean.unsqueeze(0)).detach()]
