#!/usr/bin/env bash
# The reference's src/Grid_meta_gen.sh: grid_meta for one or more cities and datatypes, with the
# reference's paths (raw station files under ZoomDiff/datasets/cities/<City>/raw_data_for_train/).
#
#   scripts/Grid_meta_gen.sh                       # Nanchang / Jiangxi / traffic, as the reference
#   scripts/Grid_meta_gen.sh Nanchang:traffic Nanchang:user Nanjing:traffic
#   ZOOMDIFF_JOBS=2 scripts/Grid_meta_gen.sh ...   # cities run concurrently
# SHP_PATH and POP_PATH override the reference's boundary file and population raster; SEED sets
# --seed (default 0); further flags go in GRID_META_FLAGS (e.g. "--layout reference -q").
set -euo pipefail
source "$(dirname "$0")/city_jobs.sh"
grid_meta=$(tool_path grid_meta)
seed=${SEED:-0}
[ $# -eq 0 ] && set -- Nanchang:traffic

run_one() {
  local city=${1%%:*} datatype=${1#*:}
  [ "$datatype" = "$1" ] && datatype=traffic
  # shellcheck disable=SC2086  # GRID_META_FLAGS is a flag list
  "$grid_meta" --cityname "$city" --province Jiangxi --datatype "$datatype" \
    --shp_path "$shp" --pop_path "$pop" --seed "$seed" --progress never ${GRID_META_FLAGS:-}
}
export -f run_one
export grid_meta shp pop seed
for_each_job run_one "$@"
