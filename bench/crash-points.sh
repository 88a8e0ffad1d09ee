#!/usr/bin/env bash
# The full crash-point sweep: CrashPointTest (a simulated crash before and after every member
# write of the write path, in every journal mode, healthy and degraded, then recovery and a
# check of every byte and of parity) over all four shapes, RAID-5 of four and six members and
# RAID-6 of five and seven. The suite runs two of them; this runs all, about 4 minutes on 2 cores.
#
#   bench/crash-points.sh
#
# Needs a built tree (mvn -B -q install -DskipTests). Files under the JVM's temp directory only.
set -euo pipefail
case ${1:-} in
  -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
  "") ;;
  *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
exec mvn -B -q -o test -pl daemon -Dtest=CrashPointTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dparityd.crashpoints.all=true
