"""clustpy 0.0.3's own ACeDeC, or its DCN with λ, with augmentation on USPS, 100 + 150 epochs, batch 256,
embedding 10, through clustpy's augmented loaders (``get_default_augmented_dataloaders``; issue 19 peer rows):
    OMP_NUM_THREADS=1 python clustpy_peer.py SEED [ACeDeC | DCN LAMBDA]
DCN uses the benchmark's weighting of λ (the DCN paper's: L_rec summed over features + λ/2 · L_clust,
``clustpy_acedec_bench.methods.dcn``), so that its rows read like Table 1's "DCN (λ) + Aug". Records go to
clustpy_peer.jsonl beside this file."""
import json, os, sys, time, contextlib, io
import numpy as np, torch
torch.set_num_threads(1)
from sklearn.metrics import normalized_mutual_info_score as nmi
from clustpy.deep import ACeDeC, DCN
from clustpy.deep._data_utils import get_default_augmented_dataloaders
from clustpy_acedec.losses import reconstruction_loss
seed = int(sys.argv[1])
method = sys.argv[2] if len(sys.argv) > 2 else "ACeDeC"
d = np.load(os.path.join(os.environ.get("CLUSTPY_ACEDEC_DATA", "../shared/data"), "usps.npz"))
X, y = d["data"].astype(np.float32).reshape(-1, 16, 16), d["labels"]
loaders = get_default_augmented_dataloaders(X.copy(), batch_size=256)
common = dict(n_clusters=10, batch_size=256, pretrain_epochs=100, clustering_epochs=150, embedding_size=10,
              custom_dataloaders=loaders, augmentation_invariance=True, random_state=seed)
if method == "ACeDeC":
    est, peer = ACeDeC(**common), "clustpy ACeDeC + Aug"
elif method == "DCN":
    lam = float(sys.argv[3])
    est = DCN(**common, clustering_loss_weight=lam, ssl_loss_weight=1.0, ssl_loss_fn=reconstruction_loss)
    peer = f"clustpy DCN (λ={lam}) + Aug"
else:
    sys.exit(f"unknown method {method!r}: ACeDeC or DCN LAMBDA")
t = time.time()
with contextlib.redirect_stdout(io.StringIO()):
    est.fit(X.reshape(len(X), -1))
rec = dict(peer=peer, seed=seed, nmi=round(nmi(y, est.labels_), 4), seconds=round(time.time() - t, 1))
if method == "ACeDeC":
    rec["cluster_dims"] = int(np.asarray(est.P[0]).size)
print(json.dumps(rec))
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "clustpy_peer.jsonl"), "a").write(json.dumps(rec) + "\n")
