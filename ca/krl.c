/*
 * OpenSSH Key Revocation Lists (PROTOCOL.krl).  The writer emits a header,
 * one certificate section for the user CA key holding a single sorted,
 * duplicate-free serial list, and optionally a signature section made by
 * ca_sign().  The reader verifies every signature section before it looks
 * at any revocation section, then loads serial lists and serial ranges;
 * explicit keys, fingerprints, key ids, bitmaps and extensions are
 * refused rather than silently ignored.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ca/krl.h"
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

struct krl_range {
	uint64_t	lo;
	uint64_t	hi;
};

/* Serials revoked for one CA key (an empty key means any CA). */
struct krl_ca {
	uint8_t			*key;
	size_t			 keylen;
	uint64_t		*serials;	/* sorted after parsing */
	size_t			 nserials;
	struct krl_range	*ranges;
	size_t			 nranges;
};

struct ca_krl {
	uint64_t	 version;
	uint64_t	 generated;
	struct krl_ca	*cas;
	size_t		 ncas;
	size_t		 nentries;	/* serials + ranges, all sections */
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

/* Checks one signature section (after its type byte) over blob[0..off). */
static int
check_signature(struct buf *b, const uint8_t *blob, size_t len,
    const uint8_t *ca_pub, int *by_ca)
{
	struct buf *key = NULL, *sig = NULL;
	const uint8_t *name, *pk, *s;
	size_t namelen, pklen, slen, signed_len;
	int r = JIT_ERR_INTERNAL;

	if ((r = buf_froms(b, &key)) != JIT_OK)
		goto out;
	signed_len = len - buf_len(b);
	if ((r = buf_froms(b, &sig)) != JIT_OK)
		goto out;
	if ((r = buf_get_string_direct(key, &name, &namelen)) != JIT_OK ||
	    (r = buf_get_string_direct(key, &pk, &pklen)) != JIT_OK)
		goto out;
	if (namelen != 11 || memcmp(name, "ssh-ed25519", 11) != 0) {
		r = JIT_ERR_KEY_TYPE;
		goto out;
	}
	if (pklen != crypto_sign_PUBLICKEYBYTES || buf_len(key) != 0) {
		r = JIT_ERR_INVALID_FORMAT;
		goto out;
	}
	if ((r = buf_get_string_direct(sig, &name, &namelen)) != JIT_OK ||
	    (r = buf_get_string_direct(sig, &s, &slen)) != JIT_OK)
		goto out;
	if (namelen != 11 || memcmp(name, "ssh-ed25519", 11) != 0 ||
	    slen != crypto_sign_BYTES || buf_len(sig) != 0) {
		r = JIT_ERR_INVALID_FORMAT;
		goto out;
	}
	if (crypto_sign_verify_detached(s, blob, signed_len, pk) != 0) {
		r = JIT_ERR_BAD_SIGNATURE;
		goto out;
	}
	if (ca_pub != NULL && sodium_memcmp(ca_pub, pk, 32) == 0)
		*by_ca = 1;
	r = JIT_OK;
 out:
	buf_free(sig);
	buf_free(key);
	return r;
}

/*
 * Pass 1: walks the sections without interpreting them and checks every
 * signature section, which must all come last.
 */
static int
verify_pass(const uint8_t *blob, size_t len, const uint8_t *ca_pub)
{
	struct buf *b = NULL;
	uint64_t version, generated;
	uint8_t type;
	int nsigs = 0, by_ca = 0, r = JIT_ERR_INTERNAL;

	if ((b = buf_from(blob, len)) == NULL)
		return JIT_ERR_ALLOC;
	if ((r = get_header(b, &version, &generated)) != JIT_OK)
		goto out;
	while (buf_len(b) > 0) {
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
		if (++nsigs > KRL_SIGNATURES_MAX) {
			r = JIT_ERR_LIMIT;
			goto out;
		}
		if ((r = check_signature(b, blob, len, ca_pub, &by_ca)) !=
		    JIT_OK)
			goto out;
	}
	if (ca_pub != NULL && !by_ca) {
		r = JIT_ERR_BAD_SIGNATURE;
		goto out;
	}
	r = JIT_OK;
 out:
	buf_free(b);
	return r;
}

static int
add_serial(struct ca_krl *k, struct krl_ca *c, uint64_t serial)
{
	if (serial == 0)
		return JIT_ERR_INVALID_FORMAT;
	if (k->nentries >= JIT_KRL_SERIALS_MAX)
		return JIT_ERR_LIMIT;
	c->serials[c->nserials++] = serial;
	k->nentries++;
	return JIT_OK;
}

/* Parses one serial list or range subsection into c. */
static int
get_cert_subsection(struct ca_krl *k, struct krl_ca *c, uint8_t type,
    struct buf *sub)
{
	struct krl_range *nr;
	uint64_t *ns, lo, hi;
	size_t count;
	int r;

	switch (type) {
	case KRL_SECTION_CERT_SERIAL_LIST:
		if (buf_len(sub) == 0 || buf_len(sub) % 8 != 0)
			return JIT_ERR_INVALID_FORMAT;
		count = buf_len(sub) / 8;
		if (count > JIT_KRL_SERIALS_MAX - k->nentries)
			return JIT_ERR_LIMIT;
		if ((ns = reallocarray(c->serials, c->nserials + count,
		    sizeof(*ns))) == NULL)
			return JIT_ERR_ALLOC;
		c->serials = ns;
		while (buf_len(sub) > 0) {
			if ((r = buf_get_u64(sub, &lo)) != JIT_OK ||
			    (r = add_serial(k, c, lo)) != JIT_OK)
				return r;
		}
		return JIT_OK;
	case KRL_SECTION_CERT_SERIAL_RANGE:
		if ((r = buf_get_u64(sub, &lo)) != JIT_OK ||
		    (r = buf_get_u64(sub, &hi)) != JIT_OK)
			return r;
		if (buf_len(sub) != 0)
			return JIT_ERR_TRAILING_DATA;
		if (lo == 0 || lo > hi)
			return JIT_ERR_INVALID_FORMAT;
		if (k->nentries >= JIT_KRL_SERIALS_MAX)
			return JIT_ERR_LIMIT;
		if ((nr = reallocarray(c->ranges, c->nranges + 1,
		    sizeof(*nr))) == NULL)
			return JIT_ERR_ALLOC;
		c->ranges = nr;
		c->ranges[c->nranges].lo = lo;
		c->ranges[c->nranges].hi = hi;
		c->nranges++;
		k->nentries++;
		return JIT_OK;
	default:
		return JIT_ERR_INVALID_FORMAT;	/* bitmaps, key ids, ... */
	}
}

/* Parses the contents of one KRL_SECTION_CERTIFICATES section. */
static int
get_cert_section(struct ca_krl *k, struct buf *sect)
{
	struct krl_ca *nc, *c;
	struct buf *sub = NULL;
	const uint8_t *key;
	size_t keylen;
	uint8_t type;
	int r = JIT_ERR_INTERNAL;

	if (k->ncas >= KRL_CA_SECTIONS_MAX)
		return JIT_ERR_LIMIT;
	if ((nc = reallocarray(k->cas, k->ncas + 1, sizeof(*nc))) == NULL)
		return JIT_ERR_ALLOC;
	k->cas = nc;
	c = &k->cas[k->ncas++];
	memset(c, 0, sizeof(*c));
	if ((r = buf_get_string_direct(sect, &key, &keylen)) != JIT_OK ||
	    (r = buf_get_string_direct(sect, NULL, NULL)) != JIT_OK)
		goto out;
	if (keylen > JIT_PUBKEY_BLOB_MAX) {
		r = JIT_ERR_LIMIT;
		goto out;
	}
	if (keylen > 0) {
		if ((c->key = malloc(keylen)) == NULL) {
			r = JIT_ERR_ALLOC;
			goto out;
		}
		memcpy(c->key, key, keylen);
		c->keylen = keylen;
	}
	if (buf_len(sect) == 0) {
		r = JIT_ERR_INVALID_FORMAT;	/* at least one subsection */
		goto out;
	}
	while (buf_len(sect) > 0) {
		if ((r = buf_get_u8(sect, &type)) != JIT_OK ||
		    (r = buf_froms(sect, &sub)) != JIT_OK ||
		    (r = get_cert_subsection(k, c, type, sub)) != JIT_OK)
			goto out;
		buf_free(sub);
		sub = NULL;
	}
	if (c->nserials > 0)
		qsort(c->serials, c->nserials, sizeof(*c->serials), u64_cmp);
	r = JIT_OK;
 out:
	buf_free(sub);
	return r;
}

int
ca_krl_parse(const uint8_t *blob, size_t len, const uint8_t *ca_pub,
    struct ca_krl **out)
{
	struct buf *b = NULL, *sect = NULL;
	struct ca_krl *k = NULL;
	uint8_t type;
	int r = JIT_ERR_INTERNAL;

	if (out == NULL)
		return JIT_ERR_INVALID_ARG;
	*out = NULL;
	if (blob == NULL || len == 0)
		return JIT_ERR_INCOMPLETE;
	if (len > JIT_BUF_MAX)
		return JIT_ERR_LIMIT;
	/* Verify before trusting any of the contents. */
	if ((r = verify_pass(blob, len, ca_pub)) != JIT_OK)
		return r;
	if ((b = buf_from(blob, len)) == NULL ||
	    (k = calloc(1, sizeof(*k))) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	if ((r = get_header(b, &k->version, &k->generated)) != JIT_OK)
		goto out;
	while (buf_len(b) > 0) {
		if ((r = buf_get_u8(b, &type)) != JIT_OK)
			goto out;
		if (type == KRL_SECTION_SIGNATURE) {
			/* Checked in the first pass; two strings to skip. */
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
	ca_krl_free(k);
	buf_free(sect);
	buf_free(b);
	return r;
}

void
ca_krl_free(struct ca_krl *k)
{
	size_t i;

	if (k == NULL)
		return;
	for (i = 0; i < k->ncas; i++) {
		free(k->cas[i].key);
		free(k->cas[i].serials);
		free(k->cas[i].ranges);
	}
	free(k->cas);
	free(k);
}

uint64_t
ca_krl_version(const struct ca_krl *k)
{
	return k->version;
}

uint64_t
ca_krl_generated(const struct ca_krl *k)
{
	return k->generated;
}

int
ca_krl_is_revoked(const struct ca_krl *k, const uint8_t *ca_pub,
    uint64_t serial)
{
	static const uint8_t prefix[] = {
		0, 0, 0, 11, 's', 's', 'h', '-', 'e', 'd', '2', '5', '5',
		'1', '9', 0, 0, 0, 32
	};
	uint8_t blob[CA_SSH_PUBBLOB_LEN];
	const struct krl_ca *c;
	size_t i, j;

	if (k == NULL || ca_pub == NULL)
		return 0;
	memcpy(blob, prefix, sizeof(prefix));
	memcpy(blob + sizeof(prefix), ca_pub, 32);
	for (i = 0; i < k->ncas; i++) {
		c = &k->cas[i];
		if (c->keylen != 0 && (c->keylen != sizeof(blob) ||
		    memcmp(c->key, blob, sizeof(blob)) != 0))
			continue;
		if (c->nserials > 0 && bsearch(&serial, c->serials,
		    c->nserials, sizeof(*c->serials), u64_cmp) != NULL)
			return 1;
		for (j = 0; j < c->nranges; j++) {
			if (serial >= c->ranges[j].lo &&
			    serial <= c->ranges[j].hi)
				return 1;
		}
	}
	return 0;
}
