#!/usr/bin/env bash
# Peak resident memory of one run against the number of outputs: the same
# 100 small inputs with 100 and with 1000 copies (10,000 and 100,000
# outputs). Flat memory means both peaks are about the same.
#
#   scripts/bench_memory.sh
#
# Needs GNU time (/usr/bin/time; Debian package `time`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
(cd "$root" && cargo build --release --quiet)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 100 inputs of 64x64 pixels.
(cd "$root" && cargo run --release --quiet --example tiny_inputs -- "$work/in" 100 64)

for copies in 100 1000; do
    /usr/bin/time -f "%M" -o "$work/rss" "$root/target/release/augmenta" augment "$work/in" \
        -o "$work/out$copies" --copies "$copies" --format jpg --quality 75 --backend cpu --quiet >/dev/null
    outputs=$(find "$work/out$copies" -name '*.jpg' | wc -l)
    printf '%7d outputs: peak RSS %6.1f MB\n' "$outputs" "$(echo "$(cat "$work/rss") / 1024" | bc -l)"
    rm -rf "$work/out$copies"
done
