#!/bin/sh
# run-unit.sh - run each unit test binary; fail if any fails. Prints a
# closing "N passed, N failed" line that counts test binaries.
pass=0; fail=0
for t in "$@"; do
	if "$t"; then pass=$((pass+1)); else echo "FAILED: $t"; fail=$((fail+1)); fi
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
