/*
 * Limits on login attempts that act before any password is hashed, so a
 * flood of guesses costs the broker almost nothing: a token bucket per
 * client address (IPv4 address, IPv6 /64) and one per user name (see
 * ratelimit.h: fixed-size tables), and a bound on the argon2id hashes
 * running at once.  A successful login gives its tokens back, so only
 * failures use them up: a user who can log in is never slowed down by
 * their own logins, and the single-use TOTP code already bounds how often
 * anyone can succeed.  Refusals are not audited (that would let a flood
 * write to the audit log); they are counted in /metrics.  The lockout
 * after lockout.max_failures is unchanged: a refused attempt does not
 * count as a failure.
 */
#ifndef JIT_BROKER_LOGIN_LIMIT_H
#define JIT_BROKER_LOGIN_LIMIT_H

#include "broker/server.h"

#define LOGIN_LIMIT_SLOTS	8192	/* buckets per table */

struct login_limit;

/* The tables of a running server; NULL on allocation failure. */
struct login_limit *login_limit_new(void) __attribute__((warn_unused_result));
void login_limit_free(struct login_limit *l);

/*
 * Before a login attempt from ip (as the request log shows it) for user
 * (NULL: no user name, as for an ID token): takes a token from the
 * address's bucket, then from the user's.  Returns JIT_OK, or
 * JIT_ERR_RATE_LIMITED with *retry_after in seconds and no token taken.
 * With no limits (srv->limits NULL) always JIT_OK.
 */
int login_limit_admit(struct server *srv, const struct config *cfg,
    const char *ip, const char *user, int *retry_after)
    __attribute__((warn_unused_result));

/* Gives back the tokens of an admitted attempt that succeeded. */
void login_limit_refund(struct server *srv, const struct config *cfg,
    const char *ip, const char *user);

/*
 * Around one password hash: JIT_OK and the hash may run (counted in
 * jitd_password_hashes_total), or JIT_ERR_RATE_LIMITED when
 * max_concurrent_hashes are running already.  Every JIT_OK is followed
 * by exactly one login_limit_hash_end.
 */
int login_limit_hash_begin(struct server *srv, const struct config *cfg)
    __attribute__((warn_unused_result));
void login_limit_hash_end(struct server *srv);

#endif
