/*
 * OpenSSH Key Revocation Lists (PROTOCOL.krl).  The writer emits a header,
 * one certificate section for the user CA key holding a single sorted,
 * duplicate-free serial list, and optionally a signature section made by
 * ca_sign().  Reading a KRL back is common/krl_read.h's job, shared with
 * the servers' tools; ca_krl_parse() and friends wrap it.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ca/krl.h"
#include "common/buf.h"
#include "common/krl_read.h"
#include "common/err.h"
#include "common/limits.h"

#define KRL_MAGIC			0x5353484b524c0a00ULL
#define KRL_FORMAT_VERSION		1
#define KRL_SECTION_CERTIFICATES	1
#define KRL_SECTION_SIGNATURE		4
#define KRL_SECTION_CERT_SERIAL_LIST	0x20
#define KRL_SECTION_CERT_SERIAL_RANGE	0x21

#define KRL_COMMENT_MAX		4096

/* A parsed KRL: the shared reader's result. */
struct ca_krl {
	struct krlr	*k;
};

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
ca_krl_build(struct ca *ca, const uint64_t *serials, size_t nserials,
    uint64_t krl_version, uint64_t generated, const char *comment, int sign,
    uint8_t **out, size_t *outlen)
{
	struct buf *b = NULL, *sect = NULL, *list = NULL, *sigb = NULL;
	uint64_t *sorted = NULL;
	uint8_t cablob[CA_SSH_PUBBLOB_LEN], sig[CA_SIG_MAX], *res = NULL;
	size_t i, n = 0, siglen = 0;
	int r = JIT_ERR_INTERNAL;

	if (out == NULL || outlen == NULL)
		return JIT_ERR_INVALID_ARG;
	*out = NULL;
	*outlen = 0;
	if (ca == NULL || (serials == NULL && nserials != 0))
		return JIT_ERR_INVALID_ARG;
	if (nserials > JIT_KRL_SERIALS_MAX)
		return JIT_ERR_LIMIT;
	if (comment != NULL && strnlen(comment, KRL_COMMENT_MAX + 1) >
	    KRL_COMMENT_MAX)
		return JIT_ERR_LIMIT;
	if (nserials > 0) {
		if ((sorted = calloc(nserials, sizeof(*sorted))) == NULL)
			return JIT_ERR_ALLOC;
		for (i = 0; i < nserials; i++) {
			if (serials[i] != 0)
				sorted[n++] = serials[i];
		}
		if (n > 0)
			qsort(sorted, n, sizeof(*sorted), u64_cmp);
	}
	if ((b = buf_new(JIT_BUF_MAX)) == NULL ||
	    (sect = buf_new(JIT_BUF_MAX)) == NULL ||
	    (list = buf_new(JIT_BUF_MAX)) == NULL ||
	    (sigb = buf_new(256)) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	if ((r = buf_put_u64(b, KRL_MAGIC)) != JIT_OK ||
	    (r = buf_put_u32(b, KRL_FORMAT_VERSION)) != JIT_OK ||
	    (r = buf_put_u64(b, krl_version)) != JIT_OK ||
	    (r = buf_put_u64(b, generated)) != JIT_OK ||
	    (r = buf_put_u64(b, 0)) != JIT_OK ||		/* flags */
	    (r = buf_put_string(b, NULL, 0)) != JIT_OK ||	/* reserved */
	    (r = buf_put_cstring(b, comment)) != JIT_OK)
		goto out;
	ca_ssh_pubkey_blob(ca, CA_SLOT_SSH_USER, cablob);
	for (i = 0; i < n; i++) {
		if (i > 0 && sorted[i] == sorted[i - 1])
			continue;
		if ((r = buf_put_u64(list, sorted[i])) != JIT_OK)
			goto out;
	}
	if (buf_len(list) > 0) {
		if ((r = buf_put_string(sect, cablob, sizeof(cablob))) !=
		    JIT_OK ||
		    (r = buf_put_string(sect, NULL, 0)) != JIT_OK ||
		    (r = buf_put_u8(sect, KRL_SECTION_CERT_SERIAL_LIST)) !=
		    JIT_OK ||
		    (r = buf_put_stringb(sect, list)) != JIT_OK ||
		    (r = buf_put_u8(b, KRL_SECTION_CERTIFICATES)) != JIT_OK ||
		    (r = buf_put_stringb(b, sect)) != JIT_OK)
			goto out;
	}
	if (sign) {
		/* Signed: everything from the magic to the signing key. */
		if ((r = buf_put_u8(b, KRL_SECTION_SIGNATURE)) != JIT_OK ||
		    (r = buf_put_string(b, cablob, sizeof(cablob))) != JIT_OK)
			goto out;
		if ((r = ca_sign(ca, CA_SLOT_SSH_USER, buf_ptr(b), buf_len(b),
		    sig, &siglen)) != JIT_OK)
			goto out;
		if (siglen != crypto_sign_BYTES) {
			r = JIT_ERR_CRYPTO;
			goto out;
		}
		if ((r = buf_put_cstring(sigb, "ssh-ed25519")) != JIT_OK ||
		    (r = buf_put_string(sigb, sig, siglen)) != JIT_OK ||
		    (r = buf_put_stringb(b, sigb)) != JIT_OK)
			goto out;
	}
	if ((res = malloc(buf_len(b))) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	memcpy(res, buf_ptr(b), buf_len(b));
	*outlen = buf_len(b);
	*out = res;
	r = JIT_OK;
 out:
	free(sorted);
	buf_free(sigb);
	buf_free(list);
	buf_free(sect);
	buf_free(b);
	return r;
}

/* Reads the header; leaves b at the first section. */
int
ca_krl_parse(const uint8_t *blob, size_t len, const uint8_t *ca_pub,
    struct ca_krl **out)
{
	struct ca_krl *ck;
	int r;

	*out = NULL;
	if ((ck = calloc(1, sizeof(*ck))) == NULL)
		return JIT_ERR_ALLOC;
	if ((r = krlr_parse(blob, len, (const uint8_t (*)[32])ca_pub,
	    ca_pub != NULL ? 1 : 0, &ck->k)) != JIT_OK) {
		free(ck);
		return r;
	}
	*out = ck;
	return JIT_OK;
}

void
ca_krl_free(struct ca_krl *k)
{
	if (k == NULL)
		return;
	krlr_free(k->k);
	free(k);
}

uint64_t
ca_krl_version(const struct ca_krl *k)
{
	return krlr_version(k->k);
}

uint64_t
ca_krl_generated(const struct ca_krl *k)
{
	return krlr_generated(k->k);
}

int
ca_krl_is_revoked(const struct ca_krl *k, const uint8_t *ca_pub,
    uint64_t serial)
{
	return k != NULL && krlr_is_revoked(k->k, ca_pub, serial);
}
