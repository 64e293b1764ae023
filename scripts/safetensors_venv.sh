#!/usr/bin/env bash
# Makes (once) a small virtual environment with the PyPI `safetensors` package on top of
# Debian's python3 (its numpy and torch are reused: --system-site-packages), and prints the
# path of its python. It is the independent writer for tests/unit/test_safetensors.cpp.
# Idempotent: a second call only prints the path (about 25 s the first time).
# Exit 1 with a message on stderr when the package cannot be installed (no network).
set -euo pipefail
dir=${SDNC_SAFETENSORS_VENV:-"$(cd "$(dirname "$0")/.." && pwd)/build/venv_safetensors"}
if ! "$dir/bin/python" -c "import safetensors.numpy, safetensors.torch" >/dev/null 2>&1; then
  rm -rf "$dir"
  mkdir -p "$(dirname "$dir")"
  if ! { /usr/bin/python3 -m venv --system-site-packages "$dir" &&
         "$dir/bin/pip" install --quiet --disable-pip-version-check safetensors; } >&2; then
    echo "safetensors_venv: could not install the PyPI safetensors package into $dir" >&2
    exit 1
  fi
fi
echo "$dir/bin/python"
