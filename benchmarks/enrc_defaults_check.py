"""
Issue 19, item 3 (ENRC's defaults that win): stickfigures ENRC [3, 3] under candidate default settings, one line of
JSON per fit (best-match NMI per labeling, seconds), resumable.

    OMP_NUM_THREADS=1 python benchmarks/enrc_defaults_check.py benchmarks/results/enrc-defaults-cpu/stickfigures.jsonl
"""

import json
import sys
import time
from pathlib import Path

import torch
from clustpy.data import load_stickfigures

from clustpy_acedec import ENRC
from clustpy_acedec.metrics import best_match_nmi

#: name -> ENRC options on top of the defaults
SETTINGS = {
    "best + points": dict(init="best", loss_normalization="points"),
    "best": dict(init="best", loss_normalization="cluster_size"),  # with the paper's Eq. 4
}


def main() -> None:
    torch.set_num_threads(1)
    path = Path(sys.argv[1])
    done = {(r["setting"], r["seed"]) for r in map(json.loads, path.read_text().splitlines())} if path.exists() else set()
    X, L = load_stickfigures(return_X_y=True)
    for setting, options in SETTINGS.items():
        for seed in range(10):
            if (setting, seed) in done:
                continue
            start = time.perf_counter()
            model = ENRC(n_clusters=[3, 3], device="cpu", random_state=seed, **options).fit(X)
            record = dict(setting=setting, options=options, seed=seed, wall=round(time.perf_counter() - start, 1),
                          nmi=[round(float(v), 4) for v in best_match_nmi(L, model.labels_)])
            with path.open("a") as file:
                file.write(json.dumps(record) + "\n")
            print(record, flush=True)


if __name__ == "__main__":
    main()
