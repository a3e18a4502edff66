"""
The device a benchmark run uses, from the command line's ``--device``.

The core resolves its estimators' ``device`` parameter privately; the benchmark needs a concrete device earlier
(to pretrain the shared autoencoder and to describe the machine in its reports), so it resolves the option
here, by the same rule as the estimators: no device means CUDA when available, else the CPU.
"""

import torch


def resolve_device(device: str | torch.device | None) -> torch.device:
    """
    The device to run on.

    Parameters
    ----------
    device : str | torch.device | None
        None: CUDA when available, else the CPU; otherwise what ``torch.device`` takes ("cpu", "cuda", "cuda:1")

    Returns
    -------
    device : torch.device

    Raises
    ------
    ValueError
        if the device is not one torch knows, or CUDA is requested but not available
    """
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device must be None, a str or a torch.device, got {device!r}: {error}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device} was requested but CUDA is not available on this machine")
    return device
