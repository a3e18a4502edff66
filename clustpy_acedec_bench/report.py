"""
Results to files: ``results.csv`` and ``results.json`` (every run) and ``report.md``, the papers' tables with
our mean ± std next to the published value.

A cell is flagged ⚠ when our mean lies more than two standard deviations below the paper's mean (the paper's
standard deviation, at least 0.005, so that a printed ± 0.00 does not flag every rounding difference).
"""

import csv
import json
import platform
from collections import defaultdict
from pathlib import Path

import numpy as np

from clustpy_acedec_bench import paper_values as paper
from clustpy_acedec_bench.datasets import LABELING_NAMES
from clustpy_acedec_bench.methods import ENRC_VARIANTS

#: our data-set names -> the column names of the papers' tables
_ALIASES = {"MNIST": {"MNIST-Full", "MNIST"}, "stickfigures": {"Stickfigures"}}
#: our method names -> the row names of the papers' tables
_METHOD_ALIASES = {"AE + Nr-Kmeans": "Nr-Kmeans", "SubKmeans": "SubKM", "AE + SubKmeans": "AE + SubKM"}
_DIFFERENT_DATA = {"GTSRB": "our GTSRB is the 4-sign subset of the GTSRB final-test images ≥ 35 px "
                            "(../shared/data), not the papers' exact subset"}


def _paper_names(dataset: str) -> set:
    return _ALIASES.get(dataset, set()) | {dataset}


def _lookup(table: dict, dataset: str, method: str):
    for name in _paper_names(dataset):
        row = table.get(name, {})
        for key in (method, _METHOD_ALIASES.get(method, method)):
            if key in row:
                return row[key]
    return None


def _in_our_labeling_order(dataset: str, published: list | None) -> list | None:
    """ENRC Table 1's values per ground-truth clustering, reordered to our label columns where the table lists
    the clusterings in another order (:data:`clustpy_acedec_bench.datasets.LABELING_NAMES`)."""
    ours = LABELING_NAMES.get(dataset)
    papers = next((paper.ENRC_TABLE1_CLUSTERINGS[name] for name in _paper_names(dataset)
                   if name in paper.ENRC_TABLE1_CLUSTERINGS), None)
    if published is None or ours is None or papers is None:
        return published
    return [published[papers.index(name)] for name in ours]


def aggregate(records: list) -> dict:
    """(dataset, method) -> dict with per-labeling NMI means/stds, VI, dims, seconds and the number of seeds."""
    grouped = defaultdict(list)
    for record in records:
        if not record.get("error"):
            grouped[record["dataset"], record["method"]].append(record)
    summary = {}
    for key, runs in grouped.items():
        nmi = np.array([r["nmi"] for r in runs], dtype=float)
        vis = [r["vi"] for r in runs if r.get("vi") is not None]
        dims = [r["n_cluster_dims"] for r in runs if r.get("n_cluster_dims") is not None]
        summary[key] = {"nmi_mean": nmi.mean(0).tolist(), "nmi_std": nmi.std(0).tolist(), "n_seeds": len(runs),
                        "vi": (float(np.mean(vis)), float(np.std(vis))) if vis else None, "vi_seeds": len(vis),
                        "dims": float(np.mean(dims)) if dims else None,
                        "seconds": float(np.mean([r["seconds"] for r in runs])),
                        "pretrain_seconds": float(np.mean([r.get("pretrain_seconds", 0.0) for r in runs]))}
    return summary


def _flag(ours: float, published) -> str:
    if published is None:
        return ""
    mean, std = published
    return " ⚠" if ours < mean - 2 * max(std, 0.005) else ""


def _cell(mean: float, std: float, published, n_seeds: int) -> str:
    ours = f"{mean:.2f} ± {std:.2f}" if n_seeds > 1 else f"{mean:.2f}"
    if published is None:
        return ours
    if isinstance(published, (int, float)):
        return f"{ours} ({published:.2f})"
    return f"{ours} ({published[0]:.2f} ± {published[1]:.2f}){_flag(mean, published)}"


def _markdown_table(header: list, rows: list) -> list:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _single_table(summary: dict, datasets: list, methods: list, published_table: dict | None,
                  aug_under_plain_name: bool = True) -> list:
    """One method per row, one data set per column; ``aug_under_plain_name``: the published table lists a
    "+ Aug" method under its plain name (Table 1's augmented half), otherwise under its own name (Table 2)."""
    rows = []
    for method in methods:
        cells = []
        for dataset in datasets:
            key = method.replace(" + Aug", "") if aug_under_plain_name else method
            published = _lookup(published_table, dataset, key) if published_table else None
            result = summary.get((dataset, method))
            if result is None:
                cells.append("" if published is None else f"— ({_published_text(published)})")
            else:
                cells.append(_cell(result["nmi_mean"][0], result["nmi_std"][0], published, result["n_seeds"]))
        rows.append([method, *cells])
    return _markdown_table(["method", *datasets], rows)


def _published_text(published) -> str:
    return f"{published:.2f}" if isinstance(published, (int, float)) else f"{published[0]:.2f} ± {published[1]:.2f}"


def write_report(records: list, output: Path, command: str, device_description: str, unavailable=()) -> Path:
    """
    Write results.csv, results.json and report.md into ``output``.

    Parameters
    ----------
    records : list
        the folder's records (:func:`clustpy_acedec_bench.runner.read_results`)
    output : Path
        the folder
    command : str
        the command line, for the report's header
    device_description : str
        the machine, for the report's header
    unavailable : Sequence[str]
        data sets this command could not load, named in the header (default: none)

    Returns
    -------
    Path
        the report's path
    """
    output.mkdir(parents=True, exist_ok=True)
    fields = ["dataset", "method", "seed", "nmi", "vi", "n_cluster_dims", "seconds", "pretrain_seconds", "n_samples",
              "n_features", "pretrain_epochs", "clustering_epochs", "pretraining", "activation", "device", "precision",
              "notes", "error"]
    with (output / "results.csv").open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for record in records:
            writer.writerow({**record, "nmi": " ".join(f"{v:.4f}" for v in record["nmi"] or [])})
    (output / "results.json").write_text(json.dumps(records, indent=1))
    summary = aggregate(records)
    datasets = list(dict.fromkeys(r["dataset"] for r in records))
    completed = [r for r in records if not r.get("error")]  # a failed run may have been tried with other settings
    lines = ["# Benchmark report", "", f"- command: `{command}`", f"- machine: {device_description}",
             f"- precision of the pretraining and our estimators: "
             f"{', '.join(sorted({r.get('precision', 'float32') for r in completed}))}",
             f"- the feedforward autoencoder's hidden activation: "
             f"{', '.join(sorted({r.get('activation', 'leaky_relu') for r in completed}))}",
             f"- runs: {len(records)} ({sum(1 for r in records if r.get('error'))} failed or skipped)",
             *([f"- not run, their data were not available: {', '.join(unavailable)}"] if unavailable else []), "",
             "Cells: our NMI mean ± std over seeds (the paper's value in brackets); ⚠ = more than two standard "
             "deviations below the paper. An empty bracket-only cell (—) was not run.", ""]
    lines += _section_table1(summary, datasets)
    lines += _section_table2(summary, datasets)
    lines += _section_table3(summary, datasets)
    lines += _section_enrc(summary, datasets)
    lines += _section_figures(records, output)
    lines += _section_runtime(summary)
    lines += _section_notes(records, datasets)
    path = output / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def _section_table1(summary, datasets) -> list:
    columns = ["SYNTH-25", "FMNIST", "MNIST", "MNIST-Test", "OBJECTS", "USPS", "GTSRB"]
    methods = ["ACe/DeC+DCN", "DCN (λ=0.1)", "DCN (λ=1.0)", "DCN (λ=10.0)", "k-means", "SubKmeans",
               "AE + SubKmeans", "AE + k-means"]
    lines = ["## ACe/DeC Table 1: NMI without augmentation", ""]
    lines += _single_table(summary, columns, methods, paper.ACEDEC_TABLE1[False])
    aug = ["ACe/DeC+DCN + Aug", "ACe/DeC+DEC + Aug", "ACe/DeC+IDEC + Aug"]
    ablation = [m for m in ("ACe/DeC+DCN + Aug (plain AE)", "AE (Aug) + k-means")
                if any(method == m for _, method in summary)]  # ours, where they were run
    lines += ["", "## ACe/DeC Table 1: NMI with augmentation (random rotations and shifts)", "",
              "The '+ Aug' methods start from an autoencoder pretrained on augmented images; ACe/DeC+DCN + Aug "
              "(plain AE) augments the clustering phase only, and AE (Aug) + k-means clusters that autoencoder's "
              "embedding.", ""]
    lines += _single_table(summary, columns, aug + ablation, paper.ACEDEC_TABLE1[True])
    published_dcn = []
    for dataset, row in paper.ACEDEC_TABLE1[True].items():
        values = [f"{m[4:]} {_published_text(v)}" for m, v in row.items() if m.startswith("DCN") and v is not None]
        if values:
            published_dcn.append(f"{dataset}: " + ", ".join(values))
    return lines + ["", "The paper's DCN + Aug rows are not rerun (clustpy's DCN augments only through custom data "
                        "loaders): " + "; ".join(published_dcn) + ".", ""]


def _section_table2(summary, datasets) -> list:
    columns = ["MNIST", "MNIST-Test", "FMNIST", "USPS", "GTSRB", "SYNTH-25"]
    methods = ["ACe/DeC+DCN + Aug", "ACe/DeC+DEC + Aug", "ACe/DeC+IDEC + Aug", "ACe/DeC+DCN", "ACe/DeC+DEC",
               "ACe/DeC+IDEC", "DEC", "IDEC"]
    lines = ["## ACe/DeC Table 2: the DEC and IDEC bases", "",
             "The paper's ACe/DeC+DCN value here is its augmented result (Table 2 compares methods that use "
             "augmentation; it equals Table 1's + Aug row). Without the λ trade-off, DEC and IDEC share one "
             "objective, so ACe/DeC+DEC and ACe/DeC+IDEC give the same result for the same seed.", ""]
    lines += _single_table(summary, columns, methods, paper.ACEDEC_TABLE2, aug_under_plain_name=False)
    others = ", ".join(f"{m}: " + "/".join(f"{paper.ACEDEC_TABLE2[d][m]:.2f}" if paper.ACEDEC_TABLE2[d][m] is not None
                                            else "-" for d in paper.ACEDEC_TABLE2)
                       for m in ("DEPICT", "JULE", "C-GAN", "DualAE"))
    return lines + ["", f"Paper only (data-specific architectures, tuned hyperparameters; MNIST-Full/MNIST-Test/FMNIST): "
                        f"{others}.", ""]


def _section_table3(summary, datasets) -> list:
    columns = ["MNIST", "FMNIST", "USPS", "GTSRB", "SYNTH-25"]
    rows = []
    for method in ["SubKmeans", "AE + SubKmeans", "ACe/DeC+DCN", "ACe/DeC+DEC", "ACe/DeC+IDEC"]:
        cells = []
        for dataset in columns:
            published = _lookup(paper.ACEDEC_TABLE3, dataset, method)
            ours = summary.get((dataset, method), {}).get("dims")
            text = "" if ours is None else f"{ours:.1f}"
            cells.append(f"{text} ({published})" if published is not None else text)
        rows.append([method, *cells])
    return ["## ACe/DeC Table 3: number of cluster-space dimensions", ""] + _markdown_table(["method", *columns], rows) + [""]


def _section_enrc(summary, datasets) -> list:
    multi = [d for d in datasets if any((d, m) in summary and len(summary[d, m]["nmi_mean"]) > 1 for m in
                                        ("ENRC", *ENRC_VARIANTS, "Nr-Kmeans", "AE + Nr-Kmeans", "Orth1", "Orth2"))]
    multi += [d for d in ("NR-Objects", "GTSRB", "stickfigures", "C-MNIST") if d not in multi]
    methods = ["ENRC", *ENRC_VARIANTS, "AE + Nr-Kmeans", "Nr-Kmeans", "Orth1", "Orth2", "mSC", "ISAAC"]
    nmi_rows, vi_rows = [], []
    for dataset in multi:
        for method in methods:
            published = _in_our_labeling_order(
                dataset, _lookup(paper.ENRC_TABLE1, dataset, method) if method != "Nr-Kmeans" else None)
            published_vi = _lookup(paper.ENRC_TABLE3, dataset, method) if method != "Nr-Kmeans" else None
            result = summary.get((dataset, method))
            if result is None and published is None:
                continue
            if result is None:
                nmi_text = " / ".join(f"— ({_published_text(p)})" for p in published if p is not None)
                vi_text = f"— ({_published_text(published_vi)})" if published_vi is not None else ""
            else:
                n = len(result["nmi_mean"])
                nmi_text = " / ".join(_cell(result["nmi_mean"][g], result["nmi_std"][g],
                                            published[g] if published and g < len(published) else None,
                                            result["n_seeds"]) for g in range(n))
                vi = result["vi"]
                vi_text = "n.a." if vi is None else _cell(vi[0], vi[1], published_vi, result["vi_seeds"])
                if vi is not None and result["vi_seeds"] < result["n_seeds"]:  # the others found < 2 clusterings
                    vi_text += f" (n.a. on {result['n_seeds'] - result['vi_seeds']} of {result['n_seeds']} seeds)"
            label = method + (" (raw data)" if method == "Nr-Kmeans" else "")
            names = LABELING_NAMES.get(dataset)
            nmi_rows.append([dataset + (f" ({' / '.join(names)})" if names else ""), label, nmi_text])
            vi_rows.append([dataset, label, vi_text])
    lines = ["## ENRC Table 1: NMI per ground-truth clustering (best-matching found clustering)", "",
             "The paper's Nr-Kmeans, Orth1 and Orth2 ran on the autoencoder's embedding (our \"AE + Nr-Kmeans\"); "
             "mSC and ISAAC are not available in Python and show the paper's values only.", ""]
    lines += _markdown_table(["data set", "method", "NMI per clustering"], nmi_rows)
    lines += ["", "## ENRC Table 3: variation of information between the found clusterings", ""]
    return lines + _markdown_table(["data set", "method", "VI"], vi_rows) + [""]


def _section_figures(records, output: Path) -> list:
    from clustpy_acedec_bench.figures import beta_figure, learning_rate_figure, noise_sweep_figure
    figures = [("ACe/DeC Fig. 1a: noise-dimension sweep", noise_sweep_figure(records, output / "fig1a_noise_sweep.png")),
               ("ACe/DeC Fig. 4: learning-rate stability", learning_rate_figure(records, output / "fig4_learning_rate.png")),
               ("β after training (first seed)", beta_figure(records, output / "betas.png"))]
    lines = ["## Figures", ""]
    for title, path in figures:
        lines += [f"### {title}", "", f"![{title}]({path.name})" if path else "(no runs for this figure)", ""]
    return lines


def _section_runtime(summary) -> list:
    rows = [[d, m, f"{s['seconds']:.1f}", f"{s['pretrain_seconds']:.1f}", str(s["n_seeds"])]
            for (d, m), s in sorted(summary.items())]
    return ["## Runtime per run (seconds; pretraining once per data set and seed, shared by all methods)", ""] + \
        _markdown_table(["data set", "method", "clustering", "pretraining", "seeds"], rows) + [""]


def _section_notes(records, datasets) -> list:
    lines = ["## Notes", ""]
    for dataset in datasets:
        notes = {r["notes"] for r in records if r["dataset"] == dataset and r.get("notes")}
        if dataset in _DIFFERENT_DATA:
            notes.add(_DIFFERENT_DATA[dataset])
        if dataset in ("nrLetters", "CMU faces"):
            notes.add("no published value")
        if notes:
            lines.append(f"- {dataset}: " + "; ".join(sorted(notes)))
    failed = [r for r in records if r.get("error")]
    lines += [f"- failed/skipped: {r['dataset']} / {r['method']} / seed {r['seed']}: {r['error']}" for r in failed]
    return lines + [f"- Python {platform.python_version()}, {platform.platform()}"]
