#!/usr/bin/env bash
# actlog-sample against the real server and s3rver: the organisation it
# makes (tree, people, managers, one owned device each), its records as the
# API reads them (working hours per person on weekdays, few on weekends, the
# jiggler's machine always "active" with few keys, each team's application
# mix, process and sysinfo records, a kernel upgrade in the week), every
# batch accepted, the limited views of a manager and an employee, and
# idempotence: a second run with the same seed and range changes no total,
# a run over a wider range leaves the days already loaded as they were;
# screenshots skipped while refused, uploaded once S3 and the policy allow
# them, and not twice.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
source "$(dirname "$0")/../s3.sh"
need curl
need jq
need node

AKID=AKIDSAMPLETEST
SECRET=sample-secret-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
s3_init "$AKID" "$SECRET" shots
s3_up
srv_init
srv_start || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
B=$(srv_business)

# two weekdays (Thursday and Friday before the last Saturday), UTC
SAT=$(date -u -d 'last saturday' +%Y-%m-%d)
END=${SAT}T00:00:00Z
THU=$(date -u -d "$SAT - 2 days" +%Y-%m-%d)
FRI=$(date -u -d "$SAT - 1 day" +%Y-%m-%d)
sample() { # OUT ARGS...: run actlog-sample with the common arguments, summary in $T/OUT.json
	local out=$1
	shift
	"$BUILD/actlog-sample" --url "$SRV_URL" --email "$ADMIN_EMAIL" --password-file "$T/admin.pw" \
		--state "$T/sample-state.json" --seed 42 --tz UTC --json "$@" >"$T/$out.json" 2>"$T/$out.err"
}
sj() { jq -r "$2" "$T/$1.json"; } # SUMMARY FILTER

# --- first run: no screenshots allowed yet ---
check "the first run succeeds" sample run1 --days 2 --end "$END"
check_eq "12 people made" "$(sj run1 .people_created)" 12
check_eq "12 devices enrolled" "$(sj run1 .devices_enrolled)" 12
check_eq "no line rejected" "$(sj run1 .rejected)" 0
check "records were sent" test "$(sj run1 .accepted)" -gt 20000
check_eq "accepted = the records by type" "$(sj run1 '.records | add')" "$(sj run1 .accepted)"
check_eq "screenshots: none while the policy refuses them" "$(sj run1 .screenshots):$(sj run1 .screenshots_refused_people)" 0:12
"$BUILD/actlog-sample" --url "$SRV_URL" --email "$ADMIN_EMAIL" --password-file "$T/admin.pw" \
	--state "$T/sample-state.json" --seed 42 --tz UTC --days 2 --end "$END" >"$T/run1b.out" 2>"$T/run1b.err"
check "without --json, the refusal is said" grep -q 'no screenshots: .*not enabled' "$T/run1b.err"
check "and summed up" grep -q '^screenshots: 0 uploaded, 0 there already, 12 people whose policy refuses them' "$T/run1b.out"
check "the state file is private" test "$(stat -c %a "$T/sample-state.json")" = 600

# --- the organisation ---
node_id() { # PARENT TYPE NAME
	api "$A" GET "/api/v1/nodes/$1/children"
	jr ".children[] | select(.type==\"$2\" and .name==\"$3\") | .id"
}
ENG=$(node_id "$B" domain Engineering)
SALES=$(node_id "$B" domain Sales)
PROD=$(node_id "$ENG" project Product)
EMEA=$(node_id "$SALES" project EMEA)
T_BACK=$(node_id "$PROD" team Backend)
T_DES=$(node_id "$PROD" team Design)
T_ACC=$(node_id "$EMEA" team Accounts)
check "the tree: 2 domains, 2 projects, 3 teams" test -n "$T_BACK" -a -n "$T_DES" -a -n "$T_ACC"
api "$A" GET "/api/v1/users?node_id=$B"
check_eq "12 people under the business" "$(jr '[.users[] | select(.email | endswith("@sample.example.com"))] | length')" 12
uid() { jq -r ".users[] | select(.login==\"$1\") | .id" "$T/users.json"; }
cp "$T/resp" "$T/users.json"
for m in mkeller:$T_BACK srossi:$T_DES dweber:$T_ACC; do
	api "$A" GET "/api/v1/grants?user_id=$(uid "${m%%:*}")"
	check_eq "${m%%:*} manages their team" "$(jr "[.grants[] | select(.role==\"manager\" and .node_id==\"${m#*:}\")] | length")" 1
done
api "$A" GET "/api/v1/devices?node_id=$B"
cp "$T/resp" "$T/devices.json"
check_eq "12 devices, confirmed, each owned by its person" \
	"$(jr '[.devices[] | select(.pending==false and .revoked==false and .owner_id != null)] | length')" 12
did() { jq -r ".devices[] | select(.owner_id==\"$(uid "$1")\") | .id" "$T/devices.json"; }

# --- records as the API reads them ---
LOGINS="mkeller tbecker asilva lnovak praman srossi jberg elaurent dweber cmartin mbianchi nkowalski"
totals() { # everyone's activity totals over the two days, one line each
	local l
	for l in $LOGINS; do
		api "$A" GET "/api/v1/users/$(uid "$l")/activity?from=${THU}T00:00:00Z&to=$END"
		echo "$l $(jq -c .totals "$T/resp")"
	done
}
totals >"$T/totals1"
check_eq "the activity records of the API = those sent" \
	"$(sed 's/^[a-z]* //' "$T/totals1" | jq -s 'map(.records) | add')" "$(sj run1 .records.activity)"
for l in $LOGINS; do
	for d in $THU $FRI; do
		api "$A" GET "/api/v1/users/$(uid "$l")/activity?from=${d}T00:00:00Z&to=${d}T23:59:59Z"
		first=$(jr '[.series | to_entries[] | select(.value.records > 0) | .key] | first')
		worked=$(jr '[.series[] | select(.active_s > 0)] | length')
		mins=$(jr .totals.records)
		check "$l on $d: starts at 07..09 h, works 6+ hours, 300+ minutes on ($first, $worked h, $mins min)" \
			test "$first" -ge 7 -a "$first" -le 9 -a "$worked" -ge 6 -a "$mins" -ge 300
	done
done
# the jiggler: every minute "active", a move each second, few keys
jig=$(sed -n 's/^mbianchi //p' "$T/totals1")
dev=$(sed -n 's/^tbecker //p' "$T/totals1")
check_eq "mbianchi's machine is active every minute it is on" \
	"$(jq '.active_s == .interval_s' <<<"$jig")" true
check "mbianchi's machine moves 60 times a minute, with few keys" \
	jq -e '.moves >= 60 * .records and .keys < 15 * .records' <<<"$jig"
check "a developer types many keys a minute and is not active every second" \
	jq -e '.keys > 40 * .records and .active_s < .interval_s' <<<"$dev"
if jq -e 'has("synthetic_active_s")' <<<"$jig" >/dev/null; then
	check "mbianchi's active time is mostly synthetic" jq -e '.synthetic_active_s >= 0.9 * .active_s' <<<"$jig"
	check "a developer's is not" jq -e '.synthetic_active_s == 0' <<<"$dev"
fi
# the application mix of each team
apps() {
	api "$A" GET "/api/v1/apps/top?node_id=$1&from=${THU}T00:00:00Z&to=$END&limit=100"
	jr '[.apps[].app] | sort | join(",")'
}
check_eq "Backend's applications" "$(apps "$T_BACK")" code,firefox,gnome-terminal,slack
check_eq "Design's applications" "$(apps "$T_DES")" firefox,gimp,inkscape
check_eq "Accounts' applications" "$(apps "$T_ACC")" firefox,libreoffice,thunderbird,zoom
api "$A" GET "/api/v1/apps/top?user_id=$(uid asilva)&from=${THU}T00:00:00Z&to=$END"
check "a developer's first application is code" test "$(jr '.apps[0].app')" = code
api "$A" GET "/api/v1/devices/$(did tbecker)/processes?from=${THU}T00:00:00Z&to=$END&limit=1000"
check "processes: execs and exits of a developer's tools, as tbecker" \
	jq -e '([.processes[] | select(.event=="exec")] | length) > 50 and ([.processes[] | select(.event=="exit")] | length) > 50 and ([.processes[].comm] | index("git")) != null and ([.processes[].user_id] | unique) == ["'"$(uid tbecker)"'"]' "$T/resp"
api "$A" GET "/api/v1/devices/$(did srossi)/sysinfo?from=${THU}T00:00:00Z&to=$END"
check "sysinfo: a boot each day, the machine described" \
	jq -e '([.history[] | select(.reason=="start")] | length) == 2 and (.latest.kernel.release | test("^6\\.1\\.0-[0-9]+-amd64$")) and .latest.hostname == "srossi-laptop"' "$T/resp"

# --- who sees what: the people's password is in the state file ---
PPW=$(jq -r .people_password "$T/sample-state.json")
MK=$(login mkeller@sample.example.com "$PPW")
TB=$(login tbecker@sample.example.com "$PPW")
check "the people sign in" test -n "$MK" -a -n "$TB"
api "$MK" GET "/api/v1/users/$(uid tbecker)/activity"
check_st "a manager reads their team member" 200
api "$MK" GET "/api/v1/users/$(uid srossi)/activity"
check_st "a manager does not read another team" 403
api "$TB" GET "/api/v1/users/$(uid tbecker)/activity"
check_st "an employee reads themself" 200
api "$TB" GET "/api/v1/users/$(uid asilva)/activity"
check_st "an employee does not read a colleague" 403

# --- screenshots allowed for two teams: the second run uploads them ---
api "$A" PUT "/api/v1/nodes/$B/config" "{\"values\":{\"s3.bucket\":\"shots\",\"s3.region\":\"us-east-1\",\"s3.endpoint\":\"$S3URL\",\"s3.path_style\":true,\"s3.access_key_id\":\"$AKID\",\"s3.secret_access_key\":\"$SECRET\"}}"
check_st "S3 settings on the business" 200
for t in $T_BACK $T_DES; do
	api "$A" PUT "/api/v1/nodes/$t/config" '{"values":{"screenshots.enabled":true}}'
	check_st "screenshots enabled on a team" 200
done
check "the second run succeeds" sample run2 --days 2 --end "$END"
check_eq "the second run makes nobody and enrolls nothing" "$(sj run2 .people_created):$(sj run2 .devices_enrolled)" 0:0
check_eq "the second run sends the same batches (stored answers)" \
	"$(sj run2 .batches):$(sj run2 .accepted):$(sj run2 .rejected)" "$(sj run1 .batches):$(sj run1 .accepted):0"
totals >"$T/totals2"
check "the second run changes no total" cmp -s "$T/totals1" "$T/totals2"
check "screenshots uploaded for Backend and Design" test "$(sj run2 .screenshots)" -ge 8
check_eq "Accounts' people refused by their policy" "$(sj run2 .screenshots_refused_people)" 4
n=0
for l in mkeller tbecker asilva lnovak praman srossi jberg elaurent; do
	api "$A" GET "/api/v1/screenshots?user_id=$(uid "$l")&from=${THU}T00:00:00Z&to=$END"
	n=$((n + $(jr '.screenshots | length')))
done
check_eq "the API lists the shots uploaded" "$n" "$(sj run2 .screenshots)"
check_eq "s3rver holds them" "$(s3_count shots)" "$(sj run2 .screenshots)"
SID=$(jr '.screenshots[0].id')
curl -s -H "Authorization: Bearer $A" -o "$T/shot.jpg" "$SRV_URL/api/v1/screenshots/$SID/image"
check "a shot is a JPEG" test "$(head -c 3 "$T/shot.jpg" | od -An -tx1 | tr -d ' ')" = ffd8ff
check "the third run succeeds" sample run3 --days 2 --end "$END"
check_eq "the third run uploads no shot again" "$(sj run3 .screenshots):$(sj run3 .screenshots_there)" "0:$(sj run2 .screenshots)"
check_eq "s3rver holds no more" "$(s3_count shots)" "$(sj run2 .screenshots)"

# --- the whole week: new days added, the two days loaded stay as they were ---
check "the week's run succeeds" sample week --days 7 --end "$END" --shots no
check "the week adds records" test "$(sj week .accepted)" -gt "$(sj run1 .accepted)"
totals >"$T/totals3"
check "the week leaves the two days as they were" cmp -s "$T/totals1" "$T/totals3"
SUN=$(date -u -d "$SAT - 6 days" +%Y-%m-%d)
wk() { # LOGIN DAY: minutes on
	api "$A" GET "/api/v1/users/$(uid "$1")/activity?from=${2}T00:00:00Z&to=${2}T23:59:59Z"
	jr .totals.records
}
weekend=0
weekday=0
for l in $LOGINS; do
	weekend=$((weekend + $(wk "$l" "$SUN")))
	weekday=$((weekday + $(wk "$l" "$THU")))
done
check "Sunday is mostly off ($weekend minutes on, Thursday $weekday)" test $((weekend * 5)) -lt "$weekday"
api "$A" GET "/api/v1/devices/$(did lnovak)/sysinfo?from=$(date -u -d "$SAT - 7 days" +%Y-%m-%d)T00:00:00Z&to=$END"
check "a kernel upgrade in the week" test "$(jr '[.history[].kernel.release] | unique | length')" -eq 2

# --- a state file lost: the machines enrolled before are not spoken for
# again (enrolling anew would make second devices and double their data) ---
"$BUILD/actlog-sample" --url "$SRV_URL" --email "$ADMIN_EMAIL" --password-file "$T/admin.pw" \
	--state "$T/other-state.json" --seed 42 --tz UTC --days 2 --end "$END" --shots no >"$T/lost.out" 2>"$T/lost.err"
check_eq "without the tokens: nothing enrolled, nothing sent" "$(head -1 "$T/lost.out")" \
	"organisation: 3 teams, 12 people (0 new), 0 devices enrolled now"
check "and said" grep -q 'mbianchi: the machine mbianchi-laptop was enrolled by an earlier run' "$T/lost.err"
check_eq "a password made now is not kept as the people's" "$(jq 'has("people_password")' "$T/other-state.json")" false
api "$A" GET "/api/v1/devices?node_id=$B"
check_eq "still 12 devices" "$(jr '.devices | length')" 12
totals >"$T/totals4"
check "no total changed" cmp -s "$T/totals1" "$T/totals4"
finish
