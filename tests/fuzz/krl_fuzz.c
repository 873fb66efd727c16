/*
 * Key revocation lists: krlr_parse (common/krl_read.h) without keys and
 * with the init CA's key, and ca_krl_parse.  Round trip as OpenSSH's
 * krl_fuzz.cc: serials taken from the input are written with
 * ca_krl_build (signed or not), parsed back, and exactly they are revoked.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ca/ca.h"
#include "ca/krl.h"
#include "common/err.h"
#include "common/krl_read.h"
#include "tests/fuzz/fuzz.h"

#define KRL_FUZZ_SERIALS	256

static struct ca *fuzz_ca;

FUZZ_INIT(krl)
{
	if (fuzz_ca != NULL)
		return;
	FUZZ_ASSERT(sodium_init() >= 0);
	FUZZ_ASSERT(ca_generate("fuzz CA", 30, &fuzz_ca) == JIT_OK);
}

static void
parse_input(const uint8_t *data, size_t size, const uint8_t *pk)
{
	const uint8_t (*cas)[32] = (const uint8_t (*)[32])pk;
	struct krlr *k = NULL;
	struct ca_krl *ck = NULL;
	size_t ulen;

	if (krlr_parse(data, size, NULL, 0, &k) == JIT_OK) {
		ulen = krlr_unsigned_len(k);
		FUZZ_ASSERT(ulen <= size);
		(void)krlr_is_revoked(k, pk, 1);
		(void)krlr_count(k);
		krlr_free(k);
		/* The unsigned prefix is itself a valid KRL. */
		k = NULL;
		FUZZ_ASSERT(krlr_parse(data, ulen, NULL, 0, &k) == JIT_OK);
		FUZZ_ASSERT(!krlr_is_signed(k));
		krlr_free(k);
	}
	k = NULL;
	if (krlr_parse(data, size, cas, 1, &k) == JIT_OK)
		krlr_free(k);
	if (ca_krl_parse(data, size, NULL, &ck) == JIT_OK)
		ca_krl_free(ck);
}

static int
in_set(const uint64_t *s, size_t n, uint64_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == v)
			return 1;
	return 0;
}

static void
round_trip(const uint8_t *data, size_t size, const uint8_t *pk)
{
	const uint8_t (*cas)[32] = (const uint8_t (*)[32])pk;
	uint64_t serials[KRL_FUZZ_SERIALS], v;
	struct krlr *k = NULL;
	uint8_t *blob = NULL;
	size_t n = 0, len = 0, i;
	int sign;

	if (size < 1)
		return;
	sign = data[0] & 1;
	data++;
	size--;
	for (; size >= 8 && n < KRL_FUZZ_SERIALS; data += 8, size -= 8) {
		memcpy(&v, data, 8);
		/* Small values too, so that ranges form. */
		if ((v >> 56) == 0)
			v &= 0xffff;
		serials[n++] = v;
	}
	FUZZ_ASSERT(ca_krl_build(fuzz_ca, serials, n, 7, 1700000000, "fuzz",
	    sign, &blob, &len) == JIT_OK);
	FUZZ_ASSERT(krlr_parse(blob, len, sign ? cas : NULL, sign ? 1 : 0,
	    &k) == JIT_OK);
	FUZZ_ASSERT(krlr_version(k) == 7 && krlr_generated(k) == 1700000000);
	FUZZ_ASSERT(krlr_is_signed(k) == sign);
	for (i = 0; i < n; i++) {
		v = serials[i];
		if (v == 0)
			continue;
		FUZZ_ASSERT(krlr_is_revoked(k, pk, v));
		if (v + 1 != 0 && !in_set(serials, n, v + 1))
			FUZZ_ASSERT(!krlr_is_revoked(k, pk, v + 1));
		if (v - 1 != 0 && !in_set(serials, n, v - 1))
			FUZZ_ASSERT(!krlr_is_revoked(k, pk, v - 1));
	}
	if (!in_set(serials, n, 0xfedcba9876543210ULL))
		FUZZ_ASSERT(!krlr_is_revoked(k, pk, 0xfedcba9876543210ULL));
	krlr_free(k);
	free(blob);
}

FUZZ_TARGET(krl)
{
	const uint8_t *pk = ca_ssh_pubkey(fuzz_ca, CA_SLOT_SSH_USER);

	parse_input(data, size, pk);
	round_trip(data, size, pk);
	return 0;
}
