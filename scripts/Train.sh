#!/usr/bin/env bash
# Train ZoomDiff on a city list for both datatypes (the reference's training step, one run folder
# per datatype). Usage: scripts/Train.sh "Nanchang*Nanjing" [zoomdiff_train flags...]
# e.g. scripts/Train.sh "Nanchang*Nanjing" --data_root ZoomDiff/datasets/cities --device cuda:0
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ZOOMDIFF_BUILD_DIR:-$root/build}
dataset=${1:?usage: Train.sh "CityA*CityB" [zoomdiff_train flags...]}
shift
for datatype in ${ZOOMDIFF_DATATYPES:-traffic user}; do
  "$build/zoomdiff_train" --dataset "$dataset" --datatype "$datatype" "$@"
done
