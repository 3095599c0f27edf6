#!/usr/bin/env bash
# A shared machine: policy and screenshots follow the signed-in user, not
# the device's owner. Real actlogd enrolled to a real actlog-server, real
# s3rver, the active user switched through /run/utmp (logind-less) in a
# private mount namespace, shots fed by tests/shot_feeder.py as the session
# user. Team users alpha (the owner, screenshots off at her level) and beta
# (screenshots on, from the team):
#  - beta active: the agent asks for beta's policy (?user=beta), beta's
#    helper is told screenshots are on, beta's shots are filed under beta
#    (listed with user_id=beta, S3 keys under beta's id), none under alpha;
#  - switch to alpha: alpha's policy arrives at once (policy_poll_s is an
#    hour), alpha's helper is told screenshots are off, a shot is refused,
#    nothing is filed for alpha;
#  - a presign naming alpha with the device token is refused 403 by the
#    server (naming beta is not);
#  - the server away, a switch to beta keeps screenshots off (pending), not
#    alpha's policy nor beta's saved one, until beta's policy arrives;
#  - restarted without the server, the agent applies the active user's own
#    saved policy (policy.json keeps one per user);
#  - process records carry their process's user (the login of its uid),
#    not the active user's;
#  - the device view lists both users seen;
#  - a switch to a user with no saved policy, the server away, does not
#    keep the previous user's window titles on.
if [ -z "${ACTLOG_TEST_PRIVATE_NS:-}" ]; then
	ACTLOG_TEST_PRIVATE_NS=1 exec unshare --mount --propagation private bash "$0" "$@"
	echo "FAIL: test_shared_user: cannot enter a private mount namespace (unshare -m)"
	exit 1
fi
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/server.sh"
. "$ROOT/tests/s3.sh"
for t in curl jq node setpriv utmpdump /usr/bin/python3; do need "$t"; done
for b in actlogd actlogctl actlog-server; do
	[ -x "$BUILD/$b" ] || { fail "missing $BUILD/$b (make)"; finish; }
done
FEED=$ROOT/tests/shot_feeder.py
chmod 755 "$T"

# ---- a private /run and two users known only here ----
mount -t tmpfs -o mode=755 tmpfs /run || { fail "mount a private /run"; finish; }
cp /etc/passwd "$T/passwd"
printf 'alpha:x:4201:4201::/nonexistent:/bin/sh\nbeta:x:4202:4202::/nonexistent:/bin/sh\ngamma:x:4203:4203::/nonexistent:/bin/sh\n' >>"$T/passwd"
mount --bind "$T/passwd" /etc/passwd || { fail "bind a test /etc/passwd"; finish; }
check_eq "beta exists in the namespace" "$(id -u beta)" 4202
sleep 1000 &
PA=$!
sleep 1000 &
PB=$!
cleanup_add "kill $PA $PB"
# as USER: USER's login on an X display, everyone else logged out
as() {
	local pid=$PA line=:0
	[ "$1" = beta ] && pid=$PB line=:1
	printf '[7] [%05d] [%-4.4s] [%-8s] [%-12s] [%-20s] [%-15s] [%s]\n' "$pid" "$line" "$1" \
		"$line" "$line" 0.0.0.0 "2024-01-02T03:04:05,000000+00:00" >"$T/utmp.txt"
	utmpdump -r <"$T/utmp.txt" >"$T/utmp.bin" 2>/dev/null
	cat "$T/utmp.bin" >/run/utmp
}

# ---- s3rver, the server, the team and its users ----
AKID=AKIDSHAREDTEST
S3SECRET=shared-secret-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
s3_init "$AKID" "$S3SECRET" shots
check "s3rver starts" s3_start || finish
SRV_LISTEN=127.0.0.1:$(free_port)
srv_init
srv_start || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
srv_tree D P T Other
TM=$TA
UA=$(srv_user alpha@example.com Alpha alpha "$TM")
UB=$(srv_user beta@example.com Beta beta "$TM")
check "the team and its users" test -n "$TM" -a -n "$UA" -a -n "$UB"
api "$A" PUT "/api/v1/nodes/$TM/config" "{\"values\":{\"screenshots.enabled\":true,\"screenshots.interval_s\":30,\"screenshots.jitter_s\":0,\"s3.bucket\":\"shots\",\"s3.region\":\"us-east-1\",\"s3.endpoint\":\"$S3URL\",\"s3.path_style\":true,\"s3.access_key_id\":\"$AKID\",\"s3.secret_access_key\":\"$S3SECRET\"}}"
check_st "team: screenshots on, S3 settings" 200
api "$A" PUT "/api/v1/users/$UA/config" '{"values":{"screenshots.enabled":false}}'
check_st "alpha: screenshots off" 200

# ---- actlogd, enrolled, owned by alpha ----
d=$T/agent
STATE=$d/state
mkdir -p "$STATE"
api "$A" POST "/api/v1/nodes/$TM/enrollment-secrets" '{}'
"$BUILD/actlogd" enroll --server "$SRV_URL" --secret "$(jr .secret)" --state-dir "$STATE" >"$T/enroll.out" 2>&1
check_eq "actlogd enrolls" "$?" 0
DEV=$(jq -r .device_id "$STATE/device.json")
DTOK=$(jq -r .device_token "$STATE/device.json")
api "$A" PUT "/api/v1/devices/$DEV" "{\"owner_id\":\"$UA\"}"
check_st "alpha owns the device" 200
# the regular policy poll is an hour away: a switch must not wait for it
printf 'backoff_max_s = 1\npolicy_poll_s = 3600\n' >"$d/actlogd.conf"
SOCK=$T/session.sock
agent_up() {
	"$BUILD/actlogd" --foreground --config "$d/actlogd.conf" --state-dir "$STATE" --socket "$d/ctl.sock" \
		--interval 10 --input-source none --session-socket "$SOCK" >>"$d/actlogd.log" 2>&1 &
	AGENT_PID=$!
	cleanup_add "kill -9 $AGENT_PID"
	wait_for 20 "$BUILD/actlogctl" --socket "$d/ctl.sock" status --json >/dev/null 2>&1
}
agent_down() {
	kill "$AGENT_PID" && wait "$AGENT_PID"
}
st_is() { "$BUILD/actlogctl" --socket "$d/ctl.sock" status --json | jq -e "$1" >/dev/null 2>&1; }
feed() { # USER ARGS...: the feeder as USER's session helper
	local u=$1
	shift
	setpriv --reuid="$(id -u "$u")" --regid="$(id -u "$u")" --clear-groups /usr/bin/python3 "$FEED" "$SOCK" "$@"
}
helper_told() { # USER: screenshots.enabled as USER's helper is told at hello
	feed "$1" --policy-only 2>/dev/null | jq -r '.policy["screenshots.enabled"]'
}
helper_titles() { # USER: apps.titles as USER's helper is told at hello
	feed "$1" --policy-only 2>/dev/null | jq -r '.policy["apps.titles"]'
}
count_for() { # UID: the screenshots the server lists for that user
	api "$A" GET "/api/v1/screenshots?user_id=$1"
	[ "$ST" = 200 ] && jq '.screenshots | length' "$T/resp"
}

# ---- 1: beta at the seat: beta's policy, beta's shots ----
as beta
check "actlogd starts" agent_up || finish
check "the agent asks for beta's policy and the server answers for beta" wait_for 20 \
	st_is ".policy.user == \"beta\" and .policy.pending == false and .policy.for.kind == \"user\" and .policy.for.user_id == \"$UB\" and .policy.for.login == \"beta\""
check "text status says whom the policy is for" bash -c "'$BUILD/actlogctl' --socket '$d/ctl.sock' status | grep -q '^policy:    .*; for beta (user $UB)'"
check_eq "beta's helper is told screenshots are on" "$(helper_told beta)" true
feed beta --count 2 --width 80 --height 60 --wait-on >"$T/f1" 2>>"$T/feed.err"
check_eq "two shots of beta accepted" "$(jq -r .ack.ok "$T/f1" | tr '\n' ' ')" "true true "
check "both uploaded" wait_for 60 st_is '.shots.uploaded == 2 and .shots.queued == 0'
check_eq "listed under beta: two" "$(count_for "$UB")" 2
check_eq "they are beta's shots" "$(jq -r '[.screenshots[] | "\(.device_id) \(.user_id)"] | unique | join(",")' "$T/resp")" "$DEV $UB"
check_eq "their sha256 are the ones fed" "$(jq -r '.screenshots[].sha256' "$T/resp" | sort | tr '\n' ' ')" \
	"$(jq -r .sha256 "$T/f1" | sort | tr '\n' ' ')"
check_eq "listed under alpha (the owner): none" "$(count_for "$UA")" 0
check_eq "the S3 keys are filed under beta" \
	"$(find "$T/s3/shots" -name '*._S3rver_object' | grep -c "/$UB/")" 2

# ---- 2: switch to alpha: off within one poll, nothing filed ----
as alpha
check "the switch is seen and alpha's policy arrives without waiting for the poll" wait_for 15 \
	st_is ".active_user == \"alpha\" and .policy.user == \"alpha\" and .policy.pending == false and .policy.for.user_id == \"$UA\""
check "the switch is logged" grep -q "policy: session user beta -> alpha: asking for their policy" "$d/actlogd.log"
check_eq "alpha's helper is told screenshots are off" "$(helper_told alpha)" false
feed alpha >"$T/f2" 2>>"$T/feed.err"
check_eq "a shot from alpha's helper is refused" "$(jq -r .ack.ok "$T/f2")" false
check "by the policy" grep -q "off by policy" "$T/f2"
feed beta --policy-only >"$T/f3" 2>>"$T/feed.err"
check "beta's helper is no longer accepted" jq -e '.refused.type == "refused"' "$T/f3"
sleep 2
check "nothing more was uploaded" st_is '.shots.uploaded == 2 and .shots.queued == 0'
check_eq "still none listed under alpha" "$(count_for "$UA")" 0

# process records: the login of the process's uid, whoever is active
cp /bin/true "$T/pu-beta"
cp /bin/true "$T/pu-alpha"
setpriv --reuid=4202 --regid=4202 --clear-groups "$T/pu-beta"
setpriv --reuid=4201 --regid=4201 --clear-groups "$T/pu-alpha"
proc_user() { # COMM: the user of its exec record
	"$BUILD/actlogctl" --state-dir "$STATE" spool dump |
		jq -r --arg c "$1" 'select(.type == "process" and .event == "exec" and .comm == $c) | .user'
}
pu_is() { [ "$(proc_user "$1")" = "$2" ]; }
check "beta's process, run while alpha is active, is beta's" wait_for 10 pu_is pu-beta beta
check_eq "alpha's process is alpha's" "$(proc_user pu-alpha)" alpha

# ---- 3: the server refuses a presign naming alpha ----
presign() { # LOGIN: the status of a presign naming LOGIN, with the device token
	curl -s -o "$T/presign.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $DTOK" \
		-H 'Content-Type: application/json' "$SRV_URL/api/v1/screenshots/presign" \
		--data-binary "{\"sha256\":\"$(printf abcd | sha256sum | cut -d' ' -f1)\",\"size\":4,\"content_type\":\"image/png\",\"taken_at\":\"$(date -u +%FT%T.000Z)\",\"user\":\"$1\"}"
}
config_for() { # QUERY: the status of the device's config request, body in $T/config.json
	curl -s -o "$T/config.json" -w '%{http_code}' -H "Authorization: Bearer $DTOK" "$SRV_URL/api/v1/agent/config$1"
}
check_eq "config for a login of nobody: 200" "$(config_for '?user=nobody')" 200
check_eq "it is the owner's" "$(jq -r '.policy_for | "\(.kind) \(.user_id) \(.login)"' "$T/config.json")" "owner $UA alpha"
check_eq "config for beta: beta's, screenshots on" \
	"$(config_for '?user=beta' && jq -r '" \(.policy_for.kind) \(.policy_for.user_id) \(.config["screenshots.enabled"])"' "$T/config.json")" "200 user $UB true"
check_eq "config for a login with a control character: 400" "$(config_for '?user=a%0Ab')" 400
check_eq "presign naming alpha: 403" "$(presign alpha)" 403
check_eq "with the reason" "$(jq -r .error "$T/presign.json")" "screenshots are not enabled for user 'alpha'"
check_eq "presign naming beta: 200" "$(presign beta)" 200
check "filed under beta" jq -e --arg u "$UB" '.key | contains("/" + $u + "/")' "$T/presign.json"

# ---- 4: the server away: a switch keeps screenshots off until the policy arrives ----
srv_stop
as beta
check "switched to beta, pending while the server is away" wait_for 15 \
	st_is '.policy.user == "beta" and .policy.pending == true and .policy.from_file == true'
check "text status says it is pending" bash -c "'$BUILD/actlogctl' --socket '$d/ctl.sock' status | grep -q '^policy:    .*; for beta (pending: screenshots off until it arrives)'"
check_eq "beta's helper is told screenshots are off meanwhile" "$(helper_told beta)" false
srv_start || finish
check "beta's policy arrives once the server is back" wait_for 30 st_is '.policy.user == "beta" and .policy.pending == false and .policy.from_file == false'
check_eq "and beta's helper is told screenshots are on" "$(helper_told beta)" true

# ---- 5: the device view lists both users seen ----
users_seen() {
	api "$A" GET "/api/v1/devices/$DEV"
	[ "$ST" = 200 ] && [ "$(jq -r '[.users_seen[].login] | sort | join(",")' "$T/resp")" = alpha,beta ]
}
check "the device view lists alpha and beta" wait_for 60 users_seen
check_eq "with their user ids" "$(jq -r '[.users_seen[] | "\(.login)=\(.user_id)"] | sort | join(",")' "$T/resp")" "alpha=$UA,beta=$UB"
check "each with a last_seen" jq -e '.users_seen | all(.[]; .last_seen | test("^20"))' "$T/resp"

# ---- 6: restarted without the server: the active user's own saved policy ----
as alpha
check "alpha's policy is in effect" wait_for 15 st_is '.policy.user == "alpha" and .policy.pending == false'
check_eq "policy.json keeps both users' policies, alpha's first" "$(jq -r '[.v, (.users[] | .user)] | join(",")' "$STATE/policy.json" | cut -d, -f1-3)" "2,alpha,beta"
agent_down
check_eq "actlogd stops cleanly" "$?" 0
srv_stop
as beta
check "actlogd starts again, the server away" agent_up || finish
check "beta's saved policy applies" st_is '.policy.user == "beta" and .policy.from_file == true and .policy.pending == false'
check_eq "beta's helper is told screenshots are on (beta's, not alpha's, the last fetched)" "$(helper_told beta)" true
agent_down

# ---- 7: a switch to a user with no saved policy: nothing of the previous user's carries over ----
srv_start || finish
api "$A" PUT "/api/v1/users/$UA/config" '{"values":{"apps.titles":true}}'
check_st "alpha: window titles on" 200
as alpha
check "actlogd starts again as alpha" agent_up || finish
check "alpha's policy (titles on) arrives" wait_for 20 \
	st_is '.policy.user == "alpha" and .policy.pending == false and .policy.from_file == false'
check_eq "alpha's helper is told titles are on" "$(helper_titles alpha)" true
srv_stop
as gamma
check "switched to gamma (no saved policy, the server away): pending" wait_for 15 \
	st_is '.policy.user == "gamma" and .policy.pending == true and .policy.source == "local"'
check_eq "gamma's helper is told titles are off, not alpha's on" "$(helper_titles gamma)" false
check "the agent records no titles meanwhile" st_is '.session.titles == false'
agent_down
finish
