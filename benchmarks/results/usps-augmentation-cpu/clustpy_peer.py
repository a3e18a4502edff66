"""clustpy 0.0.3's own ACeDeC with augmentation on USPS, 100 + 150 epochs, batch 256, embedding 10 (issue 19 peer row)."""
import json, os, sys, time, contextlib, io
import numpy as np, torch
torch.set_num_threads(1)
from sklearn.metrics import normalized_mutual_info_score as nmi
from clustpy.deep import ACeDeC
from clustpy.deep._data_utils import get_default_augmented_dataloaders
seed = int(sys.argv[1])
d = np.load(os.path.join(os.environ.get("CLUSTPY_ACEDEC_DATA", "../shared/data"), "usps.npz"))
X, y = d["data"].astype(np.float32).reshape(-1, 16, 16), d["labels"]
loaders = get_default_augmented_dataloaders(X.copy(), batch_size=256)
t = time.time()
est = ACeDeC(n_clusters=10, batch_size=256, pretrain_epochs=100, clustering_epochs=150, embedding_size=10,
             custom_dataloaders=loaders, augmentation_invariance=True, random_state=seed)
with contextlib.redirect_stdout(io.StringIO()):
    est.fit(X.reshape(len(X), -1))
rec = dict(peer="clustpy ACeDeC + Aug", seed=seed, nmi=round(nmi(y, est.labels_), 4), seconds=round(time.time() - t, 1),
           cluster_dims=int(np.asarray(est.P[0]).size))
print(json.dumps(rec))
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "clustpy_peer.jsonl"), "a").write(json.dumps(rec) + "\n")
