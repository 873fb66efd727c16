/*
 * The jit command line driven as a user's script would: the real bin/jit
 * against a broker running in this process.  Login and the session files,
 * roles, requests with --wait, approvals from another user, the MFA
 * step-up retry, the audit table, grants, export and offline verify,
 * logout, and --help everywhere.
 */
#include <sys/stat.h>

#include <sys/wait.h>

#include <check.h>
#include <signal.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "broker/instance.h"
#include "broker/serve.h"
#include "common/clock.h"
#include "common/err.h"
#include "tests/lib/instdb.h"
#include "tests/lib/http.h"
#include "tests/lib/testutil.h"

#define PW "correct horse battery"

static volatile int64_t fake_now;
static char *tmp, *inst, *cfgpath, *url, *jit, *pwfile;
static char alice_b32[64], bob_b32[64];
static struct server *srv;

static const char roles_json[] =
"[{\"name\":\"web\",\"description\":\"web hosts\","
"  \"ssh\":{\"principals\":[\"webadmin\"]},"
"  \"requesters\":[\"group:eng\"],\"approvers\":[\"group:sre\"],"
"  \"approvals_required\":1,\"max_duration\":\"1h\",\"require_reason\":true}]";

static int64_t
fake_clock(void)
{
	return fake_now;
}

static void
add_user(const char *name, const char *groups, char *b32)
{
	char *jitd = tu_bin("jitd");
	char *argv[] = { jitd, "-c", cfgpath, "user", "add", (char *)name,
	    "--groups", (char *)groups, "--password-file", pwfile, NULL };
	struct tu_out o;
	const char *s;

	ck_assert_int_eq(tu_run(argv, NULL, NULL, 60, &o), 0);
	ck_assert_msg(o.status == 0, "user add: %s", o.err);
	ck_assert_ptr_nonnull(s = strstr(o.out, "totp_secret: "));
	ck_assert_int_eq(sscanf(s, "totp_secret: %63s", b32), 1);
	tu_out_free(&o);
	free(jitd);
}

/* Runs bin/jit as the user whose session lives in home/<user>. */
static struct tu_out
run_as(const char *user, ...)
{
	char home[512];
	struct tu_out o;
	va_list ap;
	int r;

	snprintf(home, sizeof(home), "%s/home/%s", tmp, user);
	va_start(ap, user);
	r = tu_jitv(home, url, 120, ap, &o);
	va_end(ap);
	ck_assert_int_eq(r, 0);
	return o;
}

static void
login(const char *user, const char *b32)
{
	struct tu_out o;
	char code[7];

	tu_totp(b32, fake_now, code);
	o = run_as(user, "login", "--user", user, "--password-file", pwfile,
	    "--otp", code, NULL);
	ck_assert_msg(o.status == 0, "login %s: %s", user, o.err);
	ck_assert_str_eq(o.out, "");	/* quiet on success */
	tu_out_free(&o);
}

static void
setup(void)
{
	json_t *c;
	char *err = NULL, listen[64];
	int port = tu_free_port();

	tmp = tu_mkdtemp("cli");
	inst = tu_path(tmp, "inst");
	cfgpath = tu_path(inst, "jitd.json");
	pwfile = tu_path(tmp, "pw");
	jit = tu_bin("jit");
	tu_write_file(pwfile, PW "\n", strlen(PW) + 1, 0600);
	ck_assert_msg(tu_instance_create(inst, &err) == JIT_OK, "%s", err);
	c = json_load_file(cfgpath, 0, NULL);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	json_object_set_new(c, "listen", json_string(listen));
	json_object_set_new(c, "roles", json_loads(roles_json, 0, NULL));
	json_object_set_new(c, "auditors", json_pack("[s]", "group:sre"));
	ck_assert_int_eq(json_dump_file(c, cfgpath, JSON_INDENT(2)), 0);
	json_decref(c);
	add_user("alice", "eng", alice_b32);
	add_user("bob", "sre", bob_b32);
	fake_now = (time(NULL) / 30) * 30 + 5;
	jit_clock_set(fake_clock);
	ck_assert_msg(serve_open(cfgpath, NULL, &srv, &err) == JIT_OK, "%s",
	    err);
	if (asprintf(&url, "http://127.0.0.1:%d", port) == -1)
		abort();
	login("alice", alice_b32);
	login("bob", bob_b32);
}

static void
teardown(void)
{
	serve_close(srv);
	jit_clock_set(NULL);
	tu_rmdir(tmp);
	free(tmp);
	free(inst);
	free(cfgpath);
	free(url);
	free(jit);
	free(pwfile);
}

START_TEST(login_session_files)
{
	struct stat st;
	struct tu_out o;
	char path[512], code[7];

	snprintf(path, sizeof(path), "%s/home/alice", tmp);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/home/alice/session.json", tmp);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	o = run_as("alice", "whoami", NULL, NULL, NULL, NULL, NULL, NULL);
	ck_assert_int_eq(o.status, 0);
	ck_assert(tu_contains(o.out, "alice (eng)"));
	tu_out_free(&o);
	o = run_as("alice", "whoami", "--json", NULL, NULL, NULL, NULL, NULL);
	ck_assert(tu_contains(o.out, "\"user\": \"alice\""));
	tu_out_free(&o);
	/* A wrong password: exit 1, a message, no session for carol. */
	tu_totp(alice_b32, fake_now + 30, code);
	{
		char *bad = tu_path(tmp, "bad");

		tu_write_file(bad, "wrong password!!\n", 17, 0600);
		o = run_as("carol", "login", "--user", "alice",
		    "--password-file", bad, "--otp", code, NULL);
		ck_assert_int_eq(o.status, 1);
		ck_assert(tu_contains(o.err, "login failed"));
		ck_assert(!tu_contains(o.err, "wrong password!!"));
		tu_out_free(&o);
		free(bad);
	}
	snprintf(path, sizeof(path), "%s/home/carol/session.json", tmp);
	ck_assert_int_ne(stat(path, &st), 0);
	/* Logout: the token no longer works, the file is gone. */
	o = run_as("alice", "logout", NULL, NULL, NULL, NULL, NULL, NULL);
	ck_assert_int_eq(o.status, 0);
	tu_out_free(&o);
	o = run_as("alice", "whoami", NULL, NULL, NULL, NULL, NULL, NULL);
	ck_assert_int_eq(o.status, 1);
	ck_assert(tu_contains(o.err, "jit login"));
	tu_out_free(&o);
}
END_TEST

/*
 * Starts alice's `jit request --wait` in the background (from this
 * thread), its output in files; finish_wait() collects it.
 */
struct waiter {
	pid_t		 pid;
	char		*out, *err;
	int		 status;
};

static void
start_wait(struct waiter *w)
{
	char home[512], urlenv[256], *log;
	char *env[] = { home, urlenv, NULL };
	char *argv[] = { jit, "request", "web", "--for", "20m", "--reason",
	    "deploy hotfix", "--wait", NULL };

	snprintf(home, sizeof(home), "JIT_HOME=%s/home/alice", tmp);
	snprintf(urlenv, sizeof(urlenv), "JIT_URL=%s", url);
	log = tu_path(tmp, "wait.log");
	w->pid = tu_spawn(argv, env, log);
	free(log);
}

static void
finish_wait(struct waiter *w)
{
	char *log = tu_path(tmp, "wait.log");
	int st, i;

	for (i = 0; i < 300; i++) {
		if (waitpid(w->pid, &st, WNOHANG) == w->pid)
			break;
		usleep(100000);
	}
	if (i == 300) {
		kill(w->pid, SIGKILL);
		waitpid(w->pid, &st, 0);
	}
	w->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	w->out = tu_read_file(log, NULL);
	w->err = w->out;
	free(log);
}

/* Polls bob's approvals until one shows up; returns its id. */
static long
first_approvable(void)
{
	struct tu_out o;
	long id = 0;
	int i;

	for (i = 0; i < 100 && id == 0; i++) {
		o = run_as("bob", "approvals", "--json", NULL, NULL, NULL, NULL,
		    NULL);
		if (o.status == 0) {
			json_t *j = json_loads(o.out, 0, NULL);

			if (json_array_size(json_object_get(j, "requests")) > 0)
				id = (long)json_integer_value(json_object_get(
				    json_array_get(json_object_get(j,
				    "requests"), 0), "id"));
			json_decref(j);
		}
		tu_out_free(&o);
		if (id == 0)
			usleep(100000);
	}
	return id;
}

START_TEST(request_wait_approve)
{
	struct waiter w;
	struct tu_out o;
	char ids[32];
	long id;

	o = run_as("alice", "roles", NULL, NULL, NULL, NULL, NULL, NULL);
	ck_assert_int_eq(o.status, 0);
	ck_assert(tu_contains(o.out, "web"));
	ck_assert(tu_contains(o.out, "request"));
	tu_out_free(&o);
	start_wait(&w);
	ck_assert_int_gt(id = first_approvable(), 0);
	snprintf(ids, sizeof(ids), "%ld", id);
	o = run_as("bob", "approve", ids, "--comment", "ship it", NULL, NULL,
	    NULL);
	ck_assert_msg(o.status == 0, "%s", o.err);
	ck_assert(tu_contains(o.out, "approved"));
	tu_out_free(&o);
	finish_wait(&w);
	ck_assert_msg(w.status == 0, "wait: %d %s", w.status, w.out);
	ck_assert(tu_contains(w.out, "bob approved: ship it"));
	ck_assert(tu_contains(w.out, "request 1 approved"));
	free(w.out);
	o = run_as("alice", "status", ids, NULL, NULL, NULL, NULL, NULL);
	ck_assert(tu_contains(o.out, "approved"));
	ck_assert(tu_contains(o.out, "bob approve: ship it"));
	tu_out_free(&o);
	o = run_as("alice", "requests", NULL, NULL, NULL, NULL, NULL, NULL);
	ck_assert(tu_contains(o.out, "deploy hotfix"));
	tu_out_free(&o);
	/* bob revokes; a second approve is refused with the reason. */
	o = run_as("bob", "approve", ids, NULL, NULL, NULL, NULL, NULL);
	ck_assert_int_eq(o.status, 1);
	ck_assert(tu_contains(o.err, "no longer pending"));
	tu_out_free(&o);
	o = run_as("bob", "revoke", ids, NULL, NULL, NULL, NULL, NULL);
	ck_assert_int_eq(o.status, 0);
	tu_out_free(&o);
}
END_TEST

START_TEST(denied_wait_and_stepup)
{
	struct waiter w;
	struct tu_out o;
	char ids[32], code[7];
	long id;

	start_wait(&w);
	ck_assert_int_gt(id = first_approvable(), 0);
	snprintf(ids, sizeof(ids), "%ld", id);
	o = run_as("bob", "deny", ids, "--comment", "not now", NULL, NULL,
	    NULL);
	ck_assert_int_eq(o.status, 0);
	tu_out_free(&o);
	finish_wait(&w);
	ck_assert_msg(w.status == 1, "wait: %d %s", w.status, w.out);
	ck_assert(tu_contains(w.out, "request 1 denied"));
	free(w.out);
	/* 20 minutes later MFA is stale: --otp steps up and retries. */
	fake_now += 20 * 60;
	o = run_as("alice", "request", "web", "--for", "10m", "--reason", "x",
	    "--json", NULL);
	ck_assert_int_eq(o.status, 1);	/* no terminal, no --otp */
	ck_assert(tu_contains(o.err, "one-time code"));
	tu_out_free(&o);
	tu_totp(alice_b32, fake_now, code);
	{
		char home[512], urlenv[256];
		char *env[] = { home, urlenv, NULL };
		char *argv[] = { jit, "--otp", code, "request", "web", "--for",
		    "10m", "--reason", "x", "--json", NULL };

		snprintf(home, sizeof(home), "JIT_HOME=%s/home/alice", tmp);
		snprintf(urlenv, sizeof(urlenv), "JIT_URL=%s", url);
		ck_assert_int_eq(tu_run(argv, NULL, env, 60, &o), 0);
	}
	ck_assert_msg(o.status == 0, "%s", o.err);
	ck_assert(tu_contains(o.out, "\"state\": \"pending\""));
	tu_out_free(&o);
}
END_TEST

START_TEST(audit_commands)
{
	struct tu_out o;
	char *exp, *key, *d;
	size_t len;

	o = run_as("alice", "request", "web", "--for", "5m", "--reason",
	    "audit me", "--json", NULL);
	ck_assert_int_eq(o.status, 0);
	tu_out_free(&o);
	o = run_as("bob", "approve", "1", NULL, NULL, NULL, NULL, NULL);
	ck_assert_int_eq(o.status, 0);
	tu_out_free(&o);
	/* Not an auditor. */
	o = run_as("alice", "audit", NULL, NULL, NULL, NULL, NULL, NULL);
	ck_assert_int_eq(o.status, 1);
	ck_assert(tu_contains(o.err, "auditors"));
	tu_out_free(&o);
	o = run_as("bob", "audit", "--actor", "alice", "--since", "1h", NULL,
	    NULL);
	ck_assert_int_eq(o.status, 0);
	ck_assert(tu_contains(o.out, "request.create"));
	ck_assert(tu_contains(o.out, "login"));
	tu_out_free(&o);
	o = run_as("bob", "audit", "--role", "web", NULL, NULL, NULL, NULL);
	ck_assert(tu_contains(o.out, "request.approve"));
	ck_assert(!tu_contains(o.out, " login "));
	tu_out_free(&o);
	o = run_as("bob", "audit", "grants", "--user", "alice", NULL, NULL,
	    NULL);
	ck_assert_int_eq(o.status, 0);
	ck_assert(tu_contains(o.out, "alice held web"));
	ck_assert(tu_contains(o.out, "approve by bob"));
	tu_out_free(&o);
	/* Export, then verify with no broker. */
	o = run_as("bob", "audit", "export", NULL, NULL, NULL, NULL, NULL);
	ck_assert_int_eq(o.status, 0);
	exp = tu_path(tmp, "export.jsonl");
	tu_write_file(exp, o.out, strlen(o.out), 0600);
	tu_out_free(&o);
	key = tu_path(inst, "audit.pub");
	o = run_as("nobody", "audit", "verify", exp, "--key", key, NULL, NULL);
	ck_assert_msg(o.status == 0, "%s %s", o.out, o.err);
	ck_assert(tu_contains(o.out, "signatures verified"));
	tu_out_free(&o);
	/* Without a trusted key the export proves nothing: refused. */
	o = run_as("nobody", "audit", "verify", exp, NULL);
	ck_assert_int_eq(o.status, 1);
	ck_assert(tu_contains(o.out, "NOT verified"));
	tu_out_free(&o);
	d = tu_read_file(exp, &len);
	*strstr(d, "audit me") = 'A';
	tu_write_file(exp, d, len, 0600);
	free(d);
	o = run_as("nobody", "audit", "verify", exp, "--key", key, NULL, NULL);
	ck_assert_int_eq(o.status, 1);
	ck_assert(tu_contains(o.out, "FAILED"));
	tu_out_free(&o);
	free(exp);
	free(key);
}
END_TEST

START_TEST(help_and_usage)
{
	static const char *cmds[] = { "login", "logout", "whoami", "roles",
	    "request", "requests", "status", "cancel", "approvals", "approve",
	    "deny", "revoke", "audit", "cert", "ssh", "server-setup",
	    "krl-refresh" };
	struct tu_out o;
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		o = run_as("alice", cmds[i], "--help", NULL, NULL, NULL, NULL,
		    NULL);
		ck_assert_msg(o.status == 0 && tu_contains(o.out, "usage: jit"),
		    "%s --help: %d %s", cmds[i], o.status, o.err);
		tu_out_free(&o);
	}
	o = run_as("alice", "frobnicate", NULL, NULL, NULL, NULL, NULL, NULL);
	ck_assert_int_eq(o.status, 2);
	tu_out_free(&o);
	o = run_as("alice", "approve", "x", NULL, NULL, NULL, NULL, NULL);
	ck_assert_int_eq(o.status, 2);
	tu_out_free(&o);
	o = run_as("alice", "request", "web", NULL, NULL, NULL, NULL, NULL);
	ck_assert_int_eq(o.status, 2);
	tu_out_free(&o);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("jit");
	SRunner *sr;
	int failed;

	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, login_session_files);
	tcase_add_test(tc, request_wait_approve);
	tcase_add_test(tc, denied_wait_and_stepup);
	tcase_add_test(tc, audit_commands);
	tcase_add_test(tc, help_and_usage);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed == 0 ? 0 : 1;
}
