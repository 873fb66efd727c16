/*
 * Login, sessions and step-up (see auth.h).  The slow checks (argon2id,
 * TOTP) run before the write transaction; the transaction then re-reads
 * the user row and decides: lockout, single use of the TOTP step (a code
 * whose step is not newer than the last accepted one is a replay), the
 * failure counter, and the session row, all committed with their audit
 * event.  Two logins racing with the same code cannot both succeed: the
 * writer runs their jobs one after the other and the second sees the step
 * already used.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/audit_chain.h"
#include "broker/auth.h"
#include "broker/login_limit.h"
#include "broker/password.h"
#include "broker/totp.h"
#include "common/b64.h"
#include "common/clock.h"
#include "common/err.h"

enum verdict {
	V_OK,
	V_UNKNOWN_USER,
	V_BAD_PASSWORD,
	V_BAD_OTP,
	V_DISABLED,
	V_NO_OTP,		/* user has no TOTP enrolled */
};

static const char *const verdict_reason[] = {
	"ok", "unknown user", "wrong password", "wrong or expired code",
	"account disabled", "no TOTP enrolled"
};

struct login_job {
	const struct config	*cfg;
	const char		*name;
	const char		*ip;
	enum verdict		 v;
	uint64_t		 step;		/* matched TOTP step */
	uint8_t			 token_hash[32];
	int64_t			 expires_at;
	/* Outcome for metrics. */
	int			 ok;
	int			 locked_now;
};

int
auth_token_hash(const char *token, uint8_t hash[32])
{
	uint8_t *raw = NULL;
	size_t len = 0;

	if (token == NULL || strlen(token) != AUTH_TOKEN_LEN ||
	    b64_decode(token, AUTH_TOKEN_LEN, B64_URL, 32, &raw, &len) !=
	    JIT_OK)
		return JIT_ERR_AUTH;
	if (len != 32) {
		sodium_memzero(raw, len);
		free(raw);
		return JIT_ERR_AUTH;
	}
	crypto_hash_sha256(hash, raw, 32);
	sodium_memzero(raw, 32);
	free(raw);
	return JIT_OK;
}

static int
audit_login(struct store_tx *tx, const char *name, const char *action,
    const char *outcome, const char *reason, const char *ip)
{
	json_t *d = json_pack("{s:s,s:s}", "ip", ip, "reason", reason);
	int r;

	if (d == NULL)
		return JIT_ERR_ALLOC;
	r = store_tx_audit(tx, name, action, name, outcome, d);
	json_decref(d);
	return r;
}

/*
 * The transaction of a login attempt.  Returns JIT_OK whether the login
 * succeeded or not (a failed login must still commit its audit event and
 * counter); the verdict is in the job.
 */
static int
login_tx(struct store_tx *tx, void *arg)
{
	struct login_job *j = arg;
	struct store_user u;
	int64_t now = store_tx_now(tx);
	int r;

	j->ok = 0;
	j->locked_now = 0;
	if (j->v == V_UNKNOWN_USER ||
	    (r = store_tx_user_get(tx, j->name, &u)) == JIT_ERR_NOT_FOUND)
		return audit_login(tx, j->name, "login", "failed",
		    verdict_reason[V_UNKNOWN_USER], j->ip);
	if (r != JIT_OK)
		return r;
	if (u.locked_until > now)
		return audit_login(tx, j->name, "login", "failed",
		    "account locked", j->ip);
	if (j->v == V_OK && j->step <= u.last_totp_step)
		j->v = V_BAD_OTP;	/* replayed, or raced by another login */
	if (j->v != V_OK) {
		if (j->v == V_BAD_PASSWORD || j->v == V_BAD_OTP ||
		    j->v == V_NO_OTP) {
			u.failed++;
			if (u.failed >= j->cfg->lockout_failures) {
				u.failed = 0;
				u.locked_until = now +
				    j->cfg->lockout_duration;
				j->locked_now = 1;
			}
			if ((r = store_tx_user_update(tx, &u)) != JIT_OK)
				return r;
		}
		if ((r = audit_login(tx, j->name, "login", "failed",
		    j->step <= u.last_totp_step && j->v == V_BAD_OTP &&
		    j->step != 0 ? "code already used" : verdict_reason[j->v],
		    j->ip)) != JIT_OK)
			return r;
		if (j->locked_now)
			return audit_login(tx, j->name, "login.locked",
			    "locked", "too many failures", j->ip);
		return JIT_OK;
	}
	u.failed = 0;
	u.last_totp_step = j->step;
	if ((r = store_tx_user_update(tx, &u)) != JIT_OK)
		return r;
	if ((r = auth_tx_session_open(tx, j->cfg, &u, j->token_hash,
	    "pwd,otp", now, "login", j->ip, NULL, &j->expires_at)) != JIT_OK)
		return r;
	j->ok = 1;
	return JIT_OK;
}

int
auth_tx_session_open(struct store_tx *tx, const struct config *cfg,
    const struct store_user *u, const uint8_t hash[32], const char *methods,
    int64_t auth_time, const char *action, const char *ip, json_t *extra,
    int64_t *expires_at)
{
	struct store_session ss;
	int64_t now = store_tx_now(tx);
	json_t *d;
	int r;

	if (strlen(methods) >= sizeof(ss.methods))
		return JIT_ERR_LIMIT;
	memset(&ss, 0, sizeof(ss));
	memcpy(ss.token_hash, hash, 32);
	ss.user_id = u->id;
	memcpy(ss.methods, methods, strlen(methods) + 1);
	ss.auth_time = auth_time;
	ss.created_at = now;
	ss.expires_at = now + cfg->session_ttl;
	if ((r = store_tx_session_insert(tx, &ss)) != JIT_OK)
		return r;
	if ((d = json_pack("{s:s,s:s}", "ip", ip, "reason", "ok")) == NULL ||
	    (extra != NULL && json_object_update(d, extra) != 0)) {
		json_decref(d);
		return JIT_ERR_ALLOC;
	}
	r = store_tx_audit(tx, u->name, action, u->name, "ok", d);
	json_decref(d);
	if (r == JIT_OK)
		*expires_at = ss.expires_at;
	return r;
}

int
auth_token_new(char token[AUTH_TOKEN_LEN + 1], uint8_t hash[32])
{
	uint8_t raw[32];
	char *tok;

	randombytes_buf(raw, sizeof(raw));
	crypto_hash_sha256(hash, raw, sizeof(raw));
	tok = b64_encode(raw, sizeof(raw), B64_URL);
	sodium_memzero(raw, sizeof(raw));
	if (tok == NULL)
		return JIT_ERR_ALLOC;
	if (strlen(tok) != AUTH_TOKEN_LEN) {
		sodium_memzero(tok, strlen(tok));
		free(tok);
		return JIT_ERR_INTERNAL;
	}
	memcpy(token, tok, AUTH_TOKEN_LEN + 1);
	sodium_memzero(tok, AUTH_TOKEN_LEN);
	free(tok);
	return JIT_OK;
}

/* Checks otp against the user's sealed TOTP secret at time now. */
static enum verdict
check_otp(struct server *srv, const struct store_user *u, const char *otp,
    int64_t now, uint64_t *step)
{
	uint8_t *secret = NULL;
	size_t slen = 0;
	enum verdict v = V_BAD_OTP;

	*step = 0;
	if (u->totp_sealed_len == 0)
		return V_NO_OTP;
	if (instance_totp_open(srv->inst, u->name, u->totp_sealed,
	    u->totp_sealed_len, &secret, &slen) != JIT_OK)
		return V_BAD_OTP;
	if (totp_verify(secret, slen, otp, now, 1, u->last_totp_step,
	    step) == JIT_OK)
		v = V_OK;
	sodium_free(secret);
	return v;
}

static int
valid_name(const char *s)
{
	size_t n = strnlen(s, STORE_NAME_MAX + 1);

	return n > 0 && n <= STORE_NAME_MAX;
}

int
auth_login(struct server *srv, const struct config *cfg, const char *name,
    const char *password, const char *otp, const char *ip,
    struct auth_login_result *out)
{
	struct login_job j;
	struct store_user u;
	char tok[AUTH_TOKEN_LEN + 1] = "";
	int r, found;

	memset(out, 0, sizeof(*out));
	memset(&j, 0, sizeof(j));
	j.cfg = cfg;
	j.name = name;
	j.ip = ip;
	if (!valid_name(name))
		return JIT_ERR_AUTH;
	r = store_user_get(srv->store, name, &u);
	if (r != JIT_OK && r != JIT_ERR_NOT_FOUND)
		return r;
	found = r == JIT_OK;
	/* A bounded number of hashes at once; beyond it, none at all. */
	if ((r = login_limit_hash_begin(srv, cfg)) != JIT_OK) {
		sodium_memzero(&u, sizeof(u));
		return r;
	}
	/* The same argon2id cost whether or not the user exists. */
	if (!found) {
		r = password_verify_dummy(password);
		j.v = V_UNKNOWN_USER;
	} else if (u.pwhash[0] == '\0') {
		r = password_verify_dummy(password);
		j.v = V_BAD_PASSWORD;	/* federated users have no password */
	} else if (password_verify(u.pwhash, password) != JIT_OK) {
		j.v = V_BAD_PASSWORD;
	} else {
		j.v = check_otp(srv, &u, otp, jit_now(), &j.step);
	}
	login_limit_hash_end(srv);
	if (found && u.disabled && j.v == V_OK)
		j.v = V_DISABLED;
	sodium_memzero(&u, sizeof(u));
	if (j.v == V_OK && (r = auth_token_new(tok, j.token_hash)) != JIT_OK)
		return r;
	r = store_write(srv->store, login_tx, &j);
	if (r == JIT_OK && j.ok) {
		metrics_inc(&srv->metrics, M_LOGIN_OK);
		memcpy(out->token, tok, AUTH_TOKEN_LEN);
		out->token[AUTH_TOKEN_LEN] = '\0';
		out->expires_at = j.expires_at;
	} else if (r == JIT_OK) {
		metrics_inc(&srv->metrics, M_LOGIN_FAILED);
		if (j.locked_now)
			metrics_inc(&srv->metrics, M_LOCKOUTS);
		r = JIT_ERR_AUTH;
	}
	sodium_memzero(tok, sizeof(tok));
	sodium_memzero(&j, sizeof(j));
	return r;
}

int
auth_check_token(struct server *srv, const struct config *cfg,
    const char *token, struct auth_ctx *ctx)
{
	uint8_t hash[32];
	int64_t now = jit_now();
	int r;

	memset(ctx, 0, sizeof(*ctx));
	if (auth_token_hash(token, hash) != JIT_OK)
		return JIT_ERR_AUTH;
	if ((r = store_session_get(srv->store, hash, &ctx->sess)) != JIT_OK)
		return r == JIT_ERR_NOT_FOUND ? JIT_ERR_AUTH : r;
	if (ctx->sess.revoked || ctx->sess.expires_at <= now)
		return JIT_ERR_AUTH;
	if ((r = store_user_get_by_id(srv->store, ctx->sess.user_id,
	    &ctx->user)) != JIT_OK)
		return r == JIT_ERR_NOT_FOUND ? JIT_ERR_AUTH : r;
	if (ctx->user.disabled)
		return JIT_ERR_AUTH;
	return JIT_OK;
}

/* 1 if the comma-separated methods contain m. */
static int
has_method(const char *methods, const char *m)
{
	size_t n = strlen(m);
	const char *p;

	for (p = methods; (p = strstr(p, m)) != NULL; p += n)
		if ((p == methods || p[-1] == ',') && (p[n] == '\0' ||
		    p[n] == ','))
			return 1;
	return 0;
}

/*
 * A password + TOTP session ("otp") or an identity provider's MFA
 * ("mfa", from a federated login) counts, while auth_time is recent.
 */
int
auth_mfa_fresh(const struct config *cfg, const struct auth_ctx *ctx)
{
	return (has_method(ctx->sess.methods, "otp") ||
	    has_method(ctx->sess.methods, "mfa")) &&
	    jit_now() - ctx->sess.auth_time <= cfg->mfa_max_age &&
	    ctx->sess.auth_time <= jit_now() + 60;
}

struct stepup_job {
	const struct config	*cfg;
	struct auth_ctx		*ctx;
	const char		*ip;
	int			 otp_ok;
	uint64_t		 step;
	int			 ok;
	int			 locked_now;
};

static int
stepup_tx(struct store_tx *tx, void *arg)
{
	struct stepup_job *j = arg;
	struct store_user u;
	struct store_session ss;
	int64_t now = store_tx_now(tx);
	const char *name = j->ctx->user.name;
	int r;

	j->ok = 0;
	if ((r = store_tx_user_get(tx, name, &u)) != JIT_OK)
		return r;
	if ((r = store_tx_session_get(tx, j->ctx->sess.token_hash, &ss)) !=
	    JIT_OK)
		return r;
	if (u.locked_until > now || u.disabled || ss.revoked)
		return audit_login(tx, name, "mfa.stepup", "failed",
		    u.disabled ? "account disabled" : ss.revoked ?
		    "session revoked" : "account locked", j->ip);
	if (!j->otp_ok || j->step <= u.last_totp_step) {
		u.failed++;
		if (u.failed >= j->cfg->lockout_failures) {
			u.failed = 0;
			u.locked_until = now + j->cfg->lockout_duration;
			j->locked_now = 1;
		}
		if ((r = store_tx_user_update(tx, &u)) != JIT_OK ||
		    (r = audit_login(tx, name, "mfa.stepup", "failed",
		    j->otp_ok ? "code already used" : "wrong or expired code",
		    j->ip)) != JIT_OK)
			return r;
		if (j->locked_now)
			return audit_login(tx, name, "login.locked", "locked",
			    "too many failures", j->ip);
		return JIT_OK;
	}
	u.failed = 0;
	u.last_totp_step = j->step;
	ss.auth_time = now;
	if (strstr(ss.methods, "otp") == NULL)
		strcpy(ss.methods, "pwd,otp");
	if ((r = store_tx_user_update(tx, &u)) != JIT_OK ||
	    (r = store_tx_session_update(tx, &ss)) != JIT_OK)
		return r;
	j->ctx->sess = ss;
	j->ok = 1;
	return audit_login(tx, name, "mfa.stepup", "ok", "ok", j->ip);
}

struct no_otp_job {
	const char	*name;
	const char	*ip;
};

static int
no_otp_tx(struct store_tx *tx, void *arg)
{
	struct no_otp_job *j = arg;

	return audit_login(tx, j->name, "mfa.stepup", "failed",
	    "no TOTP enrolled (federated user: log in again with the "
	    "identity provider)", j->ip);
}

int
auth_step_up(struct server *srv, const struct config *cfg,
    struct auth_ctx *ctx, const char *otp, const char *ip)
{
	struct stepup_job j;
	int r;

	if (ctx->user.totp_sealed_len == 0) {
		/* Federated users step up at their identity provider. */
		struct no_otp_job nj = { ctx->user.name, ip };

		if ((r = store_write(srv->store, no_otp_tx, &nj)) != JIT_OK)
			return r;
		return JIT_ERR_POLICY;
	}
	memset(&j, 0, sizeof(j));
	j.cfg = cfg;
	j.ctx = ctx;
	j.ip = ip;
	j.otp_ok = check_otp(srv, &ctx->user, otp, jit_now(), &j.step) ==
	    V_OK;
	r = store_write(srv->store, stepup_tx, &j);
	if (r != JIT_OK)
		return r;
	if (j.locked_now)
		metrics_inc(&srv->metrics, M_LOCKOUTS);
	if (!j.ok)
		return JIT_ERR_AUTH;
	metrics_inc(&srv->metrics, M_MFA_STEPUP);
	return JIT_OK;
}

struct logout_job {
	struct auth_ctx	*ctx;
	const char	*ip;
};

static int
logout_tx(struct store_tx *tx, void *arg)
{
	struct logout_job *j = arg;
	struct store_session ss;
	int r;

	if ((r = store_tx_session_get(tx, j->ctx->sess.token_hash, &ss)) !=
	    JIT_OK)
		return r;
	ss.revoked = 1;
	if ((r = store_tx_session_update(tx, &ss)) != JIT_OK)
		return r;
	return audit_login(tx, j->ctx->user.name, "logout", "ok", "ok",
	    j->ip);
}

int
auth_logout(struct server *srv, struct auth_ctx *ctx, const char *ip)
{
	struct logout_job j = { ctx, ip };

	return store_write(srv->store, logout_tx, &j);
}
