// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_srv_report.c - report_csv_field() (model/report.h), one CSV field of
 * a report: plain text as it is, RFC 4180 quoting of commas, quotes, CR and
 * LF, the quote that keeps a spreadsheet from running a formula (= + - @,
 * TAB, CR first), and the cap on the output.
 */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "model/report.h"

static const char *field(const char *f)
{
	static char out[256];

	return report_csv_field(out, sizeof(out), f) < 0 ? "(error)" : out;
}

TEST(quoting)
{
	CHECK_STR(field("firefox"), "firefox");
	CHECK_STR(field(""), "");
	CHECK_STR(field("a,b"), "\"a,b\"");
	CHECK_STR(field("say \"hi\""), "\"say \"\"hi\"\"\"");
	CHECK_STR(field("two\r\nlines"), "\"two\r\nlines\"");
	CHECK_STR(field("new\nline"), "\"new\nline\"");
	CHECK_STR(field("it's"), "it's");
}

TEST(formulas)
{
	CHECK_STR(field("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
	CHECK_STR(field("+1"), "'+1");
	CHECK_STR(field("-2+3"), "'-2+3");
	CHECK_STR(field("@SUM(A1)"), "'@SUM(A1)");
	CHECK_STR(field("\tx"), "'\tx");
	/* quoted and neutralised: the quote mark goes inside the quotes */
	CHECK_STR(field("=HYPERLINK(\"x\",\"y\")"), "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\"");
	CHECK_STR(field("\r=1"), "\"'\r=1\"");
	/* only the first character counts */
	CHECK_STR(field("a=b"), "a=b");
	CHECK_STR(field("x-y@z"), "x-y@z");
}

TEST(cap)
{
	char out[6];

	CHECK_EQ(report_csv_field(out, sizeof(out), "abcde"), 5);
	CHECK_STR(out, "abcde");
	CHECK_EQ(report_csv_field(out, sizeof(out), "abcdef"), -ENOSPC);
	CHECK_EQ(report_csv_field(out, sizeof(out), "=abcd"), -ENOSPC);
	CHECK_EQ(report_csv_field(out, sizeof(out), "a\"b"), -ENOSPC);
	CHECK_EQ(report_csv_field(out, sizeof(out), "a,b"), 5);
	CHECK_STR(out, "\"a,b\"");
}

int main(void)
{
	RUN(quoting);
	RUN(formulas);
	RUN(cap);
	return CHECK_DONE();
}
