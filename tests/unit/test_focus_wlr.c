// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_focus_wlr.c - the wlr focus route's pure parts: the state array,
 * which handle is the focus after `done`, titles dropped while off, caps and
 * UTF-8 cleaning of app_id and title, the focus over the toplevel cap, and
 * sway's IPC (header, GET_TREE and GET_VERSION replies, a reply over the
 * cap and a sway that does not answer, through a real unix socket).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "check.h"
#include "../../user/session/focus_wlr.c"
#include "user/session/protocols/wlr-foreign-toplevel-management-unstable-v1.c"

static struct wl_array states(uint32_t *v, size_t n)
{
	struct wl_array a = {
	    .size = n * sizeof(uint32_t), .alloc = n * sizeof(uint32_t), .data = v};

	return a;
}

TEST(state_array)
{
	uint32_t none[1] = {0};
	uint32_t act[3] = {ZWLR_FOREIGN_TOPLEVEL_HANDLE_V1_STATE_MAXIMIZED,
			   ZWLR_FOREIGN_TOPLEVEL_HANDLE_V1_STATE_ACTIVATED,
			   ZWLR_FOREIGN_TOPLEVEL_HANDLE_V1_STATE_FULLSCREEN};
	uint32_t other[2] = {ZWLR_FOREIGN_TOPLEVEL_HANDLE_V1_STATE_MINIMIZED, 99};

	CHECK_EQ(states_activated(none, 0), 0);
	CHECK_EQ(states_activated(none, 1), 0);
	CHECK_EQ(states_activated(act, 3), 1);
	CHECK_EQ(states_activated(other, 2), 0);
}

/* A tracked handle without a proxy (the listeners never touch it). */
static struct toplevel *handle(struct wlr *w, const char *app_id)
{
	struct toplevel *t = calloc(1, sizeof(*t));

	t->w = w;
	t->next = w->list;
	w->list = t;
	w->n++;
	on_app_id(t, NULL, app_id);
	return t;
}

static void set_active(struct toplevel *t, int on)
{
	uint32_t v[1] = {ZWLR_FOREIGN_TOPLEVEL_HANDLE_V1_STATE_ACTIVATED};
	struct wl_array a = states(v, on ? 1 : 0);

	on_state(t, NULL, &a);
	on_done(t, NULL);
}

TEST(focus_follows_done)
{
	struct wlr w = {0};
	struct focus_info fi;
	struct toplevel *a = handle(&w, "actlog-a"), *b = handle(&w, "actlog-b");

	compute_focus(&w, &fi);
	CHECK_STR(fi.source, "wlr");
	CHECK_STR(fi.app, "");
	CHECK_STR(fi.unknown, "");
	set_active(a, 1);
	compute_focus(&w, &fi);
	CHECK_STR(fi.app, "actlog-a");
	/* B activated before A's deactivation arrives */
	set_active(b, 1);
	set_active(a, 0);
	compute_focus(&w, &fi);
	CHECK_STR(fi.app, "actlog-b");
	/* and the other order */
	set_active(b, 0);
	compute_focus(&w, &fi);
	CHECK_STR(fi.app, "");
	set_active(a, 1);
	compute_focus(&w, &fi);
	CHECK_STR(fi.app, "actlog-a");
	/* state without done changes nothing yet */
	{
		struct wl_array none = states(NULL, 0);

		on_state(a, NULL, &none);
		compute_focus(&w, &fi);
		CHECK_STR(fi.app, "actlog-a");
		on_done(a, NULL);
		compute_focus(&w, &fi);
		CHECK_STR(fi.app, "");
	}
	set_active(b, 1);
	on_closed(b, NULL); /* closed: the focus leaves it, the handle is freed */
	CHECK_EQ(w.n, 1);
	compute_focus(&w, &fi);
	CHECK_STR(fi.app, "");
	while (w.list)
		toplevel_free(&w, w.list);
	CHECK_EQ(w.n, 0);
}

TEST(titles_only_when_on)
{
	struct wlr w = {0};
	struct focus_info fi;
	struct toplevel *a = handle(&w, "actlog-a");

	on_title(a, NULL, "SECRET title");
	CHECK_STR(a->title, "");
	set_active(a, 1);
	compute_focus(&w, &fi);
	CHECK_STR(fi.title, "");
	w.titles = 1;
	on_title(a, NULL, "a \x01title\xff");
	CHECK_STR(a->title, "a ?title?");
	compute_focus(&w, &fi);
	CHECK_STR(fi.title, "a ?title?");
	w.titles = 0;
	compute_focus(&w, &fi);
	CHECK_STR(fi.title, "");
	toplevel_free(&w, a);
}

TEST(app_id_capped_and_cleaned)
{
	struct wlr w = {0};
	char big[SESSION_APP_LEN * 3];
	struct toplevel *a;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	a = handle(&w, big);
	CHECK_EQ(strlen(a->app_id), SESSION_APP_LEN - 1);
	on_app_id(a, NULL, "app\x1b[31m");
	CHECK_STR(a->app_id, "app?[31m");
	a->pid = 42;
	a->pid_asked = 1;
	on_app_id(a, NULL, "another"); /* a new app_id: the pid is asked again */
	CHECK_EQ(a->pid, 0);
	CHECK_EQ(a->pid_asked, 0);
	toplevel_free(&w, a);
}

TEST(focus_over_the_cap_is_unknown)
{
	struct wlr w = {0};
	struct focus_info fi;
	struct toplevel *a = handle(&w, "actlog-a");
	uint32_t v[1] = {ZWLR_FOREIGN_TOPLEVEL_HANDLE_V1_STATE_ACTIVATED};
	struct wl_array act = states(v, 1), none = states(NULL, 0);
	struct zwlr_foreign_toplevel_handle_v1 *over = (void *)&fi; /* never dereferenced */

	set_active(a, 1);
	untracked_state(&w, over, &act);
	compute_focus(&w, &fi);
	CHECK_STR(fi.app, "");
	CHECK(strstr(fi.unknown, "more than 1024 windows") != NULL);
	untracked_state(&w, over, &none);
	compute_focus(&w, &fi);
	CHECK_STR(fi.unknown, "");
	untracked_state(&w, over, &act);
	set_active(a, 1); /* a tracked one takes the focus back */
	compute_focus(&w, &fi);
	CHECK_STR(fi.app, "actlog-a");
	CHECK_STR(fi.unknown, "");
	toplevel_free(&w, a);
}

TEST(sway_header_parse)
{
	unsigned char h[SWAY_HDR_LEN];
	uint32_t len = 123, type = SWAY_GET_TREE, l, t;

	memcpy(h, "i3-ipc", 6);
	memcpy(h + 6, &len, 4);
	memcpy(h + 10, &type, 4);
	CHECK_EQ(sway_header(h, &l, &t), 0);
	CHECK_EQ(l, 123);
	CHECK_EQ(t, SWAY_GET_TREE);
	len = SWAY_REPLY_MAX + 1;
	memcpy(h + 6, &len, 4);
	CHECK_EQ(sway_header(h, &l, &t), -EMSGSIZE);
	h[0] = 'x';
	CHECK_EQ(sway_header(h, &l, &t), -EBADMSG);
}

static const char tree[] =
    "{\"id\":1,\"type\":\"root\",\"focused\":false,\"nodes\":["
    " {\"id\":2,\"type\":\"output\",\"focused\":false,\"nodes\":["
    "  {\"id\":3,\"type\":\"workspace\",\"focused\":false,\"nodes\":["
    "   {\"id\":4,\"type\":\"con\",\"focused\":false,\"app_id\":\"actlog-a\",\"pid\":1001,"
    "\"nodes\":[]}],"
    "  \"floating_nodes\":["
    "   {\"id\":5,\"type\":\"floating_con\",\"focused\":true,\"app_id\":null,\"pid\":1002,"
    "\"window_properties\":{\"class\":\"XTerm\"},\"nodes\":[]}]}]}]}";

TEST(sway_tree)
{
	uint32_t pid = 0;
	char moved[sizeof(tree)];
	const char *at;

	CHECK_EQ(sway_tree_pid(tree, strlen(tree), "XTerm", &pid), 0);
	CHECK_EQ(pid, 1002);
	/* sway's focus is another window by now: no pid */
	pid = 0;
	CHECK_EQ(sway_tree_pid(tree, strlen(tree), "actlog-a", &pid), -ENOENT);
	CHECK_EQ(pid, 0);
	/* the focus on a Wayland view, by its app_id */
	memcpy(moved, tree, sizeof(tree));
	at = strstr(moved, "\"focused\":true");
	memcpy(moved + (at - moved), "\"focused\":1   ", 14); /* not true: not focused */
	at = strstr(moved, "\"id\":4,\"type\":\"con\",\"focused\":false");
	memcpy(moved + (at - moved) + 30, "true ", 5);
	CHECK_EQ(sway_tree_pid(moved, strlen(moved), "actlog-a", &pid), 0);
	CHECK_EQ(pid, 1001);
	CHECK_EQ(sway_tree_pid("{\"focused\":true,\"app_id\":\"a\",\"pid\":-3}", 38, "a", &pid),
		 -ENOENT);
	CHECK_EQ(sway_tree_pid("{\"nodes\":[", 10, "a", &pid), -EBADMSG);
	CHECK_EQ(sway_tree_pid("{}", 2, "a", &pid), -ENOENT);
}

TEST(sway_version)
{
	char out[64];
	const char v[] = "{\"human_readable\":\"1.7\",\"major\":1,\"minor\":7}";

	CHECK_EQ(sway_version_name(v, strlen(v), out, sizeof(out)), 0);
	CHECK_STR(out, "sway 1.7");
	CHECK_EQ(sway_version_name("{}", 2, out, sizeof(out)), -ENOENT);
	CHECK_EQ(sway_version_name("nope", 4, out, sizeof(out)), -EBADMSG);
}

static char dir[256];

/* A fake sway at path: answers one request with reply (type as asked, or
 * with the length claimed), or never answers when silent. The child's pid. */
static pid_t fake_sway(const char *path, const char *reply, uint32_t claim, int silent)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) || listen(s, 1))
		return -1;
	pid = fork();
	if (pid == 0) {
		unsigned char h[SWAY_HDR_LEN];
		int c = accept(s, NULL, NULL);
		uint32_t len = claim ? claim : (uint32_t)strlen(reply);

		if (c < 0 || recv(c, h, sizeof(h), MSG_WAITALL) != (ssize_t)sizeof(h))
			_exit(1);
		if (silent) {
			pause();
			_exit(0);
		}
		memcpy(h + 6, &len, 4);
		if (send(c, h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
		    send(c, reply, strlen(reply), 0) != (ssize_t)strlen(reply))
			_exit(1);
		_exit(0);
	}
	close(s);
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

TEST(sway_ipc_socket)
{
	char path[300], *out = NULL;
	size_t len = 0;
	const char v[] = "{\"human_readable\":\"1.7\"}";
	pid_t p;

	snprintf(path, sizeof(path), "%s/sway.sock", dir);
	p = fake_sway(path, v, 0, 0);
	CHECK(p > 0);
	CHECK_EQ(sway_request(path, SWAY_GET_VERSION, &out, &len), 0);
	CHECK_EQ(len, strlen(v));
	CHECK_STR(out, v);
	free(out);
	reap(p);
	/* a reply over the cap is refused before it is read */
	p = fake_sway(path, "{}", SWAY_REPLY_MAX + 1, 0);
	CHECK_EQ(sway_request(path, SWAY_GET_TREE, &out, &len), -EMSGSIZE);
	reap(p);
	/* a sway that does not answer: the request gives up */
	p = fake_sway(path, "", 0, 1);
	CHECK_EQ(sway_request(path, SWAY_GET_TREE, &out, &len), -ETIMEDOUT);
	reap(p);
	/* no sway there */
	unlink(path);
	CHECK_EQ(sway_request(path, SWAY_GET_TREE, &out, &len), -ENOENT);
}

int main(void)
{
	check_mkdtemp(dir, sizeof(dir), "focus_wlr");
	RUN(state_array);
	RUN(focus_follows_done);
	RUN(titles_only_when_on);
	RUN(app_id_capped_and_cleaned);
	RUN(focus_over_the_cap_is_unknown);
	RUN(sway_header_parse);
	RUN(sway_tree);
	RUN(sway_version);
	RUN(sway_ipc_socket);
	return CHECK_DONE();
}
