#!/usr/bin/env bash
# actlog-server's web dashboard: the static files served by the real binary
# (security headers, content types, path traversal, symlinks, HEAD, the API
# unaffected), then the dashboard itself in a real headless Chromium driven
# by tests/web/dashboard.mjs (playwright-core) against seeded data: sign-in,
# the organisation tree, a team, a person's activity and applications,
# hostile names rendered as text, a screenshot viewed (a WebP served as
# image/webp from s3rver, decoded by the browser), sign-out,
# a manager's and an employee's limited views.
# WEB_SHOT_DIR=DIR keeps the browser's PNG screenshots of the pages there.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
source "$(dirname "$0")/../web.sh"
source "$(dirname "$0")/../s3.sh"
need curl
need jq
need gzip
need node
need sha256sum
need /usr/bin/python3
need cwebp
web_need

# s3rver (a local S3) for a screenshot the dashboard views, with a key pair
# of our own
AKID=AKIDWEBTEST
S3SECRET=TOPSECRET-value-42
s3_init "$AKID" "$S3SECRET" shots
s3_up

# the web root: a copy of web/ (so the test can plant a symlink in it)
WEB=$T/web
cp -r "$ROOT/web" "$WEB"
echo "outside the web root" >"$T/secret.txt"
ln -s "$T/secret.txt" "$WEB/leak.txt"
ln -s "$T" "$WEB/dir"
echo "hidden" >"$WEB/.hidden.txt"

srv_init
srv_start --web-root "$WEB" || finish

# --- static files over plain HTTP ---
hdr() { # PATH [CURL ARGS...]: headers in $T/h, body in $T/b, status in ST
	local p=$1
	shift
	ST=$(curl -s -D "$T/h" -o "$T/b" -w '%{http_code}' --max-time 30 "$@" "$SRV_URL$p")
}
hval() { grep -i "^$1:" "$T/h" | head -1 | cut -d: -f2- | sed 's/^ *//; s/\r$//'; }
hdr /
check_eq "/ answers 200" "$ST" 200
check "/ is the dashboard's index.html" cmp -s "$T/b" "$ROOT/web/index.html"
check_eq "/ is text/html" "$(hval Content-Type)" "text/html; charset=utf-8"
check "CSP: default-src 'self'" grep -qi "^Content-Security-Policy:.*default-src 'self'" "$T/h"
check "CSP: scripts only from the server (no inline)" grep -qi "^Content-Security-Policy:.*script-src 'self';" "$T/h"
check "CSP: no 'unsafe-inline' anywhere" not grep -qi "unsafe-inline" "$T/h"
check "CSP: images from the server, blob: and data:" grep -qi "^Content-Security-Policy:.*img-src 'self' blob: data:" "$T/h"
check "CSP: frame-ancestors 'none'" grep -qi "^Content-Security-Policy:.*frame-ancestors 'none'" "$T/h"
check_eq "X-Content-Type-Options" "$(hval X-Content-Type-Options)" nosniff
check_eq "X-Frame-Options" "$(hval X-Frame-Options)" DENY
check_eq "Referrer-Policy" "$(hval Referrer-Policy)" no-referrer
check_eq "Cache-Control" "$(hval Cache-Control)" no-cache
ETAG=$(hval ETag)
check "an ETag" test -n "$ETAG"
hdr / -H "If-None-Match: $ETAG"
check_eq "If-None-Match with the ETag: 304" "$ST" 304
hdr /app/js/main.js
check_eq "a module: 200" "$ST" 200
check_eq "a module is text/javascript" "$(hval Content-Type)" "text/javascript; charset=utf-8"
check "the module's bytes" cmp -s "$T/b" "$ROOT/web/js/main.js"
check_eq "a module has the security headers too" "$(hval X-Content-Type-Options)" nosniff
hdr /app/style.css
check_eq "the style sheet is text/css" "$ST $(hval Content-Type)" "200 text/css; charset=utf-8"
hdr /app/index.html
check_eq "index.html under /app is text/html" "$ST $(hval Content-Type)" "200 text/html; charset=utf-8"
hdr /app/style.css -I
check_eq "HEAD: 200 with the type" "$ST $(hval Content-Type)" "200 text/css; charset=utf-8"
check_eq "HEAD: the file's length" "$(hval Content-Length)" "$(stat -c %s "$ROOT/web/style.css")"
check_eq "HEAD: no body" "$(curl -s -I -o /dev/null -w '%{size_download}' "$SRV_URL/app/style.css")" 0
hdr /app/nothing.js
check_eq "an unknown file: 404" "$ST" 404
check_eq "a 404 has the security headers" "$(hval X-Frame-Options)" DENY
hdr /app/leak.txt
check_eq "a symlink to a file outside the root: 404" "$ST" 404
check "the outside file's content is not served" not grep -q "outside the web root" "$T/b"
hdr /app/dir/secret.txt
check_eq "a symlinked directory: 404" "$ST" 404
hdr /app/.hidden.txt
check_eq "a dot file: 404" "$ST" 404
for p in /../etc/passwd /app/../../etc/passwd /app/%2e%2e/%2e%2e/etc/passwd /app/js/%2e%2e/%2e%2e/secret.txt \
	/app/..%2fsecret.txt /app/%2E%2E/secret.txt /app/js//main.js /app/js%2f..%2f..%2fsecret.txt; do
	hdr "$p" --path-as-is
	check "traversal $p: 404 or 400" test "$ST" = 404 -o "$ST" = 400
	check "traversal $p: nothing from outside" not grep -q "outside the web root\|root:x:0" "$T/b"
done
hdr /app/js
check_eq "a directory: 404" "$ST" 404
hdr /app/js/main.js -X POST
check_eq "POST to a file: 405" "$ST" 405
hdr /api/v1/me
check_eq "the API still answers (401 without a token)" "$ST" 401
has_error() { jq -e '.error | length > 0' "$T/b" >/dev/null; }
check "API errors stay JSON" has_error
hdr /api/v1/auth/login
check_eq "an API route with another method is still 405" "$ST" 405
hdr /api/v1/nope
check_eq "an unknown API route is still a JSON 404" "$ST:$(hval Content-Type)" "404:application/json"

# --- seed: a tree, three people, a device with activity and applications ---
DAY=$(date -u -d '3 days ago' +%Y-%m-%d)
HOSTILE='<img src=x onerror=alert(1)>'
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
B=$(srv_business)
DOM=$(srv_node domain Engineering "$B")
PRJ=$(srv_node project Platform "$DOM")
TM=$(srv_node team "Red team" "$PRJ")
# beside the manager's way down: a team and a business she must not see
srv_node team "Blue team" "$PRJ" >/dev/null
srv_node business "Elsewhere Ltd" root >/dev/null
UA=$(srv_user alice@example.com "Alice Anders" alice "$TM")
UB=$(srv_user bob@example.com "Bob Berg" bob "$TM")
UM=$(srv_user mona@example.com "Mona Manager" mona "$TM")
srv_grant "$UM" "$TM" manager
check_eq "seed: tree, people, a manager" "$ST:$(test -n "$TM$UA$UB" && echo ok)" "201:ok"
api "$A" PUT "/api/v1/nodes/$PRJ/config" '{"values":{"activity.interval_s":30},"locked":["activity.interval_s"]}'
check_st "seed: config on the project" 200
api "$A" PUT "/api/v1/nodes/$TM/config" "$(jq -nc --arg e "$S3URL" --arg k "$AKID" --arg s "$S3SECRET" \
	'{values:{"retention.days":90,"screenshots.enabled":true,"s3.bucket":"shots","s3.region":"us-east-1",
	  "s3.endpoint":$e,"s3.path_style":true,"s3.access_key_id":$k,"s3.secret_access_key":$s}}')"
check_st "seed: config on the team (S3 settings with a secret)" 200
srv_enroll "$TM" webhost1 ws-042
DTOK=$TOK
api "$A" PUT "/api/v1/devices/$DEV" "{\"owner_id\":\"$UA\"}"
check_st "seed: a device owned by alice" 200
act() { # START KEYS CLICKS MOVES ACTIVE_S
	local s=$1 e
	e=$(date -u -d "$1 + 60 seconds" +%Y-%m-%dT%H:%M:%S.000Z)
	printf '{"type":"activity","ts":"%s","v":1,"host_id":"webhost1","user":"alice","start":"%s","end":"%s","interval_s":60,"keys":%d,"clicks":%d,"moves":%d,"distance":10,"scrolls":0,"active_s":%d}\n' \
		"$e" "$s" "$e" "$2" "$3" "$4" "$5"
}
{
	act "${DAY}T10:00:00.000Z" 120 14 800 48
	act "${DAY}T10:30:00.000Z" 30 6 200 12
	act "${DAY}T14:00:00.000Z" 7 1 50 5
	jq -nc --arg ts "${DAY}T10:05:00.000Z" --arg h "$HOSTILE" \
		'{type:"app_usage",ts:$ts,v:1,host_id:"webhost1",user:"alice",apps:[{app:"firefox",focus_s:1800},{app:$h,focus_s:600},{app:"code",focus_s:300}]}'
	jq -nc --arg ts "${DAY}T09:00:00.000Z" \
		'{type:"sysinfo",ts:$ts,v:1,host_id:"webhost1",user:null,session:"none",reason:"start",hostname:"ws-042",
		  os:{name:"Debian GNU/Linux",id:"debian",version_id:"12",pretty_name:"Debian GNU/Linux 12 (bookworm)"},
		  kernel:{release:"6.1.0-28-amd64"},cpu:{threads:8},memory:{total:17179869184}}'
} >"$T/batch.ndjson"
gzip -c "$T/batch.ndjson" >"$T/batch.gz"
ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST --max-time 30 -H "Authorization: Bearer $DTOK" \
	-H "X-Batch-Id: web-1" -H 'Content-Encoding: gzip' --data-binary @"$T/batch.gz" "$SRV_URL/api/v1/ingest")
check_eq "seed: the batch is accepted whole" "$ST:$(jr .accepted)" "200:5"
api "$A" GET "/api/v1/users/$UA/activity?from=${DAY}T00:00:00Z&to=$(date -u -d "$DAY + 1 day" +%Y-%m-%d)T00:00:00Z"
check_eq "seed: the API's totals (what the page must show)" "$(jr '.totals | [.keys,.clicks,.moves,.active_s] | join(",")')" "157,21,1050,65"
# a screenshot of alice's device on that day: a real 64x48 WebP (the
# default format; made from a PNG with libwebp's cwebp), through presign, a
# PUT to S3 and register, as the agent does
/usr/bin/python3 - "$T/shot.png" <<'PY'
import struct, sys, zlib
w, h = 64, 48
raw = b"".join(b"\0" + bytes(v for x in range(w) for v in (x * 4 % 256, y * 5 % 256, 160)) for y in range(h))
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) \
    + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
cwebp -quiet -q 75 "$T/shot.png" -o "$T/shot.webp"
check "seed: a WebP of the PNG" test -s "$T/shot.webp"
SHA=$(sha256sum "$T/shot.webp" | cut -d' ' -f1)
SIZE=$(stat -c %s "$T/shot.webp")
TAKEN=${DAY}T10:20:00.000Z
api "$DTOK" POST /api/v1/screenshots/presign "{\"sha256\":\"$SHA\",\"size\":$SIZE,\"content_type\":\"image/webp\",\"taken_at\":\"$TAKEN\"}"
check_st "seed: presign a screenshot" 200
SKEY=$(jr .key)
ST=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: image/webp' --data-binary @"$T/shot.webp" "$(jr .url)")
check_eq "seed: the PUT to S3" "$ST" 200
api "$DTOK" POST /api/v1/screenshots "{\"key\":\"$SKEY\",\"size\":$SIZE,\"sha256\":\"$SHA\",\"width\":64,\"height\":48,\"taken_at\":\"$TAKEN\",\"monitor\":\"HDMI-1\"}"
check_st "seed: register the screenshot" 201
SHOT=$(jr .id)
api "" POST /api/v1/auth/login '{"email":"alice@example.com","password":"not her password"}'
WRONG_PW_ERR=$(jr '.error // empty')
check "seed: a wrong password is answered with an error message" test -n "$WRONG_PW_ERR"
TKA=$(login alice@example.com password-alice)
api "$TKA" GET "/api/v1/users/$UB"
check_st "seed: alice may not read bob" 403
ALICE_BOB_ERR=$(jr '.error // empty')
check "seed: the refusal has an error message" test -n "$ALICE_BOB_ERR"

# --- the dashboard in Chromium ---
export ADMIN_EMAIL ADMIN_PW DAY HOSTILE B DOM PRJ TM UA UB \
	WRONG_PW_ERR ALICE_BOB_ERR SHOT
web_run dashboard 300
check "a screenshot of the person's page" test -s "$T/user-page.png"
web_keep '*.png'

# the screenshot the browser viewed was audited, with the admin as actor
api "$A" GET "/api/v1/audit?limit=1000"
shot_views() { jq -r --arg s "$SHOT" '[.entries[] | select(.action == "screenshot.view" and .target == $s) | "\(.actor_email):\(.result)"] | join(",")' "$T/resp"; }
check_eq "the view in the browser wrote one screenshot.view audit entry" "$(shot_views)" "$ADMIN_EMAIL:ok"
# the browser's failed sign-in went through the API like any other
api "$A" GET "/api/v1/audit?limit=1000"
bad_logins() { jq -e '[.entries[] | select(.action == "auth.login" and .result == "bad_password")] | length >= 2' "$T/resp" >/dev/null; }
check "the browser's failed sign-in is audited" bad_logins

srv_stop
check "the server stops cleanly" test $? = 0
"$SRV_BIN" serve --data-dir "$SRV_DIR" --listen 127.0.0.1:0 --web-root "$T/nope" >"$T/nope.log" 2>&1
check_eq "a --web-root that cannot be opened stops the start" "$?" 1
check "... and the log says why" grep -q "start_failed.*web root $T/nope" "$T/nope.log"
finish
