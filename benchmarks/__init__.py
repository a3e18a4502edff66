"""Entry point for ``python -m benchmarks`` from the repository root; the code is ``clustpy_acedec_bench``."""
