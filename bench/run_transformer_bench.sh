#!/usr/bin/env bash
# T1/T2/T3 (../shared/BENCHMARKS.md): sdnc (bench/transformer_bench.cpp) against PyTorch
# (bench/torch_transformer.py), eager and torch.compile'd, interleaved in one run on the same
# machine, then a table of tokens/s and ratios sdnc/PyTorch per peer and against the best peer
# of each round. The PyTorch T1 peer picks the fastest attention of manual (baddbmm/softmax/
# bmm), nn.MultiheadAttention and scaled_dot_product_attention (--attn auto; the table says
# which). Per round and workload the sides run back to back (sdnc first in odd rounds, last
# in even ones, so slow drift cancels); each round also measures the sgemm 2048³ peak. Ratios
# are medians of the per-round ratios; on a shared machine trust the ratios, not the absolute
# numbers.
#
#   bench/run_transformer_bench.sh [--threads "2 1"] [--rounds 2] [--steps 5] [--warmup 2]
#                                  [--workloads T1,T2,T3] [--out results.jsonl]
#                                  [--compare OTHER_transformer_bench] [--no-compile]
# --compare runs a second sdnc build (e.g. of an earlier commit) in the same rounds and adds
# a column "sdnc/other" (before/after measurements of an engine change).
# --no-compile skips the torch.compile peer.
# Environment: BUILD_DIR (default build/release), PYTHON (default .venv/peers/bin/python, the
# newest PyPI torch from scripts/setup_peers.sh, else /usr/bin/python3: Debian's torch 1.13),
# OMP_WAIT_POLICY (default unset: the libraries' own policy; passive on a shared machine), OPENBLAS_CORETYPE (default SkylakeX, or Haswell without AVX-512: Debian's OpenBLAS
# 0.3.21, which Debian's torch uses, does not recognise this VM's CPU and otherwise falls back
# to its SSE3 kernels; PyPI torch uses MKL/oneDNN and ignores it). Set it empty to keep
# OpenBLAS's own choice.
set -euo pipefail
cd "$(dirname "$0")/.."
threads_list="2" rounds=2 steps=5 warmup=2 workloads="T1,T2,T3" out="" compare="" compile=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) threads_list="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --workloads) workloads="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --compare) compare="$2"; shift 2 ;;
    --no-compile) compile=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
build=${BUILD_DIR:-build/release}
# SkylakeX on an AVX-512 CPU, Haswell (the AVX2 kernels) otherwise: SkylakeX kernels die with
# SIGILL on a CPU without AVX-512 (this project's VM is now an AVX2-only AMD EPYC).
grep -qw avx512f /proc/cpuinfo && default_coretype=SkylakeX || default_coretype=Haswell
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE-$default_coretype}
[[ -n "$OPENBLAS_CORETYPE" ]] || unset OPENBLAS_CORETYPE
default_python=/usr/bin/python3
[[ -x .venv/peers/bin/python ]] && default_python=.venv/peers/bin/python
python=${PYTHON:-$default_python}
# OMP_WAIT_POLICY: the libraries' default unless set (set it to passive on a machine that
# other work shares; passive made the peers' 2-thread runs 2-6x slower on an idle one).
"$python" -c 'import torch, sys; sys.exit(0 if hasattr(torch, "compile") else 1)' 2>/dev/null || compile=0
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
      sides=(sdnc torch)
      ((compile)) && sides+=(torch-compile)
      [[ -z "$compare" ]] || sides+=(other)
      ((r % 2)) || sides=($(printf '%s\n' "${sides[@]}" | tac))
      for side in "${sides[@]}"; do
        case $side in
          sdnc) "${sdnc[@]}" | tag "$r" ;;
          torch) "${torch[@]}" | tag "$r" ;;
          torch-compile) "${torch[@]}" --compile 2>/tmp/torch_compile_$$.log | tag "$r" \
                           || { echo "torch.compile peer failed ($w, $threads threads):" >&2; tail -5 /tmp/torch_compile_$$.log >&2; } ;;
          other) "$compare" "${sdnc[@]:1}" | tag "$r" other ;;
        esac
      done
    done
  done
done

echo "# $(uptime)"
echo "# python $python, OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-(unset)}, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)}, threads: $threads_list, rounds $rounds, steps $steps (+$warmup warm-up)${compare:+, other build: $compare}"
"$python" - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
torch_version = next((r["torch"] for r in rows if r["impl"] == "torch"), "?")
blas = next((r["blas"] for r in rows if r["workload"] == "peak"), "?")
impls = [i for i in ("sdnc", "torch", "torch-compile", "other") if any(r["impl"] == i for r in rows)]
peers = [i for i in ("torch", "torch-compile") if i in impls]
others = [i for i in impls if i != "sdnc"]
print(f"\nsdnc vs PyTorch {torch_version} (fp32; torch = eager, torch-compile = torch.compile); results in {sys.argv[1]}")
print(f"sgemm peak measured with: {blas}")
for i in peers:
    at = sorted({r.get("attn") for r in rows if r["impl"] == i and r["workload"] == "T1"} - {None})
    tr = next((r.get("attn_trial_ms") for r in rows if r["impl"] == i and r["workload"] == "T1" and "attn_trial_ms" in r), None)
    if at:
        print(f"{i} T1 attention: {', '.join(at)} (fastest of the trial step ms {tr})")
print("| workload | threads | " + " | ".join(f"{i} tokens/s" for i in impls) + " | " +
      " | ".join(f"sdnc/{i} (min–max)" for i in others) + (" | **sdnc/best PyTorch** |" if peers else " |"))
print("|---|---|" + "---|" * len(impls) + "---|" * len(others) + ("---|" if peers else ""))
metrics = {"T1": [("T1 train step", "tokens_per_s")], "T3": [("T3 enc-dec train step", "tokens_per_s")],
           "T2": [("T2 prefill 256", "prefill_tokens_per_s"), ("T2 decode 256", "decode_tokens_per_s")]}
def fmt_r(v):
    return f"{statistics.median(v):.2f} ({min(v):.2f}–{max(v):.2f})" if v else "–"
peaks = {}
for th in sorted({r["threads"] for r in rows}):
    p = [r["gflops_best"] for r in rows if r["workload"] == "peak" and r["threads"] == th]
    peaks[th] = statistics.median(p) if p else None
    for w in ("T1", "T2", "T3"):
        for label, key in metrics[w]:
            per_round = {}
            for r in rows:
                if r["workload"] == w and r["threads"] == th and key in r:
                    per_round.setdefault(r["round"], {})[r["impl"]] = r[key]
            if not any("sdnc" in v for v in per_round.values()):
                continue
            def m(i):
                v = [x[i] for x in per_round.values() if i in x]
                return f"{statistics.median(v):.0f}" if v else "–"
            def rs(bs):
                return [x["sdnc"] / max(x[b] for b in bs if b in x) for x in per_round.values()
                        if "sdnc" in x and any(b in x for b in bs)]
            line = f"| {label} | {th} | " + " | ".join(m(i) for i in impls) + " | " + " | ".join(fmt_r(rs([i])) for i in others)
            line += f" | **{fmt_r(rs(peers))}** |" if peers else " |"
            print(line)
for th, peak in peaks.items():
    if not peak:
        continue
    for impl in impls:
        g = [r["gflops"] for r in rows if r["workload"] == "T1" and r["threads"] == th and r["impl"] == impl]
        if g:
            print(f"T1 {impl}: {statistics.median(g):.1f} GFLOP/s = {statistics.median(g) / peak:.1%} of the "
                  f"measured sgemm 2048³ peak {peak:.1f} GFLOP/s at {th} thread(s)")
PY
