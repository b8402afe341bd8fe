#!/usr/bin/env bash
# Issue 14, "where Ballot's time goes, by hop": three ballotd nodes under
# peerbench's put workload; per node and per thread kind (the gateway's event
# loop, the peer transport's, CAF's scheduler workers, the checkpoint writer,
# ...) the CPU ms per 1,000 puts and the context switches per put, read from
# /proc/PID/task/*/ before and after the measured run; then `perf record` of
# every node during a second run, reported by thread and by library, so the
# cost of each hop (Cap'n Proto/KJ on the gateway thread, CAF's hand-off to
# the replica actor, the peer thread, the kernel's scheduling) shows.
#
#   make build && make -C ../shared/peers/bench BUILD=/tmp/peers-build BALLOT_SRC=$PWD
#   flock /tmp/ballot-build.lock bench/hop-profile.sh           # CLIENTS=64 DURATION=10
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
peers=${PEERS_DIR:-$(cd "$root/../shared/peers" && pwd)}
peerbench=${PEERBENCH:-/tmp/peers-build/peerbench}
clients=${CLIENTS:-64}
duration=${DURATION:-10}
export BALLOT_SRC=$root
dir=$(mktemp -d "/tmp/ballot-hop-profile.XXXXXX")
cleanup() {
  "$peers/ballot-cluster.sh" stop "$dir" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

# One line per thread of every node: node-pid thread-name cpu-ticks switches.
threads() {
  for f in "$dir"/*.pid; do
    local pid
    pid=$(cat "$f")
    for t in /proc/"$pid"/task/*; do
      local name ticks sw
      name=$(tr ' ' '_' <"$t/comm" 2>/dev/null) || continue
      # utime + stime (fields 14, 15; the name in field 2 has no spaces here).
      ticks=$(awk '{ print $14 + $15 }' "$t/stat" 2>/dev/null) || continue
      sw=$(awk '/ctxt_switches/ { s += $2 } END { print s }' "$t/status" 2>/dev/null) || continue
      echo "$pid ${t##*/} $name $ticks $sw"
    done
  done
}

run() {  # run SECONDS -> puts committed
  "$peerbench" --system ballot --endpoints "$endpoints" --workload put --clients "$clients" \
    --duration "$1" --warmup 0 >"$dir/run.tsv" 2>"$dir/run.log"
  tail -n 1 "$dir/run.tsv" | cut -f6
}

"$peers/ballot-cluster.sh" start "$dir" >"$dir/start.log" 2>&1
endpoints=$("$peers/ballot-cluster.sh" endpoints "$dir")
run 2 >/dev/null || true
threads >"$dir/before"
puts=$(run "$duration")
threads >"$dir/after"
hz=$(getconf CLK_TCK)
echo "per thread kind, $puts puts with $clients clients in $duration s ($((puts / duration)) ops/s):"
printf '%-8s %-16s %8s %14s %12s\n' node thread count cpu_ms/1kput ctxsw/put
# Threads matched by tid; a thread that ended during the run is not counted.
awk -v hz="$hz" -v n="$puts" '
  NR == FNR { t[$2] = $4; s[$2] = $5; next }
  ($2 in t) { k = $1 " " $3; cpu[k] += $4 - t[$2]; sw[k] += $5 - s[$2]; cnt[k]++ }
  END { for (k in cpu) { split(k, p, " ");
          printf "%-8s %-16s %8d %14.1f %12.2f\n", p[1], p[2], cnt[k], cpu[k] * 1000 / hz * 1000 / n, sw[k] / n } }
' "$dir/before" "$dir/after" | sort -k1,1 -k4,4nr

pids=$(cat "$dir"/*.pid | paste -sd,)
perf record -q -o "$dir/perf.data" -p "$pids" -- sleep "$duration" 2>/dev/null &
perf_pid=$!
sleep 0.3
puts=$(run "$duration")
wait "$perf_pid" || true
echo
echo "perf record of all nodes during a second run ($puts puts): share of samples by thread"
perf report -q -g none -i "$dir/perf.data" --no-children --sort comm 2>/dev/null | awk 'NF { print "  " $0 }' | head -12
echo "by library (all threads)"
perf report -q -g none -i "$dir/perf.data" --no-children --sort dso 2>/dev/null | awk 'NF { print "  " $0 }' | head -14
echo "by thread and library (top 20)"
perf report -q -g none -i "$dir/perf.data" --no-children --sort comm,dso 2>/dev/null | awk 'NF { print "  " $0 }' | head -20
