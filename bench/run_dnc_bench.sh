#!/usr/bin/env bash
# D1/D2/D3 (../shared/BENCHMARKS.md): sdnc (bench/dnc_bench.cpp) against a clean batched
# PyTorch DNC (bench/torch_dnc.py), eager and torch.compile'd, interleaved in one run on the
# same machine, then a table of ms/step, (T·B)/s (D3: steps/s and peak RSS) and ratios
# sdnc/PyTorch per peer and against the best peer of each round. Per round and workload the
# sides run back to back (sdnc first in odd rounds, last in even ones, so slow drift
# cancels). Ratios are medians of the per-round ratios; on a shared machine trust the
# ratios, not the absolute numbers.
#
#   bench/run_dnc_bench.sh [--threads "1 2"] [--rounds 3] [--steps 5] [--warmup 2]
#                          [--workloads D1,D2,D3] [--d3-steps 10000] [--out results.jsonl]
#                          [--composed] [--pypi] [--no-compile]
# --composed    also runs sdnc's op-by-op reference path (dnc_bench --path composed) in the
#               same rounds: a column "fused/composed".
# --pypi        also runs the community package PyPI `dnc` (ixaxaar/pytorch-dnc) at the D1/D2
#               shapes through bench/pypi_dnc.py, with PYPI_PYTHON (default: PYTHON; the
#               peers venv has it).
# --no-compile  skips the torch.compile peer (each of its processes compiles the step first).
# Environment: BUILD_DIR (default build/release), PYTHON (default .venv/peers/bin/python, the
# newest PyPI torch from scripts/setup_peers.sh, else /usr/bin/python3: Debian's torch 1.13,
# which has no torch.compile), OMP_WAIT_POLICY (default: unset, the libraries' own
# policy, as users run them; passive on a machine that others share, where spinning OpenMP
# workers steal the core the other thread needs), OPENBLAS_CORETYPE
# (default SkylakeX, or Haswell without AVX-512, for Debian's OpenBLAS 0.3.21 that Debian's torch uses; PyPI torch
# does its GEMMs in MKL/oneDNN and ignores it).
set -euo pipefail
cd "$(dirname "$0")/.."
threads_list="1 2" rounds=3 steps=5 warmup=2 workloads="D1,D2,D3" d3_steps=10000 out="" composed=0 pypi=0 compile=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) threads_list="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --workloads) workloads="$2"; shift 2 ;;
    --d3-steps) d3_steps="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --composed) composed=1; shift ;;
    --pypi) pypi=1; shift ;;
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
pypi_python=${PYPI_PYTHON:-$python}
# OMP_WAIT_POLICY: the libraries' default unless set (set it to passive on a machine that
# other work shares; passive made the peers' 2-thread runs 2-6x slower on an idle one).
"$python" -c 'import torch, sys; sys.exit(0 if hasattr(torch, "compile") else 1)' 2>/dev/null || compile=0
if [[ ! -x "$build/bench/dnc_bench" ]]; then
  cmake --preset release >/dev/null
  cmake --build --preset release -j2 --target dnc_bench >/dev/null
fi
bench="$build/bench/dnc_bench"
[[ -n "$out" ]] || out=$(mktemp --suffix=.jsonl)
: >"$out"

tag() { sed -u "s/^{/{\"round\": $1, /" | tee -a "$out"; }
for threads in $threads_list; do
  export OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads
  for ((r = 1; r <= rounds; r++)); do
    for w in ${workloads//,/ }; do
      # D1 steps take milliseconds: 10x the repetitions, so its medians are not a handful of samples
      ws=$steps wu=$warmup
      [[ $w == D1 ]] && ws=$((steps * 10)) wu=$((warmup * 5))
      common=(--threads "$threads" --workloads "$w" --steps "$ws" --warmup "$wu" --d3-steps "$d3_steps")
      sides=("sdnc" "torch")
      ((compile)) && sides+=("torch-compile")
      ((composed)) && sides+=("composed")
      [[ $pypi == 1 && $w != D3 ]] && sides+=("pypi")
      ((r % 2)) || sides=($(printf '%s\n' "${sides[@]}" | tac))
      for side in "${sides[@]}"; do
        case $side in
          sdnc) "$bench" "${common[@]}" | tag "$r" ;;
          composed) "$bench" "${common[@]}" --path composed | sed -u 's/"impl": "sdnc"/"impl": "composed"/' | tag "$r" ;;
          torch) "$python" bench/torch_dnc.py "${common[@]}" | tag "$r" ;;
          torch-compile) "$python" bench/torch_dnc.py "${common[@]}" --compile 2>/tmp/torch_compile_$$.log | tag "$r" \
                           || { echo "torch.compile peer failed ($w, $threads threads):" >&2; tail -5 /tmp/torch_compile_$$.log >&2; } ;;
          pypi) "$pypi_python" bench/pypi_dnc.py --threads "$threads" --workloads "$w" --steps "$ws" \
                  --warmup "$wu" 2>&1 | grep '^{' | tag "$r" || true ;;
        esac
      done
    done
  done
done

echo "# $(uptime)"
echo "# python $python, OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-(unset)}, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)}, threads: $threads_list, rounds $rounds, steps $steps (+$warmup warm-up; D1 10x), D3 T=$d3_steps"
"$python" - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
tv = next((r["torch"] for r in rows if r.get("impl") == "torch"), "?")
impls = [i for i in ("sdnc", "torch", "torch-compile", "composed", "pypi") if any(r.get("impl") == i for r in rows)]
peers = [i for i in ("torch", "torch-compile") if i in impls]  # equal work; PyPI dnc is not (see pypi_dnc.py)
others = [i for i in impls if i != "sdnc"]
print(f"\nsdnc vs PyTorch {tv} (fp32; torch = eager, torch-compile = the step under torch.compile); results in {sys.argv[1]}")
def per_round(w, th, key):
    d = {}
    for r in rows:
        if r.get("workload") == w and r.get("threads") == th and key in r:
            d.setdefault(r["round"], {})[r["impl"]] = r[key]
    return d
def med(d, impl):
    v = [x[impl] for x in d.values() if impl in x]
    return statistics.median(v) if v else None
def ratios(d, a, bs, higher_better=False):  # per round: best of bs against a
    v = []
    for x in d.values():
        have = [x[b] for b in bs if b in x]
        if a in x and have:
            v.append(x[a] / max(have) if higher_better else min(have) / x[a])
    return v
def fmt_r(v):
    return f"{statistics.median(v):.2f}x ({min(v):.2f}–{max(v):.2f})" if v else "–"
fmt = lambda x, f: (f.format(x) if x is not None else "–")
head = "| workload | threads | " + " | ".join(f"{i} ms/step" for i in impls) + " | sdnc (T·B)/s | " + \
       " | ".join(f"vs {i}" for i in others) + (" | **vs best PyTorch peer** |" if peers else " |")
print(head)
print("|---|---|" + "---|" * len(impls) + "---|" + "---|" * len(others) + ("---|" if peers else ""))
for th in sorted({r["threads"] for r in rows if "threads" in r}):
    for w in ("D1", "D2"):
        ms, tb = per_round(w, th, "step_ms"), per_round(w, th, "tb_per_s")
        if not ms:
            continue
        line = f"| {w} train step | {th} | " + " | ".join(fmt(med(ms, i), '{:.2f}') for i in impls)
        line += f" | {fmt(med(tb, 'sdnc'), '{:.0f}')} | " + " | ".join(fmt_r(ratios(ms, 'sdnc', [i])) for i in others)
        line += (f" | **{fmt_r(ratios(ms, 'sdnc', peers))}** |" if peers else " |")
        print(line)
for th in sorted({r["threads"] for r in rows if "threads" in r}):  # the floors (dnc_bench)
    for w in ("D1", "D2"):
        g, f = per_round(w, th, "gemm_gflops"), per_round(w, th, "gemm_flops_per_step")
        if med(g, "sdnc") is not None:
            print(f"{w} {th} thread(s): the matrices' training FLOPs per step (forward, dX, dW; a lower bound on the "
                  f"step's work) {med(f, 'sdnc') / 1e9:.3f} GFLOP; sdnc runs them at {med(g, 'sdnc'):.1f} GFLOP/s "
                  f"of step time")
errs = [r for r in rows if "error" in r]
for r in errs:
    print(f"{r['impl']} {r['workload']} {r.get('threads')} threads: {r['error']}")
d3 = [r for r in rows if r.get("workload") == "D3"]
if d3:
    print(f"\n| D3 inference, B=1, T={d3[0]['T']} | threads | steps/s | ms/step | peak RSS MB (before the run) | sdnc speed-up (min–max) |")
    print("|---|---|---|---|---|---|")
    for th in sorted({r["threads"] for r in d3}):
        sps, ms = per_round("D3", th, "steps_per_s"), per_round("D3", th, "ms_per_step")
        rss, rss0 = per_round("D3", th, "peak_rss_mb"), per_round("D3", th, "rss_before_mb")
        for i in impls:
            if med(sps, i) is None:
                continue
            sp = fmt_r(ratios(sps, "sdnc", [i], higher_better=True)) if i != "sdnc" else "–"
            print(f"| {i} | {th} | {med(sps, i):.0f} | {med(ms, i):.3f} | {med(rss, i):.0f} ({med(rss0, i):.0f}) | {sp} |")
        if peers:
            print(f"| **sdnc vs best PyTorch peer** | {th} | | | | **{fmt_r(ratios(sps, 'sdnc', peers, higher_better=True))}** |")
    for th in sorted({r["threads"] for r in d3}):
        fl, ms, mb = per_round("D3", th, "weights_floor_ms"), per_round("D3", th, "ms_per_step"), per_round("D3", th, "weight_mb_per_step")
        if med(fl, "sdnc") is not None:
            print(f"D3 {th} thread(s): the step's three matrix-vector products alone ({med(mb, 'sdnc'):.2f} MB of weights) "
                  f"take {med(fl, 'sdnc'):.4f} ms; sdnc's step {med(ms, 'sdnc'):.4f} ms = {med(ms, 'sdnc') / med(fl, 'sdnc'):.2f}x that floor")
PY
