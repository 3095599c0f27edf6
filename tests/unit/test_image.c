// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_image.c - ZPixmap conversion, box blur and PNG round trips.
 */
#include <errno.h>

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

int main(void)
{
	RUN(zpixmap_32_lsb);
	RUN(zpixmap_32_msb);
	RUN(zpixmap_24_and_16);
	RUN(zpixmap_refuses);
	RUN(blur_box);
	RUN(png_round_trip);
	return CHECK_DONE();
}
