// SPDX-License-Identifier: BSD-2-Clause
/*
 * avatar.c - profile pictures: recognising an image by its bytes
 * (contracts: model/avatar.h).
 */
#include <errno.h>
#include <string.h>

#include "model/avatar.h"

/* --- the image, by its bytes --- */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static int sniff_png(const uint8_t *p, size_t len, struct avatar_info *out)
{
	static const uint8_t iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};

	/* signature, IHDR (4 + 4 + 13 + 4 CRC), IEND */
	if (len < 8 + 25 + 12 || be32(p + 8) != 13 || memcmp(p + 12, "IHDR", 4) ||
	    memcmp(p + len - 12, iend, 12))
		return -EBADMSG;
	out->content_type = "image/png";
	out->width = be32(p + 16);
	out->height = be32(p + 20);
	return out->width && out->height && out->width < (1u << 31) && out->height < (1u << 31)
		   ? 0
		   : -EBADMSG;
}

static int sniff_jpeg(const uint8_t *p, size_t len, struct avatar_info *out)
{
	size_t i = 2, seg;
	uint8_t m;

	if (len < 4 || p[len - 2] != 0xFF || p[len - 1] != 0xD9)
		return -EBADMSG; /* no EOI: truncated */
	while (i + 4 <= len) {
		if (p[i] != 0xFF)
			return -EBADMSG;
		while (i + 4 <= len && p[i + 1] == 0xFF) /* fill bytes */
			i++;
		m = p[i + 1];
		if (m == 0x01 || (m >= 0xD0 && m <= 0xD8)) { /* no length */
			i += 2;
			continue;
		}
		if (m == 0xD9 || m == 0xDA) /* end or scan before any frame header */
			return -EBADMSG;
		seg = (size_t)p[i + 2] << 8 | p[i + 3];
		if (seg < 2 || seg > len - i - 2)
			return -EBADMSG;
		if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
			if (seg < 8)
				return -EBADMSG;
			out->content_type = "image/jpeg";
			out->height = (unsigned)p[i + 5] << 8 | p[i + 6];
			out->width = (unsigned)p[i + 7] << 8 | p[i + 8];
			return out->width && out->height ? 0 : -EBADMSG;
		}
		i += 2 + seg;
	}
	return -EBADMSG;
}

static int sniff_webp(const uint8_t *p, size_t len, struct avatar_info *out)
{
	if (len < 30 || (uint64_t)le32(p + 4) + 8 != len)
		return -EBADMSG;
	out->content_type = "image/webp";
	if (!memcmp(p + 12, "VP8X", 4)) {
		out->width = 1 + (p[24] | (unsigned)p[25] << 8 | (unsigned)p[26] << 16);
		out->height = 1 + (p[27] | (unsigned)p[28] << 8 | (unsigned)p[29] << 16);
		return 0;
	}
	if (!memcmp(p + 12, "VP8L", 4)) {
		uint32_t bits = le32(p + 21);

		if (p[20] != 0x2F)
			return -EBADMSG;
		out->width = (bits & 0x3FFF) + 1;
		out->height = ((bits >> 14) & 0x3FFF) + 1;
		return 0;
	}
	if (!memcmp(p + 12, "VP8 ", 4)) {
		if (p[23] != 0x9D || p[24] != 0x01 || p[25] != 0x2A)
			return -EBADMSG;
		out->width = (p[26] | (unsigned)p[27] << 8) & 0x3FFF;
		out->height = (p[28] | (unsigned)p[29] << 8) & 0x3FFF;
		return out->width && out->height ? 0 : -EBADMSG;
	}
	return -EBADMSG;
}

int avatar_sniff(const uint8_t *p, size_t len, struct avatar_info *out)
{
	static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

	memset(out, 0, sizeof(*out));
	if (len >= 8 && !memcmp(p, png_sig, 8))
		return sniff_png(p, len, out);
	if (len >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
		return sniff_jpeg(p, len, out);
	if (len >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4))
		return sniff_webp(p, len, out);
	return -EOPNOTSUPP;
}
