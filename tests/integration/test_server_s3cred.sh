#!/usr/bin/env bash
# actlog-server: S3 credentials rotated at a config level do not strand the
# objects written before, against the real binary, s3rver and a front that
# checks SigV4 signatures against the keys valid now (s3_sigv4_proxy.py;
# s3rver checks none). Key A is set on team A; a screenshot is registered
# and a profile picture uploaded; key B is created, set on the team, and key
# A deleted: the old screenshot's image and the old picture are still served
# byte-exact, the picture's DELETE removes its object, a retention run
# deletes the expired screenshot's object. Then the credentials are removed
# from the config and from the store: view and DELETE answer 409 naming the
# bucket (never 500) and retention counts an S3 error and keeps the shot. A
# level's key is never signed for a bucket its level no longer names; a
# level above that names the old bucket with a valid key serves it again.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
source "$(dirname "$0")/../s3.sh"
need curl
need jq
need node
need sha256sum
need /usr/bin/python3

s3_init "" "" cred1 cred2
s3_up
rnd() { head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
AKA=AKIDROTATEA SECA=key-a-$(rnd)
AKB=AKIDROTATEB SECB=key-b-$(rnd)
KEYS=$T/keys
echo "$AKA $SECA" >"$KEYS"
PXPORT=$(free_port)
PX=http://127.0.0.1:$PXPORT
/usr/bin/python3 "$ROOT/tests/integration/s3_sigv4_proxy.py" "$PXPORT" "$S3URL" "$KEYS" >"$T/proxy.out" 2>&1 &
cleanup_add "kill $!"
wait_for 10 curl -s -o /dev/null "$PX/" || { fail "the SigV4 front did not start: $(tail -3 "$T/proxy.out")"; finish; }

# ls AKID SECRET BUCKET: list BUCKET through the front with that key
s3ls() {
	printf '%s\n' "$2" >"$T/sk"
	"$BUILD/actlog-s3" --endpoint "$PX" --bucket "$3" --path-style --attempts 1 \
		--access-key "$1" --secret-key-file "$T/sk" ls >/dev/null 2>&1
}
# the front's own checks: a check that cannot fail proves nothing
check "the front accepts key A" s3ls "$AKA" "$SECA" cred1
check "the front refuses key A with another secret (SignatureDoesNotMatch)" not s3ls "$AKA" "x$SECA" cred1
check "the front refuses a key it does not hold (InvalidAccessKeyId)" not s3ls "$AKB" "$SECB" cred1
check "its log says why" grep -q "^GET /cred1 $AKB 403" "$KEYS.log"

srv_init
srv_start --retention-interval 0 || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
srv_tree
UA=$(srv_user alice@example.com alice alice "$TA")
UB=$(srv_user bob@example.com bob bob "$TA")
check "tree and users" test -n "$TA" -a -n "$B" -a -n "$UA" -a -n "$UB"
TKA=$(login alice@example.com password-alice)
TKB=$(login bob@example.com password-bob)
srv_enroll "$TA" 11111111111111111111111111111111
DEVA=$DEV TOKA=$TOK
api "$A" PUT "/api/v1/devices/$DEVA" "{\"owner_id\":\"$UA\"}"
check_st "alice owns device A" 200

s3where() { # BUCKET: the s3.* keys but the credentials, as JSON members
	printf '"s3.bucket":"%s","s3.region":"us-east-1","s3.endpoint":"%s","s3.path_style":true' "$1" "$PX"
}
api "$A" PUT "/api/v1/nodes/$TA/config" "{\"values\":{\"screenshots.enabled\":true,\"retention.days\":30,$(s3where cred1),\"s3.access_key_id\":\"$AKA\",\"s3.secret_access_key\":\"$SECA\"}}"
check_st "team A: screenshots to cred1 with key A" 200

# --- written with key A: two screenshots (one expired) and a picture ---
/usr/bin/python3 -c 'import sys,os; sys.stdout.buffer.write(b"\x89PNG\r\n\x1a\n"+os.urandom(30000))' >"$T/shot.png"
SHA=$(sha256sum "$T/shot.png" | cut -d' ' -f1)
SIZE=$(stat -c %s "$T/shot.png")
NOW=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
shoot() { # TAKEN_AT: sets KEY and SHOT
	local h=() k v
	KEY= SHOT=
	api "$TOKA" POST /api/v1/screenshots/presign "{\"sha256\":\"$SHA\",\"size\":$SIZE,\"content_type\":\"image/png\",\"taken_at\":\"$1\"}"
	[ "$ST" = 200 ] || return 1
	KEY=$(jr .key)
	while IFS=$'\t' read -r k v; do h+=(-H "$k: $v"); done < <(jq -r '.headers | to_entries[] | "\(.key)\t\(.value)"' "$T/resp")
	[ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT "${h[@]}" --data-binary @"$T/shot.png" "$(jr .url)")" = 200 ] || return 1
	api "$TOKA" POST /api/v1/screenshots "{\"key\":\"$KEY\",\"size\":$SIZE,\"sha256\":\"$SHA\",\"width\":10,\"height\":10,\"taken_at\":\"$1\"}"
	[ "$ST" = 201 ] && SHOT=$(jr .id)
}
check "an expired screenshot (2000-01-01), presigned URL checked by the front" shoot 2000-01-01T09:00:00.000Z
KOLD=$KEY SOLD=$SHOT
check "a screenshot of today" shoot "$NOW"
KNOW=$KEY SNOW=$SHOT
check "both objects are in cred1" eval 's3_has cred1 "$KOLD" && s3_has cred1 "$KNOW"'
/usr/bin/python3 - "$T" <<'PY'
import os, struct, sys, zlib
def chunk(t, b):
    return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xffffffff)
def png(w, h):
    raw = b"".join(b"\0" + os.urandom(w * 3) for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw, 0)) + chunk(b"IEND", b""))
for n in ("a.png", "b.png"):
    open(os.path.join(sys.argv[1], n), "wb").write(png(32, 24))
PY
avput() { # TOKEN USER FILE
	ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X PUT --max-time 30 -H "Authorization: Bearer $1" \
		-H "Content-Type: image/png" --data-binary @"$3" "$SRV_URL/api/v1/users/$2/avatar")
}
avget() { # TOKEN USER -> ST, body in $T/got
	: >"$T/got"
	ST=$(curl -s -o "$T/got" -w '%{http_code}' --max-time 30 -H "Authorization: Bearer $1" "$SRV_URL/api/v1/users/$2/avatar")
}
avdel() { # TOKEN USER
	ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X DELETE --max-time 30 -H "Authorization: Bearer $1" "$SRV_URL/api/v1/users/$2/avatar")
}
img() { # SHOT -> ST, body in $T/img
	ST=$(curl -s -o "$T/img" -w '%{http_code}' --max-time 30 -H "Authorization: Bearer $A" "$SRV_URL/api/v1/screenshots/$1/image")
}
avobjs() { find "$T/s3/$1/avatars/$2" -name '*._S3rver_object' 2>/dev/null | wc -l; }
avput "$TKA" "$UA" "$T/a.png"
check_st "alice's picture, written with key A" 200
check_eq "its object is in cred1" "$(avobjs cred1 "$UA")" 1

# --- rotation: key B created, set on team A, key A deleted ---
echo "$AKB $SECB" >>"$KEYS"
api "$A" PUT "/api/v1/nodes/$TA/config" "{\"values\":{\"s3.access_key_id\":\"$AKB\",\"s3.secret_access_key\":\"$SECB\"}}"
check_st "team A's key becomes B (same bucket: no rebind)" 200
echo "$AKB $SECB" >"$KEYS"
check "key A is deleted: the front refuses it" not s3ls "$AKA" "$SECA" cred1
check "key B is valid" s3ls "$AKB" "$SECB" cred1
: >"$KEYS.log"
img "$SNOW"
check_eq "the screenshot taken with key A is still served" "$ST" 200
check_eq "byte-exact" "$(sha256sum <"$T/img" | cut -d' ' -f1)" "$SHA"
check "its GET was signed with key B" grep -q "^GET /cred1/$KNOW $AKB 200" "$KEYS.log"
avget "$TKB" "$UA"
check_eq "the picture uploaded with key A is still served" "$ST" 200
check "byte-exact" cmp -s "$T/a.png" "$T/got"
avdel "$TKA" "$UA"
check_st "alice deletes her picture" 204
check_eq "its object is gone from cred1" "$(avobjs cred1 "$UA")" 0
api "$A" POST /api/v1/admin/retention/run
check_st "a retention run" 200
check_eq "it deletes the expired screenshot, no S3 error" "$(jr '[.screenshots, .s3_errors] | join(",")')" 1,0
check "its object is gone from cred1" not s3_has cred1 "$KOLD"
check "today's is kept" s3_has cred1 "$KNOW"
check "the old key was never sent after its deletion" not grep -q " $AKA " "$KEYS.log"

# --- written with key B, then the credentials are removed everywhere ---
avput "$TKB" "$UB" "$T/b.png"
check_st "bob's picture, written with key B" 200
check "an expired screenshot written with key B" shoot 2000-01-02T09:00:00.000Z
KB2=$KEY SB2=$SHOT
api "$A" PUT "/api/v1/nodes/$TA/config" '{"values":{"s3.access_key_id":null,"s3.secret_access_key":null}}'
check_st "the credentials are removed from team A" 200
: >"$KEYS"
img "$SNOW"
check_eq "a screenshot whose bucket has no credentials left: 409" "$ST" 409
check "the 409 names the bucket" grep -q "cred1" "$T/img"
img "$SB2"
check_eq "also the one written with key B: 409" "$ST" 409
avget "$TKA" "$UB"
check_eq "the picture: 409" "$ST" 409
check "the 409 names the bucket" grep -q "cred1" "$T/got"
avdel "$TKB" "$UB"
check_st "deleting the picture: 409" 409
check "the 409 names the bucket" grep -q "cred1" "$T/resp"
avget "$TKA" "$UB"
check_eq "the picture is still recorded (409, not 404)" "$ST" 409
check_eq "and its object still in cred1" "$(avobjs cred1 "$UB")" 1
api "$A" POST /api/v1/admin/retention/run
check_eq "retention counts an S3 error and carries on" "$ST $(jr '[.screenshots, .s3_errors, .errors] | join(",")')" "200 0,1,0"
check "the expired shot's object is kept" s3_has cred1 "$KB2"
api "$A" GET "/api/v1/screenshots?user_id=$UA&from=2000-01-02T00:00:00Z&to=2000-01-03T00:00:00Z"
check_eq "and so is its listing" "$(jr '.screenshots | length')" 1
check "no 500 and no crash" not grep -q 'status=500' "$SRV_LOG"

# --- a level's key goes only where its level says ---
echo "$AKB $SECB" >"$KEYS"
api "$A" PUT "/api/v1/nodes/$TA/config" "{\"values\":{\"s3.bucket\":\"cred2\",\"s3.access_key_id\":\"$AKB\",\"s3.secret_access_key\":\"$SECB\"}}"
check_st "team A moves to cred2 with key B" 200
: >"$KEYS.log"
img "$SNOW"
check_eq "a screenshot in cred1: 409 (team A's key B is for cred2 now)" "$ST" 409
check "key B was not signed for cred1" not grep -q "/cred1/.* $AKB " "$KEYS.log"
api "$A" PUT "/api/v1/nodes/$B/config" "{\"values\":{$(s3where cred1),\"s3.access_key_id\":\"$AKB\",\"s3.secret_access_key\":\"$SECB\"}}"
check_st "the business names cred1 with key B" 200
img "$SNOW"
check_eq "then the level above serves cred1: 200" "$ST $(sha256sum <"$T/img" | cut -d' ' -f1)" "200 $SHA"
avget "$TKA" "$UB"
check "and bob's picture" test "$ST" = 200 && cmp -s "$T/b.png" "$T/got"
api "$A" POST /api/v1/admin/retention/run
check_eq "retention deletes the expired shot now" "$(jr '[.screenshots, .s3_errors] | join(",")')" 1,0
check "its object is gone from cred1" not s3_has cred1 "$KB2"

# --- the secrets never leave in clear ---
check "no secret in the server log" not grep -q -e "$SECA" -e "$SECB" "$SRV_LOG"
check "the server stops cleanly (exit 0)" srv_stop
check "no secret in the raw store file" not grep -qa -e "$SECA" -e "$SECB" "$SRV_DIR/data.mdb"
finish
