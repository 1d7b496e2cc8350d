#!/usr/bin/env bash
# Sets up what is missing, builds, and runs the whole test suite with node:test (serially: lab tests share the host).
#   bash scripts/test.sh          everything (needs root: namespaces, iptables)
#   bash scripts/test.sh unit     only the pure unit tests
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The architecture (import direction, generated code at the rpc edges, no cycles): see .dependency-cruiser.cjs.
npm run --silent lint
# The shared corpus of histories lies beside the repository (../shared/corpus); a clone made somewhere else
# (git clone . /tmp/ci-check) finds it beside the repository it was cloned from.
if [ -z "${FAULTLINE_CORPUS:-}" ] && [ ! -d ../shared/corpus ]; then
  origin=$(git config --get remote.origin.url 2>/dev/null || true)
  if [ -n "$origin" ] && [ -d "$origin/../shared/corpus" ]; then
    FAULTLINE_CORPUS="$(cd "$origin/../shared/corpus" && pwd)"
    export FAULTLINE_CORPUS
  fi
fi
if [ "${1:-}" = unit ]; then
  files=$(find dist/core dist/controller dist/agent dist/cli -name '*.test.js' 2>/dev/null | sort)
else
  # Unit tests first, then process and lab tests; test/e2e/zz-* (leftover checks) run last by name.
  # Whatever faultline-made already exists (a user's running lab) is recorded, so the final leftover check
  # counts only what the suite itself left behind.
  if [ "$(id -u)" = 0 ]; then
    baseline_file="${TMPDIR:-/tmp}/faultline-test-baseline.$$.json"
    export FAULTLINE_TEST_BASELINE="$baseline_file"
    trap 'rm -f "$baseline_file"' EXIT
    if ! node dist/test/support/leftovers.js "$FAULTLINE_TEST_BASELINE"; then
      echo "test.sh: could not record what faultline-made resources exist before the suite; the final leftover check counts everything" >&2
      unset FAULTLINE_TEST_BASELINE
    fi
  fi
  files="$(find dist/core dist/controller dist/agent dist/cli -name '*.test.js' 2>/dev/null | sort) $(find dist/test -path dist/test/fixtures -prune -o -name '*.test.js' -print | sort)"
fi
# The longest lab file, and the lease-lapse one after it, run beside the rest (each on its own lab prefix, their
# output kept apart and printed after), so the suite stays under 30 minutes on 2 cores (the two take about 7.5 min,
# the rest about 20); everything else runs one file at a time, the leftover check
# (test/e2e/zz-*) last, after both. Only a file that looks at nothing host-wide may run beside: the Redis lab file
# counts libfaketime files of gone processes, and beside the SQL tests it counted theirs.
beside=""
files=$(echo $files) # one line, space-separated (find gives one file per line)
if [ "${1:-}" != unit ]; then
  for f in dist/test/e2e/etcd-workloads-lab.test.js dist/test/e2e/lease-lapse-lab.test.js; do
    case " $files " in *" $f "*) beside="$beside $f"; files=$(echo " $files " | sed "s# $f # #") ;; esac
  done
fi
last=$(for f in $files; do case "$f" in dist/test/e2e/zz-*) echo "$f" ;; esac; done)
first=$(for f in $files; do case "$f" in dist/test/e2e/zz-*) ;; *) echo "$f" ;; esac; done)
status=0
if [ -n "$beside" ]; then
  beside_log=$(mktemp "${TMPDIR:-/tmp}/faultline-test-beside.XXXXXX")
  node --test --test-concurrency=1 --test-timeout=600000 $beside >"$beside_log" 2>&1 &
  beside_pid=$!
fi
node --test --test-concurrency=1 --test-timeout=600000 $first || status=$?
if [ -n "$beside" ]; then
  beside_status=0
  wait "$beside_pid" || beside_status=$?
  echo "# --- run beside the rest:$beside (exit $beside_status)"
  cat "$beside_log"
  rm -f "$beside_log"
  [ "$beside_status" = 0 ] || status=$beside_status
fi
if [ -n "$last" ]; then node --test --test-concurrency=1 --test-timeout=600000 $last || status=$?; fi
exit "$status"
