/*
 * make bench: SSH certificates issued per second through the HTTP API of
 * the real bin/jitd on 127.0.0.1, each answer sent only after its
 * certificate row and audit event are committed (WAL, synchronous=FULL),
 * at 1, 8 and 64 concurrent keep-alive clients, with p50/p99 latency, the
 * daemon's peak RSS and open descriptors.  Printed beside two baselines
 * measured in the same run on the same filesystem: raw libsodium Ed25519
 * signing on one core and a sqlite one-row durable commit.  Timings are
 * printed, never asserted; the run fails only if a 200 answer has no
 * certificate row or the audit chain does not verify afterwards.
 *
 * usage: bench_issue [--threads N] [--secs S] [--clients N,N,...]
 *   --threads N   jitd's "threads" (HTTP thread pool size; default 2,
 *                 0 for jitd's own default)
 *   --secs S      measured seconds per level (default 5, after 1 s warm-up)
 *   --clients L   concurrency levels (default 1,8,64; the goal is judged
 *                 at the last one)
 */
#include <sys/resource.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>

#include "tests/lib/http.h"
#include "tests/lib/testutil.h"

#define PW		"correct horse battery"
#define WARM_NS		1000000000ULL
#define MAX_LEVELS	8
#define LAT_CAP_TOTAL	600000	/* latency slots shared by a level's clients */
#define TMPFS_MAGIC_	0x01021994
#define RAMFS_MAGIC_	0x858458f6

static char *tmp, *inst, *cfg, *jitd, *logpath;
static int port;
static pid_t pid;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void __attribute__((noreturn, format(printf, 1, 2)))
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "bench_issue: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	if (pid > 0) {
		char *log = tu_read_file(logpath, NULL);

		tu_stop(pid);
		if (log != NULL) {
			size_t len = strlen(log);

			fprintf(stderr, "jitd log (tail):\n%s\n",
			    len > 2000 ? log + len - 2000 : log);
		}
		free(log);
	}
	if (tmp != NULL)
		tu_rmdir(tmp);
	exit(1);
}

static const char *
fs_name(long type)
{
	switch ((unsigned long)type) {
	case 0xEF53:
		return "ext4";
	case 0x58465342:
		return "xfs";
	case 0x9123683E:
		return "btrfs";
	case 0x794c7630:
		return "overlayfs";
	case 0x2FC12FC1:
		return "zfs";
	case TMPFS_MAGIC_:
		return "tmpfs";
	default:
		return "other";
	}
}

static int
is_memfs(const char *dir, long *type)
{
	struct statfs sf;

	if (statfs(dir, &sf) != 0)
		return -1;
	*type = (long)sf.f_type;
	return (unsigned long)sf.f_type == TMPFS_MAGIC_ ||
	    (unsigned long)sf.f_type == RAMFS_MAGIC_;
}

/*
 * Picks a base directory on a real (disk-backed) filesystem: $TMPDIR or
 * /tmp unless they are tmpfs, else /var/tmp, else build/ under the current
 * directory.  Sets TMPDIR to it so tu_mkdtemp lands there.
 */
static const char *
pick_base(long *type)
{
	static char buf[4096];
	const char *cand[3];
	int i;

	cand[0] = getenv("TMPDIR") != NULL && *getenv("TMPDIR") != '\0' ?
	    getenv("TMPDIR") : "/tmp";
	cand[1] = "/var/tmp";
	cand[2] = NULL;
	for (i = 0; cand[i] != NULL; i++)
		if (is_memfs(cand[i], type) == 0) {
			setenv("TMPDIR", cand[i], 1);
			return cand[i];
		}
	if (getcwd(buf, sizeof(buf) - 16) == NULL)
		fatal("getcwd: %s", strerror(errno));
	strcat(buf, "/build");
	if (is_memfs(buf, type) != 0)
		fatal("no disk-backed directory for the instance");
	setenv("TMPDIR", buf, 1);
	return buf;
}

/* Baseline 1: raw libsodium Ed25519 signing of a 400-byte message. */
static double
raw_sign_rate(double secs)
{
	uint8_t pk[32], sk[64], msg[400], sig[64];
	uint64_t t0 = now_ns(), t;
	long n = 0;

	crypto_sign_keypair(pk, sk);
	memset(msg, 0x42, sizeof(msg));
	do {
		msg[n & 0xff]++;
		crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk);
		n++;
	} while ((t = now_ns() - t0) < (uint64_t)(secs * 1e9));
	sodium_memzero(sk, sizeof(sk));
	return (double)n / ((double)t / 1e9);
}

static void
db_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fatal("sqlite: %s: %s", sql, msg != NULL ? msg : "?");
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
		fatal("sqlite3_open %s", path);
	db_exec(db, "PRAGMA journal_mode=WAL");
	db_exec(db, "PRAGMA synchronous=FULL");
	db_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, serial TEXT "
	    "NOT NULL, v BLOB NOT NULL)");
	if (sqlite3_prepare_v2(db, "INSERT INTO t (serial, v) VALUES (?, ?)",
	    -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &beg, NULL) !=
	    SQLITE_OK ||
	    sqlite3_prepare_v2(db, "COMMIT", -1, &com, NULL) != SQLITE_OK)
		fatal("sqlite prepare: %s", sqlite3_errmsg(db));
	randombytes_buf(blob, sizeof(blob));
	t0 = now_ns();
	do {
		char serial[24];

		snprintf(serial, sizeof(serial), "%ld", n);
		if (sqlite3_step(beg) != SQLITE_DONE)
			fatal("BEGIN: %s", sqlite3_errmsg(db));
		sqlite3_reset(beg);
		sqlite3_bind_text(ins, 1, serial, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob(ins, 2, blob, sizeof(blob), SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			fatal("INSERT: %s", sqlite3_errmsg(db));
		sqlite3_reset(ins);
		if (sqlite3_step(com) != SQLITE_DONE)
			fatal("COMMIT: %s", sqlite3_errmsg(db));
		sqlite3_reset(com);
		n++;
	} while ((t = now_ns() - t0) < (uint64_t)(secs * 1e9));
	sqlite3_finalize(ins);
	sqlite3_finalize(beg);
	sqlite3_finalize(com);
	sqlite3_close(db);
	free(path);
	return (double)n / ((double)t / 1e9);
}

static struct tu_out
run_jitd(char *a1, char *a2, char *a3, char *a4, char *a5, char *a6,
    char *a7)
{
	char *argv[] = { jitd, "-c", cfg, a1, a2, a3, a4, a5, a6, a7, NULL };
	struct tu_out o;

	if (tu_run(argv, NULL, NULL, 120, &o) != 0)
		fatal("cannot run %s", jitd);
	return o;
}

static void
add_user(const char *name, const char *groups, char b32[64])
{
	char *pwf = tu_path(tmp, "pw");
	struct tu_out o;
	const char *s;

	tu_write_file(pwf, PW "\n", strlen(PW) + 1, 0600);
	o = run_jitd("user", "add", (char *)name, "--groups", (char *)groups,
	    "--password-file", pwf);
	if (o.status != 0 || (s = strstr(o.out, "totp_secret: ")) == NULL ||
	    sscanf(s, "totp_secret: %63s", b32) != 1)
		fatal("user add %s: %s", name, o.err);
	tu_out_free(&o);
	unlink(pwf);
	free(pwf);
}

static void
configure(int threads)
{
	json_t *c = json_load_file(cfg, 0, NULL), *roles;
	char l[64];

	if (c == NULL)
		fatal("cannot read %s", cfg);
	snprintf(l, sizeof(l), "127.0.0.1:%d", port);
	roles = json_pack("[{s:s,s:{s:[s]},s:[s],s:[s],s:i,s:s,s:b}]",
	    "name", "bench", "ssh", "principals", "bench",
	    "requesters", "group:eng", "approvers", "group:sre",
	    "approvals_required", 1, "max_duration", "1h",
	    "require_reason", 1);
	if (roles == NULL)
		fatal("json_pack");
	json_object_set_new(c, "listen", json_string(l));
	json_object_set_new(c, "roles", roles);
	json_object_set_new(c, "cert_ttl", json_string("5m"));
	json_object_set_new(c, "mfa_max_age", json_string("1h"));
	/* Every client comes from 127.0.0.1: no per-address cap here. */
	json_object_set_new(c, "connections", json_pack("{s:i,s:i}", "max",
	    4096, "per_ip", 4096));
	if (threads > 0)
		json_object_set_new(c, "threads", json_integer(threads));
	else
		json_object_del(c, "threads");
	if (json_dump_file(c, cfg, JSON_INDENT(2)) != 0)
		fatal("cannot write %s", cfg);
	json_decref(c);
}

static char *
url(const char *path)
{
	char *u;

	if (asprintf(&u, "http://127.0.0.1:%d%s", port, path) == -1)
		fatal("asprintf");
	return u;
}

/* One setup request; returns the answer (caller frees) or exits. */
static void
call(const char *method, const char *path, const char *token,
    const char *body, long want, struct tu_resp *r)
{
	char *u = url(path);

	if (tu_http(method, u, token, body, body != NULL ? strlen(body) : 0,
	    NULL, NULL, NULL, r) != 0 || r->status != want)
		fatal("%s %s: %ld %s", method, path, r->status,
		    r->body != NULL ? r->body : "");
	free(u);
}

static char *
login(const char *user, const char *b32)
{
	struct tu_resp r;
	char code[7], body[256], *tok;

	tu_totp(b32, time(NULL), code);
	snprintf(body, sizeof(body), "{\"user\":\"%s\",\"password\":\"" PW
	    "\",\"otp\":\"%s\"}", user, code);
	call("POST", "/v1/login", NULL, body, 200, &r);
	if ((tok = strdup(tu_jstr(&r, "token"))) == NULL || *tok == '\0')
		fatal("login %s: no token", user);
	tu_resp_free(&r);
	return tok;
}

/* Reads a "Key:   123 kB" line of /proc/PID/status, in kB. */
static long
proc_status_kb(pid_t p, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)p);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			v = atol(line + klen + 1);
			break;
		}
	fclose(f);
	return v;
}

static int
proc_fds(pid_t p)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)p);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* CPU seconds (user + system) used so far by process p. */
static double
proc_cpu(pid_t p)
{
	char path[64], buf[2048], *q;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)p);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields after the command name, which ends at the last ')'. */
	if ((q = strrchr(buf, ')')) == NULL ||
	    sscanf(q + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double
self_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

struct level;

struct client {
	struct level	*lv;
	pthread_t	 th;
	uint64_t	*lat;		/* ns, requests inside the window */
	size_t		 nlat, cap;
	long		 ok_window;	/* 200s inside the window */
	long		 bad_window;	/* non-200 or transport errors */
	long		 ok_all;	/* every 200, for the record check */
	long		 bad_all;
	long		 curl_err;
	long		 dropped;	/* window 200s beyond cap (not timed) */
};

struct level {
	const char	*url;
	const char	*body;
	struct curl_slist *hdrs;
	uint64_t	 t_start, t_end;
};

static size_t
discard(char *data, size_t size, size_t n, void *arg)
{
	(void)data;
	(void)arg;
	return size * n;
}

static void *
client_main(void *arg)
{
	struct client *c = arg;
	struct level *lv = c->lv;
	uint64_t t0, t1;
	long status;
	CURL *h;
	int ok;

	if ((h = curl_easy_init()) == NULL)
		return NULL;
	curl_easy_setopt(h, CURLOPT_URL, lv->url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, lv->body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(lv->body));
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, lv->hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	while ((t0 = now_ns()) < lv->t_end) {
		status = 0;
		ok = curl_easy_perform(h) == CURLE_OK;
		t1 = now_ns();
		if (ok)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		else
			c->curl_err++;
		if (status == 200)
			c->ok_all++;
		else
			c->bad_all++;
		if (t0 < lv->t_start || t1 > lv->t_end)
			continue;
		if (status != 200) {
			c->bad_window++;
			continue;
		}
		c->ok_window++;
		if (c->nlat < c->cap)
			c->lat[c->nlat++] = t1 - t0;
		else
			c->dropped++;
	}
	curl_easy_cleanup(h);
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array, in ms. */
static double
pct_ms(const uint64_t *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p * (double)n + 0.999999);
	if (i < 1)
		i = 1;
	if (i > n)
		i = n;
	return (double)v[i - 1] / 1e6;
}

struct result {
	int	 clients;
	double	 rate, p50, p99, pmax, jitd_cpu, self_cpu;
	long	 ok, bad, ok_all, bad_all, curl_err, dropped;
	long	 hwm_kb, rss_kb;
	int	 fds_load, fds_after;
};

static void
run_level(int nclients, const char *u, const char *body,
    struct curl_slist *hdrs, double secs, struct result *res)
{
	struct client *cl;
	struct level lv;
	uint64_t *all;
	size_t nall = 0, cap;
	double c0, s0;
	int i;

	memset(res, 0, sizeof(*res));
	res->clients = nclients;
	lv.url = u;
	lv.body = body;
	lv.hdrs = hdrs;
	lv.t_start = now_ns() + WARM_NS;
	lv.t_end = lv.t_start + (uint64_t)(secs * 1e9);
	cap = LAT_CAP_TOTAL / (size_t)nclients;
	if ((cl = calloc((size_t)nclients, sizeof(*cl))) == NULL)
		fatal("calloc");
	for (i = 0; i < nclients; i++) {
		cl[i].lv = &lv;
		cl[i].cap = cap;
		if ((cl[i].lat = malloc(cap * sizeof(uint64_t))) == NULL)
			fatal("malloc");
		/* Touch the pages now, not inside the timed loop. */
		memset(cl[i].lat, 0, cap * sizeof(uint64_t));
	}
	for (i = 0; i < nclients; i++)
		if (pthread_create(&cl[i].th, NULL, client_main, &cl[i]) != 0)
			fatal("pthread_create");
	/* CPU of both sides over the window only. */
	while (now_ns() < lv.t_start)
		usleep(1000);
	c0 = proc_cpu(pid);
	s0 = self_cpu();
	while (now_ns() < lv.t_end - 200000000ULL)
		usleep(10000);
	res->fds_load = proc_fds(pid);
	while (now_ns() < lv.t_end)
		usleep(1000);
	res->jitd_cpu = proc_cpu(pid) - c0;
	res->self_cpu = self_cpu() - s0;
	for (i = 0; i < nclients; i++)
		pthread_join(cl[i].th, NULL);
	usleep(100000);	/* let jitd close the connections */
	res->hwm_kb = proc_status_kb(pid, "VmHWM");
	res->rss_kb = proc_status_kb(pid, "VmRSS");
	res->fds_after = proc_fds(pid);
	if ((all = malloc((LAT_CAP_TOTAL + 1) * sizeof(uint64_t))) == NULL)
		fatal("malloc");
	for (i = 0; i < nclients; i++) {
		memcpy(all + nall, cl[i].lat, cl[i].nlat * sizeof(uint64_t));
		nall += cl[i].nlat;
		res->ok += cl[i].ok_window;
		res->bad += cl[i].bad_window;
		res->ok_all += cl[i].ok_all;
		res->bad_all += cl[i].bad_all;
		res->curl_err += cl[i].curl_err;
		res->dropped += cl[i].dropped;
		free(cl[i].lat);
	}
	free(cl);
	qsort(all, nall, sizeof(uint64_t), cmp_u64);
	res->rate = (double)res->ok / secs;
	res->p50 = pct_ms(all, nall, 0.50);
	res->p99 = pct_ms(all, nall, 0.99);
	res->pmax = nall > 0 ? (double)all[nall - 1] / 1e6 : 0;
	free(all);
}

/* Stops jitd with SIGTERM and returns its exit status (or -1). */
static int
stop_jitd(void)
{
	int st, i;

	kill(pid, SIGTERM);
	for (i = 0; i < 300; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			pid = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st) :
			    128 + WTERMSIG(st);
		}
		usleep(50000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	pid = 0;
	return -1;
}

static long
count_rows(const char *dbpath, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	long n = -1;

	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK && sqlite3_prepare_v2(db, sql, -1, &st, NULL) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* Parses "1,8,64" into levels; returns their number, or 0 if invalid. */
static int
parse_levels(const char *s, int *levels)
{
	char *end;
	long v;
	int n = 0;

	for (;;) {
		v = strtol(s, &end, 10);
		if (end == s || v < 1 || v > 256 || n == MAX_LEVELS)
			return 0;
		levels[n++] = (int)v;
		if (*end == '\0')
			return n;
		if (*end != ',')
			return 0;
		s = end + 1;
	}
}

int
main(int argc, char **argv)
{
	int levels[MAX_LEVELS] = { 1, 8, 64 }, nlevels = 3;
	struct result res[MAX_LEVELS], *last;
	struct curl_slist *hdrs = NULL;
	struct tu_resp r;
	struct tu_out o;
	char alice_b32[64], bob_b32[64], *alice, *bob, *line, *keyf, *pubf;
	char *certurl, *body, auth[128], path[96], *dbpath;
	double r_raw, r_commit, secs = 5, ratio;
	const char *base;
	long fstype, ok_total = 1, rows, audit_rows;
	int threads = 2, i, id, st, bad = 0, verified;
	uint64_t t_begin = now_ns();

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
			threads = atoi(argv[++i]);
		else if (strcmp(argv[i], "--secs") == 0 && i + 1 < argc)
			secs = atof(argv[++i]);
		else if (strcmp(argv[i], "--clients") == 0 && i + 1 < argc &&
		    (nlevels = parse_levels(argv[++i], levels)) > 0)
			continue;
		else {
			fprintf(stderr, "usage: bench_issue [--threads N] "
			    "[--secs S] [--clients N,N,...]\n");
			return 2;
		}
	}
	if (secs < 0.5 || secs > 30 || threads < 0 || threads > 64) {
		fprintf(stderr, "bench_issue: --secs 0.5..30, --threads "
		    "0..64\n");
		return 2;
	}
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	base = pick_base(&fstype);
	tmp = tu_mkdtemp("bench-issue");
	inst = tu_path(tmp, "inst");
	cfg = tu_path(inst, "jitd.json");
	dbpath = tu_path(inst, "jitd.db");
	logpath = tu_path(tmp, "jitd.log");
	jitd = tu_bin("jitd");
	keyf = tu_path(tmp, "id");
	pubf = tu_path(tmp, "id.pub");

	/* Baselines, before the daemon exists, on the same filesystem. */
	r_raw = raw_sign_rate(2.0);
	r_commit = commit_rate(tmp, 2.0);

	/* A fresh instance, two users, a live grant. */
	{
		char *av[] = { jitd, "init", inst, NULL };

		if (tu_run(av, NULL, NULL, 120, &o) != 0 || o.status != 0)
			fatal("jitd init: %s", o.err);
		tu_out_free(&o);
	}
	port = tu_free_port();
	configure(threads);
	add_user("alice", "eng", alice_b32);
	add_user("bob", "sre", bob_b32);
	{
		char *av[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "",
		    "-C", "bench", "-f", keyf, NULL };

		if (tu_run(av, NULL, NULL, 30, &o) != 0 || o.status != 0)
			fatal("ssh-keygen: %s", o.err);
		tu_out_free(&o);
	}
	if ((line = tu_read_file(pubf, NULL)) == NULL)
		fatal("cannot read %s", pubf);
	line[strcspn(line, "\n")] = '\0';
	{
		char *av[] = { jitd, "-c", cfg, "serve", NULL };

		pid = tu_spawn(av, NULL, logpath);
		if (tu_wait_port(port, 30) != 0)
			fatal("jitd did not start");
	}
	alice = login("alice", alice_b32);
	bob = login("bob", bob_b32);
	call("POST", "/v1/requests", alice, "{\"role\":\"bench\",\"reason\":"
	    "\"benchmark\",\"duration\":\"1h\"}", 201, &r);
	id = (int)json_integer_value(json_object_get(r.json, "id"));
	tu_resp_free(&r);
	snprintf(path, sizeof(path), "/v1/requests/%d/approve", id);
	call("POST", path, bob, "{\"comment\":\"bench\"}", 200, &r);
	if (strcmp(tu_jstr(&r, "state"), "approved") != 0)
		fatal("request %d not approved: %s", id, r.body);
	tu_resp_free(&r);
	{
		json_t *b = json_pack("{s:s}", "public_key", line);

		if (b == NULL || (body = json_dumps(b, JSON_COMPACT)) == NULL)
			fatal("json");
		json_decref(b);
	}
	snprintf(path, sizeof(path), "/v1/requests/%d/ssh-cert", id);
	call("POST", path, alice, body, 200, &r);
	if (strncmp(tu_jstr(&r, "certificate"),
	    "ssh-ed25519-cert-v01@openssh.com ", 33) != 0)
		fatal("no certificate in %s", r.body);
	tu_resp_free(&r);
	certurl = url(path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", alice);
	hdrs = curl_slist_append(hdrs, auth);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:");

	for (i = 0; i < nlevels; i++) {
		run_level(levels[i], certurl, body, hdrs, secs, &res[i]);
		ok_total += res[i].ok_all;
	}

	st = stop_jitd();
	rows = count_rows(dbpath, "SELECT count(*) FROM certs WHERE kind = "
	    "'ssh'");
	audit_rows = count_rows(dbpath, "SELECT count(*) FROM audit WHERE "
	    "action = 'cert.issue' AND outcome = 'ok'");
	o = run_jitd("audit", "verify", NULL, NULL, NULL, NULL, NULL);
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
	    "%ld cores\n", base, fs_name(fstype), secs,
	    sysconf(_SC_NPROCESSORS_ONLN));
	printf("  %-44s %10.0f /s\n", "raw libsodium Ed25519 sign, one core "
	    "(baseline)", r_raw);
	printf("  %-44s %10.0f /s\n", "sqlite one-row durable commit "
	    "(baseline)", r_commit);
	printf("  %7s %8s %5s %7s %6s %6s %6s %6s %5s %6s %14s\n",
	    "clients", "certs/s", "/raw", "/commit", "p50 ms", "p99 ms",
	    "max ms", "non200", "jitd", "client", "RSS/peak MB,fd");
	for (i = 0; i < nlevels; i++) {
		char rf[32];

		snprintf(rf, sizeof(rf), "%.0f/%.0f,%d", res[i].rss_kb / 1024.0,
		    res[i].hwm_kb / 1024.0, res[i].fds_load);
		printf("  %7d %8.0f %5.2f %7.2f %6.2f %6.2f %6.1f %6ld %5.2f "
		    "%6.2f %14s\n", res[i].clients, res[i].rate,
		    res[i].rate / r_raw, res[i].rate / r_commit, res[i].p50,
		    res[i].p99, res[i].pmax, res[i].bad, res[i].jitd_cpu / secs,
		    res[i].self_cpu / secs, rf);
	}
	printf("  (/raw, /commit: ratios to the baselines; jitd, client: "
	    "cores busy in the window;\n   RSS/peak: jitd VmRSS after the "
	    "level and VmHWM (the argon2id logins of the\n   setup count); "
	    "fd: jitd descriptors under load; after each level:");
	for (i = 0; i < nlevels; i++)
		printf(" %d", res[i].fds_after);
	printf(")\n");
	for (i = 0; i < nlevels; i++) {
		if (res[i].bad_all > 0 || res[i].dropped > 0)
			printf("  %d clients: %ld non-200 answers in all (%ld "
			    "transport errors), %ld untimed 200s\n",
			    res[i].clients, res[i].bad_all, res[i].curl_err,
			    res[i].dropped);
	}
	last = &res[nlevels - 1];
	ratio = last->rate / r_raw;
	printf("  goal at %d clients (>= 0.40 of raw signing on one core, "
	    "p99 < 10 ms): %s (%.2f, p99 %.2f ms)\n", last->clients,
	    ratio >= 0.40 && last->p99 < 10.0 ? "MET" : "NOT MET", ratio,
	    last->p99);
	printf("  records: %ld answers 200, %ld certificate rows, %ld "
	    "cert.issue audit events; jitd exit %d; audit verify %s\n",
	    ok_total, rows, audit_rows, st, verified ? "ok" : "FAILED");
	if (rows != ok_total || audit_rows != ok_total || !verified ||
	    st != 0) {
		printf("  RECORDS DO NOT MATCH THE ANSWERS: this run is "
		    "wrong\n");
		bad = 1;
	}
	printf("  total %.0f s\n", (double)(now_ns() - t_begin) / 1e9);

	curl_slist_free_all(hdrs);
	curl_global_cleanup();
	tu_rmdir(tmp);
	free(tmp);
	free(inst);
	free(cfg);
	free(dbpath);
	free(logpath);
	free(jitd);
	free(keyf);
	free(pubf);
	free(line);
	free(body);
	free(alice);
	free(bob);
	free(certurl);
	return bad;
}
