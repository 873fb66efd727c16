/*
 * OpenID Connect ID tokens: oidc_jwt_parse (split, decode, strict header)
 * and oidc_jwt_verify (signature, then claims) against a fixed provider
 * and the fixed JWKS of oidc_keys.h, at a fixed time.  The corpus holds
 * tokens signed by that JWKS's keys (tests/fuzz/gen_oidc.c), so mutations
 * of the claims reach the claim checks only through valid signatures:
 * the seeds themselves verify, and any accepted token must name a user.
 */
#include <string.h>

#include "broker/oidc.h"
#include "common/err.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/oidc_fixed.h"
#include "tests/fuzz/oidc_keys.h"

static struct oidc_jwks *fuzz_keys;
static struct oidc_provider fuzz_prov;
static char *fuzz_amr[] = { "mfa", "otp" };

FUZZ_INIT(jwt)
{
	if (fuzz_keys != NULL)
		return;
	FUZZ_ASSERT(oidc_jwks_parse(fuzz_oidc_jwks, strlen(fuzz_oidc_jwks),
	    &fuzz_keys, NULL) == JIT_OK);
	FUZZ_ASSERT(oidc_jwks_count(fuzz_keys) == 3);
	fuzz_prov.name = "idp";
	fuzz_prov.issuer = FUZZ_OIDC_ISS;
	fuzz_prov.audience = FUZZ_OIDC_AUD;
	fuzz_prov.algs = OIDC_ALG_DEFAULT;
	fuzz_prov.username_claim = "preferred_username";
	fuzz_prov.username_domain = "example.com";
	fuzz_prov.groups_claim = "groups";
	FUZZ_ASSERT((fuzz_prov.group_map = json_pack("{s:s,s:s}", "admins",
	    "ops", "eng", "eng")) != NULL);
	fuzz_prov.amr_values = fuzz_amr;
	fuzz_prov.namr = 2;
}

FUZZ_TARGET(jwt)
{
	struct oidc_jwt *t = NULL;
	struct oidc_identity id;
	const char *why = NULL, *sp;
	size_t splen;
	int r;

	if (oidc_jwt_parse((const char *)data, size, &t, &why) != JIT_OK) {
		FUZZ_ASSERT(t == NULL && why != NULL);
		return 0;
	}
	sp = oidc_jwt_signed_part(t, &splen);
	FUZZ_ASSERT(sp != NULL && splen < size);
	FUZZ_ASSERT(memcmp(sp, data, splen) == 0);
	(void)oidc_jwt_kid(t);
	memset(&id, 0, sizeof(id));
	why = NULL;
	r = oidc_jwt_verify(t, &fuzz_prov, fuzz_keys, FUZZ_OIDC_NOW, &id,
	    &why);
	if (r == JIT_OK) {
		FUZZ_ASSERT(id.user[0] != '\0');
		FUZZ_ASSERT(memchr(id.user, '\0', sizeof(id.user)) != NULL);
		FUZZ_ASSERT(memchr(id.groups, '\0', sizeof(id.groups)) !=
		    NULL);
	} else
		FUZZ_ASSERT(why != NULL);
	oidc_jwt_free(t);
	return 0;
}
