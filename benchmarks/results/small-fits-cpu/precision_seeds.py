"""ACeDeC(DCN) on scikit-learn's digits (/16) at the `acedec-digits` speed task's schedule (20 + 20 epochs, batch 256,
embedding 10, defaults otherwise), float32 against bfloat16, over more seeds than the speed runs: is bfloat16's lower
NMI on digits (0.709 against 0.742, seeds 0-2) a property of the precision or of three seeds?
    OMP_NUM_THREADS=1 python precision_seeds.py FIRST_SEED LAST_SEED [RECORDS]
Records (NMI only; the seconds of a loaded machine are not kept) go to RECORDS (default precision_seeds.jsonl beside
this file; precision_seeds_2026-11-30.jsonl holds seeds 0-9 rerun with the code and machine of seeds 10-19)."""
import json, os, sys
import numpy as np, torch
torch.set_num_threads(1)
from clustpy.deep import DCN
from sklearn.datasets import load_digits
from sklearn.metrics import normalized_mutual_info_score as nmi
from clustpy_acedec import ACeDeC
X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
records = sys.argv[3] if len(sys.argv) > 3 else "precision_seeds.jsonl"
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), records)
done = {(r["seed"], r["precision"]) for r in map(json.loads, open(path))} if os.path.exists(path) else set()
for seed in range(int(sys.argv[1]), int(sys.argv[2]) + 1):
    for precision in ("float32", "bfloat16"):
        if (seed, precision) in done:
            continue
        model = ACeDeC(base=DCN(n_clusters=10, batch_size=256, pretrain_epochs=20, clustering_epochs=20, embedding_size=10,
                                device="cpu", random_state=seed), precision=precision, verbose=False).fit(X)
        record = dict(data="digits", seed=seed, precision=precision, nmi=round(nmi(y, model.labels_), 4),
                      cluster_dims=len(model.cluster_space_dims_))
        print(json.dumps(record), flush=True)
        with open(path, "a") as file:
            file.write(json.dumps(record) + "\n")
