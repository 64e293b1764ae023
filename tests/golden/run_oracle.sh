#!/usr/bin/env bash
# Runs a check script with the reference-model oracle venv's Python (scripts/setup_oracle.sh);
# exits 77 (CTest's SKIP_RETURN_CODE for these tests) with the reason when the venv is absent.
# Usage: run_oracle.sh PYTHON SCRIPT [ARGS...]
py="$1"; shift
if [[ ! -x "$py" ]] || ! "$py" -c "import gguf, tokenizers, transformers, sentence_transformers" 2>/dev/null; then
  echo "SKIPPED: the reference-model oracle venv ($py) is absent or incomplete; run scripts/setup_oracle.sh"
  exit 77
fi
exec "$py" "$@"
