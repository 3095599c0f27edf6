// SPDX-License-Identifier: BSD-2-Clause
#include <cjson/cJSON.h>
#include <string.h>
#include <sys/wait.h>

#include "record.h"
#include "util.h"

/* The common head of every record: type, ts, v, host_id, user[, session]. */
cJSON *record_new(const struct record_ctx *c, const char *type, int64_t ts_ms)
{
	char ts[RFC3339_LEN];
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "type", type);
	cJSON_AddStringToObject(o, "ts", rfc3339_ms(ts_ms, ts));
	cJSON_AddNumberToObject(o, "v", RECORD_VERSION);
	cJSON_AddStringToObject(o, "host_id", c->host_id ? c->host_id : "");
	if (c->user) {
		cJSON_AddStringToObject(o, "user", c->user);
	} else {
		cJSON_AddNullToObject(o, "user");
		if (c->session)
			cJSON_AddStringToObject(o, "session", c->session);
	}
	return o;
}

/* Serialise and free o. NULL when any allocation along the way failed. */
char *record_finish(cJSON *o)
{
	char *s = NULL;

	if (o)
		s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static void add_counts(cJSON *o, const struct input_counts *k, int with_distance)
{
	cJSON_AddNumberToObject(o, "keys", (double)k->keys);
	cJSON_AddNumberToObject(o, "clicks", (double)k->clicks);
	cJSON_AddNumberToObject(o, "moves", (double)k->moves);
	if (with_distance)
		cJSON_AddNumberToObject(o, "distance", (double)k->distance);
	cJSON_AddNumberToObject(o, "scrolls", (double)k->scrolls);
}

char *record_activity(const struct record_ctx *c, int64_t start_ms, int64_t end_ms,
		      uint32_t interval_s, const struct interval_counts *ic)
{
	char ts[RFC3339_LEN];
	cJSON *o = record_new(c, "activity", end_ms), *syn;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "start", rfc3339_ms(start_ms, ts));
	cJSON_AddStringToObject(o, "end", rfc3339_ms(end_ms, ts));
	cJSON_AddNumberToObject(o, "interval_s", interval_s);
	add_counts(o, &ic->all, 1);
	cJSON_AddNumberToObject(o, "active_s", ic->active_s);
	cJSON_AddBoolToObject(o, "idle", ic->idle);
	syn = cJSON_AddObjectToObject(o, "synthetic");
	if (!syn) {
		cJSON_Delete(o);
		return NULL;
	}
	add_counts(syn, &ic->synthetic, 1);
	cJSON_AddNumberToObject(syn, "active_s", ic->synthetic_active_s);
	return record_finish(o);
}

char *record_process(const struct record_ctx *c, const struct proc_record *p,
		     int64_t boot_to_unix_ns)
{
	char buf[PROC_EXE_LEN * 2], ts[RFC3339_LEN];
	int64_t ts_ms = ((int64_t)p->ts_ns + boot_to_unix_ns) / (int64_t)NSEC_PER_MSEC;
	int64_t start_ms = ((int64_t)p->start_ns + boot_to_unix_ns) / (int64_t)NSEC_PER_MSEC;
	int status = p->exit_code;
	cJSON *o;

	o = record_new(c, "process", ts_ms);
	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "event", p->kind == PROC_EXIT ? "exit" : "exec");
	cJSON_AddNumberToObject(o, "pid", p->pid);
	cJSON_AddNumberToObject(o, "ppid", p->ppid);
	if (p->uid == PROC_UID_UNKNOWN)
		cJSON_AddNullToObject(o, "uid");
	else
		cJSON_AddNumberToObject(o, "uid", p->uid);
	utf8_clean(buf, sizeof(buf), p->comm, sizeof(p->comm));
	if (buf[0])
		cJSON_AddStringToObject(o, "comm", buf);
	else
		cJSON_AddNullToObject(o, "comm");
	if (p->kind == PROC_EXEC) {
		if (p->flags & PROC_F_EXE_UNKNOWN) {
			cJSON_AddNullToObject(o, "exe");
		} else {
			utf8_clean(buf, sizeof(buf), p->exe, sizeof(p->exe));
			cJSON_AddStringToObject(o, "exe", buf);
		}
		if (p->flags & PROC_F_EXE_TRUNCATED)
			cJSON_AddTrueToObject(o, "exe_truncated");
	}
	if (p->start_ns)
		cJSON_AddStringToObject(o, "start", rfc3339_ms(start_ms, ts));
	if (p->kind == PROC_EXIT) {
		if (WIFSIGNALED(status)) {
			cJSON_AddNumberToObject(o, "exit_code", 128 + WTERMSIG(status));
			cJSON_AddNumberToObject(o, "signal", WTERMSIG(status));
			if (WCOREDUMP(status))
				cJSON_AddTrueToObject(o, "core_dumped");
		} else {
			cJSON_AddNumberToObject(o, "exit_code", WEXITSTATUS(status));
		}
		if (p->flags & PROC_F_CPU_UNKNOWN)
			cJSON_AddNullToObject(o, "cpu_s");
		else
			cJSON_AddNumberToObject(o, "cpu_s", (double)p->cpu_ns / 1e9);
		if (p->start_ns && p->ts_ns >= p->start_ns)
			cJSON_AddNumberToObject(o, "run_s", (double)(p->ts_ns - p->start_ns) / 1e9);
	}
	return record_finish(o);
}

char *record_agent(const struct record_ctx *c, int64_t ts_ms, const struct agent_info *a)
{
	cJSON *o = record_new(c, "agent", ts_ms), *src, *drops, *spool;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "event", a->event);
	cJSON_AddStringToObject(o, "version", a->version);
	src = cJSON_AddObjectToObject(o, "sources");
	drops = cJSON_AddObjectToObject(o, "drops");
	spool = cJSON_AddObjectToObject(o, "spool");
	if (!src || !drops || !spool) {
		cJSON_Delete(o);
		return NULL;
	}
	cJSON_AddStringToObject(src, "input", a->input_source);
	cJSON_AddStringToObject(src, "input_detail", a->input_detail ? a->input_detail : "");
	cJSON_AddStringToObject(src, "proc", a->proc_source);
	cJSON_AddStringToObject(src, "proc_detail", a->proc_detail ? a->proc_detail : "");
	cJSON_AddNumberToObject(drops, "proc_events", (double)a->proc_drops);
	cJSON_AddNumberToObject(drops, "spool_records", (double)a->spool_dropped);
	cJSON_AddNumberToObject(drops, "spool_corrupt", (double)a->spool_corrupt);
	cJSON_AddNumberToObject(spool, "bytes", (double)a->spool_bytes);
	cJSON_AddNumberToObject(spool, "records", (double)a->spool_records);
	cJSON_AddNumberToObject(o, "records_written", (double)a->records_written);
	return record_finish(o);
}
