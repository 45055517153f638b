"""The README's main command: python -m plrf demo (table of exponents, plrf-demo.png)."""
import os
import subprocess
import sys

import plrf


def test_demo_writes_table_and_png(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "plrf", "demo", "--d", "200", "--steps", "3000", "--exact-steps", "100000",
         "--seeds", "4"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env=_env_for_this_plrf(),
    )
    assert out.returncode == 0, out.stderr
    for name in ("sgd", "sgd_momentum", "dana_decaying"):
        assert name in out.stdout
    assert "theory" in out.stdout
    png = tmp_path / "plrf-demo.png"
    assert png.exists() and png.stat().st_size > 10_000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _env_for_this_plrf():
    # Run the same plrf the tests import (installed, or the working tree via PYTHONPATH).
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(plrf.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")])
    return env
