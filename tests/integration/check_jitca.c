/*
 * jit-ca as an operator uses it: init with each kind of key protection,
 * public outputs, signing checked by ssh-keygen -L and openssl, KRLs checked
 * by ssh-keygen -Q, and every kind of bad input refused with a clear error
 * and a non-zero exit.
 */
#include <sys/stat.h>

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/testutil.h"

static char *tmp;	/* per-test directory */
static char *jitca;	/* path of bin/jit-ca */
static char *passfile;
static char *cadir;

static void
setup(void)
{
	tmp = tu_mkdtemp("jitca");
	jitca = tu_bin("jit-ca");
	passfile = tu_path(tmp, "pass");
	cadir = tu_path(tmp, "ca");
	tu_write_file(passfile, "s3cret passphrase\n", 18, 0600);
}

static void
teardown(void)
{
	tu_rmdir(tmp);
	free(tmp);
	free(jitca);
	free(passfile);
	free(cadir);
}

/* Runs jit-ca with up to 16 arguments (NULL-terminated). */
static struct tu_out
jc_env(char *const env[], const char *a0, ...)
{
	char *argv[24];
	struct tu_out o;
	va_list ap;
	int i = 0;

	argv[i++] = jitca;
	argv[i++] = (char *)a0;
	va_start(ap, a0);
	while ((argv[i] = va_arg(ap, char *)) != NULL && i < 22)
		i++;
	va_end(ap);
	argv[i] = NULL;
	ck_assert_int_eq(tu_run(argv, NULL, env, 60, &o), 0);
	return o;
}
#define jc(...) jc_env(NULL, __VA_ARGS__)

static void
init_ca(void)
{
	struct tu_out o = jc("init", cadir, "--passphrase-file", passfile,
	    NULL);

	ck_assert_msg(o.status == 0, "init failed: %s", o.err);
	tu_out_free(&o);
}

static char *
keygen(const char *name, const char *type, const char *bits)
{
	char *path = tu_path(tmp, name);
	char *argv[] = { "ssh-keygen", "-q", "-t", (char *)type, "-b",
	    (char *)bits, "-N", "", "-C", "test", "-f", path, NULL };
	struct tu_out o;

	if (bits == NULL) {
		argv[4] = "-N";
		argv[5] = "";
		argv[6] = "-C";
		argv[7] = "test";
		argv[8] = "-f";
		argv[9] = path;
		argv[10] = NULL;
	}
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 30, &o), 0);
	ck_assert_msg(o.status == 0, "ssh-keygen: %s", o.err);
	tu_out_free(&o);
	return path;
}

START_TEST(init_creates_private_files)
{
	static const char *files[] = { "user_ca.pub", "user_ca.key",
	    "host_ca.pub", "host_ca.key", "x509_ca.pem", "x509_ca.key" };
	struct stat st;
	size_t i, len;
	char *p, *d;

	init_ca();
	ck_assert_int_eq(stat(cadir, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		p = tu_path(cadir, files[i]);
		ck_assert_msg(stat(p, &st) == 0, "%s missing", files[i]);
		ck_assert_int_eq(st.st_mode & 0777, 0600);
		d = tu_read_file(p, &len);
		if (strstr(files[i], ".key") != NULL) {
			/* Sealed with the passphrase (mode byte 1). */
			ck_assert(len > 9);
			ck_assert_mem_eq(d, "JITSEAL1\x01", 9);
		}
		free(d);
		free(p);
	}
}
END_TEST

START_TEST(init_never_overwrites)
{
	struct tu_out o;
	char *p = tu_path(cadir, "user_ca.key"), *before, *after;

	init_ca();
	before = tu_read_file(p, NULL);
	o = jc("init", cadir, "--passphrase-file", passfile, NULL);
	ck_assert_int_ne(o.status, 0);
	ck_assert(tu_contains(o.err, "refusing to overwrite"));
	tu_out_free(&o);
	after = tu_read_file(p, NULL);
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
	free(p);
}
END_TEST

START_TEST(init_needs_explicit_protection)
{
	struct tu_out o;
	char *env[] = { "JIT_CA_PASSPHRASE=from env", NULL };
	char *p;
	size_t len;
	char *d;

	/* No passphrase source and no terminal: refused, nothing written. */
	o = jc("init", cadir, NULL);
	ck_assert_int_ne(o.status, 0);
	ck_assert(tu_contains(o.err, "passphrase"));
	tu_out_free(&o);
	p = tu_path(cadir, "user_ca.key");
	ck_assert_int_ne(access(p, F_OK), 0);
	free(p);

	/* The environment variable works. */
	o = jc_env(env, "init", cadir, NULL);
	ck_assert_msg(o.status == 0, "%s", o.err);
	tu_out_free(&o);

	/* --no-passphrase stores unsealed keys (mode byte 0), loudly. */
	free(cadir);
	cadir = tu_path(tmp, "ca-plain");
	o = jc("init", cadir, "--no-passphrase", NULL);
	ck_assert_msg(o.status == 0, "%s", o.err);
	ck_assert(tu_contains(o.err, "UNSEALED"));
	tu_out_free(&o);
	p = tu_path(cadir, "user_ca.key");
	d = tu_read_file(p, &len);
	ck_assert_mem_eq(d, "JITSEAL1\x00", 9);
	free(d);
	free(p);

	/* Conflicting options are a usage error. */
	o = jc("init", cadir, "--no-passphrase", "--passphrase-file",
	    passfile, NULL);
	ck_assert_int_eq(o.status, 2);
	tu_out_free(&o);
}
END_TEST

START_TEST(key_file_protection)
{
	struct tu_out o;
	char *kf = tu_path(tmp, "ca.key"), *pub = keygen("u", "ed25519", NULL);
	char *pubp;
	uint8_t key[32];

	memset(key, 0x5a, sizeof(key));
	tu_write_file(kf, key, sizeof(key), 0600);
	o = jc("init", cadir, "--key-file", kf, NULL);
	ck_assert_msg(o.status == 0, "%s", o.err);
	tu_out_free(&o);
	pubp = tu_path(tmp, "u.pub");
	o = jc("sign-ssh", cadir, "--key-file", kf, "--key", pubp, "--id",
	    "k", "--principals", "web", "--ttl", "5m", NULL);
	ck_assert_msg(o.status == 0, "%s", o.err);
	tu_out_free(&o);
	/* A group-readable key file is refused. */
	chmod(kf, 0640);
	o = jc("sign-ssh", cadir, "--key-file", kf, "--key", pubp, "--id",
	    "k", "--principals", "web", "--ttl", "5m", NULL);
	ck_assert_int_ne(o.status, 0);
	ck_assert(tu_contains(o.err, "readable only by its owner"));
	tu_out_free(&o);
	/* The wrong key file is refused. */
	chmod(kf, 0600);
	key[0] ^= 1;
	tu_write_file(kf, key, sizeof(key), 0600);
	o = jc("sign-ssh", cadir, "--key-file", kf, "--key", pubp, "--id",
	    "k", "--principals", "web", "--ttl", "5m", NULL);
	ck_assert_int_ne(o.status, 0);
	ck_assert(tu_contains(o.err, "cannot unseal"));
	tu_out_free(&o);
	/* And a passphrase for a key-file CA says the protection differs. */
	o = jc("sign-ssh", cadir, "--passphrase-file", passfile, "--key", pubp,
	    "--id", "k", "--principals", "web", "--ttl", "5m", NULL);
	ck_assert_int_ne(o.status, 0);
	ck_assert(tu_contains(o.err, "protected differently"));
	tu_out_free(&o);
	free(kf);
	free(pub);
	free(pubp);
}
END_TEST

START_TEST(pubkey_and_x509ca)
{
	struct tu_out o, v;
	char *p, *pem;
	char *argv[] = { "ssh-keygen", "-lf", NULL, NULL };
	char *oargv[] = { "openssl", "x509", "-noout", "-text", "-in", NULL,
	    NULL };

	init_ca();
	o = jc("pubkey", cadir, NULL);
	ck_assert_int_eq(o.status, 0);
	ck_assert(strncmp(o.out, "ssh-ed25519 AAAA", 16) == 0);
	p = tu_path(tmp, "ca.pub");
	tu_write_file(p, o.out, strlen(o.out), 0644);
	argv[2] = p;
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 10, &v), 0);
	ck_assert_msg(v.status == 0, "ssh-keygen -l rejects: %s", v.err);
	ck_assert(tu_contains(v.out, "ED25519"));
	tu_out_free(&v);
	/* --host gives a different key. */
	v = jc("pubkey", cadir, "--host", NULL);
	ck_assert_int_eq(v.status, 0);
	ck_assert_str_ne(v.out, o.out);
	tu_out_free(&v);
	tu_out_free(&o);
	free(p);

	o = jc("x509-ca", cadir, NULL);
	ck_assert_int_eq(o.status, 0);
	pem = tu_path(tmp, "ca.pem");
	tu_write_file(pem, o.out, strlen(o.out), 0644);
	oargv[5] = pem;
	ck_assert_int_eq(tu_run(oargv, NULL, NULL, 10, &v), 0);
	ck_assert_int_eq(v.status, 0);
	ck_assert(tu_contains(v.out, "CA:TRUE, pathlen:0"));
	ck_assert(tu_contains(v.out, "Certificate Sign, CRL Sign"));
	ck_assert(tu_contains(v.out, "prime256v1"));
	tu_out_free(&v);
	tu_out_free(&o);
	free(pem);
	/* pubkey needs no passphrase; a non-CA directory is a clear error. */
	o = jc("pubkey", tmp, NULL);
	ck_assert_int_ne(o.status, 0);
	ck_assert(tu_contains(o.err, "cannot read the CA"));
	tu_out_free(&o);
}
END_TEST

START_TEST(sign_ssh_checked_by_ssh_keygen)
{
	struct tu_out o, v;
	char *pub, *cert = tu_path(tmp, "u-cert.pub");
	char *argv[] = { "ssh-keygen", "-L", "-f", cert, NULL };

	init_ca();
	free(keygen("u", "ed25519", NULL));
	pub = tu_path(tmp, "u.pub");
	o = jc("sign-ssh", cadir, "--passphrase-file", passfile, "--key", pub,
	    "--id", "jitd:alice:7", "--principals", "webadmin,dbadmin",
	    "--ttl", "5m", "--force-command", "/usr/bin/id",
	    "--source-address", "127.0.0.1/32,10.0.0.0/8",
	    "--extensions", "permit-port-forwarding,permit-pty", "-o", cert,
	    NULL);
	ck_assert_msg(o.status == 0, "%s", o.err);
	ck_assert_str_eq(o.out, "");
	ck_assert(tu_contains(o.err, "serial"));
	tu_out_free(&o);
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 10, &v), 0);
	ck_assert_msg(v.status == 0, "ssh-keygen -L: %s", v.err);
	ck_assert(tu_contains(v.out,
	    "Type: ssh-ed25519-cert-v01@openssh.com user certificate"));
	ck_assert(tu_contains(v.out, "Key ID: \"jitd:alice:7\""));
	ck_assert(tu_contains(v.out, "webadmin\n                dbadmin"));
	ck_assert(tu_contains(v.out, "force-command /usr/bin/id"));
	ck_assert(tu_contains(v.out, "source-address 127.0.0.1/32,10.0.0.0/8"));
	ck_assert(tu_contains(v.out, "permit-port-forwarding\n"
	    "                permit-pty"));
	ck_assert(!tu_contains(v.out, "permit-agent-forwarding"));
	ck_assert(!tu_contains(v.out, "permit-X11-forwarding"));
	tu_out_free(&v);

	/* Defaults: permit-pty only; a host cert has none. */
	o = jc("sign-ssh", cadir, "--passphrase-file", passfile, "--key", pub,
	    "--id", "k", "--principals", "web", "--ttl", "90s", "-o", cert,
	    NULL);
	ck_assert_msg(o.status == 0, "%s", o.err);
	tu_out_free(&o);
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 10, &v), 0);
	ck_assert(tu_contains(v.out, "Extensions: \n                permit-pty\n"));
	tu_out_free(&v);
	o = jc("sign-ssh", cadir, "--passphrase-file", passfile, "--key", pub,
	    "--id", "host1", "--principals", "host1.example", "--ttl", "1h",
	    "--host", "-o", cert, NULL);
	ck_assert_msg(o.status == 0, "%s", o.err);
	tu_out_free(&o);
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 10, &v), 0);
	ck_assert(tu_contains(v.out, "host certificate"));
	ck_assert(tu_contains(v.out, "Extensions: (none)"));
	tu_out_free(&v);
	free(pub);
	free(cert);
}
END_TEST

START_TEST(sign_ssh_refusals)
{
	static const struct {
		const char	*principals;
		const char	*ttl;
		const char	*ext;
		const char	*src;
		const char	*expect;
	} bad[] = {
		{ "", "5m", NULL, NULL, "refusing to sign" },
		{ "a,,b", "5m", NULL, NULL, "refusing to sign" },
		{ "a b", "5m", NULL, NULL, "refusing to sign" },
		{ "a\nb", "5m", NULL, NULL, "refusing to sign" },
		{ "web", "25h", NULL, NULL, "24h" },
		{ "web", "0", NULL, NULL, "--ttl" },
		{ "web", "-5m", NULL, NULL, "--ttl" },
		{ "web", "5m", "permit-everything", NULL, "refusing to sign" },
		{ "web", "5m", NULL, "not-a-cidr", "refusing to sign" },
		{ "web", "5m", NULL, "10.0.0.0/33", "refusing to sign" },
	};
	struct tu_out o;
	char *pub, *argv[24];
	size_t i;
	int n;

	init_ca();
	free(keygen("u", "ed25519", NULL));
	pub = tu_path(tmp, "u.pub");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = 0;
		argv[n++] = jitca;
		argv[n++] = "sign-ssh";
		argv[n++] = cadir;
		argv[n++] = "--passphrase-file";
		argv[n++] = passfile;
		argv[n++] = "--key";
		argv[n++] = pub;
		argv[n++] = "--id";
		argv[n++] = "k";
		argv[n++] = "--principals";
		argv[n++] = (char *)bad[i].principals;
		argv[n++] = "--ttl";
		argv[n++] = (char *)bad[i].ttl;
		if (bad[i].ext != NULL) {
			argv[n++] = "--extensions";
			argv[n++] = (char *)bad[i].ext;
		}
		if (bad[i].src != NULL) {
			argv[n++] = "--source-address";
			argv[n++] = (char *)bad[i].src;
		}
		argv[n] = NULL;
		ck_assert_int_eq(tu_run(argv, NULL, NULL, 30, &o), 0);
		ck_assert_msg(o.status != 0, "case %zu accepted", i);
		ck_assert_msg(tu_contains(o.err, bad[i].expect),
		    "case %zu: %s", i, o.err);
		ck_assert_str_eq(o.out, "");
		tu_out_free(&o);
	}
	free(pub);
}
END_TEST

START_TEST(sign_ssh_bad_keys)
{
	struct tu_out o;
	char *f = tu_path(tmp, "bad.pub"), *rsa;
	static const char *garbage[] = {
		"",
		"ssh-ed25519\n",
		"ssh-ed25519 AAAA\n",
		"ssh-ed25519 not!base64\n",
		/* Blob says ssh-ed25519 but is truncated. */
		"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB\n",
		/* Type word and blob disagree. */
		"ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n",
		"ssh-dss AAAAB3NzaC1kc3MAAACBAP\n",
		"\x01\x02\x03garbage\xff\n",
	};
	size_t i;

	init_ca();
	for (i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		tu_write_file(f, garbage[i], strlen(garbage[i]), 0644);
		o = jc("sign-ssh", cadir, "--passphrase-file", passfile,
		    "--key", f, "--id", "k", "--principals", "web", "--ttl",
		    "5m", NULL);
		ck_assert_msg(o.status != 0, "garbage %zu accepted", i);
		ck_assert_msg(tu_contains(o.err, "not an acceptable public key"),
		    "garbage %zu: %s", i, o.err);
		tu_out_free(&o);
	}
	/* RSA below 2048 bits. */
	free(keygen("small", "rsa", "1024"));
	rsa = tu_path(tmp, "small.pub");
	o = jc("sign-ssh", cadir, "--passphrase-file", passfile, "--key", rsa,
	    "--id", "k", "--principals", "web", "--ttl", "5m", NULL);
	ck_assert_int_ne(o.status, 0);
	ck_assert(tu_contains(o.err, "too small"));
	tu_out_free(&o);
	/* A missing file. */
	o = jc("sign-ssh", cadir, "--passphrase-file", passfile, "--key",
	    "/nonexistent.pub", "--id", "k", "--principals", "web", "--ttl",
	    "5m", NULL);
	ck_assert_int_ne(o.status, 0);
	tu_out_free(&o);
	free(rsa);
	free(f);
}
END_TEST

START_TEST(wrong_passphrase_and_corrupt_keys)
{
	struct tu_out o;
	char *wrong = tu_path(tmp, "wrong"), *pub, *key, *d;
	size_t len;

	init_ca();
	free(keygen("u", "ed25519", NULL));
	pub = tu_path(tmp, "u.pub");
	tu_write_file(wrong, "not it\n", 7, 0600);
	o = jc("sign-ssh", cadir, "--passphrase-file", wrong, "--key", pub,
	    "--id", "k", "--principals", "web", "--ttl", "5m", NULL);
	ck_assert_int_ne(o.status, 0);
	ck_assert(tu_contains(o.err, "wrong passphrase"));
	ck_assert(!tu_contains(o.err, "not it"));	/* never echoed */
	tu_out_free(&o);

	/* Truncated key file. */
	key = tu_path(cadir, "user_ca.key");
	d = tu_read_file(key, &len);
	tu_write_file(key, d, len / 2, 0600);
	o = jc("sign-ssh", cadir, "--passphrase-file", passfile, "--key", pub,
	    "--id", "k", "--principals", "web", "--ttl", "5m", NULL);
	ck_assert_int_ne(o.status, 0);
	ck_assert(tu_contains(o.err, "corrupted"));
	tu_out_free(&o);
	/* One flipped byte in the ciphertext. */
	d[len - 3] ^= 0x40;
	tu_write_file(key, d, len, 0600);
	o = jc("sign-ssh", cadir, "--passphrase-file", passfile, "--key", pub,
	    "--id", "k", "--principals", "web", "--ttl", "5m", NULL);
	ck_assert_int_ne(o.status, 0);
	ck_assert(tu_contains(o.err, "corrupted"));
	tu_out_free(&o);
	/* Garbage and an empty file. */
	tu_write_file(key, "garbage", 7, 0600);
	o = jc("sign-ssh", cadir, "--passphrase-file", passfile, "--key", pub,
	    "--id", "k", "--principals", "web", "--ttl", "5m", NULL);
	ck_assert_int_ne(o.status, 0);
	tu_out_free(&o);
	tu_write_file(key, "", 0, 0600);
	o = jc("sign-ssh", cadir, "--passphrase-file", passfile, "--key", pub,
	    "--id", "k", "--principals", "web", "--ttl", "5m", NULL);
	ck_assert_int_ne(o.status, 0);
	tu_out_free(&o);
	/* A key file swapped with another slot's is refused too. */
	d[len - 3] ^= 0x40;
	free(d);
	{
		char *hk = tu_path(cadir, "host_ca.key");

		d = tu_read_file(hk, &len);
		free(hk);
	}
	tu_write_file(key, d, len, 0600);
	o = jc("sign-ssh", cadir, "--passphrase-file", passfile, "--key", pub,
	    "--id", "k", "--principals", "web", "--ttl", "5m", NULL);
	ck_assert_int_ne(o.status, 0);
	tu_out_free(&o);
	free(d);
	free(key);
	free(pub);
	free(wrong);
}
END_TEST

START_TEST(sign_x509_checked_by_openssl)
{
	struct tu_out o, v;
	char *csr = tu_path(tmp, "req.pem"), *k = tu_path(tmp, "req.key");
	char *leaf = tu_path(tmp, "leaf.pem"), *ca = tu_path(tmp, "ca.pem");
	char *req[] = { "openssl", "req", "-new", "-newkey", "ec",
	    "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", k,
	    "-out", csr, "-subj", "/CN=root/O=Evil", NULL };
	char *ver[] = { "openssl", "verify", "-CAfile", ca, "-purpose",
	    "sslclient", leaf, NULL };
	char *txt[] = { "openssl", "x509", "-noout", "-text", "-in", leaf,
	    NULL };

	init_ca();
	ck_assert_int_eq(tu_run(req, NULL, NULL, 30, &o), 0);
	ck_assert_msg(o.status == 0, "%s", o.err);
	tu_out_free(&o);
	o = jc("sign-x509", cadir, "--passphrase-file", passfile, "--csr", csr,
	    "--cn", "alice", "--uri", "spiffe://jitd/alice", "--ttl", "5m",
	    "-o", leaf, NULL);
	ck_assert_msg(o.status == 0, "%s", o.err);
	tu_out_free(&o);
	o = jc("x509-ca", cadir, NULL);
	tu_write_file(ca, o.out, strlen(o.out), 0644);
	tu_out_free(&o);
	ck_assert_int_eq(tu_run(ver, NULL, NULL, 10, &v), 0);
	ck_assert_msg(v.status == 0 && tu_contains(v.out, "OK"),
	    "openssl verify: %s %s", v.out, v.err);
	tu_out_free(&v);
	ck_assert_int_eq(tu_run(txt, NULL, NULL, 10, &v), 0);
	ck_assert(tu_contains(v.out, "Subject: CN = alice"));
	ck_assert(!tu_contains(v.out, "Evil"));
	ck_assert(tu_contains(v.out, "CA:FALSE"));
	ck_assert(tu_contains(v.out, "TLS Web Client Authentication"));
	ck_assert(tu_contains(v.out, "URI:spiffe://jitd/alice"));
	tu_out_free(&v);
	/* Garbage CSR. */
	tu_write_file(csr, "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"
	    "-----END CERTIFICATE REQUEST-----\n", 75, 0644);
	o = jc("sign-x509", cadir, "--passphrase-file", passfile, "--csr", csr,
	    "--cn", "alice", "--ttl", "5m", NULL);
	ck_assert_int_ne(o.status, 0);
	ck_assert(tu_contains(o.err, "refusing to issue"));
	tu_out_free(&o);
	free(csr);
	free(k);
	free(leaf);
	free(ca);
}
END_TEST

START_TEST(krl_checked_by_ssh_keygen)
{
	struct tu_out o, v;
	char *pub, *c1 = tu_path(tmp, "c1-cert.pub"),
	    *c2 = tu_path(tmp, "c2-cert.pub"), *krl = tu_path(tmp, "krl");
	char serial[32], arg[64];
	char *q1[] = { "ssh-keygen", "-Q", "-f", krl, c1, NULL };
	char *q2[] = { "ssh-keygen", "-Q", "-f", krl, c2, NULL };
	char *l[] = { "ssh-keygen", "-L", "-f", c1, NULL };
	const char *s;

	init_ca();
	free(keygen("u", "ed25519", NULL));
	pub = tu_path(tmp, "u.pub");
	o = jc("sign-ssh", cadir, "--passphrase-file", passfile, "--key", pub,
	    "--id", "k1", "--principals", "web", "--ttl", "5m", "-o", c1, NULL);
	ck_assert_int_eq(o.status, 0);
	tu_out_free(&o);
	o = jc("sign-ssh", cadir, "--passphrase-file", passfile, "--key", pub,
	    "--id", "k2", "--principals", "web", "--ttl", "5m", "-o", c2, NULL);
	ck_assert_int_eq(o.status, 0);
	tu_out_free(&o);
	ck_assert_int_eq(tu_run(l, NULL, NULL, 10, &v), 0);
	s = strstr(v.out, "Serial: ");
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(sscanf(s, "Serial: %31s", serial), 1);
	tu_out_free(&v);
	snprintf(arg, sizeof(arg), "%s,42", serial);
	o = jc("krl", cadir, "--passphrase-file", passfile, "--serials", arg,
	    "-o", krl, NULL);
	ck_assert_msg(o.status == 0, "%s", o.err);
	tu_out_free(&o);
	ck_assert_int_eq(tu_run(q1, NULL, NULL, 10, &v), 0);
	ck_assert_msg(v.status != 0 && tu_contains(v.out, "REVOKED"),
	    "c1 not revoked: %s %s", v.out, v.err);
	tu_out_free(&v);
	ck_assert_int_eq(tu_run(q2, NULL, NULL, 10, &v), 0);
	ck_assert_msg(v.status == 0 && tu_contains(v.out, "ok"),
	    "c2 revoked: %s %s", v.out, v.err);
	tu_out_free(&v);
	/* A signed KRL is still honoured by OpenSSH 9.2's ssh-keygen. */
	o = jc("krl", cadir, "--passphrase-file", passfile, "--serials", arg,
	    "--sign", "-o", krl, NULL);
	ck_assert_msg(o.status == 0 && tu_contains(o.err, "signed KRL"), "%s",
	    o.err);
	tu_out_free(&o);
	ck_assert_int_eq(tu_run(q1, NULL, NULL, 10, &v), 0);
	ck_assert(v.status != 0 && tu_contains(v.out, "REVOKED"));
	tu_out_free(&v);
	/* Bad serial lists. */
	o = jc("krl", cadir, "--passphrase-file", passfile, "--serials",
	    "12,abc", "-o", krl, NULL);
	ck_assert_int_eq(o.status, 2);
	tu_out_free(&o);
	o = jc("krl", cadir, "--passphrase-file", passfile, "--serials",
	    "99999999999999999999", "-o", krl, NULL);
	ck_assert_int_eq(o.status, 2);
	tu_out_free(&o);
	free(pub);
	free(c1);
	free(c2);
	free(krl);
}
END_TEST

START_TEST(help_everywhere)
{
	static const char *cmds[] = { "init", "pubkey", "x509-ca", "sign-ssh",
	    "sign-x509", "krl" };
	struct tu_out o;
	size_t i;

	o = jc("--help", NULL);
	ck_assert_int_eq(o.status, 0);
	ck_assert(tu_contains(o.out, "sign-ssh"));
	tu_out_free(&o);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		o = jc(cmds[i], "--help", NULL);
		ck_assert_int_eq(o.status, 0);
		ck_assert(tu_contains(o.out, "usage: jit-ca"));
		tu_out_free(&o);
	}
	o = jc("frobnicate", NULL);
	ck_assert_int_eq(o.status, 2);
	ck_assert(tu_contains(o.err, "unknown command"));
	tu_out_free(&o);
	o = jc("sign-ssh", NULL);
	ck_assert_int_eq(o.status, 2);
	tu_out_free(&o);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("jit-ca");
	TCase *tc = tcase_create("cli");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, init_creates_private_files);
	tcase_add_test(tc, init_never_overwrites);
	tcase_add_test(tc, init_needs_explicit_protection);
	tcase_add_test(tc, key_file_protection);
	tcase_add_test(tc, pubkey_and_x509ca);
	tcase_add_test(tc, sign_ssh_checked_by_ssh_keygen);
	tcase_add_test(tc, sign_ssh_refusals);
	tcase_add_test(tc, sign_ssh_bad_keys);
	tcase_add_test(tc, wrong_passphrase_and_corrupt_keys);
	tcase_add_test(tc, sign_x509_checked_by_openssl);
	tcase_add_test(tc, krl_checked_by_ssh_keygen);
	tcase_add_test(tc, help_everywhere);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
