#!/usr/bin/env bash
# The machine's fdatasync latency, as issue 14's put-at-one-client target
# measures it: one writer appending 100 bytes to a preallocated file and
# syncing after each, in DIR (default: a fresh directory under /tmp, the
# disk the benchmark clusters use). Prints p50 and p99 in microseconds.
#   bench/fdatasync-latency.sh [COUNT] [DIR]
set -euo pipefail
count=${1:-2000}
dir=${2:-}
[[ $count =~ ^[1-9][0-9]*$ ]] || { echo "COUNT must be a positive integer, not '$count'" >&2; exit 2; }
command -v python3 >/dev/null || { echo "needs python3 (apt-get install python3)" >&2; exit 2; }
own=""
if [[ -z $dir ]]; then
  dir=$(mktemp -d /tmp/fdatasync.XXXXXX)
  own=$dir
fi
trap '[[ -n $own ]] && rm -rf "$own"' EXIT
python3 - "$count" "$dir" <<'PY'
import os, sys, time
count, d = int(sys.argv[1]), sys.argv[2]
path = os.path.join(d, "fdatasync-latency.bin")
fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
# Allocated ahead, as the log's active segment is: a sync then commits no new size.
os.posix_fallocate(fd, 0, (count + 1) * 100)
os.fsync(fd)
rec, took = b"x" * 100, []
for i in range(count):
    os.pwrite(fd, rec, i * 100)
    t = time.perf_counter_ns()
    os.fdatasync(fd)
    took.append((time.perf_counter_ns() - t) / 1000)
os.close(fd)
os.unlink(path)
took.sort()
print(f"fdatasync of 100 bytes, {count} syncs in {d}: p50 {took[len(took) // 2]:.0f} us, "
      f"p99 {took[int(len(took) * 0.99)]:.0f} us")
PY
