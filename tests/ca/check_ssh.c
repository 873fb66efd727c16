/*
 * Tests for ca/sshkey.c and ca/ssh_cert*.c: subject keys made by the real
 * ssh-keygen are parsed and fingerprinted as ssh-keygen does; certificates
 * are checked with `ssh-keygen -L` line by line and field by field with
 * common/buf.h; every refusal returns its documented error; the parser
 * rejects truncations, flipped bytes, other CAs and hostile encodings.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "ca/ca.h"
#include "ca/ssh_cert.h"
#include "ca/sshkey.h"
#include "common/b64.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/limits.h"
#include "tests/lib/testutil.h"

#define T0	1700000000ULL

struct keyspec {
	const char	*type;
	const char	*bits;
	const char	*name;		/* ca_sshkey_type_name */
	const char	*label;		/* ssh-keygen's key type label */
	unsigned int	 nbits;
};

static const struct keyspec keyspecs[] = {
	{ "ed25519", NULL, "ssh-ed25519", "ED25519", 256 },
	{ "ecdsa", "256", "ecdsa-sha2-nistp256", "ECDSA", 256 },
	{ "ecdsa", "384", "ecdsa-sha2-nistp384", "ECDSA", 384 },
	{ "ecdsa", "521", "ecdsa-sha2-nistp521", "ECDSA", 521 },
	{ "rsa", "2048", "ssh-rsa", "RSA", 2048 },
	{ "rsa", "3072", "ssh-rsa", "RSA", 3072 },
};
#define NKEYSPECS (sizeof(keyspecs) / sizeof(keyspecs[0]))

static const char *const base_principals[] = { "alice", "root" };
/* Deliberately scrambled; the certificate must carry them sorted. */
static const struct ca_ssh_ext base_exts[] = {
	{ "permit-pty", NULL },
	{ "permit-X11-forwarding", NULL },
	{ "login@jitd.example", "v1" },
	{ "permit-agent-forwarding", "" },
	{ "flag@jitd.example", NULL },
};
static const char base_ext_lines[] =
    "                flag@jitd.example UNKNOWN FLAG OPTION\n"
    "                login@jitd.example UNKNOWN OPTION: 000000027631 (len 6)\n"
    "                permit-X11-forwarding\n"
    "                permit-agent-forwarding\n"
    "                permit-pty\n";

/* Runs argv with TZ=UTC, asserts its exit status, returns its stdout. */
static char *
run_status(char *const argv[], int status)
{
	char *const env[] = { "TZ=UTC", NULL };
	struct tu_out o;
	char *out;

	ck_assert_int_eq(tu_run(argv, NULL, env, 120, &o), 0);
	if (o.status != status)
		ck_abort_msg("%s exited %d: %s", argv[0], o.status, o.err);
	out = o.out;
	o.out = NULL;
	tu_out_free(&o);
	return out;
}

/* Generates a subject key; returns the private key path (".pub" next). */
static char *
keygen(const char *dir, const char *name, const char *type, const char *bits)
{
	char *path = tu_path(dir, name);
	char *argv[] = { "ssh-keygen", "-q", "-t", (char *)type, "-N", "",
	    "-C", "subject", "-f", path, NULL, NULL, NULL };

	if (bits != NULL) {
		argv[10] = "-b";
		argv[11] = (char *)bits;
	}
	free(run_status(argv, 0));
	return path;
}

static char *
pubpath(const char *path)
{
	char *p;

	ck_assert_int_ne(asprintf(&p, "%s.pub", path), -1);
	return p;
}

static int
load_key(const char *path, struct ca_sshkey **k)
{
	char *pub = pubpath(path), *text;
	size_t len;
	int r;

	ck_assert_ptr_nonnull(text = tu_read_file(pub, &len));
	r = ca_sshkey_parse_line(text, len, k);
	free(text);
	free(pub);
	return r;
}

/* The "SHA256:..." that `ssh-keygen -lf file` prints. */
static char *
keygen_fp(const char *file)
{
	char *argv[] = { "ssh-keygen", "-lf", (char *)file, NULL };
	char *out = run_status(argv, 0), fp[128], *s;
	unsigned int bits;

	ck_assert_int_eq(sscanf(out, "%u %127s", &bits, fp), 2);
	free(out);
	ck_assert_ptr_nonnull(s = strdup(fp));
	return s;
}

static char *
ca_fp(struct ca *ca, enum ca_slot slot, const char *dir)
{
	char *line = ca_ssh_pubkey_line(ca, slot, "ca");
	char *path = tu_path(dir, "ca.pub"), *fp;

	ck_assert_ptr_nonnull(line);
	unlink(path);
	tu_write_file(path, line, strlen(line), 0600);
	fp = keygen_fp(path);
	free(line);
	free(path);
	return fp;
}

static void
base_req(struct ca_ssh_cert_req *req, const struct ca_sshkey *k)
{
	memset(req, 0, sizeof(*req));
	req->type = CA_SSH_CERT_USER;
	req->subject = k;
	req->key_id = "jitd:alice:17:42";
	req->principals = base_principals;
	req->nprincipals = 2;
	req->valid_after = T0;
	req->valid_before = T0 + 600;
	req->serial = 42;
	req->force_command = "/usr/bin/id -u";
	req->source_address = "10.0.0.0/8,192.168.1.7,2001:db8::/32";
	req->extensions = base_exts;
	req->nextensions = 5;
}

static char *
write_cert(const char *dir, const char *name, const struct ca_ssh_cert *c)
{
	char *line = ca_ssh_cert_to_line(c, "subject");
	char *path = tu_path(dir, name);

	ck_assert_ptr_nonnull(line);
	tu_write_file(path, line, strlen(line), 0600);
	free(line);
	return path;
}

static void
fmt_time(uint64_t t, char *out, size_t outlen)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm);
}

/* Builds the exact `ssh-keygen -L` text expected for a certificate. */
static char *
expected_listing(const char *path, const struct ca_ssh_cert_req *req,
    uint64_t serial, const char *label, const char *key_fp,
    const char *cafp, const char *ext_lines)
{
	char *s = NULL, from[32], to[32];
	size_t len = 0, i;
	FILE *f = open_memstream(&s, &len);

	fmt_time(req->valid_after, from, sizeof(from));
	fmt_time(req->valid_before, to, sizeof(to));
	fprintf(f, "%s:\n", path);
	fprintf(f, "        Type: %s %s certificate\n",
	    ca_sshkey_cert_type_name(req->subject),
	    req->type == CA_SSH_CERT_USER ? "user" : "host");
	fprintf(f, "        Public key: %s-CERT %s\n", label, key_fp);
	fprintf(f, "        Signing CA: ED25519 %s (using ssh-ed25519)\n",
	    cafp);
	fprintf(f, "        Key ID: \"%s\"\n", req->key_id);
	fprintf(f, "        Serial: %llu\n", (unsigned long long)serial);
	fprintf(f, "        Valid: from %s to %s\n", from, to);
	fprintf(f, "        Principals: \n");
	for (i = 0; i < req->nprincipals; i++)
		fprintf(f, "                %s\n", req->principals[i]);
	if (req->force_command == NULL && req->source_address == NULL)
		fprintf(f, "        Critical Options: (none)\n");
	else {
		fprintf(f, "        Critical Options: \n");
		if (req->force_command != NULL)
			fprintf(f, "                force-command %s\n",
			    req->force_command);
		if (req->source_address != NULL)
			fprintf(f, "                source-address %s\n",
			    req->source_address);
	}
	if (ext_lines == NULL)
		fprintf(f, "        Extensions: (none)\n");
	else
		fprintf(f, "        Extensions: \n%s", ext_lines);
	fclose(f);
	return s;
}

static void
check_listing(const char *path, const char *expect)
{
	char *argv[] = { "ssh-keygen", "-L", "-f", (char *)path, NULL };
	char *out = run_status(argv, 0);

	ck_assert_str_eq(out, expect);
	free(out);
}

START_TEST(key_types_fingerprints)
{
	const struct keyspec *ks = &keyspecs[_i];
	char *dir = tu_mkdtemp("sshkey"), *path, *pub, *fp;
	char mine[CA_SSHKEY_FP_LEN];
	struct ca_sshkey *k = NULL;

	path = keygen(dir, "k", ks->type, ks->bits);
	ck_assert_int_eq(load_key(path, &k), JIT_OK);
	ck_assert_str_eq(ca_sshkey_type_name(k), ks->name);
	ck_assert_uint_eq(ca_sshkey_bits(k), ks->nbits);
	pub = pubpath(path);
	fp = keygen_fp(pub);
	ca_sshkey_fingerprint(k, mine, sizeof(mine));
	ck_assert_str_eq(mine, fp);
	ca_sshkey_free(k);
	free(fp);
	free(pub);
	free(path);
	tu_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(certify_user_listing)
{
	const struct keyspec *ks = &keyspecs[_i];
	char *dir = tu_mkdtemp("sshcert"), *path, *pub, *kfp, *cfp, *cpath;
	char *expect, *line;
	struct ca *ca = NULL;
	struct ca_sshkey *k = NULL, *calkey = NULL;
	struct ca_ssh_cert_req req;
	struct ca_ssh_cert *c = NULL;
	struct ca_ssh_cert_info *info = NULL, *other = NULL;
	const uint8_t *blob, *cablob;
	size_t len, calen;

	ck_assert_int_eq(ca_generate("test CA", 1, &ca), JIT_OK);
	path = keygen(dir, "k", ks->type, ks->bits);
	ck_assert_int_eq(load_key(path, &k), JIT_OK);
	pub = pubpath(path);
	kfp = keygen_fp(pub);
	cfp = ca_fp(ca, CA_SLOT_SSH_USER, dir);
	base_req(&req, k);
	ck_assert_int_eq(ca_ssh_certify(ca, &req, &c), JIT_OK);
	ck_assert(ca_ssh_cert_serial(c) == 42);
	ck_assert(ca_ssh_cert_valid_after(c) == T0);
	ck_assert(ca_ssh_cert_valid_before(c) == T0 + 600);
	cpath = write_cert(dir, "k-cert.pub", c);
	expect = expected_listing(cpath, &req, 42, ks->label, kfp, cfp,
	    base_ext_lines);
	check_listing(cpath, expect);

	/* The signature key is the user CA key that servers trust. */
	blob = ca_ssh_cert_blob(c, &len);
	ck_assert_int_eq(ca_ssh_cert_parse(blob, len,
	    ca_ssh_pubkey(ca, CA_SLOT_SSH_USER), &info), JIT_OK);
	ck_assert_ptr_nonnull(line = ca_ssh_pubkey_line(ca, CA_SLOT_SSH_USER,
	    NULL));
	ck_assert_int_eq(ca_sshkey_parse_line(line, strlen(line), &calkey),
	    JIT_OK);
	cablob = ca_sshkey_blob(calkey, &calen);
	ck_assert_uint_eq(calen, CA_SSH_PUBBLOB_LEN);
	ck_assert_mem_eq(info->signature_key, cablob + 19, 32);
	/* string sigkey, then string(string "ssh-ed25519", string sig[64]). */
	ck_assert_uint_gt(len, calen + 87);
	ck_assert_mem_eq(blob + len - 87 - calen, cablob, calen);
	ck_assert(ca_sshkey_equal(info->key, k));
	ck_assert_int_eq(ca_ssh_cert_parse(blob, len,
	    ca_ssh_pubkey(ca, CA_SLOT_SSH_HOST), &other),
	    JIT_ERR_BAD_SIGNATURE);
	ck_assert_ptr_null(other);

	ca_ssh_cert_info_free(info);
	ca_sshkey_free(calkey);
	free(line);
	free(expect);
	free(cpath);
	ca_ssh_cert_free(c);
	free(cfp);
	free(kfp);
	free(pub);
	ca_sshkey_free(k);
	free(path);
	ca_free(ca);
	tu_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(certify_host_and_random_serial)
{
	static const char *const hosts[] = { "db1.example.com", "10.1.2.3" };
	char *dir = tu_mkdtemp("sshhost"), *path, *pub, *kfp, *cfp, *cpath;
	char *expect;
	struct ca *ca = NULL;
	struct ca_sshkey *k = NULL;
	struct ca_ssh_cert_req req;
	struct ca_ssh_cert *c = NULL;
	struct ca_ssh_cert_info *info = NULL;
	const uint8_t *blob;
	size_t len;

	ck_assert_int_eq(ca_generate("test CA", 1, &ca), JIT_OK);
	path = keygen(dir, "h", "ed25519", NULL);
	ck_assert_int_eq(load_key(path, &k), JIT_OK);
	pub = pubpath(path);
	kfp = keygen_fp(pub);
	cfp = ca_fp(ca, CA_SLOT_SSH_HOST, dir);
	memset(&req, 0, sizeof(req));
	req.type = CA_SSH_CERT_HOST;
	req.subject = k;
	req.key_id = "host db1";
	req.principals = hosts;
	req.nprincipals = 2;
	req.valid_after = T0 - JIT_CLOCK_SKEW;
	req.valid_before = T0 + JIT_CERT_TTL_MAX;	/* the exact ceiling */
	req.serial = 0;					/* pick one */
	ck_assert_int_eq(ca_ssh_certify(ca, &req, &c), JIT_OK);
	ck_assert(ca_ssh_cert_serial(c) != 0);
	cpath = write_cert(dir, "h-cert.pub", c);
	expect = expected_listing(cpath, &req, ca_ssh_cert_serial(c),
	    "ED25519", kfp, cfp, NULL);
	check_listing(cpath, expect);
	blob = ca_ssh_cert_blob(c, &len);
	ck_assert_int_eq(ca_ssh_cert_parse(blob, len,
	    ca_ssh_pubkey(ca, CA_SLOT_SSH_HOST), &info), JIT_OK);
	ck_assert_uint_eq(info->type, CA_SSH_CERT_HOST);
	ck_assert(info->serial == ca_ssh_cert_serial(c));
	ck_assert_uint_eq(info->nextensions, 0);
	ck_assert_ptr_null(info->force_command);
	ca_ssh_cert_info_free(info);
	/* Host certificates are signed by the host key, not the user key. */
	ck_assert_int_eq(ca_ssh_cert_parse(blob, len,
	    ca_ssh_pubkey(ca, CA_SLOT_SSH_USER), &info), JIT_ERR_BAD_SIGNATURE);
	ck_assert_ptr_null(info);
	free(expect);
	free(cpath);
	ca_ssh_cert_free(c);
	free(cfp);
	free(kfp);
	free(pub);
	ca_sshkey_free(k);
	free(path);
	ca_free(ca);
	tu_rmdir(dir);
	free(dir);
}
END_TEST

/* Returns a malloc'd copy of blob with a lone byte appended or changed. */
static uint8_t *
dup_blob(const uint8_t *blob, size_t len, size_t extra)
{
	uint8_t *d = calloc(1, len + extra + 1);

	ck_assert_ptr_nonnull(d);
	memcpy(d, blob, len);
	return d;
}

static void
expect_blob(const uint8_t *blob, size_t len, int expect)
{
	struct ca_sshkey *k = NULL;

	ck_assert_int_eq(ca_sshkey_from_blob(blob, len, &k), expect);
	if (expect != JIT_OK)
		ck_assert_ptr_null(k);
	ca_sshkey_free(k);
}

static void
expect_line(const char *line, size_t len, int expect)
{
	struct ca_sshkey *k = NULL;

	ck_assert_int_eq(ca_sshkey_parse_line(line, len, &k), expect);
	if (expect != JIT_OK)
		ck_assert_ptr_null(k);
	ca_sshkey_free(k);
}

/* Every proper prefix is incomplete; one byte more is trailing data. */
static void
expect_truncations(const struct ca_sshkey *k)
{
	const uint8_t *blob;
	size_t len, i;
	uint8_t *d;

	blob = ca_sshkey_blob(k, &len);
	for (i = 0; i < len; i++)
		expect_blob(blob, i, JIT_ERR_INCOMPLETE);
	d = dup_blob(blob, len, 1);
	expect_blob(d, len + 1, JIT_ERR_TRAILING_DATA);
	free(d);
}

/* Rebuilds an RSA blob with the given e and n magnitudes. */
static struct buf *
rsa_blob(const uint8_t *e, size_t elen, const uint8_t *n, size_t nlen)
{
	struct buf *b = buf_new(JIT_BUF_MAX);

	ck_assert_int_eq(buf_put_cstring(b, "ssh-rsa"), JIT_OK);
	ck_assert_int_eq(buf_put_bignum2_bytes(b, e, elen), JIT_OK);
	ck_assert_int_eq(buf_put_bignum2_bytes(b, n, nlen), JIT_OK);
	return b;
}

START_TEST(key_refusals)
{
	static const uint8_t giant[] = { 0xff, 0xff, 0xff, 0xff, 's' };
	static const uint8_t e1[] = { 1 }, e4[] = { 4 }, e3[] = { 3 };
	char *dir = tu_mkdtemp("sshkeybad"), *p, *b64, *line;
	struct ca_sshkey *ed = NULL, *ec = NULL, *rsa = NULL;
	struct buf *b, *rb;
	const uint8_t *blob, *n, *e;
	size_t len, nlen, elen;
	uint8_t *d, big[4096];
	int i;

	p = keygen(dir, "small", "rsa", "1024");
	ck_assert_int_eq(load_key(p, &rsa), JIT_ERR_KEY_TOO_SMALL);
	ck_assert_ptr_null(rsa);
	free(p);
	p = keygen(dir, "ed", "ed25519", NULL);
	ck_assert_int_eq(load_key(p, &ed), JIT_OK);
	free(p);
	p = keygen(dir, "ec", "ecdsa", "256");
	ck_assert_int_eq(load_key(p, &ec), JIT_OK);
	free(p);
	p = keygen(dir, "rsa", "rsa", "2048");
	ck_assert_int_eq(load_key(p, &rsa), JIT_OK);
	free(p);
	expect_truncations(ed);
	expect_truncations(ec);
	expect_truncations(rsa);
	expect_blob(giant, sizeof(giant), JIT_ERR_LIMIT);
	expect_blob(NULL, 0, JIT_ERR_INCOMPLETE);

	/* ssh-dss, certificates, FIDO and unknown types. */
	b = buf_new(4096);
	memset(big, 0x5a, sizeof(big));
	ck_assert_int_eq(buf_put_cstring(b, "ssh-dss"), JIT_OK);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(buf_put_bignum2_bytes(b, big, 128), JIT_OK);
	expect_blob(buf_ptr(b), buf_len(b), JIT_ERR_KEY_TYPE);
	ck_assert_ptr_nonnull(b64 = b64_encode(buf_ptr(b), buf_len(b),
	    B64_STD));
	ck_assert_int_ne(asprintf(&line, "ssh-dss %s dsa\n", b64), -1);
	expect_line(line, strlen(line), JIT_ERR_KEY_TYPE);
	free(line);
	free(b64);
	buf_reset(b);
	ck_assert_int_eq(buf_put_cstring(b, "sk-ssh-ed25519@openssh.com"),
	    JIT_OK);
	ck_assert_int_eq(buf_put_string(b, big, 32), JIT_OK);
	ck_assert_int_eq(buf_put_cstring(b, "ssh:"), JIT_OK);
	expect_blob(buf_ptr(b), buf_len(b), JIT_ERR_KEY_TYPE);
	buf_reset(b);
	ck_assert_int_eq(buf_put_cstring(b, "ssh-ed25519-cert-v01@openssh.com"),
	    JIT_OK);
	ck_assert_int_eq(buf_put_string(b, big, 32), JIT_OK);
	expect_blob(buf_ptr(b), buf_len(b), JIT_ERR_KEY_TYPE);

	/* Ed25519: wrong length, giant length. */
	buf_reset(b);
	ck_assert_int_eq(buf_put_cstring(b, "ssh-ed25519"), JIT_OK);
	ck_assert_int_eq(buf_put_string(b, big, 31), JIT_OK);
	expect_blob(buf_ptr(b), buf_len(b), JIT_ERR_INVALID_FORMAT);
	buf_reset(b);
	ck_assert_int_eq(buf_put_cstring(b, "ssh-ed25519"), JIT_OK);
	ck_assert_int_eq(buf_put_u32(b, 0xfffffff0), JIT_OK);
	ck_assert_int_eq(buf_put(b, big, 32), JIT_OK);
	expect_blob(buf_ptr(b), buf_len(b), JIT_ERR_LIMIT);
	buf_reset(b);
	ck_assert_int_eq(buf_put_cstring(b, "ssh-ed25519"), JIT_OK);
	ck_assert_int_eq(buf_put_u32(b, 4000), JIT_OK);
	ck_assert_int_eq(buf_put(b, big, 32), JIT_OK);
	expect_blob(buf_ptr(b), buf_len(b), JIT_ERR_INCOMPLETE);
	buf_free(b);

	/* ECDSA: point off the curve, compressed point, wrong curve name. */
	blob = ca_sshkey_blob(ec, &len);
	ck_assert_uint_eq(len, 4 + 19 + 4 + 8 + 4 + 65);
	d = dup_blob(blob, len, 0);
	d[len - 1] ^= 0x01;
	expect_blob(d, len, JIT_ERR_INVALID_FORMAT);
	memcpy(d, blob, len);
	d[len - 65] = 0x02;
	expect_blob(d, len, JIT_ERR_INVALID_FORMAT);
	memcpy(d, blob, len);
	memset(d + len - 64, 0, 64);
	expect_blob(d, len, JIT_ERR_INVALID_FORMAT);
	memcpy(d, blob, len);
	memcpy(d + 4 + 19 + 4, "nistp384", 8);
	expect_blob(d, len, JIT_ERR_INVALID_FORMAT);
	free(d);

	/* RSA: exponent 1, even exponent, even modulus, negative mpint. */
	blob = ca_sshkey_blob(rsa, &len);
	b = buf_from(blob, len);
	ck_assert_int_eq(buf_get_string_direct(b, NULL, NULL), JIT_OK);
	ck_assert_int_eq(buf_get_bignum2_bytes_direct(b, &e, &elen), JIT_OK);
	ck_assert_int_eq(buf_get_bignum2_bytes_direct(b, &n, &nlen), JIT_OK);
	rb = rsa_blob(e, elen, n, nlen);
	expect_blob(buf_ptr(rb), buf_len(rb), JIT_OK);
	buf_free(rb);
	rb = rsa_blob(e1, 1, n, nlen);
	expect_blob(buf_ptr(rb), buf_len(rb), JIT_ERR_INVALID_FORMAT);
	buf_free(rb);
	rb = rsa_blob(e4, 1, n, nlen);
	expect_blob(buf_ptr(rb), buf_len(rb), JIT_ERR_INVALID_FORMAT);
	buf_free(rb);
	memcpy(big, n, nlen);
	big[nlen - 1] &= 0xfe;
	rb = rsa_blob(e3, 1, big, nlen);
	expect_blob(buf_ptr(rb), buf_len(rb), JIT_ERR_INVALID_FORMAT);
	buf_free(rb);
	memset(big, 0xff, sizeof(big));
	rb = rsa_blob(e3, 1, big, JIT_RSA_MAX_BITS / 8 + 1);
	expect_blob(buf_ptr(rb), buf_len(rb), JIT_ERR_LIMIT);
	buf_free(rb);
	rb = buf_new(4096);
	ck_assert_int_eq(buf_put_cstring(rb, "ssh-rsa"), JIT_OK);
	ck_assert_int_eq(buf_put_string(rb, "\x81", 1), JIT_OK);
	ck_assert_int_eq(buf_put_bignum2_bytes(rb, n, nlen), JIT_OK);
	expect_blob(buf_ptr(rb), buf_len(rb), JIT_ERR_INVALID_FORMAT);
	buf_free(rb);
	buf_free(b);

	ca_sshkey_free(rsa);
	ca_sshkey_free(ec);
	ca_sshkey_free(ed);
	tu_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(key_lines)
{
	struct ca_sshkey *k = NULL;
	const uint8_t *blob;
	char *b64, *line, *huge;
	size_t len;
	uint8_t raw[51] = { 0, 0, 0, 11, 's', 's', 'h', '-', 'e', 'd', '2',
	    '5', '5', '1', '9', 0, 0, 0, 32 };
	uint8_t bigblob[JIT_PUBKEY_BLOB_MAX + 3];

	memset(raw + 19, 0x42, 32);
	ck_assert_ptr_nonnull(b64 = b64_encode(raw, sizeof(raw), B64_STD));
#define LINE(fmt, ...) do {						\
	ck_assert_int_ne(asprintf(&line, fmt, __VA_ARGS__), -1);	\
} while (0)
	LINE("ssh-ed25519 %s a comment with spaces\n", b64);
	ck_assert_int_eq(ca_sshkey_parse_line(line, strlen(line), &k), JIT_OK);
	blob = ca_sshkey_blob(k, &len);
	ck_assert_uint_eq(len, sizeof(raw));
	ck_assert_mem_eq(blob, raw, len);
	ck_assert_str_eq(ca_sshkey_cert_type_name(k),
	    "ssh-ed25519-cert-v01@openssh.com");
	ca_sshkey_free(k);
	free(line);
	LINE("ssh-ed25519 %s", b64);
	expect_line(line, strlen(line), JIT_OK);
	/* Not NUL-terminated: only len bytes count. */
	expect_line(line, strlen(line) - 1, JIT_ERR_INVALID_FORMAT);
	free(line);
	LINE("ssh-ed25519\t%s\tc\r\n", b64);
	expect_line(line, strlen(line), JIT_OK);
	free(line);
	LINE("ssh-rsa %s c\n", b64);		/* TYPE word lies */
	expect_line(line, strlen(line), JIT_ERR_INVALID_FORMAT);
	free(line);
	LINE("ecdsa-sha2-nistp256 %s\n", b64);
	expect_line(line, strlen(line), JIT_ERR_INVALID_FORMAT);
	free(line);
	LINE("command=\"/bin/sh\" ssh-ed25519 %s\n", b64);
	expect_line(line, strlen(line), JIT_ERR_INVALID_FORMAT);
	free(line);
	LINE(" ssh-ed25519 %s\n", b64);
	expect_line(line, strlen(line), JIT_ERR_INVALID_FORMAT);
	free(line);
	LINE("ssh-ed25519 %s\nssh-ed25519 %s\n", b64, b64);
	expect_line(line, strlen(line), JIT_ERR_INVALID_FORMAT);
	free(line);
	LINE("ssh-ed25519 %s c\n", b64);
	line[strlen(line) - 2] = '\0';		/* embedded NUL */
	expect_line(line, strlen(line) + 2, JIT_ERR_INVALID_FORMAT);
	free(line);
	LINE("ssh-ed25519 %s!\n", b64);
	expect_line(line, strlen(line), JIT_ERR_INVALID_FORMAT);
	free(line);
	expect_line("ssh-ed25519\n", 12, JIT_ERR_INCOMPLETE);
	expect_line("ssh-ed25519 ", 12, JIT_ERR_INCOMPLETE);
	expect_line("", 0, JIT_ERR_INVALID_FORMAT);
	expect_line("\n", 1, JIT_ERR_INVALID_FORMAT);
	expect_line("ssh-ed25519 AAAA\n", 17, JIT_ERR_INCOMPLETE);
	/* Too long a line, too big a blob. */
	huge = malloc(JIT_PUBKEY_LINE_MAX + 2);
	memset(huge, 'A', JIT_PUBKEY_LINE_MAX + 1);
	memcpy(huge, "ssh-ed25519 ", 12);
	expect_line(huge, JIT_PUBKEY_LINE_MAX + 1, JIT_ERR_LIMIT);
	free(huge);
	free(b64);
	memset(bigblob, 0, sizeof(bigblob));
	ck_assert_ptr_nonnull(b64 = b64_encode(bigblob, sizeof(bigblob),
	    B64_STD));
	LINE("ssh-ed25519 %s\n", b64);
	expect_line(line, strlen(line), JIT_ERR_LIMIT);
	free(line);
	free(b64);
#undef LINE
}
END_TEST

START_TEST(cert_line_as_subject)
{
	char *dir = tu_mkdtemp("sshcertsubj"), *p, *line;
	struct ca *ca = NULL;
	struct ca_sshkey *k = NULL;
	struct ca_ssh_cert_req req;
	struct ca_ssh_cert *c = NULL;
	const uint8_t *blob;
	size_t len;

	ck_assert_int_eq(ca_generate("test CA", 1, &ca), JIT_OK);
	p = keygen(dir, "k", "ed25519", NULL);
	ck_assert_int_eq(load_key(p, &k), JIT_OK);
	base_req(&req, k);
	ck_assert_int_eq(ca_ssh_certify(ca, &req, &c), JIT_OK);
	ck_assert_ptr_nonnull(line = ca_ssh_cert_to_line(c, NULL));
	ck_assert(strncmp(line, "ssh-ed25519-cert-v01@openssh.com ",
	    33) == 0);
	expect_line(line, strlen(line), JIT_ERR_KEY_TYPE);
	blob = ca_ssh_cert_blob(c, &len);
	expect_blob(blob, len, JIT_ERR_KEY_TYPE);
	ck_assert_ptr_null(ca_ssh_cert_to_line(c, "two\nlines"));
	free(line);
	ca_ssh_cert_free(c);
	ca_sshkey_free(k);
	free(p);
	ca_free(ca);
	tu_rmdir(dir);
	free(dir);
}
END_TEST

/* A subject key for tests that do not care which (no ssh-keygen run). */
static struct ca_sshkey *
any_key(void)
{
	uint8_t raw[51] = { 0, 0, 0, 11, 's', 's', 'h', '-', 'e', 'd', '2',
	    '5', '5', '1', '9', 0, 0, 0, 32 };
	struct ca_sshkey *k = NULL;

	randombytes_buf(raw + 19, 32);
	ck_assert_int_eq(ca_sshkey_from_blob(raw, sizeof(raw), &k), JIT_OK);
	return k;
}

/* Request refusals: case _i mutates a valid request; expect that error. */
START_TEST(request_refusals)
{
	static char *many[JIT_PRINCIPALS_MAX + 1];
	static const char *const dup[] = { "alice", "bob", "alice" };
	static const char *pr[1];
	static struct ca_ssh_ext exts[JIT_EXTENSIONS_MAX + 1];
	static char longname[JIT_PRINCIPAL_LEN_MAX + 2];
	static char longid[JIT_KEYID_LEN_MAX + 2];
	static char extname[JIT_EXTENSIONS_MAX + 1][32];
	struct ca *ca = NULL;
	struct ca_sshkey *k = any_key();
	struct ca_ssh_cert_req req;
	struct ca_ssh_cert *c = NULL;
	size_t i;
	int expect = JIT_ERR_INVALID_ARG;

	ck_assert_int_eq(ca_generate("test CA", 1, &ca), JIT_OK);
	base_req(&req, k);
	ck_assert_int_eq(ca_ssh_cert_check_req(&req), JIT_OK);
	switch (_i) {
	case 0: pr[0] = ""; goto one;
	case 1: pr[0] = "alice,root"; goto one;
	case 2: pr[0] = "alice root"; goto one;
	case 3: pr[0] = "alice\troot"; goto one;
	case 4: pr[0] = "alice\x01"; goto one;
	case 5: pr[0] = "al\x7f" "ice"; goto one;
	case 6: pr[0] = "\xc3\xa9t\xc3\xa9"; goto one;
	case 7:
		for (i = 0; i <= JIT_PRINCIPALS_MAX; i++)
			ck_assert_int_ne(asprintf(&many[i], "u%zu", i), -1);
		req.principals = (const char *const *)many;
		req.nprincipals = JIT_PRINCIPALS_MAX + 1;
		expect = JIT_ERR_LIMIT;
		break;
	case 8:
		req.principals = dup;
		req.nprincipals = 3;
		break;
	case 9: req.nprincipals = 0; break;
	case 10:
		memset(longname, 'a', JIT_PRINCIPAL_LEN_MAX + 1);
		pr[0] = longname;
		expect = JIT_ERR_LIMIT;
		goto one;
	case 11: req.key_id = ""; break;
	case 12: req.key_id = NULL; break;
	case 13: req.key_id = "id\nwith newline"; break;
	case 14:
		memset(longid, 'i', JIT_KEYID_LEN_MAX + 1);
		req.key_id = longid;
		expect = JIT_ERR_LIMIT;
		break;
	case 15:
		req.valid_before = req.valid_after + JIT_CERT_TTL_MAX +
		    JIT_CLOCK_SKEW + 1;
		expect = JIT_ERR_LIMIT;
		break;
	case 16: req.valid_before = req.valid_after; break;
	case 17: req.valid_before = req.valid_after - 1; break;
	case 18:
		exts[0].name = "permit-everything";
		req.extensions = exts;
		req.nextensions = 1;
		break;
	case 19:
		exts[0].name = "permit-pty";
		exts[0].value = "yes";
		req.extensions = exts;
		req.nextensions = 1;
		break;
	case 20:
		exts[0].name = "x@jitd.example";
		exts[1].name = "permit-pty";
		exts[2].name = "x@jitd.example";
		req.extensions = exts;
		req.nextensions = 3;
		break;
	case 21:
		for (i = 0; i <= JIT_EXTENSIONS_MAX; i++) {
			snprintf(extname[i], sizeof(extname[i]), "e%zu@x", i);
			exts[i].name = extname[i];
		}
		req.extensions = exts;
		req.nextensions = JIT_EXTENSIONS_MAX + 1;
		expect = JIT_ERR_LIMIT;
		break;
	case 22: req.source_address = "host.example.com"; break;
	case 23: req.source_address = "10.0.0.1/8"; break;
	case 24: req.source_address = "10.0.0.0/33"; break;
	case 25: req.source_address = "10.0.0.0/8,"; break;
	case 26: req.source_address = "::1/129"; break;
	case 27: req.source_address = "10.0.0.0 /8"; break;
	case 28: req.source_address = "10.0.0.0/08"; break;
	case 29: req.source_address = "10.0.0.0/"; break;
	case 30: req.source_address = ""; break;
	case 31: req.source_address = "1.2.3"; break;
	case 32:
		req.type = CA_SSH_CERT_HOST;
		req.source_address = NULL;
		req.extensions = NULL;
		req.nextensions = 0;
		break;	/* force-command on a host certificate */
	case 33:
		req.type = CA_SSH_CERT_HOST;
		req.force_command = NULL;
		req.source_address = NULL;
		break;	/* extensions on a host certificate */
	case 34:
		req.type = CA_SSH_CERT_HOST;
		req.force_command = NULL;
		req.nextensions = 0;
		break;	/* source-address on a host certificate */
	case 35: req.type = 3; break;
	case 36: req.subject = NULL; break;
	case 37: req.force_command = ""; break;
	case 38: req.force_command = "rm -rf /\n"; break;
	case 39:
		exts[0].name = "@jitd.example";
		req.extensions = exts;
		req.nextensions = 1;
		break;
	case 40: req.extensions = NULL; break;
	default:
		ck_abort_msg("no case %d", _i);
	}
	goto check;
 one:
	req.principals = pr;
	req.nprincipals = 1;
 check:
	ck_assert_int_eq(ca_ssh_cert_check_req(&req), expect);
	ck_assert_int_eq(ca_ssh_certify(ca, &req, &c), expect);
	ck_assert_ptr_null(c);
	for (i = 0; i <= JIT_PRINCIPALS_MAX; i++)
		free(many[i]);
	ca_sshkey_free(k);
	ca_free(ca);
}
END_TEST
#define NREFUSALS 41

START_TEST(request_accepts)
{
	static const char *const good_src[] = { "0.0.0.0/0", "::/0",
	    "fe80::/10", "1.2.3.4", "192.168.0.0/16,2001:db8::1/128",
	    "::ffff:10.0.0.0/104" };
	static const struct ca_ssh_ext vendor[] = {
		{ "x@jitd.example", "some value with spaces" },
	};
	struct ca_sshkey *k = any_key();
	struct ca_ssh_cert_req req;
	size_t i;

	for (i = 0; i < sizeof(good_src) / sizeof(good_src[0]); i++) {
		base_req(&req, k);
		req.source_address = good_src[i];
		ck_assert_msg(ca_ssh_cert_check_req(&req) == JIT_OK, "%s",
		    good_src[i]);
	}
	base_req(&req, k);
	req.valid_before = req.valid_after + JIT_CERT_TTL_MAX +
	    JIT_CLOCK_SKEW;
	ck_assert_int_eq(ca_ssh_cert_check_req(&req), JIT_OK);
	req.force_command = NULL;
	req.source_address = NULL;
	req.extensions = vendor;
	req.nextensions = 1;
	ck_assert_int_eq(ca_ssh_cert_check_req(&req), JIT_OK);
	req.extensions = NULL;
	req.nextensions = 0;
	ck_assert_int_eq(ca_ssh_cert_check_req(&req), JIT_OK);
	ck_assert_int_eq(ca_ssh_cert_check_req(NULL), JIT_ERR_INVALID_ARG);
	ca_sshkey_free(k);
}
END_TEST

START_TEST(parser_truncation_flip_other_ca)
{
	struct ca *ca = NULL, *other = NULL;
	struct ca_sshkey *k = any_key();
	struct ca_ssh_cert_req req;
	struct ca_ssh_cert *c = NULL, *c2 = NULL;
	struct ca_ssh_cert_info *info = NULL;
	const uint8_t *blob, *pub;
	uint8_t *d;
	size_t len, len2, i;
	int bit;

	ck_assert_int_eq(ca_generate("test CA", 1, &ca), JIT_OK);
	ck_assert_int_eq(ca_generate("other CA", 1, &other), JIT_OK);
	pub = ca_ssh_pubkey(ca, CA_SLOT_SSH_USER);
	base_req(&req, k);
	ck_assert_int_eq(ca_ssh_certify(ca, &req, &c), JIT_OK);
	blob = ca_ssh_cert_blob(c, &len);
	for (i = 0; i < len; i++) {
		ck_assert_int_ne(ca_ssh_cert_parse(blob, i, NULL, &info),
		    JIT_OK);
		ck_assert_ptr_null(info);
	}
	d = dup_blob(blob, len, 1);
	ck_assert_int_eq(ca_ssh_cert_parse(d, len + 1, pub, &info),
	    JIT_ERR_TRAILING_DATA);
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit += 7) {
			d[i] ^= (uint8_t)(1 << bit);
			ck_assert_msg(ca_ssh_cert_parse(d, len, NULL, &info) !=
			    JIT_OK, "flip at %zu accepted", i);
			ck_assert_int_ne(ca_ssh_cert_parse(d, len, pub, &info),
			    JIT_OK);
			d[i] ^= (uint8_t)(1 << bit);
		}
	}
	ck_assert_int_eq(ca_ssh_cert_parse(d, len, pub, &info), JIT_OK);
	ca_ssh_cert_info_free(info);
	info = NULL;
	free(d);

	/* Signed by another CA: fine on its own, refused against ours. */
	ck_assert_int_eq(ca_ssh_certify(other, &req, &c2), JIT_OK);
	blob = ca_ssh_cert_blob(c2, &len2);
	ck_assert_int_eq(ca_ssh_cert_parse(blob, len2, pub, &info),
	    JIT_ERR_BAD_SIGNATURE);
	ck_assert_ptr_null(info);
	ck_assert_int_eq(ca_ssh_cert_parse(blob, len2,
	    ca_ssh_pubkey(other, CA_SLOT_SSH_USER), &info), JIT_OK);
	ca_ssh_cert_info_free(info);
	ck_assert_int_eq(ca_ssh_cert_parse(NULL, 0, NULL, &info),
	    JIT_ERR_INCOMPLETE);
	ca_ssh_cert_free(c2);
	ca_ssh_cert_free(c);
	ca_sshkey_free(k);
	ca_free(other);
	ca_free(ca);
}
END_TEST

static void
get_str(struct buf *b, const void *expect, size_t len)
{
	const uint8_t *p;
	size_t plen;

	ck_assert_int_eq(buf_get_string_direct(b, &p, &plen), JIT_OK);
	ck_assert_uint_eq(plen, len);
	ck_assert_mem_eq(p, expect, len);
}

#define BYTES(s)	s, sizeof(s) - 1

/* The exact byte layout of a certificate, field by field. */
START_TEST(cert_layout)
{
	static const char *const prin[] = { "alice", "root" };
	static const struct ca_ssh_ext ext[] = {
		{ "permit-pty", NULL }, { "login@x", "v" },
	};
	static const char want_prin[] =
	    "\0\0\0\x05" "alice" "\0\0\0\x04" "root";
	static const char want_crit[] =
	    "\0\0\0\x0d" "force-command" "\0\0\0\x0d" "\0\0\0\x09" "/bin/true"
	    "\0\0\0\x0e" "source-address" "\0\0\0\x0e" "\0\0\0\x0a"
	    "10.0.0.0/8";
	static const char want_ext[] =
	    "\0\0\0\x07" "login@x" "\0\0\0\x05" "\0\0\0\x01" "v"
	    "\0\0\0\x0a" "permit-pty" "\0\0\0\0";
	struct ca *ca = NULL;
	struct ca_sshkey *k = any_key(), *cak = NULL;
	struct ca_ssh_cert_req req;
	struct ca_ssh_cert *c = NULL;
	struct buf *b, *sig;
	const uint8_t *blob, *kblob, *cablob, *p, *s;
	char *caline;
	size_t len, klen, calen, plen, signed_len, slen;
	uint64_t u64;
	uint32_t u32;

	ck_assert_int_eq(ca_generate("test CA", 1, &ca), JIT_OK);
	memset(&req, 0, sizeof(req));
	req.type = CA_SSH_CERT_USER;
	req.subject = k;
	req.key_id = "kat";
	req.principals = prin;
	req.nprincipals = 2;
	req.valid_after = 0x0102030405060708ULL;
	req.valid_before = 0x0102030405060708ULL + 300;
	req.serial = 0x1122334455667788ULL;
	req.force_command = "/bin/true";
	req.source_address = "10.0.0.0/8";
	req.extensions = ext;
	req.nextensions = 2;
	ck_assert_int_eq(ca_ssh_certify(ca, &req, &c), JIT_OK);
	blob = ca_ssh_cert_blob(c, &len);
	kblob = ca_sshkey_blob(k, &klen);
	ck_assert_ptr_nonnull(caline = ca_ssh_pubkey_line(ca,
	    CA_SLOT_SSH_USER, "x"));
	ck_assert_int_eq(ca_sshkey_parse_line(caline, strlen(caline), &cak),
	    JIT_OK);
	cablob = ca_sshkey_blob(cak, &calen);

	b = buf_from(blob, len);
	get_str(b, BYTES("ssh-ed25519-cert-v01@openssh.com"));
	ck_assert_int_eq(buf_get_string_direct(b, &p, &plen), JIT_OK);
	ck_assert_uint_eq(plen, 32);				/* nonce */
	get_str(b, kblob + 19, 32);				/* subject pk */
	ck_assert_int_eq(buf_get_u64(b, &u64), JIT_OK);
	ck_assert(u64 == 0x1122334455667788ULL);
	ck_assert_int_eq(buf_get_u32(b, &u32), JIT_OK);
	ck_assert_uint_eq(u32, 1);				/* user */
	get_str(b, BYTES("kat"));
	get_str(b, BYTES(want_prin));
	ck_assert_int_eq(buf_get_u64(b, &u64), JIT_OK);
	ck_assert(u64 == 0x0102030405060708ULL);
	ck_assert_int_eq(buf_get_u64(b, &u64), JIT_OK);
	ck_assert(u64 == 0x0102030405060708ULL + 300);
	get_str(b, BYTES(want_crit));
	get_str(b, BYTES(want_ext));
	get_str(b, "", 0);					/* reserved */
	get_str(b, cablob, calen);				/* CA key */
	signed_len = len - buf_len(b);
	ck_assert_int_eq(buf_froms(b, &sig), JIT_OK);
	ck_assert_uint_eq(buf_len(b), 0);
	get_str(sig, BYTES("ssh-ed25519"));
	ck_assert_int_eq(buf_get_string_direct(sig, &s, &slen), JIT_OK);
	ck_assert_uint_eq(slen, 64);
	ck_assert_uint_eq(buf_len(sig), 0);
	ck_assert_int_eq(crypto_sign_verify_detached(s, blob, signed_len,
	    cablob + 19), 0);
	buf_free(sig);
	buf_free(b);
	free(caline);
	ca_sshkey_free(cak);
	ca_ssh_cert_free(c);
	ca_sshkey_free(k);
	ca_free(ca);
}
END_TEST

/*
 * A user certificate assembled by hand around given option bytes and
 * signed with the user CA key, for encodings the builder never makes.
 */
static uint8_t *
hand_cert(struct ca *ca, const struct ca_sshkey *k, uint32_t type,
    const char *crit, size_t critlen, const char *ext, size_t extlen,
    int rsa_sigkey, size_t *lenp)
{
	struct buf *b = buf_new(CA_SSH_CERT_MAX), *s = buf_new(1024);
	uint8_t nonce[32], cablob[CA_SSH_PUBBLOB_LEN], sig[CA_SIG_MAX], *out;
	size_t siglen;

	randombytes_buf(nonce, sizeof(nonce));
	ca_ssh_pubkey_blob(ca, CA_SLOT_SSH_USER, cablob);
	ck_assert_int_eq(buf_put_cstring(b, ca_sshkey_cert_type_name(k)), 0);
	ck_assert_int_eq(buf_put_string(b, nonce, sizeof(nonce)), 0);
	ck_assert_int_eq(ca_sshkey_put_cert_fields(k, b), 0);
	ck_assert_int_eq(buf_put_u64(b, 7), 0);
	ck_assert_int_eq(buf_put_u32(b, type), 0);
	ck_assert_int_eq(buf_put_cstring(b, "hand"), 0);
	ck_assert_int_eq(buf_put_cstring(s, "alice"), 0);
	ck_assert_int_eq(buf_put_stringb(b, s), 0);
	ck_assert_int_eq(buf_put_u64(b, T0), 0);
	ck_assert_int_eq(buf_put_u64(b, T0 + 60), 0);
	ck_assert_int_eq(buf_put_string(b, crit, critlen), 0);
	ck_assert_int_eq(buf_put_string(b, ext, extlen), 0);
	ck_assert_int_eq(buf_put_string(b, NULL, 0), 0);
	buf_reset(s);
	ck_assert_int_eq(buf_put_cstring(s, rsa_sigkey ? "ssh-rsa" :
	    "ssh-ed25519"), 0);
	ck_assert_int_eq(buf_put_string(s, cablob + 19, 32), 0);
	ck_assert_int_eq(buf_put_stringb(b, s), 0);
	ck_assert_int_eq(ca_sign(ca, CA_SLOT_SSH_USER, buf_ptr(b), buf_len(b),
	    sig, &siglen), 0);
	buf_reset(s);
	ck_assert_int_eq(buf_put_cstring(s, "ssh-ed25519"), 0);
	ck_assert_int_eq(buf_put_string(s, sig, siglen), 0);
	ck_assert_int_eq(buf_put_stringb(b, s), 0);
	out = dup_blob(buf_ptr(b), buf_len(b), 0);
	*lenp = buf_len(b);
	buf_free(s);
	buf_free(b);
	return out;
}

#define FC	"\0\0\0\x0d" "force-command" "\0\0\0\x0d" "\0\0\0\x09" \
		"/bin/true"
#define SA	"\0\0\0\x0e" "source-address" "\0\0\0\x0e" "\0\0\0\x0a" \
		"10.0.0.0/8"
#define PTY	"\0\0\0\x0a" "permit-pty" "\0\0\0\0"
#define LOGIN	"\0\0\0\x07" "login@x" "\0\0\0\0"

static const struct {
	uint32_t	 type;
	const char	*crit;
	size_t		 critlen;
	const char	*ext;
	size_t		 extlen;
	int		 rsa_sigkey;
	int		 expect;
} hostile[] = {
	{ 1, BYTES(FC SA), BYTES(LOGIN PTY), 0, JIT_OK },
	{ 1, BYTES(""), BYTES(PTY LOGIN), 0, JIT_ERR_INVALID_FORMAT },
	{ 1, BYTES(""), BYTES(PTY PTY), 0, JIT_ERR_INVALID_FORMAT },
	{ 1, BYTES(SA FC), BYTES(""), 0, JIT_ERR_INVALID_FORMAT },
	{ 1, BYTES(FC FC), BYTES(""), 0, JIT_ERR_INVALID_FORMAT },
	{ 1, BYTES("\0\0\0\x0f" "verify-required" "\0\0\0\0"), BYTES(""), 0,
	    JIT_ERR_INVALID_FORMAT },
	{ 1, BYTES("\0\0\0\x0d" "force-command" "\0\0\0\0"), BYTES(""), 0,
	    JIT_ERR_INVALID_FORMAT },
	{ 1, BYTES("\0\0\0\x0d" "force-command" "\0\0\0\x0e" "\0\0\0\x09"
	    "/bin/trueX"), BYTES(""), 0, JIT_ERR_TRAILING_DATA },
	{ 1, BYTES("\0\0\0\x0e" "source-address" "\0\0\0\x0f" "\0\0\0\x0b"
	    "example.com"), BYTES(""), 0, JIT_ERR_INVALID_FORMAT },
	{ 1, BYTES(""), BYTES("\0\0\0\x07" "login@x" "\0\0\0\x05" "\0\0\0\x09"
	    "v"), 0, JIT_ERR_INCOMPLETE },
	{ 1, BYTES(""), BYTES("\0\0\0\0" "\0\0\0\0"), 0,
	    JIT_ERR_INVALID_FORMAT },
	{ 1, BYTES("\0\0\0\x64" "force"), BYTES(""), 0, JIT_ERR_INCOMPLETE },
	{ 1, BYTES(""), BYTES("\xff\xff\xff\xff" "x"), 0, JIT_ERR_LIMIT },
	{ 2, BYTES(""), BYTES(PTY), 0, JIT_ERR_INVALID_FORMAT },
	{ 2, BYTES(FC), BYTES(""), 0, JIT_ERR_INVALID_FORMAT },
	{ 2, BYTES(""), BYTES(""), 0, JIT_OK },
	{ 3, BYTES(""), BYTES(""), 0, JIT_ERR_INVALID_FORMAT },
	{ 1, BYTES(""), BYTES(""), 1, JIT_ERR_KEY_TYPE },
};

START_TEST(parser_hostile)
{
	struct ca *ca = NULL;
	struct ca_sshkey *k = any_key();
	struct ca_ssh_cert_info *info = NULL;
	uint8_t *blob;
	size_t len;

	ck_assert_int_eq(ca_generate("test CA", 1, &ca), JIT_OK);
	blob = hand_cert(ca, k, hostile[_i].type, hostile[_i].crit,
	    hostile[_i].critlen, hostile[_i].ext, hostile[_i].extlen,
	    hostile[_i].rsa_sigkey, &len);
	ck_assert_int_eq(ca_ssh_cert_parse(blob, len,
	    ca_ssh_pubkey(ca, CA_SLOT_SSH_USER), &info), hostile[_i].expect);
	if (hostile[_i].expect == JIT_OK) {
		ck_assert_uint_eq(info->nprincipals, 1);
		ck_assert_str_eq(info->principals[0], "alice");
	} else
		ck_assert_ptr_null(info);
	ca_ssh_cert_info_free(info);
	free(blob);
	ca_sshkey_free(k);
	ca_free(ca);
}
END_TEST

/* Extensions asked for in any order come out sorted, in blob and -L. */
START_TEST(extension_order)
{
	static const struct ca_ssh_ext scrambled[] = {
		{ "permit-user-rc", NULL }, { "z@jitd.example", NULL },
		{ "permit-port-forwarding", NULL },
		{ "no-touch-required", NULL },
		{ "permit-pty", NULL }, { "a@jitd.example", "x" },
		{ "permit-X11-forwarding", NULL },
		{ "permit-agent-forwarding", NULL },
	};
	static const char *const sorted[] = { "a@jitd.example",
	    "no-touch-required", "permit-X11-forwarding",
	    "permit-agent-forwarding", "permit-port-forwarding", "permit-pty",
	    "permit-user-rc", "z@jitd.example" };
	static const char lines[] =
	    "                a@jitd.example UNKNOWN OPTION: 0000000178"
	    " (len 5)\n"
	    "                no-touch-required\n"
	    "                permit-X11-forwarding\n"
	    "                permit-agent-forwarding\n"
	    "                permit-port-forwarding\n"
	    "                permit-pty\n"
	    "                permit-user-rc\n"
	    "                z@jitd.example UNKNOWN FLAG OPTION\n";
	char *dir = tu_mkdtemp("sshext"), *p, *pub, *kfp, *cfp, *cpath, *want;
	struct ca *ca = NULL;
	struct ca_sshkey *k = NULL;
	struct ca_ssh_cert_req req;
	struct ca_ssh_cert *c = NULL;
	struct ca_ssh_cert_info *info = NULL;
	const uint8_t *blob;
	size_t len, i;

	ck_assert_int_eq(ca_generate("test CA", 1, &ca), JIT_OK);
	p = keygen(dir, "k", "ed25519", NULL);
	ck_assert_int_eq(load_key(p, &k), JIT_OK);
	pub = pubpath(p);
	kfp = keygen_fp(pub);
	cfp = ca_fp(ca, CA_SLOT_SSH_USER, dir);
	base_req(&req, k);
	req.force_command = NULL;
	req.source_address = NULL;
	req.extensions = scrambled;
	req.nextensions = 8;
	ck_assert_int_eq(ca_ssh_certify(ca, &req, &c), JIT_OK);
	blob = ca_ssh_cert_blob(c, &len);
	ck_assert_int_eq(ca_ssh_cert_parse(blob, len, NULL, &info), JIT_OK);
	ck_assert_uint_eq(info->nextensions, 8);
	for (i = 0; i < 8; i++)
		ck_assert_str_eq(info->extensions[i].name, sorted[i]);
	ck_assert_str_eq(info->extensions[0].value, "x");
	ck_assert_ptr_null(info->extensions[1].value);
	cpath = write_cert(dir, "k-cert.pub", c);
	want = expected_listing(cpath, &req, 42, "ED25519", kfp, cfp, lines);
	check_listing(cpath, want);
	free(want);
	free(cpath);
	ca_ssh_cert_info_free(info);
	ca_ssh_cert_free(c);
	free(cfp);
	free(kfp);
	free(pub);
	ca_sshkey_free(k);
	free(p);
	ca_free(ca);
	tu_rmdir(dir);
	free(dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ssh");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	if (sodium_init() < 0)
		return 1;
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, key_types_fingerprints, 0, NKEYSPECS);
	tcase_add_loop_test(tc, certify_user_listing, 0, NKEYSPECS);
	tcase_add_test(tc, certify_host_and_random_serial);
	tcase_add_test(tc, key_refusals);
	tcase_add_test(tc, key_lines);
	tcase_add_test(tc, cert_line_as_subject);
	tcase_add_loop_test(tc, request_refusals, 0, NREFUSALS);
	tcase_add_test(tc, request_accepts);
	tcase_add_test(tc, parser_truncation_flip_other_ca);
	tcase_add_test(tc, cert_layout);
	tcase_add_loop_test(tc, parser_hostile, 0,
	    sizeof(hostile) / sizeof(hostile[0]));
	tcase_add_test(tc, extension_order);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
