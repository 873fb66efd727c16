/*
 * Logging in with an OpenID Connect ID token (POST /v1/login/oidc): the
 * token is verified against the configured providers (oidc.h), refused if
 * seen before (the store's replay guard, until its exp), and then one
 * transaction creates the federated user if needed, updates the user's
 * groups from the token, and opens the same kind of session as password +
 * TOTP login (auth_tx_session_open), with its audit event.  Every refusal
 * is audited as "login.oidc" "failed" with the precise reason, and looks
 * the same to the caller.
 */
#ifndef JIT_BROKER_OIDC_LOGIN_H
#define JIT_BROKER_OIDC_LOGIN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "broker/auth.h"
#include "broker/server.h"

struct oidc_login_result {
	char	 token[AUTH_TOKEN_LEN + 1];
	int64_t	 expires_at;
	char	 user[STORE_NAME_MAX + 1];
	char	 methods[32];
};

/*
 * Returns JIT_OK and the new session; JIT_ERR_AUTH for any refusal (the
 * reason is in the audit log only); JIT_ERR_STORE when nothing could be
 * committed (then no session exists and no audit event was written).
 */
int oidc_login(struct server *srv, struct config *cfg, const char *id_token,
    size_t len, const char *ip, struct oidc_login_result *out)
    __attribute__((warn_unused_result));

/*
 * The providers as clients see them (GET /v1/login/oidc/providers):
 * {"providers": [{name, issuer, client_id, device_authorization_endpoint,
 * token_endpoint}]}.  New reference, or NULL.
 */
json_t *oidc_providers_json(const struct config *cfg);

#endif
