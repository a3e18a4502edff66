"""The protocol every script of this folder shares (issue 19, item 1): all 9,298 USPS images, ACeDeC on a clustpy
base with 100 + 150 epochs, batch 256, embedding 10, bfloat16 and the estimator's defaults otherwise, one torch
thread; each script changes one thing and appends its records to a .jsonl file beside it."""
import json
import os
import subprocess
import time

import numpy as np
import torch
from clustpy.deep import DCN, DEC, IDEC
from sklearn.metrics import normalized_mutual_info_score

from clustpy_acedec import ACeDeC
from clustpy_acedec.preprocessing import channel_zscore

torch.set_num_threads(1)
BASES = {"DCN": DCN, "DEC": DEC, "IDEC": IDEC}
HERE = os.path.dirname(os.path.abspath(__file__))


def usps(zscored: bool = True) -> tuple:
    """All of USPS as (n, 16, 16) images and its labels: z-scored (``channel_zscore``) or in [0, 1]; from
    $CLUSTPY_ACEDEC_DATA (default ../shared/data)."""
    data = np.load(os.path.join(os.environ.get("CLUSTPY_ACEDEC_DATA", "../shared/data"), "usps.npz"))
    X = data["data"].astype(np.float32).reshape(-1, 16, 16)
    return (channel_zscore(X) if zscored else X), data["labels"]


def acedec(seed: int, base: str = "DCN", augmented: bool = True, pretrain_epochs: int = 100, **estimator) -> ACeDeC:
    """The protocol's estimator, unfitted; ``estimator``: further ACeDeC parameters (e.g. ``augmentation``)."""
    return ACeDeC(base=BASES[base](n_clusters=10, batch_size=256, pretrain_epochs=pretrain_epochs,
                                   clustering_epochs=150, embedding_size=10, augmentation_invariance=augmented,
                                   random_state=seed),
                  precision="bfloat16", **estimator)


def package_commit() -> str | None:
    """The checkout's commit (with "+" when the package has uncommitted changes), None outside a git checkout:
    which code a record came from (records before 2026-12-01 lack it)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "../../../clustpy_acedec"], cwd=HERE,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("+" if dirty else "")


def fit_and_record(model: ACeDeC, X: np.ndarray, y: np.ndarray, records: str, fitted_fields=None, **fields) -> dict:
    """Fit, then print and append one record (``fields``, the NMI, the cluster-space dimensions, the seconds and
    ``fitted_fields(model)`` when given) to ``records`` beside this file."""
    start = time.time()
    model.fit(X)
    # init_screen_iterations: 250 from 2026-12-01 (ACeDeC's screened default); records without it ran every
    # initial candidate through
    record = dict(fields, commit=package_commit(), init_screen_iterations=model.init_screen_iterations,
                  nmi=round(normalized_mutual_info_score(y, model.labels_), 4),
                  cluster_dims=len(model.cluster_space_dims_), seconds=round(time.time() - start, 1),
                  **(fitted_fields(model) if fitted_fields else {}),
                  fit_seconds={k: round(v, 1) for k, v in model.fit_seconds_.items()})
    print(json.dumps(record))
    with open(os.path.join(HERE, records), "a") as file:
        file.write(json.dumps(record) + "\n")
    return record
