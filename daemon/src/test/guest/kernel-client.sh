# Guest scenario: the kernel's NBD client against `parityd serve`, with ext4 and XFS on top; with
# REFERENCE=1 in env.sh (bench/guest-vs-md.sh), then a fio and ext4 workload on parityd and the
# same on Linux md RAID-5 for reference. Run by GuestKernelIT through guest-run.sh;
# the test asserts on what this leaves in results/ and logs/ (facts, metric scrapes, checksums,
# parityd's log), so a failed step here fails the scenario at once (set -e) and the test shows why.
. ./env.sh
. "$REPO/daemon/src/test/guest/lib.sh"

M=/tmp/members
mkdir -p "$M" /mnt/fs
modprobe nbd
port=10809 metrics=9810

step "a CA and a server certificate for 127.0.0.1 (openssl), for TLS"
P=/tmp/pki; mkdir -p "$P"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=guest CA" -keyout "$P/ca-key.pem" -out "$P/ca-cert.pem" \
  > "$LOGS/pki.log" 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$P/server-key.pem" -out "$P/server.csr" >> "$LOGS/pki.log" 2>&1
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$P/ext"
openssl x509 -req -in "$P/server.csr" -CA "$P/ca-cert.pem" -CAkey "$P/ca-key.pem" -CAcreateserial -days 2 \
  -extfile "$P/ext" -out "$P/server-cert.pem" >> "$LOGS/pki.log" 2>&1
chmod 600 "$P/server-key.pem"
# nbd-client's TLS: -x, the CA to check the server with, the name its certificate must carry.
TLS=(-x -A "$P/ca-cert.pem" -H 127.0.0.1)

step "create a RAID-5 array of 4 members (XFS wants at least 300 MiB)"
"$PARITYD" create --name vol0 --size 136M --level 5 "$M"/m{0,1,2,3}.img > "$LOGS/create.log" 2>&1
step "start parityd serve (TLS offered: the ext4 part attaches through it, the rest in plain text)"
"$PARITYD" serve --listen 127.0.0.1:$port --metrics 127.0.0.1:$metrics --nvram "$M/vol0.nvram" --nvram-size 32M \
  --tls on --tls-certificates "$P" "$M"/m{0,1,2,3}.img > "$LOGS/serve.log" 2>&1 &
serve=$!
wait_for "$LOGS/serve.log" "serving 'vol0'" $serve 300
step "parityd serves"

step "attach with one connection, through TLS: nbd-client -N vol0 -x -A ca-cert.pem -H 127.0.0.1 127.0.0.1 $port /dev/nbd0"
nbd-client -N vol0 "${TLS[@]}" 127.0.0.1 $port /dev/nbd0 > "$LOGS/nbd-client.log" 2>&1
fact device_bytes "$(blockdev --getsize64 /dev/nbd0)"
fact logical_block_size "$(blockdev --getss /dev/nbd0)"
fact max_request_kib "$(cat /sys/block/nbd0/queue/max_hw_sectors_kb)"
scrape $metrics attached

step "512-byte direct I/O at an offset that is not 4 KiB-aligned"
head -c 512 /dev/urandom > /tmp/sector
dd if=/tmp/sector of=/dev/nbd0 bs=512 seek=13 count=1 oflag=direct status=none
dd if=/dev/nbd0 of=/tmp/sector.back bs=512 skip=13 count=1 iflag=direct status=none
cmp /tmp/sector /tmp/sector.back && fact sector_roundtrip ok

step "32 MiB direct write and read: the kernel's largest request"
# The driver allows 32 MiB (max_hw_sectors_kb); the block layer's default cap is smaller, and
# raising it is what a user tuning for large I/O does.
fact max_sectors_kb_default "$(cat /sys/block/nbd0/queue/max_sectors_kb)"
fact max_segments "$(cat /sys/block/nbd0/queue/max_segments)"
echo 32768 > /sys/block/nbd0/queue/max_sectors_kb
head -c 32M /dev/urandom > /tmp/big
dd if=/tmp/big of=/dev/nbd0 bs=32M seek=1 count=1 oflag=direct status=none
dd if=/dev/nbd0 of=/tmp/big.back bs=32M skip=1 count=1 iflag=direct status=none
cmp /tmp/big /tmp/big.back && fact big_roundtrip ok
rm -f /tmp/big /tmp/big.back
scrape $metrics raw-io

step "mkfs.ext4 (discards the whole device first)"
mkfs.ext4 -F -q /dev/nbd0 > "$LOGS/mkfs.ext4.log" 2>&1
scrape $metrics mkfs-ext4
mount /dev/nbd0 /mnt/fs
step "write files on ext4"
make_files /mnt/fs/ext4 40
flush_before=$(metric $metrics 'parityd_nbd_requests_total{command="flush"}')
dd if=/dev/urandom of=/mnt/fs/fsynced bs=64k count=4 conv=fsync status=none
flush_after=$(metric $metrics 'parityd_nbd_requests_total{command="flush"}')
fact flush_before_fsync "$flush_before"
fact flush_after_fsync "$flush_after"
umount /mnt/fs
step "fsck.ext4 -fn"
fsck.ext4 -fn /dev/nbd0 > "$LOGS/fsck.ext4.log" 2>&1 && fact fsck_ext4 0 || fact fsck_ext4 $?
nbd-client -d /dev/nbd0 >> "$LOGS/nbd-client.log" 2>&1
step "reattach through TLS (a fresh device: no page cache) and check every file"
nbd-client -N vol0 "${TLS[@]}" 127.0.0.1 $port /dev/nbd0 >> "$LOGS/nbd-client.log" 2>&1
mount -o ro /dev/nbd0 /mnt/fs
(cd /mnt/fs/ext4 && sha256sum --quiet -c "$RESULTS/ext4.sha256") > "$LOGS/verify-ext4.log" 2>&1 && fact verify_ext4 ok
umount /mnt/fs
nbd-client -d /dev/nbd0 >> "$LOGS/nbd-client.log" 2>&1

step "attach with four connections: nbd-client -C 4"
nbd-client -N vol0 -C 4 127.0.0.1 $port /dev/nbd0 >> "$LOGS/nbd-client.log" 2>&1
fact connections_with_C4 "$(metric $metrics 'parityd_nbd_connections')"
step "mkfs.xfs"
mkfs.xfs -f -q /dev/nbd0 > "$LOGS/mkfs.xfs.log" 2>&1
scrape $metrics mkfs-xfs
mount /dev/nbd0 /mnt/fs
step "write files on XFS"
make_files /mnt/fs/xfs 40
umount /mnt/fs
step "xfs_repair -n"
xfs_repair -n /dev/nbd0 > "$LOGS/xfs_repair.log" 2>&1 && fact xfs_repair 0 || fact xfs_repair $?
nbd-client -d /dev/nbd0 >> "$LOGS/nbd-client.log" 2>&1
nbd-client -N vol0 -C 4 127.0.0.1 $port /dev/nbd0 >> "$LOGS/nbd-client.log" 2>&1
mount -o ro /dev/nbd0 /mnt/fs
(cd /mnt/fs/xfs && sha256sum --quiet -c "$RESULTS/xfs.sha256") > "$LOGS/verify-xfs.log" 2>&1 && fact verify_xfs ok
umount /mnt/fs
nbd-client -d /dev/nbd0 >> "$LOGS/nbd-client.log" 2>&1

if [ "${REFERENCE:-0}" = 1 ]; then
  step "the reference workload on parityd (one connection)"
  nbd-client -N vol0 127.0.0.1 $port /dev/nbd0 >> "$LOGS/nbd-client.log" 2>&1
  workload /dev/nbd0 parityd
  step "disconnect"
  nbd-client -d /dev/nbd0 >> "$LOGS/nbd-client.log" 2>&1
fi
sleep 1
scrape $metrics detached

step "stop parityd (SIGTERM) and check every stripe's parity"
stop $serve && fact serve_exit 0 || fact serve_exit $?
"$PARITYD" check "$M"/m{0,1,2,3}.img > "$LOGS/check.log" 2>&1 && fact parity_check 0 || fact parity_check $?

rm -f "$M"/*

[ "${REFERENCE:-0}" = 1 ] || { step done; exit 0; }
step "the same workload on Linux md RAID-5 over 4 loop devices on the same tmpfs"
modprobe loop; modprobe raid456
for i in 0 1 2 3; do truncate -s 136M "$M/md$i.img"; loops[$i]=$(losetup -f --show "$M/md$i.img"); done
# --assume-clean: no initial resync competing with the workload (parityd's fresh array needs none).
mdadm --create /dev/md0 --run --quiet --level=5 --raid-devices=4 --chunk=64 --assume-clean "${loops[@]}" \
  > "$LOGS/mdadm.log" 2>&1
workload /dev/md0 md
mdadm --stop /dev/md0 >> "$LOGS/mdadm.log" 2>&1
for l in "${loops[@]}"; do losetup -d "$l"; done
step done
