#!/bin/sh
# run.sh BINDIR - build the disk probe and run the moat-vs-Postfix benchmark.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$top/build/bench"
cc -O2 -Wall -o "$top/build/bench/disk_commit" "$top/bench/disk_commit.c"
exec /usr/bin/python3 "$top/bench/bench.py" "$1" "$top/build/bench/disk_commit"
