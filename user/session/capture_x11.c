// SPDX-License-Identifier: BSD-2-Clause
/*
 * capture_x11.c - screenshots of every X11 monitor (see capture.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include <xcb/randr.h>
#include <xcb/shm.h>
#include <xcb/xcb.h>

#include "capture.h"
#include "log.h"

struct capture {
	xcb_connection_t *c;
	xcb_window_t root;
	uint16_t root_w, root_h;
	struct image_xfmt fmt;
	int shm;      /* MIT-SHM is usable (until the server refuses it) */
	int randr;    /* RandR >= 1.5 */
	int used_shm; /* the last capture used SHM */
};

/* The root window's pixel layout: the ZPixmap format of its depth and the
 * masks of its visual. */
static int root_format(struct capture *c, const xcb_setup_t *setup, const xcb_screen_t *s)
{
	xcb_format_iterator_t fi = xcb_setup_pixmap_formats_iterator(setup);
	xcb_depth_iterator_t di = xcb_screen_allowed_depths_iterator(s);
	const xcb_visualtype_t *vis = NULL;
	uint32_t pad = 0;

	for (; fi.rem; xcb_format_next(&fi))
		if (fi.data->depth == s->root_depth) {
			c->fmt.bpp = fi.data->bits_per_pixel;
			pad = fi.data->scanline_pad;
		}
	for (; di.rem && !vis; xcb_depth_next(&di)) {
		xcb_visualtype_iterator_t vi = xcb_depth_visuals_iterator(di.data);

		for (; vi.rem; xcb_visualtype_next(&vi))
			if (vi.data->visual_id == s->root_visual) {
				vis = vi.data;
				break;
			}
	}
	if (!vis || !pad ||
	    (vis->_class != XCB_VISUAL_CLASS_TRUE_COLOR &&
	     vis->_class != XCB_VISUAL_CLASS_DIRECT_COLOR))
		return -ENOTSUP;
	if (c->fmt.bpp != 16 && c->fmt.bpp != 24 && c->fmt.bpp != 32)
		return -ENOTSUP;
	c->fmt.red_mask = vis->red_mask;
	c->fmt.green_mask = vis->green_mask;
	c->fmt.blue_mask = vis->blue_mask;
	c->fmt.msb_first = setup->image_byte_order == XCB_IMAGE_ORDER_MSB_FIRST;
	c->fmt.stride = pad; /* bits: the row padding, turned into a stride per width */
	return 0;
}

static uint32_t stride_for(const struct capture *c, uint32_t w)
{
	uint32_t pad = c->fmt.stride, bits = w * c->fmt.bpp;

	return (bits + pad - 1) / pad * pad / 8;
}

int capture_open(struct capture **out, const char *display, unsigned int flags)
{
	const xcb_query_extension_reply_t *ext;
	struct capture *c;
	xcb_screen_t *s;
	int screen = 0, err;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->c = xcb_connect(display, &screen);
	if (xcb_connection_has_error(c->c)) {
		err = -ECONNREFUSED;
		goto fail;
	}
	s = xcb_setup_roots_iterator(xcb_get_setup(c->c)).data;
	for (; screen > 0 && s; screen--) {
		xcb_screen_iterator_t it = xcb_setup_roots_iterator(xcb_get_setup(c->c));

		xcb_screen_next(&it);
		s = it.data;
	}
	if (!s) {
		err = -ECONNREFUSED;
		goto fail;
	}
	c->root = s->root;
	c->root_w = s->width_in_pixels;
	c->root_h = s->height_in_pixels;
	err = root_format(c, xcb_get_setup(c->c), s);
	if (err)
		goto fail;

	ext = xcb_get_extension_data(c->c, &xcb_randr_id);
	if (ext && ext->present) {
		xcb_randr_query_version_reply_t *v =
		    xcb_randr_query_version_reply(c->c, xcb_randr_query_version(c->c, 1, 5), NULL);

		c->randr =
		    v && (v->major_version > 1 || (v->major_version == 1 && v->minor_version >= 5));
		free(v);
	}
	if (!(flags & CAPTURE_NO_SHM)) {
		ext = xcb_get_extension_data(c->c, &xcb_shm_id);
		if (ext && ext->present) {
			xcb_shm_query_version_reply_t *v =
			    xcb_shm_query_version_reply(c->c, xcb_shm_query_version(c->c), NULL);

			c->shm = v != NULL;
			free(v);
		}
	}
	log_debug("capture: root %ux%u, %u bpp, RandR 1.5 %s, MIT-SHM %s", c->root_w, c->root_h,
		  c->fmt.bpp, c->randr ? "yes" : "no", c->shm ? "yes" : "no");
	*out = c;
	return 0;
fail:
	capture_close(c);
	return err;
}

void capture_close(struct capture *c)
{
	if (!c)
		return;
	if (c->c)
		xcb_disconnect(c->c);
	free(c);
}

const char *capture_method(const struct capture *c)
{
	return c->used_shm ? "shm" : "get-image";
}

void capture_shots_free(struct capture_shot *shots, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		image_free(&shots[i].img);
}

/* Read the rectangle with MIT-SHM. 0, -EAGAIN when the server refused the
 * segment (the caller falls back to GetImage from now on), -errno. */
static int grab_shm(struct capture *c, struct capture_shot *s, uint32_t w, uint32_t h)
{
	uint32_t stride = stride_for(c, w);
	size_t size = (size_t)stride * h;
	xcb_shm_get_image_reply_t *r;
	xcb_generic_error_t *e;
	xcb_shm_seg_t seg;
	void *addr;
	int id, err;

	id = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);
	if (id < 0)
		return -EAGAIN;
	addr = shmat(id, NULL, 0);
	if (addr == (void *)-1) {
		shmctl(id, IPC_RMID, NULL);
		return -EAGAIN;
	}
	seg = xcb_generate_id(c->c);
	e = xcb_request_check(c->c, xcb_shm_attach_checked(c->c, seg, (uint32_t)id, 0));
	/* attached (or refused): nobody else may find the segment */
	shmctl(id, IPC_RMID, NULL);
	if (e) {
		free(e);
		shmdt(addr);
		return -EAGAIN;
	}
	r = xcb_shm_get_image_reply(c->c,
				    xcb_shm_get_image(c->c, c->root, (int16_t)s->x, (int16_t)s->y,
						      (uint16_t)w, (uint16_t)h, ~0u,
						      XCB_IMAGE_FORMAT_Z_PIXMAP, seg, 0),
				    &e);
	if (!r) {
		err = xcb_connection_has_error(c->c) ? -EPIPE : -EIO;
		free(e);
	} else {
		struct image_xfmt f = c->fmt;

		f.stride = stride;
		err = image_from_zpixmap(&s->img, addr, size, w, h, &f);
		free(r);
	}
	xcb_shm_detach(c->c, seg);
	shmdt(addr);
	return err;
}

/* Read the rectangle with a plain GetImage. */
static int grab_plain(struct capture *c, struct capture_shot *s, uint32_t w, uint32_t h)
{
	xcb_get_image_reply_t *r;
	xcb_generic_error_t *e = NULL;
	struct image_xfmt f = c->fmt;
	int err;

	r = xcb_get_image_reply(c->c,
				xcb_get_image(c->c, XCB_IMAGE_FORMAT_Z_PIXMAP, c->root,
					      (int16_t)s->x, (int16_t)s->y, (uint16_t)w,
					      (uint16_t)h, ~0u),
				&e);
	if (!r) {
		free(e);
		return xcb_connection_has_error(c->c) ? -EPIPE : -EIO;
	}
	f.stride = stride_for(c, w);
	err = image_from_zpixmap(&s->img, xcb_get_image_data(r),
				 (size_t)xcb_get_image_data_length(r), w, h, &f);
	free(r);
	return err;
}

/* One monitor's rectangle, clipped to the root. 0, or -ENOENT when nothing
 * of it is on the root. */
static int clip(const struct capture *c, int32_t x, int32_t y, int32_t w, int32_t h,
		struct capture_shot *s, uint32_t *cw, uint32_t *ch)
{
	int32_t x1 = x + w, y1 = y + h;

	if (x < 0)
		x = 0;
	if (y < 0)
		y = 0;
	if (x1 > c->root_w)
		x1 = c->root_w;
	if (y1 > c->root_h)
		y1 = c->root_h;
	if (x1 <= x || y1 <= y)
		return -ENOENT;
	s->x = x;
	s->y = y;
	*cw = (uint32_t)(x1 - x);
	*ch = (uint32_t)(y1 - y);
	return 0;
}

static void atom_name(struct capture *c, xcb_atom_t a, char *buf, size_t n)
{
	xcb_get_atom_name_reply_t *r =
	    xcb_get_atom_name_reply(c->c, xcb_get_atom_name(c->c, a), NULL);
	int len;
	int i;

	snprintf(buf, n, "monitor");
	if (!r)
		return;
	len = xcb_get_atom_name_name_length(r);
	if (len > 0 && (size_t)len < n) {
		memcpy(buf, xcb_get_atom_name_name(r), (size_t)len);
		buf[len] = '\0';
		/* the name ends up in file names and JSON: printable ASCII only */
		for (i = 0; i < len; i++)
			if (buf[i] <= ' ' || buf[i] > '~' || buf[i] == '/')
				buf[i] = '_';
	}
	free(r);
}

int capture_grab(struct capture *c, struct capture_shot *shots, unsigned int max)
{
	struct {
		int32_t x, y, w, h;
		xcb_atom_t name;
	} mon[CAPTURE_MAX_MONITORS];
	unsigned int nmon = 0, n = 0, i;
	uint32_t w, h;
	int err;

	memset(shots, 0, sizeof(*shots) * max);
	if (xcb_connection_has_error(c->c))
		return -EPIPE;
	if (c->randr) {
		xcb_randr_get_monitors_reply_t *r = xcb_randr_get_monitors_reply(
		    c->c, xcb_randr_get_monitors(c->c, c->root, 1), NULL);
		xcb_randr_monitor_info_iterator_t it;

		if (r) {
			it = xcb_randr_get_monitors_monitors_iterator(r);
			for (; it.rem && nmon < CAPTURE_MAX_MONITORS;
			     xcb_randr_monitor_info_next(&it)) {
				mon[nmon].x = it.data->x;
				mon[nmon].y = it.data->y;
				mon[nmon].w = it.data->width;
				mon[nmon].h = it.data->height;
				mon[nmon].name = it.data->name;
				nmon++;
			}
			free(r);
		}
	}
	if (!nmon) {
		mon[0].x = mon[0].y = 0;
		mon[0].w = c->root_w;
		mon[0].h = c->root_h;
		mon[0].name = XCB_NONE;
		nmon = 1;
	}
	c->used_shm = 0;
	for (i = 0; i < nmon && n < max; i++) {
		struct capture_shot *s = &shots[n];

		if (clip(c, mon[i].x, mon[i].y, mon[i].w, mon[i].h, s, &w, &h))
			continue;
		err = image_check_size(w, h);
		if (err)
			return err;
		if (mon[i].name != XCB_NONE)
			atom_name(c, mon[i].name, s->name, sizeof(s->name));
		else
			snprintf(s->name, sizeof(s->name), "screen");
		err = -EAGAIN;
		if (c->shm) {
			err = grab_shm(c, s, w, h);
			if (err == -EAGAIN) {
				log_notice("capture: the X server refused MIT-SHM (a remote "
					   "display?): using GetImage");
				c->shm = 0;
			} else if (!err) {
				c->used_shm = 1;
			}
		}
		if (err == -EAGAIN)
			err = grab_plain(c, s, w, h);
		if (err)
			return err;
		n++;
	}
	return (int)n;
}
