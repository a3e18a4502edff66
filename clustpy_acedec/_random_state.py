"""
A fit's random state: its seed from ``random_state`` (scikit-learn's reading), and the process's global
generators (torch's, its accelerators', numpy's, Python's) given back as they were after a fit seeds them.
"""

import contextlib
import numbers
import os
import threading

import numpy as np
import torch


def seed_for_fit(random_state) -> int:
    """
    The integer seed of one fit, drawn without touching numpy's global random state.

    None draws a fresh seed from the operating system's entropy (every fit differs, as in scikit-learn), an
    int seeds a ``np.random.RandomState`` whose first integer is the seed, a ``np.random.RandomState`` gives its next integer (so that repeated fits with one
    RandomState differ, as in scikit-learn).

    Raises
    ------
    TypeError
        for anything else
    """
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0] % (2**31 - 1))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if not 0 <= random_state < 2**32:
            raise ValueError(f"random_state must be None, an int in [0, 2**32) or a np.random.RandomState, "
                             f"got {random_state}")
        # scikit-learn's reading of an int seed (check_random_state), so that a seed keeps giving the same fit
        return int(np.random.RandomState(random_state).randint(0, 2**31 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    raise TypeError(f"random_state must be None, an int or a np.random.RandomState, got {random_state!r}")


class preserved_global_random_state:
    """
    Context manager: the global random states of torch (the CPU generator and those of the accelerators), numpy
    and Python's ``random`` are the same after the block as before it.

    A library is a guest: clustpy's network constructors reseed all of them (``torch.manual_seed`` seeds every
    accelerator's generators too) and dropout draws from torch's global generator, so a fit seeds them for its own
    reproducibility and gives the user back the generators as they were. They are the process's: blocks in
    several Python threads (fits under joblib's threading backend) take turns, so that no fit draws from another's
    seed and the last one out does not restore a state another one seeded. Covered:

    - CUDA and XPU, for a fit on one of their devices or once the backend runs: the generators of every device of
      that backend (the seeding reached them all);
    - CUDA and XPU before the backend has started: torch queues their seeds until it starts, and the user's queued
      seed (or none) is put back, so that the backend later starts with the user's seed, not the fit's. Reading
      a generator instead would start the backend (seconds, and a context on the device) for a fit that does
      not use it;
    - MPS (Apple GPUs), which torch seeds at once: its generator, wherever the fit runs.

    Parameters
    ----------
    device : torch.device | None
        the fit's device (default: None, the CPU)
    """

    def __init__(self, device: torch.device | None = None):
        self._fit_type = torch.device(device).type if device is not None else "cpu"

    def _classify_backends(self) -> None:
        """Which accelerators' generators to save, and which queued seeds: decided under the lock, since a block
        in another thread may have started a backend meanwhile."""
        self._forked_devices = {}  # backend -> indices of the devices whose generators are saved
        self._queue_backends = []  # backends whose queued seeds are saved
        for backend in _LAZILY_SEEDED_BACKENDS:
            module = getattr(torch, backend, None)
            if module is None:
                continue
            if self._fit_type == backend or (module.is_available() and module.is_initialized()):
                self._forked_devices[backend] = list(range(module.device_count()))
            else:
                self._queue_backends.append(backend)
        self._mps = torch.backends.mps.is_available()

    def __enter__(self):
        import random
        _GLOBAL_RANDOM_STATE_LOCK.acquire()
        try:
            self._classify_backends()
            self._python = random.getstate()
            self._numpy = np.random.get_state()
            self._queued_seeds = {backend: _queued_seeds(backend) for backend in self._queue_backends}
            self._mps_state = torch.mps.get_rng_state() if self._mps else None
            self._torch = contextlib.ExitStack()
            self._torch.enter_context(torch.random.fork_rng(devices=[], device_type="cuda"))  # the CPU generator
            for backend, devices in self._forked_devices.items():
                self._torch.enter_context(torch.random.fork_rng(devices=devices, device_type=backend))
        except BaseException:
            _GLOBAL_RANDOM_STATE_LOCK.release()
            raise
        return self

    def __exit__(self, *exc_info):
        import random
        try:
            self._torch.__exit__(*exc_info)
            for backend, state in self._queued_seeds.items():
                if state is not None and not getattr(torch, backend).is_initialized():
                    _restore_queued_seeds(backend, state)
            if self._mps_state is not None:
                torch.mps.set_rng_state(self._mps_state)
            np.random.set_state(self._numpy)
            random.setstate(self._python)
        finally:
            _GLOBAL_RANDOM_STATE_LOCK.release()
        return False


#: held while a block of :class:`preserved_global_random_state` runs; re-entrant for a fit that pretrains inside
_GLOBAL_RANDOM_STATE_LOCK = threading.RLock()


def _new_lock_in_child() -> None:
    """A forked child has only the forking thread: a lock held by another thread of the parent would never be
    released there, so the child starts with a new one."""
    global _GLOBAL_RANDOM_STATE_LOCK
    _GLOBAL_RANDOM_STATE_LOCK = threading.RLock()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_new_lock_in_child)


#: the backends whose seeds torch queues until they start (``torch.cuda._lazy_call``, ``torch.xpu._lazy_call``)
_LAZILY_SEEDED_BACKENDS = ("cuda", "xpu")


def _queued_seeds(backend: str) -> tuple | None:
    """
    The seeds torch keeps for ``backend`` until it starts (``torch.cuda.manual_seed[_all]`` before CUDA runs);
    None where this torch keeps them elsewhere (private to torch: ``torch.<backend>._lazy_seed_tracker``, in torch
    2.1 to 2.14).
    """
    tracker = getattr(getattr(torch, backend), "_lazy_seed_tracker", None)
    if tracker is None or not all(hasattr(tracker, name) for name in _SEED_TRACKER_FIELDS):
        return None
    return tuple(list(value) if isinstance(value, list) else value
                 for value in (getattr(tracker, name) for name in _SEED_TRACKER_FIELDS))


def _restore_queued_seeds(backend: str, state: tuple) -> None:
    """Put back a state of :func:`_queued_seeds` (its lists are already copies, owned by nobody else)."""
    tracker = getattr(torch, backend)._lazy_seed_tracker
    for name, value in zip(_SEED_TRACKER_FIELDS, state):
        setattr(tracker, name, value)


_SEED_TRACKER_FIELDS = ("manual_seed_all_cb", "manual_seed_cb", "call_order")
