/*
 * broker/db_pg.c against a throwaway PostgreSQL cluster, below the store:
 * a write transaction that waited for the cluster-wide lock sees what the
 * previous holder committed even where default_transaction_isolation is
 * REPEATABLE READ; an empty blob stays an empty blob; a COMMIT that
 * PostgreSQL turned into a ROLLBACK is a failure.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/config.h"
#include "broker/db.h"
#include "broker/store.h"
#include "common/err.h"
#include "tests/lib/pgfix.h"

static struct pgfix *pg;
static char *uri;

static void
cluster_up(void)
{
	char *err = NULL;

	if ((pg = pgfix_start(&err)) == NULL) {
		fprintf(stderr, "check_pg_db: %s\n", err != NULL ? err : "?");
		return;
	}
	uri = pgfix_createdb(pg, "jitd_db", &err);
}

static void
cluster_down(void)
{
	free(uri);
	pgfix_stop(pg);
}

static struct db *
open_db(void)
{
	struct db *d = NULL;
	char *err = NULL;

	ck_assert_msg(db_open(uri, 0, 5000, &d, &err) == JIT_OK, "%s",
	    err != NULL ? err : "");
	return d;
}

static const char SQL_COUNT[] = "SELECT count(*) FROM rr";

static void *
holder(void *arg)
{
	struct db *d = open_db();

	(void)arg;
	ck_assert_int_eq(db_begin_write(d), JIT_OK);
	ck_assert_int_eq(db_exec(d, "INSERT INTO rr VALUES (1)"), JIT_OK);
	usleep(500000);
	ck_assert_int_eq(db_exec(d, "COMMIT"), JIT_OK);
	db_close(d);
	return NULL;
}

START_TEST(write_lock_then_fresh_snapshot)
{
	struct db *d;
	struct db_stmt *st;
	pthread_t t;
	char sql[256];

	if (uri == NULL)
		return;
	d = open_db();
	snprintf(sql, sizeof(sql), "CREATE TABLE rr (x BIGINT); ALTER DATABASE "
	    "jitd_db SET default_transaction_isolation = 'repeatable read'");
	ck_assert_int_eq(db_exec(d, sql), JIT_OK);
	db_close(d);
	d = open_db();
	ck_assert_int_eq(pthread_create(&t, NULL, holder, NULL), 0);
	usleep(150000);
	ck_assert_int_eq(db_begin_write(d), JIT_OK);	/* waits */
	ck_assert_ptr_nonnull(st = db_prepare(d, SQL_COUNT));
	ck_assert_int_eq(db_step(st), DB_ROW);
	ck_assert_int_eq(db_col_int(st, 0), 1);
	db_reset(st);
	db_exec(d, "COMMIT");
	pthread_join(t, NULL);
	db_exec(d, "ALTER DATABASE jitd_db RESET default_transaction_isolation");
	db_close(d);
}
END_TEST

static const char SQL_INS[] = "INSERT INTO bl (k, b) VALUES (?, ?)";
static const char SQL_GET[] = "SELECT b IS NULL, b FROM bl WHERE k = ?";

START_TEST(empty_blob_is_not_null)
{
	struct db *d;
	struct db_stmt *st;

	if (uri == NULL)
		return;
	d = open_db();
	ck_assert_int_eq(db_exec(d, "CREATE TABLE bl (k BIGINT PRIMARY KEY, "
	    "b BYTEA)"), JIT_OK);
	ck_assert_ptr_nonnull(st = db_prepare(d, SQL_INS));
	db_bind_int(st, 1, 1);
	ck_assert_int_eq(db_bind_blob(st, 2, NULL, 0), JIT_OK);
	ck_assert_int_eq(db_step(st), DB_DONE);
	ck_assert_ptr_nonnull(st = db_prepare(d, SQL_GET));
	db_bind_int(st, 1, 1);
	ck_assert_int_eq(db_step(st), DB_ROW);
	ck_assert_str_eq(db_col_text(st, 0), "f");
	ck_assert_int_eq(db_col_bytes(st, 1), 0);
	db_reset(st);
	db_close(d);
}
END_TEST

START_TEST(commit_of_failed_tx_fails)
{
	struct db *d;

	if (uri == NULL)
		return;
	d = open_db();
	ck_assert_int_eq(db_exec(d, "CREATE TABLE cf (k BIGINT PRIMARY KEY)"),
	    JIT_OK);
	ck_assert_int_eq(db_begin_write(d), JIT_OK);
	ck_assert_int_eq(db_exec(d, "INSERT INTO cf VALUES (1)"), JIT_OK);
	ck_assert_int_ne(db_exec(d, "INSERT INTO cf VALUES (1)"), JIT_OK);
	ck_assert_int_ne(db_exec(d, "COMMIT"), JIT_OK);
	ck_assert_int_eq(db_in_tx(d), 0);
	db_close(d);
}
END_TEST

/* Opening a database without jitd's schema refuses and writes nothing. */
START_TEST(foreign_database_untouched)
{
	struct store *st = NULL;
	char *u, *err = NULL, *v = NULL;

	ck_assert_ptr_nonnull(u = pgfix_createdb(pg, "not_jitd", &err));
	ck_assert_int_eq(store_open(u, 0, NULL, &st, &err), JIT_ERR_STORE);
	ck_assert_ptr_null(st);
	ck_assert_msg(err != NULL && strstr(err, "holds no jitd schema") !=
	    NULL, "%s", err != NULL ? err : "(no message)");
	free(err);
	err = NULL;
	ck_assert_msg(pgfix_value(u, "SELECT count(*) FROM pg_tables WHERE "
	    "schemaname = 'public'", 0, NULL, &v, &err) == 0, "%s", err);
	ck_assert_str_eq(v, "0");
	free(v);
	free(u);
}
END_TEST

/*
 * The config's database forms: {"postgres": "host=... dbname=..."} opens
 * the same database as its URI; "sqlite:PATH" is a file; a bare
 * "postgres:..." string and other objects are refused with a message.
 */
static struct config *
load_cfg(const char *database_json, char **err)
{
	struct config *c = NULL;
	char buf[1024];
	int n;

	n = snprintf(buf, sizeof(buf), "{\"database\": %s, \"ca_dir\": "
	    "\"ca\", \"secrets_file\": \"secrets.key\"}", database_json);
	ck_assert_int_lt(n, (int)sizeof(buf));
	if (config_load_buffer("/nonexistent/jitd.json", (const uint8_t *)buf,
	    (size_t)n, &c, err) != JIT_OK)
		return NULL;
	return c;
}

START_TEST(database_config_forms)
{
	struct config *c;
	struct store *st = NULL;
	char json[256], *err = NULL;

	snprintf(json, sizeof(json), "{\"postgres\": \"host=127.0.0.1 "
	    "port=%d user=jitd dbname=jitd_db\"}", pgfix_port(pg));
	c = load_cfg(json, &err);
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq(db_target_kind(c->database), DB_PG);
	ck_assert_msg(store_open(c->database, 1, NULL, &st, &err) == JIT_OK,
	    "%s", err);
	store_close(st);
	config_unref(c);

	c = load_cfg("\"sqlite:/var/lib/jitd/jitd.db\"", &err);
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_str_eq(c->database, "/var/lib/jitd/jitd.db");
	config_unref(c);

	ck_assert_ptr_null(load_cfg("\"postgres:host=x\"", &err));
	ck_assert_msg(strstr(err, "postgresql://") != NULL, "%s", err);
	ck_assert_ptr_null(load_cfg("{\"postgres\": 5}", &err));
	ck_assert_msg(strstr(err, "\"database\"") != NULL, "%s", err);
	ck_assert_ptr_null(load_cfg("{\"mysql\": \"x\"}", &err));
	free(err);
}
END_TEST

static Suite *
pg_db_suite(void)
{
	Suite *s = suite_create("pg_db");
	TCase *tc = tcase_create("db");

	tcase_add_unchecked_fixture(tc, cluster_up, cluster_down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, write_lock_then_fresh_snapshot);
	tcase_add_test(tc, empty_blob_is_not_null);
	tcase_add_test(tc, commit_of_failed_tx_fails);
	tcase_add_test(tc, foreign_database_untouched);
	tcase_add_test(tc, database_config_forms);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	const char *why;
	int failed;

	if (!pgfix_available(&why)) {
		printf("check_pg_db: skipped: %s\n", why);
		return EXIT_SUCCESS;
	}
	sr = srunner_create(pg_db_suite());
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
