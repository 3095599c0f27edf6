// SPDX-License-Identifier: BSD-2-Clause
/* gzip helpers (lib/gz.c): round trip, caps, damage. */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "gz.h"

TEST(round_trip_sizes)
{
	static const size_t sizes[] = {0, 1, 100, 65536, 3 << 20};
	size_t i, j, zl, ol;
	uint8_t *in, *z, *o;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		in = malloc(sizes[i] + 1);
		for (j = 0; j < sizes[i]; j++)
			in[j] = (uint8_t)(j * 7 + (j >> 9));
		CHECK_EQ(gz_compress(in, sizes[i], 6, &z, &zl), 0);
		CHECK(zl >= 18 && z[0] == 0x1f && z[1] == 0x8b); /* gzip magic */
		CHECK_EQ(gz_decompress(z, zl, sizes[i], &o, &ol), 0);
		CHECK_EQ(ol, sizes[i]);
		CHECK(memcmp(in, o, sizes[i]) == 0);
		CHECK_EQ(o[ol], 0);
		free(o);
		free(z);
		free(in);
	}
}

TEST(cap_stops_a_bomb)
{
	size_t n = 64 << 20, zl, ol;
	uint8_t *in = calloc(1, n), *z, *o = NULL;

	CHECK_EQ(gz_compress(in, n, 9, &z, &zl), 0);
	CHECK(zl < 100 * 1024);
	CHECK_EQ(gz_decompress(z, zl, 1 << 20, &o, &ol), -EFBIG);
	CHECK(o == NULL);
	CHECK_EQ(gz_decompress(z, zl, n, &o, &ol), 0); /* exactly at the cap is fine */
	CHECK_EQ(ol, n);
	free(o);
	free(z);
	free(in);
}

TEST(truncated_corrupt_and_trailing_garbage)
{
	const char *text = "{\"type\":\"agent\"}\n{\"type\":\"activity\"}\n";
	size_t zl, ol, cut;
	uint8_t *z, *o = NULL, *bad;
	int r, failures = 0;

	CHECK_EQ(gz_compress(text, strlen(text), 6, &z, &zl), 0);
	for (cut = 0; cut < zl; cut++) { /* every truncation fails cleanly */
		r = gz_decompress(z, cut, 1 << 20, &o, &ol);
		failures += r == -EBADMSG;
		if (r == 0)
			free(o);
	}
	CHECK_EQ(failures, zl);
	bad = malloc(zl + 4);
	memcpy(bad, z, zl);
	memcpy(bad + zl, "junk", 4);
	CHECK_EQ(gz_decompress(bad, zl + 4, 1 << 20, &o, &ol), -EBADMSG);
	memcpy(bad, z, zl);
	bad[zl / 2] ^= 0x55; /* a flipped byte: CRC or inflate error */
	CHECK_EQ(gz_decompress(bad, zl, 1 << 20, &o, &ol), -EBADMSG);
	CHECK_EQ(gz_decompress("not gzip at all", 15, 1 << 20, &o, &ol), -EBADMSG);
	free(bad);
	free(z);
}

int main(void)
{
	RUN(round_trip_sizes);
	RUN(cap_stops_a_bomb);
	RUN(truncated_corrupt_and_trailing_garbage);
	return CHECK_DONE();
}
