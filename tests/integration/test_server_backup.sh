#!/usr/bin/env bash
# actlog-server backup | backup list | backup verify | restore | dump, with
# the real binaries and s3rver: a backup taken while actlog-load ingests into
# the running server, its --dump-to equal to the dump of the store restored
# from it, the restored store served (sign in, query), the object holding
# none of the plaintext, and each damage refused with its reason and nothing
# left at NEWDIR: a flipped byte, a dropped chunk, a truncated object, the
# wrong master key. Restore refuses a non-empty dir; list, verify; the same
# through file://.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
source "$(dirname "$0")/../s3.sh"
need curl
need jq
need node
need /usr/bin/python3
LOAD_BIN=${LOAD_BIN:-$ROOT/build/actlog-load}

AKID=AKIDBACKUPTEST
SECRET=backup-secret-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
s3_init "$AKID" "$SECRET" backups
s3_up

srv_init || { fail "init: $(cat "$T/init.out")"; finish; }
srv_start || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
KEY=$SRV_DIR/master.key

CFG=$T/s3.json
jq -n --arg e "$S3URL" --arg a "$AKID" --arg s "$SECRET" \
	'{"backup.s3.region":"us-east-1","backup.s3.endpoint":$e,"backup.s3.path_style":true,
	  "backup.s3.access_key_id":$a,"backup.s3.secret_access_key":$s}' >"$CFG"
chmod 644 "$CFG"
out=$("$SRV_BIN" backup list --to s3://backups/pre --config "$CFG" 2>&1)
check_eq "a --config readable by others is refused" "$?:$(grep -c 'chmod 600' <<<"$out")" "1:1"
chmod 600 "$CFG"

# --- a hot backup to S3 while actlog-load ingests ---
"$LOAD_BIN" --url "$SRV_URL" --email "$ADMIN_EMAIL" --password-file "$T/admin.pw" --devices 8 \
	--users 4 --concurrency 2 --records 100 --batches 15000 --duration 600 --json \
	>"$T/load.json" 2>&1 &
LOAD=$!
cleanup_add "kill $LOAD"
# actlog-load makes its batches first: wait until records come in
has_records() { "$SRV_BIN" dump --data-dir "$SRV_DIR" | grep -q '^records'; }
wait_for 120 has_records || fail "no records ingested: $(head -c 300 "$T/load.json")"
sleep 5 # let more in (a few MiB: several chunks; the load runs on until stopped below)
"$SRV_BIN" backup --data-dir "$SRV_DIR" --to s3://backups/pre --config "$CFG" \
	--dump-to "$T/taken.txt" --json >"$T/bk.json" 2>"$T/bk.err"
rc=$?
check_eq "backup exits 0 ($(cat "$T/bk.err"))" "$rc" 0
check "the load was still ingesting when the backup ended" kill -0 $LOAD
# the store moves on after the snapshot: more records, then the load stops
# (SIGTERM: it answers its batches in flight and reports)
has_more() { [ "$("$SRV_BIN" dump --data-dir "$SRV_DIR" | grep -c '^records')" -gt "$(grep -c '^records' "$T/taken.txt")" ]; }
check "records keep coming after the backup" wait_for 60 has_more
kill -TERM $LOAD
wait $LOAD
rc=$?
check_eq "actlog-load finished cleanly ($(head -c 300 "$T/load.json"))" "$rc" 0
NAME=$(jq -r .name "$T/bk.json")
check "the backup is named by its time" grep -qE '^actlog-[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$' <<<"$NAME"
OBJ=$T/s3/backups/pre/$NAME.alb._S3rver_object
check "the object is at PREFIX/NAME.alb" test -f "$OBJ"
check "the manifest is at PREFIX/NAME.manifest.json" s3_has backups "pre/$NAME.manifest.json"
RECS=$(grep -c '^records	' "$T/taken.txt")
check "the backup holds ingested records ($RECS)" test "$RECS" -gt 100
check_eq "the manifest counts the records the dump holds" "$(jq -r .items.records "$T/bk.json")" "$RECS"
LOGIN=$(grep -m1 -o 'ld[0-9a-f]*[0-9]\{4\}@load.example' "$T/taken.txt" | head -1)
check "a login of the load's users is in the dump ($LOGIN)" test -n "$LOGIN"

# --- none of the plaintext in the object ---
for s in "$ADMIN_EMAIL" "$LOGIN" "${LOGIN%@*}" "load.example" "Acme"; do
	check "'$s' is not in the object" not grep -qaF "$s" "$OBJ"
done
check "but it is in the dump" grep -qF "$LOGIN" "$T/taken.txt"

# --- list, verify ---
"$SRV_BIN" backup list --to s3://backups/pre --config "$CFG" --json >"$T/list.json"
check_eq "list shows it" "$(jq -r 'length, .[0].name' "$T/list.json" | tr '\n' ' ')" "1 $NAME "
out=$("$SRV_BIN" backup verify --from "s3://backups/pre/$NAME" --config "$CFG" --key-file "$KEY" 2>&1)
check_eq "verify: ok ($out)" "$?:$(grep -c ': ok,' <<<"$out")" "0:1"

# --- restore, dump equal, served ---
"$SRV_BIN" restore --from "s3://backups/pre/$NAME" --data-dir "$T/new" --config "$CFG" \
	--key-file "$KEY" >"$T/restore.out" 2>&1
rc=$?
check_eq "restore exits 0 ($(cat "$T/restore.out"))" "$rc" 0
"$SRV_BIN" dump --data-dir "$T/new" >"$T/restored.txt"
check "the restored store's dump equals the --dump-to of the backup" cmp -s "$T/taken.txt" "$T/restored.txt"
check "the live store has moved on since (the dump is one snapshot)" not cmp -s "$T/taken.txt" \
	<("$SRV_BIN" dump --data-dir "$SRV_DIR")
out=$("$SRV_BIN" restore --from "s3://backups/pre/$NAME" --data-dir "$T/new" --config "$CFG" \
	--key-file "$KEY" 2>&1)
check_eq "restore refuses a non-empty dir ($out)" "$?:$(grep -c 'not empty' <<<"$out")" "1:1"

srv_stop
OLD_DIR=$SRV_DIR
SRV_DIR=$T/new
srv_start --key-file "$KEY" || finish
A2=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
check "sign in on the restored store" test -n "$A2"
A=$A2
check_eq "the business is there" "$(api "$A2" GET /api/v1/nodes/root/children; jr '.children[0].name')" "Acme"
api "$A2" GET "/api/v1/users?node_id=$(jr '.children[0].id')"
check "the load's users are there" grep -qF "${LOGIN%@*}" "$T/resp"
srv_stop
SRV_DIR=$OLD_DIR

# --- damage: each refused with its reason, nothing left at NEWDIR ---
cp "$OBJ" "$T/obj.orig"
# chunk offsets (format: model/backup.c): header 32 + m + w, chunks 33 + n
chunks() {
	/usr/bin/python3 - "$1" <<'EOF'
import sys
b = open(sys.argv[1], 'rb').read()
m = b[30]; w = b[31 + m]; at = 32 + m + w
while at < len(b):
    n = int.from_bytes(b[at:at + 4], 'big'); print(at, 33 + n); at += 33 + n
EOF
}
chunks "$T/obj.orig" >"$T/chunks"
NCH=$(wc -l <"$T/chunks")
check "the object has several chunks ($NCH)" test "$NCH" -ge 3
refused() { # NAME WANT-REASON [KEY]
	local out rc
	out=$("$SRV_BIN" restore --from "s3://backups/pre/$NAME" --data-dir "$T/bad" --config "$CFG" \
		--key-file "${3:-$KEY}" 2>&1)
	rc=$?
	check_eq "$1: refused ($out)" "$rc:$(grep -c "$2" <<<"$out")" "1:1"
	check "$1: nothing at NEWDIR" not test -e "$T/bad"
	check "$1: no temporary directory left" not compgen -G "$T/.bad.restore-*"
	rm -rf "$T/bad"
}
/usr/bin/python3 -c "
import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[len(b)//2]^=1; open(p,'wb').write(b)" "$OBJ"
refused "a flipped byte" "does not authenticate"
read -r at len < <(sed -n 2p "$T/chunks")
head -c "$at" "$T/obj.orig" >"$OBJ"
tail -c +$((at + len + 1)) "$T/obj.orig" >>"$OBJ"
refused "a dropped chunk" "chunk 1 does not authenticate"
head -c "$(($(stat -c %s "$T/obj.orig") / 2))" "$T/obj.orig" >"$OBJ"
refused "a truncated object" "truncated"
cp "$T/obj.orig" "$OBJ"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/other.key"
chmod 600 "$T/other.key"
refused "the wrong master key" "does not open it" "$T/other.key"
out=$("$SRV_BIN" backup verify --from "s3://backups/pre/$NAME" --config "$CFG" --key-file "$T/other.key" --json 2>/dev/null)
check_eq "verify with the wrong key: a JSON error" "$(jq -r '.error | test("does not open it")' <<<"$out")" true
out=$("$SRV_BIN" backup verify --from "s3://backups/pre/$NAME" --config "$CFG" --key-file "$KEY" 2>&1)
rc=$?
check_eq "the untouched object verifies again ($out)" "$rc" 0

# --- the same through file:// ---
mkdir -p "$T/fbk"
"$SRV_BIN" backup --data-dir "$SRV_DIR" --to "file://$T/fbk" --dump-to "$T/ftaken.txt" >"$T/fbk.out" 2>&1
rc=$?
check_eq "file backup exits 0 ($(cat "$T/fbk.out"))" "$rc" 0
FNAME=$(sed -n 's|^backup file://.*/\(actlog-[^ ]*\)$|\1|p' "$T/fbk.out")
check "file backup: NAME.alb and NAME.manifest.json, nothing else" \
	test "$(ls "$T/fbk" | tr '\n' ' ')" = "$FNAME.alb $FNAME.manifest.json "
check_eq "file list" "$("$SRV_BIN" backup list --to "file://$T/fbk" | awk '{print $1}')" "$FNAME"
out=$("$SRV_BIN" backup verify --from "file://$T/fbk/$FNAME" --key-file "$KEY" 2>&1)
rc=$?
check_eq "file verify ($out)" "$rc" 0
"$SRV_BIN" restore --from "file://$T/fbk/$FNAME.alb" --data-dir "$T/fnew" --key-file "$KEY" >/dev/null 2>&1
check_eq "file restore" "$?" 0
check "file: restored dump equals --dump-to" cmp -s "$T/ftaken.txt" <("$SRV_BIN" dump --data-dir "$T/fnew")
check "file: the object holds no plaintext" not grep -qaF "$LOGIN" "$T/fbk/$FNAME.alb"
/usr/bin/python3 -c "
import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[-1]^=1; open(p,'wb').write(b)" "$T/fbk/$FNAME.alb"
out=$("$SRV_BIN" restore --from "file://$T/fbk/$FNAME" --data-dir "$T/fbad" --key-file "$KEY" 2>&1)
check_eq "file: a flipped last byte is refused ($out)" "$?:$(grep -c 'does not authenticate' <<<"$out")" "1:1"
check "file: nothing at NEWDIR" not test -e "$T/fbad"
finish
