"""ACeDeC(DCN) on scikit-learn's digits (/16) at the `acedec-digits` speed task's schedule (20 + 20 epochs, batch 256,
embedding 10, defaults otherwise): the screened initial phase (``init_screen_iterations=250``, ACeDeC's default)
against every candidate through the whole phase (``init_screen_iterations=0``, the code before the screening bit for
bit),
in float32, and the screened phase in bfloat16. Per fit: NMI, the kept candidate, the initial phase's iterations
per candidate and the seconds per phase (of a machine running one other single-threaded job).
    OMP_NUM_THREADS=1 python screening_seeds.py FIRST_SEED LAST_SEED [RECORDS [ARMS]]
Records go to RECORDS (default screening_seeds.jsonl beside this file). ARMS: comma-separated PRECISION:SCREEN
pairs (default float32:250,float32:0,bfloat16:250). Since 2026-12-01 (afternoon) the screening ranks ACeDeC's
candidates by the β-profiled loss (``SubspaceClusteringModel.profiled_loss``), before by the loss itself: records
of that code carry ``"screening": "profiled"``."""
import json, os, sys
import numpy as np, torch
torch.set_num_threads(1)
from clustpy.deep import DCN
from sklearn.datasets import load_digits
from sklearn.metrics import normalized_mutual_info_score as nmi
from clustpy_acedec import ACeDeC
X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
records = sys.argv[3] if len(sys.argv) > 3 else "screening_seeds.jsonl"
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), records)
done = {(r["seed"], r["precision"], r["init_screen_iterations"], r.get("screening"))
        for r in map(json.loads, open(path))} if os.path.exists(path) else set()
arms = [(arm.split(":")[0], int(arm.split(":")[1]))
        for arm in (sys.argv[4] if len(sys.argv) > 4 else "float32:250,float32:0,bfloat16:250").split(",")]
profiled = hasattr(__import__("clustpy_acedec._model", fromlist=["x"]).SubspaceClusteringModel, "profiled_loss")
for seed in range(int(sys.argv[1]), int(sys.argv[2]) + 1):
    for precision, screen in arms:
        if (seed, precision, screen, "profiled" if profiled and screen else None) in done:
            continue
        base = DCN(n_clusters=10, batch_size=256, pretrain_epochs=20, clustering_epochs=20, embedding_size=10,
                   device="cpu", random_state=seed)
        model = ACeDeC(base=base, precision=precision, init_screen_iterations=screen, verbose=False).fit(X)
        initial = model.history_["initial"]
        record = dict(data="digits", seed=seed, precision=precision, init_screen_iterations=screen,
                      nmi=round(nmi(y, model.labels_), 4), cluster_dims=len(model.cluster_space_dims_),
                      kept=[r.kept for r in initial].index(True), iterations=[r.iterations for r in initial],
                      candidate_loss=[round(r.candidate_loss, 5) for r in initial],
                      seconds={k: round(v, 2) for k, v in model.fit_seconds_.items()})
        if profiled and screen:
            record["screening"] = "profiled"
        print(json.dumps(record), flush=True)
        with open(path, "a") as file:
            file.write(json.dumps(record) + "\n")
