/*
 * Tests for ca/x509.c: X.509 client certificates from CSRs, checked with
 * the real openssl binary as the oracle (verify -purpose sslclient, x509
 * -text, -dates, -serial, the SPKI digest), plus the refusals of
 * malformed, mis-signed and unsupported CSRs and of bad names, URIs and
 * lifetimes, and the signer indirection.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "ca/ca.h"
#include "ca/x509.h"
#include "common/err.h"
#include "common/limits.h"
#include "common/seal.h"
#include "tests/lib/testutil.h"

#define FIXED_NOW	((time_t)1800000000)	/* 2027-01-15 08:00:00 UTC */
#define SPIFFE		"spiffe://jitd/role/prod"

/* One test's world: a temporary directory, a CA and a CSR (PEM and DER). */
struct fx {
	char		*dir;
	char		*leaf;		/* dir/leaf.pem */
	char		*cap;		/* dir/ca.pem */
	struct ca	*ca;
	char		*pem;
	size_t		 pemlen;
	char		*der;
	size_t		 derlen;
};

/* Runs argv, requires exit status 0 and returns its malloc'd stdout. */
static char *
run_out(char *const argv[])
{
	struct tu_out o;
	char *s;

	ck_assert_int_eq(tu_run(argv, NULL, NULL, 120, &o), 0);
	if (o.status != 0)
		ck_abort_msg("%s %s failed (%d): %s%s", argv[0], argv[1],
		    o.status, o.out, o.err);
	s = o.out;
	o.out = NULL;
	tu_out_free(&o);
	return s;
}

/*
 * Makes a new key and CSR with `openssl req`.  The CSR asks for a subject,
 * CA:TRUE and a DNS SAN, none of which the CA may grant.
 */
static void
fx_csr(struct fx *f, const char *newkey, const char *pkeyopt)
{
	char *key = tu_path(f->dir, "key.pem"), *csr = tu_path(f->dir,
	    "csr.pem"), *der = tu_path(f->dir, "csr.der");
	char *argv[] = { "openssl", "req", "-new", "-nodes", "-keyout", key,
	    "-out", csr, "-subj", "/CN=evil/O=Evil Corp", "-addext",
	    "basicConstraints=critical,CA:TRUE", "-addext",
	    "subjectAltName=DNS:evil.example", "-newkey", (char *)newkey,
	    pkeyopt != NULL ? "-pkeyopt" : NULL, (char *)pkeyopt, NULL };
	char *conv[] = { "openssl", "req", "-in", csr, "-outform", "DER",
	    "-out", der, NULL };

	free(run_out(argv));
	free(run_out(conv));
	free(f->pem);
	free(f->der);
	f->pem = tu_read_file(csr, &f->pemlen);
	f->der = tu_read_file(der, &f->derlen);
	unlink(key);
	unlink(csr);
	unlink(der);
	free(key);
	free(csr);
	free(der);
}

static void
fx_init(struct fx *f, int ca_days, const char *newkey, const char *pkeyopt)
{
	memset(f, 0, sizeof(*f));
	ck_assert_ptr_nonnull(f->dir = tu_mkdtemp("x509"));
	f->leaf = tu_path(f->dir, "leaf.pem");
	f->cap = tu_path(f->dir, "ca.pem");
	ck_assert_int_eq(ca_generate("jitd test CA", ca_days, &f->ca), JIT_OK);
	fx_csr(f, newkey, pkeyopt);
}

static void
fx_done(struct fx *f)
{
	ca_set_clock(NULL);
	ca_free(f->ca);
	free(f->pem);
	free(f->der);
	free(f->leaf);
	free(f->cap);
	tu_rmdir(f->dir);
	free(f->dir);
}

static int
issue(struct ca *ca, const void *csr, size_t len, const char *cn,
    const char *ou, const char *uri, int64_t ttl, struct ca_x509_cert **c)
{
	struct ca_x509_req req = { csr, len, cn, ou, uri, ttl };

	return ca_x509_issue(ca, &req, c);
}

/* Expects issue() to fail with want and to leave *out NULL. */
static void
refuse(struct ca *ca, const void *csr, size_t len, const char *cn,
    const char *uri, int64_t ttl, int want)
{
	struct ca_x509_cert *c = (struct ca_x509_cert *)&c;

	ck_assert_int_eq(issue(ca, csr, len, cn, NULL, uri, ttl, &c), want);
	ck_assert_ptr_null(c);
}

/* The common case: a valid name and lifetime, so only the CSR is at fault. */
#define REFUSE(f, csr, len, want) \
	refuse((f)->ca, (csr), (len), "alice", NULL, 300, (want))

/* Writes the leaf and the CA certificate as f->leaf and f->cap. */
static void
write_pems(struct fx *f, struct ca *ca, const struct ca_x509_cert *c)
{
	char *capem = ca_x509_ca_pem(ca);

	ck_assert_ptr_nonnull(capem);
	unlink(f->leaf);
	unlink(f->cap);
	tu_write_file(f->leaf, ca_x509_cert_pem(c),
	    strlen(ca_x509_cert_pem(c)), 0600);
	tu_write_file(f->cap, capem, strlen(capem), 0600);
	free(capem);
}

/*
 * Runs `openssl verify -purpose sslclient` on the written leaf at attime
 * (0: now) and returns 1 if it said OK.  *why gets stderr when not NULL.
 */
static int
verify_leaf(struct fx *f, time_t attime, char **why)
{
	char at[32];
	char *argv[] = { "openssl", "verify", "-attime", at, "-CAfile",
	    f->cap, "-purpose", "sslclient", f->leaf, NULL };
	struct tu_out o;
	int ok;

	snprintf(at, sizeof(at), "%lld",
	    (long long)(attime != 0 ? attime : time(NULL)));
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 120, &o), 0);
	ok = o.status == 0 && tu_contains(o.out, "leaf.pem: OK");
	if (why != NULL) {
		*why = o.err;
		o.err = NULL;
	}
	tu_out_free(&o);
	return ok;
}

static char *
x509_text(const char *path)
{
	char *argv[] = { "openssl", "x509", "-noout", "-text", "-in",
	    (char *)path, NULL };

	return run_out(argv);
}

/* Returns a malloc'd copy of the line that follows label in text. */
static char *
line_after(const char *text, const char *label)
{
	const char *p = strstr(text, label);

	ck_assert_msg(p != NULL, "no %s in %s", label, text);
	p += strlen(label);
	p += strspn(p, " ");
	return strndup(p, strcspn(p, "\n"));
}

/* Formats t the way `openssl x509 -dates` prints it. */
static void
fmt_time(time_t t, char *s, size_t len)
{
	struct tm tm;

	ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
	ck_assert_uint_gt(strftime(s, len, "%b %e %H:%M:%S %Y GMT", &tm), 0);
}

/* A serial must be positive, non-zero, at most 127 bits, lowercase hex. */
static void
check_serial(const char *hex)
{
	size_t i, n = strlen(hex);

	ck_assert_uint_gt(n, 0);
	ck_assert_uint_le(n, 32);
	ck_assert(hex[0] != '0');
	for (i = 0; i < n; i++)
		ck_assert(strchr("0123456789abcdef", hex[i]) != NULL);
	if (n == 32)
		ck_assert(hex[0] <= '7');
}

/* Checks the dates, serial and key fingerprint openssl sees in the leaf. */
static void
check_oracle_fields(struct fx *f, const struct ca_x509_cert *c)
{
	char *pub = tu_path(f->dir, "pub.pem"), *spki = tu_path(f->dir,
	    "pub.der");
	char *dates[] = { "openssl", "x509", "-noout", "-dates", "-in",
	    f->leaf, NULL };
	char *serial[] = { "openssl", "x509", "-noout", "-serial", "-in",
	    f->leaf, NULL };
	char *pubk[] = { "openssl", "x509", "-noout", "-pubkey", "-in",
	    f->leaf, "-out", pub, NULL };
	char *der[] = { "openssl", "pkey", "-pubin", "-in", pub, "-outform",
	    "DER", "-out", spki, NULL };
	char *dgst[] = { "openssl", "dgst", "-sha256", "-r", spki, NULL };
	const char *fp = ca_x509_cert_key_fingerprint(c);
	char want[128], t[64], *out, *s;

	out = run_out(dates);
	fmt_time(ca_x509_cert_not_before(c), t, sizeof(t));
	snprintf(want, sizeof(want), "notBefore=%s\n", t);
	ck_assert_msg(tu_contains(out, want), "%s vs %s", out, want);
	fmt_time(ca_x509_cert_not_after(c), t, sizeof(t));
	snprintf(want, sizeof(want), "notAfter=%s\n", t);
	ck_assert_msg(tu_contains(out, want), "%s vs %s", out, want);
	free(out);

	out = run_out(serial);
	ck_assert(strncmp(out, "serial=", 7) == 0);
	s = out + 7 + strspn(out + 7, "0");
	s[strcspn(s, "\n")] = '\0';
	ck_assert_msg(strcasecmp(s, ca_x509_cert_serial_hex(c)) == 0,
	    "%s vs %s", s, ca_x509_cert_serial_hex(c));
	free(out);

	free(run_out(pubk));
	free(run_out(der));
	out = run_out(dgst);
	ck_assert(strncmp(fp, "SHA256:", 7) == 0);
	ck_assert_int_eq(strlen(fp), 7 + 64);
	ck_assert_msg(strncmp(out, fp + 7, 64) == 0, "%s vs %s", out, fp);
	free(out);
	free(pub);
	free(spki);
}

/*
 * The whole path for one key type: a CSR asking for CA:TRUE, a DNS SAN
 * and an evil subject, issued from PEM and from DER, checked by openssl.
 */
static void
check_issue(const char *newkey, const char *pkeyopt, const char *keytext)
{
	const char *want[] = {
		"Version: 3 (0x2)",
		"Signature Algorithm: ecdsa-with-SHA256",
		"Issuer: CN = jitd test CA\n",
		"Subject: CN = alice\n",
		"X509v3 Basic Constraints: critical\n                "
		    "CA:FALSE\n",
		"X509v3 Key Usage: critical\n                "
		    "Digital Signature\n",
		"X509v3 Extended Key Usage: \n                "
		    "TLS Web Client Authentication\n",
		"X509v3 Subject Key Identifier",
		"X509v3 Subject Alternative Name: \n                "
		    "URI:" SPIFFE "\n",
		keytext,
	};
	const char *unwanted[] = { "Evil", "evil", "CA:TRUE", "DNS:",
	    "Key Encipherment", "Certificate Sign" };
	struct ca_x509_cert *c = NULL, *c2 = NULL;
	char *text, *catext, *aki, *ski, *why = NULL;
	struct fx f;
	size_t i;

	fx_init(&f, 30, newkey, pkeyopt);
	ck_assert_int_eq(issue(f.ca, f.pem, f.pemlen, "alice", NULL, SPIFFE,
	    300, &c), JIT_OK);
	ck_assert_ptr_nonnull(c);
	ck_assert(ca_x509_cert_not_after(c) - ca_x509_cert_not_before(c) ==
	    300 + JIT_CLOCK_SKEW);
	check_serial(ca_x509_cert_serial_hex(c));
	write_pems(&f, f.ca, c);
	ck_assert_msg(verify_leaf(&f, 0, &why), "%s", why);
	free(why);

	text = x509_text(f.leaf);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_msg(tu_contains(text, want[i]), "missing %s in %s",
		    want[i], text);
	for (i = 0; i < sizeof(unwanted) / sizeof(unwanted[0]); i++)
		ck_assert_msg(!tu_contains(text, unwanted[i]),
		    "unexpected %s in %s", unwanted[i], text);
	/* The authority key id is the CA's subject key id. */
	catext = x509_text(f.cap);
	aki = line_after(text, "X509v3 Authority Key Identifier: \n");
	ski = line_after(catext, "X509v3 Subject Key Identifier: \n");
	ck_assert_uint_gt(strlen(ski), 20);
	ck_assert_str_eq(aki, ski);
	free(aki);
	free(ski);
	free(catext);
	free(text);
	check_oracle_fields(&f, c);

	/* The same CSR as DER: another valid leaf with another serial. */
	ck_assert_int_eq(issue(f.ca, f.der, f.derlen, "alice", NULL, SPIFFE,
	    300, &c2), JIT_OK);
	check_serial(ca_x509_cert_serial_hex(c2));
	ck_assert_str_ne(ca_x509_cert_serial_hex(c),
	    ca_x509_cert_serial_hex(c2));
	ck_assert_str_eq(ca_x509_cert_key_fingerprint(c),
	    ca_x509_cert_key_fingerprint(c2));
	write_pems(&f, f.ca, c2);
	ck_assert_msg(verify_leaf(&f, 0, &why), "%s", why);
	free(why);

	ca_x509_cert_free(c);
	ca_x509_cert_free(c2);
	fx_done(&f);
}

static const struct {
	const char	*newkey;
	const char	*pkeyopt;
	const char	*text;		/* how openssl -text shows the key */
} key_types[] = {
	{ "ec", "ec_paramgen_curve:P-256", "NIST CURVE: P-256" },
	{ "ec", "ec_paramgen_curve:P-384", "NIST CURVE: P-384" },
	{ "ed25519", NULL, "Public Key Algorithm: ED25519" },
	{ "rsa:2048", NULL, "Public-Key: (2048 bit)" },
};

START_TEST(issue_key_types)
{
	check_issue(key_types[_i].newkey, key_types[_i].pkeyopt,
	    key_types[_i].text);
}
END_TEST

START_TEST(ca_cert_text)
{
	char *capem, *text;
	struct fx f;

	fx_init(&f, 30, "ed25519", NULL);
	ck_assert_ptr_nonnull(capem = ca_x509_ca_pem(f.ca));
	tu_write_file(f.cap, capem, strlen(capem), 0600);
	text = x509_text(f.cap);
	ck_assert(tu_contains(text, "X509v3 Basic Constraints: critical\n"
	    "                CA:TRUE, pathlen:0\n"));
	ck_assert(tu_contains(text, "X509v3 Key Usage: critical\n"
	    "                Certificate Sign, CRL Sign\n"));
	ck_assert(tu_contains(text, "Subject: CN = jitd test CA\n"));
	ck_assert(tu_contains(text, "Issuer: CN = jitd test CA\n"));
	ck_assert(tu_contains(text, "NIST CURVE: P-256"));
	free(text);
	free(capem);
	fx_done(&f);
}
END_TEST

static time_t
fixed_clock(void)
{
	return FIXED_NOW;
}

START_TEST(fixed_clock_and_text)
{
	struct ca_x509_cert *c = NULL;
	char *text, *why = NULL;
	struct fx f;

	fx_init(&f, 3650, "ec", "ec_paramgen_curve:P-256");
	ca_set_clock(fixed_clock);
	ck_assert_int_eq(issue(f.ca, f.pem, f.pemlen, "bob", "eng", NULL, 300,
	    &c), JIT_OK);
	ck_assert(ca_x509_cert_not_before(c) == FIXED_NOW - JIT_CLOCK_SKEW);
	ck_assert(ca_x509_cert_not_after(c) == FIXED_NOW + 300);
	write_pems(&f, f.ca, c);
	check_oracle_fields(&f, c);
	text = x509_text(f.leaf);
	ck_assert_msg(tu_contains(text, "Subject: OU = eng, CN = bob\n"),
	    "%s", text);
	ck_assert(tu_contains(text, "Not Before: Jan 15 07:59:00 2027 GMT"));
	ck_assert(tu_contains(text, "Not After : Jan 15 08:05:00 2027 GMT"));
	ck_assert(!tu_contains(text, "Subject Alternative Name"));
	free(text);

	/* OpenSSL treats the notAfter second itself as expired. */
	ck_assert(verify_leaf(&f, FIXED_NOW - JIT_CLOCK_SKEW, NULL));
	ck_assert(verify_leaf(&f, FIXED_NOW + 299, NULL));
	ck_assert(!verify_leaf(&f, FIXED_NOW + 300, &why));
	ck_assert_msg(tu_contains(why, "certificate has expired"), "%s", why);
	free(why);
	ck_assert(!verify_leaf(&f, FIXED_NOW - JIT_CLOCK_SKEW - 1, &why));
	ck_assert_msg(tu_contains(why, "not yet valid"), "%s", why);
	free(why);
	ca_x509_cert_free(c);

	/* A comma in the URI stays in the URI: no config-string parsing. */
	ck_assert_int_eq(issue(f.ca, f.pem, f.pemlen, "bob", NULL,
	    "urn:a,DNS:evil.example,critical", 300, &c), JIT_OK);
	write_pems(&f, f.ca, c);
	text = x509_text(f.leaf);
	ck_assert_msg(tu_contains(text,
	    "URI:urn:a,DNS:evil.example,critical\n"), "%s", text);
	ck_assert(!tu_contains(text, ", DNS:"));
	free(text);
	ca_x509_cert_free(c);
	fx_done(&f);
}
END_TEST

static time_t
far_clock(void)
{
	return time(NULL) + 3 * 86400;
}

START_TEST(leaf_outliving_ca)
{
	struct ca_x509_cert *c = NULL;
	struct fx f;

	fx_init(&f, 1, "ed25519", NULL);
	ca_set_clock(far_clock);
	REFUSE(&f, f.pem, f.pemlen, JIT_ERR_EXPIRED);
	ca_set_clock(NULL);
	ck_assert_int_eq(issue(f.ca, f.pem, f.pemlen, "alice", NULL, NULL, 300,
	    &c), JIT_OK);
	ca_x509_cert_free(c);
	fx_done(&f);
}
END_TEST

START_TEST(refuse_keys)
{
	struct fx f;

	fx_init(&f, 30, "rsa:1024", NULL);
	REFUSE(&f, f.pem, f.pemlen, JIT_ERR_KEY_TOO_SMALL);
	REFUSE(&f, f.der, f.derlen, JIT_ERR_KEY_TOO_SMALL);
	fx_csr(&f, "ec", "ec_paramgen_curve:P-521");
	REFUSE(&f, f.pem, f.pemlen, JIT_ERR_KEY_TYPE);
	fx_csr(&f, "ec", "ec_paramgen_curve:secp256k1");
	REFUSE(&f, f.pem, f.pemlen, JIT_ERR_KEY_TYPE);
	fx_csr(&f, "ed448", NULL);
	REFUSE(&f, f.pem, f.pemlen, JIT_ERR_KEY_TYPE);
	fx_done(&f);
}
END_TEST

START_TEST(refuse_bad_signature)
{
	struct fx f;
	size_t i;
	int found = 0;

	fx_init(&f, 30, "ec", "ec_paramgen_curve:P-256");
	/* The last byte is inside the signature's s INTEGER. */
	f.der[f.derlen - 1] ^= 0x01;
	REFUSE(&f, f.der, f.derlen, JIT_ERR_BAD_SIGNATURE);
	f.der[f.derlen - 1] ^= 0x01;
	/* A changed subject no longer matches the signature either. */
	for (i = 0; i + 4 <= f.derlen && !found; i++) {
		if (memcmp(f.der + i, "evil", 4) == 0) {
			f.der[i] = 'E';
			found = 1;
		}
	}
	ck_assert(found);
	REFUSE(&f, f.der, f.derlen, JIT_ERR_BAD_SIGNATURE);
	/* Ed25519 and RSA signatures, last byte. */
	fx_csr(&f, "ed25519", NULL);
	f.der[f.derlen - 1] ^= 0x80;
	REFUSE(&f, f.der, f.derlen, JIT_ERR_BAD_SIGNATURE);
	fx_csr(&f, "rsa:2048", NULL);
	f.der[f.derlen - 1] ^= 0x80;
	REFUSE(&f, f.der, f.derlen, JIT_ERR_BAD_SIGNATURE);
	fx_done(&f);
}
END_TEST

START_TEST(refuse_malformed)
{
	static const uint8_t garbage[] = { 0x30, 0x82, 0xff, 0xff, 0x01, 0x02,
	    0xde, 0xad, 0xbe, 0xef };
	char *cader, *conv[] = { "openssl", "x509", "-outform", "DER", "-in",
	    NULL, "-out", NULL, NULL };
	struct ca_x509_cert *c = NULL;
	char *buf, *capem, *l2, *l3;
	size_t len, n;
	struct fx f;

	fx_init(&f, 30, "ec", "ec_paramgen_curve:P-256");
	len = f.pemlen;
	REFUSE(&f, garbage, sizeof(garbage), JIT_ERR_INVALID_FORMAT);
	REFUSE(&f, "hello, world\n", 13, JIT_ERR_INVALID_FORMAT);
	REFUSE(&f, "", 0, JIT_ERR_INVALID_FORMAT);
	REFUSE(&f, NULL, 0, JIT_ERR_INVALID_ARG);
	REFUSE(&f, "-----BEGIN ", 11, JIT_ERR_INVALID_FORMAT);

	/* PEM cut in the middle of its body (no END line). */
	REFUSE(&f, f.pem, len / 2, JIT_ERR_INVALID_FORMAT);
	/* PEM with its END line but without the second body line. */
	ck_assert_ptr_nonnull(buf = malloc(len + 8));
	ck_assert_ptr_nonnull(l2 = strchr(strchr(f.pem, '\n') + 1, '\n') + 1);
	ck_assert_ptr_nonnull(l3 = strchr(l2, '\n') + 1);
	n = (size_t)(l2 - f.pem);
	memcpy(buf, f.pem, n);
	memcpy(buf + n, l3, len - (size_t)(l3 - f.pem));
	REFUSE(&f, buf, n + len - (size_t)(l3 - f.pem), JIT_ERR_INVALID_FORMAT);
	/* PEM with a NUL byte inside. */
	memcpy(buf, f.pem, len);
	buf[len / 2] = '\0';
	REFUSE(&f, buf, len, JIT_ERR_INVALID_FORMAT);
	/* Trailing bytes after the PEM block; white space is fine. */
	memcpy(buf, f.pem, len);
	memcpy(buf + len, "junk\n", 5);
	REFUSE(&f, buf, len + 5, JIT_ERR_TRAILING_DATA);
	memcpy(buf + len, "\n \r\n", 4);
	ck_assert_int_eq(issue(f.ca, buf, len + 4, "alice", NULL, NULL, 60,
	    &c), JIT_OK);
	ca_x509_cert_free(c);
	free(buf);
	/* Trailing byte after the DER; DER truncated by one byte, by half. */
	ck_assert_ptr_nonnull(buf = malloc(f.derlen + 1));
	memcpy(buf, f.der, f.derlen);
	buf[f.derlen] = 0;
	REFUSE(&f, buf, f.derlen + 1, JIT_ERR_TRAILING_DATA);
	free(buf);
	REFUSE(&f, f.der, f.derlen - 1, JIT_ERR_INVALID_FORMAT);
	REFUSE(&f, f.der, f.derlen / 2, JIT_ERR_INVALID_FORMAT);

	/* Oversized input, even though it starts with a valid CSR. */
	ck_assert_ptr_nonnull(buf = malloc(JIT_CSR_MAX + 1));
	memset(buf, '\n', JIT_CSR_MAX + 1);
	memcpy(buf, f.pem, len);
	REFUSE(&f, buf, JIT_CSR_MAX + 1, JIT_ERR_LIMIT);
	ck_assert_int_eq(issue(f.ca, buf, JIT_CSR_MAX, "alice", NULL, NULL, 60,
	    &c), JIT_OK);
	ca_x509_cert_free(c);
	free(buf);

	/* A certificate is not a CSR, as PEM or as DER. */
	ck_assert_ptr_nonnull(capem = ca_x509_ca_pem(f.ca));
	REFUSE(&f, capem, strlen(capem), JIT_ERR_INVALID_FORMAT);
	tu_write_file(f.cap, capem, strlen(capem), 0600);
	free(capem);
	cader = tu_path(f.dir, "ca.der");
	conv[5] = f.cap;
	conv[7] = cader;
	free(run_out(conv));
	capem = tu_read_file(cader, &n);
	REFUSE(&f, capem, n, JIT_ERR_INVALID_FORMAT);
	free(capem);
	free(cader);
	fx_done(&f);
}
END_TEST

static const struct {
	const char	*cn;
	const char	*uri;
	int64_t		 ttl;
	int		 want;
} bad_args[] = {
	{ "", NULL, 300, JIT_ERR_INVALID_ARG },
	{ NULL, NULL, 300, JIT_ERR_INVALID_ARG },
	{ "alice\nCN=root", NULL, 300, JIT_ERR_INVALID_ARG },
	{ "tab\there", NULL, 300, JIT_ERR_INVALID_ARG },
	{ "del\x7f", NULL, 300, JIT_ERR_INVALID_ARG },
	{ "bad\xff", NULL, 300, JIT_ERR_INVALID_ARG },
	{ "overlong\xc0\xaf", NULL, 300, JIT_ERR_INVALID_ARG },
	{ "surrogate\xed\xa0\x80", NULL, 300, JIT_ERR_INVALID_ARG },
	{ "c1\xc2\x85", NULL, 300, JIT_ERR_INVALID_ARG },
	{ "cut\xe2\x82", NULL, 300, JIT_ERR_INVALID_ARG },
	{ "alice", SPIFFE "/a b", 300, JIT_ERR_INVALID_ARG },
	{ "alice", "no-scheme", 300, JIT_ERR_INVALID_ARG },
	{ "alice", ":x", 300, JIT_ERR_INVALID_ARG },
	{ "alice", "1http://x", 300, JIT_ERR_INVALID_ARG },
	{ "alice", "spiffe:", 300, JIT_ERR_INVALID_ARG },
	{ "alice", "", 300, JIT_ERR_INVALID_ARG },
	{ "alice", "urn:x\n", 300, JIT_ERR_INVALID_ARG },
	{ "alice", "urn:caf\xc3\xa9", 300, JIT_ERR_INVALID_ARG },
	{ "alice", NULL, 0, JIT_ERR_INVALID_ARG },
	{ "alice", NULL, -1, JIT_ERR_INVALID_ARG },
	{ "alice", NULL, JIT_CERT_TTL_MAX + 1, JIT_ERR_LIMIT },
	{ "alice", NULL, INT64_MAX, JIT_ERR_LIMIT },
};

START_TEST(refuse_args)
{
	char cn[JIT_CN_LEN_MAX + 2], *uri;
	struct ca_x509_cert *c = NULL;
	struct ca_x509_req req;
	struct fx f;
	size_t i;

	fx_init(&f, 30, "ed25519", NULL);
	for (i = 0; i < sizeof(bad_args) / sizeof(bad_args[0]); i++)
		refuse(f.ca, f.pem, f.pemlen, bad_args[i].cn, bad_args[i].uri,
		    bad_args[i].ttl, bad_args[i].want);
	req = (struct ca_x509_req){ (uint8_t *)f.pem, f.pemlen, "alice",
	    "a\nb", NULL, 300 };
	ck_assert_int_eq(ca_x509_issue(f.ca, &req, &c), JIT_ERR_INVALID_ARG);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(ca_x509_issue(f.ca, NULL, &c), JIT_ERR_INVALID_ARG);

	/* Exactly at the limits is fine; one past is JIT_ERR_LIMIT. */
	memset(cn, 'a', sizeof(cn) - 1);
	cn[sizeof(cn) - 1] = '\0';
	refuse(f.ca, f.pem, f.pemlen, cn, NULL, 300, JIT_ERR_LIMIT);
	cn[JIT_CN_LEN_MAX] = '\0';
	ck_assert_int_eq(issue(f.ca, f.pem, f.pemlen, cn, NULL, NULL, 300,
	    &c), JIT_OK);
	ca_x509_cert_free(c);
	ck_assert_ptr_nonnull(uri = malloc(JIT_URI_LEN_MAX + 2));
	memcpy(uri, "urn:", 4);
	memset(uri + 4, 'x', JIT_URI_LEN_MAX - 3);
	uri[JIT_URI_LEN_MAX + 1] = '\0';
	refuse(f.ca, f.pem, f.pemlen, "alice", uri, 300, JIT_ERR_LIMIT);
	uri[JIT_URI_LEN_MAX] = '\0';
	ck_assert_int_eq(issue(f.ca, f.pem, f.pemlen, "alice", NULL, uri, 300,
	    &c), JIT_OK);
	ca_x509_cert_free(c);
	free(uri);
	ck_assert_int_eq(issue(f.ca, f.pem, f.pemlen, "alice", NULL, NULL,
	    JIT_CERT_TTL_MAX, &c), JIT_OK);
	ck_assert(ca_x509_cert_not_after(c) - ca_x509_cert_not_before(c) ==
	    JIT_CERT_TTL_MAX + JIT_CLOCK_SKEW);
	ca_x509_cert_free(c);
	/* Non-ASCII UTF-8 names are fine. */
	ck_assert_int_eq(issue(f.ca, f.pem, f.pemlen, "Zo\xc3\xab \xe2\x82\xac",
	    NULL, NULL, 300, &c), JIT_OK);
	ca_x509_cert_free(c);
	fx_done(&f);
}
END_TEST

/*
 * Many leaves, each parsed back from its PEM and verified in process:
 * catches encodings that fail only for some signature values (the BIT
 * STRING's unused-bits count) or serials (INTEGER padding).
 */
START_TEST(many_leaves_reparse)
{
	struct ca_x509_cert *c = NULL;
	EVP_PKEY *capub;
	struct fx f;
	BIGNUM *bn;
	X509 *x;
	BIO *bio;
	int i;

	fx_init(&f, 30, "ec", "ec_paramgen_curve:P-256");
	capub = X509_get0_pubkey(ca_x509_ca_cert(f.ca));
	for (i = 0; i < 64; i++) {
		ck_assert_int_eq(issue(f.ca, f.pem, f.pemlen, "alice", NULL,
		    NULL, 60, &c), JIT_OK);
		ck_assert_ptr_nonnull(bio = BIO_new_mem_buf(
		    ca_x509_cert_pem(c), -1));
		ck_assert_ptr_nonnull(x = PEM_read_bio_X509(bio, NULL, NULL,
		    NULL));
		ck_assert_int_eq(X509_verify(x, capub), 1);
		ck_assert_int_eq(X509_get_version(x), X509_VERSION_3);
		ck_assert_ptr_nonnull(bn = ASN1_INTEGER_to_BN(
		    X509_get0_serialNumber(x), NULL));
		ck_assert_int_le(BN_num_bits(bn), 127);
		ck_assert(!BN_is_zero(bn) && !BN_is_negative(bn));
		BN_free(bn);
		X509_free(x);
		BIO_free(bio);
		ca_x509_cert_free(c);
	}
	fx_done(&f);
}
END_TEST

/* A signer that forwards to another CA object holding the same keys. */
struct proxy {
	struct ca	*inner;
	int		 calls;
	int		 mode;	/* 0 forward, 1 bogus signature, 2 error */
};

static int
proxy_sign(void *ctx, enum ca_slot slot, const uint8_t *msg, size_t len,
    uint8_t *sig, size_t *siglen)
{
	static const uint8_t bogus[] = { 0x30, 0x06, 0x02, 0x01, 0x01, 0x02,
	    0x01, 0x01 };
	struct proxy *p = ctx;

	p->calls++;
	ck_assert_int_eq(slot, CA_SLOT_X509);
	switch (p->mode) {
	case 1:
		memcpy(sig, bogus, sizeof(bogus));
		*siglen = sizeof(bogus);
		return JIT_OK;
	case 2:
		*siglen = 0;
		return JIT_ERR_CRYPTO;
	default:
		return ca_sign(p->inner, slot, msg, len, sig, siglen);
	}
}

static void
proxy_free(void *ctx)
{
	struct proxy *p = ctx;

	if (p == NULL)
		return;
	ca_free(p->inner);
	free(p);
}

static const struct ca_signer_ops proxy_ops = { proxy_sign, proxy_free };

START_TEST(signs_through_signer)
{
	struct seal_key sk = { .mode = SEAL_KEYFILE };
	struct ca_x509_cert *c = NULL;
	struct ca *ca = NULL, *pub = NULL;
	char *cadir, *why = NULL;
	struct proxy *p;
	struct fx f;

	fx_init(&f, 30, "ec", "ec_paramgen_curve:P-384");
	cadir = tu_path(f.dir, "ca");
	randombytes_buf(sk.key, sizeof(sk.key));
	ck_assert_int_eq(ca_save(f.ca, cadir, &sk), JIT_OK);
	ck_assert_ptr_nonnull(p = calloc(1, sizeof(*p)));
	ck_assert_int_eq(ca_open(cadir, &sk, &ca), JIT_OK);
	ck_assert_int_eq(ca_open(cadir, &sk, &p->inner), JIT_OK);
	ca_set_signer(ca, &proxy_ops, p);

	ck_assert_int_eq(issue(ca, f.pem, f.pemlen, "alice", NULL, "urn:x",
	    300, &c), JIT_OK);
	ck_assert_int_eq(p->calls, 1);
	write_pems(&f, ca, c);
	ck_assert_msg(verify_leaf(&f, 0, &why), "%s", why);
	free(why);
	ca_x509_cert_free(c);

	/* A signature that does not verify never leaves the builder. */
	p->mode = 1;
	refuse(ca, f.pem, f.pemlen, "alice", NULL, 300, JIT_ERR_INTERNAL);
	p->mode = 2;
	refuse(ca, f.pem, f.pemlen, "alice", NULL, 300, JIT_ERR_CRYPTO);
	ck_assert_int_eq(p->calls, 3);

	/* Public material only: nothing to sign with. */
	ck_assert_int_eq(ca_open_public(cadir, &pub), JIT_OK);
	refuse(pub, f.pem, f.pemlen, "alice", NULL, 300, JIT_ERR_PERMISSION);

	ca_free(pub);
	ca_free(ca);
	seal_key_clear(&sk);
	free(cadir);
	fx_done(&f);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("x509");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	if (sodium_init() < 0)
		return 1;
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, issue_key_types, 0,
	    sizeof(key_types) / sizeof(key_types[0]));
	tcase_add_test(tc, ca_cert_text);
	tcase_add_test(tc, fixed_clock_and_text);
	tcase_add_test(tc, leaf_outliving_ca);
	tcase_add_test(tc, refuse_keys);
	tcase_add_test(tc, refuse_bad_signature);
	tcase_add_test(tc, refuse_malformed);
	tcase_add_test(tc, refuse_args);
	tcase_add_test(tc, many_leaves_reparse);
	tcase_add_test(tc, signs_through_signer);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
