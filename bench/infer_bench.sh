#!/usr/bin/env bash
# Sampling throughput of zoomdiff_infer at base.yaml (400 steps) on the sample city, as a user
# runs it: a base.yaml model (weights from one short epoch: the speed does not depend on them)
# generates one sample of every tile. Prints the machine's fp32 matmul ceiling (model_bench),
# then one row: the wall time of one sample of the sample city, network calls per sample, seconds
# per call, tile samples per second, and the extrapolation (by tiles per second, linear in tiles)
# to one sample of a city of the reference's Nanchang size (1,514 tiles).
# usage: bench/infer_bench.sh [nsample] [batch_size]   (after scripts/run_sample.sh)
# env:   INFER_FLAGS            extra zoomdiff_infer flags, e.g. "--steps_per_segment 44"
#        ZOOMDIFF_MALLOC=glibc  glibc's default allocator instead of the tools' heap-only setting
#        ZOOMDIFF_BENCH_THREADS threads (default: all cores); ZOOMDIFF_BUILD_DIR, ZOOMDIFF_SAMPLE_OUT
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ZOOMDIFF_BUILD_DIR:-$root/build}
sample=${ZOOMDIFF_SAMPLE_OUT:-$root/out/sample}
nsample=${1:-1}
batch=${2:-8}
threads=${ZOOMDIFF_BENCH_THREADS:-$(nproc)}
read -r -a infer_flags <<< "${INFER_FLAGS:-}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -x "$build/bench/model_bench" ] && { "$build/bench/model_bench" --measure ceiling --threads "$threads" 2>/dev/null | grep -m1 "^| matmul ceiling" || true; }
"$build/zoomdiff_train" --dataset Nanchang --data_root "$sample" --config base.yaml --epochs 1 --batch_size 2 \
  --valid_interval 0 --threads "$threads" --out "$work/run" -q --progress never
start=$(date +%s.%N)
"$build/zoomdiff_infer" --dataset Nanchang --data_root "$sample" --modelfolder "$work/run" --nsample "$nsample" \
  --batch_size "$batch" --threads "$threads" --format h5 "${infer_flags[@]}" --out "$work/results" \
  --log-level info --progress never 2> "$work/infer.log"
end=$(date +%s.%N)
calls=$(sed -n 's/.*sampling: \([0-9]*\) network calls per sample.*/\1/p' "$work/infer.log" | head -1)
tiles=$(/usr/bin/python3 -c "import json,h5py; print(json.loads(h5py.File('$work/results/Nanchang_traffic.h5')['/'].attrs['metrics'])['tiles'])")
/usr/bin/python3 - "$start" "$end" "$tiles" "$nsample" "$batch" "$threads" "$calls" "${INFER_FLAGS:-}" "${ZOOMDIFF_MALLOC:-heap}" <<'PY'
import sys
start, end = float(sys.argv[1]), float(sys.argv[2])
tiles, ns, batch, threads, calls = (int(v) for v in sys.argv[3:8])
flags, malloc = sys.argv[8] or "(full schedule)", sys.argv[9]
wall = end - start
rate = tiles * ns / wall
print("| sampler flags | malloc | tiles | samples | batch | threads | calls / sample | wall time (s) | s per call "
      "| tile samples / s | 1,514 tiles, 1 sample (h, extrapolated) |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
print(f"| {flags} | {malloc} | {tiles} | {ns} | {batch} | {threads} | {calls} | {wall:.1f} | {wall / (calls * ns):.3f} "
      f"| {rate:.4f} | {1514 / rate / 3600:.2f} |")
PY
