"""The initial phase's cost follows the work (issue 20): the plateau rule, the screening of the candidates and the
scoped thread count."""

import numpy as np
import pytest
import torch
from clustpy.deep import DCN
from sklearn.datasets import make_blobs

from clustpy_acedec import ACeDeC
from clustpy_acedec._training import Plateau


def test_plateau_needs_two_windows_and_compares_their_means():
    plateau = Plateau(tol=0.01, window=20)  # 10 iterations per epoch below: windows of 2 epochs
    falling = [10.0, 9.0, 8.0, 7.0]
    flat = [10.0, 9.0, 5.0, 5.05, 5.0, 4.99]
    assert not plateau.reached(falling[:3], 30)  # fewer than two windows
    assert not plateau.reached(falling, 40)  # 7.5 against 9.5: still falling
    assert plateau.reached(flat, 60)  # 4.995 against 5.025: less than 1 %
    assert not Plateau(tol=0.0, window=20).reached(flat, 60)  # 0 never stops
    # windows are counted in iterations: with 100 iterations per epoch one epoch is a window
    assert Plateau(tol=0.01, window=20).reached([10.0, 5.0, 5.0], 300)


@pytest.fixture(scope="module")
def blobs():
    X, _ = make_blobs(1500, n_features=8, centers=4, random_state=0)
    return X.astype(np.float32)


def _fit(X, **params):
    base = DCN(n_clusters=4, pretrain_epochs=2, clustering_epochs=1, batch_size=64, embedding_size=4, device="cpu")
    return ACeDeC(base=base, random_state=0, **dict(dict(init_rounds=2, init_iterations=3000), **params)).fit(X)


def test_the_initial_phase_stops_on_its_plateau_and_init_tol_0_runs_every_iteration(blobs):
    budget_epochs = -(-3000 // -(-1500 // 64))
    early = _fit(blobs, init_tol=0.05, init_screen_iterations=0)
    records = early.history_["initial"]
    assert all(r.stopped_on_plateau for r in records)
    assert all(len(r.epoch_losses) < budget_epochs for r in records)
    full = _fit(blobs, init_tol=0.0, init_screen_iterations=0)
    assert [len(r.epoch_losses) for r in full.history_["initial"]] == [budget_epochs] * 2
    assert not any(r.stopped_on_plateau for r in full.history_["initial"])


def test_screening_completes_the_phase_for_the_best_third_of_the_candidates_and_keeps_the_best_of_those(blobs):
    epoch = -(-1500 // 64)
    screen_epochs, budget_epochs = -(-100 // epoch), -(-600 // epoch)
    model = _fit(blobs, init_rounds=6, init_iterations=600, init_tol=0.0, init_screen_iterations=100)
    records = model.history_["initial"]
    screening = [r.screening_loss for r in records]
    survivors = sorted(np.argsort(screening)[:2])  # a third of six
    assert [len(r.epoch_losses) for r in records] == [budget_epochs if i in survivors else screen_epochs
                                                     for i in range(6)]
    for i, record in enumerate(records):
        assert record.iterations == len(record.epoch_losses) * epoch
        if i not in survivors:  # scored once, at the screening
            assert record.candidate_loss == record.screening_loss and not record.kept
    kept = [i for i, r in enumerate(records) if r.kept]
    assert len(kept) == 1 and kept[0] == min(survivors, key=lambda i: records[i].candidate_loss)
    assert all(records[i].candidate_loss < records[i].screening_loss for i in survivors)  # trained on


def test_without_screening_every_candidate_runs_the_whole_phase(blobs):
    budget_epochs = -(-300 // -(-1500 // 64))
    for params in (dict(init_screen_iterations=0), dict(init_screen_iterations=300)):  # 0, or the whole budget
        model = ACeDeC(base=DCN(n_clusters=4, pretrain_epochs=2, clustering_epochs=0, batch_size=64,
                                embedding_size=4, device="cpu"), random_state=0, init_rounds=3, init_iterations=300,
                       init_tol=0.0, **params).fit(blobs)
        records = model.history_["initial"]
        assert [len(r.epoch_losses) for r in records] == [budget_epochs] * 3
        assert all(r.screening_loss is None for r in records)
        best = min(range(3), key=lambda i: records[i].candidate_loss)
        assert [r.kept for r in records] == [i == best for i in range(3)]


def test_the_users_thread_count_holds_after_a_fit(blobs):
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        _fit(blobs)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_fits_in_parallel_threads_are_the_sequential_fits_and_give_the_thread_count_back(blobs):
    # torch's generators and thread count are the process's: fits in Python threads (joblib's threading
    # backend) must neither draw from each other's seeds nor leave one's single-threaded setting behind
    from concurrent.futures import ThreadPoolExecutor
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        small = blobs[:300]

        def fit(seed: int) -> tuple:
            labels = ACeDeC(base=DCN(n_clusters=4, pretrain_epochs=1, clustering_epochs=1, batch_size=64,
                                     embedding_size=4, device="cpu", random_state=seed),
                            init_rounds=1, init_iterations=100).fit(small).labels_
            return labels, torch.get_num_threads()  # as this thread sees it, right after its fit

        sequential = [fit(seed)[0] for seed in (0, 1)]
        with ThreadPoolExecutor(max_workers=2) as pool:
            threaded, threads_after = zip(*pool.map(fit, [0, 1, 0, 1]))
        assert torch.get_num_threads() == 2 and set(threads_after) == {2}
    finally:
        torch.set_num_threads(before)
    for labels, expected in zip(threaded, sequential * 2):
        np.testing.assert_array_equal(labels, expected)
