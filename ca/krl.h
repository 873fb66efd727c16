/*
 * OpenSSH Key Revocation Lists (PROTOCOL.krl) revoking certificates of the
 * user CA by serial number, optionally signed by the CA's Ed25519 key, and
 * a reader that checks a KRL (signature, version) and answers whether a
 * serial is revoked.
 */
#ifndef JIT_CA_KRL_H
#define JIT_CA_KRL_H

#include <stddef.h>
#include <stdint.h>

#include "ca/ca.h"

/*
 * Builds a KRL revoking nserials serials (any order, duplicates allowed,
 * 0 ignored; at most JIT_KRL_SERIALS_MAX) of certificates signed by the
 * CA's user key.  krl_version should grow with every new KRL; generated
 * is the creation time.  With sign != 0 a signature section by the user
 * CA key is appended.  Returns JIT_OK and a malloc'd blob.
 *
 * OpenSSH 9.2 verifies KRL signature sections; OpenSSH 9.4 and later
 * refuse to load any KRL that has one (PROTOCOL.krl), and sshd then
 * treats every key it checks as revoked.  Give sshd's RevokedKeys an
 * unsigned KRL; signed ones are for clients that verify with
 * ca_krl_parse().
 */
int ca_krl_build(struct ca *ca, const uint64_t *serials, size_t nserials,
    uint64_t krl_version, uint64_t generated, const char *comment, int sign,
    uint8_t **out, size_t *outlen) __attribute__((warn_unused_result));

struct ca_krl;

/*
 * Parses a KRL.  If ca_pub (32-byte Ed25519 key) is given, the KRL must
 * carry a valid signature by that key (JIT_ERR_BAD_SIGNATURE otherwise).
 * Every signature section is verified before any other section is read.
 * Only serial-list and serial-range certificate sections are understood;
 * other sections are an error (JIT_ERR_INVALID_FORMAT).  Also returns
 * JIT_ERR_INCOMPLETE, JIT_ERR_LIMIT, JIT_ERR_TRAILING_DATA and
 * JIT_ERR_KEY_TYPE (a signature by anything but Ed25519).  Free with
 * ca_krl_free().
 */
int ca_krl_parse(const uint8_t *blob, size_t len, const uint8_t *ca_pub,
    struct ca_krl **out) __attribute__((warn_unused_result));

void ca_krl_free(struct ca_krl *k);
uint64_t ca_krl_version(const struct ca_krl *k);
uint64_t ca_krl_generated(const struct ca_krl *k);
/* 1 if serial of a certificate by the user CA key ca_pub is revoked. */
int ca_krl_is_revoked(const struct ca_krl *k, const uint8_t *ca_pub,
    uint64_t serial);

#endif
