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
source "$(dirname "$0")/cluster-lib.sh"
cluster_init 275

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

mode=plain
node_flags() {  # the TLS flags of node $1 in $mode
  if [ "$mode" != plain ]; then
    printf '%s\n' --client-cert "$dir/member-$1.pem" --client-key "$dir/member-$1.key" \
      --client-cacert "$dir/ca.pem" --client-cert-auth
  fi
  if [ "$mode" = full ]; then
    printf '%s\n' --peer-cacert "$dir/ca.pem" --peer-cert "$dir/member-$1.pem" \
      --peer-key "$dir/member-$1.key"
  fi
}

printf '%-6s %-6s %7s %9s %8s %8s %6s\n' mode work clients ops/s p50_us p99_us errors
for _ in $(seq "$rounds"); do
  for mode in "${modes[@]}"; do
    start_nodes
    flags=()
    if [ "$mode" != plain ]; then
      flags=(--cacert "$dir/ca.pem" --cert "$dir/bench.pem" --key "$dir/bench.key"
             --tls-server-name localhost)
    fi
    for w in "${workloads[@]}"; do
      for n in "${clients[@]}"; do
        line=$("$bin/ballot-bench" --endpoints "$endpoints" --workload "$w" --clients "$n" \
          --duration "$duration" "${flags[@]}" --json 2>/dev/null | tail -n 1)
        printf '%-6s %-6s %7s %9.0f %8s %8s %6s\n' "$mode" "$w" "$n" "$(field ops_per_s <<<"$line")" \
          "$(field p50_us <<<"$line")" "$(field p99_us <<<"$line")" "$(field errors <<<"$line")"
      done
    done
    stop_nodes
  done
done
