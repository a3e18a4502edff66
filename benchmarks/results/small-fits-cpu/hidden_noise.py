"""Issue 20's 'hidden-noise robustness of the cluster-span start kept': does the initial phase's plateau rule
(``init_tol`` 0.01, the default) change what the start finds when the autoencoder hides the clusters?

SYNTH-like data (two cluster dimensions, ``n_noise`` noise dimensions, 1,200 points) through a fixed linear
autoencoder that multiplies the cluster dimensions by ``shrink`` and the noise dimensions by ``stretch`` (the test
``test_initialisation_survives_an_autoencoder_that_shrinks_the_cluster_directions`` at several strengths), no
clustering epochs: the labels are those of the start alone. Each setting with ``init_tol`` 0.01 and 0 (the whole
``init_iterations``), for ``init="cluster_span"`` and ``init="best"``, with the screening of the candidates after
``SCREEN`` iterations (``init_screen_iterations``; default: ACeDeC's default, 250 since the afternoon of 2026-12-01,
0 before; records from before the parameter
existed have none, which is the same as 0; those with 250 and no ``screening`` were made when 250 was ACeDeC's
default in the morning of 2026-12-01 and ranked by the loss itself; ``"screening": "profiled"`` marks the records of
the β-profiled ranking, ACeDeC's default since the afternoon).

    [SCREEN=250] OMP_NUM_THREADS=1 python benchmarks/results/small-fits-cpu/hidden_noise.py [SEEDS...]

One line of JSON per fit to hidden_noise.jsonl beside this file (resumes).
"""
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from clustpy.deep import DCN
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score as nmi

from clustpy_acedec import ACeDeC
from clustpy_acedec._model import SubspaceClusteringModel
from clustpy_acedec_bench.data import anisotropic_linear_autoencoder, make_synth

STRENGTHS = [(1.0, 1.0), (0.8, 1.2), (0.7, 1.3), (0.6, 1.4)]  # (shrink, stretch)
N_NOISE = 8


def main() -> None:
    torch.set_num_threads(1)
    path = Path(__file__).with_name("hidden_noise.jsonl")
    screen = int(os.environ.get("SCREEN", ACeDeC().init_screen_iterations))
    profiled = hasattr(SubspaceClusteringModel, "profiled_loss")
    done = {(r["shrink"], r["init"], r["init_tol"], r["seed"], r.get("init_screen_iterations", 0),
             r.get("screening") == "profiled")
            for r in map(json.loads, path.read_text().splitlines())} if path.exists() else set()
    for seed in map(int, sys.argv[1:] or ["0", "1", "2"]):
        X, y = make_synth(n_noise_dims=N_NOISE, n_samples=1200, random_state=seed)
        for shrink, stretch in STRENGTHS:
            scales = np.r_[shrink, shrink, np.full(N_NOISE, stretch)]
            kmeans = nmi(y, KMeans(4, n_init=3, random_state=seed).fit_predict(X * scales))
            for init in ("cluster_span", "best"):
                for init_tol in (0.01, 0.0):
                    if (shrink, init, init_tol, seed, screen, profiled and screen > 0) in done:
                        continue
                    base = DCN(n_clusters=4, neural_network=anisotropic_linear_autoencoder(scales),
                               clustering_epochs=0, batch_size=128, device="cpu", random_state=seed)
                    start = time.perf_counter()
                    model = ACeDeC(base=base, init=init, init_tol=init_tol, init_screen_iterations=screen).fit(X)
                    record = dict(seed=seed, shrink=shrink, stretch=stretch, n_noise=N_NOISE, init=init,
                                  init_tol=init_tol, init_screen_iterations=screen,
                                  nmi=round(nmi(y, model.labels_), 4),
                                  cluster_dims=len(model.cluster_space_dims_), kmeans_on_embedding=round(kmeans, 4),
                                  initial_epochs=[len(r.epoch_losses) for r in model.history_["initial"]],
                                  seconds=round(time.perf_counter() - start, 1))
                    if profiled and screen > 0:
                        record["screening"] = "profiled"
                    with path.open("a") as file:
                        file.write(json.dumps(record) + "\n")
                    print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
