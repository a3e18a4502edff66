"""The initial candidates of ACeDeC(DCN) + Aug on z-scored USPS (protocol.py), with and without the screening:
    OMP_NUM_THREADS=1 python candidates.py SEED [SCREEN ...]
For each SCREEN (init_screen_iterations; default 250 and 0) one fit with 0 clustering epochs (the same
pretraining and candidates as zscore.py's fits) and, per candidate, its screening score, its whole-data loss
after the phase, its iterations and whether it was kept. Records go to candidates.jsonl, with the package's
commit (the first record, without one, is of 25ebc2d: before each candidate drew from its own generator)."""
import json
import os
import sys

import numpy as np

from protocol import HERE, acedec, package_commit, usps

seed = int(sys.argv[1])
screens = [int(s) for s in sys.argv[2:]] or [250, 0]
X, y = usps(zscored=True)
for screen in screens:
    model = acedec(seed, "DCN", augmented=True, init_screen_iterations=screen)
    model.base.clustering_epochs = 0
    model.fit(X)
    record = {"seed": seed, "init_screen_iterations": screen, "commit": package_commit(),
              "candidates": [{"screening_loss": r.screening_loss, "candidate_loss": r.candidate_loss,
                              "iterations": r.iterations, "kept": r.kept} for r in model.history_["initial"]],
              "cluster_dims": len(model.cluster_space_dims_),
              "betas_cs": np.round(model.betas_[0], 3).tolist()}
    print(json.dumps(record))
    with open(os.path.join(HERE, "candidates.jsonl"), "a") as file:
        file.write(json.dumps(record) + "\n")
