"""The optax-rule cases (tests/optax_rule_cases.py) in a fresh interpreter: once imported, JAX warns on every
later os.fork() (the suite's capped subprocesses fork), and its x64 switch is process-global."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from hardening_tools import child_env

# the plrf[jax] extra (in the test extra); find_spec does not import JAX here
pytestmark = pytest.mark.skipif(importlib.util.find_spec("optax") is None, reason="needs optax (plrf[jax])")


def test_optax_rule_cases_pass_in_a_fresh_interpreter():
    cases = Path(__file__).with_name("optax_rule_cases.py")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(cases)],
                          capture_output=True, text=True, env=child_env(), timeout=600, cwd=cases.parent.parent)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "4 passed" in proc.stdout, proc.stdout[-2000:]
