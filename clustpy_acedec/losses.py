"""
The loss terms of ACe/DeC and ENRC, each as one function.

Every term is a per-sample sum over dimensions averaged over the batch (in a distributed fit, this rank's share of
the average over the global batch, :func:`clustpy_acedec._distributed.batch_mean`). A mean over the D input features
(as torch's ``mse_loss`` computes it) would silently re-weight reconstruction against compression by 1/D.
"""

import torch

from clustpy_acedec._centers import bin_counts
from clustpy_acedec._distributed import batch_mean, batch_sum, in_sharded_loop

#: ACe/DeC Eq. 1: every point counts once, the terms of all spaces are summed.
POINTS = "points"
#: ENRC Eq. 4: per clustering, each cluster's mean distance; averaged over clusterings.
CLUSTER_SIZE = "cluster_size"


def compression_loss(per_sample: torch.Tensor, labels: torch.Tensor, normalization: str,
                     n_clusters_max: int) -> torch.Tensor:
    """
    Compression loss of a batch over all spaces.

    - ``"points"`` (ACe/DeC Eq. 1 / Eq. 5, L_cluster + L_shared): (1/N) Σ_s Σ_i l_{i,s}
    - ``"cluster_size"`` (ENRC Eq. 4): (1/S) Σ_s Σ_k (1/|C_{s,k}|) Σ_{i ∈ C_{s,k}} l_{i,s},
      with |C_{s,k}| the number of batch points assigned to cluster k of clustering s

    Parameters
    ----------
    per_sample : torch.Tensor
        weighted distance (or base loss) of every point in every space, shape (N, S)
    labels : torch.Tensor
        hard assignments, shape (N, S)
    normalization : str
        "points" or "cluster_size"
    n_clusters_max : int
        an upper bound of the labels (the largest number of clusters of a space)

    Returns
    -------
    loss : torch.Tensor
        scalar
    """
    if normalization == POINTS:
        return batch_mean(per_sample.sum(1))
    if normalization == CLUSTER_SIZE:
        n_spaces = labels.shape[1]
        # One bin per (space, cluster), so that a single scatter counts the clusters of all spaces.
        bins = labels + torch.arange(n_spaces, device=labels.device) * n_clusters_max
        # cluster sizes of the whole (global) batch: constants of the loss, summed over the ranks of a distributed fit
        sizes = batch_sum(bin_counts(bins, n_spaces * n_clusters_max, per_sample.dtype))[bins]
        return (per_sample / sizes).sum() / n_spaces
    raise ValueError(f"normalization must be '{POINTS}' or '{CLUSTER_SIZE}', got {normalization!r}")


def profiled_compression_loss(mean_squared_deviations: torch.Tensor) -> torch.Tensor:
    """
    ACe/DeC Eq. 1's compression (``"points"``) at its minimum over β, for fixed V, centres and assignments.

    Per rotated dimension i the compression is Σ_s β_s[i]² a_s[i], with a_s[i] the mean squared deviation of
    dimension i from the assigned centre of space s. Under Σ_s β_s[i] = 1 (ACe/DeC's β_ss = 1 − β_cs, ENRC's
    softmax) its minimum is at β_s[i] ∝ 1 / a_s[i] (a Lagrange multiplier), where it is 1 / Σ_s 1 / a_s[i]: for
    ACe/DeC's two spaces a c / (a + c), at the stationary β_cs = c / (a + c) of
    :func:`clustpy_acedec._subspace.hardened_dims`. It scores V and the centres as if β had settled: what the
    screening of ACeDeC's initial candidates compares (our addition, issue 20), because β (rate 0.01) settles
    more slowly than the candidates' early losses are compared.

    Parameters
    ----------
    mean_squared_deviations : torch.Tensor
        a_s[i], shape (S, d)

    Returns
    -------
    torch.Tensor
        a scalar, Σ_i 1 / Σ_s 1 / a_s[i] (a dimension with a_s[i] = 0 in some space adds 0)
    """
    inverse = mean_squared_deviations.clamp_min(torch.finfo(mean_squared_deviations.dtype).tiny).reciprocal()
    return inverse.sum(0).reciprocal().sum()


def reconstruction_loss(x: torch.Tensor, reconstruction: torch.Tensor) -> torch.Tensor:
    """
    L_rec of ACe/DeC Eq. 1 and ENRC Eq. 1: ||x - dec(V V^T z)||², summed over features, averaged over points.

    Parameters
    ----------
    x : torch.Tensor
        the batch, shape (N, ...)
    reconstruction : torch.Tensor
        its reconstruction, the same number of elements per point

    Returns
    -------
    torch.Tensor
        a scalar (the mean over the whole batch of all ranks in a distributed fit)
    """
    return batch_mean((x - reconstruction).square().flatten(1).sum(1))  # flatten: a rank's batch may be empty


def denoising_loss(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """
    The loss of DEC's stacked denoising pretraining (a layer pair or the fine-tuning): the squared error averaged
    over the features and the points, as DEC's autoencoder is trained (unlike the losses above, which sum over
    the features).

    Parameters
    ----------
    output : torch.Tensor
        the network's output, shape (N, D)
    target : torch.Tensor
        the clean input, shape (N, D)

    Returns
    -------
    torch.Tensor
        a scalar (this rank's share of the global batch's mean in a distributed fit)
    """
    if in_sharded_loop():
        return batch_mean((output - target).square().mean(1))
    # the same value; torch's one kernel keeps the rounding of the autoencoders pretrained before this function
    return torch.nn.functional.mse_loss(output, target)


def orthogonality_loss(embedded: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    """
    ENRC Eq. 8: L_orth = ||sg[z] - V V^T sg[z]||², keeps V close to orthogonal while the autoencoder is
    fixed during initialisation.

    Parameters
    ----------
    embedded : torch.Tensor
        z of the batch, shape (N, d); no gradient flows into it (sg)
    V : torch.Tensor
        the rotation, shape (d, d)

    Returns
    -------
    torch.Tensor
        a scalar, averaged over the points
    """
    z = embedded.detach()
    return batch_mean((z - (z @ V) @ V.T).square().sum(1))
