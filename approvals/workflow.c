/*
 * The request state machine (see workflow.h).  Every decision is taken on
 * the effective state at the time of the event, so the answer does not
 * depend on whether the expiry sweeper has already recorded an expiry:
 * a request stored as expired is told apart by its grant window, which
 * is set only once a request has been approved.
 */
#include <string.h>

#include "approvals/workflow.h"
#include "common/err.h"

static const char *const state_names[WF_NSTATES] = {
	"pending", "approved", "denied", "cancelled", "revoked", "expired"
};

const char *
wf_state_name(enum wf_state s)
{
	return (unsigned)s < WF_NSTATES ? state_names[s] : NULL;
}

int
wf_state_parse(const char *name)
{
	int i;

	for (i = 0; name != NULL && i < WF_NSTATES; i++)
		if (strcmp(state_names[i], name) == 0)
			return i;
	return -1;
}

enum wf_state
wf_effective_state(const struct wf_request *rq, int64_t now)
{
	if (rq->state == WF_PENDING && now >= rq->pending_until)
		return WF_EXPIRED;
	if (rq->state == WF_APPROVED && now >= rq->grant_end)
		return WF_EXPIRED;
	return rq->state;
}

/* 1 if the request is, or is effectively, expired without a grant. */
static int
expired_pending(const struct wf_request *rq, enum wf_state eff)
{
	return eff == WF_EXPIRED && (rq->state == WF_PENDING ||
	    (rq->state == WF_EXPIRED && rq->grant_end == 0));
}

/* 1 if the request is, or is effectively, an expired grant. */
static int
expired_grant(const struct wf_request *rq, enum wf_state eff)
{
	return eff == WF_EXPIRED && (rq->state == WF_APPROVED ||
	    (rq->state == WF_EXPIRED && rq->grant_end != 0));
}

static int
refuse(struct wf_result *res, int err, const char *why)
{
	res->err = err;
	res->why = why;
	return err;
}

static void
window(const struct wf_request *rq, int64_t now, struct wf_result *res)
{
	res->grant_start = rq->starts_at > now ? rq->starts_at : now;
	res->grant_end = res->grant_start + rq->duration;
}

void
wf_create(struct wf_request *rq, int break_glass, int64_t now,
    struct wf_result *res)
{
	memset(res, 0, sizeof(*res));
	res->err = JIT_OK;
	res->transition = 1;
	if (rq->approvals_required <= 0 || break_glass) {
		res->new_state = WF_APPROVED;
		window(rq, now, res);
	} else
		res->new_state = WF_PENDING;
	rq->state = res->new_state;
	rq->grant_start = res->grant_start;
	rq->grant_end = res->grant_end;
}

static int
is_requester(const struct wf_request *rq, const struct wf_actor *a)
{
	return a->user != NULL && rq->requester != NULL &&
	    strcmp(a->user, rq->requester) == 0;
}

/* Checks common to approve and deny. */
static int
may_vote(const struct wf_request *rq, enum wf_state eff,
    const struct wf_actor *a, struct wf_result *res)
{
	if (expired_pending(rq, eff))
		return refuse(res, JIT_ERR_EXPIRED, "the request expired "
		    "before it was decided");
	if (eff != WF_PENDING)
		return refuse(res, JIT_ERR_CONFLICT, "the request is no longer "
		    "pending");
	if (!a->is_approver)
		return refuse(res, JIT_ERR_PERMISSION, "not an approver of "
		    "this role");
	if (is_requester(rq, a) && !rq->self_approval)
		return refuse(res, JIT_ERR_PERMISSION, "the requester cannot "
		    "approve or deny their own request");
	if (a->has_voted)
		return refuse(res, JIT_ERR_CONFLICT, "already voted on this "
		    "request");
	return JIT_OK;
}

int
wf_apply(const struct wf_request *rq, enum wf_event ev,
    const struct wf_actor *a, int64_t now, struct wf_result *res)
{
	enum wf_state eff = wf_effective_state(rq, now);

	memset(res, 0, sizeof(*res));
	res->err = JIT_OK;
	res->new_state = rq->state;
	if ((unsigned)rq->state >= WF_NSTATES)
		return refuse(res, JIT_ERR_INVALID_ARG, "invalid state");
	if (a == NULL && ev != WF_EV_EXPIRE)
		return refuse(res, JIT_ERR_INVALID_ARG, "no actor");
	switch (ev) {
	case WF_EV_APPROVE:
		if (may_vote(rq, eff, a, res) != JIT_OK)
			return res->err;
		res->counts_vote = 1;
		if (rq->approvals + 1 >= rq->approvals_required) {
			res->transition = 1;
			res->new_state = WF_APPROVED;
			window(rq, now, res);
		}
		return JIT_OK;
	case WF_EV_DENY:
		if (may_vote(rq, eff, a, res) != JIT_OK)
			return res->err;
		res->counts_vote = 1;
		res->transition = 1;
		res->new_state = WF_DENIED;
		return JIT_OK;
	case WF_EV_CANCEL:
		if (!is_requester(rq, a))
			return refuse(res, JIT_ERR_PERMISSION, "only the "
			    "requester can cancel a request");
		if (eff != WF_PENDING && eff != WF_APPROVED)
			return refuse(res, JIT_ERR_CONFLICT, "the request is no "
			    "longer pending or live");
		res->transition = 1;
		res->new_state = WF_CANCELLED;
		return JIT_OK;
	case WF_EV_REVOKE:
		if (!a->is_approver)
			return refuse(res, JIT_ERR_PERMISSION, "only an "
			    "approver of the role can revoke a grant");
		if (eff != WF_APPROVED)
			return refuse(res, JIT_ERR_CONFLICT, "the grant is not "
			    "live");
		res->transition = 1;
		res->new_state = WF_REVOKED;
		return JIT_OK;
	case WF_EV_EXPIRE:
		if (eff == WF_EXPIRED && rq->state != WF_EXPIRED) {
			res->transition = 1;
			res->new_state = WF_EXPIRED;
		}
		return JIT_OK;
	case WF_EV_ISSUE:
	case WF_EV_EXTEND:
		if (!is_requester(rq, a))
			return refuse(res, JIT_ERR_PERMISSION, "only the "
			    "requester can use a grant");
		if (expired_grant(rq, eff))
			return refuse(res, JIT_ERR_EXPIRED, "the grant has "
			    "ended");
		if (eff != WF_APPROVED)
			return refuse(res, JIT_ERR_CONFLICT, "the request is not "
			    "an approved, live grant");
		if (ev == WF_EV_ISSUE && now < rq->grant_start)
			return refuse(res, JIT_ERR_CONFLICT, "the grant has not "
			    "started yet");
		return JIT_OK;
	default:
		return refuse(res, JIT_ERR_INVALID_ARG, "unknown event");
	}
}
