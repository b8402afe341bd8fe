#!/usr/bin/env bash
# A three-node Ballot cluster secured end to end, on this machine, from nothing:
#   1. a cluster CA, one certificate per member (CN member-<id>, for the peer port and, with
#      DNS:localhost, for the client port) and one per client user (CN root, CN alice);
#   2. three ballotd with mutual TLS between members, TLS with required client certificates
#      on the client port, and an audit log;
#   3. users and roles: root, then authentication on, then alice who may read and write app/.
#
#   examples/tls_cluster.sh [--dir DIR] [--check]
#
# Without --check the nodes keep running and the script prints how to talk to them and how to
# stop them. With --check it also verifies what the cluster allows and refuses, stops the
# nodes and exits 0 only if everything held (ctest runs it so: ExampleTlsClusterTest).
# Environment: BIN (where ballotd and ballotctl are; default build/bin), PORT_BASE (client
# ports PORT_BASE+1..3, peer ports PORT_BASE+11..13; default 7400).
set -euo pipefail

dir=./ballot-tls-cluster
check=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir=$2; shift 2 ;;
    --check) check=1; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "tls_cluster.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
bin=${BIN:-$(cd "$(dirname "$0")/.." && pwd)/build/bin}
base=${PORT_BASE:-7400}
for tool in "$bin/ballotd" "$bin/ballotctl"; do
  [ -x "$tool" ] || { echo "tls_cluster.sh: $tool is not built (run make first, or set BIN)" >&2; exit 2; }
done
command -v openssl >/dev/null || { echo "tls_cluster.sh: needs the openssl command" >&2; exit 2; }
if [ -e "$dir/data" ]; then
  echo "tls_cluster.sh: $dir/data exists: a cluster was made there already (remove $dir, or use --dir)" >&2
  exit 2
fi
mkdir -p "$dir/tls" "$dir/data"
dir=$(cd "$dir" && pwd)
tls=$dir/tls

# -- 1. certificates (EC P-256; keep ca.key off the nodes in real life)
echo "== certificates in $tls"
ssl() { openssl "$@" 2>/dev/null >/dev/null; }
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
ssl req -x509 "${ec[@]}" -days 365 -subj "/CN=Ballot example CA" \
  -keyout "$tls/ca.key" -out "$tls/ca.pem" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
sign() {  # NAME CN SAN-LINE
  ssl req -new "${ec[@]}" -subj "/CN=$2" -keyout "$tls/$1.key" -out "$tls/$1.csr"
  printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n%s\n' "$3" >"$tls/$1.ext"
  ssl x509 -req -days 365 -in "$tls/$1.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
    -CAcreateserial -extfile "$tls/$1.ext" -out "$tls/$1.pem"
}
for id in 1 2 3; do
  sign "member-$id" "member-$id" "subjectAltName=DNS:member-$id,DNS:localhost"
done
sign root root ""
sign alice alice ""
chmod 600 "$tls"/*.key

# -- 2. the nodes
peers="1=127.0.0.1:$((base + 11)),2=127.0.0.1:$((base + 12)),3=127.0.0.1:$((base + 13))"
endpoints="localhost:$((base + 1)),localhost:$((base + 2)),localhost:$((base + 3))"
echo "== starting 3 nodes (peers $peers)"
pids=()
for id in 1 2 3; do
  "$bin/ballotd" --id "$id" --peers "$peers" --client "127.0.0.1:$((base + id))" \
    --data-dir "$dir/data/$id" --audit-log "$dir/audit-$id.log" \
    --peer-cacert "$tls/ca.pem" --peer-cert "$tls/member-$id.pem" --peer-key "$tls/member-$id.key" \
    --client-cert "$tls/member-$id.pem" --client-key "$tls/member-$id.key" \
    --client-cacert "$tls/ca.pem" --client-cert-auth >"$dir/node-$id.log" 2>&1 &
  pids+=($!)
done
echo "${pids[*]}" >"$dir/pids"
stop() {
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
for id in 1 2 3; do
  for _ in $(seq 150); do
    grep -q "ballotd ready" "$dir/node-$id.log" && break
    kill -0 "${pids[$((id - 1))]}" 2>/dev/null || { cat "$dir/node-$id.log" >&2; stop; exit 1; }
    sleep 0.1
  done
  grep -q "ballotd ready" "$dir/node-$id.log" || { echo "node $id did not start" >&2; stop; exit 1; }
done

# -- 3. users and roles (before `auth enable` anyone may make them; after, only root)
as() {  # CERT-NAME ballotctl-args...
  local who=$1
  shift
  "$bin/ballotctl" --endpoints "$endpoints" --timeout 10 --cacert "$tls/ca.pem" \
    --cert "$tls/$who.pem" --key "$tls/$who.key" "$@"
}
echo "== users: root (the root role), alice (readwrite app/)"
as root user add root --new-password - <<<'change-me-root' >/dev/null
as root user grant root root >/dev/null
as root auth enable >/dev/null
export BALLOT_PASSWORD=change-me-root
as root --user root role add app >/dev/null
as root --user root role grant app readwrite app/ >/dev/null
as root --user root user add alice --no-password >/dev/null  # known by her certificate's CN
as root --user root user grant alice app >/dev/null
unset BALLOT_PASSWORD
as alice put app/color blue >/dev/null
echo "alice: app/color = $(as alice get app/color | head -1)"

if [ "$check" = 1 ]; then
  fail() { echo "CHECK FAILED: $*" >&2; stop; exit 1; }
  [ "$(as alice get app/color | head -1)" = blue ] || fail "alice cannot read what she wrote"
  set +e
  as alice put other/color red >/dev/null 2>&1
  [ $? -eq 1 ] || fail "alice may write outside app/"
  as alice user list >/dev/null 2>&1
  [ $? -eq 1 ] || fail "alice may list users"
  "$bin/ballotctl" --endpoints "$endpoints" --timeout 3 --cacert "$tls/ca.pem" \
    get app/color >/dev/null 2>&1
  [ $? -ne 0 ] || fail "a client without a certificate was served"
  BALLOT_PASSWORD=wrong as root --user root get app/color >/dev/null 2>&1
  [ $? -eq 1 ] || fail "a wrong password was accepted"
  set -e
  grep -q "result=denied" "$dir"/audit-*.log || fail "the audit logs have no denial"
  as root --user root --password change-me-root --json status >/dev/null || fail "status as root"
  stop
  echo "== check passed; the cluster is stopped ($dir)"
  exit 0
fi

cat <<EOF
== running: pids ${pids[*]} (stop them with: kill \$(cat $dir/pids))
Talk to it as alice (her certificate is her identity):
  $bin/ballotctl --endpoints $endpoints --cacert $tls/ca.pem \\
    --cert $tls/alice.pem --key $tls/alice.key get app/color
or as root (password change-me-root):
  BALLOT_PASSWORD=change-me-root $bin/ballotctl --endpoints $endpoints --cacert $tls/ca.pem \\
    --cert $tls/root.pem --key $tls/root.key --user root user list
Logs: $dir/node-*.log, audit: $dir/audit-*.log
EOF
