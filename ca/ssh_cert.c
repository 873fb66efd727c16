/*
 * Building OpenSSH certificates (PROTOCOL.certkeys, v01 formats).  The
 * request is checked against hard limits first; the to-be-signed body is
 * then encoded through a bounded buffer, handed to ca_sign() (this file
 * never sees a private key), and the finished blob is parsed and verified
 * again by ca_ssh_cert_parse() and compared field by field with the
 * request before it is returned.  The parser lives in ssh_cert_parse.c.
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ca/ssh_cert.h"
#include "ca/ssh_cert_int.h"
#include "common/b64.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/limits.h"

#define NONCE_LEN	32
#define ED25519_SIG_LEN	64

struct ca_ssh_cert {
	uint8_t		*blob;
	size_t		 len;
	const char	*type_name;	/* static, from the subject key type */
	uint64_t	 serial;
	uint64_t	 valid_after;
	uint64_t	 valid_before;
};

/* Extensions OpenSSH defines; anything else must be a vendor name@domain. */
static const char *const known_exts[] = {
	"no-touch-required",
	"permit-X11-forwarding",
	"permit-agent-forwarding",
	"permit-port-forwarding",
	"permit-pty",
	"permit-user-rc",
};

/*
 * Checks that s is 1..max bytes in [lo, 0x7e] with no byte from reject;
 * sets *lenp.  JIT_ERR_LIMIT if longer, JIT_ERR_INVALID_ARG otherwise.
 */
static int
check_chars(const char *s, size_t max, int lo, const char *reject,
    size_t *lenp)
{
	size_t i, len;

	*lenp = 0;
	if (s == NULL)
		return JIT_ERR_INVALID_ARG;
	len = strnlen(s, max + 1);
	if (len > max)
		return JIT_ERR_LIMIT;
	if (len == 0)
		return JIT_ERR_INVALID_ARG;
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] < lo || (unsigned char)s[i] > 0x7e ||
		    (reject != NULL && strchr(reject, s[i]) != NULL))
			return JIT_ERR_INVALID_ARG;
	}
	*lenp = len;
	return JIT_OK;
}

/* Checks one "addr[/prefix]" entry of a source-address list. */
static int
check_cidr(const char *s, size_t len)
{
	char addr[INET6_ADDRSTRLEN + 1];
	uint8_t bin[16];
	size_t i, alen, plen = 0;
	unsigned int prefix, maxbits, bit;
	const char *slash;

	if (len == 0 || strspn(s, "0123456789abcdefABCDEF.:/") < len)
		return JIT_ERR_INVALID_ARG;
	if ((slash = memchr(s, '/', len)) != NULL) {
		alen = (size_t)(slash - s);
		plen = len - alen - 1;
	} else
		alen = len;
	if (alen == 0 || alen >= sizeof(addr))
		return JIT_ERR_INVALID_ARG;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, bin) == 1)
		maxbits = 32;
	else if (inet_pton(AF_INET6, addr, bin) == 1)
		maxbits = 128;
	else
		return JIT_ERR_INVALID_ARG;
	prefix = maxbits;
	if (slash != NULL) {
		/* 1 to 3 decimal digits, no leading zero. */
		if (plen == 0 || plen > 3 || (plen > 1 && slash[1] == '0'))
			return JIT_ERR_INVALID_ARG;
		prefix = 0;
		for (i = 0; i < plen; i++) {
			if (slash[1 + i] < '0' || slash[1 + i] > '9')
				return JIT_ERR_INVALID_ARG;
			prefix = prefix * 10 +
			    (unsigned int)(slash[1 + i] - '0');
		}
		if (prefix > maxbits)
			return JIT_ERR_INVALID_ARG;
	}
	/* No host bits may be set past the prefix. */
	for (bit = prefix; bit < maxbits; bit++) {
		if (bin[bit / 8] & (0x80 >> (bit % 8)))
			return JIT_ERR_INVALID_ARG;
	}
	return JIT_OK;
}

int
ca_ssh_check_source_address(const char *s)
{
	size_t len, start, i;
	int r;

	if ((r = check_chars(s, JIT_OPTION_LEN_MAX, 0x21, NULL, &len)) !=
	    JIT_OK)
		return r;
	start = 0;
	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != ',')
			continue;
		if ((r = check_cidr(s + start, i - start)) != JIT_OK)
			return r;
		start = i + 1;
	}
	return JIT_OK;
}

static int
is_known_ext(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(known_exts) / sizeof(known_exts[0]); i++) {
		if (strcmp(name, known_exts[i]) == 0)
			return 1;
	}
	return 0;
}

static int
check_ext(const struct ca_ssh_ext *e)
{
	size_t len, vlen;
	int r;

	if ((r = check_chars(e->name, CA_SSH_OPTNAME_MAX, 0x21, ",", &len)) !=
	    JIT_OK)
		return r;
	if (is_known_ext(e->name)) {
		/* The standard extensions are flags. */
		if (e->value != NULL && *e->value != '\0')
			return JIT_ERR_INVALID_ARG;
		return JIT_OK;
	}
	if (strchr(e->name, '@') == NULL || e->name[0] == '@' ||
	    e->name[len - 1] == '@')
		return JIT_ERR_INVALID_ARG;
	if (e->value != NULL && *e->value != '\0' &&
	    (r = check_chars(e->value, JIT_OPTION_LEN_MAX, 0x20, NULL,
	    &vlen)) != JIT_OK)
		return r;
	return JIT_OK;
}

int
ca_ssh_cert_check_req(const struct ca_ssh_cert_req *req)
{
	size_t i, j, len;
	int r;

	if (req == NULL || req->subject == NULL)
		return JIT_ERR_INVALID_ARG;
	if (req->type != CA_SSH_CERT_USER && req->type != CA_SSH_CERT_HOST)
		return JIT_ERR_INVALID_ARG;
	if ((r = check_chars(req->key_id, JIT_KEYID_LEN_MAX, 0x20, NULL,
	    &len)) != JIT_OK)
		return r;
	if (req->nprincipals == 0 || req->principals == NULL)
		return JIT_ERR_INVALID_ARG;
	if (req->nprincipals > JIT_PRINCIPALS_MAX)
		return JIT_ERR_LIMIT;
	for (i = 0; i < req->nprincipals; i++) {
		if ((r = check_chars(req->principals[i], JIT_PRINCIPAL_LEN_MAX,
		    0x21, ",", &len)) != JIT_OK)
			return r;
		for (j = 0; j < i; j++) {
			if (strcmp(req->principals[i], req->principals[j]) == 0)
				return JIT_ERR_INVALID_ARG;
		}
	}
	if (req->valid_before <= req->valid_after)
		return JIT_ERR_INVALID_ARG;
	if (req->valid_before - req->valid_after >
	    (uint64_t)JIT_CERT_TTL_MAX + JIT_CLOCK_SKEW)
		return JIT_ERR_LIMIT;
	if (req->type == CA_SSH_CERT_HOST) {
		if (req->force_command != NULL ||
		    req->source_address != NULL || req->nextensions != 0)
			return JIT_ERR_INVALID_ARG;
		return JIT_OK;
	}
	if (req->force_command != NULL &&
	    (r = check_chars(req->force_command, JIT_OPTION_LEN_MAX, 0x20,
	    NULL, &len)) != JIT_OK)
		return r;
	if (req->source_address != NULL &&
	    (r = ca_ssh_check_source_address(req->source_address)) != JIT_OK)
		return r;
	if (req->nextensions > JIT_EXTENSIONS_MAX)
		return JIT_ERR_LIMIT;
	if (req->nextensions > 0 && req->extensions == NULL)
		return JIT_ERR_INVALID_ARG;
	for (i = 0; i < req->nextensions; i++) {
		if ((r = check_ext(&req->extensions[i])) != JIT_OK)
			return r;
		for (j = 0; j < i; j++) {
			if (strcmp(req->extensions[i].name,
			    req->extensions[j].name) == 0)
				return JIT_ERR_INVALID_ARG;
		}
	}
	return JIT_OK;
}

uint64_t
ca_ssh_random_serial(void)
{
	uint64_t serial = 0;

	while (serial == 0)
		randombytes_buf(&serial, sizeof(serial));
	return serial;
}

/*
 * Appends one option or extension as OpenSSH's ssh-keygen does: string
 * name, then string data, where data is empty for a flag and otherwise
 * holds the value as one string.
 */
static int
put_option(struct buf *b, const char *name, const char *value)
{
	struct buf *v = NULL;
	int r = JIT_ERR_INTERNAL;

	if ((r = buf_put_cstring(b, name)) != JIT_OK)
		goto out;
	if (value == NULL || *value == '\0') {
		r = buf_put_string(b, NULL, 0);
		goto out;
	}
	if ((v = buf_new(JIT_OPTION_LEN_MAX + 4)) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	if ((r = buf_put_cstring(v, value)) != JIT_OK ||
	    (r = buf_put_stringb(b, v)) != JIT_OK)
		goto out;
	r = JIT_OK;
 out:
	buf_free(v);
	return r;
}

static int
ext_cmp(const void *a, const void *b)
{
	const struct ca_ssh_ext *const *ea = a, *const *eb = b;

	return strcmp((*ea)->name, (*eb)->name);
}

/* Same value, counting NULL and "" as the empty (flag) value. */
static int
value_eq(const char *a, const char *b)
{
	if (a == NULL)
		a = "";
	if (b == NULL)
		b = "";
	return strcmp(a, b) == 0;
}

/* The post-sign check: the parsed certificate says what was asked. */
static int
cert_matches(const struct ca_ssh_cert_req *req, uint64_t serial,
    const struct ca_ssh_ext *const *sorted, const uint8_t *ca_pub,
    const struct ca_ssh_cert_info *info)
{
	size_t i;

	if (info->type != (uint32_t)req->type || info->serial == 0 ||
	    info->serial != serial || info->nprincipals == 0 ||
	    info->key_id == NULL || info->key_id[0] == '\0' ||
	    info->valid_after != req->valid_after ||
	    info->valid_before != req->valid_before ||
	    info->valid_before <= info->valid_after ||
	    strcmp(info->cert_type_name,
	    ca_sshkey_cert_type_name(req->subject)) != 0 ||
	    !ca_sshkey_equal(info->key, req->subject) ||
	    sodium_memcmp(info->signature_key, ca_pub, 32) != 0 ||
	    strcmp(info->key_id, req->key_id) != 0 ||
	    info->nprincipals != req->nprincipals ||
	    info->nextensions != req->nextensions)
		return 0;
	for (i = 0; i < req->nprincipals; i++) {
		if (strcmp(info->principals[i], req->principals[i]) != 0)
			return 0;
	}
	if ((info->force_command == NULL) != (req->force_command == NULL) ||
	    (info->force_command != NULL &&
	    strcmp(info->force_command, req->force_command) != 0))
		return 0;
	if ((info->source_address == NULL) != (req->source_address == NULL) ||
	    (info->source_address != NULL &&
	    strcmp(info->source_address, req->source_address) != 0))
		return 0;
	for (i = 0; i < req->nextensions; i++) {
		if (strcmp(info->extensions[i].name, sorted[i]->name) != 0 ||
		    !value_eq(info->extensions[i].value, sorted[i]->value))
			return 0;
	}
	return 1;
}

/* Encodes the body up to and including the signature key. */
static int
encode_body(struct ca *ca, enum ca_slot slot,
    const struct ca_ssh_cert_req *req, uint64_t serial,
    const struct ca_ssh_ext *const *sorted, struct buf *b)
{
	struct buf *sub = NULL;
	uint8_t nonce[NONCE_LEN], cablob[CA_SSH_PUBBLOB_LEN];
	size_t i;
	int r = JIT_ERR_INTERNAL;

	randombytes_buf(nonce, sizeof(nonce));
	ca_ssh_pubkey_blob(ca, slot, cablob);
	if ((r = buf_put_cstring(b,
	    ca_sshkey_cert_type_name(req->subject))) != JIT_OK ||
	    (r = buf_put_string(b, nonce, sizeof(nonce))) != JIT_OK ||
	    (r = ca_sshkey_put_cert_fields(req->subject, b)) != JIT_OK ||
	    (r = buf_put_u64(b, serial)) != JIT_OK ||
	    (r = buf_put_u32(b, (uint32_t)req->type)) != JIT_OK ||
	    (r = buf_put_cstring(b, req->key_id)) != JIT_OK)
		goto out;
	if ((sub = buf_new(CA_SSH_CERT_MAX)) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	for (i = 0; i < req->nprincipals; i++) {
		if ((r = buf_put_cstring(sub, req->principals[i])) != JIT_OK)
			goto out;
	}
	if ((r = buf_put_stringb(b, sub)) != JIT_OK ||
	    (r = buf_put_u64(b, req->valid_after)) != JIT_OK ||
	    (r = buf_put_u64(b, req->valid_before)) != JIT_OK)
		goto out;
	/* Critical options; "force-command" sorts before "source-address". */
	buf_reset(sub);
	if (req->force_command != NULL &&
	    (r = put_option(sub, "force-command", req->force_command)) !=
	    JIT_OK)
		goto out;
	if (req->source_address != NULL &&
	    (r = put_option(sub, "source-address", req->source_address)) !=
	    JIT_OK)
		goto out;
	if ((r = buf_put_stringb(b, sub)) != JIT_OK)
		goto out;
	buf_reset(sub);
	for (i = 0; i < req->nextensions; i++) {
		if ((r = put_option(sub, sorted[i]->name, sorted[i]->value)) !=
		    JIT_OK)
			goto out;
	}
	if ((r = buf_put_stringb(b, sub)) != JIT_OK ||
	    (r = buf_put_string(b, NULL, 0)) != JIT_OK ||	/* reserved */
	    (r = buf_put_string(b, cablob, sizeof(cablob))) != JIT_OK)
		goto out;
	r = JIT_OK;
 out:
	sodium_memzero(nonce, sizeof(nonce));
	buf_free(sub);
	return r;
}

int
ca_ssh_certify(struct ca *ca, const struct ca_ssh_cert_req *req,
    struct ca_ssh_cert **out)
{
	struct buf *b = NULL, *sigb = NULL;
	const struct ca_ssh_ext **sorted = NULL;
	struct ca_ssh_cert_info *info = NULL;
	struct ca_ssh_cert *c = NULL;
	uint8_t sig[CA_SIG_MAX];
	size_t i, siglen = 0;
	enum ca_slot slot;
	uint64_t serial;
	int r = JIT_ERR_INTERNAL;

	if (out == NULL)
		return JIT_ERR_INVALID_ARG;
	*out = NULL;
	if (ca == NULL)
		return JIT_ERR_INVALID_ARG;
	if ((r = ca_ssh_cert_check_req(req)) != JIT_OK)
		return r;
	slot = req->type == CA_SSH_CERT_USER ? CA_SLOT_SSH_USER :
	    CA_SLOT_SSH_HOST;
	serial = req->serial != 0 ? req->serial : ca_ssh_random_serial();
	if (req->nextensions > 0) {
		if ((sorted = calloc(req->nextensions, sizeof(*sorted))) ==
		    NULL) {
			r = JIT_ERR_ALLOC;
			goto out;
		}
		for (i = 0; i < req->nextensions; i++)
			sorted[i] = &req->extensions[i];
		qsort(sorted, req->nextensions, sizeof(*sorted), ext_cmp);
	}
	if ((b = buf_new(CA_SSH_CERT_MAX)) == NULL ||
	    (sigb = buf_new(256)) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	if ((r = encode_body(ca, slot, req, serial, sorted, b)) != JIT_OK)
		goto out;
	if ((r = ca_sign(ca, slot, buf_ptr(b), buf_len(b), sig, &siglen)) !=
	    JIT_OK)
		goto out;
	if (siglen != ED25519_SIG_LEN) {
		r = JIT_ERR_CRYPTO;
		goto out;
	}
	if ((r = buf_put_cstring(sigb, "ssh-ed25519")) != JIT_OK ||
	    (r = buf_put_string(sigb, sig, siglen)) != JIT_OK ||
	    (r = buf_put_stringb(b, sigb)) != JIT_OK)
		goto out;
	/*
	 * Post-sign check: never hand out what we cannot read back.  The
	 * whole certificate is re-parsed strictly and compared field by field
	 * with the request; the signature we just made is not re-verified
	 * (that would triple the cost of issuance, see ARCHITECTURE.md).
	 */
	if (ca_ssh_cert_parse_int(buf_ptr(b), buf_len(b),
	    ca_ssh_pubkey(ca, slot), 0, &info) != JIT_OK ||
	    !cert_matches(req, serial, sorted,
	    ca_ssh_pubkey(ca, slot), info)) {
		r = JIT_ERR_INTERNAL;
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->blob = malloc(buf_len(b))) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	memcpy(c->blob, buf_ptr(b), buf_len(b));
	c->len = buf_len(b);
	c->type_name = ca_sshkey_cert_type_name(req->subject);
	c->serial = serial;
	c->valid_after = req->valid_after;
	c->valid_before = req->valid_before;
	*out = c;
	c = NULL;
	r = JIT_OK;
 out:
	ca_ssh_cert_free(c);
	ca_ssh_cert_info_free(info);
	free(sorted);
	buf_free(sigb);
	buf_free(b);
	return r;
}

void
ca_ssh_cert_free(struct ca_ssh_cert *c)
{
	if (c == NULL)
		return;
	free(c->blob);
	free(c);
}

const uint8_t *
ca_ssh_cert_blob(const struct ca_ssh_cert *c, size_t *len)
{
	if (len != NULL)
		*len = c->len;
	return c->blob;
}

uint64_t
ca_ssh_cert_serial(const struct ca_ssh_cert *c)
{
	return c->serial;
}

uint64_t
ca_ssh_cert_valid_after(const struct ca_ssh_cert *c)
{
	return c->valid_after;
}

uint64_t
ca_ssh_cert_valid_before(const struct ca_ssh_cert *c)
{
	return c->valid_before;
}

char *
ca_ssh_cert_to_line(const struct ca_ssh_cert *c, const char *comment)
{
	char *b64, *line = NULL;

	if (c == NULL)
		return NULL;
	if (comment != NULL && strpbrk(comment, "\r\n") != NULL)
		return NULL;
	if ((b64 = b64_encode(c->blob, c->len, B64_STD)) == NULL)
		return NULL;
	if (asprintf(&line, "%s %s%s%s\n", c->type_name, b64,
	    comment != NULL ? " " : "", comment != NULL ? comment : "") == -1)
		line = NULL;
	free(b64);
	return line;
}
