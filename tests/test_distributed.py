"""
Distributed fits (issue 18): processes started by the test on 127.0.0.1 with a free port, gloo backend, CPU.

Every scenario runs in fresh processes (``spawn``), one per rank; each rank writes what it fitted to a file that
the test compares with the other ranks and with the one-process fit of the whole data set.
"""

import contextlib
import datetime
import io
import json
import multiprocessing
import os
import socket
import time

import numpy as np
import torch
from clustpy.deep import DCN, DEC, IDEC
from clustpy.deep.neural_networks import FeedforwardAutoencoder
from sklearn.datasets import make_blobs

from clustpy_acedec import ACeDeC, ENRC
from clustpy_acedec.distributed import gather_labels, is_main_process, single_process

TIMEOUT_S = 30  # the process group's timeout: a rank waiting for a dead one fails after at most this long
SPLIT = 300  # rank 0 holds samples 0..299, rank 1 the rest


# ----------------------------------------------------------------------------------------------- data and models
def blobs(n_samples=400):
    X, y = make_blobs(n_samples=n_samples, centers=4, n_features=8, cluster_std=1.0, random_state=3)
    return X.astype(np.float32), y


def non_redundant(n_samples=360):
    """Two independent labelings: 3 blobs in dims 0-1, 3 in dims 2-3, plus 2 noise dims."""
    rng = np.random.RandomState(0)
    a, b = np.arange(n_samples) % 3, (np.arange(n_samples) // 3) % 3
    centers = 6.0 * np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    X = np.hstack([centers[a] + 0.5 * rng.standard_normal((n_samples, 2)),
                   centers[b] + 0.5 * rng.standard_normal((n_samples, 2)),
                   rng.standard_normal((n_samples, 2))])
    return X.astype(np.float32), np.column_stack([a, b])


def schedule(n_features=8, embedding_size=4, **params):
    network = (FeedforwardAutoencoder, {"layers": [n_features, 64, 32, embedding_size]})
    return dict(dict(batch_size=64, pretrain_epochs=3, clustering_epochs=3, embedding_size=embedding_size,
                     neural_network=network, random_state=1), **params)


def estimators() -> dict:
    """The fits of the equivalence test: name -> (estimator, data)."""
    return {
        "ACeDeC(DCN)": (ACeDeC(base=DCN(n_clusters=4, **schedule()), init_iterations=100, init_rounds=2), blobs()),
        # screened: the candidate that goes on after the screening is chosen on every rank alike
        "ACeDeC(DEC)": (ACeDeC(base=DEC(n_clusters=4, **schedule()), init_iterations=100, init_rounds=2,
                               init_screen_iterations=30), blobs()),
        # the paper's configuration: Eq. 4's cluster sizes are reduced over the ranks; the default init="best"
        # starts from Nr-Kmeans, whose eigenvectors turn the rounding of the gathered embedding into another basis
        # of the same subspaces (the same labels, another V)
        "ENRC([3, 3])": (ENRC(n_clusters=[3, 3], device="cpu", init="random", loss_normalization="cluster_size",
                              init_iterations=100, init_rounds=2, **schedule(n_features=6, embedding_size=6)),
                         non_redundant()),
    }


def fitted_state(model) -> dict:
    """What every rank must hold bitwise equal, and the one-process fit within float32 tolerance."""
    centers = model.cluster_centers_ if isinstance(model, ENRC) else [model.cluster_centers_]
    return {"labels": np.asarray(model.labels_), "V": model.V_, "betas": model.betas_,
            "centers": np.concatenate([np.asarray(c) for c in centers]),
            "network": torch.cat([p.detach().reshape(-1) for p in model.model_.parameters()]).numpy()}


class DyingAutoencoder(FeedforwardAutoencoder):
    """An autoencoder whose process exits in the middle of the fit on the rank named by DYING_RANK."""

    calls = 0

    def encode(self, x):
        DyingAutoencoder.calls += 1
        if DyingAutoencoder.calls == 40 and os.environ.get("DYING_RANK") == os.environ.get("RANK"):
            os._exit(3)
        return super().encode(x)


class OutOfMemoryOnRank1Autoencoder(FeedforwardAutoencoder):
    """An autoencoder that cannot be built on rank 1, as when its device has no room left: a RuntimeError."""

    def __init__(self, *args, **kwargs):
        if os.environ.get("RANK") == "1":
            raise torch.OutOfMemoryError("no room for the network on this rank's device")
        super().__init__(*args, **kwargs)


# ----------------------------------------------------------------------------------------------- scenarios
def scenario_equivalence(rank: int) -> dict:
    out = {}
    for name, (estimator, (X, _)) in estimators().items():
        shard = X[:SPLIT] if rank == 0 else X[SPLIT:]
        model = estimator.fit(shard)
        out.update({f"{name}/{key}": value for key, value in fitted_state(model).items()})
        out[f"{name}/gathered"] = gather_labels(model.labels_)
    return out


def per_sample_noise(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A user's augmentation written for the batches of one process: torch.stack fails on an empty one."""
    return torch.stack([xi + 0.01 * torch.randn(xi.shape, generator=generator, dtype=xi.dtype) for xi in x])


def scenario_uneven(rank: int) -> dict:
    # 1,000 and 5 samples: in most global batches of 64 rank 1 has no sample at all
    X, _ = blobs(1005)
    shard = X[:1000] if rank == 0 else X[1000:]
    model = ACeDeC(base=DCN(n_clusters=4, **schedule()), init_iterations=100, init_rounds=2).fit(shard)
    # augmentation draws per sample of a rank's part of a batch, which is often empty here
    augmented = ACeDeC(base=DCN(n_clusters=4, augmentation_invariance=True, **schedule(clustering_epochs=2)),
                       init_iterations=20, init_rounds=1, image_shape=(2, 4)).fit(shard)
    own = ACeDeC(base=DCN(n_clusters=4, augmentation_invariance=True, **schedule(pretrain_epochs=1, clustering_epochs=1)),
                 init_iterations=20, init_rounds=1, augmentation=per_sample_noise).fit(shard)
    return {**fitted_state(model), **{f"aug/{k}": v for k, v in fitted_state(augmented).items()},
            **{f"own/{k}": v for k, v in fitted_state(own).items()}}


def scenario_variants(rank: int) -> dict:
    """Stacked denoising pretraining, a streamed data set and bfloat16, for IDEC; compiled steps for ENRC."""
    X, _ = blobs()
    shard = X[:SPLIT] if rank == 0 else X[SPLIT:]
    idec = ACeDeC(base=IDEC(n_clusters=4, **schedule()), init_iterations=50, init_rounds=1,
                  pretraining="stacked_denoising", data_placement="host", precision="bfloat16").fit(shard)
    enrc = ENRC(n_clusters=[4, 1], device="cpu", init_iterations=20, init_rounds=1, compile_step=True,
                **schedule(pretrain_epochs=1, clustering_epochs=1)).fit(shard)
    # an embedding above the gathering limit: each rank contributes a seeded sample in proportion to its shard
    from clustpy_acedec._distributed import Shard, current_collective, gathered_embedding
    local = torch.arange(len(shard) * 2, dtype=torch.float32).reshape(-1, 2) + (0 if rank == 0 else 10_000)
    sample = gathered_embedding(local, Shard.of(current_collective(), len(local)), seed=5, limit_bytes=100 * 8)
    return {**{f"idec/{k}": v for k, v in fitted_state(idec).items()},
            **{f"enrc/{k}": v for k, v in fitted_state(enrc).items()}, "sample": sample.numpy()}


def scenario_quiet(rank: int, directory: str) -> dict:
    X, _ = blobs()
    printed = io.StringIO()
    with contextlib.redirect_stderr(printed), contextlib.redirect_stdout(printed):
        # an ignored base weight: a UserWarning, which only rank 0 may print
        model = ACeDeC(base=DCN(n_clusters=4, clustering_loss_weight=0.5, **schedule()), init_iterations=50,
                       init_rounds=1, verbose=True)
        model.fit(X[:SPLIT] if rank == 0 else X[SPLIT:])
        model.save(os.path.join(directory, f"model-of-rank-{rank}.pt"))
    # save is collective: once it returns on any rank the file is there, and rank 0's failure is every rank's
    model.save(os.path.join(directory, "model.pt"))
    loaded = ACeDeC.load(os.path.join(directory, "model.pt"), device="cpu")
    try:
        model.save(os.path.join(directory, "no-such-folder", "model.pt"))
        save_error = "none"
    except Exception as error:
        save_error = f"{type(error).__name__}: {error}"
    alone = None
    if rank == 0:  # a fit of this rank alone, e.g. an evaluation, while rank 1 does something else
        with single_process():
            alone = ACeDeC(base=DCN(n_clusters=4, **schedule()), init_iterations=20, init_rounds=1).fit(X[:50])
        alone.save(os.path.join(directory, "alone.pt"))  # a model of this rank alone: saved without the others
    return {"alone": np.array(alone is not None and alone.labels_.shape == (50,)),"printed": np.array(len(printed.getvalue())), "text": np.array(printed.getvalue()),
            "main": np.array(is_main_process()), "loaded": np.array(np.array_equal(loaded.V_, model.V_)),
            "save_error": np.array(save_error)}


def _bad_input(rank: int, problem: str) -> np.ndarray:
    X, _ = blobs()
    shard = X[:SPLIT].copy() if rank == 0 else X[SPLIT:].copy()
    if rank == 1 and problem == "nan":
        shard[3, 2] = np.nan
    if rank == 1 and problem == "features":
        shard = shard[:, :7]
    if problem == "too few":
        shard = shard[:2] if rank == 0 else shard[:1]
    if problem == "columns":  # the same features, the frames' columns in another order on rank 1
        import pandas as pd
        names = [f"f{i}" for i in range(shard.shape[1])]
        shard = pd.DataFrame(shard, columns=names[::-1] if rank == 1 else names)
    return shard


#: problem -> a word its error names
PROBLEMS = {"nan": "NaN", "features": "shape", "too few": "n_clusters", "settings": "batch_size", "base": "base",
            "enrc setting": "loss_normalization", "network": "same network", "batch norm": "batch normalisation",
            "embedding": "embedding has 1 dimension", "out of memory": "no room",
            "columns": "different column names", "estimator": "different estimators"}


def _bad_model(rank: int, problem: str):
    """The estimator of a rank for a problem: on rank 1 with another setting, base or network, where it asks."""
    other = rank == 1
    if problem == "estimator" and other:  # ENRC on rank 1, ACeDeC on rank 0: their steps differ from the start
        return ENRC(n_clusters=[4, 1], device="cpu", init_iterations=20, init_rounds=1, **schedule())
    if problem == "enrc setting":
        return ENRC(n_clusters=[4, 1], device="cpu", init_iterations=20, init_rounds=1,
                    loss_normalization="points" if other else "cluster_size", **schedule())
    base_class = DEC if problem == "base" and other else DCN
    params = schedule(batch_size=32 if problem == "settings" and other else 64)
    if problem == "network" and other:
        params["neural_network"] = (FeedforwardAutoencoder, {"layers": [8, 32, 4]})
    if problem == "batch norm":
        params["neural_network"] = (FeedforwardAutoencoder, {"layers": [8, 32, 4], "batch_norm": True})
    if problem == "embedding":  # too narrow for ACe/DeC's two spaces, on every rank alike
        params["neural_network"] = (FeedforwardAutoencoder, {"layers": [8, 32, 1]})
    if problem == "out of memory":  # not a bad input: a failure of one rank's device
        params["neural_network"] = (OutOfMemoryOnRank1Autoencoder, {"layers": [8, 32, 4]})
    return ACeDeC(base=base_class(n_clusters=4, **params), init_iterations=20, init_rounds=1)


def scenario_bad_input(rank: int) -> dict:
    """One fit per problem in the same process group: a failed fit leaves the group usable for the next."""
    out = {}
    for problem in PROBLEMS:
        model = _bad_model(rank, problem)
        started = time.perf_counter()
        try:
            model.fit(_bad_input(rank, problem))
            out[problem] = np.array("no error")
        except (ValueError, TypeError, RuntimeError) as error:
            out[problem] = np.array(f"{type(error).__name__}: {error}")
        out[f"{problem}/seconds"] = np.array(time.perf_counter() - started)
        out[f"{problem}/fitted"] = np.array(hasattr(model, "labels_"))
    return out


def scenario_dies(rank: int) -> dict:
    X, _ = blobs()
    network = DyingAutoencoder(layers=[8, 16, 4])
    model = ACeDeC(base=DCN(n_clusters=4, **schedule(pretrain_epochs=10, neural_network=network)),
                   init_iterations=20, init_rounds=1)
    model.fit(X[:SPLIT] if rank == 0 else X[SPLIT:])
    return {}


SCENARIOS = {"equivalence": scenario_equivalence, "uneven": scenario_uneven, "variants": scenario_variants,
             "quiet": scenario_quiet, "bad_input": scenario_bad_input, "dies": scenario_dies}


# ----------------------------------------------------------------------------------------------- launcher
def _rank_main(rank: int, world_size: int, port: int, scenario: str, directory: str, args: tuple, env: dict) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world_size),
                      **env)
    torch.set_num_threads(1)
    import torch.distributed as dist
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=TIMEOUT_S))
    started = time.perf_counter()
    report = {"error": None}
    try:
        arrays = SCENARIOS[scenario](rank, *args)
        np.savez(os.path.join(directory, f"rank{rank}.npz"), **arrays)
    except Exception as error:
        report["error"] = f"{type(error).__name__}: {error}"
    report["seconds"] = time.perf_counter() - started
    with open(os.path.join(directory, f"rank{rank}.json"), "w") as file:
        json.dump(report, file)
    with contextlib.suppress(Exception):
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_ranks(scenario: str, directory, *args, world_size: int = 2, limit_s: float = 300, env=None) -> list:
    """Run a scenario on ``world_size`` fresh processes; per rank (exit code, report, arrays or None)."""
    context = multiprocessing.get_context("spawn")
    port = _free_port()
    processes = [context.Process(target=_rank_main, args=(rank, world_size, port, scenario, str(directory), args,
                                                          env or {}))
                 for rank in range(world_size)]
    for process in processes:
        process.start()
    deadline = time.monotonic() + limit_s
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    hung = [rank for rank, process in enumerate(processes) if process.is_alive()]
    for process in processes:
        if process.is_alive():
            process.kill()
    assert not hung, f"ranks {hung} still running after {limit_s} s: a distributed fit hung"
    results = []
    for rank, process in enumerate(processes):
        report_path, arrays_path = directory / f"rank{rank}.json", directory / f"rank{rank}.npz"
        report = json.loads(report_path.read_text()) if report_path.exists() else None
        arrays = dict(np.load(arrays_path, allow_pickle=False)) if arrays_path.exists() else None
        results.append((process.exitcode, report, arrays))
    return results


def _ok(results: list) -> list:
    for rank, (code, report, _) in enumerate(results):
        assert code == 0 and report["error"] is None, f"rank {rank}: exit code {code}, {report}"
    return [arrays for _, _, arrays in results]


# ----------------------------------------------------------------------------------------------- tests
def test_two_ranks_fit_what_one_process_fits_on_the_whole_data(tmp_path):
    rank0, rank1 = _ok(run_ranks("equivalence", tmp_path))
    for name, (estimator, (X, _)) in estimators().items():
        single = fitted_state(estimator.fit(X))
        for key in ("V", "betas", "centers", "network"):  # every rank holds the same model, bit for bit
            assert np.array_equal(rank0[f"{name}/{key}"], rank1[f"{name}/{key}"]), (name, key)
        labels = np.concatenate([rank0[f"{name}/labels"], rank1[f"{name}/labels"]])
        assert np.array_equal(labels, single["labels"]), name
        assert np.array_equal(rank0[f"{name}/gathered"], single["labels"]), name
        assert np.array_equal(rank1[f"{name}/gathered"], single["labels"]), name
        for key in ("V", "betas", "centers"):
            np.testing.assert_allclose(rank0[f"{name}/{key}"], single[key], atol=1e-4, rtol=1e-4,
                                       err_msg=f"{name} {key}")
        # Adam turns rounding in the sums of tiny gradients into visible steps of a few weights
        np.testing.assert_allclose(rank0[f"{name}/network"], single["network"], atol=2e-3, err_msg=name)


def test_a_rank_with_a_tiny_shard_and_empty_batches_fits_what_one_process_fits(tmp_path):
    rank0, rank1 = _ok(run_ranks("uneven", tmp_path))
    X, _ = blobs(1005)
    single = fitted_state(ACeDeC(base=DCN(n_clusters=4, **schedule()), init_iterations=100, init_rounds=2).fit(X))
    assert rank0["labels"].shape == (1000,) and rank1["labels"].shape == (5,)
    assert np.array_equal(np.concatenate([rank0["labels"], rank1["labels"]]), single["labels"])
    for key in ("V", "betas", "centers", "network"):
        assert np.array_equal(rank0[key], rank1[key]), key
        assert np.array_equal(rank0[f"aug/{key}"], rank1[f"aug/{key}"]), key
        assert np.array_equal(rank0[f"own/{key}"], rank1[f"own/{key}"]), key  # never called on an empty batch
    np.testing.assert_allclose(rank0["V"], single["V"], atol=1e-4)


def test_stacked_denoising_streamed_bfloat16_and_compiled_fits_end_identical_on_every_rank(tmp_path):
    rank0, rank1 = _ok(run_ranks("variants", tmp_path))
    for key in rank0:
        if not key.endswith("labels"):
            assert np.array_equal(rank0[key], rank1[key]), key
    assert rank0["idec/labels"].shape == (SPLIT,) and rank1["enrc/labels"].shape == (400 - SPLIT, 2)
    # the gathered sample: 100 rows, 75 of rank 0's 300 and 25 of rank 1's 100, distinct, the same on both ranks
    sample = rank0["sample"]
    assert sample.shape == (100, 2) and len(np.unique(sample[:, 0])) == 100
    assert (sample[:, 0] < 10_000).sum() == 75


def test_only_rank_0_prints_and_writes(tmp_path):
    rank0, rank1 = _ok(run_ranks("quiet", tmp_path, str(tmp_path)))
    assert int(rank0["printed"]) > 0 and int(rank1["printed"]) == 0  # progress bars and warnings of rank 0 only
    assert "clustering_loss_weight" in str(rank0["text"])
    assert bool(rank0["main"]) and not bool(rank1["main"])
    assert (tmp_path / "model-of-rank-0.pt").exists() and not (tmp_path / "model-of-rank-1.pt").exists()
    assert bool(rank0["loaded"]) and bool(rank1["loaded"])
    assert (tmp_path / "alone.pt").exists()
    assert str(rank0["save_error"]).startswith(("FileNotFoundError", "OSError"))
    assert str(rank1["save_error"]).startswith("RuntimeError: rank 0 of the distributed fit")
    assert bool(rank0["alone"])


def test_bad_input_on_one_rank_fails_every_rank_with_a_clear_error(tmp_path):
    ranks = _ok(run_ranks("bad_input", tmp_path, limit_s=180))
    for rank, arrays in enumerate(ranks):
        for problem, word in PROBLEMS.items():
            error = str(arrays[problem])
            kinds = ("RuntimeError", "OutOfMemoryError") if problem == "out of memory" else ("ValueError", "TypeError")
            assert error.startswith(kinds[rank] if problem == "out of memory" else kinds), (rank, problem, error)
            assert word in error, (rank, problem, error)
            assert float(arrays[f"{problem}/seconds"]) < TIMEOUT_S  # told at once, not after a timeout
            assert not bool(arrays[f"{problem}/fitted"])
    for problem in ("nan", "features", "settings", "base", "enrc setting", "out of memory", "columns", "estimator"):
        assert "rank 1" in str(ranks[0][problem])  # names the rank with the bad shard or settings
    assert "ranks [1]" in str(ranks[0]["network"])


def test_a_rank_that_dies_makes_the_others_fail_within_the_timeout(tmp_path):
    (code0, report0, _), (code1, _, _) = run_ranks("dies", tmp_path, env={"DYING_RANK": "1"},
                                                   limit_s=TIMEOUT_S + 120)
    assert code1 == 3  # the dying rank
    assert code0 == 0 and report0["error"] is not None  # the survivor raised instead of waiting forever
    assert report0["seconds"] < TIMEOUT_S + 60
