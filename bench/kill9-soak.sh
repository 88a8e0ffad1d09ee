#!/usr/bin/env bash
# Soak test for G1: runs Kill9IT (kill -9 of the real daemon at random moments under pipelined
# random writes, verifying every acknowledged write, torn blocks and parity after each restart)
# for many rounds, in batches, each batch with a fresh seed. Stops at the first failing batch and
# prints its seed so it can be repeated with -Dparityd.kill9.seed.
#
#   bench/kill9-soak.sh [--rounds N] [--batch M]
#
# N (default 1000) rounds in all, M (default 50) per JVM run. Needs what `.ci/run` installs and a
# built tree (mvn -B -q install -DskipTests). Loopback only; files under the JVM's temp directory.
set -euo pipefail

rounds=1000
batch=50
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
done_rounds=0
while (( done_rounds < rounds )); do
  n=$(( rounds - done_rounds < batch ? rounds - done_rounds : batch ))
  seed=$RANDOM$RANDOM$RANDOM
  echo "kill9-soak: rounds $((done_rounds + 1))..$((done_rounds + n)) of $rounds, seed $seed"
  if ! (cd "$root" && mvn -B -q -o verify -pl daemon -Dit.test=Kill9IT -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false \
          -Dparityd.kill9.rounds="$n" -Dparityd.kill9.seed="$seed" >/tmp/kill9-soak.$$.log 2>&1); then
    echo "kill9-soak: FAILED in the batch with seed $seed; log: /tmp/kill9-soak.$$.log" >&2
    exit 1
  fi
  done_rounds=$(( done_rounds + n ))
done
echo "kill9-soak: $rounds rounds, no acknowledged write lost, no torn block, parity clean"
