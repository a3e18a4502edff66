"""
The exploration behind this folder's README (issue 19): ACe/DeC+DCN + Aug on all of USPS, 100 + 150 epochs,
batch 256, embedding 10, bfloat16, one torch thread, with other formulations of the augmentation's loss.

    OMP_NUM_THREADS=1 python variants.py PRETRAINING VARIANT SEED [--lr LR]

PRETRAINING: "aug" (end to end on augmented batches, as the estimators now do) or "plain".
VARIANT: how the clustering phase uses x_aug (``SubspaceClusteringModel._augmentation_loss`` is replaced for
this process; the estimator is otherwise the library's):

- ``library``: the package's own term (z_aug pulled to x's centre and to the shared mean; x_aug decoded from x's
  cluster-space and x_aug's shared-space coordinates, the mix not training β)
- ``mix_trains_beta``: the same with the mix training β (the package before this folder's change)
- ``paper``: only dist_βcs(V^T z_aug, V^T μ_k) of §2.2 (no shared-space term), the mix training β
- ``paper_mix_fixed``: ``paper`` with the mix not training β
- ``clustpy``: clustpy 0.0.3's choice: both spaces' terms for z_aug, x_aug decoded from z_aug alone
- ``none``: no augmentation in the clustering phase

Records are appended to variants.jsonl beside this file. The pretrained network is cached in /tmp.
"""

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
from clustpy.deep import DCN, get_neural_network
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score as nmi

from clustpy_acedec import ACeDeC
from clustpy_acedec._model import SubspaceClusteringModel, float32_region
from clustpy_acedec.losses import compression_loss
from clustpy_acedec.preprocessing import RandomRotationShift

HERE = Path(__file__).resolve().parent


def pretrained(X: torch.Tensor, augmented: bool, seed: int, epochs: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    network = get_neural_network(X.shape[1], 10, None, random_state=seed)
    cache = Path(f"/tmp/usps_ae_{'aug' if augmented else 'plain'}_{seed}_{epochs}.pt")
    if cache.exists():
        network.load_state_dict(torch.load(cache, weights_only=True))
    else:
        augment, generator = RandomRotationShift((16, 16)), torch.Generator().manual_seed(seed)
        optimizer = torch.optim.Adam(network.parameters(), lr=1e-3)
        network.train()
        for _ in range(epochs):
            for index in torch.randperm(len(X), generator=generator).split(256):
                x = augment(X[index], generator) if augmented else X[index]
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    reconstruction = network.decode(network.encode(x))
                loss = ((reconstruction.float() - x) ** 2).mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        torch.save(network.state_dict(), cache)
    network.eval()
    network.fitted = True
    return network


def variant_loss(variant: str):
    def augmentation_loss(self, x_aug, rotated, betas, labels):
        z_aug = self.autoencoder.encode(x_aug)
        with float32_region(z_aug):
            rotated_aug = self.layer.rotate(z_aug.float())
            per_sample = []
            for objective, columns in zip(self.objectives, self.label_columns):
                term = objective.augmented_loss(rotated_aug, betas, self.layer, labels[:, columns])
                if variant.startswith("paper") and any(s in self.shared_spaces for s in objective.spaces):
                    term = torch.zeros_like(term)
                per_sample.append(term)
            loss = compression_loss(torch.cat(per_sample, 1), labels, self.normalization, self.n_clusters_max)
            if variant == "clustpy":
                mixed = rotated_aug
            else:
                shared_weight = betas[self.shared_spaces].sum(0)
                if variant in ("library", "paper_mix_fixed"):
                    shared_weight = shared_weight.detach()
                mixed = (1.0 - shared_weight) * rotated + shared_weight * rotated_aug
        return loss + self._reconstruction_loss(x_aug, mixed)
    return augmentation_loss


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("pretraining", choices=["aug", "plain"])
    parser.add_argument("variant", choices=["library", "mix_trains_beta", "paper", "paper_mix_fixed", "clustpy", "none"])
    parser.add_argument("seed", type=int)
    parser.add_argument("--lr", type=float, default=None, help="clustering learning rate (default: clustpy's 1e-4)")
    parser.add_argument("--data-dir", default=os.environ.get("CLUSTPY_ACEDEC_DATA", "../shared/data"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = np.load(Path(args.data_dir) / "usps.npz")
    images, y = data["data"].astype(np.float32).reshape(-1, 16, 16), data["labels"]
    flat = torch.from_numpy(images.reshape(len(images), -1))
    start = time.time()
    network = pretrained(flat, args.pretraining == "aug", args.seed, 100)
    with torch.no_grad():
        ae_kmeans = nmi(y, KMeans(10, n_init=10, random_state=args.seed).fit_predict(network.encode(flat).numpy()))
    pretrain_seconds = time.time() - start
    if args.variant not in ("library", "none"):
        SubspaceClusteringModel._augmentation_loss = variant_loss(args.variant)
    optimizer_params = {} if args.lr is None else {"clustering_optimizer_params": {"lr": args.lr}}
    model = ACeDeC(base=DCN(n_clusters=10, batch_size=256, pretrain_epochs=100, clustering_epochs=150,
                            embedding_size=10, augmentation_invariance=args.variant != "none", random_state=args.seed,
                            neural_network=network, **optimizer_params), precision="bfloat16")
    start = time.time()
    model.fit(images)
    record = dict(pretraining=args.pretraining, variant=args.variant, seed=args.seed, lr=args.lr,
                  ae_kmeans=round(ae_kmeans, 4), nmi=round(nmi(y, model.labels_), 4),
                  cluster_dims=len(model.cluster_space_dims_), pretrain_seconds=round(pretrain_seconds, 1),
                  fit_seconds=round(time.time() - start, 1))
    print(json.dumps(record))
    with (HERE / "variants.jsonl").open("a") as file:
        file.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
