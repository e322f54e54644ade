#!/usr/bin/env bash
# Refresh throughput of Sigil and dex side by side, in one run on one machine: the runs
# alternate (Sigil on SQLite, dex on its in-memory store, dex on sqlite3) for a number of
# rounds, each with a fresh database, all through the same closed-loop load generator
# (bench/load), plain HTTP on loopback, every refresh rotating. Prints one line per run:
# requests/s, p50/p99, and the server's CPU per request (its user+system time over the run,
# warm-up included, divided by the requests of the whole run at the measured rate).
#
#   DEX=/path/to/dex bench/sidebyside.sh [rounds] [seconds] [workers]
#
# dex v2.45.1 builds from its public repository with `go build ./cmd/dex`. Without DEX only
# Sigil runs. SIGIL_CONFIG picks another Sigil config (default bench/load/sigil.yaml), PORT
# another port for Sigil (default 8480; dex listens on 5556, as its config says), SIGIL a
# Sigil binary to run instead of building this tree's, ES256=1 adds a Sigil run whose access
# and ID tokens are ES256 (the ES256 API and SPA of bench/load/sigil.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3} secs=${2:-15} workers=${3:-8} warmup=2
root=$(pwd)
config=$(realpath "${SIGIL_CONFIG:-bench/load/sigil.yaml}")
work=$(mktemp -d /tmp/sigil-sidebyside.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
if [ -n "${SIGIL:-}" ]; then cp "$SIGIL" "$work/sigil"; else go build -o "$work/sigil" ./cmd/sigil; fi
go build -o "$work/load" ./bench/load
tick=$(getconf CLK_TCK)
port=${PORT:-8480}

cputicks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

waitready() { # url
  for _ in $(seq 100); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "not ready: $1" >&2; return 1
}

# run name base op ready [load flags…] -- command…: starts the server, loads it, stops it.
run() {
  local name=$1 base=$2 op=$3 ready=$4; shift 4
  local -a flags=()
  while [ "$1" != "--" ]; do flags+=("$1"); shift; done
  shift
  local dir="$work/run" && rm -rf "$dir" && mkdir -p "$dir"
  (cd "$dir" && exec "$@" >"$dir/server.log" 2>&1) &
  local pid=$!
  waitready "$ready"
  local t0 out t1
  t0=$(cputicks "$pid")
  out=$("$work/load" -base "$base" -op "$op" -c "$workers" -d "${secs}s" -warmup "${warmup}s" "${flags[@]}")
  t1=$(cputicks "$pid")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  local rps; rps=$(sed -n 's/.*rps=\([0-9.]*\).*/\1/p' <<<"$out")
  local cpu; cpu=$(awk -v d="$((t1 - t0))" -v tick="$tick" -v rps="$rps" -v s="$((secs + warmup))" \
    'BEGIN { printf "%.2f", d * 1000 / tick / (rps * s) }')
  printf '%-14s %s cpu/req=%sms load=%s\n' "$name" "$out" "$cpu" "$(cut -d' ' -f1 /proc/loadavg)"
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, $(git -C "$root" rev-parse --short HEAD), ${rounds}×${secs}s, c=$workers"
for r in $(seq "$rounds"); do
  echo "# round $r"
  run sigil-sqlite "http://127.0.0.1:$port" refresh "http://127.0.0.1:$port/readyz" -- \
    "$work/sigil" serve -c "$config" --listen "127.0.0.1:$port" --log-level warn
  if [ -n "${ES256:-}" ]; then # the SPA whose ID tokens are ES256, for the ES256 API
    run sigil-es256 "http://127.0.0.1:$port" refresh "http://127.0.0.1:$port/readyz" \
      -client 5c6d7e8f-2222-4333-8444-a55566667777 -scope "api://todo-es256/Todo.Read openid profile offline_access" -- \
      "$work/sigil" serve -c "$config" --listen "127.0.0.1:$port" --log-level warn
  fi
  if [ -n "${DEX:-}" ]; then
    run dex-memory http://127.0.0.1:5556/dex dex-refresh http://127.0.0.1:5556/dex/healthz -- \
      "$DEX" serve "$root/bench/dex/memory.yaml"
    run dex-sqlite3 http://127.0.0.1:5556/dex dex-refresh http://127.0.0.1:5556/dex/healthz -- \
      "$DEX" serve "$root/bench/dex/sqlite3.yaml"
  fi
done
