"""The initial phase's cost follows the work (issue 20): the plateau rule, the screening of the candidates and the
scoped thread count."""

import numpy as np
import pytest
import torch
from clustpy.deep import DCN
from sklearn.datasets import make_blobs

from clustpy.deep.neural_networks import FeedforwardAutoencoder

from clustpy_acedec import ACeDeC
from clustpy_acedec._centers import MiniBatchCenters
from clustpy_acedec._initialization import random_orthogonal, split_beta_logits
from clustpy_acedec._model import SubspaceClusteringModel
from clustpy_acedec._objectives import HardCentroidObjective, SharedMeanObjective
from clustpy_acedec._subspace import SubspaceLayer
from clustpy_acedec._training import Phase, Plateau, train_subspace_model
from clustpy_acedec.losses import POINTS


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
        if i not in survivors:  # scored once, at the screening: β at its optimum beats the actual, unsettled β
            assert record.screening_loss < record.candidate_loss and not record.kept
    kept = [i for i, r in enumerate(records) if r.kept]
    assert len(kept) == 1 and kept[0] == min(survivors, key=lambda i: records[i].candidate_loss)


@pytest.mark.parametrize("shared_first", [False, True])  # the label columns follow the objectives, not the spaces
def test_the_profiled_loss_is_the_loss_at_the_optimal_beta_of_every_dimension(shared_first):
    # four blobs far apart on every axis: the assignments do not depend on β, so setting β_cs = c / (a + c) per
    # rotated dimension (a: squared distance to the point's blob centre, c: to the data mean) reaches the minimum
    X, y = make_blobs(800, n_features=4, centers=4, cluster_std=0.5, center_box=(-20, 20), random_state=1)
    embedded = torch.as_tensor(X, dtype=torch.float32)
    labels = torch.as_tensor(y)
    centers = torch.stack([embedded[labels == k].mean(0) for k in range(4)])
    V = random_orthogonal(4, torch.Generator().manual_seed(0))
    rotated = embedded @ V
    layer = SubspaceLayer(V, torch.zeros(4), parametrization="sigmoid")
    objectives = [HardCentroidObjective(MiniBatchCenters.for_batches([centers @ V], [0], 64)),
                  SharedMeanObjective(embedded.mean(0), space=1)]
    model = SubspaceClusteringModel(FeedforwardAutoencoder([4, 4]), layer, objectives[::-1] if shared_first
                                    else objectives, POINTS)
    column = 1 if shared_first else 0
    assert torch.equal(model.predict_embedded(embedded)[:, column], labels)
    a = (rotated - (centers @ V)[labels]).square().mean(0)
    c = (rotated - rotated.mean(0)).square().mean(0)
    profiled = model.profiled_loss(embedded)
    assert profiled < model.embedded_loss(embedded)  # β = 0.5 everywhere is not the optimum
    with torch.no_grad():
        layer.beta_logits.copy_(torch.logit(c / (a + c)))
    assert torch.equal(model.predict_embedded(embedded)[:, column], labels)
    assert model.profiled_loss(embedded) == pytest.approx(profiled, rel=1e-6)  # it does not depend on β
    assert model.embedded_loss(embedded) == pytest.approx(profiled, rel=1e-4)
    assert profiled == pytest.approx(float((a * c / (a + c)).sum()), rel=1e-4)  # V is orthogonal: L_orth ~ 0


def _initial_run(embedded, epochs_per_call, tol):
    """The initial phase of one fixed model, in one call per entry of ``epochs_per_call``, each continuing the
    record of the one before."""
    generator = torch.Generator().manual_seed(0)
    d = embedded.shape[1]
    layer = SubspaceLayer(random_orthogonal(d, generator), split_beta_logits(d, generator), parametrization="sigmoid")
    # 12 centres for 4 blobs, drawn around the origin: many lose their points, so §2.8 re-initialises some
    centers = MiniBatchCenters.for_batches([torch.randn(12, d, generator=generator)], [0], batch_size=64)
    model = SubspaceClusteringModel(FeedforwardAutoencoder([d, d]), layer,
                                    [HardCentroidObjective(centers), SharedMeanObjective(embedded.mean(0))], POINTS)
    optimizer = torch.optim.Adam([layer.V, layer.beta_logits], lr=1e-2)
    record = None
    for epochs in epochs_per_call:
        record = train_subspace_model(model, Phase.INITIAL, embedded, epochs, 64, optimizer, generator,
                                      embedded=embedded, plateau=Plateau(tol), record=record)
    return model, record


def test_continuing_an_initial_phase_is_training_on_in_one_run(blobs):
    # what the screening relies on: the survivors' iteration count (§2.8's threshold), loss history (the plateau
    # rule), optimiser state and centres carry on across the screening
    embedded = torch.as_tensor(blobs[:, :4])
    whole_model, whole = _initial_run(embedded, [30], tol=0.0)
    parts_model, parts = _initial_run(embedded, [7, 23], tol=0.0)
    assert parts.iterations == whole.iterations == 30 * 24 and parts.epoch_losses == whole.epoch_losses
    assert parts.reinitialized_centers == whole.reinitialized_centers > 0
    assert torch.equal(parts_model.layer.V, whole_model.layer.V)
    assert torch.equal(parts_model.cluster_centers()[0], whole_model.cluster_centers()[0])
    # the plateau rule reads the losses of both calls: it stops the continued run where it stops the whole one
    _, stopped = _initial_run(embedded, [400], tol=0.01)
    assert stopped.stopped_on_plateau and 7 < len(stopped.epoch_losses) < 400
    _, stopped_parts = _initial_run(embedded, [7, 393], tol=0.01)
    assert stopped_parts.epoch_losses == stopped.epoch_losses and stopped_parts.stopped_on_plateau


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


def test_a_screening_that_keeps_the_whole_phases_candidate_gives_the_whole_phases_fit(blobs):
    # each candidate draws from its own generator and the clustering phase from one the initial phase leaves
    # alone: screening out the others changes neither how the kept candidate trains nor what follows it
    def fit(screen: int) -> ACeDeC:
        return ACeDeC(base=DCN(n_clusters=4, pretrain_epochs=2, clustering_epochs=2, batch_size=64,
                               embedding_size=4, device="cpu"), random_state=0, init_rounds=3, init_iterations=300,
                      init_tol=0.0, init_screen_iterations=screen).fit(blobs)

    screened, whole = fit(48), fit(0)
    kept = [[r.kept for r in model.history_["initial"]] for model in (screened, whole)]
    assert kept[0] == kept[1]  # the profiled screening keeps the candidate the whole phase keeps
    assert [r.iterations for r in screened.history_["initial"]].count(48) == 2  # two were screened out
    best = kept[0].index(True)
    assert screened.history_["initial"][best].epoch_losses == whole.history_["initial"][best].epoch_losses
    assert screened.history_["clustering"].epoch_losses == whole.history_["clustering"].epoch_losses
    np.testing.assert_array_equal(screened.V_, whole.V_)
    np.testing.assert_array_equal(screened.labels_, whole.labels_)


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
