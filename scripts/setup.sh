#!/usr/bin/env bash
# Installs every Debian package sdnc needs to build, test and benchmark; skips what is present.
# Safe to run repeatedly. Needs root or sudo for apt-get when something is missing.
set -euo pipefail

PACKAGES=(
  g++ cmake ninja-build pkg-config git
  ccache                                    # compile cache shared by clones and worktrees
  libdnnl-dev                               # F32 GEMM (docs/decisions.md)
  libopenblas-dev libblis-dev               # only for bench/gemm_libraries.sh (the measurement)
  libfmt-dev nlohmann-json3-dev libcli11-dev libstb-dev
  libgtest-dev libbenchmark-dev
  python3-torch python3-numpy               # the test oracle, run with /usr/bin/python3
  python3-venv                              # scripts/safetensors_venv.sh: the PyPI safetensors writer
  python3-dev python3-pytest                # the Python package (python/): headers, its tests
  pybind11-dev                              # only for bench/python_bindings.sh (the measurement)
  bible-kjv-text bible-kjv                  # default language-modelling corpus (public domain)
  libopenmpi-dev openmpi-bin               # data-parallel training (sdnc train --distributed mpi)
)

# The King James text as plain UTF-8 (data/kjv.txt, ~4.3 MB), written once from the package.
write_corpus() {
  local root out
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  out="$root/data/kjv.txt"
  [[ -s "$out" ]] && return 0
  mkdir -p "$root/data"
  bible "Genesis 1:1-Revelation 22:21" > "$out.tmp" && mv "$out.tmp" "$out"
  echo "[setup] wrote $out ($(wc -c < "$out") bytes)"
}

missing=()
for p in "${PACKAGES[@]}"; do
  [[ "$p" == \#* ]] && continue
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "[setup] all ${#PACKAGES[@]} packages present"
  write_corpus
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "[setup] need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "[setup] installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
write_corpus
echo "[setup] done"
