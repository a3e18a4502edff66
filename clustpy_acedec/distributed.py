"""
Distributed fits with torch.distributed: what a training script needs besides ``fit``.

When a process group of two or more processes is initialised (``torch.distributed.init_process_group``, e.g.
under ``torchrun``), ``ACeDeC.fit`` and ``ENRC.fit`` train one model across all ranks, each rank passing its own
shard of the data set; ``batch_size`` stays the global batch. Every rank ends with bitwise the same model, and
``labels_`` holds the labels of the rank's own shard. How a step is split across the ranks:
:mod:`clustpy_acedec._distributed` and docs/design.md.

Examples
--------
A script ``train.py`` launched with ``torchrun --nproc_per_node=4 train.py``::

    import torch.distributed as dist
    from clustpy.deep import DCN
    from clustpy_acedec import ACeDeC
    from clustpy_acedec.distributed import gather_labels, single_process

    dist.init_process_group()  # NCCL on CUDA (call torch.cuda.set_device(local rank) first), gloo on CPU
    X_local = load_my_shard(dist.get_rank(), dist.get_world_size())
    model = ACeDeC(base=DCN(n_clusters=10, batch_size=256)).fit(X_local)
    labels = gather_labels(model.labels_)  # every shard's labels, in rank order
    model.save("model.pt")  # written by rank 0 only

    with single_process():  # a fit of this rank alone, e.g. an evaluation on rank 0 while the others wait
        ACeDeC(base=DCN(n_clusters=10)).fit(X_small)

A rank's network must not use batch normalisation (its statistics would be those of the rank's part of a batch):
the fit raises a ``ValueError`` on every rank. A base of your own registered with ``register_base`` computes its
objective from the rank's part of each batch; only the package's objectives reduce their batch statistics over the
ranks.
"""

import numpy as np
import torch

from clustpy_acedec._distributed import current_collective, single_process

__all__ = ["gather_labels", "is_main_process", "single_process"]


def gather_labels(labels: np.ndarray) -> np.ndarray:
    """
    The labels of every rank's shard, concatenated in rank order (the order of the whole data set when the
    shards are its consecutive parts); without a process group, ``labels`` itself.

    Parameters
    ----------
    labels : np.ndarray
        this rank's labels, shape (n_local,) or (n_local, S)

    Returns
    -------
    labels : np.ndarray
        shape (n_total,) or (n_total, S), the same on every rank
    """
    collective = current_collective()
    labels = np.asarray(labels)
    if collective is None:
        return labels
    return collective.all_gather_rows(torch.from_numpy(np.ascontiguousarray(labels))).numpy()


def is_main_process() -> bool:
    """
    Whether this process prints and writes files.

    Returns
    -------
    bool
        True on rank 0 of the current process group and in a process that is not part of one
    """
    collective = current_collective()
    return collective is None or collective.is_main
