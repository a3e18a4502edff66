"""ACeDeC(DCN or DEC) + augmentation on all 70,000 MNIST images as a user would call it (the protocol of
../usps-augmentation-cpu/zscore.py): channel_zscore first, 100 + 150 epochs, batch 256, embedding 10, bfloat16,
the estimator's defaults otherwise:
    OMP_NUM_THREADS=1 python zscore.py SEED [DCN|DEC] [PRETRAIN_EPOCHS] [noaug]
(PRETRAIN_EPOCHS: of the end-to-end pretraining, default 100; noaug: the same call without augmentation, the
unaugmented row of this protocol). Records go to zscore.jsonl beside this file."""
import json, os, sys, time
import numpy as np, torch
torch.set_num_threads(1)
from sklearn.metrics import normalized_mutual_info_score as nmi
from clustpy.deep import DCN, DEC
from clustpy_acedec import ACeDeC
from clustpy_acedec.preprocessing import channel_zscore
seed = int(sys.argv[1])
base_class = {'DCN': DCN, 'DEC': DEC}[sys.argv[2] if len(sys.argv) > 2 else 'DCN']
pretrain_epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 100
augmented = not (len(sys.argv) > 4 and sys.argv[4] == "noaug")
d = np.load(os.path.join(os.environ.get("CLUSTPY_ACEDEC_DATA", "../shared/data"), "mnist.npz"))
X, y = d["data"], d["labels"]  # train and test, 70,000 images
X = channel_zscore(X.astype(np.float32).reshape(-1, 28, 28))
# Records without "fill" filled with 0 in the images' own scale; "darkest": with the data set's darkest value; "mean": with its mean.
augmentation_fill = "mean"
t = time.time()
m = ACeDeC(base=base_class(n_clusters=10, batch_size=256, pretrain_epochs=pretrain_epochs, clustering_epochs=150, embedding_size=10,
                           augmentation_invariance=augmented, random_state=seed), precision="bfloat16").fit(X)
rec = dict(data="MNIST", n=len(X), seed=seed, base=base_class.__name__, pretrain_epochs=pretrain_epochs, augmented=augmented, nmi=round(nmi(y, m.labels_), 4),
           cluster_dims=len(m.cluster_space_dims_), seconds=round(time.time() - t, 1), fill=augmentation_fill,
           fit_seconds={k: round(v, 1) for k, v in m.fit_seconds_.items()})
print(json.dumps(rec))
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "zscore.jsonl"), "a").write(json.dumps(rec) + "\n")
