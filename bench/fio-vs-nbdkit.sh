#!/usr/bin/env bash
# Benchmark: fio --ioengine=nbd against parityd and against `nbdkit file` on the same disk, in
# one run, printed as parityd/nbdkit ratios:
#
#   RAID-5 on 5 member files and RAID-6 on 6 (both 4 data members): 1 MiB sequential write and
#   read at queue depth 8, 4 KiB random write and read at queue depth 32;
#   RAID-5 degraded (one member failed): the two read workloads;
#   rebuild throughput of one member, RAID-5 and RAID-6, as a fraction of one member's raw
#   sequential write speed (fio writing a fresh file of the member's size, fsync included);
#   the journal modes (issue 15), RAID-5 and RAID-6: commands (the default), data on the same
#   disk, data on tmpfs declared non-volatile, and off, on the two write workloads and on the same
#   with a FLUSH every 32 MiB (sequential) or every 256 writes (random), as ratios to off and to
#   nbdkit on the same workload;
#   HA mode (a front and two controllers on this host, commands journals) against single-process
#   commands mode on RAID-5, on the four workloads;
#   TLS (issue 17): RAID-5 served with --tls require against the plain one, and nbdkit --tls=require
#   against plain nbdkit, on the four workloads: what TLS costs each, as a fraction of its own
#   plain-text figures (certificates made here with openssl).
#
#   bench/fio-vs-nbdkit.sh [--dir DIR] [--size SIZE] [--runtime SECONDS] [--chunk SIZE]
#
# DIR (default /var/tmp/parityd-bench) holds the member files and nbdkit's file; it is removed
# afterwards. SIZE is the exported size on every side (default 4G). Each workload runs RUNTIME
# seconds (default 20) against each server, alternating servers so neither gets a warmer cache.
# Needs: fio, nbdkit, python3, a built parityd (mvn -B -q package -DskipTests). Loopback only.
set -euo pipefail

dir=/var/tmp/parityd-bench
size=4G
runtime=20
chunk=
while [[ $# -gt 0 ]]; do
  case $1 in
    --dir) dir=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --runtime) runtime=$2; shift 2 ;;
    --chunk) chunk=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
parityd=$root/bin/parityd
for tool in fio nbdkit nbdinfo python3 openssl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install fio nbdkit libnbd-bin python3 openssl)" >&2; exit 1; }
done
# PARITYD_JAR (as bin/parityd takes it) lets a run use a copy of the jar while the tree is rebuilt.
[[ -f ${PARITYD_JAR:-$root/daemon/target/parityd.jar} ]] || { echo "bench: build parityd first: mvn -B -q package -DskipTests" >&2; exit 1; }

rm -rf "$dir"; mkdir -p "$dir"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$dir"
  for j in "${nv_journals[@]}"; do rm -f "$j" "$j".clean "$j".clean.next "$j".lock "$j".state; done
}
trap cleanup EXIT

bytes=$(python3 -c "import sys;u={'K':1<<10,'M':1<<20,'G':1<<30,'T':1<<40};s=sys.argv[1];print(int(s[:-1])*u[s[-1]] if s[-1] in u else int(s))" "$size")
member_bytes=$(( bytes / 4 + (1 << 20) ))   # 4 data members at every level; 1 MiB for the superblocks
results=$dir/results.jsonl
: >"$results"

# start_parityd NAME LEVEL MEMBERS [SERVE-OPTION...]: creates and serves an array; sets uri_NAME and admin_NAME.
start_parityd() {
  local name=$1 level=$2 count=$3 files=()
  local extra=("${@:4}")
  for i in $(seq 0 $((count - 1))); do files+=("$dir/$name-m$i.img"); done
  "$parityd" create --name "$name" --level "$level" --size "$member_bytes" ${chunk:+--chunk "$chunk"} "${files[@]}" \
    >"$dir/$name-create.log" 2>&1
  "$parityd" serve --listen 127.0.0.1:0 --admin-socket "$dir/$name.sock" ${extra[@]+"${extra[@]}"} "${files[@]}" \
    >"$dir/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 600); do grep -q 'serving' "$dir/$name.log" && break; sleep 0.1; done
  local uri; uri=$(grep -o 'nbd://[^ ]*' "$dir/$name.log" | head -1)
  [[ -n $uri ]] || { cat "$dir/$name.log"; exit 1; }
  printf -v "uri_$name" '%s' "$uri"
  printf -v "admin_$name" '%s' "$dir/$name.sock"
}

run_fio() { # job uri rw bs iodepth [fio option]
  fio --name="$1" --ioengine=nbd --uri="$2" --rw="$3" --bs="$4" --iodepth="$5" ${6:+"$6"} \
      --size=100% --time_based --runtime="$runtime" --ramp_time=2 \
      --randrepeat=0 --norandommap --group_reporting --output-format=json 2>/dev/null |
    sed -n '/^{/,$p'   # fio's nbd engine prints "fio: connected to NBD server" before the JSON
}

record() { # workload server  (reads fio JSON on stdin)
  python3 -c '
import json, sys
j = json.load(sys.stdin)["jobs"][0]
side = j["write"] if j["write"]["io_bytes"] > 0 else j["read"]
print(json.dumps({"workload": sys.argv[1], "server": sys.argv[2], "iops": side["iops"], "bw": side["bw_bytes"],
                  "lat_p99_us": side["clat_ns"]["percentile"].get("99.000000", 0) / 1000}))' "$1" "$2" >>"$results"
}

# Rebuild time of slot 2 onto a fresh file, from the daemon's own log: from "rebuilding slot 2"
# to "rebuild of slot 2 ... complete" (timing the CLI would add a JVM start to it).
time_rebuild() { # name
  local name=$1 admin=admin_$1 new="$dir/$1-new.img"
  truncate -s "$member_bytes" "$new"
  "$parityd" replace --no-wait --admin-socket "${!admin}" 2 "$new" >/dev/null
  for _ in $(seq 6000); do grep -q "rebuild of slot 2 .* complete" "$dir/$name.log" && break; sleep 0.1; done
  python3 - "$dir/$name.log" <<'PY'
import re, sys, datetime
start = end = None
for line in open(sys.argv[1]):
    t = datetime.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S.%f") if re.match(r"\d{4}-", line) else None
    if "rebuilding slot 2 onto" in line:
        start = t
    elif re.search(r"rebuild of slot 2 .* complete", line):
        end = t
print((end - start).total_seconds())
PY
}

# start_ha: RAID-5 on 5 files served by a front and controllers a and b (commands journals beside
# the members); sets uri_ha once a standby is in sync.
start_ha() {
  local files=() port_a port_b
  for i in $(seq 0 4); do files+=("$dir/ha-m$i.img"); done
  "$parityd" create --name ha --level 5 --size "$member_bytes" ${chunk:+--chunk "$chunk"} "${files[@]}" \
    >"$dir/ha-create.log" 2>&1
  head -c 32 /dev/urandom | base64 >"$dir/secret"; chmod 600 "$dir/secret"
  port_a=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  port_b=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  for id in a b; do
    local port=port_$id
    "$parityd" controller --id $id --listen "127.0.0.1:${!port}" --nvram "$dir/ha-$id.nvram" \
      --secret-file "$dir/secret" --admin-socket "$dir/ha-$id.sock" "${files[@]}" >"$dir/ha-$id.log" 2>&1 &
    pids+=($!)
  done
  "$parityd" front --listen 127.0.0.1:0 --controller "a=127.0.0.1:$port_a" --controller "b=127.0.0.1:$port_b" \
    --secret-file "$dir/secret" --admin-socket "$dir/ha-front.sock" >"$dir/ha-front.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 900); do grep -q 'is STANDBY, in sync' "$dir/ha-front.log" && break; sleep 0.1; done
  grep -q 'is STANDBY, in sync' "$dir/ha-front.log" || { cat "$dir/ha-front.log"; exit 1; }
  uri_ha=$(grep -o 'nbd://[^ ]*' "$dir/ha-front.log" | head -1)
}

nv_dir=/dev/shm
[[ -d $nv_dir && -w $nv_dir ]] || nv_dir=$dir   # no tmpfs: then on the disk, which understates it
nv_journals=()
for level in 5 6; do
  count=$(( level == 5 ? 5 : 6 ))
  start_parityd "r$level" $level $count                                   # commands, the default
  start_parityd "r${level}d" $level $count --journal data
  nv_journals+=("$nv_dir/parityd-bench-$$-r$level.nvram")
  start_parityd "r${level}nv" $level $count --journal data --nvram-nonvolatile --nvram "${nv_journals[-1]}"
  start_parityd "r${level}off" $level $count --journal off
done
start_ha

# A CA and a server certificate for 127.0.0.1, in the layout both servers read (ca-cert.pem,
# server-cert.pem, server-key.pem). fio's NBD engine lets libnbd read no local file, so the
# clients skip verifying the server (tls-verify-peer=false): the cost measured is the same.
pki=$dir/pki; mkdir -p "$pki"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=bench CA" -keyout "$pki/ca-key.pem" \
  -out "$pki/ca-cert.pem" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$pki/server-key.pem" -out "$pki/server.csr" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\n' >"$pki/ext"
openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca-cert.pem" -CAkey "$pki/ca-key.pem" -CAcreateserial -days 2 \
  -extfile "$pki/ext" -out "$pki/server-cert.pem" >/dev/null 2>&1
chmod 600 "$pki/server-key.pem"
start_parityd r5tls 5 5 --tls require --tls-certificates "$pki"
uri_r5tls="nbds://${uri_r5tls#nbd://}?tls-verify-peer=false"

volume=$(grep -o "serving 'r5' ([0-9]* bytes" "$dir/r5.log" | grep -o '[0-9]* bytes' | cut -d' ' -f1)
truncate -s "$volume" "$dir/nbdkit.img" "$dir/nbdkit-tls.img"
nbdkit_port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
nbdkit -f -i 127.0.0.1 -p "$nbdkit_port" file "$dir/nbdkit.img" &
pids+=($!)
uri_nbdkit="nbd://127.0.0.1:$nbdkit_port"
for _ in $(seq 100); do nbdinfo "$uri_nbdkit" >/dev/null 2>&1 && break; sleep 0.1; done
nbdkit_tls_port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
nbdkit -f -i 127.0.0.1 -p "$nbdkit_tls_port" --tls=require --tls-certificates="$pki" file "$dir/nbdkit-tls.img" &
pids+=($!)
uri_nbdkittls="nbds://127.0.0.1:$nbdkit_tls_port/?tls-verify-peer=false"
for _ in $(seq 100); do nbdinfo "$uri_nbdkittls" >/dev/null 2>&1 && break; sleep 0.1; done

echo "parityd: RAID-5 on 5 files at $uri_r5, RAID-6 on 6 files at $uri_r6 ($(grep -o 'chunk [0-9]* KiB' "$dir/r5-create.log" || echo "chunk ${chunk:-default}"))"
echo "nbdkit:  $uri_nbdkit (file plugin, one file)"
echo "volume:  $volume bytes each, files under $dir ($(df -h --output=source,fstype "$dir" | tail -1))"
echo "runtime: ${runtime}s per workload per server"
echo

# Fill every volume first: reads read real data, not holes, and every write lands on allocated blocks.
for server in r5 r5d r5nv r5off r6 r6d r6nv r6off ha r5tls nbdkit nbdkittls; do
  uri=uri_$server
  run_fio fill "${!uri}" write 1M 8 >/dev/null
done
workloads=("seq-write write 1M 8" "seq-read read 1M 8" "rand-write randwrite 4k 32" "rand-read randread 4k 32")
for spec in "${workloads[1]}" "${workloads[3]}"; do
  set -- $spec
  for server in r5 r6 nbdkit; do
    uri=uri_$server
    run_fio "$1" "${!uri}" "$2" "$3" "$4" | record "$1" "$server"
  done
done

# The writes, in every journal mode: each level with commands (r5, r6: the default), data, data
# declared non-volatile, and off, and nbdkit; unflushed, then flushed. Back to back, so each
# server meets the disk in the state the one before left it: measured apart, a mode that ran
# right after the fill of every volume met its writeback and another did not (seq-write
# commands/off read 0.62 that way, 0.85 back to back).
for spec in "${workloads[0]}" "${workloads[2]}"; do
  set -- $spec
  for server in r5 r5d r5nv r5off r6 r6d r6nv r6off nbdkit; do
    uri=uri_$server
    run_fio "$1" "${!uri}" "$2" "$3" "$4" | record "$1" "$server"
  done
done
for spec in "seq-write-flushed write 1M 8 --fsync=32" "rand-write-flushed randwrite 4k 32 --fsync=256"; do
  set -- $spec
  for server in r5 r5d r5nv r5off r6 r6d r6nv r6off nbdkit; do
    uri=uri_$server
    run_fio "$1" "${!uri}" "$2" "$3" "$4" "$5" | record "$1" "$server"
  done
done

# HA mode against single-process commands mode (r5) on the same four workloads, back to back.
for spec in "${workloads[@]}"; do
  set -- $spec
  run_fio "$1" "$uri_r5" "$2" "$3" "$4" | record "$1" single
  run_fio "$1" "$uri_ha" "$2" "$3" "$4" | record "$1" ha
done

# TLS against plain text, parityd and nbdkit, on the same four workloads, back to back.
for spec in "${workloads[@]}"; do
  set -- $spec
  for server in r5 r5tls nbdkit nbdkittls; do
    uri=uri_$server
    run_fio "$1" "${!uri}" "$2" "$3" "$4" | record "tls-$1" "$server"
  done
done

# Degraded: RAID-5 with one member failed, reads reconstructing from the other four.
"$parityd" fail --admin-socket "$admin_r5" 2 >/dev/null
for spec in "${workloads[1]}" "${workloads[3]}"; do
  set -- $spec
  run_fio "$1" "$uri_r5" "$2" "$3" "$4" | record "degraded-$1" r5
done

# Rebuild throughput against one member's raw sequential write speed on the same disk.
fio --name=raw --ioengine=psync --filename="$dir/raw.img" --rw=write --bs=1M --size="$member_bytes" \
    --end_fsync=1 --output-format=json 2>/dev/null | record raw-member-write raw
rm -f "$dir/raw.img"
r5_seconds=$(time_rebuild r5)
"$parityd" fail --admin-socket "$admin_r6" 2 >/dev/null
r6_seconds=$(time_rebuild r6)

python3 - "$results" "$member_bytes" "$r5_seconds" "$r6_seconds" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {(r["workload"], r["server"]): r for r in rows}
member, r5_s, r6_s = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
mib = 2 ** 20

def fmt(r, w):
    return f'{r["bw"] / mib:,.0f} MiB/s' if "seq" in w else f'{r["iops"]:,.0f} IOPS'

def line(label, w, server, base):
    p, n = by[(w, server)], by[(base, "nbdkit")]
    key = "bw" if "seq" in w else "iops"
    print(f'{label:<24} {fmt(p, w):>16} {fmt(n, base):>16} {p[key] / n[key]:>7.2f}   '
          f'{p["lat_p99_us"]:>9,.0f} / {n["lat_p99_us"]:<9,.0f}')

print(f'{"workload":<24} {"parityd":>16} {"nbdkit":>16} {"ratio":>7}   {"p99 us parityd/nbdkit":>21}')
for server, label in (("r5", "RAID-5"), ("r6", "RAID-6")):
    for w in ("seq-write", "seq-read", "rand-write", "rand-read"):
        line(f"{label} {w}", w, server, w)
for w in ("seq-read", "rand-read"):
    line(f"RAID-5 degraded {w}", "degraded-" + w, "r5", w)

def value(w, server):
    r = by[(w, server)]
    return r["bw"] if "seq" in w else r["iops"]

for level in ("5", "6"):
    print()
    print(f'{"journal modes, RAID-" + level:<22} {"commands":>14} {"data":>14} {"data, nv":>14} {"off":>14} '
          f'{"nbdkit":>14}   {"commands/off":>12} {"commands/nbdkit":>15}')
    for w in ("seq-write", "rand-write", "seq-write-flushed", "rand-write-flushed"):
        servers = ["r" + level, "r" + level + "d", "r" + level + "nv", "r" + level + "off"]
        cells = [fmt(by[(w, s)], w) for s in servers] + [fmt(by[(w, "nbdkit")], w)]
        off, nbdkit = value(w, servers[3]), value(w, "nbdkit")
        print(f'{w:<22} ' + " ".join(f"{c:>14}" for c in cells)
              + f'   {value(w, servers[0]) / off:>12.2f} {value(w, servers[0]) / nbdkit:>15.2f}')
    off_server = "r" + level + "off"
    ratios = []
    for s in ("r" + level, "r" + level + "d", "r" + level + "nv"):
        seq = value("seq-write", s) / value("seq-write", off_server)
        rand = value("rand-write", s) / value("rand-write", off_server)
        ratios.append(f"{seq:.2f} / {rand:.2f}")
    print(f'{"  to off (seq / rand)":<22} ' + " ".join(f"{r:>14}" for r in ratios))

print()
print(f'{"HA vs single-process":<22} {"HA":>14} {"single":>14} {"ratio":>7}')
for w in ("seq-write", "rand-write", "seq-read", "rand-read"):
    print(f'{w:<22} {fmt(by[(w, "ha")], w):>14} {fmt(by[(w, "single")], w):>14} {value(w, "ha") / value(w, "single"):>7.2f}')

print()
print(f'{"TLS / plain text":<22} {"parityd TLS":>14} {"parityd":>14} {"nbdkit TLS":>14} {"nbdkit":>14} '
      f'{"parityd":>8} {"nbdkit":>8} {"ratio":>7}')
for w in ("seq-write", "rand-write", "seq-read", "rand-read"):
    t = "tls-" + w
    p = value(t, "r5tls") / value(t, "r5")
    n = value(t, "nbdkittls") / value(t, "nbdkit")
    print(f'{w:<22} ' + " ".join(f"{fmt(by[(t, s)], t):>14}" for s in ("r5tls", "r5", "nbdkittls", "nbdkit"))
          + f' {p:>8.2f} {n:>8.2f} {p / n:>7.2f}')
print("  (parityd, nbdkit: TLS figure as a fraction of plain; ratio: parityd's over nbdkit's, floor 1.00)")

raw = by[("raw-member-write", "raw")]["bw"]
print()
print(f'one member, raw sequential write (fio psync 1 MiB + fsync): {raw / mib:,.0f} MiB/s')
for label, seconds in (("RAID-5", r5_s), ("RAID-6", r6_s)):
    rate = (member - mib) / seconds
    print(f'{label} rebuild of one {(member - mib) / mib:,.0f} MiB member: {seconds:,.1f} s, {rate / mib:,.0f} MiB/s, '
          f'{rate / raw:.2f} of the raw write speed')
PY
