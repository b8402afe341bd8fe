#!/usr/bin/env bash
# Starts three ballotd processes on 127.0.0.1 (fresh data directories), runs
# ballot-bench against them for each client count, stops them.
#
#   bench/cluster-bench.sh [WORKLOAD] [DURATION] [CLIENTS...]
#   bench/cluster-bench.sh put 10 1 16 64
#   EXTRA="--sessions 100000 --ttl 30" bench/cluster-bench.sh sessions 45 4
#
# EXTRA holds further ballot-bench flags. At the end it prints each node's
# resident memory.
set -euo pipefail
workload=${1:-put}
duration=${2:-10}
shift 2 || true
clients=("$@")
[ ${#clients[@]} -gt 0 ] || clients=(1 16 64)
source "$(dirname "$0")/cluster-lib.sh"
cluster_init 274
start_nodes
# CPU time of the three nodes together (user + system), in clock ticks.
nodes_cpu() {
  local t=0 i
  for i in 1 2 3; do
    t=$((t + $(awk '{print $14 + $15}' "/proc/${pids[$i]}/stat")))
  done
  echo "$t"
}
for n in "${clients[@]}"; do
  before=$(nodes_cpu)
  "$bin/ballot-bench" --endpoints "$endpoints" --workload "$workload" --clients "$n" \
    --duration "$duration" ${EXTRA:-} --json | tail -n 1
  echo "nodes' CPU during the run (3 nodes, setup included): $(( ($(nodes_cpu) - before) * 1000 / $(getconf CLK_TCK) )) ms" >&2
done
for i in 1 2 3; do
  echo "node $i resident memory: $(($(ps -o rss= -p "${pids[$i]}") / 1024)) MiB" >&2
done
