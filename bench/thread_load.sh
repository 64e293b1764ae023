#!/usr/bin/env bash
# Training speed at 1 and 2 threads on a quiet machine and with every core busy (one
# background busy loop per core), with the OpenMP wait policy as configured (sdnc's default:
# passive, see apps/sdnc/main.cpp) and with OMP_WAIT_POLICY=active (what libgomp does when it is
# left alone). Prints the wall time of each run; the ratio 2-thread / 1-thread is the figure of
# merit (issue 12: at most 1.2 with all cores busy).
# Usage: bench/thread_load.sh [STEPS]          (after cmake --build --preset release)
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${1:-60}
SDNC=build/release/sdnc
work=$(mktemp -d)
trap 'kill ${load_pids[*]:-} 2>/dev/null || true; rm -rf "$work"' EXIT
load_pids=()
run() {  # threads policy
  local t0 t1
  t0=$(date +%s.%N)
  env ${2:+OMP_WAIT_POLICY=$2} "$SDNC" train --out_dir "$work/run" --overwrite --quiet --model sdnc --task copy \
    --max_length 8 --d_model 64 --d_ffn 256 --batch_size 16 --steps "$STEPS" --eval_batches 1 --threads "$1" >/dev/null
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}
for load in quiet busy; do
  if [[ $load == busy ]]; then
    for _ in $(seq "$(nproc)"); do (while :; do :; done) & load_pids+=($!); done
  fi
  for policy in "" active; do
    a=$(run 1 "$policy"); b=$(run 2 "$policy")
    printf '%-5s policy=%-8s 1 thread %6.2f s   2 threads %6.2f s   ratio %.2f\n' "$load" "${policy:-default}" "$a" "$b" \
      "$(echo "$b / $a" | bc -l)"
  done
done
echo "uptime: $(uptime)"
