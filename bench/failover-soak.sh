#!/usr/bin/env bash
# The HA failover soak of issue 13, long: runs FailoverSoakIT (three real processes, one client
# connection held for the whole run, pipelined verified writes with FUA, WRITE_ZEROES, FLUSH and
# reads; each round kill -9 of the primary, or SIGSTOP past its lease one round in six; restart
# and rejoin; a read-back of every block) for N rounds in one run, and prints its figures: writes
# acknowledged, the stall of each failover (longest, p50, p99) and the longest rejoin.
#
#   bench/failover-soak.sh [--rounds N] [--seed S]
#
# N defaults to 50. Needs what `.ci/run` installs and a built tree (mvn -B -q install
# -DskipTests). Loopback only; files under the JVM's temp directory. The processes' logs are kept
# under /tmp/failover-soak.PID/ for reading afterwards.
set -euo pipefail

rounds=50
seed=$RANDOM$RANDOM$RANDOM
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
logs=/tmp/failover-soak.$$
mkdir -p "$logs"
echo "failover-soak: $rounds rounds, seed $seed; logs under $logs"
if ! (cd "$root" && mvn -B -q -o verify -pl daemon -Dit.test=FailoverSoakIT -Dtest=none \
        -Dsurefire.failIfNoSpecifiedTests=false -Dparityd.soak.rounds="$rounds" -Dparityd.soak.seed="$seed" \
        -Dparityd.keepLogs="$logs" >"$logs/maven.log" 2>&1); then
  grep -E 'FailoverSoakIT|AssertionFailed|round [0-9]+' "$logs/maven.log" | head -20 >&2 || true
  echo "failover-soak: FAILED (seed $seed); log: $logs/maven.log" >&2
  exit 1
fi
grep -E '^FailoverSoakIT: ' "$logs/maven.log"
