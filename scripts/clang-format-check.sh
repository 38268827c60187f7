#!/usr/bin/env bash
# Fails when a file under native/ is not formatted as .clang-format says.
set -euo pipefail
cd "$(dirname "$0")/.."
find native -name '*.cc' -o -name '*.h' | sort | xargs clang-format --dry-run --Werror
