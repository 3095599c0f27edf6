// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_sigv4.c - lib/sigv4.c against the signatures AWS publishes: the SigV4
 * test suite (AKIDEXAMPLE, 20150830T123600Z, us-east-1, service "service")
 * and the S3 examples of "Authenticating Requests (AWS Signature Version 4)"
 * (AKIAIOSFODNN7EXAMPLE, 20130524T000000Z, examplebucket).
 */
#include <errno.h>

#include "check.h"
#include "sigv4.h"
#include "util.h"

#define SUITE_AK "AKIDEXAMPLE"
#define SUITE_SK "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SUITE_DATE "20150830T123600Z"
#define S3_AK "AKIAIOSFODNN7EXAMPLE"
#define S3_SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define S3_DATE "20130524T000000Z"

struct vec {
	const char *name, *method, *path, *query;
	const char *headers; /* "Name:value\n" lines, host and x-amz-date added */
	const char *body;
	const char *sig;
};

/* the SigV4 test suite: request as sent, published signature */
static const struct vec suite[] = {
    {"get-vanilla", "GET", "/", NULL, "", "",
     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
    {"get-vanilla-query-order-key-case", "GET", "/", "Param2=value2&Param1=value1", "", "",
     "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
    {"get-vanilla-query-order-key", "GET", "/", "Param1=value2&Param1=value1", "", "",
     "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"},
    {"get-vanilla-query-unreserved", "GET", "/",
     "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz="
     "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
     "", "", "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
    {"get-vanilla-utf8-query", "GET", "/", "\xe1\x88\xb4=bar", "", "",
     "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
    {"get-vanilla-empty-query-key", "GET", "/", "Param1=value1", "", "",
     "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"},
    {"get-header-value-trim", "GET", "/", NULL, "My-Header1: value1\nMy-Header2: \"a   b   c\"\n",
     "", "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
    {"get-header-key-duplicate", "GET", "/", NULL,
     "My-Header1:value2\nMy-Header1:value2\nMy-Header1:value1\n", "",
     "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
    {"get-header-value-order", "GET", "/", NULL,
     "My-Header1:value4\nMy-Header1:value1\nMy-Header1:value3\nMy-Header1:value2\n", "",
     "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"},
    {"get-space", "GET", "/example space/", NULL, "", "",
     "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"},
    {"get-slash", "GET", "//", NULL, "", "",
     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
    {"get-slashes", "GET", "//example//", NULL, "", "",
     "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"},
    {"get-slash-dot-slash", "GET", "/./", NULL, "", "",
     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
    {"get-slash-pointless-dot", "GET", "/./example", NULL, "", "",
     "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5"},
    {"get-relative", "GET", "/example/..", NULL, "", "",
     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
    {"get-relative-relative", "GET", "/example1/example2/../..", NULL, "", "",
     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
    {"get-unreserved", "GET", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
     NULL, "", "", "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
    {"get-utf8", "GET", "/\xe1\x88\xb4", NULL, "", "",
     "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
    {"post-vanilla", "POST", "/", NULL, "", "",
     "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
    {"post-vanilla-query", "POST", "/", "Param1=value1", "", "",
     "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
    {"post-header-key-sort", "POST", "/", NULL, "My-Header1:value1\n", "",
     "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"},
    {"post-header-value-case", "POST", "/", NULL, "My-Header1:VALUE1\n", "",
     "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"},
    {"post-x-www-form-urlencoded", "POST", "/", NULL,
     "Content-Type:application/x-www-form-urlencoded\n", "Param1=value1",
     "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
    {"post-x-www-form-urlencoded-parameters", "POST", "/", NULL,
     "Content-Type:application/x-www-form-urlencoded; charset=utf8\n", "Param1=value1",
     "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"},
};

#define MAXH 16

/* split "Name:value\n" lines of text (copied into store) into h; returns count */
static size_t split_headers(const char *text, char *store, size_t n, struct sigv4_header *h)
{
	size_t k = 0;
	char *p, *nl, *c;

	snprintf(store, n, "%s", text);
	for (p = store; *p && k < MAXH; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			break;
		*nl = '\0';
		c = strchr(p, ':');
		if (!c)
			break;
		*c = '\0';
		h[k].name = p;
		h[k].value = c + 1;
		k++;
	}
	return k;
}

static int sign_vec(const struct vec *v, const char *ak, const char *sk, const char *host,
		    const char *date, const char *service, unsigned flags, const char *extra_hash,
		    struct sigv4_output *out)
{
	struct sigv4_header h[MAXH + 2];
	char store[1024], hash[SIGV4_HEX_LEN + 1];
	size_t n = split_headers(v->headers, store, sizeof(store), h);
	struct sigv4_input in = {0};

	h[n++] = (struct sigv4_header){"Host", host};
	h[n++] = (struct sigv4_header){"X-Amz-Date", date};
	if (sigv4_sha256_hex(v->body, strlen(v->body), hash))
		return -ENOMEM;
	in.method = v->method;
	in.path = v->path;
	in.query = v->query;
	in.headers = h;
	in.n_headers = n;
	in.payload_hash = extra_hash ? extra_hash : hash;
	in.access_key = ak;
	in.secret_key = sk;
	in.region = "us-east-1";
	in.service = service;
	in.amz_date = date;
	in.flags = flags;
	return sigv4_sign(&in, out);
}

TEST(aws_test_suite)
{
	for (size_t i = 0; i < ARRAY_SIZE(suite); i++) {
		struct sigv4_output out;
		int r = sign_vec(&suite[i], SUITE_AK, SUITE_SK, "example.amazonaws.com", SUITE_DATE,
				 "service", 0, NULL, &out);

		CHECK_EQ(r, 0);
		if (r)
			continue;
		if (strcmp(out.signature, suite[i].sig) != 0)
			printf("  %s: got %s\n", suite[i].name, out.signature);
		CHECK_STR(out.signature, suite[i].sig);
		sigv4_output_free(&out);
	}
}

/* get-vanilla in full: canonical request, string to sign, Authorization */
TEST(suite_get_vanilla_strings)
{
	struct sigv4_output out;

	CHECK_EQ(sign_vec(&suite[0], SUITE_AK, SUITE_SK, "example.amazonaws.com", SUITE_DATE,
			  "service", 0, NULL, &out),
		 0);
	CHECK_STR(out.canonical_request,
		  "GET\n/\n\nhost:example.amazonaws.com\n"
		  "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" SIGV4_EMPTY_SHA256);
	CHECK_STR(out.string_to_sign,
		  "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
		  "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
	CHECK_STR(
	    out.authorization,
	    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
	    "SignedHeaders=host;x-amz-date, "
	    "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	sigv4_output_free(&out);
}

/* the S3 examples: header form with x-amz-content-sha256 */
TEST(s3_doc_examples)
{
	static const struct {
		struct vec v;
		const char *hash;
	} ex[] = {
	    {{"get-object-range", "GET", "/test.txt", NULL,
	      "Range:bytes=0-9\nx-amz-content-sha256:" SIGV4_EMPTY_SHA256 "\n", "",
	      "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"},
	     NULL},
	    {{"put-object", "PUT", "/test$file.text", NULL,
	      "Date:Fri, 24 May 2013 00:00:00 GMT\nx-amz-storage-class:REDUCED_REDUNDANCY\n"
	      "x-amz-content-sha256:"
	      "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n",
	      "Welcome to Amazon S3.",
	      "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"},
	     NULL},
	    {{"get-bucket-lifecycle", "GET", "/", "lifecycle",
	      "x-amz-content-sha256:" SIGV4_EMPTY_SHA256 "\n", "",
	      "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"},
	     NULL},
	    {{"list-objects", "GET", "/", "max-keys=2&prefix=J",
	      "x-amz-content-sha256:" SIGV4_EMPTY_SHA256 "\n", "",
	      "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"},
	     NULL},
	};
	for (size_t i = 0; i < ARRAY_SIZE(ex); i++) {
		struct sigv4_output out;
		int r = sign_vec(&ex[i].v, S3_AK, S3_SK, "examplebucket.s3.amazonaws.com", S3_DATE,
				 "s3", SIGV4_S3, ex[i].hash, &out);

		CHECK_EQ(r, 0);
		if (r)
			continue;
		if (strcmp(out.signature, ex[i].v.sig) != 0)
			printf("  %s: got %s\n%s\n", ex[i].v.name, out.signature,
			       out.canonical_request);
		CHECK_STR(out.signature, ex[i].v.sig);
		if (i == 0)
			CHECK_STR(out.signed_headers, "host;range;x-amz-content-sha256;x-amz-date");
		if (i == 1)
			CHECK(strstr(out.canonical_request, "PUT\n/test%24file.text\n\n") ==
			      out.canonical_request);
		if (i == 2)
			CHECK(strstr(out.canonical_request, "\n/\nlifecycle=\n") != NULL);
		sigv4_output_free(&out);
	}
}

/* "Authenticating Requests: Using Query Parameters" */
TEST(s3_presigned_url_example)
{
	struct sigv4_header h[] = {{"Host", "examplebucket.s3.amazonaws.com"}};
	struct sigv4_input in = {
	    .method = "GET",
	    .path = "/test.txt",
	    .headers = h,
	    .n_headers = 1,
	    .payload_hash = SIGV4_UNSIGNED_PAYLOAD,
	    .access_key = S3_AK,
	    .secret_key = S3_SK,
	    .region = "us-east-1",
	    .service = "s3",
	    .amz_date = S3_DATE,
	    .presign_expires = 86400,
	    .flags = SIGV4_S3,
	};
	struct sigv4_output out;

	CHECK_EQ(sigv4_sign(&in, &out), 0);
	CHECK_STR(out.signature,
		  "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
	CHECK_STR(out.canonical_request,
		  "GET\n/test.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
		  "AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date="
		  "20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\n"
		  "host:examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD");
	CHECK_STR(
	    out.presigned_query,
	    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524"
	    "%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400"
	    "&X-Amz-SignedHeaders=host&X-Amz-Signature="
	    "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
	CHECK(out.authorization == NULL);
	sigv4_output_free(&out);
}

static char *creq_of(const char *path, const char *query, unsigned flags)
{
	struct sigv4_header h[] = {{"host", "h"}, {"x-amz-date", SUITE_DATE}};
	struct sigv4_input in = {
	    .method = "GET",
	    .path = path,
	    .query = query,
	    .headers = h,
	    .n_headers = 2,
	    .payload_hash = SIGV4_UNSIGNED_PAYLOAD,
	    .access_key = "A",
	    .secret_key = "S",
	    .region = "r",
	    .service = "svc",
	    .amz_date = SUITE_DATE,
	    .flags = flags,
	};
	struct sigv4_output out;
	char *s, *nl;

	if (sigv4_sign(&in, &out))
		return NULL;
	/* the path and query lines */
	s = strdup(strchr(out.canonical_request, '\n') + 1);
	nl = strchr(s, '\n');
	nl = strchr(nl + 1, '\n');
	*nl = '\0';
	sigv4_output_free(&out);
	return s;
}

#define CHECK_CREQ(path, query, flags, want)                                                       \
	do {                                                                                       \
		char *got_ = creq_of(path, query, flags);                                          \
		CHECK_STR(got_, want);                                                             \
		free(got_);                                                                        \
	} while (0)

/* S3 signs the path as sent; other services encode it a second time */
TEST(path_rules)
{
	CHECK_CREQ("/a%20b/c", NULL, SIGV4_S3, "/a%20b/c\n");
	CHECK_CREQ("/a%20b/c", NULL, 0, "/a%2520b/c\n");
	CHECK_CREQ("/a/./b/../c//d/", NULL, SIGV4_S3, "/a/./b/../c//d/\n");
	CHECK_CREQ("/a/./b/../c//d/", NULL, 0, "/a/c/d/\n");
	CHECK_CREQ("/a%2fb", NULL, SIGV4_S3, "/a%2Fb\n");
	CHECK_CREQ("/k e$y", NULL, SIGV4_S3, "/k%20e%24y\n");
	CHECK_CREQ("", NULL, SIGV4_S3, "/\n");
	CHECK_CREQ("", NULL, 0, "/\n");
	CHECK_CREQ("/..", NULL, 0, "/\n");
}

TEST(query_rules)
{
	CHECK_CREQ("/", "b=2&a=1&a=0", 0, "/\na=0&a=1&b=2");
	CHECK_CREQ("/", "flag&x=", 0, "/\nflag=&x=");
	CHECK_CREQ("/", "&&a=1&", 0, "/\na=1");
	CHECK_CREQ("/", "k=a%2fb&k2=x+y&sp=a%20b&e=%3D=", 0,
		   "/\ne=%3D%3D&k=a%2Fb&k2=x%2By&sp=a%20b");
	CHECK_CREQ("/", "a=%zz%4", 0, "/\na=%25zz%254");
	/* sorted by encoded name: "%2A" (from '*') before "A" */
	CHECK_CREQ("/", "A=1&*=2", 0, "/\n%2A=2&A=1");
}

TEST(rejects)
{
	struct sigv4_header h[] = {{"host", "h"}, {"x-amz-date", SUITE_DATE}};
	struct sigv4_input in = {
	    .method = "GET",
	    .path = "/",
	    .headers = h,
	    .n_headers = 2,
	    .payload_hash = SIGV4_UNSIGNED_PAYLOAD,
	    .access_key = "A",
	    .secret_key = "S",
	    .region = "r",
	    .service = "svc",
	    .amz_date = SUITE_DATE,
	};
	struct sigv4_output out;
	static char big[SIGV4_MAX_PATH + 2];
	struct sigv4_input t;

	CHECK_EQ(sigv4_sign(&in, &out), 0);
	sigv4_output_free(&out);
	t = in;
	t.amz_date = "20150230T123600Z";
	CHECK_EQ(sigv4_sign(&t, &out), -EINVAL);
	t = in;
	t.n_headers = 1; /* no x-amz-date in header form */
	CHECK_EQ(sigv4_sign(&t, &out), -EINVAL);
	t.presign_expires = 60; /* fine when presigning */
	CHECK_EQ(sigv4_sign(&t, &out), 0);
	sigv4_output_free(&out);
	t.presign_expires = SIGV4_MAX_EXPIRES + 1;
	CHECK_EQ(sigv4_sign(&t, &out), -EINVAL);
	t = in;
	t.headers = h + 1; /* no host */
	t.n_headers = 1;
	CHECK_EQ(sigv4_sign(&t, &out), -EINVAL);
	t = in;
	t.payload_hash = "abc";
	CHECK_EQ(sigv4_sign(&t, &out), -EINVAL);
	t = in;
	t.session_token = "tok"; /* header form needs x-amz-security-token */
	CHECK_EQ(sigv4_sign(&t, &out), -EINVAL);
	t = in;
	t.path = "/a\nb";
	CHECK_EQ(sigv4_sign(&t, &out), -EINVAL);
	t = in;
	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	t.path = big;
	CHECK_EQ(sigv4_sign(&t, &out), -E2BIG);
	t = in;
	t.region = "us/east";
	CHECK_EQ(sigv4_sign(&t, &out), -EINVAL);
	CHECK(out.canonical_request == NULL && out.authorization == NULL);
	sigv4_output_free(NULL);
}

/* presign with a session token: the token is a signed query parameter */
TEST(presign_session_token)
{
	struct sigv4_header h[] = {{"host", "b.s3.amazonaws.com"}};
	struct sigv4_input in = {
	    .method = "PUT",
	    .path = "/k",
	    .query = "x-id=PutObject",
	    .headers = h,
	    .n_headers = 1,
	    .payload_hash = SIGV4_UNSIGNED_PAYLOAD,
	    .access_key = "AK",
	    .secret_key = "SK",
	    .session_token = "to/ken+=",
	    .region = "eu-west-1",
	    .service = "s3",
	    .amz_date = SUITE_DATE,
	    .presign_expires = 900,
	    .flags = SIGV4_S3,
	};
	struct sigv4_output out;

	CHECK_EQ(sigv4_sign(&in, &out), 0);
	CHECK(strstr(out.canonical_request, "&X-Amz-Security-Token=to%2Fken%2B%3D&") != NULL);
	CHECK(strncmp(out.presigned_query, "x-id=PutObject&X-Amz-Algorithm=", 31) == 0);
	CHECK(strstr(out.presigned_query, "X-Amz-Security-Token=to%2Fken%2B%3D&X-Amz-Signature=") !=
	      NULL);
	sigv4_output_free(&out);
}

int main(void)
{
	RUN(aws_test_suite);
	RUN(suite_get_vanilla_strings);
	RUN(s3_doc_examples);
	RUN(s3_presigned_url_example);
	RUN(path_rules);
	RUN(query_rules);
	RUN(rejects);
	RUN(presign_session_token);
	return CHECK_DONE();
}
