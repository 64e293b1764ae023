"""LeakSanitizer is really on in the ASan run of this suite (tests/python/run_sanitized.sh), and
its suppressions (lsan_python.supp with malloc_context_size=2) hide only the interpreter's,
numpy's and torch's own allocations: a child interpreter with the same environment that imports
sdnc and exits reports nothing, and one that also leaks three blocks through a caller outside
those libraries (libffi, standing in for sdnc's code) is reported with the leaked bytes.
Skipped outside the ASan run."""
import os
import subprocess
import sys

import pytest

ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")

LEAK = """
import ctypes
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
for _ in range(3):
    libc.memset(ctypes.c_void_p(libc.malloc(4321)), 1, 4321)
"""


@pytest.mark.skipif(not ASAN, reason="not the ASan run (run_sanitized.sh preloads libasan)")
@pytest.mark.parametrize("leak", [False, True])
def test_leak_sanitizer_reports_leaks_outside_the_interpreter(leak):
    code = "import numpy, sdnc\nsdnc.Tensor(numpy.ones(3, numpy.float32))\n" + (LEAK if leak else "")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    if leak:
        assert r.returncode != 0 and "LeakSanitizer: detected memory leaks" in r.stderr, r.stderr[-2000:]
        assert "12963 byte(s) leaked in 3 allocation(s)" in r.stderr, r.stderr[-2000:]
    else:
        assert r.returncode == 0 and "LeakSanitizer" not in r.stderr, r.stderr[-2000:]
