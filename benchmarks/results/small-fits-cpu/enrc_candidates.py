"""Issue 20, ENRC's initial phase: would a candidate's loss early in the phase pick the candidate that the whole
phase picks? ENRC [3, 3] on stickfigures with the defaults (100 + 150 epochs, init="best": the Nr-Kmeans start
and nine random starts of 1,000 iterations each), one line of JSON per seed with every candidate's mean loss at
a quarter, half and all of the phase's epochs (``history_["initial"]``), its loss on the whole data set after
the phase (the one the fit ranks by), the kept candidate and the fit's NMI per labeling. Records with
``ragged_batch_counted`` true come from the package before 2026-12-01, when an epoch's last, ragged batch counted
towards §2.8's re-initialisation.

    OMP_NUM_THREADS=1 python enrc_candidates.py FIRST_SEED LAST_SEED [INIT_TOL]   (records: enrc_candidates.jsonl)

INIT_TOL: ENRC's plateau rule for the initial phase (default 0, ENRC's default: every candidate runs its 1,000
iterations); records with another value carry an ``init_tol`` field.
"""
import json
import os
import sys
import time

import torch
from clustpy.data import load_stickfigures

from clustpy_acedec import ENRC
from clustpy_acedec.metrics import best_match_nmi

torch.set_num_threads(1)
RECORDS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "enrc_candidates.jsonl")


def main() -> None:
    first, last = int(sys.argv[1]), int(sys.argv[2])
    init_tol = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    # every candidate through the whole phase, as when these records began: the screening (the default since
    # 2026-12-01) would end most candidates after a quarter of it
    options = dict({"init_tol": init_tol} if init_tol else {}, init_screen_iterations=0)
    X, L = load_stickfigures(return_X_y=True)
    for seed in range(first, last + 1):
        start = time.perf_counter()
        model = ENRC(n_clusters=[3, 3], device="cpu", random_state=seed, **options).fit(X)
        candidates = model.history_["initial"]
        n_epochs = min(len(c.epoch_losses) for c in candidates)  # with a plateau rule candidates stop apart
        at = {"quarter": n_epochs // 4 - 1, "half": n_epochs // 2 - 1, "end": n_epochs - 1}
        record = dict(ragged_batch_counted=False, **options, seed=seed,
                      seconds=round(time.perf_counter() - start, 1), epochs=n_epochs,
                      nmi=[round(float(v), 4) for v in best_match_nmi(L, model.labels_)],
                      kept=min(range(len(candidates)), key=lambda i: candidates[i].candidate_loss),
                      candidate_loss=[round(c.candidate_loss, 5) for c in candidates],
                      **{f"epoch_loss_{name}": [round(c.epoch_losses[e], 5) for c in candidates]
                         for name, e in at.items()},
                      candidate_epochs=[len(c.epoch_losses) for c in candidates],
                      initialization_seconds=round(model.fit_seconds_["initialization"], 1))
        print(json.dumps(record), flush=True)
        with open(RECORDS, "a") as file:
            file.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
