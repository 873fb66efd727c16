/*
 * jitd's tamper-evident audit log, as pure logic: the canonical form of an
 * event, the hash chain over it, checkpoints signed with the audit Ed25519
 * key, the JSON-lines export format and a streaming verifier.  Nothing here
 * speaks SQL or HTTP; the store feeds rows in, the export handler writes the
 * lines out, and `jit audit verify` hands an export file to the verifier.
 *
 * An event's hash is SHA-256(prev_hash || canonical), where canonical is the
 * object {"seq","ts","actor","action","target","outcome","details"} dumped
 * by jansson with JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII, and the
 * first event (seq 1) has 32 zero bytes as prev_hash.  A checkpoint signs
 * "jitd-audit-checkpoint-v1" NUL || u64be seq || u64be ts || hash of event
 * seq.  Verification re-derives the canonical bytes from the parsed values,
 * so an export may be re-formatted (key order, whitespace, escapes) without
 * affecting it; any change of content is detected.
 */
#ifndef JIT_COMMON_AUDIT_CHAIN_H
#define JIT_COMMON_AUDIT_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define AUDIT_WUR __attribute__((warn_unused_result))

#define AUDIT_HASH_LEN		32
#define AUDIT_SIG_LEN		64
#define AUDIT_PK_LEN		32
#define AUDIT_SK_LEN		64
#define AUDIT_CANONICAL_MAX	(64 * 1024)	/* canonical form of one event */
#define AUDIT_LINE_MAX		(1024 * 1024)	/* one export line */
#define AUDIT_DETAILS_DEPTH_MAX	16		/* nesting inside details */
#define AUDIT_SEQ_MAX		((uint64_t)INT64_MAX)
/* A checkpoint line may follow its event by at most this many events. */
#define AUDIT_VERIFY_WINDOW	1024
/* Checkpoints ahead of their event that the verifier will hold. */
#define AUDIT_PENDING_MAX	4096
#define AUDIT_CHECKPOINT_DOMAIN	"jitd-audit-checkpoint-v1"

/*
 * One audit event.  The strings are borrowed from the caller, except for
 * events filled by audit_event_parse, which own them (audit_event_clear).
 * details must be a JSON object or NULL (same as {}).
 */
struct audit_event {
	uint64_t	 seq;
	int64_t		 ts;
	const char	*actor;
	const char	*action;
	const char	*target;
	const char	*outcome;
	json_t		*details;
	uint8_t		 prev_hash[AUDIT_HASH_LEN];
	uint8_t		 hash[AUDIT_HASH_LEN];
};

/* A signed statement that event seq has the given hash. */
struct audit_checkpoint {
	uint64_t	seq;
	int64_t		ts;
	uint8_t		hash[AUDIT_HASH_LEN];
	uint8_t		sig[AUDIT_SIG_LEN];
};

/* Verdict of a verifier; reason is a short sentence, "" when ok. */
struct audit_verify_result {
	int		ok;
	int		signatures_checked; /* a key was available */
	uint64_t	events;
	uint64_t	last_seq;
	uint64_t	checkpoints;
	uint64_t	last_checkpoint_seq;
	uint64_t	first_bad_seq;	/* 0 if none */
	char		reason[160];
};

struct audit_verifier;

/*
 * Checks that details (NULL allowed) is an object holding only strings,
 * integers, booleans, null, arrays and objects, nested at most
 * AUDIT_DETAILS_DEPTH_MAX deep.  Returns JIT_OK or JIT_ERR_INVALID_ARG
 * (reals are refused: their text form is not canonical), JIT_ERR_LIMIT
 * when nested too deep.
 */
int audit_details_check(const json_t *details) AUDIT_WUR;

/*
 * Writes the canonical form of ev (without hashes) to a malloc'd,
 * NUL-terminated *out of *len bytes.  Returns JIT_OK, JIT_ERR_INVALID_ARG
 * for a missing string, a seq outside 1..AUDIT_SEQ_MAX or bad details,
 * JIT_ERR_LIMIT past AUDIT_CANONICAL_MAX, JIT_ERR_ALLOC.
 */
int audit_canonical(const struct audit_event *ev, char **out, size_t *len)
    AUDIT_WUR;

/*
 * Computes SHA-256(ev->prev_hash || canonical(ev)) into out (32 bytes).
 * Same errors as audit_canonical.
 */
int audit_event_hash(const struct audit_event *ev, uint8_t *out) AUDIT_WUR;

/*
 * Links ev into the chain: copies prev_hash (32 zero bytes for seq 1, which
 * is enforced) into ev->prev_hash and fills ev->hash.  On error ev's hashes
 * are left zeroed.  Same errors as audit_canonical.
 */
int audit_event_seal(struct audit_event *ev, const uint8_t prev_hash[32])
    AUDIT_WUR;

/*
 * Signs cp->seq, cp->ts and cp->hash with the 64-byte libsodium Ed25519
 * secret key sk and fills cp->sig.  Returns JIT_OK, JIT_ERR_INVALID_ARG,
 * JIT_ERR_CRYPTO.
 */
int audit_checkpoint_sign(struct audit_checkpoint *cp, const uint8_t sk[64])
    AUDIT_WUR;

/*
 * Verifies cp->sig with the 32-byte public key pk.  Returns JIT_OK or
 * JIT_ERR_BAD_SIGNATURE (JIT_ERR_INVALID_ARG for NULL arguments).
 */
int audit_checkpoint_verify(const struct audit_checkpoint *cp,
    const uint8_t pk[32]) AUDIT_WUR;

/*
 * Export lines.  Each returns a malloc'd, NUL-terminated line ending in
 * "\n" (free with free()), or NULL if the input cannot be exported (an
 * event that does not canonicalise) or on allocation failure.
 *   {"type":"header","version":1,"key":"<base64 public key>"}
 *   {"type":"event","seq":N,"ts":N,"actor":..,"action":..,"target":..,
 *    "outcome":..,"details":{..},"prev_hash":"<hex>","hash":"<hex>"}
 *   {"type":"checkpoint","seq":N,"ts":N,"hash":"<hex>",
 *    "signature":"<base64>"}
 * Output is ASCII only; keys inside details are sorted.
 */
char *audit_header_export_line(const uint8_t pk[32]) AUDIT_WUR;
char *audit_event_export_line(const struct audit_event *ev) AUDIT_WUR;
char *audit_checkpoint_export_line(const struct audit_checkpoint *cp)
    AUDIT_WUR;

/*
 * Parse one export line (len bytes, an optional trailing "\n" allowed)
 * strictly: duplicate keys, missing or extra keys, wrong types, hex that is
 * not exactly 64 lowercase digits, a wrong "type" or an overlong line are
 * all errors.  On success *ev owns its strings and details: release them
 * with audit_event_clear.  The parsed event canonicalises to the bytes that
 * were hashed.  Returns JIT_OK, JIT_ERR_INVALID_FORMAT, JIT_ERR_LIMIT,
 * JIT_ERR_ALLOC; *ev / *cp are zeroed on error.
 */
int audit_event_parse(const char *line, size_t len, struct audit_event *ev)
    AUDIT_WUR;
int audit_checkpoint_parse(const char *line, size_t len,
    struct audit_checkpoint *cp) AUDIT_WUR;

/* Frees what audit_event_parse allocated and zeroes ev; accepts NULL. */
void audit_event_clear(struct audit_event *ev);

/*
 * Returns a new streaming verifier, or NULL on allocation failure.  pubkey
 * is the 32-byte audit key; NULL means take it from a header line, and if
 * there is none, checkpoints are checked against the chain but their
 * signatures are not (result.signatures_checked = 0).  Free with
 * audit_verifier_free.
 */
struct audit_verifier *audit_verifier_new(const uint8_t *pubkey) AUDIT_WUR;

/* Frees a verifier; accepts NULL. */
void audit_verifier_free(struct audit_verifier *v);

/*
 * Feeds the next event.  Events must come in seq order starting at 1, each
 * with prev_hash equal to the previous hash and a hash that recomputes.
 * Returns JIT_OK, or records the first bad seq and returns
 * JIT_ERR_INVALID_FORMAT (sequence gap or disorder, event that does not
 * canonicalise) or JIT_ERR_BAD_SIGNATURE (hash or chain mismatch).  After
 * the first failure every call returns that failure's code.
 */
int audit_verifier_event(struct audit_verifier *v,
    const struct audit_event *ev) AUDIT_WUR;

/*
 * Feeds a checkpoint.  Its seq must be an event seen at most
 * AUDIT_VERIFY_WINDOW events ago, or one still to come (held until that
 * event arrives, reported by audit_verifier_finish if it never does); its
 * hash must equal that event's hash and its signature must verify.
 * Returns JIT_OK, JIT_ERR_BAD_SIGNATURE, JIT_ERR_INVALID_FORMAT or
 * JIT_ERR_LIMIT, recording the checkpoint's seq as the first bad seq.
 */
int audit_verifier_checkpoint(struct audit_verifier *v,
    const struct audit_checkpoint *cp) AUDIT_WUR;

/*
 * Feeds one export line (see the parsers above; a header is accepted only
 * as the first line).  A line that does not parse is recorded with
 * first_bad_seq = the next expected seq.  Returns as the two above.
 */
int audit_verifier_line(struct audit_verifier *v, const char *line,
    size_t len) AUDIT_WUR;

/*
 * Ends the stream and fills *res, whether or not the log verified (the
 * report is complete in both cases).  Returns JIT_OK if res->ok, otherwise
 * the code of the first failure; JIT_ERR_INCOMPLETE when a checkpoint
 * refers to an event that never came.  May be called more than once.
 */
int audit_verifier_finish(struct audit_verifier *v,
    struct audit_verify_result *res) AUDIT_WUR;

/*
 * Verifies the export file at path line by line (each line at most
 * AUDIT_LINE_MAX bytes) with pubkey as for audit_verifier_new and fills
 * *res as audit_verifier_finish does.  Returns what finish returns, or
 * JIT_ERR_NOT_FOUND / JIT_ERR_SYSTEM / JIT_ERR_ALLOC with res->reason
 * saying so.
 */
int audit_verify_file(const char *path, const uint8_t *pubkey,
    struct audit_verify_result *res) AUDIT_WUR;

#endif
