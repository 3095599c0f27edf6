// SPDX-License-Identifier: BSD-2-Clause
/*
 * focus_gnome.c - the "gnome" focus route (focus_route.h). Not implemented in
 * this build: it never opens.
 */
#include <errno.h>
#include <stdio.h>

#include "focus_route.h"

static int gnome_open(void **st, const struct focus_env *env, char *why, size_t wlen)
{
	(void)st;
	(void)env;
	snprintf(why, wlen, "the gnome route is not part of this build");
	return -ENOSYS;
}

const struct focus_route_ops focus_route_gnome = {.name = "gnome", .open = gnome_open};
