/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sysinfo.h - facts about the machine for the `sysinfo` record: pure parsers
 * of /proc/meminfo, /etc/os-release, /proc/cpuinfo, /proc/stat,
 * /proc/loadavg, /proc/PID/mountinfo and /sys/devices/system/cpu/online, the
 * filter that tells real filesystems from pseudo ones, the change rule and
 * the record builder.
 *
 * Parsers take a buffer and its length (no NUL needed; nothing is read past
 * len), do no I/O and keep no state, so the unit tests feed them fixtures
 * from several distributions. The daemon side (user/agent/sysinfo_mon.c) reads the
 * files, calls statvfs and decides when to write a record.
 */
#ifndef ACTLOG_SYSINFO_H
#define ACTLOG_SYSINFO_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define SI_STR 128	      /* names and versions, cut to fit */
#define SI_PATH 256	      /* mount points and sources, cut to fit */
#define SI_MAX_FS 64	      /* filesystems per record; more are counted, not listed */
#define SI_MAX_FILE (4 << 20) /* cap on any file read for sysinfo */

/* sysinfo.interval_s (policy) and sysinfo_interval_s (settings), seconds */
#define SI_INTERVAL_MIN 60
#define SI_INTERVAL_MAX 86400
#define SI_INTERVAL_DEFAULT 900

/* /proc/meminfo, in bytes. */
struct si_mem {
	uint64_t total;	    /* MemTotal */
	uint64_t available; /* MemAvailable, or MemFree + Buffers + Cached before 3.14 */
	uint64_t swap_total;
	uint64_t swap_free;
	int available_estimated; /* the kernel has no MemAvailable */
};

/* 0, or -EINVAL when there is no MemTotal line. Values given in kB are
 * converted to bytes; unknown lines are ignored. */
int si_parse_meminfo(const char *buf, size_t len, struct si_mem *out);

/* os-release(5): the fields actlog reports, unquoted and unescaped. Missing
 * fields are "" except the defaults os-release(5) gives NAME ("Linux"), ID
 * ("linux") and PRETTY_NAME ("Linux"). */
struct si_os {
	char name[SI_STR];
	char id[64];
	char version[SI_STR];
	char version_id[64];
	char pretty_name[SI_STR];
	char build_id[64]; /* rolling releases (Arch) have this instead of a version */
};

/* Always 0: a file without the fields gets the defaults. Lines that are not
 * KEY=VALUE, comments and unknown keys are ignored; quoting follows the
 * shell subset os-release(5) allows ("...", '...', backslash escapes).
 * Bytes that are not valid UTF-8 or are control characters become '?'. */
int si_parse_os_release(const char *buf, size_t len, struct si_os *out);

/* /proc/cpuinfo. */
struct si_cpuinfo {
	char model[SI_STR]; /* "model name", "Processor", "cpu", "uarch", or the
			     * ARM core names from "CPU implementer"/"CPU part";
			     * several distinct models (big.LITTLE) are joined
			     * with ", " */
	uint32_t threads;   /* "processor" entries: logical CPUs online */
	uint32_t cores;	    /* distinct (physical id, core id); = threads without them */
	uint32_t sockets;   /* distinct physical ids; 1 without them */
};

/* 0, or -EINVAL when there is no "processor" entry. */
int si_parse_cpuinfo(const char *buf, size_t len, struct si_cpuinfo *out);

/* The aggregate "cpu" line of /proc/stat, in clock ticks. guest and
 * guest_nice are already included in user and nice and are not added. */
struct si_cpu_times {
	uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
};

/* Parse the "cpu " and "btime " lines of /proc/stat. Either out pointer may
 * be NULL. 0, or -EINVAL when a wanted line is missing or malformed. */
int si_parse_proc_stat(const char *buf, size_t len, struct si_cpu_times *cpu, uint64_t *btime);

/* Busy and iowait share of the ticks between samples a (older) and b, in
 * percent. -1 in both when no tick passed or the counters went back. */
void si_cpu_usage(const struct si_cpu_times *a, const struct si_cpu_times *b, double *busy_pct,
		  double *iowait_pct);

/* /proc/loadavg: "0.52 0.58 0.59 1/389 12345". */
struct si_load {
	double avg[3];
	uint32_t running, total; /* runnable and all scheduling entities */
};

/* 0 or -EINVAL. Decimal points are parsed by hand: no locale. */
int si_parse_loadavg(const char *buf, size_t len, struct si_load *out);

/* /sys/devices/system/cpu/online: a list like "0-3,6,8-11". Counts the CPUs
 * into *n. 0 or -EINVAL. */
int si_parse_cpu_list(const char *buf, size_t len, uint32_t *n);

/* One real filesystem from mountinfo. */
struct si_fs {
	char mount[SI_PATH];  /* mount point, unescaped */
	char source[SI_PATH]; /* device or server:/export, unescaped */
	char fstype[32];
	uint32_t major, minor;
	int remote;    /* network filesystem */
	int may_block; /* statvfs may hang (network, FUSE): measured with a timeout */
	/* filled by the collector */
	int have_size;
	uint64_t total, free, avail; /* statvfs: f_blocks, f_bfree, f_bavail × f_frsize */
	int err;		     /* -errno of statvfs, -ETIMEDOUT, or 0 */
};

/* What the filter makes of a mount. */
enum si_fs_kind {
	SI_FS_SKIP = 0, /* pseudo, RAM-backed, image or per-user virtual */
	SI_FS_LOCAL,
	SI_FS_REMOTE, /* network filesystem */
	SI_FS_FUSE,   /* a FUSE filesystem that is neither: kept, may block */
};

/* The pseudo-filesystem filter, by type and mount point:
 *  - kernel interfaces (proc, sysfs, cgroup, cgroup2, devpts, debugfs, bpf,
 *    tracefs, securityfs, configfs, mqueue, ...) and anything mounted below
 *    /proc, /sys or /dev are skipped;
 *  - RAM and overlay filesystems (tmpfs, ramfs, overlay, aufs) are kept only
 *    when mounted on "/" (live systems, diskless Alpine, containers): other
 *    overlay mounts are container layers over a filesystem already listed;
 *  - read-only images (squashfs: snaps, live media; erofs, cramfs) and
 *    autofs trigger points are skipped;
 *  - per-user FUSE mounts (gvfs, document portal, lxcfs, snapfuse, anything
 *    below /run/user/) are skipped.
 * Pure. */
enum si_fs_kind si_fs_classify(const char *fstype, const char *mount);

/* Parse mountinfo (proc(5)) and keep the real filesystems (si_fs_classify),
 * each once: a filesystem mounted again (bind mounts, btrfs subvolumes of
 * one device) is kept at its first mount point — by device number, and by
 * source for sources that are paths. Fills out[0..max) and *n; *more counts
 * real filesystems that did not fit. Malformed lines are skipped. Always 0. */
int si_parse_mountinfo(const char *buf, size_t len, struct si_fs *out, size_t max, size_t *n,
		       size_t *more);

/* Everything a sysinfo record says. Fields a collector could not read keep
 * their have_* at 0 and are written as null. */
struct si_snapshot {
	char hostname[65];
	char kernel_release[65];
	char kernel_version[65];
	char arch[65];
	int have_os;
	struct si_os os;
	int have_mem;
	struct si_mem mem;
	int have_cpuinfo;
	struct si_cpuinfo cpu;
	uint32_t cpus_online; /* from sysfs; 0 when unknown */
	int have_load;
	struct si_load load;
	int have_times;
	struct si_cpu_times times;
	uint64_t btime; /* unix seconds, 0 when unknown */
	int have_fs;
	size_t n_fs, fs_more;
	struct si_fs fs[SI_MAX_FS];
};

/* What counts as a change (sysinfo_changes): the values that describe the
 * machine rather than its load. Free bytes, available memory, swap in use,
 * load and CPU usage change all the time and are not changes. Boot time is
 * not compared either (the kernel's btime moves by a second with clock
 * adjustments; a reboot restarts the agent anyway). */
#define SI_CHANGE_HOSTNAME (1u << 0)
#define SI_CHANGE_OS (1u << 1)		/* os-release NAME, ID, VERSION_ID, VERSION, BUILD_ID */
#define SI_CHANGE_KERNEL (1u << 2)	/* release (kexec, live patching that renames) */
#define SI_CHANGE_CPUS (1u << 3)	/* number of online CPUs (hotplug) */
#define SI_CHANGE_MEMORY (1u << 4)	/* MemTotal (hotplug, ballooning that resizes) */
#define SI_CHANGE_SWAP (1u << 5)	/* SwapTotal (swapon, swapoff) */
#define SI_CHANGE_FILESYSTEMS (1u << 6) /* the set of (mount, source, type) */

/* Compare the identity values of two snapshots; a value one side could not
 * read is not compared. Returns a mask of SI_CHANGE_*. Pure. */
unsigned int sysinfo_changes(const struct si_snapshot *old, const struct si_snapshot *cur);

/* Why a record is written. */
enum si_reason { SI_START, SI_INTERVAL, SI_CHANGE };

/* The usage of the CPUs over the window a record covers. */
struct si_usage {
	double busy_pct, iowait_pct; /* < 0: unknown */
	double window_s;	     /* length of the window */
};

/* {"type":"sysinfo", reason, changed?, hostname, os, kernel, boot_time,
 *  cpu, memory, filesystems} at ts_ms. changed is a SI_CHANGE_* mask
 * (reason SI_CHANGE). NULL when memory runs out. */
char *record_sysinfo(const struct record_ctx *c, int64_t ts_ms, enum si_reason reason,
		     unsigned int changed, const struct si_snapshot *s, const struct si_usage *u);

#endif /* ACTLOG_SYSINFO_H */
