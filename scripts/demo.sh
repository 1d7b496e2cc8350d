#!/usr/bin/env bash
# The demo: installs what is missing, builds, brings up a 5-node lab, runs etcd under partitions for 60 s,
# prints the verdict and the store folder, and takes the lab down. Extra arguments go to `faultline demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Put `faultline` on the PATH (npm's global bin, e.g. /usr/local/bin) unless one is there already.
if ! command -v faultline >/dev/null 2>&1; then
  if npm link --no-audit --no-fund --loglevel=error >/dev/null 2>&1; then
    echo "faultline: the faultline command is now on your PATH ($(command -v faultline || echo "npm's global bin"))" >&2
  else
    echo "faultline: could not npm link; run this checkout's CLI as: node $(pwd)/dist/cli/main.js" >&2
  fi
fi
exec node dist/cli/main.js demo "$@"
