#!/usr/bin/env bash
# Screenshots from the session socket to S3 and the server's list: real
# actlogd enrolled to a real actlog-server (through tests/integration/
# shots_proxy.py, which can break the register step), real s3rver, shots fed
# by tests/shot_feeder.py as the session's (unprivileged) user. Each shot
# lands in the bucket and the list exactly once — across a server outage, an
# S3 outage, a kill -9 between the PUT and the register, and a register
# whose answer is lost, and a URL that expired before the PUT (presigned
# again); crash debris is removed at start; the queue bound drops the oldest
# and says so (status, metrics, the agent record); a permanent refusal moves
# the shot to shots/failed; shots are refused (and counted) from another
# user, while the policy is off, and when malformed (unsealed, over 32 MiB,
# not a PNG, other dimensions, no descriptor); queue files are 0600 root.
# Then the full path: Xvfb showing a known pattern, the real actlog-session
# as an unprivileged user, the policy's timer → actlogd → S3 → the list →
# the image through the server as a WebP (the default screenshots.format):
# served as image/webp, the registered bytes, the pattern within WebP's
# loss; a user without
# screenshot.read is refused; both views are in the audit log.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/server.sh"
. "$ROOT/tests/s3.sh"
for t in curl jq node setpriv Xvfb xprop dwebp /usr/bin/python3; do need "$t"; done
for b in actlogd actlogctl actlog-server actlog-session actlog-pattern; do
	[ -x "$BUILD/$b" ] || { fail "missing $BUILD/$b (make)"; finish; }
done
FEED=$ROOT/tests/shot_feeder.py
PNG=$ROOT/tests/pngcheck.py
chmod 755 "$T"
NOBODY=$(id -u nobody)
NOGROUP=$(id -g nobody)

# ---- s3rver (restartable on the same port and directory) ----
AKID=AKIDUPLOADTEST
S3SECRET=upload-secret-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
s3_init "$AKID" "$S3SECRET" shots
check "s3rver starts" s3_start || finish

# ---- the server, its tree, and a proxy in front of it ----
SRV_LISTEN=127.0.0.1:$(free_port)
srv_init
srv_start || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
srv_tree D P T Other
TM=$TA TO=$TB
UA=$(srv_user alice@example.com alice alice "$TM")
UE=$(srv_user eve@example.com eve eve "$TO")
check "tree and users" test -n "$TM" -a -n "$TO" -a -n "$UA" -a -n "$UE"
api "$A" PUT "/api/v1/nodes/$TM/config" "{\"values\":{\"screenshots.enabled\":true,\"screenshots.interval_s\":30,\"screenshots.jitter_s\":0,\"s3.bucket\":\"shots\",\"s3.region\":\"us-east-1\",\"s3.endpoint\":\"$S3URL\",\"s3.path_style\":true,\"s3.access_key_id\":\"$AKID\",\"s3.secret_access_key\":\"$S3SECRET\"}}"
check_st "team policy: screenshots on, S3 settings" 200

PPORT=$(free_port)
MODE=$T/proxy.mode
/usr/bin/python3 "$ROOT/tests/integration/shots_proxy.py" "$PPORT" "$SRV_URL" "$MODE" >"$T/proxy.log" 2>&1 &
cleanup_add "kill $!"
check "the proxy is up" wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$PPORT/api/v1/health"

# ---- actlogd, enrolled through the proxy ----
d=$T/agent
STATE=$d/state
mkdir -p "$STATE"
api "$A" POST "/api/v1/nodes/$TM/enrollment-secrets" '{}'
"$BUILD/actlogd" enroll --server "http://127.0.0.1:$PPORT" --secret "$(jr .secret)" --state-dir "$STATE" >"$T/enroll.out" 2>&1
check_eq "actlogd enrolls" "$?" 0
DEV=$(jq -r .device_id "$STATE/device.json")
api "$A" PUT "/api/v1/devices/$DEV" "{\"owner_id\":\"$UA\"}"
check_st "alice owns the device" 200
printf 'backoff_max_s = 1\npolicy_poll_s = 1\nshot_queue_max = 4\n' >"$d/actlogd.conf"
SOCK=$T/session.sock
agent_up() {
	"$BUILD/actlogd" --foreground --config "$d/actlogd.conf" --state-dir "$STATE" --socket "$d/ctl.sock" \
		--interval 10 --input-source none --proc-source none --session-socket "$SOCK" \
		--session-uid "$NOBODY" >>"$d/actlogd.log" 2>&1 &
	AGENT_PID=$!
	cleanup_add "kill -9 $AGENT_PID"
	wait_for 20 "$BUILD/actlogctl" --socket "$d/ctl.sock" status --json >/dev/null 2>&1
}
status() { "$BUILD/actlogctl" --socket "$d/ctl.sock" status --json | jq -r "$1"; }
st_is() { [ "$(status "$1")" = "$2" ]; }
feed() { # ARGS...: feeder as the session's user; one JSON line per shot
	setpriv --reuid="$NOBODY" --regid="$NOGROUP" --clear-groups /usr/bin/python3 "$FEED" "$SOCK" "$@"
}
listed() { # the device owner's shots: sets LIST ($T/list.json)
	api "$A" GET "/api/v1/screenshots?user_id=$UA"
	cp "$T/resp" "$T/list.json"
	[ "$ST" = 200 ]
}
list_count() { listed && jq '.screenshots | length' "$T/list.json"; }
list_is() { [ "$(list_count)" = "$1" ]; }
drained() { st_is .shots.queued 0; }

check "actlogd starts enrolled" agent_up
check "the agent takes the screenshot policy" wait_for 30 grep -q "policy: screenshots on" "$d/actlogd.log"
check_eq "the queue directory is 0700 root" "$(stat -c '%a %U' "$STATE/shots")" "700 root"

# ---- 1: two shots land in the bucket and the list ----
feed --count 2 --width 80 --height 60 --wait-on >"$T/f1" 2>>"$T/feed.err"
check_eq "two shots accepted" "$(jq -r .ack.ok "$T/f1" | tr '\n' ' ')" "true true "
check "both uploaded and registered" wait_for 60 st_is .shots.uploaded 2
check "the queue is empty" drained
check_eq "the list shows two" "$(list_count)" 2
check_eq "list: sha256, size and dimensions are the shots'" \
	"$(jq -r '.screenshots[] | "\(.sha256) \(.size) \(.width)x\(.height)"' "$T/list.json" | sort)" \
	"$(jq -r '"\(.sha256) \(.size) \(.width)x\(.height)"' "$T/f1" | sort)"
check_eq "list: the device and its owner" "$(jq -r '[.screenshots[] | "\(.device_id) \(.user_id)"] | unique | join(",")' "$T/list.json")" "$DEV $UA"
check_eq "two objects in the bucket" "$(s3_count shots)" 2
check_eq "no queue files left" "$(find "$STATE/shots" -maxdepth 1 -type f | wc -l)" 0

# ---- 2: the server is down: queued, then delivered once ----
srv_stop
feed --seed down >"$T/f2" 2>>"$T/feed.err"
check_eq "a shot is accepted while the server is down" "$(jq -r .ack.ok "$T/f2")" true
check "status: one queued, an error, backing off" \
	wait_for 20 bash -c "[ \"\$($BUILD/actlogctl --socket $d/ctl.sock status --json | jq -r '\"\(.shots.queued) \(.shots.last_error != \"\")\"')\" = '1 true' ]"
check "status text shows the queue" bash -c "$BUILD/actlogctl --socket $d/ctl.sock status | grep -q 'shots:     1 queued'"
check_eq "queue files are 0600 root" "$(find "$STATE/shots" -maxdepth 1 -type f -printf '%m %u\n' | sort -u)" "600 root"
check_eq "one PNG and its sidecar" "$(find "$STATE/shots" -maxdepth 1 -type f | sed 's/.*\.//' | sort | tr '\n' ' ')" "json png "
srv_start || finish
check "delivered after the server came back" wait_for 60 st_is .shots.uploaded 3
check "the queue drains" wait_for 20 drained
check_eq "the list shows three" "$(list_count)" 3
check_eq "three objects in the bucket" "$(s3_count shots)" 3

# ---- 3: S3 is down: queued, then delivered once ----
check "s3rver stops" s3_stop
feed --seed s3down >"$T/f3" 2>>"$T/feed.err"
check_eq "a shot is accepted while S3 is down" "$(jq -r .ack.ok "$T/f3")" true
check "status: the PUT fails and the shot waits" \
	wait_for 20 bash -c "$BUILD/actlogctl --socket $d/ctl.sock status --json | jq -e '.shots.queued == 1 and (.shots.last_error | length > 0)' >/dev/null"
check "s3rver starts again" s3_start
check "delivered after S3 came back" wait_for 60 st_is .shots.uploaded 4
check_eq "the list shows four" "$(list_count)" 4
check_eq "four objects in the bucket" "$(s3_count shots)" 4

# ---- 4: kill -9 between the PUT and the register ----
echo fail >"$MODE"
feed --seed crash >"$T/f4" 2>>"$T/feed.err"
check_eq "a shot is accepted" "$(jq -r .ack.ok "$T/f4")" true
put_done() { jq -e '.put_done == true and (.key | length > 0)' "$STATE"/shots/*.json >/dev/null 2>&1; }
check "the PUT is done and recorded in the sidecar" wait_for 30 put_done
check "the register was refused at least once" wait_for 30 grep -q '^fail 503' "$MODE.log"
check_eq "the object is in the bucket" "$(s3_count shots)" 5
KEY4=$(jq -r .key "$STATE"/shots/*.json)
# the headers the agent PUT with, as the server listed (and signed) them:
# the shot's length and the base64 of its SHA-256
check_eq "the PUT's headers bind the shot's length and checksum" \
	"$(jq -r '"\(.headers["Content-Length"]) \(.headers["x-amz-checksum-sha256"])"' "$STATE"/shots/*.json)" \
	"$(jq -r .size "$STATE"/shots/*.json) $(/usr/bin/python3 -c 'import base64,sys; print(base64.b64encode(bytes.fromhex(sys.argv[1])).decode())' "$(jq -r .sha256 "$STATE"/shots/*.json)")"
kill -9 "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
echo pass >"$MODE"
# debris a crash can leave: a temporary, a PNG whose sidecar never came
: >"$STATE/shots/.1795000000000-00000000000000aa.png.tmp"
: >"$STATE/shots/1795000000000-00000000000000bb.png"
check "actlogd restarts" agent_up
check "a temporary left by a crash is removed at start" not test -e "$STATE/shots/.1795000000000-00000000000000aa.png.tmp"
check "a PNG without its sidecar is removed at start" not test -e "$STATE/shots/1795000000000-00000000000000bb.png"
check "after the restart the shot is registered" wait_for 60 st_is .shots.uploaded 1
check "the queue drains" wait_for 20 drained
check_eq "the list shows five" "$(list_count)" 5
check_eq "the registered key is the one PUT before the crash" \
	"$(jq -r --arg k "$KEY4" '[.screenshots[] | select(.key == $k)] | length' "$T/list.json")" 1
check_eq "five objects in the bucket (the same key PUT once)" "$(s3_count shots)" 5

# ---- 5: the register's answer is lost: registered once ----
: >"$MODE.log"
echo lose >"$MODE"
feed --seed lost >"$T/f5" 2>>"$T/feed.err"
check "the server registered the shot, the agent did not hear it" wait_for 30 grep -q '^lose 201' "$MODE.log"
echo pass >"$MODE"
check "the retry is answered" wait_for 60 st_is .shots.uploaded 2
check "the queue drains" wait_for 20 drained
check_eq "the list shows six, not seven" "$(list_count)" 6
check_eq "six objects in the bucket" "$(s3_count shots)" 6

# ---- 6: the queue bound drops the oldest, and says so ----
check "s3rver stops" s3_stop
feed --count 6 --seed bound >"$T/f6" 2>>"$T/feed.err"
check_eq "six shots accepted" "$(jq -r .ack.ok "$T/f6" | grep -c true)" 6
check_eq "the queue holds shot_queue_max (4)" "$(status .shots.queued)" 4
check_eq "two dropped" "$(status .shots.dropped)" 2
check "the drop is logged" grep -q "screenshot queue: dropped" "$d/actlogd.log"
"$BUILD/actlogctl" --socket "$d/ctl.sock" metrics >"$T/metrics"
check "metrics: actlog_shots_dropped_total 2" grep -q '^actlog_shots_dropped_total 2$' "$T/metrics"
check "metrics: actlog_shots_queued 4" grep -q '^actlog_shots_queued 4$' "$T/metrics"
agent_rec() { jq -e 'select(.drops.shots_queue == 2 and .shots_queued == 4)' "$MODE.agent" >/dev/null 2>&1; }
# an agent record every 10 s, shipped at once; 90 s leaves room for a slow
# machine (once seen not to arrive within 40 s on a CI run); on a failure
# the message shows the newest agent records the proxy saw
wait_for 90 agent_rec
check_eq "the next agent record the server takes reports the drops (last seen: $(tail -n 2 "$MODE.agent" 2>/dev/null | jq -c '{ts, drops: .drops.shots_queue, queued: .shots_queued}' 2>/dev/null | tr '\n' ' '))" \
	"$(agent_rec && echo yes)" yes
check "s3rver starts again" s3_start
check "the rest is delivered" wait_for 90 drained
check_eq "the list shows ten (the four kept)" "$(list_count)" 10
check_eq "ten objects in the bucket" "$(s3_count shots)" 10
check_eq "four of the six are listed" \
	"$(jq -r '.screenshots[].sha256' "$T/list.json" | grep -cFf <(jq -r .sha256 "$T/f6"))" 4

# ---- 7: refusals ----
added=$(status .shots.added)
setpriv --reuid=1 --regid=1 --clear-groups /usr/bin/python3 "$FEED" "$SOCK" >"$T/f7" 2>>"$T/feed.err"
check_eq "another user's helper is refused" "$?" 3
check "the refusal names the uid" grep -q 'uid 1 is not the user' "$T/f7"
bad() { # NAME CAUSE ARGS...: refused with CAUSE counted, nothing queued
	local name=$1 cause=$2 before
	shift 2
	before=$(status ".session.shots.refused_by.$cause")
	feed "$@" >"$T/bad" 2>>"$T/feed.err"
	check_eq "$name: refused" "$(jq -r .ack.ok "$T/bad")" false
	check_eq "$name: counted as $cause" "$(status ".session.shots.refused_by.$cause")" $((before + 1))
	echo "$name: $(jq -r .ack.reason "$T/bad")" >>"$T/reasons"
}
bad "an unsealed memfd" seals --unsealed
bad "over 32 MiB" size --big $((32 * 1024 * 1024 + 1))
bad "a size other than the memfd's" size --say-size 100
bad "not a PNG" format --not-png
bad "other dimensions than the PNG's" dims --say-width 99
bad "no descriptor" message --no-fd
check "the reasons are clear" grep -q 'not sealed' "$T/reasons"
check_eq "nothing was queued" "$(status .shots.added)" "$added"
check_eq "the queue is empty" "$(status .shots.queued)" 0
api "$A" PUT "/api/v1/nodes/$TM/config" '{"values":{"screenshots.enabled":false}}'
check "the agent takes screenshots off" wait_for 30 grep -q "policy: screenshots off" "$d/actlogd.log"
bad "policy off" policy
check "refusals are logged" grep -q "screenshot refused:" "$d/actlogd.log"
"$BUILD/actlogctl" --socket "$d/ctl.sock" metrics >"$T/metrics"
check "metrics: refusals by cause" grep -q '^actlog_shots_refused_total{cause="policy"} 1$' "$T/metrics"
check_eq "still ten in the list" "$(list_count)" 10

# ---- 8: end to end: Xvfb, actlog-session, actlogd, S3, the server ----
api "$A" PUT "/api/v1/nodes/$TM/config" '{"values":{"screenshots.enabled":true}}'
check "the agent takes screenshots on again" wait_for 30 bash -c "[ \$(grep -c 'policy: screenshots on' $d/actlogd.log) -ge 2 ]"
free_display
export DISPLAY=:$DN
Xvfb "$DISPLAY" -screen 0 640x480x24 -nolisten tcp -br -noreset >"$T/xvfb.log" 2>&1 &
cleanup_add "kill $!"
check "Xvfb is up" wait_for 10 bash -c 'xprop -root _NET_NOTHING >/dev/null 2>&1'
WIN=(60 40 300 200)
"$BUILD/actlog-pattern" "${WIN[@]}" >"$T/pat" 2>>"$T/pattern.log" &
cleanup_add "kill $!"
check "the pattern is drawn" wait_for 10 grep -q ready "$T/pat"
setpriv --reuid="$NOBODY" --regid="$NOGROUP" --clear-groups env DISPLAY="$DISPLAY" \
	"$BUILD/actlog-session" --socket "$SOCK" -v >"$T/session.log" 2>&1 &
HPID=$!
cleanup_add "kill $HPID"
check "actlog-session connects as an unprivileged user" wait_for 20 grep -q "connected to actlogd" "$T/session.log"
check "it takes the screenshot policy" wait_for 20 grep -q "screenshots every 30s" "$T/session.log"
# the first shot comes one interval (30 s, the server's least) after the policy
check "a real screenshot is listed" wait_for 120 list_is 11
ID=$(jq -r '.screenshots | sort_by(.created) | last | .id' "$T/list.json")
check_eq "its dimensions are the screen's" "$(jq -r --arg i "$ID" '.screenshots[] | select(.id == $i) | "\(.width)x\(.height)"' "$T/list.json")" 640x480
# the server's default policy: WebP at quality 50
check_eq "it is listed as a WebP" \
	"$(jq -r --arg i "$ID" '.screenshots[] | select(.id == $i) | "\(.format) \(.content_type)"' "$T/list.json")" "webp image/webp"
img() { # TOKEN -> ST, body in $T/img.webp, headers in $T/img.hdr
	ST=$(curl -s -D "$T/img.hdr" -o "$T/img.webp" -w '%{http_code}' -H "Authorization: Bearer $1" "$SRV_URL/api/v1/screenshots/$ID/image")
}
img "$A"
check_eq "the admin views the image" "$ST" 200
check "it is served as image/webp" grep -qi "^content-type: image/webp"$'\r'"\$" "$T/img.hdr"
check_eq "the image is the registered bytes" "$(sha256sum <"$T/img.webp" | cut -d' ' -f1)" \
	"$(jq -r --arg i "$ID" '.screenshots[] | select(.id == $i) | .sha256' "$T/list.json")"
check_eq "the object in S3 is stored as image/webp" \
	"$(AWS_ACCESS_KEY_ID=$AKID AWS_SECRET_ACCESS_KEY=$S3SECRET "$BUILD/actlog-s3" --endpoint "$S3URL" --bucket shots --path-style head "$(jq -r --arg i "$ID" '.screenshots[] | select(.id == $i) | .key' "$T/list.json")" | grep -io 'image/[a-z]*')" image/webp
check "libwebp decodes it" dwebp -quiet -ppm "$T/img.webp" -o "$T/img.ppm"
# a screen of few colours (the pattern on a black root) is lossless WebP
check_eq "it is a lossless WebP (VP8L: few colours)" "$(head -c 16 "$T/img.webp" | tail -c 4)" VP8L
check "it is the pattern, pixel for pixel" /usr/bin/python3 "$PNG" pattern "$T/img.ppm" 0 0 "${WIN[@]}"
TE=$(login eve@example.com password-eve)
img "$TE"
check_eq "a user without screenshot.read is refused" "$ST" 403
api "$A" GET "/api/v1/audit?limit=1000"
check_eq "the audit log has the view" \
	"$(jr "[.entries[] | select(.action==\"screenshot.view\" and .target==\"$ID\" and .result==\"ok\")] | length")" 1
check_eq "the audit log has the refusal" \
	"$(jr "[.entries[] | select(.action==\"screenshot.view\" and .actor==\"$UE\" and .target==\"$ID\" and .result==\"forbidden\")] | length")" 1
check_eq "no shot failed for good" "$(status .shots.failed)" 0
# no more shots from the helper: the counts below are the feeder's alone
kill "$HPID"
check "actlog-session exits on SIGTERM" wait "$HPID"
check "the helper's last shots are delivered" wait_for 60 drained

# ---- 9: the presigned URL expired before the PUT: presigned again ----
n0=$(list_count)
b0=$(s3_count shots)
: >"$MODE.log"
echo expire >"$MODE"
feed --seed expired >"$T/f9" 2>>"$T/feed.err"
check "a shot with an expired URL is delivered" wait_for 60 list_is $((n0 + 1))
check "the queue drains" wait_for 20 drained
check_eq "it was presigned twice" "$(grep -c '^presign 200' "$MODE.log")" 2
check_eq "one object more in the bucket (the expired key was never PUT)" "$(s3_count shots)" $((b0 + 1))

# ---- 10: a permanent refusal moves the shot aside ----
n0=$(list_count)
echo reject >"$MODE"
feed --seed rejected >"$T/f10" 2>>"$T/feed.err"
check "the shot fails for good" wait_for 60 st_is .shots.failed 1
echo pass >"$MODE"
check "the queue drains" wait_for 20 drained
check "it is logged" grep -q "failed for good" "$d/actlogd.log"
check_eq "the shot is kept in shots/failed, 0600 root" \
	"$(find "$STATE/shots/failed" -type f -printf '%m %u %f\n' | sed 's/ [0-9a-f-]*\./ /' | sort | tr '\n' ,)" "600 root json,600 root png,"
check_eq "nothing more in the list" "$(list_count)" "$n0"
check "status names the error" bash -c "$BUILD/actlogctl --socket $d/ctl.sock status --json | jq -e '.shots.last_error | test(\"HTTP 400\")' >/dev/null"

# ---- 11: S3 settings incomplete at the server: the shot waits, not fails ----
n0=$(list_count)
f0=$(status .shots.failed)
api "$A" PUT "/api/v1/nodes/$TM/config" "{\"values\":{\"s3.bucket\":null,\"s3.secret_access_key\":\"$S3SECRET\"}}"
check_st "the admin removes the bucket (with the secret again)" 200
feed --seed nobucket >"$T/f11" 2>>"$T/feed.err"
check "presign answers 409 and the shot waits" \
	wait_for 20 bash -c "$BUILD/actlogctl --socket $d/ctl.sock status --json | jq -e '.shots.queued == 1 and (.shots.last_error | test(\"409\"))' >/dev/null"
sleep 2
check_eq "it is not failed for good" "$(status .shots.failed)" "$f0"
api "$A" PUT "/api/v1/nodes/$TM/config" "{\"values\":{\"s3.bucket\":\"shots\",\"s3.secret_access_key\":\"$S3SECRET\"}}"
check_st "the bucket is set again (with the secret again)" 200
check "then it is delivered" wait_for 60 list_is $((n0 + 1))
check "the queue drains" wait_for 20 drained

# ---- 12: screenshots turned off: queued shots are deleted unsent ----
n0=$(list_count)
d0=$(status .shots.dropped)
check "s3rver stops" s3_stop
feed --count 2 --seed off >"$T/f12" 2>>"$T/feed.err"
check "two shots wait for S3" wait_for 20 st_is .shots.queued 2
api "$A" PUT "/api/v1/nodes/$TM/config" '{"values":{"screenshots.enabled":false}}'
check_st "the admin turns screenshots off" 200
check "the agent empties its queue" wait_for 30 st_is .shots.queued 0
check_eq "both counted as dropped" "$(status .shots.dropped)" $((d0 + 2))
check "and says so" grep -q "screenshots are off by policy; 2 queued shots deleted unsent" "$d/actlogd.log"
check_eq "no queue files left" "$(find "$STATE/shots" -maxdepth 1 -type f | wc -l)" 0
check "s3rver starts again" s3_start
sleep 2
check_eq "nothing reached the list" "$(list_count)" "$n0"
api "$A" PUT "/api/v1/nodes/$TM/config" '{"values":{"screenshots.enabled":true}}'
check "screenshots on again" wait_for 30 bash -c "[ \$(grep -c 'policy: screenshots on' '$d/actlogd.log') -ge 2 ]"
feed --seed on-again --wait-on >"$T/f12b" 2>>"$T/feed.err"
check "a new shot is delivered" wait_for 60 list_is $((n0 + 1))

kill -TERM "$AGENT_PID"
wait "$AGENT_PID"
check_eq "actlogd exits 0" "$?" 0
check "the server exits 0" srv_stop
finish
