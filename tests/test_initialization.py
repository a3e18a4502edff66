"""Tests of the initialisation helpers: k-means sample, whitened k-means, discriminant rotation, cluster-span start."""

import numpy as np
import torch


def test_kmeans_sample_caps_the_number_of_points():
    from clustpy_acedec._initialization import kmeans_sample
    points = torch.arange(40.0).reshape(20, 2)
    generator = torch.Generator().manual_seed(0)
    assert kmeans_sample(points, generator, size=50) is points
    sample = kmeans_sample(points, generator, size=5)
    assert sample.shape == (5, 2)
    assert len({tuple(row) for row in sample.tolist()}) == 5
    assert all(row in points.tolist() for row in sample.tolist())


def test_whitened_kmeans_ignores_how_the_directions_are_scaled():
    from clustpy_acedec._initialization import whitened_kmeans_labels
    from sklearn.metrics import normalized_mutual_info_score
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 200)
    clustered = np.where(labels == 0, -1.0, 1.0) * 0.1 + 0.02 * rng.standard_normal(400)
    noise = 3.0 * rng.standard_normal((400, 3))  # far more variance than the cluster direction
    points = torch.as_tensor(np.column_stack([clustered, noise]), dtype=torch.float32)
    found = whitened_kmeans_labels(points, 2, torch.Generator().manual_seed(0))
    assert normalized_mutual_info_score(labels, found.numpy()) > 0.99


def test_discriminant_rotation_puts_the_cluster_direction_first():
    from clustpy_acedec._initialization import discriminant_rotation
    rng = np.random.default_rng(1)
    labels = torch.as_tensor(np.repeat([0, 1], 300))
    direction = np.array([0.6, 0.8, 0.0])
    points = rng.standard_normal((600, 3)) * [1.0, 1.0, 5.0] + np.outer(np.where(labels == 0, -2.0, 2.0), direction)
    V, explained = discriminant_rotation(torch.as_tensor(points, dtype=torch.float32), labels, 2)
    torch.testing.assert_close(V.T @ V, torch.eye(3), atol=1e-5, rtol=0)
    assert explained[0] > 0.7 and torch.all(explained[1:] < 0.05)
    assert torch.all(explained[:-1] >= explained[1:])
    # the leading column is (up to sign) the direction that separates the clusters
    assert abs(float(V[:, 0] @ torch.as_tensor(direction, dtype=torch.float32))) > 0.99


def test_cluster_span_start_splits_by_explained_variance():
    from clustpy_acedec_bench.data import make_synth
    from clustpy_acedec._initialization import cluster_span_start
    X, _ = make_synth(n_noise_dims=4, n_samples=800, noise_std=1.0, random_state=0)
    V, b = cluster_span_start(torch.as_tensor(X), 4, torch.Generator().manual_seed(0))
    assert (b > 0).sum() == 2  # the two cluster dimensions
    torch.testing.assert_close(V.T @ V, torch.eye(6), atol=1e-5, rtol=0)
    # the initial cluster space is the plane of the two clustered features
    assert float(V[:2, :2].square().sum()) > 1.98


def test_owner_beta_logits_gives_the_owner_the_strong_weight():
    from clustpy_acedec._initialization import block_beta_logits, owner_beta_logits
    betas = torch.softmax(owner_beta_logits(torch.tensor([1, -1, 0, 2]), 3, strong_weight=0.8), 0)
    torch.testing.assert_close(betas[:, 0], torch.tensor([0.1, 0.8, 0.1]))
    torch.testing.assert_close(betas[:, 1], torch.full((3,), 1 / 3))
    torch.testing.assert_close(betas[:, 2], torch.tensor([0.8, 0.1, 0.1]))
    torch.testing.assert_close(betas[:, 3], torch.tensor([0.1, 0.1, 0.8]))
    # ENRC's block start is the special case of consecutive owners
    torch.testing.assert_close(block_beta_logits(5, 2), owner_beta_logits(torch.tensor([0, 0, 1, 1, -1]), 2))


def test_nrkmeans_start_returns_an_enrc_start():
    from clustpy_acedec._initialization import nrkmeans_start
    rng = np.random.default_rng(0)
    a, b = np.arange(600) % 3, (np.arange(600) // 3) % 2
    X = np.column_stack([6.0 * a + 0.3 * rng.standard_normal(600), 6.0 * b + 0.3 * rng.standard_normal(600),
                         rng.standard_normal(600)])
    V, logits, centers = nrkmeans_start(torch.as_tensor(X, dtype=torch.float32), [3, 2], torch.Generator().manual_seed(0))
    torch.testing.assert_close(V.T @ V, torch.eye(3), atol=1e-5, rtol=0)
    assert logits.shape == (2, 3) and [c.shape for c in centers] == [(3, 3), (2, 3)]
    assert bool(torch.isfinite(logits).all())
    betas = torch.softmax(logits, 0)
    # every clustering owns at least one dimension, and its centres differ along it
    for space, space_centers in enumerate(centers):
        owned = betas[space] > 0.5
        assert owned.any()
        assert float(space_centers[:, owned].std(0).max()) > 1.0
    # a dimension of Nr-Kmeans's noise space belongs to no clustering: β spread evenly
    unowned = (betas - 0.5).abs().max(0).values < 1e-6
    assert int(unowned.sum()) + sum(int((betas[s] > 0.5).sum()) for s in range(2)) == 3


def test_nrkmeans_runs_that_lost_a_clustering_are_not_kept(monkeypatch):
    """clustpy's best-of-n_init can be a run that dropped a subspace (fewer cost terms); such runs are skipped."""
    import clustpy.alternative
    from clustpy_acedec._initialization import _best_nrkmeans_keeping

    class FakeNrKmeans:  # the cost and the kept clusterings of a run depend on its seed only
        def __init__(self, n_clusters, n_init, mdl_for_noisespace, random_state):
            self.n_init, self.seed = n_init, random_state

        def fit(self, X):
            lost = self.n_init > 1 or self.seed % 3 == 0  # clustpy's own pick lost a clustering
            self.n_clusters_final_ = [3, 1] if lost else [3, 2, 1]
            self.cost = 0.0 if lost else float(self.seed % 1000)
            return self

        def calculate_cost_function(self):
            return self.cost

    monkeypatch.setattr(clustpy.alternative, "NrKmeans", FakeNrKmeans)
    best = _best_nrkmeans_keeping(np.zeros((10, 3)), [3, 2], n_init=20, seed=7)
    seeds = np.random.RandomState(7).randint(2 ** 31 - 1, size=20)
    assert best.n_clusters_final_ == [3, 2, 1] and best.n_init == 1
    assert best.cost == min(s % 1000 for s in seeds if s % 3 != 0)
    monkeypatch.setattr(FakeNrKmeans, "fit", lambda self, X: setattr(self, "n_clusters_final_", [3]) or self)
    assert _best_nrkmeans_keeping(np.zeros((10, 3)), [3, 2], n_init=5, seed=7) is None


def test_kmeans_plus_plus_seeds_distinct_points_and_ignores_zero_weighted_dimensions():
    """k-means++ under the β-weighted distance: the seeds are data points, one per blob of the weighted
    dimension, whatever a dimension with β = 0 holds (there every point is equally far)."""
    from clustpy_acedec._initialization import kmeans_plus_plus, seed_centers
    g = torch.Generator().manual_seed(0)
    blobs = torch.cat([torch.randn(50, 1, generator=g) * 0.1 + c for c in (-10.0, 0.0, 10.0)])
    noise = torch.randn(150, 1, generator=g) * 100.0
    points = torch.cat([blobs, noise], 1)
    for seed in range(5):
        centers = kmeans_plus_plus(points, 3, torch.tensor([1.0, 0.0]), torch.Generator().manual_seed(seed))
        assert all(bool((points == c).all(1).any()) for c in centers)
        assert sorted(torch.round(centers[:, 0] / 10).tolist()) == [-1.0, 0.0, 1.0]
    # seed_centers: one such seeding per clustering, each under its own β row
    betas = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    first, second = seed_centers(points, [3, 2], betas, torch.Generator().manual_seed(0))
    assert first.shape == (3, 2) and second.shape == (2, 2)
    assert sorted(torch.round(first[:, 0] / 10).tolist()) == [-1.0, 0.0, 1.0]


def test_kmeans_numbers_a_partition_by_its_data_whatever_the_seeds_drawn():
    """Two k-means of the same points from different draws find the same partition and give it the same labels
    (numbered by each cluster's first point), with the centres in that order."""
    from clustpy_acedec._initialization import numbered_by_first_point, weighted_kmeans
    rng = np.random.default_rng(0)
    points = torch.as_tensor(np.concatenate([rng.normal(c, 0.1, size=(30, 2)) for c in ((5, 0), (0, 5), (0, 0))]),
                             dtype=torch.float32)[torch.randperm(90, generator=torch.Generator().manual_seed(1))]
    ones = torch.ones(2)
    runs = [weighted_kmeans(points, 3, ones, torch.Generator().manual_seed(seed), n_init=1) for seed in range(6)]
    for centers, labels, _ in runs:
        torch.testing.assert_close(labels, runs[0][1], rtol=0, atol=0)
        torch.testing.assert_close(centers, runs[0][0])
        first_points = [int(torch.nonzero(labels == k)[0]) for k in range(3)]
        assert first_points == sorted(first_points) and first_points[0] == 0
    # an empty cluster goes last; the labels follow the centres
    centers, labels = numbered_by_first_point(torch.tensor([[0.0], [1.0], [2.0]]), torch.tensor([2, 2, 0]))
    torch.testing.assert_close(centers, torch.tensor([[2.0], [0.0], [1.0]]))
    torch.testing.assert_close(labels, torch.tensor([0, 0, 1]))
