#!/usr/bin/env bash
# The long crash-safety run: `sdnc train` killed with SIGKILL 20 times (or N) at random points
# and resumed each time; the suite's cli_crash_safety does the same with 5 kills.
# Usage: scripts/crash_test.sh [KILLS] [SEED]     (after cmake --build --preset release)
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 tests/cli/test_crash_safety.py --sdnc build/release/sdnc --kills "${1:-20}" --seed "${2:-12}" -k SIGKILL
