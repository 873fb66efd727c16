/*
 * The audit export verifier: the input as an export file, line by line,
 * through audit_verifier_line and audit_verifier_finish.  Round trips:
 * every line that parses as an event (or checkpoint) is exported again
 * and parses back to an equal event (checkpoint) with the same canonical
 * form.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/audit_chain.h"
#include "common/err.h"
#include "tests/fuzz/fuzz.h"

FUZZ_INIT(audit)
{
	FUZZ_ASSERT(sodium_init() >= 0);
}

static void
event_round_trip(const char *line, size_t len)
{
	struct audit_event a, b;
	char *out, *ca, *cb;
	size_t la, lb;

	if (audit_event_parse(line, len, &a) != JIT_OK)
		return;
	FUZZ_ASSERT(audit_canonical(&a, &ca, &la) == JIT_OK);
	FUZZ_ASSERT((out = audit_event_export_line(&a)) != NULL);
	FUZZ_ASSERT(audit_event_parse(out, strlen(out), &b) == JIT_OK);
	FUZZ_ASSERT(a.seq == b.seq && a.ts == b.ts);
	FUZZ_ASSERT(strcmp(a.actor, b.actor) == 0 &&
	    strcmp(a.action, b.action) == 0 &&
	    strcmp(a.target, b.target) == 0 &&
	    strcmp(a.outcome, b.outcome) == 0);
	FUZZ_ASSERT(json_equal(a.details, b.details) ||
	    (a.details == NULL && json_object_size(b.details) == 0) ||
	    (b.details == NULL && json_object_size(a.details) == 0));
	FUZZ_ASSERT(memcmp(a.prev_hash, b.prev_hash, 32) == 0 &&
	    memcmp(a.hash, b.hash, 32) == 0);
	FUZZ_ASSERT(audit_canonical(&b, &cb, &lb) == JIT_OK);
	FUZZ_ASSERT(la == lb && memcmp(ca, cb, la) == 0);
	free(ca);
	free(cb);
	free(out);
	audit_event_clear(&a);
	audit_event_clear(&b);
}

static void
checkpoint_round_trip(const char *line, size_t len)
{
	struct audit_checkpoint a, b;
	char *out;

	if (audit_checkpoint_parse(line, len, &a) != JIT_OK)
		return;
	FUZZ_ASSERT((out = audit_checkpoint_export_line(&a)) != NULL);
	FUZZ_ASSERT(audit_checkpoint_parse(out, strlen(out), &b) == JIT_OK);
	FUZZ_ASSERT(memcmp(&a, &b, sizeof(a)) == 0);
	free(out);
}

FUZZ_TARGET(audit)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	struct audit_verifier *v;
	struct audit_verify_result res;
	size_t len;
	int r;

	FUZZ_ASSERT((v = audit_verifier_new(NULL)) != NULL);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		event_round_trip(p, len);
		checkpoint_round_trip(p, len);
		r = audit_verifier_line(v, p, len);
		(void)r;
		p += len;
	}
	r = audit_verifier_finish(v, &res);
	FUZZ_ASSERT((r == JIT_OK) == (res.ok != 0));
	FUZZ_ASSERT(memchr(res.reason, '\0', sizeof(res.reason)) != NULL);
	audit_verifier_free(v);
	return 0;
}
