#!/usr/bin/env bash
# The demo: installs what is missing, builds, brings up a 5-node lab, runs etcd under partitions for 60 s,
# prints the verdict and the store folder, and takes the lab down. Extra arguments go to `faultline demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node dist/cli/main.js demo "$@"
