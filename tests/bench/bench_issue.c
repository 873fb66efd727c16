/*
 * make bench: SSH certificates issued per second through the HTTP API of
 * the real bin/jitd on 127.0.0.1, each answer sent only after its
 * certificate row and audit event are committed (WAL, synchronous=FULL),
 * at 1, 8, 64 and 256 concurrent keep-alive clients, with p50/p99
 * latency, the daemon's peak RSS (VmHWM, reset before each level) and
 * peak open descriptors (sampled every 10 ms).  Printed beside baselines
 * measured in the same run on the same filesystem: raw libsodium Ed25519
 * signing on one core, a sqlite one-row durable commit, and the idle
 * daemon's RSS and descriptors.  Timings are printed, never asserted; the
 * run fails only if a 200 answer has no certificate row or the audit
 * chain does not verify afterwards.
 *
 * usage: bench_issue [--threads N] [--secs S] [--clients N,N,...]
 *   --threads N   jitd's "threads" (HTTP thread pool size; default 2,
 *                 0 for jitd's own default)   env BENCH_ISSUE_THREADS
 *   --secs S      measured seconds per level (default 5, after 1 s
 *                 warm-up)                    env BENCH_SECS
 *   --clients L   concurrency levels (default 1,8,64,256; the goal is
 *                 judged at 64)               env BENCH_ISSUE_CLIENTS
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "tests/bench/benchlib.h"
#include "tests/lib/testutil.h"

#define MAX_LEVELS	8


static void
db_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		bench_fatal("sqlite: %s: %s", sql, msg != NULL ? msg : "?");
}

/*
 * Baseline 2: one INSERT per transaction into a fresh WAL database with
 * synchronous=FULL, in the benchmark's directory.
 */
static double
commit_rate(const char *dir, double secs)
{
	char *path = tu_path(dir, "baseline.db");
	sqlite3 *db = NULL;
	sqlite3_stmt *ins = NULL, *beg = NULL, *com = NULL;
	uint8_t blob[200];
	uint64_t t0, t;
	long n = 0;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		bench_fatal("sqlite3_open %s", path);
	db_exec(db, "PRAGMA journal_mode=WAL");
	db_exec(db, "PRAGMA synchronous=FULL");
	db_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, serial TEXT "
	    "NOT NULL, v BLOB NOT NULL)");
	if (sqlite3_prepare_v2(db, "INSERT INTO t (serial, v) VALUES (?, ?)",
	    -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &beg, NULL) !=
	    SQLITE_OK ||
	    sqlite3_prepare_v2(db, "COMMIT", -1, &com, NULL) != SQLITE_OK)
		bench_fatal("sqlite prepare: %s", sqlite3_errmsg(db));
	randombytes_buf(blob, sizeof(blob));
	t0 = bench_now_ns();
	do {
		char serial[24];

		snprintf(serial, sizeof(serial), "%ld", n);
		if (sqlite3_step(beg) != SQLITE_DONE)
			bench_fatal("BEGIN: %s", sqlite3_errmsg(db));
		sqlite3_reset(beg);
		sqlite3_bind_text(ins, 1, serial, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob(ins, 2, blob, sizeof(blob), SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			bench_fatal("INSERT: %s", sqlite3_errmsg(db));
		sqlite3_reset(ins);
		if (sqlite3_step(com) != SQLITE_DONE)
			bench_fatal("COMMIT: %s", sqlite3_errmsg(db));
		sqlite3_reset(com);
		n++;
	} while ((t = bench_now_ns() - t0) < (uint64_t)(secs * 1e9));
	sqlite3_finalize(ins);
	sqlite3_finalize(beg);
	sqlite3_finalize(com);
	sqlite3_close(db);
	unlink(path);
	free(path);
	return (double)n / ((double)t / 1e9);
}



int
main(int argc, char **argv)
{
	int levels[MAX_LEVELS], nlevels, i, st, bad = 0, verified, threads;
	int fds_idle;
	struct bench_result res[MAX_LEVELS];
	struct curl_slist *hdrs = NULL;
	struct bench_load ld;
	struct bench_jitd j;
	struct tu_out o;
	char *alice, *certurl, *body, auth[128];
	double r_raw, r_commit, secs;
	const char *base, *fsname, *lv;
	long ok_total = 1, rows, audit_rows, rss_idle;
	uint64_t t_begin = bench_now_ns();

	bench_set_name("bench_issue");
	threads = (int)bench_env_long("BENCH_ISSUE_THREADS", 2, 0, 64);
	secs = (double)bench_env_long("BENCH_SECS", 5, 1, 60);
	lv = bench_env_str("BENCH_ISSUE_CLIENTS", "1,8,64,256");
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
			threads = atoi(argv[++i]);
		else if (strcmp(argv[i], "--secs") == 0 && i + 1 < argc)
			secs = atof(argv[++i]);
		else if (strcmp(argv[i], "--clients") == 0 && i + 1 < argc)
			lv = argv[++i];
		else {
			fprintf(stderr, "usage: bench_issue [--threads N] "
			    "[--secs S] [--clients N,N,...]\n");
			return 2;
		}
	}
	if ((nlevels = bench_parse_levels(lv, levels, MAX_LEVELS)) == 0 ||
	    secs < 0.5 || secs > 60 || threads < 0 || threads > 64) {
		fprintf(stderr, "bench_issue: --clients 1..1024 (at most %d "
		    "levels), --secs 0.5..60, --threads 0..64\n", MAX_LEVELS);
		return 2;
	}
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	base = bench_pick_base(&fsname);
	bench_jitd_init(&j, "bench-issue");
	bench_grant_configure(&j, threads);

	/* Baselines, before the daemon exists, on the same filesystem. */
	r_raw = bench_raw_sign_rate(2.0);
	r_commit = commit_rate(j.tmp, 2.0);

	body = bench_grant_setup(&j, &certurl, &alice);
	/* Idle figures once the setup's argon2id logins are over. */
	(void)bench_proc_reset_hwm(j.pid);
	usleep(200000);
	rss_idle = bench_proc_kb(j.pid, "VmHWM");
	fds_idle = bench_proc_fds(j.pid);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", alice);
	hdrs = curl_slist_append(hdrs, auth);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:");
	memset(&ld, 0, sizeof(ld));
	ld.url = certurl;
	ld.hdrs = hdrs;
	ld.body = body;
	ld.want = 200;
	ld.warm = 1;
	ld.secs = secs;
	ld.pid = j.pid;
	for (i = 0; i < nlevels; i++) {
		bench_load_run(&ld, levels[i], &res[i]);
		ok_total += res[i].ok_all;
		usleep(200000);	/* let jitd close the connections */
	}

	st = bench_jitd_stop(&j);
	rows = bench_sqlite_count(j.db, "SELECT count(*) FROM certs WHERE kind = "
	    "'ssh'");
	audit_rows = bench_sqlite_count(j.db, "SELECT count(*) FROM audit WHERE "
	    "action = 'cert.issue' AND outcome = 'ok'");
	o = bench_jitd_run(&j, "audit", "verify", NULL);
	verified = o.status == 0;
	if (!verified)
		fprintf(stderr, "audit verify: %s%s\n", o.out, o.err);
	tu_out_free(&o);

	printf("bench_issue: SSH certificates through POST "
	    "/v1/requests/{id}/ssh-cert, 127.0.0.1, keep-alive\n");
	if (threads > 0)
		printf("  jitd \"threads\": %d", threads);
	else
		printf("  jitd \"threads\": its default");
	printf(", each cert + audit event committed (WAL, "
	    "synchronous=FULL)\n");
	printf("  instance on %s (%s), %g s per level after 1 s warm-up, "
	    "%ld cores\n", base, fsname, secs, sysconf(_SC_NPROCESSORS_ONLN));
	printf("  %-44s %10.0f /s\n", "raw libsodium Ed25519 sign, one core "
	    "(baseline)", r_raw);
	printf("  %-44s %10.0f /s\n", "sqlite one-row durable commit "
	    "(baseline)", r_commit);
	printf("  %-44s %7.1f MB RSS, %d fds\n", "jitd idle, after setup "
	    "(baseline)", rss_idle / 1024.0, fds_idle);
	printf("  %7s %8s %5s %7s %6s %6s %6s %6s %5s %6s %7s %5s %6s %4s\n",
	    "clients", "certs/s", "/raw", "/commit", "p50 ms", "p99 ms",
	    "max ms", "non200", "jitd", "client", "peakMB", "/idle",
	    "fds", "/idle");
	for (i = 0; i < nlevels; i++)
		printf("  %7d %8.0f %5.2f %7.2f %6.2f %6.2f %6.1f %6ld %5.2f "
		    "%6.2f %7.1f %5.2f %6d %4.1f\n", res[i].clients,
		    res[i].rate, res[i].rate / r_raw, res[i].rate / r_commit,
		    res[i].p50, res[i].p99, res[i].pmax, res[i].bad,
		    res[i].srv_cpu / secs, res[i].cli_cpu / secs,
		    res[i].peak_rss_kb / 1024.0, (double)res[i].peak_rss_kb /
		    (double)rss_idle, res[i].peak_fds, (double)res[i].peak_fds /
		    (double)fds_idle);
	printf("  (/raw, /commit: ratios to the baselines; jitd, client: "
	    "cores busy in the window;\n   peakMB: jitd VmHWM over the level "
	    "(reset before it); fds: peak of /proc/PID/fd,\n   sampled every "
	    "10 ms; /idle: ratio to the idle daemon)\n");
	for (i = 0; i < nlevels; i++) {
		if (res[i].bad_all > 0 || res[i].dropped > 0)
			printf("  %d clients: %ld non-200 answers in all (%ld "
			    "transport errors, first status %ld), %ld untimed "
			    "200s\n", res[i].clients, res[i].bad_all,
			    res[i].curl_err, res[i].first_bad_status,
			    res[i].dropped);
	}
	for (i = 0; i < nlevels; i++)
		if (res[i].clients == 64)
			printf("  goal at 64 clients (>= 0.40 of raw signing on "
			    "one core, p99 < 10 ms): %s (%.2f, p99 %.2f ms)\n",
			    res[i].rate / r_raw >= 0.40 && res[i].p99 < 10.0 ?
			    "MET" : "NOT MET", res[i].rate / r_raw,
			    res[i].p99);
	printf("  records: %ld answers 200, %ld certificate rows, %ld "
	    "cert.issue audit events; jitd exit %d; audit verify %s\n",
	    ok_total, rows, audit_rows, st, verified ? "ok" : "FAILED");
	if (rows != ok_total || audit_rows != ok_total || !verified ||
	    st != 0) {
		printf("  RECORDS DO NOT MATCH THE ANSWERS: this run is "
		    "wrong\n");
		bad = 1;
	}
	printf("  total %.0f s\n", (double)(bench_now_ns() - t_begin) / 1e9);
	bench_print_load();

	curl_slist_free_all(hdrs);
	curl_global_cleanup();
	bench_jitd_free(&j);
	free(body);
	free(alice);
	free(certurl);
	return bad;
}
