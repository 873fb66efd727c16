/*
 * OpenSSH key and certificate encodings for the jit client's Ed25519 keys
 * (see sshkeyfile.h).  Everything read from outside goes through
 * common/buf.h; every buffer that ever holds the secret key is zeroed.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "clients/sshkeyfile.h"
#include "common/b64.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/limits.h"
#include "common/secret.h"

#define PEM_BEGIN	"-----BEGIN OPENSSH PRIVATE KEY-----\n"
#define PEM_END		"-----END OPENSSH PRIVATE KEY-----\n"
#define PEM_WIDTH	70
#define KEY_MAGIC	"openssh-key-v1"	/* followed by a NUL byte */
#define KEY_BLOCKSIZE	8			/* cipher "none" */
#define KEYFILE_MAX	(16 * 1024)

/* Appends the public key blob: string "ssh-ed25519", string pk. */
static int
put_pubblob(struct buf *b, const uint8_t pk[SKF_ED25519_PK])
{
	int r;

	if ((r = buf_put_cstring(b, SKF_ED25519_NAME)) != JIT_OK ||
	    (r = buf_put_string(b, pk, SKF_ED25519_PK)) != JIT_OK)
		return r;
	return JIT_OK;
}

char *
skf_pubkey_line(const uint8_t pk[SKF_ED25519_PK], const char *comment)
{
	struct buf *b = NULL;
	char *enc = NULL, *line = NULL;

	if ((b = buf_new(256)) == NULL || put_pubblob(b, pk) != JIT_OK ||
	    (enc = b64_encode(buf_ptr(b), buf_len(b), B64_STD)) == NULL)
		goto out;
	if (asprintf(&line, "%s %s%s%s", SKF_ED25519_NAME, enc,
	    comment != NULL ? " " : "", comment != NULL ? comment : "") == -1)
		line = NULL;
 out:
	free(enc);
	buf_free(b);
	return line;
}

int
skf_private_pem(const uint8_t pk[SKF_ED25519_PK],
    const uint8_t sk[SKF_ED25519_SK], const char *comment, char **out,
    size_t *outlen)
{
	struct buf *file = NULL, *pub = NULL, *priv = NULL;
	char *enc = NULL, *text = NULL;
	size_t enclen, cap, off, i, n;
	uint32_t check;
	uint8_t pad;
	int r = JIT_ERR_INTERNAL;

	*out = NULL;
	*outlen = 0;
	if (comment == NULL)
		comment = "";
	if ((file = buf_new(KEYFILE_MAX)) == NULL ||
	    (pub = buf_new(256)) == NULL ||
	    (priv = buf_new(KEYFILE_MAX)) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	/* The private section: check words, key, comment, then padding. */
	check = randombytes_random();
	if ((r = put_pubblob(pub, pk)) != JIT_OK ||
	    (r = buf_put_u32(priv, check)) != JIT_OK ||
	    (r = buf_put_u32(priv, check)) != JIT_OK ||
	    (r = buf_put_cstring(priv, SKF_ED25519_NAME)) != JIT_OK ||
	    (r = buf_put_string(priv, pk, SKF_ED25519_PK)) != JIT_OK ||
	    (r = buf_put_string(priv, sk, SKF_ED25519_SK)) != JIT_OK ||
	    (r = buf_put_cstring(priv, comment)) != JIT_OK)
		goto out;
	for (pad = 1; buf_len(priv) % KEY_BLOCKSIZE != 0; pad++)
		if ((r = buf_put_u8(priv, pad)) != JIT_OK)
			goto out;
	if ((r = buf_put(file, KEY_MAGIC, sizeof(KEY_MAGIC))) != JIT_OK ||
	    (r = buf_put_cstring(file, "none")) != JIT_OK ||
	    (r = buf_put_cstring(file, "none")) != JIT_OK ||
	    (r = buf_put_string(file, NULL, 0)) != JIT_OK ||
	    (r = buf_put_u32(file, 1)) != JIT_OK ||
	    (r = buf_put_stringb(file, pub)) != JIT_OK ||
	    (r = buf_put_stringb(file, priv)) != JIT_OK)
		goto out;
	if ((enc = b64_encode(buf_ptr(file), buf_len(file), B64_STD)) ==
	    NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	enclen = strlen(enc);
	cap = sizeof(PEM_BEGIN) + sizeof(PEM_END) + enclen +
	    enclen / PEM_WIDTH + 2;
	if ((text = malloc(cap)) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	memcpy(text, PEM_BEGIN, sizeof(PEM_BEGIN) - 1);
	off = sizeof(PEM_BEGIN) - 1;
	for (i = 0; i < enclen; i += n) {
		n = enclen - i < PEM_WIDTH ? enclen - i : PEM_WIDTH;
		memcpy(text + off, enc + i, n);
		off += n;
		text[off++] = '\n';
	}
	memcpy(text + off, PEM_END, sizeof(PEM_END));
	off += sizeof(PEM_END) - 1;
	*out = text;
	*outlen = off;
	text = NULL;
	r = JIT_OK;
 out:
	if (enc != NULL)
		freezero(enc, strlen(enc));
	if (text != NULL)
		freezero(text, cap);
	buf_free(priv);
	buf_free(pub);
	buf_free(file);
	return r;
}

int
skf_cert_parse(const uint8_t *blob, size_t len, struct skf_cert *cert)
{
	struct buf *b = NULL;
	const uint8_t *p;
	size_t n;
	int r = JIT_ERR_INTERNAL;

	memset(cert, 0, sizeof(*cert));
	if (len > JIT_PUBKEY_BLOB_MAX)
		return JIT_ERR_LIMIT;
	if ((b = buf_from(blob, len)) == NULL)
		return JIT_ERR_ALLOC;
	if ((r = buf_get_string_direct(b, &p, &n)) != JIT_OK)
		goto out;
	if (n != strlen(SKF_ED25519_CERT_NAME) ||
	    memcmp(p, SKF_ED25519_CERT_NAME, n) != 0) {
		r = JIT_ERR_KEY_TYPE;
		goto out;
	}
	/* The nonce, then the certified key. */
	if ((r = buf_get_string_direct(b, NULL, NULL)) != JIT_OK ||
	    (r = buf_get_string_direct(b, &p, &n)) != JIT_OK)
		goto out;
	if (n != SKF_ED25519_PK) {
		r = JIT_ERR_INVALID_FORMAT;
		goto out;
	}
	memcpy(cert->pk, p, SKF_ED25519_PK);
	/* Serial, type, key id, principals, then the validity period. */
	if ((r = buf_get_u64(b, &cert->serial)) != JIT_OK ||
	    (r = buf_get_u32(b, &cert->type)) != JIT_OK ||
	    (r = buf_get_string_direct(b, NULL, NULL)) != JIT_OK ||
	    (r = buf_get_string_direct(b, NULL, NULL)) != JIT_OK ||
	    (r = buf_get_u64(b, &cert->valid_after)) != JIT_OK ||
	    (r = buf_get_u64(b, &cert->valid_before)) != JIT_OK)
		goto out;
	if (cert->valid_before <= cert->valid_after) {
		r = JIT_ERR_INVALID_FORMAT;
		goto out;
	}
	r = JIT_OK;
 out:
	if (r != JIT_OK)
		memset(cert, 0, sizeof(*cert));
	buf_free(b);
	return r;
}

int
skf_cert_line_decode(const char *line, size_t len, uint8_t **blob,
    size_t *bloblen, struct skf_cert *cert)
{
	const char *sp, *end, *b64;
	uint8_t *d = NULL;
	size_t dlen = 0, tlen;
	int r = JIT_ERR_INTERNAL;

	*blob = NULL;
	*bloblen = 0;
	if (cert != NULL)
		memset(cert, 0, sizeof(*cert));
	if (len > JIT_PUBKEY_LINE_MAX)
		return JIT_ERR_LIMIT;
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if ((sp = memchr(line, ' ', len)) == NULL)
		return JIT_ERR_INVALID_FORMAT;
	tlen = (size_t)(sp - line);
	if (tlen != strlen(SKF_ED25519_CERT_NAME) ||
	    memcmp(line, SKF_ED25519_CERT_NAME, tlen) != 0)
		return JIT_ERR_KEY_TYPE;
	b64 = sp + 1;
	if ((end = memchr(b64, ' ', len - tlen - 1)) == NULL)
		end = line + len;
	if ((r = b64_decode(b64, (size_t)(end - b64), B64_STD,
	    JIT_PUBKEY_BLOB_MAX, &d, &dlen)) != JIT_OK)
		goto out;
	if (cert != NULL && (r = skf_cert_parse(d, dlen, cert)) != JIT_OK)
		goto out;
	*blob = d;
	*bloblen = dlen;
	d = NULL;
	r = JIT_OK;
 out:
	free(d);
	return r;
}

int
skf_private_pem_pubkey(const char *text, size_t len,
    uint8_t pk[SKF_ED25519_PK])
{
	struct buf *b = NULL, *pub = NULL;
	const char *body, *end;
	char *b64 = NULL;
	uint8_t *d = NULL, magic[sizeof(KEY_MAGIC)];
	const uint8_t *p;
	size_t i, n = 0, dlen = 0, plen;
	uint32_t nkeys;
	int r = JIT_ERR_INTERNAL;

	memset(pk, 0, SKF_ED25519_PK);
	if (len > KEYFILE_MAX)
		return JIT_ERR_LIMIT;
	if (len < sizeof(PEM_BEGIN) - 1 ||
	    memcmp(text, PEM_BEGIN, sizeof(PEM_BEGIN) - 1) != 0)
		return JIT_ERR_INVALID_FORMAT;
	body = text + sizeof(PEM_BEGIN) - 1;
	if ((end = memmem(body, len - (size_t)(body - text), "-----END ",
	    9)) == NULL)
		return JIT_ERR_INVALID_FORMAT;
	if ((b64 = malloc((size_t)(end - body) + 1)) == NULL)
		return JIT_ERR_ALLOC;
	for (i = 0; body + i < end; i++)
		if (body[i] != '\n' && body[i] != '\r')
			b64[n++] = body[i];
	if ((r = b64_decode(b64, n, B64_STD, KEYFILE_MAX, &d, &dlen)) !=
	    JIT_OK)
		goto out;
	if ((b = buf_from(d, dlen)) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	if ((r = buf_get(b, magic, sizeof(magic))) != JIT_OK)
		goto out;
	if (memcmp(magic, KEY_MAGIC, sizeof(magic)) != 0) {
		r = JIT_ERR_INVALID_FORMAT;
		goto out;
	}
	/* Cipher, KDF and its options, then one public key blob. */
	if ((r = buf_get_string_direct(b, NULL, NULL)) != JIT_OK ||
	    (r = buf_get_string_direct(b, NULL, NULL)) != JIT_OK ||
	    (r = buf_get_string_direct(b, NULL, NULL)) != JIT_OK ||
	    (r = buf_get_u32(b, &nkeys)) != JIT_OK ||
	    (r = buf_froms(b, &pub)) != JIT_OK)
		goto out;
	if (nkeys != 1) {
		r = JIT_ERR_INVALID_FORMAT;
		goto out;
	}
	if ((r = buf_get_string_direct(pub, &p, &plen)) != JIT_OK)
		goto out;
	if (plen != strlen(SKF_ED25519_NAME) ||
	    memcmp(p, SKF_ED25519_NAME, plen) != 0) {
		r = JIT_ERR_KEY_TYPE;
		goto out;
	}
	if ((r = buf_get_string_direct(pub, &p, &plen)) != JIT_OK)
		goto out;
	if (plen != SKF_ED25519_PK || buf_len(pub) != 0) {
		r = plen != SKF_ED25519_PK ? JIT_ERR_INVALID_FORMAT :
		    JIT_ERR_TRAILING_DATA;
		goto out;
	}
	memcpy(pk, p, SKF_ED25519_PK);
	r = JIT_OK;
 out:
	buf_free(pub);
	buf_free(b);
	if (d != NULL)
		freezero(d, dlen);
	if (b64 != NULL)
		freezero(b64, (size_t)(end - body) + 1);
	return r;
}
