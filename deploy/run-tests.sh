#!/usr/bin/env bash
# Builds dualsync and runs every test (unit, integration) with ctest.
# Usage: deploy/run-tests.sh [dev|asan]   (asan: ASan + UBSan build of the whole suite)
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-dev}
bash deploy/check-format.sh
bash deploy/build.sh "$preset"
ctest --preset "$preset" -j 2
