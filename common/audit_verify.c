/*
 * The read side of the audit chain (see audit_chain.h): strict parsers for
 * export lines and the streaming verifier that both the store (rows in seq
 * order) and `jit audit verify` (an export file) feed.  The verifier keeps
 * only the last AUDIT_VERIFY_WINDOW hashes and the checkpoints still ahead
 * of the log, so its memory does not grow with the length of the chain.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "common/audit_chain.h"
#include "common/b64.h"
#include "common/err.h"
#include "common/limits.h"
#include "common/safetext.h"

#define HEX_LEN	(2 * AUDIT_HASH_LEN)

struct audit_verifier {
	uint8_t			 pk[AUDIT_PK_LEN];
	int			 have_pk;
	int			 pk_from_caller;
	uint64_t		 lineno;	/* lines fed so far */
	uint64_t		 cur_line;	/* line being checked, 0 if none */
	uint64_t		 events;
	uint64_t		 last_seq;
	uint8_t			 last_hash[AUDIT_HASH_LEN];
	uint8_t			 window[AUDIT_VERIFY_WINDOW][AUDIT_HASH_LEN];
	uint64_t		 checkpoints;
	uint64_t		 last_cp_seq;
	struct audit_checkpoint	*pending;	/* ascending seq */
	size_t			 npending;
	int			 err;		/* first failure, sticky */
	uint64_t		 first_bad;
	char			 reason[sizeof(((struct audit_verify_result *)0)->reason)];
};

/* Parsing: every helper sets *why to a short reason on failure. */

static int
load_line(const char *line, size_t len, json_t **out, const char **why)
{
	json_error_t e;
	json_t *j;

	*out = NULL;
	if (line == NULL) {
		*why = "no line";
		return JIT_ERR_INVALID_ARG;
	}
	if (len > AUDIT_LINE_MAX) {
		*why = "line too long";
		return JIT_ERR_LIMIT;
	}
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len == 0) {
		*why = "empty line";
		return JIT_ERR_INVALID_FORMAT;
	}
	if (memchr(line, '\0', len) != NULL) {
		*why = "NUL byte in line";
		return JIT_ERR_INVALID_FORMAT;
	}
	if (safetext_json_depth(line, len, JIT_JSON_DEPTH_MAX) >
	    JIT_JSON_DEPTH_MAX) {
		*why = "JSON nested too deep";
		return JIT_ERR_INVALID_FORMAT;
	}
	if ((j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &e)) == NULL) {
		*why = json_error_code(&e) == json_error_duplicate_key ?
		    "duplicate key" : "malformed JSON";
		return JIT_ERR_INVALID_FORMAT;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		*why = "not a JSON object";
		return JIT_ERR_INVALID_FORMAT;
	}
	*out = j;
	return JIT_OK;
}

/* Checks that o has exactly n keys and type == want. */
static int
check_shape(json_t *o, const char *want, size_t n, const char **why)
{
	const char *t = json_string_value(json_object_get(o, "type"));

	if (t == NULL) {
		*why = "missing \"type\"";
		return JIT_ERR_INVALID_FORMAT;
	}
	if (strcmp(t, want) != 0) {
		*why = "unexpected \"type\"";
		return JIT_ERR_INVALID_FORMAT;
	}
	if (json_object_size(o) != n) {
		*why = "missing or extra fields";
		return JIT_ERR_INVALID_FORMAT;
	}
	return JIT_OK;
}

static int
get_int(json_t *o, const char *k, json_int_t min, json_int_t *v,
    const char **why)
{
	json_t *j = json_object_get(o, k);

	*v = 0;
	if (j == NULL) {
		*why = "missing field";
		return JIT_ERR_INVALID_FORMAT;
	}
	if (!json_is_integer(j) || json_integer_value(j) < min) {
		*why = "field is not a valid integer";
		return JIT_ERR_INVALID_FORMAT;
	}
	*v = json_integer_value(j);
	return JIT_OK;
}

/* Returns a borrowed pointer to a NUL-free string field. */
static int
get_str(json_t *o, const char *k, const char **s, const char **why)
{
	json_t *j = json_object_get(o, k);

	*s = NULL;
	if (j == NULL) {
		*why = "missing field";
		return JIT_ERR_INVALID_FORMAT;
	}
	if (!json_is_string(j) ||
	    strlen(json_string_value(j)) != json_string_length(j)) {
		*why = "field is not a string";
		return JIT_ERR_INVALID_FORMAT;
	}
	*s = json_string_value(j);
	return JIT_OK;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Exactly 64 lowercase hex digits. */
static int
get_hex32(json_t *o, const char *k, uint8_t out[AUDIT_HASH_LEN],
    const char **why)
{
	const char *s;
	int i, hi, lo, r;

	memset(out, 0, AUDIT_HASH_LEN);
	if ((r = get_str(o, k, &s, why)) != JIT_OK)
		return r;
	if (strlen(s) != HEX_LEN) {
		*why = "hash is not 64 hex digits";
		return JIT_ERR_INVALID_FORMAT;
	}
	for (i = 0; i < AUDIT_HASH_LEN; i++) {
		if ((hi = hexval(s[2 * i])) < 0 ||
		    (lo = hexval(s[2 * i + 1])) < 0) {
			memset(out, 0, AUDIT_HASH_LEN);
			*why = "hash is not lowercase hex";
			return JIT_ERR_INVALID_FORMAT;
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return JIT_OK;
}

/* Exactly n bytes of standard, padded base64. */
static int
get_b64(json_t *o, const char *k, uint8_t *out, size_t n, const char **why)
{
	const char *s;
	uint8_t *d = NULL;
	size_t dlen;
	int r;

	memset(out, 0, n);
	if ((r = get_str(o, k, &s, why)) != JIT_OK)
		return r;
	/* b64_decode wants room for padding slack; the length is exact. */
	if (b64_decode(s, strlen(s), B64_STD, n + 2, &d, &dlen) != JIT_OK ||
	    dlen != n) {
		free(d);
		*why = "bad base64 or wrong length";
		return JIT_ERR_INVALID_FORMAT;
	}
	memcpy(out, d, n);
	free(d);
	return JIT_OK;
}

static int
event_from_json(json_t *o, struct audit_event *ev, const char **why)
{
	const char *actor, *action, *target, *outcome;
	json_int_t seq, ts;
	json_t *d;
	int r = JIT_ERR_INTERNAL;

	memset(ev, 0, sizeof(*ev));
	if ((r = check_shape(o, "event", 10, why)) != JIT_OK ||
	    (r = get_int(o, "seq", 1, &seq, why)) != JIT_OK ||
	    (r = get_int(o, "ts", INT64_MIN, &ts, why)) != JIT_OK ||
	    (r = get_str(o, "actor", &actor, why)) != JIT_OK ||
	    (r = get_str(o, "action", &action, why)) != JIT_OK ||
	    (r = get_str(o, "target", &target, why)) != JIT_OK ||
	    (r = get_str(o, "outcome", &outcome, why)) != JIT_OK ||
	    (r = get_hex32(o, "prev_hash", ev->prev_hash, why)) != JIT_OK ||
	    (r = get_hex32(o, "hash", ev->hash, why)) != JIT_OK)
		goto out;
	d = json_object_get(o, "details");
	if (d == NULL || !json_is_object(d) ||
	    audit_details_check(d) != JIT_OK) {
		*why = "details must be an object of strings, integers, "
		    "booleans, null, arrays and objects";
		r = JIT_ERR_INVALID_FORMAT;
		goto out;
	}
	ev->seq = (uint64_t)seq;
	ev->ts = ts;
	if ((ev->actor = strdup(actor)) == NULL ||
	    (ev->action = strdup(action)) == NULL ||
	    (ev->target = strdup(target)) == NULL ||
	    (ev->outcome = strdup(outcome)) == NULL) {
		*why = "out of memory";
		r = JIT_ERR_ALLOC;
		goto out;
	}
	ev->details = json_incref(d);
	r = JIT_OK;
 out:
	if (r != JIT_OK)
		audit_event_clear(ev);
	return r;
}

static int
checkpoint_from_json(json_t *o, struct audit_checkpoint *cp,
    const char **why)
{
	json_int_t seq, ts;
	int r = JIT_ERR_INTERNAL;

	memset(cp, 0, sizeof(*cp));
	if ((r = check_shape(o, "checkpoint", 5, why)) != JIT_OK ||
	    (r = get_int(o, "seq", 1, &seq, why)) != JIT_OK ||
	    (r = get_int(o, "ts", INT64_MIN, &ts, why)) != JIT_OK ||
	    (r = get_hex32(o, "hash", cp->hash, why)) != JIT_OK ||
	    (r = get_b64(o, "signature", cp->sig, AUDIT_SIG_LEN, why)) !=
	    JIT_OK)
		goto out;
	cp->seq = (uint64_t)seq;
	cp->ts = ts;
	r = JIT_OK;
 out:
	if (r != JIT_OK)
		memset(cp, 0, sizeof(*cp));
	return r;
}

static int
header_from_json(json_t *o, uint8_t pk[AUDIT_PK_LEN], const char **why)
{
	json_int_t version;
	int r;

	if ((r = check_shape(o, "header", 3, why)) != JIT_OK ||
	    (r = get_int(o, "version", 1, &version, why)) != JIT_OK ||
	    (r = get_b64(o, "key", pk, AUDIT_PK_LEN, why)) != JIT_OK)
		return r;
	if (version != 1) {
		*why = "unsupported header version";
		return JIT_ERR_INVALID_FORMAT;
	}
	return JIT_OK;
}

int
audit_event_parse(const char *line, size_t len, struct audit_event *ev)
{
	const char *why = NULL;
	json_t *o = NULL;
	int r = JIT_ERR_INTERNAL;

	memset(ev, 0, sizeof(*ev));
	if ((r = load_line(line, len, &o, &why)) != JIT_OK)
		goto out;
	r = event_from_json(o, ev, &why);
 out:
	json_decref(o);
	return r;
}

int
audit_checkpoint_parse(const char *line, size_t len,
    struct audit_checkpoint *cp)
{
	const char *why = NULL;
	json_t *o = NULL;
	int r = JIT_ERR_INTERNAL;

	memset(cp, 0, sizeof(*cp));
	if ((r = load_line(line, len, &o, &why)) != JIT_OK)
		goto out;
	r = checkpoint_from_json(o, cp, &why);
 out:
	json_decref(o);
	return r;
}

void
audit_event_clear(struct audit_event *ev)
{
	if (ev == NULL)
		return;
	free((char *)ev->actor);
	free((char *)ev->action);
	free((char *)ev->target);
	free((char *)ev->outcome);
	json_decref(ev->details);
	memset(ev, 0, sizeof(*ev));
}

/* The verifier. */

struct audit_verifier *
audit_verifier_new(const uint8_t *pubkey)
{
	struct audit_verifier *v;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return NULL;
	if (pubkey != NULL) {
		memcpy(v->pk, pubkey, AUDIT_PK_LEN);
		v->have_pk = v->pk_from_caller = 1;
	}
	return v;
}

void
audit_verifier_free(struct audit_verifier *v)
{
	if (v == NULL)
		return;
	free(v->pending);
	free(v);
}

/* Records the first failure; later ones are ignored. */
static int __attribute__((format(printf, 4, 5)))
fail(struct audit_verifier *v, int code, uint64_t seq, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (v->err != JIT_OK)
		return v->err;
	v->err = code;
	v->first_bad = seq;
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
	n = strlen(v->reason);
	if (v->cur_line != 0 && n < sizeof(v->reason))
		snprintf(v->reason + n, sizeof(v->reason) - n, " (line %llu)",
		    (unsigned long long)v->cur_line);
	return code;
}

/* Settles the checkpoints held for the event just accepted. */
static int
settle_pending(struct audit_verifier *v, uint64_t seq,
    const uint8_t hash[AUDIT_HASH_LEN])
{
	while (v->npending > 0 && v->pending[0].seq == seq) {
		if (sodium_memcmp(v->pending[0].hash, hash,
		    AUDIT_HASH_LEN) != 0)
			return fail(v, JIT_ERR_BAD_SIGNATURE, seq,
			    "checkpoint %llu hash does not match the event",
			    (unsigned long long)seq);
		v->checkpoints++;
		v->last_cp_seq = seq;
		v->npending--;
		memmove(v->pending, v->pending + 1,
		    v->npending * sizeof(*v->pending));
	}
	return JIT_OK;
}

int
audit_verifier_event(struct audit_verifier *v, const struct audit_event *ev)
{
	uint8_t h[AUDIT_HASH_LEN];
	uint64_t want;
	int r;

	if (v == NULL || ev == NULL)
		return JIT_ERR_INVALID_ARG;
	if (v->err != JIT_OK)
		return v->err;
	want = v->last_seq + 1;
	if (ev->seq != want)
		return fail(v, JIT_ERR_INVALID_FORMAT, want,
		    "sequence %s: expected %llu, found %llu",
		    ev->seq > want ? "gap" : "out of order",
		    (unsigned long long)want, (unsigned long long)ev->seq);
	if (sodium_memcmp(ev->prev_hash, v->last_hash, AUDIT_HASH_LEN) != 0)
		return fail(v, JIT_ERR_BAD_SIGNATURE, want,
		    "prev_hash does not match the previous event");
	if ((r = audit_event_hash(ev, h)) != JIT_OK)
		return fail(v, JIT_ERR_INVALID_FORMAT, want,
		    "event cannot be canonicalised: %s", jit_strerror(r));
	if (sodium_memcmp(h, ev->hash, AUDIT_HASH_LEN) != 0)
		return fail(v, JIT_ERR_BAD_SIGNATURE, want, "hash mismatch");
	v->events++;
	v->last_seq = want;
	memcpy(v->last_hash, h, AUDIT_HASH_LEN);
	memcpy(v->window[want % AUDIT_VERIFY_WINDOW], h, AUDIT_HASH_LEN);
	return settle_pending(v, want, h);
}

static int
hold_pending(struct audit_verifier *v, const struct audit_checkpoint *cp)
{
	size_t i;

	if (v->npending >= AUDIT_PENDING_MAX)
		return fail(v, JIT_ERR_LIMIT, cp->seq,
		    "too many checkpoints ahead of the log");
	if (v->pending == NULL && (v->pending = calloc(AUDIT_PENDING_MAX,
	    sizeof(*v->pending))) == NULL)
		return JIT_ERR_ALLOC;
	for (i = v->npending; i > 0 && v->pending[i - 1].seq > cp->seq; i--)
		;
	memmove(v->pending + i + 1, v->pending + i,
	    (v->npending - i) * sizeof(*v->pending));
	v->pending[i] = *cp;
	v->npending++;
	return JIT_OK;
}

int
audit_verifier_checkpoint(struct audit_verifier *v,
    const struct audit_checkpoint *cp)
{
	if (v == NULL || cp == NULL)
		return JIT_ERR_INVALID_ARG;
	if (v->err != JIT_OK)
		return v->err;
	if (cp->seq == 0 || cp->seq > AUDIT_SEQ_MAX)
		return fail(v, JIT_ERR_INVALID_FORMAT, v->last_seq + 1,
		    "checkpoint with an invalid seq");
	if (cp->seq <= v->last_seq) {
		if (v->last_seq - cp->seq >= AUDIT_VERIFY_WINDOW)
			return fail(v, JIT_ERR_LIMIT, cp->seq,
			    "checkpoint %llu is too far behind its event",
			    (unsigned long long)cp->seq);
		if (sodium_memcmp(cp->hash,
		    v->window[cp->seq % AUDIT_VERIFY_WINDOW],
		    AUDIT_HASH_LEN) != 0)
			return fail(v, JIT_ERR_BAD_SIGNATURE, cp->seq,
			    "checkpoint %llu hash does not match the event",
			    (unsigned long long)cp->seq);
	}
	if (v->have_pk && audit_checkpoint_verify(cp, v->pk) != JIT_OK)
		return fail(v, JIT_ERR_BAD_SIGNATURE, cp->seq,
		    "bad checkpoint signature (checkpoint %llu)",
		    (unsigned long long)cp->seq);
	if (cp->seq > v->last_seq)
		return hold_pending(v, cp);
	v->checkpoints++;
	if (cp->seq > v->last_cp_seq)
		v->last_cp_seq = cp->seq;
	return JIT_OK;
}

static int
verifier_header(struct audit_verifier *v, json_t *o, const char **why)
{
	uint8_t pk[AUDIT_PK_LEN];
	int r;

	if (v->lineno != 1) {
		*why = "header is not the first line";
		return JIT_ERR_INVALID_FORMAT;
	}
	if ((r = header_from_json(o, pk, why)) != JIT_OK)
		return r;
	if (v->pk_from_caller) {
		if (sodium_memcmp(pk, v->pk, AUDIT_PK_LEN) != 0)
			return fail(v, JIT_ERR_BAD_SIGNATURE, 1,
			    "header key is not the expected audit key");
	} else {
		memcpy(v->pk, pk, AUDIT_PK_LEN);
		v->have_pk = 1;
	}
	return JIT_OK;
}

int
audit_verifier_line(struct audit_verifier *v, const char *line, size_t len)
{
	struct audit_event ev;
	struct audit_checkpoint cp;
	const char *why = "malformed line", *type;
	json_t *o = NULL;
	int r = JIT_ERR_INTERNAL;

	memset(&ev, 0, sizeof(ev));
	if (v == NULL)
		return JIT_ERR_INVALID_ARG;
	if (v->err != JIT_OK)
		return v->err;
	v->cur_line = ++v->lineno;
	if ((r = load_line(line, len, &o, &why)) != JIT_OK)
		goto bad;
	if ((type = json_string_value(json_object_get(o, "type"))) == NULL) {
		why = "missing \"type\"";
		r = JIT_ERR_INVALID_FORMAT;
		goto bad;
	}
	if (strcmp(type, "event") == 0) {
		if ((r = event_from_json(o, &ev, &why)) != JIT_OK)
			goto bad;
		r = audit_verifier_event(v, &ev);
	} else if (strcmp(type, "checkpoint") == 0) {
		if ((r = checkpoint_from_json(o, &cp, &why)) != JIT_OK)
			goto bad;
		r = audit_verifier_checkpoint(v, &cp);
	} else if (strcmp(type, "header") == 0) {
		if ((r = verifier_header(v, o, &why)) != JIT_OK)
			goto bad;
	} else {
		why = "unknown line type";
		r = JIT_ERR_INVALID_FORMAT;
		goto bad;
	}
	goto out;
 bad:
	r = fail(v, r, v->last_seq + 1, "%s", why);
 out:
	v->cur_line = 0;
	audit_event_clear(&ev);
	json_decref(o);
	return r;
}

int
audit_verifier_finish(struct audit_verifier *v,
    struct audit_verify_result *res)
{
	if (res != NULL)
		memset(res, 0, sizeof(*res));
	if (v == NULL || res == NULL)
		return JIT_ERR_INVALID_ARG;
	if (v->err == JIT_OK && v->npending > 0)
		(void)fail(v, JIT_ERR_INCOMPLETE, v->pending[0].seq,
		    "checkpoint %llu refers to a missing event "
		    "(the log ends at %llu)",
		    (unsigned long long)v->pending[0].seq,
		    (unsigned long long)v->last_seq);
	res->ok = v->err == JIT_OK;
	res->signatures_checked = v->have_pk;
	res->events = v->events;
	res->last_seq = v->last_seq;
	res->checkpoints = v->checkpoints;
	res->last_checkpoint_seq = v->last_cp_seq;
	res->first_bad_seq = v->err == JIT_OK ? 0 : v->first_bad;
	memcpy(res->reason, v->reason, sizeof(res->reason));
	return v->err;
}

/*
 * Reads one line into p (room for AUDIT_LINE_MAX + 1 bytes).  Returns its
 * length with the newline, AUDIT_LINE_MAX + 1 when it is longer than
 * allowed (the rest is not read), 0 at end of file.
 */
static size_t
read_line(FILE *f, char *p)
{
	size_t n = 0;
	int c;

	while (n <= AUDIT_LINE_MAX && (c = getc_unlocked(f)) != EOF) {
		p[n++] = (char)c;
		if (c == '\n')
			break;
	}
	return n;
}

int
audit_verify_file(const char *path, const uint8_t *pubkey,
    struct audit_verify_result *res)
{
	struct audit_verifier *v = NULL;
	FILE *f = NULL;
	char *line = NULL;
	size_t n;
	int r = JIT_ERR_INTERNAL;

	if (res != NULL)
		memset(res, 0, sizeof(*res));
	if (path == NULL || res == NULL)
		return JIT_ERR_INVALID_ARG;
	if ((v = audit_verifier_new(pubkey)) == NULL ||
	    (line = malloc(AUDIT_LINE_MAX + 1)) == NULL) {
		r = JIT_ERR_ALLOC;
		snprintf(res->reason, sizeof(res->reason), "out of memory");
		goto out;
	}
	if ((f = fopen(path, "re")) == NULL) {
		r = errno == ENOENT ? JIT_ERR_NOT_FOUND : JIT_ERR_SYSTEM;
		snprintf(res->reason, sizeof(res->reason), "%s: %s", path,
		    strerror(errno));
		goto out;
	}
	while ((n = read_line(f, line)) > 0) {
		if (audit_verifier_line(v, line, n) != JIT_OK)
			break;	/* the verdict is in; finish reports it */
	}
	if (ferror(f)) {
		r = JIT_ERR_SYSTEM;
		snprintf(res->reason, sizeof(res->reason), "%s: read error",
		    path);
		goto out;
	}
	r = audit_verifier_finish(v, res);
 out:
	if (f != NULL)
		fclose(f);
	free(line);
	audit_verifier_free(v);
	return r;
}
