"""
The benchmark loop: for every data set and seed one pretrained autoencoder, then every method on it; each
finished run is appended to ``results.jsonl`` at once, so that an interrupted benchmark resumes where it
stopped.
"""

import contextlib
import json
import os
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.metrics import normalized_mutual_info_score

from clustpy_acedec.metrics import average_variation_of_information, best_match_nmi
from clustpy_acedec_bench.datasets import BenchmarkDataset, load_dataset
from clustpy_acedec_bench.formatting import format_score, format_seconds
from clustpy_acedec_bench.methods import METHODS, RunContext


@dataclass
class DatasetPlan:
    """How one data set is run: its schedule and the methods that apply to it."""
    name: str
    methods: list
    pretrain_epochs: int = 100
    clustering_epochs: int = 150
    batch_size: int = 256
    embedding_size: int = 10
    max_samples: int | None = None
    seeds: list = field(default_factory=lambda: list(range(10)))
    pretraining: str = "stacked_denoising"
    linear_autoencoder: bool = False
    network: str = "feedforward"  # or "convolutional" (image data sets): SmallConvAutoencoder, ENRC §3.2
    activation: str = "leaky_relu"  # the feedforward network's hidden activation (methods.ACTIVATIONS)
    init_iterations: int | None = None  # ACeDeC's initial phase / each ENRC init round; None: estimator default


def score(data: BenchmarkDataset, labels: np.ndarray, multi: bool) -> dict:
    """NMI per ground-truth labeling (best-matching found clustering) and, for several clusterings, the VI."""
    labels = np.asarray(labels).reshape(len(labels), -1)
    if not multi:
        return {"nmi": [float(normalized_mutual_info_score(data.labels[:, 0], labels[:, 0]))], "vi": None}
    nmi = best_match_nmi(data.labels, labels).tolist()
    try:
        vi = average_variation_of_information(labels)
    except ValueError:  # fewer than two non-trivial clusterings found: 'n.a.' as in ENRC Table 3
        vi = None
    return {"nmi": nmi, "vi": vi}


#: What a plan sets for every run of a data set, recorded with each run: the runs of one data set in a folder
#: must agree on them, or a resumed run with other settings would be averaged with the old ones in one cell.
SETTINGS = ("pretrain_epochs", "clustering_epochs", "pretraining", "batch_size", "embedding_size", "max_samples",
            "network", "activation", "linear_autoencoder", "init_iterations")


def read_results(path: Path) -> list:
    """
    The records of ``results.jsonl``, the last one of each (data set, method, seed) where a failed run was run
    again. A last line cut off by an interrupted write (no newline at its end) is not a record and is left out.

    Raises
    ------
    ValueError
        for any other line that is not a JSON record, naming the file and the line
    """
    if not path.is_file():
        return []
    text = path.read_text()
    lines = text.splitlines()
    records = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            key = _key(record)
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            if number == len(lines) and not text.endswith("\n"):  # the write of the last run was interrupted
                break
            raise ValueError(f"{path}, line {number}, is not a benchmark record ({type(error).__name__}: {error}); "
                             "remove or repair that line to resume") from None
        records.pop(key, None)  # a rerun of a failed run replaces it, at its new place
        records[key] = record
    return list(records.values())


def _key(record: dict) -> tuple:
    return record["dataset"], record["method"], record["seed"]


def _check_settings(plans: list, previous: list, results_path: Path) -> None:
    """Every plan's settings are those its data set's records in the folder were run with (where recorded)."""
    for plan in plans:
        for record in previous:
            if record["dataset"] != plan.name:
                continue
            for name in SETTINGS:
                if name in record and record[name] != getattr(plan, name):
                    raise ValueError(f"{results_path} holds {plan.name} runs with {name}={record[name]!r}; this run "
                                     f"asks {name}={getattr(plan, name)!r}: resume with the same settings or write "
                                     "to another --output")


def _append(results_path: Path, record: dict, replaces: bool) -> None:
    """Append ``record`` to the folder's records; where it ``replaces`` a failed run of the same key, the file is
    rewritten without that run's record."""
    if replaces:
        _rewrite(results_path, [r for r in read_results(results_path) if _key(r) != _key(record)] + [record])
        return
    with results_path.open("a") as file:
        file.write(json.dumps(record) + "\n")


def _rewrite(results_path: Path, records: list) -> None:
    """Replace the folder's records by ``records``, through a temporary file on disk: a stop leaves the old or
    the new file, never part of one."""
    partial = results_path.with_name(results_path.name + ".partial")
    with partial.open("w") as file:
        file.write("".join(json.dumps(r) + "\n" for r in records))
        file.flush()
        os.fsync(file.fileno())
    partial.replace(results_path)


def run_plan(plans: list, output: Path, device: str = "cpu", data_dir=None, verbose: bool = True,
             progress: bool = True, precision: str = "float32", autoencoder_cache=None,
             unavailable: list | None = None) -> list:
    """
    Run every (data set, seed, method) of the plans that ``output/results.jsonl`` does not hold yet, the
    pretraining and our estimators at ``precision`` ("float32" or "bfloat16", recorded with every run).

    With ``progress`` the benchmark's bar counts finished runs and names the one in progress with its elapsed
    time, and the bars of the pretraining and of the deep methods ("pretraining", "layer pair 1", "ACeDeC
    clustering", clustpy's "DCN training", ...) move under it, so that a run of an hour shows that it works.

    Parameters
    ----------
    plans : list
        :class:`DatasetPlan` objects
    output : Path
        folder of ``results.jsonl``
    device : str
        where the deep methods run (default: "cpu")
    data_dir : str | Path | None
        folder of the .npz files (default: None, see :func:`clustpy_acedec_bench.data.default_data_dir`)
    verbose : bool
        write one line per finished run: NMI, VI and its duration (default: True)
    progress : bool
        show the progress bars described above (default: True)
    precision : str
        "float32" or "bfloat16" (default: "float32")
    autoencoder_cache : str | Path | None
        folder where each pretrained autoencoder is saved when its pretraining ends and read back by a later
        run with the same settings, so that a stopped benchmark resumes without repeating hours of pretraining
        (default: None, no cache)
    unavailable : list | None
        where given, the names of the data sets that could not be loaded (no file, no download) are appended to it:
        their runs are skipped, not recorded (default: None)

    Returns
    -------
    list
        all records of ``results.jsonl`` (old and new)
    """
    import tqdm
    output.mkdir(parents=True, exist_ok=True)
    results_path = output / "results.jsonl"
    previous = read_results(results_path)
    if results_path.is_file() and not results_path.read_text().endswith("\n"):
        _rewrite(results_path, previous)  # without the line a stopped write cut off, so that appends start clean
    # the settings a folder is held to are those of its results; a failed run is run again with this run's
    completed = [r for r in previous if not r.get("error")]
    mixed = {r.get("precision", "float32") for r in completed} - {precision}
    if mixed:  # the runs of a report must be comparable: one precision per output folder
        raise ValueError(f"{results_path} holds runs at precision {sorted(mixed)}; resume it with that precision "
                         f"or write the {precision} runs to another --output")
    activations = {plan.activation for plan in plans}
    mixed = {r.get("activation", "leaky_relu") for r in completed} | activations
    if len(mixed) > 1:  # as the precision: the records of one folder come from one kind of network
        raise ValueError(f"{results_path} and this run together hold autoencoders with the activations "
                         f"{sorted(mixed)}; write each activation's runs to its own --output")
    _check_settings(plans, completed, results_path)
    failed = {_key(r) for r in previous if r.get("error")}  # run again: the cause may be gone
    done = {_key(r) for r in previous} - failed
    jobs = [(plan, seed, method) for plan in plans for seed in plan.seeds for method in plan.methods
            if (plan.name, method, seed) not in done]
    bar = tqdm.tqdm(total=len(jobs), desc="benchmark", unit="run", disable=not progress)
    loaded = None  # (data set, seed) in memory: one data set and autoencoder at a time
    skipped = set()  # data sets whose file is missing and could not be downloaded: skipped, not recorded
    for plan, seed, method_name in jobs:
        if plan.name in skipped:
            bar.update()
            continue
        with _running(bar, f"{plan.name} / {method_name} / seed {seed}"):
            if loaded != (plan.name, seed):
                loaded = (plan.name, seed)
                try:
                    data = load_dataset(plan.name, seed, data_dir, plan.max_samples)
                except OSError as error:  # no file and no download (FileNotFoundError, URLError): others still run
                    skipped.add(plan.name)
                    if unavailable is not None:
                        unavailable.append(plan.name)
                    bar.write(f"{plan.name}: not available ({type(error).__name__}: {error}); skipped, rerun to "
                              "resume")
                    bar.update()
                    continue
                # the estimators' own bars (pretraining, initialisation, clustering) nest under the run's bar
                context = RunContext(seed, device, plan.pretrain_epochs, plan.clustering_epochs, plan.batch_size,
                                     plan.embedding_size, plan.pretraining, plan.linear_autoencoder,
                                     network=plan.network, activation=plan.activation,
                                     init_iterations=plan.init_iterations,
                                     precision=precision, verbose=progress, autoencoder_cache=autoencoder_cache)
            record = _run_one(data, context, method_name, plan, device)
        _append(results_path, record, replaces=_key(record) in failed)
        if verbose:
            bar.write(_describe(record))
        bar.update()  # the bar counts finished runs
    bar.close()
    return read_results(results_path)


def _run_one(data: BenchmarkDataset, context: RunContext, method_name: str, plan: DatasetPlan, device: str) -> dict:
    method = METHODS[method_name]
    record = {"dataset": plan.name, "method": method_name, "seed": context.seed, "n_samples": len(data.X),
              "n_features": data.X.shape[1], **{name: getattr(plan, name) for name in SETTINGS}, "device": device,
              "precision": context.precision,
              "notes": "; ".join(data.notes), "nmi": None, "vi": None, "n_cluster_dims": None, "error": None}
    if method.multi and not data.is_multi:
        record["error"] = "needs a data set with several ground-truth labelings"
        return record
    augmented = method.augmented_autoencoder
    try:
        if method.uses_autoencoder:  # pretraining is timed once per data set, seed and kind, not per method
            context.autoencoder(data, augmented)
        # a method on the raw data pretrains nothing, whatever the methods before it on this data set and seed did
        record["pretrain_seconds"] = round(context.pretrain_seconds.get(augmented, 0.0), 2) \
            if method.uses_autoencoder else 0.0
        start = time.perf_counter()
        result = method.run(data, context, **method.kwargs)
    except Exception as error:  # a failing baseline is reported, not fatal to the benchmark
        record["error"] = f"{type(error).__name__}: {error}"
        record["traceback"] = traceback.format_exc(limit=3)
        return record
    record["seconds"] = round(time.perf_counter() - start, 2)
    record.update(score(data, result["labels"], method.multi))
    record["n_cluster_dims"] = result.get("n_cluster_dims")
    if "betas" in result:
        record["betas"], record["betas_init"] = result["betas"], result["betas_init"]
    if "init_screen_iterations" in result:  # ACeDeC's initial phase: 0 ran every candidate through, as every record
        # before 2026-12-01 (which lacks the field)
        record["init_screen_iterations"] = result["init_screen_iterations"]
    return record


@contextlib.contextmanager
def _running(bar, what: str, every: float = 1.0):
    """
    Name the run in progress in the bar's postfix with its elapsed time, redrawn every ``every`` seconds by a
    helper thread: tqdm redraws a bar only when it moves, and a run of k-means or Nr-Kmeans has no bar of its own
    (the deep methods' bars move below). Nothing happens for a disabled bar (``--quiet``).
    """
    if bar.disable:
        yield
        return
    start = time.perf_counter()
    stop = threading.Event()

    def show(refresh: bool = True):  # set_postfix_str redraws under tqdm's lock, which the nested bars share
        bar.set_postfix_str(f"{what}, {format_seconds(time.perf_counter() - start)}", refresh=refresh)

    def tick():
        while not stop.wait(every):
            show()

    show()
    ticker = threading.Thread(target=tick, name="benchmark-progress", daemon=True)
    ticker.start()
    try:
        yield
    finally:
        stop.set()
        ticker.join()
        show(refresh=False)  # the run's whole duration, drawn with the bar's next update


def _describe(record: dict) -> str:
    """One line per finished run: scores with three decimals and its duration."""
    if record.get("error"):
        return f"{record['dataset']:>12} | {record['method']:<24} | seed {record['seed']} | skipped: {record['error']}"
    nmi = " ".join(format_score(v) for v in record["nmi"])
    vi = f" VI {format_score(record['vi'])}" if record.get("vi") is not None else ""
    return (f"{record['dataset']:>12} | {record['method']:<24} | seed {record['seed']} | NMI {nmi}{vi} | "
            f"{format_seconds(record['seconds'])}")
