"""
OpenMP's wait policy for the command-line programs (``clustpy-acedec-bench``, ``clustpy-acedec-demo``).

torch's CPU operators run on GNU OpenMP (libgomp), whose threads spin at the end of every parallel region before
they sleep. On a machine whose cores are busy with anything else, the spinning threads take the time slices their
descheduled team mate needs, and a fit with torch's default threads gets slower than with one thread. The passive
policy lets a waiting thread sleep at once; beside another CPU-bound process a two-thread fit then takes about
its one-thread time instead of nearly twice it, and on an idle machine a whole fit was no slower
(``benchmarks/results/small-fits-cpu/README.md``).

libgomp reads the policy once, when torch is loaded, and for the whole process: so only a program, before it
imports torch, may choose it; the library (``clustpy_acedec``) leaves it to its caller. A policy the user set is
kept.
"""

import os
import sys

#: The environment variable libgomp reads (OpenMP specification), and the value the programs set when it is unset.
WAIT_POLICY_VARIABLE = "OMP_WAIT_POLICY"
PROGRAM_WAIT_POLICY = "PASSIVE"


def passive_waiting_unless_set() -> str | None:
    """
    Set ``OMP_WAIT_POLICY=PASSIVE`` for this process unless the user set a policy or torch is already loaded
    (libgomp would not read it any more).

    Returns
    -------
    str | None
        the policy this process runs with: the user's, "PASSIVE", or None when torch was loaded first without one
    """
    if WAIT_POLICY_VARIABLE not in os.environ and "torch" not in sys.modules:
        os.environ[WAIT_POLICY_VARIABLE] = PROGRAM_WAIT_POLICY
    return os.environ.get(WAIT_POLICY_VARIABLE)
