#!/usr/bin/env bash
# Every table of docs/performance.md in one command: the peers' venv (scripts/setup_peers.sh,
# idempotent), the release benchmarks, then D1–D3 (bench/run_dnc_bench.sh) and T1–T3
# (bench/run_transformer_bench.sh) at 1 and 2 threads, sdnc against PyTorch eager and
# torch.compile side by side, T2's decode with F32/BF16/int8 weights against each format's floor
# (bench/run_decode_formats.sh), then R1/R2 (bench/run_real_bench.sh: SmolLM2 decode vs
# llama-cpp-python and transformers, MiniLM embeddings vs sentence-transformers). The tables and the raw JSON lines go to OUT_DIR (default
# out/bench-<UTC time>); each table is preceded by `uptime` (the load it was measured under).
# Last, bench/summary.py prints the one table of docs/performance.md (every workload against
# the best peer, the issues' targets, and what each target needs against the machine's floor).
#
#   bench/run_all.sh [--rounds N] [--quick]
# --quick: 1 round, fewer steps (a smoke run of the whole pipeline, not a measurement).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3 dnc_steps=3 tr_steps=5 warmup=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --quick) rounds=1 dnc_steps=1 tr_steps=2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
out=${OUT_DIR:-out/bench-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
scripts/setup_peers.sh | tee "$out/peers.txt"
cmake --preset release >/dev/null
nice cmake --build --preset release -j2 --target dnc_bench transformer_bench decode_floor real_bench >/dev/null
{ echo "# $(date -u) $(uptime)"; nproc; grep -m1 'model name' /proc/cpuinfo; } | tee "$out/machine.txt"
bench/run_dnc_bench.sh --threads "1 2" --rounds "$rounds" --steps "$dnc_steps" --warmup "$warmup" \
  --workloads D1,D2,D3 --pypi --out "$out/dnc.jsonl" 2>"$out/dnc.err" | grep -v '^{' | tee "$out/dnc.md"
# M1: every machine corner (the hybrids) at the D2 size against the DNC corner, 1 thread (issue 13 item 5)
build/release/bench/dnc_bench --threads 1 --workloads M1 --steps 2 --warmup 1 > "$out/m1.jsonl"
python3 - "$out/m1.jsonl" <<'PY' | tee "$out/m1.md"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
print("| M1 corner (D2 size, 1 thread) | form | access | ms/step | vs the DNC corner |\n|---|---|---|---:|---:|")
for r in rows:
    print(f"| {r['corner']} | {r['form']} | {r['access']} | {r['step_ms']:.0f} | {r['vs_dnc_corner']:.2f} |")
PY
bench/run_transformer_bench.sh --threads "1 2" --rounds "$rounds" --steps "$tr_steps" --warmup "$warmup" \
  --workloads T1,T2,T3 --out "$out/transformer.jsonl" 2>"$out/transformer.err" | grep -v '^{' | tee "$out/transformer.md"
bench/run_decode_formats.sh --threads "1 2" --rounds "$rounds" --steps "$tr_steps" --out "$out/decode_formats.jsonl" \
  2>"$out/decode_formats.err" | tee "$out/decode_formats.md"
bench/run_real_bench.sh --threads "1 2" --rounds "$rounds" --out "$out/real.jsonl" 2>"$out/real.err" | grep -v "^{" | tee "$out/real.md"
python3 bench/summary.py "$out" | tee "$out/summary.md"
echo "tables in $out/{summary,dnc,m1,transformer,decode_formats,real}.md"
