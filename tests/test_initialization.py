"""Tests of the initialisation helpers: k-means sample, whitened k-means, discriminant rotation, cluster-span start."""

import numpy as np
import torch


def test_kmeans_sample_caps_the_number_of_points():
    from clustpy_acedec.initialization import kmeans_sample
    points = torch.arange(40.0).reshape(20, 2)
    generator = torch.Generator().manual_seed(0)
    assert kmeans_sample(points, generator, size=50) is points
    sample = kmeans_sample(points, generator, size=5)
    assert sample.shape == (5, 2)
    assert len({tuple(row) for row in sample.tolist()}) == 5
    assert all(row in points.tolist() for row in sample.tolist())


def test_whitened_kmeans_ignores_how_the_directions_are_scaled():
    from clustpy_acedec.initialization import whitened_kmeans_labels
    from sklearn.metrics import normalized_mutual_info_score
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 200)
    clustered = np.where(labels == 0, -1.0, 1.0) * 0.1 + 0.02 * rng.standard_normal(400)
    noise = 3.0 * rng.standard_normal((400, 3))  # far more variance than the cluster direction
    points = torch.as_tensor(np.column_stack([clustered, noise]), dtype=torch.float32)
    found = whitened_kmeans_labels(points, 2, torch.Generator().manual_seed(0))
    assert normalized_mutual_info_score(labels, found.numpy()) > 0.99


def test_discriminant_rotation_puts_the_cluster_direction_first():
    from clustpy_acedec.initialization import discriminant_rotation
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
    from clustpy_acedec.data import make_synth
    from clustpy_acedec.initialization import cluster_span_start
    X, _ = make_synth(n_noise_dims=4, n_samples=800, noise_std=1.0, random_state=0)
    V, b = cluster_span_start(torch.as_tensor(X), 4, torch.Generator().manual_seed(0))
    assert (b > 0).sum() == 2  # the two cluster dimensions
    torch.testing.assert_close(V.T @ V, torch.eye(6), atol=1e-5, rtol=0)
    # the initial cluster space is the plane of the two clustered features
    assert float(V[:2, :2].square().sum()) > 1.98
