/*
 * A bounded reader of Ed25519 CA keys and OpenSSH user certificates for
 * the server side (see sshcert.h).  The certificate is first split into
 * its fields, its signature is checked against the trusted CA keys, and
 * only then are the key id and extensions interpreted.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "clients/sshcert.h"
#include "common/b64.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/limits.h"

#define CERT_SUFFIX	"-cert-v01@openssh.com"
#define CERT_TYPE_USER	1
#define NONCE_MAX	64
#define OPTNAME_MAX	256

/* Public key fields (all strings or mpints) after the nonce, per type. */
static const struct {
	const char	*name;
	int		 nfields;
} keytypes[] = {
	{ "ssh-ed25519", 1 },
	{ "ecdsa-sha2-nistp256", 2 },
	{ "ecdsa-sha2-nistp384", 2 },
	{ "ecdsa-sha2-nistp521", 2 },
	{ "ssh-rsa", 2 },
	{ "sk-ssh-ed25519@openssh.com", 2 },
	{ "sk-ecdsa-sha2-nistp256@openssh.com", 3 },
};

void
sshc_ed25519_blob(const uint8_t pk[32], uint8_t out[SSHC_ED25519_BLOB_LEN])
{
	ssh_ed25519_blob(pk, out);
}

/* Splits off the next whitespace-separated word of s[0..len). */
static int
next_word(const char **s, const char *end, const char **w, size_t *wlen)
{
	const char *p = *s;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	*w = p;
	while (p < end && *p != ' ' && *p != '\t')
		p++;
	*wlen = (size_t)(p - *w);
	*s = p;
	return *wlen > 0;
}

/* Reads string "ssh-ed25519", string pk[32] and nothing more. */
static int
get_ed25519_blob(struct buf *b, uint8_t pk[32])
{
	const uint8_t *name, *p;
	size_t namelen, plen;
	int r;

	if ((r = buf_get_string_direct(b, &name, &namelen)) != JIT_OK ||
	    (r = buf_get_string_direct(b, &p, &plen)) != JIT_OK)
		return r;
	if (namelen != 11 || memcmp(name, "ssh-ed25519", 11) != 0)
		return JIT_ERR_KEY_TYPE;
	if (plen != 32)
		return JIT_ERR_INVALID_FORMAT;
	if (buf_len(b) != 0)
		return JIT_ERR_TRAILING_DATA;
	memcpy(pk, p, 32);
	return JIT_OK;
}

/* Decodes a base64 word holding one Ed25519 public key blob. */
static int
decode_ed25519(const char *w, size_t wlen, uint8_t pk[32])
{
	struct buf *b = NULL;
	uint8_t *blob = NULL;
	size_t bloblen = 0;
	int r;

	if ((r = b64_decode(w, wlen, B64_STD, JIT_PUBKEY_BLOB_MAX, &blob,
	    &bloblen)) != JIT_OK)
		return r;
	if ((b = buf_from(blob, bloblen)) == NULL)
		r = JIT_ERR_ALLOC;
	else
		r = get_ed25519_blob(b, pk);
	buf_free(b);
	free(blob);
	return r;
}

int
sshc_cas_parse(const char *text, size_t len, struct sshc_cas *cas)
{
	const char *line, *nl, *end = text + len, *s, *w;
	size_t wlen, before = cas->n;
	int r;

	for (line = text; line < end; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		s = line;
		if (!next_word(&s, nl, &w, &wlen) || *w == '#' ||
		    (wlen == 1 && *w == '\r'))
			continue;
		if (wlen != 11 || memcmp(w, "ssh-ed25519", 11) != 0)
			return JIT_ERR_KEY_TYPE;
		if (!next_word(&s, nl, &w, &wlen))
			return JIT_ERR_INVALID_FORMAT;
		if (wlen > 0 && w[wlen - 1] == '\r')
			wlen--;
		if (cas->n >= SSHC_CAS_MAX)
			return JIT_ERR_LIMIT;
		if ((r = decode_ed25519(w, wlen, cas->pk[cas->n])) != JIT_OK)
			return r;
		cas->n++;
		if (nl == end)
			break;
	}
	return cas->n > before ? JIT_OK : JIT_ERR_NOT_FOUND;
}

int
sshc_cas_load(const char *path, struct sshc_cas *cas)
{
	uint8_t *d = NULL;
	size_t len = 0;
	int r;

	if ((r = fileio_read(path, JIT_FILE_MAX, 0, &d, &len)) != JIT_OK)
		return r;
	r = sshc_cas_parse((const char *)d, len, cas);
	free(d);
	return r;
}

/* Strict decimal epoch seconds, 1 to 19 digits. */
static int
parse_epoch(const char *s, size_t len, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (len == 0 || len > 18)
		return JIT_ERR_INVALID_FORMAT;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return JIT_ERR_INVALID_FORMAT;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return JIT_OK;
}

/*
 * Walks critical options (c != NULL) or extensions (name, data pairs;
 * data empty or one string).  Picks out force-command from the first and
 * grant-expires@jitd from the second.
 */
static int
get_options(struct buf *ob, struct sshc_cert *c, int64_t *grant_end)
{
	struct buf *data = NULL;
	const uint8_t *name, *v;
	size_t nlen, vlen;
	int r = JIT_ERR_INTERNAL;

	while (buf_len(ob) > 0) {
		if ((r = buf_get_string_direct(ob, &name, &nlen)) != JIT_OK ||
		    (r = buf_froms(ob, &data)) != JIT_OK)
			goto out;
		if (nlen == 0 || nlen > OPTNAME_MAX) {
			r = nlen == 0 ? JIT_ERR_INVALID_FORMAT : JIT_ERR_LIMIT;
			goto out;
		}
		if (buf_len(data) > 0) {
			if ((r = buf_get_string_direct(data, &v, &vlen)) !=
			    JIT_OK)
				goto out;
			if (buf_len(data) != 0) {
				r = JIT_ERR_TRAILING_DATA;
				goto out;
			}
			if (c != NULL && nlen == 13 &&
			    memcmp(name, "force-command", 13) == 0) {
				if (vlen > JIT_OPTION_LEN_MAX ||
				    memchr(v, '\0', vlen) != NULL) {
					r = JIT_ERR_INVALID_FORMAT;
					goto out;
				}
				memcpy(c->force_command, v, vlen);
				c->force_command[vlen] = '\0';
				c->has_force_command = 1;
			}
			if (grant_end != NULL && nlen == 18 &&
			    memcmp(name, "grant-expires@jitd", 18) == 0 &&
			    (r = parse_epoch((const char *)v, vlen,
			    grant_end)) != JIT_OK)
				goto out;
		}
		buf_free(data);
		data = NULL;
	}
	r = JIT_OK;
 out:
	buf_free(data);
	return r;
}

/* Checks the certificate type name; returns its number of key fields. */
static int
key_fields(const uint8_t *name, size_t len)
{
	size_t i, sl = strlen(CERT_SUFFIX), bl;

	if (len <= sl || memcmp(name + len - sl, CERT_SUFFIX, sl) != 0)
		return -1;
	bl = len - sl;
	for (i = 0; i < sizeof(keytypes) / sizeof(keytypes[0]); i++) {
		if (strlen(keytypes[i].name) == bl &&
		    memcmp(keytypes[i].name, name, bl) == 0)
			return keytypes[i].nfields;
	}
	return -1;
}

int
sshc_cert_parse(const uint8_t *blob, size_t len, const struct sshc_cas *cas,
    struct sshc_cert *out)
{
	struct buf *b = NULL, *opts = NULL, *exts = NULL, *sk = NULL;
	struct buf *sig = NULL;
	const uint8_t *name, *kid, *s;
	struct sshc_cert c;
	size_t namelen, kidlen, signed_len, slen, i;
	uint32_t type;
	int nf, found = 0, r = JIT_ERR_INTERNAL;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.grant_end = -1;
	if (len > JIT_PUBKEY_BLOB_MAX)
		return JIT_ERR_LIMIT;
	if ((b = buf_from(blob, len)) == NULL)
		return JIT_ERR_ALLOC;
	/* Split the certificate into its fields. */
	if ((r = buf_get_string_direct(b, &name, &namelen)) != JIT_OK)
		goto out;
	if ((nf = key_fields(name, namelen)) < 0) {
		r = JIT_ERR_KEY_TYPE;
		goto out;
	}
	if ((r = buf_get_string_direct(b, NULL, &slen)) != JIT_OK)
		goto out;
	if (slen > NONCE_MAX) {
		r = JIT_ERR_LIMIT;
		goto out;
	}
	for (i = 0; i < (size_t)nf; i++) {
		if ((r = buf_get_string_direct(b, NULL, NULL)) != JIT_OK)
			goto out;
	}
	if ((r = buf_get_u64(b, &c.serial)) != JIT_OK ||
	    (r = buf_get_u32(b, &type)) != JIT_OK ||
	    (r = buf_get_string_direct(b, &kid, &kidlen)) != JIT_OK ||
	    (r = buf_get_string_direct(b, NULL, NULL)) != JIT_OK ||
	    (r = buf_get_u64(b, &c.valid_after)) != JIT_OK ||
	    (r = buf_get_u64(b, &c.valid_before)) != JIT_OK ||
	    (r = buf_froms(b, &opts)) != JIT_OK ||
	    (r = buf_froms(b, &exts)) != JIT_OK ||
	    (r = buf_get_string_direct(b, NULL, NULL)) != JIT_OK ||
	    (r = buf_froms(b, &sk)) != JIT_OK)
		goto out;
	/* Signed: everything up to the signature, its key included. */
	signed_len = len - buf_len(b);
	if ((r = buf_froms(b, &sig)) != JIT_OK)
		goto out;
	if (buf_len(b) != 0) {
		r = JIT_ERR_TRAILING_DATA;
		goto out;
	}
	/* Verify before interpreting anything. */
	if ((r = get_ed25519_blob(sk, c.ca_pk)) != JIT_OK)
		goto out;
	for (i = 0; i < cas->n; i++) {
		if (sodium_memcmp(cas->pk[i], c.ca_pk, 32) == 0)
			found = 1;
	}
	if ((r = buf_get_string_direct(sig, &name, &namelen)) != JIT_OK ||
	    (r = buf_get_string_direct(sig, &s, &slen)) != JIT_OK)
		goto out;
	if (namelen != 11 || memcmp(name, "ssh-ed25519", 11) != 0) {
		r = JIT_ERR_KEY_TYPE;
		goto out;
	}
	if (slen != crypto_sign_BYTES || buf_len(sig) != 0) {
		r = JIT_ERR_INVALID_FORMAT;
		goto out;
	}
	if (!found || crypto_sign_verify_detached(s, blob, signed_len,
	    c.ca_pk) != 0) {
		r = JIT_ERR_BAD_SIGNATURE;
		goto out;
	}
	if (type != CERT_TYPE_USER) {
		r = JIT_ERR_INVALID_FORMAT;
		goto out;
	}
	if (kidlen > JIT_KEYID_LEN_MAX) {
		r = JIT_ERR_LIMIT;
		goto out;
	}
	for (i = 0; i < kidlen; i++) {
		/* Printable only: the key id goes to logs. */
		if (kid[i] < 0x20 || kid[i] > 0x7e) {
			r = JIT_ERR_INVALID_FORMAT;
			goto out;
		}
	}
	memcpy(c.key_id, kid, kidlen);
	c.key_id[kidlen] = '\0';
	if ((r = get_options(opts, &c, NULL)) != JIT_OK ||
	    (r = get_options(exts, NULL, &c.grant_end)) != JIT_OK)
		goto out;
	*out = c;
	r = JIT_OK;
 out:
	buf_free(sig);
	buf_free(sk);
	buf_free(exts);
	buf_free(opts);
	buf_free(b);
	return r;
}

int
sshc_cert_parse_line(const char *line, size_t len, const struct sshc_cas *cas,
    struct sshc_cert *out)
{
	const char *s = line, *end = line + len, *t, *w;
	uint8_t *blob = NULL;
	size_t tlen, wlen, bloblen = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if (!next_word(&s, end, &t, &tlen) || !next_word(&s, end, &w, &wlen))
		return JIT_ERR_INVALID_FORMAT;
	if (key_fields((const uint8_t *)t, tlen) < 0)
		return JIT_ERR_KEY_TYPE;
	if ((r = b64_decode(w, wlen, B64_STD, JIT_PUBKEY_BLOB_MAX, &blob,
	    &bloblen)) != JIT_OK)
		return r;
	/* The blob must say the same type as the line. */
	if (bloblen < 4 + tlen || blob[0] != 0 || blob[1] != 0 ||
	    ((size_t)blob[2] << 8 | blob[3]) != tlen ||
	    memcmp(blob + 4, t, tlen) != 0)
		r = JIT_ERR_INVALID_FORMAT;
	else
		r = sshc_cert_parse(blob, bloblen, cas, out);
	free(blob);
	return r;
}
