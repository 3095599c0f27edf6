// SPDX-License-Identifier: BSD-2-Clause
/*
 * jpeg.c - JPEG encoding and decoding through libjpeg-turbo's TurboJPEG
 * API (see image.h). TurboJPEG reports failures as return values (no
 * setjmp here).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <turbojpeg.h>

#include "image.h"

/* The largest side a JPEG's header can hold. */
#define JPEG_MAX_DIM 65500u

int jpeg_encode(const struct image *img, unsigned int quality, uint8_t **out, size_t *outlen)
{
	unsigned char *buf = NULL;
	unsigned long size = 0;
	tjhandle tj;
	int r, err;

	*out = NULL;
	*outlen = 0;
	if (!img->px || quality < IMAGE_QUALITY_MIN || quality > IMAGE_QUALITY_MAX)
		return -EINVAL;
	err = image_check_size(img->w, img->h);
	if (err)
		return err;
	if (img->w > JPEG_MAX_DIM || img->h > JPEG_MAX_DIM)
		return -E2BIG;
	tj = tjInitCompress();
	if (!tj)
		return -ENOMEM;
	r = tjCompress2(tj, img->px, (int)img->w, (int)img->w * 3, (int)img->h, TJPF_RGB, &buf,
			&size, TJSAMP_420, (int)quality, 0);
	tjDestroy(tj);
	if (r || !buf) {
		tjFree(buf);
		return -EIO;
	}
	/* buf is tjAlloc'd: hand the caller a malloc'd copy */
	*out = malloc(size);
	if (!*out) {
		tjFree(buf);
		return -ENOMEM;
	}
	memcpy(*out, buf, size);
	*outlen = size;
	tjFree(buf);
	return 0;
}

/* Decode a JPEG into 8-bit RGB (see image_decode()). */
int jpeg_decode(const uint8_t *buf, size_t len, struct image *out)
{
	int w = 0, h = 0, sub, cs, err;
	tjhandle tj;

	out->px = NULL;
	out->w = out->h = 0;
	if (len > 0xffffffffu)
		return -E2BIG;
	tj = tjInitDecompress();
	if (!tj)
		return -ENOMEM;
	/* a header cut before its SOFn answers 0 and leaves w and h unset:
	 * they start at 0 so that it is refused */
	if (tjDecompressHeader3(tj, buf, (unsigned long)len, &w, &h, &sub, &cs) || w <= 0 ||
	    h <= 0) {
		tjDestroy(tj);
		return -EINVAL;
	}
	err = image_check_size((uint32_t)w, (uint32_t)h);
	if (!err) {
		out->px = malloc((size_t)w * (size_t)h * 3);
		err = out->px ? 0 : -ENOMEM;
	}
	if (!err && tjDecompress2(tj, buf, (unsigned long)len, out->px, w, w * 3, h, TJPF_RGB, 0))
		err = -EINVAL;
	tjDestroy(tj);
	if (err) {
		free(out->px);
		out->px = NULL;
		return err;
	}
	out->w = (uint32_t)w;
	out->h = (uint32_t)h;
	return 0;
}
