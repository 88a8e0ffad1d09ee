#!/usr/bin/env bash
# Runs a shell script inside a QEMU guest that boots this machine's Debian kernel (package
# linux-image-amd64, which has the nbd and raid456 modules) and mounts the host's root read-only
# over virtio-9p, the way virtme does: the guest runs the host's own java, nbd-client, mkfs, fio.
# The guest has no network card; programs in it talk over its loopback.
#
#   guest-run.sh [--mem MIB] [--cpus N] [--timeout SECONDS] [--share DIR]... WORKDIR SCRIPT
#
# WORKDIR (an absolute path) is shared read-write and appears at the same path in the guest, as
# does everything else of the host (read-only); /tmp, /run, /var/tmp, /mnt and /dev/shm are tmpfs
# there, so anything the script needs from under those (a checkout in /tmp, say) must be shared
# with --share: each DIR appears read-only at its own path, over the tmpfs. SCRIPT's own
# directory is shared that way too.
# SCRIPT (any path on the host; relative to the current directory) runs with bash in WORKDIR, as root.
# Its output is this script's output; its exit status is this script's exit status.
#
# Exit status 77 means the guest cannot run here (no qemu, no kernel package, no busybox); the
# message says what is missing and which Debian package provides it.
# Needs: qemu-system-x86, linux-image-amd64, busybox-static, cpio. Software emulation (TCG): programs
# run about 15 times slower than on the host.
set -euo pipefail

mem=2048
cpus=2
timeout=900
shares=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --mem) mem=$2; shift 2 ;;
    --cpus) cpus=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --share) [[ $2 = /* && -d $2 ]] || { echo "guest-run: --share needs an existing absolute directory: $2" >&2; exit 2; }
             shares+=("${2%/}"); shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    --*) echo "guest-run: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) break ;;
  esac
done
[[ $# -eq 2 ]] || { echo "usage: guest-run.sh [--mem MIB] [--cpus N] [--timeout SECONDS] [--share DIR]... WORKDIR SCRIPT" >&2; exit 2; }
work=$1
script=$2
[[ $work = /* && -d $work ]] || { echo "guest-run: WORKDIR must be an existing absolute path: $work" >&2; exit 2; }
[[ $script = /* ]] || script=$PWD/$script
[[ -f $script ]] || { echo "guest-run: no script at $script" >&2; exit 2; }
shares+=("$(dirname "$script")")
# Shares are mounted parents first, so that one inside another stays visible; WORKDIR comes last.
mapfile -t shares < <(printf '%s\n' "${shares[@]}" | sort -u)
share_mounts=
share_args=()
for i in "${!shares[@]}"; do
  share_mounts+="mkdir -p /host${shares[$i]}; mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=mmap share$i /host${shares[$i]} || { echo \"guest: cannot mount ${shares[$i]}\"; poweroff -f; }"$'\n'
  share_args+=(-virtfs "local,path=${shares[$i]},mount_tag=share$i,security_model=none,readonly=on,multidevs=remap")
done

skip() { echo "guest-run: SKIP: $*" >&2; exit 77; }
qemu=$(command -v qemu-system-x86_64) || skip "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
# The initramfs has no C library: busybox must be the static build (a dynamic one names its
# loader, /lib64/ld-linux-x86-64.so.2, inside the binary).
busybox=
for candidate in /bin/busybox /usr/bin/busybox; do
  if [[ -x $candidate ]] && ! grep -qa "/lib64/ld-linux" "$candidate"; then busybox=$candidate; break; fi
done
[[ -n $busybox ]] || skip "no static busybox (apt-get install busybox-static)"
command -v cpio > /dev/null || skip "cpio is not installed (apt-get install cpio)"
kernel=$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -1) \
  || skip "no kernel image in /boot (apt-get install linux-image-amd64)"
[[ -n $kernel ]] || skip "no kernel image in /boot (apt-get install linux-image-amd64)"
version=${kernel#/boot/vmlinuz-}
modules=/lib/modules/$version
[[ -f $modules/modules.dep ]] || skip "no modules for kernel $version in $modules (apt-get install linux-image-amd64)"

# The initramfs: busybox, the modules needed to reach the host's root over virtio-9p, and /init.
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
mkdir -p "$build/root/bin" "$build/root/lib/modules" "$build/root/proc" "$build/root/sys" "$build/root/dev" \
         "$build/root/host"
cp "$busybox" "$build/root/bin/busybox"
# Each wanted module after its dependencies, as modules.dep lists them.
order=()
want() {
  local rel=$1 dep
  for have in "${order[@]:-}"; do [[ $have = "$rel" ]] && return; done
  for dep in $(grep -E "^$rel:" "$modules/modules.dep" | cut -d: -f2); do want "$dep"; done
  order+=("$rel")
}
for m in virtio_pci 9pnet_virtio 9p; do
  rel=$(grep -oE "^[^:]*/$m\.ko[^:]*" "$modules/modules.dep" | head -1) \
    || skip "kernel $version has no module $m"
  want "$rel"
done
for rel in "${order[@]}"; do cp "$modules/$rel" "$build/root/lib/modules/"; done
names=$(for rel in "${order[@]}"; do basename "$rel"; done | tr '\n' ' ')
cat > "$build/root/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
ip link set lo up   # the only network the guest has: parityd and its clients meet on loopback
for m in $names; do insmod /lib/modules/\$m || { echo "guest: cannot load \$m"; poweroff -f; }; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=mmap host /host || { echo "guest: no host root"; poweroff -f; }
for d in tmp run var/tmp mnt; do mount -t tmpfs tmpfs /host/\$d; done
mount --rbind /dev /host/dev; mkdir -p /host/dev/shm; mount -t tmpfs tmpfs /host/dev/shm
mount -t proc proc /host/proc; mount -t sysfs sys /host/sys
# The kernel loads modules on demand (mount -t ext4, say) by running its modprobe helper in this
# initramfs, where the host's modules are out of sight: hand such requests to the host's modprobe.
printf '#!/bin/busybox sh\nexec chroot /host /sbin/modprobe "\$@"\n' > /bin/modprobe-host
chmod +x /bin/modprobe-host; echo /bin/modprobe-host > /proc/sys/kernel/modprobe
# Last: the shares and WORKDIR may lie under one of the tmpfs mounted above (/tmp, /var/tmp).
$share_mounts
mkdir -p /host$work; mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=mmap work /host$work
chroot /host /bin/sh -c 'cd $work && exec /bin/bash $script' > /dev/console 2>&1
echo \$? > /host$work/.guest-status
sync
poweroff -f
INIT
chmod +x "$build/root/init"
(cd "$build/root" && find . | cpio -o -H newc --quiet | gzip -1) > "$build/initramfs.gz"

rm -f "$work/.guest-status"
set +e
timeout --kill-after=10 "$timeout" "$qemu" -accel tcg -cpu max -m "$mem" -smp "$cpus" -nographic -no-reboot -nic none \
  -kernel "$kernel" -initrd "$build/initramfs.gz" \
  -append "console=ttyS0 panic=-1 quiet loglevel=3" \
  -virtfs "local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap" \
  "${share_args[@]}" \
  -virtfs "local,path=$work,mount_tag=work,security_model=none" </dev/null
qemu_status=$?
set -e
if [[ ! -f $work/.guest-status ]]; then
  echo "guest-run: the guest ended without running the script to its end (qemu status $qemu_status;" \
       "124 means the timeout of $timeout s)" >&2
  exit 125
fi
exit "$(cat "$work/.guest-status")"
