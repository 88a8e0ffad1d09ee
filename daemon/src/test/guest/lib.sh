# Helpers for the guest scenarios (bash, sourced inside the QEMU guest, in WORKDIR).
#
# Expects in the environment (the test writes them to WORKDIR/env.sh):
#   REPO          the repository root (read-only in the guest, at the same path as on the host)
#   CDS_ARCHIVE   optional: a class-data archive of parityd made on the host (cds-archive.sh)
#
# Results for the Java test go under WORKDIR/results; logs under WORKDIR/logs. The guest's own
# files (members, journals, loop backing files) live on its tmpfs /tmp, so they cost the host
# nothing and vanish with the guest.

set -euo pipefail
WORK=$PWD
RESULTS=$WORK/results
LOGS=$WORK/logs
mkdir -p "$RESULTS" "$LOGS"
T0=$(date +%s)

# Under TCG, C2 recompilation races with QEMU's multi-threaded translation: HotSpot patches the
# entry of a method it replaces while another vCPU runs it, and the guest JVM dies with SIGSEGV
# in freshly patched code (seen in about one start in three). C1 alone patches far less; with it,
# no crash in dozens of starts. The class-data archive halves start-up (60 s to 30 s under TCG).
PARITYD_JAVA_OPTS="-Xmx512m -XX:TieredStopAtLevel=1"
if [[ -n ${CDS_ARCHIVE:-} && -f $CDS_ARCHIVE ]]; then
  PARITYD_JAVA_OPTS+=" -XX:SharedArchiveFile=$CDS_ARCHIVE -Xlog:cds=off -Xlog:cds+dynamic=off"
fi
export PARITYD_JAVA_OPTS

step() { echo "[$(( $(date +%s) - T0 )) s] $*"; }

# A variable, not a function: `"$PARITYD" serve ... &` must give $! = the daemon's own PID (the
# launcher execs java), so that stop and kill reach it and not a subshell.
PARITYD=$REPO/bin/parityd

# wait_for LOG PATTERN PID SECONDS: until LOG has a line matching PATTERN (grep -E), or fail
# if process PID exits first or SECONDS pass.
wait_for() {
  local log=$1 pattern=$2 pid=$3 limit=$4 waited=0
  until grep -qE "$pattern" "$log" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "process $pid exited before its log showed /$pattern/; its log:" >&2
      tail -40 "$log" >&2
      return 1
    fi
    if (( waited >= limit )); then
      echo "no /$pattern/ in $log after $limit s; its log:" >&2
      tail -40 "$log" >&2
      return 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
}

# count LOG PATTERN: lines of LOG matching PATTERN (grep -E), 0 if none.
count() { grep -cE "$2" "$1" 2>/dev/null || true; }

# scrape PORT NAME: saves http://127.0.0.1:PORT/metrics as RESULTS/NAME.prom
scrape() { busybox wget -q -O "$RESULTS/$2.prom" "http://127.0.0.1:$1/metrics"; }

fact() { echo "$1=$2" >> "$RESULTS/facts"; }

# workload DEVICE LABEL: the same I/O on any block device (parityd's /dev/nbd0, md's /dev/md0),
# for figures side by side: fio sequential 1 MiB writes, 4 KiB random writes and reads (direct,
# libaio, queue depth 8), then ext4 with the file set of make_files and a final sync. fio's JSON
# goes to RESULTS/fio-LABEL-JOB.json, the file copy's seconds to the facts.
workload() {
  local dev=$1 label=$2 job start
  for job in "seqwrite --rw=write --bs=1M --size=128M" "randwrite --rw=randwrite --bs=4k --size=128M --time_based --runtime=8" \
             "randread --rw=randread --bs=4k --size=128M --time_based --runtime=8"; do
    set -- $job
    fio --name="$1" --filename="$dev" --direct=1 --ioengine=libaio --iodepth=8 "${@:2}" --randseed=7 \
      --output-format=json --output="$RESULTS/fio-$label-$1.json" > /dev/null
  done
  mkfs.ext4 -F -q -E nodiscard "$dev"
  mount "$dev" /mnt/fs
  start=$(date +%s%N)
  make_files "/mnt/fs/files-$label" 40
  sync
  fact "files_seconds_$label" "$(( ($(date +%s%N) - start) / 1000000 ))e-3"
  umount /mnt/fs
}

# metric PORT SERIES: the value of one series, e.g. 'parityd_nbd_requests_total{command="flush"}'
metric() {
  busybox wget -q -O - "http://127.0.0.1:$1/metrics" | awk -v s="$2" 'index($0, s " ") == 1 { print $2; f = 1 } END { if (!f) print 0 }'
}

# stop PID [SECONDS]: SIGTERM, wait for it; its exit status is ours.
stop() {
  local pid=$1 limit=${2:-120} waited=0
  kill -TERM "$pid"
  while kill -0 "$pid" 2>/dev/null; do
    (( waited < limit )) || { echo "process $pid did not stop within $limit s" >&2; kill -KILL "$pid"; return 1; }
    sleep 1
    waited=$((waited + 1))
  done
  wait "$pid"
}

# make_files DIR COUNT: COUNT files of random sizes (4 KiB .. 2 MiB, some unaligned) of random
# bytes under DIR, and DIR.sha256 with their checksums (kept outside the filesystem).
make_files() {
  local dir=$1 n=$2 i size
  mkdir -p "$dir/sub"
  for ((i = 0; i < n; i++)); do
    size=$(( (RANDOM * 64 + RANDOM % 4096) % (2 << 20) + 4096 + i ))
    head -c "$size" /dev/urandom > "$dir/$( ((i % 3)) && echo sub/ )f$i"
  done
  (cd "$dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum) > "$RESULTS/$(basename "$dir").sha256"
}
