/*
 * The same workflow tests on PostgreSQL (issue 9): starts a throwaway
 * cluster and runs the in-process test programs that build instances
 * through tu_instance_create (tests/lib/instdb.h) with JIT_TEST_PG_URI
 * pointing at it, so every instance they create lives in a fresh
 * PostgreSQL database: logins, lockout, step-up, requests, racing
 * approvals, issuance, revocation with a real sshd, the sweeper and
 * extensions.  Each program must pass as it does on sqlite.  (The other
 * in-process programs run on PostgreSQL too when JIT_TEST_PG_URI names a
 * server; make test keeps to these two for time.)  Also checks what only PostgreSQL can do wrong: a
 * connection cut while idle is re-established without a failed request,
 * and one cut inside a write transaction fails that batch whole.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "broker/store.h"
#include "common/err.h"
#include "tests/lib/instdb.h"
#include "tests/lib/pgfix.h"
#include "tests/lib/testutil.h"

static struct pgfix *pg;
static char *tmp;

static void
cluster_up(void)
{
	const char *why;
	char *err = NULL;

	ck_assert_msg(pgfix_available(&why), "%s", why);
	ck_assert_msg((pg = pgfix_start(&err)) != NULL, "%s", err);
	setenv("JIT_TEST_PG_URI", pgfix_uri(pg), 1);
	tmp = tu_mkdtemp("pgwf");
}

static void
cluster_down(void)
{
	pgfix_stop(pg);
	pg = NULL;
	unsetenv("JIT_TEST_PG_URI");
	tu_rmdir(tmp);
	free(tmp);
}

/* Runs a sibling test program (../DIR/NAME next to this one). */
static void
run_sibling(const char *rel)
{
	char self[PATH_MAX], *slash, *path, *argv[2], *log;
	struct tu_out o;
	ssize_t n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	ck_assert_int_gt(n, 0);
	self[n] = '\0';
	/* .../tests/pg/check_pg_workflow -> .../tests/ */
	ck_assert_ptr_nonnull(slash = strrchr(self, '/'));
	*slash = '\0';
	ck_assert_ptr_nonnull(slash = strrchr(self, '/'));
	*slash = '\0';
	ck_assert_int_ne(asprintf(&path, "%s/%s", self, rel), -1);
	ck_assert_msg(access(path, X_OK) == 0, "%s is not built", path);
	argv[0] = path;
	argv[1] = NULL;
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 900, &o), 0);
	if (o.status != 0) {
		/* The summary and failures are at the end of its output. */
		log = o.err != NULL && strlen(o.err) > 3000 ?
		    o.err + strlen(o.err) - 3000 : o.err;
		ck_abort_msg("%s on PostgreSQL: exit %d\n...%s\n%s", rel,
		    o.status, log != NULL ? log : "", o.out != NULL ? o.out :
		    "");
	}
	ck_assert_msg(tu_contains(o.out, "100%") ||
	    tu_contains(o.err, "100%"), "%s: no check summary", rel);
	tu_out_free(&o);
	free(path);
}

START_TEST(requests_on_pg)
{
	run_sibling("broker/check_requests");
}
END_TEST

#ifndef __SANITIZE_ADDRESS__
/*
 * The rest on PostgreSQL in the release build only: the ASan+UBSan build
 * runs them on sqlite, and the store code they reach on PostgreSQL is the
 * code check_requests covers under both.
 */
START_TEST(broker_on_pg)
{
	run_sibling("broker/check_broker");
}
END_TEST

#endif

/* ---- connections cut by the server ---- */

static int
add_user(struct store_tx *tx, void *arg)
{
	struct store_user u;

	memset(&u, 0, sizeof(u));
	snprintf(u.name, sizeof(u.name), "%s", (const char *)arg);
	snprintf(u.groups, sizeof(u.groups), "eng");
	if (store_tx_user_insert(tx, &u) != JIT_OK)
		return JIT_ERR_STORE;
	return store_tx_audit(tx, "test", "user.add", u.name, "ok", NULL);
}

/* Terminates every other backend of the database (as a failover would). */
static void
cut_connections(const char *uri)
{
	const char *dbname = strrchr(uri, '/') + 1;
	const char *params[1] = { dbname };
	char *err = NULL, *v = NULL;

	ck_assert_msg(pgfix_value(pgfix_uri(pg), "SELECT count(pg_terminate_"
	    "backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND pid "
	    "<> pg_backend_pid()", 1, params, &v, &err) == 0, "%s", err);
	ck_assert_msg(v != NULL && atoi(v) > 0, "no connection to cut");
	free(v);
}

/* Inside the job: cuts its own connection after the first insert. */
static const char *cut_uri;

static int
add_two_cut_between(struct store_tx *tx, void *arg)
{
	int r;

	if ((r = add_user(tx, "first")) != JIT_OK)
		return r;
	cut_connections(cut_uri);
	return add_user(tx, "second");
}

static int
count_users(void *arg, const struct store_user *u)
{
	(*(int *)arg)++;
	return JIT_OK;
}

START_TEST(connection_cuts)
{
	struct store_user u;
	struct store *s;
	char *uri, *err = NULL;
	int n = 0;

	ck_assert_ptr_nonnull(uri = tu_pg_new_database());
	ck_assert_msg(store_open(uri, 1, NULL, &s, &err) == JIT_OK, "%s", err);
	ck_assert_int_eq(store_write(s, add_user, "alice"), JIT_OK);
	ck_assert_int_eq(store_user_get(s, "alice", &u), JIT_OK);

	/* Idle connections cut: the next read and write just work. */
	cut_connections(uri);
	ck_assert_int_eq(store_user_get(s, "alice", &u), JIT_OK);
	ck_assert_int_eq(store_write(s, add_user, "bob"), JIT_OK);

	/* Cut inside a write transaction: the job fails whole. */
	cut_uri = uri;
	ck_assert_int_ne(store_write(s, add_two_cut_between, NULL), JIT_OK);
	ck_assert_int_eq(store_user_get(s, "first", &u), JIT_ERR_NOT_FOUND);
	ck_assert_int_eq(store_user_get(s, "second", &u), JIT_ERR_NOT_FOUND);
	/* And the store goes on: a new connection for the next batch. */
	ck_assert_int_eq(store_write(s, add_user, "carol"), JIT_OK);
	ck_assert_int_eq(store_user_list(s, count_users, &n), JIT_OK);
	ck_assert_int_eq(n, 3);
	/* alice, bob, carol: three events, no gap. */
	ck_assert_uint_eq(store_audit_head(s), 3);
	store_close(s);
	free(uri);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("pg_workflow");
	TCase *tc = tcase_create("workflow");

	tcase_add_unchecked_fixture(tc, cluster_up, cluster_down);
	tcase_set_timeout(tc, 900);
	tcase_add_test(tc, connection_cuts);
	tcase_add_test(tc, requests_on_pg);
#ifndef __SANITIZE_ADDRESS__
	tcase_add_test(tc, broker_on_pg);
#endif
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	if (sodium_init() < 0)
		return 1;
	sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
