// SPDX-License-Identifier: BSD-2-Clause
/*
 * actlog-pattern - an X11 client for the screenshot tests: one
 * override-redirect window (placed exactly, no window manager needed) at
 * X,Y of W x H filled with a known pattern. Prints "ready" once the pattern
 * is on the screen, then redraws on Expose until killed.
 *
 *   actlog-pattern X Y W H
 *
 * The pattern, for a pixel (x, y) of the window:
 *   y >= H - 32 (the bottom band):  (x % 256, 255 - x % 256, 128)
 *   else y < (H - 32) / 2:          x < W / 2 ? red (255,0,0) : green (0,255,0)
 *   else:                           x < W / 2 ? blue (0,0,255) : yellow (255,255,0)
 * tests/integration/test_capture.sh computes the same function.
 */
#include <stdio.h>
#include <stdlib.h>

#include <xcb/xcb.h>

static xcb_connection_t *c;
static xcb_gcontext_t gc;
static uint32_t rmask, gmask, bmask;

/* The TrueColor pixel of an RGB colour. */
static uint32_t pixel(uint8_t r, uint8_t g, uint8_t b)
{
	uint32_t p = 0, m, v;
	const uint32_t masks[3] = {rmask, gmask, bmask};
	const uint8_t vals[3] = {r, g, b};
	int i, shift, bits;

	for (i = 0; i < 3; i++) {
		m = masks[i];
		shift = __builtin_ctz(m);
		bits = __builtin_popcount(m);
		v = bits >= 8 ? (uint32_t)vals[i] << (bits - 8) : (uint32_t)vals[i] >> (8 - bits);
		p |= (v << shift) & m;
	}
	return p;
}

static void fill(xcb_window_t w, uint32_t px, int16_t x, int16_t y, uint16_t cw, uint16_t ch)
{
	xcb_rectangle_t r = {x, y, cw, ch};

	xcb_change_gc(c, gc, XCB_GC_FOREGROUND, &px);
	xcb_poly_fill_rectangle(c, w, gc, 1, &r);
}

static void draw(xcb_window_t w, int W, int H)
{
	int top = (H - 32) / 2, x;

	fill(w, pixel(255, 0, 0), 0, 0, (uint16_t)(W / 2), (uint16_t)top);
	fill(w, pixel(0, 255, 0), (int16_t)(W / 2), 0, (uint16_t)(W - W / 2), (uint16_t)top);
	fill(w, pixel(0, 0, 255), 0, (int16_t)top, (uint16_t)(W / 2), (uint16_t)(H - 32 - top));
	fill(w, pixel(255, 255, 0), (int16_t)(W / 2), (int16_t)top, (uint16_t)(W - W / 2),
	     (uint16_t)(H - 32 - top));
	for (x = 0; x < W; x++)
		fill(w, pixel((uint8_t)(x % 256), (uint8_t)(255 - x % 256), 128), (int16_t)x,
		     (int16_t)(H - 32), 1, 32);
	free(xcb_get_input_focus_reply(c, xcb_get_input_focus(c), NULL)); /* a round trip */
}

int main(int argc, char **argv)
{
	uint32_t vals[2];
	xcb_generic_event_t *ev;
	xcb_depth_iterator_t di;
	xcb_screen_t *s;
	xcb_window_t w;
	int X, Y, W, H, ready = 0;

	if (argc != 5 || (W = atoi(argv[3])) < 64 || (H = atoi(argv[4])) < 64) {
		fprintf(stderr, "usage: actlog-pattern X Y W H (W, H >= 64)\n");
		return 2;
	}
	X = atoi(argv[1]);
	Y = atoi(argv[2]);
	c = xcb_connect(NULL, NULL);
	if (xcb_connection_has_error(c)) {
		fprintf(stderr, "actlog-pattern: cannot open the display\n");
		return 1;
	}
	s = xcb_setup_roots_iterator(xcb_get_setup(c)).data;
	for (di = xcb_screen_allowed_depths_iterator(s); di.rem; xcb_depth_next(&di)) {
		xcb_visualtype_iterator_t vi = xcb_depth_visuals_iterator(di.data);

		for (; vi.rem; xcb_visualtype_next(&vi))
			if (vi.data->visual_id == s->root_visual) {
				rmask = vi.data->red_mask;
				gmask = vi.data->green_mask;
				bmask = vi.data->blue_mask;
			}
	}
	if (!rmask || !gmask || !bmask) {
		fprintf(stderr, "actlog-pattern: the root visual is not TrueColor\n");
		return 1;
	}
	w = xcb_generate_id(c);
	vals[0] = 1; /* override-redirect: exactly where asked */
	vals[1] = XCB_EVENT_MASK_EXPOSURE | XCB_EVENT_MASK_STRUCTURE_NOTIFY;
	xcb_create_window(c, XCB_COPY_FROM_PARENT, w, s->root, (int16_t)X, (int16_t)Y, (uint16_t)W,
			  (uint16_t)H, 0, XCB_WINDOW_CLASS_INPUT_OUTPUT, s->root_visual,
			  XCB_CW_OVERRIDE_REDIRECT | XCB_CW_EVENT_MASK, vals);
	gc = xcb_generate_id(c);
	xcb_create_gc(c, gc, w, 0, NULL);
	xcb_map_window(c, w);
	xcb_flush(c);
	while ((ev = xcb_wait_for_event(c))) {
		int t = ev->response_type & ~0x80;

		free(ev);
		if (t != XCB_EXPOSE)
			continue;
		draw(w, W, H);
		if (!ready) {
			ready = 1;
			printf("ready\n");
			fflush(stdout);
		}
	}
	xcb_disconnect(c);
	return 0;
}
