#!/usr/bin/env bash
# actlog-server: GET /api/v1/screenshots/{id}/thumb against the real binary
# and s3rver — real 1920x1080 PNG, WebP (cwebp) and JPEG (cjpeg) shots
# through presign, upload and register answer a JPEG of 96x54 (its SOF
# marker read back), private and not stored; every thumbnail is audited as
# screenshot.thumb (never screenshot.view), a colleague's refusal as
# forbidden; 404 for an unknown or malformed id, 401 without a token;
# bytes that do not decode: 502, a source over the caps (16385 pixels
# wide): 422, an object replaced in S3: 502 as for the image route (the
# same fetch), each audited as error with its reason; the metrics count
# the thumbnails made and refused.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
source "$(dirname "$0")/../s3.sh"
need curl
need jq
need cwebp
need cjpeg
need sha256sum
need /usr/bin/python3

AKID=AKIDTHUMBTEST
SECRET=thumb-secret-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
s3_init "$AKID" "$SECRET" thumbs
s3_up

srv_init
srv_start || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
srv_tree
UA=$(srv_user alice@example.com alice alice "$TA")
UB=$(srv_user bob@example.com bob bob "$TA")
check "tree and users" test -n "$TA" -a -n "$UA" -a -n "$UB"
TKA=$(login alice@example.com password-alice)
TKB=$(login bob@example.com password-bob)
srv_enroll "$TA" 33333333333333333333333333333333
DEVA=$DEV TOKA=$TOK
api "$A" PUT "/api/v1/devices/$DEVA" "{\"owner_id\":\"$UA\"}"
check_st "alice owns the device" 200
# employee_view on: alice may see her own shots, bob (a colleague) not hers
api "$A" PUT "/api/v1/nodes/$TA/config" "$(jq -nc --arg e "$S3URL" --arg k "$AKID" --arg s "$SECRET" \
	'{values:{"screenshots.enabled":true,"screenshots.employee_view":true,"s3.bucket":"thumbs",
	  "s3.region":"us-east-1","s3.endpoint":$e,"s3.path_style":true,"s3.access_key_id":$k,
	  "s3.secret_access_key":$s}}')"
check_st "team A: screenshots on, S3 settings" 200

# 1920x1080, left half red, right half blue, as PNG and PPM (for cjpeg)
/usr/bin/python3 - "$T" <<'PY'
import struct, sys, zlib
d = sys.argv[1]
def png(path, w, h, row):
    raw = b"".join(b"\0" + row for _ in range(h))
    def chunk(t, b):
        return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xffffffff)
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                           + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
w, h = 1920, 1080
row = bytes([200, 30, 30]) * (w // 2) + bytes([30, 30, 200]) * (w // 2)
png(d + "/shot.png", w, h, row)
open(d + "/shot.ppm", "wb").write(b"P6\n%d %d\n255\n" % (w, h) + row * h)
png(d + "/wide.png", 16385, 1, bytes([90, 90, 90]) * 16385)  # over the 16384-pixel cap
PY
cwebp -quiet -q 75 "$T/shot.png" -o "$T/shot.webp"
cjpeg -quality 85 "$T/shot.ppm" >"$T/shot.jpg"
/usr/bin/python3 -c 'import sys,os; sys.stdout.buffer.write(b"\x89PNG\r\n\x1a\n"+os.urandom(5000))' >"$T/junk.png"
check "the sources are made" test -s "$T/shot.webp" -a -s "$T/shot.jpg" -a -s "$T/wide.png"

NOW=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
shoot() { # FILE CONTENT-TYPE W H: presign, upload, register; prints the id
	local sha size key
	sha=$(sha256sum "$1" | cut -d' ' -f1)
	size=$(stat -c %s "$1")
	api "$TOKA" POST /api/v1/screenshots/presign "{\"sha256\":\"$sha\",\"size\":$size,\"content_type\":\"$2\",\"taken_at\":\"$NOW\"}"
	[ "$ST" = 200 ] || return 1
	key=$(jr .key)
	ST=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Content-Type: $2" -H "x-amz-checksum-sha256: $(jr '.headers["x-amz-checksum-sha256"]')" \
		--data-binary @"$1" "$(jr .url)")
	[ "$ST" = 200 ] || return 1
	api "$TOKA" POST /api/v1/screenshots "{\"key\":\"$key\",\"size\":$size,\"sha256\":\"$sha\",\"width\":$3,\"height\":$4,\"taken_at\":\"$NOW\"}"
	[ "$ST" = 201 ] && echo "$(jr .id) $key"
}
thumb() { # TOKEN ID: GET the thumbnail into $T/thumb (headers $T/thumb.hdr), status in ST
	ST=$(curl -s -D "$T/thumb.hdr" -o "$T/thumb" -w '%{http_code}' --max-time 30 ${1:+-H "Authorization: Bearer $1"} \
		"$SRV_URL/api/v1/screenshots/$2/thumb")
}
# the width and height of a baseline or progressive JPEG's SOF marker
jpeg_size() {
	/usr/bin/python3 - "$1" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:2] == b"\xff\xd8", "not a JPEG"
i = 2
while i + 4 <= len(b):
    if b[i] != 0xff:
        sys.exit("bad marker")
    m, n = b[i + 1], struct.unpack(">H", b[i + 2:i + 4])[0]
    if m in (0xc0, 0xc1, 0xc2):
        h, w = struct.unpack(">HH", b[i + 5:i + 9])
        print(f"{w}x{h}")
        sys.exit(0)
    i += 2 + n
sys.exit("no SOF")
PY
}
audit_n() { # ACTION ID RESULT [ACTOR]: how many entries
	api "$A" GET "/api/v1/audit?limit=1000"
	jq -r --arg a "$1" --arg t "$2" --arg r "$3" --arg u "${4:-}" \
		'[.entries[] | select(.action == $a and .target == $t and .result == $r and ($u == "" or .actor == $u))] | length' "$T/resp"
}

# --- the three formats ---
declare -A SID
for f in png:image/png webp:image/webp jpg:image/jpeg; do
	ext=${f%%:*} ct=${f#*:}
	read -r id _ < <(shoot "$T/shot.$ext" "$ct" 1920 1080)
	SID[$ext]=$id
	check "$ext: a shot is registered" grep -qE '^s_[0-9a-f]{16}$' <<<"$id"
	thumb "$A" "$id"
	check_eq "$ext: the thumbnail answers" "$ST" 200
	check "$ext: as image/jpeg" grep -qi '^content-type: image/jpeg'$'\r''$' "$T/thumb.hdr"
	check "$ext: private, not stored" grep -qi '^cache-control: private, no-store'$'\r''$' "$T/thumb.hdr"
	check_eq "$ext: 96 px wide, the aspect kept (SOF)" "$(jpeg_size "$T/thumb")" 96x54
	check "$ext: a few KiB, not the image" test "$(stat -c %s "$T/thumb")" -lt 4096
	check_eq "$ext: audited as screenshot.thumb" "$(audit_n screenshot.thumb "$id" ok "")" 1
	check_eq "$ext: and not as screenshot.view" "$(audit_n screenshot.view "$id" ok "")" 0
done
id=${SID[webp]}
# --- who may see it ---
thumb "$TKA" "$id"
check_eq "alice sees her own thumbnail (employee_view on)" "$ST" 200
thumb "$TKB" "$id"
check_eq "bob, a colleague, may not see hers" "$ST" 403
check_eq "bob's refusal audited as forbidden (screenshot.thumb)" "$(audit_n screenshot.thumb "$id" forbidden "$UB")" 1
thumb "" "$id"
check_eq "no token: 401" "$ST" 401
thumb "$A" s_0000000000000000
check_eq "an unknown shot: 404" "$ST" 404
thumb "$A" not-an-id
check_eq "a malformed id: 404" "$ST" 404
ST=$(curl -s -o "$T/full" -w '%{http_code}' -H "Authorization: Bearer $A" "$SRV_URL/api/v1/screenshots/$id/image")
check_eq "the full image is still the audited view" "$ST $(audit_n screenshot.view "$id" ok "")" "200 1"
check_eq "byte-exact" "$(sha256sum <"$T/full" | cut -d' ' -f1)" "$(sha256sum <"$T/shot.webp" | cut -d' ' -f1)"
entry() { jq -r --arg a "$1" --arg t "$id" --arg u "$2" \
	'[.entries[] | select(.action == $a and .target == $t and .result == "ok" and .actor != $u)][0] | "\(.actor) \(.node_id) \(.detail.screenshot_id)"' "$T/resp"; }
check "the thumb entry names the actor, node and shot as the view entry does" \
	test "$(entry screenshot.thumb "$UA")" = "$(entry screenshot.view "$UA")" -a "$(entry screenshot.view "$UA" | cut -d' ' -f3)" = "$id"
check "the thumb entry has an actor and a node" not grep -q null <<<"$(entry screenshot.thumb "$UA")"

# --- sources it will not make a thumbnail of ---
read -r jid jkey < <(shoot "$T/junk.png" image/png 1920 1080)
check "a registered shot whose bytes are not a PNG" test -n "$jid"
thumb "$A" "$jid"
check_eq "bytes that do not decode: 502" "$ST" 502
check "502 says so" grep -q 'does not decode as image/png' "$T/thumb"
check_eq "audited as error, reason undecodable" \
	"$(audit_n screenshot.thumb "$jid" error "" >/dev/null; jq -r --arg t "$jid" '[.entries[] | select(.action == "screenshot.thumb" and .target == $t) | .detail.reason] | join(",")' "$T/resp")" undecodable
read -r wid _ < <(shoot "$T/wide.png" image/png 16385 1)
check "a registered 16385x1 PNG" test -n "$wid"
thumb "$A" "$wid"
check_eq "a source over the caps: 422" "$ST" 422
check "422 names the caps" grep -q '16384 pixels a side, 64 Mpx' "$T/thumb"
check_eq "audited as error, reason too_large" \
	"$(audit_n screenshot.thumb "$wid" error "" >/dev/null; jq -r --arg t "$wid" '[.entries[] | select(.action == "screenshot.thumb" and .target == $t) | .detail.reason] | join(",")' "$T/resp")" too_large
# the object replaced behind the server's back: the image route's checks
head -c "$(stat -c %s "$T/junk.png")" /dev/zero >"$T/zero.png"
check "the junk shot's object is replaced" bash -c "AWS_ACCESS_KEY_ID=$AKID AWS_SECRET_ACCESS_KEY=$SECRET '$BUILD/actlog-s3' \
	--endpoint '$S3URL' --bucket thumbs --path-style put '$jkey' '$T/zero.png' >/dev/null"
thumb "$A" "$jid"
check_eq "an object that is not the registered one: 502" "$ST" 502
check "502 says it differs from the registered one" grep -q 'differs from the one registered' "$T/thumb"
check_eq "audited as error, reason content_mismatch" \
	"$(audit_n screenshot.thumb "$jid" error "" >/dev/null; jq -r --arg t "$jid" '[.entries[] | select(.action == "screenshot.thumb" and .target == $t) | .detail.reason] | join(",")' "$T/resp")" undecodable,content_mismatch

api "$A" GET /metrics
check_eq "metrics: thumbnails made (admin 3, alice 1) and refused for their source (2)" \
	"$(grep -E '^actlog_server_screenshot_thumbs_total\{result="(ok|refused)"\}' "$T/resp" | sort | awk '{printf "%s ", $2}')" "4 2 "
srv_stop
check "the server stops cleanly" test $? = 0
finish
