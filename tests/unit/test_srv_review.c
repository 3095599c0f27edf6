// SPDX-License-Identifier: BSD-2-Clause
/* Unit tests of server/model/review.c's CSV (RFC 4180, formula injection). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "model/review.h"

/* The CSV of one row whose name is name (others fixed), without the
 * header: the caller frees. */
static char *one(const char *name, const char *login)
{
	cJSON *rows = cJSON_CreateArray(), *r = cJSON_CreateObject();
	char *buf = NULL, *out;
	size_t len;

	cJSON_AddStringToObject(r, "user_id", "u_1");
	if (login)
		cJSON_AddStringToObject(r, "login", login);
	else
		cJSON_AddNullToObject(r, "login");
	cJSON_AddStringToObject(r, "name", name);
	cJSON_AddStringToObject(r, "role", "admin");
	cJSON_AddStringToObject(r, "node_id", "n_1");
	cJSON_AddStringToObject(r, "node_path", "Acme");
	cJSON_AddStringToObject(r, "node_name", "Acme");
	cJSON_AddNullToObject(r, "created_by");
	cJSON_AddStringToObject(r, "created_at", "2026-01-01T00:00:00.000Z");
	cJSON_AddNullToObject(r, "last_sign_in");
	cJSON_AddTrueToObject(r, "disabled");
	cJSON_AddItemToArray(rows, r);
	CHECK_EQ(review_csv(rows, &buf, &len), 0);
	cJSON_Delete(rows);
	CHECK_EQ(strlen(buf), len);
	CHECK(!strncmp(buf, REVIEW_CSV_HEADER "\r\n", strlen(REVIEW_CSV_HEADER) + 2));
	out = strdup(buf + strlen(REVIEW_CSV_HEADER) + 2);
	free(buf);
	return out;
}

#define ROW(name) "u_1,mgr," name ",admin,n_1,Acme,Acme,,,2026-01-01T00:00:00.000Z,,true\r\n"

TEST(csv_plain_and_nulls)
{
	char *c = one("Mary", "mgr");

	CHECK_STR(c, ROW("Mary"));
	free(c);
	c = one("Mary", NULL);
	CHECK_STR(c, "u_1,,Mary,admin,n_1,Acme,Acme,,,2026-01-01T00:00:00.000Z,,true\r\n");
	free(c);
}

TEST(csv_quoting)
{
	char *c = one("a,b", "mgr");

	CHECK_STR(c, ROW("\"a,b\""));
	free(c);
	c = one("say \"hi\"", "mgr");
	CHECK_STR(c, ROW("\"say \"\"hi\"\"\""));
	free(c);
	c = one("two\r\nlines", "mgr");
	CHECK_STR(c, ROW("\"two\r\nlines\""));
	free(c);
	c = one("lf\nonly", "mgr");
	CHECK_STR(c, ROW("\"lf\nonly\""));
	free(c);
}

TEST(csv_formula_neutralised)
{
	static const char *const bad[] = {"=1+1", "+1", "-1", "@SUM(A1)", "\tx"};
	char want[128], *c;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = one(bad[i], "mgr");
		snprintf(want, sizeof(want), ROW("'%s"), bad[i]);
		CHECK_STR(c, want);
		free(c);
	}
	/* quoted and neutralised: the ' goes inside the quotes */
	c = one("=HYPERLINK(\"x\",\"y\")", "mgr");
	CHECK_STR(c, ROW("\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\""));
	free(c);
	/* only the first character counts */
	c = one("a=b", "mgr");
	CHECK_STR(c, ROW("a=b"));
	free(c);
}

int main(void)
{
	RUN(csv_plain_and_nulls);
	RUN(csv_quoting);
	RUN(csv_formula_neutralised);
	return CHECK_DONE();
}
