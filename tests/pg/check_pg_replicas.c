/*
 * Several jitd replicas on one PostgreSQL database (issue 9): three real
 * `jitd serve` processes made from one `jitd init --database URI`
 * instance, on a throwaway cluster (tests/lib/pgfix.h) started once for
 * the test case and stopped by PID in its unchecked teardown.
 *
 * cluster_guarantees: a TOTP code accepted by one replica is refused by
 * the others, and sent to all of them at once it logs in once; a session
 * from one replica works on the others and a logout on one is refused
 * everywhere at once; failed logins spread over the
 * replicas lock the account; the same approvals sent to two replicas at
 * once count one vote per approver and make exactly one transition.
 *
 * workload_kill_takeover: six clients spread logins, requests,
 * approvals and SSH certificates at random over the replicas; mid-load
 * the replica holding the leader role (expiry sweeper and outbox worker,
 * as its log says) is killed with SIGKILL, and no request to the others
 * fails.  The survivors take over: a 1-second grant expires and is
 * audited once, every webhook is delivered (the first ones slowly, so
 * that a second deliverer would show), checkpoints go on being signed.
 * At the end the audit chain verifies with contiguous sequence numbers,
 * every certificate a client received is recorded once, no request was
 * approved twice, and no webhook went out twice but for one in flight
 * per killed replica.
 *
 * With JIT_TEST_DB=sqlite the same code runs on sqlite with a single
 * replica and no kills (to debug the workload itself), and says so.
 *
 * Replicas run in the test's process group: a test that fails stops
 * without its teardown (check's fork mode), and check then SIGKILLs that
 * group; on success the teardown stops each one by PID.
 */
#include <check.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "tests/lib/hookrx.h"
#include "tests/lib/http.h"
#include "tests/lib/pgfix.h"
#include "tests/lib/replset.h"
#include "tests/lib/testutil.h"

#define NREPL		3
#define WORKERS		6
#define ITERS		6
#define APPROVERS	4
#define POLL_S		30

static const char roles[] =
"\"roles\":["
"{\"name\":\"prod\",\"ssh\":{\"principals\":[\"webadmin\"]},"
" \"requesters\":[\"group:eng\"],\"approvers\":[\"group:sre\"],"
" \"approvals_required\":1,\"max_duration\":\"1h\",\"require_reason\":false},"
"{\"name\":\"quorum2\",\"ssh\":{\"principals\":[\"webadmin\"]},"
" \"requesters\":[\"group:eng\"],\"approvers\":[\"group:sre\"],"
" \"approvals_required\":2,\"max_duration\":\"1h\",\"require_reason\":false},"
"{\"name\":\"auto\",\"ssh\":{\"principals\":[\"webadmin\"]},"
" \"requesters\":[\"group:eng\"],\"approvers\":[\"group:sre\"],"
" \"approvals_required\":0,\"max_duration\":\"1h\",\"require_reason\":false}]";

static struct pgfix *pg;	/* the runner's cluster (unchecked fixture) */
static int on_pg;
static struct replset rs;
static struct hookrx *rx;
static char *pubkey;		/* one SSH public key line for every cert */

static void
pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- fixtures ---- */

static void
cluster_up(void)
{
	pg = rs_suite_up("pg_replicas");
	on_pg = pg != NULL;
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
	rx = NULL;
	pubkey = NULL;
}

static void
teardown(void)
{
	rs_free(&rs);
	hookrx_stop(rx);
	rx = NULL;
	free(pubkey);
}

/* A fresh database on the cluster for this test, or NULL (sqlite). */
static char *
test_database(const char *name)
{
	char *err = NULL, *uri;

	if (!on_pg)
		return NULL;
	uri = pgfix_createdb(pg, name, &err);
	ck_assert_msg(uri != NULL, "%s", err);
	return uri;
}

/*
 * Instance, users ("NAME:GROUPS", NULL-terminated) and replicas, all
 * started; returns how many replicas.
 */
static int
cluster_instance(const char *db, const char *extra, int stagger,
    const char *const *users)
{
	char *patch;
	int n = on_pg ? NREPL : 1;

	if (asprintf(&patch, "{%s,\"sweep_interval\":\"1s\","
	    "\"audit_checkpoint_every\":20,\"threads\":4,\"lockout\":"
	    "{\"max_failures\":3,\"duration\":\"15m\"}%s}", roles,
	    extra != NULL ? extra : "") == -1)
		abort();
	rs_init(&rs, "pgrepl", db, patch);
	free(patch);
	rs_put_file(&rs, "hook.key", "webhook-secret-0123456789abcdef\n");
	rs_add_users(&rs, users);
	rs_replicate(&rs, n);
	/*
	 * Staggered, replica 0 is up (and can take any leader role) before
	 * the others; else all start at the same moment.
	 */
	if (stagger && n > 1) {
		rs_start(&rs, 0, 1);
		rs_start(&rs, 1, n);
	} else
		rs_start(&rs, 0, n);
	return n;
}

/* ---- assertions on the shared database ---- */

static long long count_sql(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static long long
count_sql(const char *fmt, ...)
{
	char sql[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	return rs_sql_int(&rs, sql);
}

/* Creates a request as user on replica i; returns its id. */
static json_int_t
create(int i, const char *user, const char *role, const char *duration,
    const char *state)
{
	struct tu_resp r;
	char body[128];
	json_int_t id;

	snprintf(body, sizeof(body), "{\"role\":\"%s\",\"duration\":\"%s\"}",
	    role, duration);
	rs_call(&rs, i, "POST", "/v1/requests", user, body, &r);
	ck_assert_msg(r.status == 201, "create on %d: %ld %s", i, r.status,
	    r.body);
	ck_assert_str_eq(tu_jstr(&r, "state"), state);
	id = json_integer_value(json_object_get(r.json, "id"));
	tu_resp_free(&r);
	return id;
}

static json_t *
get_request(int i, const char *user, json_int_t id)
{
	struct tu_resp r;
	char path[64];
	json_t *j;

	snprintf(path, sizeof(path), "/v1/requests/%lld", (long long)id);
	rs_call(&rs, i, "GET", path, user, NULL, &r);
	ck_assert_msg(r.status == 200, "%s: %ld %s", path, r.status, r.body);
	j = json_incref(r.json);
	tu_resp_free(&r);
	return j;
}

/* ---- requests sent to several replicas at the same moment ---- */

struct racer {
	pthread_barrier_t	*go;
	int			 replica;
	const char		*user;		/* whose token, or NULL */
	char			 path[64];
	const char		*body;
	long			 status;
};

static void *
race_post(void *arg)
{
	struct racer *rc = arg;
	struct tu_resp r;

	pthread_barrier_wait(rc->go);
	rc->status = rs_http(&rs, rc->replica, "POST", rc->path, rc->user,
	    rc->body, &r) == 0 ? r.status : -1;
	tu_resp_free(&r);
	return NULL;
}

/* Sends the nrc POSTs at once; returns how many got a 200. */
static int
race(struct racer *rc, int nrc)
{
	pthread_t th[2 * APPROVERS];
	pthread_barrier_t go;
	int i, ok = 0;

	ck_assert_int_le(nrc, 2 * APPROVERS);
	pthread_barrier_init(&go, NULL, (unsigned int)nrc);
	for (i = 0; i < nrc; i++) {
		rc[i].go = &go;
		rc[i].status = 0;
		pthread_create(&th[i], NULL, race_post, &rc[i]);
	}
	for (i = 0; i < nrc; i++) {
		pthread_join(th[i], NULL);
		ok += rc[i].status == 200;
	}
	pthread_barrier_destroy(&go);
	return ok;
}

/*
 * Every approver sends the approval of id to two replicas at the same
 * moment; each gets 200 or 409.  Returns how many were accepted.
 */
static int
race_approvals(json_int_t id, int n)
{
	enum { R = 2 * APPROVERS };
	struct racer rc[R];
	char name[R][16];
	int i, ok;

	for (i = 0; i < R; i++) {
		memset(&rc[i], 0, sizeof(rc[i]));
		snprintf(name[i], sizeof(name[i]), "s%d", i / 2);
		rc[i].replica = (i / 2 + i % 2) % n;
		rc[i].user = name[i];
		snprintf(rc[i].path, sizeof(rc[i].path),
		    "/v1/requests/%lld/approve", (long long)id);
	}
	ok = race(rc, R);
	for (i = 0; i < R; i++)
		ck_assert_msg(rc[i].status == 200 || rc[i].status == 409,
		    "%s on replica %d: %ld", rc[i].user, rc[i].replica,
		    rc[i].status);
	return ok;
}

START_TEST(cluster_guarantees)
{
	static const char *const users[] = { "e0:eng", "twin:eng", "sess:eng",
	    "lock:eng", "s0:sre", "s1:sre", "s2:sre", "s3:sre", NULL };
	char *db = test_database("t_guarantees");
	struct tu_resp r;
	json_int_t q1, q2;
	int64_t step;
	json_t *j;
	int n, i;

	n = cluster_instance(db, NULL, 0, users);
	free(db);

	/* A TOTP code accepted on one replica is refused by the others. */
	step = rs_next_step(&rs, "e0");
	ck_assert_int_eq(rs_login_step(&rs, 0, "e0", step, NULL), 200);
	for (i = 1; i < n; i++)
		ck_assert_int_eq(rs_login_step(&rs, i, "e0", step, NULL), 401);
	if (n == 1)
		ck_assert_int_eq(rs_login_step(&rs, 0, "e0", step, NULL), 401);
	/* "wrong or expired code", or "code already used" after a race. */
	ck_assert_int_eq(count_sql("SELECT count(*) FROM audit WHERE actor = "
	    "'e0' AND action = 'login' AND outcome = 'failed' AND "
	    "CAST(details AS TEXT) LIKE '%%%s%%'", "code"), n > 1 ? n - 1 : 1);

	/* The same code sent to every replica at once: one login wins. */
	{
		struct racer rc[NREPL];
		char code[7], body[256];

		tu_totp(rs_user(&rs, "twin")->b32, rs_next_step(&rs, "twin") *
		    30, code);
		snprintf(body, sizeof(body), "{\"user\":\"twin\",\"password\":"
		    "\"" RS_PASSWORD "\",\"otp\":\"%s\"}", code);
		for (i = 0; i < n; i++) {
			memset(&rc[i], 0, sizeof(rc[i]));
			rc[i].replica = i;
			snprintf(rc[i].path, sizeof(rc[i].path), "/v1/login");
			rc[i].body = body;
		}
		ck_assert_int_eq(race(rc, n), 1);
		for (i = 0; i < n; i++)
			ck_assert_msg(rc[i].status == 200 || rc[i].status ==
			    401, "replica %d: %ld", i, rc[i].status);
		ck_assert_int_eq(count_sql("SELECT count(*) FROM audit WHERE "
		    "actor = 'twin' AND action = '%s' AND outcome = 'ok'",
		    "login"), 1);
	}

	/* A session from one replica is good on all; logout ends it on all. */
	rs_login(&rs, 0, "sess");
	for (i = 0; i < n; i++) {
		rs_call(&rs, i, "GET", "/v1/me", "sess", NULL, &r);
		ck_assert_int_eq(r.status, 200);
		ck_assert_str_eq(tu_jstr(&r, "user"), "sess");
		tu_resp_free(&r);
	}
	rs_call(&rs, n - 1, "POST", "/v1/logout", "sess", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	tu_resp_free(&r);
	for (i = 0; i < n; i++) {
		rs_call(&rs, i, "GET", "/v1/me", "sess", NULL, &r);
		ck_assert_msg(r.status == 401, "replica %d after logout: %ld", i,
		    r.status);
		tu_resp_free(&r);
		rs_call(&rs, i, "POST", "/v1/logout", "sess", NULL, &r);
		ck_assert_int_eq(r.status, 401);
		tu_resp_free(&r);
	}

	/* Three wrong passwords, each on another replica, lock the account. */
	step = rs_next_step(&rs, "lock");
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(rs_login_step(&rs, i % n, "lock", step,
		    "wrong password"), 401);
	ck_assert_int_eq(rs_login_step(&rs, 0, "lock", step, NULL), 401);
	ck_assert_int_eq(count_sql("SELECT count(*) FROM audit WHERE actor = "
	    "'lock' AND action = '%s'", "login.locked"), 1);
	ck_assert_int_eq(count_sql("SELECT count(*) FROM audit WHERE actor = "
	    "'lock' AND action = 'login' AND CAST(details AS TEXT) LIKE "
	    "'%%%s%%'", "account locked"), 1);

	/* Racing approvals on different replicas. */
	for (i = 0; i < APPROVERS; i++) {
		char name[16];

		snprintf(name, sizeof(name), "s%d", i);
		rs_login(&rs, i % n, name);
	}
	q2 = create(0, "e0", "quorum2", "10m", "pending");
	q1 = create(n - 1, "e0", "prod", "10m", "pending");
	ck_assert_int_eq(race_approvals(q2, n), 2);
	ck_assert_int_eq(race_approvals(q1, n), 1);
	j = get_request(n > 1 ? 1 : 0, "e0", q2);
	ck_assert_str_eq(json_string_value(json_object_get(j, "state")),
	    "approved");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "approvals")),
	    2);
	ck_assert_int_eq(json_array_size(json_object_get(j, "votes")), 2);
	json_decref(j);
	j = get_request(0, "e0", q1);
	ck_assert_str_eq(json_string_value(json_object_get(j, "state")),
	    "approved");
	ck_assert_int_eq(json_array_size(json_object_get(j, "votes")), 1);
	json_decref(j);
	ck_assert_int_eq(rs_transitions(&rs, q2), 1);
	ck_assert_int_eq(rs_transitions(&rs, q1), 1);
	ck_assert_int_eq(count_sql("SELECT count(*) FROM votes WHERE "
	    "decision = '%s'", "approve"), 3);
	rs_final_checks(&rs);
}
END_TEST

/* ---- the workload ---- */

struct issued {
	char		 serial[48];
	json_int_t	 id;
};

struct worker {
	char		 user[16];
	unsigned int	 seed;
	struct issued	 certs[ITERS];
	int		 ncerts;
	int		 lost;		/* answers lost with a killed replica */
	char		 why[512];	/* the first failure, "" if none */
};

static atomic_int done_ops;

static int
pick(struct worker *w)
{
	int i;

	do
		i = (int)(rand_r(&w->seed) % (unsigned int)rs.n);
	while (!rs.r[i].up);
	return i;
}

/*
 * One call from a worker to a random live replica.  Returns the status of
 * the answer (r to be freed), or 0 when the replica was killed meanwhile
 * and the answer is lost (the caller tries another).  No answer from a
 * replica that is up is a failure: -1, with w->why set.
 */
static long
wcall(struct worker *w, const char *method, const char *path,
    const char *user, const char *body, struct tu_resp *r)
{
	int i = pick(w);

	if (rs_http(&rs, i, method, path, user, body, r) == 0)
		return r->status;
	tu_resp_free(r);
	if (!rs.r[i].up) {
		w->lost++;
		return 0;
	}
	snprintf(w->why, sizeof(w->why), "%s %s on live replica %d: no "
	    "answer", method, path, i);
	return -1;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct tu_resp r;
	char path[96], body[1024], approver[16];
	json_int_t id;
	long st;
	int it, prod, lost;

	for (it = 0; it < ITERS; it++) {
		prod = it % 3 != 2;
		snprintf(body, sizeof(body), "{\"role\":\"%s\",\"duration\":"
		    "\"30m\"}", prod ? "prod" : "auto");
		while ((st = wcall(w, "POST", "/v1/requests", w->user, body,
		    &r)) == 0)
			;
		if (st < 0)
			return NULL;
		if (st != 201 || strcmp(tu_jstr(&r, "state"), prod ?
		    "pending" : "approved") != 0) {
			snprintf(w->why, sizeof(w->why), "create: %ld %s", st,
			    r.body);
			tu_resp_free(&r);
			return NULL;
		}
		id = json_integer_value(json_object_get(r.json, "id"));
		tu_resp_free(&r);
		atomic_fetch_add(&done_ops, 1);
		if (prod) {
			snprintf(approver, sizeof(approver), "s%u",
			    rand_r(&w->seed) % APPROVERS);
			snprintf(path, sizeof(path), "/v1/requests/%lld/approve",
			    (long long)id);
			lost = w->lost;
			while ((st = wcall(w, "POST", path, approver, NULL,
			    &r)) == 0)
				;
			if (st < 0)
				return NULL;
			/* After a lost answer the vote may have counted. */
			if (!(st == 200 && strcmp(tu_jstr(&r, "state"),
			    "approved") == 0) && !(st == 409 && w->lost > lost)) {
				snprintf(w->why, sizeof(w->why), "approve %lld: "
				    "%ld %s", (long long)id, st, r.body);
				tu_resp_free(&r);
				return NULL;
			}
			tu_resp_free(&r);
			atomic_fetch_add(&done_ops, 1);
		}
		snprintf(path, sizeof(path), "/v1/requests/%lld/ssh-cert",
		    (long long)id);
		snprintf(body, sizeof(body), "{\"public_key\":\"%s\"}", pubkey);
		while ((st = wcall(w, "POST", path, w->user, body, &r)) == 0)
			;
		if (st < 0)
			return NULL;
		if (st != 200) {
			snprintf(w->why, sizeof(w->why), "ssh-cert %lld: %ld %s",
			    (long long)id, st, r.body);
			tu_resp_free(&r);
			return NULL;
		}
		snprintf(w->certs[w->ncerts].serial, sizeof(w->certs[0].serial),
		    "%s", tu_jstr(&r, "serial"));
		w->certs[w->ncerts++].id = id;
		tu_resp_free(&r);
		atomic_fetch_add(&done_ops, 1);
	}
	return NULL;
}

static char *
make_pubkey(void)
{
	char *key = tu_path(rs.tmp, "id"), *pubp, *pub;
	char *argv[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
	    key, NULL };
	struct tu_out o;

	ck_assert_int_eq(tu_run(argv, NULL, NULL, 30, &o), 0);
	ck_assert_int_eq(o.status, 0);
	tu_out_free(&o);
	pubp = tu_path(rs.tmp, "id.pub");
	ck_assert_ptr_nonnull(pub = tu_read_file(pubp, NULL));
	pub[strcspn(pub, "\n")] = '\0';
	free(pubp);
	free(key);
	return pub;
}

/* Waits up to POLL_S for the query's integer to reach want. */
static int
poll_sql(const char *sql, long long want)
{
	int i;

	for (i = 0; i < POLL_S * 5; i++) {
		if (rs_sql_int(&rs, sql) >= want)
			return 1;
		pause_ms(200);
	}
	return 0;
}

/*
 * The replica whose log last said it took the sweeper and the outbox
 * worker (broker/serve.c logs each change of leadership), or -1.
 */
static int
leader_replica(void)
{
	static const char on[] = "this replica now runs the expiry sweeper";
	static const char off[] = "another replica runs the expiry sweeper";
	const char *p, *last_on, *last_off;
	char *log;
	int i, found = -1;

	for (i = 0; i < rs.n; i++) {
		if (!rs.r[i].up || (log = tu_read_file(rs.r[i].log, NULL)) ==
		    NULL)
			continue;
		last_on = last_off = NULL;
		for (p = log; (p = strstr(p, on)) != NULL; p++)
			last_on = p;
		for (p = log; (p = strstr(p, off)) != NULL; p++)
			last_off = p;
		if (last_on != NULL && (last_off == NULL || last_off < last_on))
			found = i;
		free(log);
	}
	return found;
}

/* The k-th live replica, round robin. */
static int
live_replica(int k)
{
	int i, up = 0, idx[RS_MAX];

	for (i = 0; i < rs.n; i++)
		if (rs.r[i].up)
			idx[up++] = i;
	ck_assert_int_gt(up, 0);
	return idx[k % up];
}

static int
issue(int i, const char *user, json_int_t id, struct issued *out)
{
	struct tu_resp r;
	char path[96], body[1024];

	snprintf(path, sizeof(path), "/v1/requests/%lld/ssh-cert",
	    (long long)id);
	snprintf(body, sizeof(body), "{\"public_key\":\"%s\"}", pubkey);
	rs_call(&rs, i, "POST", path, user, body, &r);
	ck_assert_msg(r.status == 200, "ssh-cert: %ld %s", r.status, r.body);
	snprintf(out->serial, sizeof(out->serial), "%s", tu_jstr(&r,
	    "serial"));
	out->id = id;
	tu_resp_free(&r);
	return 1;
}

START_TEST(workload_kill_takeover)
{
	enum { MORE = 11, OPS = WORKERS * (ITERS + ITERS * 2 / 3 + ITERS) };
	static const char *const users[] = { "e0:eng", "e1:eng", "e2:eng",
	    "e3:eng", "e4:eng", "e5:eng", "s0:sre", "s1:sre", "s2:sre",
	    "s3:sre", NULL };
	static struct worker w[WORKERS];
	struct issued more[MORE];
	pthread_t th[WORKERS];
	char *db = test_database("t_workload"), extra[256], sql[256], *rows;
	char name[16], line[96];
	unsigned int seed = (unsigned int)time(NULL);
	long long head, outbox;
	int n, i, k, last, kills = 0, lost = 0, got, distinct, victim = -1;
	int leader_known = 0;
	json_int_t g;

	ck_assert_int_eq(sizeof(users) / sizeof(users[0]), WORKERS +
	    APPROVERS + 1);
	ck_assert_ptr_nonnull(rx = hookrx_start());
	snprintf(extra, sizeof(extra), ",\"notify\":[{\"name\":\"hook\","
	    "\"type\":\"webhook\",\"url\":\"http://127.0.0.1:%d/hook\","
	    "\"secret_file\":\"hook.key\",\"insecure_loopback\":true}]",
	    hookrx_port(rx));
	n = cluster_instance(db, extra, 1, users);
	free(db);
	pubkey = make_pubkey();
	fprintf(stderr, "workload_kill_takeover: %d replicas, seed %u\n", n,
	    seed);
	/* Everyone logs in somewhere; the sessions are used everywhere. */
	for (i = 0; i < WORKERS + APPROVERS; i++) {
		snprintf(name, sizeof(name), i < WORKERS ? "e%d" : "s%d",
		    i < WORKERS ? i : i - WORKERS);
		rs_login(&rs, (int)(rand_r(&seed) % (unsigned int)n), name);
	}
	/*
	 * The first two webhooks take 1.1 s each: a replica that delivered
	 * without holding the outbox role would send one of them again
	 * meanwhile (the worker polls every second).
	 */
	hookrx_slow(rx, 2, 1100);
	atomic_store(&done_ops, 0);
	for (i = 0; i < WORKERS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		snprintf(w[i].user, sizeof(w[i].user), "e%d", i);
		w[i].seed = seed + (unsigned int)i;
		pthread_create(&th[i], NULL, worker_main, &w[i]);
	}
	/*
	 * A third of the way in, the replica that runs the sweeper and the
	 * outbox worker dies without a word.
	 */
	if (n > 1) {
		for (i = 0; i < 6000 && atomic_load(&done_ops) < OPS / 3; i++)
			pause_ms(20);
		for (i = 0; i < 250 && (victim = leader_replica()) < 0; i++)
			pause_ms(20);
		leader_known = victim >= 0;
		if (!leader_known)
			victim = 0;
		rs_kill(&rs, victim);
		kills++;
		fprintf(stderr, "workload_kill_takeover: killed replica %d (%s) "
		    "after %d of %d operations\n", victim, leader_known ?
		    "the leader" : "no replica logged its leadership",
		    atomic_load(&done_ops), OPS);
	}
	for (i = 0; i < WORKERS; i++) {
		pthread_join(th[i], NULL);
		ck_assert_msg(w[i].why[0] == '\0', "%s: %s", w[i].user,
		    w[i].why);
		ck_assert_int_eq(w[i].ncerts, ITERS);
		lost += w[i].lost;
	}
	fprintf(stderr, "workload_kill_takeover: %d answers lost with the "
	    "killed replica\n", lost);

	/*
	 * A 1-second grant: a surviving replica's sweeper must expire it.
	 * If the leader was not known, all replicas but one go, so that the
	 * last one must have taken the sweeper, outbox and checkpoints over.
	 */
	for (last = n - 1; !rs.r[last].up; last--)
		;
	g = create(last, "e0", "auto", "1s", "approved");
	for (i = 0; n > 1 && !leader_known && i < n; i++)
		if (i != last && rs.r[i].up) {
			rs_kill(&rs, i);
			kills++;
		}
	head = rs_sql_int(&rs, "SELECT max(seq) FROM audit");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM requests WHERE id = "
	    "%lld AND state = 'expired'", (long long)g);
	ck_assert_msg(poll_sql(sql, 1), "grant %lld never expired in the "
	    "database", (long long)g);
	if (leader_known) {
		i = leader_replica();
		ck_assert_msg(i >= 0 && i != victim, "no replica took over");
		fprintf(stderr, "workload_kill_takeover: replica %d took over "
		    "the sweeper and the outbox\n", i);
	}
	for (k = 0; k < MORE; k++) {
		snprintf(name, sizeof(name), "e%d", k % WORKERS);
		i = live_replica(k);
		issue(i, name, create(i, name, "auto", "30m", "approved"),
		    &more[k]);
	}
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit_checkpoints "
	    "WHERE seq > %lld", head);
	ck_assert_msg(poll_sql(sql, 1), "no checkpoint after seq %lld", head);
	ck_assert_msg(poll_sql("SELECT CASE WHEN count(*) = 0 THEN 1 ELSE 0 "
	    "END FROM outbox WHERE state <> 'delivered'", 1), "webhooks "
	    "left undelivered");
	outbox = rs_sql_int(&rs, "SELECT count(*) FROM outbox");
	got = hookrx_count(rx, &distinct);
	fprintf(stderr, "workload_kill_takeover: %lld webhooks, %d "
	    "deliveries\n", outbox, got);
	ck_assert_int_gt(outbox, 0);
	ck_assert_int_eq(distinct, outbox);
	ck_assert_msg(got - distinct <= kills, "%d duplicate deliveries",
	    got - distinct);

	rs_final_checks(&rs);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit WHERE action = "
	    "'request.expire' AND target = 'request:%lld'", (long long)g);
	ck_assert_int_eq(rs_sql_int(&rs, sql), 1);
	/* Every certificate a client received is recorded once. */
	rows = rs_sql(&rs, "SELECT serial, request_id FROM certs WHERE "
	    "kind = 'ssh'");
	for (i = 0; i <= WORKERS; i++)
		for (k = 0; k < (i < WORKERS ? w[i].ncerts : MORE); k++) {
			const struct issued *c = i < WORKERS ? &w[i].certs[k] :
			    &more[k];
			const char *p = rows;
			int seen = 0;

			snprintf(line, sizeof(line), "%s\t%lld\n", c->serial,
			    (long long)c->id);
			while ((p = strstr(p, line)) != NULL) {
				seen += p == rows || p[-1] == '\n';
				p++;
			}
			ck_assert_msg(seen == 1, "certificate %s of request "
			    "%lld recorded %d times", c->serial,
			    (long long)c->id, seen);
		}
	free(rows);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("pg_replicas");
	TCase *tc = tcase_create("replicas");
	SRunner *sr;
	int failed;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	tcase_add_unchecked_fixture(tc, cluster_up, cluster_down);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, cluster_guarantees);
	tcase_add_test(tc, workload_kill_takeover);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed == 0 ? 0 : 1;
}
