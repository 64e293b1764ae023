#!/usr/bin/env bash
# The Python package's build venv (.venv/python, git-ignored) over Debian's python3 with
# --system-site-packages (so Debian's torch 1.13, numpy and pytest — the test oracle — are
# visible), plus the PyPI build tools: nanobind (the bindings, docs/decisions.md) and
# scikit-build-core (pip install .). Idempotent: skips what is present.
# Usage: scripts/setup_python.sh        (SDNC_PYTHON_VENV overrides the folder)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${SDNC_PYTHON_VENV:-$root/.venv/python}"
stamp="$venv/.sdnc-python-v1"
[[ -f "$stamp" ]] && { echo "[python] present: $venv"; exit 0; }
/usr/bin/python3 -m venv --system-site-packages "$venv"
py="$venv/bin/python"
# Keep Debian's numpy (torch 1.13 was built against numpy 1.x).
constraints="$venv/constraints.txt"
echo "numpy==$(/usr/bin/python3 -c 'import numpy; print(numpy.__version__)')" > "$constraints"
"$py" -m pip install -q -c "$constraints" "nanobind==2.*" "scikit-build-core>=0.10"
"$py" -c "import nanobind, scikit_build_core, numpy, torch, pytest; print('[python] nanobind', nanobind.__version__, 'scikit-build-core', scikit_build_core.__version__)"
touch "$stamp"
