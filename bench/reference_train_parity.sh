#!/usr/bin/env bash
# Training parity with the official Python ZoomDiff (issue 18): trains and samples the reference
# (ZoomDiff_train.py from a MobileData checkout's ZoomDiff/ folder) and zoomdiff at one config and
# one seed on one prepared city, scores both with zoomdiff_eval and prints one Markdown table
# (reference | ours; also <out>/parity.md and parity.json). A thin wrapper around
# bench/reference_train_parity.py, run with Debian's /usr/bin/python3 (python3-torch 1.13,
# python3-h5py, python3-sklearn, python3-joblib, python3-tqdm, python3-yaml); every flag is passed on.
# usage: bench/reference_train_parity.sh --reference-dir <MobileData>/ZoomDiff --data_root <root> \
#          --dataset <City> [--config configs/sample.yaml] [--epochs N] [--nsample N] [--seed S] [--out DIR]
# e.g.   bench/reference_train_parity.sh --reference-dir /tmp/ref/ZoomDiff --data_root out/sample \
#          --dataset Nanchang --epochs 5 --nsample 2 --out out/parity
#        (after scripts/run_sample.sh; --help lists every flag)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
python=${ZOOMDIFF_PYTHON:-/usr/bin/python3}
exec "$python" "$root/bench/reference_train_parity.py" "$@"
