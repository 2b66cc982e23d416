#!/usr/bin/env bash
# Installs the Debian 12 packages dualsync needs to build, test and run. Idempotent: when
# every package is already installed it changes nothing and touches no network.
set -euo pipefail

PACKAGES=(
    build-essential cmake pkg-config         # toolchain
    protobuf-c-compiler libprotobuf-c-dev    # wire schemas (protoc-c at build time)
    libzmq3-dev libczmq-dev                  # transport: ZeroMQ with CURVE, zloop
    librocksdb-dev                           # the event log
    libsodium-dev                            # Ed25519 signatures, BLAKE2b digests
    libjansson-dev                           # --json output and the control API
    libinih-dev                              # node.conf, broker.conf, identity cards
    libmicrohttpd-dev                        # the web consoles (HTTP, HTTPS through GnuTLS)
    libxlsxwriter-dev                        # reports as .xlsx workbooks (common/sheet.c)
    libcsv-dev                               # member rosters (import members); no .pc file
    libcmocka-dev                            # unit tests
    jq python3                               # integration tests and the demo street
    clang-format                             # the style check the test command runs
    clang libclang-rt-14-dev                 # libFuzzer targets (clang's fuzzer runtime)
    valgrind                                 # memcheck over the unit tests
    curl prometheus                          # console tests: HTTP, and promtool for /metrics
    iproute2                                 # the package test: loopback up in its own network namespace
    chromium chromium-driver python3-selenium fonts-noto-cjk  # the console in a real browser
)

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#PACKAGES[@]} packages present"
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
