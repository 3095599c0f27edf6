#!/usr/bin/env bash
# actlog-server: profile pictures against the real binary and s3rver (a local
# S3) — a user sets their own (PNG, then JPEG), gets it back byte-exact with
# its Content-Type and ETag (304 on If-None-Match), other signed-in users see
# it, who may set someone else's (user.write), caps and bad bodies refused
# with nothing replaced, device tokens refused, the replaced object deleted
# from the bucket, DELETE, audit entries, and an old picture still readable
# after its team moves to another bucket (sealed S3 settings).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
source "$(dirname "$0")/../s3.sh"
S3=$BUILD/actlog-s3
need curl
need jq
need node
need sha256sum
need /usr/bin/python3
[ -x "$S3" ] || { fail "missing $S3 (make BUILD=$BUILD)"; finish; }
AKID=AKIDAVATARTEST
SECRET=avatar-secret-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
s3_init "$AKID" "$SECRET" av1 av2
s3_up
printf '%s\n' "$SECRET" >"$T/secret"
# the keys under avatars/USER/ in BUCKET, one per line
objects() { "$S3" --endpoint "$S3URL" --bucket "$1" --path-style --access-key "$AKID" \
	--secret-key-file "$T/secret" ls "avatars/$2/" | awk '{ print $1 }' | grep '^avatars/' || true; }
nobj() { objects "$1" "$2" | grep -c . || true; }

# test pictures: a real PNG (zlib IDAT), JPEG segments with a frame header,
# a WebP (VP8L), and bad ones
/usr/bin/python3 - "$T" <<'PY'
import os, struct, sys, zlib
d = sys.argv[1]
def chunk(t, b):
    return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xffffffff)
def png(w, h, extra=0):
    raw = b"".join(b"\0" + os.urandom(w * 3) for _ in range(h))
    body = chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw, 0))
    if extra:
        body += chunk(b"tEXt", b"pad\0" + os.urandom(extra))
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"IEND", b"")
def jpeg(w, h):
    app0 = b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"
    sof = struct.pack(">BHHB", 8, h, w, 1) + b"\x01\x11\0"
    scan = bytes(b for b in os.urandom(3000) if b != 0xFF)
    return (b"\xff\xd8" + b"\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 +
            b"\xff\xc0" + struct.pack(">H", len(sof) + 2) + sof +
            b"\xff\xda" + struct.pack(">H", 8) + b"\x01\x01\0\0\x3f\0" + scan + b"\xff\xd9")
def webp(w, h):
    bits = (w - 1) | (h - 1) << 14
    vp8l = b"\x2f" + struct.pack("<I", bits) + os.urandom(40)
    body = b"WEBP" + b"VP8L" + struct.pack("<I", len(vp8l)) + vp8l
    return b"RIFF" + struct.pack("<I", len(body)) + body
def put(name, b):
    open(os.path.join(d, name), "wb").write(b)
put("a.png", png(64, 48))
put("a.jpg", jpeg(320, 200))
put("a.webp", webp(100, 80))
put("c.png", png(16, 16))
put("d.png", png(20, 20))
put("big.png", png(8, 8, extra=(1 << 20) + 100))          # over 1 MiB
put("wide.png", png(5000, 1))                               # over 4096 px
put("gif.png", b"GIF89a" + os.urandom(500))                 # wrong magic
put("trunc.png", png(64, 48)[:-30])                         # cut before IEND
put("trunc.jpg", jpeg(320, 200)[:-40])                      # no EOI
put("empty", b"")
PY
sha() { sha256sum <"$1" | cut -d' ' -f1; }

srv_init
srv_start || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
srv_tree
UA=$(srv_user alice@example.com alice alice "$TA")
UB=$(srv_user bob@example.com bob bob "$TA")
UM=$(srv_user mona@example.com mona mona "$TA")
UD=$(srv_user dave@example.com dave dave "$TB")
check "tree and users" test -n "$TA" -a -n "$TB" -a -n "$UA" -a -n "$UB" -a -n "$UM" -a -n "$UD"
srv_grant "$UM" "$TA" manager
check_st "mona manages team A" 201
TKA=$(login alice@example.com password-alice)
TKB=$(login bob@example.com password-bob)
TKM=$(login mona@example.com password-mona)
TKD=$(login dave@example.com password-dave)
check "everyone signed in" test -n "$TKA" -a -n "$TKB" -a -n "$TKM" -a -n "$TKD"
api "$A" PUT "/api/v1/nodes/$TA/config" "{\"values\":{\"s3.bucket\":\"av1\",\"s3.region\":\"us-east-1\",\"s3.endpoint\":\"$S3URL\",\"s3.path_style\":true,\"s3.access_key_id\":\"$AKID\",\"s3.secret_access_key\":\"$SECRET\"}}"
check_st "admin sets team A's S3 settings" 200

# put TOKEN USER FILE CONTENT-TYPE -> ST, body in $T/resp
put() {
	ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X PUT --max-time 30 -H "Authorization: Bearer $1" \
		-H "Content-Type: $4" --data-binary @"$3" "$SRV_URL/api/v1/users/$2/avatar")
}
# get TOKEN USER [If-None-Match] -> ST, body in $T/got, headers in $T/hdr
get() {
	local extra=()
	[ -n "${3:-}" ] && extra=(-H "If-None-Match: $3")
	: >"$T/got" # curl writes nothing for an answer without a body
	ST=$(curl -s -o "$T/got" -D "$T/hdr" -w '%{http_code}' --max-time 30 -H "Authorization: Bearer $1" \
		"${extra[@]}" "$SRV_URL/api/v1/users/$2/avatar")
}
hdr() { sed -n "s/^$1: *//Ip" "$T/hdr" | tr -d '\r'; }

# --- none yet ---
get "$TKA" "$UA"
check_eq "no picture yet: 404" "$ST" 404
get "$TKA" u_0000000000000000
check_eq "unknown user: 404" "$ST" 404

# --- alice sets her own PNG ---
put "$TKA" "$UA" "$T/a.png" image/png
check_st "alice sets her own PNG" 200
check_eq "the answer describes it" "$(jr '"\(.content_type) \(.width)x\(.height) \(.size) \(.sha256)"')" \
	"image/png 64x48 $(stat -c %s "$T/a.png") $(sha "$T/a.png")"
get "$TKA" "$UA"
check_eq "alice gets it back" "$ST" 200
check "byte-identical" cmp -s "$T/a.png" "$T/got"
check_eq "Content-Type image/png" "$(hdr Content-Type)" image/png
check_eq "ETag is the quoted sha256" "$(hdr ETag)" "\"$(sha "$T/a.png")\""
check "Cache-Control is private" grep -qi '^cache-control: private' "$T/hdr"
get "$TKA" "$UA" "\"$(sha "$T/a.png")\""
check_eq "If-None-Match with the ETag: 304" "$ST" 304
check_eq "304 has no body" "$(stat -c %s "$T/got")" 0
get "$TKA" "$UA" "\"0000\", W/\"$(sha "$T/a.png")\""
check_eq "If-None-Match list with a weak match: 304" "$ST" 304
get "$TKA" "$UA" '"0000"'
check_eq "If-None-Match with another tag: 200" "$ST" 200
get "$TKD" "$UA"
check_eq "dave (another team) sees it" "$ST $(sha "$T/got")" "200 $(sha "$T/a.png")"
ST=$(curl -s -I -o "$T/hdr" -w '%{http_code}' -H "Authorization: Bearer $TKD" "$SRV_URL/api/v1/users/$UA/avatar")
check_eq "HEAD: 200 with the ETag and the length" "$ST $(hdr ETag) $(hdr Content-Length)" \
	"200 \"$(sha "$T/a.png")\" $(stat -c %s "$T/a.png")"
check_eq "one object in the bucket" "$(nobj av1 "$UA")" 1
OBJ1=$(objects av1 "$UA")

# --- who may set ---
put "$TKB" "$UA" "$T/c.png" image/png
check_st "bob (employee) may not set alice's" 403
put "$TKD" "$UA" "$T/c.png" image/png
check_st "dave (manager of team B) may not set alice's" 403
srv_enroll "$TA" 33333333333333333333333333333333
TOKDEV=$TOK
check "a device enrolled" test -n "$TOKDEV"
put "$TOKDEV" "$UA" "$T/c.png" image/png
check "a device token may not set it (401/403)" test "$ST" = 401 -o "$ST" = 403
get "$TOKDEV" "$UA"
check "a device token may not get it (401/403)" test "$ST" = 401 -o "$ST" = 403
ST=$(curl -s -o /dev/null -w '%{http_code}' "$SRV_URL/api/v1/users/$UA/avatar")
check_eq "no token: 401" "$ST" 401
get "$TKA" "$UA"
check_eq "still alice's PNG after the refusals" "$(sha "$T/got")" "$(sha "$T/a.png")"

# --- bad bodies: a clear 4xx, nothing replaced ---
put "$TKA" "$UA" "$T/big.png" image/png
check_st "over 1 MiB: 413" 413
put "$TKA" "$UA" "$T/gif.png" image/png
check_st "GIF bytes declared as PNG: 415" 415
check "415 says what it is not" grep -q 'not a PNG, JPEG or WebP' "$T/resp"
put "$TKA" "$UA" "$T/a.png" image/jpeg
check_st "PNG bytes declared as JPEG: 415" 415
put "$TKA" "$UA" "$T/a.png" image/gif
check_st "an unsupported Content-Type: 415" 415
put "$TKA" "$UA" "$T/trunc.png" image/png
check_st "truncated PNG: 400" 400
check "400 says truncated" grep -q 'truncated or corrupt' "$T/resp"
put "$TKA" "$UA" "$T/trunc.jpg" image/jpeg
check_st "truncated JPEG: 400" 400
put "$TKA" "$UA" "$T/empty" image/png
check_st "empty body: 400" 400
put "$TKA" "$UA" "$T/wide.png" image/png
check_st "5000 px wide: 400" 400
check "400 names the dimensions" grep -q '5000x1' "$T/resp"
get "$TKA" "$UA"
check_eq "nothing replaced by the bad bodies" "$(sha "$T/got")" "$(sha "$T/a.png")"
check_eq "nothing stored by the bad bodies: still one object" "$(objects av1 "$UA")" "$OBJ1"

# --- team B has no S3 settings ---
put "$TKD" "$UD" "$T/c.png" image/png
check_st "no S3 settings: 409" 409
check "409 names what is missing" grep -q 's3.bucket' "$T/resp"

# --- mona (manager, user.write on team A) replaces it with a JPEG ---
put "$TKM" "$UA" "$T/a.jpg" image/jpeg
check_st "mona sets alice's JPEG" 200
check_eq "JPEG dimensions from its frame header" "$(jr '"\(.width)x\(.height)"')" 320x200
get "$TKB" "$UA"
check_eq "bob gets the JPEG" "$ST $(sha "$T/got")" "200 $(sha "$T/a.jpg")"
check_eq "Content-Type image/jpeg" "$(hdr Content-Type)" image/jpeg
check_eq "ETag changed" "$(hdr ETag)" "\"$(sha "$T/a.jpg")\""
get "$TKB" "$UA" "\"$(sha "$T/a.png")\""
check_eq "the old ETag no longer matches: 200" "$ST" 200
check_eq "the replaced object is deleted: one object, a new key" \
	"$(nobj av1 "$UA") $([ "$(objects av1 "$UA")" != "$OBJ1" ] && echo new)" "1 new"

# --- WebP ---
put "$TKB" "$UB" "$T/a.webp" image/webp
check_st "bob sets his own WebP" 200
check_eq "WebP dimensions" "$(jr '"\(.content_type) \(.width)x\(.height)"')" "image/webp 100x80"
get "$TKA" "$UB"
check_eq "alice gets bob's WebP" "$ST $(hdr Content-Type) $(sha "$T/got")" "200 image/webp $(sha "$T/a.webp")"

# --- the team moves to another bucket: the old picture keeps its settings ---
api "$A" PUT "/api/v1/nodes/$TA/config" "{\"values\":{\"s3.bucket\":\"av2\",\"s3.secret_access_key\":\"$SECRET\"}}"
check_st "admin moves team A to bucket av2 (with the secret again)" 200
get "$TKD" "$UA"
check_eq "alice's JPEG still readable after the move" "$ST $(sha "$T/got")" "200 $(sha "$T/a.jpg")"
put "$TKA" "$UA" "$T/d.png" image/png
check_st "alice sets a new PNG after the move" 200
check_eq "the new one is in av2" "$(nobj av2 "$UA")" 1
check_eq "the old one is deleted from av1 (with its own settings)" "$(nobj av1 "$UA")" 0
get "$TKA" "$UA"
check_eq "alice gets the new PNG" "$ST $(sha "$T/got")" "200 $(sha "$T/d.png")"
# the object changed in the bucket behind the server's back (same size,
# other bytes): not served under the recorded ETag
KD=$(objects av2 "$UA")
s3put() { "$S3" --endpoint "$S3URL" --bucket av2 --path-style --access-key "$AKID" \
	--secret-key-file "$T/secret" --content-type image/png put "$KD" "$1" >/dev/null; }
/usr/bin/python3 -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); b[-20]^=0xff; open(sys.argv[2],"wb").write(b)' "$T/d.png" "$T/d-tampered.png"
check "the object is overwritten with other bytes of the same size" s3put "$T/d-tampered.png"
get "$TKA" "$UA"
check_eq "a picture whose bytes differ from the recorded sha256: 502" "$ST" 502
check "and says it differs" grep -q "differs from the one recorded" "$T/got"
check "the original put back" s3put "$T/d.png"
get "$TKA" "$UA"
check_eq "served again" "$ST $(sha "$T/got")" "200 $(sha "$T/d.png")"

# --- DELETE ---
ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X DELETE -H "Authorization: Bearer $TKB" "$SRV_URL/api/v1/users/$UA/avatar")
check_st "bob may not remove alice's" 403
ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X DELETE -H "Authorization: Bearer $TKA" "$SRV_URL/api/v1/users/$UA/avatar")
check_st "alice removes hers" 204
get "$TKA" "$UA"
check_eq "GET after DELETE: 404" "$ST" 404
check_eq "the object is gone from the bucket" "$(nobj av2 "$UA")" 0
ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X DELETE -H "Authorization: Bearer $TKA" "$SRV_URL/api/v1/users/$UA/avatar")
check_st "DELETE again: 404" 404

# --- audit ---
api "$A" GET "/api/v1/audit?limit=1000"
check_st "audit" 200
check_eq "sets of alice's picture audited (alice, mona, alice)" \
	"$(jr "[.entries[] | select(.action==\"user.avatar.set\" and .target==\"$UA\" and .result==\"ok\") | .actor] | sort | join(\",\")")" \
	"$(printf '%s\n' "$UA" "$UA" "$UM" | sort | paste -sd,)"
check_eq "the removal audited" \
	"$(jr "[.entries[] | select(.action==\"user.avatar.remove\" and .target==\"$UA\" and .actor==\"$UA\")] | length")" 1
check_eq "the audit detail has the digest" \
	"$(jr "[.entries[] | select(.action==\"user.avatar.set\" and .actor==\"$UM\") | .detail.sha256] | join(\",\")")" "$(sha "$T/a.jpg")"

# --- no escalation: a manager may not change the picture of an admin ---
srv_grant "$UB" "$TA" admin
check_st "bob is made admin of team A" 201
put "$TKM" "$UB" "$T/a.jpg" image/jpeg
check_st "mona (manager) may not set the picture of bob (admin)" 403
check "and is told why" grep -q "permissions you lack" "$T/resp"
put "$A" "$UB" "$T/a.jpg" image/jpeg
check_st "the root admin may" 200

# --- the secret never leaves in clear ---
check "secret not in the server log" not grep -q "$SECRET" "$SRV_LOG"
check "the server stops cleanly (exit 0)" srv_stop
check "secret not in the raw store file" not grep -qa "$SECRET" "$SRV_DIR/data.mdb"
finish
