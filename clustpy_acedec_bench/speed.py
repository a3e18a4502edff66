"""
Speed against clustpy on the same schedule (``clustpy-acedec-bench --speed TASK``): the same data, network
architecture, batch size and epochs, in one process. Reported per phase (pretraining, initialisation,
clustering, prediction), with peak memory and NMI, so that speed is never bought with quality.

clustpy's ACeDeC and ENRC cannot run on CUDA (device-mismatch errors in clustpy 0.0.3); on a GPU they are run
on the CPU and the output says so. Their phases are separated by pretraining clustpy's autoencoder first (its
own ``fit``) and handing the fitted network to the clusterer, which then skips pretraining. Inside that call,
clustpy's ``_enrc`` calls ``enrc_init`` once to initialise and once more for its default final reclustering
after training: the first call is its initialisation, the rest of the call its clustering, of which the
reclustering is also reported apart. Tasks with ``baseline="DCN"`` compare ours with clustpy's DCN on the
same device instead (clustpy's ACeDeC cannot use a GPU, its DCN can): its initialisation is the embedding and
k-means of ``get_default_deep_clustering_initialization``, its reclustering the prediction and k-means after
its training loop. Seconds per clustering epoch leave the reclustering out (it is paid once),
so that a short schedule (``compare(..., schedule=...)``) gives the per-epoch cost of a long one.
"""

import dataclasses
import functools
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import numpy as np
import torch

from clustpy_acedec_bench.datasets import BenchmarkDataset, load_dataset
from clustpy_acedec_bench.runner import score

PHASES = ("pretraining", "initialization", "clustering", "prediction")
#: rows of the speed table (see :func:`_seconds`), and their labels where they differ from the name
TABLE_ROWS = ("pretraining", "initialization", "clustering", "reclustering", "initialization + clustering",
              "prediction", "total", "pretraining per epoch", "clustering per epoch")
ROW_LABELS = {"reclustering": "of which clustpy's final reclustering", "total": "**total**"}
CLUSTPY = "clustpy 0.0.3"


@dataclass(frozen=True)
class SpeedTask:
    """One comparison: a data set, the two implementations and their shared schedule."""
    dataset: str
    method: str  # "ACeDeC" or "ENRC"
    pretrain_epochs: int
    clustering_epochs: int
    batch_size: int
    embedding_size: int
    max_samples: int | None = None
    init_iterations: int | None = None  # our initial phase; None: the estimator's default
    baseline: str | None = None  # clustpy's estimator to compare with: "DCN", or None for the same method


#: the comparisons of issue 5; schedules are clustpy's defaults for the method
TASKS = {
    "acedec-usps": SpeedTask("USPS", "ACeDeC", 100, 150, 256, 10),
    "enrc-stickfigures": SpeedTask("stickfigures", "ENRC", 100, 150, 128, 20),
    "acedec-mnist": SpeedTask("MNIST", "ACeDeC", 100, 150, 256, 10),
    "enrc-cmnist": SpeedTask("C-MNIST", "ENRC", 100, 150, 128, 20),
    "acedec-usps-short": SpeedTask("USPS", "ACeDeC", 5, 5, 256, 10, max_samples=2000),  # for a quick look
    # issue 20: small data and short schedules, where fixed costs (the initial phase) dominate
    "acedec-digits": SpeedTask("digits", "ACeDeC", 20, 20, 256, 10),
    "acedec-blobs-noise": SpeedTask("blobs-noise", "ACeDeC", 20, 20, 256, 10),
    "acedec-usps-4000": SpeedTask("USPS-4000", "ACeDeC", 15, 15, 256, 10),
    # issue 5's GPU target: clustpy's ACeDeC cannot run on CUDA, its DCN can (same schedule, same device)
    "acedec-mnist-vs-dcn": SpeedTask("MNIST", "ACeDeC", 100, 150, 256, 10, baseline="DCN"),
    "acedec-usps-vs-dcn": SpeedTask("USPS", "ACeDeC", 100, 150, 256, 10, baseline="DCN"),
}
#: clustpy 0.0.3 estimators that run on CUDA (its ACeDeC and ENRC raise device-mismatch errors there)
CLUSTPY_ON_CUDA = ("DCN",)


class PeakHostMemory:
    """Peak resident memory of this process while the block runs (sampled from /proc every 20 ms; Linux)."""

    def __enter__(self):
        self.peak_mb, self._running = self.rss_mb(), True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._running = False
        self._thread.join()
        self.peak_mb = max(self.peak_mb or 0.0, self.rss_mb() or 0.0) or None

    def _sample(self):
        while self._running:
            rss = self.rss_mb()
            if rss is not None:
                self.peak_mb = max(self.peak_mb or 0.0, rss)
            time.sleep(0.02)

    @staticmethod
    def rss_mb() -> float | None:
        """This process's resident memory in MiB from ``/proc/self/statm``; None where that file is absent."""
        try:
            with open("/proc/self/statm") as file:
                return int(file.read().split()[1]) * 4096 / 2 ** 20
        except OSError:
            return None


def _device_peak_mb(device: torch.device) -> float | None:
    return torch.cuda.max_memory_allocated(device) / 2 ** 20 if device.type == "cuda" else None


def _reset_device_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)


def run_ours(task: SpeedTask, data: BenchmarkDataset, seed: int, device: torch.device,
             precision: str = "float32") -> dict:
    """This package's estimator with its own pretraining, at ``precision``; phases from ``fit_seconds_``."""
    from clustpy.deep import DCN
    from clustpy_acedec import ACeDeC, ENRC
    params = dict(batch_size=task.batch_size, pretrain_epochs=task.pretrain_epochs,
                  clustering_epochs=task.clustering_epochs, embedding_size=task.embedding_size, device=device,
                  random_state=seed)
    init = {"precision": precision}
    if task.init_iterations is not None:
        init["init_iterations"] = task.init_iterations
    _reset_device_peak(device)
    with PeakHostMemory() as memory:
        if task.method == "ACeDeC":
            model = ACeDeC(base=DCN(n_clusters=data.n_clusters[0], **params), verbose=False, **init).fit(data.X)
        else:
            model = ENRC(n_clusters=data.n_clusters, verbose=False, **params, **init).fit(data.X)
    return {"implementation": "clustpy-acedec", "device": str(device), "precision": precision, **_epochs(task),
            **model.fit_seconds_,
            **score(data, model.labels_, task.method == "ENRC"), "peak_host_mb": memory.peak_mb,
            "peak_device_mb": _device_peak_mb(device)}


def run_clustpy(task: SpeedTask, data: BenchmarkDataset, seed: int, device: torch.device) -> dict:
    """
    clustpy 0.0.3's counterpart of the task (``task.baseline``, else the same method) with its own pretrained
    network: on ``device`` where clustpy can run there, on the CPU otherwise (its ACeDeC / ENRC on CUDA).
    """
    from clustpy.deep.neural_networks import FeedforwardAutoencoder
    baseline = task.baseline or task.method
    run_device = device if device.type == "cpu" or baseline in CLUSTPY_ON_CUDA else torch.device("cpu")
    torch.manual_seed(seed)
    seconds = {}
    _reset_device_peak(run_device)
    with PeakHostMemory() as memory:
        start = time.perf_counter()
        network = FeedforwardAutoencoder([data.X.shape[1], 500, 500, 2000, task.embedding_size], random_state=seed)
        network.to(run_device).fit(n_epochs=task.pretrain_epochs, optimizer_params={"lr": 1e-3},
                                   batch_size=task.batch_size, data=data.X)
        seconds["pretraining"] = _lap(start, run_device)
        start = time.perf_counter()
        common = dict(batch_size=task.batch_size, pretrain_epochs=0, clustering_epochs=task.clustering_epochs,
                      neural_network=network, embedding_size=task.embedding_size, device=run_device,
                      random_state=seed)
        model, seconds["initialization"], seconds["reclustering"] = _fit_clustpy(baseline, data, common)
        seconds["clustering"] = _lap(start, run_device) - seconds["initialization"]
        start = time.perf_counter()
        labels = model.predict(data.X)
        seconds["prediction"] = _lap(start, run_device)
    note = f"clustpy's {baseline} cannot run on CUDA: run on the CPU" if run_device != device else ""
    return {"implementation": CLUSTPY, "baseline": baseline, "device": str(run_device), **_epochs(task), **seconds,
            **score(data, labels, task.method == "ENRC"), "peak_host_mb": memory.peak_mb,
            "peak_device_mb": _device_peak_mb(run_device), "note": note}


def _fit_clustpy(baseline: str, data: BenchmarkDataset, common: dict) -> tuple:
    """
    Fit clustpy's ``baseline`` estimator and time its phases from inside.

    Returns
    -------
    tuple : (estimator, float, float)
        the fitted estimator, seconds of its initialisation and seconds of the work after its training loop that
        is paid once (ACeDeC / ENRC: the final reclustering, their later ``enrc_init`` calls; DCN: the
        prediction and k-means after its loop)
    """
    import clustpy.deep.dcn
    import clustpy.deep.enrc
    from clustpy.deep import DCN, ENRC, ACeDeC
    if baseline == "DCN":
        # get_default_deep_clustering_initialization: embedding + k-means (pretraining is skipped: 0 epochs)
        init = _CallTimer(clustpy.deep.dcn.get_default_deep_clustering_initialization)
        loop = _CallTimer(clustpy.deep.dcn._DCN_Module.fit)
        with mock.patch.object(clustpy.deep.dcn, "get_default_deep_clustering_initialization", init), \
                mock.patch.object(clustpy.deep.dcn._DCN_Module, "fit", lambda module, *a, **k: loop(module, *a, **k)):
            start = time.perf_counter()
            model = DCN(n_clusters=data.n_clusters[0], **common).fit(data.X)
            after_loop = _lap(start, common["device"]) - init.seconds[0] - sum(loop.seconds)
        return model, init.seconds[0], after_loop
    # clustpy's _enrc calls enrc_init to initialise and again for its default final reclustering
    init = _CallTimer(clustpy.deep.enrc.enrc_init)
    with mock.patch.object(clustpy.deep.enrc, "enrc_init", init):
        if baseline == "ACeDeC":
            model = ACeDeC(n_clusters=data.n_clusters[0], **common).fit(data.X)
        else:
            model = ENRC(n_clusters=data.n_clusters, **common).fit(data.X)
    return model, init.seconds[0], sum(init.seconds[1:])


def _lap(start: float, device: torch.device) -> float:
    """Seconds since ``start`` once the device has finished its queued work."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


class _CallTimer:
    """
    Calls ``function`` and keeps the seconds of every outermost call (``enrc_init(init="auto")`` calls itself
    with the strategy it picked: that inner call is part of the outer one).
    """

    def __init__(self, function):
        self.function, self.seconds, self._depth = function, [], 0

    def __call__(self, *args, **kwargs):
        start = time.perf_counter()
        self._depth += 1
        try:
            return self.function(*args, **kwargs)
        finally:
            self._depth -= 1
            if self._depth == 0:
                self.seconds.append(time.perf_counter() - start)


def _epochs(task: SpeedTask) -> dict:
    return {"pretrain_epochs": task.pretrain_epochs, "clustering_epochs": task.clustering_epochs}


def compare(task_name: str, seeds: list, device: torch.device, data_dir=None, output: Path | None = None,
            precisions: tuple = ("float32",), schedule: dict | None = None) -> list:
    """
    Run ours at every precision and clustpy's once for every seed; append every row to ``output/speed.jsonl``.
    ``schedule`` overrides fields of the task (``pretrain_epochs``, ``clustering_epochs``, ``max_samples``; None
    values are ignored), e.g. a few epochs to measure the seconds per epoch of a long schedule.
    """
    task = scheduled_task(task_name, schedule)
    runs = [functools.partial(run_ours, precision=precision) for precision in precisions] + [run_clustpy]
    rows = []
    for seed in seeds:
        data = load_dataset(task.dataset, seed, data_dir, task.max_samples)
        if device.type == "cuda" and seed == seeds[0]:
            _warm_up(runs, task, data, seed, device)
        for runner in runs:
            row = {"task": task_name, "seed": seed, "n_samples": len(data.X), **runner(task, data, seed, device)}
            rows.append(row)
            if output is not None:
                output.mkdir(parents=True, exist_ok=True)
                with (output / "speed.jsonl").open("a") as file:
                    file.write(json.dumps(row) + "\n")
    return rows


def _warm_up(runs: list, task: SpeedTask, data: BenchmarkDataset, seed: int, device: torch.device) -> None:
    """
    One untimed epoch + epoch of every run on a few batches: on CUDA the first run would otherwise pay the set-up of
    cuBLAS / cuDNN and the lazy loading of kernels that the later ones get for free.
    """
    small = dataclasses.replace(task, pretrain_epochs=1, clustering_epochs=1, init_iterations=10)
    rows = np.random.RandomState(seed).permutation(len(data.X))[:4 * task.batch_size]  # every cluster, likely
    subset = dataclasses.replace(data, X=data.X[rows], labels=data.labels[rows])
    for runner in runs:
        runner(small, subset, seed, device)


def scheduled_task(task_name: str, schedule: dict | None = None) -> SpeedTask:
    """The task ``task_name`` with the non-None fields of ``schedule`` replaced; ValueError for non-positive ones."""
    schedule = {name: value for name, value in (schedule or {}).items() if value is not None}
    for name, value in schedule.items():
        if value < 1:
            raise ValueError(f"{name} must be positive, got {value}")
    return dataclasses.replace(TASKS[task_name], **schedule)


def speed_table(rows: list) -> str:
    """Markdown: mean seconds per phase of every configuration, the ratio clustpy / ours, NMI and memory."""
    theirs = [r for r in rows if r["implementation"] == CLUSTPY]
    ours = {}  # precision -> rows, in the order of the runs
    for row in rows:
        if row["implementation"] != CLUSTPY:
            ours.setdefault(row.get("precision", "float32"), []).append(row)
    baseline = theirs[0].get("baseline") if theirs else None  # rows written before baselines were named have none
    clustpy = f"clustpy {baseline}" if baseline else "clustpy"
    header = "| phase | " + " | ".join(f"ours, {p} (s)" for p in ours) + f" | {clustpy} (s) | " + \
             " | ".join(f"{clustpy} / ours, {p}" for p in ours) + " |"
    lines = [header, "|---" * (2 + 2 * len(ours)) + "|"]
    for phase in TABLE_ROWS:
        label = ROW_LABELS.get(phase, phase)
        mine = [_mean(_seconds(r, phase) for r in group) for group in ours.values()]
        other = _mean(_seconds(r, phase) for r in theirs)
        ratios = [f"{other / m:.2f}×" if other and m else "" for m in mine]
        digits = 2 if phase.endswith("per epoch") else 1  # an epoch of a small data set takes well under a second
        lines.append(f"| {label} | " + " | ".join(_fmt(m, digits) for m in mine) + f" | {_fmt(other, digits)} | " +
                     " | ".join(ratios) + " |")
    seeds = len({r["seed"] for r in rows})
    nmi = "; ".join(f"ours, {p} {_mean_nmi(group)}" for p, group in ours.items())
    host = {p: _mean(r.get("peak_host_mb") for r in group) for p, group in ours.items()}
    device = {f"ours, {p}": _mean(r.get("peak_device_mb") for r in group) for p, group in ours.items()}
    device[clustpy] = _mean(r.get("peak_device_mb") for r in theirs)
    memory = "; ".join(f"ours, {p} {_fmt(mb)} MB" for p, mb in host.items())
    device_memory = [f"{name} {_fmt(mb)} MB" for name, mb in device.items() if mb]
    lines += ["", f"NMI (mean over {seeds} seeds, per ground-truth labeling): {nmi}; {clustpy} {_mean_nmi(theirs)}",
              f"Peak host memory: {memory}; {clustpy} {_fmt(_mean(r.get('peak_host_mb') for r in theirs))} MB"
              + (f"; peak device memory {'; '.join(device_memory)}" if device_memory else "")]
    notes = {r["note"] for r in rows if r.get("note")}
    return "\n".join(lines + [f"Note: {n}" for n in sorted(notes)]) + "\n"


def _seconds(row: dict, phase: str) -> float | None:
    """
    One run's seconds of a phase, or of one epoch of pretraining / clustering (without clustpy's final
    reclustering, which is paid once). Rows written before clustpy's initialisation was timed apart have only
    clustpy's "initialization + clustering" (and no epochs).
    """
    if phase == "initialization + clustering" and phase not in row:
        return (row.get("initialization") or 0.0) + (row.get("clustering") or 0.0)
    if phase == "total":
        return sum(_seconds(row, p) or 0.0 for p in ("pretraining", "initialization + clustering", "prediction"))
    if phase == "pretraining per epoch" and row.get("pretrain_epochs"):
        return row["pretraining"] / row["pretrain_epochs"]
    if phase == "clustering per epoch" and row.get("clustering_epochs") and "clustering" in row:
        return (row["clustering"] - row.get("reclustering", 0.0)) / row["clustering_epochs"]
    return row.get(phase)


def _mean(values) -> float | None:
    """Mean of the values that were measured (None: none was)."""
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def _mean_nmi(rows: list) -> list:
    return np.round(np.mean([r["nmi"] for r in rows], axis=0), 3).tolist() if rows else []


def _fmt(value, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"
