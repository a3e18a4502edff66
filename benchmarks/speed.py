"""``python benchmarks/speed.py TASK [options]``: the same as ``clustpy-acedec-bench --speed TASK [options]``."""

import sys

from clustpy_acedec_bench.cli import main

if __name__ == "__main__":
    sys.exit(main(["--speed", *sys.argv[1:]]))
