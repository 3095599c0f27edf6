// SPDX-License-Identifier: BSD-2-Clause
/*
 * session_shots.c - screenshots to files (see session.h): capture every
 * monitor, blur when asked, encode PNG, write 0600 files, describe them in
 * JSON, keep a directory bounded.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "capture.h"
#include "log.h"
#include "session.h"
#include "util.h"

/* Write buf to dir/name, 0600, through a temporary name, so that a reader
 * never sees half a file. 0 or -errno. */
static int write_shot(const char *dir, const char *name, const uint8_t *buf, size_t len)
{
	char tmp[4096], path[4096];
	int fd, err;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	err = write_all(fd, buf, len);
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

static void sha256_hex(const uint8_t *buf, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	out[0] = '\0';
	if (!EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL))
		return;
	for (i = 0; i < n && i < 32; i++)
		sprintf(out + i * 2, "%02x", md[i]);
}

int shots_take(struct capture *c, const char *dir, const char *prefix, unsigned int blur,
	       cJSON *arr)
{
	struct capture_shot shots[CAPTURE_MAX_MONITORS];
	char name[CAPTURE_NAME_LEN + 64], hex[65];
	uint8_t *png;
	size_t len;
	int n, i, err = 0;
	cJSON *o;

	n = capture_grab(c, shots, CAPTURE_MAX_MONITORS);
	if (n < 0) {
		capture_shots_free(shots, CAPTURE_MAX_MONITORS);
		return n;
	}
	for (i = 0; i < n && !err; i++) {
		err = image_blur(&shots[i].img, blur);
		if (err)
			break;
		err = png_encode(&shots[i].img, &png, &len);
		if (err)
			break;
		snprintf(name, sizeof(name), "%s%s%d-%s.png", prefix ? prefix : "",
			 prefix ? "-" : "", i, shots[i].name);
		err = write_shot(dir, name, png, len);
		if (!err && arr) {
			sha256_hex(png, len, hex);
			o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "name", shots[i].name);
			cJSON_AddNumberToObject(o, "x", shots[i].x);
			cJSON_AddNumberToObject(o, "y", shots[i].y);
			cJSON_AddNumberToObject(o, "width", shots[i].img.w);
			cJSON_AddNumberToObject(o, "height", shots[i].img.h);
			cJSON_AddStringToObject(o, "file", name);
			cJSON_AddNumberToObject(o, "bytes", (double)len);
			cJSON_AddStringToObject(o, "sha256", hex);
			cJSON_AddItemToArray(arr, o);
		}
		free(png);
	}
	capture_shots_free(shots, CAPTURE_MAX_MONITORS);
	return err ? err : n;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int shots_prune(const char *dir, unsigned int keep)
{
	char *names[SHOTS_MAX_FILES], path[4096];
	unsigned int n = 0, i, removed = 0;
	struct dirent *e;
	size_t l;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		l = strlen(e->d_name);
		if (e->d_name[0] == '.' || l < 5 || strcmp(e->d_name + l - 4, ".png"))
			continue;
		if (n == SHOTS_MAX_FILES)
			break; /* the rest is pruned by a later call */
		names[n] = strdup(e->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), name_cmp);
	for (i = 0; i < n; i++) {
		if (n - i > keep &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) < sizeof(path) &&
		    unlink(path) == 0)
			removed++;
		free(names[i]);
	}
	return (int)removed;
}
