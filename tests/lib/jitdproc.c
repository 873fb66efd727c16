/* A real bin/jitd for integration tests (see jitdproc.h). */
#include <sys/wait.h>

#include <check.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "tests/lib/jitdproc.h"

#define RUNNING_MAX	8

/* Daemons started and not yet reaped, killed at exit. */
static pid_t running[RUNNING_MAX];
static int atexit_done;

static void
kill_running(void)
{
	int i;

	for (i = 0; i < RUNNING_MAX; i++) {
		if (running[i] > 0) {
			kill(running[i], SIGKILL);
			waitpid(running[i], NULL, 0);
			running[i] = 0;
		}
	}
}

static void
track(pid_t pid, int add)
{
	int i;

	if (!atexit_done) {
		atexit(kill_running);
		atexit_done = 1;
	}
	for (i = 0; i < RUNNING_MAX; i++) {
		if (add && running[i] == 0) {
			running[i] = pid;
			return;
		}
		if (!add && running[i] == pid) {
			running[i] = 0;
			return;
		}
	}
}

void
jp_init(struct jp *j, const char *tag)
{
	char *argv[4], l[64];
	struct tu_out o;

	memset(j, 0, sizeof(*j));
	j->tmp = tu_mkdtemp(tag);
	j->inst = tu_path(j->tmp, "inst");
	j->cfg = tu_path(j->inst, "jitd.json");
	j->db = tu_path(j->inst, "jitd.db");
	j->jitd = tu_bin("jitd");
	j->logpath = tu_path(j->tmp, "jitd.log");
	argv[0] = j->jitd;
	argv[1] = "init";
	argv[2] = j->inst;
	argv[3] = NULL;
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 60, &o), 0);
	ck_assert_msg(o.status == 0, "init: %s", o.err);
	tu_out_free(&o);
	j->port = tu_free_port();
	snprintf(j->base, sizeof(j->base), "http://127.0.0.1:%d", j->port);
	snprintf(l, sizeof(l), "127.0.0.1:%d", j->port);
	jp_set_config(j, "listen", json_string(l));
}

void
jp_free(struct jp *j)
{
	if (j->pid > 0)
		jp_stop(j);
	tu_rmdir(j->tmp);
	free(j->tmp);
	free(j->inst);
	free(j->cfg);
	free(j->db);
	free(j->jitd);
	free(j->logpath);
	memset(j, 0, sizeof(*j));
}

void
jp_set_config(struct jp *j, const char *key, json_t *value)
{
	json_t *c = json_load_file(j->cfg, 0, NULL);

	ck_assert_ptr_nonnull(c);
	if (value == NULL)
		json_object_del(c, key);
	else
		json_object_set_new(c, key, value);
	/* json_dump_file truncates the file in place: its 0600 stays. */
	ck_assert_int_eq(json_dump_file(c, j->cfg, JSON_INDENT(2)), 0);
	json_decref(c);
}

void
jp_add_user(struct jp *j, const char *name, const char *groups, char b32[64])
{
	char *pwf = tu_path(j->tmp, "pw");
	struct tu_out o;
	const char *s;

	tu_write_file(pwf, JP_PASSWORD "\n", strlen(JP_PASSWORD) + 1, 0600);
	o = jp_run(j, "user", "add", name, "--groups", groups,
	    "--password-file", pwf, NULL);
	ck_assert_msg(o.status == 0, "user add: %s", o.err);
	s = strstr(o.out, "totp_secret: ");
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(sscanf(s, "totp_secret: %63s", b32), 1);
	ck_assert(tu_contains(o.out, "otpauth://totp/jitd:"));
	tu_out_free(&o);
	free(pwf);
}

struct tu_out
jp_run(struct jp *j, ...)
{
	char *argv[12], *a;
	struct tu_out o;
	va_list ap;
	int n = 0;

	argv[n++] = j->jitd;
	argv[n++] = "-c";
	argv[n++] = j->cfg;
	va_start(ap, j);
	while ((a = va_arg(ap, char *)) != NULL) {
		ck_assert_int_lt(n, 11);
		argv[n++] = a;
	}
	va_end(ap);
	argv[n] = NULL;
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 120, &o), 0);
	return o;
}

void
jp_start(struct jp *j)
{
	char *argv[] = { j->jitd, "-c", j->cfg, "serve", NULL };
	int i, up = 0;

	ck_assert_int_eq(j->pid, 0);
	j->pid = tu_spawn(argv, NULL, j->logpath);
	track(j->pid, 1);
	ck_assert_msg(tu_wait_port(j->port, 60) == 0, "jitd did not start: "
	    "%s", tu_read_file(j->logpath, NULL));
	/*
	 * Something answers on the port: make sure it is this jitd (the log
	 * may hold the lines of earlier runs; count ours).
	 */
	for (i = 0; i < 600 && !up; i++) {
		char *log = tu_read_file(j->logpath, NULL);
		const char *p = log;
		char want[64];

		snprintf(want, sizeof(want), "(pid %d)", (int)j->pid);
		while (p != NULL && (p = strstr(p, "listening on")) != NULL) {
			const char *e = strchr(p, '\n');

			if (e != NULL && memmem(p, (size_t)(e - p), want,
			    strlen(want)) != NULL)
				up = 1;
			p = e;
		}
		free(log);
		if (up)
			break;
		ck_assert_msg(waitpid(j->pid, NULL, WNOHANG) == 0, "jitd "
		    "exited: %s", tu_read_file(j->logpath, NULL));
		usleep(50000);
	}
	ck_assert_msg(up, "jitd did not say it listens: %s",
	    tu_read_file(j->logpath, NULL));
}

void
jp_stop(struct jp *j)
{
	char *log;

	tu_stop(j->pid);
	track(j->pid, 0);
	j->pid = 0;
	log = tu_read_file(j->logpath, NULL);
	ck_assert_msg(!tu_contains(log, "Sanitizer") &&
	    !tu_contains(log, "runtime error:"), "sanitizer report: %s", log);
	free(log);
}

int
jp_term(struct jp *j)
{
	int st = 0;

	ck_assert_int_gt(j->pid, 0);
	kill(j->pid, SIGTERM);
	ck_assert_int_eq(waitpid(j->pid, &st, 0), j->pid);
	track(j->pid, 0);
	j->pid = 0;
	return st;
}

void
jp_kill9(struct jp *j)
{
	ck_assert_int_gt(j->pid, 0);
	kill(j->pid, SIGKILL);
	waitpid(j->pid, NULL, 0);
	track(j->pid, 0);
	j->pid = 0;
}

int
jp_log_wait(struct jp *j, const char *text, int timeout_s)
{
	char *log;
	int i, found = 0;

	for (i = 0; i < timeout_s * 20 && !found; i++) {
		log = tu_read_file(j->logpath, NULL);
		found = tu_contains(log, text);
		free(log);
		if (!found)
			usleep(50000);
	}
	return found;
}

int
jp_http(struct jp *j, const char *method, const char *path,
    const char *token, const char *body, struct tu_resp *r)
{
	char url[512];

	snprintf(url, sizeof(url), "%s%s", j->base, path);
	return tu_http(method, url, token, body, body != NULL ? strlen(body) :
	    0, NULL, NULL, NULL, r);
}

long
jp_login(struct jp *j, const char *user, const char *b32, int64_t t,
    char **token)
{
	struct tu_resp r;
	char code[7], body[256];
	long st;

	tu_totp(b32, t, code);
	snprintf(body, sizeof(body), "{\"user\":\"%s\",\"password\":\""
	    JP_PASSWORD "\",\"otp\":\"%s\"}", user, code);
	st = jp_http(j, "POST", "/v1/login", NULL, body, &r) != 0 ? -1 :
	    r.status;
	if (token != NULL)
		*token = st == 200 ? strdup(tu_jstr(&r, "token")) : NULL;
	tu_resp_free(&r);
	return st;
}

struct sqlite3 *
jp_db_open(struct jp *j)
{
	sqlite3 *db = NULL;

	ck_assert_msg(sqlite3_open_v2(j->db, &db, SQLITE_OPEN_READONLY,
	    NULL) == SQLITE_OK, "%s: %s", j->db, db != NULL ?
	    sqlite3_errmsg(db) : "cannot open");
	sqlite3_busy_timeout(db, 5000);
	return db;
}

long long
jp_db_int(struct sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long long v = -1;
	int rc;

	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(db));
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	ck_assert_msg(rc == SQLITE_ROW || rc == SQLITE_DONE, "%s: %s", sql,
	    sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return v;
}

void
jp_db_integrity_ok(struct jp *j)
{
	sqlite3 *db = jp_db_open(j);
	sqlite3_stmt *st = NULL;
	const unsigned char *t;

	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1,
	    &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	t = sqlite3_column_text(st, 0);
	ck_assert_msg(t != NULL && strcmp((const char *)t, "ok") == 0,
	    "integrity_check: %s", t != NULL ? (const char *)t : "(null)");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

void
jp_audit_verify_ok(struct jp *j)
{
	struct tu_out o = jp_run(j, "audit", "verify", NULL);

	ck_assert_msg(o.status == 0 && tu_contains(o.out, "audit log intact")
	    && tu_contains(o.out, "signatures verified"), "audit verify "
	    "(%d): %s %s", o.status, o.out, o.err);
	tu_out_free(&o);
}
