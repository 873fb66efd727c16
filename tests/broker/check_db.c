/*
 * broker/db.c without a server: what db_target_display shows of a
 * PostgreSQL target never holds its password.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "broker/db.h"

static const struct {
	const char	*in;
	const char	*out;
	const char	*secret;
} shown[] = {
	{ "postgresql://jitd:s3cret@db.example/jitd",
	  "postgresql://jitd@db.example/jitd", "s3cret" },
	{ "postgresql://jitd@db.example:5432/jitd",
	  "postgresql://jitd@db.example:5432/jitd", NULL },
	{ "postgresql://db.example:5432/jitd?sslmode=verify-full",
	  "postgresql://db.example:5432/jitd?sslmode=verify-full", NULL },
	/* An '@' in the query is not the end of the credentials. */
	{ "postgresql://db.example:5432/jitd?user=jitd@srv&password=s3cret",
	  "postgresql://db.example:5432/jitd?(options hidden)", "s3cret" },
	{ "postgresql://db.example:5432/jitd?password=p@s3cret",
	  "postgresql://db.example:5432/jitd?(options hidden)", "s3cret" },
	/* libpq decodes %-escapes in keywords too. */
	{ "postgresql://db.example/jitd?pass%77ord=s3cret",
	  "postgresql://db.example/jitd?(options hidden)", "s3cret" },
	{ "postgres:host=db password=s3cret",
	  "postgres:(conninfo with a password)", "s3cret" },
	{ "/var/lib/jitd/jitd.db", "/var/lib/jitd/jitd.db", NULL },
};

START_TEST(display_hides_password)
{
	char *s = db_target_display(shown[_i].in);

	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, shown[_i].out);
	if (shown[_i].secret != NULL)
		ck_assert_ptr_null(strstr(s, shown[_i].secret));
	free(s);
}
END_TEST

static Suite *
db_suite(void)
{
	Suite *s = suite_create("db");
	TCase *tc = tcase_create("display");

	tcase_add_loop_test(tc, display_hides_password, 0,
	    (int)(sizeof(shown) / sizeof(shown[0])));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(db_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
