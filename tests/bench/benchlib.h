/*
 * Helpers shared by the `make bench` programs: a monotonic clock, a real
 * bin/jitd instance on a disk-backed filesystem (init, config edits,
 * users, serve, stop by PID), /proc sampling of the daemon (peak RSS,
 * peak descriptors, CPU), a closed-loop libcurl load driver with latency
 * percentiles, and BENCH_* environment knobs.  Benchmarks print figures
 * beside same-run baselines; nothing here asserts a timing.
 */
#ifndef JIT_TESTS_BENCH_BENCHLIB_H
#define JIT_TESTS_BENCH_BENCHLIB_H

#include <sys/types.h>

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <jansson.h>

#include "tests/lib/http.h"

#define BENCH_PW	"correct horse battery"

/* Nanoseconds of CLOCK_MONOTONIC. */
uint64_t bench_now_ns(void);

/* Prints "NAME: message", stops the current jitd, removes its dir, exits 1. */
void bench_fatal(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));
/* Name used by bench_fatal. */
void bench_set_name(const char *name);

/*
 * Picks $TMPDIR or /tmp unless memory-backed, else /var/tmp, else
 * ./build, and sets TMPDIR to it; *fsname gets the filesystem's name.
 */
const char *bench_pick_base(const char **fsname);

/*
 * Prints "  load average: 1 5 15 min" from /proc/loadavg: other work on
 * the machine shows in every figure, so each program reports it.
 */
void bench_print_load(void);

/* Integer or string from the environment, or def. */
long bench_env_long(const char *name, long def, long min, long max);
const char *bench_env_str(const char *name, const char *def);

/* A real jitd instance in a fresh directory. */
struct bench_jitd {
	char	*tmp;		/* the benchmark's directory */
	char	*inst;		/* tmp/inst: jitd init's directory */
	char	*cfg;		/* inst/jitd.json */
	char	*db;		/* inst/jitd.db */
	char	*log;		/* tmp/jitd.log */
	char	*bin;		/* bin/jitd */
	int	 port;
	pid_t	 pid;
};

/* Creates the directory, runs `jitd init`, picks a port, sets listen. */
void bench_jitd_init(struct bench_jitd *j, const char *tag);
/* The same with `jitd init --database URI` (NULL: sqlite). */
void bench_jitd_init_db(struct bench_jitd *j, const char *tag,
    const char *database);
/* Loads the config for editing, and writes it back. */
json_t *bench_cfg_load(struct bench_jitd *j);
void bench_cfg_save(struct bench_jitd *j, json_t *c);
/* `jitd user add NAME --groups G`; the TOTP secret (base32) into b32. */
void bench_jitd_user(struct bench_jitd *j, const char *name,
    const char *groups, char b32[64]);
/* `jitd serve` in the background; waits for the port. */
void bench_jitd_start(struct bench_jitd *j);
/* SIGTERM, wait; returns jitd's exit status (or -1 if it had to be killed). */
int bench_jitd_stop(struct bench_jitd *j);
/* Stops jitd if running and removes the directory; frees the paths. */
void bench_jitd_free(struct bench_jitd *j);
/* Runs `jitd -c CFG args...` (NULL-terminated) to completion. */
struct tu_out bench_jitd_run(struct bench_jitd *j, ...);

/* http://127.0.0.1:PORT + path, malloc'd. */
char *bench_url(const struct bench_jitd *j, const char *path);
/* One request that must answer want, else bench_fatal. */
void bench_call(const struct bench_jitd *j, const char *method,
    const char *path, const char *token, const char *body, long want,
    struct tu_resp *r);
/* Password + TOTP login (code from oathtool); returns the token. */
char *bench_login(const struct bench_jitd *j, const char *user,
    const char *b32);

/* /proc readers for pid: a "Key:" line of status in kB, open fds, CPU s. */
long bench_proc_kb(pid_t pid, const char *key);
int bench_proc_fds(pid_t pid);
double bench_proc_cpu(pid_t pid);
double bench_self_cpu(void);
/* Resets VmHWM of pid to its current RSS (clear_refs 5); 0 or -1. */
int bench_proc_reset_hwm(pid_t pid);

/* Samples a process's descriptors and RSS every 10 ms in a thread. */
struct bench_sampler {
	pid_t		 pid;
	pthread_t	 th;
	volatile int	 stop;
	int		 peak_fds;
	long		 peak_rss_kb;
	long		 samples;
};
void bench_sampler_start(struct bench_sampler *s, pid_t pid);
void bench_sampler_stop(struct bench_sampler *s);

/* Sorts v and returns nearest-rank percentiles in ms. */
void bench_sort(uint64_t *v, size_t n);
double bench_pct_ms(const uint64_t *v, size_t n, double p);

/*
 * Closed-loop load: nclients threads, each with one keep-alive libcurl
 * handle, POST (or GET when body and make_body are NULL) to url in a loop
 * for warm + secs seconds; only answers that land in the last secs are
 * counted (rate and latency).  make_body,
 * when set, writes a fresh body per request (thread-safe) and returns 0.
 */
struct bench_load {
	const char	*url;
	const char	*url2;	/* not NULL: every other client uses it */
	struct curl_slist *hdrs;
	const char	*body;
	int		(*make_body)(void *arg, char *buf, size_t len);
	void		*arg;
	long		 want;		/* the status that counts as success */
	/*
	 * A status (e.g. 429) that means "busy, come back": the client
	 * waits Retry-After (1..5 s) plus a random 0..1 s and resends the
	 * same body; the latency runs from the first attempt.  0: none.
	 */
	long		 retry_status;
	double		 warm, secs;
	pid_t		 pid;		/* jitd, for CPU and sampling */
};

struct bench_result {
	int	 clients;
	double	 rate, p50, p99, pmax, srv_cpu, cli_cpu;
	long	 ok, bad, ok_all, bad_all, curl_err, dropped;
	long	 retried;	/* retry_status answers, resent */
	long	 unfinished;	/* still retrying when the time ran out */
	long	 first_bad_status;
	int	 peak_fds;
	long	 peak_rss_kb;
};

void bench_load_run(const struct bench_load *l, int nclients,
    struct bench_result *res);

/*
 * Opens the instance's database through the broker's own store, with its
 * audit checkpoint key, as `jitd user add` does (the daemon may run or
 * not).  Writes through it are real jobs with real audit events.
 */
struct config;
struct instance;
struct store;
struct bench_store {
	struct config	*cfg;
	struct instance	*inst;
	struct store	*store;
};
void bench_store_open(struct bench_jitd *j, struct bench_store *bs);
void bench_store_close(struct bench_store *bs);

/* The single integer a query returns on a sqlite file (read-only); -1. */
long bench_sqlite_count(const char *dbpath, const char *sql);

/* Raw libsodium Ed25519 signatures per second on one core (baseline). */
double bench_raw_sign_rate(double secs);

/*
 * The issuance benchmarks' instance: role "bench" (group eng asks, sre
 * approves, one approval), 5-minute certificates, no per-address
 * connection cap, jitd "threads" (0: its default).
 */
void bench_grant_configure(struct bench_jitd *j, int threads);
/*
 * Adds alice (eng) and bob (sre), starts jitd, logs both in, makes an
 * approved grant for alice and issues its first certificate.  Returns the
 * request body for more certificates; *certurl is the URL to POST it to,
 * *alice her session token.
 */
char *bench_grant_setup(struct bench_jitd *j, char **certurl, char **alice);

/* Parses "1,8,64" into at most max levels (each 1..1024); 0 if invalid. */
int bench_parse_levels(const char *s, int *levels, int max);

#endif
