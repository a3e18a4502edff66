"""ACeDeC(DCN, DEC or IDEC) + augmentation on all 70,000 MNIST or Fashion-MNIST images as a user would call it (the
protocol of ../usps-augmentation-cpu/zscore.py): channel_zscore first, 100 + 150 epochs, batch 256, embedding 10,
bfloat16, the estimator's defaults otherwise:
    OMP_NUM_THREADS=1 python zscore.py SEED [DCN|DEC|IDEC] [PRETRAIN_EPOCHS] [noaug] [MNIST|FMNIST]
(the words after SEED in any order; defaults DCN, 100, augmented, MNIST. PRETRAIN_EPOCHS: of the end-to-end
pretraining; noaug: the same call without augmentation, the unaugmented row of this protocol). Records go to
zscore.jsonl beside this file; the data come from $CLUSTPY_ACEDEC_DATA (default ../shared/data)."""
import json, os, sys, time
import numpy as np, torch
torch.set_num_threads(1)
from sklearn.metrics import normalized_mutual_info_score as nmi
from clustpy.deep import DCN, DEC, IDEC
from clustpy_acedec import ACeDeC
from clustpy_acedec.preprocessing import channel_zscore

BASES = {'DCN': DCN, 'DEC': DEC, 'IDEC': IDEC}
FILES = {'MNIST': 'mnist.npz', 'FMNIST': 'fashion_mnist.npz'}
seed, words = int(sys.argv[1]), sys.argv[2:]
unknown = [w for w in words if w not in BASES and w not in FILES and w != 'noaug' and not w.isdigit()]
if unknown:
    sys.exit(f"unknown arguments {unknown}; usage: zscore.py SEED [DCN|DEC|IDEC] [PRETRAIN_EPOCHS] [noaug] [MNIST|FMNIST]")
base_class = BASES[next((w for w in words if w in BASES), 'DCN')]
data_name = next((w for w in words if w in FILES), 'MNIST')
pretrain_epochs = int(next((w for w in words if w.isdigit()), 100))
augmented = 'noaug' not in words
d = np.load(os.path.join(os.environ.get("CLUSTPY_ACEDEC_DATA", "../shared/data"), FILES[data_name]))
X, y = d["data"], d["labels"]  # train and test, 70,000 images
X = channel_zscore(X.astype(np.float32).reshape(-1, 28, 28))
# Records without "fill" filled with 0 in the images' own scale; "darkest": with the data set's darkest value; "mean": with its mean.
augmentation_fill = "mean"
t = time.time()
m = ACeDeC(base=base_class(n_clusters=10, batch_size=256, pretrain_epochs=pretrain_epochs, clustering_epochs=150, embedding_size=10,
                           augmentation_invariance=augmented, random_state=seed), precision="bfloat16").fit(X)
rec = dict(data=data_name, n=len(X), seed=seed, base=base_class.__name__, pretrain_epochs=pretrain_epochs, augmented=augmented, nmi=round(nmi(y, m.labels_), 4),
           cluster_dims=len(m.cluster_space_dims_), seconds=round(time.time() - t, 1), fill=augmentation_fill,
           fit_seconds={k: round(v, 1) for k, v in m.fit_seconds_.items()})
print(json.dumps(rec))
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "zscore.jsonl"), "a").write(json.dumps(rec) + "\n")
