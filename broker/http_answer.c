/*
 * What handlers use to read a request and answer it: JSON answers and
 * errors (one table from JIT_ERR_* codes to HTTP statuses), and the body
 * and query helpers that bound every field (see server.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <microhttpd.h>

#include "broker/server.h"
#include "common/err.h"

void
http_json(struct http_req *rq, int status, json_t *body)
{
	json_decref(rq->resp);
	rq->status = status;
	rq->resp = body;
}

void
http_error(struct http_req *rq, int status, const char *code,
    const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	http_json(rq, status, json_pack("{s:s,s:s}", "error", code, "message",
	    msg));
}

void
http_error_code(struct http_req *rq, int r)
{
	switch (r) {
	case JIT_ERR_AUTH:
		http_error(rq, 401, "unauthorized", "authentication failed");
		break;
	case JIT_ERR_MFA_REQUIRED:
		http_error(rq, 401, "mfa_required", "a fresh one-time code is "
		    "required: POST /v1/mfa {\"otp\": \"123456\"}");
		break;
	case JIT_ERR_PERMISSION:
	case JIT_ERR_POLICY:
		http_error(rq, 403, "forbidden", "%s", jit_strerror(r));
		break;
	case JIT_ERR_NOT_FOUND:
		http_error(rq, 404, "not_found", "no such object");
		break;
	case JIT_ERR_CONFLICT:
	case JIT_ERR_EXISTS:
		http_error(rq, 409, "conflict", "%s", jit_strerror(r));
		break;
	case JIT_ERR_EXPIRED:
		http_error(rq, 410, "expired", "%s", jit_strerror(r));
		break;
	case JIT_ERR_INVALID_ARG:
	case JIT_ERR_INVALID_FORMAT:
	case JIT_ERR_INCOMPLETE:
	case JIT_ERR_TRAILING_DATA:
	case JIT_ERR_LIMIT:
	case JIT_ERR_KEY_TYPE:
	case JIT_ERR_KEY_TOO_SMALL:
	case JIT_ERR_BAD_SIGNATURE:
		http_error(rq, 400, "invalid_request", "%s", jit_strerror(r));
		break;
	case JIT_ERR_RATE_LIMITED:
		if (rq->retry_after <= 0)
			rq->retry_after = 1;
		http_error(rq, 429, "too_many_requests", "too many attempts: "
		    "try again in %d s", rq->retry_after);
		break;
	case JIT_ERR_STORE:
	case JIT_ERR_BUSY:
		http_error(rq, 503, "unavailable", "the database is not "
		    "available; nothing was changed, try again");
		break;
	default:
		http_error(rq, 500, "internal", "internal error");
		break;
	}
}

int
http_body_check(struct http_req *rq, const char *const *allowed)
{
	const char *key;
	json_t *v;
	size_t i;

	if (rq->body == NULL) {
		http_error(rq, 400, "invalid_request", "a JSON object body is "
		    "required");
		return -1;
	}
	json_object_foreach(rq->body, key, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(allowed[i], key) == 0)
				break;
		if (allowed[i] == NULL) {
			http_error(rq, 400, "invalid_request", "unknown field "
			    "\"%.64s\"", key);
			return -1;
		}
	}
	return 0;
}

int
http_body_string(struct http_req *rq, const char *key, int required,
    size_t maxlen, const char **out)
{
	json_t *v = rq->body != NULL ? json_object_get(rq->body, key) : NULL;

	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (!required)
			return 0;
		http_error(rq, 400, "invalid_request", "field \"%s\" is "
		    "required", key);
		return -1;
	}
	if (!json_is_string(v)) {
		http_error(rq, 400, "invalid_request", "field \"%s\" must be a "
		    "string", key);
		return -1;
	}
	if (json_string_length(v) > maxlen ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		http_error(rq, 400, "invalid_request", "field \"%s\" is too "
		    "long or contains a NUL byte", key);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

const char *
http_query(struct http_req *rq, const char *key)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND,
	    key);
}
