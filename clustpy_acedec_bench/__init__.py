"""
clustpy-acedec's bench: everything around the estimators that is not the algorithms. The benchmark suite
(``clustpy-acedec-bench``: the tables of ACe/DeC (IJCAI 2021) and ENRC (AAAI 2020) recomputed with the core
package and clustpy's baselines, speed and scaling measurements), the data preparation and the ray tracer of its
data sets, and the demo (``clustpy-acedec-demo``).

This package imports the core package ``clustpy_acedec`` through its public names only; the core never imports
this package (``tests/test_package_boundary.py``).
"""
