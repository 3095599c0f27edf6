// SPDX-License-Identifier: BSD-2-Clause
/*
 * session_wl.c - `actlog-session --capture-once DIR` on Wayland (see
 * capture_pw.h): every monitor the ScreenCast portal names (or the
 * diagnostic --pw-node) to DIR/N-NAME.png now, described in JSON on
 * stdout like the X11 capture's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "capture_pw.h"
#include "log.h"
#include "util.h"

/* dir/name, 0600, through a temporary name. 0 or -errno. */
static int write_png(const char *dir, const char *name, const uint8_t *buf, size_t len)
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

/* Blur, encode and write shots[0..n) to dir; one JSON object each in
 * arr. 0 or -errno. */
static int write_shots(const char *dir, struct capture_shot *shots, int n, unsigned int blur,
		       cJSON *arr)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char name[CAPTURE_NAME_LEN + 16], hex[65];
	unsigned int mdlen, j;
	uint8_t *png;
	size_t len;
	int i, err = 0;
	cJSON *o;

	for (i = 0; i < n && !err; i++) {
		err = image_blur(&shots[i].img, blur);
		if (!err)
			err = png_encode(&shots[i].img, &png, &len);
		if (err)
			break;
		snprintf(name, sizeof(name), "%d-%s.png", i, shots[i].name);
		err = write_png(dir, name, png, len);
		hex[0] = '\0';
		if (!err && EVP_Digest(png, len, md, &mdlen, EVP_sha256(), NULL))
			for (j = 0; j < mdlen && j < 32; j++)
				sprintf(hex + j * 2, "%02x", md[j]);
		free(png);
		if (err)
			break;
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
	return err;
}

int wl_capture_once(const struct wl_capture_opts *opts, const char *dir, unsigned int blur)
{
	struct capture_shot shots[CAPTURE_MAX_MONITORS];
	struct wl_capture *w = NULL;
	cJSON *o, *arr;
	char *txt;
	int r, n = 0;

	memset(shots, 0, sizeof(shots));
	r = mkdir_p(dir, 0700);
	if (r) {
		log_err("cannot create %s: %s", dir, strerror(-r));
		return 1;
	}
	r = wl_capture_open(&w, opts);
	if (r) {
		log_err("Wayland screenshots: %s", strerror(-r));
		return 1;
	}
	o = cJSON_CreateObject();
	arr = cJSON_CreateArray();
	n = wl_capture_grab(w, shots, CAPTURE_MAX_MONITORS);
	if (n >= 0)
		r = write_shots(dir, shots, n, blur, arr);
	else
		r = n;
	cJSON_AddStringToObject(o, "dir", dir);
	cJSON_AddStringToObject(o, "method", wl_capture_method(w));
	cJSON_AddNumberToObject(o, "blur", blur);
	cJSON_AddItemToObject(o, "monitors", arr);
	if (r < 0)
		cJSON_AddStringToObject(
		    o, "error", wl_capture_error(w)[0] ? wl_capture_error(w) : strerror(-r));
	txt = cJSON_PrintUnformatted(o);
	if (txt)
		printf("%s\n", txt);
	free(txt);
	cJSON_Delete(o);
	if (r < 0)
		log_err("screenshot failed: %s",
			wl_capture_error(w)[0] ? wl_capture_error(w) : strerror(-r));
	else if (wl_capture_error(w)[0])
		log_warn("%s", wl_capture_error(w));
	capture_shots_free(shots, CAPTURE_MAX_MONITORS);
	wl_capture_close(w);
	return r < 0 ? 1 : 0;
}
