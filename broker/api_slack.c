/*
 * POST /v1/hooks/slack: the interactive callback of a Slack-compatible
 * chat (a click on Approve or Deny in a jitd message).
 *
 * In order: the signing secret is verified exactly as Slack specifies
 * (HMAC-SHA256 over "v0:" timestamp ":" raw body, constant-time compare,
 * timestamp within five minutes either way); the form body is decoded
 * with a bounded decoder and its JSON parsed; then one transaction drops
 * a replay of the same action (store_tx_replay_once, ten minutes), maps
 * the chat user to a jitd user (`jitd user link NAME --slack ID`), and
 * applies the decision through the API's own decision job
 * (req_decide_tx).  A click counts as MFA only when the config says the
 * chat workspace enforces it (slack_mfa_asserted); otherwise nothing is
 * decided and the reply links to the approval page.  Every refusal is
 * audited.  The reply goes in the response body; response_url is never
 * fetched.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <microhttpd.h>
#include <sodium.h>

#include "broker/api.h"
#include "broker/notify.h"
#include "broker/requests.h"
#include "broker/slack_payload.h"
#include "broker/store_outbox.h"
#include "common/clock.h"
#include "common/err.h"

#define SLACK_SKEW		300	/* seconds, either way */
#define SLACK_REPLAY_TTL	600

/* Audits a refusal that happens before any user is known. */
struct refusal_job {
	const char	*actor;
	const char	*why;
	const char	*ip;
	const char	*detail;
};

static int
refusal_tx(struct store_tx *tx, void *arg)
{
	struct refusal_job *j = arg;
	json_t *d = json_pack("{s:s,s:s,s:s}", "why", j->why, "ip", j->ip,
	    "detail", j->detail != NULL ? j->detail : "");
	int r;

	if (d == NULL)
		return JIT_ERR_ALLOC;
	r = store_tx_audit(tx, j->actor, "slack.callback", "slack", "refused",
	    d);
	json_decref(d);
	return r;
}

static void
refuse(struct http_req *rq, int status, const char *code, const char *why,
    const char *detail)
{
	struct refusal_job j = { "slack", why, rq->client_ip, detail };

	if (store_write(rq->srv->store, refusal_tx, &j) != JIT_OK) {
		http_error_code(rq, JIT_ERR_STORE);
		return;
	}
	http_error(rq, status, code, "%s", why);
}

static const char *
header(struct http_req *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

/* Verifies X-Slack-Signature; returns NULL or the reason for refusing. */
static const char *
verify(struct http_req *rq, const struct notify_config *nc)
{
	const char *ts = header(rq, "X-Slack-Request-Timestamp");
	const char *sig = header(rq, "X-Slack-Signature");
	char want[65];
	long long t;
	int64_t now = jit_now();
	size_t i, n;

	if (ts == NULL || sig == NULL)
		return "missing X-Slack-Request-Timestamp or X-Slack-Signature";
	n = strlen(ts);
	if (n == 0 || n > 12)
		return "invalid timestamp";
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)ts[i]))
			return "invalid timestamp";
	t = strtoll(ts, NULL, 10);
	if (t < now - SLACK_SKEW || t > now + SLACK_SKEW)
		return "timestamp outside the five-minute window";
	if (strlen(sig) != 67 || strncmp(sig, "v0=", 3) != 0)
		return "bad signature";
	if (notify_sign(nc->slack_signing_secret,
	    nc->slack_signing_secret_len, "v0", ts, rq->raw_body != NULL ?
	    rq->raw_body : "", rq->raw_len, want) != JIT_OK)
		return "cannot compute the signature";
	if (sodium_memcmp(want, sig + 3, 64) != 0)
		return "bad signature";
	return NULL;
}

enum slack_outcome {
	SO_DECIDED, SO_REFUSED, SO_REPLAY, SO_UNKNOWN_USER, SO_NEED_WEB,
	SO_NOT_FOUND
};

struct slack_job {
	const struct config	*cfg;
	const char		*slack_user;
	const char		*action_id;
	const char		*action_ts;
	int64_t			 id;
	const char		*ip;
	/* Outcome. */
	enum slack_outcome	 outcome;
	struct store_user	 user;
	struct decide_job	 dj;
};

static int
slack_audit(struct store_tx *tx, const char *actor, struct slack_job *j,
    const char *why)
{
	char target[48];
	json_t *d;
	int r;

	req_target(j->id, target, sizeof(target));
	if ((d = json_pack("{s:s,s:s,s:s,s:s,s:s}", "why", why, "slack_user",
	    j->slack_user, "action", j->action_id, "ip", j->ip, "via",
	    "slack")) == NULL)
		return JIT_ERR_ALLOC;
	r = store_tx_audit(tx, actor, "slack.action", target, "refused", d);
	json_decref(d);
	return r;
}

static int
slack_tx(struct store_tx *tx, void *arg)
{
	struct slack_job *j = arg;
	unsigned char h[crypto_generichash_BYTES];
	char key[2 * crypto_generichash_BYTES + 1], actor[SLACK_ID_MAX + 8];
	crypto_generichash_state st;
	char idv[32];
	int rc;

	/* The same click delivered twice is one click. */
	snprintf(idv, sizeof(idv), "%lld", (long long)j->id);
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)j->slack_user,
	    strlen(j->slack_user) + 1);
	crypto_generichash_update(&st, (const unsigned char *)j->action_id,
	    strlen(j->action_id) + 1);
	crypto_generichash_update(&st, (const unsigned char *)idv,
	    strlen(idv) + 1);
	crypto_generichash_update(&st, (const unsigned char *)j->action_ts,
	    strlen(j->action_ts));
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(key, sizeof(key), h, sizeof(h));
	snprintf(actor, sizeof(actor), "slack:%s", j->slack_user);
	rc = store_tx_replay_once(tx, "slack", key, store_tx_now(tx) +
	    SLACK_REPLAY_TTL);
	if (rc == JIT_ERR_EXISTS) {
		j->outcome = SO_REPLAY;
		return slack_audit(tx, actor, j, "replay of an action "
		    "already received");
	}
	if (rc != JIT_OK)
		return rc;
	rc = store_tx_user_get_by_slack(tx, j->slack_user, &j->user);
	if (rc == JIT_ERR_NOT_FOUND || (rc == JIT_OK && j->user.disabled)) {
		j->outcome = SO_UNKNOWN_USER;
		return slack_audit(tx, actor, j, rc == JIT_OK ? "the linked "
		    "jitd user is disabled" : "chat user not linked to a "
		    "jitd user");
	}
	if (rc != JIT_OK)
		return rc;
	if (!j->cfg->notify->slack_mfa_asserted) {
		j->outcome = SO_NEED_WEB;
		return slack_audit(tx, j->user.name, j, "chat approval does "
		    "not count as MFA (slack_mfa_asserted is false): the "
		    "approval page was offered");
	}
	memset(&j->dj, 0, sizeof(j->dj));
	j->dj.cfg = j->cfg;
	j->dj.ev = strcmp(j->action_id, "approve") == 0 ? WF_EV_APPROVE :
	    WF_EV_DENY;
	j->dj.id = j->id;
	j->dj.user = j->user.name;
	j->dj.groups = j->user.groups;
	j->dj.comment = "via Slack";
	j->dj.ip = j->ip;
	j->dj.via = "slack";
	rc = req_decide_tx(tx, &j->dj);
	if (j->dj.not_found) {
		j->outcome = SO_NOT_FOUND;
		return slack_audit(tx, j->user.name, j, "no such request");
	}
	if (rc != JIT_OK)
		return rc;
	j->outcome = j->dj.refused != 0 ? SO_REFUSED : SO_DECIDED;
	return JIT_OK;
}

/* An ephemeral reply that leaves the original message alone. */
static void
reply_text(struct http_req *rq, const char *text)
{
	http_json(rq, 200, json_pack("{s:s,s:b,s:s}", "response_type",
	    "ephemeral", "replace_original", 0, "text", text));
}

static void
reply_decided(struct http_req *rq, struct slack_job *j)
{
	struct store_request *r;
	json_t *msg;
	char ctx[512];
	const char *ev;

	if ((r = malloc(sizeof(*r))) == NULL ||
	    store_request_get(rq->srv->store, j->id, r) != JIT_OK) {
		free(r);
		reply_text(rq, "Recorded, but the request could not be read "
		    "back.");
		return;
	}
	ev = strcmp(r->state, "approved") == 0 ? "request.approved" :
	    strcmp(r->state, "denied") == 0 ? "request.denied" :
	    "request.created";
	if ((msg = notify_slack_message(rq->cfg, ev, r, j->user.name,
	    strcmp(r->state, "pending") == 0)) == NULL) {
		free(r);
		http_error_code(rq, JIT_ERR_ALLOC);
		return;
	}
	snprintf(ctx, sizeof(ctx), "%s by *%s* via Slack: the request is "
	    "now *%s*", strcmp(j->action_id, "approve") == 0 ? "Approved" :
	    "Denied", j->user.name, r->state);
	json_array_append_new(json_object_get(msg, "blocks"),
	    json_pack("{s:s,s:[{s:s,s:s}]}", "type", "context", "elements",
	    "type", "mrkdwn", "text", ctx));
	json_object_set_new(msg, "replace_original", json_true());
	json_object_set_new(msg, "jitd_state", json_string(r->state));
	json_object_set_new(msg, "jitd_decided_by",
	    json_string(j->user.name));
	http_json(rq, 200, msg);
	free(r);
}

void
api_hook_slack(struct http_req *rq)
{
	const struct notify_config *nc = rq->cfg->notify;
	const char *ct, *why, *uid, *aid, *val, *ats;
	struct slack_job *j = NULL;
	struct slack_action act;
	enum slack_payload_status ps;
	char link[NOTIFY_URL_MAX + 64];
	char text[NOTIFY_URL_MAX + 256];
	int rc;

	if (nc == NULL || nc->slack_signing_secret == NULL) {
		http_error(rq, 404, "not_found", "chat callbacks are not "
		    "configured (slack_signing_secret_file)");
		return;
	}
	/* Verify before parsing anything. */
	if ((why = verify(rq, nc)) != NULL) {
		refuse(rq, 401, "unauthorized", why, NULL);
		return;
	}
	ct = header(rq, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (ct == NULL || strncasecmp(ct, "application/x-www-form-urlencoded",
	    33) != 0) {
		refuse(rq, 415, "unsupported_media_type", "the body must be "
		    "application/x-www-form-urlencoded", NULL);
		return;
	}
	memset(&act, 0, sizeof(act));
	ps = rq->raw_body == NULL ? SLACK_PAYLOAD_BAD_BODY :
	    slack_payload_parse(rq->raw_body, rq->raw_len, &act);
	if (ps == SLACK_PAYLOAD_BAD_BODY) {
		refuse(rq, 400, "invalid_request", "the body must be one "
		    "payload= field holding a JSON object", NULL);
		goto out;
	}
	if (ps != SLACK_PAYLOAD_OK) {
		refuse(rq, 400, "invalid_request", "not a block_actions "
		    "payload with one approve or deny action", NULL);
		goto out;
	}
	uid = act.user_id;
	aid = act.action_id;
	val = act.value;
	ats = act.action_ts;
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		http_error_code(rq, JIT_ERR_ALLOC);
		goto out;
	}
	j->cfg = rq->cfg;
	j->slack_user = uid;
	j->action_id = aid;
	j->action_ts = ats;
	j->ip = rq->client_ip;
	if ((j->id = req_parse_id(val)) == 0) {
		refuse(rq, 400, "invalid_request", "the action's value is not "
		    "a request id", NULL);
		goto out;
	}
	if ((rc = store_write(rq->srv->store, slack_tx, j)) != JIT_OK) {
		http_error_code(rq, rc);
		goto out;
	}
	snprintf(rq->log_user, sizeof(rq->log_user), "%s", j->outcome ==
	    SO_UNKNOWN_USER || j->outcome == SO_REPLAY ? "" : j->user.name);
	notify_request_link(rq->cfg, j->id, link, sizeof(link));
	switch (j->outcome) {
	case SO_DECIDED:
		reply_decided(rq, j);
		break;
	case SO_REFUSED:
		snprintf(text, sizeof(text), "Refused: %s.", j->dj.why != NULL ?
		    j->dj.why : "not allowed");
		reply_text(rq, text);
		break;
	case SO_REPLAY:
		reply_text(rq, "This action was already received.");
		break;
	case SO_UNKNOWN_USER:
		snprintf(text, sizeof(text), "Your chat account (%s) is not "
		    "linked to an active jitd user: ask an operator to run "
		    "`jitd user link NAME --slack ID`.", uid);
		reply_text(rq, text);
		break;
	case SO_NEED_WEB:
		snprintf(text, sizeof(text), "Chat clicks do not count as MFA "
		    "here. Decide on the approval page: %s", link);
		reply_text(rq, text);
		break;
	case SO_NOT_FOUND:
		reply_text(rq, "No such request.");
		break;
	}
 out:
	free(j);
	slack_action_clear(&act);
}
