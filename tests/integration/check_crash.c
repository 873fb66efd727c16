/*
 * Crash safety of the real bin/jitd: twenty times in a row, a mixed load
 * over HTTP (logins, requests, approvals by several approvers, SSH and
 * X.509 issuance from several client threads) and SIGKILL at a random
 * moment, then a restart on the same database.  After each restart the
 * database passes PRAGMA integrity_check, `jitd audit verify` finds the
 * chain intact, every certificate a client received a 200 for is in the
 * certs table with its audit event, every 200 login and approval left its
 * trace, no request reached "approved" twice, and serials are unique.
 * Set JIT_CRASH_SEED to replay the kill moments of a run.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sqlite3.h>

#include "tests/lib/http.h"
#include "tests/lib/jitdproc.h"
#include "tests/lib/testutil.h"

#define ROUNDS		20
#define NAPPROVERS	3
#define NLOGINS		4	/* users who only log in */
#define RECMAX		8192	/* records per kind over all rounds */

#ifdef __SANITIZE_ADDRESS__
#define NCLIENTS	2	/* instrumented jitd: fewer, slower clients */
#define KILL_MIN_MS	200
#define KILL_SPAN_MS	400
#else
#define NCLIENTS	4
#define KILL_MIN_MS	100
#define KILL_SPAN_MS	350
#endif

static const char roles_json[] =
"[{\"name\":\"ops\",\"ssh\":{\"principals\":[\"ops\"]},"
"  \"x509\":{\"organizational_unit\":\"ops\"},"
"  \"requesters\":[\"group:eng\"],\"approvers\":[\"group:sre\"],"
"  \"approvals_required\":1,\"max_duration\":\"1h\",\"require_reason\":false},"
" {\"name\":\"q2\",\"ssh\":{\"principals\":[\"ops\"]},"
"  \"requesters\":[\"group:eng\"],\"approvers\":[\"group:sre\"],"
"  \"approvals_required\":2,\"max_duration\":\"1h\",\"require_reason\":false}]";

struct user {
	char	 name[16];
	char	 b32[64];
	char	*token;
	int64_t	 next_step;	/* TOTP steps are single-use: go forward */
};

/* What clients were told, over all rounds. */
struct cert_rec {
	char		kind[8];
	char		serial[48];
	long long	request;
};
struct approve_rec {
	long long	request;
	int		approver;
};

static struct jp J;
static struct user req_users[NCLIENTS], approvers[NAPPROVERS];
static struct user login_users[NLOGINS];
static char *pubkey_json;		/* {"public_key": ...} */
static char *csr_json;			/* {"csr": ...} */

static pthread_mutex_t rec_mu = PTHREAD_MUTEX_INITIALIZER;
static struct cert_rec certs[RECMAX];
static int ncerts;
static long long created[RECMAX];
static int ncreated;
static struct approve_rec approved[RECMAX];
static int napproved;
static int login_ok[NLOGINS];
static int cut;			/* requests that never got an answer */
static volatile int stop;

static void
setup(void)
{
	jp_init(&J, "crash");
}

static void
teardown(void)
{
	jp_free(&J);
}

static void
add_users(struct user *u, int n, const char *prefix, const char *groups)
{
	int i;

	for (i = 0; i < n; i++) {
		snprintf(u[i].name, sizeof(u[i].name), "%s%d", prefix, i);
		jp_add_user(&J, u[i].name, groups, u[i].b32);
		u[i].token = NULL;
		u[i].next_step = 0;
	}
}

/*
 * Logs u in with the next unused TOTP step, the current one or the next
 * (jitd accepts ±1, so a step boundary passing meanwhile does no harm);
 * returns the HTTP status, 0 when both are used up, -1 without an answer.
 * A step is spent whatever the answer: a login jitd committed just before
 * a kill used it up.
 */
static long
login_next(struct user *u, char **token)
{
	int64_t now = time(NULL) / 30;

	if (u->next_step < now)
		u->next_step = now;
	if (u->next_step > now + 1)
		return 0;
	return jp_login(&J, u->name, u->b32, 30 * u->next_step++ + 5, token);
}

static void
keys(void)
{
	char *key = tu_path(J.tmp, "id"), *pubp = tu_path(J.tmp, "id.pub");
	char *csr = tu_path(J.tmp, "req.pem"), *ck = tu_path(J.tmp, "req.key");
	char *kg[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
	    key, NULL };
	char *rq[] = { "openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
	    "ec_paramgen_curve:P-256", "-nodes", "-keyout", ck, "-out", csr,
	    "-subj", "/CN=crash", NULL };
	struct tu_out o;
	json_t *b;
	char *t;

	ck_assert_int_eq(tu_run(kg, NULL, NULL, 30, &o), 0);
	ck_assert_int_eq(o.status, 0);
	tu_out_free(&o);
	ck_assert_int_eq(tu_run(rq, NULL, NULL, 30, &o), 0);
	ck_assert_int_eq(o.status, 0);
	tu_out_free(&o);
	t = tu_read_file(pubp, NULL);
	t[strcspn(t, "\n")] = '\0';
	b = json_pack("{s:s}", "public_key", t);
	pubkey_json = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	free(t);
	t = tu_read_file(csr, NULL);
	b = json_pack("{s:s}", "csr", t);
	csr_json = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	free(t);
	free(key);
	free(pubp);
	free(csr);
	free(ck);
}

/* One POST; returns the status, or -1 (and counts a cut) without answer. */
static long
post(const char *path, const char *token, const char *body,
    struct tu_resp *r)
{
	if (jp_http(&J, "POST", path, token, body, r) != 0) {
		pthread_mutex_lock(&rec_mu);
		cut++;
		pthread_mutex_unlock(&rec_mu);
		return -1;
	}
	return r->status;
}

static int
approve(long long id, int a)
{
	struct tu_resp r;
	char path[96];
	long st;

	snprintf(path, sizeof(path), "/v1/requests/%lld/approve", id);
	st = post(path, approvers[a].token, "{\"comment\":\"ok\"}", &r);
	tu_resp_free(&r);
	if (st == 200) {
		pthread_mutex_lock(&rec_mu);
		ck_assert_int_lt(napproved, RECMAX);
		approved[napproved].request = id;
		approved[napproved++].approver = a;
		pthread_mutex_unlock(&rec_mu);
	}
	return st < 0 ? -1 : 0;
}

static int
issue(long long id, const char *token, const char *kind)
{
	const char *what = strcmp(kind, "ssh") == 0 ? "ssh-cert" : "x509-cert";
	struct tu_resp r;
	char path[96];
	long st;

	snprintf(path, sizeof(path), "/v1/requests/%lld/%s", id, what);
	st = post(path, token, strcmp(kind, "ssh") == 0 ? pubkey_json :
	    csr_json, &r);
	if (st == 200) {
		pthread_mutex_lock(&rec_mu);
		ck_assert_int_lt(ncerts, RECMAX);
		snprintf(certs[ncerts].kind, sizeof(certs[ncerts].kind), "%s",
		    kind);
		snprintf(certs[ncerts].serial, sizeof(certs[ncerts].serial),
		    "%s", tu_jstr(&r, "serial"));
		certs[ncerts++].request = id;
		pthread_mutex_unlock(&rec_mu);
	}
	tu_resp_free(&r);
	return st < 0 ? -1 : 0;
}

/*
 * One engineer: asks for ops (one approval) or q2 (two), gets the
 * approvals and a late third one that must be refused, then certificates,
 * until the daemon stops answering.
 */
static void *
client(void *arg)
{
	int i = (int)(long)arg, k = 0, a;
	struct user *u = &req_users[i];
	struct tu_resp r;
	long long id;
	long st;

	while (!stop) {
		const char *role = k % 2 == 0 ? "ops" : "q2";
		char body[128];

		snprintf(body, sizeof(body), "{\"role\":\"%s\",\"reason\":"
		    "\"crash test\",\"duration\":\"30m\"}", role);
		st = post("/v1/requests", u->token, body, &r);
		id = st == 201 ? json_integer_value(json_object_get(r.json,
		    "id")) : 0;
		tu_resp_free(&r);
		if (st < 0)
			break;
		ck_assert_msg(st == 201, "create: %ld", st);
		pthread_mutex_lock(&rec_mu);
		ck_assert_int_lt(ncreated, RECMAX);
		created[ncreated++] = id;
		pthread_mutex_unlock(&rec_mu);
		a = (i + k) % NAPPROVERS;
		if (approve(id, a) != 0 || (k % 2 == 1 &&
		    approve(id, (a + 1) % NAPPROVERS) != 0) ||
		    approve(id, (a + 2) % NAPPROVERS) != 0)
			break;
		if (issue(id, u->token, "ssh") != 0 || (k % 2 == 0 &&
		    issue(id, u->token, "x509") != 0) ||
		    issue(id, u->token, "ssh") != 0)
			break;
		k++;
	}
	return NULL;
}

/* Good logins while TOTP steps last, failed ones for a ghost otherwise. */
static void *
logins(void *arg)
{
	static const char ghost[] = "{\"user\":\"ghost\",\"password\":\"x\","
	    "\"otp\":\"000000\"}";
	struct tu_resp r;
	long st;
	int i;

	(void)arg;
	while (!stop) {
		for (i = 0, st = 0; i < NLOGINS && st == 0; i++) {
			st = login_next(&login_users[i], NULL);
			if (st == 200)
				login_ok[i]++;
		}
		if (st == 0) {
			st = post("/v1/login", NULL, ghost, &r);
			tu_resp_free(&r);
		}
		if (st < 0)
			break;
	}
	return NULL;
}

/* Loads what clients were told into temp tables beside the database. */
static void
load_records(sqlite3 *db)
{
	sqlite3_stmt *st;
	int i;

	ck_assert_int_eq(sqlite3_exec(db, "CREATE TEMP TABLE IF NOT EXISTS "
	    "got_certs (kind TEXT, serial TEXT, request INTEGER);"
	    "CREATE TEMP TABLE IF NOT EXISTS got_created (request INTEGER);"
	    "CREATE TEMP TABLE IF NOT EXISTS got_approved (request INTEGER, "
	    "approver TEXT);", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "INSERT INTO got_certs VALUES "
	    "(?, ?, ?)", -1, &st, NULL), SQLITE_OK);
	for (i = 0; i < ncerts; i++) {
		sqlite3_bind_text(st, 1, certs[i].kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, certs[i].serial, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, certs[i].request);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "INSERT INTO got_created "
	    "VALUES (?)", -1, &st, NULL), SQLITE_OK);
	for (i = 0; i < ncreated; i++) {
		sqlite3_bind_int64(st, 1, created[i]);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "INSERT INTO got_approved "
	    "VALUES (?, ?)", -1, &st, NULL), SQLITE_OK);
	for (i = 0; i < napproved; i++) {
		sqlite3_bind_int64(st, 1, approved[i].request);
		sqlite3_bind_text(st, 2, approvers[approved[i].approver].name,
		    -1, SQLITE_STATIC);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
}

/* Fails the test, naming the round, unless sql counts zero rows. */
static void
none(sqlite3 *db, int round, const char *what, const char *sql)
{
	long long n = jp_db_int(db, sql);

	ck_assert_msg(n == 0, "round %d: %lld %s", round, n, what);
}

static void
check_database(int round)
{
	sqlite3 *db;
	int i;

	jp_db_integrity_ok(&J);
	jp_audit_verify_ok(&J);
	db = jp_db_open(&J);
	load_records(db);
	ck_assert_int_eq(sqlite3_exec(db, "CREATE TEMP TABLE ev AS SELECT "
	    "json_extract(details, '$.kind') AS kind, json_extract(details, "
	    "'$.serial') AS serial, target FROM audit WHERE action = "
	    "'cert.issue' AND outcome = 'ok'; CREATE INDEX temp.ev_serial ON "
	    "ev(serial)", NULL, NULL, NULL), SQLITE_OK);
	/* Certificates: what clients got is recorded and audited, once. */
	none(db, round, "certificates answered 200 but not in certs",
	    "SELECT count(*) FROM got_certs g WHERE NOT EXISTS (SELECT 1 FROM "
	    "certs c WHERE c.kind = g.kind AND c.serial = g.serial AND "
	    "c.request_id = g.request)");
	none(db, round, "certificates answered 200 without their audit event",
	    "SELECT count(*) FROM got_certs g WHERE NOT EXISTS (SELECT 1 FROM "
	    "ev WHERE ev.kind = g.kind AND ev.serial = g.serial AND "
	    "ev.target = 'request:' || g.request)");
	none(db, round, "certs rows without exactly one audit event",
	    "SELECT count(*) FROM certs c WHERE (SELECT count(*) FROM ev "
	    "WHERE ev.kind = c.kind AND ev.serial = c.serial AND ev.target = "
	    "'request:' || c.request_id) != 1");
	ck_assert_int_eq(jp_db_int(db, "SELECT count(*) FROM ev"),
	    jp_db_int(db, "SELECT count(*) FROM certs"));
	none(db, round, "serials issued twice", "SELECT count(*) FROM (SELECT "
	    "serial FROM certs GROUP BY serial HAVING count(*) > 1)");
	none(db, round, "certificates under a request never approved",
	    "SELECT count(*) FROM certs c JOIN requests r ON r.id = "
	    "c.request_id WHERE r.approved_at = 0 OR c.issued_at < "
	    "r.approved_at");
	/* Requests and approvals. */
	none(db, round, "created requests missing", "SELECT count(*) FROM "
	    "got_created g WHERE NOT EXISTS (SELECT 1 FROM requests r WHERE "
	    "r.id = g.request)");
	none(db, round, "requests without exactly one request.create event",
	    "SELECT count(*) FROM requests r WHERE (SELECT count(*) FROM audit "
	    "a WHERE a.action = 'request.create' AND a.outcome = 'ok' AND "
	    "a.target = 'request:' || r.id) != 1");
	none(db, round, "approvals answered 200 without their vote",
	    "SELECT count(*) FROM got_approved g WHERE NOT EXISTS (SELECT 1 "
	    "FROM votes v WHERE v.request_id = g.request AND v.approver = "
	    "g.approver AND v.decision = 'approve')");
	none(db, round, "requests that reached approved more than once",
	    "SELECT count(*) FROM (SELECT target FROM audit WHERE action = "
	    "'request.approve' AND outcome = 'ok' AND json_extract(details, "
	    "'$.transition') = 1 GROUP BY target HAVING count(*) > 1)");
	none(db, round, "requests whose approved_at disagrees with the audit",
	    "SELECT count(*) FROM requests r WHERE (r.approved_at > 0) != "
	    "((SELECT count(*) FROM audit a WHERE a.action = "
	    "'request.approve' AND a.outcome = 'ok' AND json_extract("
	    "a.details, '$.transition') = 1 AND a.target = 'request:' || "
	    "r.id) = 1)");
	none(db, round, "requests whose approval count disagrees with votes "
	    "or audit", "SELECT count(*) FROM requests r WHERE r.approvals != "
	    "(SELECT count(*) FROM votes v WHERE v.request_id = r.id AND "
	    "v.decision = 'approve') OR r.approvals != (SELECT count(*) FROM "
	    "audit a WHERE a.action = 'request.approve' AND a.outcome = 'ok' "
	    "AND a.target = 'request:' || r.id) OR r.approvals > "
	    "r.approvals_required");
	/* Every login answered 200 left its audit event. */
	for (i = 0; i < NLOGINS; i++) {
		char q[192];

		snprintf(q, sizeof(q), "SELECT count(*) FROM audit WHERE actor "
		    "= '%.15s' AND action = 'login' AND outcome = 'ok'",
		    login_users[i].name);
		ck_assert_msg(jp_db_int(db, q) >= login_ok[i], "round %d: %s: "
		    "%d logins answered 200, fewer audited", round,
		    login_users[i].name, login_ok[i]);
	}
	sqlite3_close(db);
}

START_TEST(kill9_twenty_times)
{
	pthread_t th[NCLIENTS], lt;
	unsigned seed;
	const char *s;
	int round, i, rounds = ROUNDS;

	/* make soak: JIT_CRASH_ROUNDS=200 (the default, 20, is the issue's). */
	if ((s = getenv("JIT_CRASH_ROUNDS")) != NULL && atoi(s) >= ROUNDS &&
	    atoi(s) <= 10000)
		rounds = atoi(s);
	s = getenv("JIT_CRASH_SEED");
	seed = s != NULL ? (unsigned)strtoul(s, NULL, 10) :
	    (unsigned)time(NULL) ^ (unsigned)getpid();
	fprintf(stderr, "kill9_twenty_times: JIT_CRASH_SEED=%u\n", seed);
	srand(seed);
	jp_set_config(&J, "roles", json_loads(roles_json, 0, NULL));
	jp_set_config(&J, "threads", json_integer(4));
	add_users(req_users, NCLIENTS, "eng", "eng");
	add_users(approvers, NAPPROVERS, "sre", "sre");
	add_users(login_users, NLOGINS, "lg", "eng");
	keys();
	jp_start(&J);
	for (i = 0; i < NCLIENTS; i++)
		ck_assert_int_eq(login_next(&req_users[i], &req_users[i].token),
		    200);
	for (i = 0; i < NAPPROVERS; i++)
		ck_assert_int_eq(login_next(&approvers[i], &approvers[i].token),
		    200);
	for (round = 1; round <= rounds; round++) {
		int ms = KILL_MIN_MS + rand() % KILL_SPAN_MS;

		stop = 0;
		for (i = 0; i < NCLIENTS; i++)
			ck_assert_int_eq(pthread_create(&th[i], NULL, client,
			    (void *)(long)i), 0);
		ck_assert_int_eq(pthread_create(&lt, NULL, logins, NULL), 0);
		usleep((useconds_t)ms * 1000);
		jp_kill9(&J);
		stop = 1;
		for (i = 0; i < NCLIENTS; i++)
			pthread_join(th[i], NULL);
		pthread_join(lt, NULL);
		jp_start(&J);
		check_database(round);
	}
	jp_stop(&J);
	check_database(rounds + 1);
	fprintf(stderr, "kill9_twenty_times: %d rounds, %d requests, %d "
	    "approvals, %d certificates answered 200; %d requests got no "
	    "answer (killed)\n", rounds, ncreated, napproved, ncerts, cut);
	/* The load did run, and kills did land in the middle of it. */
	ck_assert_int_gt(ncerts, rounds);
	ck_assert_int_gt(cut, 0);
	free(pubkey_json);
	free(csr_json);
	for (i = 0; i < NCLIENTS; i++)
		free(req_users[i].token);
	for (i = 0; i < NAPPROVERS; i++)
		free(approvers[i].token);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("crash");
	TCase *tc = tcase_create("kill9");
	SRunner *sr;
	int failed;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, kill9_twenty_times);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed == 0 ? 0 : 1;
}
