#!/usr/bin/env bash
# Training throughput of data-parallel zoomdiff_train on this machine (issue 10): 1 rank x 1
# thread, 2 local ranks x 1 thread (loopback Gloo) and 1 rank x 2 threads, same global batch,
# same seed, on the sample city's tiles repeated to 160 (bench/make_bench_city.py, 128 train
# tiles). Prints a markdown table of seconds per step and tiles (samples) per second per config,
# then the same three layouts for zoomdiff_infer (the first run's model, every one of the 160
# tiles, ZOOMDIFF_BENCH_NSAMPLE samples each, blocks of the global batch; sharded over the ranks).
# usage: bench/distributed_bench.sh [config] [global batch] [epochs]   (after scripts/run_sample.sh)
# Run it on a quiet machine: the ranks share its cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ZOOMDIFF_BUILD_DIR:-$root/build}
sample=${ZOOMDIFF_SAMPLE_OUT:-$root/out/sample}
config=${1:-sample.yaml}
batch=${2:-16}
epochs=${3:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$root/bench/make_bench_city.py" "$sample" Nanchang "$work" BenchCity --repeat 4 5 >&2
flags=(--dataset BenchCity --data_root "$work" --config "$config" --epochs "$epochs" --valid_interval 0
       --batch_size "$batch" --seed 1 -q --progress never)
port=$(( 29600 + RANDOM % 300 ))

run() {  # name ranks threads
  local out="$work/$1" start end
  start=$(date +%s.%N)
  if [ "$2" -eq 1 ]; then
    "$build/zoomdiff_train" "${flags[@]}" --threads "$3" --out "$out"
  else
    ZOOMDIFF_BUILD_DIR=$build "$root/scripts/train_distributed.sh" -n "$2" --master_port "$port" -- \
      "${flags[@]}" --threads "$3" --out "$out"
    port=$(( port + 1 ))
  fi
  end=$(date +%s.%N)
  /usr/bin/python3 - "$out" "$1" "$2" "$3" "$batch" "$start" "$end" <<'PY'
import csv, json, sys
out, name, ranks, threads, batch, start, end = sys.argv[1:]
batch = int(batch)
rows = list(csv.DictReader(open(f"{out}/train_log.csv")))
m = json.load(open(f"{out}/manifest.json"))
train = m["cities"][0]["train_tiles"]
steps = train // batch * len(rows)
sec = sum(float(r["seconds"]) for r in rows)
wall = float(end) - float(start)
print(f"| {name} | {ranks} | {threads} | {batch} | {steps} | {sec / steps:.3f} | {steps * batch / sec:.2f} | {wall:.1f} | {m['peak_rss_mib']:.0f} |")
PY
}

echo "config $config, global batch $batch, $epochs epoch(s), $(nproc) cores"
echo
echo "| run | ranks | threads / rank | global batch | steps | s / step | tiles / s | wall s (incl. start) | rank 0 peak RSS (MiB) |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
run "1 rank x 1 thread" 1 1
run "2 ranks x 1 thread" 2 1
run "1 rank x 2 threads" 1 2

nsample=${ZOOMDIFF_BENCH_NSAMPLE:-2}
infer() {  # name ranks threads
  local out="$work/infer_$2_$3" start end
  local iflags=(--dataset BenchCity --data_root "$work" --modelfolder "$work/1 rank x 1 thread" --nsample "$nsample"
                --batch_size "$batch" --format h5 --seed 1 -q --progress never --threads "$3" --out "$out")
  start=$(date +%s.%N)
  if [ "$2" -eq 1 ]; then
    "$build/zoomdiff_infer" "${iflags[@]}"
  else
    ZOOMDIFF_BUILD_DIR=$build "$root/scripts/train_distributed.sh" --tool zoomdiff_infer -n "$2" \
      --master_port "$port" -- "${iflags[@]}"
    port=$(( port + 1 ))
  fi
  end=$(date +%s.%N)
  /usr/bin/python3 - "$1" "$2" "$3" "$nsample" "$start" "$end" <<'PY'
import sys
name, ranks, threads, ns, start, end = sys.argv[1:]
wall = float(end) - float(start)
print(f"| {name} | {ranks} | {threads} | 160 | {ns} | {wall:.1f} | {160 * int(ns) / wall:.2f} |")
PY
}
echo
echo "zoomdiff_infer, $nsample samples per tile, blocks of $batch tiles (wall time includes start-up and writing)"
echo
echo "| run | ranks | threads / rank | tiles | samples | wall s | tile samples / s |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
infer "1 rank x 1 thread" 1 1
infer "2 ranks x 1 thread" 2 1
infer "1 rank x 2 threads" 1 2
/usr/bin/python3 - "$root/scripts" "$work/infer_1_1/BenchCity_traffic.h5" "$work/infer_2_1/BenchCity_traffic.h5" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import h5py
import numpy as np
import results_h5
a, b = (h5py.File(p, "r") for p in sys.argv[2:])
same = all(np.array_equal(results_h5.cells(a, s)["samples"], results_h5.cells(b, s)["samples"])
           for s in ("2000m", "1000m", "500m"))
print()
print("2-rank samples " + ("= 1-rank samples, bit for bit" if same else "DIFFER from 1-rank samples") + " (all three scales)")
PY
