/* Several jitd replicas on one database, for tests (see replset.h). */
#include <sys/wait.h>

#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "tests/lib/http.h"
#include "tests/lib/pgfix.h"
#include "tests/lib/replset.h"
#include "tests/lib/testutil.h"

#define RS_START_TIMEOUT_S	60
#define RS_STOP_TIMEOUT_S	30
#define TOTP_PERIOD_S		30

static void
pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void
patch_config(const char *cfg, json_t *patch)
{
	json_t *c = json_load_file(cfg, 0, NULL);

	ck_assert_msg(c != NULL, "cannot read %s", cfg);
	ck_assert_int_eq(json_object_update(c, patch), 0);
	ck_assert_int_eq(json_dump_file(c, cfg, JSON_INDENT(2)), 0);
	json_decref(c);
}

void
rs_init(struct replset *rs, const char *tag, const char *database,
    const char *config_patch)
{
	char *argv[] = { NULL, "init", NULL, "--database", NULL, NULL };
	struct tu_out o;
	json_t *p;

	memset(rs, 0, sizeof(*rs));
	rs->tmp = tu_mkdtemp(tag);
	rs->jitd = tu_bin("jitd");
	rs->r[0].dir = tu_path(rs->tmp, "r0");
	rs->r[0].cfg = tu_path(rs->r[0].dir, "jitd.json");
	rs->r[0].log = tu_path(rs->tmp, "jitd-0.log");
	rs->n = 1;
	argv[0] = rs->jitd;
	argv[2] = rs->r[0].dir;
	if (database != NULL) {
		rs->database = strdup(database);
		argv[4] = rs->database;
	} else
		argv[3] = NULL;
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 120, &o), 0);
	ck_assert_msg(o.status == 0, "jitd init%s%s: %s", database != NULL ?
	    " --database " : "", database != NULL ? database : "", o.err);
	tu_out_free(&o);
	if (config_patch != NULL) {
		p = json_loads(config_patch, 0, NULL);
		ck_assert_msg(json_is_object(p), "bad config patch");
		patch_config(rs->r[0].cfg, p);
		json_decref(p);
	}
}

void
rs_put_file(struct replset *rs, const char *name, const char *data)
{
	char *p = tu_path(rs->r[0].dir, name);

	tu_write_file(p, data, strlen(data), 0600);
	free(p);
}

struct rs_user *
rs_user(struct replset *rs, const char *name)
{
	int i;

	for (i = 0; i < rs->nusers; i++)
		if (strcmp(rs->users[i].name, name) == 0)
			return &rs->users[i];
	ck_abort_msg("no user %s", name);
	return NULL;
}

struct add_job {
	struct replset	*rs;
	char		*pwfile;
	char		 spec[128];	/* "name:groups" */
	struct rs_user	*u;
	char		 err[512];
};

static void *
add_one(void *arg)
{
	struct add_job *j = arg;
	char *groups = strchr(j->spec, ':');
	char *argv[] = { j->rs->jitd, "-c", j->rs->r[0].cfg, "user", "add",
	    j->spec, "--groups", NULL, "--password-file", j->pwfile, NULL };
	struct tu_out o;
	const char *s;

	*groups++ = '\0';
	argv[7] = groups;
	memset(j->u, 0, sizeof(*j->u));
	memcpy(j->u->name, j->spec, strlen(j->spec) + 1);	/* checked */
	if (tu_run(argv, NULL, NULL, 60, &o) != 0) {
		snprintf(j->err, sizeof(j->err), "cannot run jitd");
		return NULL;
	}
	if (o.status != 0 || (s = strstr(o.out, "totp_secret: ")) == NULL ||
	    sscanf(s, "totp_secret: %63s", j->u->b32) != 1)
		snprintf(j->err, sizeof(j->err), "user add %s: %s", j->spec,
		    o.err);
	tu_out_free(&o);
	return NULL;
}

void
rs_add_users(struct replset *rs, const char *const *specs)
{
	enum { PAR = 2 };
	struct add_job j[PAR];
	pthread_t th[PAR];
	char *pwf = tu_path(rs->tmp, "pw");
	int i, k, n;

	tu_write_file(pwf, RS_PASSWORD "\n", strlen(RS_PASSWORD) + 1, 0600);
	for (i = 0; specs[i] != NULL; i += n) {
		for (n = 0; n < PAR && specs[i + n] != NULL; n++) {
			ck_assert_int_lt(rs->nusers + n, RS_USERS_MAX);
			ck_assert_ptr_nonnull(strchr(specs[i + n], ':'));
			ck_assert_uint_lt(strcspn(specs[i + n], ":"),
			    sizeof(rs->users[0].name));
			memset(&j[n], 0, sizeof(j[n]));
			j[n].rs = rs;
			j[n].pwfile = pwf;
			snprintf(j[n].spec, sizeof(j[n].spec), "%s",
			    specs[i + n]);
			j[n].u = &rs->users[rs->nusers + n];
			ck_assert_int_eq(pthread_create(&th[n], NULL, add_one,
			    &j[n]), 0);
		}
		for (k = 0; k < n; k++) {
			pthread_join(th[k], NULL);
			ck_assert_msg(j[k].err[0] == '\0', "%s", j[k].err);
		}
		rs->nusers += n;
	}
	free(pwf);
}

void
rs_add_user(struct replset *rs, const char *name, const char *groups)
{
	char spec[128];
	const char *specs[] = { spec, NULL };

	snprintf(spec, sizeof(spec), "%s:%s", name, groups);
	rs_add_users(rs, specs);
}

void
rs_replicate(struct replset *rs, int n)
{
	char listen[64], name[32];
	struct tu_out o;
	json_t *p;
	int i, k;

	ck_assert_int_le(n, RS_MAX);
	ck_assert_msg(n == 1 || rs->database != NULL, "replicas of one "
	    "sqlite file");
	for (i = 1; i < n; i++) {
		char *argv[] = { "cp", "-a", rs->r[0].dir, NULL, NULL };

		snprintf(name, sizeof(name), "r%d", i);
		rs->r[i].dir = tu_path(rs->tmp, name);
		rs->r[i].cfg = tu_path(rs->r[i].dir, "jitd.json");
		snprintf(name, sizeof(name), "jitd-%d.log", i);
		rs->r[i].log = tu_path(rs->tmp, name);
		argv[3] = rs->r[i].dir;
		ck_assert_int_eq(tu_run(argv, NULL, NULL, 60, &o), 0);
		ck_assert_msg(o.status == 0, "cp: %s", o.err);
		tu_out_free(&o);
	}
	rs->n = n;
	for (i = 0; i < n; i++) {
		/* Distinct ports, even if the kernel hands one out twice. */
		do {
			rs->r[i].port = tu_free_port();
			for (k = 0; k < i; k++)
				if (rs->r[k].port == rs->r[i].port)
					break;
		} while (k < i);
		snprintf(listen, sizeof(listen), "127.0.0.1:%d",
		    rs->r[i].port);
		p = json_pack("{s:s}", "listen", listen);
		patch_config(rs->r[i].cfg, p);
		json_decref(p);
	}
}

static int
log_has(const struct rs_replica *r, const char *text)
{
	char *log = tu_read_file(r->log, NULL);
	int found = tu_contains(log, text);

	free(log);
	return found;
}

void
rs_start(struct replset *rs, int from, int to)
{
	int i, w;

	ck_assert(from >= 0 && to <= rs->n && from < to);
	for (i = from; i < to; i++) {
		char *argv[] = { rs->jitd, "-c", rs->r[i].cfg, "serve", NULL };

		ck_assert_int_eq(rs->r[i].pid, 0);
		rs->r[i].pid = tu_spawn(argv, NULL, rs->r[i].log);
	}
	for (i = from; i < to; i++) {
		/* Our jitd answers on the port, not something else. */
		for (w = 0; w < RS_START_TIMEOUT_S * 10; w++) {
			if (log_has(&rs->r[i], "listening on") &&
			    tu_wait_port(rs->r[i].port, 1) == 0)
				break;
			ck_assert_msg(waitpid(rs->r[i].pid, NULL, WNOHANG) == 0,
			    "replica %d exited: %s", i,
			    tu_read_file(rs->r[i].log, NULL));
			pause_ms(100);
		}
		ck_assert_msg(w < RS_START_TIMEOUT_S * 10, "replica %d did not "
		    "start: %s", i, tu_read_file(rs->r[i].log, NULL));
		rs->r[i].up = 1;
	}
}

void
rs_stop(struct replset *rs, int i)
{
	struct rs_replica *r = &rs->r[i];
	char *log;
	int st = 0, w;

	ck_assert_int_gt(r->pid, 0);
	r->up = 0;
	kill(r->pid, SIGTERM);
	for (w = 0; w < RS_STOP_TIMEOUT_S * 10; w++) {
		if (waitpid(r->pid, &st, WNOHANG) == r->pid)
			break;
		pause_ms(100);
	}
	if (w == RS_STOP_TIMEOUT_S * 10) {
		kill(r->pid, SIGKILL);
		waitpid(r->pid, &st, 0);
	}
	r->pid = 0;
	log = tu_read_file(r->log, NULL);
	ck_assert_msg(!tu_contains(log, "Sanitizer") &&
	    !tu_contains(log, "runtime error:"), "replica %d: sanitizer "
	    "report: %s", i, log);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "replica %d did "
	    "not stop cleanly on SIGTERM (status %d): %s", i, st, log);
	free(log);
}

void
rs_kill(struct replset *rs, int i)
{
	struct rs_replica *r = &rs->r[i];

	ck_assert_int_gt(r->pid, 0);
	r->up = 0;
	kill(r->pid, SIGKILL);
	waitpid(r->pid, NULL, 0);
	r->pid = 0;
}

void
rs_free(struct replset *rs)
{
	int i;

	for (i = 0; i < RS_MAX; i++) {
		if (rs->r[i].pid > 0)
			tu_stop(rs->r[i].pid);
		free(rs->r[i].dir);
		free(rs->r[i].cfg);
		free(rs->r[i].log);
	}
	tu_rmdir(rs->tmp);
	free(rs->tmp);
	free(rs->database);
	free(rs->jitd);
	memset(rs, 0, sizeof(*rs));
}

int
rs_http(struct replset *rs, int i, const char *method, const char *path,
    const char *user, const char *body, struct tu_resp *r)
{
	char url[512];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", rs->r[i].port,
	    path);
	return tu_http(method, url, user != NULL ? rs_user(rs, user)->token :
	    NULL, body, body != NULL ? strlen(body) : 0, NULL, NULL, NULL, r);
}

void
rs_call(struct replset *rs, int i, const char *method, const char *path,
    const char *user, const char *body, struct tu_resp *r)
{
	ck_assert_msg(rs_http(rs, i, method, path, user, body, r) == 0,
	    "%s %s on replica %d: no answer", method, path, i);
}

long
rs_login_step(struct replset *rs, int i, const char *name, int64_t step,
    const char *password)
{
	struct rs_user *u = rs_user(rs, name);
	struct tu_resp r;
	char code[7], body[256];
	long st;

	tu_totp(u->b32, step * TOTP_PERIOD_S, code);
	snprintf(body, sizeof(body), "{\"user\":\"%s\",\"password\":\"%s\","
	    "\"otp\":\"%s\"}", name, password != NULL ? password :
	    RS_PASSWORD, code);
	rs_call(rs, i, "POST", "/v1/login", NULL, body, &r);
	st = r.status;
	if (st == 200) {
		snprintf(u->token, sizeof(u->token), "%s", tu_jstr(&r,
		    "token"));
		u->step = step;
	}
	tu_resp_free(&r);
	return st;
}

int64_t
rs_next_step(struct replset *rs, const char *name)
{
	struct rs_user *u = rs_user(rs, name);
	int64_t now = time(NULL) / TOTP_PERIOD_S, s;

	s = u->step + 1 > now ? u->step + 1 : now;
	/* jitd accepts one step either side of its clock. */
	if (s > now + 1) {
		fprintf(stderr, "replset: %s used its codes up to step %lld; "
		    "waiting for the next 30 s step\n", name,
		    (long long)u->step);
		while (time(NULL) / TOTP_PERIOD_S < s - 1)
			pause_ms(200);
	}
	return s;
}

void
rs_login(struct replset *rs, int i, const char *name)
{
	long st = rs_login_step(rs, i, name, rs_next_step(rs, name), NULL);

	ck_assert_msg(st == 200, "login %s on replica %d: %ld", name, i, st);
}

void
rs_jitd(struct replset *rs, int i, struct tu_out *o, ...)
{
	char *argv[32];
	va_list ap;
	size_t n = 0;

	argv[n++] = rs->jitd;
	argv[n++] = "-c";
	argv[n++] = rs->r[i].cfg;
	va_start(ap, o);
	while (n < 31 && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 120, o), 0);
}

char *
rs_sql(struct replset *rs, const char *sql)
{
	struct pgfix_result res;
	struct tu_out o;
	char *err = NULL, *text, *db;
	size_t len = 0, cap = 1, k;
	int i, j;

	if (rs->database == NULL) {
		db = tu_path(rs->r[0].dir, "jitd.db");
		{
			char *argv[] = { "sqlite3", "-batch", "-noheader",
			    "-separator", "\t", db, (char *)sql, NULL };

			ck_assert_int_eq(tu_run(argv, NULL, NULL, 60, &o), 0);
		}
		ck_assert_msg(o.status == 0, "sqlite3: %s: %s", sql, o.err);
		free(o.err);
		free(db);
		return o.out;
	}
	ck_assert_msg(pgfix_query(rs->database, sql, 0, NULL, &res, &err) ==
	    0, "%s", err);
	for (i = 0; i < res.nrows * res.ncols; i++)
		cap += (res.cells[i] != NULL ? strlen(res.cells[i]) : 0) + 1;
	ck_assert_ptr_nonnull(text = malloc(cap));
	for (i = 0; i < res.nrows; i++)
		for (j = 0; j < res.ncols; j++) {
			const char *c = res.cells[i * res.ncols + j];

			k = c != NULL ? strlen(c) : 0;
			memcpy(text + len, c != NULL ? c : "", k);
			len += k;
			text[len++] = j == res.ncols - 1 ? '\n' : '\t';
		}
	text[len] = '\0';
	pgfix_result_free(&res);
	return text;
}

long long
rs_sql_int(struct replset *rs, const char *sql)
{
	char *t = rs_sql(rs, sql), *end;
	long long v;

	v = strtoll(t, &end, 10);
	ck_assert_msg(end != t || *t == '\0' || *t == '\n', "%s: not a "
	    "number: %s", sql, t);
	free(t);
	return v;
}

long
rs_audit_verify(struct replset *rs)
{
	static const char intact[] = "audit log intact: ";
	struct tu_out o;
	const char *p;
	long n;

	rs_jitd(rs, 0, &o, "audit", "verify", NULL);
	ck_assert_msg(o.status == 0 && (p = strstr(o.out, intact)) != NULL,
	    "audit verify: %s %s", o.out, o.err);
	n = strtol(p + strlen(intact), NULL, 10);
	fprintf(stderr, "%s", o.out);
	tu_out_free(&o);
	return n;
}

int
rs_transitions(struct replset *rs, json_int_t id)
{
	char sql[256], *rows, *line, *save, *tab;
	json_t *d;
	int n = 0;

	snprintf(sql, sizeof(sql), "SELECT CAST(details AS TEXT) FROM audit "
	    "WHERE action = 'request.approve' AND outcome = 'ok' AND "
	    "target = 'request:%lld'", (long long)id);
	rows = rs_sql(rs, sql);
	for (line = strtok_r(rows, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if ((tab = strchr(line, '\t')) != NULL)
			*tab = '\0';
		ck_assert_ptr_nonnull(d = json_loads(line, 0, NULL));
		n += json_is_true(json_object_get(d, "transition"));
		json_decref(d);
	}
	free(rows);
	return n;
}

void
rs_final_checks(struct replset *rs)
{
	long long n, lo, hi;
	char *rows, *line, *save;
	int i;

	for (i = 0; i < rs->n; i++)
		if (rs->r[i].pid > 0)
			rs_stop(rs, i);
	n = rs_audit_verify(rs);
	ck_assert_int_eq(rs_sql_int(rs, "SELECT count(*) FROM audit"), n);
	lo = rs_sql_int(rs, "SELECT min(seq) FROM audit");
	hi = rs_sql_int(rs, "SELECT max(seq) FROM audit");
	ck_assert_msg(lo == 1 && hi == n, "audit seq %lld..%lld for %lld rows",
	    lo, hi, n);
	ck_assert_int_eq(rs_sql_int(rs, "SELECT count(*) FROM requests r "
	    "WHERE r.approvals <> (SELECT count(*) FROM votes v WHERE "
	    "v.request_id = r.id AND v.decision = 'approve') OR r.approvals > "
	    "r.approvals_required"), 0);
	rows = rs_sql(rs, "SELECT id FROM requests WHERE approvals > 0");
	for (line = strtok_r(rows, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		ck_assert_msg(rs_transitions(rs, atoll(line)) <= 1, "request %s "
		    "approved twice", line);
	free(rows);
}

int
rs_want_postgres(const char **why)
{
	const char *e = getenv("JIT_TEST_DB");

	*why = NULL;
	if (e != NULL && strcmp(e, "sqlite") == 0) {
		*why = "JIT_TEST_DB=sqlite";
		return 0;
	}
	return 1;
}

static char *suite_tmp, *suite_old_tmpdir;

struct pgfix *
rs_suite_up(const char *tag)
{
	struct pgfix *pg = NULL;
	const char *why, *old = getenv("TMPDIR");
	char *err = NULL;

	if (rs_want_postgres(&why)) {
		ck_assert_msg(pgfix_available(&why), "%s", why);
		ck_assert_msg((pg = pgfix_start(&err)) != NULL, "%s", err);
	} else
		fprintf(stderr, "%s: NOT on PostgreSQL: %s; running on sqlite "
		    "with one replica and no kills\n", tag, why);
	/* After the cluster, whose account cannot enter this directory. */
	suite_old_tmpdir = old != NULL ? strdup(old) : NULL;
	suite_tmp = tu_mkdtemp(tag);
	setenv("TMPDIR", suite_tmp, 1);
	return pg;
}

void
rs_suite_down(struct pgfix *pg)
{
	pgfix_stop(pg);
	if (suite_old_tmpdir != NULL)
		setenv("TMPDIR", suite_old_tmpdir, 1);
	else
		unsetenv("TMPDIR");
	tu_rmdir(suite_tmp);
	free(suite_tmp);
	free(suite_old_tmpdir);
	suite_tmp = suite_old_tmpdir = NULL;
}
