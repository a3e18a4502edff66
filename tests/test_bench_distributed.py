"""The distributed benchmark (``clustpy-acedec-bench --distributed``): the shards, the bytes counted from a fitted
model, and the command on a small real data set with one and two spawned gloo ranks. No timing is asserted here:
timings belong in the benchmark's report."""

import dataclasses
import json

import numpy as np
import pytest
import torch
from clustpy.deep import DCN, DEC
from clustpy.deep.neural_networks import FeedforwardAutoencoder
from sklearn.datasets import make_blobs

from clustpy_acedec import ACeDeC, ENRC
from clustpy_acedec_bench import names
from clustpy_acedec_bench.cli import main
from clustpy_acedec_bench.distributed import (DISTRIBUTED_METHODS, DistributedPlan, communication_per_step,
                                              default_world_sizes, ring_traffic, shard_bounds)

D = 4  # embedding size of the small fits


def _small_fit(estimator):
    X, _ = make_blobs(n_samples=120, centers=3, n_features=6, random_state=0)
    return estimator.fit(X.astype(np.float32))


def _schedule() -> dict:
    return dict(batch_size=32, pretrain_epochs=1, clustering_epochs=1, embedding_size=D, device="cpu",
                random_state=0, neural_network=(FeedforwardAutoencoder, {"layers": [6, 16, D]}))


def _n_parameters(model) -> int:
    return sum(p.numel() for p in model.model_.parameters())


def test_shards_are_consecutive_near_equal_parts():
    assert shard_bounds(10, 3) == [(0, 4), (4, 7), (7, 10)]  # as np.array_split cuts
    assert shard_bounds(9298, 2) == [(0, 4649), (4649, 9298)]
    assert shard_bounds(5, 1) == [(0, 5)]
    for n, g in ((7, 4), (1005, 2), (3, 3)):
        parts = np.array_split(np.arange(n), g)
        assert shard_bounds(n, g) == [(int(p[0]), int(p[-1]) + 1) for p in parts]


def test_ring_traffic_and_default_world_sizes():
    assert ring_traffic(1000, 1) == 0 and ring_traffic(1000, 2) == 1000 and ring_traffic(1000, 4) == 1500
    assert default_world_sizes("cpu") == (1, 2)


def test_the_light_names_agree_with_the_plan():
    plan = DistributedPlan()
    assert names.DISTRIBUTED_METHODS == DISTRIBUTED_METHODS
    assert names.DISTRIBUTED_DEFAULTS == {key: getattr(plan, key) for key in names.DISTRIBUTED_DEFAULTS}


def test_bytes_per_step_are_counted_from_the_fitted_model():
    k = 3
    dcn = communication_per_step(_small_fit(ACeDeC(base=DCN(n_clusters=k, **_schedule()), init_iterations=10,
                                                   init_rounds=1)))
    assert dcn["trained_parameters"] > 6 * 16 * 2  # autoencoder, V, β logits
    assert dcn["gradient_bytes"] == 4 * dcn["trained_parameters"]
    assert dcn["center_statistics_bytes"] == k * (D + 1) * 4  # sums and counts of the mini-batch centres
    assert dcn["frequencies_bytes"] == dcn["cluster_sizes_bytes"] == 0
    assert dcn["payload_bytes_per_step"] == dcn["gradient_bytes"] + k * (D + 1) * 4
    assert dcn["allreduces_per_step"] == 2
    assert dcn["payload_bytes_per_epoch"] == 4 + (D + 1) * 4  # the epoch loss; the shared mean's sum and count

    dec_model = _small_fit(ACeDeC(base=DEC(n_clusters=k, **_schedule()), init_iterations=10, init_rounds=1))
    dec = communication_per_step(dec_model)
    assert dec["trained_parameters"] == _n_parameters(dec_model)  # the learnable centres included
    assert dec["trained_parameters"] == dcn["trained_parameters"] + k * D
    assert dec["frequencies_bytes"] == k * 4 and dec["center_statistics_bytes"] == 0
    assert dec["allreduces_per_step"] == 2
    assert dec["payload_bytes_per_epoch"] == 4 + (D + 1) * 4 + k * 8  # + the DEC centres' epoch counts (int64)

    enrc = communication_per_step(_small_fit(ENRC(n_clusters=[3, 2], init_iterations=10, init_rounds=1,
                                                  loss_normalization="cluster_size", **_schedule())))
    assert enrc["center_statistics_bytes"] == (3 + 2) * (D + 1) * 4
    assert enrc["cluster_sizes_bytes"] == 2 * 3 * 4  # S x K_max floats of Eq. 4
    assert enrc["allreduces_per_step"] == 3 and enrc["payload_bytes_per_epoch"] == 4


def test_plan_check_refuses_what_cannot_run():
    with pytest.raises(ValueError, match="unknown distributed method"):
        DistributedPlan(methods=("DEC",)).check()
    with pytest.raises(ValueError, match="unknown data set"):
        DistributedPlan(datasets=("no-such-data",)).check()
    with pytest.raises(ValueError, match="positive"):
        DistributedPlan(world_sizes=(0, 2)).check()
    if torch.cuda.device_count() < 64:
        with pytest.raises(ValueError, match="CUDA devices"):
            dataclasses.replace(DistributedPlan(), device="cuda", world_sizes=(64,)).check()


def test_distributed_command_refuses_bad_arguments(tmp_path, capsys):
    assert main(["--distributed", "--methods", "DEC", "--output", str(tmp_path), "--quiet"]) == 2
    assert "unknown distributed method" in capsys.readouterr().err
    assert main(["--distributed", "--distributed-ranks", "0", "--output", str(tmp_path), "--quiet"]) == 2
    assert main(["--distributed", "--datasets", "nothing", "--output", str(tmp_path), "--quiet"]) == 2
    assert not (tmp_path / "distributed.json").exists()


def test_distributed_command_on_one_and_two_ranks(tmp_path):
    # scikit-learn's digits (bundled, real): 1 + 1 epochs on one process, then on two spawned gloo ranks
    argv = ["--distributed", "--device", "cpu", "--quiet", "--output", str(tmp_path), "--datasets", "digits",
            "--max-samples", "400", "--pretrain-epochs", "1", "--clustering-epochs", "1", "--distributed-ranks", "1",
            "2", "--distributed-batch-size", "128", "--distributed-init-iterations", "10"]
    assert main(argv) == 0
    result = json.loads((tmp_path / "distributed.json").read_text())
    assert "--distributed-ranks 1 2" in result["command"] and "CPU" in result["machine"]
    one, two = result["rows"]
    assert (one["world_size"], two["world_size"]) == (1, 2) and two["samples_per_rank"] == [200, 200]
    assert one["n_samples"] == two["n_samples"] == 400 and two["backend"] == "gloo"
    for row in (one, two):
        assert row["clustering_seconds_per_epoch"] > 0 and row["pretraining_seconds_per_epoch"] > 0
        assert row["clustering_steps"] == 4 and 0.0 <= row["nmi"][0] <= 1.0
        # the count from the model equals what torch.distributed.all_reduce was called with
        assert row["counted_clustering_allreduce_bytes"] == row["measured_clustering_allreduce_bytes"]
    assert one["payload_bytes_per_step"] == one["traffic_bytes_per_rank_per_step"] == 0  # one process: nothing
    assert one["measured_clustering_allreduce_bytes"] == 0
    payload = two["model_payload_bytes_per_step"]
    assert two["payload_bytes_per_step"] == payload == two["gradient_bytes"] + two["center_statistics_bytes"]
    assert two["gradient_bytes"] == 4 * two["trained_parameters"] and two["traffic_bytes_per_rank_per_step"] == payload
    assert two["measured_clustering_allreduces"] == 4 * 2 + 2  # two per step, two per epoch
    assert two["measured_pretraining_allreduce_bytes"] > 0  # the pretraining's gradients are summed too
    assert two["labels_equal_reference"] and two["reference_world_size"] == 1 and two["nmi"] == one["nmi"]
    text = (tmp_path / "distributed.md").read_text()
    assert "## ACeDeC on digits (400 points)" in text and "| 2 | 200 / 200 |" in text
    assert "cannot show a speed-up" in text and "counted = measured" in text
    labels = np.load(tmp_path / "distributed-runs" / "digits-acedec-2" / "labels.npz", allow_pickle=False)["labels"]
    assert labels.shape == (400,)
