#!/bin/sh
# run.sh BINDIR - start moat in the foreground on the example configuration.
# The configuration is copied to build/run/etc with this checkout's paths
# filled in; the queue lives in build/run/queue. Stop with Ctrl-C.
set -eu
bindir=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
run=$top/build/run
mkdir -p "$run/etc"
{
	cat "$top/examples/run/main.cf"
	echo "queue_directory = $run/queue"
	echo "daemon_directory = $bindir"
	echo "virtual_alias_maps = texthash:$run/etc/virtual"
} > "$run/etc/main.cf"
cp "$top/examples/run/master.cf" "$run/etc/master.cf"
cp "$top/examples/run/virtual" "$run/etc/virtual"
echo "moat: starting in the foreground on 127.0.0.1:2525 (config $run/etc); Ctrl-C stops it"
exec "$bindir/moatd" -c "$run/etc" -f
