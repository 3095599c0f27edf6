// SPDX-License-Identifier: BSD-2-Clause
/*
 * session_wl.c - `actlog-session --capture-once DIR` on Wayland (see
 * capture_pw.h): every monitor the ScreenCast portal names (or the
 * diagnostic --pw-node) to DIR/N-NAME.EXT now, described in JSON on
 * stdout like the X11 capture's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "capture_pw.h"
#include "log.h"
#include "session.h"
#include "util.h"

int wl_capture_once(const struct wl_capture_opts *opts, const char *dir, const struct shot_enc *e)
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
		r = shots_write(shots, n, dir, NULL, e, arr);
	else
		r = n;
	cJSON_AddStringToObject(o, "dir", dir);
	cJSON_AddStringToObject(o, "method", wl_capture_method(w));
	cJSON_AddNumberToObject(o, "blur", e->blur);
	cJSON_AddStringToObject(o, "format", image_fmt_name(e->fmt));
	cJSON_AddNumberToObject(o, "quality", e->quality);
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
