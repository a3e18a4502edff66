"""
How the commands print numbers: scores with three decimals, durations rounded to what a reader of a log needs
(tenths of a second for short steps, whole minutes and seconds for long ones). No heavy imports, so that the
demo can use it before torch is loaded.
"""

import math


def format_score(value: float | None) -> str:
    """
    A score in [0, 1] or a distance such as NMI or VI with three decimals; "n.a." for None or NaN.

    Parameters
    ----------
    value : float | None
        the score

    Returns
    -------
    str
        e.g. "0.712"

    Examples
    --------
    >>> format_score(0.71249), format_score(None)
    ('0.712', 'n.a.')
    """
    if value is None or math.isnan(value):
        return "n.a."
    return f"{value:.3f}"


def format_seconds(seconds: float) -> str:
    """
    A duration as a person reads it: two significant digits below a minute, then minutes and seconds, then
    hours and minutes.

    Parameters
    ----------
    seconds : float
        the duration, non-negative

    Returns
    -------
    str
        e.g. "0.42 s", "4.2 s", "42 s", "3 min 05 s", "2 h 07 min"

    Examples
    --------
    >>> [format_seconds(s) for s in (0.4249, 4.249, 42.49, 185.2, 7625.0)]
    ['0.42 s', '4.2 s', '42 s', '3 min 05 s', '2 h 07 min']
    """
    # the thresholds sit where rounding would carry into the next format: 0.999 is "1.0 s", not "1.00 s"
    if seconds < 0.995:
        return f"{seconds:.2f} s"
    if seconds < 9.95:
        return f"{seconds:.1f} s"
    if seconds < 59.5:
        return f"{seconds:.0f} s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"
