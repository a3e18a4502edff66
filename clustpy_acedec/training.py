"""
Device-resident training loops: autoencoder pretraining and the clustering phases.

The data set sits on the device once; an epoch is a random permutation cut into index tensors, so a
step is a gather, a forward/backward pass and an optimiser step with no host synchronisation. The
running loss is accumulated on the device and read once per epoch for the progress bar; centre
re-initialisation (ENRC §2.8) is also checked once per epoch.
"""

from collections.abc import Callable, Iterator

import torch
import tqdm

from clustpy_acedec.losses import reconstruction_loss
from clustpy_acedec.model import SubspaceClusteringModel


def batch_indices(n_samples: int, batch_size: int, generator: torch.Generator, shuffle: bool = True) -> Iterator:
    """
    Index tensors of one epoch on the generator's device; the last, smaller batch is kept.
    """
    device = generator.device
    order = (torch.randperm(n_samples, generator=generator, device=device) if shuffle
             else torch.arange(n_samples, device=device))
    return iter(order.split(batch_size))


def _progress(n_epochs: int, desc: str, verbose: bool):
    return tqdm.trange(n_epochs, desc=desc, disable=not verbose, leave=False)


def pretrain_autoencoder(autoencoder: torch.nn.Module, X: torch.Tensor, n_epochs: int, batch_size: int,
                         optimizer_class: type, optimizer_params: dict, generator: torch.Generator,
                         verbose: bool = False) -> torch.nn.Module:
    """
    Train a clustpy autoencoder on the reconstruction loss, in place, with the data on the device.

    Parameters
    ----------
    autoencoder : torch.nn.Module
        the autoencoder (``encode``/``decode``), on X's device
    X : torch.Tensor
        the data set on the device
    n_epochs : int
        number of epochs
    batch_size : int
        size of the mini-batches
    optimizer_class : type
        a torch optimiser class
    optimizer_params : dict
        its parameters, e.g. {"lr": 1e-3}
    generator : torch.Generator
        generator on X's device, for the batch order
    verbose : bool
        show a progress bar

    Returns
    -------
    autoencoder : torch.nn.Module
        the trained autoencoder, in eval mode and marked ``fitted``
    """
    optimizer = optimizer_class(autoencoder.parameters(), **optimizer_params)
    autoencoder.train()
    bar = _progress(n_epochs, "pretraining", verbose)
    for _ in bar:
        total = torch.zeros((), device=X.device)
        for idx in batch_indices(X.shape[0], batch_size, generator):
            x = X[idx]
            loss = reconstruction_loss(x, autoencoder.decode(autoencoder.encode(x)))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach()
        if verbose:
            bar.set_postfix(loss=float(total))
    autoencoder.eval()
    autoencoder.fitted = True
    return autoencoder


@torch.no_grad()
def encode_all(autoencoder: torch.nn.Module, X: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """enc(X) in evaluation mode, batch by batch."""
    was_training = autoencoder.training
    autoencoder.eval()
    embedded = torch.cat([autoencoder.encode(X[i:i + batch_size]) for i in range(0, X.shape[0], batch_size)])
    autoencoder.train(was_training)
    return embedded


def train_clustering(model: SubspaceClusteringModel, X: torch.Tensor, n_epochs: int, batch_size: int,
                     optimizer: torch.optim.Optimizer, generator: torch.Generator, *,
                     embedded: torch.Tensor | None = None, augment: Callable | None = None,
                     regularizer: str = "reconstruction", scheduler=None, reinit_sample_size: int = 1000,
                     start_iteration: int = 0, verbose: bool = False, desc: str = "clustering") -> tuple:
    """
    Mini-batch training of a :class:`SubspaceClusteringModel`.

    Each step: loss of the batch (compression of all spaces + reconstruction), optimiser step, then the
    gradient-free centre updates (ENRC Eq. 6-7) with the assignments of that step - no alternation.
    After each epoch: running means are refreshed, lost centres re-initialised (ENRC §2.8).

    Parameters
    ----------
    model : SubspaceClusteringModel
        the model, on X's device
    X : torch.Tensor
        the data set on the device
    n_epochs : int
        number of epochs
    batch_size : int
        size of the mini-batches
    optimizer : torch.optim.Optimizer
        optimiser over the trainable parameters (the caller decides which: all, or only V and β)
    generator : torch.Generator
        generator on X's device (batch order, augmentation, re-initialisation samples)
    embedded : torch.Tensor | None
        enc(X), given when the autoencoder stays fixed (initialisation phases); saves the encoder passes
    augment : Callable | None
        ``augment(x, generator) -> x_aug`` for ACe/DeC's augmentation (§2.2)
    regularizer : str
        "reconstruction" (training) or "orthogonality" (ENRC initialisation, Eq. 8)
    scheduler : torch.optim.lr_scheduler.LRScheduler | None
        stepped after every mini-batch
    reinit_sample_size : int
        n_s of ENRC §2.8 (default: 1000)
    start_iteration : int
        iteration count at the start, for the re-initialisation threshold √iteration. The estimators start
        every phase at 0: a centre that the initialisation lost is then re-initialised right after the first
        clustering epoch instead of waiting for √(init iterations) more lost batches (measured on
        stickfigures, seed 0, 60 + 40 epochs: continuing the count left one clustering at NMI 0.67)
    verbose : bool
        show a progress bar
    desc : str
        progress-bar label

    Returns
    -------
    tuple : (float, int, int)
        mean loss of the last epoch, iteration count at the end, number of re-initialised centres
    """
    iteration, n_reinitialized, last_loss = start_iteration, 0, float("nan")
    frozen = embedded is not None
    model.autoencoder.train(not frozen)
    bar = _progress(n_epochs, desc, verbose)
    for _ in bar:
        total = torch.zeros((), device=X.device)
        n_batches = 0
        for idx in batch_indices(X.shape[0], batch_size, generator):
            x = X[idx]
            x_aug = augment(x, generator) if augment is not None else None
            loss, z, rotated, labels = model.batch_loss(x, embedded[idx] if frozen else None, x_aug, regularizer)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            model.after_step(z, rotated, labels)
            total += loss.detach()
            n_batches += 1
            iteration += 1
        model.end_epoch()
        n_reinitialized += _reinitialize_lost(model, X, embedded, generator, reinit_sample_size, iteration)
        last_loss = float(total) / max(n_batches, 1)
        if verbose:
            bar.set_postfix(loss=last_loss)
    model.autoencoder.eval()
    return last_loss, iteration, n_reinitialized


def _reinitialize_lost(model: SubspaceClusteringModel, X: torch.Tensor, embedded: torch.Tensor | None,
                       generator: torch.Generator, sample_size: int, iteration: int) -> int:
    def sample() -> torch.Tensor:
        idx = torch.randperm(X.shape[0], generator=generator, device=X.device)[:sample_size]
        z = embedded[idx] if embedded is not None else encode_all(model.autoencoder, X[idx])
        with torch.no_grad():
            return model.layer.rotate(z)

    with torch.no_grad():
        betas = model.layer.betas()
    return sum(objective.reinitialize_lost(sample, betas, iteration) for objective in model.objectives)
