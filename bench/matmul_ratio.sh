#!/usr/bin/env bash
# Engine matmul/linear ops vs oneDNN's sgemm called directly, on the T1 GEMM shapes, at 1 and 2
# threads. Prints throughput per case and the ratio engine/oneDNN (target: >= 0.70).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset release >/dev/null && cmake --build --preset release --target bench_matmul >/dev/null
for threads in 1 2; do
  out=$(mktemp)
  SDNC_NUM_THREADS=$threads OMP_NUM_THREADS=$threads \
    ./build/release/bench/bench_matmul --benchmark_format=json --benchmark_repetitions=3 \
    --benchmark_report_aggregates_only=true >"$out" 2>/dev/null
  /usr/bin/python3 - "$out" "$threads" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
shapes = {"0": "4096x256 . 256x768", "1": "4096x256 . 256x1024", "2": "4096x1024 . 1024x256"}
best = {}
for b in data["benchmarks"]:
    if b.get("aggregate_name") != "max":
        continue
    name, shape = b["run_name"].split("/shape:")
    best[(name, shape)] = b["GFLOP/s"]
pairs = [("BM_engine_matmul", "BM_dnnl_nn", "matmul (NN)"),
         ("BM_engine_linear", "BM_dnnl_nt", "linear fwd (NT)"),
         ("BM_engine_linear_fwd_bwd", "BM_dnnl_fwd_bwd", "linear fwd+bwd (NT,NN,TN)")]
print(f"threads={sys.argv[2]}")
print(f"| op | shape | engine GFLOP/s | oneDNN GFLOP/s | ratio |")
print(f"|---|---|---|---|---|")
for eng, ref, label in pairs:
    for s in sorted(shapes):
        e, r = best[(eng, s)], best[(ref, s)]
        print(f"| {label} | {shapes[s]} | {e:.1f} | {r:.1f} | {e / r:.2f} |")
PY
  rm -f "$out"
done
