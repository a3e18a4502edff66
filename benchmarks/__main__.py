"""``python -m benchmarks``: the same as ``clustpy-acedec-bench``."""

import sys

from clustpy_acedec.benchmark.cli import main

sys.exit(main())
