// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_image.c - ZPixmap conversion, box blur, round trips through each
 * encoder (PNG, WebP, JPEG) and its library's own decoder, and WebP's
 * choice between lossless and lossy by the colour count.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "image.h"

static const uint8_t *px(const struct image *im, uint32_t x, uint32_t y)
{
	return im->px + ((size_t)y * im->w + x) * 3;
}

TEST(zpixmap_32_lsb)
{
	/* 2x2, 32 bpp little-endian BGRX (the usual TrueColor), stride 8 */
	const uint8_t d[] = {0x30, 0x20, 0x10, 0xff, 0x00, 0x00, 0xff, 0x00,
			     0x00, 0xff, 0x00, 0x00, 0xff, 0x00, 0x00, 0x00};
	struct image_xfmt f = {
	    .bpp = 32, .stride = 8, .red_mask = 0xff0000, .green_mask = 0xff00, .blue_mask = 0xff};
	struct image im;

	CHECK_EQ(image_from_zpixmap(&im, d, sizeof(d), 2, 2, &f), 0);
	CHECK_EQ(px(&im, 0, 0)[0], 0x10);
	CHECK_EQ(px(&im, 0, 0)[1], 0x20);
	CHECK_EQ(px(&im, 0, 0)[2], 0x30);
	CHECK_EQ(px(&im, 1, 0)[0], 0xff); /* red */
	CHECK_EQ(px(&im, 1, 0)[2], 0);
	CHECK_EQ(px(&im, 0, 1)[1], 0xff); /* green */
	CHECK_EQ(px(&im, 1, 1)[2], 0xff); /* blue */
	image_free(&im);
}

TEST(zpixmap_32_msb)
{
	/* the same red pixel from a big-endian server: XRGB */
	const uint8_t d[] = {0x00, 0xff, 0x00, 0x00, 0x00, 0x10, 0x20, 0x30};
	struct image_xfmt f = {.bpp = 32,
			       .msb_first = 1,
			       .stride = 8,
			       .red_mask = 0xff0000,
			       .green_mask = 0xff00,
			       .blue_mask = 0xff};
	struct image im;

	CHECK_EQ(image_from_zpixmap(&im, d, sizeof(d), 2, 1, &f), 0);
	CHECK_EQ(px(&im, 0, 0)[0], 0xff);
	CHECK_EQ(px(&im, 0, 0)[1], 0);
	CHECK_EQ(px(&im, 1, 0)[0], 0x10);
	CHECK_EQ(px(&im, 1, 0)[1], 0x20);
	CHECK_EQ(px(&im, 1, 0)[2], 0x30);
	image_free(&im);
}

TEST(zpixmap_24_and_16)
{
	/* 24 bpp packed with a padded row (stride 8 for 2 pixels) */
	const uint8_t d24[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0xaa, 0xaa};
	/* 16 bpp RGB565: white, pure red */
	const uint8_t d16[] = {0xff, 0xff, 0x00, 0xf8};
	struct image_xfmt f24 = {
	    .bpp = 24, .stride = 8, .red_mask = 0xff0000, .green_mask = 0xff00, .blue_mask = 0xff};
	struct image_xfmt f16 = {
	    .bpp = 16, .stride = 4, .red_mask = 0xf800, .green_mask = 0x7e0, .blue_mask = 0x1f};
	struct image im;

	CHECK_EQ(image_from_zpixmap(&im, d24, sizeof(d24), 2, 1, &f24), 0);
	CHECK_EQ(px(&im, 0, 0)[0], 0x03);
	CHECK_EQ(px(&im, 1, 0)[2], 0x04);
	image_free(&im);
	CHECK_EQ(image_from_zpixmap(&im, d16, sizeof(d16), 2, 1, &f16), 0);
	CHECK_EQ(px(&im, 0, 0)[0], 255);
	CHECK_EQ(px(&im, 0, 0)[1], 255);
	CHECK_EQ(px(&im, 0, 0)[2], 255);
	CHECK_EQ(px(&im, 1, 0)[0], 255);
	CHECK_EQ(px(&im, 1, 0)[1], 0);
	image_free(&im);
}

TEST(zpixmap_refuses)
{
	uint8_t d[64] = {0};
	struct image_xfmt f = {
	    .bpp = 32, .stride = 8, .red_mask = 0xff0000, .green_mask = 0xff00, .blue_mask = 0xff};
	struct image im;

	CHECK_EQ(image_from_zpixmap(&im, d, 15, 2, 2, &f), -EINVAL); /* short */
	CHECK_EQ(image_from_zpixmap(&im, d, sizeof(d), 0, 2, &f), -EINVAL);
	CHECK_EQ(image_from_zpixmap(&im, d, sizeof(d), IMAGE_MAX_DIM + 1, 1, &f), -E2BIG);
	CHECK_EQ(image_from_zpixmap(&im, d, sizeof(d), 8000, 8000, &f), -E2BIG);
	f.stride = 4; /* shorter than a row */
	CHECK_EQ(image_from_zpixmap(&im, d, sizeof(d), 2, 2, &f), -EINVAL);
	f.stride = 8;
	f.bpp = 8;
	CHECK_EQ(image_from_zpixmap(&im, d, sizeof(d), 2, 2, &f), -EINVAL);
	f.bpp = 32;
	f.green_mask = 0xf0f0; /* holes */
	CHECK_EQ(image_from_zpixmap(&im, d, sizeof(d), 2, 2, &f), -EINVAL);
	CHECK(im.px == NULL);
	CHECK_EQ(image_check_size(7680, 4320), 0);
}

/* 64x32: left half red, right half blue. */
static void halves(struct image *im)
{
	uint32_t x, y;

	im->w = 64;
	im->h = 32;
	im->px = malloc(64 * 32 * 3);
	for (y = 0; y < 32; y++)
		for (x = 0; x < 64; x++) {
			uint8_t *p = im->px + (y * 64 + x) * 3;

			p[0] = x < 32 ? 200 : 0;
			p[1] = 10;
			p[2] = x < 32 ? 0 : 250;
		}
}

TEST(blur_box)
{
	struct image im;
	uint64_t sum_r = 0;
	uint32_t x, y;

	halves(&im);
	CHECK_EQ(image_blur(&im, IMAGE_MAX_BLUR + 1), -EINVAL);
	CHECK_EQ(image_blur(&im, 0), 0);
	CHECK_EQ(px(&im, 31, 5)[0], 200);
	CHECK_EQ(image_blur(&im, 4), 0);
	/* far from the edge: unchanged */
	CHECK_EQ(px(&im, 10, 10)[0], 200);
	CHECK_EQ(px(&im, 10, 10)[2], 0);
	CHECK_EQ(px(&im, 50, 10)[2], 250);
	CHECK_EQ(px(&im, 50, 10)[1], 10);
	/* the edge is smeared over 2r+1 pixels: at x=31, 5 of 9 are red */
	CHECK_EQ(px(&im, 31, 10)[0], (5 * 200 + 4) / 9);
	CHECK_EQ(px(&im, 32, 10)[0], (4 * 200 + 4) / 9);
	CHECK_EQ(px(&im, 27, 10)[0], 200);
	CHECK_EQ(px(&im, 28, 10)[0], (8 * 200 + 4) / 9);
	/* the mean colour of the image is kept */
	for (y = 0; y < im.h; y++)
		for (x = 0; x < im.w; x++)
			sum_r += px(&im, x, y)[0];
	CHECK(sum_r / (64 * 32) >= 99 && sum_r / (64 * 32) <= 101);
	/* a radius larger than the image is fine (edges repeat) */
	CHECK_EQ(image_blur(&im, 200), 0);
	CHECK(px(&im, 0, 0)[0] > 90 && px(&im, 0, 0)[0] < 200);
	image_free(&im);
}

TEST(png_round_trip)
{
	struct image im, back;
	uint8_t *buf;
	size_t len;
	uint32_t x, y;

	im.w = 37; /* odd sizes: no row padding assumptions */
	im.h = 13;
	im.px = malloc(37 * 13 * 3);
	for (y = 0; y < 13; y++)
		for (x = 0; x < 37; x++) {
			uint8_t *p = im.px + (y * 37 + x) * 3;

			p[0] = (uint8_t)(x * 7);
			p[1] = (uint8_t)(y * 19);
			p[2] = (uint8_t)(x ^ y);
		}
	CHECK_EQ(png_encode(&im, &buf, &len), 0);
	CHECK(len > 8 && !memcmp(buf, "\x89PNG\r\n\x1a\n", 8));
	CHECK_EQ(png_decode(buf, len, &back), 0);
	CHECK_EQ(back.w, 37);
	CHECK_EQ(back.h, 13);
	CHECK(back.px && !memcmp(back.px, im.px, 37 * 13 * 3));
	/* a truncated file is refused */
	image_free(&back);
	CHECK(png_decode(buf, len / 2, &back) < 0);
	CHECK(back.px == NULL);
	CHECK_EQ(png_decode((const uint8_t *)"not a png", 9, &back), -EINVAL);
	free(buf);
	image_free(&im);
	CHECK_EQ(png_encode(&im, &buf, &len), -EINVAL);
}

/* w x h filled with one colour. */
static void flat(struct image *im, uint32_t w, uint32_t h, const uint8_t rgb[3])
{
	size_t i;

	im->w = w;
	im->h = h;
	im->px = malloc((size_t)w * h * 3);
	for (i = 0; i < (size_t)w * h; i++)
		memcpy(im->px + i * 3, rgb, 3);
}

/* 160x96 black "text": 1-pixel strokes on white, a pattern a blur must
 * wash out. */
static void strokes(struct image *im)
{
	uint32_t x, y;

	im->w = 160;
	im->h = 96;
	im->px = malloc(160 * 96 * 3);
	for (y = 0; y < 96; y++)
		for (x = 0; x < 160; x++)
			memset(im->px + (y * 160 + x) * 3,
			       (x % 6 == 1 || (y % 12 == 3 && x % 40 < 30)) ? 0 : 255, 3);
}

/* w x h "photograph": a diagonal gradient with per-pixel noise (xorshift),
 * a colour for nearly every pixel, as a camera image or video has. */
static void photo(struct image *im, uint32_t w, uint32_t h)
{
	uint32_t x, y, r = 2463534242u;
	uint8_t *p;

	im->w = w;
	im->h = h;
	im->px = malloc((size_t)w * h * 3);
	for (y = 0, p = im->px; y < h; y++)
		for (x = 0; x < w; x++, p += 3) {
			r ^= r << 13;
			r ^= r >> 17;
			r ^= r << 5;
			p[0] = (uint8_t)((x + y) / 3 + (r & 31));
			p[1] = (uint8_t)(x * 2 + (r >> 8 & 31));
			p[2] = (uint8_t)(y * 2 + (r >> 16 & 31));
		}
}

/* w x 1 image of n distinct colours (n <= w): pixel i is colour i % n,
 * so colours repeat, never in runs when n > 1. */
static void ncolours(struct image *im, uint32_t w, uint32_t n)
{
	uint32_t i, c;

	im->w = w;
	im->h = 1;
	im->px = malloc((size_t)w * 3);
	for (i = 0; i < w; i++) {
		c = (i % n) * 2731u; /* distinct for i % n < 6143, spread over 24 bits */
		im->px[i * 3] = (uint8_t)(c >> 16);
		im->px[i * 3 + 1] = (uint8_t)(c >> 8);
		im->px[i * 3 + 2] = (uint8_t)c;
	}
}

/* w x h "anti-aliased text": white, with 6x9 cells of which about a
 * third hold ink, each inked pixel one of 32 greys (xorshift): edges,
 * no gradients. */
static void aa_text(struct image *im, uint32_t w, uint32_t h)
{
	uint32_t x, y, r = 88172645u;
	uint8_t v;

	im->w = w;
	im->h = h;
	im->px = malloc((size_t)w * h * 3);
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			r ^= r << 13;
			r ^= r >> 17;
			r ^= r << 5;
			v = (x / 6 + y / 9 * 7) % 3 == 0 && (r & 3) ? (uint8_t)(r >> 8 & 31) * 8
								    : 255;
			memset(im->px + ((size_t)y * w + x) * 3, v, 3);
		}
}

/* w x h smooth diagonal gradient (a few hundred colours, each a small
 * step from its neighbours), as a wallpaper. */
static void gradient(struct image *im, uint32_t w, uint32_t h)
{
	uint32_t x, y;
	uint8_t *p;

	im->w = w;
	im->h = h;
	im->px = malloc((size_t)w * h * 3);
	for (y = 0, p = im->px; y < h; y++)
		for (x = 0; x < w; x++, p += 3) {
			p[0] = (uint8_t)((x + y) * 255 / (w + h));
			p[1] = (uint8_t)(40 + (x + y) * 100 / (w + h));
			p[2] = (uint8_t)(200 - (x + y) * 150 / (w + h));
		}
}

/* The first chunk of a WebP: "VP8L" (lossless) or "VP8 " (lossy). */
static int webp_chunk(const uint8_t *buf, size_t len, const char *fourcc)
{
	return len > 16 && !memcmp(buf, "RIFF", 4) && !memcmp(buf + 8, "WEBP", 4) &&
	       !memcmp(buf + 12, fourcc, 4);
}

/* The mean absolute difference of two images' channels (same size). */
static double mad(const struct image *a, const struct image *b)
{
	size_t i, n = (size_t)a->w * a->h * 3;
	uint64_t sum = 0;

	for (i = 0; i < n; i++)
		sum += (uint64_t)abs((int)a->px[i] - (int)b->px[i]);
	return (double)sum / (double)n;
}

TEST(formats_named)
{
	CHECK_EQ(image_fmt_parse("png"), IMAGE_PNG);
	CHECK_EQ(image_fmt_parse("webp"), IMAGE_WEBP);
	CHECK_EQ(image_fmt_parse("jpeg"), IMAGE_JPEG);
	CHECK_EQ(image_fmt_parse("jpg"), IMAGE_JPEG);
	CHECK_EQ(image_fmt_parse("gif"), -EINVAL);
	CHECK_EQ(image_fmt_parse("PNG"), -EINVAL);
	CHECK_EQ(image_fmt_parse(NULL), -EINVAL);
	CHECK_STR(image_fmt_type(IMAGE_WEBP), "image/webp");
	CHECK_STR(image_fmt_type(IMAGE_JPEG), "image/jpeg");
	CHECK_STR(image_fmt_type(IMAGE_PNG), "image/png");
	CHECK_STR(image_fmt_ext(IMAGE_JPEG), "jpg");
	CHECK_STR(image_fmt_name(IMAGE_WEBP), "webp");
	CHECK(image_fmt_name(IMAGE_FMT_N) == NULL);
	CHECK(image_fmt_type((enum image_fmt) - 1) == NULL);
}

/* Each format: the right signature, its own library decodes it to the
 * same size, and a flat colour comes back within the lossy tolerance
 * (exactly for PNG). */
TEST(encode_round_trip_each_format)
{
	static const uint8_t teal[3] = {20, 140, 160};
	static const char *const magic[IMAGE_FMT_N] = {"\x89PNG", "RIFF", "\xff\xd8\xff"};
	struct image im, back;
	uint8_t *buf;
	size_t len, i;
	int f, worst;

	flat(&im, 333, 77, teal); /* odd sizes: no block or padding assumptions */
	for (f = 0; f < IMAGE_FMT_N; f++) {
		CHECK_EQ(image_encode((enum image_fmt)f, 80, &im, &buf, &len), 0);
		CHECK(len > 12 && !memcmp(buf, magic[f], strlen(magic[f])));
		if (f == IMAGE_WEBP)
			CHECK(!memcmp(buf + 8, "WEBP", 4));
		CHECK_EQ(image_decode((enum image_fmt)f, buf, len, &back), 0);
		CHECK_EQ(back.w, 333);
		CHECK_EQ(back.h, 77);
		worst = 0;
		for (i = 0; back.px && i < (size_t)333 * 77 * 3; i++)
			if (abs((int)back.px[i] - teal[i % 3]) > worst)
				worst = abs((int)back.px[i] - teal[i % 3]);
		CHECK(worst <= (f == IMAGE_PNG ? 0 : 4));
		/* another format's decoder refuses it */
		image_free(&back);
		CHECK_EQ(image_decode((enum image_fmt)((f + 1) % IMAGE_FMT_N), buf, len, &back),
			 -EINVAL);
		CHECK(back.px == NULL);
		/* so does its own, cut in half */
		CHECK(image_decode((enum image_fmt)f, buf, len / 2, &back) < 0 || f == IMAGE_JPEG);
		image_free(&back);
		free(buf);
	}
	image_free(&im);
}

/* A lower quality is a smaller file for the lossy encodings: JPEG, and
 * WebP of a many-coloured image. A WebP of few colours is lossless: the
 * quality does not change a byte of it. */
TEST(encode_quality_matters)
{
	struct image im, ph;
	uint8_t *lo, *hi;
	size_t llen, hlen;

	strokes(&im);
	photo(&ph, 160, 96);
	CHECK_EQ(image_encode(IMAGE_WEBP, 10, &ph, &lo, &llen), 0);
	CHECK_EQ(image_encode(IMAGE_WEBP, 95, &ph, &hi, &hlen), 0);
	CHECK(webp_chunk(lo, llen, "VP8 ") && webp_chunk(hi, hlen, "VP8 "));
	CHECK(llen < hlen);
	free(lo);
	free(hi);
	CHECK_EQ(image_encode(IMAGE_WEBP, 10, &im, &lo, &llen), 0);
	CHECK_EQ(image_encode(IMAGE_WEBP, 95, &im, &hi, &hlen), 0);
	CHECK(webp_chunk(lo, llen, "VP8L"));
	CHECK(llen == hlen && !memcmp(lo, hi, llen));
	free(lo);
	free(hi);
	CHECK_EQ(image_encode(IMAGE_JPEG, 10, &im, &lo, &llen), 0);
	CHECK_EQ(image_encode(IMAGE_JPEG, 95, &im, &hi, &hlen), 0);
	CHECK(llen < hlen);
	free(lo);
	free(hi);
	image_free(&im);
	image_free(&ph);
}

/* image_colours(): distinct colours, whether in runs or scattered, up to
 * the limit (limit + 1: more), the limit capped at IMAGE_COLOURS_MAX. */
TEST(colours_counted)
{
	static const uint8_t teal[3] = {20, 140, 160};
	struct image im, empty = {0};

	flat(&im, 300, 20, teal);
	CHECK_EQ(image_colours(&im, 1024), 1);
	CHECK_EQ(image_colours(&im, 0), 1); /* limit 0: "more than none" */
	image_free(&im);
	strokes(&im);
	CHECK_EQ(image_colours(&im, 1024), 2);
	CHECK_EQ(image_colours(&im, 1), 2);
	image_free(&im);
	ncolours(&im, 6000, 1500); /* each colour four times, never in a run */
	CHECK_EQ(image_colours(&im, IMAGE_COLOURS_MAX), 1500);
	CHECK_EQ(image_colours(&im, 1499), 1500);
	CHECK_EQ(image_colours(&im, 1500), 1500);
	CHECK_EQ(image_colours(&im, 100), 101);
	image_free(&im);
	ncolours(&im, 6000, 6000);
	CHECK_EQ(image_colours(&im, 100000), IMAGE_COLOURS_MAX + 1);
	image_free(&im);
	CHECK_EQ(image_colours(&empty, 10), 0);
}

/* Encode img as WebP at quality q: the chunk is fourcc and, when exact,
 * the decoded image is img's pixels (else it differs). */
static void webp_check(const struct image *img, unsigned int q, const char *fourcc, int exact)
{
	struct image back;
	uint8_t *buf;
	size_t len, n = (size_t)img->w * img->h * 3;

	CHECK_EQ(image_encode(IMAGE_WEBP, q, img, &buf, &len), 0);
	CHECK(buf && webp_chunk(buf, len, fourcc));
	CHECK_EQ(image_decode(IMAGE_WEBP, buf, len, &back), 0);
	CHECK(back.px && back.w == img->w && back.h == img->h);
	if (back.px)
		CHECK(exact ? !memcmp(back.px, img->px, n) : memcmp(back.px, img->px, n) != 0);
	image_free(&back);
	free(buf);
}

/* WebP picks its mode by the colour count, then by libwebp's entropy
 * estimate: two-colour text is lossless and comes back exactly, a noisy
 * photograph is lossy (and not exact); at IMAGE_WEBP_LOSSLESS_COLOURS
 * colours still lossless, one more lossy. */
TEST(webp_lossless_or_lossy)
{
	struct image im;

	strokes(&im);
	CHECK_EQ(webp_mode(&im), IMAGE_WEBP_LOSSLESS);
	webp_check(&im, 1, "VP8L", 1);
	image_free(&im);

	photo(&im, 320, 200);
	CHECK_EQ(webp_mode(&im), IMAGE_WEBP_LOSSY);
	webp_check(&im, 100, "VP8 ", 0);
	image_free(&im);

	ncolours(&im, 3000, IMAGE_WEBP_LOSSLESS_COLOURS);
	CHECK(webp_mode(&im) != IMAGE_WEBP_LOSSY);
	webp_check(&im, 50, "VP8L", 1);
	image_free(&im);
	ncolours(&im, 3000, IMAGE_WEBP_LOSSLESS_COLOURS + 1);
	CHECK_EQ(webp_mode(&im), IMAGE_WEBP_LOSSY);
	webp_check(&im, 50, "VP8 ", 0);
	image_free(&im);
}

/* Among screens of few colours, a smooth gradient is one libwebp would
 * predict spatially (slow at method 1): fast lossless, still exact;
 * anti-aliased text (33 colours: no palette packing) and two-colour
 * strokes (packed in a palette) are not. */
TEST(webp_predicts_gradients)
{
	struct image im;
	unsigned int n;

	gradient(&im, 400, 300);
	n = image_colours(&im, IMAGE_WEBP_LOSSLESS_COLOURS);
	CHECK(n > 200 && n <= IMAGE_WEBP_LOSSLESS_COLOURS);
	CHECK(webp_predicts(&im, n));
	CHECK_EQ(webp_mode(&im), IMAGE_WEBP_LOSSLESS_FAST);
	webp_check(&im, 50, "VP8L", 1);
	image_free(&im);

	aa_text(&im, 400, 300);
	n = image_colours(&im, IMAGE_WEBP_LOSSLESS_COLOURS);
	CHECK_EQ(n, 33);
	CHECK(!webp_predicts(&im, n));
	CHECK_EQ(webp_mode(&im), IMAGE_WEBP_LOSSLESS);
	webp_check(&im, 50, "VP8L", 1);
	image_free(&im);

	strokes(&im);
	CHECK(!webp_predicts(&im, 2));
	image_free(&im);
}

TEST(encode_refuses)
{
	static const uint8_t grey[3] = {128, 128, 128};
	struct image im, empty = {0}, huge;
	uint8_t *buf = (uint8_t *)&im;
	size_t len = 1;
	int f;

	flat(&im, 8, 8, grey);
	for (f = 0; f < IMAGE_FMT_N; f++) {
		/* quality 1..100, whatever the format */
		CHECK_EQ(image_encode((enum image_fmt)f, 0, &im, &buf, &len), -EINVAL);
		CHECK(buf == NULL && len == 0);
		CHECK_EQ(image_encode((enum image_fmt)f, 101, &im, &buf, &len), -EINVAL);
		CHECK_EQ(image_encode((enum image_fmt)f, 1, &im, &buf, &len), 0);
		free(buf);
		CHECK_EQ(image_encode((enum image_fmt)f, 100, &im, &buf, &len), 0);
		free(buf);
		CHECK_EQ(image_encode((enum image_fmt)f, 50, &empty, &buf, &len), -EINVAL);
		/* over the caps: refused before anything is read */
		huge.w = IMAGE_MAX_DIM + 1;
		huge.h = 1;
		huge.px = im.px;
		CHECK_EQ(image_encode((enum image_fmt)f, 50, &huge, &buf, &len), -E2BIG);
		huge.w = 8192;
		huge.h = 8192;
		CHECK_EQ(image_encode((enum image_fmt)f, 50, &huge, &buf, &len), -E2BIG);
	}
	CHECK_EQ(image_encode(IMAGE_FMT_N, 50, &im, &buf, &len), -EINVAL);
	CHECK_EQ(image_decode(IMAGE_FMT_N, im.px, 8, &huge), -EINVAL);
	image_free(&im);
	/* WebP's own limit: 16383 a side (within IMAGE_MAX_DIM) */
	flat(&im, IMAGE_WEBP_MAX_DIM + 1, 1, grey);
	CHECK_EQ(image_encode(IMAGE_WEBP, 50, &im, &buf, &len), -E2BIG);
	CHECK_EQ(image_encode(IMAGE_JPEG, 50, &im, &buf, &len), 0);
	free(buf);
	image_free(&im);
}

/* Hostile headers: cut before their dimensions, or naming sizes over the
 * caps. Each is refused without an allocation of that size. */
TEST(decode_hostile_headers)
{
	/* SOI and a JFIF APP0, cut before any SOFn: TurboJPEG's header read
	 * succeeds without setting the dimensions */
	static const uint8_t jpeg_cut[] = {0xff, 0xd8, 0xff, 0xe0, 0, 16, 'J', 'F', 'I', 'F',
					   0,	 1,    1,    0,	   0, 1,  0,   1,   0,	 0};
	/* a baseline SOF0 of 65500 x 65500, 3 components, and an SOS */
	static const uint8_t jpeg_huge[] = {0xff, 0xd8, 0xff, 0xc0, 0,	  17, 8,    0xff, 0xdc,
					    0xff, 0xdc, 3,    1,    0x22, 0,  2,    0x11, 1,
					    3,	  0x11, 1,    0xff, 0xda, 0,  12,   3,	  1,
					    0,	  2,	0x11, 3,    0x11, 0,  0x3f, 0};
	/* PNG signature and an IHDR of 100000 x 100000 */
	static const uint8_t png_huge[] = {
	    0x89, 'P',	'N',  'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R', 0,
	    1,	  0x86, 0xa0, 0,   1,	 0x86, 0xa0, 8,	   2, 0, 0, 0,	0,   0,	  0,   0};
	struct image out;

	CHECK_EQ(image_decode(IMAGE_JPEG, jpeg_huge, sizeof(jpeg_huge), &out), -E2BIG);
	CHECK(out.px == NULL);
	/* right after it (the same stack slots): not read as 65500 x 65500 */
	CHECK_EQ(image_decode(IMAGE_JPEG, jpeg_cut, sizeof(jpeg_cut), &out), -EINVAL);
	CHECK(out.px == NULL && out.w == 0 && out.h == 0);
	CHECK_EQ(image_decode(IMAGE_JPEG, jpeg_cut, 2, &out), -EINVAL);
	CHECK(image_decode(IMAGE_PNG, png_huge, sizeof(png_huge), &out) < 0 && out.px == NULL);
	CHECK_EQ(image_decode(IMAGE_WEBP, (const uint8_t *)"RIFF\x04\0\0\0WEBP", 12, &out),
		 -EINVAL);
}

/* Blur comes before encoding: each format's blurred shot differs from the
 * unblurred one, and decodes to blur(image) within the lossy tolerance. */
TEST(blur_then_encode_each_format)
{
	struct image im, blurred, dec_plain, dec_blur;
	uint8_t *buf;
	size_t len;
	int f;

	strokes(&im);
	strokes(&blurred);
	CHECK_EQ(image_blur(&blurred, 6), 0);
	for (f = 0; f < IMAGE_FMT_N; f++) {
		CHECK_EQ(image_encode((enum image_fmt)f, 90, &im, &buf, &len), 0);
		CHECK_EQ(image_decode((enum image_fmt)f, buf, len, &dec_plain), 0);
		free(buf);
		CHECK_EQ(image_encode((enum image_fmt)f, 90, &blurred, &buf, &len), 0);
		CHECK_EQ(image_decode((enum image_fmt)f, buf, len, &dec_blur), 0);
		free(buf);
		if (!dec_plain.px || !dec_blur.px)
			continue;
		/* the strokes are gone: far from the sharp image */
		CHECK(mad(&dec_blur, &dec_plain) > 20.0);
		/* and it is the blurred image, up to the codec's loss */
		CHECK(mad(&dec_blur, &blurred) <= (f == IMAGE_PNG ? 0.0 : 2.0));
		image_free(&dec_plain);
		image_free(&dec_blur);
	}
	image_free(&im);
	image_free(&blurred);
}

int main(void)
{
	RUN(zpixmap_32_lsb);
	RUN(zpixmap_32_msb);
	RUN(zpixmap_24_and_16);
	RUN(zpixmap_refuses);
	RUN(blur_box);
	RUN(png_round_trip);
	RUN(formats_named);
	RUN(encode_round_trip_each_format);
	RUN(encode_quality_matters);
	RUN(colours_counted);
	RUN(webp_lossless_or_lossy);
	RUN(webp_predicts_gradients);
	RUN(encode_refuses);
	RUN(blur_then_encode_each_format);
	RUN(decode_hostile_headers);
	return CHECK_DONE();
}
