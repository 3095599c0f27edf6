// SPDX-License-Identifier: BSD-2-Clause
/*
 * input_evdev.c - input counting from /dev/input/event* with libevdev, the
 * fallback when the kernel refuses fentry (see sources.h).
 *
 * Every event node is opened read-only and never grabbed, so the desktop
 * keeps its input. Each event goes through input_classify() and
 * input_account() (include/input.h), the same code bpf/input.bpf.c runs, with
 * a struct input_frame per device; the counters and the active-second rings
 * have the BPF layout, so interval aggregation does not know which source it
 * reads. The key code of an event is looked at by input_classify() only.
 *
 * Origin: synthetic when the bus type is BUS_VIRTUAL or the input device has
 * no parent in sysfs (/sys/dev/char/MAJ:MIN/device/device missing, as for
 * uinput), which mirrors the BPF rule dev->dev.parent == NULL; physical
 * otherwise. Without sysfs only the bus type decides.
 *
 * Time: events are stamped with clock_gettime(CLOCK_BOOTTIME) when they are
 * read, as the BPF program stamps them when input_event() runs; the evdev
 * timestamp (CLOCK_REALTIME unless changed) is not used.
 *
 * Hot-plug: inotify on the directory (IN_CREATE, IN_ATTRIB for nodes whose
 * permissions arrive late, IN_DELETE, and moves); a device whose read fails
 * with ENODEV is closed. While the directory does not exist (a machine
 * without input devices, or before evdev is loaded) its parent is watched
 * until it appears. Device fds and the inotify fd sit in one inner epoll
 * set, so the daemon polls a single fd.
 *
 * Limits: INPUT_EVDEV_MAX_DEVICES open devices (more are ignored and
 * counted); EVDEV_BUDGET events per device per dispatch, after which an
 * eventfd in the inner set keeps it readable so the rest is read on the next
 * call. A device grabbed by another program (EVIOCGRAB) delivers nothing here.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <linux/input.h>
#include <libevdev/libevdev.h>

#include "log.h"
#include "sources.h"

#define EVDEV_DIR "/dev/input"
#define EVDEV_NAME_MAX 16			   /* "event" + at most 10 digits + NUL */
#define EVDEV_BUDGET 1024			   /* events read from one device per dispatch */
#define EVDEV_INOTIFY_READS 64			   /* inotify reads per dispatch */
#define EVDEV_PATH_MAX (PATH_MAX - EVDEV_NAME_MAX) /* the directory; room for "/eventN" */
#define EVDEV_SYSFS_MAX 64	  /* "/sys/dev/char/4294967295:4294967295/device/device" */
#define TAG_INOTIFY UINT64_MAX	  /* epoll data of the inotify fd */
#define TAG_KICK (UINT64_MAX - 1) /* epoll data of the backlog eventfd */

#define INOTIFY_MASK (IN_CREATE | IN_ATTRIB | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR)
#define PARENT_MASK (IN_CREATE | IN_MOVED_TO | IN_ONLYDIR)

struct evdev_dev {
	struct libevdev *evdev; /* NULL: the slot is free */
	int fd;
	dev_t rdev;
	uint32_t gen; /* bumped on every open of the slot: stale epoll tags miss */
	int origin;   /* enum input_origin */
	int syncing;  /* after SYN_DROPPED, until libevdev's sync queue is drained */
	int backlog;  /* budget ran out: libevdev may hold events the fd no longer signals */
	char name[EVDEV_NAME_MAX];
	struct input_frame frame;
};

struct input_evdev {
	char path[EVDEV_PATH_MAX]; /* the watched directory */
	char base[NAME_MAX + 1];   /* its last component */
	int wd;			   /* inotify watch on it, -1 while it does not exist */
	int pwd;		   /* watch on its parent while it does not exist, else -1 */
	int epfd;
	int inofd;
	int kickfd;
	int refused; /* a node was refused at the cap since the last scan */
	int rescan;  /* scan the directory at the end of this dispatch */
	unsigned int ndev;
	uint64_t ignored;
	uint64_t overruns;
	struct input_totals totals;
	__u64 last_input_ns[INPUT_ORIGINS];
	__u32 ring[INPUT_ORIGINS][ACTIVE_RING_SLOTS];
	struct evdev_dev dev[INPUT_EVDEV_MAX_DEVICES];
};

/* CLOCK_BOOTTIME now in ns (0 if the clock is unavailable). */
static __u64 boot_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_BOOTTIME, &ts) < 0)
		return 0;
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* Route libevdev's own messages to the debug log; errors are returned as
 * errno values by the calls that fail. */
static void evdev_log(const struct libevdev *dev, enum libevdev_log_priority prio, void *data,
		      const char *file, int line, const char *func, const char *fmt, va_list args)
    __attribute__((format(printf, 7, 0)));
static void evdev_log(const struct libevdev *dev, enum libevdev_log_priority prio, void *data,
		      const char *file, int line, const char *func, const char *fmt, va_list args)
{
	(void)dev;
	(void)prio;
	(void)data;
	(void)file;
	(void)line;
	(void)func;
	if (log_level() >= LOG_LVL_DEBUG)
		log_vmsg(LOG_LVL_DEBUG, fmt, args);
}

/* 1 when name is "event" followed by 1..10 digits, else 0. */
static int node_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n < 6 || n >= EVDEV_NAME_MAX || strncmp(name, "event", 5) != 0)
		return 0;
	for (i = 5; i < n; i++)
		if (name[i] < '0' || name[i] > '9')
			return 0;
	return 1;
}

/*
 * Mark the current second active for origin, exactly as mark_active() in
 * bpf/input.bpf.c: ring[0] for any origin, ring[1] for synthetic only.
 */
static void mark_active(struct input_evdev *s, int origin, __u64 now)
{
	__u32 sec = (__u32)(now / 1000000000ULL);
	__u32 slot = sec % ACTIVE_RING_SLOTS;

	s->ring[0][slot] = sec + 1;
	s->last_input_ns[0] = now;
	if (origin == INPUT_SYNTHETIC) {
		s->ring[1][slot] = sec + 1;
		s->last_input_ns[1] = now;
	}
}

/* Classify and account one event of device d. The event (and its code) is
 * not kept. */
static void account_event(struct input_evdev *s, struct evdev_dev *d, const struct input_event *ev)
{
	enum input_class cls = input_classify(ev->type, ev->code, ev->value);

	if (cls == IC_NONE)
		return;
	if (input_account(&d->frame, &s->totals.by[d->origin], cls, ev->value))
		mark_active(s, d->origin, boot_ns());
}

/*
 * Origin of an opened device: synthetic for BUS_VIRTUAL or when the input
 * device (/sys/dev/char/MAJ:MIN/device) has no parent device link.
 */
static int dev_origin(const struct libevdev *ev, dev_t rdev)
{
	char path[EVDEV_SYSFS_MAX];
	struct stat st;

	if (libevdev_get_id_bustype(ev) == AL_BUS_VIRTUAL)
		return INPUT_SYNTHETIC;
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/device", major(rdev), minor(rdev));
	if (stat(path, &st) < 0)
		return INPUT_PHYSICAL; /* no sysfs: the bus type alone decides */
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/device/device", major(rdev), minor(rdev));
	if (stat(path, &st) < 0 && errno == ENOENT)
		return INPUT_SYNTHETIC;
	return INPUT_PHYSICAL;
}

/* The epoll tag of slot i: generation in the high half, slot in the low. */
static uint64_t dev_tag(const struct input_evdev *s, unsigned int i)
{
	return (uint64_t)s->dev[i].gen << 32 | i;
}

/* The open device a tag names, or NULL when it was closed since. */
static struct evdev_dev *dev_from_tag(struct input_evdev *s, uint64_t tag)
{
	uint64_t i = tag & 0xffffffffULL;

	if (i >= INPUT_EVDEV_MAX_DEVICES || !s->dev[i].evdev || s->dev[i].gen != tag >> 32)
		return NULL;
	return &s->dev[i];
}

/* The open device whose node is called name, or NULL. */
static struct evdev_dev *dev_by_name(struct input_evdev *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < INPUT_EVDEV_MAX_DEVICES; i++)
		if (s->dev[i].evdev && strcmp(s->dev[i].name, name) == 0)
			return &s->dev[i];
	return NULL;
}

/* 1 when a device with this device number is open (under another name). */
static int dev_rdev_open(const struct input_evdev *s, dev_t rdev)
{
	unsigned int i;

	for (i = 0; i < INPUT_EVDEV_MAX_DEVICES; i++)
		if (s->dev[i].evdev && s->dev[i].rdev == rdev)
			return 1;
	return 0;
}

/* Close device d and free its slot. When nodes were refused at the cap, the
 * directory is scanned again at the end of the dispatch. */
static void dev_close(struct input_evdev *s, struct evdev_dev *d)
{
	uint32_t gen = d->gen;

	log_debug("evdev: closing %s", d->name);
	(void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, d->fd, NULL);
	libevdev_free(d->evdev);
	close(d->fd);
	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->gen = gen;
	s->ndev--;
	if (s->refused)
		s->rescan = 1;
}

/*
 * Open the node called name in the directory, if it is an evdev device not
 * open yet. Per-node failures (not a device, gone, no permission yet, not
 * evdev) are skipped: the node is tried again on its next inotify event. At
 * the cap the node is refused and, when count is set, counted in ignored.
 */
static void dev_try_open(struct input_evdev *s, const char *name, int count)
{
	struct libevdev *ev = NULL;
	struct evdev_dev *d;
	struct epoll_event ee = {.events = EPOLLIN};
	char path[PATH_MAX];
	struct stat st;
	unsigned int i;
	int fd = -1, err;

	if (s->wd < 0 || !node_name_ok(name))
		return;
	/* no directory fd is kept: it would hide the directory's removal */
	snprintf(path, sizeof(path), "%s/%s", s->path, name);
	if (stat(path, &st) < 0 || !S_ISCHR(st.st_mode))
		return; /* gone, or a test directory's plain file */
	d = dev_by_name(s, name);
	if (d) {
		if (d->rdev == st.st_rdev)
			return;	 /* already open */
		dev_close(s, d); /* the name now belongs to another device */
	}
	if (dev_rdev_open(s, st.st_rdev))
		return;
	if (s->ndev >= INPUT_EVDEV_MAX_DEVICES) {
		s->refused = 1;
		if (count)
			s->ignored++;
		log_debug("evdev: %s ignored: %d devices open", name, INPUT_EVDEV_MAX_DEVICES);
		return;
	}

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		log_debug("evdev: open %s: %s", name, strerror(errno));
		goto fail;
	}
	/* the node may have changed between stat() and open() */
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || dev_rdev_open(s, st.st_rdev))
		goto fail;
	ev = libevdev_new();
	if (!ev)
		goto fail;
	libevdev_set_device_log_function(ev, evdev_log, LIBEVDEV_LOG_DEBUG, NULL);
	err = libevdev_set_fd(ev, fd);
	if (err < 0) {
		log_debug("evdev: %s is not an evdev device: %s", name, strerror(-err));
		goto fail;
	}
	for (i = 0; i < INPUT_EVDEV_MAX_DEVICES && s->dev[i].evdev; i++)
		;
	if (i == INPUT_EVDEV_MAX_DEVICES)
		goto fail; /* cannot happen: ndev < cap */
	d = &s->dev[i];
	d->gen++;
	ee.data.u64 = dev_tag(s, i);
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ee) < 0) {
		log_debug("evdev: epoll add %s: %s", name, strerror(errno));
		goto fail;
	}
	d->evdev = ev;
	d->fd = fd;
	d->rdev = st.st_rdev;
	d->origin = dev_origin(ev, st.st_rdev);
	d->syncing = 0;
	d->backlog = 0;
	memset(&d->frame, 0, sizeof(d->frame));
	snprintf(d->name, sizeof(d->name), "%s", name);
	s->ndev++;
	log_debug("evdev: opened %s \"%s\" bus %#x: %s", name, libevdev_get_name(ev),
		  libevdev_get_id_bustype(ev),
		  d->origin == INPUT_SYNTHETIC ? "synthetic" : "physical");
	return;

fail:
	libevdev_free(ev);
	if (fd >= 0)
		close(fd);
}

/*
 * Try every node in the directory (count: refusals at the cap are counted).
 * Returns 0 or -errno when the directory cannot be read.
 */
static int scan_dir(struct input_evdev *s, int count)
{
	struct dirent *de;
	DIR *dir;

	if (s->wd < 0)
		return 0;
	dir = opendir(s->path); /* O_CLOEXEC in glibc */
	if (!dir)
		return -errno;
	s->refused = 0;
	while ((de = readdir(dir)) != NULL)
		dev_try_open(s, de->d_name, count);
	closedir(dir);
	return 0;
}

/*
 * Watch the directory, then open the nodes in it (watch first, so no node
 * falls between the two). Returns 0, -ENOENT when it does not exist (yet),
 * -ENOTDIR, or another -errno.
 */
static int attach_dir(struct input_evdev *s)
{
	int wd;

	wd = inotify_add_watch(s->inofd, s->path, INOTIFY_MASK);
	if (wd < 0)
		return -errno;
	s->wd = wd;
	if (s->pwd >= 0) {
		(void)inotify_rm_watch(s->inofd, s->pwd);
		s->pwd = -1;
	}
	log_debug("evdev: watching %s", s->path);
	return scan_dir(s, 1);
}

/*
 * The directory is missing: watch its parent for it to appear, then try it
 * once more in case it appeared meanwhile. Returns 0 (attached or waiting),
 * or -errno when the parent cannot be watched or the directory not opened.
 */
static int await_dir(struct input_evdev *s)
{
	char parent[PATH_MAX];
	char *slash;
	int wd, err;

	snprintf(parent, sizeof(parent), "%s", s->path);
	slash = strrchr(parent, '/');
	if (!slash)
		snprintf(parent, sizeof(parent), ".");
	else if (slash == parent)
		parent[1] = '\0';
	else
		*slash = '\0';
	wd = inotify_add_watch(s->inofd, parent, PARENT_MASK);
	if (wd < 0)
		return -errno;
	s->pwd = wd;
	log_debug("evdev: %s missing: waiting for it in %s", s->path, parent);
	err = attach_dir(s);
	return err == -ENOENT ? 0 : err;
}

/* The directory was removed: forget it (open devices stay until they fail)
 * and wait for it to come back. Returns 0 or -errno as await_dir(). */
static int lost_dir(struct input_evdev *s)
{
	log_debug("evdev: %s went away", s->path);
	if (s->wd >= 0)
		(void)inotify_rm_watch(s->inofd, s->wd);
	s->wd = -1;
	return await_dir(s);
}

/*
 * Read up to EVDEV_BUDGET events of device d. SYN_DROPPED is handled with
 * libevdev's sync mode: the events libevdev then replays describe state that
 * changed while events were lost, not new input, so none of them is counted
 * (counting them would count presses already seen or invent motion), and the
 * motion frame in progress is dropped. hup: epoll reported a hang-up. The
 * device is closed on ENODEV, any other read error, or a hang-up with nothing
 * left to read.
 */
static void dev_drain(struct input_evdev *s, struct evdev_dev *d, int hup)
{
	struct input_event ev;
	unsigned int n;
	int rc;

	d->backlog = 0;
	for (n = 0; n < EVDEV_BUDGET; n++) {
		rc = libevdev_next_event(
		    d->evdev, d->syncing ? LIBEVDEV_READ_FLAG_SYNC : LIBEVDEV_READ_FLAG_NORMAL,
		    &ev);
		if (rc == LIBEVDEV_READ_STATUS_SYNC) {
			if (!d->syncing) {
				/* ev is the SYN_DROPPED itself */
				d->syncing = 1;
				s->overruns++;
				memset(&d->frame, 0, sizeof(d->frame));
				log_debug("evdev: %s: events dropped by the kernel", d->name);
			}
			continue;
		}
		if (rc == -EAGAIN) {
			if (d->syncing) {
				d->syncing = 0; /* sync done: back to normal reading */
				continue;
			}
			if (hup) {
				log_debug("evdev: %s hung up", d->name);
				dev_close(s, d);
			}
			goto out;
		}
		if (rc == -EINTR)
			continue;
		if (rc < 0) {
			log_debug("evdev: %s: %s", d->name, strerror(-rc));
			dev_close(s, d);
			goto out;
		}
		account_event(s, d, &ev);
	}
	d->backlog = 1;
out:
	explicit_bzero(&ev, sizeof(ev)); /* the last event's code dies here */
}

/*
 * Handle what inotify reports on the directory. Returns 0 or -errno when the
 * inotify fd fails.
 */
static int handle_inotify(struct input_evdev *s)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ie;
	struct evdev_dev *d;
	ssize_t n;
	size_t off;
	int i, err;

	for (i = 0; i < EVDEV_INOTIFY_READS; i++) {
		n = read(s->inofd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -errno;
		}
		for (off = 0; off + sizeof(*ie) <= (size_t)n; off += sizeof(*ie) + ie->len) {
			ie = (const struct inotify_event *)(buf + off);
			if (off + sizeof(*ie) + ie->len > (size_t)n)
				break;
			if (ie->mask & IN_Q_OVERFLOW) {
				s->rescan = 1;
				continue;
			}
			if (s->pwd >= 0 && ie->wd == s->pwd) {
				/* the parent, while the directory is missing */
				if (ie->len && strcmp(ie->name, s->base) == 0 && s->wd < 0) {
					err = attach_dir(s);
					if (err && err != -ENOENT)
						return err;
				}
				continue;
			}
			if (s->wd < 0 || ie->wd != s->wd)
				continue; /* a watch removed since */
			if (ie->mask & IN_IGNORED) {
				err = lost_dir(s);
				if (err)
					return err;
				continue;
			}
			if (ie->len == 0)
				continue;
			if (ie->mask & (IN_DELETE | IN_MOVED_FROM)) {
				d = dev_by_name(s, ie->name);
				if (d)
					dev_close(s, d);
			} else if (ie->mask & (IN_CREATE | IN_MOVED_TO)) {
				dev_try_open(s, ie->name, 1);
			} else if (ie->mask & IN_ATTRIB) {
				dev_try_open(s, ie->name, 0);
			}
		}
	}
	return 0;
}

/*
 * Open the source on dir (NULL: /dev/input): inner epoll set, inotify watch,
 * backlog eventfd, then every event node already there. *out is owned by the
 * caller (input_evdev_close). Succeeds with zero devices, and when dir does
 * not exist yet (its parent is then watched for it); -errno when dir is not
 * a directory, cannot be watched, or a descriptor cannot be created.
 */
int input_evdev_open(struct input_evdev **out, const char *dir)
{
	struct epoll_event ee = {.events = EPOLLIN};
	struct input_evdev *s;
	const char *base;
	unsigned int i;
	size_t len;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!dir)
		dir = EVDEV_DIR;
	len = strlen(dir);
	while (len > 1 && dir[len - 1] == '/')
		len--;
	if (len == 0)
		return -EINVAL;
	if (len >= EVDEV_PATH_MAX)
		return -ENAMETOOLONG;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->wd = s->pwd = s->epfd = s->inofd = s->kickfd = -1;
	for (i = 0; i < INPUT_EVDEV_MAX_DEVICES; i++)
		s->dev[i].fd = -1;
	memcpy(s->path, dir, len);
	s->path[len] = '\0';
	base = strrchr(s->path, '/');
	base = base && base[1] ? base + 1 : s->path;
	if (strlen(base) > NAME_MAX) {
		err = -ENAMETOOLONG;
		goto fail;
	}
	memcpy(s->base, base, strlen(base) + 1);

	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0) {
		err = -errno;
		goto fail;
	}
	s->inofd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->inofd < 0) {
		err = -errno;
		goto fail;
	}
	s->kickfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->kickfd < 0) {
		err = -errno;
		goto fail;
	}
	ee.data.u64 = TAG_INOTIFY;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->inofd, &ee) < 0) {
		err = -errno;
		goto fail;
	}
	ee.data.u64 = TAG_KICK;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->kickfd, &ee) < 0) {
		err = -errno;
		goto fail;
	}
	err = attach_dir(s);
	if (err == -ENOENT)
		err = await_dir(s); /* e.g. no input device yet, evdev not loaded */
	if (err)
		goto fail;
	*out = s;
	return 0;

fail:
	input_evdev_close(s);
	return err;
}

/* The inner epoll fd: readable while a device, inotify or the backlog has
 * something. Owned by s. */
int input_evdev_fd(const struct input_evdev *s)
{
	return s ? s->epfd : -EINVAL;
}

/*
 * Read what is ready without blocking: device events (EVDEV_BUDGET per
 * device), hot-plug, a rescan when due. Device errors close that device and
 * are not returned; -errno only when epoll or inotify fails.
 */
int input_evdev_dispatch(struct input_evdev *s)
{
	struct epoll_event evs[INPUT_EVDEV_MAX_DEVICES + 2];
	struct evdev_dev *d;
	uint64_t kicks;
	unsigned int i;
	int n, k, err = 0, inotify = 0, kick = 0, backlog = 0;

	if (!s)
		return -EINVAL;
	do {
		n = epoll_wait(s->epfd, evs, (int)(sizeof(evs) / sizeof(evs[0])), 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* devices first; inotify may close some, and stale tags then miss */
	for (k = 0; k < n; k++) {
		if (evs[k].data.u64 == TAG_INOTIFY) {
			inotify = 1;
		} else if (evs[k].data.u64 == TAG_KICK) {
			kick = 1;
		} else {
			d = dev_from_tag(s, evs[k].data.u64);
			if (d)
				dev_drain(s, d, !!(evs[k].events & (EPOLLHUP | EPOLLERR)));
		}
	}
	if (kick) {
		(void)!read(s->kickfd, &kicks, sizeof(kicks));
		for (i = 0; i < INPUT_EVDEV_MAX_DEVICES; i++)
			if (s->dev[i].evdev && s->dev[i].backlog)
				dev_drain(s, &s->dev[i], 0);
	}
	if (inotify)
		err = handle_inotify(s);
	if (s->rescan) {
		s->rescan = 0;
		/* after an inotify overflow the directory may be gone unnoticed */
		if (scan_dir(s, 0) == -ENOENT && !err)
			err = lost_dir(s);
	}
	for (i = 0; i < INPUT_EVDEV_MAX_DEVICES; i++)
		if (s->dev[i].evdev && s->dev[i].backlog)
			backlog = 1;
	if (backlog) {
		/* keep the inner set readable: libevdev may hold events that the
		 * device fd no longer signals */
		kicks = 1;
		(void)!write(s->kickfd, &kicks, sizeof(kicks));
	}
	return err;
}

/* Copy the totals and last-input times into st and point st->ring at the
 * rings inside s (valid until close). 0, or -EINVAL for NULL arguments. */
int input_evdev_read(struct input_evdev *s, struct input_state *st)
{
	if (!s || !st)
		return -EINVAL;
	st->totals = s->totals;
	st->ring = (const volatile __u32(*)[ACTIVE_RING_SLOTS])s->ring;
	memcpy(st->last_input_ns, s->last_input_ns, sizeof(st->last_input_ns));
	return 0;
}

/* Devices open now (0 for NULL). */
unsigned int input_evdev_devices(const struct input_evdev *s)
{
	return s ? s->ndev : 0;
}

/* Nodes refused at the cap (0 for NULL). */
uint64_t input_evdev_ignored(const struct input_evdev *s)
{
	return s ? s->ignored : 0;
}

/* SYN_DROPPED overruns seen (0 for NULL). */
uint64_t input_evdev_overruns(const struct input_evdev *s)
{
	return s ? s->overruns : 0;
}

/* Close every device and descriptor and free s. Accepts NULL and a
 * half-opened s. The rings given out by input_evdev_read die here. */
void input_evdev_close(struct input_evdev *s)
{
	unsigned int i;

	if (!s)
		return;
	for (i = 0; i < INPUT_EVDEV_MAX_DEVICES; i++) {
		if (s->dev[i].evdev) {
			libevdev_free(s->dev[i].evdev);
			close(s->dev[i].fd);
		}
	}
	if (s->kickfd >= 0)
		close(s->kickfd);
	if (s->inofd >= 0)
		close(s->inofd);
	if (s->epfd >= 0)
		close(s->epfd);
	free(s);
}
