"""Which part of DEC's own pretraining code (piiswrong/dec, dec/pretrain.py and dec.py) the package's
``StackedDenoisingPretraining`` lacks, measured by AE + k-means on all of MNIST (issue 19, item 2).

    OMP_NUM_THREADS=1 python probe.py VARIANT SEED [LAYERWISE_EPOCHS FINETUNE_EPOCHS]   (default 10 20)

VARIANT
- ``package``: the package's schedule through its public ``pretrain`` (lr 1.0 on the per-feature MSE of images in
  [0, 1], gradient norm clipped at 1, dropout 0.2 on the inputs and on the hidden layer of every layer pair).
- ``dropout``: the same optimisation, with dropout where DEC's code puts it: no corruption of the pixels in the
  first layer pair (``drop_copy`` with 0.0 for i = 0) and no dropout on the 10-dimensional code of the
  embedding pair (its hidden layer has neither ReLU nor dropout).
- ``caffe``: ``dropout`` plus DEC's optimisation: the images scaled by 0.02 per grey level ([0, 5.1]), the
  EUCLIDEAN_LOSS of DEC's Caffe fork (half the squared error averaged over all elements: half the per-feature
  MSE, so the package's loss at the rate 0.1 / 2), biases at twice the rate (``blobs_lr: 2``), no gradient
  clipping, the momentum ramped from 0 to 0.9 over the first 1,000 steps of each phase (the fork's
  ``momentum_burnin``), layer-pair weights drawn from N(0, 0.01^2) and zero biases.
- ``relu``: ``package`` on the network with DEC's ReLU instead of clustpy's LeakyReLU(0.01).
Both schedules: SGD with momentum 0.9, batch 256, the rate divided by 10 after 2/5 of each phase (DEC: after
20,000 of 50,000 / 100,000 iterations), fine-tuning without dropout.
AE + k-means: scikit-learn's KMeans(10, n_init=20) on the embedding, as DEC's TMM.fit. Records: probe.jsonl."""
import json
import os
import sys
import time

import numpy as np
import torch
from clustpy.deep.neural_networks import FeedforwardAutoencoder
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score

from clustpy_acedec.pretraining import StackedDenoisingPretraining, linear_stages, pretrain

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
LAYERS = [784, 500, 500, 2000, 10]
BATCH = 256


def mnist() -> tuple:
    data = np.load(os.path.join(os.environ.get("CLUSTPY_ACEDEC_DATA", "../shared/data"), "mnist.npz"))
    return data["data"].reshape(-1, 784).astype(np.float32) / 255.0, data["labels"]


def sgd_phase(network, inputs, epochs, lr, bias_lr, clip, generator, burnin=0):
    """SGD with momentum 0.9 on the per-feature MSE of network(x) against x, the rate / 10 after 2/5 of the phase."""
    weights = [p for name, p in network.named_parameters() if not name.endswith("bias")]
    biases = [p for name, p in network.named_parameters() if name.endswith("bias")]
    optimizer = torch.optim.SGD([{"params": weights, "lr": lr}, {"params": biases, "lr": bias_lr}], momentum=0.9)
    batches = -(-len(inputs) // BATCH)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, max(1, 2 * epochs // 5) * batches, gamma=0.1)
    network.train()
    for _ in range(epochs):
        order = torch.randperm(len(inputs), generator=generator)
        for start in range(0, len(inputs), BATCH):
            x = inputs[order[start:start + BATCH]]
            loss = torch.nn.functional.mse_loss(network(x), x)
            if burnin:
                for group in optimizer.param_groups:
                    group["momentum"] = 0.9 * min(1.0, scheduler.last_epoch / burnin)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if clip is not None:
                torch.nn.utils.clip_grad_norm_(network.parameters(), clip)
            optimizer.step()
            scheduler.step()
        if not torch.isfinite(loss):
            raise FloatingPointError("diverged")
    network.eval()


def dec_like(autoencoder, X, layerwise, finetune, caffe, generator):
    """Layer pairs with DEC's dropout placement, then fine-tuning; DEC's optimisation when ``caffe``."""
    encoder, decoder = linear_stages(autoencoder.encoder.block), linear_stages(autoencoder.decoder.block)
    pairs = list(zip(encoder, reversed(decoder)))
    lr, bias_lr, clip, burnin = (0.05, 0.1, None, 1000) if caffe else (1.0, 1.0, 1.0, 0)
    inputs = X
    for depth, (enc, dec) in enumerate(pairs):
        if caffe:
            for layer in (enc[0], dec[0]):
                torch.nn.init.normal_(layer.weight, std=0.01)
                torch.nn.init.zeros_(layer.bias)
        first, last = depth == 0, depth == len(pairs) - 1
        pair = torch.nn.Sequential(torch.nn.Dropout(0.0 if first else 0.2), enc,
                                   torch.nn.Dropout(0.0 if last else 0.2), dec)
        sgd_phase(pair, inputs, layerwise, lr, bias_lr, clip, generator, burnin)
        with torch.no_grad():
            inputs = torch.cat([enc(inputs[i:i + 4096]) for i in range(0, len(inputs), 4096)])
    whole = torch.nn.Sequential(autoencoder.encoder, autoencoder.decoder)
    sgd_phase(whole, X, finetune, lr, bias_lr, clip, generator, burnin)


def main() -> None:
    variant, seed = sys.argv[1], int(sys.argv[2])
    layerwise, finetune = (int(v) for v in sys.argv[3:5]) if len(sys.argv) > 4 else (10, 20)
    X, y = mnist()
    if variant == "caffe":
        X = X * (0.02 * 255)
    X = torch.as_tensor(X)
    torch.manual_seed(seed)
    activation = torch.nn.ReLU if variant == "relu" else torch.nn.LeakyReLU
    autoencoder = FeedforwardAutoencoder(layers=LAYERS, activation_fn=activation, random_state=seed)
    generator = torch.Generator().manual_seed(seed)
    start = time.time()
    if variant in ("package", "relu"):
        schedule = StackedDenoisingPretraining(layerwise_epochs=layerwise, finetune_epochs=finetune)
        pretrain(autoencoder, X, schedule, finetune, BATCH, torch.optim.Adam, {"lr": 1e-3}, generator)
    elif variant in ("dropout", "caffe"):
        dec_like(autoencoder, X, layerwise, finetune, variant == "caffe", generator)
    else:
        raise ValueError(f"unknown variant {variant!r}")
    seconds = time.time() - start
    with torch.no_grad():
        embedded = torch.cat([autoencoder.encode(X[i:i + 4096]) for i in range(0, len(X), 4096)]).double().numpy()
        scale = (0.02 * 255) ** 2 if variant == "caffe" else 1.0  # the MSE in the units of images in [0, 1]
        reconstruction_mse = float(torch.nn.functional.mse_loss(
            autoencoder.decode(autoencoder.encode(X[:10000])), X[:10000]) / scale)
    labels = KMeans(10, n_init=20, random_state=seed).fit_predict(embedded)
    record = dict(variant=variant, seed=seed, layerwise_epochs=layerwise, finetune_epochs=finetune,
                  ae_kmeans_nmi=round(normalized_mutual_info_score(y, labels), 4),
                  reconstruction_mse_unit_scale=round(reconstruction_mse, 5), seconds=round(seconds, 1))
    print(json.dumps(record))
    with open(os.path.join(HERE, "probe.jsonl"), "a") as file:
        file.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
