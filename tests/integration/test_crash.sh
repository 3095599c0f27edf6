#!/usr/bin/env bash
# Crash safety: kill -9 actlogd while it writes records, restart it; the spool
# reads cleanly and every record written before the kill is there exactly
# once. Then a torn tail (a crash in the middle of a frame, as after a power
# cut) is truncated on the next start and nothing before it is lost.
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/agent.sh"
need jq

d=$T/a
agent_start "$d" --proc-source auto --input-source none || { fail "actlogd starts"; finish; }

# an exec storm in the background keeps actlogd writing
( for i in $(seq 1 3000); do /bin/true; done ) &
storm=$!
sleep 1
spool_dump "$d" >"$d/before.ndjson"
kill -9 "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
wait $storm
before=$(wc -l <"$d/before.ndjson")
check "records were being written when killed ($before)" test "$before" -gt 100

agent_start "$d" --proc-source auto --input-source none || { fail "actlogd restarts"; finish; }
/bin/true
sleep 0.3
agent_stop
check_eq "actlogd exits 0 after the restart" "$?" 0
spool_dump "$d" >"$d/after.ndjson"
check "every line of the dump is JSON" jq -e . "$d/after.ndjson" >/dev/null
check "records from before the kill are all there, in order" \
	cmp -s "$d/before.ndjson" <(head -n "$before" "$d/after.ndjson")
dups=$(sort "$d/after.ndjson" | uniq -d | wc -l)
check_eq "no record appears twice" "$dups" 0
starts=$(jq -r 'select(.type=="agent" and .event=="start") | .event' "$d/after.ndjson" | wc -l)
check_eq "two agent starts in the spool" "$starts" 2

# torn tail: cut the last segment in the middle of its last frame
total=$(wc -l <"$d/after.ndjson")
last=$(ls "$d/state/spool/"*.seg | tail -n 1)
size=$(stat -c %s "$last")
truncate -s $((size - 7)) "$last"
agent_start "$d" --proc-source none --input-source none || { fail "actlogd starts on a torn spool"; finish; }
agent_stop
spool_dump "$d" >"$d/torn.ndjson"
check "the torn dump is JSON" jq -e . "$d/torn.ndjson" >/dev/null
check "all records before the torn one survive" \
	cmp -s <(head -n $((total - 1)) "$d/after.ndjson") <(head -n $((total - 1)) "$d/torn.ndjson")
check_eq "the torn record is gone; the restart's records follow" \
	"$(tail -n +"$total" "$d/torn.ndjson" | jq -r 'select(.type == "agent" or .type == "sysinfo") | .type + ":" + (.event // .reason)' | paste -sd,)" \
	"agent:start,sysinfo:start,agent:stop"
check "actlogd logged the truncation" grep -qi "trunc" "$d/actlogd.log"
finish
