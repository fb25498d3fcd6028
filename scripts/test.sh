#!/usr/bin/env bash
# README's second command: set-up, the style gates (torch includes, clang-format), build, then the
# whole test suite (unit, golden, end-to-end).
# ZOOMDIFF_GOLDEN_DIR picks the golden folder (default tests/data/golden).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ZOOMDIFF_BUILD_DIR:-$root/build}
"$root/scripts/check_torch_includes.sh"
"$root/scripts/check_layers.sh"
"$root/scripts/setup.sh"
"$root/scripts/check_format.sh"
"$root/scripts/build.sh"
cd "$build"
ctest --output-on-failure -j "$(nproc)" "$@"
