"""Shared test configuration: one torch thread.

The tests use tiny tensors, for which intra-op parallelism only adds synchronisation; on a busy
2-core machine two spinning threads make a tiny fit 10-20 times slower.
"""

import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture
def clean_registry():
    """ACeDeC's base registry (``register_base``) as it was before the test, whatever the test registers."""
    from clustpy_acedec import bases
    saved = dict(bases._REGISTRY)
    yield bases._REGISTRY
    bases._REGISTRY.clear()
    bases._REGISTRY.update(saved)


def pytest_collection_modifyitems(config, items):
    """Real-data protocols marked ``slow`` run only when asked for with ``-m slow``."""
    if "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="slow real-data protocol: run with -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
