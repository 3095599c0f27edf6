/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * thumb.h - the thumbnail of a screenshot: a PNG, WebP or JPEG in memory
 * decoded, box-downscaled to fit THUMB_MAX_SIDE x THUMB_MAX_SIDE pixels
 * (aspect kept, never enlarged) and encoded as a small JPEG. At 96 pixels
 * a 1920-pixel-wide desktop shrinks 20 times: every output pixel is the
 * mean of a 20x20 block, so text becomes a few coloured pixels and the
 * thumbnail shows the layout of the screen, never what it says
 * (docs/ARCHITECTURE.md, "Screenshot thumbnails"). Pure: no I/O, no
 * logging; thread-safe (each call has its own codec state).
 */
#ifndef ACTLOG_CORE_THUMB_H
#define ACTLOG_CORE_THUMB_H

#include <stddef.h>
#include <stdint.h>

#define THUMB_MAX_SIDE 96		 /* pixels, width and height of a thumbnail */
#define THUMB_SRC_DIM_MAX 16384		 /* pixels, width and height of the source */
#define THUMB_SRC_PIXELS_MAX (64u << 20) /* pixels of the source (64 Mpx) */
#define THUMB_SRC_MAX (32u << 20)	 /* bytes of the encoded source */
#define THUMB_QUALITY 75		 /* the thumbnail's JPEG quality */
#define THUMB_DECODES_MAX 2		 /* sources decoded at once in the process (memory) */

/* The formats a thumbnail is made from. */
enum thumb_format {
	THUMB_PNG,
	THUMB_WEBP,
	THUMB_JPEG,
};

/* The format of media type ct ("image/png", "image/webp", "image/jpeg"):
 * 0 and *f, or -EPROTONOSUPPORT for any other (NULL included). Pure. */
int thumb_format_of(const char *ct, enum thumb_format *f);

/* The size of the thumbnail of a w x h source: the largest that fits
 * THUMB_MAX_SIDE on both sides with the aspect kept (rounded, at least 1),
 * the source's own when it fits already. w, h >= 1. Pure. */
void thumb_size(uint32_t w, uint32_t h, uint32_t *tw, uint32_t *th);

/*
 * The thumbnail of the len bytes at src (format f): the source's size is
 * read from its header and capped before any pixel is allocated. 0 with
 * *out (malloc'd, the caller's to free), *out_len, and the thumbnail's
 * *w, *h (NULL: not wanted). -EPROTONOSUPPORT for an f outside the enum;
 * At most THUMB_DECODES_MAX calls decode at once in the process (a source
 * decodes to up to 3 bytes a pixel: 192 MiB at the pixel cap); more wait.
 * -EFBIG when len > THUMB_SRC_MAX, a side > THUMB_SRC_DIM_MAX or w*h >
 * THUMB_SRC_PIXELS_MAX; -EINVAL when the bytes do not decode as f;
 * -ENOMEM; -EIO when the encoder fails. *out is NULL on error.
 */
int thumb_make(enum thumb_format f, const void *src, size_t len, uint8_t **out, size_t *out_len,
	       uint32_t *w, uint32_t *h);

/* The most decodes that ran at once since the process started (at most
 * THUMB_DECODES_MAX): for tests. */
unsigned thumb_decodes_peak(void);

#endif /* ACTLOG_CORE_THUMB_H */
