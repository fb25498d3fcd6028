#!/usr/bin/env bash
# OpenMP's wait policy under load (issue 22): libgomp reads OMP_WAIT_POLICY and GOMP_SPINCOUNT
# once, when it loads, so they cannot be set from inside a tool. This bench trains the sample
# config for a few epochs with all cores' threads, on an idle machine and beside one busy process
# (another build or training: the usual case on a shared 2-core machine), under each setting, and
# prints seconds per epoch. One busy loop per extra load level.
# usage: bench/omp_wait_bench.sh [epochs]   (after scripts/run_sample.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ZOOMDIFF_BUILD_DIR:-$root/build}
sample=${ZOOMDIFF_SAMPLE_OUT:-$root/out/sample}
epochs=${1:-30}
threads=${ZOOMDIFF_BENCH_THREADS:-$(nproc)}
work=$(mktemp -d)
busy=()
cleanup() { for p in "${busy[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# seconds per epoch of one short training under the environment given as arguments
epoch_seconds() {
  rm -rf "$work/run"
  env "$@" "$build/zoomdiff_train" --dataset Nanchang --data_root "$sample" --config sample.yaml --epochs "$epochs" \
    --valid_interval 0 --threads "$threads" --out "$work/run" -q --progress never
  /usr/bin/python3 -c "
import csv,sys
rows=list(csv.DictReader(open('$work/run/train_log.csv')))[2:]
print(f'{sum(float(r[\"seconds\"]) for r in rows)/len(rows):.3f}')"
}

echo "| setting | idle: s / epoch | beside 1 busy process: s / epoch |"
echo "| --- | ---: | ---: |"
# (The torch tools re-execute themselves with OMP_WAIT_POLICY=PASSIVE when neither variable is set,
# so every row sets one: ACTIVE is libgomp's spinning, PASSIVE the tools' default.)
for setting in "OMP_WAIT_POLICY=ACTIVE" "OMP_WAIT_POLICY=PASSIVE" "GOMP_SPINCOUNT=10000"; do
  envs=("$setting")
  idle=$(epoch_seconds "${envs[@]}")
  sh -c 'while :; do :; done' & busy=($!)
  loaded=$(epoch_seconds "${envs[@]}")
  kill "${busy[0]}"; wait "${busy[0]}" 2>/dev/null || true; busy=()
  echo "| $setting | $idle | $loaded |"
done
