#!/usr/bin/env bash
# The dashboard's machines, personal API tokens and report downloads, in a
# real headless Chromium driven by tests/web/machines.mjs (playwright-core)
# against a real server seeded through the API and ingest: three machines
# with days of sysinfo (a kernel change, free disk falling) and agent
# records; the list and a machine's page show the API's numbers, the change
# is listed, a machine is revoked from the page; a token made on the page
# works with curl and is revoked from it; downloaded CSVs are the bytes
# curl gets; a manager sees her team's machines only, an employee her own;
# a preferred zone the browser does not know falls back to the browser's,
# and the dashboard starts a zoned day where the server does (a skipped and
# a repeated midnight).
# WEB_SHOT_DIR=DIR keeps the PNGs (machines.png, machine.png, tokens.png).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../server.sh"
source "$(dirname "$0")/../web.sh"
need curl
need jq
need gzip
need node
need /usr/bin/python3
web_need

srv_init
srv_start --web-root "$ROOT/web" || finish

# --- seed: a team with two machines, another team with one ---
A=$(login "$ADMIN_EMAIL" "$ADMIN_PW")
B=$(srv_business)
DOM=$(srv_node domain Engineering "$B")
PRJ=$(srv_node project Platform "$DOM")
TM=$(srv_node team "Red team" "$PRJ")
TB=$(srv_node team "Blue team" "$PRJ")
UA=$(srv_user alice@example.com "Alice Anders" alice "$TM")
UB=$(srv_user bob@example.com "Bob Berg" bob "$TM")
UM=$(srv_user mona@example.com "Mona Manager" mona "$TM")
UD=$(srv_user dave@example.com "Dave Dale" dave "$TB")
srv_grant "$UM" "$TM" manager
check_eq "seed: tree, people, a manager" "$ST:$(test -n "$TM$TB$UA$UB$UD" && echo ok)" "201:ok"
srv_enroll "$TM" host-ws042 ws-042 0.4.0
D1=$DEV K1=$TOK
srv_enroll "$TM" host-ws043 ws-043 0.4.0
D2=$DEV K2=$TOK
srv_enroll "$TB" host-ws100 ws-100 0.4.0
D3=$DEV K3=$TOK
check "seed: three machines enrolled" test -n "$D1" -a -n "$D2" -a -n "$D3" -a -n "$K2"
for p in "$D1:$UA" "$D2:$UB" "$D3:$UD"; do
	api "$A" PUT "/api/v1/devices/${p%%:*}" "{\"owner_id\":\"${p#*:}\"}"
	check_st "seed: an owner for ${p%%:*}" 200
done

# records of a machine: sysinfo every 3 hours over the last 5 days (free
# disk falling, a kernel update two days ago when KERNEL2 is set), agent
# records, and for alice's machine some activity and applications
records() { # HOST HOSTNAME NFS KERNEL2 AGENT_VERSION INPUT PROC LOGIN
	/usr/bin/python3 - "$@" <<'PY'
import json, sys, time
host, hostname, nfs, k2, ver, inp, proc, login = sys.argv[1:9]
now = int(time.time() * 1000)
iso = lambda ms: time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)
GiB = 1 << 30
start = now - 5 * 86400000
n = 40
change_at = now - 2 * 86400000
kernel = "6.1.0-27-amd64"
out = []
for i in range(n):
    ts = start + i * 3 * 3600000 + 17000
    if i == n - 1:
        ts = now - 20 * 60000
    reason, changed = ("start", None) if i == 0 else ("interval", None)
    if k2 and kernel != k2 and ts >= change_at:
        kernel, reason, changed = k2, "change", ["kernel"]
    fs = [{"mount": "/", "source": "/dev/nvme0n1p2", "fstype": "ext4", "total": 240 * GiB,
           "free": (130 - i) * GiB + 123456789, "avail": (118 - i) * GiB + 123456789}]
    if nfs == "2":
        fs.append({"mount": "/home", "source": "/dev/nvme0n1p3", "fstype": "ext4", "total": 700 * GiB,
                   "free": (400 - 2 * i) * GiB, "avail": (365 - 2 * i) * GiB})
    rec = {"type": "sysinfo", "ts": iso(ts), "v": 1, "host_id": host, "user": None, "session": "none",
           "reason": reason, "hostname": hostname,
           "os": {"name": "Debian GNU/Linux", "id": "debian", "version": "12 (bookworm)", "version_id": "12",
                  "pretty_name": "Debian GNU/Linux 12 (bookworm)"},
           "kernel": {"release": kernel, "version": "#1 SMP PREEMPT_DYNAMIC Debian", "arch": "x86_64"},
           "boot_time": iso(start - 3600000),
           "cpu": {"model": "Intel(R) Core(TM) i7-1165G7 @ 2.80GHz", "sockets": 1, "cores": 4, "threads": 8,
                   "online": 8, "load": [0.42, 0.55, 0.61], "usage_pct": round(5 + (i * 37) % 60 + 0.5, 1),
                   "iowait_pct": 0.4, "usage_window_s": 10},
           "memory": {"total": 16 * GiB, "available": (6 + (i * 7) % 8) * GiB + 4096 * i,
                      "swap_total": 2 * GiB, "swap_free": 2 * GiB},
           "filesystems": fs}
    if changed:
        rec["changed"] = changed
    out.append(rec)
for t, ev in ((start, "start"), (now - 3600000, "interval")):
    out.append({"type": "agent", "ts": iso(t), "v": 1, "host_id": host, "user": None, "event": ev, "version": ver,
                "sources": {"input": inp, "input_detail": "", "proc": proc, "proc_detail": ""},
                "drops": {"proc_events": 0, "spool_records": 0, "spool_corrupt": 0, "shots_queue": 0, "shots_failed": 0},
                "shots_queued": 0, "spool": {"bytes": 0, "records": 0}, "records_written": 1000})
if login:
    day = now - 86400000
    base = day - day % 3600000
    for h in range(4):
        s0 = base - (3 - h) * 3600000
        e0 = s0 + 60000
        out.append({"type": "activity", "ts": iso(e0), "v": 1, "host_id": host, "user": login, "start": iso(s0),
                    "end": iso(e0), "interval_s": 60, "keys": 100 + 10 * h, "clicks": 10 + h, "moves": 500,
                    "distance": 4000, "scrolls": 3, "active_s": 40 + h})
    out.append({"type": "app_usage", "ts": iso(base), "v": 1, "host_id": host, "user": login,
                "apps": [{"app": "firefox", "focus_s": 1800}, {"app": "=HYPERLINK(\"x\")", "focus_s": 120},
                         {"app": "code", "focus_s": 900}]})
for r in out:
    print(json.dumps(r))
PY
}
ingest() { # TOKEN BATCH_ID FILE
	gzip -c "$3" >"$T/body.gz"
	ST=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST --max-time 30 -H "Authorization: Bearer $1" \
		-H "X-Batch-Id: $2" -H 'Content-Encoding: gzip' --data-binary @"$T/body.gz" "$SRV_URL/api/v1/ingest")
}
records host-ws042 ws-042 2 6.1.0-28-amd64 0.5.0 evdev netlink alice >"$T/d1.ndjson"
records host-ws043 ws-043 1 "" 0.5.1 bpf bpf "" >"$T/d2.ndjson"
records host-ws100 ws-100 1 "" 0.5.0 evdev netlink "" >"$T/d3.ndjson"
for d in 1 2 3; do
	k=K$d
	ingest "${!k}" "seed-$d" "$T/d$d.ndjson"
	check_eq "seed: machine $d's records accepted whole" "$ST:$(jr .rejected_count):$(jr '.accepted == '"$(wc -l <"$T/d$d.ndjson")")" "200:0:true"
done
api "$A" GET "/api/v1/devices/$D1/sysinfo?from=$(date -u -d '7 days ago' +%Y-%m-%dT%H:%M:%SZ)"
check_eq "seed: the kernel change is in the API's history" "$(jr '[.history[] | select(.reason == "change") | .changed[0]] | join(",")')" kernel
check_eq "seed: the latest kernel and agent" "$(jr '.latest.kernel.release + " " + .agent.version')" "6.1.0-28-amd64 0.5.0"

# --- the browser ---
export ADMIN_EMAIL ADMIN_PW TM TB UA UB UM D1 D2 D3
web_run machines 400
for p in machines machine tokens; do check "a PNG of the $p page" test -s "$T/$p.png"; done
web_keep machines.png machine.png tokens.png

# what the browser did went through the API
echo '{"type":"agent","ts":"2026-01-01T00:00:00.000Z","v":1,"host_id":"host-ws043","user":null}' >"$T/late.ndjson"
ingest "$K2" late-1 "$T/late.ndjson"
check_eq "the machine revoked in the browser: its token is refused" "$ST" 401
ingest "$K1" late-1 "$T/late.ndjson"
check_eq "the other machine still ships" "$ST" 200
api "$A" GET "/api/v1/audit?limit=1000"
check_eq "the revoke is audited with the admin as actor" \
	"$(jq -r '[.entries[] | select(.action == "device.revoke") | "\(.actor_email):\(.target)"] | join(",")' "$T/resp")" \
	"$ADMIN_EMAIL:$D2"
check "the downloads are audited as report exports" \
	jq -e '[.entries[] | select(.action == "report.export")] | length >= 2' "$T/resp"
check_eq "the token made and revoked in the browser is audited" \
	"$(jq -r '[.entries[] | select(.action == "token.create" or .action == "token.revoke") | .action] | join(",")' "$T/resp")" \
	"token.create,token.revoke"

srv_stop
check "the server stops cleanly" test $? = 0
finish
