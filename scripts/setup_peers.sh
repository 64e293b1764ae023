#!/usr/bin/env bash
# The benchmark peers as users run them today (../shared/BENCHMARKS.md, issue 13): a venv,
# .venv/peers (git-ignored), with the newest PyTorch from PyPI (eager and torch.compile) and
# the community DNC package PyPI `dnc` (ixaxaar/pytorch-dnc), and the real-model peers of
# bench/run_real_bench.sh (issue 16): `transformers` (+ `gguf`, `accelerate`: it loads the
# SmolLM2 GGUF dequantised to fp32), `sentence-transformers` (MiniLM), and `llama-cpp-python`,
# which pip builds from source (llama.cpp, CPU only, -march=native: measured 65 minutes on two
# cores at load average 20-28; pip caches the wheel; CMAKE_ARGS below). Every bench/run_*_bench.sh
# defaults its PYTHON to this venv's python when it exists. Idempotent: a second run only
# checks that the packages import. Debian's torch 1.13 (/usr/bin/python3) stays the oracle of
# the test suite (tests/golden); nothing in the test suite uses this venv.
#
#   scripts/setup_peers.sh [--upgrade]
# Environment: PEERS_VENV (default .venv/peers), PEERS_PYTHON (the interpreter that makes the
# venv; default python3: it needs its C headers, torch.compile's inductor builds C++ with them).
# PyPI's default torch wheel is the CUDA build (~5 GB installed with its nvidia-* wheels): a
# CPU-only wheel is not on PyPI's default index. The benchmarks use it on the CPU only.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${PEERS_VENV:-.venv/peers}
py=${PEERS_PYTHON:-python3}
upgrade=()
[[ "${1:-}" == "--upgrade" ]] && upgrade=(--upgrade)
if [[ ! -x "$venv/bin/python" ]]; then
  mkdir -p "$(dirname "$venv")"
  "$py" -m venv "$venv"
fi
if [[ ${#upgrade[@]} -gt 0 ]] || ! "$venv/bin/python" -c 'import torch, numpy' 2>/dev/null; then
  "$venv/bin/python" -m pip install --quiet "${upgrade[@]}" pip
  "$venv/bin/python" -m pip install --quiet "${upgrade[@]}" torch numpy
fi
# dnc 1.1.0 pins nothing useful and pulls flann/visdom-era extras: install it without its
# dependencies and only the one it imports at module load (numpy is already there).
if [[ ${#upgrade[@]} -gt 0 ]] || ! "$venv/bin/python" -c 'import dnc' 2>/dev/null; then
  "$venv/bin/python" -m pip install --quiet "${upgrade[@]}" --no-deps dnc
fi
if [[ ${#upgrade[@]} -gt 0 ]] || ! "$venv/bin/python" -c 'import transformers, sentence_transformers, gguf, accelerate' 2>/dev/null; then
  "$venv/bin/python" -m pip install --quiet "${upgrade[@]}" transformers sentence-transformers gguf accelerate
fi
if [[ ${#upgrade[@]} -gt 0 ]] || ! "$venv/bin/python" -c 'import llama_cpp' 2>/dev/null; then
  # The wheel is built here: CPU only, tuned for this machine as the peer's users build it.
  CMAKE_ARGS="${LLAMA_CMAKE_ARGS:--DGGML_NATIVE=ON -DGGML_CUDA=OFF -DGGML_METAL=OFF -DGGML_VULKAN=OFF}" \
    CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" \
    "$venv/bin/python" -m pip install --quiet "${upgrade[@]}" llama-cpp-python
fi
"$venv/bin/python" - <<'PY'
import sys, torch
try:
    import dnc  # noqa: F401
    d = "PyPI dnc importable"
except Exception as e:  # the package is old; the bench reports what fails
    d = f"PyPI dnc does not import: {type(e).__name__}: {e}"
import transformers, sentence_transformers, llama_cpp
print(f"peers venv: python {sys.version.split()[0]}, torch {torch.__version__}, "
      f"torch.compile {'yes' if hasattr(torch, 'compile') else 'no'}; {d}; "
      f"transformers {transformers.__version__}, sentence-transformers "
      f"{sentence_transformers.__version__}, llama-cpp-python {llama_cpp.__version__}")
PY
