// SPDX-License-Identifier: BSD-2-Clause
/*
 * webp.c - WebP encoding and decoding through libwebp (see image.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <webp/decode.h>
#include <webp/encode.h>

#include "image.h"

/* libwebp's effort (0 fastest .. 6 smallest) for lossy shots: 0 keeps a
 * 1080p desktop near 40 ms of CPU at quality 50; methods 1 and 2 took
 * 1.2x and 1.6x its time for files 2% and 15% smaller, and method 0
 * ignores the other tuning knobs (docs/PERFORMANCE.md, "Screenshots"). */
#define WEBP_METHOD 0
/* For lossless shots: method 1 at quality (effort) 0. On 1080p terminal
 * text method 0 gave a file 2.5x larger in the same ~30 ms; method 1 at
 * effort 25 and 50 took 52 and 66 ms for files 4% and 18% smaller;
 * near_lossless took 2x to 4x the time. Screens that method 1 would
 * encode with its spatial predictor (gradients: 170 to 180 ms at 1080p)
 * get method 0 at effort 50 instead (15 to 20 ms there). */
#define WEBP_LL_METHOD 1
#define WEBP_LL_EFFORT 0.0f
#define WEBP_LL_FAST_METHOD 0
#define WEBP_LL_FAST_EFFORT 50.0f

/* log2(x) for x >= 1 within about 0.005: the float's exponent plus a
 * quadratic on its mantissa (no libm). */
static float log2_approx(float x)
{
	union {
		float f;
		uint32_t i;
	} u = {.f = x};
	float e = (float)((int)(u.i >> 23 & 0xff) - 127), m;

	u.i = (u.i & 0x7fffff) | 0x3f800000; /* the mantissa, in [1, 2) */
	m = u.f;
	return e + (-0.34484843f * m + 2.02466578f) * m - 0.67487759f;
}

/* The bits of n symbols with these 256 counts (Shannon): n log2 n minus
 * the sum of c log2 c. */
static double histo_bits(const uint32_t *h)
{
	double n = 0, sum = 0;
	int i;

	for (i = 0; i < 256; i++) {
		n += h[i];
		if (h[i] > 1) /* 1 log2 1 is 0 */
			sum += (double)h[i] * log2_approx((float)h[i]);
	}
	return n > 1 ? n * log2_approx((float)n) - sum : 0;
}

/* The histograms of webp_predicts(): the channels of each pixel and of
 * its difference from the pixel before it, each also with green
 * subtracted from red and blue. */
enum { H_G, H_R, H_B, H_RG, H_BG, H_DG, H_DR, H_DB, H_DRG, H_DBG, H_PAL, H_N };

int webp_predicts(const struct image *img, unsigned int colours)
{
	uint32_t h[H_N][256];
	uint32_t r, g, b, dr, dg, db, pix, prev;
	const uint8_t *p, *up;
	double direct, sub_green, spatial, spatial_sg, palette, tiles, plain, pred;
	size_t x, y, w, ht;

	if (!img->px || !img->w || !img->h || colours <= 16)
		return 0; /* 16 colours or fewer: libwebp packs a palette */
	memset(h, 0, sizeof(h));
	w = img->w;
	ht = img->h;
	prev = (uint32_t)img->px[0] << 16 | (uint32_t)img->px[1] << 8 | img->px[2];
	for (y = 0; y < ht; y++)
		for (x = 0; x < w; x++) {
			p = img->px + (y * w + x) * 3;
			up = y ? p - w * 3 : NULL;
			pix = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
			if (pix == prev || (up && !memcmp(p, up, 3))) {
				prev = pix;
				continue; /* libwebp skips these too */
			}
			r = p[0];
			g = p[1];
			b = p[2];
			dr = (r - (prev >> 16)) & 0xff;
			dg = (g - (prev >> 8)) & 0xff;
			db = (b - prev) & 0xff;
			prev = pix;
			h[H_R][r]++;
			h[H_G][g]++;
			h[H_B][b]++;
			h[H_RG][(r - g) & 0xff]++;
			h[H_BG][(b - g) & 0xff]++;
			h[H_DR][dr]++;
			h[H_DG][dg]++;
			h[H_DB][db]++;
			h[H_DRG][(dr - dg) & 0xff]++;
			h[H_DBG][(db - dg) & 0xff]++;
			/* libwebp's estimate of a palette: a hash of the ARGB pixel */
			pix |= 0xff000000u;
			h[H_PAL][(uint32_t)(((uint64_t)pix + (pix >> 19)) * 0x39c5fba7ull) >> 24]++;
		}
	/* one zero in each predicted histogram, as libwebp adds */
	h[H_DR][0]++;
	h[H_DG][0]++;
	h[H_DB][0]++;
	h[H_DRG][0]++;
	h[H_DBG][0]++;
	direct = histo_bits(h[H_R]) + histo_bits(h[H_G]) + histo_bits(h[H_B]);
	sub_green = histo_bits(h[H_RG]) + histo_bits(h[H_G]) + histo_bits(h[H_BG]);
	spatial = histo_bits(h[H_DR]) + histo_bits(h[H_DG]) + histo_bits(h[H_DB]);
	spatial_sg = histo_bits(h[H_DRG]) + histo_bits(h[H_DG]) + histo_bits(h[H_DBG]);
	/* the transforms' own cost: one of 14 predictors, or a colour
	 * transform of 24 bits, per 64x64 tile */
	tiles = (double)((w + 63) / 64) * (double)((ht + 63) / 64);
	spatial += tiles * log2_approx(14.0f);
	spatial_sg += tiles * log2_approx(24.0f);
	plain = direct < sub_green ? direct : sub_green;
	if (colours <= 256) {
		palette = histo_bits(h[H_PAL]) + colours * 8.0;
		plain = palette < plain ? palette : plain;
	}
	pred = spatial < spatial_sg ? spatial : spatial_sg;
	return pred < plain;
}

enum image_webp_mode webp_mode(const struct image *img)
{
	unsigned int n = image_colours(img, IMAGE_WEBP_LOSSLESS_COLOURS);

	if (n > IMAGE_WEBP_LOSSLESS_COLOURS)
		return IMAGE_WEBP_LOSSY;
	return webp_predicts(img, n) ? IMAGE_WEBP_LOSSLESS_FAST : IMAGE_WEBP_LOSSLESS;
}

int webp_encode(const struct image *img, unsigned int quality, uint8_t **out, size_t *outlen)
{
	WebPConfig cfg;
	WebPPicture pic;
	WebPMemoryWriter wr;
	enum image_webp_mode mode;
	int err;

	*out = NULL;
	*outlen = 0;
	if (!img->px || quality < IMAGE_QUALITY_MIN || quality > IMAGE_QUALITY_MAX)
		return -EINVAL;
	err = image_check_size(img->w, img->h);
	if (err)
		return err;
	if (img->w > IMAGE_WEBP_MAX_DIM || img->h > IMAGE_WEBP_MAX_DIM)
		return -E2BIG;
	if (!WebPConfigInit(&cfg) || !WebPPictureInit(&pic))
		return -EIO; /* a libwebp of another ABI */
	mode = webp_mode(img);
	if (mode != IMAGE_WEBP_LOSSY) {
		/* exact; ARGB is the lossless encoder's own input */
		cfg.lossless = 1;
		cfg.exact = 1;
		cfg.method = mode == IMAGE_WEBP_LOSSLESS ? WEBP_LL_METHOD : WEBP_LL_FAST_METHOD;
		cfg.quality = mode == IMAGE_WEBP_LOSSLESS ? WEBP_LL_EFFORT : WEBP_LL_FAST_EFFORT;
		pic.use_argb = 1;
	} else {
		cfg.quality = (float)quality;
		cfg.method = WEBP_METHOD;
		pic.use_argb = 0;
	}
	pic.width = (int)img->w;
	pic.height = (int)img->h;
	if (!WebPPictureImportRGB(&pic, img->px, (int)img->w * 3))
		return -ENOMEM;
	WebPMemoryWriterInit(&wr);
	pic.writer = WebPMemoryWrite;
	pic.custom_ptr = &wr;
	if (!WebPEncode(&cfg, &pic)) {
		err = pic.error_code == VP8_ENC_ERROR_OUT_OF_MEMORY ||
			      pic.error_code == VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY
			  ? -ENOMEM
			  : -EIO;
		WebPPictureFree(&pic);
		WebPMemoryWriterClear(&wr);
		return err;
	}
	WebPPictureFree(&pic);
	/* wr.mem is WebPMalloc'd: hand the caller a malloc'd copy */
	*out = malloc(wr.size);
	if (!*out) {
		WebPMemoryWriterClear(&wr);
		return -ENOMEM;
	}
	memcpy(*out, wr.mem, wr.size);
	*outlen = wr.size;
	WebPMemoryWriterClear(&wr);
	return 0;
}

/* Decode a WebP into 8-bit RGB (see image_decode()). */
int webp_decode(const uint8_t *buf, size_t len, struct image *out)
{
	int w, h, err;
	uint8_t *rgb;

	out->px = NULL;
	out->w = out->h = 0;
	if (!WebPGetInfo(buf, len, &w, &h))
		return -EINVAL;
	err = image_check_size((uint32_t)w, (uint32_t)h);
	if (err)
		return err;
	rgb = WebPDecodeRGB(buf, len, &w, &h);
	if (!rgb)
		return -EINVAL;
	out->px = malloc((size_t)w * (size_t)h * 3);
	if (!out->px) {
		WebPFree(rgb);
		return -ENOMEM;
	}
	memcpy(out->px, rgb, (size_t)w * (size_t)h * 3);
	WebPFree(rgb);
	out->w = (uint32_t)w;
	out->h = (uint32_t)h;
	return 0;
}
