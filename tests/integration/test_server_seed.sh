#!/usr/bin/env bash
# The seeder writes through the server's model: a store seeded straight
# (actlog-seed seed) holds byte for byte what the same batches sent through
# POST /api/v1/ingest leave (seed --tree-only, then send), RECORDS, ROLLUPS
# and each device's latest sysinfo compared by actlog-seed dump.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/server.sh"
need jq

SEED=$BUILD/actlog-seed
printf '%s\n' "$ADMIN_PW" >"$T/admin.pw"
for d in a b; do
	"$SRV_BIN" init --data-dir "$T/$d" --admin-email "$ADMIN_EMAIL" \
		--admin-password-file "$T/admin.pw" --business Acme >"$T/init-$d.out" 2>&1 ||
		{ fail "init $d: $(tail -2 "$T/init-$d.out")"; finish; }
done

"$SEED" seed --data-dir "$T/a" --machines 4 --teams 2 --days 2 --json >"$T/seed-a.json" 2>"$T/seed-a.err"
check_eq "seed writes the dataset" "$?" 0
check_eq "seed: 4 machines x 2 days x 24 batches" "$(jq -r .batches "$T/seed-a.json")" 192
check "seed: every generated record accepted by ingest" \
	test "$(jq -r .records "$T/seed-a.json")" -eq $((192 * 76))

"$SEED" seed --data-dir "$T/b" --machines 4 --teams 2 --days 2 --tree-only --json >"$T/seed-b.json" 2>&1
check_eq "seed --tree-only" "$?" 0
SRV_DIR=$T/b
srv_start || finish
"$SEED" send --url "$SRV_URL" --manifest "$T/b/seed.json" --json >"$T/send.json" 2>&1
check_eq "send: the same batches through ingest" "$?" 0
check_eq "send: every batch acknowledged" "$(jq -r .batches "$T/send.json")" 192
srv_stop

"$SEED" dump --data-dir "$T/a" >"$T/a.dump" && "$SEED" dump --data-dir "$T/b" >"$T/b.dump"
check_eq "dump both stores" "$?" 0
check "the dump holds records, rollups and sysinfo" \
	test "$(grep -c '^records' "$T/a.dump")" -gt 1000 -a "$(grep -c '^rollups' "$T/a.dump")" -gt 100 \
	-a "$(grep -c '^devices' "$T/a.dump")" -eq 4
if cmp -s "$T/a.dump" "$T/b.dump"; then
	pass "seeded store == ingested store ($(wc -l <"$T/a.dump") items)"
else
	fail "seeded store differs from the ingested one: $(diff "$T/a.dump" "$T/b.dump" | head -5)"
fi
finish
