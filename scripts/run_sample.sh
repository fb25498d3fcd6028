#!/usr/bin/env bash
# README's first command: the main job end to end on the bundled sample city (data/sample),
# installing and building what is missing. Outputs go to ${ZOOMDIFF_SAMPLE_OUT:-out/sample}.
# A second run reuses what is complete (pass --force to redo everything).
# The chain: grid_meta (traffic, user) → env_extra → zoomdiff_train (configs/sample.yaml, both
# datatypes) → zoomdiff_infer (three scales, h5 + npz + GeoTIFF + PNG); eval joins as it lands.
# An interrupted training run is resumed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ZOOMDIFF_BUILD_DIR:-$root/build}
out=${ZOOMDIFF_SAMPLE_OUT:-$root/out/sample}
force=0
[ "${1:-}" = "--force" ] && force=1

# ZOOMDIFF_SKIP_BUILD=1: use the tools already in $build (the ctest entry e2e.run_sample does).
[ "${ZOOMDIFF_SKIP_BUILD:-0}" = 1 ] || "$root/scripts/build.sh"
sample="$root/data/sample"
mkdir -p "$out"

for datatype in traffic user; do
  data="$out/Nanchang/data/Nanchang_${datatype}_data.h5"
  if [ $force -eq 1 ] || [ ! -f "$data" ]; then
    "$build/grid_meta" --cityname Nanchang --province Jiangxi --datatype "$datatype" \
      --data_path "$sample/stations_${datatype}.csv" \
      --shp_path "$sample/boundary/nanchang_sample.shp" \
      --pop_path "$sample/population.tif" \
      --seed "${ZOOMDIFF_SEED:-1}" \
      --out "$data"
  else
    echo "run_sample: $data is complete; reusing it (--force to redo)" >&2
  fi
done

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

# A small model per datatype (configs/sample.yaml): a complete run is reused, an interrupted one resumed.
for datatype in traffic user; do
  run="$out/runs/Nanchang_${datatype}"
  [ $force -eq 1 ] && rm -rf "$run"
  if [ -f "$run/model.pt" ] && grep -q '"status": "complete"' "$run/manifest.json" 2>/dev/null; then
    echo "run_sample: $run is complete; reusing it (--force to redo)" >&2
  elif [ -f "$run/checkpoint/last.pt" ]; then
    "$build/zoomdiff_train" --resume "$run"
  else
    rm -rf "$run"
    "$build/zoomdiff_train" --dataset Nanchang --datatype "$datatype" --data_root "$out" \
      --config sample.yaml --seed "${ZOOMDIFF_SEED:-1}" --out "$run"
  fi
done

# Maps of the sample city at 2000, 1000 and 500 m from each model (complete outputs are reused).
results="$out/results"
for datatype in traffic user; do
  infer_force=()
  [ $force -eq 1 ] && infer_force=(--force)
  "$build/zoomdiff_infer" --dataset Nanchang --datatype "$datatype" --data_root "$out" \
    --modelfolder "$out/runs/Nanchang_${datatype}" --nsample 2 --format h5,npz,geotiff \
    --shp_path "$sample/boundary/nanchang_sample.shp" --seed "${ZOOMDIFF_SEED:-1}" --out "$results" \
    "${infer_force[@]}"
done

echo "run_sample: outputs"
echo "  traffic targets (grid_meta): $out/Nanchang/data/Nanchang_traffic_data.h5"
echo "  user targets (grid_meta):    $out/Nanchang/data/Nanchang_user_data.h5"
echo "  conditions (env_extra):      $cond"
echo "  traffic model (zoomdiff_train): $out/runs/Nanchang_traffic (train_log.csv, model.pt)"
echo "  user model (zoomdiff_train):    $out/runs/Nanchang_user"
echo "  maps (zoomdiff_infer):          $results/Nanchang_{traffic,user}.h5, Nanchang_500m_*.npz, maps/*.tif, maps/*.png"
