/*
 * The real bin/jitd under faults of its surroundings:
 *  - the database on a small tmpfs that the test fills up: writes answer
 *    503 with Retry-After and a JSON error, jitd logs a line naming the
 *    cause, nothing is half-written (integrity_check, the audit chain),
 *    reads keep working, and issuance works again by itself once space
 *    returns;
 *  - the sqlite3 shell holding BEGIN EXCLUSIVE longer than jitd's busy
 *    timeout: writes answer 503 after the timeout, concurrent ones too (no
 *    deadlock), reads keep working, writes work again after the release;
 *  - start-up refused, with a message naming the file and the problem,
 *    for a config or key readable by others, a symlinked or missing key,
 *    and a database that is garbage, truncated or empty.
 * The tmpfs needs root (CAP_SYS_ADMIN); JIT_TEST_NO_MOUNT=1 skips that
 * test where mounting is impossible, and anything else fails it loudly.
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
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

#define VOLUME_SIZE	"6m"

static const char roles_json[] =
"[{\"name\":\"ops\",\"ssh\":{\"principals\":[\"ops\"]},"
"  \"requesters\":[\"group:eng\"],\"approvers\":[\"group:sre\"],"
"  \"approvals_required\":1,\"max_duration\":\"1h\",\"require_reason\":false}]";

static struct jp J;
static char alice_b32[64], bob_b32[64], *alice, *bob;
static long long grant;		/* alice's approved request */
static char *pubkey_json;
static char *mounted;		/* our tmpfs, unmounted at exit */

static void
unmount_at_exit(void)
{
	if (mounted != NULL)
		umount2(mounted, MNT_DETACH);
}

static void
setup(void)
{
	jp_init(&J, "faults");
	alice = bob = NULL;
	pubkey_json = NULL;
}

static void
teardown(void)
{
	jp_free(&J);
	free(alice);
	free(bob);
	free(pubkey_json);
}

/*
 * Users alice (eng) and bob (sre), the "ops" role, a key pair; then
 * starts jitd, logs both in, and alice gets a request that bob approves.
 */
static void
start_with_grant(void)
{
	char *key = tu_path(J.tmp, "id"), *pubp = tu_path(J.tmp, "id.pub");
	char *kg[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
	    key, NULL };
	struct tu_resp r;
	struct tu_out o;
	char path[96], *t;
	json_t *b;

	jp_set_config(&J, "roles", json_loads(roles_json, 0, NULL));
	jp_add_user(&J, "alice", "eng", alice_b32);
	jp_add_user(&J, "bob", "sre", bob_b32);
	ck_assert_int_eq(tu_run(kg, NULL, NULL, 30, &o), 0);
	ck_assert_int_eq(o.status, 0);
	tu_out_free(&o);
	t = tu_read_file(pubp, NULL);
	t[strcspn(t, "\n")] = '\0';
	b = json_pack("{s:s}", "public_key", t);
	pubkey_json = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	free(t);
	free(key);
	free(pubp);
	jp_start(&J);
	ck_assert_int_eq(jp_login(&J, "alice", alice_b32, time(NULL), &alice),
	    200);
	ck_assert_int_eq(jp_login(&J, "bob", bob_b32, time(NULL), &bob), 200);
	ck_assert_int_eq(jp_http(&J, "POST", "/v1/requests", alice,
	    "{\"role\":\"ops\",\"duration\":\"30m\"}", &r), 0);
	ck_assert_msg(r.status == 201, "create: %s", r.body);
	grant = json_integer_value(json_object_get(r.json, "id"));
	tu_resp_free(&r);
	snprintf(path, sizeof(path), "/v1/requests/%lld/approve", grant);
	ck_assert_int_eq(jp_http(&J, "POST", path, bob, NULL, &r), 0);
	ck_assert_msg(r.status == 200, "approve: %s", r.body);
	tu_resp_free(&r);
}

/* Asks for an SSH certificate under the grant; returns the status. */
static long
issue(struct tu_resp *r)
{
	char path[96];

	snprintf(path, sizeof(path), "/v1/requests/%lld/ssh-cert", grant);
	ck_assert_int_eq(jp_http(&J, "POST", path, alice, pubkey_json, r), 0);
	return r->status;
}

static void
issue_ok(void)
{
	struct tu_resp r;

	ck_assert_msg(issue(&r) == 200, "issue: %ld %s", r.status, r.body);
	tu_resp_free(&r);
}

/* A refused write: 503, the JSON error, and Retry-After. */
static void
expect_503(struct tu_resp *r, const char *what)
{
	ck_assert_msg(r->status == 503, "%s: %ld %s", what, r->status,
	    r->body);
	ck_assert_str_eq(tu_jstr(r, "error"), "unavailable");
	ck_assert(tu_contains(tu_jstr(r, "message"), "nothing was changed"));
	ck_assert_msg(strcasestr(r->headers, "\r\nRetry-After: 5\r\n") !=
	    NULL, "%s: no Retry-After: %s", what, r->headers);
}

/* Writes that must be refused, and reads that must still work. */
static void
writes_refused_reads_work(void)
{
	struct tu_resp r;
	char path[96], code[7], body[160];

	issue(&r);
	expect_503(&r, "issue");
	tu_resp_free(&r);
	ck_assert_int_eq(jp_http(&J, "POST", "/v1/requests", alice,
	    "{\"role\":\"ops\",\"duration\":\"10m\"}", &r), 0);
	expect_503(&r, "create");
	tu_resp_free(&r);
	/* A login writes its session and audit event: refused as well. */
	tu_totp(bob_b32, time(NULL) + 30, code);
	snprintf(body, sizeof(body), "{\"user\":\"bob\",\"password\":\""
	    JP_PASSWORD "\",\"otp\":\"%s\"}", code);
	ck_assert_int_eq(jp_http(&J, "POST", "/v1/login", NULL, body, &r), 0);
	expect_503(&r, "login");
	tu_resp_free(&r);
	snprintf(path, sizeof(path), "/v1/requests/%lld", grant);
	ck_assert_int_eq(jp_http(&J, "GET", path, alice, NULL, &r), 0);
	ck_assert_msg(r.status == 200, "read: %ld %s", r.status, r.body);
	ck_assert_str_eq(tu_jstr(&r, "state"), "approved");
	tu_resp_free(&r);
	ck_assert_int_eq(jp_http(&J, "GET", "/v1/me", bob, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	tu_resp_free(&r);
	ck_assert_int_eq(jp_http(&J, "GET", "/healthz", NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	tu_resp_free(&r);
	ck_assert_msg(waitpid(J.pid, NULL, WNOHANG) == 0, "jitd died");
}

static long long
count_certs(void)
{
	sqlite3 *db = jp_db_open(&J);
	long long n = jp_db_int(db, "SELECT count(*) FROM certs");

	sqlite3_close(db);
	return n;
}

/* Fills the filesystem of path until not one more byte fits. */
static void
fill(const char *path)
{
	static char chunk[65536];
	size_t sizes[] = { sizeof(chunk), 4096, 1 }, i;
	struct statvfs sv;
	ssize_t n;
	int fd;

	ck_assert_int_ge(fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600),
	    0);
	memset(chunk, 'x', sizeof(chunk));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		while ((n = write(fd, chunk, sizes[i])) > 0)
			;
		ck_assert_msg(n == -1 && errno == ENOSPC, "filling: %s",
		    strerror(errno));
	}
	close(fd);
	ck_assert_int_eq(statvfs(path, &sv), 0);
	ck_assert_int_eq(sv.f_bavail, 0);
}

START_TEST(disk_full)
{
	char *vol = tu_path(J.tmp, "vol"), *db, *filler, *d;
	size_t len;

	if (getenv("JIT_TEST_NO_MOUNT") != NULL &&
	    strcmp(getenv("JIT_TEST_NO_MOUNT"), "1") == 0) {
		fprintf(stderr, "disk_full: SKIPPED (JIT_TEST_NO_MOUNT=1)\n");
		free(vol);
		return;
	}
	ck_assert_int_eq(mkdir(vol, 0700), 0);
	if (mount("tmpfs", vol, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    "size=" VOLUME_SIZE ",mode=0700") != 0)
		ck_abort_msg("cannot mount a tmpfs on %s: %s.  This test needs "
		    "root (CAP_SYS_ADMIN); set JIT_TEST_NO_MOUNT=1 to skip it "
		    "where mounting is impossible", vol, strerror(errno));
	mounted = vol;
	atexit(unmount_at_exit);
	/* The database moves onto the small volume. */
	db = tu_path(vol, "jitd.db");
	d = tu_read_file(J.db, &len);
	tu_write_file(db, d, len, 0600);
	free(d);
	unlink(J.db);
	free(J.db);
	J.db = db;
	jp_set_config(&J, "database", json_string(db));
	start_with_grant();
	issue_ok();
	/* Not one byte left. */
	filler = tu_path(vol, "filler");
	fill(filler);
	writes_refused_reads_work();
	ck_assert_msg(jp_log_wait(&J, "SQLITE_FULL", 10), "no log line");
	ck_assert(jp_log_wait(&J, "database or disk is full", 1));
	ck_assert(jp_log_wait(&J, "the filesystem holding the database is "
	    "full", 1));
	/* Nothing half-written. */
	ck_assert_int_eq(count_certs(), 1);
	jp_db_integrity_ok(&J);
	jp_audit_verify_ok(&J);
	/* Space returns: the next issuance works, without a restart. */
	ck_assert_int_eq(unlink(filler), 0);
	issue_ok();
	ck_assert(jp_log_wait(&J, "database writes work again", 10));
	ck_assert_int_eq(count_certs(), 2);
	jp_stop(&J);
	jp_db_integrity_ok(&J);
	jp_audit_verify_ok(&J);
	ck_assert_msg(umount2(vol, 0) == 0, "umount %s: %s", vol,
	    strerror(errno));
	mounted = NULL;
	free(filler);
	free(vol);
}
END_TEST

/* The sqlite3 shell, reading statements from a pipe. */
struct shell {
	pid_t	pid;
	int	in;
};

static void
shell_start(struct shell *sh, const char *db)
{
	int p[2], fd;

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_ge(sh->pid = fork(), 0);
	if (sh->pid == 0) {
		dup2(p[0], 0);
		close(p[0]);
		close(p[1]);
		if ((fd = open("/dev/null", O_WRONLY)) != -1) {
			dup2(fd, 1);
			close(fd);
		}
		execlp("sqlite3", "sqlite3", db, (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	sh->in = p[1];
}

static void
shell_say(struct shell *sh, const char *sql)
{
	ck_assert_int_eq(write(sh->in, sql, strlen(sql)), (ssize_t)strlen(sql));
}

/* 1 once another connection holds the write lock of the database. */
static int
write_locked(const char *path)
{
	sqlite3 *db = NULL;
	int rc;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE,
	    NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 0);
	rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_BUSY;
}

static void *
issue_thread(void *arg)
{
	struct tu_resp *r = arg;

	issue(r);
	return NULL;
}

START_TEST(database_locked)
{
	enum { NT = 4 };
	struct tu_resp rs[NT];
	pthread_t th[NT];
	struct shell sh;
	int i, st;

	/* Keep the test short: give up on a lock after 300 ms. */
	jp_set_config(&J, "database_busy_timeout_ms", json_integer(300));
	start_with_grant();
	issue_ok();
	shell_start(&sh, J.db);
	shell_say(&sh, ".timeout 10000\nBEGIN EXCLUSIVE;\n");
	for (i = 0; i < 200 && !write_locked(J.db); i++)
		usleep(50000);
	ck_assert_msg(i < 200, "the sqlite3 shell did not take the lock");
	writes_refused_reads_work();
	/* Concurrent writes all come back (no deadlock), all refused. */
	for (i = 0; i < NT; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, issue_thread,
		    &rs[i]), 0);
	for (i = 0; i < NT; i++) {
		pthread_join(th[i], NULL);
		expect_503(&rs[i], "concurrent issue");
		tu_resp_free(&rs[i]);
	}
	ck_assert_msg(jp_log_wait(&J, "SQLITE_BUSY", 10), "no log line");
	ck_assert(jp_log_wait(&J, "another process holds a lock on the "
	    "database for longer than database_busy_timeout_ms", 1));
	ck_assert_int_eq(count_certs(), 1);
	/* The shell lets go: writes work again, without a restart. */
	shell_say(&sh, "ROLLBACK;\n.quit\n");
	close(sh.in);
	ck_assert_int_eq(waitpid(sh.pid, &st, 0), sh.pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	issue_ok();
	ck_assert(jp_log_wait(&J, "database writes work again", 10));
	ck_assert_int_eq(count_certs(), 2);
	jp_stop(&J);
	jp_db_integrity_ok(&J);
	jp_audit_verify_ok(&J);
}
END_TEST

/* `jitd serve` must exit non-zero with every one of the wanted texts. */
static void
refused(const char *w1, const char *w2)
{
	char *argv[] = { J.jitd, "-c", J.cfg, "serve", NULL };
	struct tu_out o;

	ck_assert_int_eq(tu_run(argv, NULL, NULL, 30, &o), 0);
	ck_assert_msg(o.status == 1, "serve exited %d: %s", o.status, o.err);
	ck_assert_msg(tu_contains(o.err, w1), "want \"%s\": %s", w1, o.err);
	ck_assert_msg(w2 == NULL || tu_contains(o.err, w2), "want \"%s\": %s",
	    w2, o.err);
	tu_out_free(&o);
}

/* refused() for path with mode, then the mode back to 0600. */
static void
refused_mode(const char *path, mode_t mode, const char *w1)
{
	char w2[64];

	ck_assert_int_eq(chmod(path, mode), 0);
	snprintf(w2, sizeof(w2), "is readable or writable by group or others "
	    "(mode %04o)", (unsigned)mode);
	refused(w1, w2);
	ck_assert_int_eq(chmod(path, 0600), 0);
}

/* refused() with path replaced by a symlink to a copy, then put back. */
static void
refused_symlink(const char *path, const char *w1)
{
	char *real = tu_path(J.tmp, "moved");

	ck_assert_int_eq(rename(path, real), 0);
	ck_assert_int_eq(symlink(real, path), 0);
	refused(w1, "is a symbolic link");
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rename(real, path), 0);
	free(real);
}

/* refused() with path missing, then put back. */
static void
refused_missing(const char *path, const char *w1)
{
	char *real = tu_path(J.tmp, "moved");

	ck_assert_int_eq(rename(path, real), 0);
	refused(w1, "no such file");
	ck_assert_int_eq(rename(real, path), 0);
	free(real);
}

/* refused() with the database replaced by len bytes of d. */
static void
refused_db(const void *d, size_t len, const char *w1, const char *w2)
{
	char *wal, *shm;

	tu_write_file(J.db, d, len, 0600);
	refused(w1, w2);
	if (asprintf(&wal, "%s-wal", J.db) == -1 ||
	    asprintf(&shm, "%s-shm", J.db) == -1)
		abort();
	unlink(wal);
	unlink(shm);
	free(wal);
	free(shm);
}

START_TEST(refused_startups)
{
	char *cakey = tu_path(J.inst, "ca.key"), *ca = tu_path(J.inst, "ca");
	char *user = tu_path(ca, "user_ca.key"), *host = tu_path(ca,
	    "host_ca.key"), *x509 = tu_path(ca, "x509_ca.key");
	char *secrets = tu_path(J.inst, "secrets.key"), w[512], *orig, *junk;
	size_t len, i;

	/* The instance starts as made; everything below is one fault. */
	jp_start(&J);
	jp_stop(&J);
	snprintf(w, sizeof(w), "config %s: ", J.cfg);
	refused_mode(J.cfg, 0640, w);
	refused_mode(J.cfg, 0602, w);
	snprintf(w, sizeof(w), "CA key file %s (ca_key_file): ", cakey);
	refused_mode(cakey, 0640, w);
	refused_symlink(cakey, w);
	refused_missing(cakey, w);
	snprintf(w, sizeof(w), "CA %s: %s: ", ca, user);
	refused_mode(user, 0644, w);
	snprintf(w, sizeof(w), "CA %s: %s: ", ca, x509);
	refused_symlink(x509, w);
	snprintf(w, sizeof(w), "CA %s: %s: ", ca, host);
	refused_missing(host, w);
	snprintf(w, sizeof(w), "instance secret %s (secrets_file): ", secrets);
	refused_mode(secrets, 0604, w);
	/* The database: garbage, cut in half, emptied. */
	orig = tu_read_file(J.db, &len);
	ck_assert_uint_gt(len, 8192);
	junk = malloc(len);
	for (i = 0; i < len; i++)
		junk[i] = (char)(i * 7919 % 251);
	snprintf(w, sizeof(w), "database %s: file is not a database "
	    "(SQLITE_NOTADB)", J.db);
	refused_db(junk, len, w, "restore it from a backup");
	snprintf(w, sizeof(w), "database %s", J.db);
	refused_db(orig, len / 2, w, "restore it from a backup");
	snprintf(w, sizeof(w), "database %s is empty or not a jitd database",
	    J.db);
	refused_db("", 0, w, "restore it from a backup");
	/* Put back, the instance starts again and its log is intact. */
	tu_write_file(J.db, orig, len, 0600);
	jp_start(&J);
	jp_stop(&J);
	jp_audit_verify_ok(&J);
	free(orig);
	free(junk);
	free(cakey);
	free(ca);
	free(user);
	free(host);
	free(x509);
	free(secrets);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("faults");
	TCase *tc = tcase_create("faults");
	SRunner *sr;
	int failed;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, disk_full);
	tcase_add_test(tc, database_locked);
	tcase_add_test(tc, refused_startups);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed == 0 ? 0 : 1;
}
