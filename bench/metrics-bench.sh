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
bin=${BIN:-$(cd "$(dirname "$0")/.." && pwd)/build/bin}
dir=$(mktemp -d /tmp/ballot-metrics-bench.XXXXXX)
peers="1=127.0.0.1:27611,2=127.0.0.1:27612,3=127.0.0.1:27613"
endpoints="127.0.0.1:27601,127.0.0.1:27602,127.0.0.1:27603"
pids=()
scraper=""
stop_nodes() {
  if [ -n "$scraper" ]; then kill "$scraper" 2>/dev/null || true; wait "$scraper" 2>/dev/null || true; fi
  scraper=""
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
cleanup() {
  stop_nodes
  rm -rf "$dir"
}
trap cleanup EXIT

start_nodes() {  # $1: off or scraped
  rm -rf "$dir/data"
  for i in 1 2 3; do
    local m=()
    [ "$1" = scraped ] && m=(--metrics "127.0.0.1:2768$i")
    "$bin/ballotd" --id "$i" --peers "$peers" --client "127.0.0.1:2760$i" \
      --data-dir "$dir/data/$i" "${m[@]}" >"$dir/node$i.log" 2>&1 &
    pids+=($!)
  done
  for i in 1 2 3; do
    for _ in $(seq 100); do grep -q "ballotd ready" "$dir/node$i.log" && break; sleep 0.1; done
  done
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
    start_nodes "$mode"
    for w in "${workloads[@]}"; do
      for n in "${clients[@]}"; do
        line=$("$bin/ballot-bench" --endpoints "$endpoints" --workload "$w" --clients "$n" \
          --duration "$duration" --json 2>/dev/null | tail -n 1)
        field() { echo "$line" | sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }
        printf '%-8s %-6s %7s %9.0f %8s %8s %6s %7s\n' "$mode" "$w" "$n" "$(field ops_per_s)" \
          "$(field p50_us)" "$(field p99_us)" "$(field errors)" "$(cat "$dir/scrapes")"
      done
    done
    stop_nodes
  done
done
