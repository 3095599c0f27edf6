// SPDX-License-Identifier: BSD-2-Clause
/* actlogd settings (user/agent/conf.c): defaults, validation, the file parser. */
#include <errno.h>

#include "check.h"
#include "conf.h"
#include "log.h"

TEST(defaults)
{
	struct agent_conf c;

	conf_defaults(&c);
	CHECK_STR(c.state_dir, "/var/lib/actlog");
	CHECK_STR(c.socket, "/run/actlog/actlogd.sock");
	CHECK_EQ(c.interval_s, 60);
	CHECK_EQ(c.input_source, SRC_AUTO);
	CHECK_EQ(c.proc_source, SRC_AUTO);
	CHECK_EQ(c.upload, 1);
	CHECK_EQ(c.logging, 1);
	CHECK_EQ(c.policy_poll_s, 60);
}

TEST(file_parses)
{
	static const char text[] = "# comment\n"
				   "\n"
				   "interval_s = 15\n"
				   "  idle_threshold_s=120  \n"
				   "spool_max_bytes = 64M\n"
				   "input_source = evdev\n"
				   "proc_source = netlink\n"
				   "state_dir = /srv/actlog\n"
				   "upload = no\n"
				   "logging = no\n"
				   "policy_poll_s = 5\n"
				   "log_level = debug";
	struct agent_conf c;
	char err[256] = "";

	conf_defaults(&c);
	CHECK_EQ(conf_parse(&c, text, sizeof(text) - 1, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_EQ(c.interval_s, 15);
	CHECK_EQ(c.idle_threshold_s, 120);
	CHECK_EQ(c.spool_max_bytes, 64ULL << 20);
	CHECK_EQ(c.input_source, SRC_EVDEV);
	CHECK_EQ(c.proc_source, SRC_NETLINK);
	CHECK_STR(c.state_dir, "/srv/actlog");
	CHECK_EQ(c.upload, 0);
	CHECK_EQ(c.logging, 0);
	CHECK_EQ(c.policy_poll_s, 5);
	CHECK_EQ(c.log_level, LOG_LVL_DEBUG);
}

static void bad(const char *text, int want_err, const char *want_msg)
{
	struct agent_conf c;
	char err[256] = "";

	conf_defaults(&c);
	CHECK_EQ(conf_parse(&c, text, strlen(text), err, sizeof(err)), want_err);
	if (!strstr(err, want_msg))
		printf("  message '%s' lacks '%s'\n", err, want_msg);
	CHECK(strstr(err, want_msg) != NULL);
	CHECK_EQ(c.interval_s, 60); /* nothing half-applied before the bad line */
}

TEST(bad_input_is_refused_with_a_line_number)
{
	bad("interval_s = 0\n", -ERANGE, "line 1: interval_s");
	bad("\ninterval_s = 3601\n", -ERANGE, "line 2");
	bad("interval_s = 10s\n", -EINVAL, "not a number");
	bad("interval_s = -5\n", -EINVAL, "interval_s");
	bad("interval_s = 99999999999999999999999\n", -ERANGE, "interval_s");
	bad("interval_s = 1K\n", -EINVAL, "interval_s"); /* suffixes are for sizes only */
	bad("spool_max_bytes = 64X\n", -EINVAL, "spool_max_bytes");
	bad("spool_max_bytes = M\n", -EINVAL, "spool_max_bytes");
	bad("nonsense\n", -EINVAL, "expected 'key = value'");
	bad("colour = blue\n", -ENOENT, "unknown setting 'colour'");
	bad("input_source = netlink\n", -EINVAL, "auto, bpf, evdev, none");
	bad("proc_source = evdev\n", -EINVAL, "auto, bpf, netlink, none");
	bad("state_dir = relative/path\n", -EINVAL, "absolute path");
	bad("spool_max_bytes = 1K\n", -ERANGE, "spool_max_bytes");
	bad("spool_max_bytes = 99999999999G\n", -ERANGE, "spool_max_bytes");
	bad("upload = maybe\n", -EINVAL, "yes or no");
	bad("logging = off\n", -EINVAL, "logging: 'off' is not yes or no");
	bad("policy_poll_s = 0\n", -ERANGE, "policy_poll_s");
}

TEST(long_and_binary_lines)
{
	char big[2000];
	struct agent_conf c;
	char err[256];

	memset(big, 'a', sizeof(big));
	conf_defaults(&c);
	CHECK_EQ(conf_parse(&c, big, sizeof(big), err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "longer than") != NULL);
	CHECK_EQ(conf_parse(&c, "interval_s = 5\0\n", 16, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "NUL") != NULL);
}

int main(void)
{
	RUN(defaults);
	RUN(file_parses);
	RUN(bad_input_is_refused_with_a_line_number);
	RUN(long_and_binary_lines);
	return CHECK_DONE();
}
