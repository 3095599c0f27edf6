// SPDX-License-Identifier: BSD-2-Clause
/*
 * image.c - X11 ZPixmap to RGB, and the encoders' one entry (see image.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

int image_check_size(uint32_t w, uint32_t h)
{
	if (!w || !h)
		return -EINVAL;
	if (w > IMAGE_MAX_DIM || h > IMAGE_MAX_DIM || (uint64_t)w * h > IMAGE_MAX_PIXELS)
		return -E2BIG;
	return 0;
}

void image_free(struct image *img)
{
	if (!img)
		return;
	free(img->px);
	img->px = NULL;
	img->w = img->h = 0;
}

/* image_colours()'s set: open addressing, each slot a colour + 1 (0: empty);
 * at most IMAGE_COLOURS_MAX + 1 of the 8192 slots are used (short probes). */
#define COLOUR_SLOTS_LOG2 13
#define COLOUR_SLOTS (1u << COLOUR_SLOTS_LOG2)
_Static_assert(COLOUR_SLOTS >= 2 * (IMAGE_COLOURS_MAX + 1), "the colour set is under half full");

unsigned int image_colours(const struct image *img, unsigned int limit)
{
	uint32_t slots[COLOUR_SLOTS];
	uint32_t v, prev = UINT32_MAX, key, h;
	unsigned int n = 0;
	size_t i, npx;
	const uint8_t *p;

	if (!img->px || !img->w || !img->h)
		return 0;
	if (limit > IMAGE_COLOURS_MAX)
		limit = IMAGE_COLOURS_MAX;
	memset(slots, 0, sizeof(slots));
	npx = (size_t)img->w * img->h;
	for (i = 0, p = img->px; i < npx; i++, p += 3) {
		v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
		if (v == prev)
			continue; /* a run of one colour: the common case on a screen */
		prev = v;
		key = v + 1;
		h = (v * 0x9e3779b1u) >> (32 - COLOUR_SLOTS_LOG2);
		while (slots[h] && slots[h] != key)
			h = (h + 1) & (COLOUR_SLOTS - 1);
		if (slots[h])
			continue;
		slots[h] = key;
		if (++n > limit)
			break;
	}
	return n;
}

#define FMT_NAME(id, name, type, ext) name,
#define FMT_TYPE(id, name, type, ext) type,
#define FMT_EXT(id, name, type, ext) ext,
static const char *const fmt_names[IMAGE_FMT_N] = {SESSION_SHOT_FORMATS(FMT_NAME)};
static const char *const fmt_types[IMAGE_FMT_N] = {SESSION_SHOT_FORMATS(FMT_TYPE)};
static const char *const fmt_exts[IMAGE_FMT_N] = {SESSION_SHOT_FORMATS(FMT_EXT)};

const char *image_fmt_name(enum image_fmt fmt)
{
	return (unsigned int)fmt < IMAGE_FMT_N ? fmt_names[fmt] : NULL;
}

const char *image_fmt_ext(enum image_fmt fmt)
{
	return (unsigned int)fmt < IMAGE_FMT_N ? fmt_exts[fmt] : NULL;
}

const char *image_fmt_type(enum image_fmt fmt)
{
	return (unsigned int)fmt < IMAGE_FMT_N ? fmt_types[fmt] : NULL;
}

int image_fmt_parse(const char *s)
{
	int i;

	if (!s)
		return -EINVAL;
	for (i = 0; i < IMAGE_FMT_N; i++)
		if (!strcmp(s, fmt_names[i]))
			return i;
	return strcmp(s, "jpg") ? -EINVAL : IMAGE_JPEG;
}

int image_encode(enum image_fmt fmt, unsigned int quality, const struct image *img, uint8_t **out,
		 size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	if (quality < IMAGE_QUALITY_MIN || quality > IMAGE_QUALITY_MAX)
		return -EINVAL;
	switch (fmt) {
	case IMAGE_PNG:
		return png_encode(img, out, outlen);
	case IMAGE_WEBP:
		return webp_encode(img, quality, out, outlen);
	case IMAGE_JPEG:
		return jpeg_encode(img, quality, out, outlen);
	default:
		return -EINVAL;
	}
}

int image_decode(enum image_fmt fmt, const uint8_t *buf, size_t len, struct image *out)
{
	out->px = NULL;
	out->w = out->h = 0;
	switch (fmt) {
	case IMAGE_PNG:
		return png_decode(buf, len, out);
	case IMAGE_WEBP:
		return webp_decode(buf, len, out);
	case IMAGE_JPEG:
		return jpeg_decode(buf, len, out);
	default:
		return -EINVAL;
	}
}

/* A channel: where its mask starts and how many bits it has. */
struct chan {
	unsigned int shift, bits;
	uint32_t mask;
};

static int chan_init(struct chan *c, uint32_t mask)
{
	if (!mask)
		return -EINVAL;
	c->mask = mask;
	c->shift = (unsigned int)__builtin_ctz(mask);
	c->bits = (unsigned int)__builtin_popcount(mask);
	/* a mask with holes is no channel */
	if ((mask >> c->shift) != (c->bits >= 32 ? ~0u : (1u << c->bits) - 1))
		return -EINVAL;
	return 0;
}

static uint8_t chan_get(const struct chan *c, uint32_t v)
{
	uint32_t x = (v & c->mask) >> c->shift;

	if (c->bits >= 8)
		return (uint8_t)(x >> (c->bits - 8));
	return (uint8_t)((x * 255 + ((1u << c->bits) - 1) / 2) / ((1u << c->bits) - 1));
}

int image_from_zpixmap(struct image *out, const uint8_t *data, size_t len, uint32_t w, uint32_t h,
		       const struct image_xfmt *f)
{
	struct chan r, g, b;
	unsigned int bytes;
	uint32_t x, y, v;
	const uint8_t *s;
	uint8_t *d;
	int err;

	out->px = NULL;
	out->w = out->h = 0;
	err = image_check_size(w, h);
	if (err)
		return err;
	if (f->bpp != 16 && f->bpp != 24 && f->bpp != 32)
		return -EINVAL;
	bytes = f->bpp / 8;
	if (chan_init(&r, f->red_mask) || chan_init(&g, f->green_mask) ||
	    chan_init(&b, f->blue_mask))
		return -EINVAL;
	if (f->stride < (uint64_t)w * bytes || len < (uint64_t)f->stride * h)
		return -EINVAL;
	out->px = malloc((size_t)w * h * 3);
	if (!out->px)
		return -ENOMEM;
	out->w = w;
	out->h = h;
	d = out->px;
	for (y = 0; y < h; y++) {
		s = data + (size_t)y * f->stride;
		for (x = 0; x < w; x++, s += bytes) {
			if (bytes == 4)
				v = f->msb_first ? (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 |
						       (uint32_t)s[2] << 8 | s[3]
						 : (uint32_t)s[3] << 24 | (uint32_t)s[2] << 16 |
						       (uint32_t)s[1] << 8 | s[0];
			else if (bytes == 3)
				v = f->msb_first
					? (uint32_t)s[0] << 16 | (uint32_t)s[1] << 8 | s[2]
					: (uint32_t)s[2] << 16 | (uint32_t)s[1] << 8 | s[0];
			else
				v = f->msb_first ? (uint32_t)s[0] << 8 | s[1]
						 : (uint32_t)s[1] << 8 | s[0];
			*d++ = chan_get(&r, v);
			*d++ = chan_get(&g, v);
			*d++ = chan_get(&b, v);
		}
	}
	return 0;
}
