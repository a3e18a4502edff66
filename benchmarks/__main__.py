"""``python -m benchmarks``: the same as ``clustpy-acedec-bench``."""

import sys

from clustpy_acedec_bench.cli import main

sys.exit(main())
