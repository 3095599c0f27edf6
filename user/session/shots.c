// SPDX-License-Identifier: BSD-2-Clause
/*
 * shots.c - screenshots (see session.h): capture every monitor, blur
 * when asked, encode (PNG, WebP or JPEG); hand each to actlogd as a sealed memfd over
 * the session socket, or (--capture-once) write 0600 files described in
 * JSON.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "capture.h"
#include "log.h"
#include "session.h"
#include "sigv4.h"
#include "util.h"

/* Write buf to dir/name, 0600, through a temporary name, so that a reader
 * never sees half a file. 0 or -errno. */
static int write_shot(const char *dir, const char *name, const uint8_t *buf, size_t len)
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	return write_file_atomic(path, NULL, buf, len, 0600);
}

/* Blur one monitor's image in place and encode it as e says: *buf
 * malloc'd, the caller frees it; *cpu_ns, when not NULL, the CPU time this
 * thread spent on both. 0 or -errno. */
static int shot_encode(struct capture_shot *s, const struct shot_enc *e, uint8_t **buf, size_t *len,
		       uint64_t *cpu_ns)
{
	uint64_t t0 = cpu_ns ? clock_ns(CLOCK_THREAD_CPUTIME_ID) : 0;
	int err = image_blur(&s->img, e->blur);

	if (!err)
		err = image_encode(e->fmt, e->quality, &s->img, buf, len);
	if (cpu_ns)
		*cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
	return err;
}

int shots_write(struct capture_shot *shots, int n, const char *dir, const char *prefix,
		const struct shot_enc *e, cJSON *arr)
{
	char name[CAPTURE_NAME_LEN + 64], hex[SIGV4_HEX_LEN + 1];
	uint64_t t0, wall_ns, cpu_ns;
	uint8_t *buf;
	size_t len;
	int i, err = 0;
	cJSON *o;

	for (i = 0; i < n && !err; i++) {
		t0 = clock_ns(CLOCK_MONOTONIC);
		err = shot_encode(&shots[i], e, &buf, &len, &cpu_ns);
		wall_ns = clock_ns(CLOCK_MONOTONIC) - t0;
		if (err)
			break;
		snprintf(name, sizeof(name), "%s%s%d-%s.%s", prefix ? prefix : "",
			 prefix ? "-" : "", i, shots[i].name, image_fmt_ext(e->fmt));
		err = write_shot(dir, name, buf, len);
		if (!err && arr) {
			if (sigv4_sha256_hex(buf, len, hex))
				hex[0] = '\0';
			o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "name", shots[i].name);
			cJSON_AddNumberToObject(o, "x", shots[i].x);
			cJSON_AddNumberToObject(o, "y", shots[i].y);
			cJSON_AddNumberToObject(o, "width", shots[i].img.w);
			cJSON_AddNumberToObject(o, "height", shots[i].img.h);
			cJSON_AddStringToObject(o, "file", name);
			cJSON_AddStringToObject(o, "format", image_fmt_name(e->fmt));
			cJSON_AddNumberToObject(o, "bytes", (double)len);
			cJSON_AddStringToObject(o, "sha256", hex);
			cJSON_AddNumberToObject(o, "encode_ms", (double)(wall_ns / 10000) / 100.0);
			cJSON_AddNumberToObject(o, "cpu_ms", (double)(cpu_ns / 10000) / 100.0);
			cJSON_AddItemToArray(arr, o);
		}
		free(buf);
	}
	return err;
}

int shots_take(struct capture *c, const char *dir, const char *prefix, const struct shot_enc *e,
	       cJSON *arr)
{
	struct capture_shot shots[CAPTURE_MAX_MONITORS];
	int n, err;

	n = capture_grab(c, shots, CAPTURE_MAX_MONITORS);
	err = n < 0 ? n : shots_write(shots, n, dir, prefix, e, arr);
	capture_shots_free(shots, CAPTURE_MAX_MONITORS);
	return err ? err : n;
}

/* Encoded bytes in a sealed memfd: nothing can change or resize them after
 * actlogd has checked them. The fd, or -errno. */
static int sealed_memfd(const uint8_t *buf, size_t len)
{
	int fd, err;

	fd = memfd_create("actlog-shot", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	err = write_all(fd, buf, len);
	if (!err &&
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/* One line with the fd attached (SCM_RIGHTS). 0 or -ECONNRESET. */
static int send_with_fd(int sock, const char *line, size_t len, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = (void *)line, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *cm;
	size_t off = 0;
	ssize_t w;

	memset(&u, 0, sizeof(u));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	while (off < len) {
		iov.iov_base = (void *)(line + off);
		iov.iov_len = len - off;
		w = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -ECONNRESET; /* apart from the display's -EPIPE */
		off += (size_t)w;
		/* the descriptor travels with the first bytes only */
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
	}
	return 0;
}

int shots_deliver(int sock, struct capture_shot *shots, int n, const struct shot_enc *e,
		  int64_t taken_ms)
{
	char *line;
	uint8_t *buf;
	size_t len;
	int i, fd, err = 0;
	cJSON *o;

	for (i = 0; i < n && !err; i++) {
		err = shot_encode(&shots[i], e, &buf, &len, NULL);
		if (err)
			break;
		fd = sealed_memfd(buf, len);
		free(buf);
		if (fd < 0) {
			err = fd;
			break;
		}
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "type", "shot");
		cJSON_AddNumberToObject(o, "taken_at", (double)taken_ms);
		cJSON_AddStringToObject(o, "monitor", shots[i].name);
		cJSON_AddNumberToObject(o, "width", shots[i].img.w);
		cJSON_AddNumberToObject(o, "height", shots[i].img.h);
		cJSON_AddNumberToObject(o, "size", (double)len);
		cJSON_AddStringToObject(o, "format", image_fmt_name(e->fmt));
		line = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		if (!line) {
			close(fd);
			err = -ENOMEM;
			break;
		}
		len = strlen(line);
		line[len] = '\n'; /* replaces the NUL: sent with its length */
		err = send_with_fd(sock, line, len + 1, fd);
		free(line);
		close(fd);
	}
	return err ? err : n;
}

int shots_send(struct capture *c, int sock, const struct shot_enc *e, int64_t taken_ms)
{
	struct capture_shot shots[CAPTURE_MAX_MONITORS];
	int n;

	n = capture_grab(c, shots, CAPTURE_MAX_MONITORS);
	if (n >= 0)
		n = shots_deliver(sock, shots, n, e, taken_ms);
	capture_shots_free(shots, CAPTURE_MAX_MONITORS);
	return n;
}
