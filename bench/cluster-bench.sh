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
bin=${BIN:-$(cd "$(dirname "$0")/.." && pwd)/build/bin}
dir=$(mktemp -d /tmp/ballot-cluster-bench.XXXXXX)
peers="1=127.0.0.1:27411,2=127.0.0.1:27412,3=127.0.0.1:27413"
endpoints="127.0.0.1:27401,127.0.0.1:27402,127.0.0.1:27403"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
for i in 1 2 3; do
  "$bin/ballotd" --id "$i" --peers "$peers" --client "127.0.0.1:2740$i" \
    --data-dir "$dir/$i" >"$dir/node$i.log" 2>&1 &
  pids+=($!)
done
for i in 1 2 3; do
  for _ in $(seq 100); do grep -q "ballotd ready" "$dir/node$i.log" && break; sleep 0.1; done
done
for n in "${clients[@]}"; do
  "$bin/ballot-bench" --endpoints "$endpoints" --workload "$workload" --clients "$n" \
    --duration "$duration" ${EXTRA:-} --json | tail -n 1
done
for i in 1 2 3; do
  echo "node $i resident memory: $(($(ps -o rss= -p "${pids[$((i - 1))]}") / 1024)) MiB" >&2
done
