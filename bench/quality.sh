#!/usr/bin/env bash
# The quality protocol (issue 18): ZoomDiff against the three EVAL.md baselines over several seeds,
# every metric with its mean and 95 % interval, on
#   uomo    real held-out places: a UoMo-format .npz (default UoMo SD), whole places held out
#           (uomo_import --holdout_locations 6 --holdout_seed <seed>): the training seed AND the
#           held-out draw vary with the seed; generated zero-shot for the held-out places,
#           --calibration template_quantile (training places' statistics only, never the test
#           patches'; QUALITY_UOMO_CALIBRATION to change)
#   sample  the bundled sample city, in-sample (the main job's own demo: trained and scored on the
#           city's 8 tiles), and part sample_heldout: the same samples scored on the tiles the
#           training run held out (zoomdiff_eval --tiles valid; the baselines leave them out too)
# then bench/quality_summary.py prints one table per part, scale and datatype (and the targets).
#
# usage: bench/quality.sh [out_dir]                      (default out/quality)
# env:   QUALITY_SEEDS       seeds (default "1 2 3"; at least 3 for an interval worth reading)
#        QUALITY_PARTS       "uomo sample" (default both)
#        QUALITY_DATATYPES   "traffic user" (default both)
#        QUALITY_NPZ         any UoMo-format .npz (default tests/data/uomo_patches_traffic_users_poi/uomo_SD_series.npz)
#        QUALITY_HOLDOUT     places held out per draw (default 6)
#        QUALITY_UOMO_CONFIG, QUALITY_SAMPLE_CONFIG   configs (default configs/uomo.yaml, sample.yaml)
#        QUALITY_TRAIN_FLAGS extra zoomdiff_train flags (e.g. "--epochs 60")
#        QUALITY_INFER_FLAGS extra zoomdiff_infer flags (e.g. "--segment_start noise": an ablation
#                            that reuses the trained models of another out_dir via QUALITY_RUNS)
#        QUALITY_RUNS        folder whose runs/ to reuse instead of training (ablations of sampling)
#        QUALITY_NSAMPLE     samples per tile (default 10; CRPS needs 10)
#        QUALITY_SAMPLE_CALIBRATION  the sample part's --calibration (default template_spatial, as the main
#                            job; none is the training scaler, template the reference's)
#        QUALITY_UOMO_CALIBRATION    the uomo part's --calibration (default template_quantile: the training
#                            places' statistics only, never the held-out ones; template_spatial: the fourth round's; none: the training scaler)
#        QUALITY_THREADS     --threads of training and sampling (default: all cores)
#        ZOOMDIFF_BUILD_DIR  (default build)
# Finished steps are reused (a run with model.pt, a results file, a metrics.json); delete to redo.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ZOOMDIFF_BUILD_DIR:-$root/build}
out=$(mkdir -p "${1:-$root/out/quality}" && cd "${1:-$root/out/quality}" && pwd)
seeds=${QUALITY_SEEDS:-1 2 3}
parts=${QUALITY_PARTS:-uomo sample}
datatypes=${QUALITY_DATATYPES:-traffic user}
npz=${QUALITY_NPZ:-$root/tests/data/uomo_patches_traffic_users_poi/uomo_SD_series.npz}
holdout=${QUALITY_HOLDOUT:-6}
uomo_config=${QUALITY_UOMO_CONFIG:-$root/configs/uomo.yaml}
sample_config=${QUALITY_SAMPLE_CONFIG:-$root/configs/sample.yaml}
nsample=${QUALITY_NSAMPLE:-10}
sample_calibration=${QUALITY_SAMPLE_CALIBRATION:-template_spatial}
uomo_calibration=${QUALITY_UOMO_CALIBRATION:-template_quantile}
runs_from=${QUALITY_RUNS:-$out}
read -r -a train_flags <<< "${QUALITY_TRAIN_FLAGS:-}"
read -r -a infer_flags <<< "${QUALITY_INFER_FLAGS:-}"
sample=$root/data/sample
quiet=(-q --progress never)
threads=()
[ -n "${QUALITY_THREADS:-}" ] && threads=(--threads "$QUALITY_THREADS")

for tool in grid_meta env_extra uomo_import zoomdiff_train zoomdiff_infer zoomdiff_eval; do
  [ -x "$build/$tool" ] || { echo "quality.sh: $build/$tool is not built (scripts/build.sh)" >&2; exit 2; }
done
case " $parts " in *" uomo "*) [ -f "$npz" ] || { echo "quality.sh: $npz not found: set QUALITY_NPZ to a UoMo-format .npz" >&2; exit 2; } ;; esac
{
  echo "seeds: $seeds"; echo "parts: $parts"; echo "datatypes: $datatypes"; echo "npz: $npz"
  echo "holdout: $holdout"; echo "uomo_config: $uomo_config"; echo "sample_config: $sample_config"
  echo "train_flags: ${QUALITY_TRAIN_FLAGS:-}"; echo "infer_flags: ${QUALITY_INFER_FLAGS:-}"
  echo "runs_from: $runs_from"; echo "nsample: $nsample"; echo "sample_calibration: $sample_calibration"; echo "uomo_calibration: $uomo_calibration"; echo "threads: ${QUALITY_THREADS:-all cores}"; echo "commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
} > "$out/protocol.txt"
now() { date +%s; }

# train <run> <dataset> <datatype> <data_root> <config> <seed>: a finished run is reused.
train() {
  local run=$1
  [ -f "$run/model.pt" ] && return 0
  if [ "$runs_from" != "$out" ]; then
    echo "quality.sh: $run is missing and QUALITY_RUNS is set: train it first" >&2
    exit 2
  fi
  rm -rf "$run"
  local t0; t0=$(now)
  "$build/zoomdiff_train" --dataset "$2" --datatype "$3" --data_root "$4" --config "$5" --seed "$6" \
    "${train_flags[@]}" "${threads[@]}" --out "$run" "${quiet[@]}"
  echo "quality.sh: trained $run in $(( $(now) - t0 )) s"
}

# generate_and_score <part_dir> <run> <city> <datatype> <data_root> <seed> <calibration> <eval flags...>
generate_and_score() {
  local dir=$1 run=$2 city=$3 dt=$4 data=$5 seed=$6 calibration=$7
  shift 7
  local result=$dir/results/${city}_$dt.h5
  if [ ! -f "$result" ]; then
    local t0; t0=$(now)
    "$build/zoomdiff_infer" --dataset "$city" --datatype "$dt" --data_root "$data" --modelfolder "$run" \
      --nsample "$nsample" --calibration "$calibration" --format h5 --seed "$seed" "${infer_flags[@]}" "${threads[@]}" \
      --out "$dir/results" "${quiet[@]}"
    echo "quality.sh: sampled $result in $(( $(now) - t0 )) s"
  fi
  local eval_dir=$dir/eval/$dt
  if [ ! -f "$eval_dir/metrics.json" ] || [ "$result" -nt "$eval_dir/metrics.json" ]; then
    "$build/zoomdiff_eval" --real "$data/$city/data/${city}_${dt}_data.h5" --generated "$result" --baselines \
      --seed "$seed" --out "$eval_dir" "$@" "${quiet[@]}"
  fi
}

for seed in $seeds; do
  for part in $parts; do
    dir=$out/$part/seed$seed
    runs=$runs_from/$part/seed$seed/runs
    mkdir -p "$dir"
    case "$part" in
      uomo)
        data=$runs_from/uomo/seed$seed/data
        if [ ! -d "$data/UoMoQTest" ]; then
          "$build/uomo_import" --npz "$npz" --city UoMoQ --holdout_locations "$holdout" --holdout_seed "$seed" \
            --part train --out_root "$data" "${quiet[@]}"
          "$build/uomo_import" --npz "$npz" --city UoMoQTest --holdout_locations "$holdout" --holdout_seed "$seed" \
            --part test --out_root "$data" "${quiet[@]}"
        fi
        for dt in $datatypes; do
          train "$runs/UoMoQ_$dt" UoMoQ "$dt" "$data" "$uomo_config" "$seed"
          generate_and_score "$dir" "$runs/UoMoQ_$dt" UoMoQTest "$dt" "$data" "$seed" "$uomo_calibration" \
            --train "$data/UoMoQ/data/UoMoQ_${dt}_data.h5"
        done ;;
      sample)
        # The data are the main job's (grid_meta seed 1): only training and sampling vary by seed.
        data=$runs_from/sample/data
        for dt in $datatypes; do
          f=$data/Nanchang/data/Nanchang_${dt}_data.h5
          [ -f "$f" ] || "$build/grid_meta" --cityname Nanchang --province Jiangxi --datatype "$dt" \
            --data_path "$sample/stations_$dt.csv" --shp_path "$sample/boundary/nanchang_sample.shp" \
            --pop_path "$sample/population.tif" --seed 1 --out "$f" "${quiet[@]}"
        done
        [ -f "$data/Nanchang/cond/Nanchang_cond.h5" ] || "$build/env_extra" --cityname Nanchang --province Jiangxi \
          --shp_path "$sample/boundary/nanchang_sample.shp" --pop_path "$sample/population.tif" \
          --osm_dir "$sample/OSM_Jiangxi" --poi_dir "$sample/POI_Nanchang" \
          --out "$data/Nanchang/cond/Nanchang_cond.h5" "${quiet[@]}"
        for dt in $datatypes; do
          train "$runs/Nanchang_$dt" Nanchang "$dt" "$data" "$sample_config" "$seed"
          # As the main job: the city's own scale (or QUALITY_SAMPLE_CALIBRATION), scored inside the mask.
          generate_and_score "$dir" "$runs/Nanchang_$dt" Nanchang "$dt" "$data" "$seed" "$sample_calibration" --mask
          # The same samples on the tiles training held out (the run's valid split; the
          # baselines leave them out too): part sample_heldout of the tables.
          heldout=$out/sample_heldout/seed$seed/eval/$dt
          if [ ! -f "$heldout/metrics.json" ] || [ "$dir/results/Nanchang_$dt.h5" -nt "$heldout/metrics.json" ]; then
            "$build/zoomdiff_eval" --real "$data/Nanchang/data/Nanchang_${dt}_data.h5" \
              --generated "$dir/results/Nanchang_$dt.h5" --baselines --mask --tiles valid --seed "$seed" \
              --out "$heldout" "${quiet[@]}"
          fi
        done ;;
      *) echo "quality.sh: unknown part '$part' (uomo, sample)" >&2; exit 2 ;;
    esac
  done
done
python3 "$root/bench/quality_summary.py" "$out" | tee "$out/quality_table.md"
