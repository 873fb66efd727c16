/*
 * A bounded byte buffer with a read offset, modelled on OpenSSH's sshbuf.
 * Every byte from outside is read through the buf_get_* functions, which
 * check each length before use; every buffer is created with a ceiling it
 * can never grow past.  Writers append in SSH wire format (big-endian
 * integers, u32-length-prefixed strings).
 */
#ifndef JIT_COMMON_BUF_H
#define JIT_COMMON_BUF_H

#include <stddef.h>
#include <stdint.h>

#define JIT_WUR __attribute__((warn_unused_result))

struct buf;

/*
 * Returns a new empty buffer that may grow to at most max bytes
 * (max <= JIT_BUF_MAX), or NULL on allocation failure.  Free with buf_free.
 */
struct buf *buf_new(size_t max) JIT_WUR;

/*
 * Returns a read-only buffer over a copy of len bytes at p, or NULL.
 * Free with buf_free.
 */
struct buf *buf_from(const void *p, size_t len) JIT_WUR;

/* Zeroes and frees a buffer; accepts NULL. */
void buf_free(struct buf *b);

/* Discards all contents (zeroing them) and rewinds the read offset. */
void buf_reset(struct buf *b);

/* Number of unread bytes, and a pointer to them (valid until the next write). */
size_t buf_len(const struct buf *b);
const uint8_t *buf_ptr(const struct buf *b);

/* Appenders: return JIT_OK, JIT_ERR_LIMIT past the ceiling, JIT_ERR_ALLOC. */
int buf_put(struct buf *b, const void *p, size_t len) JIT_WUR;
int buf_put_u8(struct buf *b, uint8_t v) JIT_WUR;
int buf_put_u32(struct buf *b, uint32_t v) JIT_WUR;
int buf_put_u64(struct buf *b, uint64_t v) JIT_WUR;
int buf_put_string(struct buf *b, const void *p, size_t len) JIT_WUR;
int buf_put_cstring(struct buf *b, const char *s) JIT_WUR;
/* Appends the unread contents of v as one string. */
int buf_put_stringb(struct buf *b, const struct buf *v) JIT_WUR;
/* Appends big-endian unsigned magnitude bytes as an SSH mpint. */
int buf_put_bignum2_bytes(struct buf *b, const uint8_t *p, size_t len) JIT_WUR;

/*
 * Readers consume from the read offset.  On error nothing is consumed and
 * out-parameters are cleared.  JIT_ERR_INCOMPLETE if the buffer ends early,
 * JIT_ERR_LIMIT if a declared length exceeds what remains or a cap.
 */
int buf_get_u8(struct buf *b, uint8_t *v) JIT_WUR;
int buf_get_u32(struct buf *b, uint32_t *v) JIT_WUR;
int buf_get_u64(struct buf *b, uint64_t *v) JIT_WUR;
int buf_consume(struct buf *b, size_t len) JIT_WUR;
/* Copies exactly len bytes out. */
int buf_get(struct buf *b, void *out, size_t len) JIT_WUR;
/*
 * Points *p at a string's bytes inside the buffer without copying; valid
 * until the buffer is written or freed.  p and lenp may be NULL (skip).
 */
int buf_get_string_direct(struct buf *b, const uint8_t **p, size_t *lenp) JIT_WUR;
/* Returns a malloc'd copy (NUL-terminated for convenience); free with free(). */
int buf_get_string(struct buf *b, uint8_t **p, size_t *lenp) JIT_WUR;
/*
 * Returns a malloc'd C string; JIT_ERR_INVALID_FORMAT if the string holds
 * an embedded NUL byte.
 */
int buf_get_cstring(struct buf *b, char **s, size_t *lenp) JIT_WUR;
/* Reads one string and returns it as a new read-only buffer (nested parse). */
int buf_froms(struct buf *b, struct buf **sub) JIT_WUR;
/* Reads an SSH mpint, checks its encoding is minimal and non-negative. */
int buf_get_bignum2_bytes_direct(struct buf *b, const uint8_t **p, size_t *lenp) JIT_WUR;

/* Peeks the next string without consuming; same rules as the direct getter. */
int buf_peek_string_direct(const struct buf *b, const uint8_t **p, size_t *lenp) JIT_WUR;

/* The SSH wire blob of an Ed25519 public key: string "ssh-ed25519", string pk. */
#define SSH_ED25519_BLOB_LEN	51
void ssh_ed25519_blob(const uint8_t pk[32], uint8_t out[SSH_ED25519_BLOB_LEN]);

#endif
