"""
Initialisation of V, β and the centres (ACe/DeC §2.2, ENRC §2.6), on the device of the data.

k-means++ seeding and Lloyd iterations run under the β-weighted distance of Eq. 2, so the same code
serves ACe/DeC's k-means in the cluster space (β = 1 on cluster-space dimensions, 0 elsewhere) and
ENRC's seeding of every clustering under its β_s.
"""

import torch

from clustpy_acedec.centers import lloyd
from clustpy_acedec.subspace import weighted_squared_distance


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
        centres (K, d), labels (N,), inertia (sum of weighted squared distances)
    """
    best = None
    for _ in range(n_init):
        centers = lloyd(points, kmeans_plus_plus(points, n_clusters, beta, generator), beta, max_iter)
        dist = weighted_squared_distance(points, centers, beta)
        inertia = float(dist.min(1).values.sum())
        if best is None or inertia < best[2]:
            best = (centers, dist.argmin(1), inertia)
    return best


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
