"""Tests of the subspace layer: V, the β parametrisations, Eq. 2, the β initialisations and hardening."""

import math

import numpy as np
import pytest
import torch

from clustpy_acedec._initialization import block_beta_logits, random_orthogonal, split_beta_logits
from clustpy_acedec._subspace import (DEFAULT_DIM_MARGIN, SubspaceLayer, hardened_dims, nearest_centers,
                                      weighted_squared_distance)


def _brute_force_distance(points, centers, betas):
    """Eq. 2 by explicit loops, in float64."""
    points, centers, betas = points.double(), centers.double(), betas.double()
    out = torch.zeros(points.shape[0], centers.shape[0], dtype=torch.float64)
    for n in range(points.shape[0]):
        for k in range(centers.shape[0]):
            beta = betas if betas.ndim == 1 else betas[k]
            out[n, k] = sum(beta[i] ** 2 * (points[n, i] - centers[k, i]) ** 2 for i in range(points.shape[1]))
    return out


# ------------------------------------------------------------------------------------------ random_orthogonal

@pytest.mark.parametrize("d", [1, 2, 5, 16])
def test_random_orthogonal_is_orthogonal(d):
    V = random_orthogonal(d, torch.Generator().manual_seed(3))
    assert V.shape == (d, d)
    assert V.dtype == torch.float32
    torch.testing.assert_close(V.T @ V, torch.eye(d), atol=1e-5, rtol=0)
    torch.testing.assert_close(V @ V.T, torch.eye(d), atol=1e-5, rtol=0)


def test_random_orthogonal_reproducible_with_seed():
    V1 = random_orthogonal(6, torch.Generator().manual_seed(42))
    V2 = random_orthogonal(6, torch.Generator().manual_seed(42))
    V3 = random_orthogonal(6, torch.Generator().manual_seed(43))
    torch.testing.assert_close(V1, V2, rtol=0, atol=0)
    assert not torch.allclose(V1, V3)


# ------------------------------------------------------------------------------------------ SubspaceLayer

def test_sigmoid_betas_rows_are_sigmoid_and_complement():
    b = torch.tensor([-2.0, 0.0, 0.5, 3.0])
    layer = SubspaceLayer(torch.eye(4), b, parametrization="sigmoid")
    betas = layer.betas()
    assert betas.shape == (2, 4)
    assert layer.n_spaces == 2
    torch.testing.assert_close(betas[0], torch.sigmoid(b))
    torch.testing.assert_close(betas[1], 1.0 - torch.sigmoid(b))
    torch.testing.assert_close(betas[:, 1], torch.tensor([0.5, 0.5]))
    torch.testing.assert_close(betas.sum(0), torch.ones(4))


def test_softmax_betas_columns_sum_to_one_and_lie_in_open_interval():
    logits = torch.randn(3, 7, generator=torch.Generator().manual_seed(0)) * 3
    layer = SubspaceLayer(torch.eye(7), logits, parametrization="softmax")
    betas = layer.betas()
    assert betas.shape == (3, 7)
    assert layer.n_spaces == 3
    torch.testing.assert_close(betas.sum(0), torch.ones(7))
    assert bool(((betas > 0) & (betas < 1)).all())
    torch.testing.assert_close(betas, torch.softmax(logits, 0))


def test_layer_copies_initial_values_and_validates_shapes():
    V, b = torch.eye(3), torch.zeros(3)
    layer = SubspaceLayer(V, b, parametrization="sigmoid")
    with torch.no_grad():
        layer.V.mul_(2.0)
    torch.testing.assert_close(V, torch.eye(3))  # the caller's tensor is not aliased
    with pytest.raises(ValueError):
        SubspaceLayer(torch.eye(3), torch.zeros(2, 3), parametrization="sigmoid")
    with pytest.raises(ValueError):
        SubspaceLayer(torch.eye(3), torch.zeros(3), parametrization="softmax")
    with pytest.raises(ValueError):
        SubspaceLayer(torch.eye(3), torch.zeros(2, 4))
    with pytest.raises(ValueError):
        SubspaceLayer(torch.eye(3), torch.zeros(3), parametrization="tanh")


def test_rotate_and_rotate_back():
    V = random_orthogonal(4, torch.Generator().manual_seed(1))
    layer = SubspaceLayer(V, torch.zeros(2, 4))
    z = torch.randn(5, 4, generator=torch.Generator().manual_seed(2))
    rotated = layer.rotate(z)
    # row-vector form of V^T z
    torch.testing.assert_close(rotated, (V.T @ z.T).T)
    # V V^T z = z for an orthogonal V
    torch.testing.assert_close(layer.rotate_back(rotated), z, atol=1e-5, rtol=0)


# ------------------------------------------------------------------------------------------ Eq. 2

def test_weighted_squared_distance_hand_computed_shared_beta():
    points = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    centers = torch.tensor([[0.0, 0.0], [3.0, -1.0]])
    beta = torch.tensor([0.5, 2.0])  # squared: 0.25, 4
    # (1,2)-(0,0): 0.25*1 + 4*4 = 16.25 ; (1,2)-(3,-1): 0.25*4 + 4*9 = 37
    # (0,0)-(0,0): 0           ; (0,0)-(3,-1): 0.25*9 + 4*1 = 6.25
    expected = torch.tensor([[16.25, 37.0], [0.0, 6.25]])
    torch.testing.assert_close(weighted_squared_distance(points, centers, beta), expected)


def test_weighted_squared_distance_hand_computed_per_center_beta():
    points = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    centers = torch.tensor([[0.0, 0.0], [3.0, -1.0]])
    betas = torch.tensor([[1.0, 0.0],   # centre 0 looks at dimension 0 only
                          [0.0, 3.0]])  # centre 1 at dimension 1 with weight 9
    # (1,2): centre 0 -> 1*1 = 1 ; centre 1 -> 9*9 = 81
    # (0,0): centre 0 -> 0       ; centre 1 -> 9*1 = 9
    expected = torch.tensor([[1.0, 81.0], [0.0, 9.0]])
    torch.testing.assert_close(weighted_squared_distance(points, centers, betas), expected)


@pytest.mark.parametrize("per_center", [False, True])
def test_weighted_squared_distance_matches_brute_force(per_center):
    g = torch.Generator().manual_seed(7)
    points, centers = torch.randn(20, 5, generator=g), torch.randn(4, 5, generator=g)
    betas = torch.rand(4, 5, generator=g) if per_center else torch.rand(5, generator=g)
    result = weighted_squared_distance(points, centers, betas)
    assert result.shape == (20, 4)
    torch.testing.assert_close(result.double(), _brute_force_distance(points, centers, betas), atol=1e-4, rtol=1e-4)
    assert bool((result >= 0).all())


def test_weighted_squared_distance_is_zero_on_identical_points_and_differentiable():
    g = torch.Generator().manual_seed(0)
    points = torch.randn(6, 3, generator=g)
    beta = torch.rand(3, generator=g).requires_grad_(True)
    dist = weighted_squared_distance(points, points, beta)
    torch.testing.assert_close(torch.diagonal(dist), torch.zeros(6), atol=1e-5, rtol=0)
    dist.sum().backward()
    assert beta.grad is not None and bool((beta.grad > 0).all())


def test_paired_distance_matches_pairwise():
    g = torch.Generator().manual_seed(5)
    points, centers, beta = torch.randn(8, 4, generator=g), torch.randn(3, 4, generator=g), torch.rand(4, generator=g)
    labels = torch.tensor([0, 1, 2, 0, 1, 2, 2, 1])
    pairwise = weighted_squared_distance(points, centers, beta)
    torch.testing.assert_close(weighted_squared_distance(points, centers[labels], beta, pairwise=False),
                               pairwise[torch.arange(8), labels], atol=1e-5, rtol=1e-5)


# ------------------------------------------------------------------------------------------ initial β

@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("d", [2, 3, 10])
def test_split_beta_logits_values_and_both_spaces_nonempty(d, seed):
    b = split_beta_logits(d, torch.Generator().manual_seed(seed))
    assert b.shape == (d,)
    torch.testing.assert_close(b.abs(), torch.full((d,), math.log(9.0)))
    assert bool((b > 0).any()) and bool((b < 0).any())
    torch.testing.assert_close(torch.sigmoid(b[b > 0]), torch.full((int((b > 0).sum()),), 0.9))


def test_split_beta_logits_reproducible():
    b1 = split_beta_logits(12, torch.Generator().manual_seed(9))
    b2 = split_beta_logits(12, torch.Generator().manual_seed(9))
    torch.testing.assert_close(b1, b2, rtol=0, atol=0)


@pytest.mark.parametrize("d", [0, 1])
def test_split_beta_logits_rejects_too_small_embedding(d):
    with pytest.raises(ValueError):
        split_beta_logits(d, torch.Generator().manual_seed(0))


def test_block_beta_logits_blocks_and_leftover():
    d, S = 7, 3
    betas = torch.softmax(block_beta_logits(d, S), 0)
    assert betas.shape == (S, d)
    expected = torch.tensor([[0.90, 0.90, 0.05, 0.05, 0.05, 0.05, 1 / 3],
                             [0.05, 0.05, 0.90, 0.90, 0.05, 0.05, 1 / 3],
                             [0.05, 0.05, 0.05, 0.05, 0.90, 0.90, 1 / 3]])
    torch.testing.assert_close(betas, expected, atol=1e-6, rtol=0)


def test_block_beta_logits_two_spaces_even_split_and_single_space():
    betas = torch.softmax(block_beta_logits(4, 2), 0)
    torch.testing.assert_close(betas, torch.tensor([[0.9, 0.9, 0.1, 0.1], [0.1, 0.1, 0.9, 0.9]]), atol=1e-6, rtol=0)
    torch.testing.assert_close(torch.softmax(block_beta_logits(5, 1), 0), torch.ones(1, 5))


# ------------------------------------------------------------------------------------------ hardened_dims

def test_hardened_dims_two_spaces_default_margin():
    assert DEFAULT_DIM_MARGIN == pytest.approx(0.1)
    beta_cs = torch.tensor([0.56, 0.52, 0.44, 0.48, 0.9, 0.1, 0.5])
    cluster, shared = hardened_dims(torch.stack([beta_cs, 1 - beta_cs]))
    # 0.56 - 0.44 = 0.12 >= 0.1 -> cluster; 0.52 - 0.48 = 0.04 -> neither; symmetric for the shared space
    np.testing.assert_array_equal(cluster, [0, 4])
    np.testing.assert_array_equal(shared, [2, 5])
    assert len(np.intersect1d(cluster, shared)) == 0


def test_hardened_dims_three_spaces_even_spread_belongs_to_none():
    betas = torch.tensor([[1 / 3, 0.8, 0.45, 0.40],
                          [1 / 3, 0.1, 0.45, 0.35],
                          [1 / 3, 0.1, 0.10, 0.25]])
    dims = hardened_dims(betas)
    assert len(dims) == 3
    np.testing.assert_array_equal(dims[0], [1])  # dim 3: 0.40 - 0.35 < 0.1; dim 2: tie
    np.testing.assert_array_equal(dims[1], [])
    np.testing.assert_array_equal(dims[2], [])


def test_hardened_dims_custom_margin_and_no_gradient_needed():
    beta_cs = torch.tensor([0.56, 0.52, 0.8], requires_grad=True)
    betas = torch.stack([beta_cs, 1 - beta_cs])
    cluster, shared = hardened_dims(betas, margin=0.5)
    np.testing.assert_array_equal(cluster, [2])
    np.testing.assert_array_equal(shared, [])
    cluster, _ = hardened_dims(betas, margin=0.02)
    np.testing.assert_array_equal(cluster, [0, 1, 2])


def test_nearest_centers_is_eq5_under_the_weighted_distance():
    generator = torch.Generator().manual_seed(0)
    points, centers = torch.randn(50, 3, generator=generator), torch.randn(4, 3, generator=generator)
    beta = torch.tensor([1.0, 0.5, 0.0])  # the last dimension must not matter
    labels, distances = nearest_centers(points, centers, beta)
    brute = ((beta.square() * (points[:, None] - centers[None]).square()).sum(2))
    torch.testing.assert_close(distances, brute.min(1).values)
    assert torch.equal(labels, brute.argmin(1))
    shifted = points.clone()
    shifted[:, 2] += 100.0
    assert torch.equal(nearest_centers(shifted, centers, beta)[0], labels)
