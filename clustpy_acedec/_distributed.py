"""
One fit across processes with torch.distributed: the process group, the shard of the data set each rank holds,
and the global batch that a training step's statistics are reduced over.

The design (docs/design.md, "Distributed fit"): every rank holds one shard of the data set and the same model.
An epoch is one permutation of the *global* sample indices, drawn from the fit's shared seed on every rank, cut
into global batches of ``batch_size``; each rank takes the samples of a global batch that lie in its shard (any
number, none included). Every term of the loss is written as this rank's share of the mean over the global
batch (:func:`batch_mean`), the batch statistics that the loss or a centre update needs (DEC's cluster
frequencies, ENRC Eq. 4's cluster sizes, the mini-batch sums and counts of Eq. 6-7, the shared space's mean)
are summed over the ranks (:func:`batch_sum`), and the gradients of the autoencoder, V, β and learnable centres
are summed over the ranks before the optimiser step (:func:`sum_gradients`). A step is then the same
mathematics as one process's step on the whole global batch, with uneven shards too, which is why the gradients
are summed explicitly instead of by ``DistributedDataParallel``: DDP averages equally weighted ranks and expects
every rank to run the same number of equally sized batches.

Outside a sharded loop (one process, or the initial phase, which runs on the embedding gathered from every
rank) every function here is the plain local computation.
"""

from collections.abc import Callable
from dataclasses import dataclass

import torch


class Collective:
    """
    The ranks of a distributed fit: the default process group of torch.distributed.

    Tensors go through the collectives on their own device with NCCL, and through the host with gloo (which
    serves CPU tensors).

    Attributes
    ----------
    rank : int
        this process's rank
    world_size : int
        number of processes
    """

    def __init__(self):
        import torch.distributed as dist
        self._dist = dist
        self.rank = dist.get_rank()
        self.world_size = dist.get_world_size()
        self._host_only = "nccl" not in str(dist.get_backend()).lower()

    @property
    def is_main(self) -> bool:
        """Rank 0: the only rank that shows progress and writes files."""
        return self.rank == 0

    def _to_backend(self, tensor: torch.Tensor) -> torch.Tensor:
        return tensor.cpu() if self._host_only and tensor.device.type != "cpu" else tensor

    def all_reduce(self, tensor: torch.Tensor) -> torch.Tensor:
        """The element-wise sum of ``tensor`` over the ranks (a new tensor on ``tensor``'s device)."""
        buffer = self._to_backend(tensor).clone()
        self._dist.all_reduce(buffer)
        return buffer.to(tensor.device)

    def broadcast_(self, tensor: torch.Tensor, src: int = 0) -> None:
        """Overwrite ``tensor`` in place with rank ``src``'s."""
        buffer = self._to_backend(tensor.detach())
        if buffer is tensor or buffer.data_ptr() == tensor.data_ptr():
            self._dist.broadcast(tensor.data, src)
            return
        self._dist.broadcast(buffer, src)
        with torch.no_grad():
            tensor.copy_(buffer)

    def all_gather_rows(self, tensor: torch.Tensor) -> torch.Tensor:
        """
        The rows of ``tensor`` of every rank, concatenated in rank order; the ranks may hold different numbers
        of rows (padded to the largest for the collective).
        """
        counts = self.all_gather_object(int(tensor.shape[0]))
        largest = max(counts)
        padded = torch.zeros((largest, *tensor.shape[1:]), dtype=tensor.dtype, device=tensor.device)
        padded[:tensor.shape[0]] = tensor
        padded = self._to_backend(padded)
        gathered = [torch.empty_like(padded) for _ in range(self.world_size)]
        self._dist.all_gather(gathered, padded)
        return torch.cat([g[:n] for g, n in zip(gathered, counts)]).to(tensor.device)

    def all_gather_object(self, value) -> list:
        """Every rank's ``value`` (a small picklable object made by this package, never read from a file)."""
        values = [None] * self.world_size
        self._dist.all_gather_object(values, value)
        return values

    def broadcast_object(self, value, src: int = 0):
        """Rank ``src``'s ``value`` on every rank."""
        values = [value]
        self._dist.broadcast_object_list(values, src)
        return values[0]

    def broadcast_module_(self, module: torch.nn.Module, src: int = 0) -> None:
        """Parameters and buffers of ``module`` overwritten with rank ``src``'s, so that all ranks hold bitwise
        the same model."""
        for tensor in [*module.parameters(), *module.buffers()]:
            self.broadcast_(tensor, src)


def current_collective() -> Collective | None:
    """The process group a fit runs across: None without an initialised torch.distributed group of two or more
    processes (a one-process group changes nothing)."""
    import torch.distributed as dist
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
        return None
    return Collective()


def agreed(collective: Collective | None, check: Callable):
    """
    ``check()`` on every rank, and its error raised on every rank: a rank whose input is bad raises its own
    error, the others a ``ValueError`` (or ``TypeError``) naming the rank and the problem, instead of waiting
    for it in the next collective.
    """
    if collective is None:
        return check()
    try:
        result, failure = check(), None
    except (ValueError, TypeError) as error:
        result, failure = None, error
    failures = collective.all_gather_object(None if failure is None else (type(failure).__name__, str(failure)))
    if failure is not None:
        raise failure
    for rank, other in enumerate(failures):
        if other is not None:
            error_class = TypeError if other[0] == "TypeError" else ValueError
            raise error_class(f"rank {rank} of the distributed fit: {other[1]}")
    return result


@dataclass(frozen=True)
class Shard:
    """
    This rank's part of a data set split across the ranks, in rank order: global samples
    ``offset .. offset + n_local - 1``.
    """
    collective: Collective
    offset: int
    n_local: int
    n_total: int

    @classmethod
    def of(cls, collective: Collective, n_local: int) -> "Shard":
        counts = collective.all_gather_object(int(n_local))
        return cls(collective, sum(counts[:collective.rank]), int(n_local), sum(counts))

    def local_order(self, order: torch.Tensor, batch_size: int) -> tuple:
        """
        The global batches of an epoch's permutation of global indices, as this rank sees them.

        Returns
        -------
        tuple : (list, list)
            this rank's local index tensor per global batch (possibly empty), and the global batch sizes
        """
        mine = (order >= self.offset) & (order < self.offset + self.n_local)
        n_batches = -(-order.numel() // batch_size)
        global_sizes = [batch_size] * (n_batches - 1) + [order.numel() - batch_size * (n_batches - 1)]
        # per global batch, how many of its samples are here: one host read per epoch, never per step
        padded = torch.zeros(n_batches * batch_size, dtype=torch.long, device=order.device)
        padded[:order.numel()] = mine
        local_sizes = padded.view(n_batches, batch_size).sum(1).tolist()
        local = (order[mine] - self.offset).split(local_sizes)
        return list(local), global_sizes

    def gather_samples(self, index: torch.Tensor, function: Callable) -> torch.Tensor:
        """
        ``function(local samples)`` of the global samples ``index`` (the same on every rank), computed by the
        ranks that hold them and assembled in ``index``'s order on every rank.
        """
        mine = (index >= self.offset) & (index < self.offset + self.n_local)
        positions = torch.nonzero(mine).flatten()
        values = function(index[mine] - self.offset)
        all_positions = self.collective.all_gather_rows(positions)
        all_values = self.collective.all_gather_rows(values)
        out = torch.empty((index.shape[0], *values.shape[1:]), dtype=values.dtype, device=values.device)
        out[all_positions.to(values.device)] = all_values
        return out


class _GlobalBatch:
    """The sharded loop that is running in this process, and the size of its current global batch."""
    collective: Collective | None = None
    size: int = 0


_ACTIVE = _GlobalBatch()


class sharded_loop:
    """Context manager: statistics of the steps and epochs inside are reduced over ``collective``'s ranks."""

    def __init__(self, collective: Collective):
        self._collective = collective

    def __enter__(self):
        if _ACTIVE.collective is not None:
            raise RuntimeError("sharded loops do not nest")
        _ACTIVE.collective, _ACTIVE.size = self._collective, 0
        return self

    def __exit__(self, *exc_info):
        _ACTIVE.collective, _ACTIVE.size = None, 0
        return False


def set_global_batch_size(size: int) -> None:
    """The number of samples of the global batch the next step computes this rank's share of."""
    _ACTIVE.size = int(size)


def in_sharded_loop() -> bool:
    """Whether a sharded loop is running (its statistics are reduced over the ranks)."""
    return _ACTIVE.collective is not None


def batch_mean(per_sample: torch.Tensor) -> torch.Tensor:
    """
    The mean over the batch (dimension 0). In a sharded loop: this rank's share of the mean over the global
    batch, Σ_local / global batch size, so that the ranks' shares (and their gradients) add up to it.
    """
    if _ACTIVE.collective is None:
        return per_sample.mean(0)
    return per_sample.sum(0) / _ACTIVE.size


def batch_sum(statistic: torch.Tensor) -> torch.Tensor:
    """A batch statistic (a sum over the batch's samples, no gradient) summed over the ranks in a sharded loop;
    itself otherwise."""
    if _ACTIVE.collective is None:
        return statistic
    return _summed_over_ranks(statistic)


@torch.compiler.disable  # a compiled step leaves the collective to eager torch (one graph break, distributed only)
def _summed_over_ranks(statistic: torch.Tensor) -> torch.Tensor:
    return _ACTIVE.collective.all_reduce(statistic.detach())


def sum_gradients(optimizer: torch.optim.Optimizer) -> None:
    """
    In a sharded loop: every gradient of ``optimizer``'s parameters summed over the ranks, as one all-reduce of
    one flat buffer per step. Every rank runs the same forward pass (on an empty batch too), so the same
    parameters have gradients on every rank; one without a gradient keeps none, as in one process.
    """
    if _ACTIVE.collective is None:
        return
    grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
    if not grads:
        return
    flat = _ACTIVE.collective.all_reduce(torch.cat([g.reshape(-1) for g in grads]))
    for grad, reduced in zip(grads, flat.split([g.numel() for g in grads])):
        grad.copy_(reduced.view_as(grad))


__all__ = ["Collective", "Shard", "agreed", "batch_mean", "batch_sum", "current_collective", "in_sharded_loop",
           "set_global_batch_size", "sharded_loop", "sum_gradients"]
