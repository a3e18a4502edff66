"""The scaling benchmark (``clustpy-acedec-bench --scaling``): the slope, the grid, and the written outputs.
No timing is asserted here: timings belong in the benchmark's report."""

import csv
import json

import numpy as np
import pytest

from clustpy_acedec_bench.cli import main
from clustpy_acedec_bench.scaling import (SLOPE_KEYS, HostMemoryTimeline, ScalingGrid, axis_rows, loglog_slope,
                                          make_blobs, scaling_report, slopes, write_scaling)


def test_loglog_slope_on_power_laws():
    x = [10, 100, 1000, 10000]
    assert loglog_slope(x, [3 * v for v in x]) == pytest.approx(1.0)
    assert loglog_slope(x, [0.5 * v ** 2 for v in x]) == pytest.approx(2.0)
    assert loglog_slope(x, [7.0] * 4) == pytest.approx(0.0, abs=1e-12)
    assert loglog_slope([1, 2, 4], [1, None, 4]) == pytest.approx(1.0)  # missing values are dropped
    assert loglog_slope([5], [1.0]) is None and loglog_slope([5, 5], [1.0, 2.0]) is None
    assert loglog_slope([1, 2], [0.0, 1.0]) is None  # non-positive values cannot be logged


def test_grid_points_are_distinct_and_checked():
    grid = ScalingGrid(sizes=(1000, 500), dims=(4, 2), clusters=(2, 3), n_samples=500, embedding_size=4, n_clusters=2)
    assert grid.points() == [(500, 4, 2), (1000, 4, 2), (500, 2, 2), (500, 4, 3)]
    with pytest.raises(ValueError, match="unknown scaling method"):
        ScalingGrid(methods=("DEC",)).check()
    with pytest.raises(ValueError, match=r"K must not exceed N at any measured point, got \(N, K\) = \(5, 10\)"):
        ScalingGrid(sizes=(5,), n_clusters=10).check()  # the N axis runs K = n_clusters
    with pytest.raises(ValueError, match=r"\(N, K\) = \(100, 200\)"):
        ScalingGrid(sizes=(100,), clusters=(200,), n_samples=100).check()  # the K axis runs N = n_samples
    ScalingGrid(sizes=(100,), clusters=(200,)).check()  # K = 200 only at N = n_samples = 100,000: no such point


def test_phase_peaks_split_the_samples_at_the_phase_boundaries():
    timeline = HostMemoryTimeline()
    timeline.samples, timeline.end = [(0.5, 100.0), (1.5, 300.0), (2.5, 200.0), (3.9, 150.0)], 4.0
    peaks = timeline.phase_peaks({"pretraining": 1.0, "initialization": 1.0, "clustering": 1.0, "prediction": 1.0})
    assert peaks == {"pretraining": 100.0, "initialization": 300.0, "clustering": 200.0, "prediction": 150.0}
    assert timeline.phase_peaks({"clustering": 0.01})["clustering"] is None  # no sample in so short a phase


def test_blobs_are_float32_with_k_clusters():
    X = make_blobs(250, 3, 4, seed=1, chunk=100)
    assert X.shape == (250, 3) and X.dtype == np.float32
    assert np.array_equal(X, make_blobs(250, 3, 4, seed=1, chunk=100))


def _row(method, n, d, k, seconds):
    return {"method": method, "n_samples": n, "embedding_size": d, "n_clusters": k, "device": "cpu", "epochs": 1,
            "steps_per_epoch": n // 100, "seconds_per_epoch": seconds, "ms_per_step": 1.0,
            "initialization_seconds": 0.5, "prediction_seconds": 0.1, "setup_seconds": 0.1,
            "peak_host_delta_mb": n / 1000, "peak_device_delta_mb": None}


def test_slopes_and_report_from_hand_made_rows(tmp_path):
    grid = ScalingGrid(sizes=(1000, 10000), dims=(5, 10), clusters=(2, 10), n_samples=1000, embedding_size=10,
                       n_clusters=10, methods=("ACeDeC",))
    rows = [_row("ACeDeC", 1000, 10, 10, 1.0), _row("ACeDeC", 10000, 10, 10, 10.0),
            _row("ACeDeC", 1000, 5, 10, 1.0), _row("ACeDeC", 1000, 10, 2, 1.0),
            _row("ENRC", 1000, 10, 10, 3.0)]  # another method: not on ACeDeC's axes
    assert [r["n_samples"] for r in axis_rows(rows, grid, "n_samples", "ACeDeC")] == [1000, 10000]
    assert [r["embedding_size"] for r in axis_rows(rows, grid, "embedding_size", "ACeDeC")] == [5, 10]
    result = slopes(rows[:4], grid)["ACeDeC"]
    assert result["n_samples"]["seconds_per_epoch"] == pytest.approx(1.0)
    assert result["n_samples"]["peak_host_delta_mb"] == pytest.approx(1.0)
    assert result["n_clusters"]["seconds_per_epoch"] == pytest.approx(0.0, abs=1e-12)
    assert result["n_samples"]["peak_device_delta_mb"] is None
    text = scaling_report({"grid": vars(grid), "rows": rows[:4], "slopes": slopes(rows[:4], grid)}, "cmd", "box")
    assert "| ACeDeC | N | 1.00 |" in text and "## Against K" in text and "`cmd`" in text and "box" in text


def test_scaling_command_writes_json_csv_report_and_plot(tmp_path):
    argv = ["--scaling", "--device", "cpu", "--quiet", "--output", str(tmp_path), "--scaling-sizes", "500", "1000",
            "--scaling-dims", "2", "4", "--scaling-clusters", "2", "3", "--scaling-fixed", "500", "4", "2",
            "--scaling-epochs", "1"]
    assert main(argv) == 0
    result = json.loads((tmp_path / "scaling.json").read_text())
    assert set(result) >= {"grid", "rows", "slopes", "command", "machine", "torch_threads"}
    assert "--scaling-sizes 500 1000" in result["command"] and "CPU" in result["machine"]
    assert len(result["rows"]) == 2 * 4  # two methods, four distinct (N, d, K) settings
    for row in result["rows"]:
        assert row["method"] in ("ACeDeC", "ENRC") and row["seconds_per_epoch"] > 0
        assert row["steps_per_epoch"] == -(-row["n_samples"] // 256) and row["peak_device_delta_mb"] is None
        assert row["initialization_seconds"] > 0 and row["peak_host_delta_mb"] >= 0
        assert {"peak_host_initialization_delta_mb", "peak_host_clustering_delta_mb"} <= set(row)
    for method in ("ACeDeC", "ENRC"):
        assert set(result["slopes"][method]) == {"n_samples", "embedding_size", "n_clusters"}
        assert set(result["slopes"][method]["n_samples"]) == set(SLOPE_KEYS)
        assert isinstance(result["slopes"][method]["n_samples"]["seconds_per_epoch"], float)
    with (tmp_path / "scaling.csv").open() as file:
        assert len(list(csv.DictReader(file))) == 8
    text = (tmp_path / "scaling.md").read_text()
    assert "## Slopes" in text and "## Against N" in text and "![scaling](scaling.png)" in text
    assert (tmp_path / "scaling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_scaling_command_rejects_unknown_methods(tmp_path, capsys):
    assert main(["--scaling", "--methods", "DEC", "--output", str(tmp_path)]) == 2
    assert "unknown scaling method" in capsys.readouterr().err


def test_write_scaling_from_a_result_without_rows(tmp_path):
    grid = ScalingGrid(methods=("ENRC",))
    paths = write_scaling({"grid": vars(grid), "rows": [], "slopes": {}}, tmp_path / "empty")
    assert all(path.exists() for path in paths.values())
