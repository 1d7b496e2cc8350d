#!/usr/bin/env bash
# Builds, then runs the test suite with node:test. `scripts/test.sh unit` runs only the pure unit tests.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json
if [ "${1:-}" = unit ]; then
  files=$(find dist/core dist/controller dist/agent dist/cli -name '*.test.js' 2>/dev/null | sort)
else
  files=$(find dist -path dist/test/fixtures -prune -o -name '*.test.js' -print | sort)
fi
exec node --test --test-concurrency=1 $files
