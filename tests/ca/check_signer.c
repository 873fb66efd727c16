/*
 * Tests for ca/signer_proc.c: the CA keys in a forked signer process.
 * Certificates of every slot and a signed KRL come back through it and
 * pass the real tools; malformed, truncated, over-long and out-of-policy
 * requests are refused and the signer keeps answering; a dead signer fails
 * closed; and the parent's memory no longer holds any key byte (scanned
 * through /proc/self/mem, with the same scan finding them before the fork
 * as the control).
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "ca/ca.h"
#include "ca/krl.h"
#include "ca/signer_proc.h"
#include "ca/ssh_cert.h"
#include "ca/sshkey.h"
#include "ca/x509.h"
#include "common/b64.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/limits.h"
#include "common/seal.h"
#include "tests/lib/memscan.h"
#include "tests/lib/testutil.h"

#define HARD	(JIT_CERT_TTL_MAX + JIT_CLOCK_SKEW)

static const char *principals[] = { "webadmin", "root" };

static struct ca *
new_ca(const struct ca_signer_limits *lim)
{
	struct ca *ca = NULL;

	ck_assert_int_eq(ca_generate("signer test CA", 30, &ca), JIT_OK);
	ck_assert_int_eq(ca_signer_fork(ca, lim, NULL), JIT_OK);
	ck_assert_int_eq(ca_signer_alive(ca), 1);
	ck_assert(!ca_signer_is_local(ca));
	return ca;
}

static struct ca_sshkey *
subject_key(void)
{
	struct ca_sshkey *k = NULL;
	uint8_t pk[32], sk[64];
	char *line, *b64 = NULL;
	uint8_t blob[CA_SSH_PUBBLOB_LEN];

	crypto_sign_keypair(pk, sk);
	ssh_ed25519_blob(pk, blob);
	ck_assert_ptr_nonnull(b64 = b64_encode(blob, sizeof(blob), B64_STD));
	ck_assert_int_ne(asprintf(&line, "ssh-ed25519 %s t", b64), -1);
	ck_assert_int_eq(ca_sshkey_parse_line(line, strlen(line), &k),
	    JIT_OK);
	free(line);
	free(b64);
	return k;
}

static int
certify(struct ca *ca, int type, struct ca_ssh_cert **c)
{
	struct ca_ssh_cert_req req;
	struct ca_sshkey *k = subject_key();
	time_t now = ca_now();
	int r;

	memset(&req, 0, sizeof(req));
	req.type = type;
	req.subject = k;
	req.key_id = "jitd:alice:1:1";
	req.principals = principals;
	req.nprincipals = 2;
	req.valid_after = (uint64_t)now - 60;
	req.valid_before = (uint64_t)now + 300;
	r = ca_ssh_certify(ca, &req, c);
	ca_sshkey_free(k);
	return r;
}

/* ssh-keygen -L on a certificate; returns its output. */
static char *
keygen_L(const char *dir, const struct ca_ssh_cert *c)
{
	char *line = ca_ssh_cert_to_line(c, NULL), *p = tu_path(dir,
	    "c-cert.pub"), *s;
	char *argv[] = { "ssh-keygen", "-L", "-f", p, NULL };
	struct tu_out o;

	tu_write_file(p, line, strlen(line), 0600);
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 60, &o), 0);
	ck_assert_msg(o.status == 0, "ssh-keygen -L: %s", o.err);
	s = o.out;
	o.out = NULL;
	tu_out_free(&o);
	free(line);
	free(p);
	return s;
}

START_TEST(test_all_slots)
{
	struct ca *ca = new_ca(NULL);
	struct ca_ssh_cert *c = NULL;
	struct ca_x509_cert *x = NULL;
	struct ca_x509_req xr;
	struct ca_krl *k = NULL;
	struct tu_out o;
	uint64_t serials[] = { 7, 9 };
	uint8_t *krl = NULL;
	size_t krllen = 0, csrlen = 0;
	char *dir = tu_mkdtemp("signer"), *s, *key = tu_path(dir, "k.pem"),
	    *csr = tu_path(dir, "csr.pem"), *leaf = tu_path(dir, "leaf.pem"),
	    *cap = tu_path(dir, "ca.pem"), *pem, *csrb;
	char *req[] = { "openssl", "req", "-new", "-nodes", "-newkey", "ec",
	    "-pkeyopt", "ec_paramgen_curve:P-256", "-keyout", key, "-out", csr,
	    "-subj", "/CN=x", NULL };
	char *ver[] = { "openssl", "verify", "-purpose", "sslclient",
	    "-CAfile", cap, leaf, NULL };

	ck_assert_int_eq(certify(ca, CA_SSH_CERT_USER, &c), JIT_OK);
	s = keygen_L(dir, c);
	ck_assert(tu_contains(s, "user certificate"));
	ck_assert(tu_contains(s, "webadmin"));
	free(s);
	ca_ssh_cert_free(c);
	c = NULL;
	ck_assert_int_eq(certify(ca, CA_SSH_CERT_HOST, &c), JIT_OK);
	s = keygen_L(dir, c);
	ck_assert(tu_contains(s, "host certificate"));
	free(s);
	ca_ssh_cert_free(c);

	ck_assert_int_eq(ca_krl_build(ca, serials, 2, 1, (uint64_t)ca_now(),
	    "c", 1, &krl, &krllen), JIT_OK);
	ck_assert_int_eq(ca_krl_parse(krl, krllen, ca_ssh_pubkey(ca,
	    CA_SLOT_SSH_USER), &k), JIT_OK);
	ck_assert(ca_krl_is_revoked(k, ca_ssh_pubkey(ca, CA_SLOT_SSH_USER),
	    9));
	ca_krl_free(k);
	free(krl);

	ck_assert_int_eq(tu_run(req, NULL, NULL, 60, &o), 0);
	ck_assert_int_eq(o.status, 0);
	tu_out_free(&o);
	csrb = tu_read_file(csr, &csrlen);
	memset(&xr, 0, sizeof(xr));
	xr.csr = (const uint8_t *)csrb;
	xr.csrlen = csrlen;
	xr.cn = "alice";
	xr.ttl = 300;
	ck_assert_int_eq(ca_x509_issue(ca, &xr, &x), JIT_OK);
	tu_write_file(leaf, ca_x509_cert_pem(x), strlen(ca_x509_cert_pem(x)),
	    0600);
	pem = ca_x509_ca_pem(ca);
	tu_write_file(cap, pem, strlen(pem), 0600);
	ck_assert_int_eq(tu_run(ver, NULL, NULL, 60, &o), 0);
	ck_assert_msg(o.status == 0, "openssl verify: %s%s", o.out, o.err);
	tu_out_free(&o);
	ca_x509_cert_free(x);
	free(pem);
	free(csrb);
	ca_free(ca);
	tu_rmdir(dir);
	free(dir);
	free(key);
	free(csr);
	free(leaf);
	free(cap);
}
END_TEST

/* A certificate body (PROTOCOL.certkeys, up to the signature key). */
static uint8_t *
body(const uint8_t capub[32], uint32_t type, uint64_t serial,
    const char *keyid, size_t nprinc, uint64_t va, uint64_t vb, size_t *len)
{
	struct buf *b = buf_new(JIT_BUF_MAX), *p = buf_new(4096);
	uint8_t nonce[32], pk[32], blob[CA_SSH_PUBBLOB_LEN], *out;
	size_t i;

	randombytes_buf(nonce, sizeof(nonce));
	randombytes_buf(pk, sizeof(pk));
	for (i = 0; i < nprinc; i++)
		ck_assert_int_eq(buf_put_cstring(p, principals[i % 2]), JIT_OK);
	ssh_ed25519_blob(capub, blob);
	ck_assert_int_eq(buf_put_cstring(b, "ssh-ed25519-cert-v01@openssh.com"),
	    JIT_OK);
	ck_assert_int_eq(buf_put_string(b, nonce, 32), JIT_OK);
	ck_assert_int_eq(buf_put_string(b, pk, 32), JIT_OK);
	ck_assert_int_eq(buf_put_u64(b, serial), JIT_OK);
	ck_assert_int_eq(buf_put_u32(b, type), JIT_OK);
	ck_assert_int_eq(buf_put_cstring(b, keyid), JIT_OK);
	ck_assert_int_eq(buf_put_stringb(b, p), JIT_OK);
	ck_assert_int_eq(buf_put_u64(b, va), JIT_OK);
	ck_assert_int_eq(buf_put_u64(b, vb), JIT_OK);
	ck_assert_int_eq(buf_put_string(b, NULL, 0), JIT_OK);
	ck_assert_int_eq(buf_put_string(b, NULL, 0), JIT_OK);
	ck_assert_int_eq(buf_put_string(b, NULL, 0), JIT_OK);
	ck_assert_int_eq(buf_put_string(b, blob, sizeof(blob)), JIT_OK);
	*len = buf_len(b);
	ck_assert_ptr_nonnull(out = malloc(*len));
	memcpy(out, buf_ptr(b), *len);
	buf_free(b);
	buf_free(p);
	return out;
}

/* Sends slot + body raw; returns the answer's status as a JIT code. */
static int
raw(struct ca *ca, int slot, const uint8_t *b, size_t len, int lenfix)
{
	uint8_t *m = malloc(len + 5), ans[256];
	size_t anslen = 0;
	uint32_t l = (uint32_t)len + (uint32_t)lenfix;

	ck_assert_ptr_nonnull(m);
	m[0] = (uint8_t)slot;
	m[1] = (uint8_t)(l >> 24);
	m[2] = (uint8_t)(l >> 16);
	m[3] = (uint8_t)(l >> 8);
	m[4] = (uint8_t)l;
	if (len > 0)
		memcpy(m + 5, b, len);
	ck_assert_int_eq(ca_signer_raw(ca, m, len + 5, ans, sizeof(ans),
	    &anslen), JIT_OK);
	free(m);
	ck_assert_uint_ge(anslen, 5);
	if (ans[0] == 0) {
		ck_assert_uint_eq(anslen, 5 + 64 + (slot == CA_SLOT_X509 ?
		    anslen - 69 : 0));
		return JIT_OK;
	}
	ck_assert_uint_eq(anslen, 5);
	return -(int)ans[0];
}

/* A valid request still works (the signer survived what came before). */
static void
still_signs(struct ca *ca)
{
	struct ca_ssh_cert *c = NULL;

	ck_assert_int_eq(certify(ca, CA_SSH_CERT_USER, &c), JIT_OK);
	ca_ssh_cert_free(c);
	ck_assert_int_eq(ca_signer_alive(ca), 1);
}

START_TEST(test_refusals_protocol)
{
	struct ca *ca = new_ca(NULL);
	uint8_t garbage[300], *big, hdr[3] = { 0, 0, 0 }, ans[64];
	const uint8_t *up = ca_ssh_pubkey(ca, CA_SLOT_SSH_USER);
	uint64_t now = (uint64_t)ca_now();
	uint8_t sig[CA_SIG_MAX];
	size_t len, anslen, siglen;
	uint8_t *b = body(up, 1, 5, "id", 1, now - 60, now + 300, &len);

	ck_assert_int_eq(raw(ca, CA_SLOT_SSH_USER, b, len, 0), JIT_OK);
	randombytes_buf(garbage, sizeof(garbage));
	ck_assert_int_lt(raw(ca, CA_SLOT_SSH_USER, garbage, sizeof(garbage),
	    0), 0);
	ck_assert_int_lt(raw(ca, CA_SLOT_X509, garbage, sizeof(garbage), 0),
	    0);
	ck_assert_int_lt(raw(ca, CA_SLOT_X509, b, len, 0), 0);
	garbage[0] = 0x30;
	ck_assert_int_lt(raw(ca, CA_SLOT_X509, garbage, sizeof(garbage), 0),
	    0);
	/* Truncated bodies, and every prefix of the header. */
	ck_assert_int_lt(raw(ca, CA_SLOT_SSH_USER, b, len - 10, 0), 0);
	ck_assert_int_lt(raw(ca, CA_SLOT_SSH_USER, b, 40, 0), 0);
	ck_assert_int_eq(raw(ca, CA_SLOT_SSH_USER, b, 0, 0),
	    JIT_ERR_INCOMPLETE);
	ck_assert_int_eq(ca_signer_raw(ca, hdr, 3, ans, sizeof(ans), &anslen),
	    JIT_OK);
	ck_assert_uint_eq(anslen, 5);
	ck_assert_int_eq(-(int)ans[0], JIT_ERR_INCOMPLETE);
	/* Length field disagreeing with the message, unknown slot. */
	ck_assert_int_eq(raw(ca, CA_SLOT_SSH_USER, b, len, 1),
	    JIT_ERR_INCOMPLETE);
	ck_assert_int_eq(raw(ca, CA_SLOT_SSH_USER, b, len, -1),
	    JIT_ERR_TRAILING_DATA);
	ck_assert_int_eq(raw(ca, 7, b, len, 0), JIT_ERR_INVALID_ARG);
	ck_assert_int_eq(raw(ca, 255, b, len, 0), JIT_ERR_INVALID_ARG);
	/* Over-long: refused by the child, and before sending by the parent. */
	ck_assert_ptr_nonnull(big = calloc(1, CA_SIGNER_MSG_MAX + 100));
	memcpy(big, b, len);
	ck_assert_int_eq(raw(ca, CA_SLOT_SSH_USER, big, CA_SIGNER_MSG_MAX + 1,
	    0), JIT_ERR_LIMIT);
	ck_assert_int_eq(raw(ca, CA_SLOT_SSH_USER, big, CA_SIGNER_MSG_MAX +
	    100, 0), JIT_ERR_LIMIT);
	ck_assert_int_eq(ca_sign(ca, CA_SLOT_SSH_USER, big, CA_SIGNER_MSG_MAX +
	    1, sig, &siglen), JIT_ERR_LIMIT);
	/* A KRL body on the host slot, a KRL body without its signature. */
	memcpy(big, "SSHKRL\n\0", 8);
	ck_assert_int_eq(raw(ca, CA_SLOT_SSH_HOST, big, 200, 0),
	    JIT_ERR_POLICY);
	ck_assert_int_lt(raw(ca, CA_SLOT_SSH_USER, big, 200, 0), 0);
	ck_assert_int_lt(raw(ca, CA_SLOT_SSH_USER, big, 8, 0), 0);
	free(big);
	still_signs(ca);
	free(b);
	ca_free(ca);
}
END_TEST

START_TEST(test_refusals_ssh_policy)
{
	struct ca_signer_limits lim = { 600 };
	struct ca *ca = new_ca(&lim);
	const uint8_t *up = ca_ssh_pubkey(ca, CA_SLOT_SSH_USER),
	    *hp = ca_ssh_pubkey(ca, CA_SLOT_SSH_HOST);
	uint8_t foreign[32], fsk[64], *b;
	uint64_t now = (uint64_t)ca_now();
	size_t len;
	int r;

	crypto_sign_keypair(foreign, fsk);
#define TRY(slot, want, ...) do {					\
	b = body(__VA_ARGS__, &len);					\
	r = raw(ca, slot, b, len, 0);					\
	ck_assert_msg(r == (want), "line %d: got %d", __LINE__, r);	\
	free(b);							\
} while (0)
	TRY(CA_SLOT_SSH_USER, JIT_OK, up, 1, 5, "id", 1, now - 60, now + 500);
	TRY(CA_SLOT_SSH_HOST, JIT_OK, hp, 2, 5, "id", 1, now - 60, now + 500);
	/* Wrong slot: host body on the user slot and the reverse. */
	TRY(CA_SLOT_SSH_USER, JIT_ERR_BAD_SIGNATURE, hp, 2, 5, "id", 1,
	    now - 60, now + 500);
	TRY(CA_SLOT_SSH_HOST, JIT_ERR_BAD_SIGNATURE, up, 1, 5, "id", 1,
	    now - 60, now + 500);
	/* The right key but the other type. */
	TRY(CA_SLOT_SSH_USER, JIT_ERR_POLICY, up, 2, 5, "id", 1, now - 60,
	    now + 500);
	TRY(CA_SLOT_SSH_HOST, JIT_ERR_POLICY, hp, 1, 5, "id", 1, now - 60,
	    now + 500);
	/* A foreign CA key in the body. */
	TRY(CA_SLOT_SSH_USER, JIT_ERR_BAD_SIGNATURE, foreign, 1, 5, "id", 1,
	    now - 60, now + 500);
	/* No principals, serial 0, empty key id. */
	TRY(CA_SLOT_SSH_USER, JIT_ERR_POLICY, up, 1, 5, "id", 0, now - 60,
	    now + 500);
	TRY(CA_SLOT_SSH_USER, JIT_ERR_POLICY, up, 1, 0, "id", 1, now - 60,
	    now + 500);
	TRY(CA_SLOT_SSH_USER, JIT_ERR_POLICY, up, 1, 5, "", 1, now - 60,
	    now + 500);
	/* Validity: over the configured 600 s, ending too late, reversed. */
	TRY(CA_SLOT_SSH_USER, JIT_ERR_LIMIT, up, 1, 5, "id", 1, now - 60,
	    now + 541);
	TRY(CA_SLOT_SSH_USER, JIT_ERR_LIMIT, up, 1, 5, "id", 1, now + 500,
	    now + 700);
	TRY(CA_SLOT_SSH_USER, JIT_ERR_LIMIT, up, 1, 5, "id", 1, 0,
	    UINT64_MAX);
	TRY(CA_SLOT_SSH_USER, JIT_ERR_INVALID_FORMAT, up, 1, 5, "id", 1,
	    now + 60, now - 60);
#undef TRY
	still_signs(ca);
	ca_free(ca);
	/* The default limit is the hard ceiling. */
	ca = new_ca(NULL);
	up = ca_ssh_pubkey(ca, CA_SLOT_SSH_USER);
	b = body(up, 1, 5, "id", 1, now - 60, now - 60 + HARD, &len);
	ck_assert_int_eq(raw(ca, CA_SLOT_SSH_USER, b, len, 0), JIT_OK);
	free(b);
	b = body(up, 1, 5, "id", 1, now - 61, now - 60 + HARD, &len);
	ck_assert_int_eq(raw(ca, CA_SLOT_SSH_USER, b, len, 0), JIT_ERR_LIMIT);
	free(b);
	ca_free(ca);
	/* Limits past the ceiling are refused. */
	lim.max_validity = HARD + 1;
	ck_assert_int_eq(ca_generate("c", 1, &ca), JIT_OK);
	ck_assert_int_eq(ca_signer_fork(ca, &lim, NULL), JIT_ERR_INVALID_ARG);
	ca_free(ca);
}
END_TEST

/* A TBSCertificate for the CA (or a forged one), from OpenSSL. */
static uint8_t *
tbs(struct ca *ca, int is_ca, int eku, int ku_sign, long secs,
    const char *issuer, size_t *len)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *in = NULL;
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	unsigned char *der = NULL;
	uint8_t *out;
	int n;

	ck_assert_ptr_nonnull(k);
	ck_assert_ptr_nonnull(x);
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 42);
	if (issuer != NULL) {
		in = X509_NAME_new();
		X509_NAME_add_entry_by_txt(in, "CN", MBSTRING_ASC,
		    (const unsigned char *)issuer, -1, -1, 0);
		X509_set_issuer_name(x, in);
		X509_NAME_free(in);
	} else
		X509_set_issuer_name(x, X509_get_subject_name(
		    ca_x509_ca_cert(ca)));
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"alice", -1, -1, 0);
	X509_time_adj_ex(X509_getm_notBefore(x), 0, -60, NULL);
	X509_time_adj_ex(X509_getm_notAfter(x), 0, secs - 60, NULL);
	X509_set_pubkey(x, k);
	X509V3_set_ctx(&ctx, ca_x509_ca_cert(ca), x, NULL, NULL, 0);
	ck_assert_ptr_nonnull(e = X509V3_EXT_conf_nid(NULL, &ctx,
	    NID_basic_constraints, is_ca ? "critical,CA:TRUE" :
	    "critical,CA:FALSE"));
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	ck_assert_ptr_nonnull(e = X509V3_EXT_conf_nid(NULL, &ctx,
	    NID_key_usage, ku_sign ? "critical,digitalSignature,keyCertSign" :
	    "critical,digitalSignature"));
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	if (eku) {
		ck_assert_ptr_nonnull(e = X509V3_EXT_conf_nid(NULL, &ctx,
		    NID_ext_key_usage, "clientAuth"));
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	/* Sets the signature algorithm fields to ecdsa-with-SHA256. */
	ck_assert_int_gt(X509_sign(x, k, EVP_sha256()), 0);
	ck_assert_int_gt(n = i2d_re_X509_tbs(x, &der), 0);
	ck_assert_ptr_nonnull(out = malloc((size_t)n));
	memcpy(out, der, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(k);
	return out;
}

START_TEST(test_refusals_x509)
{
	struct ca_signer_limits lim = { 600 };
	struct ca *ca = new_ca(&lim);
	uint8_t *b;
	size_t len;

	b = tbs(ca, 0, 1, 0, 500, NULL, &len);
	ck_assert_int_eq(raw(ca, CA_SLOT_X509, b, len, 0), JIT_OK);
	ck_assert_int_lt(raw(ca, CA_SLOT_X509, b, len - 1, 0), 0);
	ck_assert_int_lt(raw(ca, CA_SLOT_SSH_USER, b, len, 0), 0);
	free(b);
	b = tbs(ca, 1, 1, 0, 500, NULL, &len);		/* CA:TRUE */
	ck_assert_int_eq(raw(ca, CA_SLOT_X509, b, len, 0), JIT_ERR_POLICY);
	free(b);
	b = tbs(ca, 0, 0, 0, 500, NULL, &len);		/* no clientAuth */
	ck_assert_int_eq(raw(ca, CA_SLOT_X509, b, len, 0), JIT_ERR_POLICY);
	free(b);
	b = tbs(ca, 0, 1, 1, 500, NULL, &len);		/* keyCertSign */
	ck_assert_int_eq(raw(ca, CA_SLOT_X509, b, len, 0), JIT_ERR_POLICY);
	free(b);
	b = tbs(ca, 0, 1, 0, 500, "other CA", &len);	/* foreign issuer */
	ck_assert_int_eq(raw(ca, CA_SLOT_X509, b, len, 0), JIT_ERR_POLICY);
	free(b);
	b = tbs(ca, 0, 1, 0, 86400, NULL, &len);	/* too long */
	ck_assert_int_eq(raw(ca, CA_SLOT_X509, b, len, 0), JIT_ERR_LIMIT);
	free(b);
	still_signs(ca);
	ca_free(ca);
}
END_TEST

START_TEST(test_dead_child_fails_closed)
{
	struct ca_ssh_cert *c = NULL;
	struct ca *ca;
	pid_t pid;

	ck_assert_int_eq(ca_generate("c", 1, &ca), JIT_OK);
	ck_assert_int_eq(ca_signer_fork(ca, NULL, &pid), JIT_OK);
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(ca_signer_fork(ca, NULL, NULL), JIT_ERR_INVALID_ARG);
	still_signs(ca);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(certify(ca, CA_SSH_CERT_USER, &c), JIT_ERR_CRYPTO);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(certify(ca, CA_SSH_CERT_HOST, &c), JIT_ERR_CRYPTO);
	ck_assert_int_eq(ca_signer_alive(ca), 0);
	ca_free(ca);
}
END_TEST

static void *
signer_thread(void *arg)
{
	struct ca *ca = arg;
	struct ca_ssh_cert *c;
	int i;

	for (i = 0; i < 200; i++) {
		c = NULL;
		if (certify(ca, i % 2 ? CA_SSH_CERT_USER : CA_SSH_CERT_HOST,
		    &c) != JIT_OK)
			return (void *)1;
		ca_ssh_cert_free(c);
	}
	return NULL;
}

START_TEST(test_threads)
{
	struct ca *ca = new_ca(NULL);
	pthread_t th[4];
	void *rv;
	int i;

	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, signer_thread,
		    ca), 0);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(th[i], &rv), 0);
		ck_assert_ptr_null(rv);
	}
	ca_free(ca);
}
END_TEST

/*
 * The CA is generated and sealed in a throw-away child, so that this
 * process only ever loads it the way jitd does (ca_open).
 */
static void
make_ca_dir(const char *dir, char **cadir, char **sealkey)
{
	pid_t pid;
	int st;

	*cadir = tu_path(dir, "ca");
	*sealkey = tu_path(dir, "seal.key");
	if ((pid = fork()) == 0) {
		struct seal_key sk;
		struct ca *ca = NULL;

		memset(&sk, 0, sizeof(sk));
		sk.mode = SEAL_KEYFILE;
		randombytes_buf(sk.key, sizeof(sk.key));
		tu_write_file(*sealkey, sk.key, sizeof(sk.key), 0600);
		_exit(ca_generate("scan CA", 30, &ca) != JIT_OK ||
		    ca_save(ca, *cadir, &sk) != JIT_OK);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

START_TEST(test_keys_absent_from_parent)
{
	struct ms_needle nd[MS_CA_NEEDLES];
	size_t found[MS_CA_NEEDLES], scanned, i;
	struct ca_ssh_cert *c = NULL;
	struct seal_key sk;
	struct ca *ca = NULL;
	char *dir = tu_mkdtemp("scan"), *cadir, *sealkey;

	make_ca_dir(dir, &cadir, &sealkey);
	ms_ca_needles(cadir, sealkey, nd);
	ck_assert_int_eq(seal_key_from_file(sealkey, &sk), JIT_OK);
	ck_assert_int_eq(ca_open(cadir, &sk, &ca), JIT_OK);
	seal_key_clear(&sk);
	ck_assert_int_eq(certify(ca, CA_SSH_CERT_USER, &c), JIT_OK);
	ca_ssh_cert_free(c);
	c = NULL;
	/* Control: with the in-process signer the scan finds every key. */
	scanned = ms_scan_self(nd, MS_CA_NEEDLES, found);
	ck_assert_uint_gt(scanned, 1024 * 1024);
	for (i = 0; i < 2; i++)
		ck_assert_msg(found[i] > 0, "control: %s not found in %zu "
		    "bytes", nd[i].name, scanned);
	ck_assert_msg(found[2] + found[3] > 0, "control: X.509 key not found");
	ck_assert_int_eq(ca_signer_fork(ca, NULL, NULL), JIT_OK);
	ck_assert_int_eq(certify(ca, CA_SSH_CERT_USER, &c), JIT_OK);
	ca_ssh_cert_free(c);
	scanned = ms_scan_self(nd, MS_CA_NEEDLES, found);
	for (i = 0; i < MS_CA_NEEDLES; i++)
		ck_assert_msg(found[i] == 0, "%s found %zu times in the "
		    "parent after the fork (%zu bytes scanned)", nd[i].name,
		    found[i], scanned);
	ca_free(ca);
	tu_rmdir(dir);
	free(dir);
	free(cadir);
	free(sealkey);
}
END_TEST

static Suite *
signer_suite(void)
{
	Suite *s = suite_create("signer");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_all_slots);
	tcase_add_test(tc, test_refusals_protocol);
	tcase_add_test(tc, test_refusals_ssh_policy);
	tcase_add_test(tc, test_refusals_x509);
	tcase_add_test(tc, test_dead_child_fails_closed);
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_keys_absent_from_parent);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int nf;

	if (sodium_init() < 0)
		return 1;
	sr = srunner_create(signer_suite());
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
