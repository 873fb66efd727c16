/*
 * Replays every fuzz harness's corpus (tests/fuzz/corpus/<name>/) under
 * the build's sanitizers, one check test per harness (SQLite fuzzcheck):
 * `make test` thus runs each seed and each past crash as a regression
 * test in both the release and the ASan+UBSan build.  The harnesses are
 * linked in under unique names (tests/fuzz/fuzz.h); a crash or an abort
 * of a round-trip invariant fails that harness's test.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <sodium.h>

#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/targets.h"

#define DECLARE(name)							\
	void name##_fuzz_init(void);					\
	int name##_fuzz_one(const uint8_t *data, size_t size);
FUZZ_TARGETS(DECLARE)

static void
replay(const char *name, void (*init)(void), fuzz_one_fn fn)
{
	const char *src = getenv("JIT_SRC");
	char dir[4096];
	long n;

	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s",
	    src != NULL ? src : ".", name);
	init();
	n = fuzz_replay_dir(dir, fn, getenv("FUZZ_VERBOSE") != NULL);
	ck_assert_msg(n >= 0, "cannot read corpus %s", dir);
	ck_assert_msg(n >= 3, "corpus %s has only %ld inputs", dir, n);
}

#define TEST(name)							\
	START_TEST(replay_##name)					\
	{								\
		replay(#name, name##_fuzz_init, name##_fuzz_one);	\
	}								\
	END_TEST
FUZZ_TARGETS(TEST)

/* Every tests/fuzz/NAME_fuzz.c is listed in targets.h. */
START_TEST(targets_complete)
{
	const char *src = getenv("JIT_SRC");
	static const char *const listed[] = {
#define NAME(name) #name,
		FUZZ_TARGETS(NAME)
#undef NAME
		NULL
	};
	char dir[4096], name[256];
	struct dirent *e;
	size_t len, i;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/tests/fuzz", src != NULL ? src : ".");
	ck_assert_ptr_nonnull(d = opendir(dir));
	while ((e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		if (len <= 7 || strcmp(e->d_name + len - 7, "_fuzz.c") != 0)
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(len - 7),
		    e->d_name);
		for (i = 0; listed[i] != NULL; i++)
			if (strcmp(listed[i], name) == 0)
				break;
		ck_assert_msg(listed[i] != NULL, "%s is not in "
		    "tests/fuzz/targets.h", e->d_name);
	}
	closedir(d);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("fuzz_replay");
	TCase *tc = tcase_create("corpus");
	SRunner *sr;
	int failed;

	if (sodium_init() < 0)
		return 1;
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, targets_complete);
#define ADD(name) tcase_add_test(tc, replay_##name);
	FUZZ_TARGETS(ADD)
#undef ADD
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
