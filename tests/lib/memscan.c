/* Scanning this process's memory for secrets (see memscan.h). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <sodium.h>

#include "common/err.h"
#include "common/seal.h"
#include "tests/lib/memscan.h"
#include "tests/lib/testutil.h"

#define CHUNK	(1024 * 1024)

void
ms_needle_set(struct ms_needle *n, const char *name, const uint8_t *secret,
    size_t len)
{
	size_t i;

	ck_assert_uint_le(len, MS_NEEDLE_MAX);
	n->name = name;
	n->len = len;
	randombytes_buf(n->pad, sizeof(n->pad));
	for (i = 0; i < len; i++)
		n->masked[i] = secret[i] ^ n->pad[i];
}

static int
match(const uint8_t *p, const struct ms_needle *n)
{
	size_t i;

	for (i = 0; i < n->len; i++)
		if ((uint8_t)(p[i] ^ n->pad[i]) != n->masked[i])
			return 0;
	return 1;
}

size_t
ms_scan_self(const struct ms_needle *n, size_t nn, size_t *found)
{
	FILE *maps;
	char line[512], perms[8], path[256];
	unsigned long lo, hi, a;
	uint8_t *buf;
	size_t i, k, got, lim, total = 0, over = 0;
	ssize_t r;
	int fd;

	for (k = 0; k < nn; k++) {
		found[k] = 0;
		if (n[k].len > over)
			over = n[k].len;
	}
	ck_assert_ptr_nonnull(buf = malloc(CHUNK + MS_NEEDLE_MAX));
	ck_assert_ptr_nonnull(maps = fopen("/proc/self/maps", "r"));
	ck_assert_int_ge(fd = open("/proc/self/mem", O_RDONLY), 0);
	while (fgets(line, sizeof(line), maps) != NULL) {
		path[0] = '\0';
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &lo, &hi,
		    perms, path) < 3 || perms[0] != 'r')
			continue;
		if (strcmp(path, "[vvar]") == 0 ||
		    strcmp(path, "[vsyscall]") == 0 ||
		    hi - lo > 1024UL * 1024 * 1024)
			continue;
		/* Chunks overlap by the longest needle. */
		for (a = lo; a < hi; a += CHUNK) {
			size_t want = hi - a;

			if (want > CHUNK + over)
				want = CHUNK + over;
			if ((r = pread(fd, buf, want, (off_t)a)) <= 0)
				continue;
			got = (size_t)r;
			lim = got < CHUNK ? got : CHUNK;
			total += lim;
			for (i = 0; i < lim; i++)
				for (k = 0; k < nn; k++)
					if (i + n[k].len <= got &&
					    match(buf + i, &n[k]))
						found[k]++;
		}
	}
	close(fd);
	fclose(maps);
	sodium_memzero(buf, CHUNK + MS_NEEDLE_MAX);
	free(buf);
	return total;
}

static uint8_t *
unseal(const char *cadir, const char *file, const char *purpose,
    const struct seal_key *sk, size_t *len)
{
	char *p = tu_path(cadir, file);
	uint8_t *d, *secret = NULL;
	size_t dlen;

	d = (uint8_t *)tu_read_file(p, &dlen);
	ck_assert_int_eq(seal_decode(sk, purpose, d, dlen, &secret, len),
	    JIT_OK);
	free(d);
	free(p);
	return secret;
}

void
ms_ca_needles(const char *cadir, const char *sealkey,
    struct ms_needle n[MS_CA_NEEDLES])
{
	static const uint8_t ecpriv[] = { 0x02, 0x01, 0x01, 0x04, 0x20 };
	struct seal_key sk;
	uint8_t *s, rev[32];
	size_t len, i, j;

	ck_assert_int_eq(seal_key_from_file(sealkey, &sk), JIT_OK);
	s = unseal(cadir, "user_ca.key", "ssh-user-ca", &sk, &len);
	ck_assert_uint_eq(len, 64);
	ms_needle_set(&n[0], "user CA Ed25519 seed", s, 32);
	sodium_free(s);
	s = unseal(cadir, "host_ca.key", "ssh-host-ca", &sk, &len);
	ck_assert_uint_eq(len, 64);
	ms_needle_set(&n[1], "host CA Ed25519 seed", s, 32);
	sodium_free(s);
	/* PKCS#8 wrapping an ECPrivateKey: version 1, OCTET STRING (32). */
	s = unseal(cadir, "x509_ca.key", "x509-ca", &sk, &len);
	for (i = 0; i + sizeof(ecpriv) + 32 <= len; i++)
		if (memcmp(s + i, ecpriv, sizeof(ecpriv)) == 0)
			break;
	ck_assert_uint_le(i + sizeof(ecpriv) + 32, len);
	ms_needle_set(&n[2], "X.509 CA scalar (big-endian)",
	    s + i + sizeof(ecpriv), 32);
	for (j = 0; j < 32; j++)
		rev[j] = s[i + sizeof(ecpriv) + 31 - j];
	ms_needle_set(&n[3], "X.509 CA scalar (BIGNUM limbs)", rev, 32);
	sodium_memzero(rev, sizeof(rev));
	sodium_free(s);
	seal_key_clear(&sk);
}
