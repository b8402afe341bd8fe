#!/usr/bin/env bash
# Issue 9's benchmark target: puts of 1 MB values at 1, 8 and 128 clients,
# Ballot against etcd (and ZooKeeper if asked) in one run, with one load
# generator for all (peerbench from ../shared/peers, each system's own
# protocol). Each system runs as three nodes on 127.0.0.1 (the kit's cluster
# scripts), fresh for every repetition; repetitions alternate the order of the
# systems so the shared machine's drift hits both. While each run goes, every
# node's resident memory is sampled every 200 ms; the line reports the largest
# node's peak. After each run one 100-byte put from a new client must answer
# within 1 s (the bystander), which shows the cluster stayed available.
#
#   make build && make -C ../shared/peers/bench BUILD=/tmp/peers-build BALLOT_SRC=$PWD
#   flock /tmp/ballot-build.lock bench/large-values-peers.sh
#   REPS=1 CLIENTS="1 8" SYSTEMS="ballot" bench/large-values-peers.sh
#
# Prints one line per run: rep system clients ops/s p50_ms p99_ms errors
# peak_rss_mib bystander_ms; and keeps the raw peerbench lines in $OUT.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
peers=${PEERS_DIR:-$(cd "$root/../shared/peers" && pwd)}
peerbench=${PEERBENCH:-/tmp/peers-build/peerbench}
reps=${REPS:-2}
duration=${DURATION:-10}
value_size=${VALUE_SIZE:-1000000}
keyspace=${KEYSPACE:-50}
systems=${SYSTEMS:-"etcd ballot"}
out=${OUT:-/tmp/large-values-peers-$(date -u +%Y%m%dT%H%M%SZ).tsv}
export BALLOT_SRC=$root
export BALLOT_BIN=${BALLOT_BIN:-$root/build/bin}
dir=""
system=""
sampler=""
cleanup() {
  [ -n "$sampler" ] && kill "$sampler" 2>/dev/null || true
  if [ -n "$dir" ]; then
    "$peers/$system-cluster.sh" stop "$dir" >/dev/null 2>&1 || true
    rm -rf "$dir"
  fi
}
trap cleanup EXIT

# Largest VmRSS (KiB) over the cluster's processes, sampled until killed;
# writes the running maximum to $1.
sample_rss() {
  local file=$1 max=0 f pid rss
  while true; do
    for f in "$dir"/*.pid; do
      pid=$(cat "$f")
      rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
      [ -n "$rss" ] && [ "$rss" -gt "$max" ] && max=$rss && echo "$max" >"$file"
    done
    sleep 0.2
  done
}

# One 100-byte put through the system's own command-line client; prints its
# wall time in ms, or "failed".
bystander() {
  local eps=$1 t0 t1 ok=0
  t0=$(date +%s%N)
  case $system in
    etcd) timeout 5 etcdctl --endpoints "$eps" put /bystander "$(head -c 100 /dev/zero | tr '\0' b)" \
            >/dev/null 2>&1 && ok=1 ;;
    ballot) timeout 5 "$BALLOT_BIN/ballotctl" --endpoints "$eps" put /bystander \
              "$(head -c 100 /dev/zero | tr '\0' b)" >/dev/null 2>&1 && ok=1 ;;
    zk) ok=1 ;;  # no stock one-shot CLI worth timing here
  esac
  t1=$(date +%s%N)
  if [ "$ok" = 1 ]; then echo $(((t1 - t0) / 1000000)); else echo failed; fi
}

printf '%-4s %-7s %7s %9s %9s %9s %6s %13s %13s\n' rep system clients ops/s p50_ms p99_ms errors \
  peak_rss_mib bystander_ms
for rep in $(seq 1 "$reps"); do
  order=$systems
  [ $((rep % 2)) -eq 0 ] && order=$(tr ' ' '\n' <<<"$systems" | tac | tr '\n' ' ')
  for system in $order; do
    dir=$(mktemp -d "/tmp/ballot-large-values.XXXXXX")
    "$peers/$system-cluster.sh" start "$dir" >"$dir/start.log" 2>&1
    eps=$("$peers/$system-cluster.sh" endpoints "$dir")
    for n in ${CLIENTS:-1 8 128}; do
      rm -f "$dir/rss"
      echo 0 >"$dir/rss"
      sample_rss "$dir/rss" &
      sampler=$!
      line=$(timeout $((duration + 120)) "$peerbench" --system "$system" --endpoints "$eps" \
        --workload put --clients "$n" --duration "$duration" --warmup 2 --value-size "$value_size" \
        --keyspace "$keyspace" --tag "rep$rep" 2>>"$dir/run.log") || line=""
      kill "$sampler" 2>/dev/null || true
      wait "$sampler" 2>/dev/null || true
      sampler=""
      by=$(bystander "$eps")
      rss=$(cat "$dir/rss")
      if [ -z "$line" ]; then
        printf '%-4s %-7s %7s peerbench failed (see %s)\n' "$rep" "$system" "$n" "$dir/run.log"
        continue
      fi
      echo "$line" >>"$out"
      awk -F'\t' -v r="$rep" -v s="$system" -v rss="$rss" -v by="$by" \
        '{ printf "%-4s %-7s %7s %9.1f %9.1f %9.1f %6s %13.0f %13s\n", r, s, $4, $7, $8, $9, $13, rss / 1024, by }' \
        <<<"$line"
    done
    "$peers/$system-cluster.sh" stop "$dir" >/dev/null 2>&1 || true
    # The clients' first refusals (peerbench prints five): which error it was.
    sed "s/^/rep$rep $system: /" "$dir/run.log" >>"$out.log" 2>/dev/null || true
    rm -rf "$dir"
    dir=""
  done
done
echo "raw peerbench lines: $out; their stderr: $out.log"
