// SPDX-License-Identifier: BSD-2-Clause
/*
 * actlog-testwin - a tiny X11 client for the session tests: one window with
 * a chosen WM_CLASS, title and _NET_WM_PID. Prints the window id (decimal)
 * on stdout once the window is mapped, then waits until the X connection
 * closes or a signal ends it.
 *
 *   actlog-testwin --class CLASS [--instance NAME] [--title TEXT] [--no-pid]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xcb/xcb.h>
#include <xcb/xcb_icccm.h>

static xcb_atom_t atom(xcb_connection_t *c, const char *name)
{
	xcb_intern_atom_reply_t *r =
	    xcb_intern_atom_reply(c, xcb_intern_atom(c, 0, (uint16_t)strlen(name), name), NULL);
	xcb_atom_t a = r ? r->atom : XCB_NONE;

	free(r);
	return a;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"class", required_argument, NULL, 'c'},
	    {"instance", required_argument, NULL, 'i'},
	    {"title", required_argument, NULL, 't'},
	    {"no-pid", no_argument, NULL, 'P'},
	    {0},
	};
	const char *cls = NULL, *inst = NULL, *title = "actlog test window";
	char wmclass[512];
	uint32_t mask = XCB_CW_BACK_PIXEL | XCB_CW_EVENT_MASK, vals[2], pid;
	xcb_icccm_wm_hints_t hints = {0};
	xcb_generic_event_t *ev;
	xcb_connection_t *c;
	xcb_screen_t *s;
	xcb_window_t w;
	int o, with_pid = 1, n;

	while ((o = getopt_long(argc, argv, "c:i:t:P", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			cls = optarg;
			break;
		case 'i':
			inst = optarg;
			break;
		case 't':
			title = optarg;
			break;
		case 'P':
			with_pid = 0;
			break;
		default:
			return 2;
		}
	}
	if (!cls) {
		fprintf(stderr, "usage: actlog-testwin --class CLASS [--instance NAME] [--title "
				"TEXT] [--no-pid]\n");
		return 2;
	}
	if (!inst)
		inst = cls;
	c = xcb_connect(NULL, NULL);
	if (xcb_connection_has_error(c)) {
		fprintf(stderr, "actlog-testwin: cannot open the display\n");
		return 1;
	}
	s = xcb_setup_roots_iterator(xcb_get_setup(c)).data;
	w = xcb_generate_id(c);
	vals[0] = s->white_pixel;
	vals[1] = XCB_EVENT_MASK_STRUCTURE_NOTIFY | XCB_EVENT_MASK_FOCUS_CHANGE;
	xcb_create_window(c, XCB_COPY_FROM_PARENT, w, s->root, 10, 10, 200, 100, 1,
			  XCB_WINDOW_CLASS_INPUT_OUTPUT, s->root_visual, mask, vals);
	n = snprintf(wmclass, sizeof(wmclass), "%s%c%s", inst, '\0', cls);
	xcb_icccm_set_wm_class(c, w, (uint32_t)n + 1, wmclass);
	xcb_icccm_set_wm_name(c, w, XCB_ATOM_STRING, 8, (uint32_t)strlen(title), title);
	xcb_change_property(c, XCB_PROP_MODE_REPLACE, w, atom(c, "_NET_WM_NAME"),
			    atom(c, "UTF8_STRING"), 8, (uint32_t)strlen(title), title);
	if (with_pid) {
		pid = (uint32_t)getpid();
		xcb_change_property(c, XCB_PROP_MODE_REPLACE, w, atom(c, "_NET_WM_PID"),
				    XCB_ATOM_CARDINAL, 32, 1, &pid);
	}
	xcb_icccm_wm_hints_set_input(&hints, 1);
	xcb_icccm_wm_hints_set_normal(&hints);
	xcb_icccm_set_wm_hints(c, w, &hints);
	xcb_map_window(c, w);
	xcb_flush(c);
	/* the id once the server has mapped it */
	while ((ev = xcb_wait_for_event(c))) {
		int t = ev->response_type & ~0x80;

		free(ev);
		if (t == XCB_MAP_NOTIFY)
			break;
	}
	printf("%u\n", w);
	fflush(stdout);
	while ((ev = xcb_wait_for_event(c)))
		free(ev);
	xcb_disconnect(c);
	return 0;
}
