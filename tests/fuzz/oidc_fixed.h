/*
 * The fixed identity provider of jwt_fuzz (and gen_oidc.c, which signs the
 * corpus tokens for it): tokens are checked at FUZZ_OIDC_NOW.
 */
#ifndef JIT_TESTS_FUZZ_OIDC_FIXED_H
#define JIT_TESTS_FUZZ_OIDC_FIXED_H

#define FUZZ_OIDC_ISS	"https://idp.example"
#define FUZZ_OIDC_AUD	"jitd"
#define FUZZ_OIDC_NOW	((int64_t)1700000000)

#endif
