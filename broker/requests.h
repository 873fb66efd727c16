/*
 * The broker side of access requests: turning a stored request into the
 * workflow's facts and into its JSON form, and the transactions that
 * apply workflow events with their audit events.  Internal to broker/.
 */
#ifndef JIT_BROKER_REQUESTS_H
#define JIT_BROKER_REQUESTS_H

#include <jansson.h>

#include "approvals/policy.h"
#include "approvals/workflow.h"
#include "broker/server.h"
#include "broker/store.h"

/* The workflow's view of a stored request. */
void req_facts(const struct store_request *r, struct wf_request *f);

/* The request as the API shows it; with_details adds votes and history. */
json_t *req_json(struct server *srv, const struct store_request *r,
    int64_t now, int with_details);

/* "request:42", the audit target of a request. */
void req_target(int64_t id, char *out, size_t len);

/*
 * May user (with groups) see request r?  Its requester, the role's
 * approvers and auditors may.
 */
int req_visible(const struct config *cfg, const struct store_request *r,
    const char *user, const char *groups);

/* Parses a positive request id from a path parameter; 0 if invalid. */
int64_t req_parse_id(const char *s);

/*
 * The expiry sweeper's job: expires what time has ended, with audit and
 * notifications.  arg is the config (const struct config *) or NULL.
 */
int req_sweep_tx(struct store_tx *tx, void *arg);

/*
 * One decision (approve, deny, cancel, revoke) on a request, as a store
 * job: re-reads the request and the actor's vote, runs the workflow,
 * writes the vote, the new state, the notifications and the audit event
 * (or only the refusal's audit event).  Shared by the API and the chat
 * callback.
 */
struct decide_job {
	const struct config	*cfg;
	enum wf_event		 ev;
	int64_t			 id;
	const char		*user;
	const char		*groups;
	const char		*comment;
	const char		*ip;
	const char		*via;		/* NULL, or "slack" */
	/* Outcome. */
	int			 refused;	/* JIT_ERR_* when refused */
	const char		*why;
	int			 not_found;
	int			 state_after;	/* wf_state when not refused */
};
int req_decide_tx(struct store_tx *tx, void *arg);

#endif
