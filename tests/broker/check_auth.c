/*
 * Unit tests for broker/ authentication primitives: TOTP against the
 * RFC 6238 vectors and the real oathtool, base32 against RFC 4648, the
 * otpauth:// URI, and argon2id passwords with their policy.
 */
#include <check.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "broker/password.h"
#include "broker/totp.h"
#include "common/err.h"
#include "common/secret.h"
#include "tests/lib/testutil.h"

/* The RFC 6238 Appendix B SHA1 secret. */
static const uint8_t rfc_secret[] = "12345678901234567890";
#define RFC_SECRET_LEN	20

/* Formats a code as 6 digits into buf (at least 7 bytes). */
static void
fmt6(uint32_t code, char *buf)
{
	snprintf(buf, 7, "%06u", (unsigned int)code);
}

START_TEST(totp_rfc6238_vectors)
{
	static const struct {
		int64_t	 t;
		uint32_t code8;
	} v[] = {
		{ 59, 94287082 },
		{ 1111111109, 7081804 },
		{ 1111111111, 14050471 },
		{ 1234567890, 89005924 },
		{ 2000000000, 69279037 },
		{ 20000000000LL, 65353130 },
	};
	size_t i;
	uint32_t code;
	uint64_t matched;
	char s[8];

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ck_assert_int_eq(totp_code(rfc_secret, RFC_SECRET_LEN,
		    (uint64_t)v[i].t / TOTP_PERIOD, &code), JIT_OK);
		ck_assert_uint_eq(code, v[i].code8 % 1000000);
		fmt6(code, s);
		ck_assert_int_eq(totp_verify(rfc_secret, RFC_SECRET_LEN, s,
		    v[i].t, 0, 0, &matched), JIT_OK);
		ck_assert(matched == (uint64_t)v[i].t / TOTP_PERIOD);
	}
	/* The leading zero is kept: 07081804 -> "081804". */
	ck_assert_int_eq(totp_verify(rfc_secret, RFC_SECRET_LEN, "081804",
	    1111111109, 0, 0, &matched), JIT_OK);
	ck_assert_int_eq(totp_verify(rfc_secret, RFC_SECRET_LEN, "81804 ",
	    1111111109, 0, 0, &matched), JIT_ERR_AUTH);
	ck_assert(matched == 0);
	/* Bad arguments are errors, not aborts. */
	ck_assert_int_eq(totp_code(NULL, 20, 1, &code), JIT_ERR_INVALID_ARG);
	ck_assert_int_eq(totp_code(rfc_secret, 0, 1, &code),
	    JIT_ERR_INVALID_ARG);
	ck_assert_int_eq(totp_code(rfc_secret, TOTP_SECRET_MAX + 1, 1, &code),
	    JIT_ERR_INVALID_ARG);
	ck_assert_int_eq(totp_code(rfc_secret, 20, 1, NULL),
	    JIT_ERR_INVALID_ARG);
}
END_TEST

START_TEST(totp_oathtool_oracle)
{
	static const int64_t times[] = { 0, 59, 1111111109, 1700000000,
	    1700000029, 1700000030, 2000000000, 4102444800LL };
	uint8_t secret[TOTP_SECRET_LEN];
	char b32[BASE32_ENCODED_LEN(TOTP_SECRET_LEN) + 1], at[32], want[8];
	struct tu_out o;
	uint32_t code;
	size_t i;
	int round;

	for (round = 0; round < 3; round++) {
		ck_assert_int_eq(totp_generate_secret(secret), JIT_OK);
		ck_assert_int_eq(base32_encode(secret, sizeof(secret), b32,
		    sizeof(b32)), JIT_OK);
		ck_assert_uint_eq(strlen(b32), 32);
		for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
			char *argv[] = { "oathtool", "--totp", "-b", b32,
			    "-N", at, NULL };

			snprintf(at, sizeof(at), "@%" PRId64, times[i]);
			ck_assert_int_eq(tu_run(argv, NULL, NULL, 30, &o), 0);
			ck_assert_msg(o.status == 0, "oathtool: %s", o.err);
			ck_assert_int_eq(totp_code(secret, sizeof(secret),
			    (uint64_t)times[i] / TOTP_PERIOD, &code), JIT_OK);
			fmt6(code, want);
			ck_assert_uint_eq(strlen(o.out), 7);
			ck_assert_int_eq(o.out[6], '\n');
			o.out[6] = '\0';
			ck_assert_str_eq(o.out, want);
			tu_out_free(&o);
		}
	}
	sodium_memzero(secret, sizeof(secret));
}
END_TEST

START_TEST(totp_verify_window_and_reuse)
{
	const int64_t now = 1700000015;	/* inside step 56666667 */
	const uint64_t cur = (uint64_t)now / TOTP_PERIOD;
	uint8_t secret[TOTP_SECRET_LEN];
	uint64_t matched = 99;
	uint32_t code;
	char c[8];
	int d;

	ck_assert_int_eq(totp_generate_secret(secret), JIT_OK);

	/* Current step, then -1 and +1 with window 1. */
	for (d = -1; d <= 1; d++) {
		ck_assert_int_eq(totp_code(secret, sizeof(secret),
		    (uint64_t)((int64_t)cur + d), &code), JIT_OK);
		fmt6(code, c);
		ck_assert_int_eq(totp_verify(secret, sizeof(secret), c, now,
		    1, 0, &matched), JIT_OK);
		ck_assert(matched == (uint64_t)((int64_t)cur + d));
		/* With window 0 only the current step is accepted. */
		ck_assert_int_eq(totp_verify(secret, sizeof(secret), c, now,
		    0, 0, &matched), d == 0 ? JIT_OK : JIT_ERR_AUTH);
	}

	/* Two and three steps ago are refused with window 1. */
	for (d = 2; d <= 3; d++) {
		ck_assert_int_eq(totp_code(secret, sizeof(secret), cur - d,
		    &code), JIT_OK);
		fmt6(code, c);
		matched = 99;
		ck_assert_int_eq(totp_verify(secret, sizeof(secret), c, now,
		    1, 0, &matched), JIT_ERR_AUTH);
		ck_assert(matched == 0);
	}

	/* Single use: once last_used_step is the matched step, refused. */
	ck_assert_int_eq(totp_code(secret, sizeof(secret), cur, &code),
	    JIT_OK);
	fmt6(code, c);
	ck_assert_int_eq(totp_verify(secret, sizeof(secret), c, now, 1, 0,
	    &matched), JIT_OK);
	ck_assert(matched == cur);
	ck_assert_int_eq(totp_verify(secret, sizeof(secret), c, now, 1,
	    matched, &matched), JIT_ERR_AUTH);
	/* An older code is refused once a newer one was used, too. */
	ck_assert_int_eq(totp_code(secret, sizeof(secret), cur - 1, &code),
	    JIT_OK);
	fmt6(code, c);
	ck_assert_int_eq(totp_verify(secret, sizeof(secret), c, now, 1, cur,
	    &matched), JIT_ERR_AUTH);
	/* The next step's code still works after the current one. */
	ck_assert_int_eq(totp_code(secret, sizeof(secret), cur + 1, &code),
	    JIT_OK);
	fmt6(code, c);
	ck_assert_int_eq(totp_verify(secret, sizeof(secret), c, now, 1, cur,
	    &matched), JIT_OK);
	ck_assert(matched == cur + 1);
	/* A NULL matched_step is allowed. */
	ck_assert_int_eq(totp_verify(secret, sizeof(secret), c, now, 1, 0,
	    NULL), JIT_OK);

	/* Bad windows, times and secrets. */
	ck_assert_int_eq(totp_verify(secret, sizeof(secret), c, now, -1, 0,
	    &matched), JIT_ERR_INVALID_ARG);
	ck_assert_int_eq(totp_verify(secret, sizeof(secret), c, now,
	    TOTP_WINDOW_MAX + 1, 0, &matched), JIT_ERR_INVALID_ARG);
	ck_assert_int_eq(totp_verify(secret, sizeof(secret), c, -1, 1, 0,
	    &matched), JIT_ERR_INVALID_ARG);
	ck_assert_int_eq(totp_verify(NULL, sizeof(secret), c, now, 1, 0,
	    &matched), JIT_ERR_INVALID_ARG);
	/* Near the epoch the window is clipped at step 0. */
	ck_assert_int_eq(totp_code(secret, sizeof(secret), 1, &code), JIT_OK);
	fmt6(code, c);
	ck_assert_int_eq(totp_verify(secret, sizeof(secret), c, 5, 1, 0,
	    &matched), JIT_OK);
	ck_assert(matched == 1);
	sodium_memzero(secret, sizeof(secret));
}
END_TEST

START_TEST(totp_verify_malformed)
{
	static const char *bad[] = { "", "12345", "1234567", "12345a",
	    " 123456", "123456\n", "12345\xff", "-12345", "+12345",
	    "1234567890123456789012345678901234567890", NULL };
	const int64_t now = 1700000000;
	uint8_t secret[TOTP_SECRET_LEN];
	uint64_t matched;
	uint32_t code;
	char c[8], nul[8];
	size_t i;

	ck_assert_int_eq(totp_generate_secret(secret), JIT_OK);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		matched = 42;
		ck_assert_int_eq(totp_verify(secret, sizeof(secret), bad[i],
		    now, 1, 0, &matched), JIT_ERR_AUTH);
		ck_assert(matched == 0);
	}
	/* A valid code with a trailing newline or space is still refused. */
	ck_assert_int_eq(totp_code(secret, sizeof(secret),
	    (uint64_t)now / TOTP_PERIOD, &code), JIT_OK);
	fmt6(code, c);
	c[6] = '\n';
	c[7] = '\0';
	ck_assert_int_eq(totp_verify(secret, sizeof(secret), c, now, 1, 0,
	    &matched), JIT_ERR_AUTH);
	/* An embedded NUL ends the string: 3 digits, refused. */
	memcpy(nul, c, 6);
	nul[3] = '\0';
	ck_assert_int_eq(totp_verify(secret, sizeof(secret), nul, now, 1, 0,
	    &matched), JIT_ERR_AUTH);
	c[6] = '\0';
	ck_assert_int_eq(totp_verify(secret, sizeof(secret), c, now, 1, 0,
	    &matched), JIT_OK);
	sodium_memzero(secret, sizeof(secret));
}
END_TEST

START_TEST(base32_rfc4648)
{
	static const struct {
		const char *in, *out, *padded;
	} v[] = {
		{ "", "", "" },
		{ "f", "MY", "MY======" },
		{ "fo", "MZXQ", "MZXQ====" },
		{ "foo", "MZXW6", "MZXW6===" },
		{ "foob", "MZXW6YQ", "MZXW6YQ=" },
		{ "fooba", "MZXW6YTB", "MZXW6YTB" },
		{ "foobar", "MZXW6YTBOI", "MZXW6YTBOI======" },
	};
	char enc[32], lower[32];
	uint8_t dec[16];
	size_t i, j, n;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ck_assert_int_eq(base32_encode((const uint8_t *)v[i].in,
		    strlen(v[i].in), enc, sizeof(enc)), JIT_OK);
		ck_assert_str_eq(enc, v[i].out);
		ck_assert_uint_eq(strlen(enc),
		    BASE32_ENCODED_LEN(strlen(v[i].in)));
		ck_assert_int_eq(base32_decode(v[i].out, dec, sizeof(dec), &n),
		    JIT_OK);
		ck_assert_uint_eq(n, strlen(v[i].in));
		ck_assert(memcmp(dec, v[i].in, n) == 0);
		ck_assert_int_eq(base32_decode(v[i].padded, dec, sizeof(dec),
		    &n), JIT_OK);
		ck_assert_uint_eq(n, strlen(v[i].in));
		ck_assert(memcmp(dec, v[i].in, n) == 0);
		for (j = 0; v[i].out[j] != '\0'; j++)
			lower[j] = (char)(v[i].out[j] | 0x20);
		lower[j] = '\0';
		ck_assert_int_eq(base32_decode(lower, dec, sizeof(dec), &n),
		    JIT_OK);
		ck_assert_uint_eq(n, strlen(v[i].in));
		ck_assert(memcmp(dec, v[i].in, n) == 0);
	}
	/* Spaces are ignored, as apps show secrets in groups of four. */
	ck_assert_int_eq(base32_decode(" mzxw 6ytb oi ", dec, sizeof(dec), &n),
	    JIT_OK);
	ck_assert_uint_eq(n, 6);
	ck_assert(memcmp(dec, "foobar", 6) == 0);
	ck_assert_int_eq(base32_decode("MZXW6YTBOI====== ", dec, sizeof(dec),
	    &n), JIT_OK);
	ck_assert_uint_eq(n, 6);
}
END_TEST

START_TEST(base32_bad_input)
{
	static const char *bad[] = {
		"MY1", "MY0", "MY8", "MZXW6YTB!", "MZXW-6YTB", "MZXW\t6YTB",
		"MZXW\n", "MZ\xc3\xa9", "M=Y", "MY=A=====", "=MY",
		"MY=", "MY=======", "MY==============", "MZXW6YTB========",
		"M", "MZX", "MZXW6Y", "MZXW6YTBO",	/* impossible lengths */
		"MZ", "MZXR", "MZXW7", "MZXW6YR", "MZXW6YTBOJ", /* spare bits */
	};
	uint8_t dec[16];
	size_t i, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = 77;
		dec[0] = 0xaa;
		ck_assert_msg(base32_decode(bad[i], dec, sizeof(dec), &n) ==
		    JIT_ERR_INVALID_FORMAT, "accepted \"%s\"", bad[i]);
		ck_assert_uint_eq(n, 0);
		ck_assert_uint_eq(dec[0], 0);	/* wiped */
	}
	ck_assert_int_eq(base32_decode(NULL, dec, sizeof(dec), &n),
	    JIT_ERR_INVALID_ARG);
	ck_assert_int_eq(base32_decode("MY", dec, sizeof(dec), NULL),
	    JIT_ERR_INVALID_ARG);
}
END_TEST

START_TEST(base32_small_buffers)
{
	char enc[32];
	uint8_t dec[16], big[4096];
	char *huge;
	size_t n;

	/* "foobar" needs 10 characters and the NUL. */
	ck_assert_int_eq(base32_encode((const uint8_t *)"foobar", 6, enc, 10),
	    JIT_ERR_LIMIT);
	ck_assert_str_eq(enc, "");
	ck_assert_int_eq(base32_encode((const uint8_t *)"foobar", 6, enc, 11),
	    JIT_OK);
	ck_assert_str_eq(enc, "MZXW6YTBOI");
	ck_assert_int_eq(base32_encode((const uint8_t *)"f", 1, enc, 0),
	    JIT_ERR_INVALID_ARG);
	ck_assert_int_eq(base32_encode(NULL, 1, enc, sizeof(enc)),
	    JIT_ERR_INVALID_ARG);
	ck_assert_int_eq(base32_encode((const uint8_t *)"f", 1, NULL, 10),
	    JIT_ERR_INVALID_ARG);
	ck_assert_int_eq(base32_encode(NULL, 0, enc, 1), JIT_OK);
	ck_assert_str_eq(enc, "");

	ck_assert_int_eq(base32_decode("MZXW6YTBOI", dec, 5, &n),
	    JIT_ERR_LIMIT);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(base32_decode("MZXW6YTBOI", dec, 6, &n), JIT_OK);
	ck_assert_uint_eq(n, 6);
	ck_assert_int_eq(base32_decode("MY", NULL, 0, &n), JIT_ERR_LIMIT);

	/* A giant input is bounded by the output capacity. */
	if ((huge = malloc(1024 * 1024 + 1)) == NULL)
		ck_abort_msg("malloc");
	memset(huge, 'A', 1024 * 1024);
	huge[1024 * 1024] = '\0';
	ck_assert_int_eq(base32_decode(huge, big, sizeof(big), &n),
	    JIT_ERR_LIMIT);
	free(huge);
}
END_TEST

START_TEST(base32_roundtrip_random)
{
	uint8_t in[TOTP_SECRET_MAX], dec[TOTP_SECRET_MAX];
	char enc[BASE32_ENCODED_LEN(TOTP_SECRET_MAX) + 1];
	size_t len, n;
	int i;

	for (i = 0; i < 200; i++) {
		len = (size_t)randombytes_uniform(TOTP_SECRET_MAX + 1);
		randombytes_buf(in, len);
		ck_assert_int_eq(base32_encode(in, len, enc,
		    BASE32_ENCODED_LEN(len) + 1), JIT_OK);
		ck_assert_uint_eq(strlen(enc), BASE32_ENCODED_LEN(len));
		ck_assert_int_eq(base32_decode(enc, dec, len, &n), JIT_OK);
		ck_assert_uint_eq(n, len);
		ck_assert(memcmp(in, dec, len) == 0);
	}
}
END_TEST

START_TEST(totp_uri_cases)
{
	uint8_t secret[TOTP_SECRET_LEN];
	char b32[BASE32_ENCODED_LEN(TOTP_SECRET_LEN) + 1], want[256];
	char label[TOTP_LABEL_MAX + 2];
	char *uri;

	ck_assert_int_eq(totp_generate_secret(secret), JIT_OK);
	ck_assert_int_eq(base32_encode(secret, sizeof(secret), b32,
	    sizeof(b32)), JIT_OK);
	uri = totp_uri("Acme Corp", "alice smith@ex", secret, sizeof(secret));
	ck_assert_ptr_nonnull(uri);
	snprintf(want, sizeof(want), "otpauth://totp/Acme%%20Corp:"
	    "alice%%20smith%%40ex?secret=%s&issuer=Acme%%20Corp"
	    "&algorithm=SHA1&digits=6&period=30", b32);
	ck_assert_str_eq(uri, want);
	ck_assert(tu_contains(uri, b32));
	strfreezero(uri);

	/* Reserved characters and UTF-8 bytes are escaped; ~-._ are not. */
	uri = totp_uri("j:i/t?d", "b.o_b-~\xc3\xa9&x=1", secret,
	    sizeof(secret));
	ck_assert_ptr_nonnull(uri);
	ck_assert(tu_contains(uri,
	    "otpauth://totp/j%3Ai%2Ft%3Fd:b.o_b-~%C3%A9%26x%3D1?secret="));
	ck_assert(tu_contains(uri, "&issuer=j%3Ai%2Ft%3Fd&"));
	strfreezero(uri);

	ck_assert_ptr_null(totp_uri("", "alice", secret, sizeof(secret)));
	ck_assert_ptr_null(totp_uri("jitd", "", secret, sizeof(secret)));
	ck_assert_ptr_null(totp_uri(NULL, "alice", secret, sizeof(secret)));
	ck_assert_ptr_null(totp_uri("jitd", "alice", NULL, 20));
	ck_assert_ptr_null(totp_uri("jitd", "alice", secret, 0));
	memset(label, 'a', sizeof(label) - 1);
	label[sizeof(label) - 1] = '\0';
	ck_assert_ptr_null(totp_uri("jitd", label, secret, sizeof(secret)));
	label[TOTP_LABEL_MAX] = '\0';
	/* The longest label, every byte escaped. */
	memset(label, ' ', TOTP_LABEL_MAX);
	uri = totp_uri(label, label, secret, sizeof(secret));
	ck_assert_ptr_nonnull(uri);
	ck_assert_uint_eq(strlen(uri), strlen("otpauth://totp/:?secret=&issuer="
	    "&algorithm=SHA1&digits=6&period=30") + 9 * TOTP_LABEL_MAX +
	    strlen(b32));
	strfreezero(uri);
	sodium_memzero(secret, sizeof(secret));
}
END_TEST

START_TEST(password_hash_verify)
{
	char h[PASSWORD_HASH_MAX], h2[PASSWORD_HASH_MAX];
	char big[JIT_PASSWORD_MAX + 2];

	ck_assert_int_eq(password_hash("correct horse battery", h), JIT_OK);
	ck_assert(strncmp(h, "$argon2id$", 10) == 0);
	ck_assert_int_eq(password_verify(h, "correct horse battery"), JIT_OK);
	ck_assert_int_eq(password_verify(h, "correct horse batterz"),
	    JIT_ERR_AUTH);
	ck_assert_int_eq(password_verify(h, "correct horse battery "),
	    JIT_ERR_AUTH);
	ck_assert_int_eq(password_verify(h, ""), JIT_ERR_AUTH);
	ck_assert_int_eq(password_verify(h, NULL), JIT_ERR_AUTH);
	/* Salted: the same password hashes differently. */
	ck_assert_int_eq(password_hash("correct horse battery", h2), JIT_OK);
	ck_assert_str_ne(h, h2);
	ck_assert_int_eq(password_verify(h2, "correct horse battery"), JIT_OK);

	ck_assert_int_eq(password_hash("", h2), JIT_ERR_INVALID_ARG);
	ck_assert_str_eq(h2, "");
	ck_assert_int_eq(password_hash(NULL, h2), JIT_ERR_INVALID_ARG);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(password_hash(big, h2), JIT_ERR_LIMIT);
	ck_assert_int_eq(password_verify(h, big), JIT_ERR_AUTH);
	big[JIT_PASSWORD_MAX] = '\0';
	ck_assert_int_eq(password_hash(big, h2), JIT_OK);
	ck_assert_int_eq(password_verify(h2, big), JIT_OK);
	ck_assert_int_eq(password_verify(h, big), JIT_ERR_AUTH);
}
END_TEST

START_TEST(password_malformed_hash)
{
	char h[PASSWORD_HASH_MAX], t[PASSWORD_HASH_MAX * 2], *dollar;
	static const char *bad[] = {
		"", "x", "$argon2id$", "$argon2id$v=19$",
		"$argon2id$v=19$m=65536,t=2,p=1$",
		"$argon2id$v=19$m=65536,t=2,p=1$$",
		"$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHRzYWx0$!!!",
		/* Cost beyond any we choose: refused before any work. */
		"$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA"
		    "$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWY",
		"$argon2id$v=19$m=65536,t=4000000000,p=1$c2FsdHNhbHRzYWx0c2F"
		    "sdA$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWY",
		"$argon2id$v=19$m=65536,t=2,p=4$c2FsdHNhbHRzYWx0c2FsdA"
		    "$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWY",
		"$argon2id$v=19$m=99999999999999999999,t=2,p=1$c2FsdA$YWJj",
		"$argon2id$v=19$m=-1,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$YWJj",
		"$argon2i$v=19$m=65536,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA"
		    "$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWY",
		"$2b$12$abcdefghijklmnopqrstuuWnV1lyEyo1EiaLHM0gP1T7cKDgG1V5y",
		NULL,
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(password_verify(bad[i], "correct horse battery")
		    == JIT_ERR_AUTH, "accepted hash %zu", i);

	ck_assert_int_eq(password_hash("correct horse battery", h), JIT_OK);
	/* Truncated, tampered, overlong (no NUL within the array). */
	memcpy(t, h, sizeof(h));
	t[strlen(t) - 1] = '\0';
	ck_assert_int_eq(password_verify(t, "correct horse battery"),
	    JIT_ERR_AUTH);
	memcpy(t, h, sizeof(h));
	t[strlen(t) - 2] ^= 1;
	ck_assert_int_eq(password_verify(t, "correct horse battery"),
	    JIT_ERR_AUTH);
	memcpy(t, h, sizeof(h));
	dollar = strrchr(t, '$');
	ck_assert_ptr_nonnull(dollar);
	*dollar = '\0';
	ck_assert_int_eq(password_verify(t, "correct horse battery"),
	    JIT_ERR_AUTH);
	memset(t, 'A', sizeof(t) - 1);
	t[sizeof(t) - 1] = '\0';
	memcpy(t, h, strlen(h));
	ck_assert_int_eq(password_verify(t, "correct horse battery"),
	    JIT_ERR_AUTH);
	/* The untouched hash still verifies. */
	ck_assert_int_eq(password_verify(h, "correct horse battery"), JIT_OK);
}
END_TEST

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(password_dummy)
{
	char h[PASSWORD_HASH_MAX];
	double t0, real = 1e9, dummy = 1e9, d;
	int i;

	ck_assert_int_eq(password_verify_dummy("anything at all"),
	    JIT_ERR_AUTH);
	ck_assert_int_eq(password_verify_dummy(""), JIT_ERR_AUTH);
	ck_assert_int_eq(password_verify_dummy(NULL), JIT_ERR_AUTH);
	ck_assert_int_eq(password_hash("correct horse battery", h), JIT_OK);
	/*
	 * The dummy does a real argon2id verification: it costs about as
	 * much as a wrong password (loose bound, machines are noisy).
	 */
	for (i = 0; i < 3; i++) {
		t0 = now_s();
		ck_assert_int_eq(password_verify(h, "wrong password!!"),
		    JIT_ERR_AUTH);
		if ((d = now_s() - t0) < real)
			real = d;
		t0 = now_s();
		ck_assert_int_eq(password_verify_dummy("wrong password!!"),
		    JIT_ERR_AUTH);
		if ((d = now_s() - t0) < dummy)
			dummy = d;
	}
	ck_assert_msg(dummy > real * 0.5 && dummy < real * 2.0,
	    "dummy %.3fs vs real %.3fs", dummy, real);
}
END_TEST

START_TEST(password_policy)
{
	static const char *good[] = {
		"correct horse",			/* 13, with a space */
		"abcdefghijkl",				/* exactly 12 */
		("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"), /* 12 e-acute */
		"\xf0\x9f\x94\x91 key emoji pw",	/* U+1F511 */
		"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac euro sign", /* U+20AC */
	};
	static const char *bad[] = {
		"", "short", "abcdefghijk",		/* 11 */
		("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"), /* 11 chars, 22 bytes */
		"abcdef\tghijkl", "abcdefghijkl\n", "abcdef\x7fghijkl",
		"abcdef\x1bghijkl", "abcdef\xc2\x85ghijkl", /* C1 NEL */
		"abcdef\xffghijkl", "abcdef\xc0\xafghijkl", /* overlong '/' */
		"abcdef\xe0\x80\xafghijkl", "abcdef\xed\xa0\x80ghijkl",
		"abcdef\xf4\x90\x80\x80ghijkl",		/* > U+10FFFF */
		"abcdefghijkl\xc3", "abcdefghijkl\xe2\x82", "abcdef\x80ghijkl",
		NULL,
	};
	char big[JIT_PASSWORD_MAX + 2];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(password_policy_check(good[i]) == JIT_OK,
		    "refused good %zu", i);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(password_policy_check(bad[i]) == JIT_ERR_POLICY,
		    "accepted bad %zu", i);
	memset(big, 'p', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(password_policy_check(big), JIT_ERR_POLICY);
	big[JIT_PASSWORD_MAX] = '\0';
	ck_assert_int_eq(password_policy_check(big), JIT_OK);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("auth");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	if (sodium_init() < 0)
		return 1;
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, totp_rfc6238_vectors);
	tcase_add_test(tc, totp_oathtool_oracle);
	tcase_add_test(tc, totp_verify_window_and_reuse);
	tcase_add_test(tc, totp_verify_malformed);
	tcase_add_test(tc, base32_rfc4648);
	tcase_add_test(tc, base32_bad_input);
	tcase_add_test(tc, base32_small_buffers);
	tcase_add_test(tc, base32_roundtrip_random);
	tcase_add_test(tc, totp_uri_cases);
	tcase_add_test(tc, password_hash_verify);
	tcase_add_test(tc, password_malformed_hash);
	tcase_add_test(tc, password_dummy);
	tcase_add_test(tc, password_policy);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
