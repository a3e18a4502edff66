"""Warnings that name the user's line: the first caller outside this package, however deep the warning is issued."""

import sys
import warnings

_PACKAGE = __name__.split(".")[0]  # "clustpy_acedec"


def warn_caller(message: str, category: type = UserWarning) -> None:
    """
    ``warnings.warn(message, category)`` attributed to the innermost frame outside this package (the user's call
    of ``fit``, ``predict``, ``load``, ...), whatever the path through the package: a fixed ``stacklevel`` names
    the right line on one call path only. A frame belongs to the package by its module's name (not by its file's
    path, which a copied or zipped install changes, and which the bench package beside it shares as a prefix).

    Parameters
    ----------
    message : str
        the warning's text
    category : type
        a Warning subclass
    """
    frame, level = sys._getframe(1), 1  # level 1: the function that called warn_caller
    while frame is not None and _in_package(frame.f_globals.get("__name__", "")):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level + 1)  # + 1: this function's own frame


def _in_package(module: str) -> bool:
    return module == _PACKAGE or module.startswith(_PACKAGE + ".")
