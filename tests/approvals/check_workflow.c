/*
 * Unit tests for approvals/workflow: the request state machine.  The main
 * test walks every state (and the in-between states time creates) against
 * every event and every kind of actor, and compares wf_apply() with a
 * table written by hand from the rules in workflow.h.  The table is the
 * specification here; it never asks the code what the answer should be.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "approvals/workflow.h"
#include "common/err.h"

#define NOW		1000000
#define DURATION	600

/* The situations a request can be in when an event arrives. */
enum situation {
	S_PENDING,		/* pending, pending_until ahead */
	S_PENDING_PAST,		/* stored pending, past pending_until */
	S_APPROVED,		/* live grant */
	S_APPROVED_ENDED,	/* stored approved, grant_end passed */
	S_APPROVED_BEFORE,	/* approved, grant_start ahead */
	S_DENIED,
	S_CANCELLED,		/* cancelled while live: window not over */
	S_REVOKED,		/* revoked while live: window not over */
	S_EXPIRED_PENDING,	/* the sweeper stored an unanswered request */
	S_EXPIRED_GRANT,	/* the sweeper stored an ended grant */
	S_COUNT
};

static const char *const situation_names[S_COUNT] = {
	"pending", "pending-past-ttl", "approved", "approved-ended",
	"approved-not-started", "denied", "cancelled", "revoked",
	"expired-unanswered", "expired-grant"
};

/* Who causes the event.  The requester is always "alice". */
enum actor_kind {
	A_REQUESTER,		/* alice, not an approver */
	A_APPROVER,		/* bob, approver, has not voted */
	A_SELF_NO,		/* alice, approver, no self_approval */
	A_SELF_YES,		/* alice, approver, self_approval */
	A_VOTED,		/* bob, approver, already voted */
	A_OTHER,		/* carol, neither */
	A_COUNT
};

static const char *const actor_names[A_COUNT] = {
	"requester", "approver", "approver-requester-no-self",
	"approver-requester-self", "approver-voted", "stranger"
};

static const char *const event_names[WF_NEVENTS] = {
	"approve", "deny", "cancel", "revoke", "expire", "issue", "extend"
};

/*
 * The expected outcome per state: for each event in the order of enum
 * wf_event, one letter per actor in the order of enum actor_kind:
 *   A  approved (vote counted, grant window opened)
 *   V  vote counted, still pending (quorum not reached)
 *   D  denied (vote counted)
 *   X  cancelled     R  revoked     x  expired
 *   o  allowed, nothing changes
 *   P  JIT_ERR_PERMISSION   C  JIT_ERR_CONFLICT   E  JIT_ERR_EXPIRED
 * Derived from workflow.h: votes need a pending request (EXPIRED if it ran
 * out while pending, CONFLICT otherwise), then an approver, then not the
 * requester unless self_approval, then one vote each; cancel is the
 * requester's, while pending or approved; revoke is an approver's, while
 * approved and not ended; expire only acts on a pending request past its
 * TTL or an ended grant; issue and extend are the requester's, on a live
 * grant (issue also not before grant_start), EXPIRED once it has ended.
 */
static const char *const expect[S_COUNT] = {
	/* approve, deny, cancel, revoke, expire, issue, extend */
	[S_PENDING] =
	    "PAPACP PDPDCP XPXXPP PCCCCP oooooo CPCCPP CPCCPP",
	[S_PENDING_PAST] =
	    "EEEEEE EEEEEE CPCCPP PCCCCP xxxxxx CPCCPP CPCCPP",
	[S_APPROVED] =
	    "CCCCCC CCCCCC XPXXPP PRRRRP oooooo oPooPP oPooPP",
	[S_APPROVED_ENDED] =
	    "CCCCCC CCCCCC CPCCPP PCCCCP xxxxxx EPEEPP EPEEPP",
	[S_APPROVED_BEFORE] =
	    "CCCCCC CCCCCC XPXXPP PRRRRP oooooo CPCCPP oPooPP",
	[S_DENIED] =
	    "CCCCCC CCCCCC CPCCPP PCCCCP oooooo CPCCPP CPCCPP",
	[S_CANCELLED] =
	    "CCCCCC CCCCCC CPCCPP PCCCCP oooooo CPCCPP CPCCPP",
	[S_REVOKED] =
	    "CCCCCC CCCCCC CPCCPP PCCCCP oooooo CPCCPP CPCCPP",
	[S_EXPIRED_PENDING] =
	    "EEEEEE EEEEEE CPCCPP PCCCCP oooooo CPCCPP CPCCPP",
	[S_EXPIRED_GRANT] =
	    "CCCCCC CCCCCC CPCCPP PCCCCP oooooo EPEEPP EPEEPP",
};

/* The letter for situation s, event ev and actor k. */
static char
expected(int s, int ev, int k)
{
	return expect[s][ev * (A_COUNT + 1) + k];
}

static void
make_request(enum situation s, int self_approval, int required,
    struct wf_request *rq)
{
	memset(rq, 0, sizeof(*rq));
	rq->requester = "alice";
	rq->approvals_required = required;
	rq->self_approval = self_approval;
	rq->duration = DURATION;
	rq->pending_until = NOW + 3600;
	switch (s) {
	case S_PENDING:
		rq->state = WF_PENDING;
		break;
	case S_PENDING_PAST:
		rq->state = WF_PENDING;
		rq->pending_until = NOW - 1;
		break;
	case S_APPROVED:
	case S_CANCELLED:
	case S_REVOKED:
		rq->state = s == S_APPROVED ? WF_APPROVED : s == S_CANCELLED ?
		    WF_CANCELLED : WF_REVOKED;
		/* A TTL long gone must not matter once decided. */
		rq->pending_until = NOW - 1000;
		rq->approvals = required;
		rq->grant_start = NOW - 100;
		rq->grant_end = rq->grant_start + DURATION;
		break;
	case S_APPROVED_ENDED:
	case S_EXPIRED_GRANT:
		rq->state = s == S_APPROVED_ENDED ? WF_APPROVED : WF_EXPIRED;
		rq->pending_until = NOW - 1000;
		rq->approvals = required;
		rq->grant_start = NOW - DURATION - 100;
		rq->grant_end = NOW - 100;
		break;
	case S_APPROVED_BEFORE:
		rq->state = WF_APPROVED;
		rq->approvals = required;
		rq->starts_at = NOW + 100;
		rq->grant_start = rq->starts_at;
		rq->grant_end = rq->starts_at + DURATION;
		break;
	case S_DENIED:
		rq->state = WF_DENIED;
		break;
	case S_EXPIRED_PENDING:
		rq->state = WF_EXPIRED;
		rq->pending_until = NOW - 1;
		break;
	default:
		ck_abort_msg("bad situation");
	}
}

static void
make_actor(enum actor_kind k, struct wf_actor *a, int *self_approval)
{
	static const struct {
		const char	*user;
		int		 is_approver, has_voted, self_approval;
	} kinds[A_COUNT] = {
		[A_REQUESTER] = { "alice", 0, 0, -1 },
		[A_APPROVER] = { "bob", 1, 0, -1 },
		[A_SELF_NO] = { "alice", 1, 0, 0 },
		[A_SELF_YES] = { "alice", 1, 0, 1 },
		[A_VOTED] = { "bob", 1, 1, -1 },
		[A_OTHER] = { "carol", 0, 0, -1 },
	};

	a->user = kinds[k].user;
	a->is_approver = kinds[k].is_approver;
	a->has_voted = kinds[k].has_voted;
	/* -1: self_approval must not matter to this actor; caller picks. */
	if (kinds[k].self_approval != -1)
		*self_approval = kinds[k].self_approval;
}

static void
check_outcome(char want, const struct wf_request *rq, int64_t now,
    const struct wf_result *res, const char *what)
{
	int err = JIT_OK, transition = 0, vote = 0, window = 0;
	enum wf_state st = rq->state;
	int64_t gs;

	switch (want) {
	case 'A':
		transition = vote = window = 1;
		st = WF_APPROVED;
		break;
	case 'V':
		vote = 1;
		break;
	case 'D':
		transition = vote = 1;
		st = WF_DENIED;
		break;
	case 'X':
		transition = 1;
		st = WF_CANCELLED;
		break;
	case 'R':
		transition = 1;
		st = WF_REVOKED;
		break;
	case 'x':
		transition = 1;
		st = WF_EXPIRED;
		break;
	case 'o':
		break;
	case 'P':
		err = JIT_ERR_PERMISSION;
		break;
	case 'C':
		err = JIT_ERR_CONFLICT;
		break;
	case 'E':
		err = JIT_ERR_EXPIRED;
		break;
	default:
		ck_abort_msg("bad expectation '%c'", want);
	}
	ck_assert_msg(res->err == err, "%s: err %d, want %d ('%c')", what,
	    res->err, err, want);
	ck_assert_msg(res->transition == transition, "%s: transition %d, "
	    "want %d", what, res->transition, transition);
	ck_assert_msg(res->new_state == st, "%s: new_state %s, want %s", what,
	    wf_state_name(res->new_state), wf_state_name(st));
	ck_assert_msg(res->counts_vote == vote, "%s: counts_vote %d, want %d",
	    what, res->counts_vote, vote);
	ck_assert_msg((res->why != NULL) == (err != JIT_OK), "%s: why %s",
	    what, res->why != NULL ? res->why : "(null)");
	if (window) {
		gs = rq->starts_at > now ? rq->starts_at : now;
		ck_assert_msg(res->grant_start == gs && res->grant_end ==
		    gs + rq->duration, "%s: window [%lld, %lld), want [%lld, "
		    "%lld)", what, (long long)res->grant_start,
		    (long long)res->grant_end, (long long)gs,
		    (long long)(gs + rq->duration));
	} else
		ck_assert_msg(res->grant_start == 0 && res->grant_end == 0,
		    "%s: unexpected window", what);
}

/* Runs the whole grid with a quorum of required approvals. */
static void
grid(int required)
{
	struct wf_request rq;
	struct wf_result res;
	struct wf_actor a;
	char what[160];
	int s, ev, k, sa, self, n = 0, r;
	char want;

	for (s = 0; s < S_COUNT; s++)
		ck_assert_uint_eq(strlen(expect[s]),
		    WF_NEVENTS * (A_COUNT + 1) - 1);
	for (s = 0; s < S_COUNT; s++)
	for (ev = 0; ev < WF_NEVENTS; ev++)
	for (k = 0; k < A_COUNT; k++)
	for (sa = 0; sa <= 1; sa++) {
		self = sa;
		make_actor(k, &a, &self);
		if (self != sa)
			continue;	/* this actor fixes self_approval */
		make_request(s, self, required, &rq);
		want = expected(s, ev, k);
		if (want == 'A' && required > 1)
			want = 'V';
		snprintf(what, sizeof(what), "%s / %s / %s / self_approval "
		    "%d / quorum %d", situation_names[s], event_names[ev],
		    actor_names[k], self, required);
		memset(&res, 0xa5, sizeof(res));
		r = wf_apply(&rq, ev, &a, NOW, &res);
		ck_assert_msg(r == res.err, "%s: return %d != res.err %d",
		    what, r, res.err);
		check_outcome(want, &rq, NOW, &res, what);
		n++;
	}
	/* 10 situations x 7 events x (4 actors x 2 + 2) */
	ck_assert_int_eq(n, S_COUNT * WF_NEVENTS * 10);
}

START_TEST(exhaustive_quorum_1)
{
	grid(1);
}
END_TEST

START_TEST(exhaustive_quorum_2)
{
	grid(2);
}
END_TEST

START_TEST(expire_needs_no_actor)
{
	struct wf_request rq;
	struct wf_result res;
	int s;

	for (s = 0; s < S_COUNT; s++) {
		make_request(s, 0, 1, &rq);
		ck_assert_int_eq(wf_apply(&rq, WF_EV_EXPIRE, NULL, NOW, &res),
		    JIT_OK);
		check_outcome(expected(s, WF_EV_EXPIRE, 0), &rq, NOW, &res,
		    situation_names[s]);
		if (s != S_PENDING_PAST && s != S_APPROVED_ENDED)
			continue;
		/* Any other event without an actor is a caller bug. */
		ck_assert_int_eq(wf_apply(&rq, WF_EV_APPROVE, NULL, NOW, &res),
		    JIT_ERR_INVALID_ARG);
	}
}
END_TEST

START_TEST(quorum_of_two)
{
	struct wf_request rq;
	struct wf_result res;
	struct wf_actor bob = { "bob", 1, 0 }, dave = { "dave", 1, 0 };
	int64_t t = NOW + 50;

	make_request(S_PENDING, 0, 2, &rq);
	ck_assert_int_eq(wf_apply(&rq, WF_EV_APPROVE, &bob, NOW, &res),
	    JIT_OK);
	ck_assert_int_eq(res.counts_vote, 1);
	ck_assert_int_eq(res.transition, 0);
	ck_assert_int_eq(res.new_state, WF_PENDING);
	ck_assert(res.grant_start == 0 && res.grant_end == 0);
	/* The broker records the vote; bob now has voted. */
	rq.approvals = 1;
	bob.has_voted = 1;
	ck_assert_int_eq(wf_apply(&rq, WF_EV_APPROVE, &bob, t, &res),
	    JIT_ERR_CONFLICT);
	ck_assert_int_eq(res.counts_vote, 0);
	ck_assert_int_eq(wf_apply(&rq, WF_EV_DENY, &bob, t, &res),
	    JIT_ERR_CONFLICT);
	ck_assert_int_eq(wf_apply(&rq, WF_EV_APPROVE, &dave, t, &res), JIT_OK);
	ck_assert_int_eq(res.counts_vote, 1);
	ck_assert_int_eq(res.transition, 1);
	ck_assert_int_eq(res.new_state, WF_APPROVED);
	ck_assert(res.grant_start == t);
	ck_assert(res.grant_end == t + DURATION);
	/* A deny after one approval still ends the request. */
	ck_assert_int_eq(wf_apply(&rq, WF_EV_DENY, &dave, t, &res), JIT_OK);
	ck_assert_int_eq(res.new_state, WF_DENIED);
	ck_assert_int_eq(res.counts_vote, 1);
	/* With self_approval the requester's vote counts towards quorum. */
	rq.self_approval = 1;
	ck_assert_int_eq(wf_apply(&rq, WF_EV_APPROVE,
	    &(struct wf_actor){ "alice", 1, 0 }, t, &res), JIT_OK);
	ck_assert_int_eq(res.new_state, WF_APPROVED);
}
END_TEST

START_TEST(scheduled_start)
{
	struct wf_request rq;
	struct wf_result res;
	struct wf_actor bob = { "bob", 1, 0 }, alice = { "alice", 0, 0 };
	const int64_t start = NOW + 1000;

	make_request(S_PENDING, 0, 1, &rq);
	rq.starts_at = start;
	ck_assert_int_eq(wf_apply(&rq, WF_EV_APPROVE, &bob, NOW, &res),
	    JIT_OK);
	ck_assert_int_eq(res.new_state, WF_APPROVED);
	ck_assert(res.grant_start == start);
	ck_assert(res.grant_end == start + DURATION);
	rq.state = WF_APPROVED;
	rq.grant_start = res.grant_start;
	rq.grant_end = res.grant_end;
	ck_assert_int_eq(wf_effective_state(&rq, start - 1), WF_APPROVED);
	ck_assert_int_eq(wf_apply(&rq, WF_EV_ISSUE, &alice, start - 1, &res),
	    JIT_ERR_CONFLICT);
	ck_assert_int_eq(wf_apply(&rq, WF_EV_ISSUE, &alice, start, &res),
	    JIT_OK);
	ck_assert_int_eq(res.transition, 0);
	ck_assert_int_eq(wf_apply(&rq, WF_EV_ISSUE, &alice,
	    start + DURATION - 1, &res), JIT_OK);
	ck_assert_int_eq(wf_apply(&rq, WF_EV_ISSUE, &alice, start + DURATION,
	    &res), JIT_ERR_EXPIRED);
	ck_assert_int_eq(wf_apply(&rq, WF_EV_EXTEND, &alice, start + DURATION,
	    &res), JIT_ERR_EXPIRED);
	ck_assert_int_eq(wf_apply(&rq, WF_EV_EXPIRE, NULL, start + DURATION - 1,
	    &res), JIT_OK);
	ck_assert_int_eq(res.transition, 0);
	ck_assert_int_eq(wf_apply(&rq, WF_EV_EXPIRE, NULL, start + DURATION,
	    &res), JIT_OK);
	ck_assert_int_eq(res.transition, 1);
	ck_assert_int_eq(res.new_state, WF_EXPIRED);

	/* A start that has passed by the time of approval: now wins. */
	make_request(S_PENDING, 0, 1, &rq);
	rq.starts_at = NOW - 10;
	ck_assert_int_eq(wf_apply(&rq, WF_EV_APPROVE, &bob, NOW, &res),
	    JIT_OK);
	ck_assert(res.grant_start == NOW);
	ck_assert(res.grant_end == NOW + DURATION);
}
END_TEST

START_TEST(pending_ttl_boundary)
{
	struct wf_request rq;
	struct wf_result res;
	struct wf_actor bob = { "bob", 1, 0 };

	make_request(S_PENDING, 0, 1, &rq);
	rq.pending_until = NOW;
	ck_assert_int_eq(wf_effective_state(&rq, NOW - 1), WF_PENDING);
	ck_assert_int_eq(wf_effective_state(&rq, NOW), WF_EXPIRED);
	ck_assert_int_eq(wf_apply(&rq, WF_EV_APPROVE, &bob, NOW - 1, &res),
	    JIT_OK);
	ck_assert_int_eq(wf_apply(&rq, WF_EV_APPROVE, &bob, NOW, &res),
	    JIT_ERR_EXPIRED);
	ck_assert_ptr_nonnull(res.why);
	ck_assert_int_eq(wf_apply(&rq, WF_EV_EXPIRE, NULL, NOW - 1, &res),
	    JIT_OK);
	ck_assert_int_eq(res.transition, 0);
	ck_assert_int_eq(wf_apply(&rq, WF_EV_EXPIRE, NULL, NOW, &res), JIT_OK);
	ck_assert_int_eq(res.transition, 1);
	/* Terminal states are what they are, whatever the clock says. */
	rq.state = WF_DENIED;
	ck_assert_int_eq(wf_effective_state(&rq, NOW + 100000), WF_DENIED);
}
END_TEST

START_TEST(create)
{
	struct wf_request rq;
	struct wf_result res;

	/* Normal: pending, no window. */
	make_request(S_PENDING, 0, 1, &rq);
	rq.state = WF_EXPIRED;
	wf_create(&rq, 0, NOW, &res);
	ck_assert_int_eq(res.err, JIT_OK);
	ck_assert_int_eq(res.transition, 1);
	ck_assert_int_eq(res.new_state, WF_PENDING);
	ck_assert_int_eq(rq.state, WF_PENDING);
	ck_assert(res.grant_start == 0 && res.grant_end == 0);
	ck_assert(rq.grant_start == 0 && rq.grant_end == 0);

	/* No approvals required: approved at once. */
	make_request(S_PENDING, 0, 0, &rq);
	wf_create(&rq, 0, NOW, &res);
	ck_assert_int_eq(res.new_state, WF_APPROVED);
	ck_assert_int_eq(rq.state, WF_APPROVED);
	ck_assert(res.grant_start == NOW && res.grant_end == NOW + DURATION);
	ck_assert(rq.grant_start == NOW && rq.grant_end == NOW + DURATION);
	ck_assert_int_eq(res.counts_vote, 0);

	/* Break-glass ignores the quorum and honours a scheduled start. */
	make_request(S_PENDING, 0, 3, &rq);
	rq.starts_at = NOW + 60;
	wf_create(&rq, 1, NOW, &res);
	ck_assert_int_eq(res.new_state, WF_APPROVED);
	ck_assert(res.grant_start == NOW + 60);
	ck_assert(res.grant_end == NOW + 60 + DURATION);
	ck_assert(rq.grant_start == NOW + 60);

	/* Scheduled start with a quorum: pending, window decided later. */
	make_request(S_PENDING, 0, 2, &rq);
	rq.starts_at = NOW + 60;
	wf_create(&rq, 0, NOW, &res);
	ck_assert_int_eq(res.new_state, WF_PENDING);
	ck_assert(rq.grant_start == 0);
}
END_TEST

START_TEST(state_names)
{
	int i;

	for (i = 0; i < WF_NSTATES; i++) {
		ck_assert_ptr_nonnull(wf_state_name(i));
		ck_assert_int_eq(wf_state_parse(wf_state_name(i)), i);
	}
	ck_assert_str_eq(wf_state_name(WF_PENDING), "pending");
	ck_assert_str_eq(wf_state_name(WF_EXPIRED), "expired");
	ck_assert_ptr_null(wf_state_name(WF_NSTATES));
	ck_assert_ptr_null(wf_state_name((enum wf_state)-1));
	ck_assert_ptr_null(wf_state_name((enum wf_state)1000));
	ck_assert_int_eq(wf_state_parse(NULL), -1);
	ck_assert_int_eq(wf_state_parse(""), -1);
	ck_assert_int_eq(wf_state_parse("PENDING"), -1);
	ck_assert_int_eq(wf_state_parse("pending "), -1);
	ck_assert_int_eq(wf_state_parse("expire"), -1);
	ck_assert_int_eq(wf_state_parse("approvedx"), -1);
}
END_TEST

START_TEST(bad_inputs)
{
	struct wf_request rq;
	struct wf_result res;
	struct wf_actor bob = { "bob", 1, 0 };

	make_request(S_PENDING, 0, 1, &rq);
	ck_assert_int_eq(wf_apply(&rq, WF_NEVENTS, &bob, NOW, &res),
	    JIT_ERR_INVALID_ARG);
	ck_assert_int_eq(res.transition, 0);
	ck_assert_int_eq(wf_apply(&rq, (enum wf_event)-1, &bob, NOW, &res),
	    JIT_ERR_INVALID_ARG);
	rq.state = WF_NSTATES;
	ck_assert_int_eq(wf_apply(&rq, WF_EV_APPROVE, &bob, NOW, &res),
	    JIT_ERR_INVALID_ARG);
	ck_assert_int_eq(res.transition, 0);
	rq.state = (enum wf_state)-1;
	ck_assert_int_eq(wf_apply(&rq, WF_EV_EXPIRE, NULL, NOW, &res),
	    JIT_ERR_INVALID_ARG);
	/* A request or actor without a user name is nobody's. */
	make_request(S_APPROVED, 0, 1, &rq);
	ck_assert_int_eq(wf_apply(&rq, WF_EV_ISSUE,
	    &(struct wf_actor){ NULL, 0, 0 }, NOW, &res), JIT_ERR_PERMISSION);
	rq.requester = NULL;
	ck_assert_int_eq(wf_apply(&rq, WF_EV_CANCEL,
	    &(struct wf_actor){ "alice", 0, 0 }, NOW, &res),
	    JIT_ERR_PERMISSION);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("workflow");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, exhaustive_quorum_1);
	tcase_add_test(tc, exhaustive_quorum_2);
	tcase_add_test(tc, expire_needs_no_actor);
	tcase_add_test(tc, quorum_of_two);
	tcase_add_test(tc, scheduled_start);
	tcase_add_test(tc, pending_ttl_boundary);
	tcase_add_test(tc, create);
	tcase_add_test(tc, state_names);
	tcase_add_test(tc, bad_inputs);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
