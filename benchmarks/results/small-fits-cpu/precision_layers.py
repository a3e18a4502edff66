"""Which layers cost bfloat16 its NMI on digits? ACeDeC(DCN) on scikit-learn's digits (/16), the `acedec-digits`
schedule (20 + 20 epochs, batch 256, embedding 10), with the 64-500-500-2000-10 autoencoder built here (seeded
with the fit's seed) so that chosen Linear layers can run in float32 inside bfloat16 autocast:
    float32      everything in float32
    bfloat16     every Linear under autocast (the package's precision="bfloat16")
    bf16-embed   the embedding layer (2000 -> 10) in float32
    bf16-ends    the embedding layer, the decoder's first (10 -> 2000) and its output layer (500 -> 64) in float32
    OMP_NUM_THREADS=1 python precision_layers.py FIRST_SEED LAST_SEED
Records go to precision_layers.jsonl beside this file (NMI and fit seconds of a loaded machine)."""
import json, os, sys, time
import numpy as np, torch
torch.set_num_threads(1)
from clustpy.deep import DCN
from clustpy.deep.neural_networks import FeedforwardAutoencoder
from sklearn.datasets import load_digits
from sklearn.metrics import normalized_mutual_info_score as nmi
from clustpy_acedec import ACeDeC


class Float32(torch.nn.Module):
    """A layer that runs in float32 whatever autocast says."""
    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def forward(self, x):
        with torch.autocast(x.device.type, enabled=False):
            return self.layer(x.float())


VARIANTS = {"float32": ("float32", []), "bfloat16": ("bfloat16", []),
            "bf16-embed": ("bfloat16", [("encoder", 6)]),
            "bf16-ends": ("bfloat16", [("encoder", 6), ("decoder", 0), ("decoder", 6)])}


def network(seed, wrapped):
    torch.manual_seed(seed)
    autoencoder = FeedforwardAutoencoder([64, 500, 500, 2000, 10])
    for part, index in wrapped:
        block = getattr(autoencoder, part).block
        block[index] = Float32(block[index])
    return autoencoder


X, y = load_digits(return_X_y=True)
X = (X / 16).astype(np.float32)
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "precision_layers.jsonl")
done = {(r["seed"], r["variant"]) for r in map(json.loads, open(path))} if os.path.exists(path) else set()
for seed in range(int(sys.argv[1]), int(sys.argv[2]) + 1):
    for variant, (precision, wrapped) in VARIANTS.items():
        if (seed, variant) in done:
            continue
        base = DCN(n_clusters=10, batch_size=256, pretrain_epochs=20, clustering_epochs=20, embedding_size=10,
                   neural_network=network(seed, wrapped), device="cpu", random_state=seed)
        start = time.perf_counter()
        model = ACeDeC(base=base, precision=precision, verbose=False).fit(X)
        record = dict(data="digits", seed=seed, variant=variant, nmi=round(nmi(y, model.labels_), 4),
                      cluster_dims=len(model.cluster_space_dims_), seconds=round(time.perf_counter() - start, 1),
                      fit_seconds={k: round(v, 1) for k, v in model.fit_seconds_.items()})
        print(json.dumps(record), flush=True)
        with open(path, "a") as file:
            file.write(json.dumps(record) + "\n")
