// SPDX-License-Identifier: BSD-2-Clause
/*
 * session_x11.c - the focused X11 window (see session.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xcb/xcb.h>
#include <xcb/xcb_ewmh.h>
#include <xcb/xcb_icccm.h>

#include "log.h"
#include "session.h"
#include "util.h"

#define PROP_MAX_WORDS 128 /* read at most 512 bytes of a text property */
#define WALK_MAX 16	   /* ancestors searched for WM_CLASS */

struct x11 {
	xcb_connection_t *c;
	xcb_ewmh_connection_t ewmh;
	int ewmh_ok; /* ewmh atoms were interned */
	int screen;
	xcb_window_t root;
	int has_wm;	       /* EWMH mode */
	xcb_window_t wm_check; /* the WM's supporting window, watched */
	char wm[64];
	xcb_window_t watched; /* the focused client, watched for property changes */
	int titles;
	struct focus_info cur;
};

/* Event masks: the root always reports property changes; without a window
 * manager it also reports new top-levels, and top-levels report focus and
 * pointer entry. */
#define ROOT_MASK_WM (XCB_EVENT_MASK_PROPERTY_CHANGE)
#define ROOT_MASK_NOWM                                                                             \
	(XCB_EVENT_MASK_PROPERTY_CHANGE | XCB_EVENT_MASK_SUBSTRUCTURE_NOTIFY |                     \
	 XCB_EVENT_MASK_FOCUS_CHANGE)
#define TOP_MASK_NOWM (XCB_EVENT_MASK_FOCUS_CHANGE | XCB_EVENT_MASK_ENTER_WINDOW)
#define WATCH_MASK (XCB_EVENT_MASK_PROPERTY_CHANGE | XCB_EVENT_MASK_STRUCTURE_NOTIFY)

static void select_events(struct x11 *x, xcb_window_t w, uint32_t mask)
{
	xcb_change_window_attributes(x->c, w, XCB_CW_EVENT_MASK, &mask);
}

/* A text property of w as UTF-8 into buf (size n): UTF8_STRING as is,
 * STRING (Latin-1) converted. 0, or -ENOENT when w has none. */
static int text_prop(struct x11 *x, xcb_window_t w, xcb_atom_t prop, char *buf, size_t n)
{
	xcb_get_property_reply_t *r;
	char tmp[PROP_MAX_WORDS * 4 * 2];
	const unsigned char *v;
	size_t len, i, o = 0;

	buf[0] = '\0';
	r = xcb_get_property_reply(
	    x->c, xcb_get_property(x->c, 0, w, prop, XCB_GET_PROPERTY_TYPE_ANY, 0, PROP_MAX_WORDS),
	    NULL);
	if (!r)
		return -ENOENT;
	if (r->format != 8 || r->type == XCB_NONE) {
		free(r);
		return -ENOENT;
	}
	v = xcb_get_property_value(r);
	len = (size_t)xcb_get_property_value_length(r);
	if (r->type == XCB_ATOM_STRING) {
		for (i = 0; i < len && o + 2 < sizeof(tmp); i++) {
			if (v[i] < 0x80) {
				tmp[o++] = (char)v[i];
			} else {
				tmp[o++] = (char)(0xc0 | (v[i] >> 6));
				tmp[o++] = (char)(0x80 | (v[i] & 0x3f));
			}
		}
		utf8_clean(buf, n, tmp, o);
	} else {
		utf8_clean(buf, n, (const char *)v, len);
	}
	free(r);
	return 0;
}

/* WM_CLASS of w: 0 with instance and class filled, -ENOENT without one. */
static int wm_class(struct x11 *x, xcb_window_t w, char *inst, char *cls, size_t n)
{
	xcb_get_property_reply_t *r;
	const char *v, *nul;
	size_t len;

	r = xcb_get_property_reply(
	    x->c,
	    xcb_get_property(x->c, 0, w, XCB_ATOM_WM_CLASS, XCB_ATOM_STRING, 0, PROP_MAX_WORDS),
	    NULL);
	if (!r)
		return -ENOENT;
	len = (size_t)xcb_get_property_value_length(r);
	if (r->format != 8 || len == 0) {
		free(r);
		return -ENOENT;
	}
	v = xcb_get_property_value(r);
	nul = memchr(v, '\0', len);
	utf8_clean(inst, n, v, nul ? (size_t)(nul - v) : len);
	if (nul && (size_t)(nul + 1 - v) < len)
		utf8_clean(cls, n, nul + 1, len - (size_t)(nul + 1 - v));
	else
		snprintf(cls, n, "%s", inst); /* a class-less WM_CLASS: use the instance */
	free(r);
	return 0;
}

static uint32_t wm_pid(struct x11 *x, xcb_window_t w)
{
	uint32_t pid = 0;

	if (!x->ewmh_ok ||
	    !xcb_ewmh_get_wm_pid_reply(&x->ewmh, xcb_ewmh_get_wm_pid(&x->ewmh, w), &pid, NULL))
		return 0;
	return pid;
}

/* Is there an EWMH window manager that maintains _NET_ACTIVE_WINDOW? */
static int wm_detect(struct x11 *x)
{
	xcb_ewmh_get_atoms_reply_t sup;
	xcb_window_t w = 0, w2 = 0;
	uint32_t i;
	int active = 0;

	x->wm[0] = '\0';
	x->wm_check = 0;
	if (!x->ewmh_ok ||
	    !xcb_ewmh_get_supporting_wm_check_reply(
		&x->ewmh, xcb_ewmh_get_supporting_wm_check(&x->ewmh, x->root), &w, NULL) ||
	    !w)
		return 0;
	/* a stale property left by a window manager that died */
	if (!xcb_ewmh_get_supporting_wm_check_reply(
		&x->ewmh, xcb_ewmh_get_supporting_wm_check(&x->ewmh, w), &w2, NULL) ||
	    w2 != w)
		return 0;
	if (xcb_ewmh_get_supported_reply(&x->ewmh, xcb_ewmh_get_supported(&x->ewmh, x->screen),
					 &sup, NULL)) {
		for (i = 0; i < sup.atoms_len; i++)
			active |= sup.atoms[i] == x->ewmh._NET_ACTIVE_WINDOW;
		xcb_ewmh_get_atoms_reply_wipe(&sup);
	}
	if (!active)
		return 0;
	x->wm_check = w;
	select_events(x, w, XCB_EVENT_MASK_STRUCTURE_NOTIFY); /* its DestroyNotify: WM gone */
	if (text_prop(x, w, x->ewmh._NET_WM_NAME, x->wm, sizeof(x->wm)))
		text_prop(x, w, XCB_ATOM_WM_NAME, x->wm, sizeof(x->wm));
	return 1;
}

/* Enter the mode that suits the window manager (or its absence). */
static void set_mode(struct x11 *x)
{
	xcb_query_tree_reply_t *t;
	xcb_window_t *kids;
	int i, n;

	x->has_wm = wm_detect(x);
	select_events(x, x->root, x->has_wm ? ROOT_MASK_WM : ROOT_MASK_NOWM);
	if (!x->has_wm) {
		t = xcb_query_tree_reply(x->c, xcb_query_tree(x->c, x->root), NULL);
		if (t) {
			kids = xcb_query_tree_children(t);
			n = xcb_query_tree_children_length(t);
			for (i = 0; i < n; i++)
				select_events(x, kids[i], TOP_MASK_NOWM);
			free(t);
		}
	}
	log_info("X11 focus from %s%s%s", x->has_wm ? "EWMH _NET_ACTIVE_WINDOW" : "XGetInputFocus",
		 x->has_wm ? ", window manager " : " (no EWMH window manager)",
		 x->has_wm ? (x->wm[0] ? x->wm : "?") : "");
}

/* The parent of w, 0 for the root or on error. */
static xcb_window_t parent_of(struct x11 *x, xcb_window_t w)
{
	xcb_query_tree_reply_t *t = xcb_query_tree_reply(x->c, xcb_query_tree(x->c, w), NULL);
	xcb_window_t p = 0;

	if (t) {
		p = t->parent == t->root ? 0 : t->parent;
		free(t);
	}
	return p;
}

/* The client window at or above w: the nearest with WM_CLASS. */
static xcb_window_t client_of(struct x11 *x, xcb_window_t w, char *inst, char *cls, size_t n)
{
	int i;

	for (i = 0; w && i < WALK_MAX; i++, w = parent_of(x, w))
		if (wm_class(x, w, inst, cls, n) == 0)
			return w;
	return 0;
}

/* The window that has the focus now, 0 for none. */
static xcb_window_t focused_window(struct x11 *x)
{
	xcb_get_input_focus_reply_t *f;
	xcb_query_pointer_reply_t *p;
	xcb_window_t w = 0;

	if (x->has_wm) {
		if (!xcb_ewmh_get_active_window_reply(
			&x->ewmh, xcb_ewmh_get_active_window(&x->ewmh, x->screen), &w, NULL))
			w = 0;
		return w == x->root ? 0 : w;
	}
	f = xcb_get_input_focus_reply(x->c, xcb_get_input_focus(x->c), NULL);
	if (!f)
		return 0;
	w = f->focus;
	free(f);
	if (w == XCB_INPUT_FOCUS_POINTER_ROOT) {
		/* keyboard input goes to the window under the pointer */
		p = xcb_query_pointer_reply(x->c, xcb_query_pointer(x->c, x->root), NULL);
		w = p ? p->child : 0;
		free(p);
	}
	return w == x->root ? 0 : w;
}

/* Work out the focus again; 1 when what is reported changed. */
static int refresh(struct x11 *x)
{
	struct focus_info fi;
	xcb_window_t w, client = 0;

	memset(&fi, 0, sizeof(fi));
	snprintf(fi.source, sizeof(fi.source), "%s", x->has_wm ? "x11-ewmh" : "x11-input-focus");
	w = focused_window(x);
	if (w)
		client = client_of(x, w, fi.instance, fi.app, sizeof(fi.app));
	if (client) {
		fi.pid = wm_pid(x, client);
		if (x->titles && (!x->ewmh_ok || text_prop(x, client, x->ewmh._NET_WM_NAME,
							   fi.title, sizeof(fi.title))))
			text_prop(x, client, XCB_ATOM_WM_NAME, fi.title, sizeof(fi.title));
	}
	if (client != x->watched) {
		if (x->watched)
			select_events(x, x->watched, x->has_wm ? 0 : TOP_MASK_NOWM);
		if (client)
			select_events(x, client, WATCH_MASK | (x->has_wm ? 0 : TOP_MASK_NOWM));
		x->watched = client;
	}
	xcb_flush(x->c);
	if (!memcmp(&fi, &x->cur, sizeof(fi)))
		return 0;
	x->cur = fi;
	return 1;
}

/* Note what an event asks for: a new look at the focus, or at the WM. */
static void on_event(struct x11 *x, xcb_generic_event_t *ev, int *need, int *recheck)
{
	switch (ev->response_type & ~0x80) {
	case XCB_PROPERTY_NOTIFY: {
		xcb_property_notify_event_t *p = (xcb_property_notify_event_t *)ev;

		if (p->window == x->root) {
			if (x->ewmh_ok && p->atom == x->ewmh._NET_SUPPORTING_WM_CHECK)
				*recheck = 1;
			else if (x->ewmh_ok && p->atom == x->ewmh._NET_ACTIVE_WINDOW)
				*need = 1;
		} else if (p->window == x->watched) {
			if (p->atom == XCB_ATOM_WM_CLASS ||
			    (x->ewmh_ok && p->atom == x->ewmh._NET_WM_PID))
				*need = 1;
			else if (x->titles && (p->atom == XCB_ATOM_WM_NAME ||
					       (x->ewmh_ok && p->atom == x->ewmh._NET_WM_NAME)))
				*need = 1;
		}
		break;
	}
	case XCB_DESTROY_NOTIFY: {
		xcb_destroy_notify_event_t *d = (xcb_destroy_notify_event_t *)ev;

		if (x->wm_check && d->window == x->wm_check)
			*recheck = 1;
		if (d->window == x->watched) {
			x->watched = 0;
			*need = 1;
		}
		break;
	}
	case XCB_CREATE_NOTIFY: {
		xcb_create_notify_event_t *c = (xcb_create_notify_event_t *)ev;

		if (!x->has_wm && c->parent == x->root) {
			select_events(x, c->window, TOP_MASK_NOWM);
			*need = 1; /* it may have taken the focus before we listened */
		}
		break;
	}
	case XCB_UNMAP_NOTIFY:
	case XCB_FOCUS_IN:
	case XCB_FOCUS_OUT:
	case XCB_ENTER_NOTIFY:
		*need |= !x->has_wm;
		break;
	default:
		break; /* errors of requests on windows that vanished, and the rest */
	}
}

int x11_open(struct x11 **out, const char *display)
{
	xcb_intern_atom_cookie_t *ck;
	const xcb_setup_t *setup;
	xcb_screen_iterator_t it;
	struct x11 *x;
	int i;

	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->c = xcb_connect(display, &x->screen);
	if (xcb_connection_has_error(x->c)) {
		xcb_disconnect(x->c);
		free(x);
		return -ECONNREFUSED;
	}
	setup = xcb_get_setup(x->c);
	it = xcb_setup_roots_iterator(setup);
	for (i = 0; i < x->screen && it.rem; i++)
		xcb_screen_next(&it);
	if (!it.rem) {
		x11_close(x);
		return -ENODEV;
	}
	x->root = it.data->root;
	ck = xcb_ewmh_init_atoms(x->c, &x->ewmh);
	x->ewmh_ok = ck && xcb_ewmh_init_atoms_replies(&x->ewmh, ck, NULL);
	set_mode(x);
	refresh(x);
	*out = x;
	return 0;
}

int x11_fd(const struct x11 *x)
{
	return xcb_get_file_descriptor(x->c);
}

int x11_dispatch(struct x11 *x)
{
	xcb_generic_event_t *ev;
	int need = 0, recheck = 0, changed = 0, round;

	/* replies read while refreshing may queue more events: go round until
	 * the queue is empty, so poll() never sleeps on a queued event */
	for (round = 0; round < 8; round++) {
		while ((ev = round ? xcb_poll_for_queued_event(x->c) : xcb_poll_for_event(x->c))) {
			on_event(x, ev, &need, &recheck);
			free(ev);
		}
		if (xcb_connection_has_error(x->c))
			return -EPIPE;
		if (recheck)
			set_mode(x);
		if (!need && !recheck)
			break;
		changed |= refresh(x);
		need = recheck = 0;
	}
	return changed;
}

void x11_focus(const struct x11 *x, struct focus_info *fi)
{
	*fi = x->cur;
}

int x11_set_titles(struct x11 *x, int on)
{
	x->titles = !!on;
	return refresh(x);
}

const char *x11_wm(const struct x11 *x)
{
	return x->has_wm ? x->wm : "";
}

void x11_close(struct x11 *x)
{
	if (!x)
		return;
	if (x->ewmh_ok)
		xcb_ewmh_connection_wipe(&x->ewmh);
	xcb_disconnect(x->c);
	free(x);
}

/* --- the "x11" focus route (focus_route.h) --- */

static int route_open(void **st, const struct focus_env *env, char *why, size_t wlen)
{
	struct x11 *x;
	int err;

	if (!env->display || !*env->display) {
		snprintf(why, wlen, "no X display: DISPLAY is not set and no --display was given");
		return -ENOENT;
	}
	err = x11_open(&x, env->display);
	if (err) {
		snprintf(why, wlen, "cannot open X display %s: %s", env->display, strerror(-err));
		return err;
	}
	if (env->titles)
		x11_set_titles(x, 1);
	*st = x;
	return 0;
}

static int route_fd(void *st)
{
	return x11_fd(st);
}

static short route_events(void *st)
{
	(void)st;
	return POLLIN;
}

static int route_timeout(void *st)
{
	(void)st;
	return -1;
}

static int route_dispatch(void *st)
{
	return x11_dispatch(st);
}

static void route_focus(void *st, struct focus_info *fi)
{
	x11_focus(st, fi);
}

static int route_titles(void *st, int on)
{
	return x11_set_titles(st, on);
}

static const char *route_detail(void *st)
{
	return x11_wm(st);
}

static void route_close(void *st)
{
	x11_close(st);
}

const struct focus_route_ops focus_route_x11 = {
    .name = "x11",
    .open = route_open,
    .fd = route_fd,
    .events = route_events,
    .timeout_ms = route_timeout,
    .dispatch = route_dispatch,
    .focus = route_focus,
    .set_titles = route_titles,
    .detail = route_detail,
    .close = route_close,
};
