#!/usr/bin/env bash
# Issue 14, "measure first": CPU time, context switches and system calls per
# committed put, for etcd, ZooKeeper and Ballot in one run, with one load
# generator for all three (peerbench from ../shared/peers, which speaks each
# system's own protocol). Each system runs as three nodes on 127.0.0.1 (the
# kit's cluster scripts); `perf stat` counts every server process and the
# load generator over the measured run. Prints one line per process: system,
# who (node pid or the generator), CPU ms per 1,000 puts, context switches
# per put, system calls per put; then the run's puts and ops/s.
#
#   make build && make -C ../shared/peers/bench BUILD=/tmp/peers-build BALLOT_SRC=$PWD
#   flock /tmp/ballot-build.lock bench/cpu-per-put.sh            # CLIENTS=16 DURATION=10
#   SYSTEMS="ballot" CLIENTS=64 bench/cpu-per-put.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
peers=${PEERS_DIR:-$(cd "$root/../shared/peers" && pwd)}
peerbench=${PEERBENCH:-/tmp/peers-build/peerbench}
clients=${CLIENTS:-16}
duration=${DURATION:-10}
export BALLOT_SRC=$root
dir=""
system=""
cleanup() {
  if [ -n "$dir" ]; then
    "$peers/$system-cluster.sh" stop "$dir" >/dev/null 2>&1 || true
    rm -rf "$dir"
  fi
}
trap cleanup EXIT

# perf stat -x, lines: value,unit,event,...
count() { awk -F, -v e="$2" '$3 == e { gsub(/ /, "", $1); print $1 }' "$1"; }

printf '%-7s %-10s %12s %12s %14s\n' system who cpu_ms/1kput ctxsw/put syscalls/put
for system in ${SYSTEMS:-etcd zk ballot}; do
  dir=$(mktemp -d "/tmp/ballot-cpu-per-put.XXXXXX")
  "$peers/$system-cluster.sh" start "$dir" >"$dir/start.log" 2>&1
  endpoints=$("$peers/$system-cluster.sh" endpoints "$dir")
  # A short unmeasured warm-up, then the measured run with the servers counted.
  "$peerbench" --system "$system" --endpoints "$endpoints" --workload put --clients "$clients" \
    --duration 2 --warmup 0 >/dev/null 2>&1 || true
  perfs=()
  for f in "$dir"/*.pid; do
    pid=$(cat "$f")
    perf stat -x, -e task-clock,context-switches,raw_syscalls:sys_enter -p "$pid" \
      -o "$dir/perf.$pid" &
    perfs+=($!)
  done
  sleep 0.2
  perf stat -x, -e task-clock,context-switches,raw_syscalls:sys_enter -o "$dir/perf.client" -- \
    "$peerbench" --system "$system" --endpoints "$endpoints" --workload put \
    --clients "$clients" --duration "$duration" --warmup 0 >"$dir/run.tsv" 2>"$dir/run.log"
  for p in "${perfs[@]}"; do kill -INT "$p"; done
  for p in "${perfs[@]}"; do wait "$p" || true; done
  ops=$(tail -n 1 "$dir/run.tsv" | cut -f6)
  rate=$(tail -n 1 "$dir/run.tsv" | cut -f7)
  for f in "$dir"/perf.*; do
    who=${f##*/perf.}
    [ "$who" = client ] && who=generator || who="node $who"
    awk -v s="$system" -v w="$who" -v ms="$(count "$f" task-clock)" \
      -v cs="$(count "$f" context-switches)" -v sc="$(count "$f" raw_syscalls:sys_enter)" \
      -v n="$ops" 'BEGIN { printf "%-7s %-10s %12.1f %12.2f %14.2f\n", s, w, ms * 1000 / n, cs / n, sc / n }'
  done
  printf '%-7s %s puts, %s ops/s (%s clients, %s s)\n' "$system" "$ops" "$rate" "$clients" "$duration"
  "$peers/$system-cluster.sh" stop "$dir" >/dev/null 2>&1 || true
  rm -rf "$dir"
  dir=""
done
