"""examples/equivalence.py runs as a script: the machine matches PyTorch and the picture is a PNG."""
import os
import subprocess
import sys

import pytest

EXAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                       "examples", "equivalence.py")


def test_equivalence_example(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "w.png"
    run = subprocess.run([sys.executable, EXAMPLE, "--length", "6", "--out", str(out)], capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = {l.split("=")[0].strip(): float(l.split("=")[1]) for l in run.stdout.splitlines() if "max |" in l}
    assert len(lines) == 2 and all(v < 1e-4 for v in lines.values()), run.stdout
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
