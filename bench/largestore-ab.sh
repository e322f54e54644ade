#!/usr/bin/env bash
# Refresh on the 1 M-family store against a fresh one, alternating (ABBA, then BAAB) for four
# rounds: each large run on a fresh copy of the seeded data folder (so no run sees another's
# writes or a first pruning), each small run on an empty folder. Plain HTTP on loopback,
# bench/load, 8 workers, 10 s after 2 s of warm-up. bench/large-store.md has the results.
#
#   go run ./bench/largestore seed -storage sqlite:/data/big/sigil-load-data/sigil.db   # once, ~2 min
#   bench/largestore-ab.sh /data/big/sigil-load-data
set -euo pipefail
cd "$(dirname "$0")/.."
seeded=$(realpath "$1")
config=$(realpath bench/load/sigil.yaml)
work=$(mktemp -d /tmp/sigil-largestore-ab.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/sigil" ./cmd/sigil
go build -o "$work/load" ./bench/load

runone() { # small | large
  rm -rf "$work/run" && mkdir "$work/run"
  if [ "$1" = large ]; then cp -r "$seeded" "$work/run/sigil-load-data" && sync; fi
  (cd "$work/run" && exec "$work/sigil" serve -c "$config" --log-level warn >"$work/run/server.log" 2>&1) &
  local pid=$!
  for _ in $(seq 200); do curl -fsS -o /dev/null http://127.0.0.1:8480/readyz 2>/dev/null && break; sleep 0.1; done
  printf '%-6s %s load=%s\n' "$1" "$("$work/load" -op refresh -c 8 -d 10s -warmup 2s)" "$(cut -d' ' -f1 /proc/loadavg)"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, $(git rev-parse --short HEAD)"
for r in 1 2 3 4; do
  echo "# round $r"
  if [ $((r % 2)) = 1 ]; then order="small large large small"; else order="large small small large"; fi
  for v in $order; do runone "$v"; done
done
