/*
 * The login limits as units, on an injected clock: token buckets (burst,
 * exact refill, the wait they report, refunds), the table's fixed size
 * under a flood of new keys and which entries it evicts, the address keys
 * (IPv6 per /64, IPv4-mapped as IPv4) and the bound on concurrent
 * password hashes with its counters.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "broker/login_limit.h"
#include "broker/ratelimit.h"
#include "broker/server.h"
#include "common/err.h"

static const struct rl_limit five_per_min = { 3, 5 };

START_TEST(bucket_burst_and_refill)
{
	struct rl_table *t = rl_table_new(64);
	int64_t now = 1000000;
	int i;

	ck_assert_ptr_nonnull(t);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(rl_take(t, "k", 1, &five_per_min, now), 0);
	/* Empty: one token comes every 12 s at 5 a minute. */
	ck_assert_int_eq(rl_take(t, "k", 1, &five_per_min, now), 12000);
	ck_assert_int_eq(rl_take(t, "k", 1, &five_per_min, now + 11999), 1);
	ck_assert_int_eq(rl_take(t, "k", 1, &five_per_min, now + 12000), 0);
	ck_assert_int_eq(rl_take(t, "k", 1, &five_per_min, now + 12000),
	    12000);
	/*
	 * Refill is exact however often the bucket is asked: a flood that
	 * asks every millisecond does not stop it.
	 */
	for (i = 1; i < 12000; i++)
		ck_assert_int_gt(rl_take(t, "k", 1, &five_per_min,
		    now + 12000 + i), 0);
	ck_assert_int_eq(rl_take(t, "k", 1, &five_per_min, now + 24000), 0);
	/* A refund gives one token back, never more than the burst. */
	rl_give(t, "k", 1, &five_per_min, now + 24000);
	ck_assert_int_eq(rl_take(t, "k", 1, &five_per_min, now + 24000), 0);
	for (i = 0; i < 10; i++)
		rl_give(t, "k", 1, &five_per_min, now + 24000);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(rl_take(t, "k", 1, &five_per_min,
		    now + 24000), 0);
	ck_assert_int_gt(rl_take(t, "k", 1, &five_per_min, now + 24000), 0);
	/* Other keys have their own buckets; a long pause fills up. */
	ck_assert_int_eq(rl_take(t, "other", 5, &five_per_min, now), 0);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(rl_take(t, "k", 1, &five_per_min,
		    now + 3600000), 0);
	rl_table_free(t);
}
END_TEST

START_TEST(bucket_off)
{
	struct rl_table *t = rl_table_new(8);
	const struct rl_limit off = { 0, 1 };
	int i;

	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(rl_take(t, "x", 1, &off, 0), 0);
	ck_assert_uint_eq(rl_used(t), 0);
	rl_table_free(t);
}
END_TEST

START_TEST(table_bounded_under_flood)
{
	struct rl_table *t = rl_table_new(64);
	char key[32];
	int i;

	ck_assert_uint_eq(rl_size(t), 64);
	for (i = 0; i < 100000; i++) {
		snprintf(key, sizeof(key), "user%d", i);
		(void)rl_take(t, key, strlen(key), &five_per_min, i);
		ck_assert_uint_le(rl_used(t), 64);
	}
	ck_assert_uint_eq(rl_used(t), 64);
	rl_table_free(t);
}
END_TEST

/*
 * In a table of one set, a drained bucket outlives a flood of new keys
 * (each with tokens left): the flood cannot buy its way to a fresh
 * bucket by pushing the old one out.
 */
START_TEST(table_evicts_fullest_first)
{
	struct rl_table *t = rl_table_new(RL_WAYS);
	char key[32];
	int i;

	ck_assert_uint_eq(rl_size(t), RL_WAYS);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(rl_take(t, "victim", 6, &five_per_min, 0), 0);
	ck_assert_int_gt(rl_take(t, "victim", 6, &five_per_min, 0), 0);
	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "flood%d", i);
		ck_assert_int_eq(rl_take(t, key, strlen(key), &five_per_min,
		    1), 0);
	}
	ck_assert_int_gt(rl_take(t, "victim", 6, &five_per_min, 2), 0);
	rl_table_free(t);
}
END_TEST

static struct config *
limits_config(unsigned int ip_burst, unsigned int user_burst, int hashes)
{
	struct config *c = calloc(1, sizeof(*c));

	ck_assert_ptr_nonnull(c);
	c->login_ip_burst = ip_burst;
	c->login_ip_per_minute = 1;
	c->login_user_burst = user_burst;
	c->login_user_per_minute = 1;
	c->max_concurrent_hashes = hashes;
	return c;
}

START_TEST(address_keys)
{
	struct server srv;
	struct config *c = limits_config(1, 0, 1);
	int ra;

	memset(&srv, 0, sizeof(srv));
	ck_assert_ptr_nonnull(srv.limits = login_limit_new());
	/* One IPv6 /64 shares a bucket; the next /64 has its own. */
	ck_assert_int_eq(login_limit_admit(&srv, c, "2001:db8:1:2::1", NULL,
	    &ra), JIT_OK);
	ck_assert_int_eq(login_limit_admit(&srv, c, "2001:db8:1:2:ffff::9",
	    NULL, &ra), JIT_ERR_RATE_LIMITED);
	ck_assert_int_eq(ra, 60);
	ck_assert_int_eq(login_limit_admit(&srv, c, "2001:db8:1:3::1", NULL,
	    &ra), JIT_OK);
	/* IPv4 and the same address IPv4-mapped are one client. */
	ck_assert_int_eq(login_limit_admit(&srv, c, "192.0.2.7", NULL, &ra),
	    JIT_OK);
	ck_assert_int_eq(login_limit_admit(&srv, c, "::ffff:192.0.2.7", NULL,
	    &ra), JIT_ERR_RATE_LIMITED);
	ck_assert_int_eq(login_limit_admit(&srv, c, "192.0.2.8", NULL, &ra),
	    JIT_OK);
	/* A success gives the token back. */
	login_limit_refund(&srv, c, "192.0.2.8", NULL);
	ck_assert_int_eq(login_limit_admit(&srv, c, "192.0.2.8", NULL, &ra),
	    JIT_OK);
	ck_assert_uint_eq(srv.metrics.c[M_THROTTLED_IP], 2);
	login_limit_free(srv.limits);
	free(c);
}
END_TEST

START_TEST(user_bucket_takes_nothing_on_refusal)
{
	struct server srv;
	struct config *c = limits_config(2, 1, 1);
	int ra;

	memset(&srv, 0, sizeof(srv));
	ck_assert_ptr_nonnull(srv.limits = login_limit_new());
	ck_assert_int_eq(login_limit_admit(&srv, c, "192.0.2.1", "root", &ra),
	    JIT_OK);
	/* The name is spent: refused, and the address keeps its token. */
	ck_assert_int_eq(login_limit_admit(&srv, c, "192.0.2.1", "root", &ra),
	    JIT_ERR_RATE_LIMITED);
	ck_assert_int_eq(login_limit_admit(&srv, c, "192.0.2.1", "alice",
	    &ra), JIT_OK);
	ck_assert_int_eq(login_limit_admit(&srv, c, "192.0.2.1", "bob", &ra),
	    JIT_ERR_RATE_LIMITED);
	ck_assert_uint_eq(srv.metrics.c[M_THROTTLED_USER], 1);
	ck_assert_uint_eq(srv.metrics.c[M_THROTTLED_IP], 1);
	login_limit_free(srv.limits);
	free(c);
}
END_TEST

START_TEST(hash_slots)
{
	struct server srv;
	struct config *c = limits_config(0, 0, 2);
	int ra;

	memset(&srv, 0, sizeof(srv));
	ck_assert_ptr_nonnull(srv.limits = login_limit_new());
	ck_assert_int_eq(login_limit_admit(&srv, c, "192.0.2.1", "x", &ra),
	    JIT_OK);
	ck_assert_int_eq(login_limit_hash_begin(&srv, c), JIT_OK);
	ck_assert_int_eq(login_limit_hash_begin(&srv, c), JIT_OK);
	ck_assert_int_eq(login_limit_hash_begin(&srv, c),
	    JIT_ERR_RATE_LIMITED);
	login_limit_hash_end(&srv);
	ck_assert_int_eq(login_limit_hash_begin(&srv, c), JIT_OK);
	login_limit_hash_end(&srv);
	login_limit_hash_end(&srv);
	ck_assert_uint_eq(srv.metrics.c[M_PASSWORD_HASHES], 3);
	ck_assert_uint_eq(srv.metrics.c[M_THROTTLED_BUSY], 1);
	/* Without limits (no tables) nothing is refused. */
	login_limit_free(srv.limits);
	srv.limits = NULL;
	ck_assert_int_eq(login_limit_admit(&srv, c, "192.0.2.1", "x", &ra),
	    JIT_OK);
	ck_assert_int_eq(login_limit_hash_begin(&srv, c), JIT_OK);
	login_limit_hash_end(&srv);
	free(c);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ratelimit");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	if (sodium_init() < 0)
		return 1;
	tcase_add_test(tc, bucket_burst_and_refill);
	tcase_add_test(tc, bucket_off);
	tcase_add_test(tc, table_bounded_under_flood);
	tcase_add_test(tc, table_evicts_fullest_first);
	tcase_add_test(tc, address_keys);
	tcase_add_test(tc, user_bucket_takes_nothing_on_refusal);
	tcase_add_test(tc, hash_slots);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
