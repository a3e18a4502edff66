"""
Mini-batch k-means centre state for one or several clusterings at once (ENRC Eq. 5-7, §2.8).

All centres of all clusterings live in one (ΣK_s, d) tensor in the rotated space, so assignment and
update for every clustering are a handful of tensor operations, whatever the number of clusterings.
Centres are not parameters: they receive no gradient (ENRC §2.3), they follow the data by Eq. 6-7.
"""

import bisect
import math

import torch

from clustpy_acedec._distributed import batch_sum
from clustpy_acedec._subspace import nearest_centers


def bin_counts(indices: torch.Tensor, n_bins: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """
    How often each of ``n_bins`` values occurs in ``indices``. Unlike ``torch.bincount`` this never asks the
    device for the largest index, so it does not synchronise with the host.
    """
    ones = torch.ones(indices.numel(), dtype=dtype, device=indices.device)
    return torch.zeros(n_bins, dtype=dtype, device=indices.device).scatter_add_(0, indices.reshape(-1), ones)


def cluster_sums(points: torch.Tensor, labels: torch.Tensor, n_clusters: int) -> tuple:
    """
    Per cluster, the sum of its points and their number: the cluster means of a Lloyd step and of the batch
    means μ̂ of ENRC Eq. 6 are ``sums / counts``.

    Parameters
    ----------
    points : torch.Tensor
        shape (N, d)
    labels : torch.Tensor
        each point's cluster, shape (N,), values in 0 ... ``n_clusters`` - 1
    n_clusters : int
        K

    Returns
    -------
    tuple : (torch.Tensor, torch.Tensor)
        sums (K, d) and counts (K,), in the points' dtype
    """
    sums = torch.zeros(n_clusters, points.shape[1], dtype=points.dtype, device=points.device)
    sums.index_add_(0, labels, points)
    return sums, bin_counts(labels, n_clusters, points.dtype)


class MiniBatchCenters(torch.nn.Module):
    """
    Centres of S clusterings, updated by ENRC's mini-batch k-means.

    Parameters
    ----------
    centers : list
        one tensor of shape (K_s, d) per clustering, in the rotated space
    spaces : list
        the index (row of β) of the space each clustering lives in
    initial_count : list
        starting value of A (Eq. 7) per clustering: the expected number of points per batch and centre
    discount : float
        α of Eq. 7 (ENRC §3.2: 0.5)
    lloyd_steps : int
        l of §2.8, the Lloyd steps after a re-initialisation (ENRC §3.2: 10)
    batch_size : int | None
        the size of a full batch. A centre's absence from a smaller batch (an epoch's last, ragged one) is not
        counted towards §2.8's re-initialisation: among a handful of points a centre's absence says nothing,
        and counted it grows the counter by one per epoch, faster than the threshold √iteration, so that every
        centre would be re-initialised again and again (stickfigures: 900 = 7 · 128 + 4 points; scikit-learn's
        digits: 1,797 = 7 · 256 + 5). None: every batch counts (default: None)

    Attributes
    ----------
    centers : torch.Tensor
        all centres, shape (ΣK_s, d)
    counts : torch.Tensor
        A of Eq. 7 per centre
    lost_counter : torch.Tensor
        per centre, how often it received no point of a full batch since its last re-initialisation (§2.8)
    """

    def __init__(self, centers: list, spaces: list, initial_count: list, discount: float = 0.5,
                 lloyd_steps: int = 10, batch_size: int | None = None):
        super().__init__()
        if not 0.0 < discount < 1.0:
            raise ValueError(f"discount must lie in (0, 1), got {discount}")
        if lloyd_steps < 0:
            raise ValueError(f"lloyd_steps must be non-negative, got {lloyd_steps}")
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int)
                                       or batch_size < 1):
            raise ValueError(f"batch_size must be a positive int or None, got {batch_size!r}")
        self.lloyd_steps = int(lloyd_steps)
        self.batch_size = batch_size
        device = centers[0].device
        self.n_clusters = [c.shape[0] for c in centers]
        self.spaces = list(spaces)
        self.discount = discount
        n_total = sum(self.n_clusters)
        # First row of every clustering's block in the stacked centre tensor (host copy of ``offsets``).
        self.starts = [sum(self.n_clusters[:s]) for s in range(len(self.n_clusters))]
        self.register_buffer("centers", torch.cat([c.detach().float() for c in centers]).to(device))
        initial = torch.cat([torch.full((k,), float(a)) for k, a in zip(self.n_clusters, initial_count)])
        self.register_buffer("initial_counts", initial.to(device))
        self.register_buffer("counts", initial.clone().to(device))
        self.register_buffer("lost_counter", torch.zeros(n_total, dtype=torch.long, device=device))
        self.register_buffer("offsets", torch.tensor(self.starts).to(device))
        self.register_buffer("space_of_center", torch.repeat_interleave(torch.tensor(self.spaces),
                                                                        torch.tensor(self.n_clusters)).to(device))
        # Position of every centre inside a (S, K_max) grid; padding cells get +inf distance.
        k_max = max(self.n_clusters)
        padding = torch.ones(len(self.n_clusters), k_max, dtype=torch.bool)
        for s, k in enumerate(self.n_clusters):
            padding[s, :k] = False
        grid_index = torch.zeros(len(self.n_clusters), k_max, dtype=torch.long)
        grid_index[~padding] = torch.arange(n_total)
        self.register_buffer("padding", padding.to(device))
        self.register_buffer("grid_index", grid_index.to(device))

    @classmethod
    def for_batches(cls, centers: list, spaces: list, batch_size: int, lloyd_steps: int = 10) -> "MiniBatchCenters":
        """
        Centres whose A (Eq. 7) starts at the points a centre expects per batch, ``batch_size`` / K_s: the
        steady state of Eq. 7 when the points spread evenly over the clusters, so the first batches move the
        centres (from a k-means or a Nr-Kmeans start) at the rate of later ones. ``batch_size`` is that of a full
        batch, at most the data set's size; only full batches count towards §2.8's re-initialisation.
        """
        return cls(centers, spaces, [batch_size / c.shape[0] for c in centers], lloyd_steps=lloyd_steps,
                   batch_size=batch_size)

    def center_betas(self, betas: torch.Tensor) -> torch.Tensor:
        """The β of each centre's clustering, shape (ΣK_s, d)."""
        return betas[self.space_of_center]

    def assign(self, rotated: torch.Tensor, betas: torch.Tensor) -> torch.Tensor:
        """
        Eq. 5 (:func:`clustpy_acedec._subspace.nearest_centers`): the closest centre per clustering under the
        β_s-weighted distance, for all clusterings in one distance computation.

        Returns
        -------
        labels : torch.Tensor
            shape (N, S), cluster index within each clustering
        """
        return nearest_centers(rotated, self.centers, self.center_betas(betas), (self.grid_index, self.padding))[0]

    def assigned_centers(self, labels: torch.Tensor) -> torch.Tensor:
        """The assigned centre of each point in each clustering, shape (N, S, d)."""
        return self.centers[labels + self.offsets]

    @torch.no_grad()
    def update(self, rotated: torch.Tensor, labels: torch.Tensor) -> None:
        """
        Eq. 6-7 for every centre at once; centres without a point in this batch keep their position and A.

        Parameters
        ----------
        rotated : torch.Tensor
            the batch in the rotated space, shape (N, d)
        labels : torch.Tensor
            its assignments, shape (N, S)
        """
        flat = (labels + self.offsets).reshape(-1)
        n_total = self.centers.shape[0]
        sums, counts = cluster_sums(rotated.repeat_interleave(labels.shape[1], 0), flat, n_total)
        # the sums and counts of the whole (global) batch: in a distributed fit every rank applies the same update
        reduced = batch_sum(torch.cat([sums, counts.unsqueeze(1)], 1))
        sums, batch_counts = reduced[:, :-1], reduced[:, -1]
        has_points = batch_counts > 0
        batch_means = sums / batch_counts.clamp_min(1.0).unsqueeze(1)
        new_counts = (1.0 - self.discount) * self.counts + self.discount * batch_counts
        # In place: the buffers keep their addresses, which a compiled step with CUDA graphs relies on.
        self.counts.copy_(torch.where(has_points, new_counts, self.counts))
        eta = (1.0 / self.counts).clamp(max=1.0) * has_points
        self.centers.add_(eta.unsqueeze(1) * (batch_means - self.centers))
        lost = ~has_points
        if self.batch_size is not None:
            # the (global) batch's size is the count of any one clustering's centres; compared on the device
            lost &= batch_counts[:self.n_clusters[0]].sum() >= self.batch_size
        self.lost_counter += lost.long()

    def centers_of(self, clustering: int) -> torch.Tensor:
        """The centres of one clustering, shape (K_s, d)."""
        start = self.starts[clustering]
        return self.centers[start:start + self.n_clusters[clustering]]

    def lost_centers(self, iteration: int) -> list:
        """
        Centres due for re-initialisation (ENRC §2.8): lost all points of a full batch more often than
        v = max(1, ⌊√iteration⌋) times. One host synchronisation; call it between epochs, not per step.

        Returns
        -------
        lost : list
            (clustering, cluster index) pairs
        """
        threshold = max(1, math.isqrt(max(iteration, 0)))
        lost = torch.nonzero(self.lost_counter > threshold).flatten().tolist()
        clusterings = [bisect.bisect_right(self.starts, flat) - 1 for flat in lost]
        return [(s, flat - self.starts[s]) for s, flat in zip(clusterings, lost)]

    @torch.no_grad()
    def reinitialize(self, clustering: int, cluster: int, sample: torch.Tensor, betas: torch.Tensor) -> None:
        """
        ENRC §2.8: move a lost centre to the sampled point farthest from the centre of the cluster with the
        highest compression loss, then run ``lloyd_steps`` Lloyd steps for that clustering on the sample.

        Parameters
        ----------
        clustering : int
            the clustering the centre belongs to
        cluster : int
            the lost centre
        sample : torch.Tensor
            n_s points of the data set in the rotated space
        betas : torch.Tensor
            current β, shape (S, d)
        """
        beta = betas[self.spaces[clustering]]
        self.centers_of(clustering).copy_(reinitialized_centers(sample, self.centers_of(clustering), beta, cluster,
                                                                self.lloyd_steps))
        flat = self.starts[clustering] + cluster
        self.counts[flat] = self.initial_counts[flat]
        self.lost_counter[flat] = 0


def reinitialized_centers(sample: torch.Tensor, centers: torch.Tensor, beta: torch.Tensor, cluster: int,
                          lloyd_steps: int) -> torch.Tensor:
    """
    ENRC §2.8, the re-initialisation of a lost centre: move it to the sampled point farthest from the centre of
    the cluster with the highest compression loss (:func:`farthest_point_of_worst_cluster`), then run
    ``lloyd_steps`` (l) Lloyd steps of the clustering on the sample (n_s points).

    Parameters
    ----------
    sample : torch.Tensor
        n_s points in the rotated space, shape (n_s, d)
    centers : torch.Tensor
        the clustering's centres, shape (K, d)
    beta : torch.Tensor
        the clustering's weights, shape (d,)
    cluster : int
        the lost centre
    lloyd_steps : int
        l

    Returns
    -------
    centers : torch.Tensor
        the new centres, shape (K, d)
    """
    centers = centers.clone()
    centers[cluster] = farthest_point_of_worst_cluster(sample, centers, beta)
    return lloyd(sample, centers, beta, lloyd_steps)


def farthest_point_of_worst_cluster(points: torch.Tensor, centers: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    """
    The replacement for a lost centre (ENRC §2.8): among the points of the cluster with the highest
    compression loss (sum of weighted distances to its centre), the one farthest from that centre. The sum,
    not Eq. 4's per-cluster mean: the lost centre should split a large, spread cluster, not a small, loose one.
    """
    labels, own = nearest_centers(points, centers, beta)
    loss_per_cluster = torch.zeros(centers.shape[0], dtype=own.dtype, device=points.device).index_add_(0, labels, own)
    worst = loss_per_cluster.argmax()
    farthest = torch.where(labels == worst, own, -1.0).argmax()
    return points[farthest].clone()


def lloyd(points: torch.Tensor, centers: torch.Tensor, beta: torch.Tensor, n_steps: int) -> torch.Tensor:
    """
    Lloyd iterations under the β-weighted distance; a centre that loses all points stays where it is. The
    iterations end early at a fixed point, when an assignment repeats the one before it: the centres would not
    move again, so the result is that of all ``n_steps`` (on CUDA up to the rounding of its atomic additions; one
    host read per iteration, outside the training steps).

    Parameters
    ----------
    points : torch.Tensor
        shape (N, d)
    centers : torch.Tensor
        starting centres, shape (K, d)
    beta : torch.Tensor
        weights, shape (d,)
    n_steps : int
        number of assignment/update rounds

    Returns
    -------
    centers : torch.Tensor
        shape (K, d)
    """
    previous = None
    for _ in range(n_steps):
        labels, _ = nearest_centers(points, centers, beta)
        if previous is not None and torch.equal(labels, previous):
            break  # the centres were computed from these labels: the next ones would be the same
        sums, counts = cluster_sums(points, labels, centers.shape[0])
        centers = torch.where(counts.unsqueeze(1) > 0, sums / counts.clamp_min(1.0).unsqueeze(1), centers)
        previous = labels
    return centers
