#!/bin/sh
# Reports the size of build/reef (stripped, static) for docs/BENCHMARKS.md.
# Usage: bench/size.sh [BINARY]
set -eu
bin=${1:-build/reef}
bytes=$(stat -c %s "$bin")
printf 'binary: %s\nbytes: %s\nMiB: %s\n' "$bin" "$bytes" "$(echo "scale=2; $bytes / 1048576" | bc 2>/dev/null || awk "BEGIN{printf \"%.2f\", $bytes/1048576}")"
file "$bin" | sed 's/^[^:]*: //'
