// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_sockets.c - the agent's unix sockets never appear wider than meant:
 * the control socket (user/agent/control.c: 0600, or 0660 with its group) and the
 * session socket (user/agent/session_sock.c: 0666) are bound while the process umask
 * leaves the owner alone, and get their group and mode only after. The mode
 * the socket file has the moment bind() creates it is seen through
 * -Wl,--wrap=bind (Makefile): __wrap_bind stats the path right after the
 * real bind, before the code under test can chmod it. The tests run with
 * umask 0, where a plain bind() makes the file 0777.
 */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "control.h"
#include "session_sock.h"

/* What the last bind() of a unix socket path left on disk. */
static struct {
	int n;	     /* binds seen */
	mode_t mode; /* permission bits of the file just after bind */
	gid_t gid;
	int stat_err; /* errno of that stat, 0 when it worked */
} seen;

int __real_bind(int fd, const struct sockaddr *sa, socklen_t len);

int __wrap_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	const struct sockaddr_un *un = (const struct sockaddr_un *)sa;
	int r = __real_bind(fd, sa, len), e = errno;
	struct stat st;

	if (!r && sa->sa_family == AF_UNIX && un->sun_path[0]) {
		seen.n++;
		seen.stat_err = stat(un->sun_path, &st) ? errno : 0;
		seen.mode = st.st_mode & 07777;
		seen.gid = st.st_gid;
	}
	errno = e;
	return r;
}

static char dir[256], path[300];

static char *answer(const char *request, const struct ucred *peer, void *ctx)
{
	(void)request;
	(void)peer;
	(void)ctx;
	return strdup("{}");
}

static mode_t mode_of(const char *p)
{
	struct stat st;

	return stat(p, &st) ? (mode_t)-1 : st.st_mode & 07777;
}

TEST(control_socket_owner_only_from_bind)
{
	struct control *c = NULL;
	mode_t before;

	memset(&seen, 0, sizeof(seen));
	umask(0);
	CHECK_EQ(control_open(&c, path, 0600, (gid_t)-1, answer, NULL), 0);
	before = umask(0);
	CHECK_EQ(seen.n, 1);
	CHECK_EQ(seen.stat_err, 0);
	/* no group or other bit, not even for a moment */
	CHECK_EQ(seen.mode & ~(mode_t)0600, 0);
	CHECK_EQ(mode_of(path), 0600);
	CHECK_EQ(before, 0); /* the caller's umask is given back */
	control_close(c);
}

TEST(control_socket_group_after_bind)
{
	/* another group than the bind gives (root may chown to any) */
	gid_t gid = geteuid() == 0 ? (getegid() == 4242 ? 4243 : 4242) : getegid();
	struct control *c = NULL;
	struct stat st = {0};

	memset(&seen, 0, sizeof(seen));
	umask(0);
	CHECK_EQ(control_open(&c, path, 0660, gid, answer, NULL), 0);
	CHECK_EQ(seen.n, 1);
	CHECK_EQ(seen.mode & ~(mode_t)0600, 0);
	CHECK_EQ(stat(path, &st), 0);
	CHECK_EQ(st.st_mode & 07777, 0660);
	CHECK_EQ(st.st_gid, gid);
	control_close(c);
}

TEST(control_socket_replaces_a_stale_file)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct control *c = NULL;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	/* what a process that died without closing leaves: a world-open file */
	umask(0);
	strcpy(sa.sun_path, path);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	close(fd);
	CHECK_EQ(mode_of(path), 0777);
	memset(&seen, 0, sizeof(seen));
	CHECK_EQ(control_open(&c, path, 0600, (gid_t)-1, answer, NULL), 0);
	CHECK_EQ(seen.n, 1);
	CHECK_EQ(seen.mode & ~(mode_t)0600, 0);
	CHECK_EQ(mode_of(path), 0600);
	control_close(c);
}

TEST(session_socket_owner_only_from_bind)
{
	struct sessd_opts o = {.path = path, .session_uid = -1};
	struct sessd_hooks h = {0};
	struct sessd *s = NULL;

	memset(&seen, 0, sizeof(seen));
	umask(0);
	CHECK_EQ(sessd_open(&s, &o, &h), 0);
	CHECK_EQ(umask(0), 0);
	CHECK_EQ(seen.n, 1);
	CHECK_EQ(seen.stat_err, 0);
	CHECK_EQ(seen.mode & ~(mode_t)0600, 0);
	CHECK_EQ(mode_of(path), 0666); /* SO_PEERCRED decides who stays */
	sessd_close(s);
}

int main(void)
{
	check_mkdtemp(dir, sizeof(dir), "sockets");
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	RUN(control_socket_owner_only_from_bind);
	RUN(control_socket_group_after_bind);
	RUN(control_socket_replaces_a_stale_file);
	RUN(session_socket_owner_only_from_bind);
	check_rmtree(dir);
	return CHECK_DONE();
}
