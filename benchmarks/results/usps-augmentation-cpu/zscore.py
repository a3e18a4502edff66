"""ACeDeC(DCN or DEC) on all of USPS as a user would call it, 100 + 150 epochs, batch 256, embedding 10, bfloat16:
    OMP_NUM_THREADS=1 python zscore.py {zscore,zscore_noaug,unit} SEED [DCN|DEC|IDEC] [PRETRAIN_EPOCHS]
(zscore: channel_zscore first; zscore_noaug: the same without augmentation; unit: the images in [0, 1];
PRETRAIN_EPOCHS: of the end-to-end pretraining, default 100).
Records go to zscore.jsonl beside this file."""
import json, os, sys, time
import numpy as np, torch
torch.set_num_threads(1)
from sklearn.metrics import normalized_mutual_info_score as nmi
from clustpy.deep import DCN, DEC, IDEC
from clustpy_acedec import ACeDeC
from clustpy_acedec.preprocessing import channel_zscore
norm, seed = sys.argv[1], int(sys.argv[2])
base_class = {'DCN': DCN, 'DEC': DEC, 'IDEC': IDEC}[sys.argv[3] if len(sys.argv) > 3 else 'DCN']
pretrain_epochs = int(sys.argv[4]) if len(sys.argv) > 4 else 100
d = np.load(os.path.join(os.environ.get("CLUSTPY_ACEDEC_DATA", "../shared/data"), "usps.npz"))
X, y = d["data"].astype(np.float32).reshape(-1, 16, 16), d["labels"]
if norm.startswith("zscore"):
    X = channel_zscore(X)
# Records without "fill" filled with 0 in the images' own scale; "darkest": with the data set's darkest value; "mean": with its mean.
augmentation_fill = "mean"
t = time.time()
m = ACeDeC(base=base_class(n_clusters=10, batch_size=256, pretrain_epochs=pretrain_epochs, clustering_epochs=150, embedding_size=10,
                    augmentation_invariance=not norm.endswith("noaug"), random_state=seed), precision="bfloat16").fit(X)
rec = dict(norm=norm, seed=seed, base=base_class.__name__, pretrain_epochs=pretrain_epochs, nmi=round(nmi(y, m.labels_), 4), cluster_dims=len(m.cluster_space_dims_),
           seconds=round(time.time() - t, 1), fill=augmentation_fill, fit_seconds={k: round(v, 1) for k, v in m.fit_seconds_.items()})
print(json.dumps(rec))
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "zscore.jsonl"), "a").write(json.dumps(rec) + "\n")
