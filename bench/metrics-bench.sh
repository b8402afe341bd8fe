#!/usr/bin/env bash
# The cost of metrics, same run: starts three ballotd processes on 127.0.0.1
# without --metrics (nothing collected, no port), runs ballot-bench, stops
# them; then with --metrics on every node and every node's /metrics scraped
# once a second for the whole run; ROUNDS times, alternating. Prints one line
# per run: mode workload clients ops/s p50 p99 errors scrapes.
#
#   bench/metrics-bench.sh [DURATION] [ROUNDS]
#   WORKLOADS=put CLIENTS=64 flock /tmp/ballot-build.lock bench/metrics-bench.sh 10 3
#   ORDER="scraped off" ...   (which mode of each pair runs first)
set -euo pipefail
duration=${1:-10}
rounds=${2:-1}
read -r -a workloads <<<"${WORKLOADS:-put}"
read -r -a clients <<<"${CLIENTS:-64}"
source "$(dirname "$0")/cluster-lib.sh"
cluster_init 276
scraper=""
bench_cleanup() { stop_scraper; }
stop_scraper() {
  if [ -n "$scraper" ]; then kill "$scraper" 2>/dev/null || true; wait "$scraper" 2>/dev/null || true; fi
  scraper=""
}
mode=off
node_flags() { [ "$mode" = scraped ] && printf '%s\n' --metrics "127.0.0.1:2768$1"; true; }

start_mode() {  # $1: off or scraped
  mode=$1
  start_nodes
  if [ "$1" = scraped ]; then
    # As Prometheus would: every node once a second, the whole exposition.
    (
      n=0
      while true; do
        for i in 1 2 3; do
          curl -sf -o /dev/null "http://127.0.0.1:2768$i/metrics" && n=$((n + 1))
        done
        echo "$n" >"$dir/scrapes"
        sleep 1
      done
    ) &
    scraper=$!
  fi
}

printf '%-8s %-6s %7s %9s %8s %8s %6s %7s\n' mode work clients ops/s p50_us p99_us errors scrapes
for _ in $(seq "$rounds"); do
  for mode in ${ORDER:-off scraped}; do
    echo 0 >"$dir/scrapes"
    start_mode "$mode"
    for w in "${workloads[@]}"; do
      for n in "${clients[@]}"; do
        line=$("$bin/ballot-bench" --endpoints "$endpoints" --workload "$w" --clients "$n" \
          --duration "$duration" --json 2>/dev/null | tail -n 1)
        printf '%-8s %-6s %7s %9.0f %8s %8s %6s %7s\n' "$mode" "$w" "$n" "$(field ops_per_s <<<"$line")" \
          "$(field p50_us <<<"$line")" "$(field p99_us <<<"$line")" "$(field errors <<<"$line")" \
          "$(cat "$dir/scrapes")"
      done
    done
    stop_scraper
    stop_nodes
  done
done
