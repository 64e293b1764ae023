#!/usr/bin/env bash
# Runs every libFuzzer target in fuzz/ for SECONDS each (default 60), ASan + UBSan + LeakSanitizer,
# starting from its corpus in fuzz/corpus/NAME/. New inputs go to build/fuzz/corpus/NAME/ (not the
# repo); a crash leaves build/fuzz/findings/NAME/crash-* — copy it into fuzz/corpus/NAME/ once fixed,
# so the suite (fuzz_replay_NAME) replays it from then on.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]       e.g.  nice scripts/fuzz.sh 600 safetensors
#        FUZZ_RUNS=1000000 scripts/fuzz.sh 3600      (stop each target after that many executions)
# Needs clang and libclang-rt-14-dev (Debian; installed here when missing, not by setup.sh, so
# that CI does not pay for them).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
missing=()
for p in clang libclang-rt-14-dev libomp-14-dev; do
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
status=0
for t in "${TARGETS[@]}"; do
  work=build/fuzz/corpus/$t findings=build/fuzz/findings/$t
  mkdir -p "$work" "$findings"
  log=build/fuzz/$t.log
  echo "=== fuzz_$t for ${SECONDS_EACH}s (log: $log)"
  set +e
  build/fuzz/fuzz/fuzz_"$t" "$work" "fuzz/corpus/$t" -max_total_time="$SECONDS_EACH" ${FUZZ_RUNS:+-runs=$FUZZ_RUNS} -timeout=1 -rss_limit_mb=2048 \
    -max_len=65536 -artifact_prefix="$findings/" -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
  echo "fuzz_$t: exit $rc, ${execs:-?} executions, ${cov:-cov ?}, findings: $(ls "$findings" | wc -l)"
  ((rc == 0)) || status=1
done
exit $status
