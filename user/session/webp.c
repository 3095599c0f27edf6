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
 * near_lossless took 2x to 4x the time. */
#define WEBP_LL_METHOD 1
#define WEBP_LL_EFFORT 0.0f

int webp_lossless_fits(const struct image *img)
{
	return image_colours(img, IMAGE_WEBP_LOSSLESS_COLOURS) <= IMAGE_WEBP_LOSSLESS_COLOURS;
}

int webp_encode(const struct image *img, unsigned int quality, uint8_t **out, size_t *outlen)
{
	WebPConfig cfg;
	WebPPicture pic;
	WebPMemoryWriter wr;
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
	if (webp_lossless_fits(img)) {
		/* exact; ARGB is the lossless encoder's own input */
		cfg.lossless = 1;
		cfg.exact = 1;
		cfg.method = WEBP_LL_METHOD;
		cfg.quality = WEBP_LL_EFFORT;
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
