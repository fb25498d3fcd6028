#!/usr/bin/env bash
# Training throughput of zoomdiff_train at a given config (default base.yaml) on the sample city,
# its 8 tiles repeated to 160 (bench/make_bench_city.py; 128 train tiles, so even batch 128 fills
# one batch). One epoch per batch size, no validation, as a user runs the tool; prints a markdown
# table: seconds per step, epochs per hour on this city and on a city of the reference's
# Nanchang size (1,211 train tiles, MODEL.md §5.9), and the peak RSS the manifest records.
# usage: bench/train_bench.sh [config] [batch sizes...]   (after scripts/run_sample.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ZOOMDIFF_BUILD_DIR:-$root/build}
sample=${ZOOMDIFF_SAMPLE_OUT:-$root/out/sample}
config=${1:-base.yaml}
shift || true
batches=${*:-16 32 128}
threads=${ZOOMDIFF_BENCH_THREADS:-$(nproc)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$root/bench/make_bench_city.py" "$sample" Nanchang "$work" BenchCity --repeat 4 5 >&2
echo "| batch | steps / epoch | s / step | tiles / s | epochs / h (160-tile sample city) | epochs / h (1,211 train tiles) | peak RSS (GiB) |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for b in $batches; do
  run="$work/run_b$b"
  "$build/zoomdiff_train" --dataset BenchCity --data_root "$work" --config "$config" --epochs 1 \
    --valid_interval 0 --batch_size "$b" --threads "$threads" --out "$run" -q --progress never
  /usr/bin/python3 - "$run" "$b" <<'PY'
import csv, json, sys
run, b = sys.argv[1], int(sys.argv[2])
row = list(csv.DictReader(open(f"{run}/train_log.csv")))[-1]
m = json.load(open(f"{run}/manifest.json"))
train = m["cities"][0]["train_tiles"]
steps = train // b
sec = float(row["seconds"])
per_step = sec / steps
print(f"| {b} | {steps} | {per_step:.1f} | {b / per_step:.2f} | {3600 / sec:.1f} | {3600 / (1211 // b * per_step):.2f} | {m['peak_rss_mib'] / 1024:.1f} |")
PY
done
