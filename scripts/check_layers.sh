#!/usr/bin/env bash
# DESIGN.md §2: an arrow only points down the table of areas. Reads every `#include "zoomdiff/<area>/`
# of src/<area>/ and include/zoomdiff/<area>/ and fails on one that reaches an area above its own;
# checks too that each outside library stays in the area that owns it (libosmium and protozero in
# osm, CLI11 in cli and the tools; LibTorch is scripts/check_torch_includes.sh's). Prints each
# offending line; exit 1 if any.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# Top to bottom (DESIGN.md §2).
order=(cli pipeline eval model data io osm poi geo core)
rank_of() {
  local i
  for i in "${!order[@]}"; do
    if [ "${order[$i]}" = "$1" ]; then echo "$i"; return; fi
  done
  echo -1
}
status=0
for area in "${order[@]}"; do
  own=$(rank_of "$area")
  for dir in "src/$area" "include/zoomdiff/$area"; do
    [ -d "$dir" ] || continue
    while IFS= read -r line; do
      used=$(sed -E 's|.*#include[[:space:]]*"zoomdiff/([a-z_]+)/.*|\1|' <<<"$line")
      rank=$(rank_of "$used")
      if [ "$rank" -lt 0 ]; then
        echo "unknown area '$used' (add it to scripts/check_layers.sh and DESIGN.md §2): $line"
        status=1
      elif [ "$rank" -lt "$own" ]; then
        echo "$area reaches up to $used: $line"
        status=1
      fi
    done < <(grep -rnE '#include[[:space:]]*"zoomdiff/[a-z_]+/' "$dir" || true)
  done
done
# Areas present on disk but missing from the table.
for dir in src/* include/zoomdiff/*; do
  [ -d "$dir" ] || continue
  if [ "$(rank_of "$(basename "$dir")")" -lt 0 ]; then
    echo "area $(basename "$dir") is not in the table of scripts/check_layers.sh (DESIGN.md §2)"
    status=1
  fi
done
osmium=$(grep -rnE '#include[[:space:]]*<(osmium|protozero)/' src include | grep -vE '^(src|include/zoomdiff)/osm/' || true)
if [ -n "$osmium" ]; then echo "libosmium outside the osm area:"; echo "$osmium"; status=1; fi
cli11=$(grep -rnE '#include[[:space:]]*<CLI/' src include | grep -vE '^(src|include/zoomdiff)/cli/' || true)
if [ -n "$cli11" ]; then echo "CLI11 outside the cli area:"; echo "$cli11"; status=1; fi
exit $status
