#!/usr/bin/env bash
# actlog-server: the config hierarchy — level documents on nodes and users,
# validation against the schema, locks, the effective merge and its
# sources, the s3.* keys as one unit taken whole from one level, the
# credentials bound to where they are sent (a change of endpoint, region,
# bucket or path style at their level needs the secrets again), secrets
# that never leave the server or reach the store in clear,
# permissions, and no lost updates under concurrent writes. Real binary on
# loopback, real LMDB store.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
need curl
need jq

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

# --- empty documents and defaults ---
api "$A" GET "/api/v1/nodes/$B/config"
check_st "get a node's config" 200
check_eq "a new level is empty" "$(jq -c . "$T/resp")" '{"values":{},"locked":[],"secrets_set":[]}'
api "$A" GET "/api/v1/users/$UA/config"
check_st "get a user's config" 200
check_eq "a new user level is empty" "$(jq -c . "$T/resp")" '{"values":{},"locked":[],"secrets_set":[]}'
api "$A" GET "/api/v1/users/$UA/config/effective"
check_st "effective config" 200
check_eq "defaults: logging on" "$(jr '.values."logging.enabled"')" true
check_eq "defaults: interval 60" "$(jr '.values."activity.interval_s"')" 60
check_eq "defaults: retention 365" "$(jr '.values."retention.days"')" 365
check_eq "defaults: screenshots off" "$(jr '.values."screenshots.enabled"')" false
check_eq "every default says so" "$(jr '[.source[]] | unique | join(",")')" default
check_eq "defaults: screenshots as WebP at quality 50" \
	"$(jr '"\(.values."screenshots.format") \(.values."screenshots.quality")"')" "webp 50"
check_eq "13 keys have defaults" "$(jr '.values | length')" 13
check_eq "no s3 key without a value" "$(jr '[.values | keys[] | select(startswith("s3."))] | length')" 0
check_eq "nothing locked" "$(jq -c .locked "$T/resp")" '{}'

# --- validation ---
put() { api "$1" PUT "$2" "$3"; }
put "$A" "/api/v1/nodes/$TA/config" '{"values":{"logging.enabeld":true}}'
check_st "unknown key" 400
check "the error names the key" grep -q 'logging.enabeld' "$T/resp"
put "$A" "/api/v1/nodes/$TA/config" '{"values":{"activity.interval_s":5}}'
check_st "below the range" 400
check "the error names key and range" grep -q "activity.interval_s.*10..3600" "$T/resp"
put "$A" "/api/v1/nodes/$TA/config" '{"values":{"idle.threshold_s":86401}}'
check_st "above the range" 400
put "$A" "/api/v1/nodes/$TA/config" '{"values":{"activity.interval_s":60.5}}'
check_st "not an integer" 400
put "$A" "/api/v1/nodes/$TA/config" '{"values":{"activity.interval_s":"60"}}'
check_st "a number as a string" 400
put "$A" "/api/v1/nodes/$TA/config" '{"values":{"logging.enabled":"yes"}}'
check_st "bool of the wrong type" 400
check "the bool error names the key" grep -q "logging.enabled.*true or false" "$T/resp"
for v in '"gif"' '"WEBP"' '""' 1 true; do
	put "$A" "/api/v1/nodes/$TA/config" "{\"values\":{\"screenshots.format\":$v}}"
	check_st "screenshots.format $v" 400
	check "screenshots.format $v: the error names the three" grep -q 'screenshots.format.*must be .*png.*, .*webp.* or .*jpeg' "$T/resp"
done
for v in 0 101 50.5 '"50"'; do
	put "$A" "/api/v1/nodes/$TA/config" "{\"values\":{\"screenshots.quality\":$v}}"
	check_st "screenshots.quality $v" 400
	check "screenshots.quality $v: the error names the range" grep -q 'screenshots.quality.*1..100' "$T/resp"
done
put "$A" "/api/v1/nodes/$TA/config" '{"values":{"screenshots.format":"jpeg","screenshots.quality":80}}'
check_st "screenshots.format jpeg at quality 80" 200
api "$A" GET "/api/v1/users/$UA/config/effective"
check_eq "the effective config has them" \
	"$(jr '"\(.values."screenshots.format") \(.values."screenshots.quality")"')" "jpeg 80"
put "$A" "/api/v1/nodes/$TA/config" '{"values":{"screenshots.format":null,"screenshots.quality":null}}'
check_st "and back to the defaults" 200
put "$A" "/api/v1/nodes/$TA/config" '{"values":{"s3.bucket":"Bad_Bucket"}}'
check_st "bad bucket name" 400
put "$A" "/api/v1/nodes/$TA/config" '{"values":{"s3.bucket":"ab"}}'
check_st "bucket name too short" 400
put "$A" "/api/v1/nodes/$TA/config" '{"values":{"s3.endpoint":"ftp://s3.example.com"}}'
check_st "endpoint not http(s)" 400
put "$A" "/api/v1/nodes/$TA/config" '{"values":{"s3.region":"eu\u0001west"}}'
check_st "control character in a string" 400
put "$A" "/api/v1/nodes/$TA/config" "{\"values\":{\"s3.access_key_id\":\"$(head -c 1025 /dev/zero | tr '\0' k)\"}}"
check_st "string over 1024 bytes" 400
put "$A" "/api/v1/nodes/$TA/config" '{"values":{"s3.region":""}}'
check_st "empty string" 400
put "$A" "/api/v1/nodes/$TA/config" '{"values":{"logging.enabled":true}'
check_st "malformed JSON" 400
put "$A" "/api/v1/nodes/$TA/config" '[1,2]'
check_st "body not an object" 400
put "$A" "/api/v1/nodes/$TA/config" '{"values":[1]}'
check_st "values not an object" 400
put "$A" "/api/v1/nodes/$TA/config" '{}'
check_st "neither values nor locked" 400
put "$A" "/api/v1/nodes/$TA/config" '{"values":{},"color":"red"}'
check_st "unknown field" 400
put "$A" "/api/v1/nodes/$TA/config" '{"locked":"logging.enabled"}'
check_st "locked not an array" 400
put "$A" "/api/v1/nodes/$TA/config" '{"locked":["no.such.key"]}'
check_st "locking an unknown key" 400
put "$A" "/api/v1/users/$UA/config" '{"locked":["logging.enabled"]}'
check_st "locks on a user level" 400
put "$A" "/api/v1/nodes/$TA/config" "{\"values\":{\"s3.region\":\"$(head -c 70000 /dev/zero | tr '\0' r)\"}}"
check_st "body over 64 KiB" 413
put "$A" /api/v1/nodes/root/config '{"values":{"logging.enabled":true}}'
check_st "the root holds no config" 400
api "$A" GET "/api/v1/nodes/$TA/config"
check_eq "refused writes left nothing" "$(jq -c .values "$T/resp")" '{}'

# --- 401 / 404 ---
api "" GET "/api/v1/nodes/$TA/config"
check_st "node config without a token" 401
api "alt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" PUT "/api/v1/nodes/$TA/config" '{"values":{}}'
check_st "node config put with an unknown token" 401
api "" GET "/api/v1/users/$UA/config/effective"
check_st "effective without a token" 401
api "alt_garbage" PUT "/api/v1/users/$UA/config" '{"values":{}}'
check_st "user config put with a bad token" 401
api "$A" GET /api/v1/nodes/n_ffffffffffffffff/config
check_st "unknown node" 404
api "$A" PUT /api/v1/nodes/zzz/config '{"values":{}}'
check_st "malformed node id" 404
api "$A" GET /api/v1/users/u_ffffffffffffffff/config
check_st "unknown user" 404
api "$A" GET /api/v1/users/u_ffffffffffffffff/config/effective
check_st "unknown user, effective" 404
api "$A" PUT /api/v1/users/u_ffffffffffffffff/config '{"values":{}}'
check_st "unknown user, put" 404

# --- permissions ---
put "$ALI" "/api/v1/users/$UA/config" '{"values":{"apps.titles":true}}'
check_st "an employee cannot set her own config" 403
api "$ALI" GET "/api/v1/users/$UA/config/effective"
check_st "an employee reads her own effective config" 200
api "$ALI" GET "/api/v1/users/$UB/config/effective"
check_st "an employee reads a colleague's" 403
api "$ALI" GET "/api/v1/nodes/$TA/config"
check_st "an employee reads her team's document" 403
put "$MGR" "/api/v1/nodes/$TA/config" '{"values":{"apps.titles":true}}'
check_st "a manager sets his team's config" 200
put "$MGR" "/api/v1/nodes/$TB/config" '{"values":{"apps.titles":true}}'
check_st "a manager outside his team" 403
put "$MGR" "/api/v1/nodes/$P/config" '{"values":{"apps.titles":true}}'
check_st "a manager above his team" 403
api "$MGR" GET "/api/v1/users/$UB/config/effective"
check_st "a manager reads another team's user" 403
put "$MGR" "/api/v1/users/$UA/config" '{"values":{"idle.threshold_s":120}}'
check_st "a manager sets a team member's config" 200
put "$MGR" "/api/v1/users/$UM/config" '{"values":{"idle.threshold_s":120}}'
check_st "a manager sets his own user level (through his grant)" 200
put "$MGR" "/api/v1/nodes/$TA/config" '{"values":{"apps.titles":null}}'
check_st "null removes a key" 200
check_eq "removed" "$(jq -c .values "$T/resp")" '{}'

# --- merge order ---
put "$A" "/api/v1/nodes/$D/config" '{"values":{"activity.interval_s":120,"idle.threshold_s":600}}'
check_st "domain sets two keys" 200
check_eq "put answers the level document" "$(jq -c .values "$T/resp")" '{"activity.interval_s":120,"idle.threshold_s":600}'
put "$A" "/api/v1/nodes/$P/config" '{"values":{"sysinfo.interval_s":1200,"activity.interval_s":90}}'
check_st "project sets two keys" 200
put "$A" "/api/v1/nodes/$TA/config" '{"values":{"activity.interval_s":30}}'
check_st "team sets the interval" 200
put "$A" "/api/v1/users/$UA/config" '{"values":{"activity.interval_s":20}}'
check_st "user overrides the interval" 200
api "$A" GET "/api/v1/users/$UA/config"
check_eq "the user level keeps both its keys" "$(jq -c .values "$T/resp")" '{"activity.interval_s":20,"idle.threshold_s":120}'
api "$A" GET "/api/v1/users/$UA/config/effective"
check_eq "user value wins" "$(jr '.values."activity.interval_s"')" 20
check_eq "user source" "$(jr '.source."activity.interval_s"')" "user:$UA"
check_eq "user's idle threshold wins over the domain" "$(jr '.values."idle.threshold_s"')" 120
check_eq "project value below the domain" "$(jr '.values."sysinfo.interval_s"'):$(jr '.source."sysinfo.interval_s"')" "1200:$P"
check_eq "untouched key keeps the default" "$(jr '.source."retention.days"')" default
api "$A" GET "/api/v1/users/$UB/config/effective"
check_eq "team Blue: the project's interval" "$(jr '.values."activity.interval_s"'):$(jr '.source."activity.interval_s"')" "90:$P"
check_eq "team Blue: the domain's idle threshold" "$(jr '.values."idle.threshold_s"'):$(jr '.source."idle.threshold_s"')" "600:$D"

# --- locks ---
put "$A" "/api/v1/nodes/$B/config" '{"values":{"logging.enabled":false},"locked":["logging.enabled"]}'
check_st "business locks logging off" 200
check_eq "locked list" "$(jq -c .locked "$T/resp")" '["logging.enabled"]'
put "$A" "/api/v1/nodes/$TA/config" '{"values":{"logging.enabled":true}}'
check_st "team sets a key locked at the business" 409
check "the error says where it is locked" grep -q "locked at $B" "$T/resp"
put "$A" "/api/v1/users/$UA/config" '{"values":{"logging.enabled":true}}'
check_st "user level sets a locked key" 409
put "$A" "/api/v1/nodes/$B/config" '{"values":{"logging.enabled":true}}'
check_st "the locking level itself may change it" 200
put "$A" "/api/v1/nodes/$B/config" '{"values":{"logging.enabled":false}}'
api "$ALI" GET "/api/v1/users/$UA/config/effective"
check_eq "effective: logging off" "$(jr '.values."logging.enabled"')" false
check_eq "effective: from the business" "$(jr '.source."logging.enabled"')" "$B"
check_eq "effective: locked at the business" "$(jr '.locked."logging.enabled"')" "$B"
# a lock keeps the inherited value: the project locks the interval it gets
# from itself, team and user values below are ignored
put "$A" "/api/v1/nodes/$P/config" '{"locked":["activity.interval_s"]}'
check_st "project locks the interval" 200
check_eq "locking keeps the values" "$(jr '.values."activity.interval_s"')" 90
api "$A" GET "/api/v1/users/$UA/config/effective"
check_eq "lock at the project beats team and user" "$(jr '.values."activity.interval_s"'):$(jr '.source."activity.interval_s"'):$(jr '.locked."activity.interval_s"')" "90:$P:$P"
put "$A" "/api/v1/nodes/$TA/config" '{"values":{"activity.interval_s":null}}'
check_st "removing a key locked above is allowed" 200
put "$A" "/api/v1/nodes/$TA/config" '{"values":{"activity.interval_s":45}}'
check_st "setting it is not" 409
put "$A" "/api/v1/nodes/$TA/config" '{"values":{"activity.interval_s":null,"activity.interval_s":45}}'
check_st "nor setting it after a null of the same name (the last one counts)" 409
api "$A" GET "/api/v1/nodes/$TA/config"
check_eq "and nothing was stored" "$(jr '.values."activity.interval_s"')" null
put "$A" "/api/v1/nodes/$P/config" '{"locked":[]}'
check_st "project unlocks" 200
api "$A" GET "/api/v1/users/$UA/config/effective"
check_eq "unlocked: the user value again" "$(jr '.values."activity.interval_s"')" 20
check_eq "one lock left" "$(jq -c .locked "$T/resp")" "{\"logging.enabled\":\"$B\"}"

# --- secrets ---
SECRET=sk$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
TOKEN=st$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
BUCKET=bkt-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
put "$A" "/api/v1/nodes/$B/config" "{\"values\":{\"s3.bucket\":\"$BUCKET\",\"s3.region\":\"eu-west-1\",\"s3.endpoint\":\"https://s3.example.com\",\"s3.access_key_id\":\"AKIAEXAMPLE\",\"s3.secret_access_key\":\"$SECRET\",\"s3.session_token\":\"$TOKEN\"}}"
check_st "business sets S3 settings with secrets" 200
check "the put answer has no secret value" not grep -qe "$SECRET" -e "$TOKEN" "$T/resp"
check_eq "secrets_set names them" "$(jr '.secrets_set | join(",")')" "s3.secret_access_key,s3.session_token"
check_eq "plain values are shown" "$(jr '.values."s3.bucket"')" "$BUCKET"
ALL=$T/all-responses
: >"$ALL"
for path in "/api/v1/nodes/$B/config" "/api/v1/users/$UA/config/effective" "/api/v1/users/$UB/config/effective"; do
	api "$A" GET "$path"
	cat "$T/resp" >>"$ALL"
done
check "no GET answer carries a secret" not grep -qe "$SECRET" -e "$TOKEN" "$ALL"
check "the effective bucket is shown" grep -q "$BUCKET" "$ALL"
api "$A" GET "/api/v1/users/$UA/config/effective"
check_eq "effective values leave secrets out" "$(jr '.values | has("s3.secret_access_key")')" false
check_eq "source says where the secret is set" "$(jr '.source."s3.secret_access_key"')" "$B"
check "the store file is readable to the test" grep -qa 'alice@example.com' "$SRV_DIR/data.mdb"
check "the secret is not in the store in clear" not grep -qa "$SECRET" "$SRV_DIR/data.mdb"
check "the session token is not in the store in clear" not grep -qa "$TOKEN" "$SRV_DIR/data.mdb"
check "plain config values are sealed too" not grep -qa "$BUCKET" "$SRV_DIR/data.mdb"
check "the server log has no secret" not grep -qe "$SECRET" -e "$TOKEN" "$SRV_LOG"
check "config changes are audited" grep -qa '"action":"config.set"' "$SRV_DIR/data.mdb"
check "the audit names the secret key" grep -qa '"keys":\["s3.bucket","s3.region","s3.endpoint","s3.access_key_id","s3.secret_access_key","s3.session_token"\]' "$SRV_DIR/data.mdb"
put "$A" "/api/v1/nodes/$B/config" '{"values":{"s3.session_token":null}}'
check_eq "null removes a secret" "$(jr '.secrets_set | join(",")')" "s3.secret_access_key"
api "$A" GET "/api/v1/users/$UA/config/effective"
check_eq "a removed secret has no source" "$(jr '.source | has("s3.session_token")')" false

# --- S3 settings are one unit ---
# The s3.* keys resolve together from the nearest level that sets s3.bucket
# or a credential. A team manager who cannot see the business's secret sets
# endpoint, region and path style on his team: the business's key must not
# be signed for his host, so none of it reaches the merge.
s3src() { jr '[.source | to_entries[] | select(.key | startswith("s3.")) | .value] | unique | join(",")'; }
put "$MGR" "/api/v1/nodes/$TA/config" '{"values":{"s3.endpoint":"http://127.0.0.1:1","s3.region":"xx-evil-1","s3.path_style":true}}'
check_st "a team manager sets endpoint, region and path style on his team" 200
api "$MGR" GET "/api/v1/nodes/$TA/config/effective"
check_eq "the endpoint stays the business's" "$(jr '.values."s3.endpoint"'):$(jr '.source."s3.endpoint"')" "https://s3.example.com:$B"
check_eq "the region stays the business's" "$(jr '.values."s3.region"'):$(jr '.source."s3.region"')" "eu-west-1:$B"
check_eq "no path style: the business sets none" "$(jr '.values | has("s3.path_style")'):$(jr '.source | has("s3.path_style")')" false:false
check_eq "every s3.* key comes from the business" "$(s3src)" "$B"
put "$A" "/api/v1/users/$UA/config" '{"values":{"s3.endpoint":"http://127.0.0.1:2"}}'
check_st "an endpoint on a user's level" 200
api "$A" GET "/api/v1/users/$UA/config/effective"
check_eq "the user's effective endpoint stays the business's" "$(jr '.values."s3.endpoint"'):$(s3src)" "https://s3.example.com:$B"
# a level that sets the bucket, or a credential, takes the whole unit:
# nothing of the business's comes with it
put "$MGR" "/api/v1/nodes/$TA/config" '{"values":{"s3.bucket":"red-bucket"}}'
check_st "the team manager sets a bucket" 200
api "$MGR" GET "/api/v1/nodes/$TA/config/effective"
check_eq "the team's own unit" "$(jr '[.values."s3.bucket", .values."s3.endpoint", .values."s3.region", .values."s3.path_style"] | join(",")')" "red-bucket,http://127.0.0.1:1,xx-evil-1,true"
check_eq "all its sources are the team" "$(s3src)" "$TA"
check_eq "the business's key id and secret do not come with it" "$(jr '.values | has("s3.access_key_id")'):$(jr '.source | has("s3.secret_access_key")')" false:false
put "$MGR" "/api/v1/nodes/$TA/config" '{"values":{"s3.bucket":null,"s3.access_key_id":"AKIARED"}}'
check_st "the team manager sets a key id instead" 200
api "$MGR" GET "/api/v1/nodes/$TA/config/effective"
check_eq "a credential makes the unit too" "$(jr '.values."s3.access_key_id"'):$(jr '.values | has("s3.bucket")'):$(s3src)" "AKIARED:false:$TA"
# a lock on any s3.* key locks the unit: nothing below may set an s3.* key
put "$A" "/api/v1/nodes/$B/config" '{"locked":["logging.enabled","s3.region"]}'
check_st "the business locks s3.region" 200
put "$MGR" "/api/v1/nodes/$TA/config" '{"values":{"s3.endpoint":"http://127.0.0.1:3"}}'
check_st "another s3.* key below that lock" 409
check "the error says where the unit is locked" grep -q "locked at $B" "$T/resp"
put "$A" "/api/v1/users/$UA/config" '{"values":{"s3.bucket":"user-bucket"}}'
check_st "an s3.* key on a user's level below that lock" 409
put "$MGR" "/api/v1/nodes/$TA/config" '{"values":{"s3.endpoint":null}}'
check_st "removing one is allowed" 200
api "$MGR" GET "/api/v1/nodes/$TA/config/effective"
check_eq "under the lock the business's unit" "$(jr '.values."s3.access_key_id"'):$(jr '.values."s3.bucket"'):$(s3src)" "AKIAEXAMPLE:$BUCKET:$B"
check_eq "every s3.* key is locked at the business" "$(jr '[.locked | to_entries[] | select(.key | startswith("s3.")) | .value] | unique | join(",")'):$(jr '[.locked | keys[] | select(startswith("s3."))] | length')" "$B:7"
put "$A" "/api/v1/nodes/$B/config" '{"locked":["logging.enabled"]}'
check_st "the business unlocks s3.region" 200
put "$MGR" "/api/v1/nodes/$TA/config" '{"values":{"s3.region":null,"s3.path_style":null,"s3.access_key_id":null}}'
check_st "the team drops its s3.* keys" 200
check_eq "the team level holds none" "$(jr '[.values | keys[] | select(startswith("s3."))] | length')" 0
put "$A" "/api/v1/users/$UA/config" '{"values":{"s3.endpoint":null}}'
check_st "and so does the user" 200

# --- credentials stay bound to where they were set ---
# The admin sets a full unit with its secrets on team Red. The team's
# manager may write that level but does not know the secret: changing where
# it is sent (endpoint, region, bucket, path style) needs the secret again
# in the same write, or the server would sign the admin's key for his host.
RSECRET=sk$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
RTOKEN=st$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
REBIND='changing where S3 credentials are sent requires re-entering s3.secret_access_key at this level'
put "$A" "/api/v1/nodes/$TA/config" "{\"values\":{\"s3.bucket\":\"red-shots\",\"s3.region\":\"eu-west-1\",\"s3.endpoint\":\"https://red.example.com\",\"s3.path_style\":true,\"s3.access_key_id\":\"AKIARED\",\"s3.secret_access_key\":\"$RSECRET\",\"s3.session_token\":\"$RTOKEN\"}}"
check_st "the admin sets team Red's S3 unit with its secrets" 200
put "$MGR" "/api/v1/nodes/$TA/config" '{"values":{"s3.endpoint":"http://127.0.0.1:1"}}'
check_st "the manager changes only the endpoint: refused" 409
check "the error says the secret must be re-entered" grep -q "$REBIND" "$T/resp"
for kv in '"s3.region":"xx-evil-1"' '"s3.bucket":"evil-bucket"' '"s3.path_style":false' \
	'"s3.endpoint":null' '"s3.path_style":null' '"s3.region":"eu-west-1","s3.bucket":"evil-bucket"' \
	'"s3.endpoint":"http://127.0.0.1:1","s3.secret_access_key":null' \
	'"s3.endpoint":"http://127.0.0.1:1","s3.session_token":"st-mine"' \
	'"s3.endpoint":"https://red.example.com","s3.endpoint":"http://127.0.0.1:1"'; do
	put "$MGR" "/api/v1/nodes/$TA/config" "{\"values\":{$kv}}"
	check_st "the manager writes {$kv}: refused" 409
done
api "$MGR" GET "/api/v1/nodes/$TA/config/effective"
check_eq "nothing was stored: the admin's unit" "$(jr '[.values."s3.endpoint", .values."s3.region", .values."s3.bucket", .values."s3.path_style", .source."s3.secret_access_key"] | join(",")')" "https://red.example.com,eu-west-1,red-shots,true,$TA"
put "$MGR" "/api/v1/nodes/$TA/config" '{"values":{"s3.endpoint":"https://red.example.com","s3.region":"eu-west-1","screenshots.blur":true}}'
check_st "the same values again change nothing: allowed" 200
put "$MGR" "/api/v1/nodes/$TA/config" "{\"values\":{\"s3.endpoint\":\"http://127.0.0.1:1\",\"s3.secret_access_key\":\"$RSECRET\"}}"
check_st "the secret again, the session token not: refused" 409
check "the error names the session token" grep -q 'requires re-entering s3.session_token at this level' "$T/resp"
put "$MGR" "/api/v1/nodes/$TA/config" "{\"values\":{\"s3.endpoint\":\"http://127.0.0.1:1\",\"s3.secret_access_key\":\"$RSECRET\",\"s3.session_token\":\"$RTOKEN\"}}"
check_st "both secrets again with the endpoint: allowed" 200
api "$MGR" GET "/api/v1/nodes/$TA/config/effective"
check_eq "the new endpoint is in effect" "$(jr '.values."s3.endpoint"'):$(jr '.source."s3.endpoint"')" "http://127.0.0.1:1:$TA"
put "$MGR" "/api/v1/nodes/$TA/config" '{"values":{"s3.region":"us-east-1","s3.secret_access_key":"sk-new","s3.session_token":null}}'
check_st "a new secret, the old token removed, with a new region: allowed" 200
check_eq "secrets_set after it" "$(jr '.secrets_set | join(",")')" "s3.secret_access_key"
put "$MGR" "/api/v1/nodes/$TA/config" '{"values":{"s3.bucket":"red-2","s3.secret_access_key":null}}'
check_st "removing the secret with the bucket change: allowed" 200
put "$MGR" "/api/v1/nodes/$TA/config" '{"values":{"s3.bucket":"red-3"}}'
check_st "no secret at the level: any change" 200
# the same rule on a user's level (its own route)
put "$A" "/api/v1/users/$UA/config" "{\"values\":{\"s3.bucket\":\"alice-shots\",\"s3.region\":\"eu-west-1\",\"s3.endpoint\":\"https://alice.example.com\",\"s3.access_key_id\":\"AKIAALICE\",\"s3.secret_access_key\":\"$RSECRET\"}}"
check_st "the admin sets alice's own S3 unit" 200
put "$MGR" "/api/v1/users/$UA/config" '{"values":{"s3.endpoint":"http://127.0.0.1:1"}}'
check_st "the manager changes only alice's endpoint: refused" 409
check "the error says the secret must be re-entered (user level)" grep -q "$REBIND" "$T/resp"
api "$A" GET "/api/v1/users/$UA/config/effective"
check_eq "alice keeps the admin's endpoint" "$(jr '.values."s3.endpoint"'):$(jr '.source."s3.endpoint"')" "https://alice.example.com:user:$UA"
put "$MGR" "/api/v1/users/$UA/config" "{\"values\":{\"s3.endpoint\":\"http://127.0.0.1:1\",\"s3.secret_access_key\":\"$RSECRET\"}}"
check_st "with the secret again: allowed (user level)" 200
# removing all the S3 settings of a level stays allowed
put "$MGR" "/api/v1/users/$UA/config" '{"values":{"s3.bucket":null,"s3.region":null,"s3.endpoint":null,"s3.path_style":null,"s3.access_key_id":null,"s3.secret_access_key":null,"s3.session_token":null}}'
check_st "the manager removes alice's S3 settings" 200
check_eq "alice's level holds none" "$(jr '[.values | keys[] | select(startswith("s3."))] | length'):$(jr '.secrets_set | length')" 0:0
put "$A" "/api/v1/nodes/$TA/config" "{\"values\":{\"s3.bucket\":\"red-shots\",\"s3.endpoint\":\"https://red.example.com\",\"s3.access_key_id\":\"AKIARED\",\"s3.secret_access_key\":\"$RSECRET\",\"s3.session_token\":\"$RTOKEN\"}}"
check_st "the admin sets team Red's unit again" 200
put "$MGR" "/api/v1/nodes/$TA/config" '{"values":{"s3.bucket":null,"s3.region":null,"s3.endpoint":null,"s3.path_style":null,"s3.access_key_id":null,"s3.secret_access_key":null,"s3.session_token":null}}'
check_st "the manager removes team Red's S3 settings" 200
check_eq "team Red's level holds none" "$(jr '[.values | keys[] | select(startswith("s3."))] | length'):$(jr '.secrets_set | length')" 0:0

# --- a node's effective config: root down to the node, no user level ---
put "$A" "/api/v1/nodes/$TA/config" '{"values":{"retention.days":30}}'
check_st "team Red sets its retention" 200
api "$MGR" GET "/api/v1/nodes/$B/config"
check_st "the manager may not read the business level itself" 403
api "$MGR" GET "/api/v1/nodes/$TA/config/effective"
check_st "a manager reads his team's effective config" 200
check_eq "the project sets the interval" "$(jr '.values."activity.interval_s"'):$(jr '.source."activity.interval_s"')" "90:$P"
check_eq "the domain sets the idle threshold (no user level)" "$(jr '.values."idle.threshold_s"'):$(jr '.source."idle.threshold_s"')" "600:$D"
check_eq "the project sets sysinfo" "$(jr '.values."sysinfo.interval_s"'):$(jr '.source."sysinfo.interval_s"')" "1200:$P"
check_eq "the business sets logging" "$(jr '.values."logging.enabled"'):$(jr '.source."logging.enabled"')" "false:$B"
check_eq "the team sets retention" "$(jr '.values."retention.days"'):$(jr '.source."retention.days"')" "30:$TA"
check_eq "a default says so" "$(jr '.source."screenshots.interval_s"')" default
check_eq "the business bucket, through the merge" "$(jr '.values."s3.bucket"'):$(jr '.source."s3.bucket"')" "$BUCKET:$B"
check_eq "the lock from the business is shown" "$(jq -c .locked "$T/resp")" "{\"logging.enabled\":\"$B\"}"
check_eq "a secret: no value" "$(jr '.values | has("s3.secret_access_key")')" false
check_eq "a secret: only where it is set" "$(jr '.source."s3.secret_access_key"')" "$B"
check_eq "a removed secret: nothing" "$(jr '.source | has("s3.session_token")')" false
check "no user level in a node's merge" not grep -q '"user:' "$T/resp"
check "the secret value is not in the answer" not grep -qe "$SECRET" -e "$TOKEN" "$T/resp"
api "$A" GET "/api/v1/nodes/$TB/config/effective"
check_st "team Blue's effective config" 200
check_eq "team Blue keeps the default retention" "$(jr '.values."retention.days"'):$(jr '.source."retention.days"')" "365:default"
api "$A" GET "/api/v1/nodes/$P/config/effective"
check_st "a project's effective config" 200
check_eq "the project's own interval" "$(jr '.values."activity.interval_s"'):$(jr '.source."activity.interval_s"')" "90:$P"
check_eq "nothing from a team below" "$(jr '.values."retention.days"')" 365
api "$A" GET /api/v1/nodes/root/config/effective
check_st "the root's effective config" 200
check_eq "the root: defaults only" "$(jr '[.source[]] | unique | join(",")'):$(jr '.values | length'):$(jq -c .locked "$T/resp")" "default:13:{}"
api "$MGR" GET "/api/v1/nodes/$TB/config/effective"
check_st "another team's manager" 403
api "$MGR" GET "/api/v1/nodes/$P/config/effective"
check_st "a manager above his team" 403
api "$ALI" GET "/api/v1/nodes/$TA/config/effective"
check_st "an employee reads her team's effective config" 403
api "" GET "/api/v1/nodes/$TA/config/effective"
check_st "node effective without a token" 401
api "$A" GET /api/v1/nodes/n_ffffffffffffffff/config/effective
check_st "unknown node, effective" 404
api "$A" GET /api/v1/nodes/zzz/config/effective
check_st "malformed node id, effective" 404

# --- the document survives a restart (sealed under the stored key) ---
srv_stop
srv_start
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
api "$A" GET "/api/v1/nodes/$B/config"
check_eq "after a restart" "$(jr '.values."s3.bucket"'):$(jr '.locked | join(",")')" "$BUCKET:logging.enabled"

# --- no lost updates: eight concurrent writes of eight keys to one level ---
keys=(activity.interval_s idle.threshold_s sysinfo.interval_s screenshots.interval_s
	screenshots.jitter_s retention.days apps.titles screenshots.blur)
vals=(100 200 300 400 500 600 true true)
pids=()
for i in "${!keys[@]}"; do
	curl -s -o "$T/par.$i" -w '%{http_code}' -X PUT -H "Authorization: Bearer $A" \
		-H 'Content-Type: application/json' --data-binary "{\"values\":{\"${keys[$i]}\":${vals[$i]}}}" \
		"$SRV_URL/api/v1/nodes/$TB/config" >"$T/par.$i.st" &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
check_eq "all concurrent writes answered 200" "$(for f in "$T"/par.*.st; do cat "$f"; echo; done | sort -u | tr -d '\n')" 200
api "$A" GET "/api/v1/nodes/$TB/config"
check_eq "every concurrent write is kept" "$(jr '.values | length')" 8
check_eq "with its value" "$(jr '.values."retention.days"'):$(jr '.values."screenshots.blur"')" "600:true"

finish
