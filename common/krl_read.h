/*
 * A bounded reader of the OpenSSH Key Revocation Lists jitd publishes
 * (PROTOCOL.krl), for the server side: the header (magic, format version
 * 1, krl_version, generated date, flags, reserved, comment), certificate
 * sections holding serial lists and serial ranges, and trailing Ed25519
 * signature sections.  Anything else (explicit keys, key ids, bitmaps,
 * fingerprints) is refused rather than ignored, so a list we cannot fully
 * understand never passes for one that revokes less.  It is shared by the
 * CA (ca/krl.h reads back what it writes) and the servers' tools, which
 * may not depend on ca/.
 */
#ifndef JIT_COMMON_KRL_READ_H
#define JIT_COMMON_KRL_READ_H

#include <stddef.h>
#include <stdint.h>

struct krlr;

/*
 * Parses a KRL.  With ncas > 0, the KRL must carry a signature section by
 * one of the Ed25519 keys cas[0..ncas-1] that verifies over every byte before its signature
 * (JIT_ERR_BAD_SIGNATURE otherwise); every signature section is checked
 * before any revocation section is read.  Without cas, signatures are
 * only checked for form.  Returns JIT_OK and *out (free with
 * krlr_free()), or JIT_ERR_INVALID_FORMAT, JIT_ERR_INCOMPLETE,
 * JIT_ERR_LIMIT, JIT_ERR_TRAILING_DATA, JIT_ERR_KEY_TYPE.
 */
int krlr_parse(const uint8_t *blob, size_t len, const uint8_t (*cas)[32],
    size_t ncas, struct krlr **out) __attribute__((warn_unused_result));
void krlr_free(struct krlr *k);

uint64_t krlr_version(const struct krlr *k);
uint64_t krlr_generated(const struct krlr *k);
/* Serials and ranges listed, over all sections. */
size_t krlr_count(const struct krlr *k);
/*
 * Length of the KRL without its signature sections: the bytes before
 * the first one (the whole length for an unsigned KRL).  That prefix is
 * itself a valid, unsigned KRL, which is what sshd's RevokedKeys wants.
 */
size_t krlr_unsigned_len(const struct krlr *k);
int krlr_is_signed(const struct krlr *k);

/*
 * 1 if a certificate with this serial, signed by the Ed25519 CA key
 * ca_pk, is revoked (by a section for that key or for any CA), else 0.
 */
int krlr_is_revoked(const struct krlr *k, const uint8_t ca_pk[32],
    uint64_t serial);

#endif
