/*
 * make bench: password + TOTP logins per second through POST /v1/login of
 * the real bin/jitd at 1, 8 and 64 concurrent keep-alive clients, with
 * p50/p99 latency, errors, and the daemon's peak RSS and descriptors.
 * A login is one argon2id verification (libsodium's interactive cost),
 * a TOTP check and a committed session row with its audit event, so its
 * ceiling is argon2id by design: the figure to look at is that the rate
 * holds and nothing fails as clients pile up.  Baseline in the same run:
 * raw crypto_pwhash_str_verify of the same hash, on one thread and on one
 * thread per core.
 *
 * Every login needs a fresh TOTP step for its user (a code is accepted
 * once), so the benchmark creates BENCH_LOGIN_USERS users (default 2000)
 * through the broker's store, exactly as `jitd user add` does but with one
 * argon2id hash and one TOTP secret shared by all, and gives each login
 * the next unused user.
 *
 * jitd runs with its login limits except the per-address bucket and the
 * per-address connection cap (every client here is 127.0.0.1): at most
 * login_limits.max_concurrent_hashes (2) argon2id hashes run at once and
 * one more attempt gets 429 with Retry-After, which the clients honour
 * and then resend (counted apart; latency runs from the first try).
 *
 * env: BENCH_LOGIN_CLIENTS (default "1,8,64"), BENCH_SECS (default 5),
 *      BENCH_LOGIN_USERS (default 2000), BENCH_LOGIN_THREADS (jitd
 *      "threads", default 0: jitd's own default)
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "broker/instance.h"
#include "broker/password.h"
#include "broker/store.h"
#include "broker/totp.h"
#include "common/err.h"
#include "tests/bench/benchlib.h"
#include "tests/lib/testutil.h"

#define MAX_LEVELS	8

struct users {
	uint8_t		 secret[TOTP_SECRET_LEN];
	char		 pwhash[PASSWORD_HASH_MAX];
	long		 n;
	atomic_long	 next;
	struct bench_store *bs;
	/* For the insert job. */
	long		 from, to;
};

static int
users_tx(struct store_tx *tx, void *arg)
{
	struct users *us = arg;
	struct store_user u;
	long i;
	int r;

	for (i = us->from; i < us->to; i++) {
		memset(&u, 0, sizeof(u));
		snprintf(u.name, sizeof(u.name), "u%05ld", i);
		snprintf(u.groups, sizeof(u.groups), "eng");
		snprintf(u.pwhash, sizeof(u.pwhash), "%s", us->pwhash);
		if ((r = instance_totp_seal(us->bs->inst, u.name, us->secret,
		    sizeof(us->secret), u.totp_sealed, sizeof(u.totp_sealed),
		    &u.totp_sealed_len)) != JIT_OK ||
		    (r = store_tx_user_insert(tx, &u)) != JIT_OK ||
		    (r = store_tx_audit(tx, "cli:bench", "user.add", u.name,
		    "ok", NULL)) != JIT_OK)
			return r;
	}
	return JIT_OK;
}

static void
make_users(struct bench_jitd *j, struct users *us)
{
	struct bench_store bs;

	if (totp_generate_secret(us->secret) != JIT_OK ||
	    password_hash(BENCH_PW, us->pwhash) != JIT_OK)
		bench_fatal("cannot make the shared secret and hash");
	bench_store_open(j, &bs);
	us->bs = &bs;
	for (us->from = 0; us->from < us->n; us->from = us->to) {
		us->to = us->from + 500 < us->n ? us->from + 500 : us->n;
		if (store_write(bs.store, users_tx, us) != JIT_OK)
			bench_fatal("cannot insert the users");
	}
	us->bs = NULL;
	bench_store_close(&bs);
}

/* The next unused user and the code of the current step. */
static int
login_body(void *arg, char *buf, size_t len)
{
	struct users *us = arg;
	long i = atomic_fetch_add(&us->next, 1);
	uint32_t code;

	if (i >= us->n)
		return -1;
	if (totp_code(us->secret, sizeof(us->secret),
	    (uint64_t)time(NULL) / 30, &code) != JIT_OK)
		return -1;
	snprintf(buf, len, "{\"user\":\"u%05ld\",\"password\":\"" BENCH_PW
	    "\",\"otp\":\"%06u\"}", i, code);
	return 0;
}

struct hash_ctx {
	const char	*hash;
	uint64_t	 t_end;
	long		 n;
	pthread_t	 th;
};

static void *
hash_main(void *arg)
{
	struct hash_ctx *h = arg;

	while (bench_now_ns() < h->t_end) {
		if (crypto_pwhash_str_verify(h->hash, BENCH_PW,
		    strlen(BENCH_PW)) != 0)
			bench_fatal("crypto_pwhash_str_verify failed");
		h->n++;
	}
	return NULL;
}

/* Baseline: verifications of hash per second on nthreads threads. */
static double
argon2_rate(const char *hash, int nthreads, double secs)
{
	struct hash_ctx h[16];
	uint64_t t0 = bench_now_ns();
	long n = 0;
	int i;

	for (i = 0; i < nthreads; i++) {
		memset(&h[i], 0, sizeof(h[i]));
		h[i].hash = hash;
		h[i].t_end = t0 + (uint64_t)(secs * 1e9);
		if (pthread_create(&h[i].th, NULL, hash_main, &h[i]) != 0)
			bench_fatal("pthread_create");
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(h[i].th, NULL);
		n += h[i].n;
	}
	return (double)n / ((double)(bench_now_ns() - t0) / 1e9);
}

int
main(void)
{
	int levels[MAX_LEVELS], nlevels, i, threads, ncpu, fds_idle, st;
	struct bench_result res[MAX_LEVELS];
	struct curl_slist *hdrs = NULL;
	struct bench_load ld;
	struct bench_jitd j;
	struct users us;
	double r1, rn, secs;
	const char *base, *fsname;
	long ok_total = 0, bad_total = 0, rss_idle, logins;
	uint64_t t_begin = bench_now_ns();
	json_t *c;

	bench_set_name("bench_login");
	if ((nlevels = bench_parse_levels(bench_env_str("BENCH_LOGIN_CLIENTS",
	    "1,8,64"), levels, MAX_LEVELS)) == 0)
		bench_fatal("BENCH_LOGIN_CLIENTS: a list like 1,8,64");
	secs = (double)bench_env_long("BENCH_SECS", 5, 1, 60);
	threads = (int)bench_env_long("BENCH_LOGIN_THREADS", 0, 0, 64);
	memset(&us, 0, sizeof(us));
	us.n = bench_env_long("BENCH_LOGIN_USERS", 2000, 10, 100000);
	ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu < 1 || ncpu > 16)
		ncpu = ncpu < 1 ? 1 : 16;
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	base = bench_pick_base(&fsname);
	bench_jitd_init(&j, "bench-login");
	c = bench_cfg_load(&j);
	/*
	 * Every client is 127.0.0.1: no per-address login bucket and no
	 * per-address connection cap.  The bound on concurrent argon2id
	 * hashes stays at its default (2): the clients wait out its 429.
	 */
	json_object_set_new(c, "login_limits", json_pack("{s:i}", "ip_burst",
	    0));
	json_object_set_new(c, "connections", json_pack("{s:i,s:i}", "max",
	    4096, "per_ip", 4096));
	if (threads > 0)
		json_object_set_new(c, "threads", json_integer(threads));
	bench_cfg_save(&j, c);
	make_users(&j, &us);

	/* Baselines: the same hash verified without jitd around it. */
	r1 = argon2_rate(us.pwhash, 1, 3.0);
	rn = argon2_rate(us.pwhash, ncpu, 3.0);

	bench_jitd_start(&j);
	usleep(300000);
	rss_idle = bench_proc_kb(j.pid, "VmRSS");
	fds_idle = bench_proc_fds(j.pid);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:");
	memset(&ld, 0, sizeof(ld));
	{
		char *u = bench_url(&j, "/v1/login");

		ld.url = u;
	}
	ld.hdrs = hdrs;
	ld.make_body = login_body;
	ld.arg = &us;
	ld.want = 200;
	ld.retry_status = 429;
	ld.warm = 2;	/* longer than the 64-client latency */
	ld.secs = secs;
	ld.pid = j.pid;
	for (i = 0; i < nlevels; i++) {
		bench_load_run(&ld, levels[i], &res[i]);
		ok_total += res[i].ok_all;
		bad_total += res[i].bad_all;
		usleep(200000);
	}
	logins = atomic_load(&us.next);
	st = bench_jitd_stop(&j);

	printf("bench_login: POST /v1/login (password argon2id + TOTP, session "
	    "row + audit event committed), 127.0.0.1\n");
	printf("  jitd \"threads\": %s, argon2id opslimit %llu, memlimit %zu "
	    "MiB (libsodium interactive)\n", threads > 0 ? "as set" :
	    "its default", (unsigned long long)
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    (size_t)crypto_pwhash_MEMLIMIT_INTERACTIVE >> 20);
	printf("  instance on %s (%s), %g s per level after 2 s warm-up, "
	    "%d cores, %ld users\n", base, fsname, secs, ncpu, us.n);
	printf("  %-46s %8.1f /s\n", "raw argon2id verify, 1 thread (baseline)",
	    r1);
	printf("  %-46s %8.1f /s\n", "raw argon2id verify, 1 thread per core "
	    "(baseline)", rn);
	printf("  %-46s %6.1f MB RSS, %d fds\n", "jitd idle (baseline)",
	    rss_idle / 1024.0, fds_idle);
	printf("  %7s %8s %7s %8s %8s %8s %6s %6s %5s %7s %5s\n", "clients",
	    "logins/s", "/argon", "p50 ms", "p99 ms", "max ms", "errors",
	    "429s", "jitd", "peakMB", "fds");
	for (i = 0; i < nlevels; i++)
		printf("  %7d %8.1f %7.2f %8.1f %8.1f %8.1f %6ld %6ld %5.2f "
		    "%7.1f %5d\n", res[i].clients, res[i].rate, res[i].rate /
		    rn, res[i].p50, res[i].p99, res[i].pmax, res[i].bad_all,
		    res[i].retried, res[i].srv_cpu / secs,
		    res[i].peak_rss_kb / 1024.0, res[i].peak_fds);
	printf("  (/argon: ratio to raw argon2id with one thread per core; "
	    "errors: answers other than\n   200 and 429, or transport errors, "
	    "over the whole level; 429s: \"busy\" answers,\n   retried after "
	    "Retry-After, latency counted from the first try; jitd: cores "
	    "busy;\n   peakMB: VmHWM over the level)\n");
	for (i = 0; i < nlevels; i++)
		if (res[i].bad_all > 0)
			printf("  %d clients: %ld errors, first status %ld\n",
			    res[i].clients, res[i].bad_all,
			    res[i].first_bad_status);
	printf("  %ld logins sent (%ld users), %ld ok, %ld errors; jitd exit "
	    "%d%s\n", logins > us.n ? us.n : logins, us.n, ok_total,
	    bad_total, st, logins >= us.n ? "; USER POOL RAN OUT: raise "
	    "BENCH_LOGIN_USERS" : "");
	printf("  total %.0f s\n", (double)(bench_now_ns() - t_begin) / 1e9);
	bench_print_load();
	curl_slist_free_all(hdrs);
	free((char *)ld.url);
	curl_global_cleanup();
	bench_jitd_free(&j);
	sodium_memzero(us.secret, sizeof(us.secret));
	return bad_total > 0 || st != 0 || logins >= us.n;
}
