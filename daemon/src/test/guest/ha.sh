# Guest scenario: HA mode under the kernel's NBD client. Two controllers and a front in the
# guest; ext4 on /dev/nbd0; fio writes and verifies a file on it while the primary controller is
# killed with SIGKILL (attached with nbd-client), then while the front is killed with SIGKILL and
# started again (attached with parityd attach, which reconnects). The filesystem must see no I/O
# error either time. Run by GuestHaIT through guest-run.sh.
. ./env.sh
. "$REPO/daemon/src/test/guest/lib.sh"

M=/tmp/members
mkdir -p "$M" /mnt/fs
modprobe nbd

step "create a RAID-5 array of 4 members"
"$PARITYD" create --name vol0 --size 64M --level 5 "$M"/m{0,1,2,3}.img > "$LOGS/create.log" 2>&1
head -c 32 /dev/urandom | base64 > "$M/secret" && chmod 600 "$M/secret"
# Every buffer that crosses a thread or a link has one owner, and GuestHaIT fails on a leak or a
# reference-count error in the daemons' logs. The detector samples here ('advanced': one buffer in
# 128, with its access records) rather than tracking every buffer ('paranoid'): paranoid records a
# stack trace at each buffer access, which under TCG emulation made this scenario 2.5 minutes
# slower. The same HA paths run under paranoid on the host (FailoverIT, HaFaultsIT, FailoverSoakIT),
# and a reference-count error is reported at any level.
PARITYD_JAVA_OPTS+=" -Dio.netty.leakDetection.level=advanced"
declare -A pid
start_controller() {
  local id=$1 port mport
  port=$([[ $id = a ]] && echo 10810 || echo 10811)
  mport=$([[ $id = a ]] && echo 9811 || echo 9812)
  "$PARITYD" controller --id $id --listen 127.0.0.1:$port --nvram "$M/$id.nvram" --nvram-size 32M \
    --secret-file "$M/secret" --admin-socket "$M/$id.sock" --metrics 127.0.0.1:$mport "$M"/m{0,1,2,3}.img \
    >> "$LOGS/controller-$id.log" 2>&1 &
  pid[$id]=$!
}
# (--lease 5s: under emulation a healthy controller can be silent for longer than the default
# 500 ms, and the front would rightly fence it; this test wants the kills to be the only failures.)
# start_front N: the front's Nth start, logging to front-N.log ($flog); at the end front.log has
# them all, for the tests.
start_front() {
  flog=$LOGS/front-$1.log
  "$PARITYD" front --listen 127.0.0.1:10809 --controller a=127.0.0.1:10810 --controller b=127.0.0.1:10811 \
    --secret-file "$M/secret" --admin-socket "$M/front.sock" --metrics 127.0.0.1:9810 --lease 5s \
    > "$LOGS/front-$1.log" 2>&1 &
  front=$!
  wait_for "$flog" "front: serving array 'vol0'" $front 400
}
# wait_writes BASE N PID: until the front has answered N writes more than BASE (at most 120 s),
# or process PID (the workload) has ended; leaves the front's write count in $writes.
wait_writes() {
  local _
  for _ in $(seq 1 120); do
    writes=$(metric 9810 'parityd_nbd_requests_total{command="write"}')
    (( ${writes%.*} - ${1%.*} >= $2 )) && return
    kill -0 "$3" 2>/dev/null || return 0
    sleep 1
  done
}
start_controller a
start_controller b
step "started controllers a (${pid[a]}) and b (${pid[b]}); starting the front"
start_front 1
wait_for "$flog" "is STANDBY, in sync" $front 300
primary=$(grep -oE "front: controller [ab] is (PRIMARY|primary)" "$flog" | tail -1 | awk '{print $3}')
standby=$([[ $primary = a ]] && echo b || echo a)
fact primary_before "$primary"
step "controller $primary is primary, $standby is its standby, in sync"

nbd-client -N vol0 127.0.0.1 10809 /dev/nbd0 > "$LOGS/nbd-client.log" 2>&1
mkfs.ext4 -F -q /dev/nbd0
mount /dev/nbd0 /mnt/fs
dmesg -C

step "fio: random 8 KiB writes to a 24 MiB file on ext4, fdatasync every 32, verified (crc32c)"
fio --name=ha --filename=/mnt/fs/fio.dat --size=24M --rw=randwrite --bs=8k --ioengine=libaio --iodepth=8 \
  --direct=1 --fdatasync=32 --verify=crc32c --verify_fatal=1 --do_verify=1 --randseed=11 \
  --output-format=json --output="$RESULTS/fio-ha.json" > "$LOGS/fio.log" 2>&1 &
fio=$!
# Kill once the front has answered a good number of fio's writes, so the kill lands mid-run.
wait_writes 0 1500 $fio
fact writes_before_kill "$writes"
kill -0 $fio 2>/dev/null && fact fio_running_at_kill yes
step "kill -9 the primary, controller $primary (pid ${pid[$primary]}), with $writes writes answered"
kill -KILL "${pid[$primary]}"
wait "${pid[$primary]}" 2>/dev/null || true
wait $fio && fact fio_exit 0 || fact fio_exit $?
step "fio finished"
fact writes_after "$(metric 9810 'parityd_nbd_requests_total{command="write"}')"
grep -oE "front: controller [ab] is (PRIMARY|primary)" "$flog" | tail -1 | awk '{print $3}' > "$RESULTS/primary_after"
fact primary_after "$(cat "$RESULTS/primary_after")"
scrape 9810 front
dmesg > "$LOGS/dmesg.log"
fact kernel_io_errors "$(count "$LOGS/dmesg.log" 'I/O error|blk_update_request|EXT4-fs error|Buffer I/O')"

step "unmount, fsck, and read the file back through a fresh attach"
umount /mnt/fs
fsck.ext4 -fn /dev/nbd0 > "$LOGS/fsck.ext4.log" 2>&1 && fact fsck_ext4 0 || fact fsck_ext4 $?
nbd-client -d /dev/nbd0 >> "$LOGS/nbd-client.log" 2>&1
nbd-client -N vol0 127.0.0.1 10809 /dev/nbd0 >> "$LOGS/nbd-client.log" 2>&1
mount /dev/nbd0 /mnt/fs   # not ro: fio opens its file for writing even to verify only
fio --name=ha --filename=/mnt/fs/fio.dat --size=24M --rw=randwrite --bs=8k --ioengine=libaio --iodepth=8 \
  --direct=1 --verify=crc32c --verify_fatal=1 --verify_only --randseed=11 \
  --output-format=json --output="$RESULTS/fio-ha-reverify.json" > "$LOGS/fio-reverify.log" 2>&1 \
  && fact reverify_exit 0 || fact reverify_exit $?
umount /mnt/fs
nbd-client -d /dev/nbd0 >> "$LOGS/nbd-client.log" 2>&1

step "part 2: controller $primary comes back as standby; attach with parityd attach"
start_controller $primary
# As a URI, the way libnbd tools and parityd's own log write the address.
"$PARITYD" attach --connections 4 --timeout 10s nbd://127.0.0.1:10809/vol0 > "$LOGS/attach.log" 2>&1 &
attach=$!
wait_for "$LOGS/attach.log" "attached /dev/nbd0" $attach 120
mount /dev/nbd0 /mnt/fs
wait_for "$flog" "controller $primary is STANDBY, in sync" $front 300
dmesg -C
step "fio on a second file, then kill -9 the front and start it again"
fio --name=ha2 --filename=/mnt/fs/fio2.dat --size=16M --rw=randwrite --bs=8k --ioengine=libaio --iodepth=8 \
  --direct=1 --fdatasync=32 --verify=crc32c --verify_fatal=1 --do_verify=1 --randseed=12 \
  --output-format=json --output="$RESULTS/fio-front.json" > "$LOGS/fio-front.log" 2>&1 &
fio=$!
base=$(metric 9810 'parityd_nbd_requests_total{command="write"}')
wait_writes "$base" 800 $fio
kill -0 $fio 2>/dev/null && fact fio_running_at_front_kill yes
kill -KILL $front
wait $front 2>/dev/null || true
step "front killed with $(( ${writes%.*} - ${base%.*} )) writes of fio answered; starting it again"
start_front 2
wait $fio && fact fio_front_exit 0 || fact fio_front_exit $?
step "fio finished"
dmesg > "$LOGS/dmesg-front.log"
fact kernel_io_errors_front "$(count "$LOGS/dmesg-front.log" 'I/O error|blk_update_request|EXT4-fs error|Buffer I/O')"
fact attach_reconnects "$(count "$LOGS/attach.log" 'reconnected to')"
umount /mnt/fs
fsck.ext4 -fn /dev/nbd0 > "$LOGS/fsck.ext4-front.log" 2>&1 && fact fsck_ext4_front 0 || fact fsck_ext4_front $?
stop $attach && fact attach_exit 0 || fact attach_exit $?

step "stop the front and both controllers (SIGTERM)"
stop $front && fact front_exit 0 || fact front_exit $?
stop "${pid[$standby]}" && fact survivor_exit 0 || fact survivor_exit $?
stop "${pid[$primary]}" && fact returned_exit 0 || fact returned_exit $?
cat "$LOGS"/front-[0-9].log > "$LOGS/front.log"
"$PARITYD" check "$M"/m{0,1,2,3}.img > "$LOGS/check.log" 2>&1 && fact parity_check 0 || fact parity_check $?
step done
