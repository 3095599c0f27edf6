// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_proc_parse.c - /proc/PID/stat and /proc/PID/status parsers on
 * fixtures, including comms that contain spaces, parentheses and newlines.
 *
 * proc_parse.c lives in user/ and the Makefile links unit tests only with
 * the lib/ sources, so the source is included here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../user/agent/proc_parse.h"
#include "../../user/agent/proc_parse.c"

/* Fields 3..52 of a stat line as a 6.x kernel prints them, after the comm;
 * ppid 4321, utime 12, stime 34, starttime 98765. tty_nr, tpgid, priority and
 * nice are negative on purpose. */
#define STAT_TAIL                                                                                  \
	" S 4321 1234 1234 -1 -1 4194560 1000 2000 0 0 12 34 0 0 -2 -20 1 0 98765 "                \
	"3133440 375 18446744073709551615 94443532513280 94443532533161 140736440109344 0 0 0 0 "  \
	"0 0 0 0 0 17 0 0 0 0 0 0 94443532549168 94443532550784 94443718643712 140736440117890 "   \
	"140736440117910 140736440117910 140736440119275 0\n"

/* Parse exactly len bytes from a heap copy, so ASan flags any read past len. */
static int parse_stat_exact(const char *text, size_t len, struct proc_stat_info *out)
{
	char *copy = malloc(len ? len : 1);
	int rc;

	if (!copy)
		return -ENOMEM;
	memcpy(copy, text, len);
	rc = proc_parse_stat(copy, len, out);
	free(copy);
	return rc;
}

/* proc_parse_stat() on a NUL-terminated fixture, without the NUL. */
static int parse_stat_str(const char *text, struct proc_stat_info *out)
{
	return parse_stat_exact(text, strlen(text), out);
}

/* Parse exactly len bytes of status text from a heap copy (see above). */
static int parse_status_exact(const char *text, size_t len, struct proc_status_info *out)
{
	char *copy = malloc(len ? len : 1);
	int rc;

	if (!copy)
		return -ENOMEM;
	memcpy(copy, text, len);
	rc = proc_parse_status(copy, len, out);
	free(copy);
	return rc;
}

/* proc_parse_status() on a NUL-terminated fixture, without the NUL. */
static int parse_status_str(const char *text, struct proc_status_info *out)
{
	return parse_status_exact(text, strlen(text), out);
}

/* Check every numeric field of a line built from STAT_TAIL. */
static void check_tail(const struct proc_stat_info *si)
{
	CHECK_EQ(si->state, 'S');
	CHECK_EQ(si->ppid, 4321);
	CHECK_EQ(si->utime_ticks, 12);
	CHECK_EQ(si->stime_ticks, 34);
	CHECK_EQ(si->start_ticks, 98765);
}

TEST(stat_plain)
{
	struct proc_stat_info si;

	CHECK_EQ(parse_stat_str("1234 (bash)" STAT_TAIL, &si), 0);
	CHECK_EQ(si.pid, 1234);
	CHECK_STR(si.comm, "bash");
	check_tail(&si);
}

TEST(stat_comm_with_spaces)
{
	struct proc_stat_info si;

	CHECK_EQ(parse_stat_str("77 (Web Content)" STAT_TAIL, &si), 0);
	CHECK_EQ(si.pid, 77);
	CHECK_STR(si.comm, "Web Content");
	check_tail(&si);
}

TEST(stat_comm_with_parens)
{
	struct proc_stat_info si;

	CHECK_EQ(parse_stat_str("42 (a) b (c)" STAT_TAIL, &si), 0);
	CHECK_STR(si.comm, "a) b (c");
	check_tail(&si);

	CHECK_EQ(parse_stat_str("9 ())" STAT_TAIL, &si), 0);
	CHECK_STR(si.comm, ")");
	check_tail(&si);

	CHECK_EQ(parse_stat_str("9 (()" STAT_TAIL, &si), 0);
	CHECK_STR(si.comm, "(");
	check_tail(&si);

	CHECK_EQ(parse_stat_str("9 ((x))" STAT_TAIL, &si), 0);
	CHECK_STR(si.comm, "(x)");
	check_tail(&si);
}

/* A program can name itself so that a naive split sees other numbers. */
TEST(stat_comm_spoofing_fields)
{
	struct proc_stat_info si;

	CHECK_EQ(parse_stat_str("500 (x) R 1 1 1 )" STAT_TAIL, &si), 0);
	CHECK_EQ(si.pid, 500);
	CHECK_STR(si.comm, "x) R 1 1 1 ");
	check_tail(&si);
}

TEST(stat_comm_odd_bytes)
{
	struct proc_stat_info si;

	CHECK_EQ(parse_stat_str("3 ()" STAT_TAIL, &si), 0);
	CHECK_STR(si.comm, "");
	check_tail(&si);

	CHECK_EQ(parse_stat_str("3 (two\nlines)" STAT_TAIL, &si), 0);
	CHECK_STR(si.comm, "two\nlines");
	check_tail(&si);

	CHECK_EQ(parse_stat_str("3 (tab\there)" STAT_TAIL, &si), 0);
	CHECK_STR(si.comm, "tab\there");
	check_tail(&si);

	/* 15 bytes is the most the kernel prints */
	CHECK_EQ(parse_stat_str("3 (123456789012345)" STAT_TAIL, &si), 0);
	CHECK_STR(si.comm, "123456789012345");
	check_tail(&si);

	/* longer input is cut, never overflows */
	CHECK_EQ(parse_stat_str("3 (1234567890123456789)" STAT_TAIL, &si), 0);
	CHECK_STR(si.comm, "123456789012345");
	check_tail(&si);
}

TEST(stat_large_values)
{
	struct proc_stat_info si;

	CHECK_EQ(parse_stat_str("4294967295 (big) Z 4294967295 0 0 0 0 0 0 0 0 0 "
				"18446744073709551615 1 0 0 20 0 1 0 18446744073709551615\n",
				&si),
		 0);
	CHECK_EQ(si.pid, 4294967295U);
	CHECK_EQ(si.state, 'Z');
	CHECK_EQ(si.ppid, 4294967295U);
	CHECK(si.utime_ticks == UINT64_MAX);
	CHECK(si.start_ticks == UINT64_MAX);
	/* exactly 22 fields, no trailing newline */
	CHECK_EQ(parse_stat_str("1 (init) S 0 0 0 0 0 0 0 0 0 0 5 6 0 0 20 0 1 0 7", &si), 0);
	CHECK_EQ(si.ppid, 0);
	CHECK_EQ(si.utime_ticks, 5);
	CHECK_EQ(si.stime_ticks, 6);
	CHECK_EQ(si.start_ticks, 7);
}

TEST(stat_malformed)
{
	struct proc_stat_info si;
	const char *full = "1234 (bash)" STAT_TAIL;
	const char *p21 = strstr(full, " 98765");

	CHECK_EQ(parse_stat_str("", &si), -EINVAL);
	CHECK_EQ(parse_stat_str("1234", &si), -EINVAL);
	CHECK_EQ(parse_stat_str("1234 (bash S 1 2 3", &si), -EINVAL);
	CHECK_EQ(parse_stat_str("(bash)" STAT_TAIL, &si), -EINVAL);	/* no pid */
	CHECK_EQ(parse_stat_str("12x (bash)" STAT_TAIL, &si), -EINVAL); /* bad pid */
	CHECK_EQ(parse_stat_str("1 (b) SS 1 0 0 0 0 0 0 0 0 0 5 6 0 0 20 0 1 0 7", &si), -EINVAL);
	CHECK_EQ(parse_stat_str("1 (b) S -1 0 0 0 0 0 0 0 0 0 5 6 0 0 20 0 1 0 7", &si), -EINVAL);
	CHECK_EQ(parse_stat_str("1 (b) S 1 0 0 0 0 0 0 0 0 0 5x 6 0 0 20 0 1 0 7", &si), -EINVAL);
	/* ppid does not fit 32 bits */
	CHECK_EQ(parse_stat_str("1 (b) S 4294967296 0 0 0 0 0 0 0 0 0 5 6 0 0 20 0 1 0 7", &si),
		 -EINVAL);
	/* starttime overflows 64 bits */
	CHECK_EQ(parse_stat_str("1 (b) S 1 0 0 0 0 0 0 0 0 0 5 6 0 0 20 0 1 0 18446744073709551616",
				&si),
		 -EINVAL);
	/* only 21 fields */
	CHECK_EQ(parse_stat_str("1 (b) S 1 0 0 0 0 0 0 0 0 0 5 6 0 0 20 0 1 0", &si), -EINVAL);
	/* the same text cut before field 22: len is honoured even though the
	 * bytes after it would complete the line */
	CHECK(p21 != NULL);
	if (p21)
		CHECK_EQ(parse_stat_exact(full, (size_t)(p21 - full), &si), -EINVAL);
	CHECK_EQ(proc_parse_stat(NULL, 0, &si), -EINVAL);
	CHECK_EQ(proc_parse_stat(full, strlen(full), NULL), -EINVAL);
}

/* Fixture in the layout of a 6.x kernel, trimmed. */
static const char status_fixture[] = "Name:\tbash\n"
				     "Umask:\t0022\n"
				     "State:\tS (sleeping)\n"
				     "Tgid:\t1234\n"
				     "Ngid:\t0\n"
				     "Pid:\t1234\n"
				     "PPid:\t4321\n"
				     "TracerPid:\t0\n"
				     "Uid:\t1000\t0\t0\t0\n"
				     "Gid:\t1000\t1000\t1000\t1000\n"
				     "FDSize:\t256\n"
				     "Threads:\t1\n";

TEST(status_plain)
{
	struct proc_status_info st;

	CHECK_EQ(parse_status_str(status_fixture, &st), 0);
	CHECK_EQ(st.ppid, 4321);
	CHECK_EQ(st.uid, 1000); /* real uid, not the effective 0 */
}

/* The kernel escapes '\n' and '\\' in Name, so an odd comm cannot fake a
 * line; keys are only matched at the start of a line. */
TEST(status_odd_name)
{
	struct proc_status_info st;

	CHECK_EQ(parse_status_str("Name:\tx\\nPPid:\t1\\nUid:\t0\n"
				  "PPid:\t77\n"
				  "Uid:\t500\t500\t500\t500\n",
				  &st),
		 0);
	CHECK_EQ(st.ppid, 77);
	CHECK_EQ(st.uid, 500);

	CHECK_EQ(parse_status_str("Name:\ta) (b c\n"
				  "TracerPid:\t9\n"
				  "PPid:\t2\n"
				  "Uid:\t3\t4\t5\t6",
				  &st),
		 0);
	CHECK_EQ(st.ppid, 2);
	CHECK_EQ(st.uid, 3);
}

TEST(status_malformed)
{
	struct proc_status_info st;
	const char *uid = strstr(status_fixture, "Uid:");

	CHECK_EQ(parse_status_str("", &st), -EINVAL);
	CHECK_EQ(parse_status_str("Name:\tx\nPPid:\t1\n", &st), -EINVAL);	  /* no Uid */
	CHECK_EQ(parse_status_str("Name:\tx\nUid:\t1\t1\t1\t1\n", &st), -EINVAL); /* no PPid */
	CHECK_EQ(parse_status_str("PPid:\t\nUid:\t1\n", &st), -EINVAL);
	CHECK_EQ(parse_status_str("PPid:\t1\nUid:\tabc\n", &st), -EINVAL);
	CHECK_EQ(parse_status_str("PPid:\t-1\nUid:\t1\n", &st), -EINVAL);
	CHECK_EQ(parse_status_str("PPid:\t1\nUid:\t4294967296\n", &st), -EINVAL);
	/* buffer cut before the Uid line: len is honoured */
	CHECK(uid != NULL);
	if (uid)
		CHECK_EQ(parse_status_exact(status_fixture, (size_t)(uid - status_fixture), &st),
			 -EINVAL);
	CHECK_EQ(proc_parse_status(NULL, 0, &st), -EINVAL);
}

TEST(ticks_to_ns)
{
	CHECK(proc_ticks_to_ns(0, 100) == 0);
	CHECK(proc_ticks_to_ns(98765, 100) == 987650000000ULL);
	CHECK(proc_ticks_to_ns(3, 250) == 12000000ULL);
	CHECK(proc_ticks_to_ns(1, 300) == 3333333ULL);
	CHECK(proc_ticks_to_ns(301, 300) == 1003333333ULL);
	CHECK(proc_ticks_to_ns(5, 0) == 0);
	CHECK(proc_ticks_to_ns(5, -1) == 0);
	/* no overflow of the intermediate product for a long uptime */
	CHECK(proc_ticks_to_ns(100ULL * 86400 * 365 * 50, 100) ==
	      86400ULL * 365 * 50 * 1000000000ULL);
}

int main(void)
{
	RUN(stat_plain);
	RUN(stat_comm_with_spaces);
	RUN(stat_comm_with_parens);
	RUN(stat_comm_spoofing_fields);
	RUN(stat_comm_odd_bytes);
	RUN(stat_large_values);
	RUN(stat_malformed);
	RUN(status_plain);
	RUN(status_odd_name);
	RUN(status_malformed);
	RUN(ticks_to_ns);
	return CHECK_DONE();
}
