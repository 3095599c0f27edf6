// SPDX-License-Identifier: BSD-2-Clause
/*
 * png.c - PNG encoding and decoding through libpng's simplified API (see
 * image.h). No setjmp here: png_image reports failures as return values.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "image.h"

int png_encode(const struct image *img, uint8_t **out, size_t *outlen)
{
	png_image pi;
	png_alloc_size_t size;
	uint8_t *buf, *shrunk;
	int err;

	*out = NULL;
	*outlen = 0;
	if (!img->px)
		return -EINVAL;
	err = image_check_size(img->w, img->h);
	if (err)
		return err;
	memset(&pi, 0, sizeof(pi));
	pi.version = PNG_IMAGE_VERSION;
	pi.width = img->w;
	pi.height = img->h;
	pi.format = PNG_FORMAT_RGB;
	/* the worst case (stored, not compressed) is a little over the raw size */
	size = PNG_IMAGE_PNG_SIZE_MAX(pi);
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	if (!png_image_write_to_memory(&pi, buf, &size, 0, img->px, (png_int_32)img->w * 3, NULL)) {
		png_image_free(&pi);
		free(buf);
		return -EIO;
	}
	shrunk = realloc(buf, size);
	*out = shrunk ? shrunk : buf;
	*outlen = size;
	return 0;
}

int png_decode(const uint8_t *buf, size_t len, struct image *out)
{
	png_image pi;
	int err;

	out->px = NULL;
	out->w = out->h = 0;
	memset(&pi, 0, sizeof(pi));
	pi.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_memory(&pi, buf, len))
		return -EINVAL;
	err = image_check_size(pi.width, pi.height);
	if (err) {
		png_image_free(&pi);
		return err;
	}
	pi.format = PNG_FORMAT_RGB;
	out->px = malloc(PNG_IMAGE_SIZE(pi));
	if (!out->px) {
		png_image_free(&pi);
		return -ENOMEM;
	}
	if (!png_image_finish_read(&pi, NULL, out->px, (png_int_32)pi.width * 3, NULL)) {
		png_image_free(&pi);
		free(out->px);
		out->px = NULL;
		return -EINVAL;
	}
	out->w = pi.width;
	out->h = pi.height;
	return 0;
}
