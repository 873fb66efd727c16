/*
 * Looks for secret byte strings in this process's own memory (every
 * readable mapping of /proc/self/mem), for the tests that show the CA keys
 * are not in the HTTP side's memory.  A needle is kept masked (secret XOR
 * a random pad) so that the scanner never holds the plain secret it looks
 * for and cannot find itself.
 */
#ifndef JIT_TESTS_MEMSCAN_H
#define JIT_TESTS_MEMSCAN_H

#include <stddef.h>
#include <stdint.h>

#define MS_NEEDLE_MAX	64

struct ms_needle {
	const char	*name;
	size_t		 len;
	uint8_t		 masked[MS_NEEDLE_MAX];
	uint8_t		 pad[MS_NEEDLE_MAX];
};

/* Masks len bytes of secret into n (the caller then wipes secret). */
void ms_needle_set(struct ms_needle *n, const char *name,
    const uint8_t *secret, size_t len);

/*
 * Scans every readable mapping of this process (skipping [vvar],
 * [vsyscall] and mappings over 1 GiB, the sanitizers' shadow) and counts
 * the occurrences of each needle in found[i].  Returns the number of
 * bytes scanned.
 */
size_t ms_scan_self(const struct ms_needle *n, size_t nn, size_t *found);

/*
 * Reads the Ed25519 seeds and the X.509 private scalar of a CA directory
 * sealed with the key file sealkey (as jitd and ca_save write them) into
 * needles: [0] user seed, [1] host seed, [2] X.509 scalar big-endian,
 * [3] the same little-endian (how a BIGNUM holds it on x86_64).
 */
#define MS_CA_NEEDLES	4
void ms_ca_needles(const char *cadir, const char *sealkey,
    struct ms_needle n[MS_CA_NEEDLES]);

#endif
