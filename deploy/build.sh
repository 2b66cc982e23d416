#!/usr/bin/env bash
# Installs missing Debian packages, then configures and builds dualsync into build/<preset>.
# Usage: deploy/build.sh [dev|asan]
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-dev}
bash deploy/install-deps.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
