#!/usr/bin/env bash
# System calls of the client port's threads (`ballot-gateway`) under load:
# a fresh 3-node cluster (the peers kit's ballot-cluster.sh), peerbench's
# workload at CLIENTS, and `perf trace -s` of the three gateway threads for
# 4 s of it. Prints each call's count and errors (EAGAIN, for reads), and the
# count per answer, taking one writev per answer (the gateway writes each
# Cap'n Proto return with one writev).
#
#   BALLOT_BIN=build/bin CLIENTS=64 WORKLOAD=put bench/gateway-syscalls.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
peers=${PEERS_DIR:-$(cd "$root/../shared/peers" && pwd)}
peerbench=${PEERBENCH:-/tmp/peers-build/peerbench}
clients=${CLIENTS:-64}
workload=${WORKLOAD:-put}
command -v perf >/dev/null || { echo "needs perf (apt-get install linux-perf)" >&2; exit 2; }
[ -x "$peerbench" ] || {
  echo "gateway-syscalls: no peerbench at $peerbench (make -C ../shared/peers/bench BUILD=/tmp/peers-build BALLOT_SRC=\$PWD)" >&2
  exit 2
}
export BALLOT_SRC=$root BALLOT_BIN=${BALLOT_BIN:-$root/build/bin}
dir=$(mktemp -d /tmp/ballot-gwsys.XXXXXX)
cleanup() {
  "$peers/ballot-cluster.sh" stop "$dir" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
"$peers/ballot-cluster.sh" start "$dir" >"$dir/start.log" 2>&1 || {
  cat "$dir/start.log" >&2
  exit 1
}
endpoints=$("$peers/ballot-cluster.sh" endpoints "$dir")
"$peerbench" --system ballot --endpoints "$endpoints" --workload "$workload" --clients "$clients" \
  --duration 8 --warmup 1 >"$dir/run.tsv" 2>"$dir/run.log" &
bench=$!
sleep 3
tids=()
for pidfile in "$dir"/ballot*.pid; do
  for task in /proc/"$(cat "$pidfile")"/task/*; do
    if [ "$(cat "$task/comm")" = ballot-gateway ]; then tids+=("${task##*/}"); fi
  done
done
[ ${#tids[@]} -eq 3 ] || { echo "gateway-syscalls: found ${#tids[@]} gateway threads, not 3" >&2; exit 1; }
perf trace -s -t "$(IFS=,; echo "${tids[*]}")" -o "$dir/trace" -- sleep 4 >/dev/null 2>&1 || true
wait "$bench"
printf '%s at %s clients: %s ops/s\n' "$workload" "$clients" "$(tail -n 1 "$dir/run.tsv" | cut -f7)"
printf '%-14s %10s %10s %12s\n' call count errors "per answer"
# perf trace -s: per thread, lines "name calls errors total min avg max stddev".
awk '/^ +[a-z_0-9]+ +[0-9]+ +[0-9]+ / { calls[$1] += $2; errors[$1] += $3 }
  END {
    answers = calls["writev"] > 0 ? calls["writev"] : 1
    total = 0
    for (c in calls) { printf "%-14s %10d %10d %12.2f\n", c, calls[c], errors[c], calls[c] / answers; total += calls[c] }
    printf "%-14s %10d %10s %12.2f\n", "all", total, "", total / answers
  }' "$dir/trace" | sort -k2 -nr
