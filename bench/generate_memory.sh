#!/usr/bin/env bash
# Peak memory of `sdnc generate` as the generated length grows, for a Transformer-corner
# machine with an unbounded append memory (the KV cache grows one slot per token) and the same
# machine with a bounded memory (memory_slots N: append until full, then usage-based eviction).
# Both are trained for a few steps on a small corpus first (the weights do not matter here).
#   bench/generate_memory.sh [BUILD_DIR] [N] [LENGTHS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build/release}
N=${2:-64}
LENGTHS=${3:-"500 2000 8000"}
SDNC="$BUILD/sdnc"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'the quick brown fox jumps over the lazy dog. %.0s' $(seq 500) > "$work/corpus.txt"
common=(--model machine --task char_lm --corpus "$work/corpus.txt" --controller stateless --write append
        --similarity dot --read_modes content --key_value separate --max_length 32 --steps 20 --d_model 64
        --d_ffn 128 --read_heads 4 --word_size 16 --layers 2 --batch_size 4 --threads 1 --quiet)
"$SDNC" train "${common[@]}" --out_dir "$work/unbounded" > /dev/null
"$SDNC" train "${common[@]}" --memory_slots "$N" --out_dir "$work/bounded" > /dev/null
echo "| memory | generated tokens | peak RSS (MB) | seconds | slots at the end |"
echo "|---|---:|---:|---:|---:|"
for L in $LENGTHS; do
  for kind in unbounded bounded; do
    /usr/bin/time -f "%M %e" -o "$work/time" "$SDNC" generate --checkpoint "$work/$kind" --prompt "the " \
      --tokens "$L" --temperature 0 > /dev/null 2> "$work/err"
    read -r kb secs < "$work/time"
    slots=$(grep -o '[0-9]* slots per layer' "$work/err" | cut -d' ' -f1)
    label=$([[ $kind == bounded ]] && echo "bounded, N = $N" || echo "unbounded append")
    echo "| $label | $L | $((kb / 1024)) | $secs | $slots |"
  done
done
