/*
 * bench_replicas: certificate issuance through HTTP on sqlite, on
 * PostgreSQL with one jitd, and on PostgreSQL with two jitd replicas
 * sharing the database (clients split between them), all in one run on
 * one machine, next to the same-run raw signing baseline.  The PostgreSQL
 * cluster is a throwaway one (tests/lib/pgfix.c: initdb in a temporary
 * directory, durable commits like sqlite's synchronous=FULL, stopped by
 * PID).  Every figure is a ratio to a
 * same-run baseline; nothing is asserted but the records: rows and audit
 * events must match the 200 answers, and the audit chain must verify.
 *
 * Knobs: BENCH_SECS (5), BENCH_REPLICA_CLIENTS (64), BENCH_ISSUE_THREADS.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "tests/bench/benchlib.h"
#include "tests/lib/pgfix.h"
#include "tests/lib/testutil.h"

struct run {
	const char		*label;
	struct bench_result	 res;
	long			 rows, events, ok;
	int			 verified;
};

static long
pg_count(const char *uri, const char *sql)
{
	char *v = NULL, *err = NULL;
	long n = -1;

	if (pgfix_value(uri, sql, 0, NULL, &v, &err) == 0 && v != NULL)
		n = atol(v);
	free(v);
	free(err);
	return n;
}

static const char Q_ROWS[] = "SELECT count(*) FROM certs WHERE kind = 'ssh'";
static const char Q_EVENTS[] = "SELECT count(*) FROM audit WHERE action = "
    "'cert.issue' AND outcome = 'ok'";

/* A second replica: a copy of j's instance directory on another port. */
static void
replica_of(const struct bench_jitd *j, struct bench_jitd *r)
{
	char *av[5], l[64];
	struct tu_out o;
	json_t *c;

	memset(r, 0, sizeof(*r));
	r->tmp = tu_mkdtemp("bench-replica");
	r->inst = tu_path(r->tmp, "inst");
	r->cfg = tu_path(r->inst, "jitd.json");
	r->db = tu_path(r->inst, "jitd.db");
	r->log = tu_path(r->tmp, "jitd.log");
	r->bin = tu_bin("jitd");
	av[0] = "cp";
	av[1] = "-a";
	av[2] = j->inst;
	av[3] = r->inst;
	av[4] = NULL;
	if (tu_run(av, NULL, NULL, 60, &o) != 0 || o.status != 0)
		bench_fatal("cp: %s", o.err);
	tu_out_free(&o);
	r->port = tu_free_port();
	c = bench_cfg_load(r);
	snprintf(l, sizeof(l), "127.0.0.1:%d", r->port);
	json_object_set_new(c, "listen", json_string(l));
	bench_cfg_save(r, c);
}

/*
 * One measured configuration: database NULL (sqlite) or a PostgreSQL
 * URI; two replicas when replicas == 2.
 */
static void
measure(struct run *run, const char *database, int replicas, int clients,
    int threads, double secs)
{
	struct bench_jitd j, r2;
	struct curl_slist *hdrs = NULL;
	struct bench_load ld;
	struct tu_out o;
	char *alice, *certurl, *url2 = NULL, *body, auth[128], *path;

	bench_jitd_init_db(&j, "bench-replicas", database);
	bench_grant_configure(&j, threads);
	body = bench_grant_setup(&j, &certurl, &alice);
	if (replicas == 2) {
		replica_of(&j, &r2);
		bench_jitd_start(&r2);
		path = strstr(certurl + strlen("http://"), "/");
		url2 = bench_url(&r2, path);
	}
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", alice);
	hdrs = curl_slist_append(hdrs, auth);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:");
	memset(&ld, 0, sizeof(ld));
	ld.url = certurl;
	ld.url2 = url2;
	ld.hdrs = hdrs;
	ld.body = body;
	ld.want = 200;
	ld.warm = 1;
	ld.secs = secs;
	ld.pid = j.pid;
	bench_load_run(&ld, clients, &run->res);
	run->ok = run->res.ok_all + 1;	/* and the setup's certificate */
	if (replicas == 2)
		(void)bench_jitd_stop(&r2);
	(void)bench_jitd_stop(&j);
	if (database != NULL) {
		run->rows = pg_count(database, Q_ROWS);
		run->events = pg_count(database, Q_EVENTS);
	} else {
		run->rows = bench_sqlite_count(j.db, Q_ROWS);
		run->events = bench_sqlite_count(j.db, Q_EVENTS);
	}
	o = bench_jitd_run(&j, "audit", "verify", NULL);
	run->verified = o.status == 0;
	if (!run->verified)
		fprintf(stderr, "%s: audit verify: %s%s\n", run->label, o.out,
		    o.err);
	tu_out_free(&o);
	if (replicas == 2) {
		tu_rmdir(r2.tmp);
		free(r2.tmp);
		free(r2.inst);
		free(r2.cfg);
		free(r2.db);
		free(r2.log);
		free(r2.bin);
	}
	curl_slist_free_all(hdrs);
	bench_jitd_free(&j);
	free(body);
	free(alice);
	free(certurl);
	free(url2);
}

int
main(void)
{
	struct run runs[3];
	struct pgfix *pg;
	const char *why;
	char *err = NULL, *db1, *db2;
	double r_raw, secs;
	int clients, threads, i, bad = 0;

	bench_set_name("bench_replicas");
	secs = (double)bench_env_long("BENCH_SECS", 5, 1, 60);
	clients = (int)bench_env_long("BENCH_REPLICA_CLIENTS", 64, 2, 1024);
	threads = (int)bench_env_long("BENCH_ISSUE_THREADS", 2, 0, 64);
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	if (!pgfix_available(&why)) {
		fprintf(stderr, "bench_replicas: no PostgreSQL: %s\n", why);
		return 1;
	}
	(void)bench_pick_base(&why);
	r_raw = bench_raw_sign_rate(2.0);
	setenv("JIT_PG_DURABLE", "1", 1);
	if ((pg = pgfix_start(&err)) == NULL)
		bench_fatal("PostgreSQL: %s", err);
	if ((db1 = pgfix_createdb(pg, "bench_one", &err)) == NULL ||
	    (db2 = pgfix_createdb(pg, "bench_two", &err)) == NULL) {
		pgfix_stop(pg);
		bench_fatal("createdb: %s", err);
	}
	memset(runs, 0, sizeof(runs));
	runs[0].label = "sqlite, 1 jitd";
	runs[1].label = "PostgreSQL, 1 jitd";
	runs[2].label = "PostgreSQL, 2 replicas";
	measure(&runs[0], NULL, 1, clients, threads, secs);
	measure(&runs[1], db1, 1, clients, threads, secs);
	measure(&runs[2], db2, 2, clients, threads, secs);
	pgfix_stop(pg);

	printf("bench_replicas: SSH certificates through POST "
	    "/v1/requests/{id}/ssh-cert, %d keep-alive clients,\n  %g s after "
	    "1 s warm-up; PostgreSQL 127.0.0.1 (throwaway cluster, fsync "
	    "and synchronous_commit on), %ld cores\n", clients, secs, sysconf(_SC_NPROCESSORS_ONLN));
	printf("  %-44s %10.0f /s\n", "raw libsodium Ed25519 sign, one core "
	    "(baseline)", r_raw);
	printf("  %-24s %8s %5s %8s %6s %6s %6s %7s\n", "", "certs/s",
	    "/raw", "/sqlite", "p50 ms", "p99 ms", "non200", "records");
	for (i = 0; i < 3; i++) {
		int ok = runs[i].rows == runs[i].ok &&
		    runs[i].events == runs[i].ok && runs[i].verified;

		printf("  %-24s %8.0f %5.2f %8.2f %6.2f %6.2f %6ld %7s\n",
		    runs[i].label, runs[i].res.rate, runs[i].res.rate / r_raw,
		    runs[i].res.rate / runs[0].res.rate, runs[i].res.p50,
		    runs[i].res.p99, runs[i].res.bad_all, ok ? "ok" : "WRONG");
		if (!ok) {
			printf("  %s: %ld answers 200, %ld rows, %ld events, "
			    "audit verify %s\n", runs[i].label, runs[i].ok,
			    runs[i].rows, runs[i].events, runs[i].verified ?
			    "ok" : "FAILED");
			bad = 1;
		}
	}
	printf("  (records: certificate rows = cert.issue events = 200 "
	    "answers, and jitd audit verify passed)\n");
	bench_print_load();
	free(db1);
	free(db2);
	curl_global_cleanup();
	return bad;
}
