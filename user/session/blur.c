// SPDX-License-Identifier: BSD-2-Clause
/*
 * blur.c - a separable box blur (see image.h).
 *
 * Each pass slides a window of 2r+1 pixels along a line and keeps a running
 * sum per channel: one add and one subtract per pixel, whatever r. Pixels
 * outside the image repeat the border pixel, so the divisor is always 2r+1
 * and a uniform area keeps its exact colour (the sum is rounded to nearest).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

/* Blur one line of n pixels (3 bytes each, step bytes apart) in place,
 * through tmp (n * 3 bytes). */
static void box_line(uint8_t *p, size_t n, size_t step, unsigned int r, uint8_t *tmp)
{
	uint32_t sum[3], d = 2 * r + 1;
	size_t i, c, add, sub;

	for (i = 0; i < n; i++)
		memcpy(tmp + i * 3, p + i * step, 3);
	for (c = 0; c < 3; c++) {
		sum[c] = (r + 1) * tmp[c];
		for (i = 1; i <= r; i++)
			sum[c] += tmp[(i < n ? i : n - 1) * 3 + c];
	}
	for (i = 0; i < n; i++) {
		add = i + r + 1 < n ? i + r + 1 : n - 1;
		sub = i >= r ? i - r : 0;
		for (c = 0; c < 3; c++) {
			p[i * step + c] = (uint8_t)((sum[c] + d / 2) / d);
			sum[c] += tmp[add * 3 + c];
			sum[c] -= tmp[sub * 3 + c];
		}
	}
}

int image_blur(struct image *img, unsigned int radius)
{
	uint8_t *tmp;
	size_t y, x, row;

	if (radius > IMAGE_MAX_BLUR)
		return -EINVAL;
	if (!radius || !img->px || !img->w || !img->h)
		return 0;
	tmp = malloc((size_t)(img->w > img->h ? img->w : img->h) * 3);
	if (!tmp)
		return -ENOMEM;
	row = (size_t)img->w * 3;
	for (y = 0; y < img->h; y++)
		box_line(img->px + y * row, img->w, 3, radius, tmp);
	for (x = 0; x < img->w; x++)
		box_line(img->px + x * 3, img->h, row, radius, tmp);
	free(tmp);
	return 0;
}
