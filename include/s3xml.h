/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * s3xml.h - the few pieces of S3's XML answers the S3 client needs: an error's
 * <Code> and <Message>, and a ListObjectsV2 page. Pure (buffers in, no I/O).
 * A tiny element scanner, not a general XML parser: no DTDs, no CDATA, no
 * namespaces prefixes; the five predefined entities and numeric character
 * references are decoded.
 */
#ifndef ACTLOG_S3XML_H
#define ACTLOG_S3XML_H

#include <stddef.h>
#include <stdint.h>

#define S3XML_MAX_DOC (16U << 20) /* a ListObjectsV2 page of 1000 long keys fits */
#define S3XML_MAX_TEXT 4096	  /* one element's text (S3 keys are <= 1024 bytes) */
#define S3XML_MAX_KEYS 1000	  /* S3's largest page */

/* Copy the decoded text of the first <name>...</name> in doc[0..len) into
 * out (n bytes, NUL-terminated). 0; -ENOENT when absent; -E2BIG over the
 * caps or n; -EBADMSG for an unterminated element or a bad entity. */
int s3xml_text(const char *doc, size_t len, const char *name, char *out, size_t n);

struct s3xml_object {
	char *key;
	uint64_t size;
	char etag[80];
};

struct s3xml_list {
	struct s3xml_object *objs;
	size_t n;
	int truncated;
	char next_token[1024]; /* NextContinuationToken, "" when none */
};

/* Parse a ListBucketResult. Fills *out (free with s3xml_list_free()); 0,
 * -EBADMSG (not a ListBucketResult, malformed), -E2BIG (over the caps),
 * -ENOMEM. */
int s3xml_parse_list(const char *doc, size_t len, struct s3xml_list *out);
void s3xml_list_free(struct s3xml_list *l);

#endif /* ACTLOG_S3XML_H */
