// SPDX-License-Identifier: BSD-2-Clause
/*
 * app_usage.c - the app_usage record builder (see app_usage.h).
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "app_usage.h"
#include "util.h"

char *record_app_usage(const struct record_ctx *c, const struct app_usage *u)
{
	char ts[RFC3339_LEN], buf[PROC_EXE_LEN * 2];
	cJSON *o = record_new(c, "app_usage", u->end_ms), *arr, *e;
	size_t i;

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "start", rfc3339_ms(u->start_ms, ts));
	cJSON_AddStringToObject(o, "end", rfc3339_ms(u->end_ms, ts));
	cJSON_AddNumberToObject(o, "interval_s", u->interval_s);
	if (u->source)
		cJSON_AddStringToObject(o, "source", u->source);
	else
		cJSON_AddNullToObject(o, "source");
	arr = cJSON_AddArrayToObject(o, "apps");
	for (i = 0; arr && i < u->n_apps; i++) {
		e = cJSON_CreateObject();
		utf8_clean(buf, FOCUS_APP_LEN, u->apps[i].app, strlen(u->apps[i].app));
		cJSON_AddStringToObject(e, "app", buf);
		cJSON_AddNumberToObject(e, "focus_s", u->apps[i].focus_s);
		cJSON_AddItemToArray(arr, e);
	}
	cJSON_AddNumberToObject(o, "unknown_s", u->unknown_s);
	if (u->titles) {
		arr = cJSON_AddArrayToObject(o, "titles");
		for (i = 0; arr && i < u->n_titles; i++) {
			e = cJSON_CreateObject();
			utf8_clean(buf, FOCUS_APP_LEN, u->titles[i].app, strlen(u->titles[i].app));
			cJSON_AddStringToObject(e, "app", buf);
			utf8_clean(buf, FOCUS_TITLE_LEN, u->titles[i].title,
				   strlen(u->titles[i].title));
			cJSON_AddStringToObject(e, "title", buf);
			cJSON_AddNumberToObject(e, "focus_s", u->titles[i].focus_s);
			cJSON_AddItemToArray(arr, e);
		}
	}
	arr = cJSON_AddArrayToObject(o, "top_cpu");
	for (i = 0; arr && i < u->n_top; i++) {
		const struct app_cpu *p = &u->top[i];

		e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "pid", p->pid);
		if (p->uid == PROC_UID_UNKNOWN)
			cJSON_AddNullToObject(e, "uid");
		else
			cJSON_AddNumberToObject(e, "uid", p->uid);
		utf8_clean(buf, FOCUS_APP_LEN, p->app ? p->app : "?",
			   strlen(p->app ? p->app : "?"));
		cJSON_AddStringToObject(e, "app", buf);
		if (p->exe) {
			utf8_clean(buf, sizeof(buf), p->exe, strlen(p->exe));
			cJSON_AddStringToObject(e, "exe", buf);
		} else {
			cJSON_AddNullToObject(e, "exe");
		}
		cJSON_AddNumberToObject(e, "cpu_s", p->cpu_s);
		cJSON_AddItemToArray(arr, e);
	}
	return record_finish(o);
}
