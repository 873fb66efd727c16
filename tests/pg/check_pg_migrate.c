/*
 * `jitd migrate --from sqlite:PATH --to postgresql://...` (issue 9): a
 * single-node sqlite instance with some history (logins, a request
 * approved and a certificate issued under it, one denied, a failed
 * login, checkpoints) moves into a fresh database of a throwaway
 * PostgreSQL cluster.  `jitd audit verify` passes on the result with the
 * same events, a replica started on it lets the users log in (and still
 * refuses the TOTP code last used on sqlite), shows the old request with
 * its certificate and issues new ones, and the chain goes on verifying.
 *
 * With JIT_TEST_DB=sqlite only the sqlite half runs, and the test says so.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "tests/lib/http.h"
#include "tests/lib/pgfix.h"
#include "tests/lib/replset.h"
#include "tests/lib/testutil.h"

static const char patch[] =
"{\"roles\":["
"{\"name\":\"prod\",\"ssh\":{\"principals\":[\"webadmin\"]},"
" \"requesters\":[\"group:eng\"],\"approvers\":[\"group:sre\"],"
" \"approvals_required\":1,\"max_duration\":\"1h\",\"require_reason\":true}],"
" \"audit_checkpoint_every\":5}";

static struct pgfix *pg;
static struct replset rs;

static void
cluster_up(void)
{
	pg = rs_suite_up("pg_migrate");
}

static void
cluster_down(void)
{
	rs_suite_down(pg);
	pg = NULL;
}

static void
setup(void)
{
	memset(&rs, 0, sizeof(rs));
}

static void
teardown(void)
{
	rs_free(&rs);
}

static json_t *
call(const char *method, const char *path, const char *user,
    const char *body, long want)
{
	struct tu_resp r;
	json_t *j;

	rs_call(&rs, 0, method, path, user, body, &r);
	ck_assert_msg(r.status == want, "%s %s: %ld %s", method, path,
	    r.status, r.body);
	j = json_incref(r.json);
	tu_resp_free(&r);
	return j;
}

static char *
ssh_cert(json_int_t id, const char *pub)
{
	char path[96], body[1024], *serial;
	json_t *j;

	snprintf(path, sizeof(path), "/v1/requests/%lld/ssh-cert",
	    (long long)id);
	snprintf(body, sizeof(body), "{\"public_key\":\"%s\"}", pub);
	j = call("POST", path, "alice", body, 200);
	serial = strdup(json_string_value(json_object_get(j, "serial")));
	json_decref(j);
	return serial;
}

static char *
make_pubkey(void)
{
	char *key = tu_path(rs.tmp, "id"), *pubp = tu_path(rs.tmp, "id.pub");
	char *argv[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
	    key, NULL };
	struct tu_out o;
	char *pub;

	ck_assert_int_eq(tu_run(argv, NULL, NULL, 30, &o), 0);
	ck_assert_int_eq(o.status, 0);
	tu_out_free(&o);
	ck_assert_ptr_nonnull(pub = tu_read_file(pubp, NULL));
	pub[strcspn(pub, "\n")] = '\0';
	free(key);
	free(pubp);
	return pub;
}

START_TEST(migrate_from_sqlite)
{
	char *pub, *serial, *serial2, *uri, *err = NULL, *from, *db, *moved;
	char path[96], sql[256];
	long events, users, events_pg;
	int64_t used;
	json_int_t id, id2;
	struct tu_out o;
	json_t *j, *certs;

	/* A single node on sqlite, with some history. */
	rs_init(&rs, "pgmig", NULL, patch);
	rs_add_user(&rs, "alice", "eng");
	rs_add_user(&rs, "bob", "sre");
	rs_replicate(&rs, 1);
	pub = make_pubkey();
	rs_start(&rs, 0, 1);
	rs_login(&rs, 0, "alice");
	rs_login(&rs, 0, "bob");
	j = call("POST", "/v1/requests", "alice", "{\"role\":\"prod\","
	    "\"reason\":\"disk full\",\"duration\":\"30m\"}", 201);
	id = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	snprintf(path, sizeof(path), "/v1/requests/%lld/approve",
	    (long long)id);
	json_decref(call("POST", path, "bob", "{\"comment\":\"ok\"}", 200));
	serial = ssh_cert(id, pub);
	j = call("POST", "/v1/requests", "alice", "{\"role\":\"prod\","
	    "\"reason\":\"just because\",\"duration\":\"1h\"}", 201);
	id2 = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	snprintf(path, sizeof(path), "/v1/requests/%lld/deny", (long long)id2);
	json_decref(call("POST", path, "bob", "{\"comment\":\"no\"}", 200));
	ck_assert_int_eq(rs_login_step(&rs, 0, "bob", rs_next_step(&rs,
	    "bob"), "wrong password"), 401);
	rs_stop(&rs, 0);
	events = rs_audit_verify(&rs);
	ck_assert_int_eq(rs_sql_int(&rs, "SELECT count(*) FROM audit"),
	    events);
	users = (long)rs_sql_int(&rs, "SELECT count(*) FROM users");
	ck_assert_int_eq(users, 2);

	if (pg == NULL) {
		fprintf(stderr, "migrate_from_sqlite: the migration itself was "
		    "NOT tested (JIT_TEST_DB=sqlite)\n");
		free(serial);
		free(pub);
		return;
	}
	uri = pgfix_createdb(pg, "t_migrate", &err);
	ck_assert_msg(uri != NULL, "%s", err);
	db = tu_path(rs.r[0].dir, "jitd.db");
	if (asprintf(&from, "sqlite:%s", db) == -1)
		abort();
	{
		char *argv[] = { rs.jitd, "migrate", "--from", from, "--to",
		    uri, NULL };

		ck_assert_int_eq(tu_run(argv, NULL, NULL, 120, &o), 0);
		ck_assert_msg(o.status == 0, "jitd migrate: %s %s", o.out,
		    o.err);
		tu_out_free(&o);
	}
	/* The instance now runs on PostgreSQL; the sqlite file is put away. */
	moved = tu_path(rs.r[0].dir, "jitd.db.migrated");
	ck_assert_int_eq(rename(db, moved), 0);
	{
		json_t *c = json_load_file(rs.r[0].cfg, 0, NULL);

		ck_assert_ptr_nonnull(c);
		json_object_set_new(c, "database", json_string(uri));
		ck_assert_int_eq(json_dump_file(c, rs.r[0].cfg, JSON_INDENT(2)),
		    0);
		json_decref(c);
	}
	rs.database = strdup(uri);
	ck_assert_int_eq(rs_audit_verify(&rs), events);
	ck_assert_int_eq(rs_sql_int(&rs, "SELECT count(*) FROM audit"),
	    events);
	ck_assert_int_eq(rs_sql_int(&rs, "SELECT max(seq) FROM audit"),
	    events);
	ck_assert_int_eq(rs_sql_int(&rs, "SELECT count(*) FROM users"), users);
	ck_assert_int_gt(rs_sql_int(&rs, "SELECT count(*) FROM "
	    "audit_checkpoints"), 0);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM certs WHERE "
	    "request_id = %lld", (long long)id);
	ck_assert_int_eq(rs_sql_int(&rs, sql), 1);

	/* A replica on the migrated database. */
	rs_start(&rs, 0, 1);
	used = rs_user(&rs, "alice")->step;
	ck_assert_int_eq(rs_login_step(&rs, 0, "alice", used, NULL), 401);
	rs_login(&rs, 0, "alice");
	rs_login(&rs, 0, "bob");
	snprintf(path, sizeof(path), "/v1/requests/%lld", (long long)id);
	j = call("GET", path, "alice", NULL, 200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "state")),
	    "approved");
	certs = json_object_get(j, "certificates");
	ck_assert_int_eq(json_array_size(certs), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    certs, 0), "serial")), serial);
	json_decref(j);
	snprintf(path, sizeof(path), "/v1/requests/%lld", (long long)id2);
	j = call("GET", path, "bob", NULL, 200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "state")),
	    "denied");
	json_decref(j);
	serial2 = ssh_cert(id, pub);
	ck_assert_str_ne(serial2, serial);
	rs_stop(&rs, 0);
	events_pg = rs_audit_verify(&rs);
	ck_assert_int_gt(events_pg, events);
	ck_assert_int_eq(rs_sql_int(&rs, "SELECT count(*) FROM audit"),
	    events_pg);
	free(serial2);
	free(moved);
	free(from);
	free(db);
	free(uri);
	free(serial);
	free(pub);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("pg_migrate");
	TCase *tc = tcase_create("migrate");
	SRunner *sr;
	int failed;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	tcase_add_unchecked_fixture(tc, cluster_up, cluster_down);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, migrate_from_sqlite);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed == 0 ? 0 : 1;
}
