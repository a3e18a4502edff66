"""
Where a fit runs: the one rule by which ACeDeC, ENRC, ``load`` and the benchmark turn a ``device`` parameter
into a ``torch.device``.
"""

import numbers

import torch


def resolve_device(device: "int | str | torch.device | None") -> torch.device:
    """
    The device to fit on: None picks CUDA when available, else the CPU.

    Parameters
    ----------
    device : None | int | str | torch.device
        None: CUDA when available, else the CPU; an int: that CUDA device (a negative one: the CPU); a str or
        torch.device as torch reads it, e.g. "cpu", "cuda", "cuda:1"

    Returns
    -------
    torch.device

    Raises
    ------
    ValueError
        if a CUDA device is requested but CUDA is not available, or the machine has no CUDA device of that index;
        for the meta device, and for another device type this machine or torch build cannot use (e.g. "mps"
        off a Mac)
    """
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if isinstance(device, numbers.Integral) and not isinstance(device, bool):
        device = "cpu" if device < 0 else f"cuda:{device}"
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device must be None, an int, a str or a torch.device, got {device!r}: {error}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device} was requested but CUDA is not available on this machine")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ValueError(f"device {device} was requested but this machine has {torch.cuda.device_count()} CUDA "
                         f"device(s)")
    if device.type == "meta":
        raise ValueError("device 'meta' holds no data: a fit needs a device that computes, e.g. 'cpu' or 'cuda'")
    if device.type not in ("cpu", "cuda"):  # mps, xpu, ...: whether this torch and machine have it
        try:
            torch.empty(0, device=device)
        except Exception as error:  # torch raises RuntimeError, AssertionError or ModuleNotFoundError here
            raise ValueError(f"device {device} was requested but this machine or torch build cannot use it: "
                             f"{error}") from None
    return device
