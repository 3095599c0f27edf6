// SPDX-License-Identifier: BSD-2-Clause
/*
 * capture_pw.c - one frame of a PipeWire video node, and the Wayland
 * capture built on the ScreenCast portal (see capture_pw.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pipewire/pipewire.h>
#include <spa/param/video/format-utils.h>
#include <spa/pod/builder.h>
#include <spa/utils/result.h>

#include "capture_pw.h"
#include "portal.h"
#include "util.h"

/* One connection: the loop's objects, the first failure in words. */
struct conn {
	struct pw_main_loop *ml;
	struct pw_context *ctx;
	struct pw_core *core;
	struct spa_hook core_l;
	int err; /* the connection failed: every stream did */
	char *why;
	size_t why_len;
};

/* One stream on it: what its callbacks found. */
struct grab {
	struct conn *c;
	struct pw_stream *stream;
	struct spa_hook stream_l;
	struct spa_video_info_raw fmt;
	int have_fmt;
	int done; /* 1 a frame, <0 an error */
	uint32_t node;
	struct image *out;
};

static void fail(struct grab *g, int err, const char *what)
{
	if (g->done)
		return;
	g->done = err;
	if (g->c->why && !g->c->why[0])
		say_why(g->c->why, g->c->why_len, "%s", what);
}

/* The pixel layout of a raw video format as image.h's ZPixmap masks
 * (bytes little-endian first). -ENOTSUP for a format not read here. */
static int fmt_masks(uint32_t f, struct image_xfmt *x)
{
	*x = (struct image_xfmt){.bpp = 32};
	switch (f) {
	case SPA_VIDEO_FORMAT_BGRx:
	case SPA_VIDEO_FORMAT_BGRA:
		x->blue_mask = 0xff, x->green_mask = 0xff00, x->red_mask = 0xff0000;
		break;
	case SPA_VIDEO_FORMAT_RGBx:
	case SPA_VIDEO_FORMAT_RGBA:
		x->red_mask = 0xff, x->green_mask = 0xff00, x->blue_mask = 0xff0000;
		break;
	case SPA_VIDEO_FORMAT_xRGB:
	case SPA_VIDEO_FORMAT_ARGB:
		x->red_mask = 0xff00, x->green_mask = 0xff0000, x->blue_mask = 0xff000000;
		break;
	case SPA_VIDEO_FORMAT_xBGR:
	case SPA_VIDEO_FORMAT_ABGR:
		x->blue_mask = 0xff00, x->green_mask = 0xff0000, x->red_mask = 0xff000000;
		break;
	case SPA_VIDEO_FORMAT_RGB:
		x->bpp = 24;
		x->red_mask = 0xff, x->green_mask = 0xff00, x->blue_mask = 0xff0000;
		break;
	case SPA_VIDEO_FORMAT_BGR:
		x->bpp = 24;
		x->blue_mask = 0xff, x->green_mask = 0xff00, x->red_mask = 0xff0000;
		break;
	default:
		return -ENOTSUP;
	}
	return 0;
}

static void on_core_error(void *data, uint32_t id, int seq, int res, const char *message)
{
	struct conn *c = data;

	(void)seq;
	if (c->err)
		return;
	c->err = res == -ENOENT ? -ENOENT : id == PW_ID_CORE ? -EPIPE : res < 0 ? res : -EIO;
	if (c->why && !c->why[0])
		say_why(c->why, c->why_len, "PipeWire %s: %s",
			id == PW_ID_CORE ? "connection failed" : "error",
			message ? message : spa_strerror(res));
}

static const struct pw_core_events core_events = {
    PW_VERSION_CORE_EVENTS,
    .error = on_core_error,
};

static void on_state(void *data, enum pw_stream_state old, enum pw_stream_state state,
		     const char *error)
{
	struct grab *g = data;
	char m[300];

	(void)old;
	if (state == PW_STREAM_STATE_ERROR) {
		snprintf(m, sizeof(m), "PipeWire stream error: %s", error ? error : "unknown");
		fail(g, error && strstr(error, "no target") ? -ENOENT : -EIO, m);
	} else if (state == PW_STREAM_STATE_UNCONNECTED && old != PW_STREAM_STATE_UNCONNECTED) {
		snprintf(m, sizeof(m), "PipeWire node %u %s", g->node,
			 g->have_fmt ? "went away" : "is not there (or may not be read)");
		fail(g, -ENOENT, m);
	}
}

/* The producer picked a format: check it, ask for memory buffers. */
static void on_param(void *data, uint32_t id, const struct spa_pod *param)
{
	struct grab *g = data;
	uint8_t buf[256];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buf, sizeof(buf));
	const struct spa_pod *params[1];
	struct image_xfmt x;
	uint32_t mt, mst;

	if (id != SPA_PARAM_Format || !param)
		return;
	if (spa_format_parse(param, &mt, &mst) < 0 || mt != SPA_MEDIA_TYPE_video ||
	    mst != SPA_MEDIA_SUBTYPE_raw || spa_format_video_raw_parse(param, &g->fmt) < 0) {
		fail(g, -ENOTSUP, "the PipeWire node offers no raw video");
		return;
	}
	if (fmt_masks(g->fmt.format, &x)) {
		fail(g, -ENOTSUP, "the PipeWire node's pixel format is not one this reader takes");
		return;
	}
	if (image_check_size(g->fmt.size.width, g->fmt.size.height)) {
		fail(g, -E2BIG, "the PipeWire frame size is empty or over the caps");
		return;
	}
	g->have_fmt = 1;
	params[0] = spa_pod_builder_add_object(
	    &b, SPA_TYPE_OBJECT_ParamBuffers, SPA_PARAM_Buffers, SPA_PARAM_BUFFERS_buffers,
	    SPA_POD_CHOICE_RANGE_Int(4, 1, 16), SPA_PARAM_BUFFERS_dataType,
	    SPA_POD_CHOICE_FLAGS_Int((1 << SPA_DATA_MemPtr) | (1 << SPA_DATA_MemFd)));
	pw_stream_update_params(g->stream, params, 1);
}

/* Convert one buffer; 0 or -errno (-EAGAIN: an empty buffer, wait). */
static int convert(struct grab *g, struct pw_buffer *pb)
{
	const struct spa_buffer *sb = pb->buffer;
	const struct spa_data *d;
	struct image_xfmt x;
	uint32_t w = g->fmt.size.width, h = g->fmt.size.height, off;
	uint64_t need;
	int stride;

	if (!sb || sb->n_datas < 1)
		return -EAGAIN;
	d = &sb->datas[0];
	if (!d->data || !d->chunk || d->chunk->size == 0 ||
	    (d->chunk->flags & SPA_CHUNK_FLAG_CORRUPTED))
		return -EAGAIN; /* e.g. a cursor-only update */
	if (d->type != SPA_DATA_MemPtr && d->type != SPA_DATA_MemFd)
		return -ENOTSUP;
	if (fmt_masks(g->fmt.format, &x))
		return -ENOTSUP;
	stride = d->chunk->stride;
	/* a producer that leaves the stride out (GStreamer's pipewiresink
	 * does) sends whole rows: the size tells their padding */
	if (stride <= 0 && d->chunk->size % h == 0 && d->chunk->size / h >= w * (x.bpp / 8))
		stride = (int)(d->chunk->size / h);
	if (stride <= 0)
		stride = (int)(w * (x.bpp / 8));
	x.stride = (uint32_t)stride;
	off = d->chunk->offset % (d->maxsize ? d->maxsize : 1);
	need = (uint64_t)x.stride * h;
	if ((uint64_t)off + need > d->maxsize || x.stride < (uint64_t)w * (x.bpp / 8))
		return -EPROTO;
	return image_from_zpixmap(g->out, (const uint8_t *)d->data + off, d->maxsize - off, w, h,
				  &x);
}

/* A buffer is ready: take the newest one queued, convert it, done. */
static void on_process(void *data)
{
	struct grab *g = data;
	struct pw_buffer *pb, *last = NULL;
	int r;

	while ((pb = pw_stream_dequeue_buffer(g->stream))) {
		if (last)
			pw_stream_queue_buffer(g->stream, last);
		last = pb;
	}
	if (!last || g->done || !g->have_fmt) {
		if (last)
			pw_stream_queue_buffer(g->stream, last);
		return;
	}
	r = convert(g, last);
	pw_stream_queue_buffer(g->stream, last);
	if (r == -EAGAIN)
		return;
	if (r) {
		image_free(g->out);
		fail(g,
		     r == -E2BIG    ? -E2BIG
		     : r == -ENOMEM ? -ENOMEM
				    : -EPROTO,
		     "the PipeWire buffer does not hold the announced frame");
		return;
	}
	g->done = 1;
}

static const struct pw_stream_events stream_events = {
    PW_VERSION_STREAM_EVENTS,
    .state_changed = on_state,
    .param_changed = on_param,
    .process = on_process,
};

/* The formats offered: raw video, the layouts fmt_masks reads, any size
 * within the caps; no modifier, so no DmaBuf. */
static const struct spa_pod *enum_format(struct spa_pod_builder *b)
{
	struct spa_rectangle def = SPA_RECTANGLE(1920, 1080), min = SPA_RECTANGLE(1, 1),
			     max = SPA_RECTANGLE(IMAGE_MAX_DIM, IMAGE_MAX_DIM);
	struct spa_fraction fdef = SPA_FRACTION(30, 1), fmin = SPA_FRACTION(0, 1),
			    fmax = SPA_FRACTION(1000, 1);

	return spa_pod_builder_add_object(
	    b, SPA_TYPE_OBJECT_Format, SPA_PARAM_EnumFormat, SPA_FORMAT_mediaType,
	    SPA_POD_Id(SPA_MEDIA_TYPE_video), SPA_FORMAT_mediaSubtype,
	    SPA_POD_Id(SPA_MEDIA_SUBTYPE_raw), SPA_FORMAT_VIDEO_format,
	    SPA_POD_CHOICE_ENUM_Id(
		11, SPA_VIDEO_FORMAT_BGRx, SPA_VIDEO_FORMAT_BGRx, SPA_VIDEO_FORMAT_BGRA,
		SPA_VIDEO_FORMAT_RGBx, SPA_VIDEO_FORMAT_RGBA, SPA_VIDEO_FORMAT_xRGB,
		SPA_VIDEO_FORMAT_ARGB, SPA_VIDEO_FORMAT_xBGR, SPA_VIDEO_FORMAT_ABGR,
		SPA_VIDEO_FORMAT_RGB, SPA_VIDEO_FORMAT_BGR),
	    SPA_FORMAT_VIDEO_size, SPA_POD_CHOICE_RANGE_Rectangle(&def, &min, &max),
	    SPA_FORMAT_VIDEO_framerate, SPA_POD_CHOICE_RANGE_Fraction(&fdef, &fmin, &fmax));
}

int pw_grab_frames(int fd, const char *remote, const uint32_t *nodes, unsigned int n,
		   unsigned int timeout_ms, struct image *outs, char *why, size_t why_len)
{
	static int inited;
	struct conn c = {.why = why, .why_len = why_len};
	struct grab *g = NULL;
	uint8_t buf[1024];
	struct spa_pod_builder b;
	const struct spa_pod *params[1];
	struct pw_properties *props;
	struct pw_loop *loop = NULL;
	uint64_t deadline, now;
	unsigned int i, left;
	int err = 0, entered = 0;

	for (i = 0; i < n; i++)
		outs[i] = (struct image){0};
	say_why(why, why_len, "%s", "");
	if (!n || n > CAPTURE_MAX_MONITORS) {
		err = -EINVAL;
		goto cleanup;
	}
	if (!inited) {
		pw_init(NULL, NULL);
		inited = 1;
	}
	g = calloc(n, sizeof(*g));
	c.ml = g ? pw_main_loop_new(NULL) : NULL;
	if (!c.ml) {
		err = -ENOMEM;
		goto cleanup;
	}
	loop = pw_main_loop_get_loop(c.ml);
	c.ctx = pw_context_new(loop, NULL, 0);
	if (!c.ctx) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (fd >= 0) {
		/* the core owns fd from here, whatever happens */
		c.core = pw_context_connect_fd(c.ctx, fd, NULL, 0);
		fd = -1;
	} else {
		c.core = pw_context_connect(
		    c.ctx, remote ? pw_properties_new(PW_KEY_REMOTE_NAME, remote, NULL) : NULL, 0);
	}
	if (!c.core) {
		err = -ECONNREFUSED;
		say_why(why, why_len, "cannot connect to PipeWire%s%s: %s", remote ? " at " : "",
			remote ? remote : "", strerror(errno));
		goto cleanup;
	}
	pw_core_add_listener(c.core, &c.core_l, &core_events, &c);
	/* one stream per node, all on this connection */
	for (i = 0; i < n; i++) {
		g[i] = (struct grab){.c = &c, .node = nodes[i], .out = &outs[i]};
		props = pw_properties_new(PW_KEY_MEDIA_TYPE, "Video", PW_KEY_MEDIA_CATEGORY,
					  "Capture", PW_KEY_MEDIA_ROLE, "Screen",
					  /* that node or none: never a session manager's
					   * fallback (another screen, a camera) */
					  PW_KEY_NODE_DONT_RECONNECT, "true", NULL);
		g[i].stream = pw_stream_new(c.core, "actlog-screenshot", props);
		if (!g[i].stream) {
			err = -ENOMEM;
			goto cleanup;
		}
		pw_stream_add_listener(g[i].stream, &g[i].stream_l, &stream_events, &g[i]);
		b = SPA_POD_BUILDER_INIT(buf, sizeof(buf));
		params[0] = enum_format(&b);
		err = pw_stream_connect(g[i].stream, PW_DIRECTION_INPUT, nodes[i],
					PW_STREAM_FLAG_AUTOCONNECT | PW_STREAM_FLAG_MAP_BUFFERS,
					params, 1);
		if (err < 0) {
			say_why(why, why_len, "cannot connect a PipeWire stream to node %u: %s",
				nodes[i], spa_strerror(err));
			goto cleanup;
		}
	}
	pw_loop_enter(loop);
	entered = 1;
	deadline = clock_ns(CLOCK_MONOTONIC) + (uint64_t)timeout_ms * NSEC_PER_MSEC;
	for (;;) {
		for (i = 0, left = 0; i < n; i++)
			if (!g[i].done)
				left++;
			else if (g[i].done < 0)
				err = err ? err : g[i].done;
		if (!left || err || c.err)
			break;
		now = clock_ns(CLOCK_MONOTONIC);
		if (now >= deadline) {
			for (i = 0; g[i].done; i++)
				;
			err = -ETIMEDOUT;
			say_why(why, why_len, "no frame from PipeWire node %u within %u ms%s",
				g[i].node, timeout_ms,
				g[i].have_fmt ? "" : " (no format was agreed: is the node there?)");
			break;
		}
		if (pw_loop_iterate(loop, (int)((deadline - now) / NSEC_PER_MSEC) + 1) < 0 &&
		    errno != EINTR) {
			err = -EIO;
			say_why(why, why_len, "the PipeWire loop failed: %s", strerror(errno));
			break;
		}
	}
	if (!err)
		err = c.err;
cleanup:
	for (i = 0; g && i < n; i++)
		if (g[i].stream)
			pw_stream_destroy(g[i].stream);
	if (c.core)
		pw_core_disconnect(c.core);
	if (entered)
		pw_loop_leave(loop);
	if (c.ctx)
		pw_context_destroy(c.ctx);
	if (c.ml)
		pw_main_loop_destroy(c.ml);
	free(g);
	if (fd >= 0)
		close(fd);
	for (i = 0; err && i < n; i++)
		image_free(&outs[i]);
	if (err && why && !why[0])
		say_why(why, why_len, "PipeWire: %s", strerror(-err));
	return err;
}

struct wl_capture {
	int64_t pw_node;
	char *pw_remote;
	char token_path[4096];
	unsigned int dialog_ms;
	char error[512];
};

int wl_capture_open(struct wl_capture **out, const struct wl_capture_opts *o)
{
	struct wl_capture *w;
	int err = 0;

	*out = NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->pw_node = o->pw_node;
	w->dialog_ms = o->dialog_timeout_ms ? o->dialog_timeout_ms : WL_DIALOG_TIMEOUT_MS;
	if (o->pw_remote && !(w->pw_remote = strdup(o->pw_remote)))
		err = -ENOMEM;
	else if (o->token_path)
		err = (size_t)snprintf(w->token_path, sizeof(w->token_path), "%s", o->token_path) >=
			      sizeof(w->token_path)
			  ? -ENAMETOOLONG
			  : 0;
	else if (o->pw_node < 0)
		err = portal_token_path(w->token_path, sizeof(w->token_path));
	if (err) {
		wl_capture_close(w);
		return err;
	}
	*out = w;
	return 0;
}

/* The diagnostic path: one node of a PipeWire remote, no portal. */
static int grab_node(struct wl_capture *w, struct capture_shot *shots, unsigned int max)
{
	uint32_t node = (uint32_t)w->pw_node;
	int err;

	if (!max)
		return 0;
	err = pw_grab_frames(-1, w->pw_remote, &node, 1, PW_FRAME_TIMEOUT_MS, &shots[0].img,
			     w->error, sizeof(w->error));
	if (err)
		return err;
	snprintf(shots[0].name, sizeof(shots[0].name), "node%u", (uint32_t)w->pw_node);
	return 1;
}

int wl_capture_grab(struct wl_capture *w, struct capture_shot *shots, unsigned int max)
{
	struct image imgs[CAPTURE_MAX_MONITORS];
	uint32_t nodes[CAPTURE_MAX_MONITORS] = {0};
	struct portal_cast pc;
	char tok[PORTAL_TOKEN_MAX + 1], why[400];
	unsigned int i, n;
	int err;

	memset(shots, 0, sizeof(*shots) * max);
	w->error[0] = '\0';
	if (w->pw_node >= 0)
		return grab_node(w, shots, max);
	err = portal_token_load(w->token_path, tok, sizeof(tok));
	if (err && err != -ENOENT)
		say_why(w->error, sizeof(w->error), "ignoring the restore token in %s: %s",
			w->token_path, strerror(-err));
	why[0] = '\0';
	err = portal_cast_open(&pc, err ? NULL : tok, w->dialog_ms, why, sizeof(why));
	if (err) {
		snprintf(w->error, sizeof(w->error), "%s", why);
		return err;
	}
	/* the next token first: it is the one the portal will honour now */
	if (pc.token[0]) {
		err = portal_token_save(w->token_path, pc.token);
		if (err)
			say_why(w->error, sizeof(w->error),
				"cannot store the restore token in %s: %s", w->token_path,
				strerror(-err));
	}
	n = pc.n < max ? pc.n : max;
	for (i = 0; i < n; i++)
		nodes[i] = pc.streams[i].node;
	/* every monitor on the one connection the portal opened */
	err = pw_grab_frames(pc.pw_fd, NULL, nodes, n, PW_FRAME_TIMEOUT_MS, imgs, why, sizeof(why));
	pc.pw_fd = -1; /* taken */
	if (err)
		snprintf(w->error, sizeof(w->error), "%s", why);
	for (i = 0; !err && i < n; i++) {
		shots[i].img = imgs[i];
		memcpy(shots[i].name, pc.streams[i].name, sizeof(shots[i].name));
		shots[i].x = pc.streams[i].x;
		shots[i].y = pc.streams[i].y;
	}
	portal_cast_close(&pc);
	return err ? err : (int)n;
}

const char *wl_capture_method(const struct wl_capture *w)
{
	return w->pw_node >= 0 ? "pipewire-node" : "portal";
}

const char *wl_capture_error(const struct wl_capture *w)
{
	return w->error;
}

void wl_capture_close(struct wl_capture *w)
{
	if (!w)
		return;
	free(w->pw_remote);
	free(w);
}
