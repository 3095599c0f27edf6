// SPDX-License-Identifier: BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "conf.h"
#include "log.h"
#include "sysinfo.h"
#include "util.h"

void conf_defaults(struct agent_conf *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->state_dir, "/var/lib/actlog");
	strcpy(c->socket, "/run/actlog/actlogd.sock");
	c->interval_s = 60;
	c->idle_threshold_s = 300;
	c->spool_max_bytes = 256ULL << 20;
	c->input_source = SRC_AUTO;
	c->proc_source = SRC_AUTO;
	c->upload = 1;
	c->logging = 1;
	c->backoff_max_s = 300;
	c->policy_poll_s = 60;
	c->shot_queue_max = 200;
	c->shot_queue_max_mb = 256;
	c->sysinfo_interval_s = SI_INTERVAL_DEFAULT;
	c->log_level = LOG_LVL_INFO;
	strcpy(c->session_socket, "/run/actlog/session.sock");
	c->session_uid = -1;
	strcpy(c->desktop_dirs, CONF_DESKTOP_DIRS);
}

const char *src_choice_name(enum src_choice s)
{
	static const char *names[] = {"auto", "bpf", "evdev", "netlink", "none"};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* A byte size: a number with an optional K, M or G suffix, in [min, max]. */
static int parse_size(const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	char num[32];
	size_t n = strlen(v);
	int shift = 0;
	uint64_t x;
	int r;

	if (n == 0 || n >= sizeof(num))
		return -EINVAL;
	memcpy(num, v, n + 1);
	switch (num[n - 1]) {
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	}
	if (shift)
		num[n - 1] = '\0';
	r = parse_uint(num, 0, ~0ULL >> shift, &x);
	if (r)
		return r;
	x <<= shift;
	if (x < min || x > max)
		return -ERANGE;
	*out = x;
	return 0;
}

static int set_path(char *dst, const char *v, char *err, size_t errlen, const char *key)
{
	if (v[0] != '/' || strlen(v) >= CONF_PATH_MAX) {
		snprintf(err, errlen, "%s must be an absolute path shorter than %d bytes", key,
			 CONF_PATH_MAX);
		return -EINVAL;
	}
	strcpy(dst, v);
	return 0;
}

int conf_set(struct agent_conf *c, const char *key, const char *v, char *err, size_t errlen)
{
	uint64_t x;
	int r;

	if (!strcmp(key, "state_dir"))
		return set_path(c->state_dir, v, err, errlen, key);
	if (!strcmp(key, "socket")) {
		if (strlen(v) >= 100) {
			snprintf(err, errlen, "socket path longer than 100 bytes");
			return -EINVAL;
		}
		return set_path(c->socket, v, err, errlen, key);
	}
	if (!strcmp(key, "socket_group")) {
		if (strlen(v) >= sizeof(c->socket_group)) {
			snprintf(err, errlen, "socket_group too long");
			return -EINVAL;
		}
		strcpy(c->socket_group, v);
		return 0;
	}
	if (!strcmp(key, "interval_s") || !strcmp(key, "idle_threshold_s")) {
		r = parse_uint(v, 1, !strcmp(key, "interval_s") ? ACTLOG_MAX_INTERVAL_S : 86400,
			       &x);
		if (r) {
			snprintf(err, errlen, "%s: '%s' is not a number of seconds in [1, %u]", key,
				 v, !strcmp(key, "interval_s") ? ACTLOG_MAX_INTERVAL_S : 86400);
			return r;
		}
		if (!strcmp(key, "interval_s"))
			c->interval_s = (uint32_t)x;
		else
			c->idle_threshold_s = (uint32_t)x;
		return 0;
	}
	if (!strcmp(key, "backoff_max_s") || !strcmp(key, "policy_poll_s")) {
		r = parse_uint(v, 1, 3600, &x);
		if (r) {
			snprintf(err, errlen, "%s: '%s' is not a number of seconds in [1, 3600]",
				 key, v);
			return r;
		}
		if (!strcmp(key, "backoff_max_s"))
			c->backoff_max_s = (uint32_t)x;
		else
			c->policy_poll_s = (uint32_t)x;
		return 0;
	}
	if (!strcmp(key, "shot_queue_max") || !strcmp(key, "shot_queue_max_mb")) {
		r = parse_uint(v, 1, 10000, &x);
		if (r) {
			snprintf(err, errlen, "%s: '%s' is not a number in [1, 10000]", key, v);
			return r;
		}
		if (!strcmp(key, "shot_queue_max"))
			c->shot_queue_max = (uint32_t)x;
		else
			c->shot_queue_max_mb = (uint32_t)x;
		return 0;
	}
	if (!strcmp(key, "sysinfo_interval_s")) {
		r = parse_uint(v, SI_INTERVAL_MIN, SI_INTERVAL_MAX, &x);
		if (r) {
			snprintf(err, errlen, "%s: '%s' is not a number of seconds in [%u, %u]",
				 key, v, SI_INTERVAL_MIN, SI_INTERVAL_MAX);
			return r;
		}
		c->sysinfo_interval_s = (uint32_t)x;
		return 0;
	}
	if (!strcmp(key, "spool_max_bytes")) {
		r = parse_size(v, 1ULL << 20, 1ULL << 40, &x);
		if (r) {
			snprintf(err, errlen, "spool_max_bytes: '%s' is not a size in [1M, 1024G]",
				 v);
			return r;
		}
		c->spool_max_bytes = x;
		return 0;
	}
	if (!strcmp(key, "input_source") || !strcmp(key, "proc_source")) {
		int input = !strcmp(key, "input_source");
		enum src_choice s;

		if (!strcmp(v, "auto"))
			s = SRC_AUTO;
		else if (!strcmp(v, "bpf"))
			s = SRC_BPF;
		else if (!strcmp(v, "none"))
			s = SRC_NONE;
		else if (input && !strcmp(v, "evdev"))
			s = SRC_EVDEV;
		else if (!input && !strcmp(v, "netlink"))
			s = SRC_NETLINK;
		else {
			snprintf(err, errlen, "%s: '%s' is not one of auto, bpf, %s, none", key, v,
				 input ? "evdev" : "netlink");
			return -EINVAL;
		}
		if (input)
			c->input_source = s;
		else
			c->proc_source = s;
		return 0;
	}
	if (!strcmp(key, "upload") || !strcmp(key, "logging")) {
		if (strcmp(v, "yes") && strcmp(v, "no")) {
			snprintf(err, errlen, "%s: '%s' is not yes or no", key, v);
			return -EINVAL;
		}
		*(!strcmp(key, "upload") ? &c->upload : &c->logging) = !strcmp(v, "yes");
		return 0;
	}
	if (!strcmp(key, "session_socket")) {
		if (strlen(v) >= 100) {
			snprintf(err, errlen, "session_socket path longer than 100 bytes");
			return -EINVAL;
		}
		return set_path(c->session_socket, v, err, errlen, key);
	}
	if (!strcmp(key, "session_uid")) {
		if (!strcmp(v, "logind")) {
			c->session_uid = -1;
			return 0;
		}
		r = parse_uint(v, 0, 4294967294ULL, &x);
		if (r) {
			snprintf(err, errlen, "session_uid: '%s' is not a uid or 'logind'", v);
			return r;
		}
		c->session_uid = (int64_t)x;
		return 0;
	}
	if (!strcmp(key, "desktop_dirs")) {
		if (strlen(v) >= sizeof(c->desktop_dirs) || (v[0] && v[0] != '/')) {
			snprintf(err, errlen,
				 "desktop_dirs must be absolute paths separated by ':', shorter "
				 "than %zu bytes",
				 sizeof(c->desktop_dirs));
			return -EINVAL;
		}
		strcpy(c->desktop_dirs, v);
		return 0;
	}
	if (!strcmp(key, "log_level")) {
		static const char *lv[] = {"error", "warning", "notice", "info", "debug"};
		int i;

		for (i = 0; i < 5; i++)
			if (!strcmp(v, lv[i])) {
				c->log_level = LOG_LVL_ERR + i;
				return 0;
			}
		snprintf(err, errlen,
			 "log_level: '%s' is not error, warning, notice, info or debug", v);
		return -EINVAL;
	}
	snprintf(err, errlen, "unknown setting '%s'", key);
	return -ENOENT;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int conf_parse(struct agent_conf *c, const char *buf, size_t len, char *err, size_t errlen)
{
	char line[512], msg[256], *eq, *k, *v;
	size_t i = 0, n;
	int lineno = 0, r;

	while (i < len) {
		lineno++;
		for (n = 0; i + n < len && buf[i + n] != '\n'; n++)
			;
		if (n >= sizeof(line)) {
			snprintf(err, errlen, "line %d: longer than %zu bytes", lineno,
				 sizeof(line) - 1);
			return -EINVAL;
		}
		memcpy(line, buf + i, n);
		line[n] = '\0';
		i += n + 1;
		if (memchr(line, '\0', n)) {
			snprintf(err, errlen, "line %d: contains a NUL byte", lineno);
			return -EINVAL;
		}
		k = trim(line);
		if (*k == '\0' || *k == '#')
			continue;
		eq = strchr(k, '=');
		if (!eq) {
			snprintf(err, errlen, "line %d: expected 'key = value'", lineno);
			return -EINVAL;
		}
		*eq = '\0';
		k = trim(k);
		v = trim(eq + 1);
		r = conf_set(c, k, v, msg, sizeof(msg));
		if (r) {
			snprintf(err, errlen, "line %d: %s", lineno, msg);
			return r;
		}
	}
	return 0;
}
