#!/usr/bin/env bash
# tests/web.sh - the dashboard tests' side of a browser run: sourced after
# tests/lib.sh by tests/integration/test_web*.sh. The tests seed a real
# server, then run a script of tests/web/ (playwright-core driving Debian's
# Chromium, tests/web/lib.mjs) whose assertions come back as PASS/FAIL lines.
#   web_need                 fail (and finish) without playwright-core or Chromium
#   web_run SCRIPT SECS [TAG]  run tests/web/SCRIPT.mjs (at most SECS seconds) with
#                            WEB_URL=$SRV_URL WEB_OUT=$T and the caller's exported
#                            variables; print its results.json; check its exit status
#                            (its log: $T/browser[-TAG].log)
#   web_keep NAME...         copy the test's pictures ($T/NAME, globs too: '*.png') to
#                            $WEB_SHOT_DIR when set (make screenshots)
WEB_NODE_DIR=${ACTLOG_NODE_DIR:-/opt/actlog-test}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

web_need() {
	need node
	need jq
	[ -d "$WEB_NODE_DIR/node_modules/playwright-core" ] ||
		{ fail "missing playwright-core in $WEB_NODE_DIR (scripts/deps.sh installs it)"; finish; }
	[ -x "$CHROMIUM" ] || { fail "missing $CHROMIUM (scripts/deps.sh installs chromium)"; finish; }
}

web_run() { # SCRIPT SECS [TAG]
	local log="$T/browser${3:+-$3}.log" rc ok name detail
	rm -f "$T/results.json"
	WEB_URL=$SRV_URL WEB_OUT=$T CHROMIUM=$CHROMIUM ACTLOG_NODE_DIR=$WEB_NODE_DIR \
		timeout "$2" node "$ROOT/tests/web/$1.mjs" >"$log" 2>&1
	rc=$?
	if [ -f "$T/results.json" ]; then
		while IFS=$'\t' read -r ok name detail; do
			if [ "$ok" = true ]; then pass "$name"; else fail "$name ($detail)"; fi
		done < <(jq -r '.[] | [(.ok|tostring), .name, (.detail // "")] | @tsv' "$T/results.json")
	fi
	check_eq "the browser run${3:+ ($3)} finished (exit status; log: $(tail -c 600 "$log" | tr '\n' ' '))" "$rc" 0
}

web_keep() { # NAME...
	local n f
	[ -n "${WEB_SHOT_DIR:-}" ] || return 0
	for n in "$@"; do
		for f in "$T"/$n; do
			[ -f "$f" ] && cp "$f" "$WEB_SHOT_DIR"/
		done
	done
	return 0
}
