#!/usr/bin/env bash
# Configures and builds zoomdiff into ${ZOOMDIFF_BUILD_DIR:-build} (after scripts/setup.sh).
#   --tools  only the six tools and their man pages (what scripts/run_sample.sh needs), not the
#            test binaries and benches
# One line per phase with its duration; on failure prints the end of the build log.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ZOOMDIFF_BUILD_DIR:-$root/build}
targets=()
for arg in "$@"; do
  case "$arg" in
    --tools) targets=(grid_meta env_extra zoomdiff_train zoomdiff_infer zoomdiff_eval uomo_import man_pages) ;;
    *) echo "build: unknown argument '$arg' (use --tools)" >&2; exit 2 ;;
  esac
done
phase() { echo "build: $1 ($(( SECONDS - $2 )) s)" >&2; }

t=$SECONDS
"$root/scripts/setup.sh"
phase "packages checked" "$t"
jobs=${ZOOMDIFF_JOBS:-$(nproc)}
mkdir -p "$build"
log="$build/build.log"
failed() {
  echo "build: $1 failed; the end of $log:" >&2
  tail -n 60 "$log" >&2
  exit 1
}
if [ ! -f "$build/CMakeCache.txt" ]; then
  t=$SECONDS
  echo "build: configuring $build" >&2
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${ZOOMDIFF_BUILD_TYPE:-RelWithDebInfo}" >"$log" 2>&1 || failed configure
  phase "configured" "$t"
fi
t=$SECONDS
what=${targets[*]:-every target}
echo "build: compiling ${what// man_pages/} with $jobs jobs (a first build takes several minutes; log: $log)" >&2
if [ ${#targets[@]} -gt 0 ]; then
  cmake --build "$build" -j "$jobs" --target "${targets[@]}" >>"$log" 2>&1 || failed compile
else
  cmake --build "$build" -j "$jobs" >>"$log" 2>&1 || failed compile
fi
phase "built" "$t"
