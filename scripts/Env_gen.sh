#!/usr/bin/env bash
# The reference's src/Env_gen.sh: env_extra for one or more cities, with the reference's paths.
#
#   scripts/Env_gen.sh                          # Nanchang / Jiangxi, as the reference's script
#   scripts/Env_gen.sh Nanchang:Jiangxi Wuhan:Hubei
#   ZOOMDIFF_JOBS=4 scripts/Env_gen.sh ...      # cities run concurrently (nothing is shared
#                                               # but the output folders, DESIGN §6)
# SHP_PATH and POP_PATH override the reference's boundary file and population raster; any further
# env_extra flags go in ENV_EXTRA_FLAGS (e.g. "--boundary_field ENG_NAME -q").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
env_extra=${ZOOMDIFF_BUILD_DIR:-$root/build}/env_extra
[ -x "$env_extra" ] || "$root/scripts/build.sh"
shp=${SHP_PATH:-./ZoomDiff/datasets/_shared_geographic_data/China_city_boundaries/china_city_boundaries_2024.shp}
pop=${POP_PATH:-./ZoomDiff/datasets/_shared_geographic_data/chn_ppp_2020_constrained.tif}
[ $# -eq 0 ] && set -- Nanchang:Jiangxi

run_one() {
  local city=${1%%:*} province=${1#*:}
  [ "$province" = "$1" ] && province=Jiangxi
  # shellcheck disable=SC2086  # ENV_EXTRA_FLAGS is a flag list
  "$env_extra" --cityname "$city" --province "$province" --shp_path "$shp" --pop_path "$pop" \
    --progress never ${ENV_EXTRA_FLAGS:-}
}
export -f run_one
export env_extra shp pop
printf '%s\n' "$@" | xargs -P "${ZOOMDIFF_JOBS:-1}" -I{} bash -c 'run_one "$@"' _ {}
