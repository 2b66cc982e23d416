#!/usr/bin/env bash
# Runs every unit test under valgrind memcheck: any invalid read or write, use of
# uninitialised memory, or definite/indirect leak fails the run. ("Still reachable"
# blocks are RocksDB's process-wide singletons and are not leaks.)
# Usage: deploy/run-valgrind.sh [BUILD_DIR]   (a dev build with tests; default build/dev)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/dev}
command -v valgrind >/dev/null || bash deploy/install-deps.sh
failed=0 count=0
for t in "$build"/tests/unit/test_*; do
    [ -x "$t" ] || continue
    count=$((count + 1))
    if ! valgrind --quiet --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
        "$t" >"$t.valgrind.log" 2>&1; then
        echo "valgrind: $(basename "$t") FAILED; see $t.valgrind.log" >&2
        grep -v "unimplemented fcntl" "$t.valgrind.log" | tail -30 >&2
        failed=$((failed + 1))
    fi
done
echo "valgrind: $((count - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
