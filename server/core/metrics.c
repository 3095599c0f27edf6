// SPDX-License-Identifier: BSD-2-Clause
/*
 * metrics.c - the counters and gauges of metrics.h and their Prometheus text.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"

struct metric_def {
	enum metric_type type;
	const char *name, *labels, *help;
};

static const struct metric_def defs[METRIC__COUNT] = {
#define METRIC_DEF_(id, type, name, labels, help)                                                  \
	[METRIC_##id] = {METRIC_##type, name, labels, help},
    METRICS(METRIC_DEF_)
#undef METRIC_DEF_
};

static int64_t values[METRIC__COUNT];

void metrics_add(enum metric m, uint64_t n)
{
	if ((unsigned)m < METRIC__COUNT)
		__atomic_add_fetch(&values[m], (int64_t)n, __ATOMIC_RELAXED);
}

void metrics_set(enum metric m, int64_t v)
{
	if ((unsigned)m < METRIC__COUNT)
		__atomic_store_n(&values[m], v, __ATOMIC_RELAXED);
}

int64_t metrics_get(enum metric m)
{
	return (unsigned)m < METRIC__COUNT ? __atomic_load_n(&values[m], __ATOMIC_RELAXED) : 0;
}

void metrics_reset(void)
{
	for (size_t i = 0; i < METRIC__COUNT; i++)
		__atomic_store_n(&values[i], 0, __ATOMIC_RELAXED);
}

int metrics_render(char **out, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	*out = NULL;
	*len = 0;
	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < METRIC__COUNT; i++) {
		const struct metric_def *d = &defs[i];

		if (!i || strcmp(defs[i - 1].name, d->name))
			fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", d->name, d->help, d->name,
				d->type == METRIC_COUNTER ? "counter" : "gauge");
		fprintf(f, "%s%s%s%s %" PRId64 "\n", d->name, d->labels[0] ? "{" : "", d->labels,
			d->labels[0] ? "}" : "", metrics_get((enum metric)i));
	}
	if (fclose(f) || !buf) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	*len = n;
	return 0;
}
