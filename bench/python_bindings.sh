#!/usr/bin/env bash
# Measures the call overhead of nanobind vs pybind11 on one tiny op (bench/python_bindings/):
# both modules built in one CMake project (Release, same flags), timed interleaved in one run.
# Needs .venv/python (scripts/setup_python.sh) and Debian's pybind11-dev.
# Usage: bench/python_bindings.sh [BUILD_DIR]     (default build/python_bindings)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build/python_bindings}"
py="$root/.venv/python/bin/python"
cmake -S "$root/bench/python_bindings" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DPython_EXECUTABLE="$py" >/dev/null
cmake --build "$build" -j2 >/dev/null
"$py" "$root/bench/python_bindings/measure.py" "$build"
