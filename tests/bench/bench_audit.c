/*
 * make bench: the audit log at scale.  One instance's log grows through
 * the sizes of BENCH_AUDIT_EVENTS (default "1000000 10000000"), smallest
 * first.  The events are written through the broker's own store
 * (store_tx_audit inside jobs of BENCH_AUDIT_BATCH events, default 10000,
 * each committed by the group-commit writer, which chains every event and
 * signs a checkpoint after each commit that took the log past
 * audit_checkpoint_every = 1000 events, so one checkpoint per job here),
 * with the store's injectable clock spreading them over the past year.
 * The mix looks like a busy deployment: 1000 users, 70% cert.issue,
 * logins, requests, approvals, step-ups, failures, and one rare actor.
 *
 * Then, beside a same-run baseline of raw SHA-256 over the same bytes
 * (prev_hash || canonical event, a sample of the log's own events):
 *   - `jitd audit verify` (reads the database) in events/s;
 *   - GET /v1/audit/export to a file (what `jit audit export` does) and
 *     `jit audit verify FILE --key audit.pub`, in events/s;
 *   - GET /v1/audit latency with filters (docs/API.md), p50/p99 over
 *     BENCH_AUDIT_ROUNDS rounds, beside GET /v1/me on the same connection.
 * Timings are printed, never asserted; the run fails if a verification
 * does not say the log is intact.
 *
 * env: BENCH_AUDIT_EVENTS (sizes, default "1000000 10000000"),
 *      BENCH_AUDIT_BATCH (events per commit while building, default
 *      10000; 1000 gives production's checkpoint spacing but builds
 *      several times slower), BENCH_AUDIT_ROUNDS (default 20; a
 *      query stops earlier after 3 rounds once it has taken 15 s)
 */
#include <sys/stat.h>

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "broker/store.h"
#include "common/audit_chain.h"
#include "common/clock.h"
#include "common/err.h"
#include "tests/bench/benchlib.h"
#include "tests/lib/testutil.h"

#define SPAN_S		(365LL * 86400)
#define NUSERS		1000
#define SAMPLE_MAX	100000
#define MAX_SIZES	4
#define QUERY_CAP_NS	15000000000ULL

static _Atomic int64_t sim_ts;

static int64_t
sim_now(void)
{
	return atomic_load(&sim_ts);
}

static uint64_t
mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* One generated event; the strings live in the struct. */
struct gen {
	char	 actor[32], action[32], target[48], outcome[16];
	json_t	*details;
};

static void
gen_event(uint64_t seq, int64_t ts, struct gen *g)
{
	uint64_t r = mix64(seq), req = seq / 20 + 1;
	unsigned a = (unsigned)((r >> 20) % 100);
	char fp[64], serial[24];
	uint8_t h[32];
	int k;

	if (seq % 1000000 == 500000)
		snprintf(g->actor, sizeof(g->actor), "rare-auditor");
	else
		snprintf(g->actor, sizeof(g->actor), "user%04u",
		    (unsigned)(r % NUSERS));
	snprintf(g->outcome, sizeof(g->outcome), "ok");
	snprintf(g->target, sizeof(g->target), "request:%llu",
	    (unsigned long long)req);
	if (a < 70) {
		snprintf(g->action, sizeof(g->action), "cert.issue");
		for (k = 0; k < 4; k++) {
			uint64_t v = mix64(r + (uint64_t)k);

			memcpy(h + 8 * k, &v, 8);
		}
		sodium_bin2base64(fp, sizeof(fp), h, sizeof(h),
		    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
		snprintf(serial, sizeof(serial), "%llu",
		    (unsigned long long)(mix64(r) >> 1));
		g->details = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I}", "kind",
		    "ssh", "serial", serial, "fingerprint", fp, "subject",
		    "web,deploy", "valid_after", (json_int_t)ts - 60,
		    "valid_before", (json_int_t)ts + 300);
	} else if (a < 85 || a >= 98) {
		snprintf(g->action, sizeof(g->action), "login");
		snprintf(g->target, sizeof(g->target), "%s", g->actor);
		if (a >= 98)
			snprintf(g->outcome, sizeof(g->outcome), "failed");
		g->details = json_pack("{s:s,s:s}", "ip", "127.0.0.1",
		    "reason", a >= 98 ? "wrong password" : "ok");
	} else if (a < 90) {
		snprintf(g->action, sizeof(g->action), "request.create");
		g->details = json_pack("{s:s,s:s,s:I}", "role", "prod-ssh",
		    "reason", "INC-4711 database failover check", "duration",
		    (json_int_t)1800);
	} else if (a < 95) {
		snprintf(g->action, sizeof(g->action), "request.approve");
		g->details = json_pack("{s:s,s:i}", "comment", "ok",
		    "approvals", 1);
	} else {
		snprintf(g->action, sizeof(g->action), "mfa.stepup");
		snprintf(g->target, sizeof(g->target), "%s", g->actor);
		g->details = json_pack("{s:s,s:s}", "ip", "127.0.0.1",
		    "reason", "ok");
	}
	if (g->details == NULL)
		bench_fatal("json_pack");
}

struct build_job {
	uint64_t	from, to;	/* seq range [from, to) */
};

static int
build_tx(struct store_tx *tx, void *arg)
{
	struct build_job *b = arg;
	struct gen g;
	uint64_t s;
	int r;

	for (s = b->from; s < b->to; s++) {
		gen_event(s, store_tx_now(tx), &g);
		r = store_tx_audit(tx, g.actor, g.action, g.target, g.outcome,
		    g.details);
		json_decref(g.details);
		if (r != JIT_OK)
			return r;
	}
	return JIT_OK;
}

/* One instance whose log grows through the sizes, smallest first. */
struct run {
	struct bench_jitd j;
	char		 b32[64];	/* carol, the auditor */
	char		*tok;		/* her session, kept across sizes */
	int64_t		 base;		/* time of the first generated event */
	uint64_t	 nmax;		/* the largest size: spans SPAN_S */
	uint64_t	 written;	/* generated events so far */
	uint64_t	 head;		/* highest seq after the last build */
	uint64_t	 batch;		/* events per job (and per commit) */
};

/* The simulated time of generated event i (1-based). */
static int64_t
gen_ts(const struct run *r, uint64_t i)
{
	return r->base + (int64_t)((double)(i - 1) * (double)SPAN_S /
	    (double)r->nmax);
}

/*
 * Appends generated events through the store until n of them exist.
 * Returns the seconds taken.
 */
static double
build_log(struct run *r, uint64_t n)
{
	struct bench_store bs;
	struct build_job b;
	uint64_t t0 = bench_now_ns(), next_report;
	int rc;

	jit_clock_set(sim_now);
	atomic_store(&sim_ts, gen_ts(r, r->written + 1));
	bench_store_open(&r->j, &bs);
	next_report = (r->written / 1000000 + 1) * 1000000;
	for (b.from = r->written + 1; b.from <= n; b.from = b.to) {
		b.to = b.from + r->batch <= n + 1 ? b.from + r->batch :
		    n + 1;
		atomic_store(&sim_ts, gen_ts(r, b.from));
		if ((rc = store_write(bs.store, build_tx, &b)) != JIT_OK)
			bench_fatal("writing events: %s", jit_strerror(rc));
		if (b.to - 1 >= next_report) {
			fprintf(stderr, "bench_audit: %llu events written, "
			    "%.0f s\n", (unsigned long long)(b.to - 1),
			    (double)(bench_now_ns() - t0) / 1e9);
			next_report += 1000000;
		}
	}
	r->written = n;
	r->head = store_audit_head(bs.store);
	bench_store_close(&bs);	/* signs the last checkpoint */
	jit_clock_set(NULL);
	return (double)(bench_now_ns() - t0) / 1e9;
}

/*
 * Baseline: SHA-256 of prev_hash || canonical for the first events of the
 * same log (same generator, same sizes), repeated for about secs seconds.
 * Returns events/s; *bpe gets the mean bytes hashed per event.
 */
static double
sha_rate(const struct run *r, uint64_t n, double secs, double *bpe)
{
	size_t ns = n < SAMPLE_MAX ? (size_t)n : SAMPLE_MAX, i, total = 0;
	char **msg;
	size_t *len;
	uint8_t out[32];
	uint64_t t0, cnt = 0;
	struct audit_event ev;
	struct gen g;

	if ((msg = calloc(ns, sizeof(*msg))) == NULL ||
	    (len = calloc(ns, sizeof(*len))) == NULL)
		bench_fatal("calloc");
	for (i = 0; i < ns; i++) {
		char *c = NULL;
		size_t cl = 0;

		memset(&ev, 0, sizeof(ev));
		ev.seq = i + 1;
		ev.ts = gen_ts(r, i + 1);
		gen_event(ev.seq, ev.ts, &g);
		ev.actor = g.actor;
		ev.action = g.action;
		ev.target = g.target;
		ev.outcome = g.outcome;
		ev.details = g.details;
		if (audit_canonical(&ev, &c, &cl) != JIT_OK)
			bench_fatal("audit_canonical");
		json_decref(g.details);
		if ((msg[i] = malloc(32 + cl)) == NULL)
			bench_fatal("malloc");
		memset(msg[i], 0, 32);
		memcpy(msg[i] + 32, c, cl);
		len[i] = 32 + cl;
		total += len[i];
		free(c);
	}
	*bpe = (double)total / (double)ns;
	t0 = bench_now_ns();
	do {
		for (i = 0; i < ns; i++)
			crypto_hash_sha256(out, (uint8_t *)msg[i], len[i]);
		cnt += ns;
	} while (bench_now_ns() - t0 < (uint64_t)(secs * 1e9));
	secs = (double)(bench_now_ns() - t0) / 1e9;
	for (i = 0; i < ns; i++)
		free(msg[i]);
	free(msg);
	free(len);
	return (double)cnt / secs;
}

static size_t
to_file(char *data, size_t size, size_t n, void *arg)
{
	return fwrite(data, size, n, arg);
}

struct body {
	char	*p;
	size_t	 len;
};

static size_t
to_mem(char *data, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	char *q;

	if ((q = realloc(b->p, b->len + size * n + 1)) == NULL)
		return 0;
	b->p = q;
	memcpy(b->p + b->len, data, size * n);
	b->len += size * n;
	b->p[b->len] = '\0';
	return size * n;
}

struct qres {
	double	p50, p99;
	int	rounds;
	long	events;		/* in the answer */
	long	status;
};

/* GETs path rounds times on handle h; latency percentiles. */
static void
timed_get(CURL *h, const struct bench_jitd *j, const char *path, int rounds,
    struct qres *q)
{
	uint64_t lat[256], t0, spent = 0;
	struct body b;
	char *u = bench_url(j, path);
	json_t *js;
	int i;

	memset(q, 0, sizeof(*q));
	curl_easy_setopt(h, CURLOPT_URL, u);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_mem);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	for (i = 0; i < rounds && i < 256; i++) {
		memset(&b, 0, sizeof(b));
		t0 = bench_now_ns();
		if (curl_easy_perform(h) != CURLE_OK)
			bench_fatal("GET %s failed", path);
		lat[i] = bench_now_ns() - t0;
		spent += lat[i];
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &q->status);
		if (i == 0 && b.p != NULL &&
		    (js = json_loads(b.p, 0, NULL)) != NULL) {
			q->events = (long)json_array_size(json_object_get(js,
			    "events"));
			json_decref(js);
		}
		free(b.p);
		if (q->status != 200)
			bench_fatal("GET %s: %ld", path, q->status);
		if (i >= 2 && spent > QUERY_CAP_NS) {
			i++;
			break;
		}
	}
	q->rounds = i;
	bench_sort(lat, (size_t)i);
	q->p50 = bench_pct_ms(lat, (size_t)i, 0.50);
	q->p99 = bench_pct_ms(lat, (size_t)i, 0.99);
	free(u);
}

/* Runs argv, returns seconds; fails the run unless it says "intact". */
static double
timed_verify(char *const argv[], const char *what)
{
	uint64_t t0 = bench_now_ns();
	struct tu_out o;
	double s;

	if (tu_run(argv, NULL, NULL, 3600, &o) != 0)
		bench_fatal("cannot run %s", what);
	s = (double)(bench_now_ns() - t0) / 1e9;
	if (o.status != 0 || strstr(o.out, "intact") == NULL)
		bench_fatal("%s: %s%s", what, o.out, o.err);
	printf("    %s\n", strtok(o.out, "\n"));
	tu_out_free(&o);
	return s;
}

/* The query string of audit query k (see qs in bench_size). */
static void
query_string(size_t k, uint64_t n, int64_t mid, char *out, size_t len)
{
	switch (k) {
	case 0:
		snprintf(out, len, "after=%llu",
		    (unsigned long long)(n > 100 ? n - 100 : 0));
		break;
	case 1:
		snprintf(out, len, "%s", "");
		break;
	case 2:
		snprintf(out, len, "actor=user0042");
		break;
	case 3:
		snprintf(out, len, "action=request.approve");
		break;
	case 4:
		snprintf(out, len, "target=request:%llu",
		    (unsigned long long)(n / 40));
		break;
	case 5:
		snprintf(out, len, "since=%lld&until=%lld", (long long)mid,
		    (long long)mid + 86400);
		break;
	case 6:
		snprintf(out, len, "action=login&since=%lld", (long long)mid);
		break;
	default:
		snprintf(out, len, "actor=rare-auditor");
		break;
	}
}

static void
bench_size(struct run *r, uint64_t n, int rounds)
{
	char hdr[128], path[256], label[64], *exp, *pub, *u, *jit;
	struct bench_jitd *jp = &r->j;
	struct qres me, q;
	struct stat sb;
	int64_t mid;
	double t_build, sha, bpe, t_vd, t_exp, t_vj, ev;
	CURL *h;
	FILE *f;
	long status = 0;
	uint64_t t0, added = n - r->written;
	size_t k;
	static const char *const qs[] = {
		"newest page (after=head-100)",
		"oldest page, no filter",
		"actor=user0042",
		"action=request.approve",
		"target=request:<middle>",
		"since=<middle>&until=+1 day",
		"action=login&since=<middle>",
		"actor=rare-auditor (1 per 1M)",
	};

	t_build = build_log(r, n);
	ev = (double)r->head;
	printf("  -- %llu events (%llu generated, the rest from init, "
	    "logins, start and stop) --\n", (unsigned long long)r->head,
	    (unsigned long long)n);
	sha = sha_rate(r, n, 2.0, &bpe);
	if (stat(jp->db, &sb) != 0)
		bench_fatal("stat %s", jp->db);
	printf("  %-48s %9.0f events/s (%.0f MB/s, %.0f B/event)\n",
	    "raw SHA-256 of prev_hash||canonical (baseline)", sha,
	    sha * bpe / 1e6, bpe);
	snprintf(label, sizeof(label), "appended through the store, %llu per "
	    "commit", (unsigned long long)r->batch);
	printf("  %-48s %9.0f events/s  %5.3f of SHA-256  (%.0f s, db %.0f "
	    "MB)\n", label, (double)added / t_build, (double)added / t_build / sha, t_build,
	    (double)sb.st_size / 1e6);
	fflush(stdout);
	{
		char *av[] = { jp->bin, "-c", jp->cfg, "audit", "verify", NULL };

		t_vd = timed_verify(av, "jitd audit verify");
	}
	printf("  %-48s %9.0f events/s  %5.3f of SHA-256  (%.1f s)\n",
	    "jitd audit verify (database)", ev / t_vd,
	    ev / t_vd / sha, t_vd);
	fflush(stdout);

	bench_jitd_start(jp);
	/* One login: a TOTP code counts once per 30 s step. */
	if (r->tok == NULL)
		r->tok = bench_login(jp, "carol", r->b32);
	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", r->tok);
	if ((h = curl_easy_init()) == NULL)
		bench_fatal("curl_easy_init");
	{
		struct curl_slist *hl = curl_slist_append(NULL, hdr);

		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_TIMEOUT, 3600L);

		/* Export: what `jit audit export > FILE` does. */
		exp = tu_path(jp->tmp, "export.jsonl");
		if ((f = fopen(exp, "w")) == NULL)
			bench_fatal("fopen %s", exp);
		u = bench_url(jp, "/v1/audit/export");
		curl_easy_setopt(h, CURLOPT_URL, u);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_file);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, f);
		t0 = bench_now_ns();
		if (curl_easy_perform(h) != CURLE_OK)
			bench_fatal("export failed");
		t_exp = (double)(bench_now_ns() - t0) / 1e9;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		if (fclose(f) != 0 || status != 200 || stat(exp, &sb) != 0)
			bench_fatal("export: status %ld", status);
		free(u);
		printf("  %-48s %9.0f events/s  %5.3f of SHA-256  (%.1f s, "
		    "%.0f MB)\n", "GET /v1/audit/export to a file",
		    ev / t_exp, ev / t_exp / sha, t_exp,
		    (double)sb.st_size / 1e6);
		fflush(stdout);

		/* Query latency, beside GET /v1/me on the same connection. */
		timed_get(h, jp, "/v1/me", rounds, &me);
		printf("  %-40s %7s %9s %9s %7s %6s\n", "GET /v1/audit?…&limit=100",
		    "events", "p50 ms", "p99 ms", "/me p50", "rounds");
		printf("  %-40s %7s %9.2f %9.2f %7.1f %6d\n",
		    "GET /v1/me (baseline)", "-", me.p50, me.p99, 1.0,
		    me.rounds);
		mid = gen_ts(r, n / 2);
		for (k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
			char qq[128];

			query_string(k, r->head, mid, qq, sizeof(qq));
			snprintf(path, sizeof(path), "/v1/audit?%s%slimit=100",
			    qq, *qq != '\0' ? "&" : "");
			timed_get(h, jp, path, rounds, &q);
			printf("  %-40s %7ld %9.2f %9.2f %7.1f %6d\n",
			    qs[k], q.events, q.p50, q.p99,
			    me.p50 > 0 ? q.p50 / me.p50 : 0, q.rounds);
			fflush(stdout);
		}
		curl_easy_cleanup(h);
		curl_slist_free_all(hl);
	}
	if (bench_jitd_stop(jp) != 0)
		bench_fatal("jitd did not exit cleanly");

	/* The offline verifier on the export. */
	pub = tu_path(jp->inst, "audit.pub");
	jit = tu_bin("jit");
	{
		char *av[] = { jit, "audit", "verify", exp, "--key", pub,
		    NULL };

		t_vj = timed_verify(av, "jit audit verify");
	}
	printf("  %-48s %9.0f events/s  %5.3f of SHA-256  (%.1f s)\n",
	    "jit audit verify FILE --key audit.pub", ev / t_vj,
	    ev / t_vj / sha, t_vj);
	fflush(stdout);
	unlink(exp);
	free(exp);
	free(pub);
	free(jit);
}

int
main(void)
{
	uint64_t sizes[MAX_SIZES];
	const char *s;
	char *end;
	int nsizes = 0, rounds, i;
	uint64_t batch;
	uint64_t t_begin = bench_now_ns();
	const char *base, *fsname;
	struct run r;
	json_t *c;

	bench_set_name("bench_audit");
	s = bench_env_str("BENCH_AUDIT_EVENTS", "1000000 10000000");
	while (*s != '\0') {
		unsigned long long v;

		while (*s == ' ' || *s == ',')
			s++;
		if (*s == '\0')
			break;
		v = strtoull(s, &end, 10);
		if (end == s || v < 1000 || v > 100000000ULL ||
		    nsizes == MAX_SIZES)
			bench_fatal("BENCH_AUDIT_EVENTS: up to %d sizes of "
			    "1000..100000000 events", MAX_SIZES);
		if (nsizes > 0 && v <= sizes[nsizes - 1])
			bench_fatal("BENCH_AUDIT_EVENTS: sizes go up: the log "
			    "grows from one to the next");
		sizes[nsizes++] = v;
		s = end;
	}
	if (nsizes == 0)
		bench_fatal("BENCH_AUDIT_EVENTS is empty");
	rounds = (int)bench_env_long("BENCH_AUDIT_ROUNDS", 20, 3, 256);
	batch = (uint64_t)bench_env_long("BENCH_AUDIT_BATCH", 10000, 1, 100000);
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	base = bench_pick_base(&fsname);
	printf("bench_audit: audit log of N events in sqlite (WAL, "
	    "synchronous=FULL), instance on %s (%s), %ld cores\n", base,
	    fsname, sysconf(_SC_NPROCESSORS_ONLN));
	fflush(stdout);
	memset(&r, 0, sizeof(r));
	r.batch = batch;
	r.nmax = sizes[nsizes - 1];
	r.base = (int64_t)time(NULL) - SPAN_S - 3600;
	bench_jitd_init(&r.j, "bench-audit");
	c = bench_cfg_load(&r.j);
	json_object_set_new(c, "auditors", json_pack("[s]", "group:audit"));
	bench_cfg_save(&r.j, c);
	bench_jitd_user(&r.j, "carol", "audit", r.b32);
	for (i = 0; i < nsizes; i++)
		bench_size(&r, sizes[i], rounds);
	bench_jitd_free(&r.j);
	free(r.tok);
	printf("  total %.0f s\n", (double)(bench_now_ns() - t_begin) / 1e9);
	bench_print_load();
	curl_global_cleanup();
	return 0;
}
