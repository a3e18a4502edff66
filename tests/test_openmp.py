"""The command-line programs run OpenMP with the passive wait policy unless the user chose one
(clustpy_acedec_bench.openmp); the library itself leaves the process's settings alone."""

import os
import subprocess
import sys
import textwrap

import pytest


def _run(code: str, **env) -> subprocess.CompletedProcess:
    """Python running ``code`` without the caller's OpenMP wait settings, with ``env`` added; it must succeed."""
    environment = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    environment.update(env)
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                            env=environment, timeout=300)
    assert result.returncode == 0, result.stderr
    return result


def _python(code: str, **env) -> str:
    return _run(code, **env).stdout.strip()


def test_the_bench_sets_the_passive_policy_before_torch_loads():
    out = _python("""
        import os, sys
        from clustpy_acedec_bench.cli import main
        assert main(["--speed", "no-such-task"]) == 2
        print(os.environ.get("OMP_WAIT_POLICY"), "torch" in sys.modules)
    """)
    assert out == "PASSIVE True"


def test_the_demo_sets_the_passive_policy():
    out = _python("""
        import os
        from clustpy_acedec_bench import demo
        try:
            demo.main(["--dataset", "no-such-data-set"])
        except SystemExit:
            pass
        print(os.environ.get("OMP_WAIT_POLICY"))
    """)
    assert out == "PASSIVE"


def test_a_policy_the_user_set_is_kept():
    out = _python("""
        from clustpy_acedec_bench.openmp import passive_waiting_unless_set
        print(passive_waiting_unless_set())
    """, OMP_WAIT_POLICY="ACTIVE")
    assert out == "ACTIVE"


def test_nothing_is_set_once_torch_is_loaded():
    out = _python("""
        import os, torch
        from clustpy_acedec_bench.openmp import passive_waiting_unless_set
        print(passive_waiting_unless_set(), os.environ.get("OMP_WAIT_POLICY"))
    """)
    assert out == "None None"


def test_importing_the_library_sets_no_policy():
    out = _python("""
        import os, clustpy_acedec
        print(os.environ.get("OMP_WAIT_POLICY"))
    """)
    assert out == "None"


def _openmp_settings(code: str) -> str:
    """What the OpenMP runtime that torch loads reports about its settings (OMP_DISPLAY_ENV=VERBOSE), or skip."""
    settings = _run(code, OMP_DISPLAY_ENV="VERBOSE").stderr
    if "GOMP_SPINCOUNT" not in settings:
        pytest.skip("torch's OpenMP runtime is not libgomp, or does not display its settings")
    return settings


def test_openmp_runs_with_the_policy_the_program_set():
    """libgomp reports the policy in its spin count: 0 when passive, 300,000 by default."""
    load_torch = "import torch; torch.ones(4).add_(1)"
    passive = _openmp_settings("from clustpy_acedec_bench.openmp import passive_waiting_unless_set; "
                               "passive_waiting_unless_set(); " + load_torch)
    default = _openmp_settings(load_torch)
    assert "GOMP_SPINCOUNT = '0'" in passive
    assert "GOMP_SPINCOUNT = '0'" not in default
