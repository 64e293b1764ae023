#!/usr/bin/env bash
# D1/D2/D3 (../shared/BENCHMARKS.md): sdnc (bench/dnc_bench.cpp) against a clean batched
# PyTorch DNC (bench/torch_dnc.py), interleaved in one run on the same machine, then a table
# of ms/step, (T·B)/s (D3: steps/s and peak RSS) and ratios sdnc/PyTorch. Per round and
# workload the two sides run back to back (sdnc first in odd rounds, PyTorch first in even
# ones, so slow drift cancels). Ratios are medians of the per-round ratios; on a shared
# machine trust the ratios, not the absolute numbers.
#
#   bench/run_dnc_bench.sh [--threads "1 2"] [--rounds 3] [--steps 5] [--warmup 2]
#                          [--workloads D1,D2,D3] [--d3-steps 10000] [--out results.jsonl]
#                          [--composed] [--pypi]
# --composed  also runs sdnc's op-by-op reference path (dnc_bench --path composed) in the
#             same rounds: a column "fused/composed".
# --pypi      also runs the community package PyPI `dnc` (ixaxaar/pytorch-dnc) at the D1/D2
#             shapes through bench/pypi_dnc.py, with PYPI_PYTHON (default /tmp/dncvenv/bin/python,
#             a venv made with --system-site-packages over Debian's torch:
#             python3 -m venv --system-site-packages /tmp/dncvenv && /tmp/dncvenv/bin/pip install --no-deps dnc).
# Environment: BUILD_DIR (default build/release), PYTHON (default /usr/bin/python3),
# OPENBLAS_CORETYPE (default SkylakeX: Debian's OpenBLAS 0.3.21 does not recognise this
# VM's CPU and otherwise falls back to slow SSE3 kernels; PyTorch 1.13 does its fp32 GEMMs
# in that OpenBLAS). torch.compile does not exist in Debian's torch 1.13 (it came with 2.0),
# so the peer runs eager.
set -euo pipefail
cd "$(dirname "$0")/.."
threads_list="1 2" rounds=3 steps=5 warmup=2 workloads="D1,D2,D3" d3_steps=10000 out="" composed=0 pypi=0
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
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
build=${BUILD_DIR:-build/release}
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE-SkylakeX}
[[ -n "$OPENBLAS_CORETYPE" ]] || unset OPENBLAS_CORETYPE
python=${PYTHON:-/usr/bin/python3}
pypi_python=${PYPI_PYTHON:-/tmp/dncvenv/bin/python}
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
      ((composed)) && sides+=("composed")
      [[ $pypi == 1 && $w != D3 ]] && sides+=("pypi")
      ((r % 2)) || sides=($(printf '%s\n' "${sides[@]}" | tac))
      for side in "${sides[@]}"; do
        case $side in
          sdnc) "$bench" "${common[@]}" | tag "$r" ;;
          composed) "$bench" "${common[@]}" --path composed | sed -u 's/"impl": "sdnc"/"impl": "composed"/' | tag "$r" ;;
          torch) "$python" bench/torch_dnc.py "${common[@]}" | tag "$r" ;;
          pypi) "$pypi_python" bench/pypi_dnc.py --threads "$threads" --workloads "$w" --steps "$ws" \
                  --warmup "$wu" 2>&1 | grep '^{' | tag "$r" || true ;;
        esac
      done
    done
  done
done

echo "# OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)}, threads: $threads_list, rounds $rounds, steps $steps (+$warmup warm-up; D1 10x), D3 T=$d3_steps"
"$python" - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
tv = next((r["torch"] for r in rows if r.get("impl") == "torch"), "?")
print(f"\nsdnc vs PyTorch {tv} (eager, fp32; torch.compile does not exist in this torch); results in {sys.argv[1]}")
impls = [i for i in ("sdnc", "torch", "composed", "pypi") if any(r.get("impl") == i for r in rows)]
def per_round(w, th, key):
    d = {}
    for r in rows:
        if r.get("workload") == w and r.get("threads") == th and key in r:
            d.setdefault(r["round"], {})[r["impl"]] = r[key]
    return d
def med(d, impl):
    v = [x[impl] for x in d.values() if impl in x]
    return statistics.median(v) if v else None
def ratio(d, a, b, invert=False):
    v = [(x[b] / x[a] if invert else x[a] / x[b]) for x in d.values() if a in x and b in x]
    return f"{statistics.median(v):.2f} ({min(v):.2f}–{max(v):.2f})" if v else "–"
fmt = lambda x, f: (f.format(x) if x is not None else "–")
print("| workload | threads | " + " | ".join(f"{i} ms/step | {i} (T·B)/s" for i in impls) +
      " | sdnc speed-up vs PyTorch (min–max) |" + (" vs composed |" if "composed" in impls else "") +
      (" vs PyPI dnc |" if "pypi" in impls else ""))
print("|---|---|" + "---|---|" * len(impls) + "---|" + ("---|" if "composed" in impls else "") + ("---|" if "pypi" in impls else ""))
for th in sorted({r["threads"] for r in rows if "threads" in r}):
    for w in ("D1", "D2"):
        ms, tb = per_round(w, th, "step_ms"), per_round(w, th, "tb_per_s")
        if not ms:
            continue
        line = f"| {w} train step | {th} | " + " | ".join(
            f"{fmt(med(ms, i), '{:.2f}')} | {fmt(med(tb, i), '{:.0f}')}" for i in impls)
        line += f" | {ratio(ms, 'sdnc', 'torch', invert=True)} |"
        if "composed" in impls:
            line += f" {ratio(ms, 'sdnc', 'composed', invert=True)} |"
        if "pypi" in impls:
            line += f" {ratio(ms, 'sdnc', 'pypi', invert=True)} |"
        print(line)
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
            sp = ratio(sps, "sdnc", i) if i != "sdnc" else "–"
            print(f"| {i} | {th} | {med(sps, i):.0f} | {med(ms, i):.3f} | {med(rss, i):.0f} ({med(rss0, i):.0f}) | {sp} |")
PY
