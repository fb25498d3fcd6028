#!/usr/bin/env bash
# The real-data table (issue 8): ZoomDiff trained on the UoMo SD patches with POI-only conditions
# (configs/uomo.yaml), evaluated zero-shot on the held-out test patches against the baselines.
#
#   1. uomo_import, by ZOOMDIFF_UOMO_SPLIT:
#      locations (default): 6 places held out (--holdout_locations 6 --holdout_seed 1; a place = the
#        patches with identical POI blocks: SD's 45 patches are 33 places, and every upstream val /
#        test patch repeats a train patch's place with a week < 1 % different). UoMoSDLoc = every
#        patch of the 27 other places (upstream val patches validate), UoMoSDLocTest = one patch
#        per held-out place: generation for places the model never saw.
#      upstream: the issue's literal split: UoMoSD = upstream train + val patches (/split_2000m:
#        train 0, val 1), UoMoSDTest = the 6 upstream test patches (their places are in training).
#   2. zoomdiff_train, traffic and user, fixed --seed (printed)
#   3. zoomdiff_infer on UoMoSDTest, --nsample 10, --format h5 (a city of patches has no map),
#      --calibration none: the generated values are the training scaler's inverse (UoMoSD's
#      clipped min / max; the population ratio is 1, poi_only reads no population). It uses the
#      training city's statistics only, never the test patches'. (--calibration template would
#      rescale to UoMoSD's mean and peak-to-mean instead; set ZOOMDIFF_UOMO_CALIBRATION=template.)
#   4. zoomdiff_eval --real <test data> --generated <results> --baselines --train <UoMoSD data>
#      (metrics.json, metrics.md per datatype), when the tool is built
#   5. both metrics.md collected into <out>/uomo_table.md
#
# usage: bench/uomo_table.sh [out_dir]      env: ZOOMDIFF_UOMO_SPLIT (locations | upstream), ZOOMDIFF_BUILD_DIR (default build), ZOOMDIFF_UOMO_NPZ,
#        ZOOMDIFF_UOMO_SEED (default 1), ZOOMDIFF_UOMO_THREADS (default nproc), ZOOMDIFF_UOMO_CONFIG
#        (default configs/uomo.yaml), ZOOMDIFF_UOMO_EPOCHS (override train.epochs, for a quick run)
# Reuses finished steps (a run folder with model.pt, an existing results file); delete <out_dir> to redo.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ZOOMDIFF_BUILD_DIR:-$root/build}
npz=${ZOOMDIFF_UOMO_NPZ:-$root/tests/data/uomo_patches_traffic_users_poi/uomo_SD_series.npz}
out=${1:-$root/out/uomo}
seed=${ZOOMDIFF_UOMO_SEED:-1}
threads=${ZOOMDIFF_UOMO_THREADS:-$(nproc)}
config=${ZOOMDIFF_UOMO_CONFIG:-$root/configs/uomo.yaml}
calibration=${ZOOMDIFF_UOMO_CALIBRATION:-none}
split=${ZOOMDIFF_UOMO_SPLIT:-locations}
epochs_flag=()
[ -n "${ZOOMDIFF_UOMO_EPOCHS:-}" ] && epochs_flag=(--epochs "$ZOOMDIFF_UOMO_EPOCHS")
data=$out/data
mkdir -p "$out"
timings=$out/timings.md

for tool in uomo_import zoomdiff_train zoomdiff_infer; do
  [ -x "$build/$tool" ] || { echo "uomo_table.sh: $build/$tool is not built (cmake --build $build --target $tool)" >&2; exit 2; }
done

echo "uomo_table.sh: npz $npz, config $config, seed $seed, threads $threads, calibration $calibration, out $out"
case "$split" in
  locations)
    train_city=UoMoSDLoc test_city=UoMoSDLocTest
    "$build/uomo_import" --npz "$npz" --city $train_city --holdout_locations 6 --holdout_seed 1 --part train \
      --out_root "$data" -q --progress never
    "$build/uomo_import" --npz "$npz" --city $test_city --holdout_locations 6 --holdout_seed 1 --part test \
      --out_root "$data" -q --progress never
    split_text="6 of 33 places held out (seed 1): trained on the 36 patches of the other 27 places (31 train, 5 validation), generated for one patch of each held-out place" ;;
  upstream)
    train_city=UoMoSD test_city=UoMoSDTest
    "$build/uomo_import" --npz "$npz" --city $train_city --splits train,val --out_root "$data" -q --progress never
    "$build/uomo_import" --npz "$npz" --city $test_city --splits test --out_root "$data" -q --progress never
    split_text="upstream split: trained on UoMoSD (33 train / 6 validation patches), generated for the 6 upstream test patches, whose places are all in training (a < 1 % different week of 6 train patches)" ;;
  *) echo "uomo_table.sh: ZOOMDIFF_UOMO_SPLIT must be locations or upstream, not '$split'" >&2; exit 2 ;;
esac

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
echo "| datatype | step | seconds | threads |" > "$timings"
echo "| --- | --- | ---: | ---: |" >> "$timings"

for dt in traffic user; do
  run=$out/runs/${train_city}_$dt
  if [ ! -f "$run/model.pt" ]; then
    rm -rf "$run"
    echo "uomo_table.sh: training $dt (seed $seed)"
    t0=$(now)
    "$build/zoomdiff_train" --dataset $train_city --datatype "$dt" --data_root "$data" --config "$config" \
      "${epochs_flag[@]}" --out "$run" --seed "$seed" --threads "$threads" -q --progress never
    t1=$(now)
    echo "| $dt | zoomdiff_train | $(secs "$t0" "$t1") | $threads |" >> "$timings"
  fi
  result=$out/results/${test_city}_$dt.h5
  if [ ! -f "$result" ]; then
    echo "uomo_table.sh: generating $dt for $test_city (10 samples per tile)"
    t0=$(now)
    "$build/zoomdiff_infer" --dataset $test_city --datatype "$dt" --data_root "$data" --modelfolder "$run" \
      --nsample 10 --calibration "$calibration" --format h5 --out "$out/results" --seed "$seed" \
      --threads "$threads" -q --progress never
    t1=$(now)
    echo "| $dt | zoomdiff_infer (6 tiles x 10 samples) | $(secs "$t0" "$t1") | $threads |" >> "$timings"
  fi
done
cat "$timings"

if [ ! -x "$build/zoomdiff_eval" ]; then
  echo "uomo_table.sh: $build/zoomdiff_eval is not built: models and generated files are in $out; no table" >&2
  exit 0
fi
table=$out/uomo_table.md
{
  echo "# ZoomDiff on UoMo SD (POI-only conditions), split: $split"
  echo
  echo "$split_text;"
  echo "10 samples per tile, calibration $calibration, seed $seed, config $(basename "$config")."
  echo "Data: tsinghua-fib-lab/UoMo (MIT, (c) 2025 FIB LAB, Tsinghua University); units undocumented upstream."
} > "$table"
for dt in traffic user; do
  eval_dir=$out/eval/$dt
  "$build/zoomdiff_eval" --real "$data/$test_city/data/${test_city}_${dt}_data.h5" \
    --generated "$out/results/${test_city}_$dt.h5" --baselines --seed "$seed" \
    --train "$data/$train_city/data/${train_city}_${dt}_data.h5" --out "$eval_dir" -q --progress never
  { echo; echo "## $dt"; echo; cat "$eval_dir/metrics.md"; } >> "$table"
done
{ echo; echo "## Timings"; echo; cat "$timings"; } >> "$table"
# The README's compact form (500 m and 2000 m, both datatypes side by side).
python3 "$root/bench/uomo_summary.py" "$out" 500m 2000m > "$out/readme_table.md"
echo "uomo_table.sh: wrote $out/readme_table.md"
echo "uomo_table.sh: wrote $table"
