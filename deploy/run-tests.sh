#!/usr/bin/env bash
# Builds dualsync and runs every test. Installs missing Debian packages first.
# Usage: deploy/run-tests.sh [all|dev|asan|valgrind|fuzz]      (default: all)
#   dev       style check, RelWithDebInfo build, ctest: unit + integration tests
#   asan      the same suite built with ASan + UBSan (leaks and UB fail it)
#   valgrind  the unit tests under valgrind memcheck (dev build)
#   fuzz      each libFuzzer target for FUZZ_SECONDS (default 15) from its seed corpus
#   all       dev, valgrind, asan, fuzz — what CI runs
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

run_dev() {
    bash deploy/check-format.sh
    bash deploy/build.sh dev
    ctest --preset dev -j 2
}
run_asan() {
    bash deploy/build.sh asan
    ctest --preset asan -j 2
}
run_valgrind() {
    [ -x build/dev/tests/unit/test_ids ] || bash deploy/build.sh dev
    bash deploy/run-valgrind.sh build/dev
}
run_fuzz() {
    bash deploy/install-deps.sh
    cmake --preset fuzz -DDS_FUZZ_SECONDS="${FUZZ_SECONDS:-15}" >/dev/null
    cmake --build --preset fuzz -j "$(nproc)" --target fuzz_frame fuzz_event fuzz_config fuzz_ids \
        fuzz_csv
    ctest --preset fuzz -j "$(nproc)" # one target per core: each runs alone in its process
}

case "$what" in
dev) run_dev ;;
asan) run_asan ;;
valgrind) run_valgrind ;;
fuzz) run_fuzz ;;
# One after the other, not "a && b": inside an && list bash ignores set -e, and a failed
# style check or build in run_dev went unnoticed whenever its ctest passed.
all)
    run_dev
    run_valgrind
    run_asan
    run_fuzz
    ;;
*)
    echo "usage: $0 [all|dev|asan|valgrind|fuzz]" >&2
    exit 2
    ;;
esac
