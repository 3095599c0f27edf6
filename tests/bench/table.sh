#!/usr/bin/env bash
# tests/bench/table.sh RESULTS.JSON - print scripts/bench.sh's results as
# plain-text tables (the sections that are present).
set -euo pipefail
f=$1

jq -r '
def n(x): if x == null then "-" else (x | tostring) end;
def pad(w): tostring | if length >= w then . else . + (" " * (w - length)) end;
def row(cols; widths): [range(0; cols | length) as $i | cols[$i] | pad(widths[$i])] | join("  ");
"actlog benchmarks: \(.generated), \(.mode) run, kernel \(.kernel), \(.cpus) CPUs",
"",
(if .storm then
  (.storm as $s |
   "Exec storm: \($s.rounds) rounds x \($s.execs_per_run) fork+exec+exit of /bin/true, \($s.workers) workers; no agent: \($s.baseline_execs_per_s) execs/s",
   row(["collector", "slowdown (min-max)", "execs/s", "cpu s/10k execs", "bpf us/exec", "events missing", "lost (reported)"]; [18, 20, 8, 16, 12, 15, 15]),
   ($s.configs | to_entries[] | select(.key != "none") | .value as $v |
    row([.key, "\($v.slowdown) (\($v.slowdown_min)-\($v.slowdown_max))", n($v.execs_per_s), n($v.cpu_s_per_10k_execs),
         n($v.bpf_us_per_exec), "\($v.events_missing)/\($v.events_expected)", n($v.lost_reported)]; [18, 20, 8, 16, 12, 15, 15])),
   "")
 else empty end),
(if .idle then
  ("Idle: \(.idle.seconds) s, \(.idle.process_events_during) process events on the machine meanwhile",
   row(["collector", "cpu % of a core", "wake-ups/s", "rss MiB"]; [18, 16, 11, 8]),
   (.idle.configs | to_entries[] | row([.key, n(.value.cpu_pct_of_core), n(.value.wakeups_per_s), n(.value.rss_mib)]; [18, 16, 11, 8])),
   "")
 else empty end),
(if .input then
  ("Input path (QEMU TCG VM, kernel \(.input.kernel // "-")): \(.input.events) input events injected per source",
   row(["source", "agent cpu s/100k events", "bpf ns/event", "counted ok"]; [8, 24, 13, 10]),
   (.input.sources | to_entries[] | row([.key, n(.value.cpu_s_per_100k_events), n(.value.bpf_ns_per_event), n(.value.counts_match)]; [8, 24, 13, 10])),
   "")
 else empty end),
(if .ship then
  ("Spool -> gzip -> HTTP: \(.ship.stored) records in \(.ship.batches) batches, \(.ship.seconds) s: \(.ship.records_per_s) records/s; agent cpu \(.ship.agent_cpu_s_per_10k_records) s per 10k records", "")
 else empty end),
(if .vmstorm then
  (if .vmstorm.error then "VM exec storm (execsnoop): failed: \(.vmstorm.error)" else
   ("VM exec storm (QEMU TCG, kernel \(.vmstorm.kernel // "-")): \(.vmstorm.rounds) rounds x \(.vmstorm.execs_per_run) execs; no agent: \(.vmstorm.baseline_execs_per_s) execs/s",
    row(["collector", "slowdown (min-max)", "cpu s/10k execs", "events missing"]; [18, 20, 16, 15]),
    (.vmstorm.configs | to_entries[] | select(.key != "none") | .value as $v |
     row([.key, "\($v.slowdown) (\($v.slowdown_min)-\($v.slowdown_max))", n($v.cpu_s_per_10k_execs), "\($v.events_missing)/\($v.events_expected)"]; [18, 20, 16, 15])),
    (if .vmstorm.idle then
      ("", "Idle in the VM (nothing else runs there): \(.vmstorm.idle.seconds) s",
       row(["collector", "cpu % of a core", "wake-ups/s", "rss MiB"]; [18, 16, 11, 8]),
       (.vmstorm.idle.configs | to_entries[] | row([.key, n(.value.cpu_pct_of_core), n(.value.wakeups_per_s), n(.value.rss_mib)]; [18, 16, 11, 8])))
     else empty end))
   end, "")
 else empty end),
(if .server then "Server: see build/bench/server.json and docs/perf-server.md" else empty end)
' "$f"
