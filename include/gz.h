/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gz.h - gzip in memory (zlib), for shipping batches and reading them.
 */
#ifndef ACTLOG_GZ_H
#define ACTLOG_GZ_H

#include <stddef.h>
#include <stdint.h>

/* Compress len bytes of in into a malloc'd gzip stream (*out, *outlen).
 * level 1..9 (or -1 for zlib's default). 0 or -ENOMEM/-EINVAL. */
int gz_compress(const void *in, size_t len, int level, uint8_t **out, size_t *outlen);

/* Inflate the gzip stream in (len bytes) into a malloc'd buffer (plus a NUL
 * byte not counted in *outlen). Never produces more than max_out bytes:
 * -EFBIG when the data would inflate beyond it (a gzip bomb), -EBADMSG when
 * the stream is corrupt, truncated or followed by garbage, -ENOMEM. */
int gz_decompress(const void *in, size_t len, size_t max_out, uint8_t **out, size_t *outlen);

#endif /* ACTLOG_GZ_H */
