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


def weighted_squared_distance(points: torch.Tensor, centers: torch.Tensor, betas: torch.Tensor) -> torch.Tensor:
    """
    Eq. 2 of ACe/DeC: dist_β(h, g) = Σ_i β[i]² (h[i] - g[i])², for all point/centre pairs.

    The ENRC paper weights with τ = β (its Eq. 2); its errata square the weights, as ACe/DeC does,
    which is what is used here for both methods.

    Parameters
    ----------
    points : torch.Tensor
        rotated points, shape (N, d)
    centers : torch.Tensor
        rotated centres, shape (K, d)
    betas : torch.Tensor
        weights, shape (d,) for one weight vector shared by all centres, or (K, d) for one weight
        vector per centre (ENRC: every centre is weighted by the β of its clustering)

    Returns
    -------
    distances : torch.Tensor
        shape (N, K)
    """
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


def squared_distance_to_assigned(points: torch.Tensor, assigned_centers: torch.Tensor,
                                 betas: torch.Tensor) -> torch.Tensor:
    """
    Eq. 2 between each point and one centre per point (its assigned one), shape (N,).

    Parameters
    ----------
    points : torch.Tensor
        rotated points, shape (N, d)
    assigned_centers : torch.Tensor
        the centre of each point, shape (N, d)
    betas : torch.Tensor
        weights, shape (d,) or (N, d)
    """
    return (betas.square() * (points - assigned_centers).square()).sum(1)


def random_orthogonal(d: int, generator: torch.Generator, device: torch.device | str = "cpu") -> torch.Tensor:
    """
    A random orthogonal d x d matrix, Haar-distributed (QR of a Gaussian matrix with the signs of R's
    diagonal moved into Q).
    """
    gaussian = torch.randn(d, d, generator=generator, dtype=torch.float64)
    q, r = torch.linalg.qr(gaussian)
    q = q * torch.sign(torch.diagonal(r)).unsqueeze(0)
    return q.to(device=device, dtype=torch.float32)


def block_beta_logits(d: int, n_spaces: int, strong_weight: float = 0.9) -> torch.Tensor:
    """
    ENRC's 'strong' β initialisation (§2.6) expressed as softmax logits.

    Block s of ⌊d/S⌋ dimensions gets β_s = ``strong_weight`` and the rest spread evenly over the other
    spaces; the d mod S leftover dimensions get 1/S for every space.

    Returns
    -------
    logits : torch.Tensor
        shape (S, d); ``softmax(logits, 0)`` gives the β described above
    """
    block = d // n_spaces
    owner = torch.full((d,), -1, dtype=torch.long)
    owner[:block * n_spaces] = torch.arange(n_spaces).repeat_interleave(block)
    return owner_beta_logits(owner, n_spaces, strong_weight)


def owner_beta_logits(owner: torch.Tensor, n_spaces: int, strong_weight: float = 0.9) -> torch.Tensor:
    """
    Softmax logits for a given assignment of dimensions to spaces: β_s = ``strong_weight`` on the dimensions
    space s owns and (1 - ``strong_weight``) / (S - 1) for the other spaces there; dimensions owned by none
    (owner -1) get 1/S for every space.

    Parameters
    ----------
    owner : torch.Tensor
        shape (d,), the owning space of every dimension, or -1
    n_spaces : int
        S
    strong_weight : float
        β of the owning space (default: 0.9)

    Returns
    -------
    logits : torch.Tensor
        shape (S, d)
    """
    d = owner.shape[0]
    if n_spaces == 1:
        return torch.zeros(1, d)
    betas = torch.full((n_spaces, d), (1.0 - strong_weight) / (n_spaces - 1))
    owned = owner >= 0
    betas[:, ~owned] = 1.0 / n_spaces
    betas[owner[owned], torch.nonzero(owned).flatten()] = strong_weight
    return betas.log()


def split_beta_logits(d: int, generator: torch.Generator, strong_weight: float = 0.9) -> torch.Tensor:
    """
    ACe/DeC's initialisation of b (§2.2): every dimension randomly goes to the cluster space or the shared
    space, at least one to each, with β_cs = ``strong_weight`` or 1 - ``strong_weight``.

    Returns
    -------
    b : torch.Tensor
        shape (d,), ±logit(strong_weight) (±ln 9 for 0.9)
    """
    if d < 2:
        raise ValueError(f"ACe/DeC needs an embedding of at least 2 dimensions (one per space), got {d}")
    in_cluster_space = torch.rand(d, generator=generator) < 0.5
    while in_cluster_space.all() or not in_cluster_space.any():
        in_cluster_space = torch.rand(d, generator=generator) < 0.5
    return two_space_beta_logits(in_cluster_space, strong_weight)


def two_space_beta_logits(in_cluster_space: torch.Tensor, strong_weight: float = 0.9) -> torch.Tensor:
    """
    ACe/DeC's b for a given split: β_cs = ``strong_weight`` on the cluster-space dimensions, 1 - ``strong_weight``
    on the others.

    Parameters
    ----------
    in_cluster_space : torch.Tensor
        boolean mask, shape (d,)
    strong_weight : float
        β_cs of a cluster-space dimension (default: 0.9)

    Returns
    -------
    b : torch.Tensor
        shape (d,), ±logit(strong_weight)
    """
    logit = math.log(strong_weight / (1.0 - strong_weight))
    return torch.where(in_cluster_space, logit, -logit)


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
