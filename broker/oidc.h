/*
 * OpenID Connect ID tokens: the pure verification, with no HTTP and no
 * database.  A token is a compact JWS (header.payload.signature, base64url)
 * signed by the identity provider with an asymmetric key published in its
 * JWKS.  This module parses a JWKS into OpenSSL keys (OSSL_PARAM,
 * EVP_PKEY_fromdata), parses the token's header strictly, verifies the
 * signature with the key named by "kid" (EVP_DigestVerify; the algorithm
 * must be on the provider's allow list and match the key type), and only
 * then parses the claims and checks iss, aud, azp, exp, nbf, iat,
 * auth_time and the MFA rule, and maps the user name and groups.
 *
 * Every refusal comes with a short static reason for the audit log; the
 * HTTP answer never shows it.
 */
#ifndef JIT_BROKER_OIDC_H
#define JIT_BROKER_OIDC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "broker/store.h"

#define OIDC_WUR __attribute__((warn_unused_result))

#define OIDC_TOKEN_MAX		(16 * 1024)	/* a whole compact token */
#define OIDC_HEADER_MAX		2048		/* decoded header */
#define OIDC_PAYLOAD_MAX	(12 * 1024)	/* decoded claims */
#define OIDC_SIG_MAX		1024		/* decoded signature */
#define OIDC_JWKS_MAX		(256 * 1024)	/* JWKS document */
#define OIDC_JWKS_KEYS_MAX	64
#define OIDC_KID_MAX		256
#define OIDC_RSA_MAX_BITS	8192
#define OIDC_LEEWAY		60	/* seconds, for exp, nbf, iat */
#define OIDC_REFETCH_INTERVAL	60	/* min seconds between JWKS fetches */
#define OIDC_METHODS_MAX	32	/* = sizeof(store_session.methods) */

/* Supported algorithms, as bits of a provider's allow list. */
#define OIDC_ALG_RS256		0x01u
#define OIDC_ALG_ES256		0x02u
#define OIDC_ALG_EDDSA		0x04u
#define OIDC_ALG_DEFAULT	(OIDC_ALG_RS256 | OIDC_ALG_ES256 | \
				 OIDC_ALG_EDDSA)

struct oidc_jwks;
struct oidc_jwt;
struct oidc_keys;

/* One identity provider of the config's "oidc" array (oidc_config.c). */
struct oidc_provider {
	char		 *name;
	char		 *issuer;
	char		 *audience;		/* our client id */
	char		 *jwks_file;		/* exactly one of file and url */
	char		 *jwks_url;		/* https only */
	char		 *jwks_ca_file;		/* CA bundle for jwks_url */
	unsigned int	  algs;			/* OIDC_ALG_* allow list */
	char		 *username_claim;	/* "preferred_username" */
	char		 *username_domain;	/* strip "@domain", or NULL */
	char		 *groups_claim;		/* NULL: no groups */
	json_t		 *group_map;		/* IdP group -> jitd group */
	char		**amr_values;		/* amr values that are MFA */
	size_t		  namr;
	char		**acr_values;		/* acr values that are MFA */
	size_t		  nacr;
	int		  create_users;
	int		  link_existing;
	char		 *device_authorization_endpoint;	/* or NULL */
	char		 *token_endpoint;			/* or NULL */
	struct oidc_keys *keys;			/* the JWKS cache */
};

/* What a verified token says about its user. */
struct oidc_identity {
	char		 user[STORE_NAME_MAX + 1];
	char		 groups[STORE_GROUPS_LEN];	/* "a,b" */
	int		 groups_claimed;	/* the provider maps groups */
	char		 methods[OIDC_METHODS_MAX];	/* "oidc,mfa,pwd" */
	int64_t		 auth_time;
	int64_t		 exp;
};

/* The OIDC_ALG_* bit of an algorithm name ("RS256"), or 0. */
unsigned int oidc_alg_bit(const char *name);

/*
 * Parses a JWKS document ({"keys": [...]}) of at most OIDC_JWKS_MAX bytes.
 * Keys of other types or uses ("oct", "enc", P-384...) are skipped;
 * a malformed supported key, an RSA key under 2048 bits, a private key
 * member or a duplicate kid makes the whole set invalid.  Returns JIT_OK
 * with a set holding one reference, or an error and, if err is not NULL,
 * a malloc'd sentence.
 */
int oidc_jwks_parse(const char *text, size_t len, struct oidc_jwks **out,
    char **err) OIDC_WUR;
struct oidc_jwks *oidc_jwks_ref(struct oidc_jwks *k);
void oidc_jwks_unref(struct oidc_jwks *k);
/* Number of usable keys. */
size_t oidc_jwks_count(const struct oidc_jwks *k);

/*
 * Splits and decodes a compact JWS of len bytes (at most OIDC_TOKEN_MAX)
 * and parses its header strictly: "alg" must name a supported asymmetric
 * algorithm (never "none" or an HMAC), and "crit", "jku", "x5u", "jwk",
 * "x5c" or any other unknown header parameter is refused (nothing is ever
 * fetched from a token).  Nothing of the payload is parsed yet.  Returns
 * JIT_OK, or JIT_ERR_AUTH with *why set.
 */
int oidc_jwt_parse(const char *token, size_t len, struct oidc_jwt **out,
    const char **why) OIDC_WUR;
void oidc_jwt_free(struct oidc_jwt *t);
/* The header's kid, or NULL. */
const char *oidc_jwt_kid(const struct oidc_jwt *t);
/*
 * The signed part "header.payload" and its length: what identifies a
 * token for the replay guard (an ECDSA signature can be re-encoded as
 * (r, n - s) without the key, so the whole token would not do).
 */
const char *oidc_jwt_signed_part(const struct oidc_jwt *t, size_t *len);

/*
 * Verifies t for provider p with the keys of keys at time now: signature
 * first (key chosen by kid, of the type alg requires, alg on p's list),
 * then the claims.  Returns JIT_OK and fills *out; JIT_ERR_PERMISSION when
 * alg is not on p's list; JIT_ERR_NOT_FOUND when keys has no key with the
 * token's kid (the caller may refresh the JWKS and try again);
 * JIT_ERR_AUTH for any other refusal.  *why is a static reason.
 */
int oidc_jwt_verify(const struct oidc_jwt *t, const struct oidc_provider *p,
    const struct oidc_jwks *keys, int64_t now, struct oidc_identity *out,
    const char **why) OIDC_WUR;

/*
 * Internal to the module (oidc.c calls oidc_jwk.c): checks sig over msg
 * with the key named kid (NULL: the only key) for alg bit.  JIT_OK,
 * JIT_ERR_NOT_FOUND (no such kid), JIT_ERR_AUTH (*why set).
 */
int oidc_jwks_verify(const struct oidc_jwks *keys, const char *kid,
    unsigned int alg, const uint8_t *msg, size_t msglen, const uint8_t *sig,
    size_t siglen, const char **why) OIDC_WUR;

#endif
