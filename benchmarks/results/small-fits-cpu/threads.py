"""digits, ACeDeC(DCN), 20 + 20 epochs, seed 0, with THREADS torch threads; prints fit_seconds_ and NMI:
    [OMP_WAIT_POLICY=PASSIVE] python threads.py THREADS"""
import sys, time, json, torch
n = int(sys.argv[1]); torch.set_num_threads(n)
from sklearn.datasets import load_digits
from clustpy.deep import DCN
from clustpy_acedec import ACeDeC
X, y = load_digits(return_X_y=True); X = (X / 16).astype("float32")
t = time.perf_counter()
m = ACeDeC(base=DCN(n_clusters=10, pretrain_epochs=20, clustering_epochs=20, batch_size=256, embedding_size=10, device="cpu"), random_state=0).fit(X)
from sklearn.metrics import normalized_mutual_info_score as nmi
print(json.dumps({"threads": n, "total": time.perf_counter() - t, **{k: round(v, 2) for k, v in m.fit_seconds_.items()}, "nmi": nmi(y, m.labels_)}))
