#!/usr/bin/env bash
# Runs one fuzz target for a bounded time on a scratch copy of its seed corpus (the repo's
# corpus is never written). A crash leaves its input in the work dir and fails the run.
# Usage: tests/fuzz/run.sh BUILD_DIR TARGET SECONDS
set -euo pipefail
build=$1 target=$2 seconds=$3
src=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/ds-fuzz-$target.XXXXXX")
cp -r "$src/corpus/$target" "$work/corpus"
cd "$work"
if "$build/tests/fuzz/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 corpus >"$work/log" 2>&1; then
    grep -E "stat::number_of_executed_units|stat::new_units_added" "$work/log" | tr '\n' ' '
    echo "fuzz $target: ok"
    rm -rf "$work"
else
    tail -40 "$work/log"
    echo "fuzz $target: CRASH — reproducer kept in $work (crash-*); make it a regression test"
    exit 1
fi
