/*
 * JSON request bodies as POST /v1/requests sees them: the nesting check
 * and json_loadb with the flags of broker/http.c, the field checks of
 * api_request_create (allowed keys, bounded NUL-free strings, starts_at,
 * the duration as a number or duration_parse), then policy_check_request
 * against the roles of a fixed policy loaded at init.
 */
#include <string.h>

#include <jansson.h>

#include "approvals/policy.h"
#include "common/duration.h"
#include "common/err.h"
#include "common/limits.h"
#include "common/safetext.h"
#include "tests/fuzz/fuzz.h"

#define FUZZ_BODY_NOW	((int64_t)1700000000)

static struct policy *fuzz_policy;

static const char fuzz_roles[] =
    "[{\"name\": \"prod-ssh\", \"ssh\": {\"principals\": [\"root\"]},"
    "  \"requesters\": [\"group:eng\"], \"approvers\": [\"group:sre\"],"
    "  \"approvals_required\": 1, \"max_duration\": \"4h\","
    "  \"require_reason\": true, \"ticket_pattern\": \"^OPS-[0-9]+$\"},"
    " {\"name\": \"dev\", \"ssh\": {\"principals\": [\"dev\"]},"
    "  \"requesters\": [\"alice\"], \"approvers\": [],"
    "  \"approvals_required\": 0, \"max_duration\": \"1d\"}]";

FUZZ_INIT(body)
{
	json_t *roles;
	json_error_t jerr;
	char *err = NULL;

	if (fuzz_policy != NULL)
		return;
	FUZZ_ASSERT((roles = json_loads(fuzz_roles, 0, &jerr)) != NULL);
	if (policy_load(roles, &fuzz_policy, &err) != JIT_OK) {
		fprintf(stderr, "body_fuzz: %s\n", err);
		abort();
	}
	json_decref(roles);
}

/* Nesting of a parsed value: 0 for a scalar, 1 for [] or {}. */
static int
value_depth(json_t *v)
{
	const char *k;
	json_t *e;
	size_t i;
	int d, deepest = 0;

	if (json_is_array(v)) {
		json_array_foreach(v, i, e)
			if ((d = value_depth(e)) > deepest)
				deepest = d;
		return deepest + 1;
	}
	if (json_is_object(v)) {
		json_object_foreach(v, k, e)
			if ((d = value_depth(e)) > deepest)
				deepest = d;
		return deepest + 1;
	}
	return 0;
}

/* http_body_string: 0 and *out (NULL when absent), or -1. */
static int
body_string(json_t *body, const char *key, int required, size_t maxlen,
    const char **out)
{
	json_t *v = json_object_get(body, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return required ? -1 : 0;
	if (!json_is_string(v) || json_string_length(v) > maxlen ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return -1;
	*out = json_string_value(v);
	return 0;
}

/* body_duration of broker/api_requests.c. */
static int
body_duration(json_t *body, const char *key, int64_t max, int64_t *out)
{
	json_t *v = json_object_get(body, key);

	*out = 0;
	if (json_is_integer(v) && json_integer_value(v) > 0 &&
	    json_integer_value(v) <= max) {
		*out = json_integer_value(v);
		return 0;
	}
	if (json_is_string(v) && duration_parse(json_string_value(v), max,
	    out) == JIT_OK) {
		FUZZ_ASSERT(*out > 0 && *out <= max);
		return 0;
	}
	return -1;
}

FUZZ_TARGET(body)
{
	static const char *const fields[] = { "role", "reason", "duration",
	    "ticket", "starts_at", NULL };
	const struct policy_role *role;
	const char *key, *rname, *reason, *ticket;
	json_t *body, *v, *sv;
	json_error_t jerr;
	int64_t starts_at = 0, duration, secs;
	char why[256], fmt[32];
	size_t i;
	int depth;

	/* The duration parser alone, on the raw input. */
	if (size < 64 && memchr(data, '\0', size) == NULL) {
		char *s = fuzz_strndup(data, size);

		if (duration_parse(s, POLICY_DURATION_MAX, &secs) == JIT_OK) {
			FUZZ_ASSERT(secs > 0 && secs <= POLICY_DURATION_MAX);
			duration_format(secs, fmt, sizeof(fmt));
			FUZZ_ASSERT(duration_parse(fmt, POLICY_DURATION_MAX,
			    &duration) == JIT_OK && duration == secs);
		}
		free(s);
	}

	/*
	 * The nesting check broker/http.c runs first: whenever jansson
	 * parses the text, the scanner's depth is the parsed value's.
	 */
	depth = safetext_json_depth((const char *)data, size,
	    JIT_JSON_DEPTH_MAX);
	if ((body = json_loadb((const char *)data, size,
	    JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return 0;
	FUZZ_ASSERT(depth == value_depth(body) || (depth > JIT_JSON_DEPTH_MAX &&
	    value_depth(body) > JIT_JSON_DEPTH_MAX));
	if (depth > JIT_JSON_DEPTH_MAX) {
		json_decref(body);
		return 0;
	}
	if (!json_is_object(body))
		goto out;
	json_object_foreach(body, key, v) {
		for (i = 0; fields[i] != NULL; i++)
			if (strcmp(fields[i], key) == 0)
				break;
		if (fields[i] == NULL)
			goto out;
	}
	if (body_string(body, "role", 1, POLICY_NAME_MAX, &rname) != 0 ||
	    body_string(body, "reason", 0, POLICY_REASON_MAX, &reason) != 0 ||
	    body_string(body, "ticket", 0, POLICY_TICKET_MAX, &ticket) != 0)
		goto out;
	if ((role = policy_find(fuzz_policy, rname)) == NULL)
		goto out;
	(void)policy_can_request(role, "alice", "eng");
	sv = json_object_get(body, "starts_at");
	if (sv != NULL && !json_is_null(sv)) {
		if (!json_is_integer(sv) || json_integer_value(sv) <= 0)
			goto out;
		starts_at = json_integer_value(sv);
	}
	if (body_duration(body, "duration", POLICY_DURATION_MAX,
	    &duration) != 0)
		goto out;
	if (policy_check_request(role, reason, ticket, duration, starts_at,
	    FUZZ_BODY_NOW, why, sizeof(why)) == JIT_OK)
		FUZZ_ASSERT(duration <= role->max_duration);
	else
		FUZZ_ASSERT(memchr(why, '\0', sizeof(why)) != NULL);
 out:
	json_decref(body);
	return 0;
}
