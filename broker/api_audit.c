/*
 * Audit routes: filtered queries with keyset pagination, the streamed
 * export (JSON lines with checkpoints, the format `jit audit verify` and
 * `jitd audit verify --export` check offline) and the checkpoint public
 * key.  Queries and exports are for the configured auditors only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "broker/api.h"
#include "common/audit_chain.h"
#include "common/b64.h"
#include "common/err.h"
#include "common/timefmt.h"

#define EXPORT_BATCH	500

static int
require_auditor(struct http_req *rq)
{
	if (http_require_auth(rq) != 0)
		return -1;
	if (!config_principal_match(rq->cfg->auditors, rq->cfg->nauditors,
	    rq->auth.user.name, rq->auth.user.groups)) {
		http_error(rq, 403, "forbidden", "only auditors may read the "
		    "audit log");
		return -1;
	}
	return 0;
}

static void
hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
add_event(void *arg, const struct audit_event *ev)
{
	json_t *arr = arg;
	char ts[TIMEFMT_LEN], h[65], ph[65];

	time_format(ev->ts, ts);
	hex(ev->hash, 32, h);
	hex(ev->prev_hash, 32, ph);
	if (json_array_append_new(arr, json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,"
	    "s:s,s:O,s:s,s:s}", "seq", (json_int_t)ev->seq, "ts",
	    (json_int_t)ev->ts, "time", ts, "actor", ev->actor, "action",
	    ev->action, "target", ev->target, "outcome", ev->outcome,
	    "details", ev->details, "prev_hash", ph, "hash", h)) != 0)
		return JIT_ERR_ALLOC;
	return JIT_OK;
}

/* Parses an optional non-negative integer or time query parameter. */
static int
query_time(struct http_req *rq, const char *key, int64_t *out)
{
	const char *v = http_query(rq, key);

	*out = 0;
	if (v == NULL || *v == '\0')
		return 0;
	if (time_parse(v, out) != JIT_OK) {
		http_error(rq, 400, "invalid_request", "\"%s\" must be epoch "
		    "seconds or YYYY-MM-DDTHH:MM:SSZ", key);
		return -1;
	}
	return 0;
}

static int
query_str(struct http_req *rq, const char *key, const char **out)
{
	const char *v = http_query(rq, key);

	*out = NULL;
	if (v == NULL || *v == '\0')
		return 0;
	if (strlen(v) > 256) {
		http_error(rq, 400, "invalid_request", "\"%s\" is too long",
		    key);
		return -1;
	}
	*out = v;
	return 0;
}

void
api_audit_query(struct http_req *rq)
{
	struct store_audit_filter f;
	int64_t after, limit;
	json_t *events, *last;
	const char *v;
	int r;

	if (require_auditor(rq) != 0)
		return;
	memset(&f, 0, sizeof(f));
	if (query_str(rq, "actor", &f.actor) != 0 ||
	    query_str(rq, "action", &f.action) != 0 ||
	    query_str(rq, "target", &f.target) != 0 ||
	    query_time(rq, "since", &f.since) != 0 ||
	    query_time(rq, "until", &f.until) != 0)
		return;
	after = 0;
	if ((v = http_query(rq, "after")) != NULL && *v != '\0' &&
	    time_parse(v, &after) != JIT_OK) {
		http_error(rq, 400, "invalid_request", "\"after\" must be a "
		    "sequence number");
		return;
	}
	limit = 100;
	if ((v = http_query(rq, "limit")) != NULL && *v != '\0' &&
	    (time_parse(v, &limit) != JIT_OK || limit < 1 || limit > 1000)) {
		http_error(rq, 400, "invalid_request", "\"limit\" must be 1 to "
		    "1000");
		return;
	}
	f.after = (uint64_t)after;
	f.limit = (unsigned int)limit;
	if ((events = json_array()) == NULL) {
		http_error_code(rq, JIT_ERR_ALLOC);
		return;
	}
	if ((r = store_audit_query(rq->srv->store, &f, add_event, events)) !=
	    JIT_OK) {
		json_decref(events);
		http_error_code(rq, r);
		return;
	}
	/* A full page may have more behind it: say where to continue. */
	last = json_array_size(events) == (size_t)limit ?
	    json_object_get(json_array_get(events, json_array_size(events) -
	    1), "seq") : NULL;
	http_json(rq, 200, json_pack("{s:o,s:O}", "events", events,
	    "next_after", last != NULL ? last : json_null()));
}

/* State of one streamed export. */
struct export_state {
	struct server	*srv;
	uint64_t	 after;		/* last event seq sent */
	uint64_t	 head;		/* head when the export started */
	int		 done;
	char		*buf;		/* pending output */
	size_t		 len, off;
	FILE		*mem;		/* while filling buf */
	int		 failed;
};

static int
export_line(void *arg, const struct audit_event *ev,
    const struct audit_checkpoint *cp)
{
	struct export_state *st = arg;
	char *line;

	line = ev != NULL ? audit_event_export_line(ev) :
	    audit_checkpoint_export_line(cp);
	if (line == NULL)
		return JIT_ERR_ALLOC;
	fputs(line, st->mem);
	free(line);
	if (ev != NULL)
		st->after = ev->seq;
	return JIT_OK;
}

/* Fills st->buf with the next batch; sets done at the end. */
static int
export_fill(struct export_state *st)
{
	uint64_t before = st->after, limit;
	int r;

	free(st->buf);
	st->buf = NULL;
	st->len = st->off = 0;
	if ((st->mem = open_memstream(&st->buf, &st->len)) == NULL)
		return JIT_ERR_ALLOC;
	/*
	 * Batches up to the head seen at the start; the last call (limit 0)
	 * also returns checkpoints whose events are missing.
	 */
	limit = st->head > st->after && st->head - st->after > EXPORT_BATCH ?
	    EXPORT_BATCH : 0;
	r = store_audit_export(st->srv->store, st->after, limit, export_line,
	    st);
	if (fclose(st->mem) != 0 && r == JIT_OK)
		r = JIT_ERR_ALLOC;
	st->mem = NULL;
	if (r != JIT_OK)
		return r;
	if (limit == 0 || st->after == before)
		st->done = 1;
	return JIT_OK;
}

static ssize_t
export_reader(void *cls, uint64_t pos, char *out, size_t max)
{
	struct export_state *st = cls;
	size_t n;

	while (st->off == st->len) {
		if (st->done)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (export_fill(st) != JIT_OK) {
			st->failed = 1;
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
	}
	n = st->len - st->off;
	if (n > max)
		n = max;
	memcpy(out, st->buf + st->off, n);
	st->off += n;
	return (ssize_t)n;
}

static void
export_free(void *cls)
{
	struct export_state *st = cls;

	free(st->buf);
	free(st);
}

void
api_audit_export(struct http_req *rq)
{
	struct export_state *st;
	struct MHD_Response *resp;
	char *header;

	if (require_auditor(rq) != 0)
		return;
	if ((st = calloc(1, sizeof(*st))) == NULL ||
	    (header = audit_header_export_line(rq->srv->inst->audit_pk)) ==
	    NULL) {
		free(st);
		http_error_code(rq, JIT_ERR_ALLOC);
		return;
	}
	st->srv = rq->srv;
	st->head = store_audit_head(rq->srv->store);
	st->buf = header;
	st->len = strlen(header);
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024,
	    export_reader, st, export_free);
	if (resp == NULL) {
		export_free(st);
		http_error_code(rq, JIT_ERR_ALLOC);
		return;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/x-ndjson");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION,
	    "attachment; filename=\"jitd-audit.jsonl\"");
	rq->mhd_resp = resp;
	rq->status = 200;
}

void
api_audit_key(struct http_req *rq)
{
	char *b;

	if ((b = b64_encode(rq->srv->inst->audit_pk, 32, B64_STD)) == NULL) {
		http_error_code(rq, JIT_ERR_ALLOC);
		return;
	}
	http_json(rq, 200, json_pack("{s:s,s:s}", "algorithm", "ed25519",
	    "key", b));
	free(b);
}
