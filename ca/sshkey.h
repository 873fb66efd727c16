/*
 * OpenSSH public keys of certificate subjects: parsing and validating
 * authorized_keys lines and wire blobs (RFC 4253, RFC 5656, RFC 8709),
 * fingerprints.  Only plain keys are accepted as subjects: ssh-ed25519,
 * ecdsa-sha2-nistp256/384/521 (point checked on the curve) and ssh-rsa
 * with JIT_RSA_MIN_BITS..JIT_RSA_MAX_BITS bits.
 */
#ifndef JIT_CA_SSHKEY_H
#define JIT_CA_SSHKEY_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

enum ca_sshkey_type {
	CA_SSHKEY_ED25519,
	CA_SSHKEY_ECDSA_P256,
	CA_SSHKEY_ECDSA_P384,
	CA_SSHKEY_ECDSA_P521,
	CA_SSHKEY_RSA,
};

struct ca_sshkey;

/*
 * Parses a wire-format public key blob.  Returns JIT_OK,
 * JIT_ERR_KEY_TYPE (unknown or certificate type), JIT_ERR_KEY_TOO_SMALL
 * (RSA < 2048 bits), JIT_ERR_INVALID_FORMAT (bad field, point not on
 * curve), JIT_ERR_INCOMPLETE, JIT_ERR_TRAILING_DATA, JIT_ERR_LIMIT.
 * Free with ca_sshkey_free().
 */
int ca_sshkey_from_blob(const uint8_t *blob, size_t len,
    struct ca_sshkey **out) __attribute__((warn_unused_result));

/*
 * Parses one authorized_keys-style line "TYPE BASE64 [COMMENT]" (len bytes,
 * need not be NUL-terminated; a trailing newline is allowed, options
 * before TYPE are not; at most JIT_PUBKEY_LINE_MAX bytes).  The TYPE word
 * must match the blob's type.  Returns what ca_sshkey_from_blob returns,
 * and JIT_ERR_LIMIT for an over-long line, JIT_ERR_INCOMPLETE when the
 * base64 field is missing, JIT_ERR_INVALID_FORMAT for bad base64, control
 * bytes, more than one line or a TYPE word that does not match.
 */
int ca_sshkey_parse_line(const char *line, size_t len,
    struct ca_sshkey **out) __attribute__((warn_unused_result));

void ca_sshkey_free(struct ca_sshkey *k);

enum ca_sshkey_type ca_sshkey_type(const struct ca_sshkey *k);
/* "ssh-ed25519", "ecdsa-sha2-nistp256", ... */
const char *ca_sshkey_type_name(const struct ca_sshkey *k);
/* "ssh-ed25519-cert-v01@openssh.com", ... */
const char *ca_sshkey_cert_type_name(const struct ca_sshkey *k);
/* Key size in bits (256 for Ed25519). */
unsigned int ca_sshkey_bits(const struct ca_sshkey *k);

/* The key's wire blob; owned by k. */
const uint8_t *ca_sshkey_blob(const struct ca_sshkey *k, size_t *len);

/*
 * Writes "SHA256:<base64 without padding>" of the blob into out (at least
 * CA_SSHKEY_FP_LEN bytes), as ssh-keygen -l prints it.
 */
#define CA_SSHKEY_FP_LEN 52
void ca_sshkey_fingerprint(const struct ca_sshkey *k, char *out, size_t outlen);

/*
 * Appends the key's public fields as they appear in a certificate after
 * the nonce (PROTOCOL.certkeys): ed25519 "string pk"; ecdsa "string curve,
 * string Q"; rsa "mpint e, mpint n".
 */
int ca_sshkey_put_cert_fields(const struct ca_sshkey *k, struct buf *b)
    __attribute__((warn_unused_result));

/*
 * The inverse, for certificate parsers: given a certificate type name
 * ("ssh-ed25519-cert-v01@openssh.com", ...), reads that key type's public
 * fields from b and returns the validated subject key (same checks and
 * errors as ca_sshkey_from_blob; JIT_ERR_KEY_TYPE for an unknown
 * certificate type).  Free with ca_sshkey_free().
 */
int ca_sshkey_get_cert_fields(const char *cert_type, struct buf *b,
    struct ca_sshkey **out) __attribute__((warn_unused_result));

/* Returns 1 if both keys have the same wire blob, else 0. */
int ca_sshkey_equal(const struct ca_sshkey *a, const struct ca_sshkey *b);

#endif
