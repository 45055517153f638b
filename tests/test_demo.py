import subprocess
import sys


def test_demo_runs():
    out = subprocess.run([sys.executable, "-m", "plrf", "demo", "--d", "100"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "P_inf" in out.stdout
