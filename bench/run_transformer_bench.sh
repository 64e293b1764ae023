#!/usr/bin/env bash
# T1/T2/T3 (../shared/BENCHMARKS.md): sdnc (bench/transformer_bench.cpp) against PyTorch
# (bench/torch_transformer.py), interleaved in one run on the same machine, then a table of
# tokens/s and ratios sdnc/PyTorch. Per round and workload the two sides run back to back
# (sdnc first in odd rounds, PyTorch first in even ones, so slow drift cancels); each
# round also measures the OpenBLAS sgemm 2048³ peak. Ratios are medians of the per-round
# ratios; on a shared machine trust the ratios, not the absolute numbers.
#
#   bench/run_transformer_bench.sh [--threads "2 1"] [--rounds 2] [--steps 5] [--warmup 2]
#                                  [--workloads T1,T2,T3] [--out results.jsonl]
#                                  [--compare OTHER_transformer_bench]
# --compare runs a second sdnc build (e.g. of an earlier commit) in the same rounds and adds
# a column "sdnc/other" (before/after measurements of an engine change).
# Environment: BUILD_DIR (default build/release), PYTHON (default /usr/bin/python3),
# OPENBLAS_CORETYPE (default SkylakeX). Debian's OpenBLAS 0.3.21 does not recognise this
# VM's CPU and otherwise falls back to its SSE3 "Prescott" kernels (~5x slower); PyTorch
# 1.13 does its fp32 GEMMs in that OpenBLAS, sdnc in oneDNN (docs/decisions.md), so without
# it the peer would be handicapped. Set it empty to keep OpenBLAS's own choice.
set -euo pipefail
cd "$(dirname "$0")/.."
threads_list="2" rounds=2 steps=5 warmup=2 workloads="T1,T2,T3" out="" compare=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) threads_list="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --workloads) workloads="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --compare) compare="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
build=${BUILD_DIR:-build/release}
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE-SkylakeX}
[[ -n "$OPENBLAS_CORETYPE" ]] || unset OPENBLAS_CORETYPE
python=${PYTHON:-/usr/bin/python3}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target transformer_bench >/dev/null
bench="$build/bench/transformer_bench"
[[ -n "$out" ]] || out=$(mktemp --suffix=.jsonl)
: >"$out"

tag() {  # prefixes each JSON line with the round (and, for --compare, marks the other build)
  sed -u "s/^{/{\"round\": $1, /; s/\"impl\": \"sdnc\"/\"impl\": \"${2:-sdnc}\"/" | tee -a "$out"
}
for threads in $threads_list; do
  export OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads SDNC_NUM_THREADS=$threads
  for ((r = 1; r <= rounds; r++)); do
    "$bench" --threads "$threads" --workloads peak | tag "$r"
    for w in ${workloads//,/ }; do
      sdnc=("$bench" --threads "$threads" --workloads "$w" --steps "$steps" --warmup "$warmup")
      torch=("$python" bench/torch_transformer.py --threads "$threads" --workloads "$w" --steps "$steps" --warmup "$warmup")
      other=()
      [[ -z "$compare" ]] || other=("$compare" "${sdnc[@]:1}")
      if ((r % 2)); then
        "${sdnc[@]}" | tag "$r"; "${torch[@]}" | tag "$r"; [[ -z "$compare" ]] || "${other[@]}" | tag "$r" other
      else
        [[ -z "$compare" ]] || "${other[@]}" | tag "$r" other; "${torch[@]}" | tag "$r"; "${sdnc[@]}" | tag "$r"
      fi
    done
  done
done

echo "# OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)} OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-(unset)}, threads: $threads_list, rounds $rounds, steps $steps (+$warmup warm-up)${compare:+, other build: $compare}"
"$python" - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
torch_version = next((r["torch"] for r in rows if r["impl"] == "torch"), "?")
blas = next((r["blas"] for r in rows if r["workload"] == "peak"), "?")
print(f"\nsdnc vs PyTorch {torch_version} (eager, fp32); results in {sys.argv[1]}")
print(f"sgemm peak measured with: {blas}")
other = any(r["impl"] == "other" for r in rows)
print("| workload | threads | sdnc tokens/s | PyTorch tokens/s | ratio sdnc/PyTorch (min–max over rounds) |"
      + (" other sdnc build tokens/s | sdnc/other |" if other else ""))
print("|---|---|---|---|---|" + ("---|---|" if other else ""))
metrics = {"T1": [("T1 train step", "tokens_per_s")], "T3": [("T3 enc-dec train step", "tokens_per_s")],
           "T2": [("T2 prefill 256", "prefill_tokens_per_s"), ("T2 decode 256", "decode_tokens_per_s")]}
peaks = {}
for th in sorted({r["threads"] for r in rows}):
    p = [r["gflops_best"] for r in rows if r["workload"] == "peak" and r["threads"] == th]
    peaks[th] = statistics.median(p) if p else None
    for w in ("T1", "T2", "T3"):
        for label, key in metrics[w]:
            per_round = {}
            for r in rows:
                if r["workload"] == w and r["threads"] == th:
                    per_round.setdefault(r["round"], {})[r["impl"]] = r[key]
            pairs = [v for v in per_round.values() if "sdnc" in v and "torch" in v]
            if not pairs:
                continue
            s = statistics.median(v["sdnc"] for v in pairs)
            t = statistics.median(v["torch"] for v in pairs)
            ratios = [v["sdnc"] / v["torch"] for v in pairs]
            line = (f"| {label} | {th} | {s:.0f} | {t:.0f} | {statistics.median(ratios):.2f} "
                    f"({min(ratios):.2f}–{max(ratios):.2f}) |")
            if other:
                o = [v for v in per_round.values() if "sdnc" in v and "other" in v]
                if o:
                    line += (f" {statistics.median(v['other'] for v in o):.0f} |"
                             f" {statistics.median(v['sdnc'] / v['other'] for v in o):.2f} |")
                else:
                    line += " – | – |"
            print(line)
for th, peak in peaks.items():
    if not peak:
        continue
    for impl in ("sdnc", "torch", "other"):
        g = [r["gflops"] for r in rows if r["workload"] == "T1" and r["threads"] == th and r["impl"] == impl]
        if g:
            print(f"T1 {impl}: {statistics.median(g):.1f} GFLOP/s = {statistics.median(g) / peak:.1%} of the "
                  f"measured sgemm 2048³ peak {peak:.1f} GFLOP/s at {th} thread(s)")
PY
