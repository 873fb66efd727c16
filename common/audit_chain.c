/*
 * The write side of the audit chain (see audit_chain.h): the canonical form
 * of an event, its hash, sealing an event onto the chain, signing and
 * checking checkpoints, and the export lines.  Every JSON dump goes through
 * a sink with a ceiling, so a huge details object fails with JIT_ERR_LIMIT
 * instead of growing without bound.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "common/audit_chain.h"
#include "common/b64.h"
#include "common/err.h"

#define CANON_FLAGS	(JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)
#define EXPORT_FLAGS	(JSON_COMPACT | JSON_ENSURE_ASCII)
#define DOMAIN_LEN	(sizeof(AUDIT_CHECKPOINT_DOMAIN))	/* with NUL */
#define CP_MSG_LEN	(DOMAIN_LEN + 8 + 8 + AUDIT_HASH_LEN)

/* A bounded text sink for json_dump_callback. */
struct sink {
	char	*p;
	size_t	 len;
	size_t	 alloc;
	size_t	 max;
	int	 over;
	int	 nomem;
};

/* A sink that hashes instead of storing. */
struct hash_sink {
	crypto_hash_sha256_state	st;
	size_t				len;
	int				over;
};

static int
sink_put(const char *s, size_t n, void *arg)
{
	struct sink *k = arg;
	size_t na;
	char *np;

	if (n > k->max - k->len) {
		k->over = 1;
		return -1;
	}
	if (k->len + n + 1 > k->alloc) {
		na = k->alloc == 0 ? 256 : k->alloc;
		while (na < k->len + n + 1)
			na *= 2;
		if (na > k->max + 1)
			na = k->max + 1;
		if ((np = realloc(k->p, na)) == NULL) {
			k->nomem = 1;
			return -1;
		}
		k->p = np;
		k->alloc = na;
	}
	memcpy(k->p + k->len, s, n);
	k->len += n;
	k->p[k->len] = '\0';
	return 0;
}

static int
hash_put(const char *s, size_t n, void *arg)
{
	struct hash_sink *h = arg;

	if (n > AUDIT_CANONICAL_MAX - h->len) {
		h->over = 1;
		return -1;
	}
	h->len += n;
	crypto_hash_sha256_update(&h->st, (const unsigned char *)s, n);
	return 0;
}

/*
 * Dumps j with flags into a malloc'd string of at most max bytes, plus
 * suffix (may be NULL).
 */
static int
dump_bounded(const json_t *j, size_t flags, size_t max, const char *suffix,
    char **out, size_t *lenp)
{
	struct sink k = { NULL, 0, 0, max, 0, 0 };
	int r = JIT_ERR_INTERNAL;

	*out = NULL;
	*lenp = 0;
	if (json_dump_callback(j, sink_put, &k, flags) != 0) {
		/* Otherwise jansson refused the value (not UTF-8). */
		r = k.over ? JIT_ERR_LIMIT : k.nomem ? JIT_ERR_ALLOC :
		    JIT_ERR_INVALID_ARG;
		goto out;
	}
	if (suffix != NULL && sink_put(suffix, strlen(suffix), &k) != 0) {
		r = k.over ? JIT_ERR_LIMIT : JIT_ERR_ALLOC;
		goto out;
	}
	if (k.p == NULL) {
		r = JIT_ERR_INTERNAL;	/* jansson never dumps nothing */
		goto out;
	}
	*out = k.p;
	*lenp = k.len;
	k.p = NULL;
	r = JIT_OK;
 out:
	free(k.p);
	return r;
}

static int
check_value(json_t *v, int depth)
{
	const char *key;
	size_t klen, i;
	json_t *e;
	int r;

	switch (json_typeof(v)) {
	case JSON_STRING:
		if (strlen(json_string_value(v)) != json_string_length(v))
			return JIT_ERR_INVALID_ARG;	/* embedded NUL */
		return JIT_OK;
	case JSON_INTEGER:
	case JSON_TRUE:
	case JSON_FALSE:
	case JSON_NULL:
		return JIT_OK;
	case JSON_ARRAY:
		if (depth >= AUDIT_DETAILS_DEPTH_MAX)
			return JIT_ERR_LIMIT;
		json_array_foreach(v, i, e) {
			if ((r = check_value(e, depth + 1)) != JIT_OK)
				return r;
		}
		return JIT_OK;
	case JSON_OBJECT:
		if (depth >= AUDIT_DETAILS_DEPTH_MAX)
			return JIT_ERR_LIMIT;
		json_object_keylen_foreach(v, key, klen, e) {
			if (strlen(key) != klen)
				return JIT_ERR_INVALID_ARG;
			if ((r = check_value(e, depth + 1)) != JIT_OK)
				return r;
		}
		return JIT_OK;
	default:
		return JIT_ERR_INVALID_ARG;	/* JSON_REAL */
	}
}

int
audit_details_check(const json_t *details)
{
	if (details == NULL)
		return JIT_OK;
	if (!json_is_object(details))
		return JIT_ERR_INVALID_ARG;
	return check_value((json_t *)details, 0);
}

static int
set_string(json_t *o, const char *key, const char *s)
{
	json_t *j;

	if (s == NULL || (j = json_string(s)) == NULL)
		return JIT_ERR_INVALID_ARG;	/* missing or not UTF-8 */
	if (json_object_set_new(o, key, j) != 0)
		return JIT_ERR_ALLOC;
	return JIT_OK;
}

/* Builds the object that is canonicalised; the caller decrefs *out. */
static int
canonical_object(const struct audit_event *ev, json_t **out)
{
	json_t *o = NULL, *d;
	int r = JIT_ERR_INTERNAL;

	*out = NULL;
	if (ev == NULL || ev->seq == 0 || ev->seq > AUDIT_SEQ_MAX) {
		r = JIT_ERR_INVALID_ARG;
		goto out;
	}
	if ((r = audit_details_check(ev->details)) != JIT_OK)
		goto out;
	if ((o = json_object()) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	if (json_object_set_new(o, "seq", json_integer((json_int_t)ev->seq)) ||
	    json_object_set_new(o, "ts", json_integer(ev->ts))) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	if ((r = set_string(o, "actor", ev->actor)) != JIT_OK ||
	    (r = set_string(o, "action", ev->action)) != JIT_OK ||
	    (r = set_string(o, "target", ev->target)) != JIT_OK ||
	    (r = set_string(o, "outcome", ev->outcome)) != JIT_OK)
		goto out;
	d = ev->details != NULL ? json_incref(ev->details) : json_object();
	if (json_object_set_new(o, "details", d) != 0) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	*out = o;
	o = NULL;
	r = JIT_OK;
 out:
	json_decref(o);
	return r;
}

int
audit_canonical(const struct audit_event *ev, char **out, size_t *len)
{
	json_t *o = NULL;
	int r = JIT_ERR_INTERNAL;

	*out = NULL;
	*len = 0;
	if ((r = canonical_object(ev, &o)) != JIT_OK)
		goto out;
	r = dump_bounded(o, CANON_FLAGS, AUDIT_CANONICAL_MAX, NULL, out, len);
 out:
	json_decref(o);
	return r;
}

int
audit_event_hash(const struct audit_event *ev, uint8_t *out)
{
	struct hash_sink h;
	json_t *o = NULL;
	int r = JIT_ERR_INTERNAL;

	memset(&h, 0, sizeof(h));
	if (out == NULL) {
		r = JIT_ERR_INVALID_ARG;
		goto out;
	}
	memset(out, 0, AUDIT_HASH_LEN);
	if ((r = canonical_object(ev, &o)) != JIT_OK)
		goto out;
	crypto_hash_sha256_init(&h.st);
	crypto_hash_sha256_update(&h.st, ev->prev_hash, AUDIT_HASH_LEN);
	if (json_dump_callback(o, hash_put, &h, CANON_FLAGS) != 0) {
		r = h.over ? JIT_ERR_LIMIT : JIT_ERR_INVALID_ARG;
		goto out;
	}
	crypto_hash_sha256_final(&h.st, out);
	r = JIT_OK;
 out:
	json_decref(o);
	return r;
}

int
audit_event_seal(struct audit_event *ev, const uint8_t prev_hash[32])
{
	static const uint8_t zero[AUDIT_HASH_LEN];
	uint8_t prev[AUDIT_HASH_LEN];
	int r = JIT_ERR_INTERNAL;

	if (ev == NULL || prev_hash == NULL)
		return JIT_ERR_INVALID_ARG;
	/* prev_hash may point into ev itself (sealing the next event). */
	memcpy(prev, prev_hash, sizeof(prev));
	memset(ev->hash, 0, sizeof(ev->hash));
	memset(ev->prev_hash, 0, sizeof(ev->prev_hash));
	if (ev->seq == 1 && sodium_memcmp(prev, zero, sizeof(zero)) != 0) {
		r = JIT_ERR_INVALID_ARG;
		goto out;
	}
	memcpy(ev->prev_hash, prev, AUDIT_HASH_LEN);
	if ((r = audit_event_hash(ev, ev->hash)) != JIT_OK) {
		memset(ev->prev_hash, 0, sizeof(ev->prev_hash));
		goto out;
	}
	r = JIT_OK;
 out:
	return r;
}

static void
put_u64be(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* The signed message of a checkpoint. */
static void
checkpoint_message(const struct audit_checkpoint *cp, uint8_t m[CP_MSG_LEN])
{
	memcpy(m, AUDIT_CHECKPOINT_DOMAIN, DOMAIN_LEN);
	put_u64be(m + DOMAIN_LEN, cp->seq);
	put_u64be(m + DOMAIN_LEN + 8, (uint64_t)cp->ts);
	memcpy(m + DOMAIN_LEN + 16, cp->hash, AUDIT_HASH_LEN);
}

int
audit_checkpoint_sign(struct audit_checkpoint *cp, const uint8_t sk[64])
{
	uint8_t m[CP_MSG_LEN];
	int r = JIT_ERR_INTERNAL;

	if (cp == NULL || sk == NULL)
		return JIT_ERR_INVALID_ARG;
	memset(cp->sig, 0, sizeof(cp->sig));
	if (cp->seq == 0 || cp->seq > AUDIT_SEQ_MAX) {
		r = JIT_ERR_INVALID_ARG;
		goto out;
	}
	checkpoint_message(cp, m);
	if (crypto_sign_detached(cp->sig, NULL, m, sizeof(m), sk) != 0) {
		memset(cp->sig, 0, sizeof(cp->sig));
		r = JIT_ERR_CRYPTO;
		goto out;
	}
	r = JIT_OK;
 out:
	return r;
}

int
audit_checkpoint_verify(const struct audit_checkpoint *cp,
    const uint8_t pk[32])
{
	uint8_t m[CP_MSG_LEN];

	if (cp == NULL || pk == NULL)
		return JIT_ERR_INVALID_ARG;
	checkpoint_message(cp, m);
	if (crypto_sign_verify_detached(cp->sig, m, sizeof(m), pk) != 0)
		return JIT_ERR_BAD_SIGNATURE;
	return JIT_OK;
}

static int
cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Returns a copy of a validated details value whose object keys are in
 * sorted order, so that export lines are deterministic.
 */
static json_t *
sorted_copy(json_t *v, int depth)
{
	const char *key, **keys = NULL;
	json_t *c = NULL, *e, *ret = NULL;
	size_t i, n;

	if (depth > AUDIT_DETAILS_DEPTH_MAX)
		return NULL;
	if (json_is_array(v)) {
		if ((c = json_array()) == NULL)
			goto out;
		json_array_foreach(v, i, e) {
			if (json_array_append_new(c, sorted_copy(e,
			    depth + 1)) != 0)
				goto out;
		}
	} else if (json_is_object(v)) {
		n = json_object_size(v);
		if ((c = json_object()) == NULL ||
		    (keys = calloc(n + 1, sizeof(*keys))) == NULL)
			goto out;
		i = 0;
		json_object_foreach(v, key, e) {
			if (i < n)
				keys[i++] = key;
		}
		qsort(keys, i, sizeof(*keys), cmp_keys);
		for (n = i, i = 0; i < n; i++) {
			if (json_object_set_new(c, keys[i], sorted_copy(
			    json_object_get(v, keys[i]), depth + 1)) != 0)
				goto out;
		}
	} else
		c = json_incref(v);	/* scalars are only dumped */
	ret = c;
	c = NULL;
 out:
	free(keys);
	json_decref(c);
	return ret;
}

static void
hex32(char out[2 * AUDIT_HASH_LEN + 1], const uint8_t h[AUDIT_HASH_LEN])
{
	sodium_bin2hex(out, 2 * AUDIT_HASH_LEN + 1, h, AUDIT_HASH_LEN);
}

/* Dumps an export object in insertion order, with a newline. */
static char *
export_dump(json_t *o)
{
	char *line = NULL;
	size_t len;

	if (dump_bounded(o, EXPORT_FLAGS, AUDIT_LINE_MAX - 1, "\n", &line,
	    &len) != JIT_OK)
		return NULL;
	return line;
}

char *
audit_header_export_line(const uint8_t pk[32])
{
	json_t *o = NULL;
	char *key = NULL, *line = NULL;

	if (pk == NULL || (key = b64_encode(pk, AUDIT_PK_LEN, B64_STD)) == NULL)
		goto out;
	if ((o = json_object()) == NULL ||
	    json_object_set_new(o, "type", json_string("header")) != 0 ||
	    json_object_set_new(o, "version", json_integer(1)) != 0 ||
	    json_object_set_new(o, "key", json_string(key)) != 0)
		goto out;
	line = export_dump(o);
 out:
	free(key);
	json_decref(o);
	return line;
}

char *
audit_event_export_line(const struct audit_event *ev)
{
	char prev[2 * AUDIT_HASH_LEN + 1], hash[2 * AUDIT_HASH_LEN + 1];
	json_t *c = NULL, *o = NULL, *d;
	char *line = NULL;

	/* Only what canonicalises is exported: it is what gets verified. */
	if (canonical_object(ev, &c) != JIT_OK)
		goto out;
	if ((d = json_object_get(c, "details")) == NULL ||
	    (d = sorted_copy(d, 0)) == NULL)
		goto out;
	hex32(prev, ev->prev_hash);
	hex32(hash, ev->hash);
	if ((o = json_object()) == NULL ||
	    json_object_set_new(o, "type", json_string("event")) != 0 ||
	    json_object_set(o, "seq", json_object_get(c, "seq")) != 0 ||
	    json_object_set(o, "ts", json_object_get(c, "ts")) != 0 ||
	    json_object_set(o, "actor", json_object_get(c, "actor")) != 0 ||
	    json_object_set(o, "action", json_object_get(c, "action")) != 0 ||
	    json_object_set(o, "target", json_object_get(c, "target")) != 0 ||
	    json_object_set(o, "outcome", json_object_get(c, "outcome")) != 0 ||
	    json_object_set_new(o, "details", d) != 0 ||
	    json_object_set_new(o, "prev_hash", json_string(prev)) != 0 ||
	    json_object_set_new(o, "hash", json_string(hash)) != 0)
		goto out;
	line = export_dump(o);
 out:
	json_decref(o);
	json_decref(c);
	return line;
}

char *
audit_checkpoint_export_line(const struct audit_checkpoint *cp)
{
	char hash[2 * AUDIT_HASH_LEN + 1];
	json_t *o = NULL;
	char *sig = NULL, *line = NULL;

	if (cp == NULL || cp->seq == 0 || cp->seq > AUDIT_SEQ_MAX ||
	    (sig = b64_encode(cp->sig, AUDIT_SIG_LEN, B64_STD)) == NULL)
		goto out;
	hex32(hash, cp->hash);
	if ((o = json_object()) == NULL ||
	    json_object_set_new(o, "type", json_string("checkpoint")) != 0 ||
	    json_object_set_new(o, "seq",
	    json_integer((json_int_t)cp->seq)) != 0 ||
	    json_object_set_new(o, "ts", json_integer(cp->ts)) != 0 ||
	    json_object_set_new(o, "hash", json_string(hash)) != 0 ||
	    json_object_set_new(o, "signature", json_string(sig)) != 0)
		goto out;
	line = export_dump(o);
 out:
	free(sig);
	json_decref(o);
	return line;
}
