/*
 * Access policy: the roles of the config file, validated once, and the
 * questions the broker asks about them (may this user request this role,
 * may that one approve it, is this request acceptable).  Pure logic: no
 * HTTP, no SQL; the input is the parsed JSON of the config's "roles".
 */
#ifndef JIT_APPROVALS_POLICY_H
#define JIT_APPROVALS_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define POLICY_ROLES_MAX	256
#define POLICY_NAME_MAX		64	/* role names */
#define POLICY_MEMBERS_MAX	256	/* requesters / approvers entries */
#define POLICY_REASON_MAX	1024	/* bytes */
#define POLICY_TICKET_MAX	64	/* bytes */
#define POLICY_DESC_MAX		512
#define POLICY_DURATION_MAX	(7 * 86400)	/* hard ceiling of max_duration */
#define POLICY_START_AHEAD_MAX	(7 * 86400)	/* starts_at at most this far */

/* One role.  Read-only for callers; owned by its struct policy. */
struct policy_role {
	char		*name;
	char		*description;		/* "" when absent */
	int		 has_ssh;
	char		**ssh_principals;	/* >= 1 when has_ssh */
	size_t		 nssh_principals;
	char		**ssh_extensions;	/* default: permit-pty */
	size_t		 nssh_extensions;
	char		*ssh_source_address;	/* NULL: none */
	char		*ssh_force_command;	/* NULL: none */
	int		 has_x509;
	char		*x509_ou;		/* NULL: none */
	int		 x509_uri_san;
	char		**requesters;		/* "user" or "group:NAME" */
	size_t		 nrequesters;
	char		**approvers;
	size_t		 napprovers;
	int		 approvals_required;	/* 0 = auto-approve */
	int		 self_approval;
	int64_t		 max_duration;		/* seconds */
	int		 require_reason;
	int64_t		 pending_ttl;		/* seconds */
	char		*ticket_pattern;	/* NULL: no ticket rule */
	int		 break_glass;
	void		*ticket_re;		/* compiled regex (private) */
};

struct policy;

/*
 * Validates and loads roles (a JSON array, or NULL for no roles).  On a
 * problem returns JIT_ERR_INVALID_ARG and a malloc'd sentence in *err
 * naming the role and the field ("role \"prod-ssh\": \"max_duration\" must
 * be ...").  Unknown fields are an error.  Free with policy_free().
 */
int policy_load(const json_t *roles, struct policy **out, char **err)
    __attribute__((warn_unused_result));
void policy_free(struct policy *p);

size_t policy_count(const struct policy *p);
const struct policy_role *policy_role_at(const struct policy *p, size_t i);
/* The role named name, or NULL. */
const struct policy_role *policy_find(const struct policy *p,
    const char *name);

/*
 * 1 if user, member of the comma-separated groups, matches an entry of
 * list ("name" or "group:NAME"), else 0.
 */
int policy_is_member(char *const *list, size_t n, const char *user,
    const char *groups_csv);

/* 1 if user may request role. */
int policy_can_request(const struct policy_role *r, const char *user,
    const char *groups_csv);
/*
 * 1 if user is one of the role's approvers.  Separation of duties (the
 * requester does not count unless self_approval) is the workflow's rule,
 * not this one's.
 */
int policy_is_approver(const struct policy_role *r, const char *user,
    const char *groups_csv);

/*
 * Checks a new request's fields against the role: duration in
 * 1..max_duration; reason present when require_reason, at most
 * POLICY_REASON_MAX bytes, valid UTF-8 without control characters;
 * ticket at most POLICY_TICKET_MAX printable ASCII bytes and matching
 * ticket_pattern when set (required then); starts_at either 0 or within
 * now..now+POLICY_START_AHEAD_MAX.  Returns JIT_OK or JIT_ERR_INVALID_ARG
 * with a sentence in why (naming the field).
 */
int policy_check_request(const struct policy_role *r, const char *reason,
    const char *ticket, int64_t duration, int64_t starts_at, int64_t now,
    char *why, size_t whylen) __attribute__((warn_unused_result));

#endif
