"""
Scaling (``clustpy-acedec-bench --scaling``): seconds per clustering epoch and peak memory of ACeDeC(DCN) and
ENRC against the number of points N, the embedding size d and the number of clusters K, each axis with the
other two held fixed, on Gaussian blobs.

What is timed is the clustering phase of ``fit`` (``fit_seconds_["clustering"]`` divided by the epochs), the
phase whose cost grows with the training; the initialisation (the estimator's default start: k-means, Nr-Kmeans
or k-means++ seeding on a sample of at most 50,000 points of the embedding, then at least one epoch of the
initial phase) and the final prediction are reported beside it. Pretraining is not measured: every fit starts from a freshly drawn, unfitted D-hidden-d
FeedforwardAutoencoder with ``pretrain_epochs=0``, whose cost per step is the same as a trained one's. ENRC
clusters into two clusterings of K clusters each (``n_clusters=[K, K]``).

Per axis the growth is summarised by the slope of a least-squares line in log-log coordinates: a slope of 1
against N means linear in N. Memory is the peak resident set of the process during ``fit`` minus the resident
set before it (the data array itself is created before; on the CPU the estimator uses it without a copy), also
per phase of the fit (from a timeline of RSS samples), and on CUDA ``torch.cuda.max_memory_allocated`` during
``fit`` minus the allocation before it.
"""

import csv
import ctypes
import gc
import json
import math
import os
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from clustpy_acedec_bench.speed import PeakHostMemory

#: the estimators measured
SCALING_METHODS = ("ACeDeC", "ENRC")

#: the three axes: name in the rows, label in tables and plots
AXES = {"n_samples": "N", "embedding_size": "d", "n_clusters": "K"}

#: per-row measurements that get a log-log slope per axis
SLOPE_KEYS = ("seconds_per_epoch", "initialization_seconds", "peak_host_delta_mb", "peak_host_clustering_delta_mb",
              "peak_device_delta_mb")

#: the phases of ``fit_seconds_``, in the order they run
PHASES = ("pretraining", "initialization", "clustering", "prediction")


@dataclass(frozen=True)
class ScalingGrid:
    """
    The measurement plan: the values of each axis, the values held fixed on the other axes, and the schedule.

    Parameters
    ----------
    sizes : tuple
        N on the N axis (default: 10k, 30k, 100k, 300k, 1M)
    dims : tuple
        d on the d axis (default: 5, 10, 20, 40, 80)
    clusters : tuple
        K on the K axis (default: 2, 5, 10, 50, 200)
    n_samples : int
        N held fixed on the d and K axes (default: 100,000)
    embedding_size : int
        d held fixed on the N and K axes (default: 10)
    n_clusters : int
        K held fixed on the N and d axes (default: 10)
    n_features : int
        D, the input dimension of the blobs (default: 32)
    hidden : int
        width of the autoencoder's hidden layer, D-hidden-d (default: 64)
    batch_size : int
        mini-batch size of both estimators (default: 256)
    epochs : int
        clustering epochs per fit; the time per epoch is the clustering phase divided by them (default: 2)
    init_iterations : int
        iterations of the initial phase (rounded up to whole epochs by the estimators); both estimators run
        one initial candidate (``init_rounds=1``) (default: 20)
    methods : tuple
        subset of :data:`SCALING_METHODS` (default: both)
    seed : int
        seed of the data, the networks and the estimators (default: 0)
    """
    sizes: tuple = (10_000, 30_000, 100_000, 300_000, 1_000_000)
    dims: tuple = (5, 10, 20, 40, 80)
    clusters: tuple = (2, 5, 10, 50, 200)
    n_samples: int = 100_000
    embedding_size: int = 10
    n_clusters: int = 10
    n_features: int = 32
    hidden: int = 64
    batch_size: int = 256
    epochs: int = 2
    init_iterations: int = 20
    methods: tuple = SCALING_METHODS
    seed: int = 0

    def points(self) -> list:
        """The distinct (N, d, K) settings of the three axes, in the order they are measured (cheap first)."""
        settings = [(n, self.embedding_size, self.n_clusters) for n in sorted(self.sizes)]
        settings += [(self.n_samples, d, self.n_clusters) for d in sorted(self.dims)]
        settings += [(self.n_samples, self.embedding_size, k) for k in sorted(self.clusters)]
        return list(dict.fromkeys(settings))

    def check(self) -> None:
        """Raise ValueError for an unknown method, a non-positive size, a K below 2, or a measured point with more
        clusters than points."""
        unknown = [m for m in self.methods if m not in SCALING_METHODS]
        if unknown:
            raise ValueError(f"unknown scaling method(s) {unknown}; known: {', '.join(SCALING_METHODS)}")
        clusters, sizes = [*self.clusters, self.n_clusters], [*self.sizes, self.n_samples]
        values = [*sizes, *self.dims, *clusters, self.embedding_size, self.n_features, self.hidden,
                  self.batch_size, self.epochs]
        if min(values) < 1 or min(clusters) < 2 or self.init_iterations < 0:
            raise ValueError("every size must be positive and every K at least 2")
        crowded = [(n, k) for n, _, k in self.points() if k > n]  # the N axis runs n_clusters, the K axis n_samples
        if crowded:
            raise ValueError(f"K must not exceed N at any measured point, got (N, K) = {crowded[0]}")


def grid_from_dict(values: dict) -> ScalingGrid:
    """The grid back from its dict (e.g. read from scaling.json, where tuples became lists)."""
    return ScalingGrid(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


# ------------------------------------------------------------------------------------------ data and models
def make_blobs(n_samples: int, n_features: int, n_clusters: int, seed: int = 0,
               chunk: int = 100_000) -> np.ndarray:
    """
    Gaussian blobs as float32: K centres drawn from N(0, 4²) per feature, unit-variance clusters of random size.

    Parameters
    ----------
    n_samples : int
        N
    n_features : int
        D
    n_clusters : int
        K
    seed : int
        seed of numpy's generator (default: 0)
    chunk : int
        rows generated at a time, so that no float64 or second N x D array is made (default: 100,000)

    Returns
    -------
    X : np.ndarray
        shape (n_samples, n_features), float32
    """
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=4.0, size=(n_clusters, n_features)).astype(np.float32)
    X = np.empty((n_samples, n_features), np.float32)
    for start in range(0, n_samples, chunk):
        block = X[start:start + chunk]
        rng.standard_normal(block.shape, dtype=np.float32, out=block)
        block += centers[rng.integers(n_clusters, size=len(block))]
    return X


def make_estimator(method: str, n_features: int, embedding_size: int, n_clusters: int, grid: ScalingGrid,
                   device: torch.device, epochs: int | None = None):
    """
    An unfitted estimator with a fresh, unfitted D-hidden-d autoencoder and no pretraining.

    Parameters
    ----------
    method : str
        "ACeDeC" (with a DCN base) or "ENRC" (two clusterings of ``n_clusters``)
    n_features, embedding_size, n_clusters : int
        D, d and K
    grid : ScalingGrid
        batch size, hidden width, epochs, initial iterations, seed
    device : torch.device
        where to fit
    epochs : int | None
        clustering epochs instead of the grid's

    Returns
    -------
    ACeDeC | ENRC
    """
    from clustpy.deep import DCN
    from clustpy.deep.neural_networks import FeedforwardAutoencoder
    from clustpy_acedec import ACeDeC, ENRC
    torch.manual_seed(grid.seed)
    network = FeedforwardAutoencoder([n_features, grid.hidden, embedding_size], random_state=grid.seed)
    params = dict(batch_size=grid.batch_size, pretrain_epochs=0,
                  clustering_epochs=grid.epochs if epochs is None else epochs, neural_network=network,
                  embedding_size=embedding_size, device=device, random_state=grid.seed)
    if method == "ACeDeC":
        estimator = ACeDeC(base=DCN(n_clusters=n_clusters, **params), init_iterations=grid.init_iterations,
                           verbose=False)
    elif method == "ENRC":
        estimator = ENRC(n_clusters=[n_clusters, n_clusters], init_iterations=grid.init_iterations, verbose=False,
                         **params)
    else:
        raise ValueError(f"unknown scaling method {method!r}; known: {', '.join(SCALING_METHODS)}")
    if "init_rounds" in estimator.get_params(deep=False):  # one initial candidate: the cost is per candidate
        estimator.set_params(init_rounds=1)
    return estimator


# ------------------------------------------------------------------------------------------ measurement
def _release_host_memory() -> None:
    """Collect garbage and hand freed heap back to the OS (glibc), so that the next RSS baseline is honest."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class HostMemoryTimeline(PeakHostMemory):
    """:class:`PeakHostMemory` that also keeps every (time, RSS) sample, for the peak of each phase of a fit."""

    def __enter__(self):
        self.samples = []
        return super().__enter__()

    def __exit__(self, *exc):
        super().__exit__(*exc)
        self.end = time.perf_counter()

    def _sample(self):
        while self._running:
            rss = self.rss_mb()
            if rss is not None:
                self.samples.append((time.perf_counter(), rss))
                self.peak_mb = max(self.peak_mb or 0.0, rss)
            time.sleep(0.02)

    def phase_peaks(self, seconds: dict) -> dict:
        """
        Peak RSS (MB) within each phase; phases are laid back to back ending when the block ended, in the order
        of :data:`PHASES`. None for a phase too short to hold a sample (20 ms).
        """
        peaks, end = {}, self.end
        for phase in reversed([p for p in PHASES if p in seconds]):
            start = end - seconds[phase]
            inside = [rss for when, rss in self.samples if start <= when <= end]
            peaks[phase] = max(inside) if inside else None
            end = start
        return peaks


def _delta(peak: float | None, before: float | None) -> float | None:
    return None if peak is None or before is None else max(peak - before, 0.0)


def _device_allocated_mb(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    torch.cuda.synchronize(device)
    return torch.cuda.memory_allocated(device) / 2 ** 20


def measure(method: str, n_samples: int, embedding_size: int, n_clusters: int, grid: ScalingGrid,
            device: torch.device) -> dict:
    """
    One fit of ``method`` on N blobs with embedding size d and K clusters; its phase times and peak memory.

    Returns
    -------
    row : dict
        method, N, d, K, epochs, steps per epoch, ``seconds_per_epoch`` (clustering phase / epochs),
        ``ms_per_step``, the initialisation, prediction and setup ("pretraining": moving the data and encoding
        it once) seconds, ``peak_host_delta_mb`` (the whole fit), ``peak_host_<phase>_delta_mb`` for the
        initialisation, clustering and prediction phases, and ``peak_device_delta_mb`` (None off CUDA)
    """
    X = make_blobs(n_samples, grid.n_features, n_clusters, grid.seed)
    estimator = make_estimator(method, grid.n_features, embedding_size, n_clusters, grid, device)
    _release_host_memory()
    device_before = _device_allocated_mb(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    host_before = PeakHostMemory.rss_mb()
    with HostMemoryTimeline() as memory:
        estimator.fit(X)
    seconds = estimator.fit_seconds_
    phase_peaks = memory.phase_peaks(seconds)
    steps = math.ceil(n_samples / grid.batch_size)
    row = {"method": method, "n_samples": n_samples, "embedding_size": embedding_size, "n_clusters": n_clusters,
           "device": str(device), "epochs": grid.epochs, "steps_per_epoch": steps,
           "seconds_per_epoch": seconds["clustering"] / grid.epochs,
           "ms_per_step": 1000 * seconds["clustering"] / (grid.epochs * steps),
           "initialization_seconds": seconds["initialization"], "prediction_seconds": seconds["prediction"],
           "setup_seconds": seconds["pretraining"],
           "peak_host_delta_mb": _delta(memory.peak_mb, host_before),
           **{f"peak_host_{phase}_delta_mb": _delta(phase_peaks.get(phase), host_before)
              for phase in ("initialization", "clustering", "prediction")},
           "peak_device_delta_mb": None if device_before is None
           else torch.cuda.max_memory_allocated(device) / 2 ** 20 - device_before}
    del estimator, X
    return row


def _warm_up(method: str, grid: ScalingGrid, device: torch.device) -> None:
    """One tiny fit, so that one-time costs (lazy initialisation of torch and its kernels) are not timed."""
    n = max(4 * grid.batch_size, 4 * grid.n_clusters)
    make_estimator(method, grid.n_features, grid.embedding_size, grid.n_clusters, grid, device,
                   epochs=1).fit(make_blobs(n, grid.n_features, grid.n_clusters, grid.seed))


def run_scaling(grid: ScalingGrid, device, log: Callable[[str], None] | None = None) -> dict:
    """
    Measure every method at every setting of the grid (each distinct (N, d, K) once).

    Parameters
    ----------
    grid : ScalingGrid
        what to measure
    device : torch.device | str
        where to fit
    log : Callable[[str], None] | None
        called with one line per finished fit (e.g. ``print``)

    Returns
    -------
    result : dict
        "grid" (the plan as a dict), "rows" (one :func:`measure` row per method and setting), "slopes"
        (:func:`slopes`), "torch_threads"
    """
    grid.check()
    device = torch.device(device)
    load_before = _load_average()
    rows = []
    for method in grid.methods:
        _warm_up(method, grid, device)
        for n_samples, embedding_size, n_clusters in grid.points():
            row = measure(method, n_samples, embedding_size, n_clusters, grid, device)
            rows.append(row)
            if log is not None:
                log(f"{method} N={n_samples} d={embedding_size} K={n_clusters}: "
                    f"{row['seconds_per_epoch']:.3f} s/epoch, init {row['initialization_seconds']:.2f} s, "
                    f"peak host +{_fmt(row['peak_host_delta_mb'], 1)} MB")
    return {"grid": asdict(grid), "torch_threads": torch.get_num_threads(), "source": source_revision(),
            "load_before": load_before, "load_after": _load_average(), "rows": rows, "slopes": slopes(rows, grid)}


def _load_average() -> float | None:
    """The 1-minute load average: other processes on the machine slow the timings down."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def source_revision() -> str:
    """The package version and, in a git checkout, ``git describe --always --dirty`` of it."""
    from clustpy_acedec import __version__
    try:
        described = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=Path(__file__).parent,
                                   capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        described = ""
    return f"clustpy-acedec {__version__}" + (f", git {described}" if described else "")


# ------------------------------------------------------------------------------------------ analysis
def loglog_slope(x, y) -> float | None:
    """
    Slope of the least-squares line through (log x, log y); pairs with a missing or non-positive value are
    dropped. None when fewer than two distinct x remain.

    Parameters
    ----------
    x, y : sequence of float
        e.g. N and the seconds per epoch

    Returns
    -------
    slope : float | None
        the exponent b of y ≈ a·x^b (1: linear, 0: constant)
    """
    pairs = [(float(a), float(b)) for a, b in zip(x, y) if a is not None and b is not None and a > 0 and b > 0]
    if len({a for a, _ in pairs}) < 2:
        return None
    logs = np.log(np.array(pairs))
    return float(np.polyfit(logs[:, 0], logs[:, 1], 1)[0])


def axis_rows(rows: list, grid: ScalingGrid, axis: str, method: str) -> list:
    """The rows of one method on one axis (the other two at the grid's fixed values), sorted along the axis."""
    fixed = {"n_samples": grid.n_samples, "embedding_size": grid.embedding_size, "n_clusters": grid.n_clusters}
    values = {"n_samples": grid.sizes, "embedding_size": grid.dims, "n_clusters": grid.clusters}[axis]
    selected = [r for r in rows if r["method"] == method and r[axis] in values
                and all(r[other] == fixed[other] for other in AXES if other != axis)]
    return sorted(selected, key=lambda r: r[axis])


def slopes(rows: list, grid: ScalingGrid) -> dict:
    """{method: {axis: {measurement: log-log slope}}} for every measurement of :data:`SLOPE_KEYS`."""
    methods = list(dict.fromkeys(r["method"] for r in rows))
    result = {}
    for method in methods:
        result[method] = {}
        for axis in AXES:
            selected = axis_rows(rows, grid, axis, method)
            result[method][axis] = {key: loglog_slope([r[axis] for r in selected], [r.get(key) for r in selected])
                                    for key in SLOPE_KEYS}
    return result


# ------------------------------------------------------------------------------------------ output
def write_scaling(result: dict, output, command: str = "", machine: str = "") -> dict:
    """
    Write scaling.json, scaling.csv, scaling.md and scaling.png to ``output``.

    Parameters
    ----------
    result : dict
        from :func:`run_scaling`
    output : str | Path
        folder, created if needed
    command : str
        the command line, for the report
    machine : str
        a description of the machine, for the report

    Returns
    -------
    paths : dict
        "json", "csv", "md", "png" -> Path
    """
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    paths = {kind: output / f"scaling.{kind}" for kind in ("json", "csv", "md", "png")}
    paths["json"].write_text(json.dumps({**result, "command": command, "machine": machine}, indent=1))
    _write_csv(result["rows"], paths["csv"])
    scaling_figure(result, paths["png"])
    paths["md"].write_text(scaling_report(result, command, machine, figure=paths["png"].name))
    return paths


def _write_csv(rows: list, path: Path) -> None:
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]) if rows else ["method"])
        writer.writeheader()
        writer.writerows(rows)


def _fmt(value, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _phase_memory(row: dict) -> str:
    phases = ("initialization", "clustering", "prediction")
    values = [row.get(f"peak_host_{phase}_delta_mb") for phase in phases]
    return "" if all(v is None for v in values) else " / ".join(_fmt(v, 1) or "–" for v in values)


def scaling_report(result: dict, command: str = "", machine: str = "", figure: str | None = "scaling.png") -> str:
    """The Markdown report: settings, the slopes, one table per axis and the figure."""
    grid = grid_from_dict(result["grid"])
    rows = result["rows"]
    lines = ["# Scaling: time per clustering epoch and peak memory against N, d and K", "",
             f"- command: `{command}`", f"- machine: {machine}", f"- torch threads: {result.get('torch_threads')}",
             f"- data: Gaussian blobs, D = {grid.n_features}; autoencoder {grid.n_features}-{grid.hidden}-d "
             f"(unfitted, no pretraining); batch size {grid.batch_size}; {grid.epochs} clustering epoch(s) per fit, "
             f"{grid.init_iterations} initial iterations (rounded up to whole epochs), one initial candidate "
             "(`init_rounds=1`); ENRC: n_clusters = [K, K]",
             f"- source: {result.get('source', '')}; load average (1 min) before / after: "
             f"{_fmt(result.get('load_before'), 2)} / {_fmt(result.get('load_after'), 2)}",
             f"- held fixed: N = {grid.n_samples:,}, d = {grid.embedding_size}, K = {grid.n_clusters}",
             "- s/epoch: clustering phase of `fit` / epochs; init: initialisation phase of `fit` (the estimator's "
             "default start on a sample of at most 50,000 points, then the initial phase); memory: peak RSS during "
             "`fit` (or during one of its phases) minus RSS before the fit (device: peak CUDA allocation minus allocation before)", "",
             "## Slopes (least squares in log-log; 1 = linear, 0 = constant)", "",
             "| method | axis | s/epoch | init | peak host memory | … in the clustering phase | peak device memory |",
             "|---|---|---|---|---|---|---|"]
    for method, per_axis in result["slopes"].items():
        for axis, values in per_axis.items():
            lines.append(f"| {method} | {AXES[axis]} | "
                         + " | ".join(_fmt(values.get(k), 2) for k in SLOPE_KEYS) + " |")
    for axis, label in AXES.items():
        lines += ["", f"## Against {label}", "",
                  "| method | N | d | K | steps/epoch | s/epoch | ms/step | init (s) | prediction (s) | "
                  "peak host Δ (MB) | host Δ: init / clustering / prediction (MB) | peak device Δ (MB) |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for method in grid.methods:
            for r in axis_rows(rows, grid, axis, method):
                lines.append(f"| {method} | {r['n_samples']:,} | {r['embedding_size']} | {r['n_clusters']} | "
                             f"{r['steps_per_epoch']} | {_fmt(r['seconds_per_epoch'])} | {_fmt(r['ms_per_step'], 2)} | "
                             f"{_fmt(r['initialization_seconds'], 2)} | {_fmt(r['prediction_seconds'], 2)} | "
                             f"{_fmt(r['peak_host_delta_mb'], 1)} | {_phase_memory(r)} | "
                             f"{_fmt(r['peak_device_delta_mb'], 1)} |")
    if figure:
        lines += ["", f"![scaling]({figure})"]
    return "\n".join(lines) + "\n"


def scaling_figure(result: dict, path) -> Path:
    """
    Two rows of three log-log panels (against N, d, K): seconds per epoch (top; the N panel with the fitted
    line and its slope) and peak memory (bottom; host RSS delta, device allocation delta where measured).
    matplotlib is imported here, with its Agg canvas and without pyplot's global state.
    """
    from matplotlib.figure import Figure
    grid = grid_from_dict(result["grid"])
    figure = Figure(figsize=(13, 7))
    axes = figure.subplots(2, 3)
    for column, (axis, label) in enumerate(AXES.items()):
        for method in grid.methods:
            selected = axis_rows(result["rows"], grid, axis, method)
            xs = [r[axis] for r in selected]
            _time_panel(axes[0, column], xs, [r["seconds_per_epoch"] for r in selected], method,
                        fit=axis == "n_samples")
            _memory_panel(axes[1, column], xs, selected, method)
        axes[0, column].set_title(f"time per epoch against {label}", fontsize=10)
        axes[1, column].set_title(f"peak memory against {label}", fontsize=10)
        values = sorted({r[axis] for m in grid.methods for r in axis_rows(result["rows"], grid, axis, m)})
        for row in (0, 1):
            _log_axes(axes[row, column], label, values)
        axes[0, column].set_ylabel("seconds per epoch")
        axes[1, column].set_ylabel("MB")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    return Path(path)


def _short(value: int) -> str:
    """10000 -> '10k', 1000000 -> '1M'."""
    for factor, suffix in ((1_000_000, "M"), (1_000, "k")):
        if value >= factor and value % (factor // 10) == 0:
            return f"{value / factor:g}{suffix}"
    return str(value)


def _log_axes(ax, label: str, values: list) -> None:
    """Log-log axes with the grid's values as the only x ticks (linear, empty axes when nothing was measured)."""
    from matplotlib.ticker import FixedLocator, NullLocator
    ax.set_xlabel(label)
    if not any(len(line.get_xdata()) for line in ax.get_lines()):
        return
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(FixedLocator(values))
    ax.set_xticklabels([_short(v) for v in values])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.grid(True, which="both", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)


def _time_panel(ax, xs: list, ys: list, method: str, fit: bool) -> None:
    line, = ax.plot(xs, ys, marker="o", label=method)
    slope = loglog_slope(xs, ys) if fit else None
    if slope is not None:
        logs = np.log(np.array([(x, y) for x, y in zip(xs, ys) if y and y > 0]))
        intercept = float(np.mean(logs[:, 1] - slope * logs[:, 0]))
        ends = np.array([min(xs), max(xs)], dtype=float)
        ax.plot(ends, np.exp(intercept) * ends ** slope, linestyle="--", color=line.get_color(),
                label=f"{method} fit: slope {slope:.2f}")


def _memory_panel(ax, xs: list, rows: list, method: str) -> None:
    for key, style, name in (("peak_host_delta_mb", "-", "host"), ("peak_host_clustering_delta_mb", "--",
                                                                    "host, clustering phase"),
                             ("peak_device_delta_mb", ":", "device")):
        pairs = [(x, r.get(key)) for x, r in zip(xs, rows) if r.get(key) is not None and r[key] > 0]
        if pairs:
            ax.plot(*zip(*pairs), marker="o", linestyle=style, label=f"{method} {name}")
