/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf.h - actlogd's settings: defaults, the config file
 * (/etc/actlog/actlogd.conf, "key = value" lines, '#' comments) and command
 * line options all go through conf_set(), so every value is validated by one
 * function. Pure: parsing takes a buffer.
 */
#ifndef ACTLOG_CONF_H
#define ACTLOG_CONF_H

#include <stddef.h>
#include <stdint.h>

#define CONF_DEFAULT_PATH "/etc/actlog/actlogd.conf"
#define CONF_MAX_FILE (64 * 1024)
#define CONF_PATH_MAX 256
/* where .desktop files are looked for, first match wins (XDG_DATA_DIRS order) */
#define CONF_DESKTOP_DIRS                                                                          \
	"/usr/local/share/applications:/usr/share/applications:"                                   \
	"/var/lib/flatpak/exports/share/applications:/var/lib/snapd/desktop/applications"

enum src_choice {
	SRC_AUTO = 0,
	SRC_BPF,
	SRC_EVDEV,   /* input only */
	SRC_NETLINK, /* processes only */
	SRC_NONE,
};

struct agent_conf {
	char state_dir[CONF_PATH_MAX];
	char socket[CONF_PATH_MAX];
	char socket_group[64]; /* group allowed on the control socket, "" = root only */
	uint32_t interval_s;
	uint32_t idle_threshold_s;
	uint64_t spool_max_bytes;
	enum src_choice input_source;
	enum src_choice proc_source;
	int upload;		    /* 0: keep everything in the spool */
	int logging;		    /* 0: record no activity or processes (policy.h) */
	uint32_t backoff_max_s;	    /* longest wait between shipping retries */
	uint32_t policy_poll_s;	    /* how often to ask the server for the policy */
	uint32_t shot_queue_max;    /* screenshots waiting for upload, at most */
	uint32_t shot_queue_max_mb; /* and at most this many MiB of them */
	/* a sysinfo record at least this often */
	uint32_t sysinfo_interval_s;
	int log_level;
	char session_socket[CONF_PATH_MAX]; /* actlog-session helpers connect here */
	int64_t session_uid;		    /* -1: the active seat0 session's uid (logind) */
	char desktop_dirs[1024];	    /* ':'-separated .desktop directories */
};

void conf_defaults(struct agent_conf *c);
/* Set one key from its text value. 0, or -EINVAL/-ERANGE/-ENOENT (unknown
 * key) with a message in err. */
int conf_set(struct agent_conf *c, const char *key, const char *value, char *err, size_t errlen);
/* Parse a whole file's text. Stops at the first bad line: -errno and
 * "line N: ..." in err. */
int conf_parse(struct agent_conf *c, const char *buf, size_t len, char *err, size_t errlen);
/* Name of a source choice ("auto", "bpf", ...). */
const char *src_choice_name(enum src_choice s);

#endif /* ACTLOG_CONF_H */
