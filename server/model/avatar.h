/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * avatar.h - the pure part of the profile-picture routes (api/avatar.c):
 * recognising an image by its bytes and reading its dimensions, so that the
 * type a client declares is never trusted on its own. Exposed for tests.
 */
#ifndef ACTLOG_SRV_AVATAR_H
#define ACTLOG_SRV_AVATAR_H

#include <stddef.h>
#include <stdint.h>

#define AVATAR_MAX_SIZE (1u << 20) /* bytes of one picture */
#define AVATAR_MAX_SIDE 4096u	   /* pixels, width and height */

struct avatar_info {
	const char *content_type; /* "image/png", "image/jpeg", "image/webp" (static) */
	unsigned width, height;
};

/*
 * Recognise the image in p[0..len): PNG (signature, IHDR first, IEND last),
 * JPEG (SOI, a SOF segment before the scan, EOI last) or WebP (RIFF size
 * equal to the length, a VP8, VP8L or VP8X chunk). Fills *out. 0;
 * -EOPNOTSUPP when the bytes are none of those (or empty); -EBADMSG when the
 * signature is right but the structure is truncated or corrupt. The
 * dimensions are not checked against AVATAR_MAX_SIDE here.
 */
int avatar_sniff(const uint8_t *p, size_t len, struct avatar_info *out);

#endif /* ACTLOG_SRV_AVATAR_H */
