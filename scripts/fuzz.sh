#!/usr/bin/env bash
# Runs every libFuzzer target in fuzz/ for SECONDS each (default 60), ASan + UBSan + LeakSanitizer,
# starting from its corpus in fuzz/corpus/NAME/. New inputs go to build/fuzz/corpus/NAME/ (not the
# repo); a crash leaves build/fuzz/findings/NAME/crash-* — copy it into fuzz/corpus/NAME/ once fixed,
# so the suite (fuzz_replay_NAME) replays it from then on.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]       e.g.  nice scripts/fuzz.sh 600 safetensors
#        FUZZ_RUNS=1000000 scripts/fuzz.sh 3600      (stop each target after that many executions)
#        FUZZ_JOBS=4 ...                             (that many targets at once; default 1)
# A 1-s timeout on a loaded machine is often a unit that waited for a CPU: each timeout is run
# again alone, and when it then takes under 0.5 s of CPU (start-up included) it is set aside in
# build/fuzz/findings/NAME/load/ and the target goes on from its corpus, for the executions and
# seconds left. Any other finding stops the target.
# Needs clang, libclang-rt-14-dev and time (Debian; installed here when missing, not by setup.sh, so
# that CI does not pay for them).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
missing=()
for p in clang libclang-rt-14-dev libomp-14-dev time; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
SECONDS_EACH=${1:-60}
shift || true
TARGETS=("$@")
if ((${#TARGETS[@]} == 0)); then
  mapfile -t TARGETS < <(sed -n 's/^sdnc_fuzz_target(\(.*\))$/\1/p' fuzz/CMakeLists.txt)
fi
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "${SDNC_JOBS:-$(nproc)}" --target "${TARGETS[@]/#/fuzz_}"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# fuzz_one NAME: runs one target (in segments, see above); prints one summary line.
fuzz_one() {
  local t=$1 work=build/fuzz/corpus/$1 findings=build/fuzz/findings/$1 log=build/fuzz/$1.log
  local runs=${FUZZ_RUNS:-0} done_runs=0 start=$SECONDS rc=0 n to cpu left segments=0
  mkdir -p "$work" "$findings/load"
  : >"$log"
  while true; do
    left=$((SECONDS_EACH - (SECONDS - start)))
    ((left > 0)) || break
    segments=$((segments + 1))
    set +e
    build/fuzz/fuzz/fuzz_"$t" "$work" "fuzz/corpus/$t" -max_total_time="$left" ${FUZZ_RUNS:+-runs=$((runs - done_runs))} \
      -timeout=1 -rss_limit_mb=2048 -max_len=65536 -artifact_prefix="$findings/" -print_final_stats=1 >>"$log" 2>&1
    rc=$?
    set -e
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    done_runs=$((done_runs + ${n:-0}))
    ((rc == 0)) && break
    to=$(ls -t "$findings"/timeout-* 2>/dev/null | head -1 || true)
    tail -n 30 "$log" | grep -q "libFuzzer: timeout" || break
    [[ -n $to ]] || break
    /usr/bin/time -f "%U %S" -o "build/fuzz/$t.cpu" build/fuzz/fuzz/fuzz_"$t" "$to" >/dev/null 2>&1 || true
    cpu=$(awk '{print $1 + $2}' "build/fuzz/$t.cpu")
    awk "BEGIN { exit !($cpu < 0.5) }" || break
    echo "fuzz_$t: $to took ${cpu} s of CPU alone: the load; set aside, going on" >&2
    mv "$to" "$findings/load/"
    rc=0
    if [[ -n ${FUZZ_RUNS:-} ]] && ((done_runs >= runs)); then break; fi
  done
  local cov
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
  echo "fuzz_$t: exit $rc, $done_runs executions in $((SECONDS - start)) s ($segments segments), ${cov:-cov ?}," \
    "slowest $(sed -n 's/^stat::slowest_unit_time_sec: *//p' "$log" | sort -n | tail -1) s," \
    "findings: $(find "$findings" -maxdepth 1 -type f | wc -l) (load timeouts set aside: $(ls "$findings/load" | wc -l))"
  return $rc
}

status=0
if (( ${FUZZ_JOBS:-1} > 1 )); then
  pids=()
  for t in "${TARGETS[@]}"; do
    while (( $(jobs -rp | wc -l) >= FUZZ_JOBS )); do sleep 5; done
    echo "=== fuzz_$t for ${SECONDS_EACH}s (log: build/fuzz/$t.log)"
    fuzz_one "$t" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || status=1; done
else
  for t in "${TARGETS[@]}"; do
    echo "=== fuzz_$t for ${SECONDS_EACH}s (log: build/fuzz/$t.log)"
    fuzz_one "$t" || status=1
  done
fi
exit $status
