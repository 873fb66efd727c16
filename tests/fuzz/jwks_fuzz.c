/*
 * JWKS documents: oidc_jwks_parse.  A set that parses is used once to
 * verify a fixed message with each algorithm (always refused: the
 * signature is junk), which walks the keys it built.
 */
#include <string.h>

#include "broker/oidc.h"
#include "common/err.h"
#include "tests/fuzz/fuzz.h"

FUZZ_INIT(jwks)
{
}

FUZZ_TARGET(jwks)
{
	static const uint8_t msg[] = "header.payload";
	uint8_t sig[256];
	struct oidc_jwks *k = NULL;
	const char *why;
	char *err = NULL;
	int r;

	r = oidc_jwks_parse((const char *)data, size, &k, &err);
	if (r != JIT_OK) {
		FUZZ_ASSERT(k == NULL);
		free(err);
		return 0;
	}
	FUZZ_ASSERT(oidc_jwks_count(k) <= OIDC_JWKS_KEYS_MAX);
	memset(sig, 0x5a, sizeof(sig));
	why = NULL;
	FUZZ_ASSERT(oidc_jwks_verify(k, NULL, OIDC_ALG_RS256, msg,
	    sizeof(msg) - 1, sig, 256, &why) != JIT_OK);
	FUZZ_ASSERT(oidc_jwks_verify(k, NULL, OIDC_ALG_ES256, msg,
	    sizeof(msg) - 1, sig, 64, &why) != JIT_OK);
	FUZZ_ASSERT(oidc_jwks_verify(k, NULL, OIDC_ALG_EDDSA, msg,
	    sizeof(msg) - 1, sig, 64, &why) != JIT_OK);
	FUZZ_ASSERT(oidc_jwks_ref(k) == k);
	oidc_jwks_unref(k);
	oidc_jwks_unref(k);
	return 0;
}
