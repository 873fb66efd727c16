/*
 * Token buckets keyed by strings that attackers choose (client addresses,
 * user names), in a table of fixed size: memory does not grow with the
 * number of keys.  Keys are hashed with a secret SipHash key, so nobody
 * can aim many keys at one set of the table; the table is set-associative
 * and a new key takes, in its set, an empty entry, else the entry with
 * the most tokens (a full bucket carries no information; a drained one,
 * the state that matters, is evicted last).  Time is a monotonic clock in
 * milliseconds passed in by the caller, so tests need no sleeping.
 * Thread-safe.
 */
#ifndef JIT_BROKER_RATELIMIT_H
#define JIT_BROKER_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#define RL_WAYS		8	/* entries per set */

struct rl_table;

/* A bucket holds up to burst tokens and gains per_minute tokens a minute. */
struct rl_limit {
	unsigned int	 burst;		/* 0: no limit */
	unsigned int	 per_minute;	/* at least 1 when burst > 0 */
};

/*
 * A table of at least RL_WAYS entries (slots rounded up to a power of two
 * of sets).  Returns NULL on allocation failure.  Free with rl_table_free
 * (accepts NULL).
 */
struct rl_table *rl_table_new(size_t slots)
    __attribute__((warn_unused_result));
void rl_table_free(struct rl_table *t);

/*
 * Takes one token from the bucket of key (keylen bytes) at now_ms; a key
 * without a bucket starts with a full one.  Returns 0 if a token was
 * taken, else the milliseconds until one will be there (at least 1; then
 * nothing was taken).  A limit with burst 0 always returns 0.
 */
int64_t rl_take(struct rl_table *t, const void *key, size_t keylen,
    const struct rl_limit *lim, int64_t now_ms);

/* Gives back one token taken by rl_take (if the bucket is still there). */
void rl_give(struct rl_table *t, const void *key, size_t keylen,
    const struct rl_limit *lim, int64_t now_ms);

/* Number of entries in use (at most the table's size). */
size_t rl_used(struct rl_table *t);

/* Total entries of the table. */
size_t rl_size(const struct rl_table *t);

#endif
