#!/usr/bin/env bash
# README's first command: the main job end to end on the bundled sample city (data/sample),
# installing and building what is missing. Outputs go to ${ZOOMDIFF_SAMPLE_OUT:-out/sample}.
# The chain: grid_meta (traffic, user) → env_extra → zoomdiff_train (configs/sample.yaml, both
# datatypes) → zoomdiff_infer (three scales, h5 + npz + GeoTIFF + PNG) → zoomdiff_eval (every
# EVAL.md metric against the three baselines, metrics.json + metrics.md + PNG plots).
#   --force  redo everything (by default a second run reuses what is complete and resumes an
#            interrupted training run)
#   --quick  the reduced size CI runs (e2e.run_sample): 12 epochs, 2 samples per tile (CRPS, which
#            needs 10, is then reported as n/a); outputs default to out/sample_quick
# ZOOMDIFF_SEED (default 1) seeds every step; ZOOMDIFF_NSAMPLE (default 10) sets the full run's samples;
# ZOOMDIFF_CALIBRATION (default template_spatial; none: the city's own training scaler; template: the
# reference's).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ZOOMDIFF_BUILD_DIR:-$root/build}
force=0 quick=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    --quick) quick=1 ;;
    *) echo "run_sample: unknown argument '$arg' (use --force and/or --quick)" >&2; exit 2 ;;
  esac
done
seed=${ZOOMDIFF_SEED:-1}
if [ $quick -eq 1 ]; then
  out=${ZOOMDIFF_SAMPLE_OUT:-$root/out/sample_quick}
  train_size=(--epochs 12 --valid_interval 6)
  nsample=2
else
  out=${ZOOMDIFF_SAMPLE_OUT:-$root/out/sample}
  train_size=()
  nsample=${ZOOMDIFF_NSAMPLE:-10}
fi
started=$SECONDS
# One line when a phase starts and one with its duration when it ends.
phase_t=$SECONDS
phase() { phase_t=$SECONDS; echo "run_sample: [$1] $2" >&2; }
phase_done() { echo "run_sample: [$1] done in $(( SECONDS - phase_t )) s" >&2; }

# ZOOMDIFF_SKIP_BUILD=1: use the tools already in $build (the ctest entry e2e.run_sample does).
if [ "${ZOOMDIFF_SKIP_BUILD:-0}" != 1 ]; then
  phase build "installing missing packages and building the six tools (not the tests)"
  "$root/scripts/build.sh" --tools
  phase_done build
fi
sample="$root/data/sample"
mkdir -p "$out"

phase grid_meta "station series -> 500 m training targets, traffic and user"
for datatype in traffic user; do
  data="$out/Nanchang/data/Nanchang_${datatype}_data.h5"
  if [ $force -eq 1 ] || [ ! -f "$data" ]; then
    "$build/grid_meta" --cityname Nanchang --province Jiangxi --datatype "$datatype" \
      --data_path "$sample/stations_${datatype}.csv" \
      --shp_path "$sample/boundary/nanchang_sample.shp" \
      --pop_path "$sample/population.tif" \
      --seed "$seed" \
      --out "$data"
  else
    echo "run_sample: $data is complete; reusing it (--force to redo)" >&2
  fi
done

phase_done grid_meta

phase env_extra "population, OSM and POI -> grid conditions"
cond="$out/Nanchang/cond/Nanchang_cond.h5"
if [ $force -eq 1 ] || [ ! -f "$cond" ]; then
  "$build/env_extra" --cityname Nanchang --province Jiangxi \
    --shp_path "$sample/boundary/nanchang_sample.shp" \
    --pop_path "$sample/population.tif" \
    --osm_dir "$sample/OSM_Jiangxi" \
    --poi_dir "$sample/POI_Nanchang" \
    --out "$cond"
else
  echo "run_sample: $cond is complete; reusing it (--force to redo)" >&2
fi

phase_done env_extra

# A small model per datatype (configs/sample.yaml): a complete run is reused, an interrupted one resumed.
for datatype in traffic user; do
  phase "train $datatype" "zoomdiff_train, configs/sample.yaml (about 4-5 min on 2 cores)"
  run="$out/runs/Nanchang_${datatype}"
  [ $force -eq 1 ] && rm -rf "$run"
  if [ -f "$run/model.pt" ] && grep -q '"status": "complete"' "$run/manifest.json" 2>/dev/null; then
    echo "run_sample: $run is complete; reusing it (--force to redo)" >&2
  elif [ -f "$run/checkpoint/last.pt" ]; then
    "$build/zoomdiff_train" --resume "$run"
  else
    rm -rf "$run"
    "$build/zoomdiff_train" --dataset Nanchang --datatype "$datatype" --data_root "$out" \
      --config sample.yaml "${train_size[@]}" --seed "$seed" --out "$run"
  fi
  phase_done "train $datatype"
done

# Maps of the sample city at 2000, 1000 and 500 m from each model (complete outputs are reused).
# Calibration template_spatial: the template city's mean and peak-to-mean reached by a power on each
# cell's weekly mean, so every cell keeps the model's daily shape while the contrast between cells,
# which these small models compress, is restored (3 seeds: weekly-profile L1 9.4, |dACF24| 0.098,
# value JSD 0.007; the reference's template bends the profile, L1 ~29, and none keeps the
# compressed contrast, value JSD 0.068: docs/recipe.md). ZOOMDIFF_CALIBRATION=template runs the
# reference's.
calibration=${ZOOMDIFF_CALIBRATION:-template_spatial}
results="$out/results"
phase infer "zoomdiff_infer: $nsample samples per tile, three scales, both datatypes"
for datatype in traffic user; do
  infer_force=()
  [ $force -eq 1 ] && infer_force=(--force)
  "$build/zoomdiff_infer" --dataset Nanchang --datatype "$datatype" --data_root "$out" \
    --modelfolder "$out/runs/Nanchang_${datatype}" --nsample "$nsample" --format h5,npz,geotiff \
    --calibration "$calibration" --shp_path "$sample/boundary/nanchang_sample.shp" --seed "$seed" --out "$results" \
    "${infer_force[@]}"
done

phase_done infer

# Every EVAL.md metric at the three scales, against the three baselines (training set: the
# model's training city, read from the run's manifest), with plots.
phase eval "zoomdiff_eval: every metric against the baselines, with plots"
for datatype in traffic user; do
  eval_dir="$out/eval/Nanchang_${datatype}"
  generated="$results/Nanchang_${datatype}.h5"
  if [ $force -eq 0 ] && [ -f "$eval_dir/metrics.json" ] && [ "$eval_dir/metrics.json" -nt "$generated" ]; then
    echo "run_sample: $eval_dir is complete; reusing it (--force to redo)" >&2
    continue
  fi
  "$build/zoomdiff_eval" --real "$out/Nanchang/data/Nanchang_${datatype}_data.h5" --generated "$generated" \
    --mask --baselines --seed "$seed" --out "$eval_dir" -q
done
# Publication figures (PDF, SVG) from the numbers eval saved, where matplotlib is installed.
if /usr/bin/python3 -c "import matplotlib, numpy" 2>/dev/null; then
  for datatype in traffic user; do
    /usr/bin/python3 "$root/scripts/plot_eval.py" "$out/eval/Nanchang_${datatype}" >&2
  done
  figures="$out/eval/Nanchang_{traffic,user}/figures/*.{pdf,svg}"
else
  figures="(skipped: apt-get install python3-matplotlib, then scripts/plot_eval.py <eval folder>)"
fi

phase_done eval

# Every promised output must be there and non-empty (a tool that exits 0 without writing fails here).
for datatype in traffic user; do
  for f in "$results/Nanchang_${datatype}.h5" "$results/Nanchang_500m_${datatype}.npz" \
           "$results/maps/Nanchang_${datatype}_500m.tif" "$results/maps/Nanchang_${datatype}_500m_mean.png" \
           "$out/eval/Nanchang_${datatype}/metrics.json" "$out/eval/Nanchang_${datatype}/metrics.md"; do
    [ -s "$f" ] || { echo "run_sample: expected output $f is missing or empty" >&2; exit 1; }
  done
  ls "$out/eval/Nanchang_${datatype}/plots/"*.png >/dev/null 2>&1 ||
    { echo "run_sample: no plots in $out/eval/Nanchang_${datatype}/plots" >&2; exit 1; }
  case "$figures" in
    "(skipped"*) ;;
    *) [ -s "$out/eval/Nanchang_${datatype}/figures/500m_weekly_profile.pdf" ] ||
         { echo "run_sample: scripts/plot_eval.py wrote no figures for $datatype" >&2; exit 1; } ;;
  esac
done

echo "run_sample: done in $((SECONDS - started)) s; outputs"
echo "  traffic targets (grid_meta): $out/Nanchang/data/Nanchang_traffic_data.h5"
echo "  user targets (grid_meta):    $out/Nanchang/data/Nanchang_user_data.h5"
echo "  conditions (env_extra):      $cond"
echo "  traffic model (zoomdiff_train): $out/runs/Nanchang_traffic (train_log.csv, model.pt)"
echo "  user model (zoomdiff_train):    $out/runs/Nanchang_user"
echo "  maps (zoomdiff_infer):          $results/Nanchang_{traffic,user}.h5, Nanchang_500m_*.npz, maps/*.tif, maps/*.png"
echo "  metrics (zoomdiff_eval):        $out/eval/Nanchang_{traffic,user}/metrics.{json,md}, plots/*.{png,csv}"
echo "  figures (scripts/plot_eval.py): $figures"
