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
 *
 * Then the session socket's shot checks, over a real connection: images
 * encoded by actlog-session's own encoders (user/session/image.h) in a
 * sealed memfd; the header of each format (PNG IHDR, WebP through
 * WebPGetInfo, JPEG through tjDecompressHeader3) must parse and carry the
 * announced width and height, else the shot is refused by cause.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "control.h"
#include "image.h"
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

/* --- shots over the session socket --- */

static struct {
	int n;
	enum sessd_fmt format;
	uint32_t w, h;
} kept;

static int keep_shot(void *ctx, const struct sessd_shot *sh, char *why, size_t wl)
{
	(void)ctx;
	(void)why;
	(void)wl;
	kept.n++;
	kept.format = sh->format;
	kept.w = sh->width;
	kept.h = sh->height;
	return 0;
}

/* The next line the server sends to client fd c, dispatching s meanwhile
 * (into buf); NULL after 5 s. */
static cJSON *next_msg(struct sessd *s, int c, char *buf, size_t n)
{
	static char acc[8192];
	static size_t have;
	int tries;

	for (tries = 0; tries < 500; tries++) {
		struct pollfd p[2] = {{sessd_fd(s), POLLIN, 0}, {c, POLLIN, 0}};
		char *nl = memchr(acc, '\n', have);
		ssize_t r;

		if (nl) {
			size_t l = (size_t)(nl - acc);

			snprintf(buf, n, "%.*s", (int)l, acc);
			memmove(acc, nl + 1, have - l - 1);
			have -= l + 1;
			return cJSON_Parse(buf);
		}
		poll(p, 2, 10);
		sessd_dispatch(s);
		r = recv(c, acc + have, sizeof(acc) - have - 1, MSG_DONTWAIT);
		if (r > 0)
			have += (size_t)r;
	}
	return NULL;
}

/* Send a shot message (fmt NULL: no "format") with a sealed memfd of data;
 * the ack's reason, "" when accepted. */
static const char *send_shot(struct sessd *s, int c, const char *fmt, uint32_t w, uint32_t h,
			     const uint8_t *data, size_t len)
{
	static char reason[256];
	char msg[300], buf[1024], cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov;
	struct msghdr mh = {0};
	struct cmsghdr *cm;
	cJSON *a;
	int fd;

	fd = memfd_create("shot", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL))
		return "memfd";
	if (fmt)
		snprintf(
		    msg, sizeof(msg),
		    "{\"type\":\"shot\",\"taken_at\":1790000000000,\"monitor\":\"T\",\"width\":%u,"
		    "\"height\":%u,\"size\":%zu,\"format\":\"%s\"}\n",
		    w, h, len, fmt);
	else
		snprintf(
		    msg, sizeof(msg),
		    "{\"type\":\"shot\",\"taken_at\":1790000000000,\"monitor\":\"T\",\"width\":%u,"
		    "\"height\":%u,\"size\":%zu}\n",
		    w, h, len);
	iov.iov_base = msg;
	iov.iov_len = strlen(msg);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(c, &mh, 0) < 0) {
		close(fd);
		return "sendmsg";
	}
	close(fd);
	while ((a = next_msg(s, c, buf, sizeof(buf)))) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(a, "type");

		if (cJSON_IsString(t) && !strcmp(t->valuestring, "shot_ack")) {
			const cJSON *r = cJSON_GetObjectItemCaseSensitive(a, "reason");

			snprintf(reason, sizeof(reason), "%s",
				 cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "ok"))
				     ? ""
				     : (cJSON_IsString(r) ? r->valuestring : "?"));
			cJSON_Delete(a);
			return reason;
		}
		cJSON_Delete(a);
	}
	return "no ack";
}

/* The refusals counted for cause, from sessd_status(). */
static int refused_by(const struct sessd *s, const char *cause)
{
	cJSON *o = cJSON_CreateObject(), *sh, *rb, *v;
	int n;

	sessd_status(s, o);
	sh = cJSON_GetObjectItemCaseSensitive(o, "shots");
	rb = cJSON_GetObjectItemCaseSensitive(sh, "refused_by");
	v = cJSON_GetObjectItemCaseSensitive(rb, cause);
	n = cJSON_IsNumber(v) ? v->valueint : -1;
	cJSON_Delete(o);
	return n;
}

/* A 40x30 image of gradients, encoded as fmt (quality 60). */
static int encoded(enum image_fmt fmt, uint8_t **out, size_t *len)
{
	struct image im = {.w = 40, .h = 30};
	size_t i;
	int r;

	im.px = malloc((size_t)im.w * im.h * 3);
	if (!im.px)
		return -ENOMEM;
	for (i = 0; i < (size_t)im.w * im.h * 3; i++)
		im.px[i] = (uint8_t)(i * 7);
	r = image_encode(fmt, 60, &im, out, len);
	image_free(&im);
	return r;
}

TEST(session_socket_shot_headers_per_format)
{
	struct sessd_opts o = {.path = path, .session_uid = (int64_t)getuid()};
	struct sessd_hooks h = {.shot = keep_shot};
	struct sessd_shots pol = {
	    .enabled = 1, .interval_s = 600, .format = SESSD_WEBP, .quality = 50};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct sessd *s = NULL;
	uint8_t *png = NULL, *webp = NULL, *jpeg = NULL;
	size_t npng, nwebp, njpeg;
	char buf[2048];
	const char *hello = "{\"type\":\"hello\",\"v\":1,\"display\":\"\",\"desktop\":\"x11\","
			    "\"source\":\"test\"}\n";
	cJSON *w;
	int c;

	CHECK_EQ(encoded(IMAGE_PNG, &png, &npng), 0);
	CHECK_EQ(encoded(IMAGE_WEBP, &webp, &nwebp), 0);
	CHECK_EQ(encoded(IMAGE_JPEG, &jpeg, &njpeg), 0);
	CHECK_EQ(sessd_open(&s, &o, &h), 0);
	sessd_set_shots(s, &pol);
	memcpy(sa.sun_path, path, strnlen(path, sizeof(sa.sun_path) - 1));
	c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK_EQ(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CHECK_EQ(write(c, hello, strlen(hello)), (ssize_t)strlen(hello));
	w = next_msg(s, c, buf, sizeof(buf));
	CHECK(w != NULL);
	/* the welcome carries the format and quality the helper encodes with */
	CHECK(strstr(buf, "\"screenshots.format\":\"webp\"") != NULL);
	CHECK(strstr(buf, "\"screenshots.quality\":50") != NULL);
	cJSON_Delete(w);

	/* each format with its own dimensions: kept, with its format */
	CHECK_STR(send_shot(s, c, "webp", 40, 30, webp, nwebp), "");
	CHECK_EQ(kept.format, SESSD_WEBP);
	CHECK_STR(send_shot(s, c, "jpeg", 40, 30, jpeg, njpeg), "");
	CHECK_EQ(kept.format, SESSD_JPEG);
	CHECK_STR(send_shot(s, c, "png", 40, 30, png, npng), "");
	CHECK_EQ(kept.format, SESSD_PNG);
	/* no "format": a PNG, as helpers sent before formats existed */
	CHECK_STR(send_shot(s, c, NULL, 40, 30, png, npng), "");
	CHECK_EQ(kept.format, SESSD_PNG);
	CHECK_EQ(kept.n, 4);

	/* a header whose dimensions are not the announced ones */
	CHECK(strstr(send_shot(s, c, "webp", 41, 30, webp, nwebp), "40x30") != NULL);
	CHECK(strstr(send_shot(s, c, "jpeg", 40, 31, jpeg, njpeg), "40x30") != NULL);
	CHECK(strstr(send_shot(s, c, "png", 40, 29, png, npng), "40x30") != NULL);
	CHECK_EQ(refused_by(s, "dims"), 3);
	/* bytes of another format than announced, and cut headers */
	CHECK(strstr(send_shot(s, c, "webp", 40, 30, png, npng), "not a webp") != NULL);
	CHECK(strstr(send_shot(s, c, "jpeg", 40, 30, webp, nwebp), "not a jpeg") != NULL);
	CHECK(strstr(send_shot(s, c, "png", 40, 30, jpeg, njpeg), "not a png") != NULL);
	CHECK(strstr(send_shot(s, c, "webp", 40, 30, webp, 20), "not a webp") != NULL);
	CHECK(strstr(send_shot(s, c, "jpeg", 40, 30, jpeg, 40), "not a jpeg") != NULL);
	CHECK_EQ(refused_by(s, "format"), 5);
	/* a format actlogd does not take */
	CHECK(strstr(send_shot(s, c, "gif", 40, 30, png, npng), "format must be") != NULL);
	CHECK_EQ(refused_by(s, "message"), 1);
	CHECK_EQ(kept.n, 4);

	close(c);
	sessd_close(s);
	free(png);
	free(webp);
	free(jpeg);
}

int main(void)
{
	check_mkdtemp(dir, sizeof(dir), "sockets");
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	RUN(control_socket_owner_only_from_bind);
	RUN(control_socket_group_after_bind);
	RUN(control_socket_replaces_a_stale_file);
	RUN(session_socket_owner_only_from_bind);
	RUN(session_socket_shot_headers_per_format);
	check_rmtree(dir);
	return CHECK_DONE();
}
