/*
 * jit login with an identity provider: the OAuth 2.0 device authorization
 * grant (RFC 8628) against the provider jitd names in
 * GET /v1/login/oidc/providers, or an ID token read from a file (CI, a
 * workload identity); either way the ID token goes to POST /v1/login/oidc
 * and the session is saved like a password login's.
 */
#ifndef JIT_CLIENTS_CMD_OIDC_H
#define JIT_CLIENTS_CMD_OIDC_H

#include "clients/cli.h"

/*
 * Runs the device flow with the provider named provider (NULL: the only
 * one that offers it): shows the verification URL and code on stderr,
 * polls the token endpoint, logs in.  Returns an exit status.
 */
int cli_login_oidc(struct cli *c, const char *provider);

/* Logs in with the ID token in path.  Returns an exit status. */
int cli_login_id_token_file(struct cli *c, const char *path);

#endif
