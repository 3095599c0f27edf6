#!/usr/bin/env bash
# actlog-server: enrollment secrets, enrollment (also by the real
# `actlogd enroll`), re-enrollment with the device's own token, pending
# devices and their confirmation, the device list and its scope, owners,
# revocation, and the agent's config with ETag / If-None-Match — every
# route with its success and failure statuses, against the real binary on
# loopback with a real LMDB store.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
need curl
need jq
check "actlogd is built" test -x "$BUILD/actlogd"

srv_init
srv_start
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
check "admin signs in" test -n "$A"

# --- the tree, through the org routes ---
srv_tree Engineering Apollo Red Blue
D=$DOM P=$PRJ
UA=$(srv_user alice@example.com Alice alice "$TA")
UB=$(srv_user bob@example.com Bob bob "$TB")
UM=$(srv_user mgr@example.com Mgr mgr "$TA")
check "tree and users created" test -n "$B" -a -n "$D" -a -n "$P" -a -n "$TA" -a -n "$TB" -a -n "$UA" -a -n "$UB" -a -n "$UM"
srv_grant "$UM" "$TA" manager
check_st "manager grant on team Red" 201
ALI=$(login alice@example.com password-alice)
MGR=$(login mgr@example.com password-mgr)
check "employee and manager sign in" test -n "$ALI" -a -n "$MGR"

# --- enrollment secrets ---
now_s=$(date +%s)
api "$A" POST "/api/v1/nodes/$TA/enrollment-secrets" '{"ttl_s":3600}'
check_st "create an enrollment secret" 201
SA=$(jr .secret)
check_eq "secret prefix" "${SA:0:4}" ale_
check_eq "secret length" "${#SA}" 47
check_eq "secret team" "$(jr .team_id)" "$TA"
exp_s=$(date -d "$(jr .expires_at)" +%s)
check "expires in an hour" test $((exp_s - now_s)) -ge 3599 -a $((exp_s - now_s)) -le 3602
curl -s -o "$T/resp" -w '%{http_code}' -X POST -H "Authorization: Bearer $A" "$SRV_URL/api/v1/nodes/$TA/enrollment-secrets" >"$T/st"
check_eq "without a body" "$(cat "$T/st")" 201
exp_s=$(date -d "$(jr .expires_at)" +%s)
check "default lifetime: 30 days" test $((exp_s - now_s)) -ge $((30 * 86400 - 1)) -a $((exp_s - now_s)) -le $((30 * 86400 + 2))
check "only the hash of a secret is stored" not grep -qa "$SA" "$SRV_DIR/data.mdb"
api "$A" POST "/api/v1/nodes/$TA/enrollment-secrets" '{"ttl_s":0}'
check_st "ttl_s 0" 400
api "$A" POST "/api/v1/nodes/$TA/enrollment-secrets" '{"ttl_s":31536001}'
check_st "ttl_s over a year" 400
api "$A" POST "/api/v1/nodes/$TA/enrollment-secrets" '{"ttl_s":"60"}'
check_st "ttl_s as a string" 400
api "$A" POST "/api/v1/nodes/$TA/enrollment-secrets" '{"ttl":60}'
check_st "unknown field" 400
api "$A" POST "/api/v1/nodes/$TA/enrollment-secrets" '{"ttl_s":'
check_st "malformed JSON" 400
api "$A" POST "/api/v1/nodes/$P/enrollment-secrets" '{}'
check_st "a project is not a team" 409
api "$A" POST /api/v1/nodes/n_ffffffffffffffff/enrollment-secrets '{}'
check_st "unknown node" 404
api "" POST "/api/v1/nodes/$TA/enrollment-secrets" '{}'
check_st "no token" 401
api "$ALI" POST "/api/v1/nodes/$TA/enrollment-secrets" '{}'
check_st "an employee" 403
api "$MGR" POST "/api/v1/nodes/$TB/enrollment-secrets" '{}'
check_st "a manager of another team" 403
api "$MGR" POST "/api/v1/nodes/$TA/enrollment-secrets" '{}'
check_st "a manager of the team" 201
api "$A" POST "/api/v1/nodes/$TB/enrollment-secrets" '{}'
SB=$(jr .secret)

# --- enrollment ---
enroll() { # SECRET HOST_ID [HOSTNAME] [VERSION] [DEVICE_TOKEN]
	api "${5-}" POST /api/v1/enroll "$(jq -nc --arg s "$1" --arg h "$2" --arg n "${3-host-$2}" --arg v "${4-0.1.0}" \
		'{secret:$s,host_id:$h,hostname:$n,agent_version:$v}')"
}
H1=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
enroll "$SA" "$H1" pc-1 0.1.0
check_st "enroll a new device" 201
DEV1=$(jr .device_id)
TOK1=$(jr .device_token)
check_eq "device id" "${DEV1:0:2}" d_
check_eq "device token prefix" "${TOK1:0:4}" ald_
check_eq "enrolled into the secret's team" "$(jr .team_id)" "$TA"
check "the device token is not stored in clear" not grep -qa "$TOK1" "$SRV_DIR/data.mdb"
check_eq "a new host is not pending" "$(jr .pending)" false
enroll "$SA" "$H1" pc-1-renamed 0.2.0 "$TOK1"
check_st "re-enrollment of the same host with its device token" 200
check_eq "keeps the device id" "$(jr .device_id)" "$DEV1"
TOK1B=$(jr .device_token)
check "with a new token" test -n "$TOK1B" -a "$TOK1B" != "$TOK1"
api "$TOK1" GET /api/v1/agent/config
check_st "the old token is refused" 401
api "$TOK1B" GET /api/v1/agent/config
check_st "the new token works" 200
api "$A" GET "/api/v1/devices/$DEV1"
check_eq "re-enrollment refreshes hostname and version" "$(jr .hostname):$(jr .agent_version)" "pc-1-renamed:0.2.0"
enroll "$SB" "$H1"
check_st "the same host in another team is another device" 201
DEVB=$(jr .device_id)
TOKB=$(jr .device_token)
check "a different id" test "$DEVB" != "$DEV1"
enroll "ale_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" h2
check_st "unknown secret" 403
check "says it is invalid" grep -q "invalid enrollment secret" "$T/resp"
enroll "garbage" h2
check_st "malformed secret" 403
enroll "$TOK1B" h2
check_st "a device token is no enrollment secret" 403
api "" POST /api/v1/enroll '{"host_id":"h2","hostname":"x","agent_version":"1"}'
check_st "no secret" 400
enroll "$SA" "has space"
check_st "host_id with a space" 400
enroll "$SA" "$(head -c 129 /dev/zero | tr '\0' h)"
check_st "host_id over 128" 400
enroll "$SA" ""
check_st "empty host_id" 400
enroll "$SA" h2 ""
check_st "empty hostname" 400
enroll "$SA" h2 "$(head -c 256 /dev/zero | tr '\0' n)"
check_st "hostname over 255" 400
enroll "$SA" h2 pc-2 "$(head -c 65 /dev/zero | tr '\0' 1)"
check_st "version over 64" 400
api "" POST /api/v1/enroll '{"secret":"x",'
check_st "malformed JSON" 400
api "" POST /api/v1/enroll "{\"secret\":\"$SA\",\"host_id\":\"h2\",\"hostname\":\"$(head -c 70000 /dev/zero | tr '\0' n)\",\"agent_version\":\"1\"}"
check_st "body over 64 KiB" 413
api "$A" POST "/api/v1/nodes/$TA/enrollment-secrets" '{"ttl_s":1}'
SX=$(jr .secret)
sleep 2
enroll "$SX" h3
check_st "an expired secret" 403
check "says it expired" grep -q expired "$T/resp"
check "failed enrollments are audited" grep -qa '"action":"device.enroll".\{0,300\}"result":"expired_secret"' "$SRV_DIR/data.mdb"

# listing and revoking secrets: ids and times only, never the secret
api "$A" GET "/api/v1/nodes/$TA/enrollment-secrets"
check_st "list the team's secrets" 200
check_eq "every secret made for team A is listed (four)" "$(jr '.secrets | length')" 4
check "the expired one is flagged" jq -e '[.secrets[] | select(.expired)] | length == 1' "$T/resp"
check "ids, times and creators only" jq -e '[.secrets[] | keys] | unique == [["by","created","expired","expires_at","id"]]' "$T/resp"
check "no secret or hash in the list" not grep -q 'ale_\|hash' "$T/resp"
check "oldest first" jq -e '[.secrets[].created] == ([.secrets[].created] | sort)' "$T/resp"
api "$MGR" GET "/api/v1/nodes/$TA/enrollment-secrets"
check_st "the team's manager lists them" 200
api "$MGR" GET "/api/v1/nodes/$TB/enrollment-secrets"
check_st "a manager of another team may not" 403
api "$ALI" GET "/api/v1/nodes/$TA/enrollment-secrets"
check_st "an employee may not" 403
api "$A" POST "/api/v1/nodes/$TA/enrollment-secrets" '{"ttl_s":600}'
SR=$(jr .secret)
SRID=$(jr .id)
check "a new secret has an id" test "${SRID:0:2}" = e_
api "$MGR" DELETE "/api/v1/nodes/$TB/enrollment-secrets/$SRID"
check_st "revoking through another team" 403
api "$A" DELETE "/api/v1/nodes/$TB/enrollment-secrets/$SRID"
check_st "a secret of another team is not found there" 404
api "$A" DELETE "/api/v1/nodes/$TA/enrollment-secrets/e_0000000000000000"
check_st "revoke an unknown secret" 404
api "$A" DELETE "/api/v1/nodes/$TA/enrollment-secrets/not-an-id"
check_st "revoke a malformed id" 404
api "$MGR" DELETE "/api/v1/nodes/$TA/enrollment-secrets/$SRID"
check_st "the team's manager revokes a secret" 204
enroll "$SR" h-revoked
check_st "a revoked secret enrolls nothing" 403
api "$A" GET "/api/v1/nodes/$TA/enrollment-secrets"
check "the revoked secret is no longer listed" jq -e "[.secrets[] | select(.id == \"$SRID\")] | length == 0" "$T/resp"
api "$A" DELETE "/api/v1/nodes/$TA/enrollment-secrets/$SRID"
check_st "revoking twice" 404
api "$A" GET "/api/v1/audit?limit=1000"
check "the revocation is audited" jq -e "[.entries[] | select(.action == \"enroll.secret_revoked\" and .target == \"$SRID\")] | length == 1" "$T/resp"

# the real agent enrolls (the body user/agent/ship.c sends, the answer it parses)
mkdir -p "$T/agent"
"$BUILD/actlogd" enroll --server "$SRV_URL" --secret "$SA" --state-dir "$T/agent" >"$T/enroll.out" 2>&1
check_eq "actlogd enroll" "$?" 0
DEV2=$(jq -r .device_id "$T/agent/device.json")
TOK2=$(jq -r .device_token "$T/agent/device.json")
api "$A" GET "/api/v1/devices/$DEV2"
check_st "the agent's device exists" 200
check "with the agent's host id (32 hex digits)" grep -Eq '^[0-9a-f]{32}$' <<<"$(jr .host_id)"
check_eq "and hostname" "$(jr .hostname)" "$(hostname)"
"$BUILD/actlogd" enroll --server "$SRV_URL" --secret "$SA" --state-dir "$T/agent" >"$T/enroll.out" 2>&1
check_eq "the agent re-enrolls" "$?" 0
check_eq "and keeps its device id" "$(jq -r .device_id "$T/agent/device.json")" "$DEV2"
TOK2=$(jq -r .device_token "$T/agent/device.json")

# --- one device ---
api "$A" GET "/api/v1/devices/$DEV1"
check_st "get a device" 200
check_eq "device fields" "$(jq -c 'keys' "$T/resp")" '["agent_version","enrolled_at","host_id","hostname","id","last_seen","owner_id","pending","revoked","team_id","users_seen"]'
check_eq "device view" "$(jr '[.id,.team_id,.host_id,.owner_id,.revoked,.pending] | map(tostring) | join(",")')" "$DEV1,$TA,$H1,null,false,false"
check "last_seen set by the agent's config fetch" test "$(jr .last_seen)" != null
check_eq "no records yet: no users seen" "$(jq -c .users_seen "$T/resp")" "[]"
check "no token hash in the view" not grep -q '"token"' "$T/resp"
api "$A" GET /api/v1/devices/d_ffffffffffffffff
check_st "unknown device" 404
api "$A" GET /api/v1/devices/nope
check_st "malformed device id" 404
api "" GET "/api/v1/devices/$DEV1"
check_st "no token" 401
api "$TOK1B" GET "/api/v1/devices/$DEV1"
check_st "a device token is no user token" 401
api "$ALI" GET "/api/v1/devices/$DEV1"
check_st "an employee, not the owner" 403
api "$MGR" GET "/api/v1/devices/$DEVB"
check_st "a manager, another team" 403
api "$MGR" GET "/api/v1/devices/$DEV1"
check_st "a manager, his team" 200

# --- owner ---
api "$A" PUT "/api/v1/devices/$DEV1" "{\"owner_id\":\"$UA\"}"
check_st "set the owner" 200
check_eq "owner set" "$(jr .owner_id)" "$UA"
api "$ALI" GET "/api/v1/devices/$DEV1"
check_st "the owner reads her device" 200
api "$A" PUT "/api/v1/devices/$DEV1" "{\"owner_id\":\"$UB\"}"
check_st "an owner from another team" 400
api "$A" PUT "/api/v1/devices/$DEV1" '{"owner_id":"u_ffffffffffffffff"}'
check_st "an unknown owner" 400
api "$A" PUT "/api/v1/devices/$DEV1" '{"owner_id":5}'
check_st "owner_id a number" 400
api "$A" PUT "/api/v1/devices/$DEV1" '{}'
check_st "owner_id missing" 400
api "$A" PUT "/api/v1/devices/$DEV1" '{"owner_id":null,"name":"x"}'
check_st "unknown field" 400
api "$A" PUT "/api/v1/devices/$DEV1" '{"owner_id":'
check_st "malformed JSON" 400
api "$A" PUT "/api/v1/devices/$DEV1" "{\"owner_id\":\"$(head -c 70000 /dev/zero | tr '\0' u)\"}"
check_st "body over 64 KiB" 413
api "$ALI" PUT "/api/v1/devices/$DEV1" '{"owner_id":null}'
check_st "the owner cannot change it" 403
api "$MGR" PUT "/api/v1/devices/$DEVB" '{"owner_id":null}'
check_st "a manager of another team" 403
api "" PUT "/api/v1/devices/$DEV1" '{"owner_id":null}'
check_st "no token" 401
api "$A" PUT /api/v1/devices/d_ffffffffffffffff '{"owner_id":null}'
check_st "unknown device" 404
api "$A" GET "/api/v1/devices/$DEV1"
check_eq "refused changes left the owner" "$(jr .owner_id)" "$UA"

# --- the list ---
ids() { jr '[.devices[].id] | sort | join(",")'; }
sorted() { printf '%s\n' "$@" | sort | paste -sd,; }
api "$A" GET /api/v1/devices
check_st "list everything" 200
check_eq "the admin sees all three" "$(ids)" "$(sorted "$DEV1" "$DEV2" "$DEVB")"
check_eq "not truncated" "$(jr .truncated)" false
api "$A" GET "/api/v1/devices?node_id=$TA"
check_eq "devices of team Red" "$(ids)" "$(sorted "$DEV1" "$DEV2")"
api "$A" GET "/api/v1/devices?node_id=$P"
check_eq "devices below the project" "$(ids)" "$(sorted "$DEV1" "$DEV2" "$DEVB")"
api "$A" GET "/api/v1/devices?node_id=$TB"
check_eq "devices of team Blue" "$(ids)" "$DEVB"
api "$MGR" GET /api/v1/devices
check_eq "a manager sees his team's" "$(ids)" "$(sorted "$DEV1" "$DEV2")"
api "$MGR" GET "/api/v1/devices?node_id=$P"
check_eq "also when asking above his team" "$(ids)" "$(sorted "$DEV1" "$DEV2")"
api "$MGR" GET "/api/v1/devices?node_id=$TB"
check_st "a manager asking for another team" 403
api "$ALI" GET /api/v1/devices
check_st "an employee lists" 200
check_eq "an employee sees only what she owns" "$(ids)" "$DEV1"
api "$A" GET /api/v1/devices?node_id=n_ffffffffffffffff
check_st "unknown node" 404
api "" GET /api/v1/devices
check_st "no token" 401

# --- taking over a device: a team's secret and its host_id are not enough ---
# (a host id is readable on the machine and shown to managers)
enroll "$SA" "$H1" evil-pc 6.6.6
check_st "enrolling a known host_id without its device token" 201
DEVP=$(jr .device_id)
TOKP=$(jr .device_token)
check "makes another device" test -n "$DEVP" -a "$DEVP" != "$DEV1"
check_eq "that is pending" "$(jr .pending)" true
api "$TOK1B" GET /api/v1/agent/config
check_st "the known device's token still works" 200
api "$A" GET "/api/v1/devices/$DEV1"
check_eq "and the known device is untouched" "$(jr '[.hostname,.agent_version,.pending] | map(tostring) | join(",")')" "pc-1-renamed,0.2.0,false"
api "$TOKP" GET /api/v1/agent/config
check_st "a pending device's token gets no config" 403
check "and is told why" grep -q "pending: an administrator must confirm it" "$T/resp"
printf '{"type":"agent","event":"start"}\n' | gzip -c >"$T/pend.gz"
ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKP" -H 'X-Batch-Id: p-1' \
	-H 'Content-Type: application/x-ndjson' -H 'Content-Encoding: gzip' --data-binary @"$T/pend.gz" "$SRV_URL/api/v1/ingest")
check_st "nor may ship records" 403
api "$TOKP" POST /api/v1/screenshots/presign '{}'
check_st "nor upload screenshots" 403
enroll "$SA" "$H1" evil-pc 6.6.6 "$TOKB"
check_st "another device's token proves nothing" 201
DEVP2=$(jr .device_id)
TOKP2=$(jr .device_token)
check "another pending device" test "$(jr .pending)" = true -a "$DEVP2" != "$DEV1" -a "$DEVP2" != "$DEVP"
api "$TOK1B" GET /api/v1/agent/config
check_st "the known device's token still works after that" 200
api "$A" GET /api/v1/devices
check "the list shows the pending devices" jq -e "[.devices[] | select(.pending) | .id] | sort == ([\"$DEVP\",\"$DEVP2\"] | sort)" "$T/resp"
# the real agent, with this machine's host id but not its device token
mkdir -p "$T/agent2"
[ -f "$T/agent/host_id" ] && cp "$T/agent/host_id" "$T/agent2/"
"$BUILD/actlogd" enroll --server "$SRV_URL" --secret "$SA" --state-dir "$T/agent2" >"$T/enroll2.out" 2>&1
check_eq "actlogd enroll without the device token" "$?" 0
check "says the new device is pending" grep -q "pending: an administrator must confirm it" "$T/enroll2.out"
check "and it is another device" test "$(jq -r .device_id "$T/agent2/device.json")" != "$DEV2"
# confirmation: device.write on the device's team
api "$ALI" POST "/api/v1/devices/$DEVP/confirm"
check_st "an employee cannot confirm" 403
api "$MGR" POST "/api/v1/devices/$DEVB/confirm"
check_st "a manager of another team cannot" 403
api "" POST "/api/v1/devices/$DEVP/confirm"
check_st "confirm without a token" 401
api "$A" POST /api/v1/devices/d_ffffffffffffffff/confirm
check_st "confirm an unknown device" 404
api "$TOKP" POST "/api/v1/devices/$DEVP/confirm"
check_st "a device token cannot confirm" 401
api "$MGR" POST "/api/v1/devices/$DEVP/confirm"
check_st "the team's manager confirms" 200
check_eq "no longer pending" "$(jr .pending)" false
api "$TOKP" GET /api/v1/agent/config
check_st "a confirmed device's token works" 200
api "$A" POST "/api/v1/devices/$DEVP/confirm"
check_st "confirming again" 200
check "confirmations are audited" grep -qa '"action":"device.confirm"' "$SRV_DIR/data.mdb"
enroll "$SA" "$H1" evil-pc 6.6.7 "$TOKP2"
check_st "a pending device re-enrolling with its own token" 200
check "keeps its id and stays pending" test "$(jr .device_id)" = "$DEVP2" -a "$(jr .pending)" = true
api "$A" POST "/api/v1/devices/$DEVP2/revoke"
check_st "a pending device can be revoked" 200
api "$A" POST "/api/v1/devices/$DEVP2/confirm"
check_st "a revoked device cannot be confirmed" 409

# --- the agent's config ---
H=$T/headers
agent_get() { # TOKEN [ETAG]
	local args=(-s -D "$H" -o "$T/resp" -w '%{http_code}' -H "Authorization: Bearer $1")
	[ -n "${2:-}" ] && args+=(-H "If-None-Match: $2")
	rm -f "$T/resp" # curl writes no file for an empty body
	ST=$(curl "${args[@]}" "$SRV_URL/api/v1/agent/config")
}
etag() { sed -n 's/^[Ee][Tt][Aa][Gg]: *\(.*\)\r$/\1/p' "$H"; }
agent_get "$TOK2"
check_st "agent config" 200
check_eq "for this device" "$(jr .device_id)" "$DEV2"
check_eq "flat dotted keys, defaults" "$(jr '.config."logging.enabled"'):$(jr '.config."activity.interval_s"')" true:60
E1=$(etag)
check "an ETag" grep -Eq '^"[0-9a-f]{32}"$' <<<"$E1"
agent_get "$TOK2" "$E1"
check_st "If-None-Match with the current ETag" 304
check_eq "304 has no body" "$(cat "$T/resp" 2>/dev/null | wc -c)" 0
check_eq "304 repeats the ETag" "$(etag)" "$E1"
agent_get "$TOK2" '"0000"'
check_st "another ETag" 200
SECRET=sk$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
api "$A" PUT "/api/v1/nodes/$TA/config" "{\"values\":{\"activity.interval_s\":120,\"s3.secret_access_key\":\"$SECRET\"}}"
check_st "team config changes" 200
agent_get "$TOK2" "$E1"
check_st "the old ETag no longer matches" 200
check_eq "the new value" "$(jr '.config."activity.interval_s"')" 120
check "a new ETag" test "$(etag)" != "$E1"
check "no secret reaches the agent" not grep -q "$SECRET" "$T/resp"
api "$A" PUT "/api/v1/nodes/$B/config" '{"values":{"s3.bucket":"acme-shots","s3.access_key_id":"AKIAEXAMPLE"}}'
agent_get "$TOK2"
check_eq "no S3 setting reaches the agent" "$(jr '[.config | keys[] | select(startswith("s3."))] | length')" 0
check_eq "the rest does" "$(jr '.config | length')" 13
api "$A" PUT "/api/v1/devices/$DEV2" "{\"owner_id\":\"$UA\"}"
api "$A" PUT "/api/v1/users/$UA/config" '{"values":{"idle.threshold_s":999}}'
check_st "the owner's own config" 200
agent_get "$TOK2"
check_eq "the owner's level applies to her device" "$(jr '.config."idle.threshold_s"')" 999
agent_get "$A"
check_st "a user token" 401
agent_get ""
check_st "no token" 401
agent_get "ald_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
check_st "an unknown device token" 401

# --- revocation ---
api "$ALI" POST "/api/v1/devices/$DEV1/revoke"
check_st "the owner cannot revoke" 403
api "$MGR" POST "/api/v1/devices/$DEVB/revoke"
check_st "a manager of another team cannot" 403
api "" POST "/api/v1/devices/$DEV1/revoke"
check_st "no token" 401
api "$A" POST /api/v1/devices/d_ffffffffffffffff/revoke
check_st "unknown device" 404
api "$MGR" POST "/api/v1/devices/$DEV1/revoke"
check_st "revoke" 200
check_eq "revoked" "$(jr .revoked)" true
agent_get "$TOK1B"
check_st "a revoked device's token" 401
api "$A" POST "/api/v1/devices/$DEV1/revoke"
check_st "revoking again" 200
check "revocations are audited" grep -qa '"action":"device.revoke"' "$SRV_DIR/data.mdb"
enroll "$SA" "$H1" pc-1 0.3.0 "$TOK1B"
check_st "re-enrolling a revoked host, even with its last token" 201
DEVR=$(jr .device_id)
check "makes a new device, pending" test "$DEVR" != "$DEV1" -a "$(jr .pending)" = true
agent_get "$(jr .device_token)"
check_st "whose token is refused until it is confirmed" 403
api "$A" GET "/api/v1/devices/$DEV1"
check_eq "the revoked device stays revoked" "$(jr .revoked)" true
agent_get "$TOK1B"
check_st "and its token refused" 401

# --- enrollment flood: one address, bad secrets (sign-in has its own buckets) ---
for i in $(seq 1 40); do
	code=$(curl -s -o "$T/flood" -D "$T/flood.h" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
		--data-binary '{"secret":"ale_x","host_id":"h","hostname":"h","agent_version":"1"}' "$SRV_URL/api/v1/enroll")
	[ "$code" = 429 ] && break
done
check_eq "an enrollment flood is limited" "$code" 429
check "with Retry-After" grep -qi '^retry-after: [0-9]' "$T/flood.h"
enroll "$SA" "$H1"
check_st "good secrets wait too" 429
check "sign-in is not affected" test -n "$(login "$ADMIN_EMAIL" "$ADMIN_PW")"

# --- actlogd enroll and plain http:// (the secret and the token in clear) ---
# the server again, on every address, so that a non-loopback URL reaches it
srv_stop
SRV_LISTEN=0.0.0.0:0 srv_start --insecure-listen
port=${SRV_URL##*:}
ip=$(hostname -I 2>/dev/null | awk '{print $1}')
far=http://${ip:-$(hostname)}:$port # not loopback as written
mkdir -p "$T/agent3"
[ -f "$T/agent/host_id" ] && cp "$T/agent/host_id" "$T/agent3/"
out=$("$BUILD/actlogd" enroll --server "$far" --secret "$SA" --state-dir "$T/agent3" 2>&1)
check_eq "actlogd enroll refuses http:// to $far" "$?" 1
check "naming --insecure-http" grep -q -- "--insecure-http" <<<"$out"
check "and stores no device token" test ! -e "$T/agent3/device.json"
"$BUILD/actlogd" enroll --server "$far" --secret "$SA" --state-dir "$T/agent3" --insecure-http >"$T/enroll3.out" 2>&1
check_eq "with --insecure-http it enrolls" "$?" 0
check "a device token is stored" jq -e '.device_token | startswith("ald_")' "$T/agent3/device.json"
"$BUILD/actlogd" enroll --server "http://localhost:$port" --secret "$SA" --state-dir "$T/agent3" >"$T/enroll3.out" 2>&1
check_eq "http://localhost needs no option" "$?" 0
for u in "http://127.0.0.1:$port" "http://[::1]:1" "http://127.9.8.7:1" "http://user@127.0.0.1:1/x"; do
	out=$("$BUILD/actlogd" enroll --server "$u" --secret "$SA" --state-dir "$T/agent3" 2>&1)
	check "$u is loopback" not grep -q -- "--insecure-http" <<<"$out"
done
for u in "http://127.0.0.1.example.com:1" "http://127.0.0.1@example.com:1" "http://[::2]:1" "http://localhost.example.com:1"; do
	out=$("$BUILD/actlogd" enroll --server "$u" --secret "$SA" --state-dir "$T/agent3" 2>&1)
	check "$u is not loopback" grep -q -- "--insecure-http" <<<"$out"
done

finish
