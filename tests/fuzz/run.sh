#!/bin/sh
# run.sh - run the libFuzzer targets on their corpora for a given time.
#
#   tests/fuzz/run.sh [-j N] [-m] SECONDS [target...]
#
# Every target (default: every binary in build/fuzz/bin, from `make fuzz`)
# runs for SECONDS on a scratch copy of tests/fuzz/corpus/<target>/, with
# tests/fuzz/<target>.dict if there is one, at most N targets at a time
# (default 2), under nice -n 19 (FUZZ_NICE). The repository's corpus is never
# written, except with -m: then, after the run, libFuzzer's -merge=1 adds
# to it the few inputs that reach coverage it lacked (the corpus grows only
# when you decide so, and only by what is new).
#
# A crash, leak, timeout or out-of-memory stops libFuzzer; the target is then
# started again for the time left, up to FUZZ_MAX_CRASHES times (default 3),
# so one bug does not end the run. Artifacts go to
# build/fuzz/artifacts/<target>/ (never into the repository), logs to
# build/fuzz/logs/<target>.log. The closing table has, per target: seconds
# run, executions, libFuzzer's last cov: and ft:, entries in the corpus and
# in the scratch copy at the end, entries merged into the repository (-m),
# and crashes. The exit status is 1 if any target crashed.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
bindir=${FUZZ_BIN:-$top/build/fuzz/bin}
out=$top/build/fuzz
jobs=2
merge=0

row='%-18s %7s %11s %6s %7s %7s %7s %7s %7s\n'

# run_execs LOG - executions of one libFuzzer run: its final stats, or the
# last status line's count when it stopped on a crash without them.
run_execs() {
	n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$1" | tail -n 1)
	[ -n "$n" ] || n=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$1" | tail -n 1)
	echo "${n:-0}"
}

# run_one SECONDS TARGET - one target for SECONDS; writes $out/logs/TARGET.sum.
run_one() {
	secs=$1 t=$2
	bin=$bindir/$t
	scratch=$(mktemp -d "${TMPDIR:-/tmp}/moat-fuzz-$t.XXXXXX")
	trap 'rm -rf "$scratch"' EXIT
	mkdir -p "$scratch/corpus" "$scratch/tmp" "$out/artifacts/$t" "$out/logs"
	cp -R "$top/tests/fuzz/corpus/$t/." "$scratch/corpus/"
	before=$(ls "$scratch/corpus" | wc -l)
	set -- -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$out/artifacts/$t/"
	if [ -f "$top/tests/fuzz/$t.dict" ]; then
		set -- "$@" -dict="$top/tests/fuzz/$t.dict"
	fi
	log=$out/logs/$t.log part=$scratch/part.log
	: >"$log"
	start=$(date +%s) crashes=0 execs=0 cov=- ft=-
	while :; do
		left=$((secs - ($(date +%s) - start)))
		[ "$left" -gt 0 ] || break
		rc=0
		# TMPDIR: targets that need a queue tree make it in the scratch dir.
		TMPDIR=$scratch/tmp nice -n "${FUZZ_NICE:-19}" "$bin" "$@" \
			-max_total_time="$left" "$scratch/corpus" >"$part" 2>&1 || rc=$?
		cat "$part" >>"$log"
		execs=$((execs + $(run_execs "$part")))
		last=$(grep -E '^#[0-9]+.*cov: ' "$part" | tail -n 1 || true)
		if [ -n "$last" ]; then
			cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
			ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
		fi
		[ "$rc" -eq 0 ] && break
		crashes=$((crashes + 1))
		echo "$t: libFuzzer exit $rc, see $log and $out/artifacts/$t/" >&2
		[ "$crashes" -lt "${FUZZ_MAX_CRASHES:-3}" ] || break
	done
	ran=$(($(date +%s) - start))
	added=-
	if [ "$merge" -eq 1 ] && [ "$crashes" -eq 0 ]; then
		mkdir -p "$top/tests/fuzz/corpus/$t"
		added=$(ls "$top/tests/fuzz/corpus/$t" | wc -l)
		TMPDIR=$scratch/tmp nice -n "${FUZZ_NICE:-19}" "$bin" -merge=1 "$@" \
			"$top/tests/fuzz/corpus/$t" "$scratch/corpus" >>"$log" 2>&1
		added=$(($(ls "$top/tests/fuzz/corpus/$t" | wc -l) - added))
	fi
	printf "$row" "$t" "$ran" "$execs" "$cov" "$ft" "$before" \
		"$(ls "$scratch/corpus" | wc -l)" "$added" "$crashes" >"$out/logs/$t.sum"
}

if [ "${1:-}" = "--one" ]; then
	merge=$2
	run_one "$3" "$4"
	exit 0
fi

while getopts j:m o; do
	case $o in
	j) jobs=$OPTARG ;;
	m) merge=1 ;;
	*) echo "usage: $0 [-j N] [-m] SECONDS [target...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: $0 [-j N] [-m] SECONDS [target...]" >&2; exit 2; }
secs=$1
shift
if [ $# -eq 0 ]; then
	set -- $(ls "$bindir" | grep '^fuzz_')
fi
for t in "$@"; do
	[ -x "$bindir/$t" ] || { echo "$0: no $bindir/$t (run make fuzz)" >&2; exit 2; }
	# Every target starts from its seeds (make fuzz-seeds writes them).
	[ -d "$top/tests/fuzz/corpus/$t" ] ||
		{ echo "$0: no seed corpus tests/fuzz/corpus/$t/" >&2; exit 2; }
	rm -f "$out/logs/$t.sum"
done
for d in "$top"/tests/fuzz/corpus/*/; do
	d=$(basename "$d")
	[ -f "$top/tests/fuzz/$d.c" ] ||
		echo "$0: warning: tests/fuzz/corpus/$d/ belongs to no target" >&2
done
printf '%s\n' "$@" | xargs -P "$jobs" -I{} sh "$0" --one "$merge" "$secs" {}

printf "$row" target seconds execs cov ft corpus scratch merged crashes
status=0
for t in "$@"; do
	cat "$out/logs/$t.sum"
	[ "$(awk '{print $9}' "$out/logs/$t.sum")" = 0 ] || status=1
done
exit $status
