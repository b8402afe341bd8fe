#!/usr/bin/env bash
# What checkpoints cost a loaded cluster: three ballotd on 127.0.0.1 (fresh
# data directories), sustained 1 MB puts over a 128 MiB key space, then the
# snapshots each node took (how long each held the replica's thread, and
# what the background writer spent) and how many leader elections happened.
#
#   BIN=build/bin bench/checkpoint-bench.sh [DURATION] [CLIENTS]
#
# Prints ballot-bench's JSON line, one line per snapshot event and a summary.
set -euo pipefail
duration=${1:-10}
clients=${2:-32}
bin=${BIN:-$(cd "$(dirname "$0")/.." && pwd)/build/bin}
dir=$(mktemp -d /tmp/ballot-checkpoint-bench.XXXXXX)
peers="1=127.0.0.1:27511,2=127.0.0.1:27512,3=127.0.0.1:27513"
endpoints="127.0.0.1:27501,127.0.0.1:27502,127.0.0.1:27503"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
for i in 1 2 3; do
  "$bin/ballotd" --id "$i" --peers "$peers" --client "127.0.0.1:2750$i" \
    --data-dir "$dir/$i" --log-format json >"$dir/node$i.log" 2>&1 &
  pids+=($!)
done
for i in 1 2 3; do
  for _ in $(seq 100); do grep -q "ballotd ready" "$dir/node$i.log" && break; sleep 0.1; done
done
"$bin/ballot-bench" --endpoints "$endpoints" --workload put --clients "$clients" \
  --value-size 1000000 --keys 128 --duration "$duration" --json | tail -n 1
sleep 1
for i in 1 2 3; do
  grep -h -E '"event":"(snapshot_taken|snapshot_written|snapshot_postponed|leader_elected)"' \
    "$dir/node$i.log" | sed "s/^/node $i: /" || true
done
elections=$(cat "$dir"/node*.log | grep -c '"event":"leader_elected"' || true)
snapshots=$(cat "$dir"/node*.log | grep -c '"event":"snapshot_taken"' || true)
echo "summary: ${snapshots} snapshots taken, ${elections} leader elections (the first one included)"
