"""β's learning rate under augmentation (issue 19, item 1): ACeDeC(DCN) + Aug on all of USPS, the protocol of
zscore.py (channel_zscore, the estimator's defaults, 100 + 150 epochs, batch 256, embedding 10, bfloat16) with β
learning FACTOR times the network's rate instead of the package's 10 (ENRC §3.2, ``_estimator.BETA_LR_FACTOR``):
    OMP_NUM_THREADS=1 python beta_rate.py SEED FACTOR
The factor is a module constant, set here before the fit (a research script, not an API). Records go to
beta_rate.jsonl beside this file."""
import json, os, sys, time
import numpy as np, torch
torch.set_num_threads(1)
from sklearn.metrics import normalized_mutual_info_score as nmi
from clustpy.deep import DCN
import clustpy_acedec._estimator as estimator
from clustpy_acedec import ACeDeC
from clustpy_acedec.preprocessing import channel_zscore
seed, factor = int(sys.argv[1]), float(sys.argv[2])
estimator.BETA_LR_FACTOR = factor
d = np.load(os.path.join(os.environ.get("CLUSTPY_ACEDEC_DATA", "../shared/data"), "usps.npz"))
X, y = channel_zscore(d["data"].astype(np.float32).reshape(-1, 16, 16)), d["labels"]
t = time.time()
m = ACeDeC(base=DCN(n_clusters=10, batch_size=256, pretrain_epochs=100, clustering_epochs=150, embedding_size=10,
                    augmentation_invariance=True, random_state=seed), precision="bfloat16").fit(X)
rec = dict(seed=seed, beta_lr_factor=factor, nmi=round(nmi(y, m.labels_), 4), cluster_dims=len(m.cluster_space_dims_),
           betas_cs=[round(float(b), 3) for b in m.betas_[0]], seconds=round(time.time() - t, 1),
           fit_seconds={k: round(v, 1) for k, v in m.fit_seconds_.items()})
print(json.dumps(rec))
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "beta_rate.jsonl"), "a").write(json.dumps(rec) + "\n")
