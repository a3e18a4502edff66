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

import contextlib
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

#: Largest embedding of a distributed fit (bytes) that every rank gathers whole for the initialisation (10 M
#: samples x d = 10 in float32 are 400 MB); above it the ranks gather a seeded sample of this size.
GATHERED_EMBEDDING_BYTES = 2 * 1024 ** 3


class Collective:
    """
    The ranks of a distributed fit: the default process group of torch.distributed.

    Tensors go through the collectives where the backend serves them: CUDA tensors on their device with NCCL,
    CPU tensors with gloo; a CPU tensor goes through the current CUDA device in an NCCL-only group, a CUDA tensor
    through the host in a gloo-only group.

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
        backend = str(dist.get_backend()).lower()
        self._serves_cuda, self._serves_cpu = "nccl" in backend, "gloo" in backend or "mpi" in backend

    @property
    def is_main(self) -> bool:
        """Rank 0: the only rank that shows progress and writes files."""
        return self.rank == 0

    def _to_backend(self, tensor: torch.Tensor) -> torch.Tensor:
        if tensor.device.type == "cpu" and not self._serves_cpu:
            return tensor.to(torch.device("cuda", torch.cuda.current_device()))
        if tensor.device.type != "cpu" and not self._serves_cuda:
            return tensor.cpu()
        return tensor

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

    def all_gather_rows(self, tensor: torch.Tensor, counts: list | None = None) -> torch.Tensor:
        """
        The rows of ``tensor`` of every rank, concatenated in rank order; the ranks may hold different numbers
        of rows (``counts``, every rank's; None: gathered first).
        """
        counts = self.all_gather_object(int(tensor.shape[0])) if counts is None else list(counts)
        local = self._to_backend(tensor.contiguous())
        if len(set(counts)) == 1:
            gathered = [torch.empty_like(local) for _ in range(self.world_size)]
            self._dist.all_gather(gathered, local)
            return torch.cat(gathered).to(tensor.device)
        # Uneven shards: one broadcast per rank into its rows, so that no rank holds more than the whole result
        # (padding every rank to the largest shard would cost world_size x the largest shard).
        out = torch.empty((sum(counts), *tensor.shape[1:]), dtype=tensor.dtype, device=local.device)
        starts = np.cumsum([0] + counts).tolist()
        for rank in range(self.world_size):
            rows = out[starts[rank]:starts[rank + 1]]
            if rank == self.rank:
                rows.copy_(local)
            if counts[rank]:
                self._dist.broadcast(rows, rank)
        return out.to(tensor.device)

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


class _SingleProcess:
    """How many :func:`single_process` blocks are open in this process."""
    depth = 0


def current_collective() -> Collective | None:
    """The process group a fit runs across: None without an initialised torch.distributed group of two or more
    processes (a one-process group changes nothing), and inside :func:`single_process`."""
    import torch.distributed as dist
    if _SingleProcess.depth or not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() < 2:
        return None
    return Collective()


@contextlib.contextmanager
def single_process():
    """Fits inside the block run in this process alone, although a process group is initialised."""
    _SingleProcess.depth += 1
    try:
        yield
    finally:
        _SingleProcess.depth -= 1


@contextlib.contextmanager
def quiet_unless_main(collective: Collective | None):
    """
    A fit's warnings are shown by rank 0 only (the other ranks' are the same ones). The warning filters stay as
    they are on every rank, so that a warning the user turned into an error raises on every rank alike.
    """
    if collective is None or collective.is_main:
        yield
        return
    with warnings.catch_warnings():
        warnings.showwarning = lambda *args, **kwargs: None
        yield


def gathered_embedding(embedded: torch.Tensor, shard: "Shard", seed: int,
                       limit_bytes: int = GATHERED_EMBEDDING_BYTES) -> torch.Tensor:
    """
    The embedding the initialisation of a distributed fit runs on, the same on every rank.

    Parameters
    ----------
    embedded : torch.Tensor
        this rank's embedding, shape (n_local, d)
    shard : Shard
        this rank's shard of the data set (the ranks and their numbers of samples)
    seed : int
        the fit's seed (the same on every rank)
    limit_bytes : int
        largest result (default: :data:`GATHERED_EMBEDDING_BYTES`)

    Returns
    -------
    embedded : torch.Tensor
        all shards' embeddings in rank order (then the initialisation is exactly that of one process on the whole
        data set), or, when that would exceed ``limit_bytes``, a uniform sample of that size: every rank
        contributes a share proportional to its shard, drawn by a generator seeded with the seed and its rank
    """
    collective = shard.collective
    row_bytes = embedded.element_size() * int(np.prod(embedded.shape[1:]))
    rows = max(1, limit_bytes // max(row_bytes, 1))
    if shard.n_total <= rows:
        return collective.all_gather_rows(embedded, shard.counts)
    kept = [count * rows // shard.n_total for count in shard.counts]
    generator = torch.Generator().manual_seed(seed + 7919 * (collective.rank + 1))
    chosen = torch.randperm(embedded.shape[0], generator=generator)[:kept[collective.rank]].sort().values
    return collective.all_gather_rows(embedded[chosen.to(embedded.device)], kept)


def comparable(value) -> str:
    """A setting as text that is the same in every process for the same setting (no memory addresses)."""
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))


def agreed(collective: Collective | None, check: Callable):
    """
    ``check()`` on every rank, and its error raised on every rank: a rank whose ``check()`` fails raises its own
    error, the others a ``ValueError`` or ``TypeError`` (for those kinds) or a ``RuntimeError`` (for any other
    failure, e.g. a device out of memory) naming the rank and the problem, instead of waiting for it in the
    next collective.
    """
    if collective is None:
        return check()
    try:
        result, failure = check(), None
    except Exception as error:  # any kind: a rank that raised and left would leave the others waiting forever
        result, failure = None, error
    failures = collective.all_gather_object(None if failure is None else (_error_kind(failure), str(failure)))
    if failure is not None:
        raise failure
    for rank, other in enumerate(failures):
        if other is not None:
            raise _ERROR_KINDS[other[0]](f"rank {rank} of the distributed fit: {other[1]}")
    return result


#: what the other ranks raise for a rank's failure in :func:`agreed`, by kind
_ERROR_KINDS = {"TypeError": TypeError, "ValueError": ValueError, "RuntimeError": RuntimeError}


def _error_kind(error: Exception) -> str:
    for kind, error_class in _ERROR_KINDS.items():
        if isinstance(error, error_class):
            return kind
    return "RuntimeError"


@dataclass(frozen=True)
class Shard:
    """
    This rank's part of a data set split across the ranks, in rank order.

    Attributes
    ----------
    collective : Collective
        the ranks
    counts : tuple
        every rank's number of samples, in rank order
    """
    collective: Collective
    counts: tuple

    @classmethod
    def of(cls, collective: Collective, n_local: int) -> "Shard":
        """The shard of ``n_local`` samples of this rank (a collective: every rank calls it)."""
        return cls(collective, tuple(collective.all_gather_object(int(n_local))))

    @property
    def n_local(self) -> int:
        """Samples on this rank."""
        return self.counts[self.collective.rank]

    @property
    def n_total(self) -> int:
        """Samples of all ranks."""
        return sum(self.counts)

    @property
    def offset(self) -> int:
        """Global index of this rank's first sample (the samples of ranks 0 .. rank - 1 come before)."""
        return sum(self.counts[:self.collective.rank])

    def rank_generator(self, generator: torch.Generator) -> torch.Generator:
        """
        A generator of this rank for per-sample draws of its local batches (augmentations), seeded from the
        shared ``generator``, which draws one number, the same on every rank.
        """
        seed = int(torch.randint(2**62, (1,), generator=generator, device=generator.device))
        return torch.Generator(device=generator.device).manual_seed(seed + self.collective.rank)

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
        ``function(local indices)`` for the global samples ``index``, computed by the ranks that hold them.

        Parameters
        ----------
        index : torch.Tensor
            global sample indices, the same on every rank
        function : Callable
            maps local indices (possibly none) to one row per sample, e.g. their embedding

        Returns
        -------
        rows : torch.Tensor
            the rows of all samples of ``index``, in its order, on every rank
        """
        mine = (index >= self.offset) & (index < self.offset + self.n_local)
        positions = torch.nonzero(mine).flatten()
        values = function(index[mine] - self.offset)
        counts = self.collective.all_gather_object(int(positions.shape[0]))  # one row of values per position
        all_positions = self.collective.all_gather_rows(positions, counts)
        all_values = self.collective.all_gather_rows(values, counts)
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


__all__ = ["GATHERED_EMBEDDING_BYTES", "Collective", "Shard", "agreed", "batch_mean", "batch_sum", "comparable",
           "current_collective", "gathered_embedding", "in_sharded_loop", "quiet_unless_main", "set_global_batch_size",
           "sharded_loop", "single_process", "sum_gradients"]
