// SPDX-License-Identifier: BSD-2-Clause
/*
 * The screenshot queue's settings (shot_queue_max, shot_queue_max_mb: the
 * defaults, the range, a clear error) and the agent record's screenshot
 * counters (drops.shots_queue, drops.shots_failed, shots_queued).
 */
#include <cjson/cJSON.h>

#include "check.h"
#include "conf.h"
#include "record.h"

TEST(queue_settings)
{
	struct agent_conf c;
	char err[256] = "";
	const char *file = "shot_queue_max = 5\nshot_queue_max_mb = 64\n";

	conf_defaults(&c);
	CHECK_EQ(c.shot_queue_max, 200);
	CHECK_EQ(c.shot_queue_max_mb, 256);
	CHECK_EQ(conf_parse(&c, file, strlen(file), err, sizeof(err)), 0);
	CHECK_EQ(c.shot_queue_max, 5);
	CHECK_EQ(c.shot_queue_max_mb, 64);
	CHECK(conf_set(&c, "shot_queue_max", "0", err, sizeof(err)) < 0);
	CHECK(strstr(err, "shot_queue_max") != NULL);
	CHECK(conf_set(&c, "shot_queue_max_mb", "10001", err, sizeof(err)) < 0);
	CHECK(conf_set(&c, "shot_queue_max", "many", err, sizeof(err)) < 0);
	CHECK_EQ(c.shot_queue_max, 5); /* a bad value keeps the setting */
	CHECK_EQ(c.shot_queue_max_mb, 64);
	CHECK_EQ(conf_set(&c, "shot_queue_max", "10000", err, sizeof(err)), 0);
	CHECK_EQ(c.shot_queue_max, 10000);
}

TEST(agent_record_counts_shots)
{
	struct record_ctx ctx = {.host_id = "0123456789abcdef0123456789abcdef", .user = "alice"};
	struct agent_info ai = {.event = "interval",
				.version = "t",
				.input_source = "none",
				.proc_source = "none",
				.shots_dropped = 3,
				.shots_failed = 1,
				.shots_queued = 7};
	char *s = record_agent(&ctx, 1000, &ai);
	cJSON *j = s ? cJSON_Parse(s) : NULL, *drops = cJSON_GetObjectItem(j, "drops");

	CHECK(j != NULL);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "type")), "agent");
	CHECK_EQ(cJSON_GetNumberValue(cJSON_GetObjectItem(drops, "shots_queue")), 3);
	CHECK_EQ(cJSON_GetNumberValue(cJSON_GetObjectItem(drops, "shots_failed")), 1);
	CHECK_EQ(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "shots_queued")), 7);
	cJSON_Delete(j);
	free(s);
}

int main(void)
{
	RUN(queue_settings);
	RUN(agent_record_counts_shots);
	return CHECK_DONE();
}
