"""warn_caller: a warning names the first frame outside the package, by the frames' module names."""

import warnings

from clustpy_acedec._warning import warn_caller


def _function_of_module(module_name: str, filename: str):
    """A function compiled as if it lived in ``module_name`` (file ``filename``), which calls warn_caller."""
    namespace = {"__name__": module_name, "warn_caller": warn_caller}
    exec(compile("def issue():\n    warn_caller('careful')\n", filename, "exec"), namespace)
    return namespace["issue"]


def test_frames_of_the_package_are_skipped_and_the_bench_beside_it_is_not():
    inside = _function_of_module("clustpy_acedec.somewhere", "/site-packages/clustpy_acedec/somewhere.py")
    bench = _function_of_module("clustpy_acedec_bench.somewhere", "/site-packages/clustpy_acedec_bench/somewhere.py")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        inside()
        bench()
    assert [w.filename for w in caught] == [__file__, "/site-packages/clustpy_acedec_bench/somewhere.py"]
