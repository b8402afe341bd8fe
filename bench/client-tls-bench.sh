#!/usr/bin/env bash
# TLS against plaintext, same run: starts three ballotd processes on 127.0.0.1
# in each mode of MODES, runs ballot-bench for each workload and client count,
# stops them; ROUNDS times, alternating. Modes: plain (no TLS), client (TLS on
# the client endpoints, client certificates required, --client-cert-auth),
# full (that and mutual TLS between members, --peer-cacert/--peer-cert/
# --peer-key). The CA and certificates are made with the openssl command in a
# temporary directory. Prints one line per run: mode workload clients ops/s
# p50 p99 errors.
#
#   bench/client-tls-bench.sh [DURATION] [ROUNDS]
#   WORKLOADS="put lock" CLIENTS="1 64" MODES="plain full" bench/client-tls-bench.sh 10 2
set -euo pipefail
duration=${1:-10}
rounds=${2:-1}
read -r -a workloads <<<"${WORKLOADS:-put lock}"
read -r -a clients <<<"${CLIENTS:-1 64}"
read -r -a modes <<<"${MODES:-plain client full}"
bin=${BIN:-$(cd "$(dirname "$0")/.." && pwd)/build/bin}
dir=$(mktemp -d /tmp/ballot-tls-bench.XXXXXX)
peers="1=127.0.0.1:27511,2=127.0.0.1:27512,3=127.0.0.1:27513"
endpoints="127.0.0.1:27501,127.0.0.1:27502,127.0.0.1:27503"
pids=()
stop_nodes() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
cleanup() {
  stop_nodes
  rm -rf "$dir"
}
trap cleanup EXIT

# A CA, one certificate per member (CN member-<id>, DNS names member-<id> and
# localhost: it serves the peer port and the client port) and one for the client.
ssl() { openssl "$@" >/dev/null 2>&1; }
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
ssl req -x509 "${ec[@]}" -days 1 -subj /CN=bench-ca -keyout "$dir/ca.key" -out "$dir/ca.pem"
for name in member-1 member-2 member-3 bench; do
  ssl req -new "${ec[@]}" -subj "/CN=$name" -keyout "$dir/$name.key" -out "$dir/$name.csr"
  ssl x509 -req -days 1 -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -CAcreateserial -out "$dir/$name.pem" \
    -extfile <(printf 'extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:%s,DNS:localhost\n' "$name")
done

start_nodes() {  # $1: plain, client or full
  rm -rf "$dir/data"
  for i in 1 2 3; do
    local tls=()
    if [ "$1" != plain ]; then
      tls=(--client-cert "$dir/member-$i.pem" --client-key "$dir/member-$i.key"
           --client-cacert "$dir/ca.pem" --client-cert-auth)
    fi
    if [ "$1" = full ]; then
      tls+=(--peer-cacert "$dir/ca.pem" --peer-cert "$dir/member-$i.pem"
            --peer-key "$dir/member-$i.key")
    fi
    "$bin/ballotd" --id "$i" --peers "$peers" --client "127.0.0.1:2750$i" \
      --data-dir "$dir/data/$i" "${tls[@]}" >"$dir/node$i.log" 2>&1 &
    pids+=($!)
  done
  for i in 1 2 3; do
    for _ in $(seq 100); do grep -q "ballotd ready" "$dir/node$i.log" && break; sleep 0.1; done
  done
}

printf '%-6s %-6s %7s %9s %8s %8s %6s\n' mode work clients ops/s p50_us p99_us errors
for _ in $(seq "$rounds"); do
  for mode in "${modes[@]}"; do
    start_nodes "$mode"
    flags=()
    if [ "$mode" != plain ]; then
      flags=(--cacert "$dir/ca.pem" --cert "$dir/bench.pem" --key "$dir/bench.key"
             --tls-server-name localhost)
    fi
    for w in "${workloads[@]}"; do
      for n in "${clients[@]}"; do
        line=$("$bin/ballot-bench" --endpoints "$endpoints" --workload "$w" --clients "$n" \
          --duration "$duration" "${flags[@]}" --json 2>/dev/null | tail -n 1)
        field() { echo "$line" | sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }
        printf '%-6s %-6s %7s %9.0f %8s %8s %6s\n' "$mode" "$w" "$n" "$(field ops_per_s)" \
          "$(field p50_us)" "$(field p99_us)" "$(field errors)"
      done
    done
    stop_nodes
  done
done
