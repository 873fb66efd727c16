/*
 * jitd as an operator runs it: init, users, serve, SIGHUP reload (good and
 * bad configs), SIGTERM, strict config keys, TLS, the audit log attacked
 * with the sqlite3 shell (edited, deleted, swapped and truncated rows),
 * kill -9 under concurrent logins, and the SIEM file.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "tests/lib/http.h"
#include "tests/lib/jitdproc.h"
#include "tests/lib/testutil.h"

#define PW JP_PASSWORD

static struct jp J;

static void
setup(void)
{
	jp_init(&J, "jitd");
}

static void
teardown(void)
{
	jp_free(&J);
}

static void
add_user(const char *name, char *b32)
{
	jp_add_user(&J, name, "eng,auditors", b32);
}

START_TEST(init_refuses_existing_instance)
{
	char *argv[] = { J.jitd, "init", J.inst, NULL };
	struct tu_out o;
	struct stat st;
	char *p;

	ck_assert_int_eq(tu_run(argv, NULL, NULL, 60, &o), 0);
	ck_assert_int_ne(o.status, 0);
	ck_assert(tu_contains(o.err, "refusing to overwrite"));
	tu_out_free(&o);
	p = tu_path(J.inst, "ca.key");
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	free(p);
	p = tu_path(J.inst, "jitd.db");
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 077, 0);
	free(p);
	/* The fresh instance's audit log verifies. */
	o = jp_run(&J, "audit", "verify", NULL);
	ck_assert_msg(o.status == 0, "%s %s", o.out, o.err);
	ck_assert(tu_contains(o.out, "audit log intact"));
	tu_out_free(&o);
	/* Without a password source and no terminal, user add refuses. */
	o = jp_run(&J, "user", "add", "carol", NULL);
	ck_assert_int_ne(o.status, 0);
	ck_assert(tu_contains(o.err, "--password-file"));
	tu_out_free(&o);
}
END_TEST

START_TEST(strict_config)
{
	char *argv[] = { J.jitd, "-c", J.cfg, "serve", NULL };
	struct tu_out o;

	jp_set_config(&J, "lisen", json_string("127.0.0.1:1"));
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 30, &o), 0);
	ck_assert_int_ne(o.status, 0);
	ck_assert_msg(tu_contains(o.err, "unknown key \"lisen\""), "%s", o.err);
	tu_out_free(&o);
	jp_set_config(&J, "lisen", NULL);
	jp_set_config(&J, "listen", json_string("0.0.0.0:1"));
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 30, &o), 0);
	ck_assert_int_ne(o.status, 0);
	ck_assert_msg(tu_contains(o.err, "without TLS"), "%s", o.err);
	tu_out_free(&o);
	jp_set_config(&J, "listen", json_string("127.0.0.1:8787"));
	jp_set_config(&J, "session_ttl", json_string("8 hours"));
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 30, &o), 0);
	ck_assert_int_ne(o.status, 0);
	ck_assert(tu_contains(o.err, "session_ttl"));
	tu_out_free(&o);
}
END_TEST

START_TEST(reload_and_stop)
{
	char b32[64], *log, url[128], *db;
	struct tu_resp r;
	struct tu_out o;
	int st;

	add_user("alice", b32);
	jp_start(&J);
	/* A bad config on SIGHUP is refused; the old one keeps serving. */
	jp_set_config(&J, "mfa_max_age", json_string("soon"));
	kill(J.pid, SIGHUP);
	ck_assert(jp_log_wait(&J, "keeping the running configuration", 5));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/healthz", J.port);
	ck_assert_int_eq(tu_http("GET", url, NULL, NULL, 0, NULL, NULL, NULL,
	    &r), 0);
	ck_assert_int_eq(r.status, 200);
	tu_resp_free(&r);
	/* A good one is applied. */
	jp_set_config(&J, "mfa_max_age", json_string("5m"));
	kill(J.pid, SIGHUP);
	ck_assert(jp_log_wait(&J, "configuration reloaded", 5));
	ck_assert_int_eq(jp_login(&J, "alice", b32, time(NULL), NULL), 200);
	/* SIGTERM: clean exit, final checkpoint, chain intact. */
	st = jp_term(&J);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	log = tu_read_file(J.logpath, NULL);
	/* No secret ever reaches the log. */
	ck_assert(!tu_contains(log, PW));
	ck_assert(!tu_contains(log, b32));
	ck_assert(tu_contains(log, "msg=request"));
	ck_assert_msg(!tu_contains(log, "Sanitizer"), "%s", log);
	free(log);
	o = jp_run(&J, "audit", "verify", NULL);
	ck_assert_msg(o.status == 0, "%s", o.out);
	tu_out_free(&o);
	/* The reloads and the stop were audited, in order. */
	db = tu_path(J.inst, "jitd.db");
	{
		char *argv[] = { "sqlite3", db, "SELECT action || ':' || "
		    "outcome FROM audit WHERE action LIKE 'config%' OR action "
		    "= 'server.stop' ORDER BY seq", NULL };

		ck_assert_int_eq(tu_run(argv, NULL, NULL, 30, &o), 0);
		ck_assert_msg(tu_contains(o.out, "config.reload:failed\n"
		    "config.reload:ok\nserver.stop:ok"), "%s", o.out);
		tu_out_free(&o);
	}
	free(db);
}
END_TEST

/* Runs SQL on the instance database with the real sqlite3 shell. */
static void
sql(const char *stmt)
{
	char *db = tu_path(J.inst, "jitd.db");
	char *argv[] = { "sqlite3", db, (char *)stmt, NULL };
	struct tu_out o;

	ck_assert_int_eq(tu_run(argv, NULL, NULL, 30, &o), 0);
	ck_assert_msg(o.status == 0, "sqlite3: %s", o.err);
	tu_out_free(&o);
	free(db);
}

/* Makes a log with checkpoints and more events after the last one. */
static void
busy_log(void)
{
	struct tu_resp r;
	char url[128];
	int i;

	jp_set_config(&J, "audit_checkpoint_every", json_integer(5));
	jp_start(&J);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/login", J.port);
	for (i = 0; i < 12; i++) {
		char body[96];

		/* Another name each time: the per-name limit stays out. */
		snprintf(body, sizeof(body), "{\"user\":\"nobody%d\","
		    "\"password\":\"x\",\"otp\":\"1\"}", i);
		ck_assert_int_eq(tu_http("POST", url, NULL, body,
		    strlen(body), NULL, NULL, NULL, &r), 0);
		ck_assert_int_eq(r.status, 401);
		tu_resp_free(&r);
	}
	jp_stop(&J);
}

static void
expect_tamper(const char *seq)
{
	struct tu_out o = jp_run(&J, "audit", "verify", NULL);
	char want[64];

	snprintf(want, sizeof(want), "at seq %s:", seq);
	ck_assert_int_eq(o.status, 1);
	ck_assert_msg(tu_contains(o.out, want), "want %s: %s", want, o.out);
	tu_out_free(&o);
}

START_TEST(tamper_edit_detail)
{
	busy_log();
	sql("UPDATE audit SET details = '{\"ip\":\"10.9.9.9\",\"reason\":"
	    "\"unknown user\"}' WHERE seq = 6");
	expect_tamper("6");
}
END_TEST

START_TEST(tamper_delete_row)
{
	busy_log();
	sql("DELETE FROM audit WHERE seq = 7");
	expect_tamper("7");	/* the missing one */
}
END_TEST

START_TEST(tamper_swap_rows)
{
	busy_log();
	sql("UPDATE audit SET seq = -1 WHERE seq = 8;"
	    "UPDATE audit SET seq = 8 WHERE seq = 9;"
	    "UPDATE audit SET seq = 9 WHERE seq = -1;");
	expect_tamper("8");
}
END_TEST

START_TEST(tamper_truncate_before_checkpoint)
{
	char *db = tu_path(J.inst, "jitd.db");
	char *argv[] = { "sqlite3", db, "SELECT max(seq) FROM "
	    "audit_checkpoints", NULL };
	char stmt[128], seq[32];
	struct tu_out o;
	long cp;

	busy_log();
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 30, &o), 0);
	cp = atol(o.out);
	tu_out_free(&o);
	ck_assert(cp > 3);
	snprintf(stmt, sizeof(stmt), "DELETE FROM audit WHERE seq >= %ld",
	    cp - 2);
	sql(stmt);
	snprintf(seq, sizeof(seq), "%ld", cp);
	expect_tamper(seq);
	free(db);
}
END_TEST

START_TEST(tamper_delete_checkpoints)
{
	struct tu_out o;

	busy_log();
	/* Rewrite a detail, recompute nothing, and drop every signature. */
	sql("DELETE FROM audit_checkpoints");
	o = jp_run(&J, "audit", "verify", NULL);
	ck_assert_int_eq(o.status, 1);
	ck_assert_msg(tu_contains(o.out, "no signed checkpoint"), "%s", o.out);
	tu_out_free(&o);
}
END_TEST

START_TEST(export_verify_offline)
{
	char b32[64], *tok, url[128], *f, *key, *d;
	struct tu_resp r;
	struct tu_out o;
	size_t len;

	add_user("alice", b32);
	jp_start(&J);
	ck_assert_int_eq(jp_login(&J, "alice", b32, time(NULL), &tok), 200);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/audit/export",
	    J.port);
	ck_assert_int_eq(tu_http("GET", url, tok, NULL, 0, NULL, NULL, NULL,
	    &r), 0);
	ck_assert_int_eq(r.status, 200);
	f = tu_path(J.tmp, "export.jsonl");
	tu_write_file(f, r.body, r.len, 0600);
	tu_resp_free(&r);
	key = tu_path(J.inst, "audit.pub");
	{
		char *argv[] = { J.jitd, "audit", "verify", "--export", f,
		    "--key", key, NULL };

		ck_assert_int_eq(tu_run(argv, NULL, NULL, 30, &o), 0);
		ck_assert_msg(o.status == 0, "%s %s", o.out, o.err);
		ck_assert(tu_contains(o.out, "signatures verified"));
		tu_out_free(&o);
		/* One changed byte and it fails. */
		d = tu_read_file(f, &len);
		*strstr(d, "\"login\"") = '\'';
		tu_write_file(f, d, len, 0600);
		free(d);
		ck_assert_int_eq(tu_run(argv, NULL, NULL, 30, &o), 0);
		ck_assert_int_eq(o.status, 1);
		tu_out_free(&o);
	}
	free(f);
	free(key);
	free(tok);
}
END_TEST

struct storm {
	const char	*user;
	const char	*b32;
	volatile long	 status;
};

static void *
storm_login(void *arg)
{
	struct storm *s = arg;

	s->status = jp_login(&J, s->user, s->b32, time(NULL), NULL);
	return NULL;
}

static void *
storm_noise(void *arg)
{
	volatile int *stop = arg;
	struct tu_resp r;
	char url[128];
	int rc;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/login", J.port);
	while (!*stop) {
		static const char body[] = "{\"user\":\"ghost\","
		    "\"password\":\"x\",\"otp\":\"1\"}";

		rc = tu_http("POST", url, NULL, body, strlen(body), NULL, NULL,
		    NULL, &r);
		tu_resp_free(&r);
		if (rc != 0)
			break;
	}
	return NULL;
}

START_TEST(kill9_under_load)
{
	enum { N = 12 };
	struct storm s[N];
	char names[N][16], b32[N][64], q[256];
	char *db = tu_path(J.inst, "jitd.db");
	pthread_t th[N], noise;
	volatile int stop = 0;
	struct tu_out o;
	int i, ok = 0;

	for (i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "user%d", i);
		add_user(names[i], b32[i]);
	}
	/* Load, not a flood: no login limits (check_abuse tests those). */
	jp_set_config(&J, "login_limits", json_pack("{s:i,s:i,s:i}",
	    "ip_burst", 0, "user_burst", 0, "max_concurrent_hashes", 16));
	jp_start(&J);
	pthread_create(&noise, NULL, storm_noise, (void *)&stop);
	for (i = 0; i < N; i++) {
		s[i].user = names[i];
		s[i].b32 = b32[i];
		s[i].status = 0;
		pthread_create(&th[i], NULL, storm_login, &s[i]);
	}
	/* Kill it once some logins have answered and others are in flight. */
	for (int w = 0; w < 200; w++) {
		int done = 0;

		for (i = 0; i < N; i++)
			done += s[i].status != 0;
		if (done >= N / 3)
			break;
		usleep(20000);
	}
	jp_kill9(&J);
	stop = 1;
	for (i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	pthread_join(noise, NULL);
	/* Restart: the database is whole and the chain verifies. */
	jp_start(&J);
	jp_stop(&J);
	{
		char *argv[] = { "sqlite3", db, "PRAGMA integrity_check",
		    NULL };

		ck_assert_int_eq(tu_run(argv, NULL, NULL, 30, &o), 0);
		ck_assert_str_eq(o.out, "ok\n");
		tu_out_free(&o);
	}
	o = jp_run(&J, "audit", "verify", NULL);
	ck_assert_msg(o.status == 0, "%s", o.out);
	tu_out_free(&o);
	/* Every login that got a 200 is in the audit log. */
	for (i = 0; i < N; i++) {
		char *argv[] = { "sqlite3", db, q, NULL };

		if (s[i].status != 200)
			continue;
		ok++;
		snprintf(q, sizeof(q), "SELECT count(*) FROM audit WHERE "
		    "actor = '%s' AND action = 'login' AND outcome = 'ok'",
		    s[i].user);
		ck_assert_int_eq(tu_run(argv, NULL, NULL, 30, &o), 0);
		ck_assert_msg(strcmp(o.out, "1\n") == 0, "%s: %s", s[i].user,
		    o.out);
		tu_out_free(&o);
	}
	fprintf(stderr, "kill9_under_load: %d of %d logins answered 200 "
	    "before the kill\n", ok, N);
	free(db);
}
END_TEST

START_TEST(tls_listener)
{
	char *crt = tu_path(J.tmp, "tls.crt");
	char *key = tu_path(J.tmp, "tls.key");
	char *argv[] = { "openssl", "req", "-x509", "-newkey", "ec",
	    "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
	    "-out", crt, "-days", "1", "-subj", "/CN=127.0.0.1",
	    "-addext", "subjectAltName=IP:127.0.0.1", NULL };
	struct tu_resp r;
	struct tu_out o;
	char url[128];

	ck_assert_int_eq(tu_run(argv, NULL, NULL, 30, &o), 0);
	ck_assert_int_eq(o.status, 0);
	tu_out_free(&o);
	jp_set_config(&J, "tls_cert", json_string(crt));
	jp_set_config(&J, "tls_key", json_string(key));
	jp_start(&J);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/healthz", J.port);
	ck_assert_int_eq(tu_http("GET", url, NULL, NULL, 0, NULL, NULL, crt,
	    &r), 0);
	ck_assert_int_eq(r.status, 200);
	tu_resp_free(&r);
	/* Plain HTTP to the TLS port gets no answer. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/healthz", J.port);
	tu_http("GET", url, NULL, NULL, 0, NULL, NULL, NULL, &r);
	ck_assert_int_ne(r.status, 200);
	tu_resp_free(&r);
	free(crt);
	free(key);
}
END_TEST

START_TEST(siem_file)
{
	char *siem = tu_path(J.tmp, "siem.jsonl"), *d, b32[64];

	jp_set_config(&J, "audit_log_file", json_string(siem));
	add_user("alice", b32);
	jp_start(&J);
	ck_assert_int_eq(jp_login(&J, "alice", b32, time(NULL), NULL), 200);
	jp_stop(&J);
	d = tu_read_file(siem, NULL);
	ck_assert_ptr_nonnull(d);
	ck_assert(tu_contains(d, "\"action\":\"login\""));
	ck_assert(tu_contains(d, "\"action\":\"server.start\""));
	ck_assert(!tu_contains(d, PW));
	free(d);
	free(siem);
}
END_TEST

START_TEST(help_everywhere)
{
	static const char *cmds[][2] = { { "init", "--help" },
	    { "serve", "--help" }, { "user", "--help" }, { "audit", "--help" },
	    { "--help", NULL } };
	struct tu_out o;
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char *argv[] = { J.jitd, (char *)cmds[i][0], (char *)cmds[i][1],
		    NULL };

		ck_assert_int_eq(tu_run(argv, NULL, NULL, 10, &o), 0);
		ck_assert_msg(o.status == 0 && tu_contains(o.out, "usage:"),
		    "%s: %s", cmds[i][0], o.err);
		tu_out_free(&o);
	}
	o = jp_run(&J, "frob", NULL, NULL);
	ck_assert_int_eq(o.status, 2);
	tu_out_free(&o);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("jitd");
	TCase *tc = tcase_create("daemon");
	SRunner *sr;
	int failed;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, init_refuses_existing_instance);
	tcase_add_test(tc, strict_config);
	tcase_add_test(tc, reload_and_stop);
	tcase_add_test(tc, tamper_edit_detail);
	tcase_add_test(tc, tamper_delete_row);
	tcase_add_test(tc, tamper_swap_rows);
	tcase_add_test(tc, tamper_truncate_before_checkpoint);
	tcase_add_test(tc, tamper_delete_checkpoints);
	tcase_add_test(tc, export_verify_offline);
	tcase_add_test(tc, kill9_under_load);
	tcase_add_test(tc, tls_listener);
	tcase_add_test(tc, siem_file);
	tcase_add_test(tc, help_everywhere);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed == 0 ? 0 : 1;
}
