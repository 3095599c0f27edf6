// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of server/core/thumb.c: real PNG, WebP and JPEG inputs made
 * here with the same libraries, their thumbnails decoded back. */
#include <errno.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <turbojpeg.h>
#include <webp/encode.h>
#include <zlib.h>

#include "check.h"
#include "core/thumb.h"

/* --- helpers --- */

/* A w x h RGB image, left half red (200, 30, 30), right half blue (30, 30,
 * 200), or (checker) a one-pixel black and white checkerboard. */
static uint8_t *make_rgb(uint32_t w, uint32_t h, int checker)
{
	uint8_t *px = malloc((size_t)w * h * 3);
	uint32_t x, y;

	for (y = 0; px && y < h; y++)
		for (x = 0; x < w; x++) {
			uint8_t *p = px + ((size_t)y * w + x) * 3;

			if (checker) {
				memset(p, (x + y) % 2 ? 255 : 0, 3);
			} else {
				p[0] = x < w / 2 ? 200 : 30;
				p[1] = 30;
				p[2] = x < w / 2 ? 30 : 200;
			}
		}
	return px;
}

static uint8_t *enc_png(const uint8_t *px, uint32_t w, uint32_t h, size_t *len)
{
	png_image pi;
	png_alloc_size_t size;
	uint8_t *buf;

	memset(&pi, 0, sizeof(pi));
	pi.version = PNG_IMAGE_VERSION;
	pi.width = w;
	pi.height = h;
	pi.format = PNG_FORMAT_RGB;
	size = PNG_IMAGE_PNG_SIZE_MAX(pi);
	buf = malloc(size);
	if (buf && !png_image_write_to_memory(&pi, buf, &size, 0, px, (png_int_32)w * 3, NULL)) {
		free(buf);
		return NULL;
	}
	*len = size;
	return buf;
}

static uint8_t *enc_webp(const uint8_t *px, uint32_t w, uint32_t h, size_t *len)
{
	uint8_t *out = NULL, *copy;

	*len = WebPEncodeRGB(px, (int)w, (int)h, (int)w * 3, 80, &out);
	copy = *len ? malloc(*len) : NULL;
	if (copy)
		memcpy(copy, out, *len);
	WebPFree(out);
	return copy;
}

static uint8_t *enc_jpeg(const uint8_t *px, uint32_t w, uint32_t h, size_t *len)
{
	unsigned char *buf = NULL;
	unsigned long size = 0;
	tjhandle tj = tjInitCompress();
	uint8_t *copy = NULL;

	if (tj && !tjCompress2(tj, px, (int)w, (int)w * 3, (int)h, TJPF_RGB, &buf, &size,
			       TJSAMP_420, 90, 0)) {
		copy = malloc(size);
		if (copy)
			memcpy(copy, buf, size);
		*len = size;
	}
	tjFree(buf);
	tjDestroy(tj);
	return copy;
}

/* Encode a w x h image of kind checker as f. */
static uint8_t *make_src(enum thumb_format f, uint32_t w, uint32_t h, int checker, size_t *len)
{
	uint8_t *px = make_rgb(w, h, checker), *out;

	out = f == THUMB_PNG	? enc_png(px, w, h, len)
	      : f == THUMB_WEBP ? enc_webp(px, w, h, len)
				: enc_jpeg(px, w, h, len);
	free(px);
	return out;
}

/* Decode the JPEG thumbnail jpg: its RGB pixels (malloc'd) and size. */
static uint8_t *dec_jpeg(const uint8_t *jpg, size_t len, int *w, int *h)
{
	tjhandle tj = tjInitDecompress();
	int sub, cs;
	uint8_t *px = NULL;

	*w = *h = 0;
	if (tj && !tjDecompressHeader3(tj, jpg, len, w, h, &sub, &cs)) {
		px = malloc((size_t)*w * *h * 3);
		if (px && tjDecompress2(tj, jpg, len, px, *w, *w * 3, *h, TJPF_RGB, 0)) {
			free(px);
			px = NULL;
		}
	}
	tjDestroy(tj);
	return px;
}

static int near(int a, int b)
{
	return abs(a - b) <= 24;
}

/* The thumbnail of a 1920x1080 red|blue image in format f: 96x54, red
 * on the left, blue on the right. */
static void two_colours(enum thumb_format f)
{
	size_t len = 0, tlen = 0;
	uint8_t *src = make_src(f, 1920, 1080, 0, &len), *jpg = NULL, *px;
	uint32_t tw = 0, th = 0;
	int w, h;

	CHECK(src);
	CHECK_EQ(thumb_make(f, src, len, &jpg, &tlen, &tw, &th), 0);
	CHECK_EQ(tw, 96);
	CHECK_EQ(th, 54);
	CHECK(tlen > 0 && tlen < 4096);
	px = jpg ? dec_jpeg(jpg, tlen, &w, &h) : NULL;
	CHECK(px);
	if (px) {
		const uint8_t *l = px + ((size_t)27 * w + 10) * 3,
			      *r = px + ((size_t)27 * w + 85) * 3;

		CHECK_EQ(w, 96);
		CHECK_EQ(h, 54);
		CHECK(near(l[0], 200) && near(l[1], 30) && near(l[2], 30));
		CHECK(near(r[0], 30) && near(r[1], 30) && near(r[2], 200));
	}
	free(px);
	free(jpg);
	free(src);
}

/* Write v big-endian at p. */
static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A small real PNG whose IHDR claims w x h (CRC fixed): its pixels are
 * never reached when the caps hold. */
static uint8_t *png_claiming(uint32_t w, uint32_t h, size_t *len)
{
	uint8_t *png = make_src(THUMB_PNG, 8, 8, 0, len);

	/* signature (8), IHDR length (4), "IHDR" (4), width, height, ... */
	if (png && !memcmp(png + 12, "IHDR", 4)) {
		put32(png + 16, w);
		put32(png + 20, h);
		put32(png + 29, (uint32_t)crc32(0, png + 12, 17));
	}
	return png;
}

/* A small real JPEG whose SOF0 claims w x h. */
static uint8_t *jpeg_claiming(uint32_t w, uint32_t h, size_t *len)
{
	uint8_t *jpg = make_src(THUMB_JPEG, 16, 16, 0, len);
	size_t i;

	for (i = 2; jpg && i + 9 < *len; i++)
		if (jpg[i] == 0xff && jpg[i + 1] == 0xc0) {
			/* FFC0, length (2), precision (1), height (2), width (2) */
			jpg[i + 5] = (uint8_t)(h >> 8);
			jpg[i + 6] = (uint8_t)h;
			jpg[i + 7] = (uint8_t)(w >> 8);
			jpg[i + 8] = (uint8_t)w;
			break;
		}
	return jpg;
}

/* thumb_make()'s answer for src (freed), f. */
static int make_err(enum thumb_format f, uint8_t *src, size_t len)
{
	uint8_t *jpg = (uint8_t *)1;
	size_t tlen = 1;
	int ret = thumb_make(f, src, len, &jpg, &tlen, NULL, NULL);

	if (ret)
		CHECK(!jpg && !tlen);
	free(jpg);
	free(src);
	return ret;
}

/* --- tests --- */

TEST(test_png)
{
	two_colours(THUMB_PNG);
}

TEST(test_webp)
{
	two_colours(THUMB_WEBP);
}

TEST(test_jpeg)
{
	two_colours(THUMB_JPEG);
}

TEST(test_format_of)
{
	enum thumb_format f = THUMB_PNG;

	CHECK_EQ(thumb_format_of("image/webp", &f), 0);
	CHECK_EQ(f, THUMB_WEBP);
	CHECK_EQ(thumb_format_of("image/jpeg", &f), 0);
	CHECK_EQ(f, THUMB_JPEG);
	CHECK_EQ(thumb_format_of("image/png", &f), 0);
	CHECK_EQ(f, THUMB_PNG);
	CHECK_EQ(thumb_format_of("image/gif", &f), -EPROTONOSUPPORT);
	CHECK_EQ(thumb_format_of("image/PNG", &f), -EPROTONOSUPPORT);
	CHECK_EQ(thumb_format_of(NULL, &f), -EPROTONOSUPPORT);
}

/* The aspect is kept on both orientations; a small image is not enlarged. */
TEST(test_size)
{
	uint32_t w, h;

	thumb_size(1920, 1080, &w, &h);
	CHECK(w == 96 && h == 54);
	thumb_size(1080, 1920, &w, &h);
	CHECK(w == 54 && h == 96);
	thumb_size(3840, 1600, &w, &h);
	CHECK(w == 96 && h == 40);
	thumb_size(16384, 1, &w, &h);
	CHECK(w == 96 && h == 1);
	thumb_size(50, 30, &w, &h);
	CHECK(w == 50 && h == 30);
	thumb_size(96, 96, &w, &h);
	CHECK(w == 96 && h == 96);
}

/* A portrait source comes back at most 96 high, with its aspect. */
TEST(test_portrait)
{
	size_t len = 0, tlen = 0;
	uint8_t *src = make_src(THUMB_WEBP, 1080, 1920, 0, &len), *jpg = NULL, *px;
	uint32_t tw = 0, th = 0;
	int w, h;

	CHECK_EQ(thumb_make(THUMB_WEBP, src, len, &jpg, &tlen, &tw, &th), 0);
	CHECK(tw == 54 && th == 96);
	px = jpg ? dec_jpeg(jpg, tlen, &w, &h) : NULL;
	CHECK(px && w == 54 && h == 96);
	free(px);
	free(jpg);
	free(src);
}

/* The spread of the channel values of the thumbnail of src (freed). */
static int spread(enum thumb_format f, uint8_t *src, size_t len)
{
	size_t tlen = 0, i;
	uint8_t *jpg = NULL, *px;
	int w = 0, h = 0, lo = 255, hi = 0, ok;

	CHECK_EQ(thumb_make(f, src, len, &jpg, &tlen, NULL, NULL), 0);
	px = jpg ? dec_jpeg(jpg, tlen, &w, &h) : NULL;
	ok = px && w == 96 && h == 54;
	CHECK(ok);
	for (i = 0; px && i < (size_t)w * h * 3; i++) {
		lo = px[i] < lo ? px[i] : lo;
		hi = px[i] > hi ? px[i] : hi;
	}
	free(px);
	free(jpg);
	free(src);
	return ok && lo >= 118 && hi <= 138 ? 0 : hi - lo + 1000 * !ok;
}

/* One-pixel detail (a black and white checkerboard, the worst case of
 * text) averages to flat grey, through each decoder's path (PNG: full
 * size then the box; lossless WebP: libwebp's rescaler then the box):
 * nothing of it is left to read. */
TEST(test_detail_gone)
{
	uint8_t *px = make_rgb(1920, 1080, 1), *webp = NULL, *copy = NULL, *png;
	size_t len = 0, wlen = WebPEncodeLosslessRGB(px, 1920, 1080, 1920 * 3, &webp);

	CHECK(wlen > 0);
	copy = malloc(wlen);
	memcpy(copy, webp, wlen);
	WebPFree(webp);
	free(px);
	png = make_src(THUMB_PNG, 1920, 1080, 1, &len);
	CHECK_EQ(spread(THUMB_PNG, png, len), 0);
	CHECK_EQ(spread(THUMB_WEBP, copy, wlen), 0);
}

/* A PNG with alpha: transparent pixels come out black (composed onto a
 * zeroed buffer), never whatever the decoder's buffer held before. */
TEST(test_png_alpha)
{
	uint8_t px[32 * 32 * 4], *buf, *jpg = NULL, *out;
	png_image pi;
	png_alloc_size_t size;
	size_t tlen = 0, i;
	int w, h, hi = 0;

	for (i = 0; i < sizeof(px); i += 4) {
		px[i] = 250; /* red, fully transparent */
		px[i + 1] = px[i + 2] = 10;
		px[i + 3] = 0;
	}
	memset(&pi, 0, sizeof(pi));
	pi.version = PNG_IMAGE_VERSION;
	pi.width = pi.height = 32;
	pi.format = PNG_FORMAT_RGBA;
	size = PNG_IMAGE_PNG_SIZE_MAX(pi);
	buf = malloc(size);
	CHECK(png_image_write_to_memory(&pi, buf, &size, 0, px, 32 * 4, NULL));
	CHECK_EQ(thumb_make(THUMB_PNG, buf, size, &jpg, &tlen, NULL, NULL), 0);
	out = jpg ? dec_jpeg(jpg, tlen, &w, &h) : NULL;
	CHECK(out && w == 32 && h == 32);
	for (i = 0; out && i < (size_t)w * h * 3; i++)
		hi = out[i] > hi ? out[i] : hi;
	CHECK(out && hi <= 8);
	free(out);
	free(jpg);
	free(buf);
}

/* Bytes that are not the format named, cut short, empty or of another
 * format are refused. */
TEST(test_bad_input)
{
	static const uint8_t junk[64] = "this is not an image at all";
	size_t len = 0;
	uint8_t *png = make_src(THUMB_PNG, 640, 480, 0, &len), *copy;

	CHECK_EQ(make_err(THUMB_PNG, NULL, 0), -EINVAL);
	copy = malloc(sizeof(junk));
	memcpy(copy, junk, sizeof(junk));
	CHECK_EQ(make_err(THUMB_WEBP, copy, sizeof(junk)), -EINVAL);
	copy = malloc(len);
	memcpy(copy, png, len);
	CHECK_EQ(make_err(THUMB_JPEG, copy, len), -EINVAL); /* a PNG named JPEG */
	copy = malloc(len);
	memcpy(copy, png, len);
	CHECK_EQ(make_err(THUMB_WEBP, copy, len), -EINVAL); /* a PNG named WebP */
	copy = malloc(len / 2);
	memcpy(copy, png, len / 2);
	CHECK_EQ(make_err(THUMB_PNG, copy, len / 2), -EINVAL); /* cut short */
	copy = malloc(len);
	memcpy(copy, png, len);
	CHECK_EQ(make_err((enum thumb_format)7, copy, len), -EPROTONOSUPPORT);
	copy = malloc(len);
	memcpy(copy, png, len);
	CHECK_EQ(make_err(THUMB_PNG, copy, len), 0); /* the same bytes, whole */
	free(png);
}

/* The caps: sizes read from the header are refused before any pixel is
 * allocated (the files are tiny; their headers claim the size). */
struct par {
	const uint8_t *src;
	size_t len;
	int ret;
};

static void *par_thumb(void *arg)
{
	struct par *a = arg;
	uint8_t *out = NULL;
	size_t n = 0;
	int i;

	for (i = 0; i < 3 && !a->ret; i++) {
		a->ret = thumb_make(THUMB_PNG, a->src, a->len, &out, &n, NULL, NULL);
		free(out);
		out = NULL;
	}
	return NULL;
}

/* Eight threads asking at once: at most THUMB_DECODES_MAX decode together
 * (the memory bound), and every one is served. */
TEST(test_decodes_bounded)
{
	size_t len = 0, i;
	uint8_t *src = make_src(THUMB_PNG, 1920, 1080, 0, &len);
	struct par a[8];
	pthread_t t[8];

	CHECK(src != NULL);
	for (i = 0; i < 8; i++) {
		a[i] = (struct par){.src = src, .len = len};
		CHECK_EQ(pthread_create(&t[i], NULL, par_thumb, &a[i]), 0);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		CHECK_EQ(a[i].ret, 0);
	}
	CHECK(thumb_decodes_peak() >= 1);
	CHECK_EQ(THUMB_DECODES_MAX, 2); /* the bound docs/ARCHITECTURE.md states */
	CHECK(thumb_decodes_peak() <= 2);
	free(src);
}

TEST(test_caps)
{
	static const uint32_t png_sizes[][3] = {
	    {16385, 1, -EFBIG},
	    {1, 16385, -EFBIG},
	    {8200, 8200, -EFBIG},
	    /* within the caps the claimed size is decoded (and the data,
	     * short for it, refused): the caps are what refuse the others */
	    {16384, 2, -EINVAL},
	};
	size_t len = 0, i;
	uint8_t *src;

	for (i = 0; i < sizeof(png_sizes) / sizeof(png_sizes[0]); i++) {
		src = png_claiming(png_sizes[i][0], png_sizes[i][1], &len);
		CHECK_EQ(make_err(THUMB_PNG, src, len), (int)png_sizes[i][2]);
	}
	src = jpeg_claiming(16385, 16, &len);
	CHECK_EQ(make_err(THUMB_JPEG, src, len), -EFBIG);
	src = jpeg_claiming(8200, 8200, &len);
	CHECK_EQ(make_err(THUMB_JPEG, src, len), -EFBIG);
	src = jpeg_claiming(4000, 3000, &len);
	CHECK_EQ(make_err(THUMB_JPEG, src, len), -EINVAL);
	/* an encoded source over THUMB_SRC_MAX bytes is not read at all */
	CHECK_EQ(thumb_make(THUMB_PNG, "x", (size_t)THUMB_SRC_MAX + 1, &(uint8_t *){NULL},
			    &(size_t){0}, NULL, NULL),
		 -EFBIG);
}

int main(void)
{
	RUN(test_png);
	RUN(test_decodes_bounded);
	RUN(test_webp);
	RUN(test_jpeg);
	RUN(test_format_of);
	RUN(test_size);
	RUN(test_portrait);
	RUN(test_detail_gone);
	RUN(test_png_alpha);
	RUN(test_bad_input);
	RUN(test_caps);
	return CHECK_DONE();
}
