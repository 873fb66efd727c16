/*
 * Authentication: password + TOTP login with lockout and single-use codes,
 * session tokens (32 random bytes shown once, stored as SHA-256), MFA
 * step-up and logout.  Every attempt is audited in the same transaction
 * as its effect.
 */
#ifndef JIT_BROKER_AUTH_H
#define JIT_BROKER_AUTH_H

#include <stdint.h>

#include "broker/server.h"

#define AUTH_TOKEN_LEN	43	/* base64url of 32 bytes, no padding */
#define AUTH_OTP_MAX	16

struct auth_login_result {
	char	 token[AUTH_TOKEN_LEN + 1];
	int64_t	 expires_at;
};

/*
 * Checks user, password and otp.  Every failure (unknown user, wrong
 * password, wrong or replayed code, locked or disabled account) returns
 * JIT_ERR_AUTH after about the same time; JIT_ERR_STORE when the audit or
 * the change could not be committed (then no session exists);
 * JIT_ERR_RATE_LIMITED, at once and with nothing hashed or written, when
 * login_limits.max_concurrent_hashes hashes are running already.
 */
int auth_login(struct server *srv, const struct config *cfg, const char *user,
    const char *password, const char *otp, const char *ip,
    struct auth_login_result *out) __attribute__((warn_unused_result));

/* Resolves a bearer token to a live session and enabled user. */
int auth_check_token(struct server *srv, const struct config *cfg,
    const char *token, struct auth_ctx *ctx)
    __attribute__((warn_unused_result));

/* 1 if the session's last MFA is within cfg->mfa_max_age. */
int auth_mfa_fresh(const struct config *cfg, const struct auth_ctx *ctx);

/*
 * Step-up: a fresh TOTP code refreshes auth_time.  JIT_ERR_POLICY (audited)
 * for a user without TOTP (federated): they log in again at their IdP.
 */
int auth_step_up(struct server *srv, const struct config *cfg,
    struct auth_ctx *ctx, const char *otp, const char *ip)
    __attribute__((warn_unused_result));

/* Revokes the session. */
int auth_logout(struct server *srv, struct auth_ctx *ctx, const char *ip)
    __attribute__((warn_unused_result));

/*
 * A new session token: 32 random bytes as base64url in token (shown once)
 * and their SHA-256 in hash (what the store keeps).
 */
int auth_token_new(char token[AUTH_TOKEN_LEN + 1], uint8_t hash[32])
    __attribute__((warn_unused_result));

/*
 * Inside a store job: inserts the session of user u (token hash, methods
 * such as "pwd,otp", auth_time, expiring session_ttl from now) with its
 * audit event (action, outcome "ok", details {ip, reason: "ok"} plus the
 * members of extra, which may be NULL).  Sets *expires_at.  Every login
 * method opens its sessions through this one function.
 */
int auth_tx_session_open(struct store_tx *tx, const struct config *cfg,
    const struct store_user *u, const uint8_t hash[32], const char *methods,
    int64_t auth_time, const char *action, const char *ip, json_t *extra,
    int64_t *expires_at) __attribute__((warn_unused_result));

/* SHA-256 of a token's 32 bytes; JIT_ERR_AUTH if it is not a token. */
int auth_token_hash(const char *token, uint8_t hash[32])
    __attribute__((warn_unused_result));

#endif
