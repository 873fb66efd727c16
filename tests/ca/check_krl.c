/*
 * Tests for ca/krl.c: KRLs we build are checked with the real
 * `ssh-keygen -Q` (signed and unsigned; OpenSSH 9.2 still reads KRL
 * signature sections, 9.4 and later refuse them, see PROTOCOL.krl), read
 * back by our parser with and without signature checks, and hand-built
 * KRLs exercise serial ranges, unknown sections, truncation, flipped bytes
 * and malformed headers.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "ca/ca.h"
#include "ca/krl.h"
#include "ca/ssh_cert.h"
#include "ca/sshkey.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/limits.h"
#include "tests/lib/testutil.h"

#define T0		1700000000ULL
#define KRL_MAGIC	0x5353484b524c0a00ULL

static const uint64_t to_revoke[] = { 30, 20, 0, 20, 5 };
#define NREVOKED (sizeof(to_revoke) / sizeof(to_revoke[0]))

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

/* Certifies k with serial and writes the -cert.pub file; returns its path. */
static char *
cert_file(struct ca *ca, const struct ca_sshkey *k, int type,
    uint64_t serial, const char *dir, const char *name)
{
	static const char *const prin[] = { "alice" };
	struct ca_ssh_cert_req req;
	struct ca_ssh_cert *c = NULL;
	char *line, *path;

	memset(&req, 0, sizeof(req));
	req.type = type;
	req.subject = k;
	req.key_id = "krl test";
	req.principals = prin;
	req.nprincipals = 1;
	req.valid_after = T0;
	req.valid_before = T0 + 300;
	req.serial = serial;
	ck_assert_int_eq(ca_ssh_certify(ca, &req, &c), JIT_OK);
	ck_assert_ptr_nonnull(line = ca_ssh_cert_to_line(c, "subject"));
	path = tu_path(dir, name);
	tu_write_file(path, line, strlen(line), 0600);
	free(line);
	ca_ssh_cert_free(c);
	return path;
}

/* Asks `ssh-keygen -Q` whether the certificate is in the KRL file. */
static int
keygen_revoked(const char *krl, const char *cert)
{
	char *argv[] = { "ssh-keygen", "-Q", "-f", (char *)krl, (char *)cert,
	    NULL };
	struct tu_out o;
	int revoked;

	ck_assert_int_eq(tu_run(argv, NULL, NULL, 60, &o), 0);
	if (tu_contains(o.out, ": REVOKED\n"))
		revoked = 1;
	else if (tu_contains(o.out, ": ok\n"))
		revoked = 0;
	else
		ck_abort_msg("ssh-keygen -Q: status %d: %s%s", o.status,
		    o.out, o.err);
	ck_assert_int_eq(o.status, revoked ? 1 : 0);
	tu_out_free(&o);
	return revoked;
}

/* 1 if `ssh-keygen -Q` cannot load the KRL at all. */
static int
keygen_refuses(const char *krl, const char *cert)
{
	char *argv[] = { "ssh-keygen", "-Q", "-f", (char *)krl, (char *)cert,
	    NULL };
	struct tu_out o;
	int refused;

	ck_assert_int_eq(tu_run(argv, NULL, NULL, 60, &o), 0);
	refused = o.status != 0 && !tu_contains(o.out, ": ok\n") &&
	    !tu_contains(o.out, ": REVOKED\n");
	tu_out_free(&o);
	return refused;
}

START_TEST(krl_ssh_keygen_oracle)
{
	static const uint64_t serials[] = { 5, 10, 20, 30, 40 };
	static const int want[] = { 1, 0, 1, 1, 0 };
	char *dir = tu_mkdtemp("krl"), *krlpath, *cert, name[32];
	struct ca *ca = NULL;
	struct ca_sshkey *k = any_key();
	uint8_t *krl = NULL;
	size_t len, i;

	ck_assert_int_eq(ca_generate("test CA", 1, &ca), JIT_OK);
	ck_assert_int_eq(ca_krl_build(ca, to_revoke, NREVOKED, 3, T0, "jitd",
	    _i, &krl, &len), JIT_OK);
	krlpath = tu_path(dir, "revoked.krl");
	tu_write_file(krlpath, krl, len, 0600);
	for (i = 0; i < sizeof(serials) / sizeof(serials[0]); i++) {
		snprintf(name, sizeof(name), "c%zu-cert.pub", i);
		cert = cert_file(ca, k, CA_SSH_CERT_USER, serials[i], dir,
		    name);
		ck_assert_msg(keygen_revoked(krlpath, cert) == want[i],
		    "serial %llu", (unsigned long long)serials[i]);
		free(cert);
	}
	/* Same serial from the host CA key: a different CA, not revoked. */
	cert = cert_file(ca, k, CA_SSH_CERT_HOST, 20, dir, "h-cert.pub");
	ck_assert_int_eq(keygen_revoked(krlpath, cert), 0);
	if (_i) {
		/* ssh-keygen checks our signature: a damaged one is refused. */
		krl[len - 1] ^= 0x01;
		unlink(krlpath);
		tu_write_file(krlpath, krl, len, 0600);
		ck_assert_int_eq(keygen_refuses(krlpath, cert), 1);
	}
	free(cert);
	free(krlpath);
	free(krl);

	/* An empty KRL revokes nothing. */
	ck_assert_int_eq(ca_krl_build(ca, to_revoke + 2, 1, 4, T0, NULL, _i,
	    &krl, &len), JIT_OK);
	krlpath = tu_path(dir, "empty.krl");
	tu_write_file(krlpath, krl, len, 0600);
	cert = cert_file(ca, k, CA_SSH_CERT_USER, 20, dir, "e-cert.pub");
	ck_assert_int_eq(keygen_revoked(krlpath, cert), 0);
	free(cert);
	free(krlpath);
	free(krl);
	ca_sshkey_free(k);
	ca_free(ca);
	tu_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(krl_parse_roundtrip)
{
	struct ca *ca = NULL;
	struct ca_krl *k = NULL;
	const uint8_t *pub, *hostpub;
	uint8_t *krl = NULL;
	size_t len;
	int sign = _i;

	ck_assert_int_eq(ca_generate("test CA", 1, &ca), JIT_OK);
	pub = ca_ssh_pubkey(ca, CA_SLOT_SSH_USER);
	hostpub = ca_ssh_pubkey(ca, CA_SLOT_SSH_HOST);
	ck_assert_int_eq(ca_krl_build(ca, to_revoke, NREVOKED, 7, T0 + 1, "c",
	    sign, &krl, &len), JIT_OK);
	ck_assert_int_eq(ca_krl_parse(krl, len, sign ? pub : NULL, &k),
	    JIT_OK);
	ck_assert(ca_krl_version(k) == 7);
	ck_assert(ca_krl_generated(k) == T0 + 1);
	ck_assert_int_eq(ca_krl_is_revoked(k, pub, 5), 1);
	ck_assert_int_eq(ca_krl_is_revoked(k, pub, 20), 1);
	ck_assert_int_eq(ca_krl_is_revoked(k, pub, 30), 1);
	ck_assert_int_eq(ca_krl_is_revoked(k, pub, 0), 0);
	ck_assert_int_eq(ca_krl_is_revoked(k, pub, 1), 0);
	ck_assert_int_eq(ca_krl_is_revoked(k, pub, 21), 0);
	ck_assert_int_eq(ca_krl_is_revoked(k, pub, UINT64_MAX), 0);
	ck_assert_int_eq(ca_krl_is_revoked(k, hostpub, 20), 0);
	ca_krl_free(k);
	k = NULL;
	/* The wrong key, or a missing signature, when one is required. */
	ck_assert_int_eq(ca_krl_parse(krl, len, hostpub, &k),
	    JIT_ERR_BAD_SIGNATURE);
	ck_assert_ptr_null(k);
	if (sign) {
		/* Without a key to check against it still parses. */
		ck_assert_int_eq(ca_krl_parse(krl, len, NULL, &k), JIT_OK);
		ck_assert_int_eq(ca_krl_is_revoked(k, pub, 20), 1);
		ca_krl_free(k);
	}
	free(krl);
	ca_free(ca);
}
END_TEST

START_TEST(krl_truncation_and_flips)
{
	struct ca *ca = NULL;
	struct ca_krl *k = NULL;
	const uint8_t *pub;
	uint8_t *krl = NULL;
	size_t len, i, hdrlen;
	int r;

	ck_assert_int_eq(ca_generate("test CA", 1, &ca), JIT_OK);
	pub = ca_ssh_pubkey(ca, CA_SLOT_SSH_USER);
	/* Signed and checked: every truncation and every flip fails. */
	ck_assert_int_eq(ca_krl_build(ca, to_revoke, NREVOKED, 1, T0, "c", 1,
	    &krl, &len), JIT_OK);
	for (i = 0; i < len; i++) {
		ck_assert_int_ne(ca_krl_parse(krl, i, pub, &k), JIT_OK);
		ck_assert_ptr_null(k);
	}
	for (i = 0; i < len; i++) {
		krl[i] ^= 0x01;
		ck_assert_msg(ca_krl_parse(krl, len, pub, &k) != JIT_OK,
		    "flip at %zu accepted", i);
		krl[i] ^= 0x01;
	}
	ck_assert_int_eq(ca_krl_parse(krl, len, pub, &k), JIT_OK);
	ca_krl_free(k);
	k = NULL;
	free(krl);
	/*
	 * Unsigned: the only prefix that parses is the bare header, a valid
	 * KRL with no sections (the format cannot tell it from a cut one;
	 * that is what signatures are for).
	 */
	ck_assert_int_eq(ca_krl_build(ca, to_revoke, NREVOKED, 1, T0, "c", 0,
	    &krl, &len), JIT_OK);
	hdrlen = 8 + 4 + 8 + 8 + 8 + 4 + 4 + 1;
	for (i = 0; i < len; i++) {
		r = ca_krl_parse(krl, i, NULL, &k);
		if (i == hdrlen) {
			ck_assert_int_eq(r, JIT_OK);
			ck_assert_int_eq(ca_krl_is_revoked(k, pub, 20), 0);
			ca_krl_free(k);
			k = NULL;
		} else {
			ck_assert_msg(r != JIT_OK, "prefix %zu accepted", i);
			ck_assert_ptr_null(k);
		}
	}
	free(krl);
	ca_free(ca);
}
END_TEST

/* The start of a hand-built KRL: header with the given fields. */
static struct buf *
hand_header(uint64_t magic, uint32_t format, uint64_t flags)
{
	struct buf *b = buf_new(65536);

	ck_assert_int_eq(buf_put_u64(b, magic), 0);
	ck_assert_int_eq(buf_put_u32(b, format), 0);
	ck_assert_int_eq(buf_put_u64(b, 9), 0);
	ck_assert_int_eq(buf_put_u64(b, T0), 0);
	ck_assert_int_eq(buf_put_u64(b, flags), 0);
	ck_assert_int_eq(buf_put_string(b, NULL, 0), 0);
	ck_assert_int_eq(buf_put_cstring(b, "hand"), 0);
	return b;
}

/* Appends a certificates section for cakey holding one subsection. */
static void
hand_cert_section(struct buf *b, const uint8_t *cakey, size_t cakeylen,
    uint8_t subtype, const uint64_t *vals, size_t nvals)
{
	struct buf *sect = buf_new(65536), *sub = buf_new(65536);
	size_t i;

	for (i = 0; i < nvals; i++)
		ck_assert_int_eq(buf_put_u64(sub, vals[i]), 0);
	ck_assert_int_eq(buf_put_string(sect, cakey, cakeylen), 0);
	ck_assert_int_eq(buf_put_string(sect, NULL, 0), 0);
	if (subtype != 0) {
		ck_assert_int_eq(buf_put_u8(sect, subtype), 0);
		ck_assert_int_eq(buf_put_stringb(sect, sub), 0);
	}
	ck_assert_int_eq(buf_put_u8(b, 1), 0);
	ck_assert_int_eq(buf_put_stringb(b, sect), 0);
	buf_free(sub);
	buf_free(sect);
}

static int
parse_buf(struct buf *b, const uint8_t *pub, struct ca_krl **k)
{
	return ca_krl_parse(buf_ptr(b), buf_len(b), pub, k);
}

START_TEST(krl_hand_built)
{
	static const uint64_t range[] = { 15, 35 }, badrange[] = { 35, 15 };
	static const uint64_t zerorange[] = { 0, 3 }, withzero[] = { 4, 0 };
	char *dir = tu_mkdtemp("krlhand"), *krlpath, *c20, *c40;
	struct ca *ca = NULL;
	struct ca_krl *k = NULL;
	struct ca_sshkey *key = any_key();
	struct buf *b;
	const uint8_t *pub;
	uint8_t cablob[CA_SSH_PUBBLOB_LEN], *krl = NULL;
	size_t len;

	ck_assert_int_eq(ca_generate("test CA", 1, &ca), JIT_OK);
	pub = ca_ssh_pubkey(ca, CA_SLOT_SSH_USER);
	ca_ssh_pubkey_blob(ca, CA_SLOT_SSH_USER, cablob);

	/* A serial range, checked against ssh-keygen as well. */
	b = hand_header(KRL_MAGIC, 1, 0);
	hand_cert_section(b, cablob, sizeof(cablob), 0x21, range, 2);
	ck_assert_int_eq(parse_buf(b, NULL, &k), JIT_OK);
	ck_assert_int_eq(ca_krl_is_revoked(k, pub, 14), 0);
	ck_assert_int_eq(ca_krl_is_revoked(k, pub, 15), 1);
	ck_assert_int_eq(ca_krl_is_revoked(k, pub, 35), 1);
	ck_assert_int_eq(ca_krl_is_revoked(k, pub, 36), 0);
	ca_krl_free(k);
	k = NULL;
	krlpath = tu_path(dir, "range.krl");
	tu_write_file(krlpath, buf_ptr(b), buf_len(b), 0600);
	c20 = cert_file(ca, key, CA_SSH_CERT_USER, 20, dir, "a-cert.pub");
	c40 = cert_file(ca, key, CA_SSH_CERT_USER, 40, dir, "b-cert.pub");
	ck_assert_int_eq(keygen_revoked(krlpath, c20), 1);
	ck_assert_int_eq(keygen_revoked(krlpath, c40), 0);
	/* An unsigned KRL is refused when a signature is required. */
	ck_assert_int_eq(parse_buf(b, pub, &k), JIT_ERR_BAD_SIGNATURE);
	buf_free(b);

	/* An empty CA key applies to every CA. */
	b = hand_header(KRL_MAGIC, 1, 0);
	hand_cert_section(b, NULL, 0, 0x20, range, 2);
	ck_assert_int_eq(parse_buf(b, NULL, &k), JIT_OK);
	ck_assert_int_eq(ca_krl_is_revoked(k, pub, 35), 1);
	ck_assert_int_eq(ca_krl_is_revoked(k,
	    ca_ssh_pubkey(ca, CA_SLOT_SSH_HOST), 15), 1);
	ca_krl_free(k);
	k = NULL;
	buf_free(b);

#define OK(x)	ck_assert_int_eq((x), JIT_OK)
#define BAD(build, expect) do {						\
	b = hand_header(KRL_MAGIC, 1, 0);				\
	build;								\
	ck_assert_int_eq(parse_buf(b, NULL, &k), expect);		\
	ck_assert_ptr_null(k);						\
	buf_free(b);							\
} while (0)
	BAD(hand_cert_section(b, cablob, sizeof(cablob), 0x21, badrange, 2),
	    JIT_ERR_INVALID_FORMAT);
	BAD(hand_cert_section(b, cablob, sizeof(cablob), 0x21, zerorange, 2),
	    JIT_ERR_INVALID_FORMAT);
	BAD(hand_cert_section(b, cablob, sizeof(cablob), 0x21, range, 1),
	    JIT_ERR_INCOMPLETE);
	BAD(hand_cert_section(b, cablob, sizeof(cablob), 0x20, withzero, 2),
	    JIT_ERR_INVALID_FORMAT);
	BAD(hand_cert_section(b, cablob, sizeof(cablob), 0x20, NULL, 0),
	    JIT_ERR_INVALID_FORMAT);
	BAD(hand_cert_section(b, cablob, sizeof(cablob), 0x22, range, 2),
	    JIT_ERR_INVALID_FORMAT);			/* bitmap */
	BAD(hand_cert_section(b, cablob, sizeof(cablob), 0x23, range, 2),
	    JIT_ERR_INVALID_FORMAT);			/* key id */
	BAD(hand_cert_section(b, cablob, sizeof(cablob), 0, NULL, 0),
	    JIT_ERR_INVALID_FORMAT);			/* no subsection */
	BAD(OK(buf_put_u8(b, 2)); OK(buf_put_string(b, cablob,
	    sizeof(cablob))), JIT_ERR_INVALID_FORMAT);	/* explicit key */
	BAD(OK(buf_put_u8(b, 255)); OK(buf_put_string(b, NULL, 0)),
	    JIT_ERR_INVALID_FORMAT);			/* extension */
	BAD(OK(buf_put_u8(b, 1)), JIT_ERR_INCOMPLETE);
	BAD(OK(buf_put_u8(b, 1)); OK(buf_put_u32(b, 0xffffffff)),
	    JIT_ERR_LIMIT);
	BAD(OK(buf_put_u8(b, 1)); OK(buf_put_u32(b, 100)),
	    JIT_ERR_INCOMPLETE);
#undef BAD
#undef OK
	b = hand_header(KRL_MAGIC ^ 1, 1, 0);
	ck_assert_int_eq(parse_buf(b, NULL, &k), JIT_ERR_INVALID_FORMAT);
	buf_free(b);
	b = hand_header(KRL_MAGIC, 2, 0);
	ck_assert_int_eq(parse_buf(b, NULL, &k), JIT_ERR_INVALID_FORMAT);
	buf_free(b);
	b = hand_header(KRL_MAGIC, 1, 1);
	ck_assert_int_eq(parse_buf(b, NULL, &k), JIT_ERR_INVALID_FORMAT);
	buf_free(b);
	ck_assert_int_eq(ca_krl_parse(NULL, 0, NULL, &k), JIT_ERR_INCOMPLETE);

	/* Nothing may follow the signature but another signature. */
	ck_assert_int_eq(ca_krl_build(ca, to_revoke, NREVOKED, 1, T0, NULL, 1,
	    &krl, &len), JIT_OK);
	b = buf_new(65536);
	ck_assert_int_eq(buf_put(b, krl, len), 0);
	hand_cert_section(b, cablob, sizeof(cablob), 0x21, range, 2);
	ck_assert_int_eq(parse_buf(b, NULL, &k), JIT_ERR_INVALID_FORMAT);
	ck_assert_int_eq(parse_buf(b, pub, &k), JIT_ERR_INVALID_FORMAT);
	buf_free(b);
	free(krl);

	free(c40);
	free(c20);
	free(krlpath);
	ca_sshkey_free(key);
	ca_free(ca);
	tu_rmdir(dir);
	free(dir);
}
END_TEST

START_TEST(krl_many_serials)
{
	struct ca *ca = NULL;
	struct ca_krl *k = NULL;
	const uint8_t *pub;
	uint64_t *serials, probe;
	uint8_t *krl = NULL;
	size_t i, n = 100000, len;

	ck_assert_int_eq(ca_generate("test CA", 1, &ca), JIT_OK);
	pub = ca_ssh_pubkey(ca, CA_SLOT_SSH_USER);
	ck_assert_ptr_nonnull(serials = calloc(n, sizeof(*serials)));
	for (i = 0; i < n; i++)
		serials[i] = (i * 7919) % n * 2 + 2;	/* even, unordered */
	ck_assert_int_eq(ca_krl_build(ca, serials, n, 1, T0, NULL, 1, &krl,
	    &len), JIT_OK);
	ck_assert_int_eq(ca_krl_parse(krl, len, pub, &k), JIT_OK);
	for (i = 0; i < n; i += 97)
		ck_assert_int_eq(ca_krl_is_revoked(k, pub, serials[i]), 1);
	for (i = 0; i < 1000; i++) {
		probe = 2 * i + 1;			/* odd: never revoked */
		ck_assert_int_eq(ca_krl_is_revoked(k, pub, probe), 0);
	}
	ca_krl_free(k);
	free(krl);
	ck_assert_int_eq(ca_krl_build(ca, serials, JIT_KRL_SERIALS_MAX + 1,
	    1, T0, NULL, 0, &krl, &len), JIT_ERR_LIMIT);
	ck_assert_ptr_null(krl);
	free(serials);
	ca_free(ca);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("krl");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	if (sodium_init() < 0)
		return 1;
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, krl_ssh_keygen_oracle, 0, 2);
	tcase_add_loop_test(tc, krl_parse_roundtrip, 0, 2);
	tcase_add_test(tc, krl_truncation_and_flips);
	tcase_add_test(tc, krl_hand_built);
	tcase_add_test(tc, krl_many_serials);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
