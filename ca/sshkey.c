/*
 * OpenSSH public keys of certificate subjects (see sshkey.h).  A key is
 * kept as its validated wire blob; each supported type is one row of a
 * small table holding its names and the function that checks its public
 * fields: Ed25519 (32 bytes), ECDSA over the NIST curves (point decoded
 * and checked by OpenSSL 3 through EVP_PKEY_fromdata and
 * EVP_PKEY_public_check) and RSA (odd exponent >= 3, odd modulus of an
 * allowed size).  Everything else, certificates included, is refused.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sodium.h>

#include "ca/sshkey.h"
#include "common/b64.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/limits.h"

#define RSA_E_MAX_BYTES	64	/* public exponents are small in practice */

struct keytype;
typedef int (*key_check_fn)(const struct keytype *, struct buf *,
    unsigned int *);

struct keytype {
	const char		*name;
	const char		*cert_name;
	enum ca_sshkey_type	 type;
	int			 nfields;	/* strings after the name */
	key_check_fn		 check;
	const char		*curve;		/* ECDSA: SSH curve name */
	const char		*group;		/* ECDSA: OpenSSL group name */
	size_t			 qlen;		/* ECDSA: point length */
	unsigned int		 bits;		/* fixed-size types */
};

struct ca_sshkey {
	const struct keytype	*kt;
	unsigned int		 bits;
	uint8_t			*blob;
	size_t			 bloblen;
	size_t			 fields_off;	/* fields after the name */
};

static int check_ed25519(const struct keytype *, struct buf *, unsigned int *);
static int check_ecdsa(const struct keytype *, struct buf *, unsigned int *);
static int check_rsa(const struct keytype *, struct buf *, unsigned int *);

static const struct keytype keytypes[] = {
	{ "ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com",
	    CA_SSHKEY_ED25519, 1, check_ed25519, NULL, NULL, 0, 256 },
	{ "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256-cert-v01@openssh.com",
	    CA_SSHKEY_ECDSA_P256, 2, check_ecdsa, "nistp256", "prime256v1",
	    65, 256 },
	{ "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384-cert-v01@openssh.com",
	    CA_SSHKEY_ECDSA_P384, 2, check_ecdsa, "nistp384", "secp384r1",
	    97, 384 },
	{ "ecdsa-sha2-nistp521", "ecdsa-sha2-nistp521-cert-v01@openssh.com",
	    CA_SSHKEY_ECDSA_P521, 2, check_ecdsa, "nistp521", "secp521r1",
	    133, 521 },
	{ "ssh-rsa", "ssh-rsa-cert-v01@openssh.com",
	    CA_SSHKEY_RSA, 2, check_rsa, NULL, NULL, 0, 0 },
};
#define NKEYTYPES (sizeof(keytypes) / sizeof(keytypes[0]))

/* Finds a table row by plain (cert == 0) or certificate name. */
static const struct keytype *
keytype_lookup(const uint8_t *name, size_t len, int cert)
{
	const char *n;
	size_t i;

	for (i = 0; i < NKEYTYPES; i++) {
		n = cert ? keytypes[i].cert_name : keytypes[i].name;
		if (strlen(n) == len && memcmp(n, name, len) == 0)
			return &keytypes[i];
	}
	return NULL;
}

static int
check_ed25519(const struct keytype *kt, struct buf *b, unsigned int *bits)
{
	size_t len;
	int r;

	if ((r = buf_get_string_direct(b, NULL, &len)) != JIT_OK)
		return r;
	if (len != crypto_sign_PUBLICKEYBYTES)
		return JIT_ERR_INVALID_FORMAT;
	*bits = kt->bits;
	return JIT_OK;
}

/* Decodes the point with OpenSSL and runs its public key check. */
static int
ec_point_check(const char *group, const uint8_t *q, size_t qlen)
{
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx = NULL, *cctx = NULL;
	EVP_PKEY *pkey = NULL;
	int r = JIT_ERR_INTERNAL;

	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_PKEY_PARAM_PUB_KEY, (void *)q, qlen);
	params[2] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1) {
		r = JIT_ERR_CRYPTO;
		goto out;
	}
	if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		r = JIT_ERR_INVALID_FORMAT;
		goto out;
	}
	if ((cctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL) {
		r = JIT_ERR_CRYPTO;
		goto out;
	}
	if (EVP_PKEY_public_check(cctx) != 1) {
		r = JIT_ERR_INVALID_FORMAT;
		goto out;
	}
	r = JIT_OK;
 out:
	ERR_clear_error();
	EVP_PKEY_CTX_free(cctx);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return r;
}

static int
check_ecdsa(const struct keytype *kt, struct buf *b, unsigned int *bits)
{
	const uint8_t *curve, *q;
	size_t curvelen, qlen;
	int r;

	if ((r = buf_get_string_direct(b, &curve, &curvelen)) != JIT_OK ||
	    (r = buf_get_string_direct(b, &q, &qlen)) != JIT_OK)
		return r;
	if (curvelen != strlen(kt->curve) ||
	    memcmp(curve, kt->curve, curvelen) != 0)
		return JIT_ERR_INVALID_FORMAT;
	/* Uncompressed points only, as OpenSSH writes them. */
	if (qlen != kt->qlen || q[0] != 0x04)
		return JIT_ERR_INVALID_FORMAT;
	if ((r = ec_point_check(kt->group, q, qlen)) != JIT_OK)
		return r;
	*bits = kt->bits;
	return JIT_OK;
}

static int
check_rsa(const struct keytype *kt, struct buf *b, unsigned int *bits)
{
	const uint8_t *e, *n;
	size_t elen, nlen, nbits;
	uint8_t top;
	int r;

	if ((r = buf_get_bignum2_bytes_direct(b, &e, &elen)) != JIT_OK ||
	    (r = buf_get_bignum2_bytes_direct(b, &n, &nlen)) != JIT_OK)
		return r;
	if (elen == 0 || nlen == 0)
		return JIT_ERR_INVALID_FORMAT;
	if (elen > RSA_E_MAX_BYTES)
		return JIT_ERR_LIMIT;
	if ((e[elen - 1] & 1) == 0 || (elen == 1 && e[0] < 3))
		return JIT_ERR_INVALID_FORMAT;
	if ((n[nlen - 1] & 1) == 0)
		return JIT_ERR_INVALID_FORMAT;
	if (nlen > JIT_RSA_MAX_BITS / 8 + 1)
		return JIT_ERR_LIMIT;
	/* The mpint reader strips leading zeroes, so n[0] != 0. */
	nbits = (nlen - 1) * 8;
	for (top = n[0]; top != 0; top >>= 1)
		nbits++;
	if (nbits < JIT_RSA_MIN_BITS)
		return JIT_ERR_KEY_TOO_SMALL;
	if (nbits > JIT_RSA_MAX_BITS)
		return JIT_ERR_LIMIT;
	if (elen > nlen || (elen == nlen && memcmp(e, n, nlen) >= 0))
		return JIT_ERR_INVALID_FORMAT;
	*bits = (unsigned int)nbits;
	return JIT_OK;
}

int
ca_sshkey_from_blob(const uint8_t *blob, size_t len, struct ca_sshkey **out)
{
	struct buf *b = NULL;
	struct ca_sshkey *k = NULL;
	const struct keytype *kt;
	const uint8_t *name;
	size_t namelen, fields_off;
	unsigned int bits = 0;
	int r = JIT_ERR_INTERNAL;

	if (out == NULL)
		return JIT_ERR_INVALID_ARG;
	*out = NULL;
	if (blob == NULL || len == 0)
		return JIT_ERR_INCOMPLETE;
	if (len > JIT_PUBKEY_BLOB_MAX)
		return JIT_ERR_LIMIT;
	if ((b = buf_from(blob, len)) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	if ((r = buf_get_string_direct(b, &name, &namelen)) != JIT_OK)
		goto out;
	if ((kt = keytype_lookup(name, namelen, 0)) == NULL) {
		r = JIT_ERR_KEY_TYPE;	/* certificates land here too */
		goto out;
	}
	fields_off = len - buf_len(b);
	if ((r = kt->check(kt, b, &bits)) != JIT_OK)
		goto out;
	if (buf_len(b) != 0) {
		r = JIT_ERR_TRAILING_DATA;
		goto out;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL ||
	    (k->blob = malloc(len)) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	memcpy(k->blob, blob, len);
	k->bloblen = len;
	k->fields_off = fields_off;
	k->kt = kt;
	k->bits = bits;
	*out = k;
	k = NULL;
	r = JIT_OK;
 out:
	ca_sshkey_free(k);
	buf_free(b);
	return r;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

int
ca_sshkey_parse_line(const char *line, size_t len, struct ca_sshkey **out)
{
	struct ca_sshkey *k = NULL;
	uint8_t *blob = NULL;
	size_t bloblen = 0, i, tstart, tlen, bstart, blen;
	int r = JIT_ERR_INTERNAL;

	if (out == NULL || line == NULL)
		return JIT_ERR_INVALID_ARG;
	*out = NULL;
	if (len > JIT_PUBKEY_LINE_MAX)
		return JIT_ERR_LIMIT;
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	for (i = 0; i < len; i++) {
		if (line[i] == '\0' || line[i] == '\n' || line[i] == '\r')
			return JIT_ERR_INVALID_FORMAT;
	}
	/* TYPE: printable, starting at column 0 (no options, no indent). */
	tstart = 0;
	for (i = 0; i < len && !is_blank(line[i]); i++) {
		if ((unsigned char)line[i] < 0x21 ||
		    (unsigned char)line[i] > 0x7e)
			return JIT_ERR_INVALID_FORMAT;
	}
	tlen = i;
	if (tlen == 0)
		return JIT_ERR_INVALID_FORMAT;
	while (i < len && is_blank(line[i]))
		i++;
	bstart = i;
	while (i < len && !is_blank(line[i]))
		i++;
	blen = i - bstart;
	if (blen == 0)
		return JIT_ERR_INCOMPLETE;
	/* Whatever follows the blank after BASE64 is the comment. */
	if ((r = b64_decode(line + bstart, blen, B64_STD, JIT_PUBKEY_BLOB_MAX,
	    &blob, &bloblen)) != JIT_OK)
		goto out;
	if ((r = ca_sshkey_from_blob(blob, bloblen, &k)) != JIT_OK)
		goto out;
	if (strlen(k->kt->name) != tlen ||
	    memcmp(k->kt->name, line + tstart, tlen) != 0) {
		r = JIT_ERR_INVALID_FORMAT;
		goto out;
	}
	*out = k;
	k = NULL;
	r = JIT_OK;
 out:
	ca_sshkey_free(k);
	free(blob);
	return r;
}

void
ca_sshkey_free(struct ca_sshkey *k)
{
	if (k == NULL)
		return;
	free(k->blob);
	free(k);
}

enum ca_sshkey_type
ca_sshkey_type(const struct ca_sshkey *k)
{
	return k->kt->type;
}

const char *
ca_sshkey_type_name(const struct ca_sshkey *k)
{
	return k->kt->name;
}

const char *
ca_sshkey_cert_type_name(const struct ca_sshkey *k)
{
	return k->kt->cert_name;
}

unsigned int
ca_sshkey_bits(const struct ca_sshkey *k)
{
	return k->bits;
}

const uint8_t *
ca_sshkey_blob(const struct ca_sshkey *k, size_t *len)
{
	if (len != NULL)
		*len = k->bloblen;
	return k->blob;
}

void
ca_sshkey_fingerprint(const struct ca_sshkey *k, char *out, size_t outlen)
{
	static const char prefix[] = "SHA256:";
	uint8_t h[crypto_hash_sha256_BYTES];

	if (outlen == 0)
		return;
	out[0] = '\0';
	if (outlen < CA_SSHKEY_FP_LEN)
		return;
	crypto_hash_sha256(h, k->blob, k->bloblen);
	memcpy(out, prefix, sizeof(prefix) - 1);
	sodium_bin2base64(out + sizeof(prefix) - 1,
	    outlen - (sizeof(prefix) - 1), h, sizeof(h),
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

int
ca_sshkey_put_cert_fields(const struct ca_sshkey *k, struct buf *b)
{
	/* The blob after the type name is exactly the certificate's fields. */
	return buf_put(b, k->blob + k->fields_off,
	    k->bloblen - k->fields_off);
}

int
ca_sshkey_get_cert_fields(const char *cert_type, struct buf *b,
    struct ca_sshkey **out)
{
	const struct keytype *kt;
	struct buf *kb = NULL;
	const uint8_t *p;
	size_t plen;
	int i, r = JIT_ERR_INTERNAL;

	if (out == NULL || cert_type == NULL || b == NULL)
		return JIT_ERR_INVALID_ARG;
	*out = NULL;
	if ((kt = keytype_lookup((const uint8_t *)cert_type,
	    strlen(cert_type), 1)) == NULL)
		return JIT_ERR_KEY_TYPE;
	if ((kb = buf_new(JIT_PUBKEY_BLOB_MAX)) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	if ((r = buf_put_cstring(kb, kt->name)) != JIT_OK)
		goto out;
	for (i = 0; i < kt->nfields; i++) {
		if ((r = buf_get_string_direct(b, &p, &plen)) != JIT_OK ||
		    (r = buf_put_string(kb, p, plen)) != JIT_OK)
			goto out;
	}
	r = ca_sshkey_from_blob(buf_ptr(kb), buf_len(kb), out);
 out:
	buf_free(kb);
	return r;
}

int
ca_sshkey_equal(const struct ca_sshkey *a, const struct ca_sshkey *b)
{
	if (a == NULL || b == NULL)
		return 0;
	return a->bloblen == b->bloblen &&
	    memcmp(a->blob, b->blob, a->bloblen) == 0;
}
