#!/usr/bin/env bash
# Benchmarks custody beside raw SQLite and Emmett's SQLite event store, in one run on this
# machine: builds what it needs (Release, build/bench), runs every measurement, prints the
# table and writes bench/results.json. docs/PERFORMANCE.md explains the figures.
#
#   bench/run.sh           the full run: 1M events, 10 s per load level (a few minutes)
#   bench/run.sh --quick   a smoke test: 50k events, 2 s per level (Emmett skipped when it is
#                          not installed yet); results in build/bench/results-quick.json
#
# Set CUSTODY_BENCH_NO_PEER=1 to skip Emmett, CUSTODY_BENCH_DIR=DIR to keep the databases in
# DIR/run (about 2 GB for the full run) rather than build/bench/run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

mode=full
[ "${1:-}" = "--quick" ] && mode=quick

if [ "$mode" = quick ]; then
  events=50000 level_seconds=2 tenants=100 members=3000 queries=300 ceiling_seconds=2
  emmett_single=100 emmett_streams=100
else
  events=1000000 level_seconds=10 tenants=200 members=24000 queries=3000 ceiling_seconds=5
  emmett_single=1000 emmett_streams=1000
fi
streams=1000
batch=20000

./scripts/install-deps.sh

# -O2 -g rather than Release's -O3: symbols for perf, and GCC 12 at -O3 reports a false
# -Wrestrict in std::string code, which -Werror turns into a failed build.
build=build/bench
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -g -DNDEBUG" \
  -DCUSTODY_BUILD_TESTS=OFF -DCUSTODY_BUILD_BENCH=ON >/dev/null
cmake --build "$build" --target custody custody_bench custody_load -j "$(nproc)" >/dev/null
custody=$root/$build/custody
bench=$root/$build/custody_bench
load=$root/$build/custody_load

work=${CUSTODY_BENCH_DIR:-$root/$build}/run
rm -rf "$work"
mkdir -p "$work"
results=$work/results.jsonl
: >"$results"
log() { echo "bench: $*" >&2; }
record() { tee -a "$results"; }

server_pid=
# The server is not this shell's child (custody_load starts it): poll until it has gone.
wait_gone() { while kill -0 "$1" 2>/dev/null; do sleep 0.05; done; }
stop_server() {  # SIGTERM: a clean stop, which writes a projection checkpoint
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait_gone "$server_pid"
    server_pid=
  fi
}
trap stop_server EXIT

# Starts `custody serve` on $1 at $port and records the time until $3 (default: a state
# query) is answered, labelled $2.
start_server() {
  local line
  line=$("$load" first-answer --port "$port" --token "$token" --label "$2" \
    --path "${3:-/v1/tenants/t0000/marketo}" --log "$work/server.log" -- \
    "$custody" serve --db "$1" --listen "127.0.0.1:$port")
  echo "$line" | record >/dev/null
  server_pid=$(echo "$line" | sed 's/.*"pid":\([0-9]*\).*/\1/')
}
server_memory() {
  local kib
  kib=$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")
  echo "{\"bench\":\"server_memory\",\"phase\":\"$1\",\"vmhwm_mib\":$((kib / 1024))}" | record
}
add_token() { "$custody" token add --role operator --name bench --db "$1" | grep '^cst_'; }

log "mode $mode; databases in $work"
port=$("$load" free-port)

# 1. Durable commands over HTTP, and the plain SQLite ceiling of one commit per event.
log "ceiling: one durable SQLite commit per event for ${ceiling_seconds}s"
"$bench" ceiling --db "$work/ceiling.db" --seconds "$ceiling_seconds" | record
log "commands over HTTP: $tenants tenants, $members members, 1/8/64 connections"
token=$(add_token "$work/http.db")
start_server "$work/http.db" http /healthz
"$load" prepare --port "$port" --token "$token" --tenants "$tenants" --members "$members" | record
first=0
for connections in 1 8 64; do
  share=$((connections == 1 ? members / 12 : connections == 8 ? members / 3 : members - members / 12 - members / 3))
  "$load" commands --port "$port" --token "$token" --tenants "$tenants" --first-member "$first" \
    --members "$share" --connections "$connections" --seconds "$level_seconds" | record
  first=$((first + share))
done
server_memory load
stop_server

# 2. Bulk append (import) beside plain SQLite at the same batch size.
log "bulk append: $events events over $streams streams, batches of $batch"
db=$work/custody.db
peer_input=$work/peer.tsv
"$bench" import --db "$db" --baseline-db "$work/plain.db" --events "$events" \
  --streams "$streams" --batch "$batch" --peer-out "$peer_input" | record

# 3. Replay and verify beside a plain full scan of the same table.
log "replay, verify and a plain scan of $events events"
"$bench" scan --db "$db" | record
"$bench" replay --db "$db" | record
"$bench" verify --db "$db" | record

# 5 (first part). The first start has no projection snapshot: it replays the whole log.
token=$(add_token "$db")
start_server "$db" no_snapshot
# 4. Queries at this size.
log "queries: $queries requests of each kind"
"$load" queries --port "$port" --token "$token" --requests "$queries" \
  --tenants $(((streams + 9) / 10)) | record
server_memory queries
# 5. Restart after a clean stop (checkpoint at the head), then after a kill with an older one.
stop_server
start_server "$db" clean
# A tail after that checkpoint: new tenants and members, then a kill (no checkpoint on the way).
"$load" prepare --port "$port" --token "$token" --tenants "$tenants" --members "$members" \
  | sed 's/"prepare"/"unclean_tail"/' | record
kill -KILL "$server_pid"
wait_gone "$server_pid"
server_pid=
start_server "$db" unclean
stop_server

# 6. The peer: Emmett's SQLite event store on the same payloads.
if [ "${CUSTODY_BENCH_NO_PEER:-}" = 1 ]; then
  echo '{"bench":"emmett_skipped","reason":"CUSTODY_BENCH_NO_PEER=1"}' | record
elif [ "$mode" = quick ] && [ ! -d bench/node_modules/@event-driven-io/emmett-sqlite ]; then
  echo '{"bench":"emmett_skipped","reason":"not installed (quick mode)"}' | record
else
  if [ ! -d bench/node_modules/@event-driven-io/emmett-sqlite ]; then
    log "installing Emmett into bench/node_modules (sqlite3 builds from source)"
    if ! command -v npm >/dev/null; then
      apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
    fi
    (cd bench && npm ci --no-audit --no-fund >/dev/null)
  fi
  log "Emmett: batched appends, read all, single appends"
  # The same events, limited to the first streams in quick mode (Emmett commits per stream).
  awk -F'\t' -v keep="$emmett_streams" '!($1 in seen) { seen[$1] = ++n } seen[$1] <= keep' \
    "$peer_input" >"$work/peer-subset.tsv"
  # The peer failing does not fail the run: it is reported in the table.
  if ! node bench/emmett_bench.mjs "$work/peer-subset.tsv" "$work" --single "$emmett_single" \
    --per-call 1000 | record; then
    echo '{"bench":"emmett_skipped","reason":"the Emmett script failed (see above)"}' | record
  fi
fi

# The full run's results are kept in the repository; a smoke test's stay in the build tree.
out=bench/results.json
[ "$mode" = quick ] && out=$build/results-quick.json
echo
"$bench" report --in "$results" --out "$out" --mode "$mode" \
  --machine "$(uname -srm)" --cores "$(nproc)" \
  --cpu "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)" \
  --disk "$(df --output=fstype "$work" | tail -1 | tr -d ' ') filesystem" \
  --sqlite "$(sqlite3 --version | cut -d' ' -f1)" --date "$(date -u +%FT%TZ)" \
  --commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "bench: results in $out"
