/*
 * JWKS: JSON Web Keys turned into OpenSSL public keys once, and the JWS
 * signature check with them (see oidc.h).  Keys are built from their
 * parameters with OSSL_PARAM and EVP_PKEY_fromdata (OpenSSL 3, no
 * deprecated API) and checked (EVP_PKEY_public_check) before use.  The
 * per-algorithm differences sit in one table.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "broker/oidc.h"
#include "common/b64.h"
#include "common/err.h"
#include "common/limits.h"
#include "common/safetext.h"

enum kty { KTY_RSA, KTY_EC, KTY_OKP };

/* One algorithm: its name, allow-list bit, key type and digest. */
struct alg_impl {
	const char	*name;
	unsigned int	 bit;
	enum kty	 kty;
	const char	*digest;	/* NULL: the key's own (EdDSA) */
	size_t		 ec_len;	/* ECDSA: bytes of r and of s */
};

static const struct alg_impl algs[] = {
	{ "RS256", OIDC_ALG_RS256, KTY_RSA, "SHA256", 0 },
	{ "ES256", OIDC_ALG_ES256, KTY_EC, "SHA256", 32 },
	{ "EdDSA", OIDC_ALG_EDDSA, KTY_OKP, NULL, 0 },
};
#define NALGS (sizeof(algs) / sizeof(algs[0]))

/* The order n of P-256: ECDSA's r and s must be in [1, n-1]. */
static const char P256_ORDER[] =
    "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551";

struct jwk {
	char		 kid[OIDC_KID_MAX + 1];
	int		 has_kid;
	enum kty	 kty;
	char		 alg[16];	/* the key's "alg", or "" */
	EVP_PKEY	*pkey;
};

struct oidc_jwks {
	atomic_int	 refs;
	struct jwk	 keys[OIDC_JWKS_KEYS_MAX];
	size_t		 n;
};

unsigned int
oidc_alg_bit(const char *name)
{
	size_t i;

	for (i = 0; i < NALGS; i++)
		if (strcmp(algs[i].name, name) == 0)
			return algs[i].bit;
	return 0;
}

static const struct alg_impl *
alg_by_bit(unsigned int bit)
{
	size_t i;

	for (i = 0; i < NALGS; i++)
		if (algs[i].bit == bit)
			return &algs[i];
	return NULL;
}

/* Decodes the base64url member key of o (at most max bytes). */
static int
get_b64(json_t *o, const char *key, size_t max, uint8_t **out, size_t *len)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	*len = 0;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > (max * 4) / 3 + 4)
		return JIT_ERR_INVALID_FORMAT;
	return b64_decode(json_string_value(v), json_string_length(v), B64_URL,
	    max, out, len);
}

static EVP_PKEY *
pkey_fromdata(const char *type, OSSL_PARAM *params)
{
	EVP_PKEY_CTX *ctx = NULL, *chk = NULL;
	EVP_PKEY *pk = NULL;

	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto out;
	/* A point not on the curve, an even or tiny exponent: refused. */
	if ((chk = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) == NULL ||
	    EVP_PKEY_public_check(chk) != 1) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
 out:
	EVP_PKEY_CTX_free(chk);
	EVP_PKEY_CTX_free(ctx);
	return pk;
}

static int
rsa_key(json_t *o, struct jwk *k, char **err)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	BIGNUM *n = NULL, *e = NULL;
	uint8_t *nb = NULL, *eb = NULL;
	size_t nl, el;
	int r = JIT_ERR_INVALID_FORMAT, bits;

	if (get_b64(o, "n", OIDC_RSA_MAX_BITS / 8 + 1, &nb, &nl) != JIT_OK ||
	    get_b64(o, "e", 8, &eb, &el) != JIT_OK) {
		jit_set_err(err, "RSA key \"%s\": \"n\" and \"e\" must be base64url "
		    "(at most %d bits)", k->kid, OIDC_RSA_MAX_BITS);
		goto out;
	}
	if ((n = BN_bin2bn(nb, (int)nl, NULL)) == NULL ||
	    (e = BN_bin2bn(eb, (int)el, NULL)) == NULL) {
		r = JIT_ERR_CRYPTO;
		goto out;
	}
	if ((bits = BN_num_bits(n)) < 2048 || bits > OIDC_RSA_MAX_BITS) {
		jit_set_err(err, "RSA key \"%s\" has %d bits: 2048 to %d required",
		    k->kid, bits, OIDC_RSA_MAX_BITS);
		r = JIT_ERR_KEY_TOO_SMALL;
		goto out;
	}
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL) {
		r = JIT_ERR_CRYPTO;
		goto out;
	}
	if (BN_is_odd(e) == 0 || BN_num_bits(e) < 2 ||
	    (k->pkey = pkey_fromdata("RSA", params)) == NULL) {
		jit_set_err(err, "RSA key \"%s\" is not a valid public key", k->kid);
		goto out;
	}
	r = JIT_OK;
 out:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	free(nb);
	free(eb);
	return r;
}

static int
ec_key(json_t *o, struct jwk *k, char **err)
{
	OSSL_PARAM params[3];
	uint8_t *x = NULL, *y = NULL, pt[65];
	size_t xl, yl;
	int r = JIT_ERR_INVALID_FORMAT;

	if (get_b64(o, "x", 32, &x, &xl) != JIT_OK ||
	    get_b64(o, "y", 32, &y, &yl) != JIT_OK || xl != 32 || yl != 32) {
		jit_set_err(err, "EC key \"%s\": \"x\" and \"y\" must be 32 bytes of "
		    "base64url", k->kid);
		goto out;
	}
	pt[0] = 0x04;
	memcpy(pt + 1, x, 32);
	memcpy(pt + 33, y, 32);
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0);
	params[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt));
	params[2] = OSSL_PARAM_construct_end();
	if ((k->pkey = pkey_fromdata("EC", params)) == NULL) {
		jit_set_err(err, "EC key \"%s\" is not a point of P-256", k->kid);
		goto out;
	}
	r = JIT_OK;
 out:
	free(x);
	free(y);
	return r;
}

static int
okp_key(json_t *o, struct jwk *k, char **err)
{
	uint8_t *x = NULL;
	size_t xl;
	int r = JIT_ERR_INVALID_FORMAT;

	if (get_b64(o, "x", 32, &x, &xl) != JIT_OK || xl != 32) {
		jit_set_err(err, "Ed25519 key \"%s\": \"x\" must be 32 bytes of "
		    "base64url", k->kid);
		goto out;
	}
	if ((k->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x,
	    32)) == NULL) {
		jit_set_err(err, "Ed25519 key \"%s\" is invalid", k->kid);
		goto out;
	}
	r = JIT_OK;
 out:
	free(x);
	return r;
}

static const char *
str_member(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/*
 * One key of the set: 1 if it is usable (k filled), 0 if skipped, < 0
 * if it makes the set invalid.
 */
static int
parse_key(json_t *o, size_t idx, struct jwk *k, char **err)
{
	static const char *const private_members[] = { "d", "p", "q", "dp",
	    "dq", "qi", "oth", "k", NULL };
	const char *kty, *use, *crv, *kid, *alg;
	size_t i;

	memset(k, 0, sizeof(*k));
	if (!json_is_object(o)) {
		jit_set_err(err, "keys[%zu] is not an object", idx);
		return JIT_ERR_INVALID_FORMAT;
	}
	for (i = 0; private_members[i] != NULL; i++) {
		if (json_object_get(o, private_members[i]) != NULL) {
			jit_set_err(err, "keys[%zu] holds private key material "
			    "(\"%s\"): publish public keys only", idx,
			    private_members[i]);
			return JIT_ERR_INVALID_FORMAT;
		}
	}
	if ((kty = str_member(o, "kty")) == NULL) {
		jit_set_err(err, "keys[%zu] has no \"kty\"", idx);
		return JIT_ERR_INVALID_FORMAT;
	}
	if ((kid = str_member(o, "kid")) != NULL) {
		if (strlen(kid) > OIDC_KID_MAX) {
			jit_set_err(err, "keys[%zu]: \"kid\" is too long", idx);
			return JIT_ERR_LIMIT;
		}
		snprintf(k->kid, sizeof(k->kid), "%s", kid);
		k->has_kid = 1;
	} else if (json_object_get(o, "kid") != NULL) {
		jit_set_err(err, "keys[%zu]: \"kid\" must be a string", idx);
		return JIT_ERR_INVALID_FORMAT;
	}
	if ((use = str_member(o, "use")) != NULL && strcmp(use, "sig") != 0)
		return 0;
	if ((alg = str_member(o, "alg")) != NULL) {
		if (oidc_alg_bit(alg) == 0)
			return 0;	/* for an algorithm we do not take */
		snprintf(k->alg, sizeof(k->alg), "%s", alg);
	}
	crv = str_member(o, "crv");
	if (strcmp(kty, "RSA") == 0) {
		k->kty = KTY_RSA;
		return rsa_key(o, k, err) == JIT_OK ? 1 : JIT_ERR_INVALID_FORMAT;
	}
	if (strcmp(kty, "EC") == 0 && crv != NULL &&
	    strcmp(crv, "P-256") == 0) {
		k->kty = KTY_EC;
		return ec_key(o, k, err) == JIT_OK ? 1 : JIT_ERR_INVALID_FORMAT;
	}
	if (strcmp(kty, "OKP") == 0 && crv != NULL &&
	    strcmp(crv, "Ed25519") == 0) {
		k->kty = KTY_OKP;
		return okp_key(o, k, err) == JIT_OK ? 1 :
		    JIT_ERR_INVALID_FORMAT;
	}
	return 0;	/* "oct", other curves: never used */
}

int
oidc_jwks_parse(const char *text, size_t len, struct oidc_jwks **out,
    char **err)
{
	struct oidc_jwks *ks = NULL;
	json_t *root = NULL, *keys;
	json_error_t jerr;
	size_t i, j;
	int r = JIT_ERR_INVALID_FORMAT, u;

	*out = NULL;
	if (len > OIDC_JWKS_MAX) {
		jit_set_err(err, "JWKS larger than %d bytes", OIDC_JWKS_MAX);
		return JIT_ERR_LIMIT;
	}
	if (safetext_json_depth(text, len, JIT_JSON_DEPTH_MAX) >
	    JIT_JSON_DEPTH_MAX) {
		jit_set_err(err, "JWKS nests deeper than %d levels",
		    JIT_JSON_DEPTH_MAX);
		return JIT_ERR_LIMIT;
	}
	if ((root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		jit_set_err(err, "JWKS is not valid JSON: line %d: %s", jerr.line,
		    jerr.text);
		goto out;
	}
	keys = json_object_get(root, "keys");
	if (!json_is_object(root) || !json_is_array(keys)) {
		jit_set_err(err, "JWKS must be an object with a \"keys\" array");
		goto out;
	}
	if (json_array_size(keys) > OIDC_JWKS_KEYS_MAX) {
		jit_set_err(err, "JWKS has more than %d keys", OIDC_JWKS_KEYS_MAX);
		r = JIT_ERR_LIMIT;
		goto out;
	}
	if ((ks = calloc(1, sizeof(*ks))) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	atomic_init(&ks->refs, 1);
	for (i = 0; i < json_array_size(keys); i++) {
		if ((u = parse_key(json_array_get(keys, i), i,
		    &ks->keys[ks->n], err)) < 0) {
			r = u;
			goto out;
		}
		if (u == 0)
			continue;
		for (j = 0; j < ks->n; j++) {
			if (ks->keys[j].has_kid && ks->keys[ks->n].has_kid &&
			    strcmp(ks->keys[j].kid, ks->keys[ks->n].kid) ==
			    0) {
				jit_set_err(err, "JWKS has two keys with kid \"%s\"",
				    ks->keys[j].kid);
				EVP_PKEY_free(ks->keys[ks->n].pkey);
				goto out;
			}
		}
		ks->n++;
	}
	*out = ks;
	ks = NULL;
	r = JIT_OK;
 out:
	oidc_jwks_unref(ks);
	json_decref(root);
	return r;
}

struct oidc_jwks *
oidc_jwks_ref(struct oidc_jwks *k)
{
	if (k != NULL)
		atomic_fetch_add(&k->refs, 1);
	return k;
}

void
oidc_jwks_unref(struct oidc_jwks *k)
{
	size_t i;

	if (k == NULL || atomic_fetch_sub(&k->refs, 1) != 1)
		return;
	for (i = 0; i < k->n; i++)
		EVP_PKEY_free(k->keys[i].pkey);
	free(k);
}

size_t
oidc_jwks_count(const struct oidc_jwks *k)
{
	return k != NULL ? k->n : 0;
}

/*
 * JWS ECDSA signatures are r || s; EVP wants DER.  r and s must be in
 * [1, n-1]: r = s = 0 (the "psychic signature" of CVE-2022-21449) and
 * values at or over the order are refused before OpenSSL sees them.
 */
static int
ecdsa_to_der(const uint8_t *sig, size_t half, uint8_t **der, size_t *derlen)
{
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL, *order = NULL;
	unsigned char *p = NULL;
	int len, ret = JIT_ERR_AUTH;

	*der = NULL;
	if ((r = BN_bin2bn(sig, (int)half, NULL)) == NULL ||
	    (s = BN_bin2bn(sig + half, (int)half, NULL)) == NULL ||
	    BN_hex2bn(&order, P256_ORDER) == 0) {
		ret = JIT_ERR_CRYPTO;
		goto out;
	}
	if (BN_is_zero(r) || BN_is_zero(s) || BN_cmp(r, order) >= 0 ||
	    BN_cmp(s, order) >= 0)
		goto out;
	if ((es = ECDSA_SIG_new()) == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
		ret = JIT_ERR_CRYPTO;
		goto out;
	}
	r = s = NULL;		/* owned by es */
	if ((len = i2d_ECDSA_SIG(es, &p)) <= 0) {
		ret = JIT_ERR_CRYPTO;
		goto out;
	}
	*der = p;
	*derlen = (size_t)len;
	ret = JIT_OK;
 out:
	ECDSA_SIG_free(es);
	BN_free(r);
	BN_free(s);
	BN_free(order);
	return ret;
}

int
oidc_jwks_verify(const struct oidc_jwks *keys, const char *kid,
    unsigned int alg, const uint8_t *msg, size_t msglen, const uint8_t *sig,
    size_t siglen, const char **why)
{
	const struct alg_impl *a = alg_by_bit(alg);
	const struct jwk *k = NULL;
	EVP_MD_CTX *md = NULL;
	uint8_t *der = NULL;
	size_t i, derlen = 0;
	int r = JIT_ERR_AUTH;

	*why = "signature does not verify";
	if (a == NULL) {
		*why = "algorithm not supported";
		return JIT_ERR_AUTH;
	}
	if (keys == NULL) {
		*why = "no keys (the JWKS could not be fetched)";
		return JIT_ERR_NOT_FOUND;
	}
	if (kid != NULL) {
		for (i = 0; i < keys->n; i++)
			if (keys->keys[i].has_kid &&
			    strcmp(keys->keys[i].kid, kid) == 0)
				k = &keys->keys[i];
	} else if (keys->n == 1)
		k = &keys->keys[0];
	else {
		*why = "no kid in the header and several keys in the JWKS";
		return JIT_ERR_AUTH;
	}
	if (k == NULL) {
		*why = "unknown kid";
		return JIT_ERR_NOT_FOUND;
	}
	if (k->kty != a->kty || (k->alg[0] != '\0' &&
	    strcmp(k->alg, a->name) != 0)) {
		*why = "alg does not match the key type";
		return JIT_ERR_AUTH;
	}
	if (a->kty == KTY_EC) {
		if (siglen != 2 * a->ec_len) {
			*why = "ECDSA signature of the wrong length";
			return JIT_ERR_AUTH;
		}
		if ((r = ecdsa_to_der(sig, a->ec_len, &der, &derlen)) !=
		    JIT_OK) {
			if (r == JIT_ERR_AUTH)
				*why = "ECDSA signature with r or s out of "
				    "range";
			return r;
		}
		sig = der;
		siglen = derlen;
	}
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit_ex(md, NULL, a->digest, NULL, NULL, k->pkey,
	    NULL) != 1) {
		r = JIT_ERR_CRYPTO;
		*why = "signature check failed";
		goto out;
	}
	if (EVP_DigestVerify(md, sig, siglen, msg, msglen) == 1) {
		r = JIT_OK;
		*why = "ok";
	} else
		r = JIT_ERR_AUTH;
 out:
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	return r;
}
