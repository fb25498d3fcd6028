#!/usr/bin/env bash
# Training throughput of data-parallel zoomdiff_train on this machine (issue 10): 1 rank x 1
# thread, 2 local ranks x 1 thread (loopback Gloo) and 1 rank x 2 threads, same global batch,
# same seed, on the sample city's tiles repeated to 160 (bench/make_bench_city.py, 128 train
# tiles). Prints a markdown table of seconds per step and tiles (samples) per second per config.
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
