"""ACeDeC(DCN) + Aug on all of USPS with clustpy's augmentation instead of the paper's (issue 19, item 1: "the
augmentation itself"): clustpy's augmented loaders draw torchvision's RandomAffine(degrees=16, translate=(0.1,
0.1), shear=8); the estimators draw rotations of ±15° and shifts of ±10 % (ACe/DeC §2.2: "random rotation and
shifts"). Same protocol as zscore.py (channel_zscore, mean fill, 100 + 150 epochs, batch 256, embedding 10,
bfloat16, the estimator's defaults otherwise):
    OMP_NUM_THREADS=1 python affine.py SEED [DEGREES SHIFT SHEAR]      (default 16 0.1 8)
through the estimator's ``augmentation`` parameter, filled with the images' mean as the default augmentation.
Records go to affine.jsonl beside this file."""
import json, os, sys, time
import numpy as np, torch
torch.set_num_threads(1)
from sklearn.metrics import normalized_mutual_info_score as nmi
from clustpy.deep import DCN
from clustpy_acedec import ACeDeC
from clustpy_acedec.preprocessing import RandomRotationShift, channel_means, channel_zscore
seed = int(sys.argv[1])
degrees, shift, shear = (float(v) for v in sys.argv[2:5]) if len(sys.argv) > 4 else (16.0, 0.1, 8.0)

d = np.load(os.path.join(os.environ.get("CLUSTPY_ACEDEC_DATA", "../shared/data"), "usps.npz"))
X, y = channel_zscore(d["data"].astype(np.float32).reshape(-1, 16, 16)), d["labels"]
t = time.time()
m = ACeDeC(base=DCN(n_clusters=10, batch_size=256, pretrain_epochs=100, clustering_epochs=150, embedding_size=10,
                    augmentation_invariance=True, random_state=seed), precision="bfloat16",
           augmentation=RandomRotationShift((16, 16), max_degrees=degrees, max_shift=shift, max_shear=shear,
                                            fill=channel_means(X))).fit(X)
rec = dict(seed=seed, degrees=degrees, shift=shift, shear=shear, nmi=round(nmi(y, m.labels_), 4),
           cluster_dims=len(m.cluster_space_dims_), seconds=round(time.time() - t, 1),
           fit_seconds={k: round(v, 1) for k, v in m.fit_seconds_.items()})
print(json.dumps(rec))
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "affine.jsonl"), "a").write(json.dumps(rec) + "\n")
