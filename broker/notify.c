/*
 * Notifications: what gets written to the outbox, in the transaction of
 * the change (notify_tx), and the two payload formats: a JSON event for
 * webhooks and a Slack-compatible message with Approve/Deny buttons.  The
 * signature helper (HMAC-SHA256, OpenSSL EVP_MAC) serves both the
 * outbound webhook signature and the inbound Slack verification.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sodium.h>

#include "broker/config.h"
#include "broker/notify.h"
#include "broker/store.h"
#include "broker/store_outbox.h"
#include "common/err.h"

int
notify_sign(const uint8_t *key, size_t keylen, const char *prefix,
    const char *ts, const void *body, size_t bodylen, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	OSSL_PARAM params[2];
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *ctx = NULL;
	uint8_t md[32];
	size_t mdlen = 0, i;
	int r = JIT_ERR_CRYPTO;

	out[0] = '\0';
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (ctx = EVP_MAC_CTX_new(mac)) == NULL)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(ctx, key, keylen, params) != 1 ||
	    EVP_MAC_update(ctx, (const uint8_t *)prefix, strlen(prefix)) != 1 ||
	    EVP_MAC_update(ctx, (const uint8_t *)":", 1) != 1 ||
	    EVP_MAC_update(ctx, (const uint8_t *)ts, strlen(ts)) != 1 ||
	    EVP_MAC_update(ctx, (const uint8_t *)":", 1) != 1 ||
	    EVP_MAC_update(ctx, body, bodylen) != 1 ||
	    EVP_MAC_final(ctx, md, &mdlen, sizeof(md)) != 1 || mdlen != 32)
		goto out;
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[64] = '\0';
	r = JIT_OK;
 out:
	sodium_memzero(md, sizeof(md));
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return r;
}

void
notify_request_link(const struct config *cfg, int64_t id, char *out,
    size_t outlen)
{
	snprintf(out, outlen, "%s/#request/%lld", cfg->notify != NULL &&
	    cfg->notify->public_url != NULL ? cfg->notify->public_url : "",
	    (long long)id);
}

static json_t *
time_or_null(int64_t t)
{
	return t > 0 ? json_integer(t) : json_null();
}

static json_t *
request_object(const struct store_request *r)
{
	return json_pack("{s:I,s:s,s:s,s:s,s:s,s:I,s:s,s:I,s:o,s:o,s:o,s:i,"
	    "s:i,s:b,s:o}",
	    "id", (json_int_t)r->id, "user", r->user, "role", r->role,
	    "reason", r->reason, "ticket", r->ticket,
	    "duration", (json_int_t)r->duration, "state", r->state,
	    "created_at", (json_int_t)r->created_at,
	    "approved_at", time_or_null(r->approved_at),
	    "grant_start", time_or_null(r->grant_start),
	    "grant_end", time_or_null(r->grant_end),
	    "approvals", r->approvals,
	    "approvals_required", r->approvals_required,
	    "break_glass", r->break_glass,
	    "extends", r->extends > 0 ? json_integer(r->extends) :
	    json_null());
}

/* Slack mrkdwn needs &, < and > escaped in anything users typed. */
static char *
mrkdwn_escape(const char *s)
{
	size_t n = 0;
	const char *p;
	char *out, *q;

	for (p = s; *p != '\0'; p++)
		n += *p == '&' ? 5 : (*p == '<' || *p == '>') ? 4 : 1;
	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	for (p = s, q = out; *p != '\0'; p++) {
		if (*p == '&') {
			memcpy(q, "&amp;", 5);
			q += 5;
		} else if (*p == '<') {
			memcpy(q, "&lt;", 4);
			q += 4;
		} else if (*p == '>') {
			memcpy(q, "&gt;", 4);
			q += 4;
		} else
			*q++ = *p;
	}
	*q = '\0';
	return out;
}

static const char *
event_phrase(const char *event)
{
	if (strcmp(event, "request.created") == 0)
		return "requested";
	if (strcmp(event, "request.approved") == 0)
		return "approved";
	if (strcmp(event, "request.denied") == 0)
		return "denied";
	if (strcmp(event, "request.expired") == 0)
		return "expired";
	if (strcmp(event, "request.revoked") == 0)
		return "revoked";
	if (strcmp(event, "breakglass.used") == 0)
		return "BREAK-GLASS used";
	return event;
}

static json_t *
mrkdwn(const char *text)
{
	return json_pack("{s:s,s:s}", "type", "mrkdwn", "text", text);
}

json_t *
notify_slack_message(const struct config *cfg, const char *event,
    const struct store_request *r, const char *actor, int buttons)
{
	char *user = NULL, *role = NULL, *reason = NULL, *ticket = NULL;
	char *who = NULL, head[512], dur[32], link[NOTIFY_URL_MAX + 64];
	char idv[32], ctx[NOTIFY_URL_MAX + 128];
	json_t *msg = NULL, *blocks = NULL, *fields;

	if ((user = mrkdwn_escape(r->user)) == NULL ||
	    (role = mrkdwn_escape(r->role)) == NULL ||
	    (reason = mrkdwn_escape(r->reason)) == NULL ||
	    (ticket = mrkdwn_escape(r->ticket)) == NULL ||
	    (who = mrkdwn_escape(actor)) == NULL)
		goto out;
	snprintf(head, sizeof(head), "%s*Access request #%lld* for role *%s* "
	    "by %s: %s%s%s", r->break_glass ? ":rotating_light: " : "",
	    (long long)r->id, role, user, event_phrase(event),
	    strcmp(event, "request.created") == 0 ? "" : " by ",
	    strcmp(event, "request.created") == 0 ? "" : who);
	snprintf(dur, sizeof(dur), "%lldm", (long long)(r->duration / 60));
	if (r->duration % 60 != 0)
		snprintf(dur, sizeof(dur), "%llds", (long long)r->duration);
	notify_request_link(cfg, r->id, link, sizeof(link));
	snprintf(ctx, sizeof(ctx), "State: *%s* · approvals %d/%d · <%s|Open "
	    "in jitd>", r->state, r->approvals, r->approvals_required, link);
	snprintf(idv, sizeof(idv), "%lld", (long long)r->id);
	if ((blocks = json_array()) == NULL)
		goto out;
	fields = json_array();
	json_array_append_new(fields, mrkdwn("*User*"));
	json_array_append_new(fields, mrkdwn(user));
	json_array_append_new(fields, mrkdwn("*Role*"));
	json_array_append_new(fields, mrkdwn(role));
	json_array_append_new(fields, mrkdwn("*Duration*"));
	json_array_append_new(fields, mrkdwn(dur));
	json_array_append_new(fields, mrkdwn("*Ticket*"));
	json_array_append_new(fields, mrkdwn(ticket[0] != '\0' ? ticket :
	    "-"));
	json_array_append_new(blocks, json_pack("{s:s,s:o}", "type",
	    "section", "text", mrkdwn(head)));
	json_array_append_new(blocks, json_pack("{s:s,s:o}", "type",
	    "section", "fields", fields));
	if (reason[0] != '\0') {
		char *rt = NULL;

		if (asprintf(&rt, "*Reason*\n%s", reason) != -1) {
			json_array_append_new(blocks, json_pack("{s:s,s:o}",
			    "type", "section", "text", mrkdwn(rt)));
			free(rt);
		}
	}
	if (buttons) {
		char bid[48];

		snprintf(bid, sizeof(bid), "jitd-request-%s", idv);
		json_array_append_new(blocks, json_pack("{s:s,s:s,s:[{s:s,"
		    "s:s,s:s,s:s,s:{s:s,s:s}},{s:s,s:s,s:s,s:s,s:{s:s,s:s}}]}",
		    "type", "actions", "block_id", bid, "elements",
		    "type", "button", "action_id", "approve", "value", idv,
		    "style", "primary", "text", "type", "plain_text", "text",
		    "Approve",
		    "type", "button", "action_id", "deny", "value", idv,
		    "style", "danger", "text", "type", "plain_text", "text",
		    "Deny"));
	}
	json_array_append_new(blocks, json_pack("{s:s,s:[o]}", "type",
	    "context", "elements", mrkdwn(ctx)));
	{
		char text[600];

		snprintf(text, sizeof(text), "Access request #%lld for role %s "
		    "by %s: %s", (long long)r->id, r->role, r->user,
		    event_phrase(event));
		msg = json_pack("{s:s,s:o}", "text", text, "blocks", blocks);
		blocks = NULL;
	}
 out:
	json_decref(blocks);
	free(user);
	free(role);
	free(reason);
	free(ticket);
	free(who);
	return msg;
}

static int
target_wants(const struct notify_target *t, const struct store_request *r)
{
	size_t i;

	if (t->roles == NULL)
		return 1;
	for (i = 0; i < t->nroles; i++)
		if (strcmp(t->roles[i], r->role) == 0)
			return 1;
	return 0;
}

int
notify_tx(struct store_tx *tx, const struct config *cfg, const char *event,
    const struct store_request *r, const char *actor)
{
	const struct notify_config *nc = cfg != NULL ? cfg->notify : NULL;
	const struct notify_target *t;
	uint8_t rnd[16];
	char delivery[33], link[NOTIFY_URL_MAX + 64], *text;
	json_t *body;
	size_t i;
	int rc;

	if (nc == NULL)
		return JIT_OK;
	for (i = 0; i < nc->ntargets; i++) {
		t = &nc->targets[i];
		if (!target_wants(t, r))
			continue;
		if (t->type == NOTIFY_SLACK) {
			body = notify_slack_message(cfg, event, r, actor,
			    strcmp(event, "request.created") == 0 &&
			    strcmp(r->state, "pending") == 0);
		} else {
			randombytes_buf(rnd, sizeof(rnd));
			sodium_bin2hex(delivery, sizeof(delivery), rnd,
			    sizeof(rnd));
			notify_request_link(cfg, r->id, link, sizeof(link));
			body = json_pack("{s:i,s:s,s:s,s:I,s:s,s:o,s:s}",
			    "version", 1, "delivery", delivery, "event", event,
			    "time", (json_int_t)store_tx_now(tx), "actor",
			    actor, "request", request_object(r), "url", link);
		}
		if (body == NULL)
			return JIT_ERR_ALLOC;
		text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(body);
		if (text == NULL)
			return JIT_ERR_ALLOC;
		rc = store_tx_outbox_insert(tx, t->name, event, r->id, text);
		free(text);
		if (rc != JIT_OK)
			return rc;
	}
	return JIT_OK;
}
