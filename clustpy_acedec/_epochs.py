"""
The one epoch loop of every phase of a fit (pretraining, the initial phase, the clustering phase).

An epoch is a random permutation, drawn on the device, cut into index tensors; the data set is a
:class:`clustpy_acedec._placement.DataPlacement`, resident on the device (a step is a gather, a forward/backward
pass and an optimiser step with no host synchronisation) or streamed from host memory (the permutation is
copied to the host once per epoch, batches are gathered there and copied ahead). The running loss is
accumulated on the device and read once per epoch, for the recorded history and the progress bar.

In a distributed fit the data set is sharded (``DataPlacement.shard``): the permutation is one of the global
sample indices, drawn from the shared seed on every rank, and each rank runs its part of every global batch
(:mod:`clustpy_acedec._distributed`); the epoch's loss is summed over the ranks once per epoch, so every rank
records, and decides on, the same losses. Only rank 0 shows progress bars.
"""

import contextlib
from collections.abc import Callable, Iterator

import torch
import tqdm

from clustpy_acedec._distributed import batch_sum, set_global_batch_size, sharded_loop
from clustpy_acedec._placement import DataPlacement, as_placement


def epoch_batches(data: DataPlacement, batch_size: int, generator: torch.Generator) -> Iterator:
    """
    (index tensor, batch on the device, size of the global batch) of one epoch: a random permutation drawn on
    the generator's device, cut into index tensors of ``batch_size``; the last, smaller batch is kept. For a
    sharded data set the permutation is one of the global indices (the same on every rank), and each rank gets
    the local indices of its samples in every global batch (possibly none).
    """
    if data.shard is None:
        order = torch.randperm(data.n_samples, generator=generator, device=generator.device)
        return ((index, x, len(index)) for index, x in data.batches(order, batch_size))
    order = torch.randperm(data.shard.n_total, generator=generator, device=generator.device)
    local_batches, global_sizes = data.shard.local_order(order, batch_size)
    return ((index, x, size) for (index, x), size in zip(data.batches_of(local_batches), global_sizes))


def augmented_batches(data: DataPlacement, generator: torch.Generator, augment: Callable | None) -> Callable:
    """
    ``x -> augment(x, generator)`` for the batches of a loop over ``data`` (the identity without ``augment``).
    Augmentations are drawn per sample of the local batch: in a distributed fit from a generator of this rank,
    so that the shared generator (the batch order) draws the same on every rank.
    """
    if augment is None:
        return lambda x: x
    augment_generator = generator if data.shard is None else data.shard.rank_generator(generator)
    return lambda x: augment(x, augment_generator)


def run_epochs(data: DataPlacement, n_epochs: int, batch_size: int, generator: torch.Generator,
               step: Callable, *, end_epoch: Callable | None = None, desc: str = "", verbose: bool = False,
               epoch_losses: list | None = None) -> list:
    """
    The epoch loop of every phase.

    Parameters
    ----------
    data : DataPlacement
        the data set
    n_epochs : int
        number of epochs
    batch_size : int
        size of the mini-batches
    generator : torch.Generator
        generator on the device, for the batch order
    step : Callable
        ``step(index, x) -> loss`` runs one optimisation step on a batch and returns its (0-d) loss tensor
    end_epoch : Callable | None
        ``end_epoch(mean_loss)`` after every epoch (running means, re-initialisation, divergence checks);
        returning True ends the loop early (a plateau)
    desc : str
        progress-bar label
    verbose : bool
        show a progress bar
    epoch_losses : list | None
        the list to append every epoch's loss to (so that ``end_epoch`` can read them); None: a new one

    Returns
    -------
    epoch_losses : list
        the mean batch loss of every epoch (one host synchronisation per epoch)
    """
    epoch_losses = [] if epoch_losses is None else epoch_losses
    sharded = data.shard is not None
    verbose = verbose and (not sharded or data.shard.collective.is_main)
    bar = tqdm.trange(n_epochs, desc=desc, disable=not verbose, leave=False)
    with sharded_loop(data.shard.collective) if sharded else contextlib.nullcontext():
        for _ in bar:
            total = torch.zeros((), device=data.device)
            n_batches = 0
            for index, x, global_size in epoch_batches(data, batch_size, generator):
                set_global_batch_size(global_size)
                total += step(index, x).detach()
                n_batches += 1
            # a sharded step's loss is this rank's share of the global batch's loss: their sum is the batch's loss
            epoch_losses.append(float(batch_sum(total)) / max(n_batches, 1))
            if end_epoch is not None and end_epoch(epoch_losses[-1]):
                break
            if verbose:
                bar.set_postfix(loss=f"{epoch_losses[-1]:.4g}")
    return epoch_losses


@torch.no_grad()
def encode_all(autoencoder: torch.nn.Module, X: "torch.Tensor | DataPlacement", batch_size: int = 4096) -> torch.Tensor:
    """enc(X) in evaluation mode, batch by batch, on the device (also for a streamed data set)."""
    was_training = autoencoder.training
    autoencoder.eval()
    data = as_placement(X)
    # an empty data set (a rank's part of a sample in a distributed fit) still has the embedding's width; the
    # chunks stay a generator, so that a streamed data set is copied to the device one chunk at a time
    chunks = data.chunks(batch_size) if data.n_samples else [data.take(torch.zeros(0, dtype=torch.long))]
    embedded = torch.cat([autoencoder.encode(x) for x in chunks])
    autoencoder.train(was_training)
    return embedded
