#!/usr/bin/env bash
# Runs a command (the pytest suite of the Python package) against the ASan + UBSan build of the
# extension module. The interpreter is not instrumented, so AddressSanitizer's runtime must be
# the first library loaded: it is preloaded (LD_PRELOAD); UBSan's runtime comes in with the
# module. LeakSanitizer stays on with tests/python/lsan_python.supp (see that file for what it
# leaves out); SDNC_TEST_LIGHT=1 keeps the heavy cases short.
# Usage: run_sanitized.sh LIBASAN.so COMMAND [ARGS...]
set -euo pipefail
libasan="$1"; shift
if [[ ! -f "$libasan" ]]; then
  echo "sdnc: [python_package] no AddressSanitizer runtime at '$libasan' (gcc -print-file-name=libasan.so)"
  exit 1
fi
export LD_PRELOAD="$libasan${LD_PRELOAD:+:$LD_PRELOAD}"
export SDNC_TEST_LIGHT=1
exec "$@"
