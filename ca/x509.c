/*
 * X.509 client certificates issued from certificate signing requests.
 *
 * The CSR (PEM or DER, capped at JIT_CSR_MAX) only contributes its public
 * key, after its own signature has been checked as proof of possession;
 * the subject and every extension it asks for are ignored.  The leaf is
 * built from the caller's cn, ou and uri and from fixed policy; the CSR's
 * SubjectPublicKeyInfo is copied into it as it was signed, not re-encoded
 * from a decoded key.  The DER of the TBSCertificate is signed through
 * ca_sign(): this file never sees the CA private key.  OpenSSL 3.0 has no
 * setters for a certificate's signature fields, so the two
 * AlgorithmIdentifiers and the signature BIT STRING are filled through
 * the const pointers that X509_get0_tbs_sigalg() and X509_get0_signature()
 * return, the usual technique for external signers.  Each leaf is checked
 * against the CA public key before it is handed out.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "ca/ca.h"
#include "ca/x509.h"
#include "common/err.h"
#include "common/limits.h"

#define SERIAL_LEN	16	/* bytes of random serial */
#define LAST_TIME	((time_t)253402300799LL) /* 9999-12-31 23:59:59 */

struct ca_x509_cert {
	char	*pem;
	char	*serial_hex;
	char	*fingerprint;
	time_t	 not_before;
	time_t	 not_after;
};

/*
 * Checks a name attribute: 1..max bytes of well-formed UTF-8 (no overlong
 * forms, surrogates or code points past U+10FFFF) without C0 or C1
 * control characters or DEL.
 */
static int
check_name(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len, i, k, n;
	uint32_t cp, min;

	if (s == NULL)
		return JIT_ERR_INVALID_ARG;
	len = strnlen(s, max + 1);
	if (len == 0)
		return JIT_ERR_INVALID_ARG;
	if (len > max)
		return JIT_ERR_LIMIT;
	for (i = 0; i < len; i += n + 1) {
		if (p[i] < 0x80) {
			if (p[i] < 0x20 || p[i] == 0x7f)
				return JIT_ERR_INVALID_ARG;
			n = 0;
			continue;
		}
		if (p[i] >= 0xc2 && p[i] <= 0xdf) {
			n = 1;
			cp = p[i] & 0x1f;
			min = 0x80;
		} else if ((p[i] & 0xf0) == 0xe0) {
			n = 2;
			cp = p[i] & 0x0f;
			min = 0x800;
		} else if (p[i] >= 0xf0 && p[i] <= 0xf4) {
			n = 3;
			cp = p[i] & 0x07;
			min = 0x10000;
		} else
			return JIT_ERR_INVALID_ARG;
		if (len - i - 1 < n)
			return JIT_ERR_INVALID_ARG;
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return JIT_ERR_INVALID_ARG;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) ||
		    (cp >= 0x80 && cp <= 0x9f))
			return JIT_ERR_INVALID_ARG;
	}
	return JIT_OK;
}

/*
 * Checks a SAN URI: 1..JIT_URI_LEN_MAX bytes of printable ASCII without
 * spaces, starting with a scheme (RFC 3986: ALPHA *( ALPHA / DIGIT / "+" /
 * "-" / "." ) ":") followed by something.
 */
static int
check_uri(const char *s)
{
	size_t len, i;
	int colon = -1;

	len = strnlen(s, JIT_URI_LEN_MAX + 1);
	if (len == 0)
		return JIT_ERR_INVALID_ARG;
	if (len > JIT_URI_LEN_MAX)
		return JIT_ERR_LIMIT;
	for (i = 0; i < len; i++) {
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return JIT_ERR_INVALID_ARG;
		if (colon == -1 && s[i] == ':')
			colon = (int)i;
	}
	if (colon < 1 || (size_t)colon + 1 == len ||
	    !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return JIT_ERR_INVALID_ARG;
	for (i = 1; i < (size_t)colon; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '+' || s[i] == '-' || s[i] == '.'))
			return JIT_ERR_INVALID_ARG;
	}
	return JIT_OK;
}

static int
check_args(const struct ca_x509_req *req)
{
	int r;

	if ((r = check_name(req->cn, JIT_CN_LEN_MAX)) != JIT_OK)
		return r;
	if (req->ou != NULL &&
	    (r = check_name(req->ou, JIT_CN_LEN_MAX)) != JIT_OK)
		return r;
	if (req->uri != NULL && (r = check_uri(req->uri)) != JIT_OK)
		return r;
	if (req->ttl <= 0)
		return JIT_ERR_INVALID_ARG;
	if (req->ttl > JIT_CERT_TTL_MAX)
		return JIT_ERR_LIMIT;
	if (req->csr == NULL)
		return JIT_ERR_INVALID_ARG;
	return JIT_OK;
}

static int
is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Decodes exactly len bytes of DER as a CSR. */
static int
parse_der(const uint8_t *der, size_t len, X509_REQ **out)
{
	const unsigned char *p = der;
	X509_REQ *req;

	*out = NULL;
	if (len == 0 || len > JIT_CSR_MAX)
		return JIT_ERR_INVALID_FORMAT;
	if ((req = d2i_X509_REQ(NULL, &p, (long)len)) == NULL)
		return JIT_ERR_INVALID_FORMAT;
	if (p != der + len) {
		X509_REQ_free(req);
		return JIT_ERR_TRAILING_DATA;
	}
	*out = req;
	return JIT_OK;
}

/*
 * Decodes one PEM "CERTIFICATE REQUEST" block that must start the input
 * (after white space) and be followed by nothing but white space.  PEM
 * headers (encryption) are refused, so no passphrase prompt can happen.
 */
static int
parse_pem(const uint8_t *pem, size_t len, X509_REQ **out)
{
	BIO *bio = NULL;
	char *name = NULL, *header = NULL, *rest;
	unsigned char *der = NULL;
	long derlen = 0, restlen, i;
	int r = JIT_ERR_INVALID_FORMAT;

	*out = NULL;
	if (memchr(pem, '\0', len) != NULL)
		goto out;
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	if (PEM_read_bio(bio, &name, &header, &der, &derlen) != 1)
		goto out;
	if ((strcmp(name, PEM_STRING_X509_REQ) != 0 &&
	    strcmp(name, PEM_STRING_X509_REQ_OLD) != 0) || *header != '\0' ||
	    derlen <= 0)
		goto out;
	restlen = BIO_get_mem_data(bio, &rest);
	for (i = 0; i < restlen; i++) {
		if (!is_space((uint8_t)rest[i])) {
			r = JIT_ERR_TRAILING_DATA;
			goto out;
		}
	}
	r = parse_der(der, (size_t)derlen, out);
 out:
	BIO_free(bio);
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(der);
	return r;
}

static int
parse_csr(const uint8_t *csr, size_t len, X509_REQ **out)
{
	static const char begin[] = "-----BEGIN ";
	size_t i;

	*out = NULL;
	if (len > JIT_CSR_MAX)
		return JIT_ERR_LIMIT;
	for (i = 0; i < len && is_space(csr[i]); i++)
		;
	if (len - i >= sizeof(begin) - 1 &&
	    memcmp(csr + i, begin, sizeof(begin) - 1) == 0)
		return parse_pem(csr, len, out);
	return parse_der(csr, len, out);
}

/*
 * Accepts only the subject keys policy allows, judged by the SPKI's own
 * algorithm identifier: Ed25519, EC on the named curves P-256 and P-384,
 * and rsaEncryption of JIT_RSA_MIN_BITS..JIT_RSA_MAX_BITS with an odd
 * public exponent above 1.
 */
static int
check_key(X509_REQ *req, EVP_PKEY **pkeyp)
{
	X509_PUBKEY *xpk;
	ASN1_OBJECT *alg = NULL;
	X509_ALGOR *pa = NULL;
	const void *pval = NULL;
	EVP_PKEY *pkey;
	BIGNUM *e = NULL;
	int ptype, nid, curve, bits, r = JIT_ERR_KEY_TYPE;

	*pkeyp = NULL;
	if ((xpk = X509_REQ_get_X509_PUBKEY(req)) == NULL ||
	    X509_PUBKEY_get0_param(&alg, NULL, NULL, &pa, xpk) != 1 ||
	    alg == NULL || pa == NULL) {
		r = JIT_ERR_INVALID_FORMAT;
		goto out;
	}
	nid = OBJ_obj2nid(alg);
	if (nid != NID_ED25519 && nid != NID_X9_62_id_ecPublicKey &&
	    nid != NID_rsaEncryption)
		goto out;
	/* A key of a known type that OpenSSL could not decode is malformed. */
	if ((pkey = X509_REQ_get0_pubkey(req)) == NULL) {
		r = JIT_ERR_INVALID_FORMAT;
		goto out;
	}
	switch (nid) {
	case NID_ED25519:
		if (!EVP_PKEY_is_a(pkey, "ED25519"))
			goto out;
		break;
	case NID_X9_62_id_ecPublicKey:
		X509_ALGOR_get0(NULL, &ptype, &pval, pa);
		if (ptype != V_ASN1_OBJECT || pval == NULL)
			goto out;
		curve = OBJ_obj2nid(pval);
		if ((curve != NID_X9_62_prime256v1 && curve != NID_secp384r1) ||
		    !EVP_PKEY_is_a(pkey, "EC"))
			goto out;
		break;
	case NID_rsaEncryption:
		if (!EVP_PKEY_is_a(pkey, "RSA"))
			goto out;
		bits = EVP_PKEY_get_bits(pkey);
		if (bits < JIT_RSA_MIN_BITS) {
			r = JIT_ERR_KEY_TOO_SMALL;
			goto out;
		}
		if (bits > JIT_RSA_MAX_BITS) {
			r = JIT_ERR_LIMIT;
			goto out;
		}
		if (EVP_PKEY_get_bn_param(pkey, "e", &e) != 1 ||
		    !BN_is_odd(e) || BN_is_one(e)) {
			r = JIT_ERR_INVALID_FORMAT;
			goto out;
		}
		break;
	default:
		goto out;
	}
	*pkeyp = pkey;
	r = JIT_OK;
 out:
	BN_free(e);
	return r;
}

static int
add_conf_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext;
	int ok;

	if ((ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value)) == NULL)
		return 0;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1;
}

/*
 * Adds subjectAltName URI:uri, built as a GENERAL_NAMES value so that no
 * character of uri is ever interpreted by the config-string parser.
 */
static int
add_san_uri(X509 *x, const char *uri)
{
	GENERAL_NAMES *gens = NULL;
	GENERAL_NAME *gn = NULL;
	ASN1_IA5STRING *ia5 = NULL;
	int ok = 0;

	if ((gens = sk_GENERAL_NAME_new_null()) == NULL ||
	    (gn = GENERAL_NAME_new()) == NULL ||
	    (ia5 = ASN1_IA5STRING_new()) == NULL ||
	    ASN1_STRING_set(ia5, uri, (int)strlen(uri)) != 1)
		goto out;
	GENERAL_NAME_set0_value(gn, GEN_URI, ia5);
	ia5 = NULL;
	if (sk_GENERAL_NAME_push(gens, gn) <= 0)
		goto out;
	gn = NULL;
	ok = X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
	    X509V3_ADD_APPEND) == 1;
 out:
	ASN1_IA5STRING_free(ia5);
	GENERAL_NAME_free(gn);
	GENERAL_NAMES_free(gens);
	return ok;
}

/*
 * Copies the CSR's SubjectPublicKeyInfo into the leaf field by field, as
 * it was signed and checked, instead of re-encoding the decoded key
 * (X509_set_pubkey() costs an encode and a decode through OpenSSL 3's
 * provider machinery, the larger part of an issuance).
 */
static int
copy_spki(X509 *x, X509_REQ *csr)
{
	X509_PUBKEY *src, *dst;
	X509_ALGOR *alg = NULL;
	const ASN1_OBJECT *aobj = NULL;
	ASN1_OBJECT *obj = NULL, *param = NULL;
	const unsigned char *pk = NULL;
	unsigned char *penc = NULL;
	const void *pval = NULL;
	int pklen = 0, ptype, ok = 0;

	if ((src = X509_REQ_get_X509_PUBKEY(csr)) == NULL ||
	    (dst = X509_get_X509_PUBKEY(x)) == NULL ||
	    X509_PUBKEY_get0_param(NULL, &pk, &pklen, &alg, src) != 1 ||
	    alg == NULL || pk == NULL || pklen <= 0)
		goto out;
	X509_ALGOR_get0(&aobj, &ptype, &pval, alg);
	if (ptype == V_ASN1_OBJECT) {
		if ((param = OBJ_dup(pval)) == NULL)
			goto out;
	} else if (ptype != V_ASN1_UNDEF && ptype != V_ASN1_NULL)
		goto out;
	if ((obj = OBJ_dup(aobj)) == NULL ||
	    (penc = OPENSSL_memdup(pk, (size_t)pklen)) == NULL ||
	    X509_PUBKEY_set0_param(dst, obj, ptype, param, penc, pklen) != 1)
		goto out;
	obj = param = NULL;	/* now owned by the leaf */
	penc = NULL;
	ok = 1;
 out:
	ASN1_OBJECT_free(obj);
	ASN1_OBJECT_free(param);
	OPENSSL_free(penc);
	return ok;
}

static int
set_subject(X509 *x, const char *cn, const char *ou)
{
	X509_NAME *name;
	int ok = 0;

	if ((name = X509_NAME_new()) == NULL)
		return 0;
	if (ou != NULL && X509_NAME_add_entry_by_NID(name,
	    NID_organizationalUnitName, MBSTRING_UTF8,
	    (const unsigned char *)ou, -1, -1, 0) != 1)
		goto out;
	if (X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0) != 1)
		goto out;
	ok = X509_set_subject_name(x, name) == 1;
 out:
	X509_NAME_free(name);
	return ok;
}

/*
 * Sets a random positive serial of at most 127 bits, never zero, and
 * returns it as lowercase hex without leading zeroes in hex (which has
 * room for 2 * SERIAL_LEN + 1 bytes).
 */
static int
set_serial(X509 *x, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	uint8_t s[SERIAL_LEN];
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai = NULL;
	size_t i, j = 0;
	int ok = 0;

	do {
		randombytes_buf(s, sizeof(s));
		s[0] &= 0x7f;
	} while (sodium_is_zero(s, sizeof(s)));
	if ((bn = BN_bin2bn(s, sizeof(s), NULL)) == NULL ||
	    (ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    X509_set_serialNumber(x, ai) != 1)
		goto out;
	for (i = 0; i < 2 * sizeof(s); i++) {
		uint8_t nib = (s[i / 2] >> (i % 2 == 0 ? 4 : 0)) & 0x0f;

		if (j == 0 && nib == 0)
			continue;
		hex[j++] = digits[nib];
	}
	hex[j] = '\0';
	ok = 1;
 out:
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return ok;
}

static int
add_extensions(X509 *x, X509 *cacert, const char *uri)
{
	X509V3_CTX ctx;

	X509V3_set_ctx(&ctx, cacert, x, NULL, NULL, 0);
	if (!add_conf_ext(x, &ctx, NID_basic_constraints,
	    "critical,CA:FALSE") ||
	    !add_conf_ext(x, &ctx, NID_key_usage,
	    "critical,digitalSignature") ||
	    !add_conf_ext(x, &ctx, NID_ext_key_usage, "clientAuth") ||
	    !add_conf_ext(x, &ctx, NID_subject_key_identifier, "hash") ||
	    !add_conf_ext(x, &ctx, NID_authority_key_identifier,
	    "keyid:always"))
		return 0;
	if (uri != NULL && !add_san_uri(x, uri))
		return 0;
	return 1;
}

/*
 * Signs x through the CA's signer: both AlgorithmIdentifiers become
 * ecdsa-with-SHA256 (no parameters), the re-encoded TBSCertificate goes
 * to ca_sign(), and the returned DER ECDSA-Sig-Value fills the signature
 * BIT STRING with no unused bits.
 */
static int
sign_leaf(struct ca *ca, X509 *x)
{
	const ASN1_BIT_STRING *csig;
	const X509_ALGOR *calg;
	ASN1_BIT_STRING *sigbits;
	unsigned char *tbs = NULL;
	uint8_t sig[CA_SIG_MAX];
	size_t siglen = 0;
	int tbslen, r = JIT_ERR_INTERNAL;

	X509_get0_signature(&csig, &calg, x);
	if (csig == NULL || calg == NULL || X509_get0_tbs_sigalg(x) == NULL)
		goto out;
	if (X509_ALGOR_set0((X509_ALGOR *)X509_get0_tbs_sigalg(x),
	    OBJ_nid2obj(NID_ecdsa_with_SHA256), V_ASN1_UNDEF, NULL) != 1 ||
	    X509_ALGOR_set0((X509_ALGOR *)calg,
	    OBJ_nid2obj(NID_ecdsa_with_SHA256), V_ASN1_UNDEF, NULL) != 1) {
		r = JIT_ERR_CRYPTO;
		goto out;
	}
	if ((tbslen = i2d_re_X509_tbs(x, &tbs)) <= 0) {
		r = JIT_ERR_CRYPTO;
		goto out;
	}
	if ((r = ca_sign(ca, CA_SLOT_X509, tbs, (size_t)tbslen, sig,
	    &siglen)) != JIT_OK)
		goto out;
	r = JIT_ERR_INTERNAL;
	if (siglen == 0 || siglen > sizeof(sig))
		goto out;
	sigbits = (ASN1_BIT_STRING *)csig;
	if (ASN1_BIT_STRING_set(sigbits, sig, (int)siglen) != 1) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	sigbits->flags &= ~0x07;
	sigbits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
	r = JIT_OK;
 out:
	OPENSSL_free(tbs);
	return r;
}

/* Fills the PEM text and the "SHA256:hex" SPKI fingerprint of c. */
static int
describe_leaf(X509 *x, struct ca_x509_cert *c)
{
	BIO *bio = NULL;
	BUF_MEM *mem = NULL;
	unsigned char *spki = NULL, md[32];
	unsigned int mdlen = 0;
	int spkilen, r = JIT_ERR_CRYPTO;

	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509(bio, x) != 1 ||
	    BIO_get_mem_ptr(bio, &mem) != 1 || mem == NULL)
		goto out;
	if ((c->pem = malloc(mem->length + 1)) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	memcpy(c->pem, mem->data, mem->length);
	c->pem[mem->length] = '\0';
	if ((spkilen = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki)) <= 0 ||
	    EVP_Digest(spki, (size_t)spkilen, md, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen != sizeof(md))
		goto out;
	if ((c->fingerprint = malloc(7 + 2 * sizeof(md) + 1)) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	memcpy(c->fingerprint, "SHA256:", 7);
	sodium_bin2hex(c->fingerprint + 7, 2 * sizeof(md) + 1, md, sizeof(md));
	r = JIT_OK;
 out:
	BIO_free(bio);
	OPENSSL_free(spki);
	return r;
}

int
ca_x509_issue(struct ca *ca, const struct ca_x509_req *req,
    struct ca_x509_cert **out)
{
	X509_REQ *csr = NULL;
	X509 *x = NULL, *cacert;
	EVP_PKEY *pkey = NULL, *capub;
	struct ca_x509_cert *c = NULL;
	char serial[2 * SERIAL_LEN + 1];
	time_t now, nb, na;
	int r = JIT_ERR_INTERNAL;

	if (out != NULL)
		*out = NULL;
	if (ca == NULL || req == NULL || out == NULL ||
	    (cacert = ca_x509_ca_cert(ca)) == NULL ||
	    (capub = X509_get0_pubkey(cacert)) == NULL) {
		r = JIT_ERR_INVALID_ARG;
		goto out;
	}
	if ((r = check_args(req)) != JIT_OK ||
	    (r = parse_csr(req->csr, req->csrlen, &csr)) != JIT_OK)
		goto out;
	if (X509_REQ_get_version(csr) != X509_REQ_VERSION_1) {
		r = JIT_ERR_INVALID_FORMAT;
		goto out;
	}
	if ((r = check_key(csr, &pkey)) != JIT_OK)
		goto out;
	if (X509_REQ_verify(csr, pkey) != 1) {
		r = JIT_ERR_BAD_SIGNATURE;
		goto out;
	}

	now = ca_now();
	if (now < JIT_CLOCK_SKEW || now > LAST_TIME - JIT_CERT_TTL_MAX) {
		r = JIT_ERR_INTERNAL;
		goto out;
	}
	nb = now - JIT_CLOCK_SKEW;
	na = now + (time_t)req->ttl;
	switch (X509_cmp_time(X509_get0_notAfter(cacert), &na)) {
	case 1:
		break;
	case -1:
		r = JIT_ERR_EXPIRED;	/* the leaf would outlive its CA */
		goto out;
	default:
		r = JIT_ERR_CRYPTO;
		goto out;
	}

	r = JIT_ERR_CRYPTO;
	if ((x = X509_new()) == NULL ||
	    X509_set_version(x, X509_VERSION_3) != 1 ||
	    !set_serial(x, serial) ||
	    X509_set_issuer_name(x, X509_get_subject_name(cacert)) != 1 ||
	    !set_subject(x, req->cn, req->ou) ||
	    ASN1_TIME_set(X509_getm_notBefore(x), nb) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), na) == NULL ||
	    !copy_spki(x, csr) ||
	    !add_extensions(x, cacert, req->uri))
		goto out;
	if ((r = sign_leaf(ca, x)) != JIT_OK)
		goto out;
	if (X509_verify(x, capub) != 1) {
		r = JIT_ERR_INTERNAL;
		goto out;
	}

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->serial_hex = strdup(serial)) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	c->not_before = nb;
	c->not_after = na;
	if ((r = describe_leaf(x, c)) != JIT_OK)
		goto out;
	*out = c;
	c = NULL;
	r = JIT_OK;
 out:
	ERR_clear_error();
	ca_x509_cert_free(c);
	X509_free(x);
	X509_REQ_free(csr);
	return r;
}

void
ca_x509_cert_free(struct ca_x509_cert *c)
{
	if (c == NULL)
		return;
	free(c->pem);
	free(c->serial_hex);
	free(c->fingerprint);
	free(c);
}

const char *
ca_x509_cert_pem(const struct ca_x509_cert *c)
{
	return c->pem;
}

const char *
ca_x509_cert_serial_hex(const struct ca_x509_cert *c)
{
	return c->serial_hex;
}

time_t
ca_x509_cert_not_before(const struct ca_x509_cert *c)
{
	return c->not_before;
}

time_t
ca_x509_cert_not_after(const struct ca_x509_cert *c)
{
	return c->not_after;
}

const char *
ca_x509_cert_key_fingerprint(const struct ca_x509_cert *c)
{
	return c->fingerprint;
}
