#!/usr/bin/env bash
# The NBD fuzzer of issue 14, long: runs NbdFuzzIT (several threads of fuzzed handshakes and
# requests against one real daemon, while a well-behaved client connects, reads a known pattern and
# writes and reads back its own blocks) for N seconds in one run, and prints its figures: cases,
# bytes sent, how often and how fast the well-behaved client was served, the daemon's largest RSS
# and its open files before and after. The suite runs the same test for 45 s.
#
#   bench/nbd-fuzz.sh [--seconds N] [--seed S]
#
# N defaults to 600. Needs what `.ci/run` installs and a built tree (mvn -B -q install
# -DskipTests). Loopback only. The Maven log is kept under /tmp/nbd-fuzz.PID/.
set -euo pipefail

seconds=600
seed=$RANDOM$RANDOM$RANDOM
while [[ $# -gt 0 ]]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
logs=/tmp/nbd-fuzz.$$
mkdir -p "$logs"
echo "nbd-fuzz: $seconds s, seed $seed; log under $logs"
if ! (cd "$root" && mvn -B -q -o verify -pl daemon -Dit.test=NbdFuzzIT -Dtest=none \
        -Dsurefire.failIfNoSpecifiedTests=false -Dparityd.fuzz.seconds="$seconds" -Dparityd.fuzz.seed="$seed" \
        >"$logs/maven.log" 2>&1); then
  grep -E 'NbdFuzzIT|AssertionFailed|expected|first failure' "$logs/maven.log" | head -20 >&2 || true
  echo "nbd-fuzz: FAILED (seed $seed); log: $logs/maven.log" >&2
  exit 1
fi
grep -E '^NbdFuzzIT: ' "$logs/maven.log"
