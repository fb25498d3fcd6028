#!/usr/bin/env bash
# Configures and builds zoomdiff into ${ZOOMDIFF_BUILD_DIR:-build} (after scripts/setup.sh).
# Quiet on success; on failure prints the end of the build log.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ZOOMDIFF_BUILD_DIR:-$root/build}
"$root/scripts/setup.sh"
jobs=${ZOOMDIFF_JOBS:-$(nproc)}
mkdir -p "$build"
log="$build/build.log"
if ! { [ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${ZOOMDIFF_BUILD_TYPE:-RelWithDebInfo}"; } >"$log" 2>&1 ||
   ! cmake --build "$build" -j "$jobs" >>"$log" 2>&1; then
  echo "build: failed; the end of $log:" >&2
  tail -n 60 "$log" >&2
  exit 1
fi
