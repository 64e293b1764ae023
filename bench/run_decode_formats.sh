#!/usr/bin/env bash
# T2's decode with the step's matrices in F32, BF16 and int8 (transformer_bench --workloads T2W)
# beside the floor of each format (decode_floor: the format's bytes at the rate F32 weights
# stream, plus the memory's read), rounds interleaved, medians; prints a markdown table:
# tokens/s (and from each generated position's best time over the rounds: the machine's
# load shows less there), share of the floor, and the error to the F32 logits along the F32 greedy path.
#
#   bench/run_decode_formats.sh [--threads "1 2"] [--rounds N] [--steps N] [--out FILE.jsonl]
set -euo pipefail
cd "$(dirname "$0")/.."
threads="1 2" rounds=3 steps=3 out=/dev/null
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
bin=build/release/bench
[[ -x $bin/transformer_bench && -x $bin/decode_floor ]] || {
  echo "build first: cmake --build --preset release --target transformer_bench decode_floor" >&2; exit 1; }
lines=$(mktemp)
trap 'rm -f "$lines"' EXIT
echo "# $(date -u) $(uptime)"
for ((r = 0; r < rounds; r++)); do
  for t in $threads; do
    $bin/transformer_bench --threads "$t" --workloads T2W --steps "$steps" --warmup 1 | tee -a "$lines"
    $bin/decode_floor --threads "$t" --reps 200 | sed "s/^{/{\"workload\": \"floor\", /" | tee -a "$lines"
  done
done >"$out"
python3 - "$lines" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
med = lambda xs: statistics.median(xs) if xs else float("nan")
print("| weights | threads | MB per step | decode tokens/s (median of rounds; range) | from each position's best | floor tokens/s | share of the floor | max abs logit error vs F32 | argmax agreement |")
print("|---|---|---|---|---|---|---|---|---|")
for t in sorted({r["threads"] for r in rows}):
    floors = [r for r in rows if r["workload"] == "floor" and r["threads"] == t]
    for f in ("f32", "bf16", "int8"):
        runs = [r for r in rows if r["workload"] == "T2W" and r["threads"] == t and r["weights"] == f]
        if not runs:
            continue
        tps = [r["decode_tokens_per_s"] for r in runs]
        best = max(r["decode_tokens_per_s_best"] for r in runs)
        key = "floor_tokens_per_s" if f == "f32" else f + "_floor_tokens_per_s"
        floor = med([r[key] for r in floors])
        if t != 1:  # decode_floor's 2-thread sweep is an OpenMP region, not a floor (see its header)
            print(f"| {f} | {t} | {runs[0]['weights_mb']:.2f} | {med(tps):.0f} ({min(tps):.0f}–{max(tps):.0f}) | {best:.0f} | – | – | "
                  f"{runs[0]['max_abs_logit_error_vs_f32']:.3g} | {runs[0]['argmax_agreement']:.4f} |")
            continue
        print(f"| {f} | {t} | {runs[0]['weights_mb']:.2f} | {med(tps):.0f} ({min(tps):.0f}–{max(tps):.0f}) | {best:.0f} | {floor:.0f} | "
              f"{med(tps) / floor:.0%} | {runs[0]['max_abs_logit_error_vs_f32']:.3g} | {runs[0]['argmax_agreement']:.4f} |")
PY
