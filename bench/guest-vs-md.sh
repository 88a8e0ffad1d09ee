#!/usr/bin/env bash
# parityd against Linux md RAID-5 in one QEMU guest: GuestKernelIT with its reference workload
# (fio 1 MiB sequential writes, 4 KiB random writes and reads at QD 8 through the kernel's NBD
# client, then 40 files on ext4 with a sync), the same on md over loop devices on the same
# tmpfs. Prints a table of figures and ratios (TCG emulation: compare within one run only);
# it is also left in daemon/target/guest/kernel-client/figures.txt. About 6 minutes on 2 cores.
#
#   bench/guest-vs-md.sh
#
# Needs a built tree (mvn -B -q install -DskipTests) and what the suite's guest tests need
# (qemu-system-x86, linux-image-amd64; see the README's test command).
set -euo pipefail
case ${1:-} in
  -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
  "") ;;
  *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mvn -B -q -o verify -pl daemon -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=GuestKernelIT \
  -Dparityd.guest.reference=true
cat daemon/target/guest/kernel-client/figures.txt
