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
#include "tests/lib/testutil.h"

#define PW "correct horse battery"

static char *tmp, *inst, *cfg, *jitd, *logpath;
static int port;
static pid_t pid;

static struct tu_out
run_jitd(const char *a1, const char *a2, const char *a3, const char *a4)
{
	const char *args[] = { a1, a2, a3, a4 };
	char *argv[12];
	struct tu_out o;
	int n = 0, i;

	argv[n++] = jitd;
	argv[n++] = "-c";
	argv[n++] = cfg;
	for (i = 0; i < 4 && args[i] != NULL; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 120, &o), 0);
	return o;
}

static void
set_config(const char *key, json_t *value)
{
	json_t *c = json_load_file(cfg, 0, NULL);

	ck_assert_ptr_nonnull(c);
	if (value == NULL)
		json_object_del(c, key);
	else
		json_object_set_new(c, key, value);
	ck_assert_int_eq(json_dump_file(c, cfg, JSON_INDENT(2)), 0);
	json_decref(c);
}

static void
add_user(const char *name, char *b32)
{
	char *pwf = tu_path(tmp, "pw");
	char *argv[] = { jitd, "-c", cfg, "user", "add", (char *)name,
	    "--groups", "eng,auditors", "--password-file", pwf, NULL };
	struct tu_out o;
	const char *s;

	tu_write_file(pwf, PW "\n", strlen(PW) + 1, 0600);
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 60, &o), 0);
	ck_assert_msg(o.status == 0, "user add: %s", o.err);
	s = strstr(o.out, "totp_secret: ");
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(sscanf(s, "totp_secret: %63s", b32), 1);
	ck_assert(tu_contains(o.out, "otpauth://totp/jitd:"));
	tu_out_free(&o);
	free(pwf);
}

static void
start(void)
{
	char *argv[] = { jitd, "-c", cfg, "serve", NULL };

	pid = tu_spawn(argv, NULL, logpath);
	ck_assert_msg(tu_wait_port(port, 30) == 0, "jitd did not start: %s",
	    tu_read_file(logpath, NULL));
	/* Something answers on the port: make sure it is our jitd. */
	for (int i = 0; i < 50; i++) {
		char *log = tu_read_file(logpath, NULL);
		int up = tu_contains(log, "listening on");

		free(log);
		if (up)
			break;
		ck_assert_msg(waitpid(pid, NULL, WNOHANG) == 0, "jitd exited: "
		    "%s", tu_read_file(logpath, NULL));
		usleep(100000);
	}
}

/* Stops the daemon and fails if it printed a sanitizer report. */
static void
stop_jitd(void)
{
	char *log;

	tu_stop(pid);
	pid = 0;
	log = tu_read_file(logpath, NULL);
	ck_assert_msg(!tu_contains(log, "Sanitizer") &&
	    !tu_contains(log, "runtime error:"), "sanitizer report: %s", log);
	free(log);
}

static void
setup(void)
{
	struct tu_out o;
	char *argv[4], l[64];

	tmp = tu_mkdtemp("jitd");
	inst = tu_path(tmp, "inst");
	cfg = tu_path(inst, "jitd.json");
	jitd = tu_bin("jitd");
	logpath = tu_path(tmp, "jitd.log");
	argv[0] = jitd;
	argv[1] = "init";
	argv[2] = inst;
	argv[3] = NULL;
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 60, &o), 0);
	ck_assert_msg(o.status == 0, "init: %s", o.err);
	tu_out_free(&o);
	port = tu_free_port();
	snprintf(l, sizeof(l), "127.0.0.1:%d", port);
	set_config("listen", json_string(l));
	pid = 0;
}

static void
teardown(void)
{
	if (pid > 0)
		stop_jitd();
	tu_rmdir(tmp);
	free(tmp);
	free(inst);
	free(cfg);
	free(jitd);
	free(logpath);
}

static long
login(const char *user, const char *b32, int64_t t, char **token)
{
	struct tu_resp r;
	char code[7], body[256], u[128];
	long st;

	tu_totp(b32, t, code);
	snprintf(body, sizeof(body), "{\"user\":\"%s\",\"password\":\"" PW
	    "\",\"otp\":\"%s\"}", user, code);
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/v1/login", port);
	if (tu_http("POST", u, NULL, body, strlen(body), NULL, NULL, NULL,
	    &r) != 0)
		st = -1;
	else
		st = r.status;
	if (token != NULL)
		*token = st == 200 ? strdup(tu_jstr(&r, "token")) : NULL;
	tu_resp_free(&r);
	return st;
}

/* Waits up to 5 s for text to appear in the daemon's log. */
static int
log_wait(const char *text)
{
	char *log;
	int i, found = 0;

	for (i = 0; i < 50 && !found; i++) {
		log = tu_read_file(logpath, NULL);
		found = tu_contains(log, text);
		free(log);
		if (!found)
			usleep(100000);
	}
	return found;
}

START_TEST(init_refuses_existing_instance)
{
	char *argv[] = { jitd, "init", inst, NULL };
	struct tu_out o;
	struct stat st;
	char *p;

	ck_assert_int_eq(tu_run(argv, NULL, NULL, 60, &o), 0);
	ck_assert_int_ne(o.status, 0);
	ck_assert(tu_contains(o.err, "refusing to overwrite"));
	tu_out_free(&o);
	p = tu_path(inst, "ca.key");
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	free(p);
	p = tu_path(inst, "jitd.db");
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 077, 0);
	free(p);
	/* The fresh instance's audit log verifies. */
	o = run_jitd("audit", "verify", NULL, NULL);
	ck_assert_msg(o.status == 0, "%s %s", o.out, o.err);
	ck_assert(tu_contains(o.out, "audit log intact"));
	tu_out_free(&o);
	/* Without a password source and no terminal, user add refuses. */
	o = run_jitd("user", "add", "carol", NULL);
	ck_assert_int_ne(o.status, 0);
	ck_assert(tu_contains(o.err, "--password-file"));
	tu_out_free(&o);
}
END_TEST

START_TEST(strict_config)
{
	char *argv[] = { jitd, "-c", cfg, "serve", NULL };
	struct tu_out o;

	set_config("lisen", json_string("127.0.0.1:1"));
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 30, &o), 0);
	ck_assert_int_ne(o.status, 0);
	ck_assert_msg(tu_contains(o.err, "unknown key \"lisen\""), "%s", o.err);
	tu_out_free(&o);
	set_config("lisen", NULL);
	set_config("listen", json_string("0.0.0.0:1"));
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 30, &o), 0);
	ck_assert_int_ne(o.status, 0);
	ck_assert_msg(tu_contains(o.err, "without TLS"), "%s", o.err);
	tu_out_free(&o);
	set_config("listen", json_string("127.0.0.1:8787"));
	set_config("session_ttl", json_string("8 hours"));
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
	start();
	/* A bad config on SIGHUP is refused; the old one keeps serving. */
	set_config("mfa_max_age", json_string("soon"));
	kill(pid, SIGHUP);
	ck_assert(log_wait("keeping the running configuration"));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/healthz", port);
	ck_assert_int_eq(tu_http("GET", url, NULL, NULL, 0, NULL, NULL, NULL,
	    &r), 0);
	ck_assert_int_eq(r.status, 200);
	tu_resp_free(&r);
	/* A good one is applied. */
	set_config("mfa_max_age", json_string("5m"));
	kill(pid, SIGHUP);
	ck_assert(log_wait("configuration reloaded"));
	ck_assert_int_eq(login("alice", b32, time(NULL), NULL), 200);
	/* SIGTERM: clean exit, final checkpoint, chain intact. */
	kill(pid, SIGTERM);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	pid = 0;
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	log = tu_read_file(logpath, NULL);
	/* No secret ever reaches the log. */
	ck_assert(!tu_contains(log, PW));
	ck_assert(!tu_contains(log, b32));
	ck_assert(tu_contains(log, "msg=request"));
	ck_assert_msg(!tu_contains(log, "Sanitizer"), "%s", log);
	free(log);
	o = run_jitd("audit", "verify", NULL, NULL);
	ck_assert_msg(o.status == 0, "%s", o.out);
	tu_out_free(&o);
	/* The reloads and the stop were audited, in order. */
	db = tu_path(inst, "jitd.db");
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
	char *db = tu_path(inst, "jitd.db");
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

	set_config("audit_checkpoint_every", json_integer(5));
	start();
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/login", port);
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
	stop_jitd();
}

static void
expect_tamper(const char *seq)
{
	struct tu_out o = run_jitd("audit", "verify", NULL, NULL);
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
	char *db = tu_path(inst, "jitd.db");
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
	o = run_jitd("audit", "verify", NULL, NULL);
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
	start();
	ck_assert_int_eq(login("alice", b32, time(NULL), &tok), 200);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/audit/export",
	    port);
	ck_assert_int_eq(tu_http("GET", url, tok, NULL, 0, NULL, NULL, NULL,
	    &r), 0);
	ck_assert_int_eq(r.status, 200);
	f = tu_path(tmp, "export.jsonl");
	tu_write_file(f, r.body, r.len, 0600);
	tu_resp_free(&r);
	key = tu_path(inst, "audit.pub");
	{
		char *argv[] = { jitd, "audit", "verify", "--export", f,
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

	s->status = login(s->user, s->b32, time(NULL), NULL);
	return NULL;
}

static void *
storm_noise(void *arg)
{
	volatile int *stop = arg;
	struct tu_resp r;
	char url[128];
	int rc;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/login", port);
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
	char *db = tu_path(inst, "jitd.db");
	pthread_t th[N], noise;
	volatile int stop = 0;
	struct tu_out o;
	int i, ok = 0;

	for (i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "user%d", i);
		add_user(names[i], b32[i]);
	}
	/* Load, not a flood: no login limits (check_abuse tests those). */
	set_config("login_limits", json_pack("{s:i,s:i,s:i}", "ip_burst", 0,
	    "user_burst", 0, "max_concurrent_hashes", 16));
	start();
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
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	pid = 0;
	stop = 1;
	for (i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	pthread_join(noise, NULL);
	/* Restart: the database is whole and the chain verifies. */
	start();
	stop_jitd();
	{
		char *argv[] = { "sqlite3", db, "PRAGMA integrity_check",
		    NULL };

		ck_assert_int_eq(tu_run(argv, NULL, NULL, 30, &o), 0);
		ck_assert_str_eq(o.out, "ok\n");
		tu_out_free(&o);
	}
	o = run_jitd("audit", "verify", NULL, NULL);
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
	char *crt = tu_path(tmp, "tls.crt"), *key = tu_path(tmp, "tls.key");
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
	set_config("tls_cert", json_string(crt));
	set_config("tls_key", json_string(key));
	start();
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/healthz", port);
	ck_assert_int_eq(tu_http("GET", url, NULL, NULL, 0, NULL, NULL, crt,
	    &r), 0);
	ck_assert_int_eq(r.status, 200);
	tu_resp_free(&r);
	/* Plain HTTP to the TLS port gets no answer. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/healthz", port);
	tu_http("GET", url, NULL, NULL, 0, NULL, NULL, NULL, &r);
	ck_assert_int_ne(r.status, 200);
	tu_resp_free(&r);
	free(crt);
	free(key);
}
END_TEST

START_TEST(siem_file)
{
	char *siem = tu_path(tmp, "siem.jsonl"), *d, b32[64];

	set_config("audit_log_file", json_string(siem));
	add_user("alice", b32);
	start();
	ck_assert_int_eq(login("alice", b32, time(NULL), NULL), 200);
	stop_jitd();
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
		char *argv[] = { jitd, (char *)cmds[i][0], (char *)cmds[i][1],
		    NULL };

		ck_assert_int_eq(tu_run(argv, NULL, NULL, 10, &o), 0);
		ck_assert_msg(o.status == 0 && tu_contains(o.out, "usage:"),
		    "%s: %s", cmds[i][0], o.err);
		tu_out_free(&o);
	}
	o = run_jitd("frob", NULL, NULL, NULL);
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
