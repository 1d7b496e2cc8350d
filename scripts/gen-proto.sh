#!/usr/bin/env bash
# Regenerates proto/gen from proto/*.proto with Debian's protoc (never @protobuf-ts/protoc: it downloads a binary).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-proto/gen}
mkdir -p "$out"
/usr/bin/protoc --plugin=protoc-gen-ts=./node_modules/.bin/protoc-gen-ts --ts_out="$out" \
  --ts_opt=server_grpc1,client_grpc1,long_type_number,ts_nocheck,eslint_disable -I proto proto/*.proto
