"""
The benchmark's figures (matplotlib imported lazily): the noise-dimension sweep of ACe/DeC Fig. 1a, the
learning-rate study of Fig. 4 (both as means with 95% confidence intervals over seeds) and β bar charts.
Every figure is a ``matplotlib.figure.Figure`` with its Agg canvas, saved to a file: no pyplot, so no global
figure registry to grow and no backend to choose.
"""

import re
from collections import defaultdict
from pathlib import Path

import numpy as np


def mean_and_interval(values) -> tuple:
    """Mean and half width of the 95% Student-t confidence interval (0 for a single value)."""
    from scipy import stats
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return float(values.mean()), 0.0
    return float(values.mean()), float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)))


def _ok(records: list) -> list:
    return [r for r in records if not r.get("error") and r.get("nmi")]


def _draw_series(axis, series: dict) -> None:
    """series: label -> {x: [values]}; one line of means with a shaded 95% interval per label."""
    for label, points in sorted(series.items()):
        xs = sorted(points)
        stats = [mean_and_interval(points[x]) for x in xs]
        means, half = np.array([m for m, _ in stats]), np.array([h for _, h in stats])
        axis.plot(xs, means, marker="o", label=label)
        axis.fill_between(xs, means - half, means + half, alpha=0.2)


def _figure(**kwargs):
    """A new figure off pyplot (saving it needs no backend)."""
    from matplotlib.figure import Figure
    return Figure(**kwargs)


def _line_plot(series: dict, xlabel: str, title: str, path: Path):
    figure = _figure(figsize=(5, 3.4))
    axis = figure.subplots()
    _draw_series(axis, series)
    axis.set_xlabel(xlabel)
    axis.set_ylabel("NMI")
    axis.set_ylim(-0.02, 1.02)
    axis.set_title(title, fontsize=9)
    axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    return figure


def noise_sweep_figure(records: list, path: Path) -> Path | None:
    """ACe/DeC Fig. 1a: NMI against the number of noise dimensions of SYNTH; None if fewer than two are there."""
    series = defaultdict(lambda: defaultdict(list))
    for record in _ok(records):
        match = re.fullmatch(r"SYNTH-(\d+)", record["dataset"])
        if match:
            series[record["method"]][int(match.group(1))].append(record["nmi"][0])
    # the sweep's methods: those run at two or more noise levels (SYNTH-25's other Table 1 rows are single dots)
    series = {method: points for method, points in series.items() if len(points) >= 2}
    if not series:
        return None
    _line_plot(series, "noise dimensions", "SYNTH: NMI (mean, 95% CI) against noise dimensions (ACe/DeC Fig. 1a)",
               path)
    return path


def learning_rate_figure(records: list, path: Path) -> Path | None:
    """ACe/DeC Fig. 4: NMI against the clustering learning rate 10⁻³·γ, one panel per data set."""
    by_dataset = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for record in _ok(records):
        match = re.fullmatch(r"(.+) @γ=([\d.]+)", record["method"])
        if match:
            by_dataset[record["dataset"]][match.group(1)][float(match.group(2))].append(record["nmi"][0])
    if not by_dataset:
        return None
    figure = _figure(figsize=(4.2 * len(by_dataset), 3.4))
    axes = figure.subplots(1, len(by_dataset), squeeze=False)
    for axis, (dataset, series) in zip(axes[0], sorted(by_dataset.items())):
        _draw_series(axis, series)
        axis.set_title(dataset, fontsize=9)
        axis.set_xlabel("γ (learning rate 10⁻³·γ)")
        axis.set_ylim(-0.02, 1.02)
    axes[0][0].set_ylabel("NMI")
    axes[0][-1].legend(fontsize=6)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    return path


def beta_figure(records: list, path: Path, max_panels: int = 6) -> Path | None:
    """β of the first seed of every (data set, ACe/DeC or ENRC method): sorted bars, trained next to initial."""
    firsts = {}
    for record in sorted(_ok(records), key=lambda r: r["seed"]):
        if record.get("betas") is not None:
            firsts.setdefault((record["dataset"], record["method"]), record)
    if not firsts:
        return None
    panels = list(firsts.items())[:max_panels]
    n_cols = min(3, len(panels))
    n_rows = -(-len(panels) // n_cols)
    figure = _figure(figsize=(3.6 * n_cols, 2.8 * n_rows))
    axes = figure.subplots(n_rows, n_cols, squeeze=False)
    for axis in axes.ravel()[len(panels):]:
        axis.set_visible(False)
    for axis, ((dataset, method), record) in zip(axes.ravel(), panels):
        betas, initial = np.asarray(record["betas"]), np.asarray(record["betas_init"])
        order = np.argsort(-betas[0])
        dims = np.arange(betas.shape[1])
        axis.bar(dims - 0.2, initial[0][order], width=0.4, color="0.7", label="initial")
        axis.bar(dims + 0.2, betas[0][order], width=0.4, label="trained")
        axis.set_ylim(0, 1)
        axis.set_title(f"{dataset}: {method}\n(β of the first space)", fontsize=8)
        axis.set_xticks([])
    axes[0][0].set_ylabel("β")
    axes[0][0].legend(fontsize=6)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    return path
