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
source "$(dirname "$0")/city_jobs.sh"
env_extra=$(tool_path env_extra)
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
for_each_job run_one "$@"
