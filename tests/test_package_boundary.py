"""
The package boundary: the installed core ``clustpy_acedec`` (the algorithms) never imports the bench
``clustpy_acedec_bench`` (benchmark, data preparation, renderer, demo), and neither package reaches into the
core's private names from outside the module that defines them.

Two checks: at run time, every core module imports and a tiny ACeDeC fits while ``clustpy_acedec_bench`` cannot
be imported at all; statically, the ``import`` statements of every core and bench module (``ast``, including the
imports inside functions).
"""

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import clustpy_acedec
import clustpy_acedec_bench

CORE = "clustpy_acedec"
BENCH = "clustpy_acedec_bench"
CORE_DIR = Path(clustpy_acedec.__file__).parent
BENCH_DIR = Path(clustpy_acedec_bench.__file__).parent

def _modules(root: Path, package: str) -> dict:
    """module name -> (parsed source, whether it is a package's ``__init__``) of every .py file of a package."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        name = ".".join((package, *(parts[:-1] if is_package else parts)))
        modules[name] = ast.parse(path.read_text(), str(path)), is_package
    return modules


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute name of the module a ``from ... import`` reads (relative imports resolved)."""
    if not node.level:
        return node.module
    base = module.split(".")
    base = base[:len(base) - node.level + (1 if is_package else 0)]
    return ".".join([*base, node.module] if node.module else base)


def _imports(tree: ast.Module, module: str, is_package: bool) -> list:
    """(imported module, imported name or None) of every import statement of a module."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node, module, is_package)
            found += [(source, None)] + [(source, alias.name) for alias in node.names]
    return found


def _in_package(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _private(name: str) -> bool:
    """A name that starts with an underscore and is no dunder (``__version__`` is public)."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _private_imports(modules: dict) -> set:
    """(importing module, source, name) for every private name a core module imports from another core module
    (``from clustpy_acedec.x import _name``) and every name it imports from the package root
    (``from clustpy_acedec import __version__`` in ``clustpy_acedec.x``)."""
    found = set()
    for module, (tree, is_package) in modules.items():
        for source, name in _imports(tree, module, is_package):
            if name is None or not _in_package(source, CORE) or source == module:
                continue
            if _private(name) or source == CORE:
                found.add((module, source, name))
    return found


@pytest.mark.parametrize("flags", [[], ["-OO"]], ids=["plain", "docstrings_stripped"])
def test_the_core_imports_and_fits_without_the_bench(flags):
    """In a fresh interpreter where ``import clustpy_acedec_bench`` raises, every module of the core imports
    and a tiny ACeDeC fits; also under ``python -OO``, which strips the docstrings that the estimators' classes
    fill in at import."""
    script = textwrap.dedent(f"""
        import importlib, importlib.abc, pkgutil, sys

        class Blocked(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "{BENCH}" or name.startswith("{BENCH}."):
                    raise ImportError(f"{{name}} is blocked: the core must not import it")
                return None

        sys.meta_path.insert(0, Blocked())
        try:
            import {BENCH}
        except ImportError:
            pass
        else:
            raise SystemExit("the block did not hold")

        import numpy as np
        import torch
        torch.set_num_threads(1)
        import clustpy_acedec, clustpy_acedec.metrics, clustpy_acedec.plot
        names = [info.name for info in pkgutil.walk_packages(clustpy_acedec.__path__, "clustpy_acedec.")]
        for name in names:
            importlib.import_module(name)

        from clustpy.deep import DCN
        from clustpy_acedec import ACeDeC
        rng = np.random.default_rng(0)
        X = np.vstack([rng.normal(-3, 1, (40, 4)), rng.normal(3, 1, (40, 4))]).astype(np.float32)
        base = DCN(n_clusters=2, pretrain_epochs=1, clustering_epochs=1, batch_size=32, embedding_size=2,
                   device="cpu", random_state=0)
        model = ACeDeC(base=base).fit(X)
        assert model.labels_.shape == (80,)
        assert not any(m == "{BENCH}" or m.startswith("{BENCH}.") for m in sys.modules)
        print("imported", len(names), "core modules and fitted")
    """)
    env = dict(os.environ, OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    result = subprocess.run([sys.executable, *flags, "-c", script], capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "core modules and fitted" in result.stdout


def test_no_core_module_imports_the_bench():
    modules = _modules(CORE_DIR, CORE)
    assert f"{CORE}.acedec" in modules and f"{CORE}.plot" in modules  # the walk found the core
    offending = sorted((module, source) for module, (tree, is_package) in modules.items()
                       for source, _ in _imports(tree, module, is_package) if _in_package(source, BENCH))
    assert not offending, f"core modules import the bench: {offending}"


def test_no_core_module_imports_another_core_modules_private_names():
    """No ``from clustpy_acedec.x import _name`` across core modules, and no import of the package root (its
    ``__init__`` imports them: a cycle)."""
    found = _private_imports(_modules(CORE_DIR, CORE))
    assert not found, f"private imports across core modules: {found}"


def test_the_bench_uses_only_the_cores_public_names():
    """The bench imports no private name of the core and no private core module (``clustpy_acedec._x``)."""
    modules = _modules(BENCH_DIR, BENCH)
    assert f"{BENCH}.cli" in modules and f"{BENCH}.demo" in modules
    offending = sorted({(module, source, name) for module, (tree, is_package) in modules.items()
                        for source, name in _imports(tree, module, is_package)
                        if _in_package(source, CORE) and (any(_private(part) for part in source.split("."))
                                                          or _private(name or ""))})
    assert not offending, f"the bench reaches into the core's private names: {offending}"


@pytest.mark.parametrize("source, expected", [
    ("from clustpy_acedec._training import _progress", {("clustpy_acedec.m", "clustpy_acedec._training", "_progress")}),
    ("from ._training import _progress as p", {("clustpy_acedec.m", "clustpy_acedec._training", "_progress")}),
    ("def f():\n    from clustpy_acedec import __version__",
     {("clustpy_acedec.m", "clustpy_acedec", "__version__")}),
    ("from clustpy_acedec import ACeDeC", {("clustpy_acedec.m", "clustpy_acedec", "ACeDeC")}),  # the root
    ("from clustpy_acedec._validation import check_data", set()),  # a private module, shared within the core
    ("from clustpy_acedec._objectives import __all__", set()),  # a dunder of another module
    ("from torch.utils._foreach_utils import _fused", set()),  # not the core
])
def test_the_static_check_sees_private_imports(source, expected):
    """The checker itself, on sources with and without a private import across core modules."""
    modules = {"clustpy_acedec.m": (ast.parse(source), False)}
    assert _private_imports(modules) == expected
