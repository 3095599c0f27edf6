// SPDX-License-Identifier: BSD-2-Clause
/* test_s3.c - the pure helpers of lib/s3.c: URLs, the multipart XML, part
 * sizes, back-off caps, error classification; client settings checks; the
 * streamed upload's argument checks and local failures. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "s3.h"
#include "util.h"

static int url_is(const char *ep, const char *bucket, int path_style, const char *key,
		  const char *want_url, const char *want_host, const char *want_path)
{
	char *u, *h, *p;
	int ok, err = s3_build_url(ep, bucket, path_style, key, &u, &h, &p);

	if (err) {
		printf("  s3_build_url(%s, %s, %d, %s) = %d\n", ep, bucket, path_style, key, err);
		return 0;
	}
	ok = !strcmp(u, want_url) && !strcmp(h, want_host) && !strcmp(p, want_path);
	if (!ok)
		printf("  got url %s host %s path %s\n", u, h, p);
	free(u);
	free(h);
	free(p);
	return ok;
}

static int url_err(const char *ep, const char *bucket, int path_style, const char *key)
{
	char *u, *h, *p;
	int err = s3_build_url(ep, bucket, path_style, key, &u, &h, &p);

	if (!err) {
		free(u);
		free(h);
		free(p);
	}
	return err == -EINVAL;
}

TEST(path_style_urls)
{
	CHECK(url_is("http://127.0.0.1:9000", "b", 1, "a/b c.txt",
		     "http://127.0.0.1:9000/b/a/b%20c.txt", "127.0.0.1:9000", "/b/a/b%20c.txt"));
	CHECK(url_is("https://minio.example/base/", "bk", 1, "k", "https://minio.example/base/bk/k",
		     "minio.example", "/base/bk/k"));
	CHECK(url_is("https://s3.eu-west-1.amazonaws.com", "bk", 1, NULL,
		     "https://s3.eu-west-1.amazonaws.com/bk", "s3.eu-west-1.amazonaws.com", "/bk"));
	/* reserved characters encoded, '/' kept, UTF-8 bytes encoded */
	CHECK(url_is("http://h", "b", 1, "x+y&z=%/\xc3\xa9", "http://h/b/x%2By%26z%3D%25/%C3%A9",
		     "h", "/b/x%2By%26z%3D%25/%C3%A9"));
}

TEST(virtual_host_urls)
{
	CHECK(url_is("https://s3.us-east-1.amazonaws.com", "my-bucket", 0, "logs/1.gz",
		     "https://my-bucket.s3.us-east-1.amazonaws.com/logs/1.gz",
		     "my-bucket.s3.us-east-1.amazonaws.com", "/logs/1.gz"));
	CHECK(url_is("https://s3.us-east-1.amazonaws.com", "my-bucket", 0, "",
		     "https://my-bucket.s3.us-east-1.amazonaws.com/",
		     "my-bucket.s3.us-east-1.amazonaws.com", "/"));
	CHECK(url_is("http://localhost:4568", "b", 0, "k", "http://b.localhost:4568/k",
		     "b.localhost:4568", "/k"));
}

TEST(bad_urls)
{
	CHECK(url_err("ftp://h", "b", 1, "k"));
	CHECK(url_err("h:9000", "b", 1, "k"));
	CHECK(url_err("http://", "b", 1, "k"));
	CHECK(url_err("http://user@h", "b", 1, "k"));
	CHECK(url_err("http://h/?x", "b", 1, "k"));
	CHECK(url_err("http://h", "", 1, "k"));
	CHECK(url_err("http://h", "a.b", 0, "k")); /* dots break virtual hosts */
	CHECK(url_err("http://h", "a/b", 1, "k"));
	{
		char *big = malloc(S3_MAX_KEY + 2);

		memset(big, 'k', S3_MAX_KEY + 1);
		big[S3_MAX_KEY + 1] = '\0';
		CHECK(url_err("http://h", "b", 1, big));
		big[S3_MAX_KEY] = '\0';
		{
			char *u, *h, *p;

			CHECK_EQ(s3_build_url("http://h", "b", 1, big, &u, &h, &p), 0);
			free(u);
			free(h);
			free(p);
		}
		free(big);
	}
}

TEST(complete_xml)
{
	const char *etags[] = {"\"e1\"", "\"e2\"", "\"e3\""};
	const char *bad[] = {"\"ok\"", "<x>"};
	char *x = s3_complete_xml(etags, 3);

	CHECK_STR(x, "<CompleteMultipartUpload>"
		     "<Part><PartNumber>1</PartNumber><ETag>\"e1\"</ETag></Part>"
		     "<Part><PartNumber>2</PartNumber><ETag>\"e2\"</ETag></Part>"
		     "<Part><PartNumber>3</PartNumber><ETag>\"e3\"</ETag></Part>"
		     "</CompleteMultipartUpload>");
	free(x);
	CHECK(s3_complete_xml(etags, 0) == NULL);
	CHECK(s3_complete_xml(bad, 2) == NULL);
}

TEST(part_sizes)
{
	CHECK_EQ(s3_part_size(12 << 20, 0), S3_MIN_PART);
	CHECK_EQ(s3_part_size(12 << 20, 1 << 20), S3_MIN_PART);
	CHECK_EQ(s3_part_size(12 << 20, 8 << 20), 8 << 20);
	/* 100 GiB with 8 MiB parts would be 12800 parts: doubled to 16 MiB */
	CHECK_EQ(s3_part_size(100ULL << 30, 8 << 20), 16 << 20);
	CHECK_EQ(s3_part_size(10000ULL * (5ULL << 30), 0), S3_MAX_PART);
	CHECK_EQ(s3_part_size(10000ULL * (5ULL << 30) + 1, 0), 0);
}

TEST(backoff_caps)
{
	CHECK_EQ(s3_backoff_cap(0, 100, 20000), 100);
	CHECK_EQ(s3_backoff_cap(1, 100, 20000), 200);
	CHECK_EQ(s3_backoff_cap(3, 100, 20000), 800);
	CHECK_EQ(s3_backoff_cap(10, 100, 20000), 20000);
	CHECK_EQ(s3_backoff_cap(1000, 100, 20000), 20000);
	CHECK_EQ(s3_backoff_cap(40, 4000000000U, 4100000000U), 4100000000U);
}

TEST(classify)
{
	int retry, thr;

	CHECK_EQ(s3_classify(404, "NoSuchKey", &retry, &thr), -ENOENT);
	CHECK(!retry && !thr);
	CHECK_EQ(s3_classify(404, "NoSuchBucket", &retry, &thr), -ENOENT);
	CHECK_EQ(s3_classify(403, "AccessDenied", &retry, &thr), -EACCES);
	CHECK(!retry);
	CHECK_EQ(s3_classify(503, "SlowDown", &retry, &thr), -EAGAIN);
	CHECK(retry && thr);
	CHECK_EQ(s3_classify(429, "", &retry, &thr), -EAGAIN);
	CHECK(retry && thr);
	CHECK_EQ(s3_classify(500, "InternalError", &retry, &thr), -EIO);
	CHECK(retry && !thr);
	CHECK_EQ(s3_classify(400, "RequestTimeout", &retry, &thr), -EIO);
	CHECK(retry && !thr);
	CHECK_EQ(s3_classify(400, "InvalidArgument", &retry, &thr), -EIO);
	CHECK(!retry);
}

TEST(client_settings)
{
	struct s3_config cfg = {.bucket = "b", .access_key = "AK", .secret_key = "SK"};
	struct s3_client *c = NULL;

	CHECK_EQ(s3_client_new(&cfg, &c), 0); /* default AWS endpoint for us-east-1 */
	s3_client_free(c);
	cfg.endpoint = "ftp://x";
	CHECK_EQ(s3_client_new(&cfg, &c), -EINVAL);
	cfg.endpoint = "http://127.0.0.1:1";
	cfg.part_size = 1 << 20;
	CHECK_EQ(s3_client_new(&cfg, &c), -EINVAL);
	cfg.part_size = 0;
	cfg.secret_key = "";
	CHECK_EQ(s3_client_new(&cfg, &c), -EINVAL);
	cfg.secret_key = "SK";
	cfg.max_attempts = S3_MAX_ATTEMPTS + 1;
	CHECK_EQ(s3_client_new(&cfg, &c), -EINVAL);
	cfg.max_attempts = 1;
	cfg.path_style = 1;
	CHECK_EQ(s3_client_new(&cfg, &c), 0);
	{
		char *url = NULL;

		CHECK_EQ(s3_presign(c, "GET", "k", 0, &url), -EINVAL);
		CHECK_EQ(s3_presign(c, "GET", "a b", 60, &url), 0);
		CHECK(url && !strncmp(url, "http://127.0.0.1:1/b/a%20b?",
				      strlen("http://127.0.0.1:1/b/a%20b?")));
		CHECK(url && strstr(url, "X-Amz-Expires=60&"));
		free(url);
		CHECK_EQ(s3_put(c, "", "x", 1, NULL), -EINVAL);
	}
	s3_client_free(c);
	s3_client_free(NULL);
}

TEST(presign_signed_headers)
{
	struct s3_config cfg = {.endpoint = "http://127.0.0.1:1",
				.bucket = "b",
				.path_style = 1,
				.access_key = "AK",
				.secret_key = "SK"};
	struct sigv4_header h[S3_PRESIGN_MAX_HEADERS + 1];
	struct s3_client *c = NULL;
	char *url = NULL;
	size_t i;

	CHECK_EQ(s3_client_new(&cfg, &c), 0);
	h[0] = (struct sigv4_header){"x-amz-checksum-sha256", "abc="};
	h[1] = (struct sigv4_header){"Content-Length", "12"};
	CHECK_EQ(s3_presign_headers(c, "PUT", "k", 60, h, 2, &url), 0);
	/* names lower-cased and sorted, host among them */
	CHECK(url && strstr(url, "&X-Amz-SignedHeaders=content-length%3Bhost%3B"
				 "x-amz-checksum-sha256&X-Amz-Signature="));
	free(url);
	url = NULL;
	CHECK_EQ(s3_presign(c, "PUT", "k", 60, &url), 0);
	CHECK(url && strstr(url, "&X-Amz-SignedHeaders=host&"));
	free(url);
	url = NULL;
	h[1] = (struct sigv4_header){"Host", "elsewhere"};
	CHECK_EQ(s3_presign_headers(c, "PUT", "k", 60, h, 2, &url), -EINVAL);
	CHECK(!url);
	h[1] = (struct sigv4_header){"", "x"};
	CHECK_EQ(s3_presign_headers(c, "PUT", "k", 60, h, 2, &url), -EINVAL);
	for (i = 0; i < ARRAY_SIZE(h); i++)
		h[i] = (struct sigv4_header){"x-amz-meta-a", "1"};
	CHECK_EQ(s3_presign_headers(c, "PUT", "k", 60, h, ARRAY_SIZE(h), &url), -EINVAL);
	CHECK_EQ(s3_presign_headers(c, "PUT", "k", 60, NULL, 1, &url), -EINVAL);
	CHECK(!url);
	s3_client_free(c);
}

TEST(retry_after)
{
	/* 2026-01-02 03:04:05 UTC */
	const long long now = 1767323045LL;
	unsigned ms = 7;

	CHECK_EQ(s3_retry_after_ms("1", now, &ms), 0);
	CHECK_EQ(ms, 1000);
	CHECK_EQ(s3_retry_after_ms(" 0 ", now, &ms), 0);
	CHECK_EQ(ms, 0);
	CHECK_EQ(s3_retry_after_ms("59", now, &ms), 0);
	CHECK_EQ(ms, 59000);
	CHECK_EQ(s3_retry_after_ms("120", now, &ms), 0);
	CHECK_EQ(ms, S3_MAX_RETRY_AFTER_MS);
	CHECK_EQ(s3_retry_after_ms("99999999999999999999999", now, &ms), 0);
	CHECK_EQ(ms, S3_MAX_RETRY_AFTER_MS);
	CHECK_EQ(s3_retry_after_ms("Fri, 02 Jan 2026 03:04:08 GMT", now, &ms), 0);
	CHECK_EQ(ms, 3000);
	CHECK_EQ(s3_retry_after_ms("Friday, 02-Jan-26 03:04:10 GMT", now, &ms), 0);
	CHECK_EQ(ms, 5000);
	CHECK_EQ(s3_retry_after_ms("Fri Jan  2 03:04:06 2026", now, &ms), 0);
	CHECK_EQ(ms, 1000);
	CHECK_EQ(s3_retry_after_ms("Fri, 02 Jan 2026 03:00:00 GMT", now, &ms), 0);
	CHECK_EQ(ms, 0); /* in the past */
	CHECK_EQ(s3_retry_after_ms("Sat, 03 Jan 2026 03:04:05 GMT", now, &ms), 0);
	CHECK_EQ(ms, S3_MAX_RETRY_AFTER_MS);
	CHECK_EQ(s3_retry_after_ms("", now, &ms), -EINVAL);
	CHECK_EQ(s3_retry_after_ms("-1", now, &ms), -EINVAL);
	CHECK_EQ(s3_retry_after_ms("1.5", now, &ms), -EINVAL);
	CHECK_EQ(s3_retry_after_ms("soon", now, &ms), -EINVAL);
	CHECK_EQ(s3_retry_after_ms("Fri, 02 Jan 2026 03:04:08 GMT trailing", now, &ms), -EINVAL);
	CHECK_EQ(s3_retry_after_ms(NULL, now, &ms), -EINVAL);
}

/* the streamed upload's checks and failures that need no S3: port 1 refuses */
TEST(upload_local)
{
	struct s3_config cfg = {.endpoint = "http://127.0.0.1:1",
				.bucket = "b",
				.path_style = 1,
				.access_key = "AK",
				.secret_key = "SK",
				.max_attempts = 1};
	char key[S3_MAX_KEY + 2];
	struct s3_client *c = NULL;
	struct s3_upload *u = NULL;
	uint64_t size = 7;

	CHECK_EQ(s3_client_new(&cfg, &c), 0);
	if (!c)
		return;
	CHECK_EQ(s3_upload_begin(c, "", NULL, &u), -EINVAL);
	CHECK(!u);
	CHECK_EQ(s3_last_error(c)->err, -EINVAL);
	CHECK_EQ(s3_upload_begin(c, NULL, NULL, &u), -EINVAL);
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	CHECK_EQ(s3_upload_begin(c, key, NULL, &u), -EINVAL);
	CHECK_EQ(s3_upload_begin(NULL, "k", NULL, &u), -EINVAL);
	CHECK_EQ(s3_upload_finish(NULL, &size), -EINVAL);
	CHECK_EQ(size, 0);
	s3_upload_abort(NULL);

	/* nothing is sent before finish: begin, write, abort make no request */
	CHECK_EQ(s3_upload_begin(c, "k", NULL, &u), 0);
	CHECK_EQ(s3_upload_write(u, "abc", 3), 0);
	CHECK_EQ(s3_upload_write(u, NULL, 0), 0);
	s3_upload_abort(u);
	CHECK_EQ(s3_last_error(c)->err, 0);
	CHECK_EQ(s3_last_error(c)->attempts, 0);

	/* a bad write is sticky, and finish reports it without a request */
	CHECK_EQ(s3_upload_begin(c, "k", NULL, &u), 0);
	CHECK_EQ(s3_upload_write(u, NULL, 5), -EINVAL);
	CHECK_EQ(s3_upload_write(u, "abc", 3), -EINVAL);
	size = 7;
	CHECK_EQ(s3_upload_finish(u, &size), -EINVAL);
	CHECK_EQ(size, 0);
	CHECK_EQ(s3_last_error(c)->attempts, 0);

	/* within the first part: finish is one PUT, here refused by the transport */
	CHECK_EQ(s3_upload_begin(c, "k", "text/plain", &u), 0);
	CHECK_EQ(s3_upload_write(u, "abc", 3), 0);
	CHECK_EQ(s3_upload_finish(u, &size), -EIO);
	CHECK_EQ(s3_last_error(c)->err, -EIO);
	CHECK_EQ(s3_last_error(c)->http_status, 0);
	CHECK_STR(s3_last_error(c)->code, "Transport");
	CHECK_EQ(s3_last_error(c)->attempts, 1);
	s3_client_free(c);
}

int main(void)
{
	RUN(path_style_urls);
	RUN(virtual_host_urls);
	RUN(bad_urls);
	RUN(complete_xml);
	RUN(part_sizes);
	RUN(backoff_caps);
	RUN(retry_after);
	RUN(classify);
	RUN(client_settings);
	RUN(presign_signed_headers);
	RUN(upload_local);
	return CHECK_DONE();
}
