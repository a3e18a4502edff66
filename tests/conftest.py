"""Shared test configuration: one torch thread.

The tests use tiny tensors, for which intra-op parallelism only adds synchronisation; on a busy
2-core machine two spinning threads make a tiny fit 10-20 times slower.
"""

import torch

torch.set_num_threads(1)


def pytest_collection_modifyitems(config, items):
    """Real-data protocols marked ``slow`` run only when asked for with ``-m slow``."""
    import pytest
    if "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="slow real-data protocol: run with -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
