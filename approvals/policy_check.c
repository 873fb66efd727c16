/*
 * The questions the broker asks about a loaded role (see policy.h): is
 * this user a requester or an approver, and are the fields of a new
 * request acceptable.  Also the text checks policy.c shares (see
 * policy_int.h).
 */
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "approvals/policy.h"
#include "approvals/policy_int.h"
#include "common/duration.h"
#include "common/err.h"

int
policy_printable_ascii(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] >= 0x7f)
			return 0;
	return 1;
}

int
policy_clean_utf8(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n, k;
	uint32_t c, min;

	while (i < len) {
		c = s[i];
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return 0;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			c &= 0x1f;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			c &= 0x0f;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			c &= 0x07;
			min = 0x10000;
		} else
			return 0;
		if (len - i <= n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (s[i + k] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
		if ((c >= 0x80 && c <= 0x9f) || c == 0x2028 || c == 0x2029 ||
		    (c >= 0x202a && c <= 0x202e) ||
		    (c >= 0x2066 && c <= 0x2069))
			return 0;
		i += n + 1;
	}
	return 1;
}

int
policy_is_member(char *const *list, size_t n, const char *user,
    const char *groups_csv)
{
	const char *g, *e, *want;
	size_t i, len;

	for (i = 0; list != NULL && i < n; i++) {
		if (list[i] == NULL)
			continue;
		if (strncmp(list[i], "group:", 6) != 0) {
			if (user != NULL && strcmp(list[i], user) == 0)
				return 1;
			continue;
		}
		want = list[i] + 6;
		if (groups_csv == NULL || (len = strlen(want)) == 0)
			continue;
		for (g = groups_csv;; g = e + 1) {
			if ((e = strchr(g, ',')) == NULL)
				e = g + strlen(g);
			if ((size_t)(e - g) == len && memcmp(g, want, len) == 0)
				return 1;
			if (*e == '\0')
				break;
		}
	}
	return 0;
}

int
policy_can_request(const struct policy_role *r, const char *user,
    const char *groups_csv)
{
	return r != NULL && policy_is_member(r->requesters, r->nrequesters,
	    user, groups_csv);
}

int
policy_is_approver(const struct policy_role *r, const char *user,
    const char *groups_csv)
{
	return r != NULL && policy_is_member(r->approvers, r->napprovers,
	    user, groups_csv);
}

static int __attribute__((format(printf, 3, 4)))
refuse(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return JIT_ERR_INVALID_ARG;
}

int
policy_check_request(const struct policy_role *r, const char *reason,
    const char *ticket, int64_t duration, int64_t starts_at, int64_t now,
    char *why, size_t whylen)
{
	char max[32];
	size_t len, i;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (r == NULL)
		return refuse(why, whylen, "\"role\" is not a known role");
	duration_format(r->max_duration, max, sizeof(max));
	if (duration < 1)
		return refuse(why, whylen, "\"duration\" must be at least 1 "
		    "second");
	if (duration > r->max_duration)
		return refuse(why, whylen, "\"duration\" is above the role's "
		    "max_duration of %s", max);
	len = reason != NULL ? strnlen(reason, POLICY_REASON_MAX + 1) : 0;
	if (len > POLICY_REASON_MAX)
		return refuse(why, whylen, "\"reason\" must be at most %d "
		    "bytes", POLICY_REASON_MAX);
	if (!policy_clean_utf8(reason != NULL ? reason : "", len))
		return refuse(why, whylen, "\"reason\" must be valid UTF-8 "
		    "without control characters");
	for (i = 0; i < len && reason[i] == ' '; i++)
		;
	if (r->require_reason && i == len)
		return refuse(why, whylen, "\"reason\" is required for role "
		    "\"%s\"", r->name);
	len = ticket != NULL ? strnlen(ticket, POLICY_TICKET_MAX + 1) : 0;
	if (len > POLICY_TICKET_MAX || !policy_printable_ascii(ticket != NULL ?
	    ticket : "", len))
		return refuse(why, whylen, "\"ticket\" must be at most %d "
		    "printable ASCII characters", POLICY_TICKET_MAX);
	if (r->ticket_re != NULL && len == 0)
		return refuse(why, whylen, "\"ticket\" is required for role "
		    "\"%s\" and must match %s", r->name, r->ticket_pattern);
	if (r->ticket_re != NULL && regexec(r->ticket_re, ticket, 0, NULL,
	    0) != 0)
		return refuse(why, whylen, "\"ticket\" must match %s",
		    r->ticket_pattern);
	if (starts_at != 0 && starts_at < now)
		return refuse(why, whylen, "\"starts_at\" is in the past");
	if (starts_at != 0 &&
	    (uint64_t)starts_at - (uint64_t)now > POLICY_START_AHEAD_MAX)
		return refuse(why, whylen, "\"starts_at\" is more than %d days "
		    "ahead", POLICY_START_AHEAD_MAX / 86400);
	return JIT_OK;
}
