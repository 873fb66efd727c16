/*
 * X.509 client certificates from certificate signing requests.  The CSR's
 * own signature is verified (proof of possession); every subject field and
 * extension it asks for is ignored: the leaf gets only the CN and optional
 * SAN URI the caller names, CA:FALSE, keyUsage digitalSignature, EKU
 * clientAuth, a random positive 128-bit serial, notBefore backdated by at
 * most JIT_CLOCK_SKEW and notAfter = now + ttl.  Signed by the CA's P-256
 * key through ca_sign().
 */
#ifndef JIT_CA_X509_H
#define JIT_CA_X509_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ca/ca.h"

struct ca_x509_req {
	const uint8_t	*csr;		/* PEM or DER, at most JIT_CSR_MAX bytes */
	size_t		 csrlen;
	const char	*cn;		/* 1..JIT_CN_LEN_MAX printable UTF-8 */
	const char	*ou;		/* optional organizationalUnitName */
	const char	*uri;		/* optional SAN URI, NULL for none */
	int64_t		 ttl;		/* seconds, 1..JIT_CERT_TTL_MAX */
};

struct ca_x509_cert;

/*
 * Issues a leaf certificate; on success *out is a new ca_x509_cert the
 * caller frees with ca_x509_cert_free(), on failure *out is NULL.  Returns
 * JIT_OK, JIT_ERR_INVALID_FORMAT (not a CSR, malformed or truncated PEM or
 * DER), JIT_ERR_TRAILING_DATA (bytes after the CSR other than white space
 * after a PEM block), JIT_ERR_LIMIT (CSR over JIT_CSR_MAX, cn, ou or uri
 * too long, ttl over JIT_CERT_TTL_MAX, RSA over JIT_RSA_MAX_BITS),
 * JIT_ERR_BAD_SIGNATURE (CSR signature wrong), JIT_ERR_KEY_TYPE (key not
 * P-256, P-384, Ed25519 or RSA), JIT_ERR_KEY_TOO_SMALL (RSA under
 * JIT_RSA_MIN_BITS), JIT_ERR_INVALID_ARG (bad cn, ou, uri or ttl),
 * JIT_ERR_EXPIRED (the leaf would outlive the CA certificate), the
 * signer's error (JIT_ERR_PERMISSION for a public-only CA), or
 * JIT_ERR_INTERNAL when the signed leaf does not verify.
 */
int ca_x509_issue(struct ca *ca, const struct ca_x509_req *req,
    struct ca_x509_cert **out) __attribute__((warn_unused_result));

/* Frees a leaf; accepts NULL. */
void ca_x509_cert_free(struct ca_x509_cert *c);

/* PEM text of the leaf (owned by c). */
const char *ca_x509_cert_pem(const struct ca_x509_cert *c);
/* Serial as lowercase hex without leading zeroes (owned by c). */
const char *ca_x509_cert_serial_hex(const struct ca_x509_cert *c);
/* Validity bounds of the leaf, in seconds since the epoch. */
time_t ca_x509_cert_not_before(const struct ca_x509_cert *c);
time_t ca_x509_cert_not_after(const struct ca_x509_cert *c);
/* SHA-256 fingerprint of the subject public key as "SHA256:hex" (owned). */
const char *ca_x509_cert_key_fingerprint(const struct ca_x509_cert *c);

/*
 * Creates the self-signed CA certificate for a P-256 key (used by
 * ca_generate): CA:TRUE, pathlen:0, keyCertSign and cRLSign, subject and
 * issuer CN=cn.  Internal to ca/ but exposed for ca.c.
 */
struct evp_pkey_st;
struct x509_st;
int ca_x509_make_root(struct evp_pkey_st *key, const char *cn,
    int validity_days, struct x509_st **out)
    __attribute__((warn_unused_result));

#endif
