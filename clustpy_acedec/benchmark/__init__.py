"""
The benchmark suite: the tables of ACe/DeC (IJCAI 2021) and ENRC (AAAI 2020) recomputed with this package and
clustpy's baselines (``clustpy-acedec-bench``).
"""
