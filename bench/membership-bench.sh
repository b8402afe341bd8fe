#!/usr/bin/env bash
# Replacing a member, measured (README "Changing the membership"): three
# ballotd processes on 127.0.0.1 filled with STATE_VALUES values of
# VALUE_BYTES, then 100-byte puts from CLIENTS clients, first in steady state
# and then while a follower is killed with its disk, member 4 added, joined,
# caught up, promoted, and the dead member removed. Prints the state size,
# the learner's catch-up time (join to lag <= 100 slots) and put throughput
# in both phases (ballot-bench --json), same run.
#
#   flock /tmp/ballot-build.lock bench/membership-bench.sh
#   STATE_VALUES=200 VALUE_BYTES=1000000 CLIENTS=16 DURATION=15 bench/membership-bench.sh
set -euo pipefail
values=${STATE_VALUES:-200}
value_bytes=${VALUE_BYTES:-1000000}
clients=${CLIENTS:-16}
duration=${DURATION:-15}
source "$(dirname "$0")/cluster-lib.sh"
cluster_init 278
ctl() { "$bin/ballotctl" --endpoints "$endpoints,127.0.0.1:27804" --timeout 10 "$@"; }
start_nodes

echo "filling: $values keys of $value_bytes bytes" >&2
# Every key once (a put of each), by several writers: the state to move.
"$bin/ballot-bench" --endpoints "$endpoints" --workload put --clients 8 --value-size "$value_bytes" \
  --keys "$values" --duration "$(( values * value_bytes / 20000000 + 3 ))" --warmup 0 >/dev/null 2>&1
state=$(du -sb "$dir/data/1" | cut -f1)

steady=$("$bin/ballot-bench" --endpoints "$endpoints" --workload put --clients "$clients" \
  --duration "$duration" --json 2>/dev/null | tail -n 1)

# The same load while a follower is replaced.
"$bin/ballot-bench" --endpoints "$endpoints" --workload put --clients "$clients" \
  --duration "$duration" --json >"$dir/during.json" 2>/dev/null &
bench=$!
sleep 2
leader=$(ctl --json status | sed -n 's/.*"leader":\([0-9]*\).*/\1/p')
dead=$(( leader % 3 + 1 ))
kill -9 "${pids[$dead]}"; unset "pids[$dead]"; rm -rf "${dir:?}/data/$dead"
ctl member add --peer 127.0.0.1:27814 --client 127.0.0.1:27804 >/dev/null
t0=$(date +%s.%N)
"$bin/ballotd" --join "$endpoints" --id 4 --peer-address 127.0.0.1:27814 \
  --client 127.0.0.1:27804 --data-dir "$dir/data/4" >"$dir/node4.log" 2>&1 &
pids[4]=$!
wait_ready 4
caught=""
for _ in $(seq 1200); do
  lag=$(ctl --json member list | sed -n 's/.*{"id":4,[^}]*"lag":\([0-9]*\).*/\1/p')
  if [ -n "$lag" ] && [ "$lag" -le 100 ]; then caught=$(date +%s.%N); break; fi
  sleep 0.1
done
until ctl member promote 4 >/dev/null 2>&1; do sleep 0.2; done
ctl member remove "$dead" >/dev/null
wait "$bench"
during=$(tail -n 1 "$dir/during.json")

printf 'state on disk of a member: %d bytes\n' "$state"
if [ -n "$caught" ]; then
  printf 'learner caught up (join to lag <= 100) in %.2f s\n' "$(awk "BEGIN { print $caught - $t0 }")"
else
  echo "learner did not catch up within 120 s"
fi
echo "the learner installed $(grep -c "snapshot installed from a peer" "$dir/node4.log" || true) snapshot(s)"
printf '%-12s %9s %8s %8s %6s\n' phase ops/s p50_us p99_us errors
for phase in steady during; do
  line=${!phase}
  printf '%-12s %9.0f %8s %8s %6s\n' "$phase" "$(field ops_per_s <<<"$line")" \
    "$(field p50_us <<<"$line")" "$(field p99_us <<<"$line")" "$(field errors <<<"$line")"
done
