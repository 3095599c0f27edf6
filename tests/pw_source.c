// SPDX-License-Identifier: BSD-2-Clause
/*
 * pw_source.c - actlog-pwsource, a PipeWire video source with a known
 * frame for tests/integration/test_pipewire.sh (what a compositor's
 * screencast stream is to actlog-session).
 *
 *   actlog-pwsource NAME FORMAT WIDTH HEIGHT PATTERN [PAD]
 *
 * FORMAT: BGRx BGRA RGBx RGBA xRGB ARGB xBGR ABGR RGB BGR. PATTERN:
 * "solid:RRGGBB", or "ramp": pixel (x, y) is r = x & 255, g = y & 255,
 * b = (7x + 13y) & 255. PAD: bytes added to each row; with PAD the chunk's
 * stride is left 0 (as GStreamer's pipewiresink does), so the reader must
 * derive it from the chunk's size. Alpha/x bytes are 0xff.
 *
 * A driver node (Video/Source, never suspended) that produces ten frames
 * a second in MemFd buffers while a consumer is linked. Prints "node ID"
 * once PipeWire has given it an id. Exits on SIGTERM or when PipeWire
 * goes away.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pipewire/pipewire.h>
#include <spa/param/video/format-utils.h>
#include <spa/pod/builder.h>

struct src {
	struct pw_main_loop *ml;
	struct pw_stream *stream;
	struct spa_hook l;
	struct spa_source *timer;
	uint32_t fmt, w, h, bpp, pad;
	int solid;
	uint8_t rgb[3];
	int printed;
};

static const struct {
	const char *name;
	uint32_t id;
	int bpp;
	int8_t r, g, b; /* byte offsets; -1: none */
} formats[] = {
    {"BGRx", SPA_VIDEO_FORMAT_BGRx, 4, 2, 1, 0}, {"BGRA", SPA_VIDEO_FORMAT_BGRA, 4, 2, 1, 0},
    {"RGBx", SPA_VIDEO_FORMAT_RGBx, 4, 0, 1, 2}, {"RGBA", SPA_VIDEO_FORMAT_RGBA, 4, 0, 1, 2},
    {"xRGB", SPA_VIDEO_FORMAT_xRGB, 4, 1, 2, 3}, {"ARGB", SPA_VIDEO_FORMAT_ARGB, 4, 1, 2, 3},
    {"xBGR", SPA_VIDEO_FORMAT_xBGR, 4, 3, 2, 1}, {"ABGR", SPA_VIDEO_FORMAT_ABGR, 4, 3, 2, 1},
    {"RGB", SPA_VIDEO_FORMAT_RGB, 3, 0, 1, 2},	 {"BGR", SPA_VIDEO_FORMAT_BGR, 3, 2, 1, 0},
};
static unsigned int fi;

static void fill(struct src *s, uint8_t *p, uint32_t stride)
{
	uint32_t x, y;
	uint8_t *q;

	for (y = 0; y < s->h; y++)
		for (x = 0; x < s->w; x++) {
			q = p + (size_t)y * stride + (size_t)x * s->bpp;
			memset(q, 0xff, s->bpp);
			q[formats[fi].r] = s->solid ? s->rgb[0] : (uint8_t)x;
			q[formats[fi].g] = s->solid ? s->rgb[1] : (uint8_t)y;
			q[formats[fi].b] = s->solid ? s->rgb[2] : (uint8_t)(7 * x + 13 * y);
		}
}

static void on_process(void *data)
{
	struct src *s = data;
	struct pw_buffer *b = pw_stream_dequeue_buffer(s->stream);
	struct spa_data *d;
	uint32_t stride = s->w * s->bpp + s->pad;

	if (!b)
		return;
	d = &b->buffer->datas[0];
	if (d->data && d->maxsize >= stride * s->h) {
		fill(s, d->data, stride);
		d->chunk->offset = 0;
		d->chunk->size = stride * s->h;
		d->chunk->stride = s->pad ? 0 : (int32_t)stride;
		d->chunk->flags = 0;
	}
	pw_stream_queue_buffer(s->stream, b);
}

static void on_param(void *data, uint32_t id, const struct spa_pod *param)
{
	struct src *s = data;
	uint8_t buf[256];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buf, sizeof(buf));
	const struct spa_pod *params[1];
	uint32_t stride = s->w * s->bpp + s->pad;

	if (id != SPA_PARAM_Format || !param)
		return;
	params[0] = spa_pod_builder_add_object(
	    &b, SPA_TYPE_OBJECT_ParamBuffers, SPA_PARAM_Buffers, SPA_PARAM_BUFFERS_buffers,
	    SPA_POD_CHOICE_RANGE_Int(4, 2, 8), SPA_PARAM_BUFFERS_blocks, SPA_POD_Int(1),
	    SPA_PARAM_BUFFERS_size, SPA_POD_Int((int32_t)(stride * s->h)), SPA_PARAM_BUFFERS_stride,
	    SPA_POD_Int((int32_t)stride), SPA_PARAM_BUFFERS_dataType,
	    SPA_POD_CHOICE_FLAGS_Int(1 << SPA_DATA_MemFd));
	pw_stream_update_params(s->stream, params, 1);
}

static void on_state(void *data, enum pw_stream_state old, enum pw_stream_state state,
		     const char *error)
{
	struct src *s = data;

	(void)old;
	if (!s->printed && pw_stream_get_node_id(s->stream) != SPA_ID_INVALID) {
		printf("node %u\n", pw_stream_get_node_id(s->stream));
		fflush(stdout);
		s->printed = 1;
	}
	if (state == PW_STREAM_STATE_ERROR || state == PW_STREAM_STATE_UNCONNECTED) {
		fprintf(stderr, "actlog-pwsource: stream %s: %s\n",
			pw_stream_state_as_string(state), error ? error : "");
		pw_main_loop_quit(s->ml);
	}
}

static const struct pw_stream_events events = {
    PW_VERSION_STREAM_EVENTS,
    .state_changed = on_state,
    .param_changed = on_param,
    .process = on_process,
};

static void on_timer(void *data, uint64_t expirations)
{
	struct src *s = data;

	(void)expirations;
	if (pw_stream_get_state(s->stream, NULL) == PW_STREAM_STATE_STREAMING)
		pw_stream_trigger_process(s->stream);
}

static void on_signal(void *data, int sig)
{
	(void)sig;
	pw_main_loop_quit(((struct src *)data)->ml);
}

int main(int argc, char **argv)
{
	struct src s = {0};
	uint8_t buf[1024];
	struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buf, sizeof(buf));
	const struct spa_pod *params[1];
	struct spa_rectangle size;
	struct spa_fraction rate = SPA_FRACTION(10, 1);
	struct timespec ts = {0, 100000000};
	struct pw_loop *loop;
	unsigned int rgb;

	if (argc < 6) {
		fprintf(stderr, "usage: actlog-pwsource NAME FORMAT WIDTH HEIGHT PATTERN [PAD]\n");
		return 2;
	}
	for (fi = 0; fi < SPA_N_ELEMENTS(formats) && strcmp(formats[fi].name, argv[2]); fi++)
		;
	s.w = (uint32_t)atoi(argv[3]);
	s.h = (uint32_t)atoi(argv[4]);
	s.pad = argc > 6 ? (uint32_t)atoi(argv[6]) : 0;
	if (fi == SPA_N_ELEMENTS(formats) || !s.w || !s.h || s.w > 4096 || s.h > 4096 ||
	    s.pad > 64) {
		fprintf(stderr, "actlog-pwsource: bad format or size\n");
		return 2;
	}
	s.fmt = formats[fi].id;
	s.bpp = (uint32_t)formats[fi].bpp;
	if (!strncmp(argv[5], "solid:", 6) && sscanf(argv[5] + 6, "%6x", &rgb) == 1) {
		s.solid = 1;
		s.rgb[0] = (uint8_t)(rgb >> 16), s.rgb[1] = (uint8_t)(rgb >> 8),
		s.rgb[2] = (uint8_t)rgb;
	} else if (strcmp(argv[5], "ramp")) {
		fprintf(stderr, "actlog-pwsource: PATTERN is solid:RRGGBB or ramp\n");
		return 2;
	}
	pw_init(&argc, &argv);
	s.ml = pw_main_loop_new(NULL);
	loop = pw_main_loop_get_loop(s.ml);
	pw_loop_add_signal(loop, SIGTERM, on_signal, &s);
	pw_loop_add_signal(loop, SIGINT, on_signal, &s);
	s.stream = pw_stream_new_simple(
	    loop, argv[1],
	    pw_properties_new(PW_KEY_MEDIA_CLASS, "Video/Source", PW_KEY_NODE_NAME, argv[1],
			      "session.suspend-timeout-seconds", "0", NULL),
	    &events, &s);
	size = SPA_RECTANGLE(s.w, s.h);
	params[0] = spa_pod_builder_add_object(
	    &b, SPA_TYPE_OBJECT_Format, SPA_PARAM_EnumFormat, SPA_FORMAT_mediaType,
	    SPA_POD_Id(SPA_MEDIA_TYPE_video), SPA_FORMAT_mediaSubtype,
	    SPA_POD_Id(SPA_MEDIA_SUBTYPE_raw), SPA_FORMAT_VIDEO_format, SPA_POD_Id(s.fmt),
	    SPA_FORMAT_VIDEO_size, SPA_POD_Rectangle(&size), SPA_FORMAT_VIDEO_framerate,
	    SPA_POD_Fraction(&rate));
	if (pw_stream_connect(s.stream, PW_DIRECTION_OUTPUT, PW_ID_ANY,
			      PW_STREAM_FLAG_DRIVER | PW_STREAM_FLAG_MAP_BUFFERS, params, 1) < 0) {
		fprintf(stderr, "actlog-pwsource: cannot connect to PipeWire\n");
		return 1;
	}
	s.timer = pw_loop_add_timer(loop, on_timer, &s);
	pw_loop_update_timer(loop, s.timer, &ts, &ts, false);
	pw_main_loop_run(s.ml);
	pw_stream_destroy(s.stream);
	pw_main_loop_destroy(s.ml);
	pw_deinit();
	return 0;
}
