// SPDX-License-Identifier: BSD-2-Clause
/*
 * focus_wlr.c - the "wlr" focus route (focus_route.h). Not implemented in
 * this build: it never opens.
 */
#include <errno.h>
#include <stdio.h>

#include "focus_route.h"

static int wlr_open(void **st, const struct focus_env *env, char *why, size_t wlen)
{
	(void)st;
	(void)env;
	snprintf(why, wlen, "the wlr route is not part of this build");
	return -ENOSYS;
}

const struct focus_route_ops focus_route_wlr = {.name = "wlr", .open = wlr_open};
