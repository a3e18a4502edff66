"""Tests of the mini-batch k-means centre state (ENRC Eq. 5-7, §2.8) and the weighted Lloyd iterations."""


import pytest
import torch

from clustpy_acedec._centers import MiniBatchCenters, cluster_sums, farthest_point_of_worst_cluster, lloyd
from clustpy_acedec._subspace import nearest_centers, weighted_squared_distance


def _two_blobs(n_per_blob=50, seed=0):
    g = torch.Generator().manual_seed(seed)
    left = torch.randn(n_per_blob, 2, generator=g) * 0.5 + torch.tensor([-5.0, 0.0])
    right = torch.randn(n_per_blob, 2, generator=g) * 0.5 + torch.tensor([5.0, 0.0])
    return torch.cat([left, right]), left.mean(0), right.mean(0)


# ------------------------------------------------------------------------------------------ update (Eq. 6-7)

def test_update_hand_computed():
    """2 centres in 2-D, A = 2, α = 0.5; worked out by hand below."""
    state = MiniBatchCenters([torch.tensor([[0.0, 0.0], [10.0, 10.0]])], spaces=[0], initial_count=[2.0],
                             discount=0.5)
    betas = torch.ones(1, 2)

    # Batch 1: (1, 2) and (3, 0) go to centre 0, none to centre 1.
    batch = torch.tensor([[1.0, 2.0], [3.0, 0.0]])
    labels = state.assign(batch, betas)
    torch.testing.assert_close(labels, torch.tensor([[0], [0]]))
    state.update(batch, labels)
    # A_0 = 0.5 * 2 + 0.5 * 2 = 2, η = 1/2, μ_0 = (0, 0) + 1/2 * ((2, 1) - (0, 0)) = (1, 0.5)
    torch.testing.assert_close(state.centers, torch.tensor([[1.0, 0.5], [10.0, 10.0]]))
    torch.testing.assert_close(state.counts, torch.tensor([2.0, 2.0]))
    torch.testing.assert_close(state.lost_counter, torch.tensor([0, 1]))

    # Batch 2: four points with mean (4, 2) go to centre 0.
    batch = torch.tensor([[2.0, 1.0], [6.0, 3.0], [4.0, 0.0], [4.0, 4.0]])
    state.update(batch, torch.zeros(4, 1, dtype=torch.long))
    # A_0 = 0.5 * 2 + 0.5 * 4 = 3, η = 1/3, μ_0 = (1, 0.5) + 1/3 * ((4, 2) - (1, 0.5)) = (2, 1)
    torch.testing.assert_close(state.centers, torch.tensor([[2.0, 1.0], [10.0, 10.0]]))
    torch.testing.assert_close(state.counts, torch.tensor([3.0, 2.0]))
    torch.testing.assert_close(state.lost_counter, torch.tensor([0, 2]))

    # Batch 3: one point (12, 10) goes to centre 1, none to centre 0.
    state.update(torch.tensor([[12.0, 10.0]]), torch.tensor([[1]]))
    # A_1 = 0.5 * 2 + 0.5 * 1 = 1.5, η = 2/3, μ_1 = (10, 10) + 2/3 * (2, 0) = (11 1/3, 10)
    torch.testing.assert_close(state.centers, torch.tensor([[2.0, 1.0], [10.0 + 4.0 / 3.0, 10.0]]))
    torch.testing.assert_close(state.counts, torch.tensor([3.0, 1.5]))
    torch.testing.assert_close(state.lost_counter, torch.tensor([1, 2]))


def test_update_learning_rate_is_capped_at_one():
    state = MiniBatchCenters([torch.tensor([[0.0, 0.0], [5.0, 5.0]])], [0], [0.5], discount=0.5)
    state.update(torch.tensor([[2.0, -2.0]]), torch.tensor([[0]]))
    # A_0 = 0.25 + 0.5 = 0.75 -> η = min(1, 1/0.75) = 1: the centre jumps onto the batch mean
    torch.testing.assert_close(state.counts, torch.tensor([0.75, 0.5]))
    torch.testing.assert_close(state.centers, torch.tensor([[2.0, -2.0], [5.0, 5.0]]))


def test_update_two_clusterings_each_point_counts_in_both():
    state = MiniBatchCenters([torch.tensor([[0.0, 0.0], [10.0, 0.0]]),
                              torch.tensor([[0.0, 0.0], [0.0, 10.0], [0.0, -10.0]])],
                             spaces=[0, 1], initial_count=[1.0, 3.0], discount=0.5)
    batch = torch.tensor([[9.0, -9.0], [11.0, -11.0]])
    labels = torch.tensor([[1, 2], [1, 2]])
    state.update(batch, labels)
    # clustering 0, centre 1: A = 0.5 + 1 = 1.5, η = 2/3, μ = (10, 0) + 2/3 * ((10, -10) - (10, 0))
    # clustering 1, centre 2: A = 1.5 + 1 = 2.5, η = 0.4, μ = (0, -10) + 0.4 * ((10, -10) - (0, -10))
    expected = torch.tensor([[0.0, 0.0], [10.0, -20.0 / 3.0], [0.0, 0.0], [0.0, 10.0], [4.0, -10.0]])
    torch.testing.assert_close(state.centers, expected)
    torch.testing.assert_close(state.counts, torch.tensor([1.0, 1.5, 3.0, 3.0, 2.5]))
    torch.testing.assert_close(state.lost_counter, torch.tensor([1, 0, 1, 1, 0]))
    torch.testing.assert_close(state.centers_of(1), expected[2:])


@pytest.mark.parametrize("discount", [0.0, 1.0, -0.5, 2.0])
def test_discount_must_lie_in_open_unit_interval(discount):
    with pytest.raises(ValueError):
        MiniBatchCenters([torch.zeros(2, 2)], [0], [1.0], discount=discount)


# ------------------------------------------------------------------------------------------ assignment (Eq. 5)

def test_assign_two_clusterings_with_different_betas():
    state = MiniBatchCenters([torch.tensor([[0.0, 0.0], [10.0, 0.0]]),
                              torch.tensor([[0.0, 0.0], [0.0, 10.0], [0.0, -10.0]])],
                             spaces=[0, 1], initial_count=[1.0, 1.0])
    betas = torch.tensor([[1.0, 0.0],   # clustering 0 sees only x
                          [0.0, 1.0]])  # clustering 1 sees only y
    points = torch.tensor([[9.0, -9.0], [1.0, 9.0], [6.0, 1.0]])
    torch.testing.assert_close(state.assign(points, betas), torch.tensor([[1, 2], [0, 1], [1, 0]]))
    # padding of the smaller clustering is never chosen, and the distances are those of the chosen centres
    labels, dist = nearest_centers(points, state.centers, state.center_betas(betas), (state.grid_index, state.padding))
    torch.testing.assert_close(labels, torch.tensor([[1, 2], [0, 1], [1, 0]]))
    torch.testing.assert_close(dist, torch.tensor([[1.0, 1.0], [1.0, 1.0], [16.0, 1.0]]))
    torch.testing.assert_close(state.center_betas(betas), betas[[0, 0, 1, 1, 1]])


def test_assign_matches_brute_force_on_random_data():
    g = torch.Generator().manual_seed(1)
    c0, c1 = torch.randn(3, 4, generator=g), torch.randn(5, 4, generator=g)
    betas = torch.rand(2, 4, generator=g)
    points = torch.randn(40, 4, generator=g)
    state = MiniBatchCenters([c0, c1], spaces=[1, 0], initial_count=[1.0, 1.0])
    labels = state.assign(points, betas)
    ref0 = ((points[:, None] - c0[None]).square() * betas[1].square()).sum(2).argmin(1)
    ref1 = ((points[:, None] - c1[None]).square() * betas[0].square()).sum(2).argmin(1)
    torch.testing.assert_close(labels, torch.stack([ref0, ref1], 1))
    torch.testing.assert_close(state.assigned_centers(labels)[:, 0], c0[ref0])
    torch.testing.assert_close(state.assigned_centers(labels)[:, 1], c1[ref1])


# ------------------------------------------------------------------------------------------ lost centres (§2.8)

def test_only_full_batches_count_a_centre_as_lost():
    """An epoch's last, ragged batch (here 2 of a batch size of 4) says nothing about a centre's absence."""
    counted = MiniBatchCenters([torch.tensor([[0.0], [100.0]])], [0], [2.0], batch_size=4)
    every = MiniBatchCenters([torch.tensor([[0.0], [100.0]])], [0], [2.0])
    ragged, full = torch.tensor([[0.5], [-0.5]]), torch.tensor([[0.5], [-0.5], [1.0], [-1.0]])
    for state in (counted, every):
        state.update(ragged, torch.zeros(2, 1, dtype=torch.long))
    torch.testing.assert_close(counted.lost_counter, torch.tensor([0, 0]))
    torch.testing.assert_close(every.lost_counter, torch.tensor([0, 1]))
    counted.update(full, torch.zeros(4, 1, dtype=torch.long))
    torch.testing.assert_close(counted.lost_counter, torch.tensor([0, 1]))
    assert MiniBatchCenters.for_batches([torch.zeros(2, 1)], [0], 4).batch_size == 4
    with pytest.raises(ValueError, match="batch_size"):
        MiniBatchCenters([torch.zeros(2, 1)], [0], [1.0], batch_size=0)


@pytest.mark.parametrize("iteration, threshold", [(0, 1), (1, 1), (3, 1), (4, 2), (8, 2), (9, 3), (15, 3), (16, 4),
                                                  (100, 10)])
def test_lost_centers_threshold(iteration, threshold):
    state = MiniBatchCenters([torch.zeros(3, 2), torch.zeros(2, 2)], spaces=[0, 1], initial_count=[1.0, 1.0])
    # centres 0, 1 of clustering 0 sit just at / above the threshold; centre 1 of clustering 1 likewise
    state.lost_counter = torch.tensor([threshold, threshold + 1, 0, threshold, threshold + 5])
    assert state.lost_centers(iteration) == [(0, 1), (1, 1)]


def test_lost_centers_follow_updates():
    state = MiniBatchCenters([torch.tensor([[0.0], [100.0]])], [0], [1.0])
    for _ in range(2):
        state.update(torch.tensor([[0.5], [-0.5]]), torch.zeros(2, 1, dtype=torch.long))
    # centre 1 lost two batches: 2 > max(1, isqrt(3)) = 1, but not > isqrt(4) = 2
    assert state.lost_centers(3) == [(0, 1)]
    assert state.lost_centers(4) == []


def test_reinitialize_without_lloyd_steps_places_the_farthest_member_of_the_worst_cluster():
    """l = 0: the lost centre lands exactly on a sampled point (§2.8's farthest member), nothing else moves."""
    points, _, _ = _two_blobs()
    state = MiniBatchCenters([torch.tensor([[0.0, 0.0], [100.0, 100.0]])], spaces=[0], initial_count=[1.0],
                             lloyd_steps=0)
    state.reinitialize(0, 1, points, torch.ones(1, 2))
    new = state.centers_of(0)
    torch.testing.assert_close(new[0], torch.tensor([0.0, 0.0]))
    expected = farthest_point_of_worst_cluster(points, torch.tensor([[0.0, 0.0], [100.0, 100.0]]), torch.ones(2))
    torch.testing.assert_close(new[1], expected)
    assert bool((points == new[1]).all(1).any())


def test_negative_lloyd_steps_are_rejected():
    with pytest.raises(ValueError, match="lloyd_steps"):
        MiniBatchCenters([torch.zeros(2, 2)], spaces=[0], initial_count=[1.0], lloyd_steps=-1)


def test_reinitialize_moves_lost_center_into_the_data():
    points, left_mean, right_mean = _two_blobs()
    other = torch.tensor([[-1.0, 0.0], [1.0, 0.0]])
    state = MiniBatchCenters([other, torch.tensor([[0.0, 0.0], [100.0, 100.0]])], spaces=[0, 0],
                             initial_count=[1.0, 1.0])
    state.lost_counter = torch.tensor([3, 4, 2, 7])
    betas = torch.ones(1, 2)
    assert state.lost_centers(1) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    state.reinitialize(1, 1, points, betas)
    new = state.centers_of(1)
    # the lost centre (and its partner, by the Lloyd steps) now sit on the two blob means
    order = new[:, 0].argsort()
    torch.testing.assert_close(new[order], torch.stack([left_mean, right_mean]), atol=1e-5, rtol=0)
    # only the re-initialised centre's counter is reset; the other clustering is untouched
    torch.testing.assert_close(state.lost_counter, torch.tensor([3, 4, 2, 0]))
    torch.testing.assert_close(state.centers_of(0), other)


def test_farthest_point_of_worst_cluster_hand_computed():
    points = torch.tensor([[0.0], [1.0], [3.0], [10.0], [11.0]])
    centers = torch.tensor([[1.0], [10.5]])
    # cluster 0: distances 1, 0, 4 -> loss 5 (worst); cluster 1: 0.25 + 0.25; farthest of cluster 0 is 3
    torch.testing.assert_close(farthest_point_of_worst_cluster(points, centers, torch.ones(1)), torch.tensor([3.0]))


# ------------------------------------------------------------------------------------------ Lloyd

def test_lloyd_converges_on_two_blobs():
    points, left_mean, right_mean = _two_blobs(seed=3)
    start = torch.tensor([[-0.5, 3.0], [0.5, -3.0]])
    centers = lloyd(points, start, torch.ones(2), n_steps=10)
    torch.testing.assert_close(centers, torch.stack([left_mean, right_mean]), atol=1e-5, rtol=0)
    # a fixed point: more steps change nothing
    torch.testing.assert_close(lloyd(points, centers, torch.ones(2), n_steps=5), centers)


def test_lloyd_ending_at_its_fixed_point_gives_the_centres_of_every_step():
    generator = torch.Generator().manual_seed(5)
    points = torch.randn(600, 3, generator=generator) + 4.0 * torch.randint(0, 3, (600, 1), generator=generator)
    start, beta = points[:8].clone(), torch.tensor([1.0, 0.5, 0.2])
    reference = start
    for _ in range(60):  # every step, without the early end
        labels, _ = nearest_centers(points, reference, beta)
        sums, counts = cluster_sums(points, labels, 8)
        reference = torch.where(counts.unsqueeze(1) > 0, sums / counts.clamp_min(1.0).unsqueeze(1), reference)
    assert torch.equal(lloyd(points, start, beta, n_steps=60), reference)
    # and a budget that ends before the fixed point is respected
    assert not torch.equal(lloyd(points, start, beta, n_steps=1), reference)


def test_lloyd_respects_beta_and_keeps_empty_centers():
    points, left_mean, right_mean = _two_blobs(seed=4)
    start = torch.tensor([[-1.0, 0.0], [1.0, 0.0], [1000.0, 1000.0]])
    centers = lloyd(points, start, torch.ones(2), n_steps=10)
    torch.testing.assert_close(centers[2], torch.tensor([1000.0, 1000.0]))
    torch.testing.assert_close(centers[:2], torch.stack([left_mean, right_mean]), atol=1e-5, rtol=0)
    # with β = (0, 1) the blobs are invisible: the split is along y
    centers_y = lloyd(points, torch.tensor([[0.0, -1.0], [0.0, 1.0]]), torch.tensor([0.0, 1.0]), n_steps=10)
    below = points[:, 1] < (centers_y[0, 1] + centers_y[1, 1]) / 2
    torch.testing.assert_close(centers_y[0], points[below].mean(0), atol=1e-5, rtol=0)
    torch.testing.assert_close(centers_y[1], points[~below].mean(0), atol=1e-5, rtol=0)
    assert float(weighted_squared_distance(points, centers_y, torch.tensor([0.0, 1.0])).min(1).values.sum()) < \
        float(((points[:, 1] - points[:, 1].mean()) ** 2).sum())
