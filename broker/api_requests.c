/*
 * Access requests over HTTP: roles, creating and listing requests, the
 * decisions (approve, deny, cancel, revoke), extensions and break-glass
 * reviews.  Every decision runs the workflow (approvals/workflow.h) on
 * facts re-read inside its transaction, so racing decisions are decided
 * one after the other; refused attempts are audited too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/api.h"
#include "broker/notify.h"
#include "common/audit_chain.h"
#include "broker/requests.h"
#include "common/clock.h"
#include "common/duration.h"
#include "common/err.h"

#define LIST_MAX	500
#define COMMENT_MAX	1024

void
req_target(int64_t id, char *out, size_t len)
{
	snprintf(out, len, "request:%lld", (long long)id);
}

int64_t
req_parse_id(const char *s)
{
	char *end;
	long long v;

	if (s == NULL || *s < '1' || *s > '9' || strlen(s) > 18)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0)
		return 0;
	return (int64_t)v;
}

void
req_facts(const struct store_request *r, struct wf_request *f)
{
	int st = wf_state_parse(r->state);

	memset(f, 0, sizeof(*f));
	f->state = st < 0 ? WF_NSTATES : (enum wf_state)st;
	f->requester = r->user;
	f->approvals_required = r->approvals_required;
	f->self_approval = 0;
	f->approvals = r->approvals;
	f->pending_until = r->pending_until;
	f->starts_at = r->starts_at;
	f->duration = r->duration;
	f->grant_start = r->grant_start;
	f->grant_end = r->grant_end;
}

static int
is_auditor(const struct config *cfg, const char *user, const char *groups)
{
	return config_principal_match(cfg->auditors, cfg->nauditors, user,
	    groups);
}

int
req_visible(const struct config *cfg, const struct store_request *r,
    const char *user, const char *groups)
{
	const struct policy_role *role = policy_find(cfg->policy, r->role);

	return strcmp(r->user, user) == 0 || is_auditor(cfg, user, groups) ||
	    (role != NULL && policy_is_approver(role, user, groups));
}

static json_t *
time_or_null(int64_t t)
{
	return t > 0 ? json_integer(t) : json_null();
}

static int
add_vote(void *arg, const char *approver, const char *decision,
    const char *comment, int64_t at)
{
	return json_array_append_new(arg, json_pack("{s:s,s:s,s:s,s:I}",
	    "approver", approver, "decision", decision, "comment", comment,
	    "at", (json_int_t)at)) == 0 ? JIT_OK : JIT_ERR_ALLOC;
}

static int
add_history(void *arg, const struct audit_event *ev)
{
	return json_array_append_new(arg, json_pack("{s:I,s:I,s:s,s:s,s:s,"
	    "s:O}", "seq", (json_int_t)ev->seq, "at", (json_int_t)ev->ts,
	    "actor", ev->actor, "action", ev->action, "outcome", ev->outcome,
	    "details", ev->details)) == 0 ? JIT_OK : JIT_ERR_ALLOC;
}

static int
add_cert(void *arg, const struct store_cert *c)
{
	return json_array_append_new(arg, json_pack("{s:s,s:s,s:s,s:s,s:I,"
	    "s:I,s:I}", "kind", c->kind, "serial", c->serial, "fingerprint",
	    c->fingerprint, "subject", c->subject, "valid_after",
	    (json_int_t)c->valid_after, "valid_before",
	    (json_int_t)c->valid_before, "issued_at",
	    (json_int_t)c->issued_at)) == 0 ? JIT_OK : JIT_ERR_ALLOC;
}

json_t *
req_json(struct server *srv, const struct store_request *r, int64_t now,
    int with_details)
{
	struct wf_request f;
	json_t *o, *a;
	char target[48];

	req_facts(r, &f);
	o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:I,s:s,s:I,s:o,s:I,s:o,s:o,"
	    "s:o,s:o,s:i,s:i,s:b,s:o,s:s}",
	    "id", (json_int_t)r->id, "user", r->user, "role", r->role,
	    "reason", r->reason, "ticket", r->ticket,
	    "duration", (json_int_t)r->duration,
	    "state", f.state < WF_NSTATES ?
	    wf_state_name(wf_effective_state(&f, now)) : r->state,
	    "created_at", (json_int_t)r->created_at,
	    "starts_at", time_or_null(r->starts_at),
	    "pending_expires_at", (json_int_t)r->pending_until,
	    "approved_at", time_or_null(r->approved_at),
	    "grant_start", time_or_null(r->grant_start),
	    "grant_end", time_or_null(r->grant_end),
	    "decided_at", time_or_null(r->decided_at),
	    "approvals_required", r->approvals_required,
	    "approvals", r->approvals,
	    "break_glass", r->break_glass,
	    "extends", r->extends > 0 ? json_integer(r->extends) : json_null(),
	    "review", r->review_state);
	if (o == NULL || !with_details)
		return o;
	if (r->review_state[0] == 'c')
		json_object_set_new(o, "review_by", json_pack("{s:s,s:s,s:I}",
		    "user", r->reviewed_by, "comment", r->review_comment, "at",
		    (json_int_t)r->reviewed_at));
	if ((a = json_array()) != NULL &&
	    store_votes_list(srv->store, r->id, add_vote, a) == JIT_OK)
		json_object_set_new(o, "votes", a);
	else
		json_decref(a);
	if ((a = json_array()) != NULL) {
		struct store_audit_filter fl;

		memset(&fl, 0, sizeof(fl));
		req_target(r->id, target, sizeof(target));
		fl.target = target;
		fl.limit = 1000;
		if (store_audit_query(srv->store, &fl, add_history, a) ==
		    JIT_OK)
			json_object_set_new(o, "history", a);
		else
			json_decref(a);
	}
	if ((a = json_array()) != NULL &&
	    store_certs_list(srv->store, r->id, add_cert, a) == JIT_OK)
		json_object_set_new(o, "certificates", a);
	else
		json_decref(a);
	return o;
}

void
api_roles(struct http_req *rq)
{
	const struct policy *p = rq->cfg->policy;
	const struct policy_role *r;
	const char *u, *g;
	json_t *roles, *ssh, *x509, *arr;
	size_t i, k;

	if (http_require_auth(rq) != 0)
		return;
	u = rq->auth.user.name;
	g = rq->auth.user.groups;
	if ((roles = json_array()) == NULL) {
		http_error_code(rq, JIT_ERR_ALLOC);
		return;
	}
	for (i = 0; i < policy_count(p); i++) {
		r = policy_role_at(p, i);
		ssh = json_null();
		if (r->has_ssh) {
			arr = json_array();
			for (k = 0; k < r->nssh_principals; k++)
				json_array_append_new(arr,
				    json_string(r->ssh_principals[k]));
			ssh = json_pack("{s:o}", "principals", arr);
			arr = json_array();
			for (k = 0; k < r->nssh_extensions; k++)
				json_array_append_new(arr,
				    json_string(r->ssh_extensions[k]));
			json_object_set_new(ssh, "extensions", arr);
			json_object_set_new(ssh, "source_address",
			    r->ssh_source_address != NULL ?
			    json_string(r->ssh_source_address) : json_null());
			json_object_set_new(ssh, "force_command",
			    r->ssh_force_command != NULL ?
			    json_string(r->ssh_force_command) : json_null());
		}
		x509 = r->has_x509 ? json_pack("{s:o,s:b}",
		    "organizational_unit", r->x509_ou != NULL ?
		    json_string(r->x509_ou) : json_null(), "uri_san",
		    r->x509_uri_san) : json_null();
		json_array_append_new(roles, json_pack("{s:s,s:s,s:I,s:i,s:b,"
		    "s:b,s:o,s:b,s:I,s:b,s:b,s:o,s:o}",
		    "name", r->name, "description", r->description,
		    "max_duration", (json_int_t)r->max_duration,
		    "approvals_required", r->approvals_required,
		    "self_approval", r->self_approval,
		    "require_reason", r->require_reason,
		    "ticket_pattern", r->ticket_pattern != NULL ?
		    json_string(r->ticket_pattern) : json_null(),
		    "break_glass", r->break_glass,
		    "pending_ttl", (json_int_t)r->pending_ttl,
		    "can_request", policy_can_request(r, u, g),
		    "can_approve", policy_is_approver(r, u, g),
		    "ssh", ssh, "x509", x509));
	}
	http_json(rq, 200, json_pack("{s:o}", "roles", roles));
}

/* A duration field: "30m" or integer seconds. */
static int
body_duration(struct http_req *rq, const char *key, int64_t max,
    int64_t *out)
{
	json_t *v = json_object_get(rq->body, key);

	*out = 0;
	if (json_is_integer(v) && json_integer_value(v) > 0 &&
	    json_integer_value(v) <= max) {
		*out = json_integer_value(v);
		return 0;
	}
	if (json_is_string(v) && duration_parse(json_string_value(v), max,
	    out) == JIT_OK)
		return 0;
	http_error(rq, 400, "invalid_request", "\"%s\" must be a duration "
	    "like \"30m\" or a number of seconds%s", key, v == NULL ?
	    " (it is required)" : "");
	return -1;
}

struct create_job {
	const struct config		*cfg;
	const struct policy_role	*role;
	const char			*user;
	const char			*ip;
	struct store_request		 r;
	int				 refused;
	const char			*why;
};

static int
audit_request(struct store_tx *tx, const char *actor, const char *action,
    int64_t id, const char *outcome, json_t *d)
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

static int
create_tx(struct store_tx *tx, void *arg)
{
	struct create_job *j = arg;
	struct store_request *r = &j->r;
	struct wf_request f;
	struct wf_result res;
	int64_t now = store_tx_now(tx);
	int rc, auto_ok;

	r->created_at = now;
	r->pending_until = now + j->role->pending_ttl;
	req_facts(r, &f);
	f.approvals_required = j->role->approvals_required;
	wf_create(&f, j->role->break_glass, now, &res);
	snprintf(r->state, sizeof(r->state), "%s",
	    wf_state_name(res.new_state));
	auto_ok = res.new_state == WF_APPROVED;
	if (auto_ok) {
		r->approved_at = now;
		r->decided_at = now;
		r->grant_start = res.grant_start;
		r->grant_end = res.grant_end;
	}
	if (j->role->break_glass)
		snprintf(r->review_state, sizeof(r->review_state), "open");
	if ((rc = store_tx_request_insert(tx, r)) != JIT_OK)
		return rc;
	if ((rc = audit_request(tx, j->user, "request.create", r->id, "ok",
	    json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:b,s:b,s:s}", "role",
	    r->role, "reason", r->reason, "ticket", r->ticket, "duration",
	    (json_int_t)r->duration, "starts_at", (json_int_t)r->starts_at,
	    "state", r->state, "auto_approved", auto_ok && !r->break_glass,
	    "break_glass", r->break_glass, "ip", j->ip))) != JIT_OK)
		return rc;
	if (r->break_glass && (rc = audit_request(tx, j->user,
	    "breakglass.use", r->id, "break_glass", json_pack("{s:s,s:s,s:I}",
	    "role", r->role, "reason", r->reason, "grant_end",
	    (json_int_t)r->grant_end))) != JIT_OK)
		return rc;
	if ((rc = notify_tx(tx, j->cfg, "request.created", r, j->user)) !=
	    JIT_OK || (r->break_glass && (rc = notify_tx(tx, j->cfg,
	    "breakglass.used", r, j->user)) != JIT_OK))
		return rc;
	if (r->extends > 0) {
		/* An auto-approved extension moves the grant at once. */
		struct store_request parent;
		struct wf_request pf;
		struct wf_actor a;
		struct wf_result pres;
		int64_t end;

		if ((rc = store_tx_request_get(tx, r->extends, &parent)) !=
		    JIT_OK)
			return rc;
		req_facts(&parent, &pf);
		memset(&a, 0, sizeof(a));
		a.user = j->user;
		if (wf_apply(&pf, WF_EV_EXTEND, &a, now, &pres) != JIT_OK) {
			j->refused = pres.err;
			j->why = pres.why;
			return pres.err;
		}
		if (auto_ok) {
			end = parent.grant_end + r->duration;
			if (end > now + j->role->max_duration)
				end = now + j->role->max_duration;
			if (end > parent.grant_end)
				parent.grant_end = end;
			if ((rc = store_tx_request_update(tx, &parent)) !=
			    JIT_OK)
				return rc;
		}
	}
	return JIT_OK;
}

/* Answers with the stored request (status 200 or 201). */
static void
answer_request(struct http_req *rq, int status, int64_t id)
{
	struct store_request *r;
	int rc;

	if ((r = malloc(sizeof(*r))) == NULL) {
		http_error_code(rq, JIT_ERR_ALLOC);
		return;
	}
	if ((rc = store_request_get(rq->srv->store, id, r)) != JIT_OK)
		http_error_code(rq, rc);
	else
		http_json(rq, status, req_json(rq->srv, r, jit_now(), 1));
	free(r);
}

void
api_request_create(struct http_req *rq)
{
	static const char *const fields[] = { "role", "reason", "duration",
	    "ticket", "starts_at", NULL };
	const struct policy_role *role;
	struct create_job *j;
	const char *rname, *reason, *ticket;
	json_t *sv;
	int64_t starts_at = 0;
	char why[256];
	int rc;

	if (http_require_fresh_mfa(rq) != 0 ||
	    http_body_check(rq, fields) != 0 ||
	    http_body_string(rq, "role", 1, POLICY_NAME_MAX, &rname) != 0 ||
	    http_body_string(rq, "reason", 0, POLICY_REASON_MAX, &reason) !=
	    0 ||
	    http_body_string(rq, "ticket", 0, POLICY_TICKET_MAX, &ticket) != 0)
		return;
	if ((role = policy_find(rq->cfg->policy, rname)) == NULL) {
		http_error(rq, 400, "invalid_request", "unknown role \"%s\"",
		    rname);
		return;
	}
	if (!policy_can_request(role, rq->auth.user.name,
	    rq->auth.user.groups)) {
		http_error(rq, 403, "forbidden", "you may not request role "
		    "\"%s\"", rname);
		return;
	}
	sv = json_object_get(rq->body, "starts_at");
	if (sv != NULL && !json_is_null(sv)) {
		if (!json_is_integer(sv) || json_integer_value(sv) <= 0) {
			http_error(rq, 400, "invalid_request", "\"starts_at\" "
			    "must be epoch seconds");
			return;
		}
		starts_at = json_integer_value(sv);
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		http_error_code(rq, JIT_ERR_ALLOC);
		return;
	}
	if (body_duration(rq, "duration", POLICY_DURATION_MAX,
	    &j->r.duration) != 0)
		goto out;
	if (policy_check_request(role, reason, ticket, j->r.duration,
	    starts_at, jit_now(), why, sizeof(why)) != JIT_OK) {
		http_error(rq, 400, "invalid_request", "%s", why);
		goto out;
	}
	j->cfg = rq->cfg;
	j->role = role;
	j->user = rq->auth.user.name;
	j->ip = rq->client_ip;
	snprintf(j->r.user, sizeof(j->r.user), "%s", rq->auth.user.name);
	snprintf(j->r.role, sizeof(j->r.role), "%s", role->name);
	snprintf(j->r.reason, sizeof(j->r.reason), "%s", reason != NULL ?
	    reason : "");
	snprintf(j->r.ticket, sizeof(j->r.ticket), "%s", ticket != NULL ?
	    ticket : "");
	j->r.starts_at = starts_at;
	j->r.approvals_required = role->approvals_required;
	j->r.break_glass = role->break_glass;
	if ((rc = store_write(rq->srv->store, create_tx, j)) != JIT_OK) {
		http_error_code(rq, rc);
		goto out;
	}
	answer_request(rq, 201, j->r.id);
 out:
	free(j);
}

struct list_ctx {
	struct http_req	*rq;
	json_t		*out;
	int		 mine, approvable;
	int		 want_state;	/* -1: any */
	int64_t		 now;
};

static int
list_one(void *arg, const struct store_request *r)
{
	struct list_ctx *lc = arg;
	struct http_req *rq = lc->rq;
	const struct policy_role *role;
	const char *u = rq->auth.user.name, *g = rq->auth.user.groups;
	struct wf_request f;
	enum wf_state eff;

	if (json_array_size(lc->out) >= LIST_MAX)
		return JIT_OK;
	req_facts(r, &f);
	eff = f.state < WF_NSTATES ? wf_effective_state(&f, lc->now) :
	    f.state;
	if (lc->want_state >= 0 && (int)eff != lc->want_state)
		return JIT_OK;
	if (lc->mine && strcmp(r->user, u) != 0)
		return JIT_OK;
	if (lc->approvable) {
		role = policy_find(rq->cfg->policy, r->role);
		if (eff != WF_PENDING || role == NULL ||
		    !policy_is_approver(role, u, g) ||
		    (strcmp(r->user, u) == 0 && !role->self_approval) ||
		    store_vote_exists(rq->srv->store, r->id, u) != 0)
			return JIT_OK;
	} else if (!req_visible(rq->cfg, r, u, g))
		return JIT_OK;
	return json_array_append_new(lc->out, req_json(rq->srv, r, lc->now,
	    0)) == 0 ? JIT_OK : JIT_ERR_ALLOC;
}

static int
query_flag(struct http_req *rq, const char *key)
{
	const char *v = http_query(rq, key);

	return v != NULL && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0);
}

void
api_request_list(struct http_req *rq)
{
	struct store_request_filter f;
	struct list_ctx lc;
	const char *st;
	int rc;

	if (http_require_auth(rq) != 0)
		return;
	memset(&lc, 0, sizeof(lc));
	lc.rq = rq;
	lc.now = jit_now();
	lc.want_state = -1;
	if ((st = http_query(rq, "state")) != NULL && *st != '\0' &&
	    (lc.want_state = wf_state_parse(st)) < 0) {
		http_error(rq, 400, "invalid_request", "unknown state \"%.32s\"",
		    st);
		return;
	}
	lc.mine = query_flag(rq, "mine");
	lc.approvable = query_flag(rq, "approvable");
	if ((lc.out = json_array()) == NULL) {
		http_error_code(rq, JIT_ERR_ALLOC);
		return;
	}
	memset(&f, 0, sizeof(f));
	f.user = lc.mine ? rq->auth.user.name : NULL;
	/* Pending rows are the approvable ones; expiry is applied above. */
	f.state = lc.approvable ? "pending" : NULL;
	f.limit = 1000;
	if ((rc = store_request_list(rq->srv->store, &f, list_one, &lc)) !=
	    JIT_OK) {
		json_decref(lc.out);
		http_error_code(rq, rc);
		return;
	}
	http_json(rq, 200, json_pack("{s:o}", "requests", lc.out));
}

void
api_request_get(struct http_req *rq)
{
	struct store_request *r;
	int64_t id;
	int rc;

	if (http_require_auth(rq) != 0)
		return;
	if ((id = req_parse_id(rq->params[0])) == 0) {
		http_error(rq, 404, "not_found", "no such request");
		return;
	}
	if ((r = malloc(sizeof(*r))) == NULL) {
		http_error_code(rq, JIT_ERR_ALLOC);
		return;
	}
	rc = store_request_get(rq->srv->store, id, r);
	if (rc == JIT_OK && !req_visible(rq->cfg, r, rq->auth.user.name,
	    rq->auth.user.groups))
		rc = JIT_ERR_NOT_FOUND;
	if (rc != JIT_OK) {
		if (rc == JIT_ERR_NOT_FOUND)
			http_error(rq, 404, "not_found", "no such request");
		else
			http_error_code(rq, rc);
	} else
		http_json(rq, 200, req_json(rq->srv, r, jit_now(), 1));
	free(r);
}

void
api_request_extend(struct http_req *rq)
{
	static const char *const fields[] = { "duration", "reason", NULL };
	const struct policy_role *role;
	struct store_request *parent = NULL;
	struct create_job *j = NULL;
	struct wf_request f;
	struct wf_actor a;
	struct wf_result res;
	const char *reason;
	char why[256];
	int64_t id;
	int rc;

	if (http_require_fresh_mfa(rq) != 0 ||
	    http_body_check(rq, fields) != 0 ||
	    http_body_string(rq, "reason", 0, POLICY_REASON_MAX, &reason) != 0)
		return;
	if ((id = req_parse_id(rq->params[0])) == 0 ||
	    (parent = malloc(sizeof(*parent))) == NULL ||
	    (j = calloc(1, sizeof(*j))) == NULL ||
	    (rc = store_request_get(rq->srv->store, id, parent)) != JIT_OK ||
	    !req_visible(rq->cfg, parent, rq->auth.user.name,
	    rq->auth.user.groups)) {
		http_error(rq, 404, "not_found", "no such request");
		goto out;
	}
	if ((role = policy_find(rq->cfg->policy, parent->role)) == NULL) {
		http_error(rq, 409, "conflict", "the role no longer exists");
		goto out;
	}
	req_facts(parent, &f);
	memset(&a, 0, sizeof(a));
	a.user = rq->auth.user.name;
	if (wf_apply(&f, WF_EV_EXTEND, &a, jit_now(), &res) != JIT_OK) {
		http_error(rq, res.err == JIT_ERR_PERMISSION ? 403 : 409,
		    res.err == JIT_ERR_PERMISSION ? "forbidden" : "conflict",
		    "%s", res.why);
		goto out;
	}
	if (body_duration(rq, "duration", POLICY_DURATION_MAX,
	    &j->r.duration) != 0)
		goto out;
	if (policy_check_request(role, reason, parent->ticket[0] != '\0' ?
	    parent->ticket : NULL, j->r.duration, 0, jit_now(), why,
	    sizeof(why)) != JIT_OK) {
		http_error(rq, 400, "invalid_request", "%s", why);
		goto out;
	}
	j->cfg = rq->cfg;
	j->role = role;
	j->user = rq->auth.user.name;
	j->ip = rq->client_ip;
	snprintf(j->r.user, sizeof(j->r.user), "%s", parent->user);
	snprintf(j->r.role, sizeof(j->r.role), "%s", parent->role);
	snprintf(j->r.reason, sizeof(j->r.reason), "%s", reason != NULL ?
	    reason : "");
	snprintf(j->r.ticket, sizeof(j->r.ticket), "%s", parent->ticket);
	j->r.extends = parent->id;
	j->r.approvals_required = role->approvals_required;
	/* An extension is never a new break-glass use. */
	j->r.break_glass = 0;
	{
		/* Extensions need the approvals, even of break-glass roles. */
		struct policy_role tmp = *role;

		if (tmp.break_glass && tmp.approvals_required == 0)
			tmp.approvals_required = 1;
		tmp.break_glass = 0;
		j->role = &tmp;
		j->r.approvals_required = tmp.approvals_required;
		rc = store_write(rq->srv->store, create_tx, j);
		j->role = role;
	}
	if (j->refused != 0) {
		http_error(rq, 409, "conflict", "%s", j->why);
		goto out;
	}
	if (rc != JIT_OK) {
		http_error_code(rq, rc);
		goto out;
	}
	answer_request(rq, 201, j->r.id);
 out:
	free(parent);
	free(j);
}
