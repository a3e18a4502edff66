"""The command-line programs run OpenMP with the passive wait policy unless the user chose one
(clustpy_acedec_bench.openmp); the library itself leaves the process's settings alone."""

import os
import subprocess
import sys
import textwrap

import pytest


def _python(code: str, **env) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    environment.update(env)
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                            env=environment, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


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


def test_openmp_runs_with_the_policy_the_program_set():
    """OMP_DISPLAY_ENV makes the OpenMP runtime print the settings it read when torch loaded it."""
    environment = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    environment["OMP_DISPLAY_ENV"] = "TRUE"
    code = ("from clustpy_acedec_bench.openmp import passive_waiting_unless_set; passive_waiting_unless_set(); "
            "import torch; torch.ones(4).add_(1)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=300)
    assert result.returncode == 0, result.stderr
    if "OPENMP DISPLAY ENVIRONMENT" not in result.stderr:
        pytest.skip("this torch's OpenMP runtime does not display its environment")
    assert "OMP_WAIT_POLICY = 'PASSIVE'" in result.stderr
