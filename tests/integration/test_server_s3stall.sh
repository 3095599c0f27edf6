#!/usr/bin/env bash
# actlog-server: a business whose S3 never answers stalls no one else. The
# admin of a second business points its S3 endpoint at a tarpit (accepts
# connections, never answers; s3_tarpit.py) and fires 16 profile-picture
# uploads at once; meanwhile a user of the first business asks
# GET /api/v1/me again and again, and each answer must come within 1 s
# (the HTTP threads, 4 by default, never wait on S3: the outbound pool
# does). The per-business cap (4 by default) answers the uploads beyond it
# with 503 and Retry-After at once, the first business's own picture
# request is not refused by the second's cap, and the admitted uploads end
# with 504 once their S3 attempts time out (--s3-timeout 2, 3 attempts),
# with nothing recorded.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
need curl
need jq
need /usr/bin/python3
N=16          # uploads fired at once
CAP=4         # --outbound-per-business default
ME_MAX=1.0    # seconds one GET /api/v1/me may take meanwhile

/usr/bin/python3 "$(dirname "$0")/s3_tarpit.py" "$T/tarpit.port" "$T/tarpit.log" &
cleanup_add "kill $!"
wait_for 5 test -s "$T/tarpit.port" || { fail "the tarpit did not start"; finish; }
TARPIT=http://127.0.0.1:$(cat "$T/tarpit.port")
touch "$T/tarpit.log"
accepts() { grep -c '^accept ' "$T/tarpit.log"; }

# a small real PNG
/usr/bin/python3 - "$T/a.png" <<'PY'
import struct, sys, zlib
def chunk(t, b):
    return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xffffffff)
raw = b"".join(b"\0" + bytes(range(48)) for _ in range(16))
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" +
    chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)) +
    chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
PY

srv_init
srv_start --s3-timeout 2 || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
# business 1 (Acme): a user in team A
srv_tree
U1=$(srv_user one@example.com one one "$TA")
TK1=$(login one@example.com password-one)
check "business 1: a user signed in" test -n "$TA" -a -n "$U1" -a -n "$TK1"
# business 2 (Globex), with its own admin and 16 users
B2=$(srv_node business Globex root)
D2=$(srv_node domain Ops "$B2")
P2=$(srv_node project Web "$D2")
T2=$(srv_node team W "$P2")
M2=$(srv_user boss@globex.example boss boss "$T2")
srv_grant "$M2" "$B2" admin
check_st "business 2 has its own admin" 201
TK2=$(login boss@globex.example password-boss)
users=()
for i in $(seq 1 $N); do
	users+=("$(srv_user "w$i@globex.example" "w$i" "w$i" "$T2")")
done
check_eq "business 2: $N users" "$(printf '%s\n' "${users[@]}" | grep -c '^u_')" $N
# its admin points the business's S3 at the tarpit
api "$TK2" PUT "/api/v1/nodes/$B2/config" "$(jq -nc --arg e "$TARPIT" '{values:{"s3.bucket":"stall",
	"s3.region":"us-east-1","s3.endpoint":$e,"s3.path_style":true,"s3.access_key_id":"AKIDSTALL",
	"s3.secret_access_key":"stall-secret"}}')"
check_st "business 2's admin sets its S3 endpoint to the tarpit" 200

# GET /api/v1/me as business 1's user: prints "STATUS SECONDS"
me() { curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 10 \
	-H "Authorization: Bearer $TK1" "$SRV_URL/api/v1/me"; }
read -r st t <<<"$(me)"
echo "  GET /api/v1/me before the uploads: $st in $t s"
check_eq "business 1's /me answers" "$st" 200

# --- 16 uploads of business 2's pictures, at once ---
pids=()
for i in $(seq 1 $N); do
	curl -s -o "$T/up$i.body" -D "$T/up$i.hdr" -w '%{http_code} %{time_total}\n' -X PUT \
		--max-time 60 -H "Authorization: Bearer $TK2" -H 'Content-Type: image/png' \
		--data-binary @"$T/a.png" "$SRV_URL/api/v1/users/${users[$((i - 1))]}/avatar" \
		>"$T/up$i.st" 2>/dev/null &
	pids+=($!)
done
# the uploads are stuck once the tarpit holds their connections
hung() { [ "$(accepts)" -ge 1 ]; }
wait_for 10 hung || fail "no upload reached the tarpit"
sleep 0.5
echo "  tarpit connections while the uploads hang: $(accepts)"

# --- business 1 meanwhile: every /me within ME_MAX ---
slow=0
for i in 1 2 3 4 5 6; do
	read -r st t <<<"$(me)"
	echo "  GET /api/v1/me #$i while business 2's uploads hang: $st in $t s"
	if [ "$st" != 200 ] || awk -v t="$t" -v m="$ME_MAX" 'BEGIN { exit !(t >= m) }'; then
		slow=$((slow + 1))
	fi
	sleep 0.2
done
check_eq "every /me of business 1 answered 200 within $ME_MAX s while business 2's S3 hangs" "$slow" 0
# business 1's own picture request goes through the pool too, under its
# own business: not refused by business 2's cap (409: no S3 settings)
ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X PUT --max-time 10 -H "Authorization: Bearer $TK1" \
	-H 'Content-Type: image/png' --data-binary @"$T/a.png" "$SRV_URL/api/v1/users/$U1/avatar")
check_st "business 1's picture upload is not held by business 2's cap (409: no S3 settings)" 409
busy=$(cat "$T"/up*.st 2>/dev/null | grep -c '^503 ' || true)
echo "  uploads answered 503 while the others hang: $busy"

# --- the uploads end: 503 at once beyond the cap, 504 after the S3 timeout ---
wait "${pids[@]}"
for i in $(seq 1 $N); do
	echo "  upload $i: $(cat "$T/up$i.st") $(head -c 120 "$T/up$i.body")"
done
n503=$(cat "$T"/up*.st | grep -c '^503 ' || true)
n504=$(cat "$T"/up*.st | grep -c '^504 ' || true)
check_eq "uploads beyond the per-business cap: 503" "$n503" $((N - CAP))
check_eq "uploads within the cap: 504 after the S3 timeout" "$n504" $CAP
slow503=$(cat "$T"/up*.st | awk '$1 == 503 && $2 >= 1 { n++ } END { print n + 0 }')
check_eq "the 503s come at once (under 1 s)" "$slow503" 0
f503=$(grep -l '^503 ' "$T"/up*.st | head -1)
check_eq "a 503 carries Retry-After" \
	"$(sed -n 's/^retry-after: *//Ip' "${f503%.st}.hdr" | tr -d '\r')" 5
check "a 503 says the business has too many S3 requests" grep -q 'too many S3 requests' "${f503%.st}.body"
t504=$(cat "$T"/up*.st | awk '$1 == 504 { print $2 }' | sort -n)
echo "  504 times (s): $(echo $t504)"
check "the 504s come after the S3 attempts (3 x 2 s), not before 4 s nor after 30 s" \
	awk -v l="$t504" 'BEGIN { n = split(l, a, " "); for (i = 1; i <= n; i++) if (a[i] < 4 || a[i] > 30) exit 1; exit n == 0 }'
f504=$(grep -l '^504 ' "$T"/up*.st | head -1)
check "a 504 says S3 did not answer in time" grep -q 'did not answer in time' "${f504%.st}.body"
echo "  tarpit connections in all: $(accepts)"
check_eq "the tarpit saw 3 attempts per admitted upload" "$(accepts)" $((3 * CAP))

# --- nothing recorded; the server still serves and stops cleanly ---
recorded=0
for u in "${users[@]}"; do
	ST=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $TK2" \
		"$SRV_URL/api/v1/users/$u/avatar")
	[ "$ST" = 404 ] || recorded=$((recorded + 1))
done
check_eq "no picture of business 2 was recorded" "$recorded" 0
read -r st t <<<"$(me)"
check_eq "business 1's /me still answers" "$st" 200
check "the server stops cleanly (exit 0)" srv_stop
finish
