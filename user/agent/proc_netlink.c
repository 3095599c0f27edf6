// SPDX-License-Identifier: BSD-2-Clause
/*
 * proc_netlink.c - process exec and exit from the netlink proc connector,
 * the fallback when BPF is unavailable (see sources.h).
 *
 * The connector reports every thread; only events with pid == tgid are kept.
 * It carries little besides ids, so the rest of a struct proc_record is read
 * from /proc/PID when the event arrives: exe (readlink), comm, start time and
 * CPU (stat), real uid and ppid (status). Parsing is in proc_parse.c.
 *
 * Differences from bpf/proc.bpf.c, all inherent to the connector:
 *  - the exit event is that of the thread-group LEADER, not of the last
 *    thread: a process whose main thread exits first (pthread_exit in main),
 *    or in which a non-leader thread calls execve, is reported as exited
 *    while other threads still run;
 *  - start_ns and cpu_ns have clock-tick resolution (/proc), not ns;
 *  - exe is /proc/PID/exe, so a deleted binary reads "PATH (deleted)";
 *  - a process gone before /proc/PID is read keeps only what the event
 *    carries: exec then has PROC_F_EXE_UNKNOWN and uid PROC_UID_UNKNOWN.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include "log.h"
#include "proc_parse.h"
#include "sources.h"

#define NL_RCVBUF (4 << 20)    /* receive buffer asked for: ~5k events of slack */
#define NL_BATCH 256	       /* datagrams per dispatch; the rest on the next call */
#define NL_ACK_TIMEOUT_MS 1000 /* wait for the kernel to confirm the subscription */
#define NL_RX_SIZE 8192	       /* one connector datagram is ~100 bytes */
#define PROC_FILE_MAX 4096     /* stat and status: the fields we need are early */
#define PROC_PATH_MAX 64       /* "/proc/4294967295/status" */

/* What an exec learnt about a process, so that its exit (when /proc/PID is
 * usually already reaped) still names it. Direct-mapped by pid: pids are
 * handed out sequentially, so collisions are rare, and a slot is only used
 * when its pid matches. */
#define NL_CACHE_SLOTS 16384
struct nl_cached {
	uint32_t pid;
	uint32_t uid;
	uint64_t start_ns;
	char comm[PROC_COMM_LEN];
};

struct proc_netlink {
	struct nl_cached cache[NL_CACHE_SLOTS];
	int fd;
	int listening; /* LISTEN sent and not refused: send IGNORE on close */
	proc_cb cb;
	void *ctx;
	uint64_t drops;
	long hz;	   /* clock ticks per second for /proc times */
	uint32_t ack_want; /* ack number of the pending LISTEN, 0 = none */
	int ack_seen;
	int ack_err; /* errno the kernel reported for the LISTEN */
	union {
		struct nlmsghdr align;
		char buf[NL_RX_SIZE];
	} rx;
};

/* CLOCK_BOOTTIME now in ns (0 if the clock is unavailable). */
static uint64_t boot_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_BOOTTIME, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * Read at most cap - 1 bytes of the file at path into buf and NUL-terminate
 * it. Returns the length, or -errno (ENOENT/ESRCH when the process is gone).
 */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	while (len < cap - 1) {
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
out:
	close(fd);
	return err ? err : (ssize_t)len;
}

/* Fill r->exe from /proc/PID/exe; sets PROC_F_EXE_UNKNOWN or
 * PROC_F_EXE_TRUNCATED in r->flags. Never fails. */
static void read_exe(uint32_t pid, struct proc_record *r)
{
	char path[PROC_PATH_MAX], target[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	n = readlink(path, target, sizeof(target));
	if (n < 0) {
		r->exe[0] = '\0';
		r->flags |= PROC_F_EXE_UNKNOWN;
		return;
	}
	if ((size_t)n >= PROC_EXE_LEN) {
		n = PROC_EXE_LEN - 1;
		r->flags |= PROC_F_EXE_TRUNCATED;
	}
	memcpy(r->exe, target, (size_t)n);
	r->exe[n] = '\0';
}

/*
 * Read /proc/PID/stat and /proc/PID/status. Returns 0 with both parsed, or
 * -errno (ENOENT/ESRCH: the process is gone; EINVAL: unparsable).
 */
static int read_proc(uint32_t pid, struct proc_stat_info *si, struct proc_status_info *st)
{
	char path[PROC_PATH_MAX], buf[PROC_FILE_MAX];
	ssize_t n;
	int err;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	n = read_small(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	err = proc_parse_stat(buf, (size_t)n, si);
	if (err)
		return err;
	if (si->pid != pid)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	n = read_small(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	return proc_parse_status(buf, (size_t)n, st);
}

/* Report an exec of process pid. The record is on the stack; cb copies
 * what it keeps. */
static void cache_put(struct proc_netlink *s, const struct proc_record *r)
{
	struct nl_cached *c = &s->cache[r->pid % NL_CACHE_SLOTS];

	c->pid = r->pid;
	c->uid = r->uid;
	c->start_ns = r->start_ns;
	memcpy(c->comm, r->comm, sizeof(c->comm));
}

/* Fill r's comm, uid and start from the exec-time cache, and free the slot.
 * Returns 1 on a hit. */
static int cache_take(struct proc_netlink *s, struct proc_record *r)
{
	struct nl_cached *c = &s->cache[r->pid % NL_CACHE_SLOTS];

	if (c->pid != r->pid || c->pid == 0)
		return 0;
	r->uid = c->uid;
	r->start_ns = c->start_ns;
	memcpy(r->comm, c->comm, sizeof(r->comm));
	c->pid = 0;
	return 1;
}

static void emit_exec(struct proc_netlink *s, uint32_t pid)
{
	struct proc_status_info st;
	struct proc_stat_info si;
	struct proc_record r;
	int err;

	memset(&r, 0, sizeof(r));
	r.kind = PROC_EXEC;
	r.pid = pid;
	r.uid = PROC_UID_UNKNOWN;
	r.ts_ns = boot_ns();
	read_exe(pid, &r);
	err = read_proc(pid, &si, &st);
	if (err) {
		/* gone already: keep what the event itself carried */
		log_debug("proc connector: exec of %u: /proc unreadable (%s)", pid, strerror(-err));
		r.flags |= PROC_F_EXE_UNKNOWN;
		r.exe[0] = '\0';
	} else {
		memcpy(r.comm, si.comm, sizeof(r.comm));
		r.ppid = st.ppid;
		r.uid = st.uid;
		r.start_ns = proc_ticks_to_ns(si.start_ticks, s->hz);
		cache_put(s, &r);
	}
	s->cb(&r, s->ctx);
}

/*
 * Report the exit of process pid. ppid and exit_code come from the event
 * (has_parent: the kernel sent parent_tgid); comm, uid, start and CPU are
 * read from /proc/PID, which still exists while the process is a zombie,
 * and only kept when /proc's ppid agrees with the event (pid not reused).
 * A process its parent has already reaped is gone from /proc: its CPU time
 * is then unknown (PROC_F_CPU_UNKNOWN), never reported as 0.
 */
static void emit_exit(struct proc_netlink *s, uint32_t pid, uint32_t exit_code, int has_parent,
		      uint32_t parent_tgid)
{
	struct proc_status_info st;
	struct proc_stat_info si;
	struct proc_record r;
	int err;

	memset(&r, 0, sizeof(r));
	r.kind = PROC_EXIT;
	r.pid = pid;
	r.ppid = has_parent ? parent_tgid : 0;
	r.uid = PROC_UID_UNKNOWN;
	r.exit_code = (int32_t)exit_code;
	r.ts_ns = boot_ns();
	r.flags = PROC_F_CPU_UNKNOWN;
	err = read_proc(pid, &si, &st);
	if (cache_take(s, &r) && (err || si.ppid != r.ppid)) {
		/* reaped already: the exec-time view is all there is */
	} else if (!err && (!has_parent || si.ppid == parent_tgid)) {
		memcpy(r.comm, si.comm, sizeof(r.comm));
		if (!has_parent)
			r.ppid = si.ppid;
		r.uid = st.uid;
		r.start_ns = proc_ticks_to_ns(si.start_ticks, s->hz);
		r.cpu_ns = proc_ticks_to_ns(si.utime_ticks + si.stime_ticks, s->hz);
		r.flags &= ~PROC_F_CPU_UNKNOWN;
	}
	s->cb(&r, s->ctx);
}

/* Handle one connector message of avail bytes (cn_msg header included).
 * Malformed or foreign messages are skipped. */
static void handle_cn(struct proc_netlink *s, const struct cn_msg *cn, size_t avail)
{
	const size_t head = offsetof(struct proc_event, event_data);
	struct proc_event ev;
	size_t len;

	if (avail < sizeof(*cn) || cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC)
		return;
	len = cn->len;
	if (len > avail - sizeof(*cn) || len < head)
		return;
	memset(&ev, 0, sizeof(ev));
	memcpy(&ev, cn->data, len < sizeof(ev) ? len : sizeof(ev));

	switch (ev.what) {
	case PROC_EVENT_NONE:
		/* the kernel's answer to a LISTEN: ack is the sent ack + 1 */
		if (s->ack_want && cn->ack == s->ack_want + 1 &&
		    len >= head + sizeof(ev.event_data.ack)) {
			s->ack_seen = 1;
			s->ack_err = (int)ev.event_data.ack.err;
		}
		break;
	case PROC_EVENT_EXEC:
		if (len < head + sizeof(ev.event_data.exec))
			break;
		if (ev.event_data.exec.process_pid != ev.event_data.exec.process_tgid)
			break;
		emit_exec(s, (uint32_t)ev.event_data.exec.process_tgid);
		break;
	case PROC_EVENT_EXIT:
		if (len < head + offsetof(struct exit_proc_event, parent_pid))
			break;
		if (ev.event_data.exit.process_pid != ev.event_data.exit.process_tgid)
			break;
		emit_exit(s, (uint32_t)ev.event_data.exit.process_tgid,
			  ev.event_data.exit.exit_code, len >= head + sizeof(ev.event_data.exit),
			  (uint32_t)ev.event_data.exit.parent_tgid);
		break;
	default:
		break; /* fork, uid, comm, ...: not needed */
	}
}

/*
 * Receive one datagram and handle the messages in it. Returns 1 when a
 * datagram (or an overrun, counted in drops) was consumed, 0 when nothing is
 * queued, -errno on a socket error.
 */
static int recv_one(struct proc_netlink *s)
{
	struct sockaddr_nl from;
	struct iovec iov = {.iov_base = s->rx.buf, .iov_len = sizeof(s->rx.buf)};
	struct msghdr mh = {
	    .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1};
	const struct nlmsghdr *nh;
	size_t len, off = 0;
	ssize_t n;

	n = recvmsg(s->fd, &mh, 0);
	if (n < 0) {
		if (errno == EINTR)
			return 1;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno == ENOBUFS) {
			/* the socket overran: an unknown number of events is lost */
			s->drops++;
			log_debug("proc connector: receive buffer overrun (%" PRIu64 " so far)",
				  s->drops);
			return 1;
		}
		return -errno;
	}
	/* only the kernel (port 0) speaks for the connector; skip cut datagrams */
	if (mh.msg_namelen < sizeof(from) || from.nl_pid != 0 || (mh.msg_flags & MSG_TRUNC))
		return 1;
	len = (size_t)n;
	while (len - off >= sizeof(*nh)) {
		nh = (const struct nlmsghdr *)(s->rx.buf + off);
		if (nh->nlmsg_len < sizeof(*nh) || nh->nlmsg_len > len - off)
			break;
		if (nh->nlmsg_type != NLMSG_ERROR && nh->nlmsg_type != NLMSG_NOOP &&
		    nh->nlmsg_type != NLMSG_OVERRUN)
			handle_cn(s, NLMSG_DATA(nh), nh->nlmsg_len - NLMSG_HDRLEN);
		off += NLMSG_ALIGN(nh->nlmsg_len);
		if (off >= len)
			break;
	}
	return 1;
}

/* Send a multicast control op (LISTEN or IGNORE) with ack number ack.
 * Returns 0 or -errno. */
static int send_mcast(struct proc_netlink *s, enum proc_cn_mcast_op op, uint32_t ack)
{
	union {
		struct nlmsghdr align;
		char buf[NLMSG_SPACE(sizeof(struct cn_msg) + sizeof(enum proc_cn_mcast_op))];
	} tx;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	struct nlmsghdr *nh = &tx.align;
	struct cn_msg *cn;
	ssize_t n;

	memset(&tx, 0, sizeof(tx));
	nh->nlmsg_len = NLMSG_LENGTH(sizeof(*cn) + sizeof(op));
	nh->nlmsg_type = NLMSG_DONE;
	cn = NLMSG_DATA(nh);
	cn->id.idx = CN_IDX_PROC;
	cn->id.val = CN_VAL_PROC;
	cn->seq = ack;
	cn->ack = ack;
	cn->len = sizeof(op);
	memcpy(cn->data, &op, sizeof(op));
	do {
		n = sendto(s->fd, &tx, nh->nlmsg_len, 0, (struct sockaddr *)&kernel,
			   sizeof(kernel));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return 0;
}

/*
 * Wait up to NL_ACK_TIMEOUT_MS for the kernel's answer to the LISTEN sent
 * with ack number s->ack_want. Events that arrive first are delivered to the
 * callback. Returns 0 when subscribed, the kernel's -errno when refused, or
 * -EPERM when no answer came (the kernel stays silent to a caller outside the
 * initial namespaces or without CAP_NET_ADMIN when nobody else listens).
 */
static int wait_ack(struct proc_netlink *s)
{
	uint64_t deadline = boot_ns() + NL_ACK_TIMEOUT_MS * 1000000ULL, now;
	uint64_t drops_before = s->drops;
	struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
	int rc, err = 0;

	s->ack_seen = 0;
	s->ack_err = 0;
	while (!s->ack_seen) {
		rc = recv_one(s);
		if (rc < 0) {
			err = rc;
			goto out;
		}
		if (rc > 0)
			continue;
		now = boot_ns();
		if (now >= deadline)
			break;
		rc = poll(&pfd, 1, (int)((deadline - now) / 1000000ULL) + 1);
		if (rc < 0 && errno != EINTR) {
			err = -errno;
			goto out;
		}
	}
	if (s->ack_seen)
		err = s->ack_err > 0 ? -s->ack_err : 0;
	else if (s->drops == drops_before)
		err = -EPERM;
	/* else the answer may have been lost in an overrun: assume subscribed */
out:
	s->ack_want = 0;
	return err;
}

/*
 * Subscribe to the proc connector and wait for the kernel to confirm it.
 * cb(record, ctx) is called for every exec and exit, possibly already during
 * open for events that arrive before the confirmation; the record is only
 * valid during the call. *out is owned by the caller (proc_netlink_close).
 * -errno on failure: EPERM when the kernel refuses or stays silent, socket
 * errors otherwise.
 */
int proc_netlink_open(struct proc_netlink **out, proc_cb cb, void *ctx)
{
	struct sockaddr_nl local = {.nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC};
	struct proc_netlink *s = NULL;
	int size = NL_RCVBUF, err;

	if (!out || !cb)
		return -EINVAL;
	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = -1;
	s->cb = cb;
	s->ctx = ctx;
	s->hz = sysconf(_SC_CLK_TCK);
	if (s->hz <= 0)
		s->hz = 100;

	s->fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_CONNECTOR);
	if (s->fd < 0) {
		err = -errno;
		goto fail;
	}
	/* past net.core.rmem_max needs CAP_NET_ADMIN, which the connector
	 * needs anyway; without it the kernel caps SO_RCVBUF at rmem_max */
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0 &&
	    setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0)
		log_debug("proc connector: receive buffer left at default: %s", strerror(errno));
	if (bind(s->fd, (struct sockaddr *)&local, sizeof(local)) < 0) {
		err = -errno;
		goto fail;
	}
	/* an ack number nobody else is likely to use on the shared group */
	s->ack_want = ((uint32_t)getpid() << 8) ^ (uint32_t)boot_ns();
	if (s->ack_want == 0 || s->ack_want == UINT32_MAX)
		s->ack_want = 1;
	err = send_mcast(s, PROC_CN_MCAST_LISTEN, s->ack_want);
	if (err)
		goto fail;
	s->listening = 1;
	err = wait_ack(s);
	if (err) {
		if (s->ack_seen)
			s->listening = 0; /* refused: nothing to undo */
		goto fail;
	}
	*out = s;
	return 0;

fail:
	proc_netlink_close(s);
	return err;
}

/* The non-blocking netlink socket, owned by s; poll it level-triggered. */
int proc_netlink_fd(const struct proc_netlink *s)
{
	return s ? s->fd : -EINVAL;
}

/*
 * Handle up to NL_BATCH queued datagrams without blocking, calling the
 * callback per exec and exit; the rest stays readable for the next call.
 * Overruns (ENOBUFS) are counted in drops, not returned. -errno on other
 * socket errors.
 */
int proc_netlink_dispatch(struct proc_netlink *s)
{
	int i, rc;

	if (!s)
		return -EINVAL;
	for (i = 0; i < NL_BATCH; i++) {
		rc = recv_one(s);
		if (rc <= 0)
			return rc;
	}
	return 0;
}

/* Overruns reported by the socket (each lost an unknown number of events);
 * 0 for NULL. */
uint64_t proc_netlink_drops(const struct proc_netlink *s)
{
	return s ? s->drops : 0;
}

/* Unsubscribe, close the socket and free s. Accepts NULL. */
void proc_netlink_close(struct proc_netlink *s)
{
	if (!s)
		return;
	if (s->fd >= 0) {
		/* kernels before 6.6 count listeners globally and never drop
		 * ours on close; newer ones handle IGNORE then close fine */
		if (s->listening)
			(void)send_mcast(s, PROC_CN_MCAST_IGNORE, 0);
		close(s->fd);
	}
	free(s);
}
