/*
 * The request state machine.  Pure logic: given the facts about one
 * request (its state, votes, window) and an event (approve, deny, cancel,
 * revoke, expire, issue, review), it decides what happens, without
 * touching a database.  The broker runs it inside the transaction that
 * records the outcome, so two racing decisions are decided one after the
 * other on fresh facts.
 *
 *   pending  --approve (quorum)-->  approved  --grant end-->  expired
 *   pending  --deny------------->  denied
 *   pending  --cancel----------->  cancelled
 *   pending  --pending_ttl------>  expired
 *   approved --cancel----------->  cancelled
 *   approved --revoke----------->  revoked
 */
#ifndef JIT_APPROVALS_WORKFLOW_H
#define JIT_APPROVALS_WORKFLOW_H

#include <stddef.h>
#include <stdint.h>

enum wf_state {
	WF_PENDING = 0,
	WF_APPROVED,
	WF_DENIED,
	WF_CANCELLED,
	WF_REVOKED,
	WF_EXPIRED,
	WF_NSTATES
};

enum wf_event {
	WF_EV_APPROVE = 0,
	WF_EV_DENY,
	WF_EV_CANCEL,
	WF_EV_REVOKE,
	WF_EV_EXPIRE,		/* time passes: the sweeper */
	WF_EV_ISSUE,		/* a certificate under the grant */
	WF_EV_EXTEND,		/* ask for more time on a live grant */
	WF_NEVENTS
};

/* What the broker knows about a request when an event arrives. */
struct wf_request {
	enum wf_state	 state;		/* as stored */
	const char	*requester;
	int		 approvals_required;
	int		 self_approval;
	int		 approvals;	/* approve votes so far */
	int64_t		 pending_until;	/* created_at + pending_ttl */
	int64_t		 starts_at;	/* 0: the grant starts at approval */
	int64_t		 duration;	/* seconds */
	int64_t		 grant_start;	/* set once approved */
	int64_t		 grant_end;
};

/* Who causes the event, as the policy and the votes see them. */
struct wf_actor {
	const char	*user;
	int		 is_approver;	/* policy_is_approver() for the role */
	int		 has_voted;	/* already voted on this request */
};

struct wf_result {
	int		 err;		/* JIT_OK or why the event is refused */
	const char	*why;		/* static sentence when err != JIT_OK */
	int		 transition;	/* 1 if the state changes */
	enum wf_state	 new_state;	/* the state after the event */
	int		 counts_vote;	/* 1 if an approve/deny vote is recorded */
	int64_t		 grant_start;	/* for a transition to approved */
	int64_t		 grant_end;
};

/* "pending", "approved", ...; NULL for an invalid state. */
const char *wf_state_name(enum wf_state s);
/* Parses a state name; returns -1 if unknown. */
int wf_state_parse(const char *name);

/*
 * The state as of now: a stored pending request past pending_until, or an
 * approved one at or past grant_end, is expired even before the sweeper
 * records it.
 */
enum wf_state wf_effective_state(const struct wf_request *rq, int64_t now);

/*
 * Decides event ev by actor at time now.  Rules:
 *  approve/deny: the request must be pending (else JIT_ERR_CONFLICT, or
 *    JIT_ERR_EXPIRED if it expired while pending); the actor must be an
 *    approver (JIT_ERR_PERMISSION) and not the requester unless
 *    self_approval (JIT_ERR_PERMISSION); one vote each (JIT_ERR_CONFLICT).
 *    The approval that reaches approvals_required approves: grant_start =
 *    max(now, starts_at), grant_end = grant_start + duration.  A deny
 *    denies.
 *  cancel: the requester only (JIT_ERR_PERMISSION); pending or approved.
 *  revoke: an approver only; approved and not yet expired.
 *  expire: pending past pending_until or approved at/after grant_end
 *    (else nothing happens: transition 0, err JIT_OK).
 *  issue: the requester only; approved and grant_start <= now <
 *    grant_end (JIT_ERR_CONFLICT otherwise; JIT_ERR_EXPIRED past the end).
 *  extend: the requester only; approved and now < grant_end.
 * The answer is the same whether or not the sweeper has already stored the
 * expiry: a stored expired request with grant_end 0 expired while
 * pending, one with a grant_end is an ended grant.  Returns res->err.
 */
int wf_apply(const struct wf_request *rq, enum wf_event ev,
    const struct wf_actor *actor, int64_t now, struct wf_result *res);

/*
 * The state a new request starts in: approved at once when
 * approvals_required is 0 or the role is break-glass (then grant_start and
 * grant_end are filled from now/starts_at), else pending.
 */
void wf_create(struct wf_request *rq, int break_glass, int64_t now,
    struct wf_result *res);

#endif
