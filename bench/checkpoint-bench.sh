#!/usr/bin/env bash
# What checkpoints cost a loaded cluster: three ballotd on 127.0.0.1 (fresh
# data directories), sustained 1 MB puts over a 128 MiB key space, then the
# snapshots each node took (how long each held the replica's thread, and
# what the background writer spent) and the leader elections.
#
#   BIN=build/bin bench/checkpoint-bench.sh [DURATION] [CLIENTS]
#
# Prints ballot-bench's JSON line, each node's snapshot and election lines,
# and a summary.
set -euo pipefail
duration=${1:-10}
clients=${2:-32}
source "$(dirname "$0")/cluster-lib.sh"
cluster_init 279
start_nodes --log-format json
"$bin/ballot-bench" --endpoints "$endpoints" --workload put --clients "$clients" \
  --value-size 1000000 --keys 128 --duration "$duration" --json | tail -n 1
sleep 1
events='"event":"(snapshot_taken|snapshot_written|snapshot_postponed|snapshot_installed|leader_elected)"'
for i in 1 2 3; do
  grep -h -E "$events" "$dir/node$i.log" | sed "s/^/node $i: /" || true
done
elections=$(cat "$dir"/node*.log | grep -c '"event":"leader_elected"' || true)
snapshots=$(cat "$dir"/node*.log | grep -c '"event":"snapshot_taken"' || true)
echo "summary: ${snapshots} snapshots taken, ${elections} leader elections (the first one included)"
