#!/usr/bin/env bash
# A state of several GiB on disk (issue 9): three ballotd on 127.0.0.1 (fresh
# data directories) fill GIB GiB of 1 MB values, checkpoint the whole state
# (chunked snapshot files), restart every node from its file, then wipe one
# node's data directory and let it catch up from its peers.
#
#   BIN=build/bin bench/large-state.sh [GIB] [CHUNK_BYTES]
#   MIB=64 bench/large-state.sh        # a quick run of the same steps
#
# Prints the fill's time, each node's last checkpoint (bytes, encode and
# write time) with its peak RSS (VmHWM) and RSS after it, each node's restart
# time (start to "ballotd ready") and peak RSS once the state is rebuilt (after
# the first reads), the wiped node's catch-up time and peak RSS, the peers'
# peak RSS during the catch-up (reset before it through clear_refs), and how
# many transfers each peer started and the wiped node took or refused busy. Needs
# about 3 x GIB GiB of RAM plus twice the state for a restart or an install at
# a time, and 3 x GIB GiB of disk.
#
# CATCHUP_TIMEOUT (seconds, default 600) bounds the wait for the wiped node.
# ONE_BY_ONE=1 restarts the nodes one at a time, each once its state is
# rebuilt, so that three restarts' peaks do not add up.
set -euo pipefail
gib=${1:-3}
chunk=${2:-33554432}
value_size=1000000
mib=${MIB:-$((gib * 1024))}
keys=$((mib * 1024 * 1024 / value_size))
quota=$(((mib + 1024) * 1024 * 1024))
source "$(dirname "$0")/cluster-lib.sh"
cluster_init 283
flags=(--log-format json --quota-bytes "$quota" --snapshot-chunk-bytes "$chunk")

now_ms() { date +%s%3N; }
hwm_mb() { awk '/VmHWM/ {printf "%d", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo "?"; }
rss_mb() { awk '/VmRSS/ {printf "%d", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo "?"; }

start_node() {  # $1: node id, on its existing data directory; appends to its log
  "$bin/ballotd" --id "$1" --peers "$peers" --client "127.0.0.1:${port_base}0$1" \
    --data-dir "$dir/data/$1" "${flags[@]}" >>"$dir/node$1.log" 2>&1 &
  pids[$1]=$!
}

ready_count() { grep -c "ballotd ready" "$dir/node$1.log" 2>/dev/null || true; }

wait_ready_n() {  # $1: node id, $2: how many ready lines; $3: timeout (s)
  local deadline=$(($(date +%s) + $3))
  while (($(ready_count "$1") < $2)); do
    if (($(date +%s) > deadline)) || ! kill -0 "${pids[$1]}" 2>/dev/null; then
      echo "node $1 did not get ready:" >&2
      tail -n 20 "$dir/node$1.log" >&2
      return 1
    fi
    sleep 0.1
  done
}

events() {  # $1: node id, $2: event name: its log lines
  grep "\"event\":\"$2\"" "$dir/node$1.log" || true
}

last_written() {  # $1: node id: the bytes of its last background checkpoint
  events "$1" snapshot_written | tail -n 1 | field bytes
}

start_nodes "${flags[@]}"
echo "filling ${keys} keys of ${value_size} bytes ($mib MiB), quota $quota, chunks of $chunk bytes"
t0=$(now_ms)
# The get workload writes every key once, one put at a time, before it reads.
"$bin/ballot-bench" --endpoints "$endpoints" --workload get --clients 1 --keys "$keys" \
  --value-size "$value_size" --duration 1 --json | tail -n 1
echo "fill: $(($(now_ms) - t0)) ms"

# A checkpoint comes every 256 MiB of commands: overwrite keys until every
# node has written one that holds (nearly) the whole state.
whole=$((keys * value_size * 95 / 100))
for round in $(seq 20); do
  done_nodes=0
  for i in 1 2 3; do
    b=$(last_written "$i")
    if [[ -n "$b" ]] && ((b >= whole)); then done_nodes=$((done_nodes + 1)); fi
  done
  ((done_nodes == 3)) && break
  "$bin/ballot-bench" --endpoints "$endpoints" --workload put --clients 4 --keys "$keys" \
    --value-size "$value_size" --duration 10 --json >/dev/null
  sleep 5
done
for i in 1 2 3; do
  line=$(events "$i" snapshot_written | tail -n 1)
  echo "node $i checkpoint: bytes $(field bytes <<<"$line"), encode $(field encode_ms <<<"$line") ms," \
    "write $(field write_ms <<<"$line") ms; peak RSS $(hwm_mb "${pids[$i]}") MB, RSS now $(rss_mb "${pids[$i]}") MB"
done
ls -l "$dir"/data/*/snapshot-*.snap

# Restart every node from its snapshot file and the log after it.
stop_nodes
wait_rebuilt() {  # $1: node id: until its RSS stops growing (the state is rebuilt)
  local last=0 now steady=0
  while ((steady < 4)); do
    sleep 0.5
    now=$(rss_mb "${pids[$1]}")
    if ((now < last + 16)); then steady=$((steady + 1)); else steady=0; fi
    last=$now
  done
}
for i in 1 2 3; do
  start_node "$i"
  starts[$i]=$(now_ms)
  # ONE_BY_ONE=1: each node rebuilds its state before the next starts, so
  # that their peaks (the file's body and the state rebuilt from it) do not
  # add up on a machine that holds three nodes' states but not six.
  if [[ "${ONE_BY_ONE:-0}" == 1 ]]; then
    wait_ready_n "$i" 2 600
    ready_ms[$i]=$(($(now_ms) - starts[i]))
    wait_rebuilt "$i"
  fi
done
for i in 1 2 3; do
  wait_ready_n "$i" 2 600
  [[ -n "${ready_ms[$i]:-}" ]] && starts[$i]=$(($(now_ms) - ready_ms[i]))
  echo "node $i restart: $(($(now_ms) - starts[i])) ms to ready (at most: polled)," \
    "peak RSS $(hwm_mb "${pids[$i]}") MB;" \
    "$(events "$i" wal_loaded | tail -n 1 | sed -n 's/.*"msg":"\([^"]*\)".*/\1/p')"
done
# "ballotd ready" comes before the replica has rebuilt its state from the
# file's bytes: the restart's peak shows once the first reads are served.
for k in 0 $((keys / 2)) $((keys - 1)); do
  key=$(printf "/bench/k%06d" "$k")
  got=$("$bin/ballotctl" --endpoints "$endpoints" --timeout 30 get "$key" | head -c "$value_size" | wc -c)
  echo "read back $key: $got bytes"
  [[ "$got" == "$value_size" ]] || { echo "FAILED: $key lost" >&2; exit 1; }
done

for i in 1 2 3; do
  echo "node $i after the restart and the reads: peak RSS $(hwm_mb "${pids[$i]}") MB, RSS $(rss_mb "${pids[$i]}") MB"
done

# Wipe node 3 and let it catch up from its peers (a snapshot install). The
# peers' peak RSS is reset first (clear_refs 5) so that it shows the transfer's.
for i in 1 2; do echo 5 >"/proc/${pids[$i]}/clear_refs" 2>/dev/null || true; done
installs_before=$(events 3 snapshot_installed | wc -l)
kill "${pids[3]}" && wait "${pids[3]}" 2>/dev/null || true
rm -rf "$dir/data/3"
start_node 3
t0=$(now_ms)
wait_ready_n 3 3 60
caught=""
for _ in $(seq $((${CATCHUP_TIMEOUT:-600} * 2))); do
  if (($(events 3 snapshot_installed | wc -l) > installs_before)); then
    caught=$(($(now_ms) - t0))
    break
  fi
  kill -0 "${pids[3]}" 2>/dev/null || break
  sleep 0.5
done
if [[ -n "$caught" ]]; then
  echo "node 3 catch-up from empty: snapshot installed after $caught ms, peak RSS $(hwm_mb "${pids[3]}") MB"
  # Both peers may send (the wiped node asks each); peaks since the reset.
  echo "during the catch-up: node 1 peak RSS $(hwm_mb "${pids[1]}") MB, RSS $(rss_mb "${pids[1]}") MB;" \
    "node 2 peak RSS $(hwm_mb "${pids[2]}") MB, RSS $(rss_mb "${pids[2]}") MB;" \
    "node 3 RSS $(rss_mb "${pids[3]}") MB"
  events 1 snapshot_transfer_finished | tail -n 1 | sed -n 's/.*"msg":"\([^"]*\)".*/node 1: \1/p'
  events 2 snapshot_transfer_finished | tail -n 1 | sed -n 's/.*"msg":"\([^"]*\)".*/node 2: \1/p'
  # Whether both peers sent: the wiped node takes one transfer at a time, the other is told busy.
  for i in 1 2; do
    echo "node $i: $(events "$i" snapshot_transfer_started | wc -l) transfer(s) to node 3 started," \
      "$(events "$i" snapshot_transfer_finished | wc -l) finished, $(events "$i" snapshot_transfer_dropped | wc -l) dropped"
  done
  echo "node 3: $(grep -c '(busy)' "$dir/node3.log" || true) busy refusal(s) logged," \
    "$(events 3 snapshot_transfer_received | wc -l) transfer(s) received whole"

else
  echo "node 3 catch-up from empty: FAILED (no snapshot installed within ${CATCHUP_TIMEOUT:-600} s); its last lines:"
  tail -n 5 "$dir/node3.log"
  for i in 1 2; do grep -i -E 'snapshot|frame|too large' "$dir/node$i.log" | tail -n 3 || true; done
  exit 1
fi
