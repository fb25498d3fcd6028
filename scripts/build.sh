#!/usr/bin/env bash
# Configures and builds zoomdiff into ${ZOOMDIFF_BUILD_DIR:-build} (after scripts/setup.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ZOOMDIFF_BUILD_DIR:-$root/build}
"$root/scripts/setup.sh"
jobs=${ZOOMDIFF_JOBS:-$(nproc)}
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=${ZOOMDIFF_BUILD_TYPE:-RelWithDebInfo} >/dev/null
fi
cmake --build "$build" -j "$jobs" -- --no-print-directory >/dev/null
