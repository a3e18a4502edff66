"""
The subspace layer shared by ACe/DeC and ENRC: a learnable d x d matrix V and feature weights β.

ACe/DeC (IJCAI 2021, §2.1) and ENRC (AAAI 2020, §2.2) insert the same layer between encoder and
decoder. ``V^T z`` rotates an embedded point so that the structure of each space is axis-aligned,
``β_s[i]`` says how much rotated dimension ``i`` belongs to space ``s`` (a clustering, or ACe/DeC's
shared space), and the decoder sees ``V V^T z`` (Eq. 1 of both papers).
"""

import math

import numpy as np
import torch

#: Dimension-to-space margin used to harden soft β weights, see :func:`hardened_dims`.
DEFAULT_DIM_MARGIN = 0.1


class SubspaceLayer(torch.nn.Module):
    """
    Rotation V and feature weights β for S spaces.

    Parameters
    ----------
    V : torch.Tensor
        initial d x d matrix (ACe/DeC §2.2 and ENRC §2.6 start from a random orthogonal one)
    beta_logits : torch.Tensor
        initial logits. Shape (S, d) for ``parametrization="softmax"`` (ENRC §2.2:
        β_s[i] = softmax_s(B)[s, i]) or (d,) for ``parametrization="sigmoid"`` (ACe/DeC §2.1:
        β_cs = sigmoid(b), β_ss = 1 - β_cs; S = 2)
    parametrization : str
        "softmax" or "sigmoid" (default: "softmax")

    Attributes
    ----------
    V : torch.nn.Parameter
        the d x d matrix
    beta_logits : torch.nn.Parameter
        B (S x d) or b (d)
    """

    def __init__(self, V: torch.Tensor, beta_logits: torch.Tensor, parametrization: str = "softmax"):
        super().__init__()
        if parametrization not in ("softmax", "sigmoid"):
            raise ValueError(f"parametrization must be 'softmax' or 'sigmoid', got {parametrization!r}")
        expected_ndim = 2 if parametrization == "softmax" else 1
        if beta_logits.ndim != expected_ndim or beta_logits.shape[-1] != V.shape[0] or V.shape[0] != V.shape[1]:
            raise ValueError(f"V must be d x d and beta_logits {'S x d' if expected_ndim == 2 else 'd'}, "
                             f"got V {tuple(V.shape)} and beta_logits {tuple(beta_logits.shape)}")
        self.parametrization = parametrization
        self.V = torch.nn.Parameter(V.clone())
        self.beta_logits = torch.nn.Parameter(beta_logits.clone())

    @property
    def n_spaces(self) -> int:
        return 2 if self.parametrization == "sigmoid" else self.beta_logits.shape[0]

    def betas(self) -> torch.Tensor:
        """
        The feature weights β, shape (S, d); every column sums to one.

        Returns
        -------
        betas : torch.Tensor
            β_s[i] for space s (rows) and rotated dimension i (columns)
        """
        if self.parametrization == "sigmoid":
            beta_cs = torch.sigmoid(self.beta_logits)
            return torch.stack([beta_cs, 1.0 - beta_cs])
        return torch.softmax(self.beta_logits, dim=0)

    def rotate(self, z: torch.Tensor) -> torch.Tensor:
        """V^T z for a batch of row vectors z (N x d)."""
        return z @ self.V

    def rotate_back(self, rotated: torch.Tensor) -> torch.Tensor:
        """V r for a batch of rotated row vectors, i.e. the embedding that the decoder sees (V V^T z)."""
        return rotated @ self.V.T


def weighted_squared_distance(points: torch.Tensor, centers: torch.Tensor, betas: torch.Tensor,
                              pairwise: bool = True) -> torch.Tensor:
    """
    Eq. 2 of ACe/DeC: dist_β(h, g) = Σ_i β[i]² (h[i] - g[i])².

    The ENRC paper weights with τ = β (its Eq. 2); its errata square the weights, as ACe/DeC does,
    which is what is used here for both methods.

    Parameters
    ----------
    points : torch.Tensor
        rotated points, shape (N, d)
    centers : torch.Tensor
        ``pairwise``: rotated centres, shape (K, d); otherwise one centre per point, broadcastable to
        ``points`` (e.g. (N, d), or (N, S, d) against points of shape (N, 1, d))
    betas : torch.Tensor
        weights: ``pairwise``: (d,) for one weight vector shared by all centres, or (K, d) for one per centre
        (ENRC: every centre is weighted by the β of its clustering); otherwise broadcastable to the difference
    pairwise : bool
        all point/centre pairs (default) or each point with its own centre

    Returns
    -------
    distances : torch.Tensor
        ``pairwise``: shape (N, K); otherwise the broadcast shape without the last axis, e.g. (N,)
    """
    if not pairwise:
        return (betas.square() * (points - centers).square()).sum(-1)
    weights = betas.square()
    if weights.ndim == 1:
        weights = weights.expand_as(centers)
    # Distances do not change under a common shift; centring on the centres' mean keeps the expanded
    # form below accurate when the data sit far from the origin.
    shift = centers.detach().mean(0)
    points, centers = points - shift, centers - shift
    # Expanded form  Σ w p² - 2 Σ w p g + Σ w g²: two matrix products and no N x K x d temporary.
    point_term = points.square() @ weights.T
    cross_term = points @ (weights * centers).T
    center_term = (weights * centers.square()).sum(1)
    return (point_term - 2.0 * cross_term + center_term).clamp_min_(0.0)


def nearest_centers(points: torch.Tensor, centers: torch.Tensor, betas: torch.Tensor,
                    clusterings: tuple | None = None) -> tuple:
    """
    ENRC Eq. 5: every point goes to the centre nearest in the β-weighted distance (Eq. 2), in every clustering.

    Parameters
    ----------
    points : torch.Tensor
        rotated points, shape (N, d)
    centers : torch.Tensor
        rotated centres, shape (K, d): those of one clustering, or the stacked centres of several
    betas : torch.Tensor
        weights: (d,) for one clustering, or (K, d), each centre weighted by the β of its clustering
    clusterings : tuple | None
        None: all centres form one clustering. Otherwise ``(grid_index, padding)``, both of shape (S, K_max):
        row s lists the indices into ``centers`` of clustering s, and ``padding`` marks the unused cells of
        clusterings with fewer than K_max centres (never chosen)

    Returns
    -------
    tuple : (torch.Tensor, torch.Tensor)
        labels and every point's distance to its centre: shape (N,) for one clustering, (N, S) with
        ``clusterings``, the labels counted within each clustering
    """
    distances = weighted_squared_distance(points, centers, betas)
    if clusterings is not None:
        grid_index, padding = clusterings
        distances = distances[:, grid_index].masked_fill(padding, math.inf)  # (N, S, K_max)
    labels = distances.argmin(-1)
    return labels, distances.gather(-1, labels.unsqueeze(-1)).squeeze(-1)


def two_space_cutoff(margin: float = DEFAULT_DIM_MARGIN) -> float:
    """
    :func:`hardened_dims`' rule for two spaces as a threshold: with β_s + β_other = 1, β_s - β_other >= ``margin``
    is β_s >= 0.5 + ``margin`` / 2 (0.55 for the default margin).
    """
    return 0.5 + float(margin) / 2


def hardened_dims(betas: torch.Tensor, margin: float = DEFAULT_DIM_MARGIN) -> list:
    """
    Harden the soft dimension-to-space assignment (ACe/DeC Table 3, ENRC Fig. 4).

    Dimension i belongs to space s when β_s[i] exceeds every other space's weight on it by at least
    ``margin``; otherwise it belongs to no space. Plain argmax is wrong here: for ACe/DeC's Eq. 1 the
    stationary β_cs of a dimension is c / (a + c), with a the within-cluster and c the total variance
    of that dimension, so a structureless dimension (a ≈ c) sits just above 0.5. With S = 2 the default
    margin 0.1 is the rule β_cs ≥ 0.55, i.e. the between-cluster variance of the dimension must reach
    about 22 % of its within-cluster variance.

    Parameters
    ----------
    betas : torch.Tensor
        β, shape (S, d)
    margin : float
        required lead of the winning space (default: 0.1)

    Returns
    -------
    dims : list
        one sorted integer array of dimensions per space
    """
    betas = betas.detach().cpu()
    n_spaces = betas.shape[0]
    dims = []
    for s in range(n_spaces):
        others = torch.cat([betas[:s], betas[s + 1:]]).max(0).values if n_spaces > 1 else torch.zeros_like(betas[s])
        dims.append(np.flatnonzero((betas[s] - others >= margin - 1e-12).numpy()))
    return dims
