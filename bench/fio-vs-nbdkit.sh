#!/usr/bin/env bash
# Benchmark: fio --ioengine=nbd against parityd (RAID-5 over 5 member files) and against
# `nbdkit file` (one file), both on the same disk, in one run; prints parityd/nbdkit ratios.
#
#   bench/fio-vs-nbdkit.sh [--dir DIR] [--size SIZE] [--runtime SECONDS] [--chunk SIZE]
#
# DIR (default /var/tmp/parityd-bench) holds the member files and nbdkit's file; it is
# removed afterwards. SIZE is the exported size on both sides (default 4G). Each workload
# runs RUNTIME seconds (default 20) against each server, alternating servers so neither gets
# a warmer cache. Needs: fio, nbdkit, python3, a built parityd (mvn -B -q package -DskipTests).
# Only loopback is used.
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
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
for tool in fio nbdkit python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install ${tool/python3/python3} )" >&2; exit 1; }
done
[[ -f $root/daemon/target/parityd.jar ]] || { echo "bench: build parityd first: mvn -B -q package -DskipTests" >&2; exit 1; }

rm -rf "$dir"; mkdir -p "$dir"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT

bytes=$(python3 -c "import sys;u={'K':1<<10,'M':1<<20,'G':1<<30,'T':1<<40};s=sys.argv[1];print(int(s[:-1])*u[s[-1]] if s[-1] in u else int(s))" "$size")
member_bytes=$(( bytes / 4 + (1 << 20) ))   # 4 data members; 1 MiB for the superblocks

"$root/bin/parityd" create --name bench --size "$member_bytes" ${chunk:+--chunk "$chunk"} \
  "$dir"/m0.img "$dir"/m1.img "$dir"/m2.img "$dir"/m3.img "$dir"/m4.img >"$dir/create.log" 2>&1
"$root/bin/parityd" serve --listen 127.0.0.1:0 "$dir"/m{0,1,2,3,4}.img >"$dir/parityd.log" 2>&1 &
pids+=($!)
for _ in $(seq 600); do grep -q 'serving' "$dir/parityd.log" && break; sleep 0.1; done
parityd_uri=$(grep -o 'nbd://[^ ]*' "$dir/parityd.log" | head -1)
[[ -n $parityd_uri ]] || { cat "$dir/parityd.log"; exit 1; }
parityd_size=$(grep -o "serving 'bench' ([0-9]* bytes" "$dir/parityd.log" | grep -o '[0-9]* bytes' | cut -d' ' -f1)

truncate -s "$parityd_size" "$dir/nbdkit.img"
nbdkit_port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
nbdkit -f -i 127.0.0.1 -p "$nbdkit_port" file "$dir/nbdkit.img" &
pids+=($!)
nbdkit_uri="nbd://127.0.0.1:$nbdkit_port"
for _ in $(seq 100); do nbdinfo "$nbdkit_uri" >/dev/null 2>&1 && break; sleep 0.1; done

echo "parityd: $parityd_uri (RAID-5, 5 members, $(grep -o 'chunk [0-9]* KiB' "$dir/create.log" || echo default chunk))"
echo "nbdkit:  $nbdkit_uri (file plugin, one file)"
echo "volume:  $parityd_size bytes each, files under $dir ($(df -h --output=source,fstype "$dir" | tail -1))"
echo "runtime: ${runtime}s per workload per server"
echo

run_fio() { # name uri rw bs iodepth
  fio --name="$1" --ioengine=nbd --uri="$2" --rw="$3" --bs="$4" --iodepth="$5" \
      --size="$parityd_size" --time_based --runtime="$runtime" --ramp_time=2 \
      --randrepeat=0 --norandommap --group_reporting --output-format=json 2>/dev/null |
    sed -n '/^{/,$p'   # fio's nbd engine prints "fio: connected to NBD server" before the JSON
}

results=$dir/results.jsonl
: >"$results"
# Fill both volumes first so the read workloads read real data, not holes.
run_fio fill "$parityd_uri" write 1M 8 >/dev/null
run_fio fill "$nbdkit_uri" write 1M 8 >/dev/null
for spec in "seq-write write 1M 8" "seq-read read 1M 8" "rand-write randwrite 4k 32" "rand-read randread 4k 32"; do
  set -- $spec
  for server in parityd nbdkit; do
    uri=${server}_uri
    run_fio "$1" "${!uri}" "$2" "$3" "$4" | python3 -c '
import json, sys
j = json.load(sys.stdin)["jobs"][0]
side = j["write"] if j["write"]["io_bytes"] > 0 else j["read"]
print(json.dumps({"workload": sys.argv[1], "server": sys.argv[2], "iops": side["iops"], "bw": side["bw_bytes"],
                  "lat_p99_us": side["clat_ns"]["percentile"].get("99.000000", 0) / 1000}))' "$1" "$server" >>"$results"
  done
done

python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {(r["workload"], r["server"]): r for r in rows}
print(f'{"workload":<12} {"parityd":>16} {"nbdkit":>16} {"ratio":>7}   {"p99 parityd/nbdkit (us)":>24}')
for w in ["seq-write", "seq-read", "rand-write", "rand-read"]:
    p, n = by[(w, "parityd")], by[(w, "nbdkit")]
    if w.startswith("seq"):
        fmt = lambda r: f'{r["bw"] / 2**20:,.0f} MiB/s'
        ratio = p["bw"] / n["bw"]
    else:
        fmt = lambda r: f'{r["iops"]:,.0f} IOPS'
        ratio = p["iops"] / n["iops"]
    print(f'{w:<12} {fmt(p):>16} {fmt(n):>16} {ratio:>7.2f}   {p["lat_p99_us"]:>11,.0f} / {n["lat_p99_us"]:<11,.0f}')
PY
