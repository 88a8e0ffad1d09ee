#!/usr/bin/env bash
# Makes a class-data-sharing archive of parityd on the host, for the guest tests: it starts
# `parityd serve` once on a tiny array (loading the classes a start needs, Chronicle Map's runtime
# compiler among them), stops it, and lets the JVM dump what it loaded into ARCHIVE. A JVM in the
# guest that maps the archive skips most class loading and verification, which under software
# emulation is half of its start-up. The archive is only valid for this JDK and this very jar.
#
#   cds-archive.sh ARCHIVE
set -euo pipefail
[[ $# -eq 1 ]] || { echo "usage: cds-archive.sh ARCHIVE" >&2; exit 2; }
archive=$(realpath -m "$1")
repo=$(cd "$(dirname "$0")/../../../.." && pwd)
tmp=$(mktemp -d)
pid=
cleanup() { [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
"$repo/bin/parityd" create --name cds --size 8M --level 5 "$tmp"/m{0,1,2}.img > "$tmp/create.log" 2>&1 \
  || { echo "cds-archive: parityd create failed:" >&2; cat "$tmp/create.log" >&2; exit 1; }
PARITYD_JAVA_OPTS="-XX:ArchiveClassesAtExit=$archive -Xlog:cds=off -Xlog:cds+dynamic=off" \
  "$repo/bin/parityd" serve --listen 127.0.0.1:0 --metrics 127.0.0.1:0 --admin-socket "$tmp/admin.sock" \
  --nvram "$tmp/cds.nvram" --nvram-size 8M "$tmp"/m{0,1,2}.img > "$tmp/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  grep -q "serving 'cds'" "$tmp/serve.log" && break
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/serve.log" >&2; exit 1; }
  sleep 0.1
done
kill -TERM "$pid"
wait "$pid" || { echo "cds-archive: parityd did not stop cleanly:" >&2; tail -20 "$tmp/serve.log" >&2; exit 1; }
pid=
[[ -s $archive ]] || { echo "cds-archive: the JVM wrote no archive at $archive" >&2; exit 1; }
