/* Login with an ID token: verification, replay guard, users, sessions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "broker/oidc.h"
#include "broker/oidc_config.h"
#include "broker/oidc_login.h"
#include "common/clock.h"
#include "common/err.h"

struct oidc_job {
	const struct config		*cfg;
	const struct oidc_provider	*p;	/* NULL before verification */
	const struct oidc_identity	*id;	/* NULL before verification */
	const char			*ip;
	const char			*reason;	/* set: audit a failure */
	const char			*kid;
	char				 replay_key[65];
	uint8_t				 token_hash[32];
	/* Results. */
	int				 ok;
	int64_t				 expires_at;
};

static int
audit_failure(struct store_tx *tx, struct oidc_job *j, const char *reason)
{
	const char *who = j->id != NULL ? j->id->user : "-";
	json_t *d;
	int r;

	if ((d = json_pack("{s:s,s:s}", "ip", j->ip, "reason", reason)) ==
	    NULL)
		return JIT_ERR_ALLOC;
	if (j->p != NULL)
		json_object_set_new(d, "provider", json_string(j->p->name));
	if (j->kid != NULL)
		json_object_set_new(d, "kid", json_string(j->kid));
	r = store_tx_audit(tx, who, "login.oidc", who, "failed", d);
	json_decref(d);
	return r;
}

static int
create_user(struct store_tx *tx, struct oidc_job *j, struct store_user *u)
{
	json_t *d;
	int r;

	memset(u, 0, sizeof(*u));
	snprintf(u->name, sizeof(u->name), "%s", j->id->user);
	snprintf(u->groups, sizeof(u->groups), "%s", j->id->groups);
	u->federated = 1;	/* no password, no TOTP */
	if ((r = store_tx_user_insert(tx, u)) != JIT_OK)
		return r;
	if ((d = json_pack("{s:s,s:s,s:b,s:s}", "ip", j->ip, "provider",
	    j->p->name, "federated", 1, "groups", u->groups)) == NULL)
		return JIT_ERR_ALLOC;
	r = store_tx_audit(tx, u->name, "user.create", u->name, "ok", d);
	json_decref(d);
	return r;
}

/*
 * The transaction: a failure is committed as its audit event (the job
 * then returns JIT_OK with j->ok == 0); a verified token is first recorded
 * by the replay guard, so a second use is refused even if this login is.
 */
static int
oidc_tx(struct store_tx *tx, void *arg)
{
	struct oidc_job *j = arg;
	struct store_user u;
	json_t *extra;
	int64_t now = store_tx_now(tx);
	int r;

	j->ok = 0;
	if (j->reason != NULL)
		return audit_failure(tx, j, j->reason);
	r = store_tx_replay_once(tx, "oidc", j->replay_key,
	    j->id->exp + OIDC_LEEWAY);
	if (r == JIT_ERR_EXISTS)
		return audit_failure(tx, j, "token replayed");
	if (r != JIT_OK)
		return r;
	r = store_tx_user_get(tx, j->id->user, &u);
	if (r == JIT_ERR_NOT_FOUND) {
		if (!j->p->create_users)
			return audit_failure(tx, j, "unknown user and "
			    "create_users is off");
		if ((r = create_user(tx, j, &u)) != JIT_OK)
			return r;
	} else if (r != JIT_OK)
		return r;
	else if (!u.federated && !j->p->link_existing)
		return audit_failure(tx, j, "a local user has this name and "
		    "link_existing is off");
	if (u.disabled)
		return audit_failure(tx, j, "account disabled");
	if (u.locked_until > now)
		return audit_failure(tx, j, "account locked");
	if (j->id->groups_claimed && strcmp(u.groups, j->id->groups) != 0) {
		snprintf(u.groups, sizeof(u.groups), "%s", j->id->groups);
		if ((r = store_tx_user_update(tx, &u)) != JIT_OK)
			return r;
	}
	if ((extra = json_pack("{s:s,s:s}", "provider", j->p->name,
	    "methods", j->id->methods)) == NULL)
		return JIT_ERR_ALLOC;
	if (j->id->groups_claimed)
		json_object_set_new(extra, "groups", json_string(u.groups));
	r = auth_tx_session_open(tx, j->cfg, &u, j->token_hash,
	    j->id->methods, j->id->auth_time, "login.oidc", j->ip, extra,
	    &j->expires_at);
	json_decref(extra);
	if (r != JIT_OK)
		return r;
	j->ok = 1;
	return JIT_OK;
}

/*
 * Tries every provider; the one whose keys hold the token's kid decides.
 * A kid no provider knows makes URL providers refetch their JWKS (each
 * at most once per OIDC_REFETCH_INTERVAL) and the check run once more.
 * The audited reason is the most telling one: a refusal by a provider
 * that knows the kid, else "unknown kid", else "alg not allowed".
 */
static int
verify_any(struct config *cfg, const struct oidc_jwt *t, int64_t now,
    struct oidc_identity *id, const struct oidc_provider **which,
    const char **why)
{
	struct oidc_jwks *ks;
	const char *w, *weak = NULL;
	size_t i;
	int r, round, refreshed, unknown = 0;

	*which = NULL;
	*why = "no identity provider is configured";
	if (cfg->oidc == NULL)
		return JIT_ERR_AUTH;
	for (round = 0; round < 2; round++) {
		refreshed = 0;
		for (i = 0; i < cfg->oidc->n; i++) {
			struct oidc_provider *p = &cfg->oidc->p[i];

			if (round == 0)
				oidc_keys_get(p, &ks);
			else if (!oidc_keys_refresh(p, &ks))
				continue;
			refreshed = 1;
			r = oidc_jwt_verify(t, p, ks, now, id, &w);
			oidc_jwks_unref(ks);
			if (r == JIT_OK) {
				*which = p;
				*why = "ok";
				return JIT_OK;
			}
			if (r == JIT_ERR_NOT_FOUND)
				unknown = 1;
			else if (r == JIT_ERR_PERMISSION)
				weak = w;
			else if (*which == NULL) {
				*which = p;
				*why = w;
			}
		}
		if (*which != NULL || !refreshed)
			break;
	}
	if (*which == NULL)
		*why = unknown || weak == NULL ? "unknown kid" : weak;
	return JIT_ERR_AUTH;
}

int
oidc_login(struct server *srv, struct config *cfg, const char *id_token,
    size_t len, const char *ip, struct oidc_login_result *out)
{
	struct oidc_identity id;
	struct oidc_job j;
	struct oidc_jwt *t = NULL;
	const struct oidc_provider *p = NULL;
	const char *why = NULL, *sp;
	uint8_t h[32];
	char tok[AUTH_TOKEN_LEN + 1] = "";
	size_t splen = 0;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&j, 0, sizeof(j));
	memset(&id, 0, sizeof(id));
	j.cfg = cfg;
	j.ip = ip;
	if (oidc_jwt_parse(id_token, len, &t, &why) != JIT_OK)
		j.reason = why;
	else {
		j.kid = oidc_jwt_kid(t);
		if (verify_any(cfg, t, jit_now(), &id, &p, &why) != JIT_OK) {
			j.reason = why;
			j.p = p;
		} else {
			j.p = p;
			j.id = &id;
			/* The replay guard's key: SHA-256 of header.payload. */
			sp = oidc_jwt_signed_part(t, &splen);
			crypto_hash_sha256(h, (const uint8_t *)sp, splen);
			sodium_bin2hex(j.replay_key, sizeof(j.replay_key), h,
			    sizeof(h));
			if ((r = auth_token_new(tok, j.token_hash)) != JIT_OK)
				goto out;
		}
	}
	r = store_write(srv->store, oidc_tx, &j);
	if (r == JIT_OK && j.ok) {
		metrics_inc(&srv->metrics, M_LOGIN_OK);
		memcpy(out->token, tok, sizeof(out->token));
		out->expires_at = j.expires_at;
		snprintf(out->user, sizeof(out->user), "%s", id.user);
		snprintf(out->methods, sizeof(out->methods), "%s",
		    id.methods);
	} else if (r == JIT_OK) {
		metrics_inc(&srv->metrics, M_LOGIN_FAILED);
		r = JIT_ERR_AUTH;
	}
 out:
	oidc_jwt_free(t);
	sodium_memzero(tok, sizeof(tok));
	sodium_memzero(&j, sizeof(j));
	return r;
}

json_t *
oidc_providers_json(const struct config *cfg)
{
	json_t *arr = json_array(), *o;
	size_t i;

	if (arr == NULL)
		return NULL;
	for (i = 0; cfg->oidc != NULL && i < cfg->oidc->n; i++) {
		const struct oidc_provider *p = &cfg->oidc->p[i];

		o = json_pack("{s:s,s:s,s:s,s:s?,s:s?}", "name", p->name,
		    "issuer", p->issuer, "client_id", p->audience,
		    "device_authorization_endpoint",
		    p->device_authorization_endpoint, "token_endpoint",
		    p->token_endpoint);
		if (o == NULL || json_array_append_new(arr, o) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return json_pack("{s:o}", "providers", arr);
}
