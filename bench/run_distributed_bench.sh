#!/usr/bin/env bash
# Data-parallel scaling (issue 14): `sdnc train` steps/s at the D2 and T1 shapes of
# ../shared/BENCHMARKS.md, in one run, three ways on the same machine:
#   P=1 t=1   one process, one thread
#   P=1 t=2   one process, two threads (OpenMP inside the ops)
#   P=2 t=1   mpirun -np 2, one thread per rank (each rank half of the global batch; one
#             bucketed gradient allreduce per step)
# and the measured exchange per step: allreduce_ms (the gradient bucket: packing, allreduce,
# unpacking) and wait_ms (the ranks waiting for each other, plus the one-number exchanges), as
# the trainer logs them. Steps/s come
# from the metrics' elapsed_s between the first and the last step (the first step, with its
# allocations, is left out). Rounds alternate the order of the three ways; the table gives
# each way's median steps/s and the ratios to P=1 t=1 within each round (medians).
#
# Then bench/allreduce_cost.c: one MPI_Allreduce of the D2 and T1 gradient buckets alone.
#
#   bench/run_distributed_bench.sh [--rounds 2] [--steps 6] [--workloads D2,T1] [--out results.jsonl]
# D2: DNC (LSTM 256, N=128, W=64, R=4, H=1) on copy, B=32, 9 bits (X=10, Y=9), length 50
#     (T = 2·50+1 = 101, the copy task's nearest to D2's T=100).
# T1: sdnc (GPT-2: V=256, D=256, H=4, FFN 1024, L=4) on char_lm, B=16, T=256.
# Environment: BUILD_DIR (default build/release), MPIRUN (default mpirun), CORPUS (default
# data/kjv.txt, else /work/main/data/kjv.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=2 steps=6 workloads="D2,T1" out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --workloads) workloads="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "usage: $0 [--rounds N] [--steps N] [--workloads D2,T1] [--out FILE]" >&2; exit 2 ;;
  esac
done
SDNC=${BUILD_DIR:-build/release}/sdnc
MPIRUN=${MPIRUN:-mpirun}
CORPUS=${CORPUS:-data/kjv.txt}
[[ -s "$CORPUS" ]] || CORPUS=/work/main/data/kjv.txt
ROOT=(); [[ $(id -u) -eq 0 ]] && ROOT=(--allow-run-as-root)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
results=${out:-$work/results.jsonl}
: > "$results"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}

flags_for() {
  case "$1" in
    D2) echo --model dnc --task copy --batch_size 32 --num_bits 9 --min_length 50 --max_length 50 \
             --hidden_size 256 --memory_size 128 --word_size 64 --num_read_heads 4 --num_write_heads 1 --eval_lengths 50 ;;
    T1) echo --model sdnc --task char_lm --corpus "$CORPUS" --batch_size 16 --min_length 256 --max_length 256 \
             --d_model 256 --num_heads 4 --d_ffn 1024 --num_layers 4 --eval_lengths 256 ;;
  esac
}

# one_run WORKLOAD WAY ROUND: trains, appends one JSON line.
one_run() {
  local w=$1 way=$2 round=$3 dir="$work/$1_$2_$3" cmd
  cmd=("$SDNC" train --out "$dir" --steps "$steps" --log_every 1 --eval_batches 1 --quiet $(flags_for "$w"))
  case "$way" in
    p1t1) cmd+=(--threads 1 --distributed none) ;;
    p1t2) cmd+=(--threads 2 --distributed none) ;;
    p2t1) cmd=("$MPIRUN" "${ROOT[@]}" --oversubscribe -np 2 "${cmd[@]}" --threads 1 --distributed mpi) ;;
  esac
  "${cmd[@]}" > "$work/log" 2>&1 || { cat "$work/log" >&2; exit 1; }
  /usr/bin/python3 - "$dir/metrics.jsonl" "$w" "$way" "$round" >> "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"loss"' in l and '"eval"' not in l]
first, last = rows[0], rows[-1]
sps = (last["step"] - first["step"]) / (last["elapsed_s"] - first["elapsed_s"])
def mean(key):
    v = [r[key] for r in rows[1:] if key in r]
    return sum(v) / len(v) if v else None
print(json.dumps({"workload": sys.argv[2], "way": sys.argv[3], "round": int(sys.argv[4]), "steps_per_s": sps,
                  "allreduce_ms": mean("allreduce_ms"), "wait_ms": mean("wait_ms")}))
PY
}

echo "[distributed_bench] load before: $(uptime)"
for ((r = 1; r <= rounds; r++)); do
  order="p1t1 p1t2 p2t1"; ((r % 2 == 0)) && order="p2t1 p1t2 p1t1"
  for w in ${workloads//,/ }; do
    for way in $order; do one_run "$w" "$way" "$r"; done
  done
done
# The allreduce alone, at the D2 and T1 bucket sizes (the parameter counts sdnc train prints).
mpicc -O2 bench/allreduce_cost.c -o "$work/allreduce_cost"
"$MPIRUN" "${ROOT[@]}" --oversubscribe -np 2 "$work/allreduce_cost" 661216 3356160 | sed 's/^/[allreduce_cost] /'
echo "[distributed_bench] load after:  $(uptime)"
/usr/bin/python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
names = {"p1t1": "P=1, 1 thread", "p1t2": "P=1, 2 threads", "p2t1": "P=2 ranks x 1 thread"}
print("| workload | way | steps/s (median) | ratio to P=1 t=1 (median of rounds) | allreduce ms/step | wait ms/step |")
print("|---|---|---|---|---|---|")
for w in dict.fromkeys(r["workload"] for r in rows):
    base = {r["round"]: r["steps_per_s"] for r in rows if r["workload"] == w and r["way"] == "p1t1"}
    for way in names:
        mine = [r for r in rows if r["workload"] == w and r["way"] == way]
        sps = statistics.median(r["steps_per_s"] for r in mine)
        ratio = statistics.median(r["steps_per_s"] / base[r["round"]] for r in mine)
        ar = [r["allreduce_ms"] for r in mine if r["allreduce_ms"] is not None]
        wait = [r["wait_ms"] for r in mine if r["wait_ms"] is not None]
        cell = lambda v: f"{statistics.median(v):.2f}" if v else "-"
        print(f"| {w} | {names[way]} | {sps:.3f} | {ratio:.2f} | {cell(ar)} | {cell(wait)} |")
PY
