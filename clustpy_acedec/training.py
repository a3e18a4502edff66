"""
Training loops: autoencoder pretraining and the clustering phases.

An epoch is a random permutation, drawn on the device, cut into index tensors; the data set is a
:class:`clustpy_acedec.placement.DataPlacement`, resident on the device (a step is a gather, a forward/backward
pass and an optimiser step with no host synchronisation) or streamed from host memory (the permutation is
copied to the host once per epoch, batches are gathered there and copied ahead). The running loss is
accumulated on the device and read once per epoch for the progress bar; centre re-initialisation (ENRC §2.8)
is also checked once per epoch. Precision and compilation of the steps: :mod:`clustpy_acedec.execution`.
"""

from collections.abc import Callable, Iterator

import torch
import tqdm

from clustpy_acedec.execution import Execution, make_optimizer
from clustpy_acedec.losses import reconstruction_loss
from clustpy_acedec.model import SubspaceClusteringModel
from clustpy_acedec.placement import DataPlacement, as_placement


def epoch_batches(data: DataPlacement, batch_size: int, generator: torch.Generator) -> Iterator:
    """
    (index tensor, batch on the device) of one epoch: a random permutation drawn on the generator's device, cut
    into index tensors of ``batch_size``; the last, smaller batch is kept.
    """
    order = torch.randperm(data.n_samples, generator=generator, device=generator.device)
    return data.batches(order, batch_size)


def _progress(n_epochs: int, desc: str, verbose: bool):
    return tqdm.trange(n_epochs, desc=desc, disable=not verbose, leave=False)


def pretrain_autoencoder(autoencoder: torch.nn.Module, X: "torch.Tensor | DataPlacement", n_epochs: int,
                         batch_size: int, optimizer_class: type, optimizer_params: dict, generator: torch.Generator,
                         verbose: bool = False, execution: Execution | None = None) -> torch.nn.Module:
    """
    Train a clustpy autoencoder on the reconstruction loss, in place.

    Parameters
    ----------
    autoencoder : torch.nn.Module
        the autoencoder (``encode``/``decode``), on the data's device
    X : torch.Tensor | DataPlacement
        the data set: a tensor on the device, or a placed data set
    n_epochs : int
        number of epochs
    batch_size : int
        size of the mini-batches
    optimizer_class : type
        a torch optimiser class
    optimizer_params : dict
        its parameters, e.g. {"lr": 1e-3}
    generator : torch.Generator
        generator on the device, for the batch order
    verbose : bool
        show a progress bar
    execution : Execution | None
        precision and compilation of the steps; None: float32, eager

    Returns
    -------
    autoencoder : torch.nn.Module
        the trained autoencoder, in eval mode and marked ``fitted``
    """
    data = as_placement(X)
    execution = execution if execution is not None else Execution(data.device)
    optimizer = make_optimizer(optimizer_class, autoencoder.parameters(), **optimizer_params)
    step = execution.gradient_step(_reconstruction_step(autoencoder), optimizer, batch_size)
    autoencoder.train()
    bar = _progress(n_epochs, "pretraining", verbose)
    for _ in bar:
        total = torch.zeros((), device=data.device)
        for _, x in epoch_batches(data, batch_size, generator):
            loss = step(x)
            optimizer.step()
            total += loss.detach()
        if verbose:
            bar.set_postfix(loss=float(total))
    autoencoder.eval()
    autoencoder.fitted = True
    return autoencoder


def _reconstruction_step(autoencoder: torch.nn.Module) -> Callable:
    """The pretraining loss of a batch, L_rec of dec(enc(x)) (the reconstruction cast to float32)."""
    def reconstruction_step(x: torch.Tensor) -> torch.Tensor:
        return reconstruction_loss(x, autoencoder.decode(autoencoder.encode(x)).float())
    return reconstruction_step


@torch.no_grad()
def encode_all(autoencoder: torch.nn.Module, X: "torch.Tensor | DataPlacement", batch_size: int = 4096) -> torch.Tensor:
    """enc(X) in evaluation mode, batch by batch, on the device (also for a streamed data set)."""
    was_training = autoencoder.training
    autoencoder.eval()
    embedded = torch.cat([autoencoder.encode(x) for x in as_placement(X).chunks(batch_size)])
    autoencoder.train(was_training)
    return embedded


def train_clustering(model: SubspaceClusteringModel, X: "torch.Tensor | DataPlacement", n_epochs: int, batch_size: int,
                     optimizer: torch.optim.Optimizer, generator: torch.Generator, *,
                     embedded: torch.Tensor | None = None, augment: Callable | None = None,
                     regularizer: str = "reconstruction", scheduler=None, reinit_sample_size: int = 1000,
                     start_iteration: int = 0, verbose: bool = False, desc: str = "clustering",
                     execution: Execution | None = None) -> tuple:
    """
    Mini-batch training of a :class:`SubspaceClusteringModel`.

    Each step: loss of the batch (compression of all spaces + reconstruction), optimiser step, then the
    gradient-free centre updates (ENRC Eq. 6-7) with the assignments of that step - no alternation.
    After each epoch: running means are refreshed, lost centres re-initialised (ENRC §2.8).

    Parameters
    ----------
    model : SubspaceClusteringModel
        the model, on the data's device
    X : torch.Tensor | DataPlacement
        the data set: a tensor on the device, or a placed data set
    n_epochs : int
        number of epochs
    batch_size : int
        size of the mini-batches
    optimizer : torch.optim.Optimizer
        optimiser over the trainable parameters (the caller decides which: all, or only V and β)
    generator : torch.Generator
        generator on the device (batch order, augmentation, re-initialisation samples)
    embedded : torch.Tensor | None
        enc(X) on the device, given when the autoencoder stays fixed (initialisation phases); saves the encoder passes
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
    execution : Execution | None
        precision and compilation of the steps; None: float32, eager

    Returns
    -------
    tuple : (float, int, int)
        mean loss of the last epoch, iteration count at the end, number of re-initialised centres
    """
    data = as_placement(X)
    execution = execution if execution is not None else Execution(data.device)
    step = execution.gradient_step(model.batch_loss, optimizer, batch_size)
    iteration, n_reinitialized, last_loss = start_iteration, 0, float("nan")
    frozen = embedded is not None
    model.autoencoder.train(not frozen)
    bar = _progress(n_epochs, desc, verbose)
    for _ in bar:
        total = torch.zeros((), device=data.device)
        n_batches = 0
        for idx, x in epoch_batches(data, batch_size, generator):
            x_aug = augment(x, generator) if augment is not None else None
            loss, z, rotated, labels = step(x, embedded[idx] if frozen else None, x_aug, regularizer)
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            model.after_step(z, rotated, labels)
            total += loss.detach()
            n_batches += 1
            iteration += 1
        model.end_epoch()
        n_reinitialized += _reinitialize_lost(model, data, embedded, generator, reinit_sample_size, iteration)
        last_loss = float(total) / max(n_batches, 1)
        if verbose:
            bar.set_postfix(loss=last_loss)
    model.autoencoder.eval()
    return last_loss, iteration, n_reinitialized


def _reinitialize_lost(model: SubspaceClusteringModel, data: DataPlacement, embedded: torch.Tensor | None,
                       generator: torch.Generator, sample_size: int, iteration: int) -> int:
    def sample() -> torch.Tensor:
        idx = torch.randperm(data.n_samples, generator=generator, device=generator.device)[:sample_size]
        z = embedded[idx] if embedded is not None else encode_all(model.autoencoder, data.take(idx))
        with torch.no_grad():
            return model.layer.rotate(z)

    with torch.no_grad():
        betas = model.layer.betas()
    return sum(objective.reinitialize_lost(sample, betas, iteration) for objective in model.objectives)
