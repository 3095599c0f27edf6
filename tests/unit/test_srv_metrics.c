// SPDX-License-Identifier: BSD-2-Clause
/* test_srv_metrics.c - core/metrics.c: values and their Prometheus text. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/metrics.h"

TEST(add_set_get_reset)
{
	metrics_reset();
	CHECK_EQ(metrics_get(METRIC_START_TIME), 0);
	metrics_set(METRIC_START_TIME, 1700000000);
	CHECK_EQ(metrics_get(METRIC_START_TIME), 1700000000);
	metrics_add(METRIC_START_TIME, 5);
	CHECK_EQ(metrics_get(METRIC_START_TIME), 1700000005);
	/* out of range: ignored, reads 0 */
	metrics_add(METRIC__COUNT, 1);
	metrics_set((enum metric) - 1, 1);
	CHECK_EQ(metrics_get(METRIC__COUNT), 0);
	metrics_reset();
	CHECK_EQ(metrics_get(METRIC_START_TIME), 0);
}

TEST(render_text)
{
	char *t = NULL;
	size_t n = 0;

	metrics_reset();
	metrics_set(METRIC_START_TIME, 42);
	CHECK_EQ(metrics_render(&t, &n), 0);
	CHECK(t != NULL);
	CHECK_EQ(n, strlen(t));
	CHECK(strstr(t, "# HELP actlog_server_start_time_seconds ") != NULL);
	CHECK(strstr(t, "# TYPE actlog_server_start_time_seconds gauge\n") != NULL);
	CHECK(strstr(t, "\nactlog_server_start_time_seconds 42\n") != NULL);
	/* every line ends with a newline, the text too */
	CHECK(n > 0 && t[n - 1] == '\n');
	free(t);
}

int main(void)
{
	RUN(add_set_get_reset);
	RUN(render_text);
	return CHECK_DONE();
}
