/* Bounded token-bucket tables (see ratelimit.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "broker/ratelimit.h"

/* One token; a bucket gains per_minute units a millisecond, exactly. */
#define UNIT		((int64_t)60000)
#define ELAPSED_MAX	((int64_t)24 * 3600 * 1000)

struct rl_entry {
	uint64_t	 h;		/* keyed hash of the key; 0: empty */
	int64_t		 tokens;	/* in UNITs */
	int64_t		 last_ms;	/* when tokens was computed */
};

struct rl_table {
	pthread_mutex_t	 mu;
	size_t		 nsets;		/* a power of two */
	uint8_t		 hkey[crypto_shorthash_KEYBYTES];
	struct rl_entry	*e;		/* nsets * RL_WAYS */
};

struct rl_table *
rl_table_new(size_t slots)
{
	struct rl_table *t;
	size_t nsets = 1;

	while (nsets * RL_WAYS < slots && nsets < ((size_t)1 << 24))
		nsets <<= 1;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if ((t->e = calloc(nsets * RL_WAYS, sizeof(*t->e))) == NULL) {
		free(t);
		return NULL;
	}
	t->nsets = nsets;
	randombytes_buf(t->hkey, sizeof(t->hkey));
	pthread_mutex_init(&t->mu, NULL);
	return t;
}

void
rl_table_free(struct rl_table *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->mu);
	free(t->e);
	sodium_memzero(t->hkey, sizeof(t->hkey));
	free(t);
}

static uint64_t
key_hash(const struct rl_table *t, const void *key, size_t keylen)
{
	uint8_t out[crypto_shorthash_BYTES];
	uint64_t h = 0;
	size_t i;

	crypto_shorthash(out, key, keylen, t->hkey);
	for (i = 0; i < sizeof(out); i++)
		h = (h << 8) | out[i];
	return h != 0 ? h : 1;
}

/* The bucket's tokens at now_ms. */
static int64_t
refilled(const struct rl_entry *e, const struct rl_limit *lim,
    int64_t now_ms)
{
	int64_t cap = (int64_t)lim->burst * UNIT, dt = now_ms - e->last_ms,
	    tok;

	if (dt < 0)
		dt = 0;
	if (dt > ELAPSED_MAX)
		dt = ELAPSED_MAX;
	tok = e->tokens + dt * (int64_t)lim->per_minute;
	return tok < cap ? tok : cap;
}

/*
 * The entry of h in its set, or (create) a new full one in place of an
 * empty entry or the one with the most tokens.  NULL if absent and not
 * create.
 */
static struct rl_entry *
lookup(struct rl_table *t, uint64_t h, const struct rl_limit *lim,
    int64_t now_ms, int create)
{
	struct rl_entry *set = &t->e[(h & (t->nsets - 1)) * RL_WAYS], *v;
	int64_t best = -1, tok;
	size_t i;

	for (i = 0; i < RL_WAYS; i++)
		if (set[i].h == h)
			return &set[i];
	if (!create)
		return NULL;
	v = &set[0];
	for (i = 0; i < RL_WAYS; i++) {
		if (set[i].h == 0) {
			v = &set[i];
			break;
		}
		tok = refilled(&set[i], lim, now_ms);
		if (tok > best || (tok == best && set[i].last_ms <
		    v->last_ms)) {
			best = tok;
			v = &set[i];
		}
	}
	v->h = h;
	v->tokens = (int64_t)lim->burst * UNIT;
	v->last_ms = now_ms;
	return v;
}

int64_t
rl_take(struct rl_table *t, const void *key, size_t keylen,
    const struct rl_limit *lim, int64_t now_ms)
{
	struct rl_entry *e;
	uint64_t h;
	int64_t wait = 0;

	if (lim->burst == 0)
		return 0;
	h = key_hash(t, key, keylen);
	pthread_mutex_lock(&t->mu);
	e = lookup(t, h, lim, now_ms, 1);
	e->tokens = refilled(e, lim, now_ms);
	e->last_ms = now_ms;
	if (e->tokens >= UNIT)
		e->tokens -= UNIT;
	else if (lim->per_minute == 0)
		wait = ELAPSED_MAX;
	else
		wait = (UNIT - e->tokens + lim->per_minute - 1) /
		    lim->per_minute;
	pthread_mutex_unlock(&t->mu);
	return wait;
}

void
rl_give(struct rl_table *t, const void *key, size_t keylen,
    const struct rl_limit *lim, int64_t now_ms)
{
	struct rl_entry *e;
	uint64_t h;

	if (lim->burst == 0)
		return;
	h = key_hash(t, key, keylen);
	pthread_mutex_lock(&t->mu);
	if ((e = lookup(t, h, lim, now_ms, 0)) != NULL) {
		e->tokens = refilled(e, lim, now_ms) + UNIT;
		if (e->tokens > (int64_t)lim->burst * UNIT)
			e->tokens = (int64_t)lim->burst * UNIT;
		e->last_ms = now_ms;
	}
	pthread_mutex_unlock(&t->mu);
}

size_t
rl_used(struct rl_table *t)
{
	size_t i, n = 0;

	pthread_mutex_lock(&t->mu);
	for (i = 0; i < t->nsets * RL_WAYS; i++)
		n += t->e[i].h != 0;
	pthread_mutex_unlock(&t->mu);
	return n;
}

size_t
rl_size(const struct rl_table *t)
{
	return t->nsets * RL_WAYS;
}
