"""The benchmark suite: scoring, resuming, the report's layout, and the quick profile's numbers."""

import json
import os

import numpy as np
import pytest
import torch

from clustpy_acedec import ACeDeC
from clustpy_acedec_bench import paper_values
from clustpy_acedec_bench.cli import main, select_plans
from clustpy_acedec_bench.data import default_data_dir
from clustpy_acedec_bench.datasets import BenchmarkDataset, load_dataset
from clustpy_acedec_bench.formatting import format_seconds
from clustpy_acedec_bench.report import aggregate, write_report
from clustpy_acedec_bench.runner import DatasetPlan, run_plan, score


def _record(dataset, method, seed, nmi, vi=None, dims=None):
    return {"dataset": dataset, "method": method, "seed": seed, "nmi": nmi, "vi": vi, "n_cluster_dims": dims,
            "seconds": 1.0, "pretrain_seconds": 2.0, "notes": "", "error": None}


def test_score_single_and_multiple_clusterings():
    labels = np.repeat(np.arange(3), 4)
    data = BenchmarkDataset("toy", np.zeros((12, 2), np.float32), np.stack([labels, labels % 2], 1))
    assert score(data, labels, multi=False) == {"nmi": [1.0], "vi": None}
    result = score(data, np.stack([labels % 2, labels], 1), multi=True)
    assert result["nmi"] == [1.0, 1.0] and result["vi"] > 0
    assert score(data, np.stack([labels, np.zeros(12, int)], 1), multi=True)["vi"] is None  # 'n.a.'


def test_aggregate_means_over_seeds_and_ignores_failures():
    records = [_record("USPS", "ACe/DeC+DCN", 0, [0.6], dims=4), _record("USPS", "ACe/DeC+DCN", 1, [0.8], dims=6),
               {**_record("USPS", "ACe/DeC+DCN", 2, None), "error": "boom"}]
    summary = aggregate(records)[("USPS", "ACe/DeC+DCN")]
    assert summary["n_seeds"] == 2 and summary["nmi_mean"] == pytest.approx([0.7]) and summary["dims"] == 5


def test_report_lays_out_the_papers_tables_with_published_values_and_flags(tmp_path):
    records = [_record("USPS", "ACe/DeC+DCN", 0, [0.10]), _record("USPS", "ACe/DeC+DCN", 1, [0.12]),
               _record("MNIST", "k-means", 0, [0.50]),
               _record("stickfigures", "ENRC", 0, [1.0, 1.0], vi=2.2)]
    path = write_report(records, tmp_path, "clustpy-acedec-bench --quick", "test machine")
    text = path.read_text()
    for heading in ("ACe/DeC Table 1: NMI without augmentation", "with augmentation", "ACe/DeC Table 2",
                    "ACe/DeC Table 3", "ENRC Table 1", "ENRC Table 3", "Runtime"):
        assert heading in text
    usps_paper = paper_values.ACEDEC_TABLE1[False]["USPS"]["ACe/DeC+DCN"]
    assert f"0.11 ± 0.01 ({usps_paper[0]:.2f} ± {usps_paper[1]:.2f}) ⚠" in text  # far below: flagged
    mnist_paper = paper_values.ACEDEC_TABLE1[False]["MNIST-Full"]["k-means"]
    assert f"0.50 ({mnist_paper[0]:.2f} ± {mnist_paper[1]:.2f})" in text  # MNIST is the paper's MNIST-Full
    sticks = paper_values.ENRC_TABLE1["Stickfigures"]["ENRC"][0]
    assert f"1.00 ({sticks[0]:.2f} ± {sticks[1]:.2f})" in text
    assert "| ISAAC |" in text  # paper-only methods are shown
    assert (tmp_path / "results.csv").read_text().splitlines()[0].startswith("dataset,method,seed,nmi")
    assert len(json.loads((tmp_path / "results.json").read_text())) == 4


def test_enrc_table_1_values_are_paired_with_our_labelings_by_name(tmp_path):
    """ENRC Table 1 lists NR-Objects as (color, material, shape); our labels are (color, shape, material)."""
    records = [_record("NR-Objects", "Orth1", 0, [0.70, 0.39, 0.46], vi=2.3)]
    text = write_report(records, tmp_path, "cmd", "cpu").read_text()
    color, material, shape = paper_values.ENRC_TABLE1["NR-Objects"]["Orth1"]
    assert paper_values.ENRC_TABLE1_CLUSTERINGS["NR-Objects"] == ("color", "material", "shape")
    cells = [f"{ours:.2f} ({paper[0]:.2f} ± {paper[1]:.2f})" for ours, paper in
             zip([0.70, 0.39, 0.46], [color, shape, material])]
    assert f"| NR-Objects (color / shape / material) | Orth1 | {' / '.join(cells)} |" in text


def test_runs_are_appended_and_a_rerun_resumes(tmp_path):
    plan = DatasetPlan("SYNTH-25", ["k-means"], seeds=[0, 1], max_samples=400)
    records = run_plan([plan], tmp_path, verbose=False, progress=False)
    assert [(r["method"], r["seed"]) for r in records] == [("k-means", 0), ("k-means", 1)]
    assert all(r["n_samples"] == 400 and r["seconds"] > 0 for r in records)
    assert records[0]["nmi"][0] != records[1]["nmi"][0]  # two seeds: two subsets, two k-means runs
    (tmp_path / "results.jsonl").write_text((tmp_path / "results.jsonl").read_text().splitlines()[0] + "\n")
    records = run_plan([plan], tmp_path, verbose=False, progress=False)  # only seed 1 is run again
    assert [r["seed"] for r in records] == [0, 1]


def test_a_folder_refuses_to_resume_with_other_settings(tmp_path):
    """A rerun with another --max-samples (or schedule) would be averaged with the old runs in one cell."""
    run_plan([DatasetPlan("SYNTH-25", ["k-means"], seeds=[0], max_samples=400)], tmp_path, verbose=False,
             progress=False)
    with pytest.raises(ValueError, match=r"SYNTH-25 runs with max_samples=400; this run asks max_samples=300"):
        run_plan([DatasetPlan("SYNTH-25", ["k-means"], seeds=[1], max_samples=300)], tmp_path, verbose=False,
                 progress=False)
    records = run_plan([DatasetPlan("SYNTH-25", ["k-means"], seeds=[0, 1], max_samples=400)], tmp_path,
                       verbose=False, progress=False)
    assert [(r["seed"], r["max_samples"]) for r in records] == [(0, 400), (1, 400)]


def test_a_failed_run_is_run_again_and_replaces_its_record(tmp_path):
    plan = DatasetPlan("SYNTH-25", ["k-means"], seeds=[0, 1], max_samples=400)
    run_plan([plan], tmp_path, verbose=False, progress=False)
    path = tmp_path / "results.jsonl"
    first, second = (json.loads(line) for line in path.read_text().splitlines())
    path.write_text(json.dumps({**first, "nmi": None, "error": "MemoryError: "}) + "\n" + json.dumps(second) + "\n")
    records = run_plan([plan], tmp_path, verbose=False, progress=False)
    assert [(r["seed"], r["error"]) for r in records] == [(1, None), (0, None)]
    assert records[1]["nmi"] == first["nmi"]  # the same run, done this time
    assert len(path.read_text().splitlines()) == 2  # the failed record is gone from the file


def test_failed_runs_do_not_hold_a_folder_to_their_settings(tmp_path):
    """A run that failed with a wrong setting is run again with the corrected one, in the same folder."""
    plan = DatasetPlan("SYNTH-25", ["k-means"], seeds=[0], max_samples=400)
    run_plan([plan], tmp_path, verbose=False, progress=False)
    path = tmp_path / "results.jsonl"
    failed = {**json.loads(path.read_text()), "nmi": None, "error": "TypeError: ", "precision": "bfloat16"}
    path.write_text(json.dumps(failed) + "\n")
    records = run_plan([DatasetPlan("SYNTH-25", ["k-means"], seeds=[0], max_samples=300)], tmp_path, verbose=False,
                       progress=False)
    assert [(r["max_samples"], r["precision"], r["error"]) for r in records] == [(300, "float32", None)]
    with pytest.raises(ValueError, match=r"SYNTH-25 runs with max_samples=300"):  # completed runs still do
        run_plan([plan], tmp_path, verbose=False, progress=False)


def test_a_record_cut_off_by_an_interrupted_write_is_run_again(tmp_path):
    plan = DatasetPlan("SYNTH-25", ["k-means"], seeds=[0, 1], max_samples=400)
    run_plan([plan], tmp_path, verbose=False, progress=False)
    path = tmp_path / "results.jsonl"
    lines = path.read_text().splitlines()
    path.write_text(lines[0] + "\n" + lines[1][: len(lines[1]) // 2])  # the second write stopped halfway
    records = run_plan([plan], tmp_path, verbose=False, progress=False)
    assert [r["seed"] for r in records] == [0, 1]
    assert [json.loads(line)["seed"] for line in path.read_text().splitlines()] == [0, 1]
    path.write_text(lines[0][:20] + "\n" + lines[1] + "\n")  # damage inside the file is not guessed at
    with pytest.raises(ValueError, match=r"results.jsonl, line 1, is not a benchmark record"):
        run_plan([plan], tmp_path, verbose=False, progress=False)


def test_precision_reaches_the_pretraining_and_our_estimators_and_one_folder_keeps_one(tmp_path, monkeypatch):
    import clustpy_acedec.pretraining as pretraining
    seen = []
    original = pretraining.pretrain
    monkeypatch.setattr(pretraining, "pretrain", lambda *args, execution=None, **kwargs: seen.append(
        getattr(execution, "precision", execution)) or original(*args, execution=execution, **kwargs))
    plan = DatasetPlan("SYNTH-0", ["ACe/DeC+DCN"], seeds=[0], max_samples=200, embedding_size=2, pretrain_epochs=1,
                       clustering_epochs=1, pretraining="end_to_end", linear_autoencoder=True, init_iterations=3)
    records = run_plan([plan], tmp_path, verbose=False, progress=False, precision="bfloat16")
    assert seen == ["bfloat16"] and records[0]["error"] is None and records[0]["precision"] == "bfloat16"
    assert records[0]["init_screen_iterations"] == ACeDeC().init_screen_iterations  # which initial phase ran
    assert "precision of the pretraining and our estimators: bfloat16" in write_report(records, tmp_path, "cmd",
                                                                                        "cpu").read_text()
    with pytest.raises(ValueError, match="precision"):
        run_plan([plan], tmp_path, verbose=False, progress=False)  # float32 runs would mix into a bfloat16 report
    assert main(["--quick", "--precision", "float32", "bfloat16", "--output", str(tmp_path)]) == 2


def test_the_activation_builds_the_network_and_one_folder_keeps_one(tmp_path):
    from clustpy_acedec_bench.methods import RunContext
    data = load_dataset("SYNTH-0", 0, None, 200)
    context = RunContext(0, "cpu", pretrain_epochs=1, clustering_epochs=1, embedding_size=2,
                         pretraining="end_to_end", activation="relu")
    kinds = {type(module) for module in context.autoencoder(data).modules()}
    assert torch.nn.ReLU in kinds and torch.nn.LeakyReLU not in kinds  # DEC's network, not clustpy's default
    plan = DatasetPlan("SYNTH-0", ["AE + k-means"], seeds=[0], max_samples=200, embedding_size=2, pretrain_epochs=1,
                       clustering_epochs=1, pretraining="end_to_end", activation="relu")
    records = run_plan([plan], tmp_path, verbose=False, progress=False)
    assert records[0]["error"] is None and records[0]["activation"] == "relu"
    assert "hidden activation: relu" in write_report(records, tmp_path, "cmd", "cpu").read_text()
    default = DatasetPlan("SYNTH-0", ["k-means"], seeds=[0], max_samples=200)
    with pytest.raises(ValueError, match="activations"):
        run_plan([default], tmp_path, verbose=False, progress=False)  # LeakyReLU runs would mix into a ReLU report
    with pytest.raises(ValueError, match="feedforward"):  # the convolutional network has its own activation
        select_plans("paper", datasets=["C-MNIST"], schedule=dict(activation="relu"))
    with pytest.raises(ValueError, match="--pretraining stacked_denoising .* C-MNIST runs the convolutional"):
        select_plans("paper", datasets=["C-MNIST"], schedule=dict(pretraining="stacked_denoising"))
    assert select_plans("paper", datasets=["USPS"], schedule=dict(pretraining="stacked_denoising"))
    assert main(["--speed", "acedec-digits", "--activation", "relu", "--output", str(tmp_path)]) == 2


def test_filters_and_unknown_names():
    plans = select_plans("quick", datasets=["USPS"], methods=["k-means"], seeds=[3])
    assert [(p.name, p.methods, p.seeds) for p in plans] == [("USPS", ["k-means"], [3])]
    # a repeated seed runs once (and counts once in the report)
    assert select_plans("quick", datasets=["USPS"], methods=["k-means"], seeds=[3, 1, 3])[0].seeds == [3, 1]
    # the methods run in the order given (once each), those the data set's plan lacks left out
    plans = select_plans("paper", datasets=["MNIST"], methods=["AE + k-means", "DCN (λ=1.0)", "ENRC", "ACe/DeC+DCN",
                                                                "AE + k-means"])
    assert plans[0].methods == ["AE + k-means", "DCN (λ=1.0)", "ACe/DeC+DCN"]
    with pytest.raises(ValueError, match="not in the quick profile"):
        select_plans("quick", datasets=["OBJECTS-42"])
    with pytest.raises(ValueError, match="unknown method"):
        select_plans("quick", methods=["spectral"])
    assert {p.name for p in select_plans("paper")} >= {"SYNTH-25", "MNIST", "MNIST-Test", "FMNIST", "USPS", "GTSRB",
                                                       "stickfigures", "nrLetters", "CMU faces", "C-MNIST"}


def test_schedule_overrides_apply_to_every_selected_plan():
    plans = select_plans("paper", datasets=["C-MNIST", "USPS"], schedule=dict(
        max_samples=10000, pretrain_epochs=100, clustering_epochs=None, pretraining="end_to_end"))
    assert {p.name for p in plans} == {"C-MNIST", "USPS"}
    for plan in plans:
        assert (plan.max_samples, plan.pretrain_epochs, plan.pretraining) == (10000, 100, "end_to_end")
        assert plan.clustering_epochs == 150  # None keeps the profile's value
    assert select_plans("paper", datasets=["USPS"])[0].max_samples is None  # the profile itself is untouched
    with pytest.raises(ValueError, match="--max-samples must be positive"):
        select_plans("paper", schedule=dict(max_samples=0))


def test_schedule_options_reach_the_plans(tmp_path, monkeypatch):
    import clustpy_acedec_bench.runner as runner
    seen = []
    monkeypatch.setattr(runner, "run_plan", lambda plans, *args, **kwargs: seen.extend(plans) or [])
    monkeypatch.setattr("clustpy_acedec_bench.report.write_report", lambda *args: tmp_path / "report.md")
    assert main(["--paper", "--datasets", "USPS", "--methods", "k-means", "--max-samples", "500",
                 "--clustering-epochs", "7", "--device", "cpu", "--quiet", "--output", str(tmp_path)]) == 0
    assert [(p.max_samples, p.clustering_epochs, p.pretrain_epochs) for p in seen] == [(500, 7, 100)]
    assert main(["--paper", "--max-samples", "-3", "--output", str(tmp_path)]) == 2


def test_gtsrb_carries_the_sign_and_the_colour_labeling():
    if default_data_dir() is None:
        pytest.skip("needs ../shared/data")
    data = load_dataset("GTSRB")
    assert data.n_clusters == [4, 2] and data.image_shape == (32, 32) and data.X.shape[1] == 1024  # ENRC Table 2
    assert abs(data.X.mean()) < 1e-3 and abs(data.X.std() - 1) < 1e-3  # z-score (ENRC §3.1)
    signs = data.labels[:, 0]
    assert np.array_equal(data.labels[:, 1], (signs < 2).astype(int))  # 70 km/h and no passing are the red ones


def test_histogram_equalisation_spreads_grey_values():
    from clustpy_acedec_bench.data import equalize_histogram, grey_resized
    rng = np.random.default_rng(0)
    dull = rng.integers(100, 130, size=(3, 8, 8)).astype(np.uint8)
    equalized = equalize_histogram(dull)
    assert equalized.shape == dull.shape and equalized.min() == 0 and equalized.max() == 255
    assert np.all(np.diff(equalized.reshape(3, -1)[0][np.argsort(dull.reshape(3, -1)[0], kind="stable")]) >= 0)
    with pytest.raises(ValueError, match="grey uint8"):
        equalize_histogram(dull.astype(np.float32))
    rgb = np.zeros((2, 4, 4, 3), np.uint8)
    rgb[..., 0] = 255
    assert grey_resized(rgb, (2, 2)).tolist() == [[[76, 76], [76, 76]]] * 2  # 0.299 * 255, averaged


@pytest.mark.skipif(default_data_dir() is None and not os.environ.get("CI"),
                    reason="needs ../shared/data (never skipped under CI, which has it)")
def test_quick_profile_writes_the_report_and_keeps_its_floors(tmp_path):
    """The CI guard: the quick profile end to end on the CPU, with floors below its measured numbers."""
    assert main(["--quick", "--quiet", "--device", "cpu", "--output", str(tmp_path)]) == 0
    records = {(r["dataset"], r["method"]): r for r in json.loads((tmp_path / "results.json").read_text())}
    assert not [key for key, r in records.items() if r["error"]]
    assert records["SYNTH-25", "k-means"]["nmi"][0] > 0.8
    # Table 1's contrast: the end-to-end linear AE hides the clusters from k-means (measured 0.017) and ACe/DeC
    # isolates them in two dimensions (measured 1.00)
    assert records["SYNTH-25", "AE + k-means"]["nmi"][0] < 0.5
    assert records["SYNTH-25", "ACe/DeC+DCN"]["nmi"][0] > 0.9
    assert records["SYNTH-25", "ACe/DeC+DCN"]["n_cluster_dims"] == 2
    assert records["SYNTH-0", "ACe/DeC+DCN"]["nmi"][0] > 0.9
    assert records["USPS", "ACe/DeC+DCN"]["nmi"][0] > 0.45
    assert records["USPS", "ACe/DeC+IDEC"]["nmi"][0] > 0.45
    # every deep method on the USPS subset (measured 0.62-0.69), DEC's layer-wise pretraining on MNIST-Test
    # (measured 0.44 / 0.46)
    for method in ("DCN (λ=1.0)", "DEC", "IDEC", "ACe/DeC+DEC", "ACe/DeC+DCN + Aug", "ACe/DeC+DCN @γ=0.1",
                   "ACe/DeC+DCN @γ=0.9"):
        assert records["USPS", method]["nmi"][0] > 0.5, method
    assert records["MNIST-Test", "AE + k-means"]["nmi"][0] > 0.35
    assert records["MNIST-Test", "ACe/DeC+DCN"]["nmi"][0] > 0.35
    assert min(records["stickfigures", "ENRC"]["nmi"]) > 0.95 and records["stickfigures", "ENRC"]["vi"] > 2.1
    for method in ("AE + Nr-Kmeans", "Orth1", "Orth2"):
        assert min(records["stickfigures", method]["nmi"]) > 0.9, method
    # GTSRB's two labelings (type, colour) on 30 + 20 epochs: measured 0.27 / 0.26 (ENRC), 0.34 / 0.23
    for method in ("ENRC", "AE + Nr-Kmeans"):
        assert min(records["GTSRB", method]["nmi"]) > 0.1 and records["GTSRB", method]["vi"] > 1.0, method
    text = (tmp_path / "report.md").read_text()
    assert "clustpy-acedec-bench --quick" in text
    for heading in ("## ACe/DeC Table 1: NMI without augmentation", "## ACe/DeC Table 1: NMI with augmentation",
                    "## ACe/DeC Table 2", "## ACe/DeC Table 3", "## ENRC Table 1", "## ENRC Table 3", "## Runtime"):
        assert heading in text, heading
    assert "| 1.00 (1.00 ± 0.00) |" in text  # ours beside the published value: ACe/DeC+DCN on SYNTH-25
    for figure in ("fig1a_noise_sweep.png", "fig4_learning_rate.png", "betas.png"):
        assert f"]({figure})" in text and (tmp_path / figure).stat().st_size > 0


def test_speed_comparison_reports_phases_ratios_and_quality(tmp_path, monkeypatch):
    from clustpy_acedec_bench import speed
    monkeypatch.setitem(speed.TASKS, "tiny", speed.SpeedTask("SYNTH-25", "ACeDeC", 1, 1, 64, 4, max_samples=300,
                                                             init_iterations=20))
    assert main(["--speed", "tiny", "--seeds", "0", "--device", "cpu", "--quiet", "--output", str(tmp_path),
                 "--precision", "float32", "bfloat16", "--clustering-epochs", "2"]) == 0
    rows = [json.loads(line) for line in (tmp_path / "speed.jsonl").read_text().splitlines()]
    assert [r["implementation"] for r in rows] == ["clustpy-acedec", "clustpy-acedec", "clustpy 0.0.3"]
    assert [r.get("precision") for r in rows] == ["float32", "bfloat16", None]
    assert all(r["pretrain_epochs"] == 1 and r["clustering_epochs"] == 2 for r in rows)  # the override reached both
    ours, _, theirs = rows
    assert all(ours[p] > 0 for p in speed.PHASES) and all(theirs[p] > 0 for p in speed.PHASES)
    assert isinstance(ours["nmi"][0], float) and ours["peak_host_mb"] > 0
    table = (tmp_path / "speed_tiny.md").read_text()
    assert "| pretraining |" in table and "clustpy ACeDeC / ours, bfloat16" in table and "NMI" in table
    cells = {line.split("|")[1].strip(): line.split("|") for line in table.splitlines() if line.startswith("| ")}
    expected = sum(theirs[k] for k in ("pretraining", "initialization", "clustering", "prediction"))
    assert float(cells["**total**"][4]) == pytest.approx(expected, abs=0.051)
    assert 0 < theirs["reclustering"] < theirs["clustering"]  # clustpy's default final reclustering, timed apart
    per_epoch = (theirs["clustering"] - theirs["reclustering"]) / 2
    assert float(cells["clustering per epoch"][4]) == pytest.approx(per_epoch, abs=0.051)
    assert float(cells["initialization"][4]) == pytest.approx(theirs["initialization"], abs=0.051)
    assert main(["--speed", "tiny", "--pretrain-epochs", "0", "--output", str(tmp_path)]) == 2
    assert main(["--speed", "tiny", "--pretraining", "stacked_denoising", "--output", str(tmp_path)]) == 2


def test_speed_against_clustpys_dcn_times_its_phases(tmp_path, monkeypatch):
    """baseline="DCN": clustpy's DCN (which, unlike its ACeDeC, runs on CUDA) with its phases timed from inside."""
    from clustpy_acedec_bench import speed
    monkeypatch.setitem(speed.TASKS, "tiny-dcn", speed.SpeedTask("SYNTH-25", "ACeDeC", 1, 2, 64, 4, max_samples=300,
                                                                 init_iterations=20, baseline="DCN"))
    assert main(["--speed", "tiny-dcn", "--seeds", "0", "--device", "cpu", "--quiet", "--output", str(tmp_path)]) == 0
    ours, theirs = [json.loads(line) for line in (tmp_path / "speed.jsonl").read_text().splitlines()]
    assert theirs["baseline"] == "DCN" and theirs["device"] == "cpu" and not theirs["note"]
    assert all(theirs[p] > 0 for p in speed.PHASES) and 0 < theirs["reclustering"] < theirs["clustering"]
    table = (tmp_path / "speed_tiny-dcn.md").read_text()
    assert "| clustpy DCN (s) |" in table and "clustpy DCN / ours, float32" in table


def test_warm_up_runs_every_runner_once_on_a_small_random_subset():
    import numpy as np
    import torch
    from clustpy_acedec_bench.datasets import BenchmarkDataset
    from clustpy_acedec_bench.speed import SpeedTask, _warm_up
    calls = []
    data = BenchmarkDataset("toy", np.arange(2000, dtype=np.float32)[:, None], np.arange(2000)[:, None] % 10)
    task = SpeedTask("toy", "ACeDeC", 100, 150, 64, 4)
    _warm_up([lambda *args: calls.append(("a", *args)), lambda *args: calls.append(("b", *args))], task, data, 3,
             torch.device("cpu"))
    assert [c[0] for c in calls] == ["a", "b"]
    small, subset = calls[0][1], calls[0][2]
    assert (small.pretrain_epochs, small.clustering_epochs, small.batch_size) == (1, 1, 64)
    assert subset.X.shape == (256, 1) and len(np.unique(subset.X)) == 256 and subset.n_clusters == [10]
    np.testing.assert_array_equal(subset.labels[:, 0], subset.X[:, 0].astype(int) % 10)  # rows stay paired


def test_call_timer_keeps_outermost_calls_only():
    """clustpy's enrc_init(init="auto") calls itself; the inner call must not count as a second call."""
    from clustpy_acedec_bench.speed import _CallTimer

    def init(depth):
        return timer(depth - 1) if depth else "done"

    timer = _CallTimer(init)
    assert timer(2) == "done" and timer(0) == "done"
    assert len(timer.seconds) == 2 and all(s > 0 for s in timer.seconds)


def test_speed_table_reads_rows_without_clustpys_phase_split():
    """speed.jsonl files written before clustpy's initialisation was timed apart still give a table."""
    from clustpy_acedec_bench.speed import speed_table
    old = [{"implementation": "clustpy-acedec", "seed": 0, "pretraining": 2.0, "initialization": 1.0,
            "clustering": 3.0, "prediction": 0.5, "nmi": [0.5]},
           {"implementation": "clustpy 0.0.3", "seed": 0, "pretraining": 4.0, "initialization + clustering": 8.0,
            "prediction": 0.5, "nmi": [0.4]}]
    cells = {line.split("|")[1].strip(): line.split("|") for line in speed_table(old).splitlines()
             if line.startswith("| ")}
    assert cells["initialization + clustering"][2:4] == [" 4.0 ", " 8.0 "]
    assert cells["initialization"][3].strip() == "" and cells["clustering per epoch"][2].strip() == ""
    assert float(cells["**total**"][3]) == 12.5


def test_figures_from_records(tmp_path):
    from clustpy_acedec_bench.figures import learning_rate_figure, mean_and_interval, noise_sweep_figure
    mean, half = mean_and_interval([0.5, 0.7])
    assert mean == pytest.approx(0.6) and half == pytest.approx(12.706 * 0.1414 / 1.4142, rel=1e-3)
    assert mean_and_interval([0.4]) == (0.4, 0.0)
    records = [_record(f"SYNTH-{k}", "ACe/DeC+DCN", s, [1.0 - k / 50]) for k in (0, 25) for s in (0, 1)]
    assert noise_sweep_figure(records, tmp_path / "sweep.png") == tmp_path / "sweep.png"
    assert noise_sweep_figure(records[:2], tmp_path / "none.png") is None  # one noise level: no curve
    records += [_record("USPS", f"DCN (λ=1.0) @γ={g}", 0, [0.5]) for g in (0.1, 0.5, 0.9)]
    assert learning_rate_figure(records, tmp_path / "lr.png").stat().st_size > 0


def test_every_profile_lists_each_data_set_once_and_known_methods():
    from clustpy_acedec_bench.methods import METHODS
    from clustpy_acedec_bench.profiles import PROFILES
    for name in PROFILES:
        plans = select_plans(name)
        assert len({p.name for p in plans}) == len(plans)
        assert all(m in METHODS for p in plans for m in p.methods)
    cpu = {p.name for p in select_plans("cpu")}
    assert cpu == {p.name for p in select_plans("paper")}  # the CPU report covers every data set


def test_quiet_silences_every_progress_bar_only_while_it_runs():
    import tqdm
    from clustpy_acedec_bench.cli import _progress_bars
    original = tqdm.tqdm.__dict__["__init__"]
    with _progress_bars(enabled=False):
        assert tqdm.tqdm(range(3)).disable  # also the bars clustpy's baselines create
    assert tqdm.tqdm.__dict__["__init__"] is original
    with open("/dev/null", "w") as sink:
        assert not tqdm.tqdm(range(3), file=sink).disable


def test_enrc_variants_hand_their_options_to_the_estimator(monkeypatch):
    import clustpy_acedec
    from clustpy_acedec_bench.methods import ENRC_VARIANTS, METHODS, RunContext
    seen = {}

    class FakeENRC:
        def __init__(self, **params):
            seen.update(params)

        def fit(self, X):
            self.labels_ = np.zeros((len(X), 2), dtype=int)
            self.betas_ = self.betas_init_ = np.full((2, 3), 0.5)
            return self

    monkeypatch.setattr(clustpy_acedec, "ENRC", FakeENRC)
    data = BenchmarkDataset("toy", np.zeros((8, 4), dtype=np.float32), np.tile(np.arange(8)[:, None] % 2, (1, 2)))
    context = RunContext(seed=0, device="cpu", pretrain_epochs=0, clustering_epochs=1)
    context._autoencoders[False] = object()
    method = METHODS["ENRC (Nr-Kmeans start, points)"]
    assert method.run(data, context, **method.kwargs)["labels"].shape == (8, 2)
    assert (seen["init"], seen["loss_normalization"], seen["n_clusters"]) == ("nrkmeans", "points", [2, 2])
    assert seen["precision"] == "float32"
    assert set(ENRC_VARIANTS) <= set(METHODS) and all(METHODS[name].multi for name in ENRC_VARIANTS)


def test_a_pretrained_autoencoder_is_saved_and_reused_by_a_later_run_with_the_same_settings(tmp_path):
    from clustpy_acedec_bench.methods import RunContext
    data = BenchmarkDataset("toy/set", np.random.default_rng(0).random((40, 6), dtype=np.float32),
                            np.arange(40)[:, None] % 2)
    settings = dict(seed=0, device="cpu", pretrain_epochs=2, clustering_epochs=1, batch_size=16, embedding_size=3,
                    pretraining="end_to_end", autoencoder_cache=tmp_path)
    first = RunContext(**settings).autoencoder(data)
    [saved] = tmp_path.glob("*.pt")
    assert saved.name.startswith("toy-set-seed0-") and not list(tmp_path.glob("*.partial"))
    later = RunContext(**settings)
    reused = later.autoencoder(data)
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), reused.state_dict().values()))
    assert (reused.fitted, reused.training) == (first.fitted, first.training) == (True, False)
    assert later.pretrain_seconds[False] == pytest.approx(torch.load(saved, weights_only=True)["pretrain_seconds"])
    # a resume with another thread count goes on with the same autoencoder (the folder's other runs used it)
    threads = torch.get_num_threads()
    torch.set_num_threads(threads + 1)
    try:
        resumed = RunContext(**settings).autoencoder(data)
    finally:
        torch.set_num_threads(threads)
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), resumed.state_dict().values()))
    assert len(list(tmp_path.glob("*.pt"))) == 1
    # a file written before 2026-12-02 (device and threads in its settings and name) is read too
    current = saved.read_bytes()
    stored = torch.load(saved, weights_only=True)
    stored["settings"].update(device_type="cpu", cpu_threads=7)
    former_file = tmp_path / "toy-set-seed0-0123456789abcdef.pt"
    torch.save(stored, former_file)
    saved.unlink()
    former = RunContext(**settings)
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(),
                                                 former.autoencoder(data).state_dict().values()))
    assert [p.name for p in tmp_path.glob("*.pt")] == [former_file.name]  # read, not pretrained again
    former_file.unlink()
    saved.write_bytes(current)
    # another schedule, or other data of the same size, is another pretraining: not read from this file
    RunContext(**{**settings, "pretrain_epochs": 1}).autoencoder(data)
    RunContext(**settings).autoencoder(BenchmarkDataset("toy/set", data.X[::-1].copy(), data.labels))
    assert len(list(tmp_path.glob("*.pt"))) == 3
    # a damaged file is not used: the pretraining runs again, gives the same network, and replaces the file
    saved.write_bytes(b"not an autoencoder")
    with pytest.warns(RuntimeWarning, match="cannot be used"):
        again = RunContext(**settings).autoencoder(data)
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), again.state_dict().values()))
    assert torch.load(saved, weights_only=True)["settings"]["dataset"] == "toy/set"


def test_augmented_methods_start_from_an_autoencoder_pretrained_on_augmented_images(monkeypatch):
    import clustpy_acedec
    from clustpy_acedec_bench.methods import METHODS, RunContext
    rng = np.random.default_rng(0)
    images = rng.random((48, 8, 8), dtype=np.float32)
    data = BenchmarkDataset("toy images", images.reshape(48, -1), np.arange(48)[:, None] % 2, (8, 8))
    context = RunContext(seed=0, device="cpu", pretrain_epochs=2, clustering_epochs=1, batch_size=16,
                         embedding_size=3, pretraining="end_to_end", init_iterations=3)
    plain, augmented = context.autoencoder(data), context.autoencoder(data, augmented=True)
    assert context.autoencoder(data, augmented=True) is augmented  # pretrained once per data set and seed
    assert any(not torch.equal(a, b) for a, b in zip(plain.state_dict().values(), augmented.state_dict().values()))
    assert set(context.pretrain_seconds) == {False, True}
    started_from = {}

    class RecordingACeDeC:  # what each method hands the estimator
        def __init__(self, base, **params):
            self.base = base

        def fit(self, X):
            started_from[(self.base.augmentation_invariance, current)] = self.base.neural_network
            self.labels_, self.cluster_space_dims_ = np.zeros(len(X), dtype=int), np.arange(2)
            self.betas_ = self.betas_init_ = np.full((2, 3), 0.5)
            self.init_screen_iterations = 0
            return self

    monkeypatch.setattr(clustpy_acedec, "ACeDeC", RecordingACeDeC)
    for current in ("ACe/DeC+DCN", "ACe/DeC+DCN + Aug", "ACe/DeC+DCN + Aug (plain AE)"):
        method = METHODS[current]
        assert method.run(data, context, **method.kwargs)["labels"].shape == (48,)

    def same(network, reference) -> bool:
        return network is not reference and all(torch.equal(a, b) for a, b in
                                                zip(network.state_dict().values(), reference.state_dict().values()))

    assert same(started_from[(False, "ACe/DeC+DCN")], plain)
    assert same(started_from[(True, "ACe/DeC+DCN + Aug")], augmented)
    assert same(started_from[(True, "ACe/DeC+DCN + Aug (plain AE)")], plain)
    assert np.array_equal(METHODS["AE (Aug) + k-means"].run(data, context, on_embedding=True,
                                                             augmented_pretraining=True)["labels"].shape, (48,))
    assert not np.array_equal(context.embedded(data, True), context.embedded(data))
    flat = BenchmarkDataset("flat", images.reshape(48, -1), np.arange(48)[:, None] % 2)
    with pytest.raises(ValueError, match="no images"):
        RunContext(seed=0, device="cpu", pretrain_epochs=1, clustering_epochs=1).autoencoder(flat, augmented=True)


def test_convolutional_plans_train_the_conv_autoencoder_on_images():
    from clustpy_acedec_bench.methods import METHODS, RunContext
    from clustpy_acedec.networks import SmallConvAutoencoder
    rng = np.random.default_rng(0)
    images = rng.random((48, 8, 8, 3), dtype=np.float32)
    labels = np.stack([np.arange(48) % 2, np.arange(48) // 24], 1)
    data = BenchmarkDataset("toy images", images.reshape(48, -1), labels, (8, 8, 3))
    context = RunContext(seed=0, device="cpu", pretrain_epochs=1, clustering_epochs=1, batch_size=16,
                         embedding_size=4, pretraining="end_to_end", network="convolutional", init_iterations=3)
    X = context.network_input(data)
    assert X.shape == (48, 3, 8, 8) and np.array_equal(X[5].transpose(1, 2, 0), images[5])
    assert isinstance(context.autoencoder(data), SmallConvAutoencoder)
    assert context.embedded(data).shape == (48, 4)
    method = METHODS["ENRC"]
    assert method.run(data, context, **method.kwargs)["labels"].shape == (48, 2)
    flat = BenchmarkDataset("toy vectors", images.reshape(48, -1), labels)
    with pytest.raises(ValueError, match="no image shape"):
        RunContext(seed=0, device="cpu", pretrain_epochs=1, clustering_epochs=1, network="convolutional") \
            .network_input(flat)


@pytest.mark.parametrize("lam", [0.1, 1.0, 10.0])
def test_dcn_lambda_is_the_dcn_papers_weight_in_clustpys_loss(lam, monkeypatch):
    """The benchmark's DCN (λ) hands clustpy clustering_loss_weight = λ and the core's L_rec (summed over
    features); clustpy's DCN loss of a batch is then L_rec + λ/2 · L_clust (DCN paper, Eq. 5)."""
    from clustpy.deep import dcn as clustpy_dcn
    from clustpy.deep.neural_networks import FeedforwardAutoencoder
    from clustpy_acedec.losses import reconstruction_loss
    from clustpy_acedec_bench import methods
    from clustpy_acedec_bench.methods import RunContext

    captured = {}

    class Recording:
        def __init__(self, **params):
            captured.update(params)

        def fit(self, X):
            self.labels_ = np.zeros(len(X), dtype=int)
            return self

    monkeypatch.setattr(clustpy_dcn, "DCN", Recording)
    monkeypatch.setattr("clustpy.deep.DCN", Recording)
    data = load_dataset("SYNTH-25", seed=0, max_samples=50)
    context = RunContext(seed=0, device="cpu", pretrain_epochs=1, clustering_epochs=1, embedding_size=4,
                         pretraining="end_to_end")
    methods.dcn(data, context, lam)
    assert captured["clustering_loss_weight"] == lam and captured["ssl_loss_weight"] == 1.0
    assert captured["ssl_loss_fn"] is reconstruction_loss

    torch.manual_seed(0)
    x = torch.randn(8, 6)
    autoencoder = FeedforwardAutoencoder(layers=[6, 5, 3])
    centers = np.random.default_rng(0).normal(size=(2, 3)).astype(np.float32)
    labels = np.array([0, 1] * 4)
    module = clustpy_dcn._DCN_Module(labels, centers)
    loss = module._loss([torch.arange(8), x], autoencoder, reconstruction_loss, 1.0, lam, torch.device("cpu"))
    with torch.no_grad():
        z = autoencoder.encode(x)
        reconstruction = (x - autoencoder.decode(z)).pow(2).sum(1).mean()
        clustering = (z - torch.as_tensor(centers)[torch.as_tensor(labels)]).pow(2).sum(1).mean()
    torch.testing.assert_close(loss.detach(), reconstruction + lam / 2 * clustering)


def test_missing_file_falls_back_to_clustpys_loader_and_says_so(tmp_path, monkeypatch):
    """Offline first: without mnist.npz, MNIST-Test comes from clustpy's loader (its test split), and the data
    set's notes, which go into every record and the report, say that it was downloaded."""
    import clustpy.data
    calls = []

    def fake_load_mnist(subset="all", return_X_y=False):
        calls.append(subset)
        rng = np.random.default_rng(0)
        return rng.integers(0, 256, size=(30, 784)).astype(np.uint8), np.arange(30) % 10

    monkeypatch.setattr(clustpy.data, "load_mnist", fake_load_mnist)
    data = load_dataset("MNIST-Test", data_dir=tmp_path)
    assert calls == ["test"]
    assert data.image_shape == (28, 28) and data.X.shape == (30, 784) and 0.0 <= data.X.min() <= data.X.max() <= 1.0
    assert any("downloaded by clustpy.data.load_mnist" in note for note in data.notes)


def test_an_unavailable_data_set_is_skipped_and_the_others_run(tmp_path, monkeypatch, capsys):
    import clustpy.data

    def offline(return_X_y=False):
        raise OSError("no network")

    monkeypatch.setattr(clustpy.data, "load_cmu_faces", offline)
    plans = [DatasetPlan("CMU faces", ["AE + Nr-Kmeans"], seeds=[0]),
             DatasetPlan("SYNTH-0", ["k-means"], seeds=[0], max_samples=200)]
    records = run_plan(plans, tmp_path / "out", data_dir=tmp_path, verbose=False, progress=False)
    assert [(r["dataset"], r["method"]) for r in records] == [("SYNTH-0", "k-means")]
    captured = capsys.readouterr()
    assert "CMU faces: not available" in captured.out + captured.err


def test_the_command_names_a_data_set_it_could_not_load_and_fails(tmp_path, monkeypatch, capsys):
    import clustpy.data

    def offline(return_X_y=False):
        raise OSError("no network")

    monkeypatch.setattr(clustpy.data, "load_cmu_faces", offline)
    code = main(["--cpu", "--datasets", "CMU faces", "--methods", "Orth1", "--quiet", "--output",
                 str(tmp_path / "out2"), "--data-dir", str(tmp_path)])
    assert code == 1
    assert "not run, their data are not available: CMU faces" in capsys.readouterr().err
    assert "- not run, their data were not available: CMU faces" in (tmp_path / "out2" / "report.md").read_text()


def test_progress_names_the_run_and_shows_the_estimators_bars_under_it(tmp_path, capsys):
    plan = DatasetPlan("SYNTH-0", ["ACe/DeC+DCN"], seeds=[0], max_samples=200, embedding_size=2, pretrain_epochs=1,
                       clustering_epochs=1, pretraining="end_to_end", linear_autoencoder=True, init_iterations=3)
    records = run_plan([plan], tmp_path / "bars", verbose=True, progress=True)
    assert records[0]["error"] is None
    err = capsys.readouterr().err
    assert "SYNTH-0 / ACe/DeC+DCN / seed 0" in err  # what is running, in the benchmark's bar
    assert "1/1" in err and "0/1" in err  # the bar counts finished runs, not started ones
    # the pretraining's and the estimator's own bars move while the run is in progress
    assert "pretraining" in err and "ACeDeC initialisation" in err and "ACeDeC clustering" in err
    run_plan([plan], tmp_path / "silent", verbose=False, progress=False)
    assert capsys.readouterr().err == ""


def test_per_run_lines_round_scores_and_durations(tmp_path, capsys):
    plan = DatasetPlan("SYNTH-0", ["k-means"], seeds=[0], max_samples=200)
    record = run_plan([plan], tmp_path, verbose=True, progress=False)[0]
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert f"NMI {record['nmi'][0]:.3f} |" in line
    # a run of a hundredth of a second reads "0.01 s" (not "0.0 s"), one of an hour "1 h 00 min"
    assert line.endswith(f"| {format_seconds(record['seconds'])}")
    assert format_seconds(0.012) == "0.01 s" and format_seconds(3600.4) == "1 h 00 min"


def test_the_vi_cell_counts_only_the_seeds_that_have_a_vi(tmp_path):
    records = [_record("stickfigures", "ENRC", 0, [1.0, 1.0], vi=2.0), _record("stickfigures", "ENRC", 1, [1.0, 0.0])]
    assert aggregate(records)[("stickfigures", "ENRC")]["vi_seeds"] == 1
    text = write_report(records, tmp_path, "cmd", "cpu").read_text()
    published = paper_values.ENRC_TABLE3["Stickfigures"]["ENRC"]
    cell = f"2.00 ({published[0]:.2f} ± {published[1]:.2f}) ⚠ (n.a. on 1 of 2 seeds)"
    assert f"| stickfigures | ENRC | {cell} |" in text


def test_a_method_on_the_raw_data_is_credited_with_no_pretraining(tmp_path):
    # enough pretraining (120 steps) to take more than the 0.01 s the record rounds to
    plan = DatasetPlan("SYNTH-0", ["AE + k-means", "k-means"], seeds=[0], max_samples=1000, embedding_size=2,
                       pretrain_epochs=30, clustering_epochs=1, pretraining="end_to_end", linear_autoencoder=True)
    records = {r["method"]: r for r in run_plan([plan], tmp_path, verbose=False, progress=False)}
    assert records["AE + k-means"]["pretrain_seconds"] > 0 and records["k-means"]["pretrain_seconds"] == 0.0


def test_every_enrc_row_is_its_own_configuration():
    """Each ENRC row names both of its options: with ENRC's defaults (best start, "points") a row naming one of
    them would run the same fit as another row under a second name."""
    from clustpy_acedec_bench.methods import METHODS
    options = {name: (method.kwargs.get("init"), method.kwargs.get("loss_normalization"),
                      method.kwargs.get("init_screen_iterations"))
               for name, method in METHODS.items() if name.startswith("ENRC")}
    assert len(options) == 7
    assert all(init is not None and normalization is not None for init, normalization, _ in options.values())
    assert len(set(options.values())) == len(options), options
    assert options["ENRC"][:2] == ("random", "cluster_size")  # the paper's
    assert options["ENRC (Nr-Kmeans start)"][:2] == ("nrkmeans", "cluster_size")
    assert options["ENRC (points)"][:2] == ("random", "points")
