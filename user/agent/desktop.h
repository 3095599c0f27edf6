/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * desktop.h - application names from freedesktop .desktop files.
 *
 * actlog names an application the way the desktop does: the Name= of the
 * .desktop file that launches it. desktop_parse() reads one file's text (a
 * pure parser: a buffer in, an entry out); a struct desktop_index holds the
 * entries of the scanned directories and answers two questions: which Name
 * belongs to an executable path (Exec=/TryExec= basename), and which to an
 * X11 WM_CLASS (StartupWMClass=, then the desktop file id, then the Exec
 * basename, case-insensitively). The index is filled by the caller (the
 * directory scan is I/O and lives in user/agent/apps.c).
 */
#ifndef ACTLOG_DESKTOP_H
#define ACTLOG_DESKTOP_H

#include <stddef.h>

#define DESKTOP_NAME_LEN 128	     /* Name=, cut to fit (and to the ingest cap) */
#define DESKTOP_BASE_LEN 64	     /* executable basenames */
#define DESKTOP_MAX_FILE (64 * 1024) /* larger files are skipped */
#define DESKTOP_MAX_ENTRIES 4096     /* entries kept in one index */

struct desktop_entry {
	char id[DESKTOP_NAME_LEN];	     /* file name without ".desktop" */
	char name[DESKTOP_NAME_LEN];	     /* Name= (the untranslated one) */
	char exec_base[DESKTOP_BASE_LEN];    /* basename of Exec='s program, "" if none */
	char tryexec_base[DESKTOP_BASE_LEN]; /* basename of TryExec=, "" if none */
	char wmclass[DESKTOP_NAME_LEN];	     /* StartupWMClass=, "" if none */
};

/*
 * Parse the text of a .desktop file buf[0..len) named id (its file name
 * without ".desktop"). Only the [Desktop Entry] group is read. Returns 0 and
 * fills *out for a Type=Application entry with a Name; -ENOENT for an entry
 * that names no application (another Type, Hidden=true, no Name), -EINVAL
 * for text that is not a desktop file (no [Desktop Entry] group, a NUL
 * byte). Exec= is split as the specification says (quotes, backslash
 * escapes); an "env VAR=value ..." prefix is skipped; field codes are
 * ignored.
 */
int desktop_parse(const char *buf, size_t len, const char *id, struct desktop_entry *out);

struct desktop_index {
	struct desktop_entry *e; /* owned, n entries */
	size_t n, cap;
	size_t skipped; /* entries refused because the index was full */
};

/* Append a copy of entry. 0, -ENOSPC past DESKTOP_MAX_ENTRIES (counted in
 * skipped), -ENOMEM. An entry whose id is already in the index is ignored
 * (the first directory scanned wins, as XDG_DATA_DIRS order says). */
int desktop_index_add(struct desktop_index *ix, const struct desktop_entry *entry);
/* Free the entries; the index is empty and reusable afterwards. */
void desktop_index_clear(struct desktop_index *ix);

/* The Name of the entry whose TryExec= or Exec= program has the basename of
 * exe (a path or a bare name; a " (deleted)" suffix is ignored), or NULL. */
const char *desktop_name_for_exe(const struct desktop_index *ix, const char *exe);
/* The Name for an X11 WM_CLASS class (or instance): StartupWMClass= first,
 * then the desktop file id, then the Exec= basename; case-insensitive. NULL
 * when nothing matches. */
const char *desktop_name_for_class(const struct desktop_index *ix, const char *wmclass);

/* The basename of path (after the last '/'), without a " (deleted)" suffix,
 * copied into buf (size n). Returns buf. */
char *desktop_basename(const char *path, char *buf, size_t n);

#endif /* ACTLOG_DESKTOP_H */
