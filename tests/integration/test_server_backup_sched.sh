#!/usr/bin/env bash
# actlog-server: the periodic backups against the real binary and s3rver.
# The root's backup.* settings are refused at a business and to a business
# administrator, and their secrets are never answered; with
# --backup-period 2 and backup.keep 2 the server takes backups on its own
# and keeps exactly the 2 newest complete ones in the bucket; each run is
# audited, GET /api/v1/admin/backups and /metrics show the last success;
# POST /api/v1/admin/backups/run runs one now; a bucket that refuses (an
# unknown access key) and a stopped s3rver give failures with the reason, retried,
# while requests keep being answered; the last success and failure survive
# a restart; SIGTERM ends a server promptly.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
source "$(dirname "$0")/../s3.sh"
need curl
need jq
need node

AKID=AKIDBACKUPSCHED
SECRET=backup-secret-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
BUCKET=backups1
s3_init "$AKID" "$SECRET" "$BUCKET"
s3_up

srv_init
srv_start --backup-period 2 --backup-retry-min 1 --retention-interval 0 || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
check "admin login" test -n "$A"
srv_tree
UBIG=$(srv_user big@example.com "Big" big "$TA")
check "setup: a business administrator" srv_grant "$UBIG" "$B" admin
TKB=$(login big@example.com password-big)

manifests() { find "$T/s3/$BUCKET/actlog-backups" -name '*.manifest.json._S3rver_object' 2>/dev/null | wc -l; }
streams() { find "$T/s3/$BUCKET/actlog-backups" -name '*.alb._S3rver_object' 2>/dev/null | wc -l; }
runs() { grep -c "event=backup_run result=$1" "$SRV_LOG"; }
no_secret() { ! grep -q "$SECRET" "$T/resp"; }
put_root() { api "$1" PUT /api/v1/nodes/root/config "$2"; }
metric() { # NAME -> its value
	api "$A" GET /metrics
	awk -v n="$1" '$1 == n { print $2 }' "$T/resp"
}

# --- nothing set: nothing runs ---
api "$A" GET /api/v1/admin/backups
check_st "the admin route" 200
check_eq "not set up" "$(jr '[.enabled, .target, .interval_h, .keep, (.backups | length)] | join(",")')" "false,,24,14,0"
api "$A" GET /api/v1/nodes/root/config
check_eq "the root's document is empty" "$(jq -c . "$T/resp")" '{"values":{},"locked":[],"secrets_set":[]}'

# --- root only ---
api "$A" PUT "/api/v1/nodes/$B/config" '{"values":{"backup.keep":2}}'
check_st "backup.* at a business" 400
check "says where it goes" grep -q 'set at the root only' "$T/resp"
api "$A" PUT "/api/v1/nodes/$TA/config" '{"values":{"backup.s3.bucket":"x-bucket"}}'
check_st "backup.* at a team" 400
put_root "$A" '{"values":{"retention.days":30}}'
check_st "a policy key at the root" 400
put_root "$A" '{"locked":["backup.keep"]}'
check_st "a lock at the root" 400
put_root "$A" '{"values":{"backup.keep":0}}'
check_st "backup.keep 0" 400
put_root "$A" '{"values":{"backup.interval_h":8761}}'
check_st "backup.interval_h over a year" 400
put_root "$A" '{"values":{"backup.s3.prefix":"no-slash"}}'
check_st "a prefix not ending in /" 400
api "$TKB" GET /api/v1/nodes/root/config
check_st "a business admin reads the root's settings" 403
put_root "$TKB" '{"values":{"backup.keep":2}}'
check_st "a business admin writes them" 403
api "$TKB" GET /api/v1/admin/backups
check_st "a business admin reads the backups" 403
api "$TKB" POST /api/v1/admin/backups/run
check_st "a business admin asks for a run" 403

# --- set up: a backup every 2 s (the option), keep 2 ---
SETTINGS=$(jq -nc --arg b "$BUCKET" --arg e "$S3URL" --arg k "$AKID" --arg s "$SECRET" \
	'{values:{"backup.keep":2,"backup.s3.bucket":$b,"backup.s3.endpoint":$e,"backup.s3.path_style":true,"backup.s3.region":"us-east-1","backup.s3.access_key_id":$k,"backup.s3.secret_access_key":$s}}')
put_root "$A" "$SETTINGS"
check_st "the root's settings" 200
check "the answer carries no secret" no_secret
check_eq "the secret is only named" "$(jr '.secrets_set | join(",")')" "backup.s3.secret_access_key"
check_eq "the rest is shown" "$(jr '.values | ["backup.keep", "backup.s3.bucket", "backup.s3.access_key_id"] as $k | [.[$k[]]] | join(",")')" "2,$BUCKET,$AKID"
api "$A" GET /api/v1/nodes/root/config
check "GET carries no secret" no_secret
api "$A" GET "/api/v1/nodes/$TA/config/effective"
check_eq "never in an effective config" "$(jr '[.values | keys[] | select(startswith("backup."))] | length')" 0
api "$A" GET /api/v1/nodes/root/config/effective
check "nor in the root's" no_secret
check "the change is audited" test -n "$(api "$A" GET "/api/v1/audit?limit=1000" && jr '.entries[] | select(.action == "config.set" and .target == "node:root") | .actor')"

check "the server backs up on its own" wait_for 60 eval 'test "$(runs ok)" -ge 4'
api "$A" GET /api/v1/admin/backups
check_st "the admin route while running" 200
check "no secret in it" no_secret
check_eq "enabled, the target without secrets" "$(jr '[.enabled, .target, .keep, .period_s] | join(",")')" "true,s3://$BUCKET/actlog-backups/,2,2"
check "a last success" test -n "$(jr '.last_success.name // empty')"

# stop the schedule (interval 0), then count what is in the bucket
put_root "$A" '{"values":{"backup.interval_h":0}}'
check_st "interval 0" 200
idle() { api "$A" GET /api/v1/admin/backups && [ "$(jr '[.enabled, .running] | join(",")')" = false,false ]; }
check "the schedule stops" wait_for 30 idle
N=$(runs ok)
check_eq "exactly 2 complete backups in the bucket (keep 2) after $N runs" "$(manifests):$(streams)" 2:2
check_eq "listed, newest first, the last success first" \
	"$(jr '[(.backups | length), (.backups[0].name == .last_success.name), (.backups[0].name > .backups[1].name)] | join(",")')" "2,true,true"
check "each with its manifest" test "$(jr '[.backups[] | select(.format == 1 and .stored_bytes > 0)] | length')" = 2
check_eq "the last success's numbers" "$(jr '[(.last_success.bytes > 0), (.last_success.items > 0), (.last_success.started <= .last_success.finished)] | join(",")')" "true,true,true"
for n in $(jr '.backups[].name'); do
	check "$n is in the bucket" s3_has "$BUCKET" "actlog-backups/$n.manifest.json"
done
LAST=$(jr .last_success.name)

api "$A" GET "/api/v1/audit?limit=1000"
check_eq "one audit entry per run" "$(jr '[.entries[] | select(.action == "backup.run")] | length')" "$N"
check_eq "each ok, with its numbers" \
	"$(jr '[.entries[] | select(.action == "backup.run") | select(.result == "ok" and .detail.outcome == "ok" and .detail.bytes > 0 and .detail.items > 0 and .detail.trigger == "schedule" and .target == .detail.name and .actor == "-")] | length')" "$N"
check_eq "on the root" "$(jr '[.entries[] | select(.action == "backup.run") | .node_id] | unique | join(",")')" root

check_eq "metrics: runs ok" "$(metric 'actlog_server_backup_runs_total{outcome="ok"}')" "$N"
check_eq "metrics: no error" "$(metric 'actlog_server_backup_runs_total{outcome="error"}')" 0
check_eq "metrics: not running" "$(metric actlog_server_backup_running)" 0
check "metrics: the last success's time" test "$(metric actlog_server_backup_last_success_timestamp_seconds)" -gt 1700000000
check "metrics: its bytes" test "$(metric actlog_server_backup_last_bytes)" -gt 0

# --- one now, on request ---
api "$A" POST /api/v1/admin/backups/run
check_st "POST run" 202
requested() { api "$A" GET "/api/v1/audit?limit=1000" &&
	[ "$(jr '[.entries[] | select(.action == "backup.run" and .detail.trigger == "request")] | length')" = 1 ]; }
check "the requested run happens" wait_for 30 requested
check_eq "by the admin" "$(jr '.entries[] | select(.action == "backup.run" and .detail.trigger == "request") | .actor_email + ":" + .result')" "$ADMIN_EMAIL:ok"
check "still 2 in the bucket" wait_for 10 eval 'test "$(manifests):$(streams)" = 2:2'
api "$A" GET /api/v1/admin/backups
check "a new last success" test "$(jr .last_success.name)" != "$LAST"
LAST=$(jr .last_success.name)

# --- a bucket that refuses: an unknown access key ---
put_root "$A" '{"values":{"backup.s3.access_key_id":"AKIDUNKNOWN","backup.interval_h":1}}'
check_st "an unknown access key" 200
check "failures" wait_for 60 eval 'test "$(runs error)" -ge 2'
api "$A" GET /api/v1/admin/backups
check "the reason" test -n "$(jr '.last_failure.error // empty')"
check "says S3 refused" grep -qiE 'Signature|Access|denied|403' <(jr .last_failure.error)
check "retried: failures in a row" test "$(jr .failures)" -ge 1
check_eq "the last success is kept" "$(jr .last_success.name)" "$LAST"
check "no listing, with the reason" test -n "$(jr '.list_error // empty')"
api "$A" GET "/api/v1/audit?limit=1000"
check "failed runs audited with the reason" test "$(jr '[.entries[] | select(.action == "backup.run" and .result == "error" and .detail.outcome == "error" and (.detail.error | length) > 0)] | length')" -ge 2
check_eq "nothing more in the bucket" "$(manifests):$(streams)" 2:2

# --- an S3 that is down ---
put_root "$A" "$SETTINGS"
check_st "the right secret again" 200
check "a success again" wait_for 60 eval 'api "$A" GET /api/v1/admin/backups && test "$(jr .last_success.name)" != "$LAST"'
check "s3rver stopped: its port no longer answers" s3_stop
E0=$(runs error)
check "failures while it is down" wait_for 60 eval 'test "$(runs error)" -ge $((E0 + 2))'
answered=0
for i in 1 2 3 4 5; do
	api "$A" GET /api/v1/nodes/root/children && [ "$ST" = 200 ] && answered=$((answered + 1))
done
check_eq "requests are answered meanwhile" "$answered" 5
api "$A" GET /api/v1/admin/backups
check_st "the admin route with S3 down" 200
check "the failure's reason" test -n "$(jr '.last_failure.error // empty')"
LASTOK=$(jr .last_success.name)
LASTERR=$(jr .last_failure.error)
check "metrics: errors counted" test "$(metric 'actlog_server_backup_runs_total{outcome="error"}')" -ge 2
check "metrics: the last failure's time" test "$(metric actlog_server_backup_last_failure_timestamp_seconds)" -gt 1700000000
srv_stop
check_eq "SIGTERM: clean exit" "$?" 0

# --- a restart keeps the last runs (META) ---
srv_start --backup-period 3600 || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
api "$A" GET /api/v1/admin/backups
check_eq "the last success and failure after a restart" "$(jr .last_success.name):$(jr .last_failure.error)" "$LASTOK:$LASTERR"
check "metrics: the last success's time after a restart" test "$(metric actlog_server_backup_last_success_timestamp_seconds)" -gt 1700000000
pid=$SRV_PID
kill -TERM "$pid"
gone() { ! kill -0 "$1" 2>/dev/null; }
check "SIGTERM ends it without waiting for the next run" wait_for 30 gone "$pid"
wait "$pid"
check_eq "with a clean exit" "$?" 0
SRV_PID=

# --- the command without --to: the root's settings ---
s3_up
"$SRV_BIN" backup --data-dir "$SRV_DIR" >"$T/cli.out" 2>&1
check_eq "backup without --to takes the root's settings (out: $(head -c 300 "$T/cli.out"))" "$?" 0
CLINAME=$(sed -n 's|^backup s3://'"$BUCKET"'/actlog-backups/\(actlog-[0-9TZ-]*[0-9a-f]*\)$|\1|p' "$T/cli.out")
check "into the root's bucket and prefix ($CLINAME)" test -n "$CLINAME"
check "its manifest is there" s3_has "$BUCKET" "actlog-backups/$CLINAME.manifest.json"
"$SRV_BIN" backup list --data-dir "$SRV_DIR" >"$T/list.out" 2>&1
check_eq "backup list without --to" "$?" 0
check "lists it" grep -q "^$CLINAME " "$T/list.out"
"$SRV_BIN" backup list >"$T/bad.out" 2>&1
check_eq "backup list with neither --to nor --data-dir refused" "$?" 2

# --- bad options ---
"$SRV_BIN" serve --data-dir "$SRV_DIR" --backup-period -1 >"$T/bad.out" 2>&1
check_eq "--backup-period -1 refused" "$?" 2
check "with a clear message" grep -q 'backup-period must be' "$T/bad.out"
"$SRV_BIN" serve --data-dir "$SRV_DIR" --backup-retry-min 0 >"$T/bad.out" 2>&1
check_eq "--backup-retry-min 0 refused" "$?" 2
finish
