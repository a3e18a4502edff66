"""
ENRC on a reduced C-MNIST with a convolutional autoencoder, sized for a CPU (issue 3's fallback when no GPU is lent).

``python benchmarks/cmnist_reduced_conv.py --seed 0 --n-samples 10000 --pretrain-epochs 50 --clustering-epochs 50``

One seed: a seeded subset of the 60,000 C-MNIST pairs (ENRC §3.1), ``SmallConvAutoencoder`` with light channels
(16, 32, 64) and d = 16 (ENRC §3.2) pretrained end to end under bfloat16 autocast, then AE + Nr-Kmeans (best of 10
by its cost, with a noise space) and ENRC variants, all on that one autoencoder. Prints and writes one JSON line
per method to ``--output``. The full-size run is ``clustpy-acedec-bench --paper --datasets C-MNIST`` on a GPU.
"""

import argparse
import copy
import json
import time
from pathlib import Path

import numpy as np
import torch

#: ENRC configurations compared, name -> parameters beyond the shared ones
VARIANTS = {"ENRC": dict(init="random", loss_normalization="cluster_size"),  # the paper's configuration
            "ENRC (Nr-Kmeans start, points)": dict(init="nrkmeans", loss_normalization="points"),
            "ENRC (best start, points)": dict(init="best", loss_normalization="points")}


def main(argv=None) -> None:
    from clustpy.alternative import NrKmeans
    from clustpy_acedec import ENRC
    from clustpy_acedec_bench.datasets import load_dataset
    from clustpy_acedec.metrics import average_variation_of_information, best_match_nmi
    from clustpy_acedec.networks import SmallConvAutoencoder
    from clustpy_acedec.pretraining import pretrain
    from clustpy_acedec.pretraining import embed as encode_all

    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-samples", type=int, default=10000)
    parser.add_argument("--pretrain-epochs", type=int, default=50)
    parser.add_argument("--clustering-epochs", type=int, default=50)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--output", default="cmnist_reduced_conv.jsonl")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS), metavar="NAME",
                        help=f"ENRC configurations to run (default: all of {', '.join(VARIANTS)})")
    args = parser.parse_args(argv)

    data = load_dataset("C-MNIST", args.seed, args.data_dir, args.n_samples)
    X = np.ascontiguousarray(data.network_input("convolutional"), dtype=np.float32)
    torch.manual_seed(args.seed)
    autoencoder = SmallConvAutoencoder(X.shape[1:], 16, (16, 32, 64), random_state=args.seed)
    start = time.perf_counter()
    pretrain(autoencoder, torch.as_tensor(X), None, args.pretrain_epochs, 128, torch.optim.Adam, {"lr": 1e-3},
             torch.Generator().manual_seed(args.seed), execution="bfloat16")
    autoencoder.fitted = True
    common = dict(seed=args.seed, n_samples=len(X), pretrain_epochs=args.pretrain_epochs,
                  clustering_epochs=args.clustering_epochs, pretrain_seconds=round(time.perf_counter() - start, 1))

    def report(method: str, labels: np.ndarray, seconds: float, **extra) -> None:
        row = dict(common, method=method, nmi=best_match_nmi(data.labels, labels).round(3).tolist(),
                   vi=round(average_variation_of_information(labels), 3), seconds=round(seconds, 1), **extra)
        print(row, flush=True)
        with Path(args.output).open("a") as file:
            file.write(json.dumps(row) + "\n")

    embedded = encode_all(autoencoder, torch.as_tensor(X)).float().numpy()
    start = time.perf_counter()
    nrkmeans = NrKmeans([10, 10, 1], n_init=10, random_state=args.seed).fit(embedded)
    report("AE + Nr-Kmeans", nrkmeans.labels_[:, :2], time.perf_counter() - start)
    for method in args.variants:
        params = VARIANTS[method]
        start = time.perf_counter()
        model = ENRC([10, 10], batch_size=128, pretrain_epochs=0, clustering_epochs=args.clustering_epochs,
                     neural_network=copy.deepcopy(autoencoder), embedding_size=16, precision="bfloat16", device="cpu",
                     random_state=args.seed, verbose=False, **params).fit(X)
        report(method, model.labels_, time.perf_counter() - start,
               subspace_dims=[len(dims) for dims in model.subspace_dims_])


if __name__ == "__main__":
    main()
