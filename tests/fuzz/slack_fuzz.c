/*
 * Slack interactive callback bodies: slack_payload_parse (the form
 * decoder and the action checks of POST /v1/hooks/slack, after the
 * signature check), then the request id parse the handler does next.
 */
#include <string.h>

#include "broker/requests.h"
#include "broker/slack_payload.h"
#include "tests/fuzz/fuzz.h"

FUZZ_INIT(slack)
{
}

FUZZ_TARGET(slack)
{
	struct slack_action a;

	if (slack_payload_parse((const char *)data, size, &a) !=
	    SLACK_PAYLOAD_OK) {
		FUZZ_ASSERT(a.json == NULL);
		return 0;
	}
	FUZZ_ASSERT(strcmp(a.type, "block_actions") == 0);
	FUZZ_ASSERT(strcmp(a.action_id, "approve") == 0 ||
	    strcmp(a.action_id, "deny") == 0);
	FUZZ_ASSERT(strlen(a.user_id) >= 1 &&
	    strlen(a.user_id) <= SLACK_ID_MAX);
	FUZZ_ASSERT(strlen(a.value) <= SLACK_FIELD_MAX &&
	    strlen(a.action_ts) <= SLACK_FIELD_MAX);
	(void)req_parse_id(a.value);
	slack_action_clear(&a);
	return 0;
}
