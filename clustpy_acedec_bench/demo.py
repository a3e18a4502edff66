"""
``clustpy-acedec-demo``: cluster a real data set with ACeDeC, print NMI and the cluster dimensions, and
write pictures of the result.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from clustpy_acedec_bench.data import NPZ_FILES, load_npz, scale_images
from clustpy_acedec_bench.formatting import format_score, format_seconds
from clustpy_acedec_bench.names import DEMO_BASES
from clustpy_acedec_bench.openmp import passive_waiting_unless_set


def load_dataset(name: str, data_dir: str | None) -> tuple:
    """Images flattened to (n, D) in [0, 1] and labels; 'digits' ships with scikit-learn (offline)."""
    if name == "digits":
        from sklearn.datasets import load_digits
        X, y = load_digits(return_X_y=True)
        return (X / 16.0).astype(np.float32), y, (8, 8)
    images, labels = load_npz(name, data_dir)
    images = scale_images(images)
    return images.reshape(len(images), -1), np.asarray(labels).reshape(len(labels), -1)[:, 0], images.shape[1:]


def build_parser() -> argparse.ArgumentParser:
    """
    The command line of ``clustpy-acedec-demo``; every option states its default once, in its help text. It
    imports neither torch nor clustpy, so that ``--help`` answers at once.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(
        prog="clustpy-acedec-demo",
        description="Fit ACeDeC (cluster space + shared space around a clustpy DCN/DEC/IDEC) on a real data set, "
                    "print the NMI against the known labels and the cluster-space dimensions, and save plots.")
    parser.add_argument("--dataset", default="digits", choices=["digits", *NPZ_FILES],
                        help="'digits' (scikit-learn's 1,797 8x8 digits, offline anywhere) or a .npz set of "
                             "--data-dir (default: %(default)s)")
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help="folder with the benchmark .npz files (default: $CLUSTPY_ACEDEC_DATA or ../shared/data)")
    parser.add_argument("--base", default="DCN", choices=DEMO_BASES,
                        help="the clustpy deep clusterer ACeDeC wraps (default: %(default)s)")
    parser.add_argument("--pretrain-epochs", type=int, default=50, metavar="E",
                        help="autoencoder pretraining epochs (default: %(default)s)")
    parser.add_argument("--clustering-epochs", type=int, default=50, metavar="E",
                        help="ACeDeC clustering epochs (default: %(default)s)")
    parser.add_argument("--lr", type=float, default=1e-4,
                        help="clustering learning rate; β learns 10x faster (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=256, metavar="B",
                        help="mini-batch size of the pretraining and the clustering (default: %(default)s)")
    parser.add_argument("--embedding-size", type=int, default=10, metavar="D",
                        help="dimensions of the autoencoder's embedding, which ACeDeC splits into cluster and "
                             "shared space (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0,
                        help="random seed of the network, the initialisation and the mini-batches "
                             "(default: %(default)s)")
    parser.add_argument("--device", default=None,
                        help="'cpu', 'cuda', 'cuda:1', ... (default: CUDA when available, else the CPU)")
    parser.add_argument("--output", default="demo_output", metavar="DIR",
                        help="folder for the pictures (default: %(default)s)")
    parser.add_argument("--save-model", default=None, metavar="PATH",
                        help="also save the fitted model to this file, for ACeDeC.load (default: not saved)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def main(argv: list | None = None) -> int:
    """The ``clustpy-acedec-demo`` command; returns the exit status."""
    passive_waiting_unless_set()  # before torch is loaded: see clustpy_acedec_bench.openmp
    args = build_parser().parse_args(argv)
    from clustpy.deep import DCN, DEC, IDEC
    from sklearn.metrics import normalized_mutual_info_score

    from clustpy_acedec import ACeDeC
    from clustpy_acedec.plot import (plot_betas, plot_cluster_space, plot_decoded_centers, plot_shared_traversal,
                                     plot_space_reconstructions, traversal_consistency)

    X, y, image_shape = load_dataset(args.dataset, args.data_dir)
    n_clusters = len(np.unique(y))
    base_class = dict(DCN=DCN, DEC=DEC, IDEC=IDEC)[args.base]
    base = base_class(n_clusters=n_clusters, batch_size=args.batch_size, pretrain_epochs=args.pretrain_epochs,
                      clustering_epochs=args.clustering_epochs, clustering_optimizer_params={"lr": args.lr},
                      embedding_size=args.embedding_size, device=args.device, random_state=args.seed)
    print(f"{args.dataset}: {X.shape[0]} samples, {X.shape[1]} features, {n_clusters} classes; "
          f"ACeDeC({args.base}), {args.pretrain_epochs} + {args.clustering_epochs} epochs")
    start = time.perf_counter()
    model = ACeDeC(base=base, image_shape=image_shape, verbose=not args.quiet).fit(X)
    seconds = time.perf_counter() - start
    nmi = normalized_mutual_info_score(y, model.labels_)
    print(f"NMI = {format_score(nmi)}   ({format_seconds(seconds)} on {model.model_.layer.V.device})")
    print(f"cluster-space dimensions: {model.cluster_space_dims_.tolist()} of {model.betas_.shape[1]}")
    print("β_cs: [" + ", ".join(f"{beta:.2f}" for beta in model.betas_[0]) + "]")
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    plot_betas(model, path=output / "betas.png")
    plot_cluster_space(model, X, labels=y, path=output / "cluster_space.png")
    plot_space_reconstructions(model, X, image_shape=image_shape, path=output / "space_reconstructions.png")
    plot_decoded_centers(model, image_shape=image_shape, path=output / "decoded_centers.png")
    written = ["betas.png", "cluster_space.png", "space_reconstructions.png", "decoded_centers.png"]
    if len(model.cluster_space_dims_) < model.betas_.shape[1]:
        plot_shared_traversal(model, X, image_shape=image_shape, path=output / "shared_traversal.png")
        written.append("shared_traversal.png")
        check = traversal_consistency(model, X)
        # variances span decades (1e-5 on a flat decoder): three significant digits, not a fixed number of decimals
        print(f"shared-space traversal: {check['class_kept']:.0%} of the images keep their row's cluster; pixel "
              f"variance along the rows {check['row_pixel_variance'].min():.3g} ... "
              f"{check['row_pixel_variance'].max():.3g} ({check['relative_row_variance'].min():.3g} ... "
              f"{check['relative_row_variance'].max():.3g} of the data's per-pixel variance)")
    print(f"plots written to {output}/: {', '.join(written)}")
    if args.save_model:
        model.save(args.save_model)
        print(f"model saved to {args.save_model} (load it with ACeDeC.load)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
