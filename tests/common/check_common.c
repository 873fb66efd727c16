/*
 * Unit tests for common/: bounded buffer, base64, durations, sealing,
 * files, escaping for logs and terminals, the JSON nesting check.
 */
#include <sys/stat.h>

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "common/b64.h"
#include "common/buf.h"
#include "common/duration.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/limits.h"
#include "common/safetext.h"
#include "common/seal.h"
#include "common/secret.h"
#include "tests/lib/testutil.h"

START_TEST(buf_roundtrip)
{
	struct buf *b = buf_new(1024), *sub = NULL;
	uint8_t u8;
	uint32_t u32;
	uint64_t u64;
	char *s = NULL;
	size_t len;

	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(buf_put_u8(b, 7), JIT_OK);
	ck_assert_int_eq(buf_put_u32(b, 0xdeadbeef), JIT_OK);
	ck_assert_int_eq(buf_put_u64(b, 0x0102030405060708ULL), JIT_OK);
	ck_assert_int_eq(buf_put_cstring(b, "hello"), JIT_OK);
	ck_assert_int_eq(buf_len(b), 1 + 4 + 8 + 4 + 5);
	ck_assert_int_eq(buf_get_u8(b, &u8), JIT_OK);
	ck_assert_int_eq(u8, 7);
	ck_assert_int_eq(buf_get_u32(b, &u32), JIT_OK);
	ck_assert_uint_eq(u32, 0xdeadbeef);
	ck_assert_int_eq(buf_get_u64(b, &u64), JIT_OK);
	ck_assert(u64 == 0x0102030405060708ULL);
	ck_assert_int_eq(buf_froms(b, &sub), JIT_OK);
	ck_assert_int_eq(buf_len(sub), 5);
	ck_assert_int_eq(buf_len(b), 0);
	ck_assert_int_eq(buf_get_u8(b, &u8), JIT_ERR_INCOMPLETE);
	buf_free(sub);
	buf_reset(b);
	ck_assert_int_eq(buf_put_string(b, "a\0b", 3), JIT_OK);
	ck_assert_int_eq(buf_get_cstring(b, &s, &len), JIT_ERR_INVALID_FORMAT);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(buf_len(b), 7);	/* nothing consumed */
	buf_free(b);
}
END_TEST

START_TEST(buf_ceiling)
{
	struct buf *b = buf_new(10);
	uint8_t big[11] = { 0 };

	ck_assert_int_eq(buf_put(b, big, 10), JIT_OK);
	ck_assert_int_eq(buf_put_u8(b, 1), JIT_ERR_LIMIT);
	buf_free(b);
	ck_assert_ptr_null(buf_new(0));
	ck_assert_ptr_null(buf_new((size_t)JIT_BUF_MAX + 1));
	b = buf_new(8);
	ck_assert_int_eq(buf_put_string(b, big, 5), JIT_ERR_LIMIT);
	ck_assert_int_eq(buf_len(b), 0);
	buf_free(b);
}
END_TEST

START_TEST(buf_giant_and_truncated_lengths)
{
	/* A declared length far beyond the data, and one just beyond. */
	static const uint8_t giant[] = { 0xff, 0xff, 0xff, 0xf0, 'a' };
	static const uint8_t shortlen[] = { 0, 0, 0, 2, 'a' };
	static const uint8_t three[] = { 0, 0, 0 };
	struct buf *b;
	const uint8_t *p;
	size_t len;
	uint32_t v;

	b = buf_from(giant, sizeof(giant));
	ck_assert_int_eq(buf_get_string_direct(b, &p, &len), JIT_ERR_LIMIT);
	ck_assert_ptr_null(p);
	buf_free(b);
	b = buf_from(shortlen, sizeof(shortlen));
	ck_assert_int_eq(buf_get_string_direct(b, &p, &len),
	    JIT_ERR_INCOMPLETE);
	ck_assert_int_eq(buf_len(b), sizeof(shortlen));
	buf_free(b);
	b = buf_from(three, sizeof(three));
	ck_assert_int_eq(buf_get_u32(b, &v), JIT_ERR_INCOMPLETE);
	buf_free(b);
}
END_TEST

START_TEST(buf_mpint)
{
	static const uint8_t neg[] = { 0, 0, 0, 1, 0x80 };
	static const uint8_t nonmin[] = { 0, 0, 0, 2, 0, 0x01 };
	static const uint8_t hi[] = { 0x80, 0x01 };
	struct buf *b = buf_new(64), *r;
	const uint8_t *p;
	size_t len;

	ck_assert_int_eq(buf_put_bignum2_bytes(b, hi, 2), JIT_OK);
	ck_assert_int_eq(buf_len(b), 4 + 3);	/* sign byte prepended */
	ck_assert_int_eq(buf_get_bignum2_bytes_direct(b, &p, &len), JIT_OK);
	ck_assert_int_eq(len, 2);
	ck_assert_mem_eq(p, hi, 2);
	buf_free(b);
	r = buf_from(neg, sizeof(neg));
	ck_assert_int_eq(buf_get_bignum2_bytes_direct(r, &p, &len),
	    JIT_ERR_INVALID_FORMAT);
	buf_free(r);
	r = buf_from(nonmin, sizeof(nonmin));
	ck_assert_int_eq(buf_get_bignum2_bytes_direct(r, &p, &len),
	    JIT_ERR_INVALID_FORMAT);
	buf_free(r);
}
END_TEST

START_TEST(b64_cases)
{
	uint8_t *d = NULL;
	size_t len;
	char *s;

	s = b64_encode("foobar", 6, B64_STD);
	ck_assert_str_eq(s, "Zm9vYmFy");
	free(s);
	s = b64_encode("\xfb\xff", 2, B64_URL);
	ck_assert_str_eq(s, "-_8");
	free(s);
	ck_assert_int_eq(b64_decode("Zm9vYg==", 8, B64_STD, 100, &d, &len),
	    JIT_OK);
	ck_assert_int_eq(len, 4);
	ck_assert_mem_eq(d, "foob", 4);
	free(d);
	ck_assert_int_eq(b64_decode("Zm9v!g==", 8, B64_STD, 100, &d, &len),
	    JIT_ERR_INVALID_FORMAT);
	ck_assert_int_eq(b64_decode("Zm9vYg", 6, B64_STD, 100, &d, &len),
	    JIT_ERR_INVALID_FORMAT);
	ck_assert_int_eq(b64_decode("Zm9vYmFy", 8, B64_STD, 3, &d, &len),
	    JIT_ERR_LIMIT);
	ck_assert_ptr_null(d);
}
END_TEST

START_TEST(duration_cases)
{
	int64_t s;
	char out[32];

	ck_assert_int_eq(duration_parse("90s", 86400, &s), JIT_OK);
	ck_assert_int_eq(s, 90);
	ck_assert_int_eq(duration_parse("15m", 86400, &s), JIT_OK);
	ck_assert_int_eq(s, 900);
	ck_assert_int_eq(duration_parse("8h", 86400, &s), JIT_OK);
	ck_assert_int_eq(s, 28800);
	ck_assert_int_eq(duration_parse("1h30m", 86400, &s), JIT_OK);
	ck_assert_int_eq(s, 5400);
	ck_assert_int_eq(duration_parse("300", 86400, &s), JIT_OK);
	ck_assert_int_eq(s, 300);
	ck_assert_int_eq(duration_parse("7d", 7 * 86400, &s), JIT_OK);
	ck_assert_int_eq(duration_parse("", 100, &s), JIT_ERR_INVALID_FORMAT);
	ck_assert_int_eq(duration_parse("0", 100, &s), JIT_ERR_INVALID_FORMAT);
	ck_assert_int_eq(duration_parse("-5m", 1000, &s),
	    JIT_ERR_INVALID_FORMAT);
	ck_assert_int_eq(duration_parse("5 m", 1000, &s),
	    JIT_ERR_INVALID_FORMAT);
	ck_assert_int_eq(duration_parse("5x", 1000, &s),
	    JIT_ERR_INVALID_FORMAT);
	ck_assert_int_eq(duration_parse("m", 1000, &s), JIT_ERR_INVALID_FORMAT);
	ck_assert_int_eq(duration_parse("1m30", 1000, &s),
	    JIT_ERR_INVALID_FORMAT);
	ck_assert_int_eq(duration_parse("25h", 86400, &s), JIT_ERR_LIMIT);
	ck_assert_int_eq(duration_parse("99999999999999999999d", INT64_MAX,
	    &s), JIT_ERR_LIMIT);
	ck_assert_int_eq(duration_parse("9223372036854775807w", INT64_MAX,
	    &s), JIT_ERR_LIMIT);
	ck_assert_int_eq(duration_parse(NULL, 10, &s), JIT_ERR_INVALID_FORMAT);
	duration_format(5400, out, sizeof(out));
	ck_assert_str_eq(out, "1h30m");
	duration_format(45, out, sizeof(out));
	ck_assert_str_eq(out, "45s");
}
END_TEST

static void
seal_roundtrip_mode(struct seal_key *sk)
{
	static const uint8_t secret[] = "the quick brown secret";
	uint8_t *blob = NULL, *out = NULL;
	size_t bloblen, outlen, i;
	int r;

	ck_assert_int_eq(seal_encode(sk, "test", secret, sizeof(secret),
	    &blob, &bloblen), JIT_OK);
	ck_assert_int_eq(seal_decode(sk, "test", blob, bloblen, &out, &outlen),
	    JIT_OK);
	ck_assert_int_eq(outlen, sizeof(secret));
	ck_assert_mem_eq(out, secret, outlen);
	sodium_free(out);
	/* Wrong purpose. */
	r = seal_decode(sk, "other", blob, bloblen, &out, &outlen);
	ck_assert(r == JIT_ERR_DECRYPT || r == JIT_ERR_INVALID_FORMAT);
	ck_assert_ptr_null(out);
	/* Every truncation fails cleanly. */
	for (i = 0; i < bloblen; i++) {
		r = seal_decode(sk, "test", blob, i, &out, &outlen);
		ck_assert_int_ne(r, JIT_OK);
		ck_assert_ptr_null(out);
	}
	/* Every single-bit flip fails (mode NONE has no integrity: skip). */
	if (sk->mode != SEAL_NONE) {
		for (i = 0; i < bloblen; i++) {
			blob[i] ^= 0x01;
			r = seal_decode(sk, "test", blob, bloblen, &out,
			    &outlen);
			ck_assert_int_ne(r, JIT_OK);
			blob[i] ^= 0x01;
		}
	}
	free(blob);
}

START_TEST(seal_modes)
{
	struct seal_key sk;
	uint8_t *blob = NULL, *out = NULL;
	size_t bloblen, outlen;

	memset(&sk, 0, sizeof(sk));
	sk.mode = SEAL_KEYFILE;
	randombytes_buf(sk.key, sizeof(sk.key));
	seal_roundtrip_mode(&sk);
	sk.mode = SEAL_NONE;
	seal_roundtrip_mode(&sk);

	/* Passphrase: right one works, wrong one is JIT_ERR_DECRYPT. */
	sk.mode = SEAL_PASSPHRASE;
	sk.passphrase = "correct horse";
	ck_assert_int_eq(seal_encode(&sk, "p", (const uint8_t *)"xyz", 3,
	    &blob, &bloblen), JIT_OK);
	ck_assert_int_eq(seal_decode(&sk, "p", blob, bloblen, &out, &outlen),
	    JIT_OK);
	sodium_free(out);
	sk.passphrase = "wrong horse";
	ck_assert_int_eq(seal_decode(&sk, "p", blob, bloblen, &out, &outlen),
	    JIT_ERR_DECRYPT);
	/* A sealed blob opened as if unsealed, and the reverse. */
	sk.mode = SEAL_NONE;
	ck_assert_int_eq(seal_decode(&sk, "p", blob, bloblen, &out, &outlen),
	    JIT_ERR_UNSEALED);
	free(blob);
}
END_TEST

START_TEST(seal_hostile_cost)
{
	/* A crafted header asking for absurd argon2 cost is refused. */
	struct seal_key sk = { .mode = SEAL_PASSPHRASE, .passphrase = "x" };
	uint8_t blob[8 + 1 + 8 + 8 + 16 + 24 + 40];
	uint8_t *out = NULL;
	size_t outlen;

	memset(blob, 0, sizeof(blob));
	memcpy(blob, "JITSEAL1", 8);
	blob[8] = 1;
	memset(blob + 9, 0xff, 16);	/* ops and mem = 2^64-1 */
	ck_assert_int_eq(seal_decode(&sk, "p", blob, sizeof(blob), &out,
	    &outlen), JIT_ERR_INVALID_FORMAT);
}
END_TEST

START_TEST(fileio_cases)
{
	char *dir = tu_mkdtemp("fileio"), *p = tu_path(dir, "f"),
	    *l = tu_path(dir, "l");
	uint8_t *d = NULL;
	size_t len;
	struct stat st;

	ck_assert_int_eq(fileio_write_new(p, "abc", 3, 0600), JIT_OK);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(fileio_write_new(p, "x", 1, 0600), JIT_ERR_EXISTS);
	ck_assert_int_eq(fileio_read(p, 3, FILEIO_PRIVATE, &d, &len), JIT_OK);
	ck_assert_int_eq(len, 3);
	ck_assert_str_eq((char *)d, "abc");
	freezero(d, len + 1);
	ck_assert_int_eq(fileio_read(p, 2, 0, &d, &len), JIT_ERR_LIMIT);
	ck_assert_int_eq(symlink(p, l), 0);
	ck_assert_int_eq(fileio_read(l, 10, FILEIO_NOFOLLOW, &d, &len),
	    JIT_ERR_PERMISSION);
	ck_assert_int_eq(fileio_write_new(l, "x", 1, 0600), JIT_ERR_EXISTS);
	chmod(p, 0644);
	ck_assert_int_eq(fileio_read(p, 10, FILEIO_PRIVATE, &d, &len),
	    JIT_ERR_PERMISSION);
	ck_assert_int_eq(fileio_write_atomic(p, "new", 3, 0600), JIT_OK);
	ck_assert_int_eq(fileio_read(p, 10, FILEIO_PRIVATE, &d, &len), JIT_OK);
	ck_assert_str_eq((char *)d, "new");
	freezero(d, len + 1);
	ck_assert_int_eq(fileio_read(dir, 10, 0, &d, &len),
	    JIT_ERR_INVALID_ARG);
	ck_assert_int_eq(fileio_read("/nonexistent/x", 10, 0, &d, &len),
	    JIT_ERR_NOT_FOUND);
	tu_rmdir(dir);
	free(dir);
	free(p);
	free(l);
}
END_TEST

/* One safetext_term case: input, expected output. */
static void
term_is(const char *in, const char *want)
{
	char *got = safetext_term(in);

	ck_assert_ptr_nonnull(got);
	ck_assert_msg(strcmp(got, want) == 0, "safetext_term: got \"%s\", "
	    "want \"%s\"", got, want);
	free(got);
}

START_TEST(safetext_terminal)
{
	/* Plain text, including non-ASCII letters and emoji, is kept. */
	term_is("ops ticket INC-42", "ops ticket INC-42");
	term_is("caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x94\x91",
	    "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x94\x91");
	term_is(NULL, "");
	/* Terminal escapes and line tricks. */
	term_is("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m");
	term_is("a\rb\bc\nd\te\x7f", "a\\x0db\\x08c\\x0ad\\x09e\\x7f");
	term_is("\x1b]0;title\x07", "\\x1b]0;title\\x07");
	/* C1 controls (CSI as U+009B), bidi controls, invisible ones. */
	term_is("\xc2\x9b" "31m", "\\u009b31m");
	term_is("approve \xe2\x80\xae" "yned", "approve \\u202eyned");
	term_is("\xe2\x81\xa6x\xe2\x81\xa9 \xe2\x80\x8e\xe2\x80\x8f",
	    "\\u2066x\\u2069 \\u200e\\u200f");
	term_is("\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad",
	    "\\u202a\\u202b\\u202c\\u202d");
	term_is("\xe2\x81\xa7\xe2\x81\xa8 \xd8\x9c \xef\xbb\xbf",
	    "\\u2067\\u2068 \\u061c \\ufeff");
	term_is("\xe2\x80\xa8\xe2\x80\x8b", "\\u2028\\u200b");
	term_is("\xf3\xa0\x80\x81tag", "\\U000e0001tag");
	/* Bytes that are not UTF-8: overlong, surrogate, truncated, stray. */
	term_is("\xc0\xaf", "\\xc0\\xaf");
	term_is("\xed\xa0\x80", "\\xed\\xa0\\x80");
	term_is("x\xe2\x80", "x\\xe2\\x80");
	term_is("\x80\xff", "\\x80\\xff");
	term_is("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");
	ck_assert(safetext_is_unsafe(0x202e));
	ck_assert(safetext_is_unsafe(0x1b));
	ck_assert(!safetext_is_unsafe('a'));
	ck_assert(!safetext_is_unsafe(0xe9));
}
END_TEST

START_TEST(safetext_logline)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	safetext_log(f, "a\"b\\c\nd\x1b[0m\xe2\x80\xae");
	safetext_log(f, NULL);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_str_eq(buf, "a\\x22b\\x5cc\\x0ad\\x1b[0m\\xe2\\x80\\xae");
	free(buf);
}
END_TEST

static int
depth_of(const char *s)
{
	return safetext_json_depth(s, strlen(s), JIT_JSON_DEPTH_MAX);
}

START_TEST(safetext_depth)
{
	char deep[256];
	int i;

	ck_assert_int_eq(depth_of("1"), 0);
	ck_assert_int_eq(depth_of("{}"), 1);
	ck_assert_int_eq(depth_of("{\"a\":[1,{\"b\":[]}],\"c\":{}}"), 4);
	/* Brackets inside strings, escaped quotes, escaped backslashes. */
	ck_assert_int_eq(depth_of("{\"a\":\"[[[{{{\"}"), 1);
	ck_assert_int_eq(depth_of("{\"a\":\"\\\"[[[\"}"), 1);
	ck_assert_int_eq(depth_of("{\"a\":\"\\\\\",\"b\":[[]]}"), 3);
	/* Exactly the limit passes; one more does not, and it stops early. */
	for (i = 0; i < JIT_JSON_DEPTH_MAX; i++)
		deep[i] = '[';
	for (i = 0; i < JIT_JSON_DEPTH_MAX; i++)
		deep[JIT_JSON_DEPTH_MAX + i] = ']';
	deep[2 * JIT_JSON_DEPTH_MAX] = '\0';
	ck_assert_int_eq(depth_of(deep), JIT_JSON_DEPTH_MAX);
	memmove(deep + 1, deep, strlen(deep) + 1);
	deep[0] = '{';
	ck_assert_int_eq(depth_of(deep), JIT_JSON_DEPTH_MAX + 1);
	/* Malformed text: closers never go below zero. */
	ck_assert_int_eq(depth_of("]]]]{"), 1);
	ck_assert_int_eq(safetext_json_depth("[[[", 2, 10), 2);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("common");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	if (sodium_init() < 0)
		return 1;
	tcase_add_test(tc, buf_roundtrip);
	tcase_add_test(tc, buf_ceiling);
	tcase_add_test(tc, buf_giant_and_truncated_lengths);
	tcase_add_test(tc, buf_mpint);
	tcase_add_test(tc, b64_cases);
	tcase_add_test(tc, duration_cases);
	tcase_add_test(tc, seal_modes);
	tcase_add_test(tc, seal_hostile_cost);
	tcase_add_test(tc, fileio_cases);
	tcase_add_test(tc, safetext_terminal);
	tcase_add_test(tc, safetext_logline);
	tcase_add_test(tc, safetext_depth);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
