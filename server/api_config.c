// SPDX-License-Identifier: BSD-2-Clause
/* api_config.c - being written: registers no routes yet. */
#include <errno.h>

#include "srv.h"

int api_config_routes(struct srv *s, struct http_route *r, size_t max)
{
	(void)s;
	(void)r;
	(void)max;
	return 0;
}

int config_effective(struct srv *s, const char *team_id, const char *user_id, bool with_secrets,
		     cJSON **out)
{
	(void)s;
	(void)team_id;
	(void)user_id;
	(void)with_secrets;
	*out = NULL;
	return -ENOSYS;
}
