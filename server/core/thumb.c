// SPDX-License-Identifier: BSD-2-Clause
/*
 * thumb.c - a screenshot's thumbnail: decode (libpng's simplified API,
 * libwebp, TurboJPEG), box-downscale, encode a JPEG (contracts: thumb.h).
 * None of the three libraries needs setjmp here: each reports failures as
 * return values.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <turbojpeg.h>
#include <webp/decode.h>

#include "core/thumb.h"

/* A decoded image: 8-bit RGB, rows packed (w * 3 bytes). */
struct rgb {
	uint8_t *px;
	uint32_t w, h;
};

int thumb_format_of(const char *ct, enum thumb_format *f)
{
	if (ct && !strcmp(ct, "image/png"))
		*f = THUMB_PNG;
	else if (ct && !strcmp(ct, "image/webp"))
		*f = THUMB_WEBP;
	else if (ct && !strcmp(ct, "image/jpeg"))
		*f = THUMB_JPEG;
	else
		return -EPROTONOSUPPORT;
	return 0;
}

void thumb_size(uint32_t w, uint32_t h, uint32_t *tw, uint32_t *th)
{
	if (w <= THUMB_MAX_SIDE && h <= THUMB_MAX_SIDE) {
		*tw = w;
		*th = h;
	} else if (w >= h) {
		*tw = THUMB_MAX_SIDE;
		*th = (uint32_t)(((uint64_t)h * THUMB_MAX_SIDE + w / 2) / w);
	} else {
		*th = THUMB_MAX_SIDE;
		*tw = (uint32_t)(((uint64_t)w * THUMB_MAX_SIDE + h / 2) / h);
	}
	if (!*tw)
		*tw = 1;
	if (!*th)
		*th = 1;
}

/* 0 when a w x h source is within the caps (w, h >= 1), else -EFBIG (or
 * -EINVAL for an empty side). */
static int check_size(int64_t w, int64_t h)
{
	if (w <= 0 || h <= 0)
		return -EINVAL;
	if (w > THUMB_SRC_DIM_MAX || h > THUMB_SRC_DIM_MAX || w * h > THUMB_SRC_PIXELS_MAX)
		return -EFBIG;
	return 0;
}

/* Decode a PNG into *img (img->px malloc'd). */
static int decode_png(const void *src, size_t len, struct rgb *img)
{
	png_image pi;
	int err;

	memset(&pi, 0, sizeof(pi));
	pi.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_memory(&pi, src, len))
		return -EINVAL;
	err = check_size(pi.width, pi.height);
	if (err) {
		png_image_free(&pi);
		return err;
	}
	pi.format = PNG_FORMAT_RGB;
	/* zeroed: with background NULL libpng composes a pixel that has alpha
	 * onto what the buffer holds, so transparency comes out black */
	img->px = calloc(1, PNG_IMAGE_SIZE(pi));
	if (!img->px) {
		png_image_free(&pi);
		return -ENOMEM;
	}
	if (!png_image_finish_read(&pi, NULL, img->px, (png_int_32)pi.width * 3, NULL)) {
		png_image_free(&pi);
		return -EINVAL;
	}
	img->w = pi.width;
	img->h = pi.height;
	return 0;
}

/* Decode a WebP into *img (img->px malloc'd), scaled by libwebp's own
 * area-averaging rescaler to twice the thumbnail's size (no larger than
 * the source): the full-size RGB is never written out. */
static int decode_webp(const void *src, size_t len, struct rgb *img)
{
	WebPDecoderConfig cfg;
	uint32_t tw, th, sw, sh;
	size_t size;
	int err;

	if (!WebPInitDecoderConfig(&cfg))
		return -EIO;
	if (WebPGetFeatures(src, len, &cfg.input) != VP8_STATUS_OK)
		return -EINVAL;
	err = check_size(cfg.input.width, cfg.input.height);
	if (err)
		return err;
	thumb_size((uint32_t)cfg.input.width, (uint32_t)cfg.input.height, &tw, &th);
	sw = tw * 2 < (uint32_t)cfg.input.width ? tw * 2 : (uint32_t)cfg.input.width;
	sh = th * 2 < (uint32_t)cfg.input.height ? th * 2 : (uint32_t)cfg.input.height;
	size = (size_t)sw * sh * 3;
	img->px = malloc(size);
	if (!img->px)
		return -ENOMEM;
	cfg.options.use_scaling =
	    sw != (uint32_t)cfg.input.width || sh != (uint32_t)cfg.input.height;
	cfg.options.scaled_width = (int)sw;
	cfg.options.scaled_height = (int)sh;
	cfg.output.colorspace = MODE_RGB;
	cfg.output.is_external_memory = 1;
	cfg.output.u.RGBA.rgba = img->px;
	cfg.output.u.RGBA.stride = (int)sw * 3;
	cfg.output.u.RGBA.size = size;
	err = WebPDecode(src, len, &cfg) == VP8_STATUS_OK ? 0 : -EINVAL;
	WebPFreeDecBuffer(&cfg.output); /* external memory: nothing to free but its state */
	if (err)
		return err;
	img->w = sw;
	img->h = sh;
	return 0;
}

/* Decode a JPEG into *img (img->px malloc'd), at the smallest of
 * TurboJPEG's scaling factors (1/8 .. 1) whose result still covers the
 * thumbnail: the DCT scaling averages 8x8 blocks at no extra cost. */
static int decode_jpeg(const void *src, size_t len, struct rgb *img)
{
	int w = 0, h = 0, sub, cs, n = 0, i, sw, sh, err;
	uint32_t tw, th;
	tjscalingfactor *sf;
	tjhandle tj;

	if (len > 0xffffffffu)
		return -EFBIG;
	tj = tjInitDecompress();
	if (!tj)
		return -ENOMEM;
	/* a header cut before its SOFn answers 0 and leaves w, h at 0 */
	if (tjDecompressHeader3(tj, src, (unsigned long)len, &w, &h, &sub, &cs)) {
		tjDestroy(tj);
		return -EINVAL;
	}
	err = check_size(w, h);
	if (err) {
		tjDestroy(tj);
		return err;
	}
	thumb_size((uint32_t)w, (uint32_t)h, &tw, &th);
	sw = w;
	sh = h;
	sf = tjGetScalingFactors(&n);
	for (i = 0; sf && i < n; i++) {
		int x = TJSCALED(w, sf[i]), y = TJSCALED(h, sf[i]);

		if (x >= (int)tw && y >= (int)th && x <= sw && y <= sh) {
			sw = x;
			sh = y;
		}
	}
	img->px = malloc((size_t)sw * (size_t)sh * 3);
	if (!img->px)
		err = -ENOMEM;
	else if (tjDecompress2(tj, src, (unsigned long)len, img->px, sw, sw * 3, sh, TJPF_RGB, 0))
		err = -EINVAL;
	tjDestroy(tj);
	if (err)
		return err;
	img->w = (uint32_t)sw;
	img->h = (uint32_t)sh;
	return 0;
}

/*
 * Box-downscale img to tw x th (each at most img's): output pixel (x, y)
 * is the rounded mean of the source pixels (sx, sy) with sx*tw/w == x and
 * y*h/th <= sy < (y+1)*h/th, so the blocks tile the source. 0 with *out
 * (malloc'd), or -ENOMEM.
 */
static int box_scale(const struct rgb *img, uint32_t tw, uint32_t th, uint8_t **out)
{
	uint64_t *acc = calloc((size_t)tw * 3, sizeof(*acc));
	uint32_t *xmap = malloc((size_t)img->w * sizeof(*xmap));
	uint32_t *cols = calloc(tw, sizeof(*cols)); /* source columns of each x */
	uint8_t *dst = malloc((size_t)tw * th * 3);
	uint32_t x, y, sy, c;
	int err = -ENOMEM;

	if (!acc || !xmap || !cols || !dst)
		goto out;
	for (x = 0; x < img->w; x++) {
		xmap[x] = (uint32_t)((uint64_t)x * tw / img->w);
		cols[xmap[x]]++;
	}
	for (y = 0; y < th; y++) {
		uint32_t y0 = (uint32_t)((uint64_t)y * img->h / th);
		uint32_t y1 = (uint32_t)((uint64_t)(y + 1) * img->h / th);

		memset(acc, 0, (size_t)tw * 3 * sizeof(*acc));
		for (sy = y0; sy < y1; sy++) {
			const uint8_t *row = img->px + (size_t)sy * img->w * 3;

			for (x = 0; x < img->w; x++)
				for (c = 0; c < 3; c++)
					acc[xmap[x] * 3 + c] += row[x * 3 + c];
		}
		for (x = 0; x < tw; x++) {
			uint64_t n = (uint64_t)cols[x] * (y1 - y0);

			for (c = 0; c < 3; c++)
				dst[((size_t)y * tw + x) * 3 + c] =
				    (uint8_t)((acc[x * 3 + c] + n / 2) / n);
		}
	}
	*out = dst;
	dst = NULL;
	err = 0;
out:
	free(acc);
	free(xmap);
	free(cols);
	free(dst);
	return err;
}

/* Encode the tw x th RGB pixels px as a JPEG: 0 with *out (malloc'd) and
 * *out_len; -ENOMEM; -EIO. */
static int encode_jpeg(const uint8_t *px, uint32_t tw, uint32_t th, uint8_t **out, size_t *out_len)
{
	unsigned long cap = tjBufSize((int)tw, (int)th, TJSAMP_420), size = cap;
	unsigned char *buf = malloc(cap);
	tjhandle tj;
	int r;

	if (!buf)
		return -ENOMEM;
	tj = tjInitCompress();
	if (!tj) {
		free(buf);
		return -ENOMEM;
	}
	/* NOREALLOC: buf (tjBufSize(), the worst case) stays malloc'd */
	r = tjCompress2(tj, px, (int)tw, (int)tw * 3, (int)th, TJPF_RGB, &buf, &size, TJSAMP_420,
			THUMB_QUALITY, TJFLAG_NOREALLOC);
	tjDestroy(tj);
	if (r || !size || size > cap) {
		free(buf);
		return -EIO;
	}
	*out = buf;
	*out_len = size;
	return 0;
}

/* The decodes running at once (THUMB_DECODES_MAX): what bounds the memory
 * of many thumbnails asked for together. */
static pthread_mutex_t decodes_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t decodes_cv = PTHREAD_COND_INITIALIZER;
static unsigned decodes, decodes_peak;

static void decode_enter(void)
{
	pthread_mutex_lock(&decodes_mu);
	while (decodes >= THUMB_DECODES_MAX)
		pthread_cond_wait(&decodes_cv, &decodes_mu);
	if (++decodes > decodes_peak)
		decodes_peak = decodes;
	pthread_mutex_unlock(&decodes_mu);
}

unsigned thumb_decodes_peak(void)
{
	unsigned v;

	pthread_mutex_lock(&decodes_mu);
	v = decodes_peak;
	pthread_mutex_unlock(&decodes_mu);
	return v;
}

static void decode_leave(void)
{
	pthread_mutex_lock(&decodes_mu);
	decodes--;
	pthread_cond_signal(&decodes_cv);
	pthread_mutex_unlock(&decodes_mu);
}

int thumb_make(enum thumb_format f, const void *src, size_t len, uint8_t **out, size_t *out_len,
	       uint32_t *w, uint32_t *h)
{
	struct rgb img = {0};
	uint8_t *px = NULL;
	uint32_t tw, th;
	int err;

	*out = NULL;
	*out_len = 0;
	if (f != THUMB_PNG && f != THUMB_WEBP && f != THUMB_JPEG)
		return -EPROTONOSUPPORT;
	if (len > THUMB_SRC_MAX)
		return -EFBIG;
	if (!src || !len)
		return -EINVAL;
	decode_enter();
	err = f == THUMB_PNG	? decode_png(src, len, &img)
	      : f == THUMB_WEBP ? decode_webp(src, len, &img)
				: decode_jpeg(src, len, &img);
	if (!err) {
		thumb_size(img.w, img.h, &tw, &th);
		err = box_scale(&img, tw, th, &px);
	}
	free(img.px);
	decode_leave();
	if (!err)
		err = encode_jpeg(px, tw, th, out, out_len);
	free(px);
	if (!err && w)
		*w = tw;
	if (!err && h)
		*h = th;
	return err;
}
