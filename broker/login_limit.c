/* Rate limits on login attempts, checked before hashing (login_limit.h). */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/login_limit.h"
#include "broker/ratelimit.h"
#include "common/err.h"

#define RETRY_AFTER_MAX	3600

struct login_limit {
	struct rl_table	*ip;
	struct rl_table	*user;
	atomic_int	 hashing;	/* password hashes running now */
};

struct login_limit *
login_limit_new(void)
{
	struct login_limit *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	if ((l->ip = rl_table_new(LOGIN_LIMIT_SLOTS)) == NULL ||
	    (l->user = rl_table_new(LOGIN_LIMIT_SLOTS)) == NULL) {
		login_limit_free(l);
		return NULL;
	}
	atomic_init(&l->hashing, 0);
	return l;
}

void
login_limit_free(struct login_limit *l)
{
	if (l == NULL)
		return;
	rl_table_free(l->ip);
	rl_table_free(l->user);
	free(l);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The bucket key of a client address: the IPv4 address (also when it
 * comes IPv4-mapped), or the /64 of an IPv6 address, since anyone with
 * one IPv6 address usually has the whole /64.
 */
static size_t
ip_key(const char *ip, uint8_t key[9])
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, ip, &a4) == 1) {
		key[0] = 4;
		memcpy(key + 1, &a4, 4);
		return 5;
	}
	if (inet_pton(AF_INET6, ip, &a6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			key[0] = 4;
			memcpy(key + 1, a6.s6_addr + 12, 4);
			return 5;
		}
		key[0] = 6;
		memcpy(key + 1, a6.s6_addr, 8);
		return 9;
	}
	key[0] = 0;	/* no address: one shared bucket */
	return 1;
}

static void
limits_of(const struct config *cfg, struct rl_limit *ipl,
    struct rl_limit *userl)
{
	ipl->burst = cfg->login_ip_burst;
	ipl->per_minute = cfg->login_ip_per_minute;
	userl->burst = cfg->login_user_burst;
	userl->per_minute = cfg->login_user_per_minute;
}

static int
seconds(int64_t ms)
{
	int64_t s = (ms + 999) / 1000;

	return s < 1 ? 1 : s > RETRY_AFTER_MAX ? RETRY_AFTER_MAX : (int)s;
}

int
login_limit_admit(struct server *srv, const struct config *cfg,
    const char *ip, const char *user, int *retry_after)
{
	struct login_limit *l = srv->limits;
	struct rl_limit ipl, userl;
	uint8_t key[9];
	size_t klen;
	int64_t now, wait;

	*retry_after = 0;
	if (l == NULL)
		return JIT_OK;
	limits_of(cfg, &ipl, &userl);
	now = now_ms();
	klen = ip_key(ip != NULL ? ip : "", key);
	if ((wait = rl_take(l->ip, key, klen, &ipl, now)) > 0) {
		metrics_inc(&srv->metrics, M_THROTTLED_IP);
		*retry_after = seconds(wait);
		return JIT_ERR_RATE_LIMITED;
	}
	if (user != NULL && (wait = rl_take(l->user, user, strlen(user),
	    &userl, now)) > 0) {
		rl_give(l->ip, key, klen, &ipl, now);
		metrics_inc(&srv->metrics, M_THROTTLED_USER);
		*retry_after = seconds(wait);
		return JIT_ERR_RATE_LIMITED;
	}
	return JIT_OK;
}

void
login_limit_refund(struct server *srv, const struct config *cfg,
    const char *ip, const char *user)
{
	struct login_limit *l = srv->limits;
	struct rl_limit ipl, userl;
	uint8_t key[9];
	size_t klen;
	int64_t now;

	if (l == NULL)
		return;
	limits_of(cfg, &ipl, &userl);
	now = now_ms();
	klen = ip_key(ip != NULL ? ip : "", key);
	rl_give(l->ip, key, klen, &ipl, now);
	if (user != NULL)
		rl_give(l->user, user, strlen(user), &userl, now);
}

int
login_limit_hash_begin(struct server *srv, const struct config *cfg)
{
	struct login_limit *l = srv->limits;
	int n;

	if (l != NULL) {
		n = atomic_load(&l->hashing);
		do {
			if (n >= cfg->max_concurrent_hashes) {
				metrics_inc(&srv->metrics, M_THROTTLED_BUSY);
				return JIT_ERR_RATE_LIMITED;
			}
		} while (!atomic_compare_exchange_weak(&l->hashing, &n,
		    n + 1));
	}
	metrics_inc(&srv->metrics, M_PASSWORD_HASHES);
	return JIT_OK;
}

void
login_limit_hash_end(struct server *srv)
{
	if (srv->limits != NULL)
		atomic_fetch_sub(&srv->limits->hashing, 1);
}
