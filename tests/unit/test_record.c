// SPDX-License-Identifier: BSD-2-Clause
/*
 * The process record is written without cJSON (user/agent/record.c's small
 * writer): it must still parse, escape what JSON needs escaped, and give
 * exact seconds; and rfc3339_ms() keeps its result across calls in one second.
 */
#include <cjson/cJSON.h>
#include <sys/wait.h>

#include "check.h"
#include "record.h"
#include "util.h"

static struct proc_record base(void)
{
	struct proc_record p;

	memset(&p, 0, sizeof(p));
	p.kind = PROC_EXIT;
	p.pid = 4242;
	p.ppid = 1;
	p.uid = 0;
	p.start_ns = 5 * NSEC_PER_SEC;
	p.ts_ns = 7 * NSEC_PER_SEC + 250 * NSEC_PER_MSEC;
	return p;
}

TEST(strings_are_escaped)
{
	struct record_ctx ctx = {.host_id = "0123456789abcdef0123456789abcdef", .user = "a\"b\\c"};
	struct proc_record p = base();
	cJSON *j;
	char *s;

	p.kind = PROC_EXEC;
	memcpy(p.comm, "t\tab\"q\\", 8);
	strcpy(p.exe, "/bin/\x01x\x7f\xc3\xa9");
	s = record_process(&ctx, &p, 0);
	CHECK(s != NULL);
	CHECK(strstr(s, "\\t") != NULL); /* a tab is kept, escaped */
	j = cJSON_Parse(s);
	CHECK(j != NULL);
	CHECK_STR(cJSON_GetObjectItem(j, "comm")->valuestring, "t\tab\"q\\");
	CHECK_STR(cJSON_GetObjectItem(j, "exe")->valuestring, "/bin/?x?\xc3\xa9");
	CHECK_STR(cJSON_GetObjectItem(j, "user")->valuestring, "a\"b\\c");
	CHECK(cJSON_GetObjectItem(j, "session") == NULL);
	CHECK_STR(cJSON_GetObjectItem(j, "type")->valuestring, "process");
	CHECK_EQ(cJSON_GetObjectItem(j, "v")->valuedouble, RECORD_VERSION);
	CHECK_EQ(cJSON_GetObjectItem(j, "pid")->valuedouble, 4242);
	CHECK_STR(cJSON_GetObjectItem(j, "ts")->valuestring, "1970-01-01T00:00:07.250Z");
	CHECK_STR(cJSON_GetObjectItem(j, "start")->valuestring, "1970-01-01T00:00:05.000Z");
	cJSON_Delete(j);
	free(s);
}

TEST(nulls_and_flags)
{
	struct record_ctx ctx = {.host_id = "h", .session = "unknown"};
	struct proc_record p = base();
	cJSON *j;
	char *s;

	p.kind = PROC_EXEC;
	p.uid = PROC_UID_UNKNOWN;
	p.flags = PROC_F_EXE_UNKNOWN | PROC_F_EXE_TRUNCATED;
	s = record_process(&ctx, &p, 0);
	j = cJSON_Parse(s);
	CHECK(j != NULL);
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "user")));
	CHECK_STR(cJSON_GetObjectItem(j, "session")->valuestring, "unknown");
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "uid")));
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "comm")));
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "exe")));
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(j, "exe_truncated")));
	cJSON_Delete(j);
	free(s);

	p = base();
	p.flags = PROC_F_CPU_UNKNOWN;
	p.exit_code = SIGSEGV | 0x80; /* killed, core dumped */
	s = record_process(&ctx, &p, 0);
	j = cJSON_Parse(s);
	CHECK(j != NULL);
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "cpu_s")));
	CHECK_EQ(cJSON_GetObjectItem(j, "exit_code")->valuedouble, 128 + SIGSEGV);
	CHECK_EQ(cJSON_GetObjectItem(j, "signal")->valuedouble, SIGSEGV);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(j, "core_dumped")));
	CHECK(cJSON_GetObjectItem(j, "exe") == NULL);
	cJSON_Delete(j);
	free(s);
}

TEST(seconds_are_exact)
{
	struct record_ctx ctx = {.host_id = "h"};
	struct proc_record p = base();
	cJSON *j;
	char *s;

	p.cpu_ns = 1234567891ULL;
	s = record_process(&ctx, &p, 0);
	CHECK(strstr(s, "\"cpu_s\":1.234567891,") != NULL);
	CHECK(strstr(s, "\"run_s\":2.25}") != NULL);
	free(s);
	p.cpu_ns = 1000;
	p.start_ns = p.ts_ns;
	s = record_process(&ctx, &p, 0);
	CHECK(strstr(s, "\"cpu_s\":0.000001,") != NULL);
	CHECK(strstr(s, "\"run_s\":0}") != NULL);
	j = cJSON_Parse(s);
	CHECK(j != NULL);
	CHECK(cJSON_GetObjectItem(j, "cpu_s")->valuedouble == 0.000001);
	cJSON_Delete(j);
	free(s);
	/* a big pid and a negative offset still format */
	p.pid = 4294967295U;
	s = record_process(&ctx, &p, -(int64_t)NSEC_PER_SEC);
	j = cJSON_Parse(s);
	CHECK(j != NULL);
	CHECK_EQ(cJSON_GetObjectItem(j, "pid")->valuedouble, 4294967295.0);
	CHECK_STR(cJSON_GetObjectItem(j, "ts")->valuestring, "1970-01-01T00:00:06.250Z");
	cJSON_Delete(j);
	free(s);
}

TEST(rfc3339_within_and_across_seconds)
{
	char a[RFC3339_LEN], b[RFC3339_LEN];

	CHECK_STR(rfc3339_ms(1764374400001LL, a), "2025-11-29T00:00:00.001Z");
	CHECK_STR(rfc3339_ms(1764374400999LL, b), "2025-11-29T00:00:00.999Z");
	CHECK_STR(rfc3339_ms(1764374401000LL, a), "2025-11-29T00:00:01.000Z");
	CHECK_STR(rfc3339_ms(1764374400999LL, b), "2025-11-29T00:00:00.999Z");
	CHECK_STR(rfc3339_ms(-1, a), "1969-12-31T23:59:59.999Z");
}

int main(void)
{
	RUN(strings_are_escaped);
	RUN(nulls_and_flags);
	RUN(seconds_are_exact);
	RUN(rfc3339_within_and_across_seconds);
	return CHECK_DONE();
}
