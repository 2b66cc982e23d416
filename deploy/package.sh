#!/usr/bin/env bash
# Builds the Debian package of this checkout: installs what the build needs (Debian 12,
# as root), makes a release build in build/release (no tests), and writes
# build/release/dualsync_<version>_amd64.deb with the three programs, their man pages and
# bash completion, the systemd units and the docs; its postinst creates the dualsync system
# user and /var/lib/dualsync. Install it with: dpkg -i build/release/dualsync_*.deb
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF -DDS_WERROR=ON
cmake --build build/release -j"$(nproc)"
(cd build/release && cpack -G DEB)
ls build/release/dualsync_*.deb
