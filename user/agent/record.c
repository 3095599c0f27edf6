// SPDX-License-Identifier: BSD-2-Clause
#include <cjson/cJSON.h>
#include <stdlib.h>
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

/*
 * A small JSON writer for the process record, the one record built per event
 * (exec and exit): it writes into one buffer, with no tree, no allocation per
 * field and no floating-point formatting, and gives the same document as the
 * cJSON builders do. Callers keep within the buffer's size, which is sized
 * for the longest record (PROC_RECORD_MAX).
 */
struct jw {
	char *p; /* next byte */
	char *end;
	int first;
};

#define PROC_RECORD_MAX 2048

static void jw_raw(struct jw *w, const char *s, size_t n)
{
	if ((size_t)(w->end - w->p) < n) {
		w->p = w->end; /* cannot happen: PROC_RECORD_MAX covers every field */
		return;
	}
	memcpy(w->p, s, n);
	w->p += n;
}

static void jw_key(struct jw *w, const char *k)
{
	if (!w->first)
		jw_raw(w, ",", 1);
	w->first = 0;
	jw_raw(w, "\"", 1);
	jw_raw(w, k, strlen(k));
	jw_raw(w, "\":", 2);
}

/* s as a JSON string: quotes, backslashes and control bytes escaped the way
 * cJSON does (s is valid UTF-8, utf8_clean'ed, or a trusted constant). */
static void jw_str(struct jw *w, const char *k, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;
	char esc[6];

	jw_key(w, k);
	jw_raw(w, "\"", 1);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		size_t n = 2;

		if (ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		jw_raw(w, run, (size_t)(s - run));
		run = s + 1;
		esc[0] = '\\';
		switch (ch) {
		case '"':
		case '\\':
			esc[1] = (char)ch;
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[ch >> 4];
			esc[5] = hex[ch & 15];
			n = 6;
		}
		jw_raw(w, esc, n);
	}
	jw_raw(w, run, (size_t)(s - run));
	jw_raw(w, "\"", 1);
}

static void jw_lit(struct jw *w, const char *k, const char *lit)
{
	jw_key(w, k);
	jw_raw(w, lit, strlen(lit));
}

static void jw_i64(struct jw *w, const char *k, int64_t v)
{
	char buf[24], *q = buf + sizeof(buf);
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	do
		*--q = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--q = '-';
	jw_key(w, k);
	jw_raw(w, q, (size_t)(buf + sizeof(buf) - q));
}

/* ns as seconds, exactly: "2", "0.5", "0.000001234" (no exponent). */
static void jw_ns_as_s(struct jw *w, const char *k, uint64_t ns)
{
	char frac[10];
	uint64_t f = ns % NSEC_PER_SEC;
	int n = 9;

	jw_i64(w, k, (int64_t)(ns / NSEC_PER_SEC));
	if (!f)
		return;
	for (int i = 8; i >= 0; i--, f /= 10)
		frac[i + 1] = (char)('0' + f % 10);
	while (frac[n] == '0')
		n--;
	frac[0] = '.';
	jw_raw(w, frac, (size_t)n + 1);
}

char *record_process(const struct record_ctx *c, const struct proc_record *p,
		     int64_t boot_to_unix_ns)
{
	char buf[PROC_EXE_LEN * 2], ts[RFC3339_LEN];
	int64_t ts_ms = ((int64_t)p->ts_ns + boot_to_unix_ns) / (int64_t)NSEC_PER_MSEC;
	int64_t start_ms = ((int64_t)p->start_ns + boot_to_unix_ns) / (int64_t)NSEC_PER_MSEC;
	int status = p->exit_code;
	char *out = malloc(PROC_RECORD_MAX);
	struct jw w = {.p = out, .end = out + PROC_RECORD_MAX - 2, .first = 1};

	if (!out)
		return NULL;
	jw_raw(&w, "{", 1);
	/* the head, as record_new() writes it */
	jw_str(&w, "type", "process");
	jw_str(&w, "ts", rfc3339_ms(ts_ms, ts));
	jw_i64(&w, "v", RECORD_VERSION);
	jw_str(&w, "host_id", c->host_id ? c->host_id : "");
	if (c->user) {
		jw_str(&w, "user", c->user);
	} else {
		jw_lit(&w, "user", "null");
		if (c->session)
			jw_str(&w, "session", c->session);
	}
	jw_str(&w, "event", p->kind == PROC_EXIT ? "exit" : "exec");
	jw_i64(&w, "pid", p->pid);
	jw_i64(&w, "ppid", p->ppid);
	if (p->uid == PROC_UID_UNKNOWN)
		jw_lit(&w, "uid", "null");
	else
		jw_i64(&w, "uid", p->uid);
	utf8_clean(buf, sizeof(buf), p->comm, sizeof(p->comm));
	if (buf[0])
		jw_str(&w, "comm", buf);
	else
		jw_lit(&w, "comm", "null");
	if (p->kind == PROC_EXEC) {
		if (p->flags & PROC_F_EXE_UNKNOWN) {
			jw_lit(&w, "exe", "null");
		} else {
			utf8_clean(buf, sizeof(buf), p->exe, sizeof(p->exe));
			jw_str(&w, "exe", buf);
		}
		if (p->flags & PROC_F_EXE_TRUNCATED)
			jw_lit(&w, "exe_truncated", "true");
	}
	if (p->start_ns)
		jw_str(&w, "start", rfc3339_ms(start_ms, ts));
	if (p->kind == PROC_EXIT) {
		if (WIFSIGNALED(status)) {
			jw_i64(&w, "exit_code", 128 + WTERMSIG(status));
			jw_i64(&w, "signal", WTERMSIG(status));
			if (WCOREDUMP(status))
				jw_lit(&w, "core_dumped", "true");
		} else {
			jw_i64(&w, "exit_code", WEXITSTATUS(status));
		}
		if (p->flags & PROC_F_CPU_UNKNOWN)
			jw_lit(&w, "cpu_s", "null");
		else
			jw_ns_as_s(&w, "cpu_s", p->cpu_ns);
		if (p->start_ns && p->ts_ns >= p->start_ns)
			jw_ns_as_s(&w, "run_s", p->ts_ns - p->start_ns);
	}
	jw_raw(&w, "}", 1);
	*w.p = '\0';
	return out;
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
	cJSON_AddNumberToObject(drops, "shots_queue", (double)a->shots_dropped);
	cJSON_AddNumberToObject(drops, "shots_failed", (double)a->shots_failed);
	cJSON_AddNumberToObject(o, "shots_queued", (double)a->shots_queued);
	cJSON_AddNumberToObject(spool, "bytes", (double)a->spool_bytes);
	cJSON_AddNumberToObject(spool, "records", (double)a->spool_records);
	cJSON_AddNumberToObject(o, "records_written", (double)a->records_written);
	return record_finish(o);
}
