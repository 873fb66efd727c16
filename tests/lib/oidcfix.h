/*
 * OpenID Connect helpers for tests: keys generated with OpenSSL (RSA-2048,
 * P-256, Ed25519), their public JWKs, tokens signed in the test (and
 * hostile ones assembled by hand), and a small identity provider on
 * 127.0.0.1 (libmicrohttpd, optionally over TLS) that serves a JWKS and
 * the device authorization grant's two endpoints.
 */
#ifndef JIT_TESTS_OIDCFIX_H
#define JIT_TESTS_OIDCFIX_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

struct of_key {
	EVP_PKEY	*pk;
	const char	*alg;		/* "RS256", "ES256", "EdDSA" */
	char		 kid[32];
};

/* Generates a key for alg with the given kid; aborts on failure. */
void of_keygen(struct of_key *k, const char *alg, const char *kid);
void of_key_free(struct of_key *k);
/* The public JWK of k (new reference). */
json_t *of_jwk(const struct of_key *k);
/* {"keys": [...]} of n keys, as malloc'd text. */
char *of_jwks(const struct of_key *const *keys, size_t n);

/* base64url without padding, malloc'd. */
char *of_b64url(const void *p, size_t n);
/* Compact JWS from header and claims text and raw signature bytes. */
char *of_compact(const char *header, const char *claims, const uint8_t *sig,
    size_t siglen);
/* The raw JWS signature of msg by k (ECDSA as r || s). */
void of_sign_raw(const struct of_key *k, const char *msg, uint8_t **sig,
    size_t *siglen);
/*
 * Signs claims with k.  header NULL: {"alg": k->alg, "kid": k->kid,
 * "typ": "JWT"}.  Neither is stolen.  Returns a malloc'd token.
 */
char *of_sign(const struct of_key *k, json_t *header, json_t *claims);

/* The test identity provider. */
struct of_idp;

/*
 * Starts the IdP on a free port; with tls, over https with a fresh
 * self-signed certificate for 127.0.0.1 written to dir/idp-ca.pem.
 */
struct of_idp *of_idp_start(const char *dir, int tls);
void of_idp_stop(struct of_idp *idp);
/* "http://127.0.0.1:PORT" or "https://...". */
const char *of_idp_base(const struct of_idp *idp);
/* Path of the certificate to trust (tls only). */
const char *of_idp_ca(const struct of_idp *idp);
/* GET /jwks serves this text (copied). */
void of_idp_set_jwks(struct of_idp *idp, const char *jwks);
unsigned int of_idp_jwks_fetches(const struct of_idp *idp);
/*
 * The device flow: POST /device gives a code; POST /token answers
 * authorization_pending, then slow_down, then {"id_token": token}
 * (or access_denied when token is NULL).
 */
void of_idp_set_id_token(struct of_idp *idp, const char *token);
unsigned int of_idp_token_polls(const struct of_idp *idp);

#endif
