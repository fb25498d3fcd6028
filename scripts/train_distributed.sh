#!/usr/bin/env bash
# Data-parallel zoomdiff_train (or sharded zoomdiff_infer) over local ranks, with torchrun's
# launch variables (docs/distributed.md). One process per rank; rank 0 hosts the rendezvous
# (c10d TCPStore) and writes the run folder; every rank logs with its label.
#
# One machine, 2 ranks (the default), 1 thread each:
#   scripts/train_distributed.sh -n 2 -- --dataset "Nanchang*Nanjing" --datatype traffic --config configs/base.yaml
#
# Several machines: run the script on every node with the same --nnodes, --master_addr (a host
# name or address of node 0 that the others reach) and --master_port, and its own --node_rank:
#   node 0: scripts/train_distributed.sh -n 4 --nnodes 2 --node_rank 0 --master_addr node0 -- <flags>
#   node 1: scripts/train_distributed.sh -n 4 --nnodes 2 --node_rank 1 --master_addr node0 -- <flags>
# Ranks are node_rank * n + local rank; every node needs the city files at --data_root, and
# --resume needs the run folder on a filesystem every node sees. Without the script, set RANK,
# WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT yourself (torchrun does the same).
#
# Options (before --):
#   -n, --nproc N       ranks on this machine (default 2)
#   --nnodes K          machines (default 1)
#   --node_rank I       this machine's index (default 0)
#   --master_addr HOST  rank 0's host (default 127.0.0.1)
#   --master_port PORT  rendezvous port (default 29500)
#   --tool NAME         zoomdiff_train (default) or zoomdiff_infer
# Unless the flags after -- set --threads, each rank gets (cores / n) threads.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ZOOMDIFF_BUILD_DIR:-$root/build}

nproc=2 nnodes=1 node_rank=0 master_addr=127.0.0.1 master_port=29500 tool=zoomdiff_train
usage() { sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
while [ $# -gt 0 ]; do
  case "$1" in
    -n|--nproc) nproc=$2; shift 2 ;;
    --nnodes) nnodes=$2; shift 2 ;;
    --node_rank) node_rank=$2; shift 2 ;;
    --master_addr) master_addr=$2; shift 2 ;;
    --master_port) master_port=$2; shift 2 ;;
    --tool) tool=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    --) shift; break ;;
    *) echo "train_distributed.sh: unknown option '$1' (the tool's flags go after --)" >&2; exit 2 ;;
  esac
done
for v in nproc nnodes node_rank master_port; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "train_distributed.sh: --$v must be a whole number, got '${!v}'" >&2; exit 2; }
done
[ "$nproc" -ge 1 ] && [ "$nnodes" -ge 1 ] && [ "$node_rank" -lt "$nnodes" ] ||
  { echo "train_distributed.sh: need -n >= 1, --nnodes >= 1 and --node_rank < --nnodes" >&2; exit 2; }
case "$tool" in zoomdiff_train|zoomdiff_infer) ;; *)
  echo "train_distributed.sh: --tool must be zoomdiff_train or zoomdiff_infer" >&2; exit 2 ;; esac
exe="$build/$tool"
[ -x "$exe" ] || { echo "train_distributed.sh: $exe not found; build first (scripts/build.sh)" >&2; exit 2; }

threads=()
if ! printf '%s\n' "$@" | grep -q -- '^--threads'; then
  cores=$(nproc 2>/dev/null || echo 1)
  per=$(( cores / nproc )); [ "$per" -ge 1 ] || per=1
  threads=(--threads "$per")
fi

world=$(( nnodes * nproc ))
pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap 'stop; exit 130' INT TERM
for (( local = 0; local < nproc; ++local )); do
  rank=$(( node_rank * nproc + local ))
  RANK=$rank LOCAL_RANK=$local WORLD_SIZE=$world MASTER_ADDR=$master_addr MASTER_PORT=$master_port \
    "$exe" "$@" "${threads[@]}" &
  pids+=($!)
done

# The first rank to fail decides the exit code; the others stop on their own (the process
# group reports the lost rank within --dist_timeout), or when this script is interrupted.
status=0
for p in "${pids[@]}"; do
  code=0
  wait "$p" || code=$?
  [ "$status" -ne 0 ] || status=$code
done
exit "$status"
