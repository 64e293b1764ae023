#!/usr/bin/env bash
# Runs a command (the pytest suite of the Python package) against the ASan + UBSan build of the
# extension module. The interpreter is not instrumented, so AddressSanitizer's runtime must be
# the first library loaded: it is preloaded (LD_PRELOAD), with libstdc++ right after it (the
# interpreter does not link libstdc++, and ASan's __cxa_throw interceptor must find the real
# one when it starts, or the first C++ exception aborts with "CHECK failed ... real___cxa_throw");
# UBSan's runtime comes in with the module. LeakSanitizer stays on with tests/python/lsan_python.supp (see that file for what it
# leaves out); SDNC_TEST_LIGHT=1 keeps the heavy cases short.
# Usage: run_sanitized.sh LIBASAN.so COMMAND [ARGS...]
set -euo pipefail
libasan="$1"; shift
if [[ ! -f "$libasan" ]]; then
  echo "sdnc: [python_package] no AddressSanitizer runtime at '$libasan' (gcc -print-file-name=libasan.so)"
  exit 1
fi
preload="$libasan:libstdc++.so.6${LD_PRELOAD:+:$LD_PRELOAD}"  # for the suite only, not for tee and grep
export SDNC_TEST_LIGHT=1
# LeakSanitizer's leak check at exit stops every thread with a tracer; on this VM that tracer
# now and then dies itself ("Tracer caught signal 11" ... "LeakSanitizer has encountered a fatal
# error": seen once in five runs of the same build, after all tests had passed). That is the
# checker crashing, not a leak report, so such a run is repeated once, saying so; a leak report,
# a failing test or a second crash still fails.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
LD_PRELOAD="$preload" "$@" 2>&1 | tee "$log" || status=${PIPESTATUS[0]}
if [[ $status -ne 0 ]] && grep -q "LeakSanitizer has encountered a fatal error" "$log" &&
   ! grep -q "ERROR: LeakSanitizer: detected memory leaks" "$log"; then
  echo "sdnc: [python_package] LeakSanitizer's tracer crashed at exit (not a leak report); running the suite once more"
  status=0
  LD_PRELOAD="$preload" "$@" || status=$?
fi
exit "$status"
