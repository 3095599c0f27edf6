#!/bin/bash
# scripts/bench-server.sh - the server's benchmarks (docs/perf-server.md).
#
#   scripts/bench-server.sh [--quick] [--keep] [--strict]
#
# Builds actlog-server and the benchmark tools into $BUILD (default build),
# works under $BUILD/bench/server/ and writes $BUILD/bench/server.json:
#
#   1. store    actlog-storebench: the raw put rate of the store on this
#               machine (1-put commits, N-put commits, ingest-shaped commits)
#   2. ingest   actlog-load against a fresh server, for full agent batches
#               (1000 records), small ones (100) and tiny ones (10, what a
#               quiet agent sends after each spool sync); storebench's N-put
#               commits (N = the batch size) run before and after each load
#               run, and the ratio raw/ingest takes the mean of the two, so
#               both figures come from the same minute (these machines are
#               noisy); medians over the runs
#   3. check    a small dataset seeded straight into one store and sent
#               through ingest into another must dump the same RECORDS,
#               ROLLUPS and latest sysinfo (the seed is what ingest keeps)
#   4. queries  actlog-seed: 200 machines x 30 days seeded, then the
#               dashboard's queries over HTTP, from the rollups in process
#               and from raw records (a forced scan), p50/p99
#   5. latency  actlog-latency: GET /api/v1/me, one request after another
#               over a keep-alive connection, while 100 idle keep-alive
#               connections are open (p50/p99/max)
#
# --quick is the CI variant (under a minute: shorter runs, 20 machines x 7
# days). --keep keeps the stores (the full dataset is about 8 GB). --strict
# exits 3 when a target is missed. Exit status 1 when a step fails, or when
# the answers or the seed check disagree.
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
BUILD=${BUILD:-build}
QUICK=0
KEEP=0
STRICT=0
for a in "$@"; do
	case $a in
	--quick) QUICK=1 ;;
	--keep) KEEP=1 ;;
	--strict) STRICT=1 ;;
	-h | --help)
		sed -n '2,/^set /p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "bench-server: unknown option '$a' (try --help)" >&2
		exit 2
		;;
	esac
done

OUT=$BUILD/bench
W=$OUT/server
JSON=$OUT/server.json
ADMIN=bench@example.com

if [ $QUICK = 1 ]; then
	SB_SECONDS=1 REPS=1
	FULL_BATCHES=100 SMALL_BATCHES=600 TINY_BATCHES=600
	MACHINES=20 TEAMS=2 DAYS=7 RUNS=50 RAW_RUNS=5
else
	SB_SECONDS=3 REPS=3
	FULL_BATCHES=400 SMALL_BATCHES=3000 TINY_BATCHES=3000
	MACHINES=200 TEAMS=10 DAYS=30 RUNS=200 RAW_RUNS=10
fi
DEVICES=64 USERS=8 CONCURRENCY=8

log() { printf 'bench-server: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

command -v jq >/dev/null || die "jq is needed (apt-get install jq)"

SRV_PIDS=()
cleanup() {
	local p
	for p in "${SRV_PIDS[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	if [ $KEEP = 0 ]; then
		rm -rf "$W/ingest" "$W/seed" "$W/check-a" "$W/check-b"
	fi
}
trap cleanup EXIT

# start_server DIR LOG: serve DIR on an ephemeral loopback port; sets SRV_PID, SRV_URL
start_server() {
	local dir=$1 logf=$2 port i
	"$BUILD/actlog-server" serve --data-dir "$dir" --listen 127.0.0.1:0 >"$logf" 2>&1 &
	SRV_PID=$!
	SRV_PIDS+=("$SRV_PID")
	for i in $(seq 100); do
		grep -q 'event=started' "$logf" 2>/dev/null && break
		kill -0 "$SRV_PID" 2>/dev/null || die "the server on $dir did not start: $(tail -3 "$logf")"
		sleep 0.1
	done
	port=$(sed -n 's/.*event=started.* port=\([0-9]*\).*/\1/p' "$logf")
	[ -n "$port" ] || die "the server on $dir did not start: $(tail -3 "$logf")"
	SRV_URL=http://127.0.0.1:$port
}

stop_server() {
	local p keep=()
	kill "$SRV_PID" 2>/dev/null
	wait "$SRV_PID" 2>/dev/null
	for p in "${SRV_PIDS[@]}"; do
		[ "$p" = "$SRV_PID" ] || keep+=("$p")
	done
	SRV_PIDS=("${keep[@]}")
}

init_store() {
	rm -rf "$1"
	"$BUILD/actlog-server" init --data-dir "$1" --admin-email "$ADMIN" \
		--admin-password-file "$W/admin.pw" --business Bench >/dev/null ||
		die "actlog-server init $1 failed"
}

T_START=$(date +%s)
mkdir -p "$W" || die "cannot create $W"
rm -rf "$W/ingest" "$W/seed" "$W/check-a" "$W/check-b" "$W"/*.json
printf 'bench-server-password\n' >"$W/admin.pw"
chmod 600 "$W/admin.pw"

log "building into $BUILD"
make BUILD="$BUILD" -j"$(nproc)" "$BUILD/actlog-server" "$BUILD/actlog-load" \
	"$BUILD/actlog-storebench" "$BUILD/actlog-seed" "$BUILD/actlog-latency" >"$W/build.log" 2>&1 ||
	die "build failed (see $W/build.log)"

# --- 1. the store ---
log "store: 1-put and ingest-shaped commits (${SB_SECONDS} s each)"
"$BUILD/actlog-storebench" --dir "$W" --seconds "$SB_SECONDS" --modes put1,ingest \
	--batch 1000 --rollups 20 --json >"$W/store.json" || die "actlog-storebench failed"

# --- 2. ingest, each repetition next to the raw put rate of its batch size ---
init_store "$W/ingest"
start_server "$W/ingest" "$W/ingest.log"
ING_PID=$SRV_PID ING_URL=$SRV_URL
raw_rate() { # NAME RECORDS RUN: the store's N-put commits, N = RECORDS
	"$BUILD/actlog-storebench" --dir "$W" --seconds "$SB_SECONDS" --modes putN \
		--batch "$2" --json >"$W/raw-$1-$3.json" || die "actlog-storebench failed"
}
run_ingest() { # NAME RECORDS BATCHES
	local name=$1 recs=$2 batches=$3 r
	raw_rate "$name" "$recs" 1
	for r in $(seq "$REPS"); do
		log "ingest $name ($recs records a batch), run $r/$REPS, between two raw put rates"
		"$BUILD/actlog-load" --url "$ING_URL" --email "$ADMIN" --password-file "$W/admin.pw" \
			--devices $DEVICES --users $USERS --concurrency $CONCURRENCY --records "$recs" \
			--batches "$batches" --server-pid "$ING_PID" --json >"$W/load-$name-$r.json" ||
			die "actlog-load failed: $(jq -r '.error // .first_error // empty' "$W/load-$name-$r.json")"
		raw_rate "$name" "$recs" $((r + 1))
	done
	# each run with the mean of the raw rates measured just before and after
	# it, and their ratio; then the medians over the runs
	for r in $(seq "$REPS"); do
		jq -n --slurpfile l "$W/load-$name-$r.json" --slurpfile a "$W/raw-$name-$r.json" \
			--slurpfile b "$W/raw-$name-$((r + 1)).json" \
			'(($a[0].modes[0].puts_per_s + $b[0].modes[0].puts_per_s) / 2) as $raw |
			 $l[0] + {raw_puts_per_s: $raw, raw_over_ingest: ($raw / $l[0].events_per_s)}'
	done | jq -s --arg name "$name" --argjson recs "$recs" '
		def med(f): [.[] | f] | sort | .[(length - 1) / 2 | floor];
		{name: $name, records_per_batch: $recs, runs: .,
		 events_per_s: med(.events_per_s), batches_per_s: med(.batches_per_s),
		 latency_p50_ms: med(.latency_p50_ms), latency_p99_ms: med(.latency_p99_ms),
		 server_cpu_us_per_event: med(.server_cpu_us_per_event),
		 raw_puts_per_s: med(.raw_puts_per_s), raw_over_ingest: med(.raw_over_ingest),
		 errors: ([.[].errors] | add)}' >"$W/ingest-$name.json" || die "jq failed"
}
run_ingest full 1000 "$FULL_BATCHES"
run_ingest small 100 "$SMALL_BATCHES"
run_ingest tiny 10 "$TINY_BATCHES"
stop_server

# --- 3. the seed is what ingest keeps ---
log "check: a seeded store against the same batches sent through ingest"
init_store "$W/check-a"
init_store "$W/check-b"
"$BUILD/actlog-seed" seed --data-dir "$W/check-a" --machines 4 --teams 2 --days 2 --json \
	>/dev/null || die "actlog-seed seed (check) failed"
"$BUILD/actlog-seed" seed --data-dir "$W/check-b" --machines 4 --teams 2 --days 2 --tree-only \
	--json >/dev/null || die "actlog-seed seed --tree-only (check) failed"
start_server "$W/check-b" "$W/check.log"
"$BUILD/actlog-seed" send --url "$SRV_URL" --manifest "$W/check-b/seed.json" --json \
	>"$W/check-send.json" || die "actlog-seed send failed: $(jq -r .error "$W/check-send.json")"
stop_server
"$BUILD/actlog-seed" dump --data-dir "$W/check-a" >"$W/check-a.dump" || die "dump failed"
"$BUILD/actlog-seed" dump --data-dir "$W/check-b" >"$W/check-b.dump" || die "dump failed"
if cmp -s "$W/check-a.dump" "$W/check-b.dump"; then CHECK=true; else CHECK=false; fi
jq -n --argjson equal $CHECK --argjson items "$(wc -l <"$W/check-a.dump")" \
	'{equal: $equal, items: $items, machines: 4, days: 2}' >"$W/check.json"
[ $CHECK = true ] || log "CHECK FAILED: diff $W/check-a.dump $W/check-b.dump"

# --- 4. the seeded dataset and the dashboard's queries ---
log "queries: seeding $MACHINES machines x $DAYS days"
init_store "$W/seed"
"$BUILD/actlog-seed" seed --data-dir "$W/seed" --machines $MACHINES --teams $TEAMS \
	--days $DAYS --json >"$W/seed.json" || die "actlog-seed seed failed: $(jq -r .error "$W/seed.json")"
start_server "$W/seed" "$W/query.log"
log "queries: $RUNS runs each ($RAW_RUNS for raw scans)"
"$BUILD/actlog-seed" query --url "$SRV_URL" --email "$ADMIN" --password-file "$W/admin.pw" \
	--manifest "$W/seed/seed.json" --data-dir "$W/seed" --runs $RUNS --raw-runs $RAW_RUNS \
	--json >"$W/queries.json"
QRC=$?
# --- 5. a cheap authenticated route with idle keep-alive connections open ---
log "latency: GET /api/v1/me with 100 idle keep-alive connections open"
"$BUILD/actlog-latency" --url "$SRV_URL" --email "$ADMIN" --password-file "$W/admin.pw" \
	--idle 100 --requests 500 --json >"$W/latency.json" ||
	die "actlog-latency failed: $(jq -r .error "$W/latency.json")"
stop_server
jq -e .queries "$W/queries.json" >/dev/null || die "actlog-seed query failed: $(jq -r .error "$W/queries.json")"

# --- results ---
T_END=$(date +%s)
jq -n \
	--arg mode "$([ $QUICK = 1 ] && echo quick || echo full)" \
	--arg commit "$(git describe --always --dirty 2>/dev/null || echo unknown)" \
	--arg kernel "$(uname -r)" \
	--arg cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
	--argjson cpus "$(nproc)" \
	--argjson seconds $((T_END - T_START)) \
	--slurpfile store "$W/store.json" \
	--slurpfile full "$W/ingest-full.json" \
	--slurpfile small "$W/ingest-small.json" \
	--slurpfile tiny "$W/ingest-tiny.json" \
	--slurpfile check "$W/check.json" \
	--slurpfile seed "$W/seed.json" \
	--slurpfile q "$W/queries.json" \
	--slurpfile lat "$W/latency.json" '
	{
	  schema: 1, suite: "server", mode: $mode, commit: $commit, seconds: $seconds,
	  host: {cpus: $cpus, cpu: $cpu, kernel: $kernel},
	  store: $store[0],
	  ingest: [$full[0], $small[0], $tiny[0]],
	  seed_check: $check[0],
	  seed: $seed[0],
	  queries: $q[0],
	  latency: $lat[0],
	  targets: ([
	    {name: "ingest_events_per_s", what: "full agent batches, events/s",
	     target: ">= 100000", value: $full[0].events_per_s,
	     met: ($full[0].events_per_s >= 100000)},
	    {name: "ingest_raw_over_ingest", what: "raw put rate / ingest rate, full batches",
	     target: "<= 10", value: $full[0].raw_over_ingest,
	     met: ($full[0].raw_over_ingest <= 10)}
	  ] + [$q[0].queries[] |
	    {name: ("query_" + .name + "_p99_ms"), what: .what, target: "< 50",
	     value: .http_p99_ms, met: (.http_p99_ms < 50)}])
	}' >"$JSON" || die "assembling $JSON failed"

# --- the table ---
jq -r '
	def pad($n): tostring | if length < $n then . + " " * ($n - length) else . end;
	def lpad($n): tostring | if length < $n then " " * ($n - length) + . else . end;
	def f0: . | floor | tostring;
	def f2: . * 100 | round / 100 | tostring;
	"",
	"actlog-server benchmarks (\(.mode), \(.host.cpus) CPUs, \(.seconds) s, \(.commit))",
	"",
	"store: raw LMDB puts, durable commits   " + ("puts/s" | lpad(10)) + ("commits/s" | lpad(11)) + ("p99 ms" | lpad(9)),
	(.store.modes[] | "  " + ("\(.mode), \(.puts_per_commit) a commit" | pad(37)) + (.puts_per_s | f0 | lpad(10)) + (.commits_per_s | f0 | lpad(11)) + (.commit_p99_ms | f2 | lpad(9))),
	"",
	"ingest: \(.ingest[0].runs[0].params.devices) devices, \(.ingest[0].runs[0].params.concurrency) in flight (medians of \(.ingest[0].runs | length))",
	"  " + ("" | pad(20)) + ("events/s" | lpad(10)) + ("batches/s" | lpad(10)) + ("p50 ms" | lpad(9)) + ("p99 ms" | lpad(9)) + ("raw puts/s" | lpad(12)) + ("raw/ingest" | lpad(11)),
	(.ingest[] | "  " + ("\(.records_per_batch) records a batch" | pad(20)) + (.events_per_s | f0 | lpad(10)) + (.batches_per_s | f0 | lpad(10)) + (.latency_p50_ms | f2 | lpad(9)) + (.latency_p99_ms | f2 | lpad(9)) + (.raw_puts_per_s | f0 | lpad(12)) + (.raw_over_ingest | f2 | lpad(11))),
	"",
	"seed check (seeded store == ingested store): \(if .seed_check.equal then "equal" else "DIFFERENT" end), \(.seed_check.items) items",
	"dataset: \(.queries.dataset.machines) machines x \(.queries.dataset.days) days, \(.seed.records) records, seeded in \(.seed.seconds | f2) s",
	"",
	"query, ms" + ("http p50" | lpad(23)) + ("http p99" | lpad(10)) + ("rollup p50" | lpad(12)) + ("raw p50" | lpad(10)) + ("raw/rollup" | lpad(12)) + ("agree" | lpad(7)),
	(.queries.queries[] | "  " + (.name | pad(23)) + (.http_p50_ms | f2 | lpad(9)) + (.http_p99_ms | f2 | lpad(10)) + (.rollup_p50_ms | f2 | lpad(12)) + (.raw_p50_ms | f2 | lpad(10)) + ((.raw_over_rollup_p50 | f0) + "x" | lpad(12)) + (.answers_match | tostring | lpad(7))),
	"",
	"GET /api/v1/me, \(.latency.idle_connections) idle keep-alive connections open (\(.latency.idle_still_open) at the end): p50 \(.latency.p50_ms * 1000 | round / 1000) ms, p99 \(.latency.p99_ms * 1000 | round / 1000) ms, max \(.latency.max_ms * 1000 | round / 1000) ms",
	"",
	"targets",
	(.targets[] | "  " + (if .met then "met   " else "MISSED" end) + "  " + (.name | pad(40)) + (.target | pad(10)) + (.value | f2)),
	"",
	"results: '"$JSON"'"' "$JSON"

FAIL=0
[ $CHECK = true ] || FAIL=1
[ $QRC = 0 ] || {
	log "the query answers disagree (answers_match in $JSON)"
	FAIL=1
}
[ $FAIL = 0 ] || exit 1
if [ $STRICT = 1 ] && [ "$(jq '[.targets[] | select(.met | not)] | length' "$JSON")" != 0 ]; then
	exit 3
fi
exit 0
