/*
 * The signer process in jitd: an in-process jitd (tests/lib/jitfix.h,
 * "signer_process" on by default) issues an SSH certificate through its
 * signer process, and then this process, which is the jitd, holds no byte
 * of the CA keys (scanned through /proc/self/mem; ca/check_signer.c has
 * the control showing the same scan finds them in an in-process signer).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tests/lib/jitfix.h"
#include "tests/lib/memscan.h"
#include "tests/lib/testutil.h"

START_TEST(test_jitd_memory_has_no_ca_key)
{
	struct ms_needle nd[MS_CA_NEEDLES];
	size_t found[MS_CA_NEEDLES], scanned, i;
	char serial[32], *key, *line = NULL, *inst = tu_path(fx_tmp, "inst");
	char *cadir = tu_path(inst, "ca"), *sealkey = tu_path(inst, "ca.key");

	key = fx_keygen("id");
	(void)fx_grant_cert("short", 600, key, &line, serial);
	ck_assert(tu_contains(line, "ssh-ed25519-cert-v01@openssh.com"));
	ms_ca_needles(cadir, sealkey, nd);
	scanned = ms_scan_self(nd, MS_CA_NEEDLES, found);
	ck_assert_uint_gt(scanned, 1024 * 1024);
	for (i = 0; i < MS_CA_NEEDLES; i++)
		ck_assert_msg(found[i] == 0, "%s found %zu times in jitd's "
		    "memory (%zu bytes scanned)", nd[i].name, found[i],
		    scanned);
	free(line);
	free(key);
	free(inst);
	free(cadir);
	free(sealkey);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("signer_broker");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	if (sodium_init() < 0)
		return 1;
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_add_test(tc, test_jitd_memory_has_no_ca_key);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
