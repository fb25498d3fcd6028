# Sourced by Env_gen.sh and Grid_meta_gen.sh: the tool lookup, the reference's default inputs and
# the per-city runner they share.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# tool_path NAME: the built tool, building the project first if it is missing.
tool_path() {
  local tool=${ZOOMDIFF_BUILD_DIR:-$root/build}/$1
  [ -x "$tool" ] || "$root/scripts/build.sh"
  echo "$tool"
}

# The reference's boundary file and population raster (relative to the working directory).
shp=${SHP_PATH:-./ZoomDiff/datasets/_shared_geographic_data/China_city_boundaries/china_city_boundaries_2024.shp}
pop=${POP_PATH:-./ZoomDiff/datasets/_shared_geographic_data/chn_ppp_2020_constrained.tif}

# for_each_job FUNCTION JOB...: FUNCTION JOB for every job, ZOOMDIFF_JOBS at a time (default 1).
# FUNCTION and the variables it reads must be exported.
for_each_job() {
  local fn=$1
  shift
  printf '%s\n' "$@" | xargs -P "${ZOOMDIFF_JOBS:-1}" -I{} bash -c "$fn \"\$@\"" _ {}
}
