/*
 * jit cert and jit ssh against a broker running in-process with an
 * injected clock: the real bin/jit logs alice in, then gets SSH
 * certificates into files (checked with ssh-keygen), into a real
 * ssh-agent with a lifetime (checked with ssh-add), X.509 files (checked
 * with openssl verify), and logs in to a real sshd through jit ssh,
 * reusing the certificate the second time.  Refusals show the broker's
 * message and exit 1; bad usage exits 2.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <check.h>
#include <fcntl.h>
#include <signal.h>
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
#include "clients/agent.h"
#include "clients/sshkeyfile.h"
#include "common/b64.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/secret.h"
#include "tests/lib/instdb.h"
#include "tests/lib/http.h"
#include "tests/lib/sshd.h"
#include "tests/lib/testutil.h"

#define PW "correct horse battery"

static volatile int64_t fake_now;
static char *tmp, *inst, *cfgpath, *base, *home, *pwfile;
static char alice_b32[64], alice_tok[64], carol_b32[64], carol_tok[64];
static struct server *srv;

static const char roles_json[] =
"[{\"name\":\"auto-ssh\",\"ssh\":{\"principals\":[\"webadmin\"],"
"  \"extensions\":[\"permit-pty\"]},"
"  \"requesters\":[\"group:eng\"],\"approvers\":[\"group:sre\"],"
"  \"approvals_required\":0,\"max_duration\":\"1h\","
"  \"require_reason\":false},"
" {\"name\":\"auto-x509\",\"x509\":{\"organizational_unit\":\"db\"},"
"  \"requesters\":[\"group:eng\"],\"approvers\":[\"group:sre\"],"
"  \"approvals_required\":0,\"max_duration\":\"30m\","
"  \"require_reason\":false},"
" {\"name\":\"prod-ssh\",\"ssh\":{\"principals\":[\"webadmin\"]},"
"  \"requesters\":[\"group:eng\"],\"approvers\":[\"group:sre\"],"
"  \"approvals_required\":1,\"max_duration\":\"1h\","
"  \"require_reason\":false}]";

static int64_t
fake_clock(void)
{
	return fake_now;
}

static void
add_user(const char *name, const char *groups, char b32[64])
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

/*
 * Runs bin/jit with JIT_HOME and JIT_URL set and no agent unless sock is
 * given; returns its exit status with the output in *o.
 */
static int
jit(char *const args[], const char *sock, struct tu_out *o)
{
	char *argv[32], *env[4], *e1, *e2, *e3, *bin = tu_bin("jit");
	int n = 0, i;

	argv[n++] = bin;
	for (i = 0; args[i] != NULL && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (asprintf(&e1, "JIT_HOME=%s", home) == -1 ||
	    asprintf(&e2, "JIT_URL=%s", base) == -1 ||
	    asprintf(&e3, "SSH_AUTH_SOCK=%s", sock != NULL ? sock : "") == -1)
		abort();
	env[0] = e1;
	env[1] = e2;
	env[2] = e3;
	env[3] = NULL;
	ck_assert_int_eq(tu_run(argv, NULL, env, 60, o), 0);
	free(e1);
	free(e2);
	free(e3);
	free(bin);
	return o->status;
}

/* Runs argv and returns its stdout (asserting success). */
static char *
run_ok(char *const argv[], char *const env[])
{
	struct tu_out o;
	char *s;

	ck_assert_int_eq(tu_run(argv, NULL, env, 30, &o), 0);
	ck_assert_msg(o.status == 0, "%s: %d %s %s", argv[0], o.status, o.out,
	    o.err);
	s = strdup(o.out);
	tu_out_free(&o);
	return s;
}

static void
http_login(const char *name, const char *b32, char tok[64])
{
	struct tu_resp r;
	char code[7], body[256], url[256];

	tu_totp(b32, fake_now, code);
	snprintf(body, sizeof(body), "{\"user\":\"%s\",\"password\":\"" PW
	    "\",\"otp\":\"%s\"}", name, code);
	snprintf(url, sizeof(url), "%s/v1/login", base);
	ck_assert_int_eq(tu_http("POST", url, NULL, body, strlen(body), NULL,
	    NULL, NULL, &r), 0);
	ck_assert_msg(r.status == 200, "login %s: %s", name, r.body);
	snprintf(tok, 64, "%s", tu_jstr(&r, "token"));
	tu_resp_free(&r);
}

static void
setup(void)
{
	json_t *c, *roles, *s;
	char *err = NULL, listen[64], code[7], *sess;
	char *login[] = { "login", "--user", "alice", "--password-file",
	    NULL, "--otp", code, NULL };
	struct tu_out o;
	int port = tu_free_port();

	tmp = tu_mkdtemp("cert");
	inst = tu_path(tmp, "inst");
	home = tu_path(tmp, "home");
	pwfile = tu_path(tmp, "pw");
	cfgpath = tu_path(inst, "jitd.json");
	tu_write_file(pwfile, PW "\n", strlen(PW) + 1, 0600);
	ck_assert_msg(tu_instance_create(inst, &err) == JIT_OK, "%s", err);
	ck_assert_ptr_nonnull(c = json_load_file(cfgpath, 0, NULL));
	ck_assert_ptr_nonnull(roles = json_loads(roles_json, 0, NULL));
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	json_object_set_new(c, "listen", json_string(listen));
	json_object_set_new(c, "roles", roles);
	json_object_set_new(c, "threads", json_integer(2));
	ck_assert_int_eq(json_dump_file(c, cfgpath, JSON_INDENT(2)), 0);
	json_decref(c);
	add_user("alice", "eng", alice_b32);
	add_user("carol", "eng", carol_b32);
	fake_now = (time(NULL) / 30) * 30 + 5;
	jit_clock_set(fake_clock);
	ck_assert_msg(serve_open(cfgpath, NULL, &srv, &err) == JIT_OK, "%s",
	    err);
	if (asprintf(&base, "http://127.0.0.1:%d", port) == -1)
		abort();
	/* alice's session is the CLI's; the test borrows its token. */
	login[4] = pwfile;
	tu_totp(alice_b32, fake_now, code);
	ck_assert_msg(jit(login, NULL, &o) == 0, "jit login: %s", o.err);
	tu_out_free(&o);
	sess = tu_path(home, "session.json");
	ck_assert_ptr_nonnull(s = json_load_file(sess, 0, NULL));
	snprintf(alice_tok, sizeof(alice_tok), "%s",
	    json_string_value(json_object_get(s, "token")));
	json_decref(s);
	free(sess);
	http_login("carol", carol_b32, carol_tok);
}

static void
teardown(void)
{
	serve_close(srv);
	srv = NULL;
	jit_clock_set(NULL);
	tu_rmdir(tmp);
	free(tmp);
	free(inst);
	free(cfgpath);
	free(base);
	free(home);
	free(pwfile);
}

/* Creates a request with tok; returns its id after checking its state. */
static long long
request(const char *tok, const char *role, const char *duration,
    const char *state)
{
	struct tu_resp r;
	char url[256], body[256];
	long long id;

	snprintf(url, sizeof(url), "%s/v1/requests", base);
	snprintf(body, sizeof(body), "{\"role\":\"%s\",\"duration\":\"%s\"}",
	    role, duration);
	ck_assert_int_eq(tu_http("POST", url, tok, body, strlen(body), NULL,
	    NULL, NULL, &r), 0);
	ck_assert_msg(r.status == 201, "create: %ld %s", r.status, r.body);
	ck_assert_str_eq(tu_jstr(&r, "state"), state);
	id = json_integer_value(json_object_get(r.json, "id"));
	tu_resp_free(&r);
	return id;
}

static void
assert_mode(const char *path, mode_t want)
{
	struct stat st;

	ck_assert_msg(lstat(path, &st) == 0, "%s missing", path);
	ck_assert_msg((st.st_mode & 07777) == want, "%s: mode %o", path,
	    (unsigned)(st.st_mode & 07777));
}

/* Reads a certificate file's serial through the client's own parser. */
static uint64_t
cert_serial(const char *path)
{
	struct skf_cert sc;
	uint8_t *blob;
	size_t len, bloblen;
	char *text = tu_read_file(path, &len);

	ck_assert_int_eq(skf_cert_line_decode(text, len, &blob, &bloblen,
	    &sc), JIT_OK);
	free(blob);
	free(text);
	return sc.serial;
}

START_TEST(usage_and_help)
{
	char *h1[] = { "cert", "--help", NULL };
	char *h2[] = { "ssh", "--help", NULL };
	char *u1[] = { "cert", NULL };
	char *u2[] = { "cert", "abc", NULL };
	char *u3[] = { "cert", "1", "--bogus", NULL };
	char *u4[] = { "ssh", NULL };
	char *u5[] = { "ssh", "0x1", "host", NULL };
	char *u6[] = { "cert", "1", "2", NULL };
	char **bad[] = { u1, u2, u3, u4, u5, u6 };
	struct tu_out o;
	size_t i;

	ck_assert_int_eq(jit(h1, NULL, &o), 0);
	ck_assert(tu_contains(o.out, "usage: jit cert ID"));
	tu_out_free(&o);
	ck_assert_int_eq(jit(h2, NULL, &o), 0);
	ck_assert(tu_contains(o.out, "usage: jit ssh ID"));
	tu_out_free(&o);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(jit(bad[i], NULL, &o) == 2, "case %zu: %d", i,
		    o.status);
		ck_assert(tu_contains(o.err, "usage:"));
		tu_out_free(&o);
	}
}
END_TEST

START_TEST(ssh_cert_files)
{
	char ids[32], *key, *cert, *certs, *out2, *s, fp[128], keyid[128];
	char *args[] = { "cert", ids, "--no-agent", NULL };
	char *jargs[] = { "--json", "cert", ids, "--out", NULL, NULL };
	struct tu_out o;
	json_t *j;
	long long id;

	id = request(alice_tok, "auto-ssh", "30m", "approved");
	snprintf(ids, sizeof(ids), "%lld", id);
	ck_assert_msg(jit(args, NULL, &o) == 0, "jit cert: %s", o.err);
	ck_assert(tu_contains(o.err, "-cert.pub"));
	tu_out_free(&o);
	certs = tu_path(home, "certs");
	key = tu_path(certs, ids);
	if (asprintf(&cert, "%s-cert.pub", key) == -1)
		abort();
	assert_mode(certs, 0700);
	assert_mode(key, 0600);
	assert_mode(cert, 0600);
	s = tu_read_file(key, NULL);
	ck_assert(strncmp(s, "-----BEGIN OPENSSH PRIVATE KEY-----\n", 36) ==
	    0);
	free(s);
	/* ssh-keygen loads the key, and it is the certified one. */
	{
		char *y[] = { "ssh-keygen", "-y", "-f", key, NULL };
		char *l[] = { "ssh-keygen", "-l", "-f", key, NULL };
		char *lc[] = { "ssh-keygen", "-L", "-f", cert, NULL };

		s = run_ok(y, NULL);
		ck_assert(strncmp(s, "ssh-ed25519 AAAA", 16) == 0);
		free(s);
		s = run_ok(l, NULL);
		ck_assert_int_eq(sscanf(s, "%*s %127s", fp), 1);
		free(s);
		s = run_ok(lc, NULL);
		ck_assert(tu_contains(s, "Principals: \n"
		    "                webadmin\n"));
		snprintf(keyid, sizeof(keyid), "jitd:alice:%lld:%llu", id,
		    (unsigned long long)cert_serial(cert));
		ck_assert(tu_contains(s, keyid));
		ck_assert_msg(tu_contains(s, fp), "%s not in %s", fp, s);
		free(s);
	}
	/* --json with --out: the broker's answer plus the paths. */
	out2 = tu_path(tmp, "elsewhere");
	jargs[4] = out2;
	ck_assert_msg(jit(jargs, NULL, &o) == 0, "jit cert --json: %s", o.err);
	ck_assert_ptr_nonnull(j = json_loads(o.out, 0, NULL));
	tu_out_free(&o);
	s = tu_path(out2, ids);
	ck_assert_str_eq(json_string_value(json_object_get(j, "key_file")), s);
	ck_assert(json_is_false(json_object_get(j, "agent")));
	ck_assert(strncmp(json_string_value(json_object_get(j,
	    "certificate")), "ssh-ed25519-cert-v01@openssh.com ", 33) == 0);
	ck_assert_ptr_nonnull(json_object_get(j, "serial"));
	assert_mode(out2, 0700);
	assert_mode(s, 0600);
	json_decref(j);
	free(s);
	free(out2);
	free(key);
	free(cert);
	free(certs);
}
END_TEST

/*
 * Starts ssh-agent -D on a socket in tmp; returns its pid.  It dies with
 * the test process even when an assertion ends that early.
 */
static pid_t
start_agent(char **sockp)
{
	char *sock = tu_path(tmp, "agent.sock");
	struct stat st;
	pid_t pid;
	int i, fd;

	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("ssh-agent", "ssh-agent", "-D", "-a", sock,
		    (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100 && stat(sock, &st) == -1; i++)
		usleep(50000);
	ck_assert_msg(stat(sock, &st) == 0, "ssh-agent did not start");
	*sockp = sock;
	return pid;
}

/* ssh-add -l or -L against sock; returns its stdout (malloc'd). */
static char *
ssh_add(const char *flag, const char *sock)
{
	char *argv[] = { "ssh-add", (char *)flag, NULL };
	char *env[2], *e;
	struct tu_out o;
	char *s;

	if (asprintf(&e, "SSH_AUTH_SOCK=%s", sock) == -1)
		abort();
	env[0] = e;
	env[1] = NULL;
	ck_assert_int_eq(tu_run(argv, NULL, env, 30, &o), 0);
	s = strdup(o.out);
	tu_out_free(&o);
	free(e);
	return s;
}

START_TEST(ssh_cert_agent)
{
	char ids[32], sids[32], *sock, *s, *certs, *key, keyid[128], skid[128];
	char *args[] = { "--json", "cert", ids, NULL };
	char *sargs[] = { "cert", sids, NULL };
	struct tu_out o;
	const char *line, *b64;
	json_t *j;
	long long id, sid;
	pid_t agent;
	int i, gone = 0;

	agent = start_agent(&sock);
	id = request(alice_tok, "auto-ssh", "30m", "approved");
	snprintf(ids, sizeof(ids), "%lld", id);
	ck_assert_msg(jit(args, sock, &o) == 0, "jit cert: %s", o.err);
	ck_assert_ptr_nonnull(j = json_loads(o.out, 0, NULL));
	tu_out_free(&o);
	ck_assert(json_is_true(json_object_get(j, "agent")));
	ck_assert_ptr_null(json_object_get(j, "key_file"));
	snprintf(keyid, sizeof(keyid), "%s",
	    json_string_value(json_object_get(j, "key_id")));
	/* The private key never touched the disk. */
	certs = tu_path(home, "certs");
	key = tu_path(certs, ids);
	ck_assert(access(key, F_OK) == -1);
	/* ssh-add sees the certificate, under its key id. */
	s = ssh_add("-l", sock);
	ck_assert_msg(tu_contains(s, keyid) && tu_contains(s,
	    "(ED25519-CERT)"), "ssh-add -l: %s", s);
	free(s);
	line = json_string_value(json_object_get(j, "certificate"));
	ck_assert_ptr_nonnull(b64 = strchr(line, ' '));
	s = ssh_add("-L", sock);
	ck_assert(tu_contains(s, "ssh-ed25519-cert-v01@openssh.com "));
	ck_assert_msg(tu_contains(s, b64), "ssh-add -L: %s", s);
	free(s);
	json_decref(j);
	/*
	 * A grant that ends in a few seconds: the agent drops its key then,
	 * while the first one stays.  The broker's clock is set a second
	 * ahead so that the lifetime, counted by jit on the real clock, is
	 * about five seconds.
	 */
	if (fake_now < time(NULL) + 1)
		fake_now = time(NULL) + 1;
	sid = request(alice_tok, "auto-ssh", "4s", "approved");
	snprintf(sids, sizeof(sids), "%lld", sid);
	ck_assert_msg(jit(sargs, sock, &o) == 0, "jit cert: %s", o.err);
	ck_assert(tu_contains(o.err, "ssh-agent"));
	tu_out_free(&o);
	snprintf(skid, sizeof(skid), "jitd:alice:%lld:", sid);
	s = ssh_add("-l", sock);
	ck_assert_msg(tu_contains(s, skid), "ssh-add -l: %s", s);
	free(s);
	for (i = 0; i < 60 && !gone; i++) {
		s = ssh_add("-l", sock);
		gone = !tu_contains(s, skid);
		ck_assert(tu_contains(s, keyid));
		free(s);
		if (!gone)
			usleep(250000);
	}
	ck_assert_msg(gone, "the short-lived key is still in the agent");
	tu_stop(agent);
	free(sock);
	free(key);
	free(certs);
}
END_TEST

START_TEST(x509_files)
{
	char ids[32], *certs, *key, *crt, *ca, *s, *p1, *p2;
	char *args[] = { "cert", ids, "--x509", NULL };
	struct tu_out o;
	long long id;

	id = request(alice_tok, "auto-x509", "10m", "approved");
	snprintf(ids, sizeof(ids), "%lld", id);
	ck_assert_msg(jit(args, NULL, &o) == 0, "jit cert --x509: %s", o.err);
	certs = tu_path(home, "certs");
	if (asprintf(&key, "%s/%s.key", certs, ids) == -1 ||
	    asprintf(&crt, "%s/%s.crt", certs, ids) == -1)
		abort();
	ca = tu_path(certs, "ca.crt");
	ck_assert(tu_contains(o.out, key));
	ck_assert(tu_contains(o.out, crt));
	ck_assert(tu_contains(o.out, ca));
	tu_out_free(&o);
	assert_mode(certs, 0700);
	assert_mode(key, 0600);
	s = tu_read_file(key, NULL);
	ck_assert(tu_contains(s, "-----BEGIN PRIVATE KEY-----"));
	free(s);
	{
		char *ver[] = { "openssl", "verify", "-CAfile", ca, "-purpose",
		    "sslclient", crt, NULL };
		char *sub[] = { "openssl", "x509", "-noout", "-subject", "-in",
		    crt, NULL };
		char *xp[] = { "openssl", "x509", "-noout", "-pubkey", "-in",
		    crt, NULL };
		char *kp[] = { "openssl", "pkey", "-pubout", "-in", key, NULL };
		char *kt[] = { "openssl", "pkey", "-noout", "-text", "-in", key,
		    NULL };

		free(run_ok(ver, NULL));
		s = run_ok(sub, NULL);
		ck_assert_msg(tu_contains(s, "CN = alice") &&
		    tu_contains(s, "OU = db"), "subject: %s", s);
		free(s);
		p1 = run_ok(xp, NULL);
		p2 = run_ok(kp, NULL);
		ck_assert_str_eq(p1, p2);
		free(p1);
		free(p2);
		s = run_ok(kt, NULL);
		ck_assert(tu_contains(s, "prime256v1"));
		free(s);
	}
	free(key);
	free(crt);
	free(ca);
	free(certs);
}
END_TEST

START_TEST(refusals)
{
	char ids[32], code[7];
	char *args[] = { "cert", ids, "--no-agent", NULL };
	char *xargs[] = { "cert", ids, "--x509", NULL };
	char *oargs[] = { "--otp", code, "cert", ids, "--no-agent", NULL };
	char *sargs[] = { "ssh", ids, "true", NULL };
	struct tu_out o;
	long long id;
	char *certs;

	/* carol's grant is not alice's to use. */
	id = request(carol_tok, "auto-ssh", "10m", "approved");
	snprintf(ids, sizeof(ids), "%lld", id);
	ck_assert_int_eq(jit(args, NULL, &o), 1);
	ck_assert_msg(tu_contains(o.err, "no such request") &&
	    tu_contains(o.err, "404"), "%s", o.err);
	tu_out_free(&o);
	/* jit ssh says the same and never runs ssh. */
	ck_assert_int_eq(jit(sargs, NULL, &o), 1);
	ck_assert(tu_contains(o.err, "no such request"));
	tu_out_free(&o);
	/* A pending request is not a grant. */
	id = request(alice_tok, "prod-ssh", "10m", "pending");
	snprintf(ids, sizeof(ids), "%lld", id);
	ck_assert_int_eq(jit(args, NULL, &o), 1);
	ck_assert_msg(tu_contains(o.err, "409"), "%s", o.err);
	tu_out_free(&o);
	/* An SSH-only role has no X.509 certificates. */
	id = request(alice_tok, "auto-ssh", "10m", "approved");
	snprintf(ids, sizeof(ids), "%lld", id);
	ck_assert_int_eq(jit(xargs, NULL, &o), 1);
	ck_assert_msg(tu_contains(o.err, "grants no X.509"), "%s", o.err);
	tu_out_free(&o);
	/*
	 * An hour later the grant has ended; the stale MFA is refreshed with
	 * --otp, then the broker says the grant is over.
	 */
	fake_now += 3600;
	tu_totp(alice_b32, fake_now, code);
	ck_assert_int_eq(jit(oargs, NULL, &o), 1);
	ck_assert_msg(tu_contains(o.err, "410"), "%s", o.err);
	tu_out_free(&o);
	certs = tu_path(home, "certs");
	ck_assert(access(certs, F_OK) == -1);
	free(certs);
	/* Without a session. */
	free(home);
	home = tu_path(tmp, "nobody");
	ck_assert_int_eq(jit(args, NULL, &o), 1);
	ck_assert(tu_contains(o.err, "not logged in"));
	tu_out_free(&o);
}
END_TEST

START_TEST(ssh_login)
{
	static const char *const princ[] = { "webadmin", NULL };
	struct tu_sshd_account acct = { "jitt-web", princ };
	struct tu_sshd_opts so;
	struct tu_sshd *sshd = NULL;
	struct tu_resp r;
	struct tu_out o;
	const char *why;
	char ids[32], port[16], url[256], keyid[128], *certp, *c1, *c2, *ca;
	char *args[] = { "ssh", ids, "-p", port, "-F", "/dev/null", "-o",
	    "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
	    "-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
	    "jitt-web@127.0.0.1", "id", "-un", NULL };
	long long id;
	size_t mark;

	if (!tu_sshd_available(&why)) {
		fprintf(stderr, "ssh_login skipped: %s\n", why);
		return;
	}
	snprintf(url, sizeof(url), "%s/v1/ca/ssh?format=text", base);
	ck_assert_int_eq(tu_http("GET", url, NULL, NULL, 0, NULL, NULL, NULL,
	    &r), 0);
	ck_assert_int_eq(r.status, 200);
	ca = strdup(r.body);
	tu_resp_free(&r);
	memset(&so, 0, sizeof(so));
	so.trusted_ca_keys = ca;
	so.accounts = &acct;
	so.naccounts = 1;
	ck_assert_ptr_nonnull(sshd = tu_sshd_start(&so));
	snprintf(port, sizeof(port), "%d", tu_sshd_port(sshd));
	id = request(alice_tok, "auto-ssh", "30m", "approved");
	snprintf(ids, sizeof(ids), "%lld", id);
	ck_assert_int_eq(jit(args, NULL, &o), 0);
	ck_assert_msg(o.status == 0 && strcmp(o.out, "jitt-web\n") == 0,
	    "jit ssh: %d %s %s", o.status, o.out, o.err);
	ck_assert(tu_contains(o.err, "-cert.pub"));
	tu_out_free(&o);
	if (asprintf(&certp, "%s/certs/%s-cert.pub", home, ids) == -1)
		abort();
	c1 = tu_read_file(certp, NULL);
	snprintf(keyid, sizeof(keyid), "jitd:alice:%lld:%llu", id,
	    (unsigned long long)cert_serial(certp));
	ck_assert(tu_sshd_wait_log(sshd, keyid, 5));
	/* The second time the same certificate is used: no new one. */
	mark = tu_sshd_log_mark(sshd);
	ck_assert_int_eq(jit(args, NULL, &o), 0);
	ck_assert_msg(strcmp(o.out, "jitt-web\n") == 0, "%s %s", o.out,
	    o.err);
	ck_assert(!tu_contains(o.err, "-cert.pub"));
	tu_out_free(&o);
	c2 = tu_read_file(certp, NULL);
	ck_assert_str_eq(c1, c2);
	ck_assert(tu_sshd_wait_log_since(sshd, mark, keyid, 5));
	/*
	 * A certificate with less than 30 s left is replaced: a grant of 20
	 * seconds (the broker's clock a second ahead of the real one) gives
	 * one on the first run and another on the second.
	 */
	if (fake_now < time(NULL) + 1)
		fake_now = time(NULL) + 1;
	id = request(alice_tok, "auto-ssh", "20s", "approved");
	snprintf(ids, sizeof(ids), "%lld", id);
	free(certp);
	if (asprintf(&certp, "%s/certs/%s-cert.pub", home, ids) == -1)
		abort();
	ck_assert_int_eq(jit(args, NULL, &o), 0);
	ck_assert_msg(strcmp(o.out, "jitt-web\n") == 0, "%s %s", o.out,
	    o.err);
	tu_out_free(&o);
	free(c1);
	free(c2);
	c1 = tu_read_file(certp, NULL);
	ck_assert_int_eq(jit(args, NULL, &o), 0);
	ck_assert_msg(strcmp(o.out, "jitt-web\n") == 0, "%s %s", o.out,
	    o.err);
	ck_assert(tu_contains(o.err, "-cert.pub"));
	tu_out_free(&o);
	c2 = tu_read_file(certp, NULL);
	ck_assert_str_ne(c1, c2);
	tu_sshd_stop(sshd);
	free(c1);
	free(c2);
	free(certp);
	free(ca);
}
END_TEST

/* An Ed25519 certificate blob up to its validity, and a tail. */
static struct buf *
fake_cert(const uint8_t pk[SKF_ED25519_PK], uint64_t va, uint64_t vb)
{
	struct buf *b = buf_new(4096);
	uint8_t nonce[32] = { 0 };

	ck_assert_ptr_nonnull(b);
	ck_assert(buf_put_cstring(b, SKF_ED25519_CERT_NAME) == JIT_OK &&
	    buf_put_string(b, nonce, sizeof(nonce)) == JIT_OK &&
	    buf_put_string(b, pk, SKF_ED25519_PK) == JIT_OK &&
	    buf_put_u64(b, 77) == JIT_OK && buf_put_u32(b, 1) == JIT_OK &&
	    buf_put_cstring(b, "jitd:alice:1:77") == JIT_OK &&
	    buf_put_string(b, "\0\0\0\x08webadmin", 12) == JIT_OK &&
	    buf_put_u64(b, va) == JIT_OK && buf_put_u64(b, vb) == JIT_OK &&
	    buf_put_string(b, NULL, 0) == JIT_OK);
	return b;
}

START_TEST(key_and_cert_encodings)
{
	uint8_t pk[SKF_ED25519_PK], sk[SKF_ED25519_SK], got[SKF_ED25519_PK];
	uint8_t *blob, *copy;
	struct skf_cert sc;
	struct buf *b;
	char *pem, *line, *enc;
	size_t pemlen, len, bloblen, i, prefix;

	crypto_sign_ed25519_keypair(pk, sk);
	/* The private key file gives back its public key. */
	ck_assert_int_eq(skf_private_pem(pk, sk, "c", &pem, &pemlen), JIT_OK);
	ck_assert_int_eq(skf_private_pem_pubkey(pem, pemlen, got), JIT_OK);
	ck_assert(memcmp(got, pk, sizeof(pk)) == 0);
	pem[40] = '!';
	ck_assert_int_ne(skf_private_pem_pubkey(pem, pemlen, got), JIT_OK);
	freezero(pem, pemlen);
	/* Exact, every truncation, a giant length, a wrong type. */
	b = fake_cert(pk, 100, 400);
	len = buf_len(b);
	ck_assert_int_eq(skf_cert_parse(buf_ptr(b), len, &sc), JIT_OK);
	ck_assert(sc.serial == 77 && sc.type == 1 && sc.valid_after == 100 &&
	    sc.valid_before == 400 && memcmp(sc.pk, pk, sizeof(pk)) == 0);
	prefix = len - 4;	/* the validity ends before the last string */
	for (i = 0; i < prefix; i++)
		ck_assert_msg(skf_cert_parse(buf_ptr(b), i, &sc) != JIT_OK &&
		    sc.valid_before == 0, "truncated at %zu", i);
	ck_assert_ptr_nonnull(copy = malloc(len));
	memcpy(copy, buf_ptr(b), len);
	memset(copy + 4 + strlen(SKF_ED25519_CERT_NAME), 0xff, 4);
	ck_assert_int_eq(skf_cert_parse(copy, len, &sc), JIT_ERR_LIMIT);
	memcpy(copy, buf_ptr(b), len);
	copy[5] = 'x';
	ck_assert_int_eq(skf_cert_parse(copy, len, &sc), JIT_ERR_KEY_TYPE);
	free(copy);
	/* The line form, with and without a comment. */
	ck_assert_ptr_nonnull(enc = b64_encode(buf_ptr(b), len, B64_STD));
	if (asprintf(&line, "%s %s id\n", SKF_ED25519_CERT_NAME, enc) == -1)
		abort();
	ck_assert_int_eq(skf_cert_line_decode(line, strlen(line), &blob,
	    &bloblen, &sc), JIT_OK);
	ck_assert(bloblen == len && sc.valid_before == 400);
	free(blob);
	line[strlen(line) - 4] = '\0';
	ck_assert_int_eq(skf_cert_line_decode(line, strlen(line), &blob,
	    &bloblen, NULL), JIT_OK);
	free(blob);
	ck_assert_int_eq(skf_cert_line_decode(line + 4, strlen(line + 4),
	    &blob, &bloblen, NULL), JIT_ERR_KEY_TYPE);
	line[strlen(SKF_ED25519_CERT_NAME) + 3] = '*';
	ck_assert_int_eq(skf_cert_line_decode(line, strlen(line), &blob,
	    &bloblen, NULL), JIT_ERR_INVALID_FORMAT);
	free(line);
	free(enc);
	buf_free(b);
}
END_TEST

/* Feeds one canned answer to agent_add_ed25519_cert over a socketpair. */
static int
agent_answer(const void *ans, size_t anslen, struct buf **sent)
{
	uint8_t pk[SKF_ED25519_PK] = { 1 }, sk[SKF_ED25519_SK] = { 2 };
	uint8_t cert[3] = { 'c', 'r', 't' }, msg[4096];
	ssize_t n;
	int sv[2], r;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert(write(sv[1], ans, anslen) == (ssize_t)anslen);
	shutdown(sv[1], SHUT_WR);
	r = agent_add_ed25519_cert(sv[0], cert, sizeof(cert), pk, sk, "cmt",
	    300);
	n = read(sv[1], msg, sizeof(msg));
	ck_assert(n > 0);
	ck_assert_ptr_nonnull(*sent = buf_from(msg, (size_t)n));
	close(sv[0]);
	close(sv[1]);
	return r;
}

START_TEST(agent_messages)
{
	static const uint8_t ok[] = { 0, 0, 0, 1, 6 }, no[] = { 0, 0, 0, 1, 5 };
	static const uint8_t odd[] = { 0, 0, 0, 1, 99 };
	static const uint8_t zero[] = { 0, 0, 0, 0 };
	static const uint8_t giant[] = { 0x7f, 0xff, 0xff, 0xff, 6 };
	static const uint8_t cut[] = { 0, 0, 0, 9, 6 };
	struct buf *b, *m;
	const uint8_t *p;
	size_t n;
	uint32_t u;
	uint8_t t;

	/* What ssh-agent receives, field by field. */
	ck_assert_int_eq(agent_answer(ok, sizeof(ok), &b), JIT_OK);
	ck_assert_int_eq(buf_froms(b, &m), JIT_OK);
	ck_assert_int_eq(buf_len(b), 0);
	ck_assert(buf_get_u8(m, &t) == JIT_OK && t == 25);
	ck_assert(buf_get_string_direct(m, &p, &n) == JIT_OK &&
	    n == strlen(SKF_ED25519_CERT_NAME) &&
	    memcmp(p, SKF_ED25519_CERT_NAME, n) == 0);
	ck_assert(buf_get_string_direct(m, &p, &n) == JIT_OK && n == 3);
	ck_assert(buf_get_string_direct(m, &p, &n) == JIT_OK && n == 32 &&
	    p[0] == 1);
	ck_assert(buf_get_string_direct(m, &p, &n) == JIT_OK && n == 64 &&
	    p[0] == 2);
	ck_assert(buf_get_string_direct(m, &p, &n) == JIT_OK && n == 3);
	ck_assert(buf_get_u8(m, &t) == JIT_OK && t == 1);
	ck_assert(buf_get_u32(m, &u) == JIT_OK && u == 300);
	ck_assert_int_eq(buf_len(m), 0);
	buf_free(m);
	buf_free(b);
	/* Refusal, nonsense, and broken or oversized answers. */
	ck_assert_int_eq(agent_answer(no, sizeof(no), &b), JIT_ERR_PERMISSION);
	buf_free(b);
	ck_assert_int_eq(agent_answer(odd, sizeof(odd), &b),
	    JIT_ERR_INVALID_FORMAT);
	buf_free(b);
	ck_assert_int_eq(agent_answer(zero, sizeof(zero), &b),
	    JIT_ERR_INVALID_FORMAT);
	buf_free(b);
	ck_assert_int_eq(agent_answer(giant, sizeof(giant), &b),
	    JIT_ERR_LIMIT);
	buf_free(b);
	ck_assert_int_eq(agent_answer(cut, sizeof(cut), &b),
	    JIT_ERR_INCOMPLETE);
	buf_free(b);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("cert");
	TCase *tc = tcase_create("cli"), *tu = tcase_create("encodings");
	SRunner *sr;
	int failed;

	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, usage_and_help);
	tcase_add_test(tc, ssh_cert_files);
	tcase_add_test(tc, ssh_cert_agent);
	tcase_add_test(tc, x509_files);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, ssh_login);
	suite_add_tcase(s, tc);
	tcase_add_test(tu, key_and_cert_encodings);
	tcase_add_test(tu, agent_messages);
	suite_add_tcase(s, tu);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed == 0 ? 0 : 1;
}
