#!/usr/bin/env bash
# The dashboard's day view (web/js/day.js) in a real headless Chromium
# driven by tests/web/day.mjs: a working day of alice's seeded through the
# real ingest route (activity, app_usage with top_cpu, a lunch break that is
# idle, her own machine and a machine she shares with bob, who works on it
# too; the day before, an application with a hostile name) and a
# screenshot through presign, s3rver and register. The page must
# show what GET /api/v1/users/{id}/day answers (focus spans, 10-minute
# slots, idle spans, top CPU, machines; the node script compares with the
# API), nothing of bob's; the screenshot's thumbnail (96 px, decoded by the
# browser) under its marker, its load one screenshot.thumb audit entry and
# no screenshot.view; opening it writes one screenshot.view audit entry and
# no other thumbnail entry; her manager sees her day and not
# another team's; alice sees her own day and the API's refusal for bob's.
# WEB_SHOT_DIR=DIR keeps day.png (1280x900) there.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
source "$(dirname "$0")/../web.sh"
source "$(dirname "$0")/../s3.sh"
need curl
need jq
need gzip
need node
need sha256sum
need /usr/bin/python3
web_need

AKID=AKIDDAYTEST
S3SECRET=TOPSECRET-day-17
s3_init "$AKID" "$S3SECRET" shots
s3_up

srv_init
srv_start --web-root "$ROOT/web" || finish
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
srv_tree Engineering Platform "Red team" "Blue team"
UA=$(srv_user alice@example.com "Alice Anders" alice "$TA")
UB=$(srv_user bob@example.com "Bob Berg" bob "$TA")
UM=$(srv_user mona@example.com "Mona Manager" mona "$TA")
UC=$(srv_user carl@example.com "Carl Blue" carl "$TB")
srv_grant "$UM" "$TA" manager
check "seed: people and the manager" test -n "$UA" -a -n "$UB" -a -n "$UM" -a -n "$UC"
api "$A" PUT "/api/v1/nodes/$TA/config" "$(jq -nc --arg e "$S3URL" --arg k "$AKID" --arg s "$S3SECRET" \
	'{values:{"screenshots.enabled":true,"s3.bucket":"shots","s3.region":"us-east-1",
	  "s3.endpoint":$e,"s3.path_style":true,"s3.access_key_id":$k,"s3.secret_access_key":$s}}')"
check_st "seed: S3 settings on the team" 200
srv_enroll "$TA" host-alice ws-alice
D1=$DEV T1=$TOK
api "$A" PUT "/api/v1/devices/$D1" "{\"owner_id\":\"$UA\"}"
check_st "seed: alice owns her machine" 200
srv_enroll "$TA" host-lab lab-kiosk
D2=$DEV T2=$TOK

# a working day, one batch per device and hour (the rollup budget of a batch)
DAY=$(date -u -d '2 days ago' +%Y-%m-%d)
/usr/bin/python3 - "$DAY" "$T/seed" <<'PY'
import json, os, random, sys
from datetime import datetime, timedelta, timezone
day, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
rnd = random.Random(13)
d0 = datetime.fromisoformat(day + "T00:00:00+00:00")
iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.000Z")
EXE = {"Firefox": "/usr/lib/firefox/firefox", "Code": "/usr/share/code/code", "Terminal": "/usr/bin/gnome-terminal",
       "Slack": "/usr/lib/slack/slack", "LibreOffice": "/usr/lib/libreoffice/program/soffice.bin",
       "Thunderbird": "/usr/lib/thunderbird/thunderbird", "Blender": "/usr/bin/blender",
       "<img src=x onerror=alert(1)>": "/tmp/<b>x</b>"}
batches = {}
def add(host, t, rec):
    batches.setdefault((host, t.hour), []).append(rec)
def work(host, user, start, end, apps, idle=False):
    t = start
    while t < end:
        e = t + timedelta(seconds=300)
        base = {"v": 1, "host_id": host, "user": user, "start": iso(t), "end": iso(e), "interval_s": 300, "ts": iso(e)}
        if idle:
            add(host, t, dict(base, type="activity", keys=0, clicks=0, moves=0, scrolls=0, active_s=0, idle=True))
        else:
            act = rnd.randint(150, 290)
            add(host, t, dict(base, type="activity", keys=rnd.randint(80, 900), clicks=rnd.randint(5, 120),
                              moves=rnd.randint(200, 4000), scrolls=rnd.randint(0, 60), active_s=act, idle=False))
        main = rnd.randint(200, 270)
        sec = 300 - main
        a = [{"app": apps[0], "focus_s": main}, {"app": apps[1], "focus_s": sec}] if not idle else [{"app": apps[0], "focus_s": 300}]
        cpu = [{"pid": 100 + i, "uid": 1000, "app": x, "exe": EXE[x], "cpu_s": round(rnd.uniform(0.5, 30 if i == 0 else 8), 2)}
               for i, x in enumerate(apps[:2])]
        add(host, t, dict(base, type="app_usage", apps=a, top_cpu=cpu, source="x11-ewmh", unknown_s=0))
        t = e
H = lambda hh, mm=0: d0 + timedelta(hours=hh, minutes=mm)
work("host-alice", "alice", H(8, 30), H(10), ["Firefox", "Slack"])
work("host-alice", "alice", H(10), H(12), ["Code", "Terminal"])
work("host-alice", "alice", H(12), H(13), ["Firefox", "Slack"], idle=True)
work("host-alice", "alice", H(13), H(15), ["Code", "Firefox"])
work("host-lab", "alice", H(15), H(16), ["LibreOffice", "Firefox"])
work("host-alice", "alice", H(16), H(17, 30), ["Thunderbird", "Firefox"])
# the day before: an application with a hostile name
work("host-alice", "alice", H(-7, 30), H(-7, 35), ["<img src=x onerror=alert(1)>", "Firefox"])
work("host-lab", "bob", H(9), H(11), ["Blender", "Terminal"])
for host, name in (("host-alice", "ws-alice-7"), ("host-lab", "lab-kiosk-2")):
    add(host, H(7), {"type": "sysinfo", "ts": iso(H(7)), "v": 1, "host_id": host, "user": None, "session": "none",
                     "reason": "start", "hostname": name})
for (host, hh), recs in sorted(batches.items()):
    with open(f"{out}/{host}.{hh:02d}.ndjson", "w") as f:
        for r in recs:
            f.write(json.dumps(r) + "\n")
PY
bad=0
for f in "$T"/seed/*.ndjson; do
	b=$(basename "$f" .ndjson)
	case $b in host-alice.*) tok=$T1 ;; *) tok=$T2 ;; esac
	gzip -c "$f" >"$f.gz"
	ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST --max-time 30 -H "Authorization: Bearer $tok" \
		-H "X-Batch-Id: day-$b" -H 'Content-Encoding: gzip' --data-binary @"$f.gz" "$SRV_URL/api/v1/ingest")
	[ "$ST:$(jr .accepted)" = "200:$(wc -l <"$f")" ] || { bad=1; echo "batch $b: $ST $(cat "$T/resp")"; }
done
check_eq "seed: every batch is accepted whole" "$bad" 0
api "$A" GET "/api/v1/users/$UA/day?date=$DAY"
check_eq "seed: the API's day (records, machines, idle spans)" "$(jr '[.records, (.devices|length), (.idle|length)] | join(",")')" "216,2,1"

# a screenshot of alice's machine at 10:20, as the agent sends one
/usr/bin/python3 - "$T/shot.png" <<'PY'
import struct, sys, zlib
w, h = 640, 480
raw = b"".join(b"\0" + bytes(v for x in range(w) for v in (x * 4 % 256, y * 5 % 256, 160)) for y in range(h))
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) \
    + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
SHA=$(sha256sum "$T/shot.png" | cut -d' ' -f1)
SIZE=$(stat -c %s "$T/shot.png")
TAKEN=${DAY}T10:20:00.000Z
api "$T1" POST /api/v1/screenshots/presign "{\"sha256\":\"$SHA\",\"size\":$SIZE,\"content_type\":\"image/png\",\"taken_at\":\"$TAKEN\"}"
check_st "seed: presign a screenshot" 200
SKEY=$(jr .key)
ST=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: image/png' --data-binary @"$T/shot.png" "$(jr .url)")
check_eq "seed: the PUT to S3" "$ST" 200
api "$T1" POST /api/v1/screenshots "{\"key\":\"$SKEY\",\"size\":$SIZE,\"sha256\":\"$SHA\",\"width\":640,\"height\":480,\"taken_at\":\"$TAKEN\",\"monitor\":\"HDMI-1\"}"
check_st "seed: register the screenshot" 201
SHOT=$(jr .id)
TKA=$(login alice@example.com password-alice)
api "$TKA" GET "/api/v1/users/$UB/day?date=$DAY"
check_st "seed: alice may not read bob's day" 403
ALICE_BOB_ERR=$(jr '.error // empty')
TKM=$(login mona@example.com password-mona)
api "$TKM" GET "/api/v1/users/$UC/day?date=$DAY"
check_st "seed: the manager may not read another team's day" 403
MONA_CARL_ERR=$(jr '.error // empty')

export ADMIN_EMAIL ADMIN_PW DAY UA UB UC D1 D2 SHOT ALICE_BOB_ERR MONA_CARL_ERR
web_run day 300
check "a screenshot of the day view" test -s "$T/day.png"
web_keep day.png

api "$A" GET "/api/v1/audit?limit=1000"
shot_views() { jq -r --arg s "$SHOT" '[.entries[] | select(.action == "screenshot.view" and .target == $s) | "\(.actor_email):\(.result)"] | join(",")' "$T/resp"; }
check_eq "one screenshot.view audit entry: the one opened in the browser" "$(shot_views)" "$ADMIN_EMAIL:ok"
shot_thumbs() { jq -r --arg s "$SHOT" --arg e "$1" '[.entries[] | select(.action == "screenshot.thumb" and .target == $s and .actor_email == $e and .result == "ok")] | length' "$T/resp"; }
check "the administrator's day pages wrote screenshot.thumb entries" test "$(shot_thumbs "$ADMIN_EMAIL")" -ge 1

srv_stop
check "the server stops cleanly" test $? = 0
finish
