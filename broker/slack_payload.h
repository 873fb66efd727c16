/*
 * The pure part of POST /v1/hooks/slack (broker/api_slack.c): decoding a
 * Slack interactive callback's form body and picking out the one
 * approve/deny action.  No HTTP, no store, no signature check (the caller
 * verifies the signing secret before calling this).
 */
#ifndef JIT_BROKER_SLACK_PAYLOAD_H
#define JIT_BROKER_SLACK_PAYLOAD_H

#include <stddef.h>

#include <jansson.h>

#define SLACK_ID_MAX		64
#define SLACK_FIELD_MAX		128

/* An action; the strings are borrowed from json (slack_action_clear). */
struct slack_action {
	json_t		*json;		/* the whole payload object */
	const char	*type;		/* "block_actions" */
	const char	*user_id;	/* user.id, 1..SLACK_ID_MAX bytes */
	const char	*action_id;	/* "approve" or "deny" */
	const char	*value;		/* the request id, as sent */
	const char	*action_ts;
};

enum slack_payload_status {
	SLACK_PAYLOAD_OK = 0,
	SLACK_PAYLOAD_BAD_BODY,		/* no single payload= JSON object */
	SLACK_PAYLOAD_BAD_ACTION,	/* not one approve or deny action */
};

/*
 * Finds the one "payload" field of a form body of len bytes, URL-decodes
 * it ('+' as space; an embedded NUL is refused) and parses it as a JSON
 * object (duplicate keys refused), then checks it is a block_actions
 * payload with exactly one action whose action_id is approve or deny, and
 * whose strings are present, non-empty, bounded and NUL-free.  Returns
 * SLACK_PAYLOAD_OK with *out filled, or an error with *out zeroed.  Free
 * with slack_action_clear.
 */
enum slack_payload_status slack_payload_parse(const char *body, size_t len,
    struct slack_action *out) __attribute__((warn_unused_result));
/* Releases what slack_payload_parse filled and zeroes a; accepts NULL. */
void slack_action_clear(struct slack_action *a);

#endif
