/*
 * Certificates from ca/ against the real OpenSSH sshd: what it accepts,
 * what it refuses (expiry, principals, foreign CA, host certificates,
 * source-address, KRL), and that it honours force-command and the
 * permit-pty extension.  One login goes through libssh instead of the ssh
 * binary.  Needs root; without it the binary says why and passes.
 */
#include <check.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <sodium.h>

#include "ca/ca.h"
#include "ca/krl.h"
#include "ca/ssh_cert.h"
#include "ca/sshkey.h"
#include "common/err.h"
#include "tests/lib/sshd.h"
#include "tests/lib/testutil.h"

#define ACCOUNT		"jitt-web"
#define PRINCIPAL	"web-admin"
#define HOUR		(60 * 60)

static const char *const web_principals[] = { PRINCIPAL, NULL };
static const struct tu_sshd_account web_account = {
	ACCOUNT, web_principals
};

/* Per-test state, set by the fixtures inside the forked test process. */
static struct ca *g_ca;
static struct ca_sshkey *g_key;
static char *g_keydir, *g_keyfile, *g_certfile;
static struct tu_sshd *g_sshd;

static time_t g_clock_offset;

static time_t
shifted_clock(void)
{
	return time(NULL) + g_clock_offset;
}

/* Points the CA's clock offset seconds away from now (0: the real clock). */
static void
set_clock_offset(time_t offset)
{
	g_clock_offset = offset;
	ca_set_clock(offset == 0 ? NULL : shifted_clock);
}

/* Creates an Ed25519 key pair at path with ssh-keygen and parses the .pub. */
static struct ca_sshkey *
make_key(const char *path)
{
	char *argv[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
	    "jit test user", "-f", (char *)path, NULL };
	struct ca_sshkey *k = NULL;
	struct tu_out o;
	char *pub, *line;
	size_t len;

	ck_assert_int_eq(tu_run(argv, NULL, NULL, 30, &o), 0);
	ck_assert_msg(o.status == 0, "ssh-keygen: %s", o.err);
	tu_out_free(&o);
	if (asprintf(&pub, "%s.pub", path) == -1)
		abort();
	ck_assert_ptr_nonnull(line = tu_read_file(pub, &len));
	ck_assert_int_eq(ca_sshkey_parse_line(line, len, &k), JIT_OK);
	free(line);
	free(pub);
	return k;
}

struct cert_spec {
	int			 type;		/* 0 means CA_SSH_CERT_USER */
	const char		*principal;	/* NULL means PRINCIPAL */
	const char *const	*principals;	/* overrides principal */
	size_t			 nprincipals;
	uint64_t		 serial;	/* 0: random */
	const char		*force_command;
	const char		*source_address;
	const struct ca_ssh_ext	*extensions;
	size_t			 nextensions;
};

/*
 * Signs g_key with ca as spec says, valid from a minute before the CA's
 * now for ten minutes, with a key id shaped like jitd's, and writes the
 * certificate line to path.  Returns the serial.
 */
static uint64_t
issue(struct ca *ca, const struct cert_spec *spec, const char *path)
{
	struct ca_ssh_cert_req req;
	struct ca_ssh_cert *c = NULL;
	const char *principal;
	char keyid[128], *line;
	uint64_t serial, now = (uint64_t)ca_now();

	serial = spec->serial != 0 ? spec->serial : ca_ssh_random_serial();
	snprintf(keyid, sizeof(keyid), "jitd:alice:42:%" PRIu64, serial);
	principal = spec->principal != NULL ? spec->principal : PRINCIPAL;
	memset(&req, 0, sizeof(req));
	req.type = spec->type != 0 ? spec->type : CA_SSH_CERT_USER;
	req.subject = g_key;
	req.key_id = keyid;
	req.principals = &principal;
	req.nprincipals = 1;
	if (spec->principals != NULL) {
		req.principals = spec->principals;
		req.nprincipals = spec->nprincipals;
	}
	req.valid_after = now - 60;
	req.valid_before = now + 600;
	req.serial = serial;
	req.force_command = spec->force_command;
	req.source_address = spec->source_address;
	req.extensions = spec->extensions;
	req.nextensions = spec->nextensions;
	ck_assert_int_eq(ca_ssh_certify(ca, &req, &c), JIT_OK);
	ck_assert_uint_eq(ca_ssh_cert_serial(c), serial);
	ck_assert_ptr_nonnull(line = ca_ssh_cert_to_line(c, "jit test cert"));
	tu_write_file(path, line, strlen(line), 0644);
	free(line);
	ca_ssh_cert_free(c);
	return serial;
}

/* The user CA public key line of ca (or its host CA key), malloc'd. */
static char *
ca_line(const struct ca *ca, enum ca_slot slot)
{
	char *line;

	ck_assert_ptr_nonnull(line = ca_ssh_pubkey_line(ca, slot, "jit CA"));
	return line;
}

/* Starts an sshd trusting the given CA key line, with an optional KRL. */
static struct tu_sshd *
start_sshd(const char *trusted, const void *krl, size_t krl_len)
{
	struct tu_sshd_opts opts;
	struct tu_sshd *s;

	memset(&opts, 0, sizeof(opts));
	opts.trusted_ca_keys = trusted;
	opts.accounts = &web_account;
	opts.naccounts = 1;
	opts.krl = krl;
	opts.krl_len = krl_len;
	ck_assert_msg((s = tu_sshd_start(&opts)) != NULL,
	    "sshd did not start");
	return s;
}

static void
setup_keys(void)
{
	set_clock_offset(0);
	ck_assert_int_eq(ca_generate("jit test CA", 1, &g_ca), JIT_OK);
	g_keydir = tu_mkdtemp("sshd-keys");
	g_keyfile = tu_path(g_keydir, "id_ed25519");
	g_certfile = tu_path(g_keydir, "id_ed25519-cert.pub");
	g_key = make_key(g_keyfile);
}

/* Keys plus an sshd that trusts g_ca's user key, no KRL. */
static void
setup_sshd(void)
{
	char *trusted;

	setup_keys();
	trusted = ca_line(g_ca, CA_SLOT_SSH_USER);
	g_sshd = start_sshd(trusted, NULL, 0);
	free(trusted);
}

static void
teardown(void)
{
	tu_sshd_stop(g_sshd);
	g_sshd = NULL;
	ca_sshkey_free(g_key);
	g_key = NULL;
	ca_free(g_ca);
	g_ca = NULL;
	set_clock_offset(0);
	tu_rmdir(g_keydir);
	free(g_keydir);
	free(g_keyfile);
	free(g_certfile);
	g_keydir = g_keyfile = g_certfile = NULL;
}

/* Runs command over ssh with g_keyfile and g_certfile. */
static void
ssh_cmd(const char *command, struct tu_out *o)
{
	ck_assert_int_eq(tu_ssh_run(tu_sshd_port(g_sshd), ACCOUNT, g_keyfile,
	    g_certfile, command, o), 0);
}

static void
assert_login_ok(const char *what)
{
	struct tu_out o;
	char *log;

	ssh_cmd("id -un", &o);
	if (o.status != 0) {
		log = tu_sshd_log(g_sshd);
		ck_abort_msg("%s: ssh exited %d: %s\nsshd log:\n%s", what,
		    o.status, o.err, log);
	}
	ck_assert_str_eq(o.out, ACCOUNT "\n");
	tu_out_free(&o);
}

/*
 * Asserts that ssh is refused with the certificate in g_certfile and, if
 * reason is not NULL, that sshd logs it for this connection.
 */
static void
assert_refused(const char *what, const char *reason)
{
	struct tu_out o;
	size_t mark = tu_sshd_log_mark(g_sshd);
	char *log;

	ssh_cmd("id -un", &o);
	ck_assert_msg(o.status == 255 &&
	    tu_contains(o.err, "Permission denied (publickey)"),
	    "%s: expected a refusal, ssh exited %d: out=%s err=%s", what,
	    o.status, o.out, o.err);
	ck_assert_msg(!tu_contains(o.out, ACCOUNT), "%s: ran a command", what);
	tu_out_free(&o);
	if (reason != NULL &&
	    !tu_sshd_wait_log_since(g_sshd, mark, reason, 5)) {
		log = tu_sshd_log(g_sshd);
		ck_abort_msg("%s: sshd did not log \"%s\":\n%s", what, reason,
		    log);
	}
}

START_TEST(login_fresh_cert)
{
	struct cert_spec spec = { .serial = 0x1234abcd5678ULL };
	struct tu_out o;
	char needle[160];
	uint64_t serial;

	serial = issue(g_ca, &spec, g_certfile);
	assert_login_ok("fresh certificate");
	/* sshd's own log ties the login to the certificate's key id. */
	ck_assert(tu_sshd_wait_log(g_sshd, "Accepted publickey for " ACCOUNT
	    " from 127.0.0.1 port", 5));
	snprintf(needle, sizeof(needle), "Accepted certificate ID "
	    "\"jitd:alice:42:%" PRIu64 "\" (serial %" PRIu64 ") signed by "
	    "ED25519 CA", serial, serial);
	ck_assert_msg(tu_sshd_wait_log(g_sshd, needle, 5), "no \"%s\"",
	    needle);
	/* ExposeAuthInfo shows the session which certificate it came with. */
	ssh_cmd("cat \"$SSH_USER_AUTH\"", &o);
	ck_assert_int_eq(o.status, 0);
	ck_assert_msg(tu_contains(o.out,
	    "publickey ssh-ed25519-cert-v01@openssh.com "), "%s", o.out);
	tu_out_free(&o);
}
END_TEST

/*
 * Every subject key type the CA accepts: the public fields it copies into
 * the certificate must be what sshd expects of that key type.
 */
START_TEST(login_other_key_types)
{
	static const char *const types[][2] = {
		{ "ecdsa", "256" }, { "ecdsa", "384" }, { "ecdsa", "521" },
		{ "rsa", "2048" },
	};
	struct cert_spec spec = { 0 };
	char *argv[] = { "ssh-keygen", "-q", "-t", NULL, "-b", NULL, "-N", "",
	    "-f", NULL, NULL };
	char *path, *pub, *line, what[64];
	struct tu_out o;
	size_t i, len;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		snprintf(what, sizeof(what), "id_%s%s", types[i][0],
		    types[i][1]);
		path = tu_path(g_keydir, what);
		argv[3] = (char *)types[i][0];
		argv[5] = (char *)types[i][1];
		argv[9] = path;
		ck_assert_int_eq(tu_run(argv, NULL, NULL, 60, &o), 0);
		ck_assert_msg(o.status == 0, "ssh-keygen %s: %s", what, o.err);
		tu_out_free(&o);
		if (asprintf(&pub, "%s.pub", path) == -1)
			abort();
		ck_assert_ptr_nonnull(line = tu_read_file(pub, &len));
		ca_sshkey_free(g_key);
		g_key = NULL;
		ck_assert_int_eq(ca_sshkey_parse_line(line, len, &g_key),
		    JIT_OK);
		free(line);
		free(pub);
		free(g_keyfile);
		free(g_certfile);
		g_keyfile = path;
		if (asprintf(&g_certfile, "%s-cert.pub", path) == -1)
			abort();
		issue(g_ca, &spec, g_certfile);
		assert_login_ok(what);
	}
}
END_TEST

/*
 * Several principals, both critical options and many extensions given in
 * no particular order: the CA must encode them sorted, as sshd requires.
 */
START_TEST(login_all_options)
{
	static const char *const principals[] = { "db-admin", PRINCIPAL,
	    "ops" };
	static const struct ca_ssh_ext exts[] = {
		{ "permit-user-rc", NULL },
		{ "permit-pty", NULL },
		{ "request@jitd.example", "42" },
		{ "permit-X11-forwarding", NULL },
		{ "permit-agent-forwarding", NULL },
		{ "permit-port-forwarding", NULL },
	};
	struct cert_spec spec = {
		.principals = principals,
		.nprincipals = 3,
		.force_command = "echo all-options",
		.source_address = "192.0.2.0/24,127.0.0.1/32,::1/128",
		.extensions = exts,
		.nextensions = sizeof(exts) / sizeof(exts[0]),
	};
	char *tt[] = { "-tt", NULL };
	struct tu_out o;

	issue(g_ca, &spec, g_certfile);
	ck_assert_int_eq(tu_ssh_runv(tu_sshd_port(g_sshd), ACCOUNT, g_keyfile,
	    g_certfile, tt, "id", &o), 0);
	ck_assert_msg(o.status == 0, "ssh: %s", o.err);
	ck_assert(tu_contains(o.out, "all-options"));
	ck_assert(!tu_contains(o.out, "uid="));
	ck_assert(!tu_contains(o.err, "PTY allocation request failed"));
	tu_out_free(&o);
}
END_TEST

START_TEST(refuse_expired)
{
	struct cert_spec spec = { 0 };

	set_clock_offset(-2 * HOUR);
	issue(g_ca, &spec, g_certfile);
	set_clock_offset(0);
	assert_refused("expired", "Certificate invalid: expired");
}
END_TEST

START_TEST(refuse_not_yet_valid)
{
	struct cert_spec spec = { 0 };

	set_clock_offset(2 * HOUR);
	issue(g_ca, &spec, g_certfile);
	set_clock_offset(0);
	assert_refused("not yet valid", "Certificate invalid: not yet valid");
}
END_TEST

START_TEST(refuse_unmapped_principal)
{
	struct cert_spec spec = { .principal = "db-admin" };

	issue(g_ca, &spec, g_certfile);
	assert_refused("unmapped principal",
	    "Certificate does not contain an authorized principal");
	/* The same key with the mapped principal gets in. */
	spec.principal = PRINCIPAL;
	issue(g_ca, &spec, g_certfile);
	assert_login_ok("mapped principal");
}
END_TEST

START_TEST(refuse_other_ca)
{
	struct cert_spec spec = { .serial = 4242 };
	struct ca *other = NULL;

	ck_assert_int_eq(ca_generate("another CA", 1, &other), JIT_OK);
	issue(other, &spec, g_certfile);
	ca_free(other);
	assert_refused("certificate from another CA",
	    "ID jitd:alice:42:4242 (serial 4242) CA ED25519");
}
END_TEST

START_TEST(refuse_source_address)
{
	struct cert_spec spec = { .source_address = "10.0.0.0/8" };

	issue(g_ca, &spec, g_certfile);
	assert_refused("source-address 10.0.0.0/8",
	    "not from a permitted source address (127.0.0.1)");
	spec.source_address = "10.0.0.0/8,127.0.0.1/32";
	issue(g_ca, &spec, g_certfile);
	assert_login_ok("source-address with 127.0.0.1");
}
END_TEST

START_TEST(force_command)
{
	struct cert_spec spec = { .force_command = "echo forced-by-cert" };
	struct tu_out o;

	issue(g_ca, &spec, g_certfile);
	ssh_cmd("id", &o);
	ck_assert_msg(o.status == 0, "ssh: %s", o.err);
	ck_assert_str_eq(o.out, "forced-by-cert\n");
	ck_assert(!tu_contains(o.out, "uid="));
	tu_out_free(&o);
	ck_assert(tu_sshd_wait_log(g_sshd,
	    "forced-command (key-option) 'echo forced-by-cert'", 5));
}
END_TEST

START_TEST(permit_pty_extension)
{
	static const struct ca_ssh_ext pty[] = { { "permit-pty", NULL } };
	char *tt[] = { "-tt", NULL };
	struct cert_spec spec = { 0 };
	struct tu_out o;

	/* No extensions at all: sshd refuses the pty request. */
	issue(g_ca, &spec, g_certfile);
	ck_assert_int_eq(tu_ssh_runv(tu_sshd_port(g_sshd), ACCOUNT, g_keyfile,
	    g_certfile, tt, "tty", &o), 0);
	ck_assert_msg(tu_contains(o.err, "PTY allocation request failed"),
	    "status %d out=%s err=%s", o.status, o.out, o.err);
	ck_assert(!tu_contains(o.out, "/dev/pts/"));
	tu_out_free(&o);

	spec.extensions = pty;
	spec.nextensions = 1;
	issue(g_ca, &spec, g_certfile);
	ck_assert_int_eq(tu_ssh_runv(tu_sshd_port(g_sshd), ACCOUNT, g_keyfile,
	    g_certfile, tt, "tty", &o), 0);
	ck_assert_msg(o.status == 0 && tu_contains(o.out, "/dev/pts/"),
	    "status %d out=%s err=%s", o.status, o.out, o.err);
	ck_assert(!tu_contains(o.err, "PTY allocation request failed"));
	tu_out_free(&o);
}
END_TEST

/*
 * libssh client side: connects, checks the server's host key against the
 * harness's host key file, and returns the session.
 */
static ssh_session
lssh_connect(void)
{
	unsigned int port = (unsigned int)tu_sshd_port(g_sshd);
	ssh_key srv = NULL, want = NULL;
	ssh_session ss;
	bool no = false;
	long timeout = 10;
	int known;

	ck_assert_ptr_nonnull(ss = ssh_new());
	ck_assert_int_eq(ssh_options_set(ss, SSH_OPTIONS_HOST, "127.0.0.1"),
	    SSH_OK);
	ck_assert_int_eq(ssh_options_set(ss, SSH_OPTIONS_PORT, &port), SSH_OK);
	ck_assert_int_eq(ssh_options_set(ss, SSH_OPTIONS_USER, ACCOUNT),
	    SSH_OK);
	ck_assert_int_eq(ssh_options_set(ss, SSH_OPTIONS_PROCESS_CONFIG, &no),
	    SSH_OK);
	ck_assert_int_eq(ssh_options_set(ss, SSH_OPTIONS_KNOWNHOSTS,
	    "/dev/null"), SSH_OK);
	ck_assert_int_eq(ssh_options_set(ss, SSH_OPTIONS_GLOBAL_KNOWNHOSTS,
	    "/dev/null"), SSH_OK);
	ck_assert_int_eq(ssh_options_set(ss, SSH_OPTIONS_TIMEOUT, &timeout),
	    SSH_OK);
	ck_assert_msg(ssh_connect(ss) == SSH_OK, "ssh_connect: %s",
	    ssh_get_error(ss));
	/* Unknown to known_hosts; accept it because it is the harness's key. */
	known = ssh_session_is_known_server(ss);
	ck_assert(known == SSH_KNOWN_HOSTS_UNKNOWN ||
	    known == SSH_KNOWN_HOSTS_NOT_FOUND);
	ck_assert_int_eq(ssh_get_server_publickey(ss, &srv), SSH_OK);
	ck_assert_int_eq(ssh_pki_import_pubkey_file(tu_sshd_hostkey_pub(g_sshd),
	    &want), SSH_OK);
	ck_assert_int_eq(ssh_key_cmp(srv, want, SSH_KEY_CMP_PUBLIC), 0);
	ssh_key_free(srv);
	ssh_key_free(want);
	return ss;
}

static void
lssh_close(ssh_session ss)
{
	ssh_disconnect(ss);
	ssh_free(ss);
}

/* Runs command on an authenticated session; returns its malloc'd stdout. */
static char *
lssh_exec(ssh_session ss, const char *command, int *status)
{
	ssh_channel ch;
	char *out = NULL, buf[256];
	size_t len = 0;
	FILE *f;
	int n;

	ck_assert_ptr_nonnull(ch = ssh_channel_new(ss));
	ck_assert_int_eq(ssh_channel_open_session(ch), SSH_OK);
	ck_assert_int_eq(ssh_channel_request_exec(ch, command), SSH_OK);
	ck_assert_ptr_nonnull(f = open_memstream(&out, &len));
	while ((n = ssh_channel_read(ch, buf, sizeof(buf), 0)) > 0)
		fwrite(buf, 1, (size_t)n, f);
	fclose(f);
	ck_assert_int_ge(n, 0);
	ssh_channel_send_eof(ch);
	*status = ssh_channel_get_exit_status(ch);
	ssh_channel_close(ch);
	ssh_channel_free(ch);
	return out;
}

START_TEST(libssh_login)
{
	struct cert_spec spec = { .serial = 77001 };
	ssh_key priv = NULL, cert = NULL;
	ssh_session ss;
	char *out;
	int status;

	issue(g_ca, &spec, g_certfile);
	ck_assert_int_eq(ssh_pki_import_privkey_file(g_keyfile, NULL, NULL,
	    NULL, &priv), SSH_OK);

	/* The bare key is not enough: sshd has no authorized_keys. */
	ss = lssh_connect();
	ck_assert_int_eq(ssh_userauth_publickey(ss, NULL, priv),
	    SSH_AUTH_DENIED);
	lssh_close(ss);

	/* Key and certificate together get in. */
	ck_assert_int_eq(ssh_pki_import_cert_file(g_certfile, &cert), SSH_OK);
	ck_assert_int_eq(ssh_pki_copy_cert_to_privkey(cert, priv), SSH_OK);
	ss = lssh_connect();
	ck_assert_msg(ssh_userauth_publickey(ss, NULL, priv) ==
	    SSH_AUTH_SUCCESS, "libssh auth: %s", ssh_get_error(ss));
	out = lssh_exec(ss, "id -un", &status);
	ck_assert_int_eq(status, 0);
	ck_assert_str_eq(out, ACCOUNT "\n");
	free(out);
	lssh_close(ss);
	ssh_key_free(cert);
	ssh_key_free(priv);
	ck_assert(tu_sshd_wait_log(g_sshd,
	    "ID jitd:alice:42:77001 (serial 77001)", 5));
}
END_TEST

/*
 * Offers the certificate in g_certfile through libssh (the ssh binary
 * will not even offer a host certificate for user authentication) and
 * returns the result of ssh_userauth_publickey.
 */
static int
lssh_try_cert(void)
{
	ssh_key priv = NULL, cert = NULL;
	ssh_session ss;
	int r;

	ck_assert_int_eq(ssh_pki_import_privkey_file(g_keyfile, NULL, NULL,
	    NULL, &priv), SSH_OK);
	ck_assert_int_eq(ssh_pki_import_cert_file(g_certfile, &cert), SSH_OK);
	ck_assert_int_eq(ssh_pki_copy_cert_to_privkey(cert, priv), SSH_OK);
	ss = lssh_connect();
	r = ssh_userauth_publickey(ss, NULL, priv);
	lssh_close(ss);
	ssh_key_free(cert);
	ssh_key_free(priv);
	return r;
}

START_TEST(refuse_host_cert)
{
	struct cert_spec spec = { .type = CA_SSH_CERT_HOST, .serial = 5151 };
	size_t mark;
	char *log;

	/* A host certificate by the host CA key, which sshd does not trust. */
	issue(g_ca, &spec, g_certfile);
	assert_refused("host certificate, untrusted host CA", NULL);
	mark = tu_sshd_log_mark(g_sshd);
	ck_assert_int_eq(lssh_try_cert(), SSH_AUTH_DENIED);
	ck_assert(tu_sshd_wait_log_since(g_sshd, mark,
	    "ID jitd:alice:42:5151 (serial 5151) CA ED25519", 5));
	log = tu_sshd_log(g_sshd);
	ck_assert(!tu_contains(log, "Accepted"));
	free(log);
}
END_TEST

START_TEST(refuse_host_cert_trusted_ca)
{
	struct cert_spec spec = { .type = CA_SSH_CERT_HOST };
	char *trusted;
	size_t mark;

	/*
	 * Now the key that signs host certificates is a trusted user CA;
	 * a host certificate must still not log anyone in.
	 */
	trusted = ca_line(g_ca, CA_SLOT_SSH_HOST);
	g_sshd = start_sshd(trusted, NULL, 0);
	free(trusted);
	issue(g_ca, &spec, g_certfile);
	assert_refused("host certificate, trusted CA", NULL);
	mark = tu_sshd_log_mark(g_sshd);
	ck_assert_int_eq(lssh_try_cert(), SSH_AUTH_DENIED);
	ck_assert(tu_sshd_wait_log_since(g_sshd, mark,
	    "Certificate invalid: not a user certificate", 5));
}
END_TEST

START_TEST(refuse_revoked_serial)
{
	struct cert_spec spec = { 0 };
	uint64_t revoked[] = { 1001, 1003 }, both[] = { 1001, 1002, 1003 };
	uint8_t *krl = NULL;
	size_t krl_len = 0;
	char *trusted, revoked_by[PATH_MAX + 32];

	ck_assert_int_eq(ca_krl_build(g_ca, revoked, 2, 1,
	    (uint64_t)ca_now(), "jit test KRL", 1, &krl, &krl_len), JIT_OK);
	trusted = ca_line(g_ca, CA_SLOT_SSH_USER);
	g_sshd = start_sshd(trusted, krl, krl_len);
	free(trusted);
	free(krl);
	snprintf(revoked_by, sizeof(revoked_by), "revoked by file %s",
	    tu_sshd_krl_path(g_sshd));

	spec.serial = 1001;
	issue(g_ca, &spec, g_certfile);
	assert_refused("revoked serial 1001", revoked_by);
	/* A serial the KRL does not name still logs in with it present. */
	spec.serial = 1002;
	issue(g_ca, &spec, g_certfile);
	assert_login_ok("serial 1002 not revoked");
	spec.serial = 1003;
	issue(g_ca, &spec, g_certfile);
	assert_refused("revoked serial 1003", revoked_by);

	/* sshd reads the KRL at each login: revoking 1002 needs no restart. */
	ck_assert_int_eq(ca_krl_build(g_ca, both, 3, 2, (uint64_t)ca_now(),
	    NULL, 0, &krl, &krl_len), JIT_OK);
	ck_assert_int_eq(tu_sshd_set_krl(g_sshd, krl, krl_len), 0);
	free(krl);
	spec.serial = 1002;
	issue(g_ca, &spec, g_certfile);
	assert_refused("serial 1002 revoked later", revoked_by);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("sshd");
	TCase *tc = tcase_create("default sshd");
	TCase *tc2 = tcase_create("own sshd");
	const char *why;
	SRunner *sr;
	int failed;

	if (!tu_sshd_available(&why)) {
		fprintf(stderr, "check_sshd: SKIPPED, %s\n", why);
		return 0;
	}
	if (sodium_init() < 0)
		return 1;
	tcase_set_timeout(tc, 60);
	tcase_set_timeout(tc2, 60);
	tcase_add_checked_fixture(tc, setup_sshd, teardown);
	tcase_add_test(tc, login_fresh_cert);
	tcase_add_test(tc, login_other_key_types);
	tcase_add_test(tc, login_all_options);
	tcase_add_test(tc, refuse_expired);
	tcase_add_test(tc, refuse_not_yet_valid);
	tcase_add_test(tc, refuse_unmapped_principal);
	tcase_add_test(tc, refuse_other_ca);
	tcase_add_test(tc, refuse_source_address);
	tcase_add_test(tc, refuse_host_cert);
	tcase_add_test(tc, force_command);
	tcase_add_test(tc, permit_pty_extension);
	tcase_add_test(tc, libssh_login);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tc2, setup_keys, teardown);
	tcase_add_test(tc2, refuse_host_cert_trusted_ca);
	tcase_add_test(tc2, refuse_revoked_serial);
	suite_add_tcase(s, tc2);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
