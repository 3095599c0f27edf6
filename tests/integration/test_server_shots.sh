#!/usr/bin/env bash
# actlog-server: screenshots against the real binary and s3rver (a local
# S3) — presign, an upload with curl straight to the presigned URL,
# register (only once the object is in S3 with its size), list, view
# (byte-exact, audited), the bytes bound to the sha256 (the presigned PUT
# signs length and checksum, checked against botocore; register and view
# refuse an object replaced with other bytes), who may view (managers of
# another team and employees refused unless screenshots.employee_view),
# 403 when disabled, 409 when S3 settings are incomplete, an unknown key refused,
# an old shot still viewable after the bucket changes, S3 settings taken
# whole from one level (a manager below cannot point the business's key at
# his own host or bucket), the credentials bound to where they are sent (a
# manager of the level that holds them cannot move them without the
# secret), and the S3 secret never in responses, logs or the store file.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
source "$(dirname "$0")/../s3.sh"
need curl
need jq
need node
need sha256sum
need /usr/bin/python3

# s3rver with a key pair of our own, so that the secret is a string found
# nowhere else (its built-in pair is S3RVER/S3RVER, key id and secret alike)
AKID=AKIDSHOTSTEST
SECRET=shots-secret-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
s3_init "$AKID" "$SECRET" shots1 shots2
s3_up

jrok() { jq -e "$1" "$T/resp" >/dev/null 2>&1; }
srv_init
srv_start || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
srv_tree
UA=$(srv_user alice@example.com alice alice "$TA")
UM=$(srv_user mona@example.com mona mona "$TA")
UD=$(srv_user dave@example.com dave dave "$TB")
check "tree and users" test -n "$TA" -a -n "$TB" -a -n "$UA" -a -n "$UM" -a -n "$UD"
check "mona manages team A" srv_grant "$UM" "$TA" manager
check "dave manages team B" srv_grant "$UD" "$TB" manager
TKA=$(login alice@example.com password-alice)
TKM=$(login mona@example.com password-mona)
TKD=$(login dave@example.com password-dave)

srv_enroll "$TA" 11111111111111111111111111111111
DEVA=$DEV TOKA=$TOK
api "$A" PUT "/api/v1/devices/$DEVA" "{\"owner_id\":\"$UA\"}"
check_st "alice owns device A" 200
srv_enroll "$TB" 22222222222222222222222222222222
DEVB=$DEV TOKB=$TOK

# a PNG-looking file
/usr/bin/python3 -c 'import sys,os; sys.stdout.buffer.write(b"\x89PNG\r\n\x1a\n"+os.urandom(200000))' >"$T/shot.png"
SHA=$(sha256sum "$T/shot.png" | cut -d' ' -f1)
SIZE=$(stat -c %s "$T/shot.png")
NOW=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
B64=$(/usr/bin/python3 -c 'import base64,hashlib,sys; print(base64.b64encode(hashlib.sha256(open(sys.argv[1],"rb").read()).digest()).decode())' "$T/shot.png")
presign_body() { printf '{"sha256":"%s","size":%s,"content_type":"image/png","taken_at":"%s"}' "$SHA" "$SIZE" "$NOW"; }
put_listed() { # FILE URL ANSWER: PUT FILE with the headers the presign ANSWER lists
	local h=() k v
	while IFS=$'\t' read -r k v; do h+=(-H "$k: $v"); done < <(jq -r '.headers | to_entries[] | "\(.key)\t\(.value)"' "$3")
	curl -s -o /dev/null -w '%{http_code}' -X PUT "${h[@]}" --data-binary @"$1" "$2"
}
s3put() { # BUCKET KEY FILE: write the object behind the server's back
	AWS_ACCESS_KEY_ID=$AKID AWS_SECRET_ACCESS_KEY=$SECRET "$BUILD/actlog-s3" --endpoint "$S3URL" \
		--bucket "$1" --path-style put "$2" "$3" >/dev/null
}

# --- refusals before set-up ---
api "$A" PUT "/api/v1/nodes/$TA/config" "{\"values\":{\"s3.bucket\":\"shots1\",\"s3.region\":\"us-east-1\",\"s3.endpoint\":\"$S3URL\",\"s3.path_style\":true,\"s3.access_key_id\":\"$AKID\",\"s3.secret_access_key\":\"$SECRET\"}}"
check_st "admin sets team A's S3 settings" 200
check "the config answer has no secret" not grep -q "\"$SECRET\"" "$T/resp"
api "$TOKA" POST /api/v1/screenshots/presign "$(presign_body)"
check_st "presign with screenshots disabled" 403
check "403 says screenshots are not enabled" grep -q 'screenshots are not enabled for this device' "$T/resp"
api "$A" PUT "/api/v1/nodes/$TB/config" '{"values":{"screenshots.enabled":true,"s3.bucket":"shots1"}}'
check_st "team B: enabled, bucket only" 200
api "$TOKB" POST /api/v1/screenshots/presign "$(presign_body)"
check_st "presign with incomplete S3 settings" 409
check "409 names what is missing" grep -q 's3.region.*s3.access_key_id.*s3.secret_access_key' "$T/resp"
api "$A" PUT "/api/v1/nodes/$TA/config" '{"values":{"screenshots.enabled":true}}'
check_st "admin enables screenshots on team A" 200

# --- caps ---
api "$TOKA" POST /api/v1/screenshots/presign "{\"sha256\":\"$SHA\",\"size\":$((32 * 1024 * 1024 + 1)),\"content_type\":\"image/png\",\"taken_at\":\"$NOW\"}"
check_st "presign over 32 MiB" 400
api "$TOKA" POST /api/v1/screenshots/presign "{\"sha256\":\"abc\",\"size\":10,\"content_type\":\"image/png\",\"taken_at\":\"$NOW\"}"
check_st "presign with a bad sha256" 400
for ct in image/gif text/html image/PNG; do
	api "$TOKA" POST /api/v1/screenshots/presign "{\"sha256\":\"$SHA\",\"size\":10,\"content_type\":\"$ct\",\"taken_at\":\"$NOW\"}"
	check_st "presign of content type '$ct'" 400
	check "presign of content type '$ct': the refusal names the three" \
		grep -q "image/png, image/webp or image/jpeg" "$T/resp"
done
# taken_at within the times ingest accepts (2000 to a day ahead): a shot
# of year 9999 or 0001 would sit in a day partition retention never sweeps
for ts in 9999-12-31T23:59:59.000Z 0001-01-01T00:00:00.000Z 1999-12-31T23:59:59.999Z \
	"$(date -u -d '+2 days' +%Y-%m-%dT%H:%M:%S.000Z)"; do
	api "$TOKA" POST /api/v1/screenshots/presign "{\"sha256\":\"$SHA\",\"size\":$SIZE,\"content_type\":\"image/png\",\"taken_at\":\"$ts\"}"
	check_st "presign with taken_at $ts" 400
	check "presign with taken_at $ts: the refusal says why" grep -q "taken_at.*before 2000 or more than a day ahead" "$T/resp"
done
api "$TOKA" POST /api/v1/screenshots/presign "{\"sha256\":\"$SHA\",\"size\":$SIZE,\"content_type\":\"image/png\",\"taken_at\":\"2000-01-01T00:00:00.000Z\"}"
check_st "presign with taken_at 2000-01-01 (the first accepted)" 200
api "$A" POST /api/v1/screenshots/presign "$(presign_body)"
check_st "presign with a user token" 401

# --- presign, upload, register ---
api "$TOKA" POST /api/v1/screenshots/presign "$(presign_body)"
check_st "presign" 200
cp "$T/resp" "$T/presign.json"
URL=$(jr .url)
KEY=$(jr .key)
check_eq "method" "$(jr .method)" PUT
check "key is shots/<device>/<day>/<user>/<random>.png" \
	grep -qE "^shots/$DEVA/$(date -u +%Y-%m-%d)/(u_[0-9a-f]{16}|team)/[0-9a-f]{16}\\.png\$" <<<"$KEY"
exp=$(date -u -d "$(jr .expires_at)" +%s)
check "expires in about 10 minutes" test $((exp - $(date +%s))) -ge 590 -a $((exp - $(date +%s))) -le 601
check "url is presigned for 600 s" grep -q 'X-Amz-Expires=600' <<<"$URL"
# the PUT is bound to the shot's bytes: S3 checks x-amz-checksum-sha256
# against the body, and the signature covers it and the length
check_eq "presign lists the length, type and checksum to send" \
	"$(jq -r '.headers | "\(.["Content-Length"]) \(.["Content-Type"]) \(.["x-amz-checksum-sha256"])"' "$T/presign.json")" \
	"$SIZE image/png $B64"
check "the URL signs them (X-Amz-SignedHeaders)" \
	grep -q 'X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost%3Bx-amz-checksum-sha256&' <<<"$URL"
# s3rver checks no SigV4 signature: botocore does, with the same inputs
mapfile -t hlines < <(jq -r '.headers | to_entries[] | "\(.key): \(.value)"' "$T/presign.json")
PRESIGN_SECRET=$SECRET /usr/bin/python3 "$ROOT/tests/integration/presign_botocore.py" \
	"test_server_shots: botocore" PUT "$URL" "$AKID" us-east-1 "${hlines[@]}" >"$T/bc.log" 2>&1
rc=$?
cat "$T/bc.log"
if [ "$rc" -ne 0 ] && ! grep -q '^FAIL: ' "$T/bc.log"; then fail "botocore check crashed (rc $rc)"; fi
check_eq "botocore: the signature and each bound header checked" "$(grep -c '^PASS: ' "$T/bc.log")" 5
hdrs=()
while IFS=$'\t' read -r k v; do hdrs+=(-H "$k: $v"); done < <(jq -r '.headers | to_entries[] | "\(.key)\t\(.value)"' "$T/presign.json")
pst=$(curl -s -o "$T/put.out" -w '%{http_code}' -X PUT "${hdrs[@]}" --data-binary @"$T/shot.png" "$URL")
check_eq "curl PUT to the presigned URL" "$pst" 200

reg() { printf '{"key":"%s","size":%s,"sha256":"%s","width":1920,"height":1080,"taken_at":"%s","monitor":"HDMI-1"}' "$1" "${2:-$SIZE}" "$SHA" "${3:-$NOW}"; }
# a second presign whose object never gets uploaded, and one uploaded short
api "$TOKA" POST /api/v1/screenshots/presign "$(presign_body)"
KEY2=$(jr .key)
api "$TOKA" POST /api/v1/screenshots "$(reg "$KEY2")"
check_st "register before the upload" 409
api "$TOKA" POST /api/v1/screenshots/presign "$(presign_body)"
KEY3=$(jr .key) URL3=$(jr .url)
head -c 1000 "$T/shot.png" >"$T/short.png"
curl -s -o /dev/null -X PUT -H 'Content-Type: image/png' --data-binary @"$T/short.png" "$URL3"
api "$TOKA" POST /api/v1/screenshots "$(reg "$KEY3")"
check_st "register of an object of another size than uploaded" 400
api "$TOKA" POST /api/v1/screenshots "$(reg "$KEY" 5)"
check_st "register with another size than presigned" 400
for ts in 9999-12-31T23:59:59.000Z 0001-01-01T00:00:00.000Z; do
	api "$TOKA" POST /api/v1/screenshots "$(reg "$KEY" "$SIZE" "$ts")"
	check_st "register with taken_at $ts" 400
	check "register with taken_at $ts: the refusal says why" grep -q "taken_at.*before 2000 or more than a day ahead" "$T/resp"
done
api "$TOKA" POST /api/v1/screenshots "$(reg "$KEY")"
check_st "register" 201
ID=$(jr .id)
check "register answers an id" grep -qE '^s_[0-9a-f]{16}$' <<<"$ID"
api "$TOKA" POST /api/v1/screenshots "$(reg "$KEY")"
check_st "register again" 201
check_eq "register is idempotent on the key" "$(jr .id)" "$ID"
api "$TOKA" POST /api/v1/screenshots "$(reg "shots/$DEVA/2020-01-01/0000000000000000.png")"
check "register of an unknown key: 400/404" test "$ST" = 404 -o "$ST" = 400
api "$TOKB" POST /api/v1/screenshots "$(reg "${KEY/.png/x.png}")"
check "register of another device's key: 400/404" test "$ST" = 404 -o "$ST" = 400

# --- list and view ---
api "$A" GET "/api/v1/screenshots?user_id=$UA"
check_st "admin lists alice's screenshots" 200
check_eq "list shows the shot" "$(jr '[.screenshots[].id] | join(",")')" "$ID"
check_eq "list metadata" "$(jr '.screenshots[0] | "\(.device_id) \(.user_id) \(.size) \(.sha256) \(.width)x\(.height) \(.monitor)"')" \
	"$DEVA $UA $SIZE $SHA 1920x1080 HDMI-1"
api "$A" GET "/api/v1/screenshots?user_id=$UA&from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z"
check_eq "list outside the range is empty" "$(jr '.screenshots | length')" 0
api "$TKM" GET "/api/v1/screenshots?user_id=$UA"
check_eq "the manager of team A lists them" "$ST $(jr '.screenshots | length')" "200 1"
api "$TKD" GET "/api/v1/screenshots?user_id=$UA"
check_st "the manager of team B may not list them" 403
api "$TKA" GET "/api/v1/screenshots?user_id=$UA"
check_st "alice may not list hers while employee_view is off" 403

img() { # TOKEN -> ST, body in $T/img
	ST=$(curl -s -D "$T/img.hdr" -o "$T/img" -w '%{http_code}' -H "Authorization: Bearer $1" "$SRV_URL/api/v1/screenshots/$ID/image")
}
img "$A"
check_eq "admin views the image" "$ST" 200
check "a PNG is served as image/png" grep -qi "^content-type: image/png"$'\r'"\$" "$T/img.hdr"
check_eq "the image is byte-exact" "$(sha256sum <"$T/img" | cut -d' ' -f1)" "$SHA"
img "$TKM"
check_eq "the manager of team A views it" "$ST" 200
img "$TKD"
check_eq "the manager of team B may not view it" "$ST" 403
img "$TKA"
check_eq "alice may not view hers while employee_view is off" "$ST" 403
ST=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $A" "$SRV_URL/api/v1/screenshots/s_0000000000000000/image")
check_eq "unknown screenshot" "$ST" 404

api "$A" PUT "/api/v1/nodes/$TA/config" '{"values":{"screenshots.employee_view":true}}'
check_st "admin turns employee_view on" 200
img "$TKA"
check_eq "alice views her own with employee_view on" "$ST" 200
api "$TKA" GET "/api/v1/screenshots?user_id=$UA"
check_eq "alice lists her own with employee_view on" "$ST $(jr '.screenshots | length')" "200 1"
api "$TKA" GET "/api/v1/screenshots?user_id=$UM"
check_st "alice may not list mona's" 403

# --- a WebP and a JPEG: their key, the S3 object's type, the list, the view ---
for f in webp:RIFF jpeg:JFIF; do
	fmt=${f%%:*}
	ct=image/$fmt
	ext=$fmt
	[ "$fmt" = jpeg ] && ext=jpg
	/usr/bin/python3 -c 'import sys,os; sys.stdout.buffer.write(sys.argv[1].encode()+os.urandom(50000))' "${f#*:}" >"$T/shot.$ext"
	fsha=$(sha256sum "$T/shot.$ext" | cut -d' ' -f1)
	fsize=$(stat -c %s "$T/shot.$ext")
	api "$TOKA" POST /api/v1/screenshots/presign "{\"sha256\":\"$fsha\",\"size\":$fsize,\"content_type\":\"$ct\",\"taken_at\":\"$NOW\"}"
	check_st "$fmt: presign" 200
	cp "$T/resp" "$T/presign-$fmt.json"
	fkey=$(jr .key)
	check "$fmt: the key ends in .$ext" grep -qE "^shots/$DEVA/[0-9-]{10}/(u_[0-9a-f]{16}|team)/[0-9a-f]{16}\\.$ext\$" <<<"$fkey"
	check_eq "$fmt: the PUT is bound to Content-Type $ct" "$(jr '.headers["Content-Type"]')" "$ct"
	check_eq "$fmt: PUT" "$(put_listed "$T/shot.$ext" "$(jr .url)" "$T/presign-$fmt.json")" 200
	check "$fmt: the S3 object's content type is $ct" bash -c \
		"AWS_ACCESS_KEY_ID=$AKID AWS_SECRET_ACCESS_KEY=$SECRET '$BUILD/actlog-s3' --endpoint '$S3URL' --bucket shots1 --path-style head '$fkey' | grep -qi '$ct'"
	api "$TOKA" POST /api/v1/screenshots "{\"key\":\"$fkey\",\"size\":$fsize,\"sha256\":\"$fsha\",\"width\":1920,\"height\":1080,\"taken_at\":\"$NOW\"}"
	check_st "$fmt: register" 201
	fid=$(jr .id)
	api "$A" GET "/api/v1/screenshots?user_id=$UA"
	check_eq "$fmt: the list gives its format and content type" \
		"$(jq -r --arg i "$fid" '.screenshots[] | select(.id == $i) | "\(.format) \(.content_type)"' "$T/resp")" "$fmt $ct"
	ST=$(curl -s -D "$T/img-$fmt.hdr" -o "$T/img-$fmt" -w '%{http_code}' -H "Authorization: Bearer $A" "$SRV_URL/api/v1/screenshots/$fid/image")
	check_eq "$fmt: the image route answers" "$ST" 200
	check "$fmt: with Content-Type $ct" grep -qi "^content-type: $ct"$'\r'"\$" "$T/img-$fmt.hdr"
	check_eq "$fmt: the bytes are the uploaded ones" "$(sha256sum <"$T/img-$fmt" | cut -d' ' -f1)" "$fsha"
done
api "$A" GET "/api/v1/screenshots?user_id=$UA"
check_eq "the PNG is listed as png, image/png" \
	"$(jq -r --arg i "$ID" '.screenshots[] | select(.id == $i) | "\(.format) \(.content_type)"' "$T/resp")" "png image/png"

# --- the bucket changes: the old shot keeps its settings ---
api "$A" PUT "/api/v1/nodes/$TA/config" "{\"values\":{\"s3.bucket\":\"shots2\",\"s3.secret_access_key\":\"$SECRET\"}}"
check_st "admin moves team A to another bucket (with the secret again)" 200
img "$A"
check_eq "the old shot is still viewable after the bucket change" "$ST $(sha256sum <"$T/img" | cut -d' ' -f1)" "200 $SHA"
api "$TOKA" POST /api/v1/screenshots/presign "$(presign_body)"
check "a new presign uses the new bucket" grep -q '/shots2/' <<<"$(jr .url)"

# --- S3 settings are one unit: a manager cannot send the business's key elsewhere ---
# The business holds the settings and the key; team B drops its own bucket
# and inherits them. Dave manages team B and cannot see the secret: what he
# sets on his team must not make the server sign the business's key for
# his host (the device would upload there), or for his bucket.
EVIL=http://127.0.0.1:1
cred() { sed -n 's/.*X-Amz-Credential=\([^&]*\).*/\1/p' <<<"$1"; }
api "$A" PUT "/api/v1/nodes/$B/config" "{\"values\":{\"s3.bucket\":\"shots1\",\"s3.region\":\"us-east-1\",\"s3.endpoint\":\"$S3URL\",\"s3.path_style\":true,\"s3.access_key_id\":\"$AKID\",\"s3.secret_access_key\":\"$SECRET\"}}"
check_st "admin sets the business's S3 settings" 200
api "$A" PUT "/api/v1/nodes/$TB/config" '{"values":{"s3.bucket":null}}'
check_st "team B drops its own bucket" 200
api "$TKD" PUT "/api/v1/nodes/$TB/config" "{\"values\":{\"s3.endpoint\":\"$EVIL\",\"s3.region\":\"xx-evil-1\",\"s3.path_style\":true}}"
check_st "dave sets endpoint, region and path style on team B" 200
api "$TOKB" POST /api/v1/screenshots/presign "$(presign_body)"
check_st "team B's device presigns" 200
URLB=$(jr .url) KEYB=$(jr .key)
check "the URL is not at dave's endpoint" not grep -q "^$EVIL" <<<"$URLB"
check "the URL is at the business's endpoint and bucket" grep -q "^$S3URL/shots1/" <<<"$URLB"
check "signed with the business's key for its region" grep -qiE "^$AKID%2F[0-9]{8}%2Fus-east-1%2Fs3%2Faws4_request\$" <<<"$(cred "$URLB")"
pst=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: image/png' --data-binary @"$T/shot.png" "$URLB")
check_eq "the device's upload goes through" "$pst" 200
check "and lands in the business's bucket" s3_has shots1 "$KEYB"
api "$TKD" GET "/api/v1/nodes/$TB/config/effective"
check_eq "dave sees the business's endpoint in effect" "$(jr '.values."s3.endpoint"'):$(jr '.source."s3.endpoint"')" "$S3URL:$B"
check_eq "every s3.* key comes from the business" "$(jr '[.source | to_entries[] | select(.key | startswith("s3.")) | .value] | unique | join(",")')" "$B"
api "$TKD" PUT "/api/v1/nodes/$TB/config" '{"values":{"s3.bucket":"dave-bucket"}}'
check_st "dave sets a bucket on team B" 200
api "$TOKB" POST /api/v1/screenshots/presign "$(presign_body)"
check_st "a bucket without credentials at its level: no presign" 409
check "the business's key is not signed for dave's bucket" not grep -q -e dave-bucket -e "$AKID" "$T/resp"
check "409 names the missing credentials" grep -q 's3.access_key_id, s3.secret_access_key' "$T/resp"
# a manager's value on a user's level: alice's device keeps team A's unit
api "$TKM" PUT "/api/v1/users/$UA/config" "{\"values\":{\"s3.endpoint\":\"$EVIL\"}}"
check_st "mona sets an endpoint on alice's level" 200
api "$TOKA" POST /api/v1/screenshots/presign "$(presign_body)"
check_st "alice's device presigns" 200
check "alice's URL stays at team A's endpoint and bucket" grep -q "^$S3URL/shots2/" <<<"$(jr .url)"
api "$TKM" PUT "/api/v1/users/$UA/config" '{"values":{"s3.endpoint":null}}'
check_st "mona removes it" 200
# a lock on one s3.* key locks the unit: the business's settings again
api "$A" PUT "/api/v1/nodes/$B/config" '{"locked":["s3.bucket"]}'
check_st "the business locks s3.bucket" 200
api "$TKD" PUT "/api/v1/nodes/$TB/config" '{"values":{"s3.path_style":false}}'
check_st "dave sets another s3.* key under that lock" 409
api "$TOKB" POST /api/v1/screenshots/presign "$(presign_body)"
check_st "team B presigns under the lock" 200
check "at the business's endpoint and bucket" grep -q "^$S3URL/shots1/" <<<"$(jr .url)"
api "$A" PUT "/api/v1/nodes/$B/config" '{"locked":[]}'
check_st "the business unlocks" 200

# --- credentials stay bound to where they were set ---
# Team A's own level holds the admin's key and secret. Mona manages team A
# and may write that level, but does not know the secret: changing only
# where it is sent would have the server sign the admin's key for her host.
api "$TKM" PUT "/api/v1/nodes/$TA/config" "{\"values\":{\"s3.endpoint\":\"$EVIL\"}}"
check_st "mona changes only team A's endpoint: refused" 409
check "the 409 says the secret must be re-entered" \
	grep -q 'changing where S3 credentials are sent requires re-entering s3.secret_access_key at this level' "$T/resp"
api "$TOKA" POST /api/v1/screenshots/presign "$(presign_body)"
check_st "alice's device presigns" 200
URLA=$(jr .url)
check "the URL is not at mona's endpoint" not grep -q "^$EVIL" <<<"$URLA"
check "the URL stays at the admin's endpoint and bucket" grep -q "^$S3URL/shots2/" <<<"$URLA"
check "signed with the admin's key" grep -qiE "^$AKID%2F[0-9]{8}%2Fus-east-1%2Fs3%2Faws4_request\$" <<<"$(cred "$URLA")"
for kv in '"s3.region":"xx-evil-1"' '"s3.bucket":"shots1"' '"s3.path_style":false' '"s3.endpoint":null'; do
	api "$TKM" PUT "/api/v1/nodes/$TA/config" "{\"values\":{$kv}}"
	check_st "mona changes only {$kv}: refused" 409
done
api "$TOKA" POST /api/v1/screenshots/presign "$(presign_body)"
check "after them the URL is still the admin's" grep -q "^$S3URL/shots2/" <<<"$(jr .url)"
# whoever sends the secret again knows it: nothing leaks
api "$TKM" PUT "/api/v1/nodes/$TA/config" "{\"values\":{\"s3.endpoint\":\"$EVIL\",\"s3.secret_access_key\":\"$SECRET\"}}"
check_st "mona sends the secret again with her endpoint" 200
api "$TOKA" POST /api/v1/screenshots/presign "$(presign_body)"
check "then the URL is at her endpoint" grep -q "^$EVIL/shots2/" <<<"$(jr .url)"
api "$A" PUT "/api/v1/nodes/$TA/config" "{\"values\":{\"s3.endpoint\":\"$S3URL\",\"s3.secret_access_key\":\"$SECRET\"}}"
check_st "the admin puts team A's endpoint back" 200

# --- audit ---
api "$A" GET "/api/v1/audit?limit=1000"
check_st "audit" 200
check_eq "views audited (admin, mona, alice x2 ok)" \
	"$(jr "[.entries[] | select(.action==\"screenshot.view\" and .target==\"$ID\" and .result==\"ok\")] | length")" 4
api "$A" GET "/api/v1/audit?limit=1000"
check_eq "dave's refusal audited as forbidden" \
	"$(jr "[.entries[] | select(.action==\"screenshot.view\" and .actor==\"$UD\" and .target==\"$ID\" and .result==\"forbidden\")] | length")" 1
check_eq "alice's refusal audited as forbidden" \
	"$(jr "[.entries[] | select(.action==\"screenshot.view\" and .actor==\"$UA\" and .result==\"forbidden\")] | length")" 1
check_eq "mona's view audited as ok" \
	"$(jr "[.entries[] | select(.action==\"screenshot.view\" and .actor==\"$UM\" and .result==\"ok\")] | length")" 1

# --- the bytes are the registered ones: at register and at every view ---
# other bytes of the shot's length, written over the object with the S3 API
/usr/bin/python3 -c 'import sys,os; sys.stdout.buffer.write(b"\x89PNG\r\n\x1a\n"+os.urandom(int(sys.argv[1])-8))' "$SIZE" >"$T/other.png"
api "$TOKA" POST /api/v1/screenshots/presign "$(presign_body)"
check_st "presign of a shot whose object gets replaced" 200
cp "$T/resp" "$T/presign5.json"
KEY5=$(jr .key) URL5=$(jr .url)
check_eq "its upload with the listed headers" "$(put_listed "$T/shot.png" "$URL5" "$T/presign5.json")" 200
check "its object is replaced by other bytes of the same length" s3put shots2 "$KEY5" "$T/other.png"
api "$TOKA" POST /api/v1/screenshots "$(reg "$KEY5")"
check_st "register of an object whose bytes are not the sha256's: 409" 409
check "409 says the bytes differ" grep -q 'differ from its sha256' "$T/resp"
api "$A" GET "/api/v1/screenshots?user_id=$UA"
check_eq "nothing is registered under that key" "$(jr "[.screenshots[] | select(.key==\"$KEY5\")] | length")" 0
# the device's answer to 409: it uploads again, then registers
check_eq "the upload again" "$(put_listed "$T/shot.png" "$URL5" "$T/presign5.json")" 200
api "$TOKA" POST /api/v1/screenshots "$(reg "$KEY5")"
check_st "register once the object holds the shot's bytes" 201

check "the registered shot's object is replaced by other bytes of the same length" \
	s3put shots1 "$KEY" "$T/other.png"
img "$A"
check_eq "a view of an object that is no longer the registered one: 502" "$ST" 502
check "its bytes are not served" not cmp -s "$T/img" "$T/other.png"
check "502 says it differs from the registered one" grep -q 'differs from the one registered' "$T/img"
api "$A" GET "/api/v1/audit?limit=1000"
check_eq "that view is audited as error, reason content_mismatch" \
	"$(jr "[.entries[] | select(.action==\"screenshot.view\" and .target==\"$ID\" and .result!=\"ok\" and .result!=\"forbidden\") | \"\(.result) \(.detail.reason)\"] | join(\",\")")" \
	"error content_mismatch"
check "the registered bytes are put back" s3put shots1 "$KEY" "$T/shot.png"
img "$A"
check_eq "then it views again, byte-exact" "$ST $(sha256sum <"$T/img" | cut -d' ' -f1)" "200 $SHA"

# --- a large image streams through the server, not through its memory ---
# 20 MiB registered as a shot; the view must be byte-exact and the server's
# peak RSS (VmHWM, reset through clear_refs just before) must not grow by
# anything near the object's size (a buffered copy would add 20-40 MiB)
/usr/bin/python3 -c 'import sys,os; sys.stdout.buffer.write(b"\x89PNG\r\n\x1a\n"+os.urandom(20*1024*1024-8))' >"$T/big.png"
BIGSHA=$(sha256sum "$T/big.png" | cut -d' ' -f1)
BIGSIZE=$(stat -c %s "$T/big.png")
api "$TOKA" POST /api/v1/screenshots/presign "{\"sha256\":\"$BIGSHA\",\"size\":$BIGSIZE,\"content_type\":\"image/png\",\"taken_at\":\"$NOW\"}"
check_st "presign of a 20 MiB shot" 200
BIGKEY=$(jr .key) BIGURL=$(jr .url)
pst=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: image/png' --data-binary @"$T/big.png" "$BIGURL")
check_eq "upload of the 20 MiB shot" "$pst" 200
api "$TOKA" POST /api/v1/screenshots "{\"key\":\"$BIGKEY\",\"size\":$BIGSIZE,\"sha256\":\"$BIGSHA\",\"width\":4096,\"height\":4096,\"taken_at\":\"$NOW\"}"
check_st "register of the 20 MiB shot" 201
BIGID=$(jr .id)
kb() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$SRV_PID/status"; }
# clear_refs 5 resets VmHWM to the current RSS (Linux >= 4.0, any process
# of one's own uid), so VmHWM below is the peak of this one download
check "the server's peak RSS is reset (/proc/PID/clear_refs)" \
	bash -c "echo 5 >/proc/$SRV_PID/clear_refs"
rss0=$(kb VmRSS)
ST=$(curl -s -o "$T/big.back" -D "$T/big.hdr" -w '%{http_code}' -H "Authorization: Bearer $A" "$SRV_URL/api/v1/screenshots/$BIGID/image")
hwm=$(kb VmHWM)
check_eq "the 20 MiB shot views" "$ST" 200
check "the 20 MiB shot comes back byte-exact" cmp -s "$T/big.png" "$T/big.back"
check "the 20 MiB answer has its Content-Length" grep -qi "^content-length: $BIGSIZE" "$T/big.hdr"
check "server peak RSS grew by $((hwm - rss0)) kB while serving 20 MiB (< 8 MiB)" \
	test "$((hwm - rss0))" -lt 8192
# the object replaced in S3 by a longer one: refused (the registered size is the cap), audited
printf 'more' >>"$T/big.png"
pst=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: image/png' --data-binary @"$T/big.png" "$BIGURL")
check_eq "the 20 MiB object is replaced by a longer one in S3" "$pst" 200
ST=$(curl -s -o "$T/resp" -w '%{http_code}' -H "Authorization: Bearer $A" "$SRV_URL/api/v1/screenshots/$BIGID/image")
check_st "an object longer than registered: 502" 502
check "502 says it is larger than registered" grep -q 'larger than registered' "$T/resp"
api "$A" GET "/api/v1/audit?limit=1000"
check_eq "that view is audited as error" \
	"$(jr "[.entries[] | select(.action==\"screenshot.view\" and .target==\"$BIGID\") | .result] | sort | join(\",\")")" "error,ok"

# --- permission names ---
api "$TKM" GET /api/v1/me
check "a manager holds screenshot.read" grep -q 'screenshot.read' "$T/resp"

# --- the secret never leaves in clear ---
check "secret not in the server log" not grep -q "$SECRET" "$SRV_LOG"
check "secret not in the presign answer" not grep -q "$SECRET" "$T/presign.json"
check "the server stops cleanly (exit 0)" srv_stop
check "the store file is there" test -s "$SRV_DIR/data.mdb"
check "secret not in the raw store file" not grep -qa "$SECRET" "$SRV_DIR/data.mdb"
check "the S3 settings are sealed in the store (no bucket name in clear next to the key id)" \
	not grep -qa "$AKID" "$SRV_DIR/data.mdb"
finish
