/*
 * A strict, bounded reader of OpenSSH certificates (PROTOCOL.certkeys),
 * safe on hostile input: the builder's post-sign check uses it, and so
 * does the session wrapper on servers.  It first splits the blob into its
 * fields, checks the Ed25519 signature over everything before the
 * signature field, and only then interprets key id, principals, critical
 * options and extensions.  Unknown critical options, unsorted or repeated
 * names, unknown key types, trailing bytes and over-long fields are errors.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ca/ssh_cert.h"
#include "ca/ssh_cert_int.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/limits.h"

#define NONCE_MIN	16
#define NONCE_MAX	64

/* Reads a signature key blob: string "ssh-ed25519", string pk[32]. */
static int
get_ed25519_key(struct buf *b, uint8_t pk[32])
{
	const uint8_t *name, *p;
	size_t namelen, plen;
	int r;

	if ((r = buf_get_string_direct(b, &name, &namelen)) != JIT_OK)
		return r;
	if (namelen != 11 || memcmp(name, "ssh-ed25519", 11) != 0)
		return JIT_ERR_KEY_TYPE;
	if ((r = buf_get_string_direct(b, &p, &plen)) != JIT_OK)
		return r;
	if (plen != 32)
		return JIT_ERR_INVALID_FORMAT;
	if (buf_len(b) != 0)
		return JIT_ERR_TRAILING_DATA;
	memcpy(pk, p, 32);
	return JIT_OK;
}

/* Reads a signature blob: string "ssh-ed25519", string sig[64]. */
static int
get_ed25519_sig(struct buf *b, uint8_t sig[64])
{
	const uint8_t *name, *p;
	size_t namelen, plen;
	int r;

	if ((r = buf_get_string_direct(b, &name, &namelen)) != JIT_OK)
		return r;
	if (namelen != 11 || memcmp(name, "ssh-ed25519", 11) != 0)
		return JIT_ERR_KEY_TYPE;
	if ((r = buf_get_string_direct(b, &p, &plen)) != JIT_OK)
		return r;
	if (plen != 64)
		return JIT_ERR_INVALID_FORMAT;
	if (buf_len(b) != 0)
		return JIT_ERR_TRAILING_DATA;
	memcpy(sig, p, 64);
	return JIT_OK;
}

static int
get_principals(struct buf *pb, struct ca_ssh_cert_info *info)
{
	char *s = NULL;
	size_t len;
	int r = JIT_ERR_INTERNAL;

	if (buf_len(pb) == 0)
		return JIT_OK;
	if ((info->principals = calloc(JIT_PRINCIPALS_MAX,
	    sizeof(*info->principals))) == NULL)
		return JIT_ERR_ALLOC;
	while (buf_len(pb) > 0) {
		if (info->nprincipals >= JIT_PRINCIPALS_MAX) {
			r = JIT_ERR_LIMIT;
			goto out;
		}
		if ((r = buf_get_cstring(pb, &s, &len)) != JIT_OK)
			goto out;
		if (len == 0) {
			r = JIT_ERR_INVALID_FORMAT;
			goto out;
		}
		if (len > JIT_PRINCIPAL_LEN_MAX) {
			r = JIT_ERR_LIMIT;
			goto out;
		}
		info->principals[info->nprincipals++] = s;
		s = NULL;
	}
	r = JIT_OK;
 out:
	free(s);
	return r;
}

/*
 * Reads one option's data: empty for a flag (*value NULL), otherwise
 * exactly one string without NUL bytes.
 */
static int
get_option_value(struct buf *ob, char **value)
{
	struct buf *data = NULL;
	size_t vlen;
	int r = JIT_ERR_INTERNAL;

	*value = NULL;
	if ((r = buf_froms(ob, &data)) != JIT_OK)
		goto out;
	if (buf_len(data) == 0) {
		r = JIT_OK;
		goto out;
	}
	if ((r = buf_get_cstring(data, value, &vlen)) != JIT_OK)
		goto out;
	if (vlen > JIT_OPTION_LEN_MAX)
		r = JIT_ERR_LIMIT;
	else if (buf_len(data) != 0)
		r = JIT_ERR_TRAILING_DATA;
	else
		r = JIT_OK;
 out:
	if (r != JIT_OK) {
		free(*value);
		*value = NULL;
	}
	buf_free(data);
	return r;
}

/* Critical options (critical != 0) or extensions, strictly sorted. */
static int
get_options(struct buf *ob, int critical, struct ca_ssh_cert_info *info)
{
	char prev[CA_SSH_OPTNAME_MAX + 1], *name = NULL, *value = NULL;
	size_t nlen;
	int r = JIT_ERR_INTERNAL;

	prev[0] = '\0';
	if (!critical && buf_len(ob) > 0 && (info->extensions =
	    calloc(JIT_EXTENSIONS_MAX, sizeof(*info->extensions))) == NULL)
		return JIT_ERR_ALLOC;
	while (buf_len(ob) > 0) {
		if ((r = buf_get_cstring(ob, &name, &nlen)) != JIT_OK)
			goto out;
		if (nlen == 0) {
			r = JIT_ERR_INVALID_FORMAT;
			goto out;
		}
		if (nlen > CA_SSH_OPTNAME_MAX) {
			r = JIT_ERR_LIMIT;
			goto out;
		}
		/* Sorted and unique, as OpenSSH writes and requires them. */
		if (prev[0] != '\0' && strcmp(prev, name) >= 0) {
			r = JIT_ERR_INVALID_FORMAT;
			goto out;
		}
		memcpy(prev, name, nlen + 1);
		if ((r = get_option_value(ob, &value)) != JIT_OK)
			goto out;
		if (critical) {
			if (value == NULL) {
				r = JIT_ERR_INVALID_FORMAT;
				goto out;
			}
			if (strcmp(name, "force-command") == 0) {
				info->force_command = value;
			} else if (strcmp(name, "source-address") == 0) {
				if (ca_ssh_check_source_address(value) !=
				    JIT_OK) {
					r = JIT_ERR_INVALID_FORMAT;
					goto out;
				}
				info->source_address = value;
			} else {
				r = JIT_ERR_INVALID_FORMAT;	/* unknown */
				goto out;
			}
			value = NULL;
			free(name);
			name = NULL;
			continue;
		}
		if (info->nextensions >= JIT_EXTENSIONS_MAX) {
			r = JIT_ERR_LIMIT;
			goto out;
		}
		info->extensions[info->nextensions].name = name;
		info->extensions[info->nextensions].value = value;
		info->nextensions++;
		name = value = NULL;
	}
	r = JIT_OK;
 out:
	free(name);
	free(value);
	return r;
}

int
ca_ssh_cert_parse(const uint8_t *blob, size_t len, const uint8_t *ca_pub,
    struct ca_ssh_cert_info **out)
{
	return ca_ssh_cert_parse_int(blob, len, ca_pub, 1, out);
}

int
ca_ssh_cert_parse_int(const uint8_t *blob, size_t len, const uint8_t *ca_pub,
    int verify, struct ca_ssh_cert_info **out)
{
	struct buf *b = NULL, *principals = NULL, *crit = NULL, *exts = NULL;
	struct buf *sigkey = NULL, *sigblob = NULL;
	struct ca_ssh_cert_info *info = NULL;
	uint8_t sig[64];
	size_t nlen, signed_len, reslen;
	int r = JIT_ERR_INTERNAL;

	if (out == NULL)
		return JIT_ERR_INVALID_ARG;
	*out = NULL;
	if (blob == NULL || len == 0)
		return JIT_ERR_INCOMPLETE;
	if (len > CA_SSH_CERT_MAX)
		return JIT_ERR_LIMIT;
	if ((b = buf_from(blob, len)) == NULL ||
	    (info = calloc(1, sizeof(*info))) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	/* Pass 1: split into fields; bounds only. */
	if ((r = buf_get_cstring(b, &info->cert_type_name, NULL)) != JIT_OK ||
	    (r = buf_get_string_direct(b, NULL, &nlen)) != JIT_OK)
		goto out;
	if (nlen < NONCE_MIN || nlen > NONCE_MAX) {
		r = JIT_ERR_INVALID_FORMAT;
		goto out;
	}
	if ((r = ca_sshkey_get_cert_fields(info->cert_type_name, b,
	    &info->key)) != JIT_OK ||
	    (r = buf_get_u64(b, &info->serial)) != JIT_OK ||
	    (r = buf_get_u32(b, &info->type)) != JIT_OK ||
	    (r = buf_get_cstring(b, &info->key_id, &nlen)) != JIT_OK ||
	    (r = buf_froms(b, &principals)) != JIT_OK ||
	    (r = buf_get_u64(b, &info->valid_after)) != JIT_OK ||
	    (r = buf_get_u64(b, &info->valid_before)) != JIT_OK ||
	    (r = buf_froms(b, &crit)) != JIT_OK ||
	    (r = buf_froms(b, &exts)) != JIT_OK ||
	    (r = buf_get_string_direct(b, NULL, &reslen)) != JIT_OK ||
	    (r = buf_froms(b, &sigkey)) != JIT_OK)
		goto out;
	signed_len = len - buf_len(b);
	if ((r = buf_froms(b, &sigblob)) != JIT_OK)
		goto out;
	if (buf_len(b) != 0) {
		r = JIT_ERR_TRAILING_DATA;
		goto out;
	}
	if ((r = get_ed25519_key(sigkey, info->signature_key)) != JIT_OK ||
	    (r = get_ed25519_sig(sigblob, sig)) != JIT_OK)
		goto out;
	/* Verify before interpreting anything else. */
	if (ca_pub != NULL &&
	    sodium_memcmp(ca_pub, info->signature_key, 32) != 0) {
		r = JIT_ERR_BAD_SIGNATURE;
		goto out;
	}
	if (verify && crypto_sign_verify_detached(sig, blob, signed_len,
	    info->signature_key) != 0) {
		r = JIT_ERR_BAD_SIGNATURE;
		goto out;
	}
	/* Pass 2: meaning. */
	if (info->type != CA_SSH_CERT_USER && info->type != CA_SSH_CERT_HOST) {
		r = JIT_ERR_INVALID_FORMAT;
		goto out;
	}
	if (nlen > JIT_KEYID_LEN_MAX) {
		r = JIT_ERR_LIMIT;
		goto out;
	}
	if (reslen != 0 || info->valid_before <= info->valid_after) {
		r = JIT_ERR_INVALID_FORMAT;
		goto out;
	}
	if (info->type == CA_SSH_CERT_HOST &&
	    (buf_len(crit) != 0 || buf_len(exts) != 0)) {
		r = JIT_ERR_INVALID_FORMAT;
		goto out;
	}
	if ((r = get_principals(principals, info)) != JIT_OK ||
	    (r = get_options(crit, 1, info)) != JIT_OK ||
	    (r = get_options(exts, 0, info)) != JIT_OK)
		goto out;
	*out = info;
	info = NULL;
	r = JIT_OK;
 out:
	ca_ssh_cert_info_free(info);
	buf_free(sigblob);
	buf_free(sigkey);
	buf_free(exts);
	buf_free(crit);
	buf_free(principals);
	buf_free(b);
	return r;
}

void
ca_ssh_cert_info_free(struct ca_ssh_cert_info *info)
{
	size_t i;

	if (info == NULL)
		return;
	free(info->cert_type_name);
	free(info->key_id);
	for (i = 0; i < info->nprincipals; i++)
		free(info->principals[i]);
	free(info->principals);
	free(info->force_command);
	free(info->source_address);
	for (i = 0; i < info->nextensions; i++) {
		free(info->extensions[i].name);
		free(info->extensions[i].value);
	}
	free(info->extensions);
	ca_sshkey_free(info->key);
	free(info);
}
