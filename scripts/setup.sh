#!/usr/bin/env bash
# Installs what faultline needs when it is missing (Debian packages, npm packages) and builds it. Idempotent.
# Needs root for apt-get and, later, for the lab's namespaces and iptables.
set -euo pipefail
cd "$(dirname "$0")/.."

need_node_major=20
if ! command -v node >/dev/null 2>&1 || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt "$need_node_major" ]; then
  echo "faultline: Node.js >= $need_node_major is required (node -v: $(node -v 2>/dev/null || echo none))" >&2
  exit 254
fi

# command -> Debian package
declare -A pkgs=(
  [nats-server]=nats-server [etcd]=etcd-server [etcdctl]=etcd-client [iptables]=iptables
  [faketime]=faketime [ip]=iproute2 [protoc]=protobuf-compiler [openssl]=openssl [systemd-analyze]=systemd
  [redis-server]=redis-server [redis-sentinel]=redis-sentinel [chromium]=chromium [script]=bsdutils [tar]=tar
  [setpriv]=util-linux [/usr/lib/postgresql/15/bin/postgres]=postgresql [mariadbd]=mariadb-server
  [/usr/lib/galera/libgalera_smm.so]=galera-4 [rsync]=rsync
)
missing=()
for cmd in "${!pkgs[@]}"; do
  # A command on PATH or in /usr/sbin, or an absolute path to a file (a library such as Galera's provider).
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || { [ "${cmd#/}" != "$cmd" ] && [ -e "$cmd" ]; } || missing+=("${pkgs[$cmd]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "faultline: missing Debian packages: ${missing[*]} (run as root, or apt-get install -y ${missing[*]})" >&2
    exit 254
  fi
  echo "faultline: installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "faultline: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
npx tsc -p tsconfig.json
