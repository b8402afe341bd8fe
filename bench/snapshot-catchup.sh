#!/usr/bin/env bash
# A wiped follower catching up a large state through the chunked snapshot
# transfer (issue 9): three ballotd on 127.0.0.1 (fresh data directories),
# KEYS values of VALUE_SIZE bytes written, a follower killed, its data
# directory removed and the node restarted; prints how long until it had the
# whole snapshot and had installed it, the leader's transfer line, and the
# peak RSS (VmHWM) of the leader and of the follower.
#
#   BIN=build/bin bench/snapshot-catchup.sh [KEYS] [VALUE_SIZE] [QUOTA_BYTES]
set -euo pipefail
keys=${1:-300}
size=${2:-1000000}
quota=${3:-$((384 << 20))}
source "$(dirname "$0")/cluster-lib.sh"
cluster_init 347
start_nodes --quota-bytes "$quota" --snapshot-interval 50
t0=$(date +%s.%N)
# The get workload writes every key first.
"$bin/ballot-bench" --endpoints "$endpoints" --workload get --clients 4 --keys "$keys" \
  --value-size "$size" --duration 1 --warmup 0 >/dev/null 2>&1
t1=$(date +%s.%N)
leader=$("$bin/ballotctl" --endpoints "$endpoints" status | sed -n 's/^leader \([0-9]*\).*/\1/p')
victim=$((leader % 3 + 1))
hwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
echo "filled $keys x $size bytes in $(echo "$t1 - $t0" | bc) s; leader $leader" \
  "(VmHWM $(($(hwm "${pids[$leader]}") / 1024)) MiB); wiping follower $victim"
kill -9 "${pids[$victim]}"
wait "${pids[$victim]}" 2>/dev/null || true
rm -rf "$dir/data/$victim"
start=$(date +%s.%N)
"$bin/ballotd" --id "$victim" --peers "$peers" --client "127.0.0.1:${port_base}0$victim" \
  --data-dir "$dir/data/$victim" --quota-bytes "$quota" --snapshot-interval 50 \
  >"$dir/node$victim.log" 2>&1 &
pids[$victim]=$!
received=""
for _ in $(seq 2400); do
  if [[ -z $received ]] && grep -q "snapshot_transfer_received" "$dir/node$victim.log"; then
    received=$(echo "$(date +%s.%N) - $start" | bc)
  fi
  grep -q "snapshot_installed" "$dir/node$victim.log" && break
  sleep 0.05
done
installed=$(echo "$(date +%s.%N) - $start" | bc)
echo "restart to snapshot received: ${received:-never} s; to installed: $installed s"
grep -h "snapshot_transfer\|snapshot_installed\|snapshot_chunk_refused" "$dir"/node*.log |
  sed 's/^/  /' | tail -n 8
echo "VmHWM leader $(($(hwm "${pids[$leader]}") / 1024)) MiB," \
  "follower $(($(hwm "${pids[$victim]}") / 1024)) MiB"
