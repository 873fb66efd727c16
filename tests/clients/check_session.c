/*
 * jit-session, the ForceCommand wrapper, with certificates from an
 * in-process jitd (tests/lib/jitfix.h): run directly it refuses to run
 * anything without a certificate it can verify; run by a real sshd, a
 * grant of a few seconds ends a `sleep 60` session, a serial added to the
 * KRL ends a session within seconds, commands keep their output and exit
 * status, and a role's force-command still decides what runs.  The sshd
 * parts need root and are skipped cleanly without it.
 */
#include <sys/stat.h>

#include <check.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "ca/ca.h"
#include "common/err.h"
#include "tests/lib/jitfix.h"
#include "tests/lib/sshd.h"
#include "tests/lib/testutil.h"

/* The user CA line from jitd. */
static char *
jitd_ca(void)
{
	struct tu_resp r;
	char *ca;

	fx_call("GET", "/v1/ca/ssh?format=text", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ca = strdup(r.body);
	tu_resp_free(&r);
	return ca;
}

/*
 * A directory the test account can read, holding jitd_user_ca.pub and
 * jitd.krl (unsigned, from jitd), as server-setup would leave them.
 */
static char *
session_dir(void)
{
	const char *b = getenv("JIT_SSHD_BASE");
	struct tu_resp r;
	char *dir, *p, *ca = jitd_ca();

	if (b == NULL || *b == '\0')
		b = "/run/jit-tests";
	/* Only sshd's accounts need to reach it; without root, no sshd. */
	if (geteuid() != 0)
		b = fx_tmp;
	(void)mkdir(b, 0755);
	if (asprintf(&dir, "%s/jitsess-XXXXXX", b) == -1 || mkdtemp(dir) ==
	    NULL || chmod(dir, 0755) == -1)
		ck_abort_msg("cannot make a directory under %s", b);
	p = tu_path(dir, "jitd_user_ca.pub");
	tu_write_file(p, ca, strlen(ca), 0644);
	free(p);
	fx_call("GET", "/v1/ca/krl", NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	p = tu_path(dir, "jitd.krl");
	tu_write_file(p, r.body, r.len, 0644);
	free(p);
	tu_resp_free(&r);
	free(ca);
	return dir;
}

/* Runs jit-session directly with the given $SSH_USER_AUTH contents. */
static void
run_session(const char *dir, const char *cakey, const char *auth,
    const char *command, struct tu_out *o)
{
	char *bin = tu_bin("jit-session"), *krl = tu_path(dir, "jitd.krl");
	char *authp = tu_path(fx_tmp, "auth"), *env[3];
	char *argv[] = { bin, "--krl", krl, "--ca-key", (char *)cakey, NULL };

	unsetenv("SSH_USER_AUTH");
	env[0] = env[1] = env[2] = NULL;
	if (asprintf(&env[0], "SSH_ORIGINAL_COMMAND=%s", command) == -1)
		abort();
	if (auth != NULL) {
		tu_write_file(authp, auth, strlen(auth), 0600);
		if (asprintf(&env[1], "SSH_USER_AUTH=%s", authp) == -1)
			abort();
	}
	ck_assert_int_eq(tu_run(argv, NULL, env, 30, o), 0);
	free(env[0]);
	free(env[1]);
	free(authp);
	free(krl);
	free(bin);
}

START_TEST(session_refusals)
{
	struct ca *other = NULL;
	struct passwd *pw;
	struct tu_out o;
	struct tu_resp r;
	char *dir = session_dir(), *key = fx_keygen("id"), *line, *auth, *cap;
	char *othercap = tu_path(fx_tmp, "other.pub"), *pub, serial[32], path[64];
	char *otherline;
	json_int_t id;

	cap = tu_path(dir, "jitd_user_ca.pub");
	ck_assert_int_eq(ca_generate("other CA", 1, &other), JIT_OK);
	otherline = ca_ssh_pubkey_line(other, CA_SLOT_SSH_USER, "other");
	tu_write_file(othercap, otherline, strlen(otherline), 0644);
	id = fx_grant_cert("short", 600, key, &line, serial);
	/* No $SSH_USER_AUTH: nothing runs. */
	run_session(dir, cap, NULL, "echo RAN", &o);
	ck_assert_int_eq(o.status, 1);
	ck_assert(!tu_contains(o.out, "RAN"));
	ck_assert(tu_contains(o.err, "SSH_USER_AUTH"));
	tu_out_free(&o);
	/* Garbage, a plain key, another CA's trust: nothing runs. */
	run_session(dir, cap, "publickey ssh-ed25519-cert-v01@openssh.com "
	    "AAAAC3NzaC1lZDI1NTE5\n", "echo RAN", &o);
	ck_assert_int_eq(o.status, 1);
	ck_assert(!tu_contains(o.out, "RAN"));
	tu_out_free(&o);
	if (asprintf(&pub, "%s.pub", key) == -1)
		abort();
	free(pub);
	pub = tu_read_file(othercap, NULL);
	if (asprintf(&auth, "password\npublickey %s", pub) == -1)
		abort();
	run_session(dir, cap, auth, "echo RAN", &o);
	ck_assert_int_eq(o.status, 1);
	ck_assert(!tu_contains(o.out, "RAN"));
	tu_out_free(&o);
	free(auth);
	free(pub);
	if (asprintf(&auth, "publickey %s\n", line) == -1)
		abort();
	run_session(dir, othercap, auth, "echo RAN", &o);
	ck_assert_int_eq(o.status, 1);
	ck_assert(!tu_contains(o.out, "RAN"));
	tu_out_free(&o);
	/*
	 * The real certificate and CA: the command runs in the user's shell
	 * with its status kept (unless that shell is nologin, as for
	 * accounts like nobody that run this test without root).
	 */
	run_session(dir, cap, auth, "echo ran; exit 3", &o);
	if ((pw = getpwuid(getuid())) != NULL && strstr(pw->pw_shell,
	    "nologin") == NULL && strstr(pw->pw_shell, "false") == NULL) {
		ck_assert_msg(o.status == 3, "%d %s", o.status, o.err);
		ck_assert_str_eq(o.out, "ran\n");
	}
	tu_out_free(&o);
	/* Revoked: refused. */
	snprintf(path, sizeof(path), "/v1/requests/%lld/revoke", (long long)id);
	fx_call("POST", path, "bob", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	tu_resp_free(&r);
	fx_jit(&o, "--url", fx_base, "krl-refresh", "--dir", dir, NULL);
	ck_assert_msg(o.status == 0, "%s", o.err);
	tu_out_free(&o);
	run_session(dir, cap, auth, "echo RAN", &o);
	ck_assert_int_eq(o.status, 1);
	ck_assert(!tu_contains(o.out, "RAN"));
	ck_assert(tu_contains(o.err, "revoked"));
	tu_out_free(&o);
	free(auth);
	free(line);
	free(otherline);
	ca_free(other);
	free(othercap);
	free(cap);
	free(key);
	tu_rmdir(dir);
	free(dir);
}
END_TEST

/* A real sshd whose ForceCommand is jit-session watching dir's KRL. */
static struct tu_sshd *
session_sshd(const char *dir)
{
	static const char *const princ[] = { FX_PRINC, NULL };
	static struct tu_sshd_account acct = { FX_ACCOUNT, princ };
	struct tu_sshd_opts so;
	struct tu_sshd *sshd;
	char *bin = tu_bin("jit-session"), *extra, *ca = jitd_ca();

	if (asprintf(&extra, "ForceCommand %s --krl %s/jitd.krl --ca-key "
	    "%s/jitd_user_ca.pub --grace 1", bin, dir, dir) == -1)
		abort();
	memset(&so, 0, sizeof(so));
	so.trusted_ca_keys = ca;
	so.accounts = &acct;
	so.naccounts = 1;
	so.extra_config = extra;
	ck_assert_ptr_nonnull(sshd = tu_sshd_start(&so));
	free(extra);
	free(ca);
	free(bin);
	return sshd;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

#define NEED_SSHD() do {						\
	const char *why_;						\
	if (!tu_sshd_available(&why_)) {				\
		fprintf(stderr, "%s: skipped: %s\n", __func__, why_);	\
		return;							\
	}								\
} while (0)

START_TEST(session_grant_end)
{
	struct tu_sshd *sshd;
	struct tu_out o;
	char *dir, *key, *certp, serial[32];
	double t0;

	NEED_SSHD();
	dir = session_dir();
	key = fx_keygen("id");
	sshd = session_sshd(dir);
	(void)fx_grant_cert("short", 4, key, NULL, serial);
	if (asprintf(&certp, "%s-cert.pub", key) == -1)
		abort();
	t0 = now_s();
	/*
	 * The command also tries to escape: a process in its own session
	 * (setsid) that would outlive the grant.
	 */
	ck_assert_int_eq(tu_ssh_run(tu_sshd_port(sshd), FX_ACCOUNT, key, certp,
	    "setsid sh -c 'exec sleep 97' </dev/null >/dev/null 2>&1 & "
	    "sleep 60", &o), 0);
	/* The grant (4 s) ends the session, not the 60 s command. */
	ck_assert_msg(now_s() - t0 < 15, "took %.1f s", now_s() - t0);
	ck_assert_msg(o.status == 1, "status %d: %s", o.status, o.err);
	ck_assert_msg(tu_contains(o.err, "jit-session: grant ended; closing "
	    "session"), "%s", o.err);
	tu_out_free(&o);
	/* Nothing of the session is left, not even the escaped process. */
	{
		char *pg[] = { "pgrep", "-u", FX_ACCOUNT, "-f", "sleep 97",
		    NULL };
		struct tu_out q;
		int i, left = 1;

		for (i = 0; i < 30 && left; i++) {
			ck_assert_int_eq(tu_run(pg, NULL, NULL, 10, &q), 0);
			left = q.status == 0;
			tu_out_free(&q);
			if (left)
				usleep(100000);
		}
		ck_assert_msg(!left, "an escaped process outlived the grant");
	}
	tu_sshd_stop(sshd);
	tu_rmdir(dir);
	free(dir);
	free(certp);
	free(key);
}
END_TEST

struct bg {
	int		 port;
	const char	*key;
	const char	*cert;
	struct tu_out	 o;
	double		 end;
};

static void *
bg_ssh(void *arg)
{
	struct bg *b = arg;

	if (tu_ssh_run(b->port, FX_ACCOUNT, b->key, b->cert, "sleep 60",
	    &b->o) != 0)
		b->o.status = -1;
	b->end = now_s();
	return NULL;
}

START_TEST(session_revoked)
{
	struct tu_sshd *sshd;
	struct tu_resp r;
	struct tu_out o;
	struct bg b;
	pthread_t th;
	char *dir, *key, *certp, serial[32], path[64];
	json_int_t id;
	double t0;

	NEED_SSHD();
	dir = session_dir();
	key = fx_keygen("id");
	sshd = session_sshd(dir);
	id = fx_grant_cert("short", 600, key, NULL, serial);
	if (asprintf(&certp, "%s-cert.pub", key) == -1)
		abort();
	memset(&b, 0, sizeof(b));
	b.port = tu_sshd_port(sshd);
	b.key = key;
	b.cert = certp;
	ck_assert_int_eq(pthread_create(&th, NULL, bg_ssh, &b), 0);
	ck_assert(tu_sshd_wait_log(sshd, "Starting session", 15));
	usleep(500 * 1000);
	/* bob revokes; the host's KRL is refreshed; the session ends. */
	snprintf(path, sizeof(path), "/v1/requests/%lld/revoke", (long long)id);
	fx_call("POST", path, "bob", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	tu_resp_free(&r);
	t0 = now_s();
	fx_jit(&o, "--url", fx_base, "krl-refresh", "--dir", dir, NULL);
	ck_assert_msg(o.status == 0, "%s", o.err);
	tu_out_free(&o);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_msg(b.end - t0 < 10, "took %.1f s", b.end - t0);
	ck_assert_msg(b.o.status == 1, "status %d: %s", b.o.status, b.o.err);
	ck_assert_msg(tu_contains(b.o.err, "certificate revoked"), "%s",
	    b.o.err);
	tu_out_free(&b.o);
	tu_sshd_stop(sshd);
	tu_rmdir(dir);
	free(dir);
	free(certp);
	free(key);
}
END_TEST

START_TEST(session_commands)
{
	struct tu_sshd *sshd;
	struct tu_out o;
	char *dir, *key, *certp, serial[32];

	NEED_SSHD();
	dir = session_dir();
	key = fx_keygen("id");
	sshd = session_sshd(dir);
	(void)fx_grant_cert("short", 600, key, NULL, serial);
	if (asprintf(&certp, "%s-cert.pub", key) == -1)
		abort();
	ck_assert_int_eq(tu_ssh_run(tu_sshd_port(sshd), FX_ACCOUNT, key, certp,
	    "echo hi; exit 3", &o), 0);
	ck_assert_msg(o.status == 3, "status %d: %s", o.status, o.err);
	ck_assert_str_eq(o.out, "hi\n");
	tu_out_free(&o);
	ck_assert(tu_sshd_wait_log(sshd, "jitd:alice:", 5));
	/* With a terminal: the command runs in the foreground group. */
	{
		char *tt[] = { "-tt", NULL };

		ck_assert_int_eq(tu_ssh_runv(tu_sshd_port(sshd), FX_ACCOUNT,
		    key, certp, tt, "echo tty-ok; exit 4", &o), 0);
		ck_assert_msg(o.status == 4, "status %d: %s", o.status, o.err);
		ck_assert(tu_contains(o.out, "tty-ok"));
		tu_out_free(&o);
	}
	/* The role's force-command still decides what runs. */
	(void)fx_grant_cert("forced", 600, key, NULL, serial);
	ck_assert_int_eq(tu_ssh_run(tu_sshd_port(sshd), FX_ACCOUNT, key, certp,
	    "echo hi", &o), 0);
	ck_assert_msg(o.status == 0, "status %d: %s", o.status, o.err);
	ck_assert_str_eq(o.out, "forced:echo hi\n");
	tu_out_free(&o);
	tu_sshd_stop(sshd);
	tu_rmdir(dir);
	free(dir);
	free(certp);
	free(key);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("session");
	TCase *tc = tcase_create("session");
	SRunner *sr;
	int failed;

	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, session_refusals);
	tcase_add_test(tc, session_grant_end);
	tcase_add_test(tc, session_revoked);
	tcase_add_test(tc, session_commands);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed == 0 ? 0 : 1;
}
