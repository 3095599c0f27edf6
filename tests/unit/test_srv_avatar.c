// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_srv_avatar.c - the pure part of the profile-picture routes: images
 * recognised by their bytes (PNG, JPEG, WebP) with their dimensions,
 * truncated and foreign ones refused, If-None-Match matching.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "model/avatar.h"
#include "check.h"

static size_t be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return 4;
}

/* signature, IHDR w x h, an IDAT of n bytes, IEND (CRCs are not checked) */
static size_t make_png(uint8_t *p, uint32_t w, uint32_t h, size_t n)
{
	static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
	size_t o = 0;

	memcpy(p, sig, 8);
	o = 8;
	o += be32(p + o, 13);
	memcpy(p + o, "IHDR", 4);
	o += 4;
	o += be32(p + o, w);
	o += be32(p + o, h);
	memcpy(p + o, "\x08\x02\x00\x00\x00", 5);
	o += 5;
	o += be32(p + o, 0); /* CRC */
	o += be32(p + o, (uint32_t)n);
	memcpy(p + o, "IDAT", 4);
	o += 4;
	memset(p + o, 0x55, n);
	o += n;
	o += be32(p + o, 0);
	memcpy(p + o, "\0\0\0\0IEND\xAE\x42\x60\x82", 12);
	return o + 12;
}

static size_t make_jpeg(uint8_t *p, unsigned w, unsigned h)
{
	static const uint8_t head[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F',
				       0,    1,	   1,	 0,    0,    1,	   0,	1,   0,	  0};
	size_t o = sizeof(head);

	memcpy(p, head, o);
	/* fill bytes before a marker are allowed */
	p[o++] = 0xFF;
	p[o++] = 0xFF;
	p[o++] = 0xC2; /* progressive SOF */
	p[o++] = 0;
	p[o++] = 11;
	p[o++] = 8;
	p[o++] = (uint8_t)(h >> 8);
	p[o++] = (uint8_t)h;
	p[o++] = (uint8_t)(w >> 8);
	p[o++] = (uint8_t)w;
	p[o++] = 1;
	p[o++] = 1;
	p[o++] = 0x11;
	p[o++] = 0;
	memcpy(p + o, "\xFF\xDA\x00\x08\x01\x01\x00\x00\x3F\x00\x12\x34\xFF\xD9", 14);
	return o + 14;
}

TEST(png)
{
	static uint8_t b[4096];
	struct avatar_info ai;
	size_t n = make_png(b, 640, 480, 100);

	CHECK_EQ(avatar_sniff(b, n, &ai), 0);
	CHECK_STR(ai.content_type, "image/png");
	CHECK_EQ(ai.width, 640);
	CHECK_EQ(ai.height, 480);
	CHECK_EQ(avatar_sniff(b, n - 1, &ai), -EBADMSG); /* IEND cut */
	CHECK_EQ(avatar_sniff(b, 40, &ai), -EBADMSG);
	CHECK_EQ(avatar_sniff(b, 8, &ai), -EBADMSG);
	n = make_png(b, 0, 10, 10);
	CHECK_EQ(avatar_sniff(b, n, &ai), -EBADMSG);
	n = make_png(b, 5000, 10, 10);
	CHECK_EQ(avatar_sniff(b, n, &ai), 0); /* the caller caps the sides */
	CHECK_EQ(ai.width, 5000);
	memcpy(b + 12, "IDAT", 4); /* IHDR not first */
	CHECK_EQ(avatar_sniff(b, n, &ai), -EBADMSG);
}

TEST(jpeg)
{
	static uint8_t b[256];
	struct avatar_info ai;
	size_t n = make_jpeg(b, 1024, 768);

	CHECK_EQ(avatar_sniff(b, n, &ai), 0);
	CHECK_STR(ai.content_type, "image/jpeg");
	CHECK_EQ(ai.width, 1024);
	CHECK_EQ(ai.height, 768);
	CHECK_EQ(avatar_sniff(b, n - 2, &ai), -EBADMSG); /* no EOI */
	CHECK_EQ(avatar_sniff(b, 3, &ai), -EBADMSG);
	b[21] = 0xDA; /* a scan before the frame header */
	CHECK_EQ(avatar_sniff(b, n, &ai), -EBADMSG);
	n = make_jpeg(b, 1024, 768);
	b[4] = 0xFF; /* an APP0 length past the end */
	CHECK_EQ(avatar_sniff(b, n, &ai), -EBADMSG);
}

TEST(webp)
{
	uint8_t b[64] = "RIFF\0\0\0\0WEBPVP8L";
	struct avatar_info ai;
	uint32_t bits = (300 - 1) | (200 - 1) << 14;

	b[4] = 64 - 8;
	b[20] = 0x2F;
	memcpy(b + 21, &bits, 4); /* little-endian host */
	CHECK_EQ(avatar_sniff(b, sizeof(b), &ai), 0);
	CHECK_STR(ai.content_type, "image/webp");
	CHECK_EQ(ai.width, 300);
	CHECK_EQ(ai.height, 200);
	CHECK_EQ(avatar_sniff(b, sizeof(b) - 1, &ai), -EBADMSG); /* RIFF size */
	memcpy(b + 12, "VP8X", 4);
	b[24] = 0xFF, b[25] = 0x0F, b[26] = 0; /* 4096 */
	b[27] = 0x09, b[28] = 0, b[29] = 0;    /* 10 */
	CHECK_EQ(avatar_sniff(b, sizeof(b), &ai), 0);
	CHECK_EQ(ai.width, 4096);
	CHECK_EQ(ai.height, 10);
	memcpy(b + 12, "ABCD", 4);
	CHECK_EQ(avatar_sniff(b, sizeof(b), &ai), -EBADMSG);
}

TEST(foreign)
{
	struct avatar_info ai;

	CHECK_EQ(avatar_sniff((const uint8_t *)"", 0, &ai), -EOPNOTSUPP);
	CHECK_EQ(avatar_sniff((const uint8_t *)"GIF89a......", 12, &ai), -EOPNOTSUPP);
	CHECK_EQ(avatar_sniff((const uint8_t *)"<svg xmlns=", 11, &ai), -EOPNOTSUPP);
	CHECK_EQ(avatar_sniff((const uint8_t *)"\x89PNG", 4, &ai), -EOPNOTSUPP);
	CHECK(ai.content_type == NULL);
}

int main(void)
{
	RUN(png);
	RUN(jpeg);
	RUN(webp);
	RUN(foreign);
	return CHECK_DONE();
}
