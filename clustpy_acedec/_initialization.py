"""
Initialisation of V, β and the centres (ACe/DeC §2.2, ENRC §2.6), on the device of the data.

k-means++ seeding and Lloyd iterations run under the β-weighted distance of Eq. 2, so the same code
serves ACe/DeC's k-means in the cluster space (β = 1 on cluster-space dimensions, 0 elsewhere) and
ENRC's seeding of every clustering under its β_s.
"""

import math
import warnings

import numpy as np
import torch

from clustpy_acedec._centers import lloyd
from clustpy_acedec._subspace import nearest_centers, weighted_squared_distance

#: The initial candidates' k-means (ACeDeC) and k-means++ seeding and Nr-Kmeans (ENRC) run on at most this many
#: embedded points: the centres of a random sample of this size are as good a start, ten k-means runs over a
#: million points would cost minutes, and torch's multinomial draw (k-means++) takes at most 2^24 points.
KMEANS_SAMPLE_SIZE = 50000


# ------------------------------------------------------------------ the random draws of ACe/DeC §2.2, ENRC §2.6

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


def kmeans_plus_plus(points: torch.Tensor, n_clusters: int, beta: torch.Tensor,
                     generator: torch.Generator) -> torch.Tensor:
    """
    k-means++ seeding (Arthur & Vassilvitskii 2007) under the β-weighted distance.

    Parameters
    ----------
    points : torch.Tensor
        shape (N, d)
    n_clusters : int
        K
    beta : torch.Tensor
        weights, shape (d,)
    generator : torch.Generator
        CPU generator; draws are made on the CPU so that results do not depend on the device

    Returns
    -------
    centers : torch.Tensor
        shape (K, d), rows of ``points``
    """
    n = points.shape[0]
    first = torch.randint(n, (1,), generator=generator).item()
    chosen = [first]
    closest = weighted_squared_distance(points, points[first:first + 1], beta).squeeze(1)
    for _ in range(1, n_clusters):
        weights = closest.double().cpu()
        if float(weights.sum()) <= 0.0:  # fewer distinct points than clusters
            weights = torch.ones_like(weights)
        nxt = torch.multinomial(weights, 1, generator=generator).item()
        chosen.append(nxt)
        closest = torch.minimum(closest, weighted_squared_distance(points, points[nxt:nxt + 1], beta).squeeze(1))
    return points[chosen].clone()


def weighted_kmeans(points: torch.Tensor, n_clusters: int, beta: torch.Tensor, generator: torch.Generator,
                    n_init: int = 3, max_iter: int = 100) -> tuple:
    """
    k-means under the β-weighted distance: best of ``n_init`` k-means++ seeded Lloyd runs.

    Returns
    -------
    tuple : (torch.Tensor, torch.Tensor, float)
        centres (K, d), labels (N,), inertia (sum of weighted squared distances); the clusters are numbered in
        the order of their first point in ``points`` (:func:`numbered_by_first_point`)
    """
    best = None
    for _ in range(n_init):
        centers = lloyd(points, kmeans_plus_plus(points, n_clusters, beta, generator), beta, max_iter)
        labels, distances = nearest_centers(points, centers, beta)
        inertia = float(distances.sum())
        # Runs whose inertias agree to float32 precision found the same partition (often with the clusters in
        # another order): keep the first, so that rounding (another device, a distributed fit) cannot renumber them.
        if best is None or inertia < best[2] * (1.0 - 1e-6):
            best = (centers, labels, inertia)
    return (*numbered_by_first_point(*best[:2]), best[2])


def numbered_by_first_point(centers: torch.Tensor, labels: torch.Tensor) -> tuple:
    """
    The clusters renumbered in the order of their first point (empty clusters last, in their order).

    k-means++ numbers the clusters in the order it drew their seeds, and rounding (an embedding computed on
    another device or summed over the ranks of a distributed fit) can change a draw without changing the
    partition the Lloyd steps end in; numbered by the data instead, the same partition gets the same labels.

    Parameters
    ----------
    centers : torch.Tensor
        shape (K, d)
    labels : torch.Tensor
        shape (N,), values in 0 ... K - 1

    Returns
    -------
    tuple : (torch.Tensor, torch.Tensor)
        the centres and labels, renumbered
    """
    n_clusters, n_points = centers.shape[0], labels.shape[0]
    first_point = torch.full((n_clusters,), n_points, dtype=torch.long, device=labels.device).scatter_reduce_(
        0, labels, torch.arange(n_points, device=labels.device), reduce="amin")
    order = torch.sort(first_point, stable=True).indices  # new label -> old label
    new_label = torch.empty_like(order).scatter_(0, order, torch.arange(n_clusters, device=order.device))
    return centers[order], new_label[labels]


def seed_centers(rotated: torch.Tensor, n_clusters: list, betas: torch.Tensor, generator: torch.Generator) -> list:
    """
    ENRC §2.6: k-means++ seeding of every clustering under the β-weighted distance of its space.

    Parameters
    ----------
    rotated : torch.Tensor
        the embedded data in the rotated space, shape (N, d)
    n_clusters : list
        K_s per clustering
    betas : torch.Tensor
        β, shape (S, d)
    generator : torch.Generator
        CPU generator

    Returns
    -------
    centers : list
        one (K_s, d) tensor per clustering
    """
    return [kmeans_plus_plus(rotated, k, betas[s], generator) for s, k in enumerate(n_clusters)]


def whitened_kmeans_labels(points: torch.Tensor, n_clusters: int, generator: torch.Generator,
                           n_init: int = 10) -> torch.Tensor:
    """
    k-means on the PCA-whitened points.

    Whitening makes the clustering independent of how the autoencoder scaled each direction: a linear
    autoencoder can stretch a noise direction and shrink a cluster direction at no cost in reconstruction
    (the decoder undoes it), and then Euclidean k-means on the embedding sees mostly the noise (ACe/DeC
    Table 1, SYNTH-25: AE + k-means 0.11 where k-means on the raw data reaches 0.90).

    Parameters
    ----------
    points : torch.Tensor
        shape (N, d)
    n_clusters : int
        K
    generator : torch.Generator
        CPU generator for the k-means++ draws
    n_init : int
        k-means runs, the one with the lowest inertia is kept (default: 10)

    Returns
    -------
    labels : torch.Tensor
        shape (N,), on the points' device
    """
    centered = (points - points.mean(0)).double()
    eigenvalues, eigenvectors = torch.linalg.eigh(centered.T @ centered / max(points.shape[0] - 1, 1))
    # Directions without variance stay at zero instead of being blown up to noise.
    scale = eigenvalues.clamp_min(1e-10 * float(eigenvalues.max().clamp_min(1e-30))).rsqrt()
    whitened = (centered @ eigenvectors * scale).float()
    ones = torch.ones(points.shape[1], device=points.device)
    _, labels, _ = weighted_kmeans(whitened, n_clusters, ones, generator, n_init=n_init)
    return labels


def discriminant_rotation(points: torch.Tensor, labels: torch.Tensor, n_clusters: int) -> tuple:
    """
    An orthogonal d x d matrix whose leading columns span the directions a labelling explains best.

    The directions solve the generalised eigenproblem S_b v = λ S_t v of linear discriminant analysis, with
    S_b = Σ_k n_k (m_k - m)(m_k - m)^T the between-cluster and S_t the total scatter: λ is the share of the
    variance along v that the cluster means explain, independent of how the directions are scaled. The
    directions, in decreasing order of λ, are orthonormalised (QR), so the first m columns of V span the m
    best directions.

    Parameters
    ----------
    points : torch.Tensor
        shape (N, d)
    labels : torch.Tensor
        shape (N,), values in 0 ... K - 1
    n_clusters : int
        K

    Returns
    -------
    tuple : (torch.Tensor, torch.Tensor)
        V (d, d), orthogonal, float32 on the points' device; λ (d,), decreasing, in [0, 1]
    """
    points64 = points.double()
    centered = points64 - points64.mean(0)
    counts = torch.bincount(labels, minlength=n_clusters).to(points64.dtype)
    sums = torch.zeros(n_clusters, points.shape[1], dtype=points64.dtype, device=points.device)
    mean_deviations = sums.index_add_(0, labels, centered) / counts.clamp_min(1.0).unsqueeze(1)
    weighted = mean_deviations * counts.sqrt().unsqueeze(1)
    between, total = weighted.T @ weighted, centered.T @ centered
    # A tiny ridge keeps the Cholesky factor defined when a direction has no variance.
    ridge = 1e-9 * float(torch.diagonal(total).mean().clamp_min(1e-30))
    cholesky = torch.linalg.cholesky(total + ridge * torch.eye(points.shape[1], dtype=points64.dtype, device=points.device))
    whitened_between = torch.linalg.solve_triangular(
        cholesky, torch.linalg.solve_triangular(cholesky, between, upper=False).T, upper=False)
    explained, eigenvectors = torch.linalg.eigh((whitened_between + whitened_between.T) / 2)
    explained, eigenvectors = explained.flip(0), eigenvectors.flip(1)
    directions = torch.linalg.solve_triangular(cholesky.T, eigenvectors, upper=True)
    q, r = torch.linalg.qr(directions)
    q = q * torch.sign(torch.diagonal(r)).unsqueeze(0)
    return q.float(), explained.clamp(0.0, 1.0).float()


def cluster_span_start(embedded: torch.Tensor, n_clusters: int, generator: torch.Generator,
                       strong_weight: float = 0.9, min_explained: float = 0.5) -> tuple:
    """
    ACe/DeC starting point with the cluster space on the discriminant directions of a whitened k-means.

    The paper's start (§2.2) puts a random half of randomly rotated dimensions into the cluster space. When
    the autoencoder has stretched the noise directions, k-means there finds clusters in the noise and the
    phase that trains V and b cannot leave them: it needs centres that differ along the cluster directions
    to rotate those into the cluster space. Here the data are clustered after whitening
    (:func:`whitened_kmeans_labels`), and the directions in which that clustering explains at least
    ``min_explained`` of the variance (:func:`discriminant_rotation`; between-cluster variance at least the
    within-cluster variance for 0.5) form the initial cluster space, at least one and at most d - 1 of them.

    Parameters
    ----------
    embedded : torch.Tensor
        the embedded data, shape (N, d)
    n_clusters : int
        K
    generator : torch.Generator
        CPU generator
    strong_weight : float
        β_cs of the initial cluster-space dimensions (default: 0.9)
    min_explained : float
        share of a direction's variance the clustering must explain for the cluster space (default: 0.5)

    Returns
    -------
    tuple : (torch.Tensor, torch.Tensor)
        V (d, d) and b (d,), on the embedding's device
    """
    d = embedded.shape[1]
    labels = whitened_kmeans_labels(embedded, n_clusters, generator)
    V, explained = discriminant_rotation(embedded, labels, n_clusters)
    n_cluster_dims = min(max(int((explained >= min_explained).sum()), 1), d - 1)
    in_cluster_space = torch.arange(d, device=embedded.device) < n_cluster_dims
    return V, two_space_beta_logits(in_cluster_space, strong_weight)


def kmeans_sample(points: torch.Tensor, generator: torch.Generator, size: int = KMEANS_SAMPLE_SIZE) -> torch.Tensor:
    """
    All points, or a uniform random sample of ``size`` of them when there are more.

    Parameters
    ----------
    points : torch.Tensor
        shape (N, d)
    generator : torch.Generator
        CPU generator
    size : int
        largest sample (default: KMEANS_SAMPLE_SIZE)

    Returns
    -------
    sample : torch.Tensor
        shape (min(N, size), d)
    """
    if points.shape[0] <= size:
        return points
    return points[torch.randperm(points.shape[0], generator=generator)[:size].to(points.device)]


#: Nr-Kmeans runs of ENRC's Nr-Kmeans start: a run is cheap against one ENRC initial phase, and single runs
#: rarely reach the best optimum (docs/design.md).
NRKMEANS_RUNS = 50


def nrkmeans_start(embedded: torch.Tensor, n_clusters: list, generator: torch.Generator,
                   n_init: int = NRKMEANS_RUNS, strong_weight: float = 0.9) -> tuple | None:
    """
    ENRC starting point from Nr-Kmeans (Mautz et al. 2018) on the embedding: the linear method ENRC generalises.

    Nr-Kmeans finds an orthogonal V, disjoint sets of rotated dimensions per clustering and the centres of
    each; they become ENRC's V, β (``strong_weight`` on the dimensions of its own subspace, the rest spread
    evenly, :func:`clustpy_acedec._initialization.owner_beta_logits`) and centres. It runs clustpy's ``NrKmeans``
    (NumPy, on the CPU) as the benchmark's AE + Nr-Kmeans does: with a one-cluster noise space (unless
    ``n_clusters`` has one), and the best of ``n_init`` runs by Nr-Kmeans's own cost. The noise space takes
    the dimensions whose variance no clustering explains, which otherwise blur some clustering; its
    dimensions belong to no clustering (β spread evenly). Nr-Kmeans's cost ranks its local optima by quality
    far better than ENRC's loss after the initial phase does (docs/design.md), which is why the restarts happen
    here. With more clusters than dimensions the noise space is
    chosen by MDL, as clustpy's ENRC does.

    Parameters
    ----------
    embedded : torch.Tensor
        the embedded data (or a sample of it), shape (N, d)
    n_clusters : list
        K_s per clustering
    generator : torch.Generator
        CPU generator, seeds Nr-Kmeans
    n_init : int
        Nr-Kmeans runs; the one with the lowest Nr-Kmeans cost is kept (default: :data:`NRKMEANS_RUNS`)
    strong_weight : float
        β of a dimension's own clustering (default: 0.9)

    Returns
    -------
    tuple | None
        (V (d, d), β logits (S, d), list of (K_s, d) centres in the rotated space), on the embedding's device;
        None when every Nr-Kmeans run lost a clustering or a cluster
    """
    points = embedded.detach().double().cpu().numpy()
    seed = int(torch.randint(2 ** 31 - 1, (1,), generator=generator))
    n_spaces = len(n_clusters)
    # Nr-Kmeans takes a one-cluster (noise) space only as the last one; ENRC's spaces may come in any order
    order = sorted(range(n_spaces), key=lambda space: n_clusters[space] == 1)
    nrkmeans = _best_nrkmeans_keeping(points, [n_clusters[space] for space in order], n_init, seed)
    if nrkmeans is None:
        return None
    device = embedded.device
    V = torch.as_tensor(nrkmeans.V_, dtype=torch.float32, device=device)
    owner = torch.full((points.shape[1],), -1, dtype=torch.long)
    centers = [None] * n_spaces
    for position, space in enumerate(order):
        owner[torch.as_tensor(nrkmeans.P_[position], dtype=torch.long)] = space
        centers[space] = torch.as_tensor(nrkmeans.cluster_centers_[position], dtype=torch.float32, device=device) @ V
    return V, owner_beta_logits(owner, n_spaces, strong_weight).to(device), centers


def _best_nrkmeans_keeping(points: np.ndarray, n_clusters: list, n_init: int, seed: int):
    """
    The fitted ``NrKmeans`` with the lowest cost among ``n_init`` runs that keep every clustering and cluster
    of ``n_clusters`` (plus a one-cluster noise space, where the embedding has a dimension for it), or None.

    clustpy's ``NrKmeans(n_init=...)`` keeps the lowest cost over all runs, and a run that dropped a subspace
    or an empty cluster has fewer terms, so it can win (and then two clusterings of the start can find the same
    labeling). clustpy's choice is kept when it is complete, so every start
    that was complete before stays the same run; only otherwise are ``n_init`` runs repeated one by one (the
    rare case pays for the runs twice) and the best complete one is kept.
    """
    from clustpy.alternative import NrKmeans
    searched = list(n_clusters) if 1 in n_clusters else [*n_clusters, 1]
    if len(searched) > points.shape[1]:  # every subspace needs a dimension (clustpy fails otherwise)
        if len(n_clusters) > points.shape[1]:
            return None
        searched = list(n_clusters)  # no room for a noise space
    mdl = max(n_clusters) >= points.shape[1]  # more clusters than dimensions: the noise space by MDL

    def fit(runs: int, run_seed: int):
        # on degenerate embeddings (constant or repeated points) clustpy's NrKmeans warns hundreds of times about
        # empty slices; the start it gives is then judged like any other (complete, lowest cost). With the noise
        # space found by MDL, clusters of repeated points make clustpy's bare `assert` on a scatter matrix's trace
        # fail (or its eigendecomposition): such a run is an incomplete one, not the user's error.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                return NrKmeans(n_clusters=searched, n_init=runs, mdl_for_noisespace=mdl,
                                random_state=run_seed).fit(points)
            except (AssertionError, np.linalg.LinAlgError):
                return None

    def complete(nrkmeans) -> bool:  # the noise space comes last and may vanish
        return nrkmeans is not None and list(nrkmeans.n_clusters_final_[:len(n_clusters)]) == list(n_clusters)

    best = fit(n_init, seed)
    if complete(best):
        return best
    run_seeds = np.random.RandomState(seed).randint(2 ** 31 - 1, size=n_init)
    kept = [run for run in (fit(1, int(s)) for s in run_seeds) if complete(run)]
    return min(kept, key=lambda run: run.calculate_cost_function()) if kept else None
