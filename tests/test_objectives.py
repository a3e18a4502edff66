"""Tests of the compression objectives, the loss terms and the registry of supported bases."""

import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator

from clustpy_acedec import ACeDeC, register_base
from clustpy_acedec._centers import MiniBatchCenters
from clustpy_acedec.losses import (compression_loss, orthogonality_loss, profiled_compression_loss,
                                   reconstruction_loss)
from clustpy_acedec._objectives import HardCentroidObjective, SharedMeanObjective, StudentTObjective, target_distribution
from clustpy_acedec.bases import registered_objective
from clustpy_acedec._initialization import random_orthogonal
from clustpy_acedec._subspace import SubspaceLayer, weighted_squared_distance
from clustpy_acedec_bench.data import make_synth


def _layer(d=3, seed=0):
    return SubspaceLayer(random_orthogonal(d, torch.Generator().manual_seed(seed)), torch.zeros(d),
                         parametrization="sigmoid")


# ------------------------------------------------------------------------------------------ HardCentroidObjective

def test_hard_centroid_loss_is_weighted_distance_to_nearest_center():
    g = torch.Generator().manual_seed(0)
    centers = torch.tensor([[0.0, 0.0, 0.0], [4.0, 4.0, 0.0]])
    objective = HardCentroidObjective(MiniBatchCenters([centers], [0], [10.0]))
    rotated = (torch.randn(12, 3, generator=g) * 2.0).requires_grad_(True)
    betas = torch.stack([torch.tensor([0.9, 0.6, 0.2]), torch.tensor([0.1, 0.4, 0.8])]).requires_grad_(True)
    loss, labels = objective.loss(rotated, betas, _layer())
    assert loss.shape == (12, 1) and labels.shape == (12, 1)
    dist = weighted_squared_distance(rotated.detach(), centers, betas[0].detach())
    torch.testing.assert_close(labels[:, 0], dist.argmin(1))
    torch.testing.assert_close(loss[:, 0].detach(), dist.min(1).values, atol=1e-5, rtol=1e-5)
    # explicit Σ β_cs² (h - μ)²
    explicit = (betas[0].detach().square() * (rotated.detach() - centers[labels[:, 0]]).square()).sum(1)
    torch.testing.assert_close(loss[:, 0].detach(), explicit)

    loss.sum().backward()
    # gradient w.r.t. the point is 2 β² (h - μ); the centres are constants
    expected_grad = 2 * betas[0].detach().square() * (rotated.detach() - centers[labels[:, 0]])
    torch.testing.assert_close(rotated.grad, expected_grad)
    assert betas.grad is not None and bool((betas.grad[0] != 0).all())
    torch.testing.assert_close(betas.grad[1], torch.zeros(3))
    assert not objective.centers.centers.requires_grad
    assert list(objective.parameters()) == []
    torch.testing.assert_close(objective.cluster_centers(None)[0], centers)


def test_hard_centroid_update_and_reinitialize_lost():
    objective = HardCentroidObjective(MiniBatchCenters([torch.tensor([[0.0, 0.0], [50.0, 50.0]])], [0], [1.0]))
    batch = torch.tensor([[1.0, 1.0], [-1.0, 3.0]])
    betas = torch.ones(2, 2)
    for _ in range(2):
        _, labels = objective.loss(batch, betas, _layer(2))
        objective.update(batch, batch, labels)
    # batch mean (0, 2); step 1: A = 0.5 * 1 + 0.5 * 2 = 1.5, η = 2/3, μ = (0, 4/3)
    # step 2: A = 0.5 * 1.5 + 0.5 * 2 = 1.75, η = 4/7, μ = 4/3 + 4/7 * (2 - 4/3) = 12/7
    torch.testing.assert_close(objective.centers.counts, torch.tensor([1.75, 1.0]))
    torch.testing.assert_close(objective.centers.centers[0], torch.tensor([0.0, 12.0 / 7.0]))
    sample = torch.tensor([[-5.0, 0.0], [-5.5, 0.0], [5.0, 0.0], [5.5, 0.0]])
    # centre 1 lost 2 batches > max(1, isqrt(2)) = 1
    assert objective.reinitialize_lost(lambda: sample, betas, iteration=2) == 1
    new = objective.centers.centers
    torch.testing.assert_close(new[new[:, 0].argsort()], torch.tensor([[-5.25, 0.0], [5.25, 0.0]]))
    assert objective.reinitialize_lost(lambda: pytest.fail("sample drawn without lost centre"), betas, 2) == 0


# ------------------------------------------------------------------------------------------ StudentTObjective

@pytest.mark.parametrize("alpha", [1.0, 2.0])
def test_student_t_soft_assignment_matches_dec(alpha):
    g = torch.Generator().manual_seed(1)
    centers, rotated = torch.randn(4, 3, generator=g), torch.randn(10, 3, generator=g)
    betas = torch.rand(2, 3, generator=g)
    q = StudentTObjective(centers, space=1, alpha=alpha).soft_assignment(rotated, betas)
    assert q.shape == (10, 4)
    torch.testing.assert_close(q.sum(1), torch.ones(10))
    d2 = ((rotated[:, None] - centers[None]).square() * betas[1].square()).sum(2)
    kernel = (1.0 + d2 / alpha) ** (-(alpha + 1.0) / 2.0)
    torch.testing.assert_close(q, kernel / kernel.sum(1, keepdim=True), atol=1e-6, rtol=1e-5)


def test_target_distribution_is_dec_formula():
    q = torch.tensor([[0.7, 0.2, 0.1], [0.3, 0.3, 0.4], [0.1, 0.8, 0.1]], dtype=torch.float64)
    p = target_distribution(q)
    qn = q.numpy()
    f = qn.sum(0)
    expected = (qn ** 2 / f) / (qn ** 2 / f).sum(1, keepdims=True)
    np.testing.assert_allclose(p.numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(p.sum(1).numpy(), 1.0)
    # P sharpens Q: the largest entry of each row grows
    assert bool((p.max(1).values > q.max(1).values).all())


@pytest.mark.parametrize("alpha", [1.0, 3.0])
def test_student_t_loss_is_kl_plus_scaled_compression_and_centers_get_gradients(alpha):
    g = torch.Generator().manual_seed(2)
    centers, rotated = torch.randn(3, 4, generator=g), torch.randn(16, 4, generator=g)
    betas = torch.rand(2, 4, generator=g)
    objective = StudentTObjective(centers, space=0, alpha=alpha)
    loss, labels = objective.loss(rotated, betas, _layer(4))
    q = objective.soft_assignment(rotated, betas).detach()
    p = target_distribution(q)
    kl = (p * (p / q).log()).sum(1)
    assert objective.distance_scale == pytest.approx((alpha + 1.0) / (2.0 * alpha))
    compression = weighted_squared_distance(rotated, centers[q.argmax(1)], betas[0], pairwise=False)
    assert loss.shape == (16, 1)
    torch.testing.assert_close(loss[:, 0].detach(), kl + objective.distance_scale * compression, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(labels[:, 0], q.argmax(1))
    torch.testing.assert_close(objective.predict(rotated, betas, _layer(4)), labels)
    assert [p_ for p_ in objective.parameters()] == [objective.centers]
    # the centres are trained by the KL term (the compression term sees them detached)
    loss.sum().backward()
    assert objective.centers.grad is not None and float(objective.centers.grad.abs().sum()) > 0
    centers_param = objective.centers
    kl_only = torch.autograd.grad(_kl(objective, rotated, betas).sum(), centers_param)[0]
    torch.testing.assert_close(centers_param.grad, kl_only, atol=1e-6, rtol=1e-5)


def _kl(objective, rotated, betas):
    q = objective.soft_assignment(rotated, betas)
    p = target_distribution(q.detach())
    return (p * (torch.log(p) - torch.log(q))).sum(1)


def test_student_t_loss_is_zero_when_q_equals_p():
    # one-hot-like q: a point sitting on each centre, far from the others
    centers = torch.tensor([[0.0, 0.0], [100.0, 0.0]])
    objective = StudentTObjective(centers)
    loss, _ = objective.loss(centers.clone(), torch.ones(1, 2), _layer(2))
    torch.testing.assert_close(loss, torch.zeros(2, 1), atol=1e-3, rtol=0)


def test_student_t_reinitializes_center_without_points():
    objective = StudentTObjective(torch.tensor([[0.0, 0.0], [100.0, 100.0]]))
    points = torch.tensor([[-1.0, 0.0], [1.0, 0.0], [3.0, 0.0]])
    betas = torch.ones(1, 2)
    objective.update(points, points, objective.predict(points, betas, None))
    assert objective.reinitialize_lost(lambda: points, betas, iteration=1) == 1
    # centre 1 moved to the farthest point of the worst cluster
    torch.testing.assert_close(objective.centers.detach()[1], torch.tensor([3.0, 0.0]))
    torch.testing.assert_close(objective.centers.detach()[0], torch.tensor([0.0, 0.0]))
    # the epoch counts were reset: without updates every centre counts as lost in the next epoch
    assert objective.reinitialize_lost(lambda: points, betas, iteration=2) == 2


# ------------------------------------------------------------------------------------------ SharedMeanObjective

def test_shared_mean_end_epoch_takes_mean_of_updates():
    objective = SharedMeanObjective(torch.tensor([5.0, 5.0, 5.0]), space=1)
    g = torch.Generator().manual_seed(3)
    batches = [torch.randn(7, 3, generator=g), torch.randn(2, 3, generator=g) + 10.0]
    for batch in batches:
        objective.update(batch, batch, torch.zeros(batch.shape[0], 1, dtype=torch.long))
    torch.testing.assert_close(objective.mean, torch.tensor([5.0, 5.0, 5.0]))  # unchanged until end_epoch
    objective.end_epoch()
    torch.testing.assert_close(objective.mean, torch.cat(batches).mean(0))
    # an epoch without updates keeps the mean
    objective.end_epoch()
    torch.testing.assert_close(objective.mean, torch.cat(batches).mean(0))


def test_shared_mean_loss_uses_rotated_mean_and_shared_beta():
    layer = _layer(3, seed=4)
    mean = torch.tensor([1.0, -2.0, 0.5])
    g = torch.Generator().manual_seed(4)
    rotated = torch.randn(5, 3, generator=g)
    betas = torch.stack([torch.tensor([0.9, 0.5, 0.1]), torch.tensor([0.1, 0.5, 0.9])])
    center = (layer.V.detach().T @ mean)
    expected = (betas[1].square() * (rotated - center).square()).sum(1)
    objective = SharedMeanObjective(mean, space=1)
    loss, labels = objective.loss(rotated, betas, layer)
    torch.testing.assert_close(loss[:, 0].detach(), expected)
    torch.testing.assert_close(labels, torch.zeros(5, 1, dtype=torch.long))
    torch.testing.assert_close(objective.cluster_centers(layer)[0][0], center)
    loss_scaled, _ = SharedMeanObjective(mean, space=1, scale=0.75).loss(rotated, betas, layer)
    torch.testing.assert_close(loss_scaled[:, 0].detach(), 0.75 * expected)
    # the mean itself receives no gradient; V does (through V^T μ)
    loss.sum().backward()
    assert not objective.mean.requires_grad and layer.V.grad is not None


# ------------------------------------------------------------------------------------------ loss terms

def test_compression_loss_points():
    g = torch.Generator().manual_seed(5)
    per_sample = torch.rand(6, 2, generator=g)
    labels = torch.randint(3, (6, 2), generator=g)
    torch.testing.assert_close(compression_loss(per_sample, labels, "points", 3), per_sample.sum(1).mean())


def test_compression_loss_cluster_size_hand_computed():
    per_sample = torch.tensor([[1.0, 4.0], [2.0, 5.0], [3.0, 6.0], [6.0, 7.0]])
    labels = torch.tensor([[0, 1], [0, 1], [1, 1], [0, 0]])
    # clustering 0: cluster 0 = {1, 2, 6} -> mean 3, cluster 1 = {3} -> 3; sum 6
    # clustering 1: cluster 1 = {4, 5, 6} -> mean 5, cluster 0 = {7} -> 7; sum 12
    # average over the two clusterings: 9
    torch.testing.assert_close(compression_loss(per_sample, labels, "cluster_size", 3), torch.tensor(9.0))
    # one clustering: the same as its column alone
    torch.testing.assert_close(compression_loss(per_sample[:, :1], labels[:, :1], "cluster_size", 3), torch.tensor(6.0))


def test_compression_loss_rejects_unknown_normalization():
    with pytest.raises(ValueError):
        compression_loss(torch.ones(2, 1), torch.zeros(2, 1, dtype=torch.long), "mean", 1)


def test_reconstruction_and_orthogonality_loss():
    x = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    rec = torch.tensor([[1.0, 0.0, 3.0], [1.0, 1.0, 1.0]])
    # point 0: 4, point 1: 3 -> mean 3.5 (summed over features, not averaged)
    torch.testing.assert_close(reconstruction_loss(x, rec), torch.tensor(3.5))
    z = torch.randn(5, 3, generator=torch.Generator().manual_seed(6)).requires_grad_(True)
    V = random_orthogonal(3, torch.Generator().manual_seed(6))
    torch.testing.assert_close(orthogonality_loss(z, V), torch.tensor(0.0), atol=1e-5, rtol=0)
    V2 = (2.0 * V).requires_grad_(True)
    # V V^T = 4 I: ||z - 4 z||^2 = 9 ||z||^2
    torch.testing.assert_close(orthogonality_loss(z, V2), 9.0 * z.detach().square().sum(1).mean(), rtol=1e-5, atol=0)
    orthogonality_loss(z, V2).backward()
    assert z.grad is None and V2.grad is not None


@pytest.mark.parametrize("n_spaces", [2, 3])
def test_profiled_compression_loss_is_the_minimum_over_beta(n_spaces):
    generator = torch.Generator().manual_seed(n_spaces)
    deviations = torch.rand(n_spaces, 4, generator=generator, dtype=torch.float64) + 0.1  # a_s[i]
    # β on a fine grid of the simplex, per dimension: Σ_s β_s² a_s at its smallest
    steps = torch.linspace(0, 1, 401, dtype=torch.float64)
    grids = torch.meshgrid(*[steps] * (n_spaces - 1), indexing="ij")
    betas = torch.stack([g.reshape(-1) for g in grids] + [1 - sum(g.reshape(-1) for g in grids)])
    betas = betas[:, betas[-1] >= 0]  # (S, points of the simplex)
    searched = (betas.square().T @ deviations).min(0).values.sum()
    profiled = profiled_compression_loss(deviations)
    assert profiled <= searched + 1e-12  # the closed form is the minimum ...
    torch.testing.assert_close(profiled, searched, rtol=1e-3, atol=0)  # ... and the grid finds it
    # two spaces: a c / (a + c), the value at ACe/DeC's stationary β_cs = c / (a + c)
    if n_spaces == 2:
        a, c = deviations
        torch.testing.assert_close(profiled, (a * c / (a + c)).sum())
    # a dimension without deviation in some space costs nothing
    deviations[0, 0] = 0.0
    torch.testing.assert_close(profiled_compression_loss(deviations),
                               profiled_compression_loss(deviations[:, 1:]), rtol=1e-12, atol=1e-300)


# ------------------------------------------------------------------------------------------ registry

class ToyDeepKMeans(BaseEstimator):
    """A clustpy-like deep clusterer that ACeDeC does not know."""

    def __init__(self, n_clusters=3, batch_size=64, pretrain_epochs=1, clustering_epochs=1, embedding_size=4,
                 clustering_loss_weight=0.5, random_state=0):
        self.n_clusters = n_clusters
        self.batch_size = batch_size
        self.pretrain_epochs = pretrain_epochs
        self.clustering_epochs = clustering_epochs
        self.embedding_size = embedding_size
        self.clustering_loss_weight = clustering_loss_weight
        self.random_state = random_state


@pytest.fixture(scope="module")
def tiny_data():
    X, _ = make_synth(n_noise_dims=3, n_samples=200, noise_std=1.0, random_state=0)
    return X


def test_clustpy_bases_are_registered():
    from clustpy.deep import DCN, DEC, IDEC
    assert registered_objective(DCN()) == "hard"
    assert registered_objective(DEC()) == "student_t"
    assert registered_objective(IDEC()) == "student_t"


def test_unregistered_base_raises_type_error_naming_supported(tiny_data):
    model = ACeDeC(base=ToyDeepKMeans(), verbose=False)
    with pytest.raises(TypeError) as info:
        model.fit(tiny_data)
    for name in ("DCN", "DEC", "IDEC", "ToyDeepKMeans"):
        assert name in str(info.value)
    assert not hasattr(model, "labels_")


def test_register_base_hard_lets_toy_base_fit(clean_registry, tiny_data):
    register_base(ToyDeepKMeans, "hard")
    base = ToyDeepKMeans(n_clusters=3)
    params_before = base.get_params()
    model = ACeDeC(base=base, init_iterations=20, verbose=False).fit(tiny_data)
    assert isinstance(model.model_.objectives[0], HardCentroidObjective)
    assert isinstance(model.base_, ToyDeepKMeans) and model.base_ is not base
    assert model.base_.get_params() == params_before == base.get_params()
    assert model.labels_.shape == (200,)
    assert set(np.unique(model.labels_)) <= {0, 1, 2}
    assert model.cluster_centers_.shape == (3, 4)


def test_register_base_matches_subclasses_unless_registered(clean_registry):
    from clustpy.deep import DCN

    class MyDCN(DCN):
        pass

    assert registered_objective(MyDCN()) == "hard"
    register_base(MyDCN, "student_t")
    assert registered_objective(MyDCN()) == "student_t"
    assert registered_objective(DCN()) == "hard"


def test_register_base_callable_objective(clean_registry, tiny_data):
    calls = []

    def factory(base, initial_centers, space):
        calls.append((base, initial_centers.clone(), space))
        return StudentTObjective(initial_centers, space=space, alpha=3.0)

    register_base(ToyDeepKMeans, factory)
    model = ACeDeC(base=ToyDeepKMeans(n_clusters=3), init_iterations=20, verbose=False).fit(tiny_data)
    assert len(calls) == 1
    base, centers, space = calls[0]
    assert isinstance(base, ToyDeepKMeans) and base.n_clusters == 3
    assert centers.shape == (3, 4) and space == 0
    objective = model.model_.objectives[0]
    assert isinstance(objective, StudentTObjective) and objective.alpha == 3.0
    np.testing.assert_allclose(model.cluster_centers_, objective.centers.detach().numpy())


def test_register_base_validates_arguments(clean_registry):
    with pytest.raises(TypeError, match="cls must be a class"):
        register_base(ToyDeepKMeans(), "hard")
    with pytest.raises(ValueError, match="objective must be"):
        register_base(ToyDeepKMeans, "soft")
    with pytest.raises(TypeError, match="objective must be"):
        register_base(ToyDeepKMeans, 42)
    assert ToyDeepKMeans not in clean_registry
