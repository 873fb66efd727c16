/*
 * Slack interactive callback bodies: a bounded form decoder and the
 * action's JSON fields (see slack_payload.h).  Moved out of api_slack.c
 * unchanged so that a fuzz harness can reach it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "broker/slack_payload.h"
#include "common/limits.h"
#include "common/safetext.h"

/*
 * Finds the one "payload" field of a form body and URL-decodes it (with
 * '+' as space).  Returns a malloc'd string or NULL.
 */
static char *
form_payload(const char *body, size_t len)
{
	const char *p = body, *end = body + len, *amp, *val = NULL;
	size_t vlen = 0, i;
	char *tmp, *dec, *out = NULL;
	int olen = 0;

	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		if ((size_t)(amp - p) >= 8 && memcmp(p, "payload=", 8) == 0) {
			if (val != NULL)
				return NULL;	/* twice */
			val = p + 8;
			vlen = (size_t)(amp - val);
		}
		p = amp + 1;
	}
	if (val == NULL || vlen == 0 || vlen > INT32_MAX)
		return NULL;
	if ((tmp = malloc(vlen + 1)) == NULL)
		return NULL;
	for (i = 0; i < vlen; i++)
		tmp[i] = val[i] == '+' ? ' ' : val[i];
	tmp[vlen] = '\0';
	dec = curl_easy_unescape(NULL, tmp, (int)vlen, &olen);
	free(tmp);
	if (dec == NULL)
		return NULL;
	/* An embedded NUL would cut the JSON short: refuse it. */
	if (olen >= 0 && strlen(dec) == (size_t)olen)
		out = strdup(dec);
	curl_free(dec);
	return out;
}

static const char *
jstr(json_t *o, const char *key, size_t max)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return NULL;
	return json_string_value(v);
}

enum slack_payload_status
slack_payload_parse(const char *body, size_t len, struct slack_action *out)
{
	struct slack_action a;
	json_t *p = NULL, *action;
	json_error_t jerr;
	char *payload;

	memset(out, 0, sizeof(*out));
	memset(&a, 0, sizeof(a));
	if ((payload = form_payload(body, len)) == NULL ||
	    safetext_json_depth(payload, strlen(payload), JIT_JSON_DEPTH_MAX) >
	    JIT_JSON_DEPTH_MAX ||
	    (p = json_loads(payload, JSON_REJECT_DUPLICATES, &jerr)) == NULL ||
	    !json_is_object(p)) {
		json_decref(p);
		free(payload);
		return SLACK_PAYLOAD_BAD_BODY;
	}
	free(payload);
	a.json = p;
	a.type = jstr(p, "type", 32);
	a.user_id = jstr(json_object_get(p, "user"), "id", SLACK_ID_MAX);
	action = json_array_get(json_object_get(p, "actions"), 0);
	a.action_id = jstr(action, "action_id", SLACK_FIELD_MAX);
	a.value = jstr(action, "value", SLACK_FIELD_MAX);
	a.action_ts = jstr(action, "action_ts", SLACK_FIELD_MAX);
	if (a.type == NULL || strcmp(a.type, "block_actions") != 0 ||
	    a.user_id == NULL || a.action_id == NULL || a.value == NULL ||
	    a.action_ts == NULL ||
	    json_array_size(json_object_get(p, "actions")) != 1 ||
	    (strcmp(a.action_id, "approve") != 0 &&
	    strcmp(a.action_id, "deny") != 0)) {
		json_decref(p);
		return SLACK_PAYLOAD_BAD_ACTION;
	}
	*out = a;
	return SLACK_PAYLOAD_OK;
}

void
slack_action_clear(struct slack_action *a)
{
	if (a == NULL)
		return;
	json_decref(a->json);
	memset(a, 0, sizeof(*a));
}
