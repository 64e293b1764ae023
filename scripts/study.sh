#!/usr/bin/env bash
# Builds sdnc (release) and runs the default study (docs/results.md): 7 machines × 6 tasks ×
# 2 seeds (copy, repeat_copy, associative_recall at 1500 steps; mqar, parity, reverse_string at
# 1000), one run per core at a time. Writes runs/study/default/ (results.jsonl, table.md, PNG
# plots, index.html). Run it again to resume an interrupted study; extra arguments go to
# `sdnc study` (e.g. --grid FILE.json --name NAME). Under mpirun, run
# `mpirun -np P build/release/sdnc study` directly (docs/distributed.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "${SDNC_JOBS:-$(nproc)}" --target sdnc_cli
start=$(date +%s)
./build/release/sdnc study "$@"
echo "[study.sh] wall time $(( $(date +%s) - start )) s"
