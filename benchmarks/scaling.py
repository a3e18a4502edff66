"""``python benchmarks/scaling.py [options]``: the same as ``clustpy-acedec-bench --scaling [options]``."""

import sys

from clustpy_acedec_bench.cli import main

if __name__ == "__main__":
    sys.exit(main(["--scaling", *sys.argv[1:]]))
