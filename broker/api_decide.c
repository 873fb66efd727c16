/*
 * Decisions on requests: approve, deny, cancel, revoke, extend, and the
 * post-incident review of break-glass grants, plus the expiry sweeper.
 * Each decision is one transaction: the request is re-read, the workflow
 * decides on those facts, and the outcome (or the refusal) is recorded
 * with its audit event.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/api.h"
#include "broker/notify.h"
#include "broker/requests.h"
#include "common/clock.h"
#include "common/err.h"

#define COMMENT_MAX	1024

static const char *const event_action[WF_NEVENTS] = {
	"request.approve", "request.deny", "request.cancel", "request.revoke",
	"request.expire", "cert.issue", "request.extend"
};

static int
audit(struct store_tx *tx, const char *actor, const char *action, int64_t id,
    const char *outcome, json_t *d)
{
	char target[48];
	int r;

	if (d == NULL)
		return JIT_ERR_ALLOC;
	req_target(id, target, sizeof(target));
	r = store_tx_audit(tx, actor, action, target, outcome, d);
	json_decref(d);
	return r;
}

/* Moves the grant that an approved extension extends. */
static int
apply_extension(struct store_tx *tx, const struct store_request *ext,
    const struct policy_role *role, int64_t now, const char **why)
{
	struct store_request parent;
	struct wf_request f;
	int64_t end;
	int rc;

	if ((rc = store_tx_request_get(tx, ext->extends, &parent)) != JIT_OK)
		return rc;
	req_facts(&parent, &f);
	if (wf_effective_state(&f, now) != WF_APPROVED) {
		*why = "the grant this extends is no longer live";
		return JIT_ERR_CONFLICT;
	}
	end = parent.grant_end + ext->duration;
	if (end > now + role->max_duration)
		end = now + role->max_duration;
	if (end > parent.grant_end) {
		parent.grant_end = end;
		if ((rc = store_tx_request_update(tx, &parent)) != JIT_OK)
			return rc;
	}
	return audit(tx, "jitd", "grant.extend", parent.id, "ok",
	    json_pack("{s:I,s:I}", "extension", (json_int_t)ext->id,
	    "grant_end", (json_int_t)parent.grant_end));
}

/* Where a decision came from, for the audit event (chat callbacks). */
static json_t *
with_via(json_t *d, const char *via)
{
	if (d != NULL && via != NULL)
		json_object_set_new(d, "via", json_string(via));
	return d;
}

/* The notification event of a transition, or NULL. */
static const char *
notify_event(enum wf_state st)
{
	switch (st) {
	case WF_APPROVED:
		return "request.approved";
	case WF_DENIED:
		return "request.denied";
	case WF_REVOKED:
		return "request.revoked";
	default:
		return NULL;
	}
}

int
req_decide_tx(struct store_tx *tx, void *arg)
{
	struct decide_job *j = arg;
	const char *nev;
	const struct policy_role *role;
	struct store_request r;
	struct wf_request f;
	struct wf_actor a;
	struct wf_result res;
	int64_t now = store_tx_now(tx);
	int rc, voted;

	j->refused = 0;
	j->why = NULL;
	/*
	 * A decision by someone who may not even see the request is still
	 * decided (refused) and audited: attempts matter to auditors.
	 */
	if ((rc = store_tx_request_get(tx, j->id, &r)) == JIT_ERR_NOT_FOUND) {
		j->not_found = 1;
		return JIT_ERR_NOT_FOUND;
	}
	if (rc != JIT_OK)
		return rc;
	role = policy_find(j->cfg->policy, r.role);
	req_facts(&r, &f);
	f.self_approval = role != NULL && role->self_approval;
	memset(&a, 0, sizeof(a));
	a.user = j->user;
	a.is_approver = role != NULL && policy_is_approver(role, j->user,
	    j->groups);
	if ((voted = store_tx_vote_exists(tx, r.id, j->user)) < 0)
		return JIT_ERR_STORE;
	a.has_voted = voted;
	if (wf_apply(&f, j->ev, &a, now, &res) == JIT_OK &&
	    (j->ev == WF_EV_APPROVE || j->ev == WF_EV_DENY ||
	    j->ev == WF_EV_REVOKE) && role == NULL) {
		res.err = JIT_ERR_PERMISSION;
		res.why = "the role no longer exists";
	}
	if (res.err == JIT_OK && res.transition && res.new_state ==
	    WF_APPROVED && r.extends > 0) {
		rc = apply_extension(tx, &r, role, now, &res.why);
		if (rc == JIT_ERR_CONFLICT)
			res.err = rc;
		else if (rc != JIT_OK)
			return rc;
	}
	if (res.err != JIT_OK) {
		/* Refused: only the attempt is recorded. */
		j->refused = res.err;
		j->why = res.why;
		return audit(tx, j->user, event_action[j->ev], r.id, "refused",
		    with_via(json_pack("{s:s,s:s,s:s}", "why", res.why, "state",
		    r.state, "ip", j->ip), j->via));
	}
	if (res.counts_vote) {
		if ((rc = store_tx_vote_insert(tx, r.id, j->user,
		    j->ev == WF_EV_APPROVE ? "approve" : "deny", j->comment)) !=
		    JIT_OK)
			return rc;
		if (j->ev == WF_EV_APPROVE)
			r.approvals++;
	}
	if (res.transition) {
		snprintf(r.state, sizeof(r.state), "%s",
		    wf_state_name(res.new_state));
		r.decided_at = now;
		if (res.new_state == WF_APPROVED) {
			r.approved_at = now;
			r.grant_start = res.grant_start;
			r.grant_end = res.grant_end;
		}
		if (res.new_state == WF_REVOKED || (res.new_state ==
		    WF_CANCELLED && r.grant_end > now && r.grant_start != 0))
			r.grant_end = r.grant_end > now ? now : r.grant_end;
	}
	if ((rc = store_tx_request_update(tx, &r)) != JIT_OK)
		return rc;
	if (res.transition && (nev = notify_event(res.new_state)) != NULL &&
	    (rc = notify_tx(tx, j->cfg, nev, &r, j->user)) != JIT_OK)
		return rc;
	j->state_after = wf_state_parse(r.state);
	return audit(tx, j->user, event_action[j->ev], r.id, "ok",
	    with_via(json_pack("{s:s,s:s,s:i,s:i,s:b,s:s}", "comment",
	    j->comment != NULL ? j->comment : "", "state", r.state,
	    "approvals", r.approvals, "approvals_required",
	    r.approvals_required, "transition", res.transition, "ip", j->ip),
	    j->via));
}

static void
decide(struct http_req *rq, enum wf_event ev, int need_mfa)
{
	static const char *const fields[] = { "comment", NULL };
	struct decide_job j;
	const char *comment = NULL;
	int rc;

	if ((need_mfa ? http_require_fresh_mfa(rq) : http_require_auth(rq)) !=
	    0)
		return;
	if (rq->body != NULL && (http_body_check(rq, fields) != 0 ||
	    http_body_string(rq, "comment", 0, COMMENT_MAX, &comment) != 0))
		return;
	memset(&j, 0, sizeof(j));
	j.cfg = rq->cfg;
	j.ev = ev;
	j.user = rq->auth.user.name;
	j.groups = rq->auth.user.groups;
	j.comment = comment;
	j.ip = rq->client_ip;
	if ((j.id = req_parse_id(rq->params[0])) == 0) {
		http_error(rq, 404, "not_found", "no such request");
		return;
	}
	rc = store_write(rq->srv->store, req_decide_tx, &j);
	if (j.not_found) {
		http_error(rq, 404, "not_found", "no such request");
		return;
	}
	if (rc != JIT_OK) {
		http_error_code(rq, rc);
		return;
	}
	if (j.refused != 0) {
		switch (j.refused) {
		case JIT_ERR_PERMISSION:
			http_error(rq, 403, "forbidden", "%s", j.why);
			break;
		case JIT_ERR_EXPIRED:
			http_error(rq, 410, "expired", "%s", j.why);
			break;
		default:
			http_error(rq, 409, "conflict", "%s", j.why);
			break;
		}
		return;
	}
	{
		struct store_request *r = malloc(sizeof(*r));

		if (r == NULL || store_request_get(rq->srv->store, j.id, r) !=
		    JIT_OK)
			http_error_code(rq, r == NULL ? JIT_ERR_ALLOC :
			    JIT_ERR_STORE);
		else
			http_json(rq, 200, req_json(rq->srv, r, jit_now(), 1));
		free(r);
	}
}

void
api_request_approve(struct http_req *rq)
{
	decide(rq, WF_EV_APPROVE, 1);
}

void
api_request_deny(struct http_req *rq)
{
	decide(rq, WF_EV_DENY, 1);
}

void
api_request_cancel(struct http_req *rq)
{
	decide(rq, WF_EV_CANCEL, 0);
}

void
api_request_revoke(struct http_req *rq)
{
	decide(rq, WF_EV_REVOKE, 1);
}

struct review_job {
	const struct config	*cfg;
	int64_t			 id;
	const char		*user;
	const char		*groups;
	const char		*comment;
	int			 refused;
	const char		*why;
};

static int
review_tx(struct store_tx *tx, void *arg)
{
	struct review_job *j = arg;
	const struct policy_role *role;
	struct store_request r;
	int rc;

	if ((rc = store_tx_request_get(tx, j->id, &r)) != JIT_OK)
		return rc;
	role = policy_find(j->cfg->policy, r.role);
	if (!req_visible(j->cfg, &r, j->user, j->groups))
		return JIT_ERR_NOT_FOUND;
	if (strcmp(r.review_state, "open") != 0)
		j->why = "no open review for this request";
	else if (role == NULL || !policy_is_approver(role, j->user,
	    j->groups))
		j->why = "only an approver of the role can close the review";
	else if (strcmp(r.user, j->user) == 0)
		j->why = "the user of a break-glass grant cannot review it";
	if (j->why != NULL) {
		j->refused = strcmp(j->why, "no open review for this "
		    "request") == 0 ? JIT_ERR_CONFLICT : JIT_ERR_PERMISSION;
		return audit(tx, j->user, "request.review", r.id, "refused",
		    json_pack("{s:s}", "why", j->why));
	}
	snprintf(r.review_state, sizeof(r.review_state), "closed");
	snprintf(r.reviewed_by, sizeof(r.reviewed_by), "%s", j->user);
	snprintf(r.review_comment, sizeof(r.review_comment), "%s", j->comment);
	r.reviewed_at = store_tx_now(tx);
	if ((rc = store_tx_request_update(tx, &r)) != JIT_OK)
		return rc;
	return audit(tx, j->user, "request.review", r.id, "ok",
	    json_pack("{s:s}", "comment", j->comment));
}

void
api_request_review(struct http_req *rq)
{
	static const char *const fields[] = { "comment", NULL };
	struct review_job j;
	const char *comment;
	int rc;

	if (http_require_fresh_mfa(rq) != 0 ||
	    http_body_check(rq, fields) != 0 ||
	    http_body_string(rq, "comment", 1, COMMENT_MAX, &comment) != 0)
		return;
	if (*comment == '\0') {
		http_error(rq, 400, "invalid_request", "a review needs a "
		    "comment");
		return;
	}
	memset(&j, 0, sizeof(j));
	j.cfg = rq->cfg;
	j.user = rq->auth.user.name;
	j.groups = rq->auth.user.groups;
	j.comment = comment;
	if ((j.id = req_parse_id(rq->params[0])) == 0) {
		http_error(rq, 404, "not_found", "no such request");
		return;
	}
	if ((rc = store_write(rq->srv->store, review_tx, &j)) != JIT_OK) {
		if (rc == JIT_ERR_NOT_FOUND)
			http_error(rq, 404, "not_found", "no such request");
		else
			http_error_code(rq, rc);
		return;
	}
	if (j.refused != 0) {
		http_error(rq, j.refused == JIT_ERR_CONFLICT ? 409 : 403,
		    j.refused == JIT_ERR_CONFLICT ? "conflict" : "forbidden",
		    "%s", j.why);
		return;
	}
	{
		struct store_request *r = malloc(sizeof(*r));

		if (r == NULL || store_request_get(rq->srv->store, j.id, r) !=
		    JIT_OK)
			http_error_code(rq, JIT_ERR_STORE);
		else
			http_json(rq, 200, req_json(rq->srv, r, jit_now(), 1));
		free(r);
	}
}

struct reviews_ctx {
	struct http_req	*rq;
	json_t		*out;
};

static int
review_one(void *arg, const struct store_request *r)
{
	struct reviews_ctx *rc = arg;
	const struct policy_role *role;
	const char *u = rc->rq->auth.user.name, *g = rc->rq->auth.user.groups;

	role = policy_find(rc->rq->cfg->policy, r->role);
	if (!config_principal_match(rc->rq->cfg->auditors,
	    rc->rq->cfg->nauditors, u, g) && (role == NULL ||
	    !policy_is_approver(role, u, g)))
		return JIT_OK;
	return json_array_append_new(rc->out, req_json(rc->rq->srv, r,
	    jit_now(), 0)) == 0 ? JIT_OK : JIT_ERR_ALLOC;
}

void
api_reviews(struct http_req *rq)
{
	struct store_request_filter f;
	struct reviews_ctx rc;
	int r;

	if (http_require_auth(rq) != 0)
		return;
	rc.rq = rq;
	if ((rc.out = json_array()) == NULL) {
		http_error_code(rq, JIT_ERR_ALLOC);
		return;
	}
	memset(&f, 0, sizeof(f));
	f.review_state = "open";
	f.limit = 1000;
	if ((r = store_request_list(rq->srv->store, &f, review_one, &rc)) !=
	    JIT_OK) {
		json_decref(rc.out);
		http_error_code(rq, r);
		return;
	}
	http_json(rq, 200, json_pack("{s:o}", "reviews", rc.out));
}

#define SWEEP_BATCH 200

int
req_sweep_tx(struct store_tx *tx, void *arg)
{
	struct store_request r;
	struct wf_request f;
	struct wf_result res;
	struct wf_actor a;
	int64_t ids[SWEEP_BATCH], now = store_tx_now(tx);
	size_t n = 0, i;
	int rc;

	if ((rc = store_tx_requests_due(tx, now, SWEEP_BATCH, ids, &n)) !=
	    JIT_OK)
		return rc;
	memset(&a, 0, sizeof(a));
	a.user = "jitd";
	for (i = 0; i < n; i++) {
		if ((rc = store_tx_request_get(tx, ids[i], &r)) != JIT_OK)
			return rc;
		req_facts(&r, &f);
		if (wf_apply(&f, WF_EV_EXPIRE, &a, now, &res) != JIT_OK ||
		    !res.transition)
			continue;
		snprintf(r.state, sizeof(r.state), "%s",
		    wf_state_name(res.new_state));
		if (r.decided_at == 0 || f.state == WF_PENDING)
			r.decided_at = now;
		if ((rc = store_tx_request_update(tx, &r)) != JIT_OK ||
		    (rc = audit(tx, "jitd", "request.expire", r.id, "ok",
		    json_pack("{s:s}", "was", f.state == WF_PENDING ?
		    "pending" : "approved"))) != JIT_OK ||
		    (rc = notify_tx(tx, arg, "request.expired", &r, "jitd")) !=
		    JIT_OK)
			return rc;
	}
	return JIT_OK;
}
