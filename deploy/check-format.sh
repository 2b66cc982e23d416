#!/usr/bin/env bash
# Style is enforced by a tool, not by review: every C file must be as .clang-format
# (Debian 12's clang-format 14) writes it. Fix with: clang-format -i $(git ls-files '*.c' '*.h')
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || bash deploy/install-deps.sh
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find common broker node tests -name '*.[ch]')
if ! clang-format --dry-run --Werror $files; then
    echo "check-format: files above are not clang-formatted; run clang-format -i on them" >&2
    exit 1
fi
echo "check-format: $(echo $files | wc -w) files clean"
