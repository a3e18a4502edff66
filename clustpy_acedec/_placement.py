"""
Where the data set of a fit lives: resident on the device, or in host memory and streamed batch by batch.

Resident (the default wherever the data fit): the data set is copied to the device once and a batch is a
gather ``X[idx]`` on the device. Streamed (data larger than the device memory): the data set stays in host
memory where numpy has it (no copy); every batch is gathered on the host into a staging buffer, pinned when
the device is a CUDA device, and copied with ``non_blocking=True``. On CUDA the next batch is gathered and
copied on a side stream while the current one is computed. Both placements take the same index tensors, drawn
on the device by the same generator, so they give the same batches, and so the same results (on CUDA up to
the order of atomic additions in ``index_add_`` and some backward passes, which torch does not fix there).

The switch (``mode="auto"``): resident when the data set takes at most :data:`RESIDENT_FRACTION` of the free
memory of the CUDA device (``torch.cuda.mem_get_info``) at the start of the fit, streamed otherwise; on the
CPU always resident (the "device" is the host, nothing is copied). The embedding (N x d) always stays on the
device: it is what the initialisation and the initial phase use.
"""

import math
from collections.abc import Callable, Iterable, Iterator

import torch

#: The data placement modes of the estimators' ``data_placement`` parameter.
PLACEMENT_MODES = ("auto", "device", "host")

#: "auto" keeps the data on a CUDA device when they take at most this fraction of its free memory; the rest
#: is left to the network, its activations and the optimiser state.
RESIDENT_FRACTION = 0.5


class DataPlacement:
    """
    A data set of N samples either resident on ``device`` or kept in host memory and streamed to it.

    Parameters
    ----------
    X : torch.Tensor
        the data set: on ``device`` when resident, on the CPU when streamed
    device : torch.device | str
        where batches are needed
    streamed : bool
        keep X on the host and copy every batch to the device (default: False)
    shard : clustpy_acedec._distributed.Shard | None
        in a distributed fit, where X lies in the data set split across the ranks (default: None, X is the
        whole data set)

    Attributes
    ----------
    X : torch.Tensor
        the data set where it lives
    device : torch.device
        where batches are delivered
    streamed : bool
        whether batches are copied from the host
    """

    def __init__(self, X: torch.Tensor, device: torch.device | str, streamed: bool = False, shard=None):
        self.device = torch.device(device)
        self.streamed = bool(streamed)
        self.shard = shard
        expected = torch.device("cpu") if self.streamed else self.device
        if X.device.type != expected.type:
            raise ValueError(f"a {'streamed' if streamed else 'resident'} data set must be on {expected}, "
                             f"got a tensor on {X.device}")
        self.X = X

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def n_total(self) -> int:
        """Samples of the whole data set: of all ranks' shards in a distributed fit, ``n_samples`` otherwise."""
        return self.shard.n_total if self.shard is not None else self.n_samples

    @property
    def shape(self) -> torch.Size:
        return self.X.shape

    def __len__(self) -> int:
        return self.n_samples

    def batches(self, order: torch.Tensor, batch_size: int) -> Iterator:
        """
        The batches of one epoch.

        Parameters
        ----------
        order : torch.Tensor
            the epoch's sample order (a permutation on the generator's device); cut into index tensors of
            ``batch_size``, the last one smaller
        batch_size : int
            size of the batches

        Yields
        ------
        tuple : (torch.Tensor, torch.Tensor)
            the index tensor (on ``order``'s device) and the batch on the device
        """
        return self.batches_of(order.split(batch_size))

    def batches_of(self, index_batches: list) -> Iterator:
        """
        The batches of the index tensors ``index_batches`` (on the device of the epoch's permutation), in order.

        Yields
        ------
        tuple : (torch.Tensor, torch.Tensor)
            the index tensor and the batch on the device
        """
        if not self.streamed:
            for idx in index_batches:
                yield idx, self.X[idx]
            return
        if not index_batches:
            return
        sizes = [len(idx) for idx in index_batches]
        host_batches = torch.cat(list(index_batches)).cpu().split(sizes)  # one transfer per epoch, never per step
        yield from zip(index_batches, self._prefetched(host_batches))

    def take(self, idx: torch.Tensor) -> torch.Tensor:
        """The samples ``idx`` (an index tensor on any device) on the device."""
        if not self.streamed:
            return self.X[idx.to(self.X.device)]
        return self._load(idx.cpu(), stream=None)

    def chunks(self, batch_size: int) -> Iterator:
        """Consecutive slices of ``batch_size`` samples, in order, on the device (for inference passes)."""
        slices = (slice(start, start + batch_size) for start in range(0, self.n_samples, batch_size))
        if not self.streamed:
            return (self.X[s] for s in slices)
        return self._prefetched(slices)

    @torch.no_grad()
    def map(self, function: Callable, batch_size: int = 4096) -> "DataPlacement":
        """
        ``function`` applied chunk by chunk, as a data set placed like this one (the next layer pair's input
        in stacked denoising pretraining). The chunks are written into one preallocated output, not
        concatenated (which would hold the output twice). A resident data set's output is streamed from the
        host instead when it would take more than :data:`RESIDENT_FRACTION` of the device's free memory: a
        2000-unit layer's output is 2.5 times MNIST's 784 features, so the data can fit where it does not.
        """
        outputs, start, streamed = None, 0, self.streamed
        for x in self.chunks(batch_size):
            y = function(x)
            if outputs is None:
                shape = (self.n_samples, *y.shape[1:])
                streamed = streamed or resolve_streamed("auto", y.element_size() * math.prod(shape), self.device)
                outputs = torch.empty(shape, dtype=y.dtype, device="cpu" if streamed else self.device)
            outputs[start:start + y.shape[0]].copy_(y)
            start += y.shape[0]
        return DataPlacement(outputs, self.device, streamed=streamed, shard=self.shard)

    def flatten(self) -> "DataPlacement":
        """The same data set with every sample flattened to a vector (a view, nothing is copied)."""
        return DataPlacement(self.X.reshape(self.n_samples, -1), self.device, self.streamed, self.shard)

    # ------------------------------------------------------------------------------------- streaming
    def _load(self, selector, stream) -> torch.Tensor:
        """Gather ``selector`` (index tensor or slice) on the host into a staging buffer and copy it to the device."""
        rows = self.X[selector] if isinstance(selector, slice) else None
        n_rows = rows.shape[0] if rows is not None else selector.shape[0]
        staging = torch.empty((n_rows, *self.X.shape[1:]), dtype=self.X.dtype,
                              pin_memory=self.device.type == "cuda")
        if rows is not None:
            staging.copy_(rows)
        else:
            torch.index_select(self.X, 0, selector, out=staging)
        if stream is None:
            return staging.to(self.device, non_blocking=True)
        with torch.cuda.stream(stream):
            return staging.to(self.device, non_blocking=True)

    def _prefetched(self, selectors: Iterable) -> Iterator:
        """Load one batch ahead: batch i+1 is copied (on a side stream on CUDA) while batch i is computed."""
        loader = _CopyStream(self.device)
        ahead = None
        for selector in selectors:
            loaded = loader.submit(self._load(selector, loader.stream))
            if ahead is not None:
                yield loader.hand_over(*ahead)
            ahead = loaded
        if ahead is not None:
            yield loader.hand_over(*ahead)


class _CopyStream:
    """The side stream of host-to-device copies on CUDA; on other devices every call is a pass-through."""

    def __init__(self, device: torch.device):
        self.stream = torch.cuda.Stream(device) if device.type == "cuda" else None

    def submit(self, batch: torch.Tensor) -> tuple:
        """Mark the end of ``batch``'s copy (queued on the side stream) with an event."""
        return batch, (self.stream.record_event() if self.stream is not None else None)

    def hand_over(self, batch: torch.Tensor, copied) -> torch.Tensor:
        """Make the compute stream wait for the copy of ``batch`` (only that one) and own its memory."""
        if copied is not None:
            current = torch.cuda.current_stream(batch.device)
            current.wait_event(copied)
            batch.record_stream(current)
        return batch


def as_placement(X) -> DataPlacement:
    """A :class:`DataPlacement` as it is, a tensor as a data set resident on its own device."""
    return X if isinstance(X, DataPlacement) else DataPlacement(X, X.device)


def resolve_streamed(mode: str, nbytes: int, device: torch.device) -> bool:
    """
    Whether a data set of ``nbytes`` is streamed from the host: "device" never, "host" always, "auto" when
    ``device`` is a CUDA device with less than ``nbytes / RESIDENT_FRACTION`` bytes free.

    Raises
    ------
    ValueError
        for an unknown mode
    """
    if mode not in PLACEMENT_MODES:
        raise ValueError(f"data_placement must be one of {PLACEMENT_MODES}, got {mode!r}")
    if mode != "auto":
        return mode == "host"
    if device.type != "cuda":
        return False
    free, _ = torch.cuda.mem_get_info(device)
    return nbytes > RESIDENT_FRACTION * free


def place(X: torch.Tensor, device: torch.device, mode: str = "auto") -> DataPlacement:
    """
    Place a host data set for a fit on ``device`` by ``mode`` ("auto", "device" or "host", see
    :func:`resolve_streamed`).

    Parameters
    ----------
    X : torch.Tensor
        the data set on the CPU (e.g. ``torch.from_numpy`` of the input: streaming keeps it there, uncopied)
    device : torch.device
        the device of the fit
    mode : str
        "auto", "device" or "host" (default: "auto")

    Returns
    -------
    data : DataPlacement
    """
    if resolve_streamed(mode, X.element_size() * X.numel(), device):
        return DataPlacement(X.cpu(), device, streamed=True)
    return DataPlacement(X.to(device), device)
