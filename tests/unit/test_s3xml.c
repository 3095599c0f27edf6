// SPDX-License-Identifier: BSD-2-Clause
/* test_s3xml.c - S3 error and ListObjectsV2 documents (lib/s3xml.c). */
#include <errno.h>

#include "check.h"
#include "s3xml.h"

static const char err403[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>"
    "<Message>Access Denied &amp; &lt;logged&gt; &#233;&#x4e2d;</Message>"
    "<RequestId>656c76696e6727732072657175657374</RequestId></Error>";

TEST(error_code_and_message)
{
	char code[64], msg[256];

	CHECK_EQ(s3xml_text(err403, strlen(err403), "Code", code, sizeof(code)), 0);
	CHECK_STR(code, "AccessDenied");
	CHECK_EQ(s3xml_text(err403, strlen(err403), "Message", msg, sizeof(msg)), 0);
	CHECK_STR(msg, "Access Denied & <logged> \xc3\xa9\xe4\xb8\xad");
	CHECK_EQ(s3xml_text(err403, strlen(err403), "Resource", msg, sizeof(msg)), -ENOENT);
	CHECK_EQ(s3xml_text(err403, strlen(err403), "Code", code, 5), -E2BIG);
	CHECK_EQ(s3xml_text("<Code>Slow", 10, "Code", code, sizeof(code)), -EBADMSG);
	CHECK_EQ(s3xml_text("<Code>a&bogus;</Code>", 21, "Code", code, sizeof(code)), -EBADMSG);
	CHECK_EQ(s3xml_text("<Code>&#0;</Code>", 17, "Code", code, sizeof(code)), -EBADMSG);
	/* <CodeX> is not <Code> */
	CHECK_EQ(s3xml_text("<CodeX>a</CodeX>", 16, "Code", code, sizeof(code)), -ENOENT);
	CHECK_EQ(s3xml_text("<Code/>", 7, "Code", code, sizeof(code)), 0);
	CHECK_STR(code, "");
}

static const char page[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Name>bucket</Name><Prefix/><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>"
    "<IsTruncated>true</IsTruncated>"
    "<Contents><Key>a/b &amp; c.txt</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>"
    "<ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size>"
    "<StorageClass>STANDARD</StorageClass></Contents>"
    "<Contents><Key>z</Key><ETag>\"e\"</ETag><Size>0</Size></Contents>"
    "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
    "</ListBucketResult>";

TEST(list_page)
{
	struct s3xml_list l;

	CHECK_EQ(s3xml_parse_list(page, strlen(page), &l), 0);
	CHECK_EQ(l.n, 2);
	CHECK_EQ(l.truncated, 1);
	CHECK_STR(l.next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
	if (l.n == 2) {
		CHECK_STR(l.objs[0].key, "a/b & c.txt");
		CHECK_EQ(l.objs[0].size, 434234);
		CHECK_STR(l.objs[0].etag, "\"fba9dede5f27731c9771645a39863328\"");
		CHECK_STR(l.objs[1].key, "z");
		CHECK_EQ(l.objs[1].size, 0);
	}
	s3xml_list_free(&l);
}

TEST(list_rejects)
{
	static const char last[] = "<ListBucketResult><IsTruncated>false</IsTruncated>"
				   "</ListBucketResult>";
	static const char notrunc_token[] = "<ListBucketResult><IsTruncated>true</IsTruncated>"
					    "</ListBucketResult>";
	static const char badsize[] = "<ListBucketResult><Contents><Key>k</Key><Size>-1</Size>"
				      "</Contents></ListBucketResult>";
	static const char unclosed[] = "<ListBucketResult><Contents><Key>k</Key><Size>1</Size>"
				       "</ListBucketResult>";
	struct s3xml_list l;

	CHECK_EQ(s3xml_parse_list(last, strlen(last), &l), 0);
	CHECK_EQ(l.n, 0);
	CHECK_EQ(l.truncated, 0);
	s3xml_list_free(&l);
	CHECK_EQ(s3xml_parse_list(notrunc_token, strlen(notrunc_token), &l), -EBADMSG);
	CHECK_EQ(s3xml_parse_list(badsize, strlen(badsize), &l), -EBADMSG);
	CHECK_EQ(s3xml_parse_list(unclosed, strlen(unclosed), &l), -EBADMSG);
	CHECK_EQ(s3xml_parse_list("<Error/>", 8, &l), -EBADMSG);
	CHECK(l.objs == NULL);
}

int main(void)
{
	RUN(error_code_and_message);
	RUN(list_page);
	RUN(list_rejects);
	return CHECK_DONE();
}
