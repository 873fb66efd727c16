/*
 * A bounded KRL reader for the server side (see krlread.h).  A first pass
 * walks the sections without interpreting them and checks every
 * signature section, which must all come last; a second pass loads
 * serial lists and ranges of certificate sections.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/krl_read.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/limits.h"

#define KRL_MAGIC			0x5353484b524c0a00ULL
#define KRL_FORMAT_VERSION		1
#define KRL_SECTION_CERTIFICATES	1
#define KRL_SECTION_SIGNATURE		4
#define KRL_SECTION_CERT_SERIAL_LIST	0x20
#define KRL_SECTION_CERT_SERIAL_RANGE	0x21

#define KRL_COMMENT_MAX		4096
#define KRL_SIGNATURES_MAX	4
#define KRL_CA_SECTIONS_MAX	64

/* One revoked serial range [lo, hi] of the CA key keys[key]. */
struct krlr_entry {
	uint64_t	lo;
	uint64_t	hi;
	size_t		key;
};

struct krlr {
	uint64_t		 version;
	uint64_t		 generated;
	size_t			 unsigned_len;
	int			 is_signed;
	/* CA key blobs of the certificate sections; length 0: any CA. */
	uint8_t			*keys[KRL_CA_SECTIONS_MAX];
	size_t			 keylens[KRL_CA_SECTIONS_MAX];
	size_t			 nkeys;
	struct krlr_entry	*ents;
	size_t			 nents;
	size_t			 alloc;
};

static int
get_header(struct buf *b, uint64_t *version, uint64_t *generated)
{
	uint64_t magic, flags;
	uint32_t format;
	size_t clen;
	int r;

	if ((r = buf_get_u64(b, &magic)) != JIT_OK)
		return r;
	if (magic != KRL_MAGIC)
		return JIT_ERR_INVALID_FORMAT;
	if ((r = buf_get_u32(b, &format)) != JIT_OK ||
	    (r = buf_get_u64(b, version)) != JIT_OK ||
	    (r = buf_get_u64(b, generated)) != JIT_OK ||
	    (r = buf_get_u64(b, &flags)) != JIT_OK ||
	    (r = buf_get_string_direct(b, NULL, NULL)) != JIT_OK ||
	    (r = buf_get_string_direct(b, NULL, &clen)) != JIT_OK)
		return r;
	if (format != KRL_FORMAT_VERSION || flags != 0)
		return JIT_ERR_INVALID_FORMAT;
	if (clen > KRL_COMMENT_MAX)
		return JIT_ERR_LIMIT;
	return JIT_OK;
}

/*
 * Checks one signature section (after its type byte) over the bytes
 * before its signature; sets *by_ca when the key is one of cas.
 */
static int
check_signature(struct buf *b, const uint8_t *blob, size_t len,
    const uint8_t (*cas)[32], size_t ncas, int *by_ca)
{
	struct buf *key = NULL, *sig = NULL;
	const uint8_t *name, *pk, *s;
	size_t namelen, pklen, slen, signed_len, i;
	int r = JIT_ERR_INTERNAL;

	if ((r = buf_froms(b, &key)) != JIT_OK)
		goto out;
	signed_len = len - buf_len(b);
	if ((r = buf_froms(b, &sig)) != JIT_OK)
		goto out;
	if ((r = buf_get_string_direct(key, &name, &namelen)) != JIT_OK ||
	    (r = buf_get_string_direct(key, &pk, &pklen)) != JIT_OK ||
	    (r = buf_get_string_direct(sig, &name, &namelen)) != JIT_OK ||
	    (r = buf_get_string_direct(sig, &s, &slen)) != JIT_OK)
		goto out;
	if (namelen != 11 || memcmp(name, "ssh-ed25519", 11) != 0) {
		r = JIT_ERR_KEY_TYPE;
		goto out;
	}
	if (pklen != crypto_sign_PUBLICKEYBYTES || buf_len(key) != 0 ||
	    slen != crypto_sign_BYTES || buf_len(sig) != 0) {
		r = JIT_ERR_INVALID_FORMAT;
		goto out;
	}
	if (crypto_sign_verify_detached(s, blob, signed_len, pk) != 0) {
		r = JIT_ERR_BAD_SIGNATURE;
		goto out;
	}
	for (i = 0; cas != NULL && i < ncas; i++) {
		if (sodium_memcmp(cas[i], pk, 32) == 0)
			*by_ca = 1;
	}
	r = JIT_OK;
 out:
	buf_free(sig);
	buf_free(key);
	return r;
}

/* Pass 1: section boundaries and signatures. */
static int
verify_pass(const uint8_t *blob, size_t len, const uint8_t (*cas)[32],
    size_t ncas,
    size_t *unsigned_len)
{
	struct buf *b = NULL;
	uint64_t version, generated;
	uint8_t type;
	size_t off;
	int nsigs = 0, by_ca = 0, r = JIT_ERR_INTERNAL;

	*unsigned_len = len;
	if ((b = buf_from(blob, len)) == NULL)
		return JIT_ERR_ALLOC;
	if ((r = get_header(b, &version, &generated)) != JIT_OK)
		goto out;
	while (buf_len(b) > 0) {
		off = len - buf_len(b);
		if ((r = buf_get_u8(b, &type)) != JIT_OK)
			goto out;
		if (type != KRL_SECTION_SIGNATURE) {
			if (nsigs > 0) {
				r = JIT_ERR_INVALID_FORMAT;
				goto out;
			}
			if ((r = buf_get_string_direct(b, NULL, NULL)) !=
			    JIT_OK)
				goto out;
			continue;
		}
		if (nsigs == 0)
			*unsigned_len = off;
		if (++nsigs > KRL_SIGNATURES_MAX) {
			r = JIT_ERR_LIMIT;
			goto out;
		}
		if ((r = check_signature(b, blob, len, cas, ncas, &by_ca)) != JIT_OK)
			goto out;
	}
	if (ncas > 0 && !by_ca) {
		r = JIT_ERR_BAD_SIGNATURE;
		goto out;
	}
	r = JIT_OK;
 out:
	buf_free(b);
	return r;
}

static int
add_entry(struct krlr *k, uint64_t lo, uint64_t hi)
{
	struct krlr_entry *ne;
	size_t na;

	if (lo == 0 || lo > hi)
		return JIT_ERR_INVALID_FORMAT;
	if (k->nents >= JIT_KRL_SERIALS_MAX)
		return JIT_ERR_LIMIT;
	if (k->nents == k->alloc) {
		na = k->alloc == 0 ? 64 : k->alloc * 2;
		if (na > JIT_KRL_SERIALS_MAX)
			na = JIT_KRL_SERIALS_MAX;
		if ((ne = reallocarray(k->ents, na, sizeof(*ne))) == NULL)
			return JIT_ERR_ALLOC;
		k->ents = ne;
		k->alloc = na;
	}
	k->ents[k->nents].lo = lo;
	k->ents[k->nents].hi = hi;
	k->ents[k->nents].key = k->nkeys - 1;
	k->nents++;
	return JIT_OK;
}

/* One serial list or range subsection. */
static int
get_subsection(struct krlr *k, uint8_t type, struct buf *sub)
{
	uint64_t lo, hi;
	int r;

	switch (type) {
	case KRL_SECTION_CERT_SERIAL_LIST:
		if (buf_len(sub) == 0 || buf_len(sub) % 8 != 0)
			return JIT_ERR_INVALID_FORMAT;
		while (buf_len(sub) > 0) {
			if ((r = buf_get_u64(sub, &lo)) != JIT_OK ||
			    (r = add_entry(k, lo, lo)) != JIT_OK)
				return r;
		}
		return JIT_OK;
	case KRL_SECTION_CERT_SERIAL_RANGE:
		if ((r = buf_get_u64(sub, &lo)) != JIT_OK ||
		    (r = buf_get_u64(sub, &hi)) != JIT_OK)
			return r;
		if (buf_len(sub) != 0)
			return JIT_ERR_TRAILING_DATA;
		return add_entry(k, lo, hi);
	default:
		return JIT_ERR_INVALID_FORMAT;
	}
}

/* One KRL_SECTION_CERTIFICATES section. */
static int
get_cert_section(struct krlr *k, struct buf *sect)
{
	struct buf *sub = NULL;
	const uint8_t *key;
	size_t keylen;
	uint8_t type;
	int r = JIT_ERR_INTERNAL;

	if (k->nkeys >= KRL_CA_SECTIONS_MAX)
		return JIT_ERR_LIMIT;
	if ((r = buf_get_string_direct(sect, &key, &keylen)) != JIT_OK ||
	    (r = buf_get_string_direct(sect, NULL, NULL)) != JIT_OK)
		goto out;
	if (keylen > JIT_PUBKEY_BLOB_MAX) {
		r = JIT_ERR_LIMIT;
		goto out;
	}
	if (keylen > 0) {
		if ((k->keys[k->nkeys] = malloc(keylen)) == NULL) {
			r = JIT_ERR_ALLOC;
			goto out;
		}
		memcpy(k->keys[k->nkeys], key, keylen);
	}
	k->keylens[k->nkeys++] = keylen;
	if (buf_len(sect) == 0) {
		r = JIT_ERR_INVALID_FORMAT;
		goto out;
	}
	while (buf_len(sect) > 0) {
		if ((r = buf_get_u8(sect, &type)) != JIT_OK ||
		    (r = buf_froms(sect, &sub)) != JIT_OK ||
		    (r = get_subsection(k, type, sub)) != JIT_OK)
			goto out;
		buf_free(sub);
		sub = NULL;
	}
	r = JIT_OK;
 out:
	buf_free(sub);
	return r;
}

int
krlr_parse(const uint8_t *blob, size_t len, const uint8_t (*cas)[32],
    size_t ncas,
    struct krlr **out)
{
	struct buf *b = NULL, *sect = NULL;
	struct krlr *k = NULL;
	size_t unsigned_len;
	uint8_t type;
	int r = JIT_ERR_INTERNAL;

	*out = NULL;
	if (blob == NULL || len == 0)
		return JIT_ERR_INCOMPLETE;
	if (len > JIT_BUF_MAX)
		return JIT_ERR_LIMIT;
	if ((r = verify_pass(blob, len, cas, ncas, &unsigned_len)) != JIT_OK)
		return r;
	if ((b = buf_from(blob, len)) == NULL ||
	    (k = calloc(1, sizeof(*k))) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	k->unsigned_len = unsigned_len;
	k->is_signed = unsigned_len < len;
	if ((r = get_header(b, &k->version, &k->generated)) != JIT_OK)
		goto out;
	while (buf_len(b) > 0) {
		if ((r = buf_get_u8(b, &type)) != JIT_OK)
			goto out;
		if (type == KRL_SECTION_SIGNATURE) {
			/* Checked in the first pass. */
			if ((r = buf_get_string_direct(b, NULL, NULL)) !=
			    JIT_OK ||
			    (r = buf_get_string_direct(b, NULL, NULL)) !=
			    JIT_OK)
				goto out;
			continue;
		}
		if (type != KRL_SECTION_CERTIFICATES) {
			r = JIT_ERR_INVALID_FORMAT;
			goto out;
		}
		if ((r = buf_froms(b, &sect)) != JIT_OK ||
		    (r = get_cert_section(k, sect)) != JIT_OK)
			goto out;
		buf_free(sect);
		sect = NULL;
	}
	*out = k;
	k = NULL;
	r = JIT_OK;
 out:
	krlr_free(k);
	buf_free(sect);
	buf_free(b);
	return r;
}

void
krlr_free(struct krlr *k)
{
	size_t i;

	if (k == NULL)
		return;
	for (i = 0; i < k->nkeys; i++)
		free(k->keys[i]);
	free(k->ents);
	free(k);
}

uint64_t
krlr_version(const struct krlr *k)
{
	return k->version;
}

uint64_t
krlr_generated(const struct krlr *k)
{
	return k->generated;
}

size_t
krlr_count(const struct krlr *k)
{
	return k->nents;
}

size_t
krlr_unsigned_len(const struct krlr *k)
{
	return k->unsigned_len;
}

int
krlr_is_signed(const struct krlr *k)
{
	return k->is_signed;
}

int
krlr_is_revoked(const struct krlr *k, const uint8_t ca_pk[32],
    uint64_t serial)
{
	uint8_t blob[SSH_ED25519_BLOB_LEN];
	const struct krlr_entry *e;
	size_t i;

	if (k == NULL)
		return 0;
	ssh_ed25519_blob(ca_pk, blob);
	for (i = 0; i < k->nents; i++) {
		e = &k->ents[i];
		if (serial < e->lo || serial > e->hi)
			continue;
		if (k->keylens[e->key] == 0 ||
		    (k->keylens[e->key] == sizeof(blob) &&
		    memcmp(k->keys[e->key], blob, sizeof(blob)) == 0))
			return 1;
	}
	return 0;
}
