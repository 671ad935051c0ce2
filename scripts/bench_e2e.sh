#!/usr/bin/env bash
# End-to-end speed, augmenta against Albumentations 2.0.8 + OpenCV, in one
# run on the same input folder, copies, JPEG quality and worker count.
#
#   scripts/bench_e2e.sh [COPIES] [WORKERS]      (defaults: 20 copies, 2 workers)
#
# Needs the peer's Python environment in PEER_PYTHON (default
# /tmp/peer-venv/bin/python), made once with
#   python3 -m venv /tmp/peer-venv
#   /tmp/peer-venv/bin/pip install 'albumentations==2.0.8' opencv-python-headless pillow
# The peer's input folder (INPUT, default /tmp/peer-input) is made if missing.
# Both tools run the same pipeline: benches/peer_pipeline.toml mirrors
# peer_augment.py's. Prints images/s for each and the ratio.
set -euo pipefail

copies=${1:-20}
workers=${2:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
bench="$root/../shared/bench"
python=${PEER_PYTHON:-/tmp/peer-venv/bin/python}
input=${INPUT:-/tmp/peer-input}

if [ ! -d "$input" ]; then
    "$python" "$bench/make_input.py" "$root/../shared/corpus/photos-large" --out "$input"
fi
(cd "$root" && cargo build --release --quiet)

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

seconds() {
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
}

ours=$(seconds "$root/target/release/augmenta" augment "$input" -o "$out/augmenta" \
    --copies "$copies" --seed 42 --format jpg --quality 90 --jobs "$workers" --backend cpu \
    --pipeline "$root/benches/peer_pipeline.toml" --quiet)
peer=$(seconds "$python" "$bench/peer_augment.py" "$input" "$out/peer" \
    --copies "$copies" --seed 42 --format jpg --workers "$workers")

written_ours=$(find "$out/augmenta" -name '*.jpg' | wc -l)
written_peer=$(find "$out/peer" -name '*.jpg' | wc -l)
rate_ours=$(echo "$written_ours / $ours" | bc -l)
rate_peer=$(echo "$written_peer / $peer" | bc -l)
printf 'augmenta:             %6d outputs in %6.2f s = %7.1f images/s\n' "$written_ours" "$ours" "$rate_ours"
printf 'albumentations+cv2:   %6d outputs in %6.2f s = %7.1f images/s\n' "$written_peer" "$peer" "$rate_peer"
printf 'ratio (augmenta / peer): %.2fx  (%s copies, %s workers, %s)\n' \
    "$(echo "$rate_ours / $rate_peer" | bc -l)" "$copies" "$workers" "$(nproc) cores"
