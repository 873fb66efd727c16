/*
 * The PostgreSQL test fixture itself: a cluster starts as an unprivileged
 * account in a private directory, listens on 127.0.0.1 only, answers
 * SELECT 1 on its "jitd" database and on one created later, and is gone,
 * process and directory, after pgfix_stop.
 */
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/pgfix.h"
#include "tests/lib/testutil.h"

/* The real uid of a process, from /proc. */
static long
proc_uid(pid_t pid)
{
	char path[64], *s, *p;
	long uid = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((s = tu_read_file(path, NULL)) == NULL)
		return -1;
	if ((p = strstr(s, "\nUid:")) != NULL)
		uid = strtol(p + 5, NULL, 10);
	free(s);
	return uid;
}

static char *
value(const char *uri, const char *sql)
{
	char *v = NULL, *err = NULL;

	ck_assert_msg(pgfix_value(uri, sql, 0, NULL, &v, &err) == 0, "%s",
	    err);
	ck_assert_ptr_nonnull(v);
	return v;
}

START_TEST(start_query_stop)
{
	struct pgfix *pg;
	struct pgfix_result res;
	const char *why, *param[] = { "forty-two" };
	char *err = NULL, *v, *dir, *uri2, want[128];
	struct stat st;
	pid_t pid;

	if (!pgfix_available(&why))
		ck_abort_msg("%s", why);
	pg = pgfix_start(&err);
	ck_assert_msg(pg != NULL, "%s", err);
	pid = pgfix_pid(pg);
	dir = strdup(pgfix_dir(pg));
	snprintf(want, sizeof(want), "postgresql://jitd@127.0.0.1:%d/jitd",
	    pgfix_port(pg));
	ck_assert_str_eq(pgfix_uri(pg), want);

	v = value(pgfix_uri(pg), "SELECT 1");
	ck_assert_str_eq(v, "1");
	free(v);
	v = value(pgfix_uri(pg), "SELECT current_database() || ' ' || "
	    "current_user || ' ' || host(inet_server_addr())");
	ck_assert_str_eq(v, "jitd jitd 127.0.0.1");
	free(v);
	v = value(pgfix_uri(pg), "SHOW fsync");
	ck_assert_str_eq(v, "off");
	free(v);
	/* Parameters, several rows, NULL cells. */
	ck_assert_msg(pgfix_query(pgfix_uri(pg), "SELECT $1::text, NULL "
	    "UNION ALL SELECT 'b', 'c'", 1, param, &res, &err) == 0, "%s",
	    err);
	ck_assert_int_eq(res.nrows, 2);
	ck_assert_int_eq(res.ncols, 2);
	ck_assert_str_eq(res.cells[0], "forty-two");
	ck_assert_ptr_null(res.cells[1]);
	ck_assert_str_eq(res.cells[3], "c");
	pgfix_result_free(&res);
	/* Errors come back as messages. */
	ck_assert_int_eq(pgfix_value(pgfix_uri(pg), "SELECT nope FROM "
	    "nowhere", 0, NULL, &v, &err), -1);
	ck_assert(tu_contains(err, "nowhere"));
	free(err);
	err = NULL;

	/* A second database on the same cluster. */
	uri2 = pgfix_createdb(pg, "second_db", &err);
	ck_assert_msg(uri2 != NULL, "%s", err);
	v = value(uri2, "SELECT current_database()");
	ck_assert_str_eq(v, "second_db");
	free(v);
	ck_assert_ptr_null(pgfix_createdb(pg, "Bad; DROP", &err));
	free(err);
	err = NULL;

	/* Never root: the server and its files belong to another account. */
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	if (geteuid() == 0) {
		ck_assert_int_ne(st.st_uid, 0);
		ck_assert_int_eq(proc_uid(pid), (long)st.st_uid);
	}

	pgfix_stop(pg);
	ck_assert_int_eq(kill(pid, 0), -1);
	ck_assert_int_eq(errno, ESRCH);
	ck_assert_int_eq(stat(dir, &st), -1);
	/* Nothing answers there any more. */
	ck_assert_int_eq(pgfix_value(uri2, "SELECT 1", 0, NULL, &v, &err),
	    -1);
	free(err);
	free(uri2);
	free(dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("pgfix");
	TCase *tc = tcase_create("cluster");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, start_query_stop);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
