#!/usr/bin/env bash
# Two builds (or two settings of one build) side by side, alternating, in one
# run: a fresh 3-node cluster per round (the peers kit's ballot-cluster.sh),
# 2 s of warm-up, then peerbench's workload for DURATION seconds. The machine
# is shared and noisy, so only alternating rounds of the same hour compare.
# Prints one line per round: label, clients, ops/s, p50 ms, p99 ms, and the
# three nodes' CPU per 1,000 ops (user + system time of the ballotd processes
# between the end of the warm-up and the end of the window, from /proc; the
# machine's noise moves it far less than it moves ops/s).
#
#   A=/tmp/old/bin B=build/bin bench/ab-put.sh              # two builds' bin directories
#   A=build/bin B=build/bin B_ENV=BALLOT_SCHEDULER=sharing bench/ab-put.sh
#   CLIENTS="1 16 64" ORDER="a b b a" WORKLOAD=put DURATION=6 (the defaults)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
peers=${PEERS_DIR:-$(cd "$root/../shared/peers" && pwd)}
peerbench=${PEERBENCH:-/tmp/peers-build/peerbench}
a=${A:?"A: the bin directory of the first build"}
b=${B:?"B: the bin directory of the second build"}
clients=${CLIENTS:-"1 16 64"}
order=${ORDER:-"a b b a"}
workload=${WORKLOAD:-put}
duration=${DURATION:-6}
[ -x "$peerbench" ] || {
  echo "ab-put: no peerbench at $peerbench (make -C ../shared/peers/bench BUILD=/tmp/peers-build BALLOT_SRC=\$PWD)" >&2
  exit 2
}
export BALLOT_SRC=$root
dir=""
cleanup() {
  if [ -n "$dir" ]; then
    "$peers/ballot-cluster.sh" stop "$dir" >/dev/null 2>&1 || true
    rm -rf "$dir"
  fi
}
trap cleanup EXIT

hz=$(getconf CLK_TCK)
cpu_ticks() {  # cpu_ticks PID...: user + system clock ticks of the processes
  # utime and stime, fields 14 and 15 of /proc/PID/stat (as hop-profile.sh
  # reads them; the command name, "ballotd", has no space to shift them).
  local pid
  for pid in "$@"; do cat "/proc/$pid/stat"; done | awk '{ s += $14 + $15 } END { print s }'
}

round() {  # round LABEL BIN ENV CLIENTS
  dir=$(mktemp -d /tmp/ballot-ab.XXXXXX)
  env ${3:+"$3"} BALLOT_BIN="$2" "$peers/ballot-cluster.sh" start "$dir" >"$dir/start.log" 2>&1 || {
    echo "ab-put: the cluster of $1 did not start:" >&2
    cat "$dir/start.log" >&2
    exit 1
  }
  local ep
  ep=$("$peers/ballot-cluster.sh" endpoints "$dir")
  local pids cpu0 cpu1
  pids=$(cat "$dir"/ballot*.pid)
  "$peerbench" --system ballot --endpoints "$ep" --workload "$workload" --clients "$4" \
    --duration "$duration" --warmup 2 >"$dir/run.tsv" 2>"$dir/run.log" &
  local bench=$!
  sleep 2.2
  cpu0=$(cpu_ticks $pids)
  sleep "$duration"
  cpu1=$(cpu_ticks $pids)
  wait "$bench"
  # peerbench's columns: ... ops (6), ops/s (7), p50 ms (8), p99 ms (9).
  tail -n 1 "$dir/run.tsv" | awk -v l="$1" -v n="$4" -v ticks=$((cpu1 - cpu0)) -v hz="$hz" \
    '{ printf "%-2s %4s clients %10.1f ops/s  p50 %7.3f ms  p99 %7.3f ms  cpu %6.1f ms/1000 ops\n", l, n, $7, $8, $9, ($6 > 0 ? ticks * 1000 / hz * 1000 / $6 : 0) }'
  cleanup
  dir=""
}

for n in $clients; do
  for which in $order; do
    if [ "$which" = a ]; then
      round a "$a" "${A_ENV:-}" "$n"
    else
      round b "$b" "${B_ENV:-}" "$n"
    fi
  done
done
