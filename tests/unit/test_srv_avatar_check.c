// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_srv_avatar_check.c - avatar_check() (model/avatar.h), the checks of
 * an uploaded picture before anything is stored: each refusal with its
 * error and message (over the size cap, empty, not an image, truncated,
 * another type than declared, over the side cap), and a good picture's
 * digest and random key part.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "model/avatar.h"

static size_t be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return 4;
}

/* signature, IHDR w x h, IEND (CRCs are not checked) */
static size_t make_png(uint8_t *p, uint32_t w, uint32_t h)
{
	static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
	size_t o = 8;

	memcpy(p, sig, 8);
	o += be32(p + o, 13);
	memcpy(p + o, "IHDR", 4);
	o += 4;
	o += be32(p + o, w);
	o += be32(p + o, h);
	memcpy(p + o, "\x08\x02\x00\x00\x00", 5);
	o += 5;
	o += be32(p + o, 0); /* CRC */
	memcpy(p + o, "\0\0\0\0IEND\xAE\x42\x60\x82", 12);
	return o + 12;
}

TEST(refusals)
{
	uint8_t *big = calloc(1, AVATAR_MAX_SIZE + 1), p[64];
	struct avatar_new n;
	struct model_why why;
	size_t len = make_png(p, 10, 20);

	CHECK(big != NULL);
	CHECK_EQ(avatar_check(big, AVATAR_MAX_SIZE + 1, "image/png", &n, &why), -EFBIG);
	CHECK_STR(why.msg, "the picture is over 1048576 bytes");
	free(big);
	CHECK_EQ(avatar_check(p, 0, "image/png", &n, &why), -ENODATA);
	CHECK_STR(why.msg, "the body is empty: send the image");
	CHECK_EQ(avatar_check((const uint8_t *)"GIF89a......", 12, "image/png", &n, &why),
		 -EOPNOTSUPP);
	CHECK_STR(why.msg, "the body is not a PNG, JPEG or WebP image");
	CHECK_EQ(avatar_check(p, len - 1, "image/png", &n, &why), -EBADMSG);
	CHECK_STR(why.msg, "the uploaded image is truncated or corrupt");
	len = make_png(p, 0, 20); /* a PNG, but no width */
	CHECK_EQ(avatar_check(p, len, "image/png", &n, &why), -EBADMSG);
	CHECK_STR(why.msg, "the image/png image is truncated or corrupt");
	len = make_png(p, 10, 20);
	CHECK_EQ(avatar_check(p, len, "image/jpeg", &n, &why), -EMEDIUMTYPE);
	CHECK_STR(why.msg, "the body is image/png, not image/jpeg as declared");
	len = make_png(p, AVATAR_MAX_SIDE + 1, 20);
	CHECK_EQ(avatar_check(p, len, "image/png", &n, &why), -EDOM);
	CHECK_STR(why.msg, "the picture is 4097x20; at most 4096x4096");
}

TEST(good)
{
	uint8_t p[64];
	struct avatar_new n;
	struct model_why why;
	size_t len = make_png(p, AVATAR_MAX_SIDE, 20);

	/* the declared type is compared without case */
	CHECK_EQ(avatar_check(p, len, "IMAGE/PNG", &n, &why), 0);
	CHECK_STR(n.ai.content_type, "image/png");
	CHECK_EQ(n.ai.width, AVATAR_MAX_SIDE);
	CHECK_EQ(n.ai.height, 20);
	CHECK_EQ(strlen(n.sha256), 64);
	CHECK(n.rnd[0] == 'x' && n.rnd[1] == '_' && strlen(n.rnd) == 18);
}

int main(void)
{
	RUN(refusals);
	RUN(good);
	return CHECK_DONE();
}
