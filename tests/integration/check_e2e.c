/*
 * jitd end to end, as a new user would run it: an instance from
 * `jitd init`, a real sshd configured only by `jit server-setup`, two
 * people driving `jit` through pseudo-terminals (password and code typed
 * at the prompts).  alice asks with --wait, bob approves from his own
 * terminal, alice's `jit ssh` runs `id` as the mapped account; bob
 * revokes, `jit krl-refresh` runs, alice's next login fails and her open
 * session is ended by jit-session.  A session left open to the grant's
 * end is ended within seconds of it.  The audit export verifies offline
 * and fails after one changed byte.  Session and key files are 0600.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "tests/lib/pty.h"
#include "tests/lib/sshd.h"
#include "tests/lib/testutil.h"

#define PW	"correct horse battery"
#define ACCOUNT	"jitt-web"

static char *tmp, *inst, *cfg, *jitd, *jit, *jitsession, *sshdir;
static char url[128], alice_b32[64], bob_b32[64];
static int port, sshport;
static pid_t jitd_pid, sshd_pid;

static struct tu_out
run(char *const argv[], char *const env[])
{
	struct tu_out o;

	ck_assert_int_eq(tu_run(argv, NULL, env, 120, &o), 0);
	return o;
}

static void
add_user(const char *name, const char *groups, char *b32)
{
	char *pwf = tu_path(tmp, "pw");
	char *argv[] = { jitd, "-c", cfg, "user", "add", (char *)name,
	    "--groups", (char *)groups, "--password-file", pwf, NULL };
	struct tu_out o;
	const char *s;

	tu_write_file(pwf, PW "\n", strlen(PW) + 1, 0600);
	o = run(argv, NULL);
	ck_assert_msg(o.status == 0, "user add: %s", o.err);
	ck_assert_ptr_nonnull(s = strstr(o.out, "totp_secret: "));
	ck_assert_int_eq(sscanf(s, "totp_secret: %63s", b32), 1);
	tu_out_free(&o);
	free(pwf);
}

static void
code_at(const char *b32, int64_t t, char out[8])
{
	char *argv[] = { "oathtool", "--totp", "-b", (char *)b32, "-N", NULL,
	    NULL };
	char at[32];
	struct tu_out o;

	snprintf(at, sizeof(at), "@%lld", (long long)t);
	argv[5] = at;
	o = run(argv, NULL);
	ck_assert_int_eq(o.status, 0);
	snprintf(out, 8, "%.6s", o.out);
	tu_out_free(&o);
}

/* The environment of a person: their own JIT_HOME, the broker's URL. */
static char **
person(const char *name)
{
	static char home[2][512], jurl[2][192];
	static char *env[2][3];
	int i = strcmp(name, "alice") == 0 ? 0 : 1;

	snprintf(home[i], sizeof(home[i]), "JIT_HOME=%s/%s", tmp, name);
	snprintf(jurl[i], sizeof(jurl[i]), "JIT_URL=%s", url);
	env[i][0] = home[i];
	env[i][1] = jurl[i];
	env[i][2] = NULL;
	return env[i];
}

/* Logs in at a terminal, typing the password and the code. */
static void
tty_login(const char *name, const char *b32, int64_t when)
{
	char *argv[] = { jit, "login", "--user", (char *)name, NULL };
	struct tu_pty p;
	char code[8], line[16];

	code_at(b32, when, code);
	ck_assert_int_eq(tu_pty_spawn(&p, argv, person(name)), 0);
	ck_assert_msg(tu_pty_expect(&p, "Password:", 20) == 0, "%s", p.seen);
	tu_pty_send(&p, PW "\n");
	ck_assert_msg(tu_pty_expect(&p, "One-time code:", 20) == 0, "%s",
	    p.seen);
	snprintf(line, sizeof(line), "%s\n", code);
	tu_pty_send(&p, line);
	ck_assert_msg(tu_pty_finish(&p, 60) == 0, "login %s: %s", name,
	    p.seen);
	/* Nothing typed was echoed back. */
	ck_assert(strstr(p.seen, PW) == NULL);
	ck_assert(strstr(p.seen, code) == NULL);
	tu_pty_free(&p);
}

static void
setup(void)
{
	static const char base_cfg[] =
	    "Port %d\nListenAddress 127.0.0.1\nHostKey %s/host_ed25519\n"
	    "PidFile none\nUsePAM no\nPasswordAuthentication no\n"
	    "KbdInteractiveAuthentication no\nAuthorizedKeysFile none\n"
	    "PermitRootLogin no\nLogLevel VERBOSE\n";
	char *argv[6], listen[64], *text, *p;
	struct tu_out o;
	json_t *c;
	const char *why;

	if (!tu_sshd_available(&why)) {
		tmp = NULL;
		return;
	}
	tmp = tu_mkdtemp("e2e");
	inst = tu_path(tmp, "inst");
	cfg = tu_path(inst, "jitd.json");
	jitd = tu_bin("jitd");
	jit = tu_bin("jit");
	jitsession = tu_bin("jit-session");
	argv[0] = jitd;
	argv[1] = "init";
	argv[2] = inst;
	argv[3] = NULL;
	o = run(argv, NULL);
	ck_assert_msg(o.status == 0, "%s", o.err);
	tu_out_free(&o);
	port = tu_free_port();
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	c = json_load_file(cfg, 0, NULL);
	json_object_set_new(c, "listen", json_string(listen));
	json_object_set_new(c, "auditors", json_pack("[s]", "group:sre"));
	json_object_set_new(c, "roles", json_loads("[{\"name\":\"web\","
	    "\"ssh\":{\"principals\":[\"webadmin\"]},\"requesters\":"
	    "[\"group:eng\"],\"approvers\":[\"group:sre\"],"
	    "\"approvals_required\":1,\"max_duration\":\"1h\","
	    "\"require_reason\":true}]", 0, NULL));
	ck_assert_int_eq(json_dump_file(c, cfg, JSON_INDENT(2)), 0);
	json_decref(c);
	add_user("alice", "eng", alice_b32);
	add_user("bob", "sre", bob_b32);
	{
		char *args[] = { jitd, "-c", cfg, "serve", NULL };
		char *log = tu_path(tmp, "jitd.log");

		jitd_pid = tu_spawn(args, NULL, log);
		free(log);
	}
	ck_assert(tu_wait_port(port, 30) == 0);
	/* sshd's own directory must pass StrictModes: not under /tmp. */
	ck_assert_int_eq(tu_ensure_account(ACCOUNT), 0);
	if (asprintf(&sshdir, "/run/jit-tests/e2e-%d", (int)getpid()) == -1)
		abort();
	mkdir("/run/jit-tests", 0755);
	tu_rmdir(sshdir);
	ck_assert_int_eq(mkdir(sshdir, 0755), 0);
	sshport = tu_free_port();
	p = tu_path(sshdir, "host_ed25519");
	{
		char *kg[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "",
		    "-f", p, NULL };

		o = run(kg, NULL);
		ck_assert_int_eq(o.status, 0);
		tu_out_free(&o);
	}
	free(p);
	if (asprintf(&text, base_cfg, sshport, sshdir) == -1)
		abort();
	p = tu_path(sshdir, "sshd_config");
	tu_write_file(p, text, strlen(text), 0644);
	free(text);
	free(p);
	sshd_pid = 0;
}

static void
teardown(void)
{
	if (tmp == NULL)
		return;
	if (sshd_pid > 0)
		tu_stop(sshd_pid);
	if (jitd_pid > 0)
		tu_stop(jitd_pid);
	tu_rmdir(sshdir);
	tu_rmdir(tmp);
	free(tmp);
	free(inst);
	free(cfg);
	free(jitd);
	free(jit);
	free(jitsession);
	free(sshdir);
}

/* jit server-setup into sshdir, then start sshd from that config. */
static void
configure_and_start_sshd(void)
{
	char *conf = tu_path(sshdir, "sshd_config"), *log, *text;
	char *argv[] = { jit, "server-setup", "--url", url, "--dir", sshdir,
	    "--sshd-config", conf, "--principals-for",
	    "principal:webadmin=" ACCOUNT, "--session-command", jitsession,
	    "--no-reload", NULL };
	char *sshd[] = { "/usr/sbin/sshd", "-D", "-e", "-f", conf, NULL };
	struct tu_out o;

	o = run(argv, NULL);
	ck_assert_msg(o.status == 0, "server-setup: %s %s", o.out, o.err);
	tu_out_free(&o);
	text = tu_read_file(conf, NULL);
	ck_assert(tu_contains(text, "# BEGIN jitd"));
	ck_assert(tu_contains(text, "TrustedUserCAKeys"));
	ck_assert(tu_contains(text, "RevokedKeys"));
	free(text);
	mkdir("/run/sshd", 0755);
	log = tu_path(tmp, "sshd.log");
	sshd_pid = tu_spawn(sshd, NULL, log);
	free(log);
	ck_assert(tu_wait_port(sshport, 20) == 0);
	free(conf);
}

static long
wait_pid(pid_t pid, int timeout_s)
{
	time_t end = time(NULL) + timeout_s;
	int st;

	while (time(NULL) <= end) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) :
			    128 + WTERMSIG(st);
		usleep(100000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

/* alice asks at her terminal with --wait; bob approves at his. */
static long
request_and_approve(const char *dur)
{
	char *areq[] = { jit, "request", "web", "--for", (char *)dur,
	    "--reason", "deploy hotfix", "--wait", NULL };
	char *bapp[] = { jit, "approvals", "--json", NULL };
	struct tu_pty a, b;
	struct tu_out o;
	json_t *j;
	char ids[32];
	long id = 0;
	int i;

	ck_assert_int_eq(tu_pty_spawn(&a, areq, person("alice")), 0);
	ck_assert_msg(tu_pty_expect(&a, "waiting", 30) == 0, "%s", a.seen);
	for (i = 0; i < 50 && id == 0; i++) {
		o = run(bapp, person("bob"));
		j = json_loads(o.out, 0, NULL);
		if (json_array_size(json_object_get(j, "requests")) > 0)
			id = (long)json_integer_value(json_object_get(
			    json_array_get(json_object_get(j, "requests"), 0),
			    "id"));
		json_decref(j);
		tu_out_free(&o);
		if (id == 0)
			usleep(100000);
	}
	ck_assert_int_gt(id, 0);
	snprintf(ids, sizeof(ids), "%ld", id);
	{
		char *bok[] = { jit, "approve", ids, "--comment", "go", NULL };

		ck_assert_int_eq(tu_pty_spawn(&b, bok, person("bob")), 0);
		ck_assert_msg(tu_pty_finish(&b, 60) == 0, "%s", b.seen);
		tu_pty_free(&b);
	}
	ck_assert_msg(tu_pty_finish(&a, 60) == 0, "wait: %s", a.seen);
	ck_assert(tu_contains(a.seen, "bob approved"));
	tu_pty_free(&a);
	return id;
}

static struct tu_out
jit_ssh(long id, const char *command)
{
	char ids[32], portarg[16];
	char *argv[] = { jit, "ssh", ids, "-p", portarg, "-o",
	    "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
	    "-o", "BatchMode=yes", ACCOUNT "@127.0.0.1", (char *)command,
	    NULL };

	snprintf(ids, sizeof(ids), "%ld", id);
	snprintf(portarg, sizeof(portarg), "%d", sshport);
	return run(argv, person("alice"));
}

static pid_t
jit_ssh_background(long id, const char *command, const char *logname)
{
	char ids[32], portarg[16], *log = tu_path(tmp, logname);
	char *argv[] = { jit, "ssh", ids, "-p", portarg, "-o",
	    "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
	    "-o", "BatchMode=yes", ACCOUNT "@127.0.0.1", (char *)command,
	    NULL };
	pid_t pid;

	snprintf(ids, sizeof(ids), "%ld", id);
	snprintf(portarg, sizeof(portarg), "%d", sshport);
	pid = tu_spawn(argv, person("alice"), log);
	free(log);
	return pid;
}

START_TEST(new_user_end_to_end)
{
	struct stat st;
	struct tu_out o;
	char *p, *exp, *key, *d, ids[32];
	long id, id2;
	pid_t bg;
	time_t t0;
	size_t len;

	if (tmp == NULL) {
		fprintf(stderr, "check_e2e: skipped (needs root and sshd)\n");
		return;
	}
	tty_login("alice", alice_b32, (int64_t)time(NULL));
	tty_login("bob", bob_b32, (int64_t)time(NULL));
	p = tu_path(tmp, "alice/session.json");
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	free(p);
	configure_and_start_sshd();

	id = request_and_approve("20m");
	o = jit_ssh(id, "id -un");
	ck_assert_msg(o.status == 0 && strcmp(o.out, ACCOUNT "\n") == 0,
	    "jit ssh: %d %s %s", o.status, o.out, o.err);
	tu_out_free(&o);
	snprintf(ids, sizeof(ids), "certs/%ld", id);
	p = tu_path(tmp, "alice");
	{
		char *k = tu_path(p, ids);

		ck_assert_int_eq(stat(k, &st), 0);
		ck_assert_int_eq(st.st_mode & 0777, 0600);
		free(k);
	}
	free(p);

	/* An open session; bob revokes; krl-refresh; it is ended. */
	bg = jit_ssh_background(id, "sleep 120", "open-session.log");
	usleep(1500000);
	ck_assert_int_eq(waitpid(bg, NULL, WNOHANG), 0);	/* still open */
	snprintf(ids, sizeof(ids), "%ld", id);
	{
		char *rv[] = { jit, "revoke", ids, NULL };
		char *kr[] = { jit, "krl-refresh", "--url", url, "--dir",
		    sshdir, NULL };

		o = run(rv, person("bob"));
		ck_assert_msg(o.status == 0, "revoke: %s", o.err);
		tu_out_free(&o);
		o = run(kr, NULL);
		ck_assert_msg(o.status == 0, "krl-refresh: %s", o.err);
		tu_out_free(&o);
	}
	t0 = time(NULL);
	ck_assert_int_ne(wait_pid(bg, 30), -1);
	ck_assert_msg(time(NULL) - t0 < 30, "session not ended");
	p = tu_path(tmp, "open-session.log");
	d = tu_read_file(p, NULL);
	ck_assert_msg(tu_contains(d, "revoked"), "%s", d);
	free(d);
	free(p);
	/* alice's next login fails (the certificate is in the KRL). */
	o = jit_ssh(id, "id -un");
	ck_assert_int_ne(o.status, 0);
	tu_out_free(&o);

	/*
	 * A session left open is ended within seconds of the grant's end
	 * (measured from the grant's own end, so a slow machine only makes
	 * the login later, not the check wrong).
	 */
	id2 = request_and_approve("20s");
	{
		char sid[32];
		char *sargs[] = { jit, "status", sid, "--json", NULL };
		json_t *j;

		snprintf(sid, sizeof(sid), "%ld", id2);
		o = run(sargs, person("alice"));
		ck_assert_int_eq(o.status, 0);
		j = json_loads(o.out, 0, NULL);
		t0 = (time_t)json_integer_value(json_object_get(j,
		    "grant_end"));
		json_decref(j);
		tu_out_free(&o);
	}
	bg = jit_ssh_background(id2, "sleep 120", "grant-end.log");
	ck_assert_int_ne(wait_pid(bg, 60), -1);
	ck_assert_msg(time(NULL) <= t0 + 10, "ended %lds after the grant",
	    (long)(time(NULL) - t0));
	p = tu_path(tmp, "grant-end.log");
	d = tu_read_file(p, NULL);
	ck_assert_msg(tu_contains(d, "grant ended"), "%s", d);
	free(d);
	free(p);

	/* The audit export verifies offline, and not after one byte. */
	{
		char *ex[] = { jit, "audit", "export", NULL };

		o = run(ex, person("bob"));
		ck_assert_int_eq(o.status, 0);
	}
	exp = tu_path(tmp, "audit.jsonl");
	tu_write_file(exp, o.out, strlen(o.out), 0600);
	ck_assert(tu_contains(o.out, "\"action\":\"cert.issue\""));
	ck_assert(tu_contains(o.out, "\"action\":\"request.revoke\""));
	tu_out_free(&o);
	key = tu_path(inst, "audit.pub");
	{
		char *vf[] = { jit, "audit", "verify", exp, "--key", key,
		    NULL };

		o = run(vf, NULL);
		ck_assert_msg(o.status == 0, "%s", o.out);
		tu_out_free(&o);
		d = tu_read_file(exp, &len);
		d[len / 2] ^= 0x01;
		tu_write_file(exp, d, len, 0600);
		free(d);
		o = run(vf, NULL);
		ck_assert_int_eq(o.status, 1);
		tu_out_free(&o);
	}
	free(exp);
	free(key);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("e2e");
	TCase *tc = tcase_create("new-user");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, new_user_end_to_end);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
