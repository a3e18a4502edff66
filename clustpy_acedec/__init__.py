"""
clustpy-acedec: ACe/DeC (IJCAI 2021) and ENRC (AAAI 2020) for clustpy, on the CPU and the GPU.
"""

from clustpy_acedec._version import __version__

from clustpy_acedec.acedec import ACeDeC
from clustpy_acedec.enrc import ENRC
from clustpy_acedec.bases import register_base

__all__ = ["ACeDeC", "ENRC", "register_base", "__version__"]
