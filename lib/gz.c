// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "gz.h"

int gz_compress(const void *in, size_t len, int level, uint8_t **out, size_t *outlen)
{
	z_stream zs;
	uint8_t *buf;
	size_t cap;
	int r;

	if (len > UINT32_MAX)
		return -EINVAL;
	memset(&zs, 0, sizeof(zs));
	/* windowBits 15 + 16: a gzip header and trailer */
	if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	cap = deflateBound(&zs, (uLong)len) + 32;
	buf = malloc(cap);
	if (!buf) {
		deflateEnd(&zs);
		return -ENOMEM;
	}
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	zs.next_out = buf;
	zs.avail_out = (uInt)cap;
	r = deflate(&zs, Z_FINISH);
	deflateEnd(&zs);
	if (r != Z_STREAM_END) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	*outlen = cap - zs.avail_out;
	return 0;
}

int gz_decompress(const void *in, size_t len, size_t max_out, uint8_t **out, size_t *outlen)
{
	size_t cap = len * 4 + 1024, n = 0;
	uint8_t *buf = NULL, *nb;
	z_stream zs;
	int r, err = 0;

	if (len > UINT32_MAX)
		return -EFBIG;
	if (cap > max_out + 1)
		cap = max_out + 1;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return -ENOMEM;
	buf = malloc(cap + 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	for (;;) {
		zs.next_out = buf + n;
		zs.avail_out = (uInt)(cap - n);
		r = inflate(&zs, Z_NO_FLUSH);
		n = cap - zs.avail_out;
		if (n > max_out) {
			err = -EFBIG;
			goto out;
		}
		if (r == Z_STREAM_END)
			break;
		if (r == Z_BUF_ERROR && zs.avail_in == 0) {
			err = -EBADMSG; /* truncated */
			goto out;
		}
		if (r != Z_OK && r != Z_BUF_ERROR) {
			err = r == Z_MEM_ERROR ? -ENOMEM : -EBADMSG;
			goto out;
		}
		if (zs.avail_out == 0) {
			if (cap > max_out) {
				err = -EFBIG;
				goto out;
			}
			cap = cap * 2 > max_out + 1 ? max_out + 1 : cap * 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				err = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
	}
	if (zs.avail_in != 0) {
		err = -EBADMSG; /* trailing garbage after the stream */
		goto out;
	}
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	buf = NULL;
out:
	inflateEnd(&zs);
	free(buf);
	return err;
}
