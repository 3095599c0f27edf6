// SPDX-License-Identifier: BSD-2-Clause
/*
 * focus_kwin.c - the "kwin" focus route (focus_route.h). Not implemented in
 * this build: it never opens.
 */
#include <errno.h>
#include <stdio.h>

#include "focus_route.h"

static int kwin_open(void **st, const struct focus_env *env, char *why, size_t wlen)
{
	(void)st;
	(void)env;
	snprintf(why, wlen, "the kwin route is not part of this build");
	return -ENOSYS;
}

const struct focus_route_ops focus_route_kwin = {.name = "kwin", .open = kwin_open};
