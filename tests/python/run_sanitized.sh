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
export LD_PRELOAD="$libasan:libstdc++.so.6${LD_PRELOAD:+:$LD_PRELOAD}"
export SDNC_TEST_LIGHT=1
exec "$@"
