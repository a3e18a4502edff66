"""
ACeDeC's bases: which centroid-based deep clusterers ACeDeC wraps, and with which cluster-space objective.

clustpy's DCN maps to the "hard" objective (nearest centre, mini-batch k-means centres; ACe/DeC Eq. 5), DEC and
IDEC to "student_t" (DEC's soft assignment and target distribution under the β-weighted distance). Another
centroid-based clusterer is added with :func:`register_base`, by one of these names or by a callable that builds
a :class:`SpaceObjective` (the interface, from :mod:`clustpy_acedec._objectives`).
"""

from collections.abc import Callable

from clustpy_acedec._objectives import SpaceObjective

__all__ = ["SpaceObjective", "register_base", "registered_bases", "registered_objective"]

_REGISTRY: dict = {}


def register_base(cls: type, objective: str | Callable) -> None:
    """
    Register a centroid-based deep clusterer class as an ACeDeC base.

    Parameters
    ----------
    cls : type
        the base's class, e.g. ``clustpy.deep.DCN``; subclasses are matched too unless registered themselves
    objective : str | Callable
        "hard" (DCN-style: nearest centre, mini-batch k-means centres) or "student_t" (DEC-style), or a
        callable ``objective(base, initial_centers, space) -> SpaceObjective`` (:class:`SpaceObjective`) building the cluster-space
        objective from the base estimator, the initial centres (K x d, rotated space) and the index of the cluster
        space's row of β (0).

    Examples
    --------
    >>> from clustpy.deep import DCN
    >>> class MyDeepKMeans(DCN):  # a centroid-based deep clusterer with DCN's hyperparameters
    ...     pass
    >>> register_base(MyDeepKMeans, "hard")
    >>> registered_objective(MyDeepKMeans(n_clusters=3))
    'hard'
    """
    if not isinstance(cls, type):
        raise TypeError(f"cls must be a class, got {type(cls).__name__}")
    if isinstance(objective, str) and objective not in ("hard", "student_t"):
        raise ValueError(f"objective must be 'hard', 'student_t' or a callable, got {objective!r}")
    if not isinstance(objective, str) and not callable(objective):
        raise TypeError("objective must be 'hard', 'student_t' or a callable")
    _REGISTRY[cls] = objective


def registered_objective(base: object) -> str | Callable:
    """
    The objective registered for a base estimator (exact class first, then its parents).

    Parameters
    ----------
    base : object
        an instance of a base estimator, e.g. ``DCN(n_clusters=10)``

    Returns
    -------
    str or callable
        "hard", "student_t" or the factory given to :func:`register_base`

    Raises
    ------
    TypeError
        if no class in the base's hierarchy is registered
    """
    for cls in type(base).__mro__:
        if cls in _REGISTRY:
            return _REGISTRY[cls]
    supported = ", ".join(sorted(c.__name__ for c in _REGISTRY))
    raise TypeError(f"base must be a centroid-based deep clusterer registered with ACeDeC "
                    f"(supported: {supported}; add others with register_base), got {type(base).__name__}")


def registered_bases() -> tuple:
    """
    The classes registered as ACeDeC bases.

    Returns
    -------
    tuple of type
        the registered classes, in registration order (clustpy's DCN, DEC, IDEC first)
    """
    return tuple(_REGISTRY)


def _register_clustpy_bases() -> None:
    from clustpy.deep import DCN, DEC, IDEC
    register_base(DCN, "hard")
    register_base(DEC, "student_t")
    register_base(IDEC, "student_t")


_register_clustpy_bases()
