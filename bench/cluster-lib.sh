# Sourced by the bench scripts: ballotd processes on 127.0.0.1 with fresh data
# directories under $dir, stopped (and $dir removed) when the script exits.
#
#   source "$(dirname "$0")/cluster-lib.sh"
#   cluster_init 274            # peers 127.0.0.1:2741N, clients 127.0.0.1:2740N
#   start_nodes [FLAGS...]      # members 1..3, each waited for ("ballotd ready")
#   node_flags() { ...; }       # optional: more flags for node $1, printed one a line
#   stop_nodes
#
# Sets: bin, dir, peers, endpoints, pids (by node id). `field NAME` reads a
# number from a ballot-bench --json line on stdin.

bin=${BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/bin}
declare -A pids=()

cluster_init() {  # $1: the port prefix (three digits)
  port_base=$1
  dir=$(mktemp -d "/tmp/ballot-bench-$port_base.XXXXXX")
  peers="1=127.0.0.1:${port_base}11,2=127.0.0.1:${port_base}12,3=127.0.0.1:${port_base}13"
  endpoints="127.0.0.1:${port_base}01,127.0.0.1:${port_base}02,127.0.0.1:${port_base}03"
  trap cluster_cleanup EXIT
}

cluster_cleanup() {
  stop_nodes
  if declare -F bench_cleanup >/dev/null; then bench_cleanup; fi
  rm -rf "$dir"
}

wait_ready() {  # $1: node id; gives up after 30 s
  for _ in $(seq 300); do
    grep -q "ballotd ready" "$dir/node$1.log" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "node $1 did not start:" >&2
  cat "$dir/node$1.log" >&2
  return 1
}

start_nodes() {  # FLAGS for every node
  rm -rf "$dir/data"
  local i extra
  for i in 1 2 3; do
    extra=()
    if declare -F node_flags >/dev/null; then mapfile -t extra < <(node_flags "$i"); fi
    "$bin/ballotd" --id "$i" --peers "$peers" --client "127.0.0.1:${port_base}0$i" \
      --data-dir "$dir/data/$i" "$@" "${extra[@]}" >"$dir/node$i.log" 2>&1 &
    pids[$i]=$!
  done
  for i in 1 2 3; do wait_ready "$i"; done
}

stop_nodes() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}

field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }
