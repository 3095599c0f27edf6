#!/usr/bin/env bash
# scripts/demo.sh - `make demo`: install what is needed, build, start
# actlog-server on LMDB (build/demo/server) and an enrolled agent that ships
# to it, make some activity, and print the dashboard's URL and the sign-in.
# Both keep running; `make demo-stop` (or scripts/demo.sh stop) ends them.
# It also loads a week of sample activity of a small organisation
# (build/actlog-sample, through the API; again on each run: nothing doubles).
#   DEMO_PORT   server port on 127.0.0.1 (default 8080)
#   DEMO_SAMPLE 0: no sample organisation (default 1)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEMO=$ROOT/build/demo
SOCK=$DEMO/actlogd.sock
PORT=${DEMO_PORT:-8080}
URL=http://127.0.0.1:$PORT
EMAIL=admin@example.com

stop_pid() { # FILE NAME
	if [ -f "$1" ] && kill -TERM "$(cat "$1")" 2>/dev/null; then
		echo "demo $2 stopped"
	fi
	rm -f "$1"
}
if [ "${1:-}" = stop ]; then
	stop_pid "$DEMO/actlogd.pid" agent
	stop_pid "$DEMO/server.pid" server
	echo "state stays in $DEMO (remove it for a fresh demo)"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "make demo loads BPF programs and must run as root (sudo make demo)" >&2
	exit 1
fi
scripts/deps.sh --build-only
command -v jq >/dev/null && command -v curl >/dev/null || apt-get install -y -q jq curl >/dev/null
make -j"$(nproc)" all >/dev/null
mkdir -p "$DEMO"
chmod 700 "$DEMO"

# --- server ---
if [ ! -f "$DEMO/server/data.mdb" ]; then
	(umask 077 && head -c 12 /dev/urandom | base64 | tr -d '/+=' >"$DEMO/admin-password")
	build/actlog-server init --data-dir "$DEMO/server" --admin-email "$EMAIL" \
		--admin-password-file "$DEMO/admin-password" --business "Demo Inc"
fi
if [ -f "$DEMO/server.pid" ] && kill -0 "$(cat "$DEMO/server.pid")" 2>/dev/null; then
	echo "the demo server is already running (pid $(cat "$DEMO/server.pid"))"
else
	build/actlog-server serve --data-dir "$DEMO/server" --listen "127.0.0.1:$PORT" \
		--web-root "$ROOT/web" >>"$DEMO/server.log" 2>&1 &
	echo $! >"$DEMO/server.pid"
	for _ in $(seq 50); do curl -s -o /dev/null "$URL/api/v1/me" && break; sleep 0.1; done
fi
PW=$(cat "$DEMO/admin-password")
api() { # METHOD PATH [JSON]
	curl -sf -X "$1" -H "Authorization: Bearer $TOKEN" ${3:+-H 'Content-Type: application/json' --data-binary "$3"} "$URL$2"
}
TOKEN=$(curl -sf -X POST "$URL/api/v1/auth/login" \
	--data-binary "$(jq -nc --arg e "$EMAIL" --arg p "$PW" '{email:$e,password:$p}')" | jq -r .token)

# --- organisation and enrollment (first run only) ---
# an enrollment made for another server (another DEMO_PORT, or a store made
# again) is redone
if [ -f "$DEMO/state/device.json" ]; then
	OLD_URL=$(jq -r .server "$DEMO/state/device.json")
	OLD_DEV=$(jq -r .device_id "$DEMO/state/device.json")
	if [ "$OLD_URL" != "$URL" ] || ! api GET "/api/v1/devices/$OLD_DEV" >/dev/null; then
		echo "the demo agent was enrolled with another server ($OLD_URL); enrolling it again"
		rm -f "$DEMO/state/device.json"
	fi
fi
if [ ! -f "$DEMO/state/device.json" ]; then
	# the tree and the user are made once per store (ids kept in org.json)
	if [ -f "$DEMO/org.json" ] && api GET "/api/v1/nodes/$(jq -r .team "$DEMO/org.json")" >/dev/null; then
		TM=$(jq -r .team "$DEMO/org.json")
		U=$(jq -r .user "$DEMO/org.json")
	else
		B=$(api GET /api/v1/nodes/root/children | jq -r '.children[0].id')
		D=$(api POST /api/v1/nodes "{\"type\":\"domain\",\"name\":\"Engineering\",\"parent_id\":\"$B\"}" | jq -r .id)
		P=$(api POST /api/v1/nodes "{\"type\":\"project\",\"name\":\"Platform\",\"parent_id\":\"$D\"}" | jq -r .id)
		TM=$(api POST /api/v1/nodes "{\"type\":\"team\",\"name\":\"Desktops\",\"parent_id\":\"$P\"}" | jq -r .id)
		LOGIN=${SUDO_USER:-$(logname 2>/dev/null || echo demo)}
		[ "$LOGIN" = root ] && LOGIN=demo
		U=$(api POST /api/v1/users "$(jq -nc --arg l "$LOGIN" --arg t "$TM" \
			'{email:($l+"@example.com"),name:$l,login:$l,password:"demo-password",team_id:$t}')" | jq -r .id)
		jq -n --arg t "$TM" --arg u "$U" '{team:$t,user:$u}' >"$DEMO/org.json"
	fi
	SECRET=$(api POST "/api/v1/nodes/$TM/enrollment-secrets" '{}' | jq -r .secret)
	mkdir -p "$DEMO/state"
	build/actlogd enroll --server "$URL" --secret "$SECRET" --state-dir "$DEMO/state"
	DEV=$(jq -r .device_id "$DEMO/state/device.json")
	# a store that knew this machine already makes the new device pending:
	# the demo's admin confirms its own agent (a no-op otherwise)
	api POST "/api/v1/devices/$DEV/confirm" >/dev/null
	api PUT "/api/v1/devices/$DEV" "{\"owner_id\":\"$U\"}" >/dev/null
fi

# --- sample organisation: a week of activity (idempotent: the same batch ids
# each run, so a run adds only the hours since the last one) ---
SAMPLE_MSG="  Sample:    none (DEMO_SAMPLE=0)"
if [ "${DEMO_SAMPLE:-1}" != 0 ]; then
	echo "loading a week of sample activity (DEMO_SAMPLE=0 make demo to skip it)"
	if build/actlog-sample --url "$URL" --email "$EMAIL" --password-file "$DEMO/admin-password" \
		--state "$DEMO/sample.json" --days 7 --json >"$DEMO/sample-summary.json" 2>"$DEMO/sample.log"; then
		SAMPLE_MSG=$(jq -r --arg pw "$(jq -r '.people_password // "unknown (made by an earlier run)"' "$DEMO/sample.json")" '
			"  Sample:    \(.people) people in \(.teams) teams, \(.accepted) records of the last 7 days " +
			"(\(.records.activity) activity, \(.records.app_usage) app_usage, \(.records.process) process, " +
			"\(.records.sysinfo) sysinfo; loaded in \(.seconds | floor) s)\n" +
			"  A manager: \(.manager_email)  password \($pw)  (sees only their team)"' \
			"$DEMO/sample-summary.json")
	else
		SAMPLE_MSG="  Sample:    loading failed (see $DEMO/sample.log)"
		tail -3 "$DEMO/sample.log" >&2
	fi
fi

# --- agent ---
if [ -f "$DEMO/actlogd.pid" ] && kill -0 "$(cat "$DEMO/actlogd.pid")" 2>/dev/null; then
	echo "a demo agent is already running (pid $(cat "$DEMO/actlogd.pid"))"
else
	printf 'policy_poll_s = 10\nbackoff_max_s = 10\n' >"$DEMO/actlogd.conf"
	build/actlogd --foreground --config "$DEMO/actlogd.conf" --state-dir "$DEMO/state" \
		--socket "$SOCK" --interval 10 >"$DEMO/actlogd.log" 2>&1 &
	echo $! >"$DEMO/actlogd.pid"
	for _ in $(seq 50); do build/actlogctl --socket "$SOCK" status --json >/dev/null 2>&1 && break; sleep 0.1; done
fi
# a little activity for the agent to record
for _ in 1 2 3; do /bin/true; ls / >/dev/null; done
sleep 2
echo
build/actlogctl --socket "$SOCK" status
DEV=$(jq -r .device_id "$DEMO/state/device.json")
cat <<MSG

actlog is running: actlog-server on LMDB ($DEMO/server) and an enrolled agent.

  Dashboard: $URL/  (open it in a browser and sign in)
  API:       $URL/api/v1  (docs/API.md)
  Sign in:   $EMAIL
  Password:  $PW   (also in $DEMO/admin-password)
$SAMPLE_MSG

Try the API (docs/API.md):
  TOKEN=\$(curl -s -X POST $URL/api/v1/auth/login -d '{"email":"$EMAIL","password":"$PW"}' | jq -r .token)
  curl -s -H "Authorization: Bearer \$TOKEN" $URL/api/v1/devices | jq
  curl -s -H "Authorization: Bearer \$TOKEN" "$URL/api/v1/devices/$DEV/processes?limit=5" | jq
  build/actlogctl --socket $SOCK top
Stop both with: make demo-stop
MSG
