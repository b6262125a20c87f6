#!/bin/sh
# run.sh BINDIR [bench.py options] - build the disk probe and run the
# moat-vs-Postfix benchmark (options: --messages N, --scenarios plain,tables,
# --verify; see bench.py).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bindir=$1
shift
mkdir -p "$top/build/bench"
cc -O2 -Wall -o "$top/build/bench/disk_commit" "$top/bench/disk_commit.c"
exec /usr/bin/python3 "$top/bench/bench.py" "$bindir" "$top/build/bench/disk_commit" "$@"
