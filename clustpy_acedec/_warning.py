"""Warnings that name the user's line: the first caller outside this package, however deep the warning is issued."""

import sys
import warnings
from pathlib import Path

_PACKAGE_FOLDER = str(Path(__file__).resolve().parent)


def warn_caller(message: str, category: type = UserWarning) -> None:
    """
    ``warnings.warn(message, category)`` attributed to the innermost frame outside this package (the user's call
    of ``fit``, ``predict``, ``load``, ...), whatever the path through the package: a fixed ``stacklevel`` names
    the right line on one call path only.

    Parameters
    ----------
    message : str
        the warning's text
    category : type
        a Warning subclass
    """
    frame, level = sys._getframe(1), 1  # level 1: the function that called warn_caller
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(_PACKAGE_FOLDER):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level + 1)  # + 1: this function's own frame
