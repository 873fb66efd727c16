/*
 * TOTP (RFC 6238) over HMAC-SHA1 from OpenSSL's EVP_MAC, base32 (RFC 4648)
 * and otpauth:// URIs (see totp.h).  The base32 alphabet is mapped with
 * arithmetic instead of table lookups, so that the characters of a secret do
 * not show in cache timing; codes are compared with sodium_memcmp.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sodium.h>

#include "broker/totp.h"
#include "common/err.h"

#define TOTP_MODULUS	1000000U	/* 10^TOTP_DIGITS */

/* Maps 0..31 to 'A'..'Z', '2'..'7' without branches or tables. */
static char
b32_char(unsigned int v)
{
	int x = (int)v;

	return (char)('A' + x + (((25 - x) >> 8) & ('2' - 'A' - 26)));
}

/*
 * Maps a character to 0..31, or -1 if it is not in the (case-insensitive)
 * alphabet, without branches or tables.  The masks are all ones exactly when
 * c lies strictly between the two bounds.
 */
static int
b32_value(unsigned char uc)
{
	int c = uc, ret = -1;

	ret += (((0x40 - c) & (c - 0x5b)) >> 8) & (c - 64);	/* A-Z */
	ret += (((0x60 - c) & (c - 0x7b)) >> 8) & (c - 96);	/* a-z */
	ret += (((0x31 - c) & (c - 0x38)) >> 8) & (c - 23);	/* 2-7 */
	return ret;
}

int
totp_generate_secret(uint8_t secret[TOTP_SECRET_LEN])
{
	if (secret == NULL)
		return JIT_ERR_INVALID_ARG;
	randombytes_buf(secret, TOTP_SECRET_LEN);
	return JIT_OK;
}

int
base32_encode(const uint8_t *p, size_t len, char *out, size_t outlen)
{
	size_t i, o = 0;
	uint32_t acc = 0;
	unsigned int bits = 0;

	if (out == NULL || outlen == 0)
		return JIT_ERR_INVALID_ARG;
	out[0] = '\0';
	if (p == NULL && len != 0)
		return JIT_ERR_INVALID_ARG;
	if (len > (SIZE_MAX - 4) / 8 || outlen <= BASE32_ENCODED_LEN(len))
		return JIT_ERR_LIMIT;
	for (i = 0; i < len; i++) {
		acc = ((acc << 8) | p[i]) & 0xfff;
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = b32_char((acc >> bits) & 31);
		}
	}
	if (bits > 0)
		out[o++] = b32_char((acc << (5 - bits)) & 31);
	out[o] = '\0';
	sodium_memzero(&acc, sizeof(acc));
	return JIT_OK;
}

int
base32_decode(const char *s, uint8_t *out, size_t outcap, size_t *outlen)
{
	int r = JIT_ERR_INTERNAL, v, bad = 0;
	size_t i, nsym = 0, npad = 0, o = 0;
	uint32_t acc = 0;
	unsigned int bits = 0;

	if (outlen != NULL)
		*outlen = 0;
	if (s == NULL || outlen == NULL || (out == NULL && outcap != 0))
		return JIT_ERR_INVALID_ARG;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == ' ')
			continue;
		if (s[i] == '=') {
			npad++;
			continue;
		}
		if (npad > 0) {
			/* Data after padding. */
			r = JIT_ERR_INVALID_FORMAT;
			goto out;
		}
		v = b32_value((unsigned char)s[i]);
		bad |= v;
		acc = ((acc << 5) | ((unsigned int)v & 31)) & 0xfff;
		bits += 5;
		nsym++;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outcap) {
				r = JIT_ERR_LIMIT;
				goto out;
			}
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/*
	 * Symbols in the last group of 8: 2, 4, 5 or 7 give whole bytes; 1, 3
	 * and 6 cannot come from any input.  Padding, if present, completes
	 * the group.  Unused trailing bits must be zero (canonical encoding).
	 */
	if (bad < 0 || nsym % 8 == 1 || nsym % 8 == 3 || nsym % 8 == 6 ||
	    (npad != 0 && (nsym % 8 == 0 || nsym % 8 + npad != 8)) ||
	    (acc & ((1U << bits) - 1)) != 0) {
		r = JIT_ERR_INVALID_FORMAT;
		goto out;
	}
	*outlen = o;
	r = JIT_OK;
 out:
	if (r != JIT_OK && outcap > 0)
		sodium_memzero(out, outcap);
	sodium_memzero(&acc, sizeof(acc));
	return r;
}

/* HMAC-SHA1 of the big-endian step, dynamic truncation, mod 10^6. */
int
totp_code(const uint8_t *secret, size_t len, uint64_t step, uint32_t *code)
{
	int r = JIT_ERR_INTERNAL, i;
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	uint8_t msg[8], md[EVP_MAX_MD_SIZE];
	size_t mdlen = 0;
	unsigned int off;
	uint32_t bin;

	if (code != NULL)
		*code = 0;
	if (secret == NULL || len == 0 || len > TOTP_SECRET_MAX ||
	    code == NULL)
		return JIT_ERR_INVALID_ARG;
	for (i = 7; i >= 0; i--) {
		msg[i] = (uint8_t)(step & 0xff);
		step >>= 8;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA1", 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (ctx = EVP_MAC_CTX_new(mac)) == NULL ||
	    EVP_MAC_init(ctx, secret, len, params) != 1 ||
	    EVP_MAC_update(ctx, msg, sizeof(msg)) != 1 ||
	    EVP_MAC_final(ctx, md, &mdlen, sizeof(md)) != 1 || mdlen != 20) {
		r = JIT_ERR_CRYPTO;
		goto out;
	}
	off = md[19] & 0x0f;
	bin = ((uint32_t)(md[off] & 0x7f) << 24) |
	    ((uint32_t)md[off + 1] << 16) | ((uint32_t)md[off + 2] << 8) |
	    (uint32_t)md[off + 3];
	*code = bin % TOTP_MODULUS;
	r = JIT_OK;
 out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	sodium_memzero(md, sizeof(md));
	sodium_memzero(&bin, sizeof(bin));
	return r;
}

/* Writes code as TOTP_DIGITS decimal digits (no NUL). */
static void
format_code(uint32_t code, char out[TOTP_DIGITS])
{
	int i;

	for (i = TOTP_DIGITS - 1; i >= 0; i--) {
		out[i] = (char)('0' + code % 10);
		code /= 10;
	}
}

int
totp_verify(const uint8_t *secret, size_t len, const char *code,
    int64_t now, int window, uint64_t last_used_step, uint64_t *matched_step)
{
	int r = JIT_ERR_INTERNAL, i;
	uint64_t cur, step, first, last, found = 0, hit, fresh, mask;
	uint32_t want;
	char given[TOTP_DIGITS], cand[TOTP_DIGITS];
	unsigned int digits = 0;

	if (matched_step != NULL)
		*matched_step = 0;
	if (secret == NULL || len == 0 || len > TOTP_SECRET_MAX ||
	    window < 0 || window > TOTP_WINDOW_MAX || now < 0)
		return JIT_ERR_INVALID_ARG;
	/* Exactly TOTP_DIGITS ASCII digits, then the end of the string. */
	if (code == NULL || strnlen(code, TOTP_DIGITS + 1) != TOTP_DIGITS)
		return JIT_ERR_AUTH;
	for (i = 0; i < TOTP_DIGITS; i++) {
		given[i] = code[i];
		digits += (unsigned int)(code[i] >= '0' && code[i] <= '9');
	}
	if (digits != TOTP_DIGITS) {
		r = JIT_ERR_AUTH;
		goto out;
	}

	cur = (uint64_t)now / TOTP_PERIOD;
	first = cur >= (uint64_t)window ? cur - (uint64_t)window : 0;
	last = cur + (uint64_t)window;
	/*
	 * Every candidate is computed and compared; the match is folded in
	 * with masks so that neither the position of the match nor whether
	 * there was one changes the work done.
	 */
	for (step = first; step <= last; step++) {
		if ((r = totp_code(secret, len, step, &want)) != JIT_OK)
			goto out;
		format_code(want, cand);
		hit = (uint64_t)(sodium_memcmp(cand, given, TOTP_DIGITS) == 0);
		fresh = (uint64_t)(step > last_used_step);
		mask = (uint64_t)0 - (hit & fresh);
		found = (found & ~mask) | (step & mask);
	}
	/* Step 0 cannot be fresh (0 <= any last_used_step), so 0 is "none". */
	if (found == 0) {
		r = JIT_ERR_AUTH;
		goto out;
	}
	if (matched_step != NULL)
		*matched_step = found;
	r = JIT_OK;
 out:
	sodium_memzero(given, sizeof(given));
	sodium_memzero(cand, sizeof(cand));
	sodium_memzero(&want, sizeof(want));
	return r;
}

/* Appends the RFC 3986 percent-encoding of s at *pp. */
static void
pct_append(char **pp, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;
	char *p = *pp;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			*p++ = (char)c;
		} else {
			*p++ = '%';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*pp = p;
}

static void
str_append(char **pp, const char *s)
{
	size_t n = strlen(s);

	memcpy(*pp, s, n);
	*pp += n;
}

char *
totp_uri(const char *issuer, const char *account, const uint8_t *secret,
    size_t len)
{
	static const char tail[] = "&algorithm=SHA1&digits=6&period=30";
	char b32[BASE32_ENCODED_LEN(TOTP_SECRET_MAX) + 1];
	char *uri = NULL, *ret = NULL, *p;
	size_t ilen, alen, cap;

	if (issuer == NULL || account == NULL || secret == NULL ||
	    len == 0 || len > TOTP_SECRET_MAX)
		return NULL;
	ilen = strnlen(issuer, TOTP_LABEL_MAX + 1);
	alen = strnlen(account, TOTP_LABEL_MAX + 1);
	if (ilen == 0 || alen == 0 || ilen > TOTP_LABEL_MAX ||
	    alen > TOTP_LABEL_MAX)
		return NULL;
	if (base32_encode(secret, len, b32, sizeof(b32)) != JIT_OK)
		goto out;
	/* Every label byte expands to at most 3; the issuer appears twice. */
	cap = sizeof("otpauth://totp/:?secret=&issuer=") - 1 + 6 * ilen +
	    3 * alen + strlen(b32) + sizeof(tail);
	if ((uri = malloc(cap)) == NULL)
		goto out;
	p = uri;
	str_append(&p, "otpauth://totp/");
	pct_append(&p, issuer);
	str_append(&p, ":");
	pct_append(&p, account);
	str_append(&p, "?secret=");
	str_append(&p, b32);
	str_append(&p, "&issuer=");
	pct_append(&p, issuer);
	str_append(&p, tail);
	*p = '\0';
	ret = uri;
	uri = NULL;
 out:
	sodium_memzero(b32, sizeof(b32));
	free(uri);
	return ret;
}
