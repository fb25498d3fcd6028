#!/usr/bin/env bash
# Sampling throughput of zoomdiff_infer at base.yaml (400 steps) on the sample city, as a user
# runs it: a base.yaml model (weights from one short epoch: the speed does not depend on them)
# generates one sample of every tile. Prints the machine's fp32 matmul ceiling (model_bench),
# the wall time of one sample of the sample city and tiles per second.
# usage: bench/infer_bench.sh [nsample] [batch_size]   (after scripts/run_sample.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ZOOMDIFF_BUILD_DIR:-$root/build}
sample=${ZOOMDIFF_SAMPLE_OUT:-$root/out/sample}
nsample=${1:-1}
batch=${2:-8}
threads=${ZOOMDIFF_BENCH_THREADS:-$(nproc)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/bench/model_bench" --measure ceiling --threads "$threads" 2>/dev/null | grep -m1 "^| matmul ceiling" || true
"$build/zoomdiff_train" --dataset Nanchang --data_root "$sample" --config base.yaml --epochs 1 --batch_size 2 \
  --valid_interval 0 --threads "$threads" --out "$work/run" -q --progress never
start=$(date +%s.%N)
"$build/zoomdiff_infer" --dataset Nanchang --data_root "$sample" --modelfolder "$work/run" --nsample "$nsample" \
  --batch_size "$batch" --threads "$threads" --format h5 --out "$work/results" -q --progress never
end=$(date +%s.%N)
tiles=$(/usr/bin/python3 -c "import json,h5py; print(json.loads(h5py.File('$work/results/Nanchang_traffic.h5')['/'].attrs['metrics'])['tiles'])")
/usr/bin/python3 - "$start" "$end" "$tiles" "$nsample" "$batch" "$threads" <<'PY'
import sys
start, end, tiles, ns, batch, threads = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
wall = end - start
print("| tiles | samples | batch | threads | wall time (s) | s per step (400) | tile samples / s |")
print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
print(f"| {tiles} | {ns} | {batch} | {threads} | {wall:.1f} | {wall / 400:.2f} | {tiles * ns / wall:.4f} |")
PY
