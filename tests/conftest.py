"""Shared test configuration: one torch thread.

The tests use tiny tensors, for which intra-op parallelism only adds synchronisation; on a busy
2-core machine two spinning threads make a tiny fit 10-20 times slower.
"""

import torch

torch.set_num_threads(1)
