/*
 * The config's "oidc" array of identity providers, and each provider's
 * JWKS cache.  A provider's jwks_file is read and parsed when the config
 * is loaded (so a bad file stops jitd from starting, and SIGHUP re-reads
 * it); a jwks_url is fetched over https with libcurl on first use (size
 * capped, no redirects) and again when a token names an unknown kid, at
 * most once per OIDC_REFETCH_INTERVAL seconds.
 */
#ifndef JIT_BROKER_OIDC_CONFIG_H
#define JIT_BROKER_OIDC_CONFIG_H

#include <stddef.h>

#include <jansson.h>

#include "broker/oidc.h"

#define OIDC_PROVIDERS_MAX	16

struct oidc_config {
	struct oidc_provider	*p;
	size_t			 n;
};

/*
 * Parses v (the "oidc" value, NULL or null for none) of the config file
 * cfgpath.  Issuer and audience are required and non-empty.  Returns
 * JIT_OK with *out (NULL when there are no providers), or an error and a
 * malloc'd sentence "config PATH: ..." in *err.
 */
int oidc_config_load(json_t *v, const char *cfgpath, struct oidc_config **out,
    char **err) __attribute__((warn_unused_result));
void oidc_config_free(struct oidc_config *oc);

/*
 * The provider's current key set (a reference: oidc_jwks_unref), fetching
 * a jwks_url the first time.  *out is NULL when no keys could be had.
 */
void oidc_keys_get(struct oidc_provider *p, struct oidc_jwks **out);

/*
 * After an unknown kid: refetches a jwks_url unless the last fetch was
 * less than OIDC_REFETCH_INTERVAL seconds ago.  Returns 1 and the new set
 * in *out (a reference) if a new set was fetched, else 0.
 */
int oidc_keys_refresh(struct oidc_provider *p, struct oidc_jwks **out);

/* Number of JWKS fetches so far (for tests and metrics). */
unsigned long oidc_keys_fetches(const struct oidc_provider *p);

#endif
