/*
 * Shared helpers of the `make bench` programs (see benchlib.h).
 */
#include <sys/resource.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "broker/config.h"
#include "broker/instance.h"
#include "broker/store.h"
#include "common/err.h"
#include "tests/bench/benchlib.h"
#include "tests/lib/testutil.h"

#define LAT_CAP_TOTAL	1200000	/* latency slots shared by a level */
#define TMPFS_MAGIC_	0x01021994UL
#define RAMFS_MAGIC_	0x858458f6UL

static const char *bench_name = "bench";
static struct bench_jitd *cur;	/* stopped and removed by bench_fatal */

uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void
bench_set_name(const char *name)
{
	bench_name = name;
}

void
bench_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", bench_name);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	if (cur != NULL && cur->pid > 0) {
		char *log = tu_read_file(cur->log, NULL);

		tu_stop(cur->pid);
		cur->pid = 0;
		if (log != NULL) {
			size_t len = strlen(log);

			fprintf(stderr, "jitd log (tail):\n%s\n",
			    len > 2000 ? log + len - 2000 : log);
		}
		free(log);
	}
	if (cur != NULL && cur->tmp != NULL)
		tu_rmdir(cur->tmp);
	exit(1);
}

static const char *
fs_name(unsigned long type)
{
	switch (type) {
	case 0xEF53UL:
		return "ext4";
	case 0x58465342UL:
		return "xfs";
	case 0x9123683EUL:
		return "btrfs";
	case 0x794c7630UL:
		return "overlayfs";
	case 0x2FC12FC1UL:
		return "zfs";
	case TMPFS_MAGIC_:
		return "tmpfs";
	default:
		return "other";
	}
}

static int
is_memfs(const char *dir, const char **fsname)
{
	struct statfs sf;

	if (statfs(dir, &sf) != 0)
		return -1;
	*fsname = fs_name((unsigned long)sf.f_type);
	return (unsigned long)sf.f_type == TMPFS_MAGIC_ ||
	    (unsigned long)sf.f_type == RAMFS_MAGIC_;
}

const char *
bench_pick_base(const char **fsname)
{
	static char buf[4096];
	const char *cand[3];
	int i;

	cand[0] = getenv("TMPDIR") != NULL && *getenv("TMPDIR") != '\0' ?
	    getenv("TMPDIR") : "/tmp";
	cand[1] = "/var/tmp";
	cand[2] = NULL;
	for (i = 0; cand[i] != NULL; i++)
		if (is_memfs(cand[i], fsname) == 0) {
			setenv("TMPDIR", cand[i], 1);
			return cand[i];
		}
	if (getcwd(buf, sizeof(buf) - 16) == NULL)
		bench_fatal("getcwd: %s", strerror(errno));
	strcat(buf, "/build");
	if (is_memfs(buf, fsname) != 0)
		bench_fatal("no disk-backed directory for the instance");
	setenv("TMPDIR", buf, 1);
	return buf;
}

void
bench_print_load(void)
{
	char buf[128];
	double a, b, c;
	FILE *f;

	if ((f = fopen("/proc/loadavg", "r")) == NULL)
		return;
	if (fgets(buf, sizeof(buf), f) != NULL &&
	    sscanf(buf, "%lf %lf %lf", &a, &b, &c) == 3)
		printf("  load average (1/5/15 min): %.2f %.2f %.2f on %ld "
		    "cores\n", a, b, c, sysconf(_SC_NPROCESSORS_ONLN));
	fclose(f);
}

long
bench_env_long(const char *name, long def, long min, long max)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (v == NULL || *v == '\0')
		return def;
	n = strtol(v, &end, 10);
	if (*end != '\0' || n < min || n > max)
		bench_fatal("%s=%s: want an integer in %ld..%ld", name, v, min,
		    max);
	return n;
}

const char *
bench_env_str(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : def;
}

struct tu_out
bench_jitd_run(struct bench_jitd *j, ...)
{
	char *argv[16];
	struct tu_out o;
	va_list ap;
	int n = 0;

	argv[n++] = j->bin;
	argv[n++] = "-c";
	argv[n++] = j->cfg;
	va_start(ap, j);
	while (n < 15 && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	if (tu_run(argv, NULL, NULL, 1200, &o) != 0)
		bench_fatal("cannot run %s", j->bin);
	return o;
}

json_t *
bench_cfg_load(struct bench_jitd *j)
{
	json_t *c = json_load_file(j->cfg, 0, NULL);

	if (c == NULL)
		bench_fatal("cannot read %s", j->cfg);
	return c;
}

void
bench_cfg_save(struct bench_jitd *j, json_t *c)
{
	if (json_dump_file(c, j->cfg, JSON_INDENT(2)) != 0)
		bench_fatal("cannot write %s", j->cfg);
	json_decref(c);
}

void
bench_jitd_init(struct bench_jitd *j, const char *tag)
{
	bench_jitd_init_db(j, tag, NULL);
}

void
bench_jitd_init_db(struct bench_jitd *j, const char *tag,
    const char *database)
{
	char *av[6], l[64];
	struct tu_out o;
	json_t *c;

	memset(j, 0, sizeof(*j));
	cur = j;
	j->tmp = tu_mkdtemp(tag);
	j->inst = tu_path(j->tmp, "inst");
	j->cfg = tu_path(j->inst, "jitd.json");
	j->db = tu_path(j->inst, "jitd.db");
	j->log = tu_path(j->tmp, "jitd.log");
	j->bin = tu_bin("jitd");
	av[0] = j->bin;
	av[1] = "init";
	av[2] = j->inst;
	av[3] = database != NULL ? "--database" : NULL;
	av[4] = (char *)database;
	av[5] = NULL;
	if (tu_run(av, NULL, NULL, 120, &o) != 0 || o.status != 0)
		bench_fatal("jitd init: %s", o.err);
	tu_out_free(&o);
	j->port = tu_free_port();
	c = bench_cfg_load(j);
	snprintf(l, sizeof(l), "127.0.0.1:%d", j->port);
	json_object_set_new(c, "listen", json_string(l));
	bench_cfg_save(j, c);
}

void
bench_jitd_user(struct bench_jitd *j, const char *name, const char *groups,
    char b32[64])
{
	char *pwf = tu_path(j->tmp, "pw");
	struct tu_out o;
	const char *s;

	tu_write_file(pwf, BENCH_PW "\n", strlen(BENCH_PW) + 1, 0600);
	o = bench_jitd_run(j, "user", "add", name, "--groups", groups,
	    "--password-file", pwf, NULL);
	if (o.status != 0 || (s = strstr(o.out, "totp_secret: ")) == NULL ||
	    sscanf(s, "totp_secret: %63s", b32) != 1)
		bench_fatal("user add %s: %s", name, o.err);
	tu_out_free(&o);
	unlink(pwf);
	free(pwf);
}

void
bench_jitd_start(struct bench_jitd *j)
{
	char *av[] = { j->bin, "-c", j->cfg, "serve", NULL };

	j->pid = tu_spawn(av, NULL, j->log);
	if (tu_wait_port(j->port, 60) != 0)
		bench_fatal("jitd did not start");
}

int
bench_jitd_stop(struct bench_jitd *j)
{
	int st, i;

	if (j->pid <= 0)
		return -1;
	kill(j->pid, SIGTERM);
	for (i = 0; i < 1200; i++) {
		if (waitpid(j->pid, &st, WNOHANG) == j->pid) {
			j->pid = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st) :
			    128 + WTERMSIG(st);
		}
		usleep(50000);
	}
	kill(j->pid, SIGKILL);
	waitpid(j->pid, &st, 0);
	j->pid = 0;
	return -1;
}

void
bench_jitd_free(struct bench_jitd *j)
{
	if (j->pid > 0)
		(void)bench_jitd_stop(j);
	if (j->tmp != NULL && getenv("BENCH_KEEP") != NULL)
		fprintf(stderr, "%s: BENCH_KEEP: left %s\n", bench_name,
		    j->tmp);
	else if (j->tmp != NULL)
		tu_rmdir(j->tmp);
	free(j->tmp);
	free(j->inst);
	free(j->cfg);
	free(j->db);
	free(j->log);
	free(j->bin);
	if (cur == j)
		cur = NULL;
	memset(j, 0, sizeof(*j));
}

char *
bench_url(const struct bench_jitd *j, const char *path)
{
	char *u;

	if (asprintf(&u, "http://127.0.0.1:%d%s", j->port, path) == -1)
		bench_fatal("asprintf");
	return u;
}

void
bench_call(const struct bench_jitd *j, const char *method, const char *path,
    const char *token, const char *body, long want, struct tu_resp *r)
{
	char *u = bench_url(j, path);

	if (tu_http(method, u, token, body, body != NULL ? strlen(body) : 0,
	    NULL, NULL, NULL, r) != 0 || r->status != want)
		bench_fatal("%s %s: %ld %s", method, path, r->status,
		    r->body != NULL ? r->body : "");
	free(u);
}

char *
bench_login(const struct bench_jitd *j, const char *user, const char *b32)
{
	struct tu_resp r;
	char code[7], body[256], *tok;

	tu_totp(b32, time(NULL), code);
	snprintf(body, sizeof(body), "{\"user\":\"%s\",\"password\":\""
	    BENCH_PW "\",\"otp\":\"%s\"}", user, code);
	bench_call(j, "POST", "/v1/login", NULL, body, 200, &r);
	if ((tok = strdup(tu_jstr(&r, "token"))) == NULL || *tok == '\0')
		bench_fatal("login %s: no token", user);
	tu_resp_free(&r);
	return tok;
}

long
bench_proc_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
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

int
bench_proc_fds(pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

double
bench_proc_cpu(pid_t pid)
{
	char path[64], buf[2048], *q;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
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

double
bench_self_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

int
bench_proc_reset_hwm(pid_t pid)
{
	char path[64];
	int fd, r = -1;

	snprintf(path, sizeof(path), "/proc/%d/clear_refs", (int)pid);
	if ((fd = open(path, O_WRONLY)) == -1)
		return -1;
	if (write(fd, "5", 1) == 1)
		r = 0;
	close(fd);
	return r;
}

static void *
sampler_main(void *arg)
{
	struct bench_sampler *s = arg;
	long rss;
	int n;

	while (!s->stop) {
		if ((n = bench_proc_fds(s->pid)) > s->peak_fds)
			s->peak_fds = n;
		if ((rss = bench_proc_kb(s->pid, "VmRSS")) > s->peak_rss_kb)
			s->peak_rss_kb = rss;
		s->samples++;
		usleep(10000);
	}
	return NULL;
}

void
bench_sampler_start(struct bench_sampler *s, pid_t pid)
{
	memset(s, 0, sizeof(*s));
	s->pid = pid;
	if (pthread_create(&s->th, NULL, sampler_main, s) != 0)
		bench_fatal("pthread_create");
}

void
bench_sampler_stop(struct bench_sampler *s)
{
	s->stop = 1;
	pthread_join(s->th, NULL);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void
bench_sort(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(uint64_t), cmp_u64);
}

double
bench_pct_ms(const uint64_t *v, size_t n, double p)
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

struct client {
	const struct bench_load	*l;
	int			 idx;
	uint64_t		 t_start, t_end;
	pthread_t		 th;
	uint64_t		*lat;	/* ns, answers inside the window */
	size_t			 nlat, cap;
	long			 ok_window, bad_window, ok_all, bad_all;
	long			 curl_err, dropped, first_bad;
	long			 retried, unfinished;
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
	const struct bench_load *l = c->l;
	char body[1024];
	uint64_t t0, t1;
	long status;
	CURL *h;
	int ok;

	if ((h = curl_easy_init()) == NULL)
		return NULL;
	curl_easy_setopt(h, CURLOPT_URL, l->url2 != NULL && c->idx % 2 == 1 ?
	    l->url2 : l->url);
	if (l->body != NULL) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, l->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE,
		    (long)strlen(l->body));
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, l->hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	while ((t0 = bench_now_ns()) < c->t_end) {
		if (l->make_body != NULL) {
			if (l->make_body(l->arg, body, sizeof(body)) != 0)
				break;
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE,
			    (long)strlen(body));
			t0 = bench_now_ns();
		}
		for (;;) {
			curl_off_t ra = 0;

			status = 0;
			ok = curl_easy_perform(h) == CURLE_OK;
			t1 = bench_now_ns();
			if (ok)
				curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE,
				    &status);
			if (!ok || l->retry_status == 0 ||
			    status != l->retry_status)
				break;
			c->retried++;
			if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &ra) !=
			    CURLE_OK || ra < 1 || ra > 5)
				ra = 1;
			if (t1 + (uint64_t)(ra + 1) * 1000000000ULL >= c->t_end)
				break;
			{
				/* As a polite client: Retry-After plus jitter. */
				uint32_t j = randombytes_uniform(1000);
				struct timespec ts = { (time_t)ra,
				    (long)j * 1000000L };

				nanosleep(&ts, NULL);
			}
		}
		if (l->retry_status != 0 && status == l->retry_status) {
			c->unfinished++;
			break;
		}
		if (!ok)
			c->curl_err++;
		if (status == l->want) {
			c->ok_all++;
		} else {
			c->bad_all++;
			if (c->first_bad == 0)
				c->first_bad = status > 0 ? status : -1;
		}
		/* Counted when the answer lands inside the window. */
		if (t1 < c->t_start || t1 > c->t_end)
			continue;
		if (status != l->want) {
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

void
bench_load_run(const struct bench_load *l, int nclients,
    struct bench_result *res)
{
	struct bench_sampler smp;
	struct client *cl;
	uint64_t *all, t_start, t_end;
	size_t nall = 0, cap;
	double c0 = 0, s0;
	int i;

	memset(res, 0, sizeof(*res));
	res->clients = nclients;
	t_start = bench_now_ns() + (uint64_t)(l->warm * 1e9);
	t_end = t_start + (uint64_t)(l->secs * 1e9);
	cap = LAT_CAP_TOTAL / (size_t)nclients;
	if ((cl = calloc((size_t)nclients, sizeof(*cl))) == NULL)
		bench_fatal("calloc");
	for (i = 0; i < nclients; i++) {
		cl[i].l = l;
		cl[i].idx = i;
		cl[i].t_start = t_start;
		cl[i].t_end = t_end;
		cl[i].cap = cap;
		if ((cl[i].lat = malloc(cap * sizeof(uint64_t))) == NULL)
			bench_fatal("malloc");
		/* Touch the pages now, not inside the timed loop. */
		memset(cl[i].lat, 0, cap * sizeof(uint64_t));
	}
	if (l->pid > 0) {
		(void)bench_proc_reset_hwm(l->pid);
		bench_sampler_start(&smp, l->pid);
	}
	for (i = 0; i < nclients; i++)
		if (pthread_create(&cl[i].th, NULL, client_main, &cl[i]) != 0)
			bench_fatal("pthread_create");
	/* CPU of both sides over the window only. */
	while (bench_now_ns() < t_start)
		usleep(1000);
	if (l->pid > 0)
		c0 = bench_proc_cpu(l->pid);
	s0 = bench_self_cpu();
	while (bench_now_ns() < t_end)
		usleep(1000);
	if (l->pid > 0)
		res->srv_cpu = bench_proc_cpu(l->pid) - c0;
	res->cli_cpu = bench_self_cpu() - s0;
	for (i = 0; i < nclients; i++)
		pthread_join(cl[i].th, NULL);
	if (l->pid > 0) {
		bench_sampler_stop(&smp);
		res->peak_fds = smp.peak_fds;
		res->peak_rss_kb = bench_proc_kb(l->pid, "VmHWM");
		if (smp.peak_rss_kb > res->peak_rss_kb)
			res->peak_rss_kb = smp.peak_rss_kb;
	}
	if ((all = malloc((LAT_CAP_TOTAL + 1) * sizeof(uint64_t))) == NULL)
		bench_fatal("malloc");
	for (i = 0; i < nclients; i++) {
		memcpy(all + nall, cl[i].lat, cl[i].nlat * sizeof(uint64_t));
		nall += cl[i].nlat;
		res->ok += cl[i].ok_window;
		res->bad += cl[i].bad_window;
		res->ok_all += cl[i].ok_all;
		res->bad_all += cl[i].bad_all;
		res->curl_err += cl[i].curl_err;
		res->dropped += cl[i].dropped;
		res->retried += cl[i].retried;
		res->unfinished += cl[i].unfinished;
		if (res->first_bad_status == 0)
			res->first_bad_status = cl[i].first_bad;
		free(cl[i].lat);
	}
	free(cl);
	bench_sort(all, nall);
	res->rate = (double)res->ok / l->secs;
	res->p50 = bench_pct_ms(all, nall, 0.50);
	res->p99 = bench_pct_ms(all, nall, 0.99);
	res->pmax = nall > 0 ? (double)all[nall - 1] / 1e6 : 0;
	free(all);
}

int
bench_parse_levels(const char *s, int *levels, int max)
{
	char *end;
	long v;
	int n = 0;

	for (;;) {
		v = strtol(s, &end, 10);
		if (end == s || v < 1 || v > 1024 || n == max)
			return 0;
		levels[n++] = (int)v;
		if (*end == '\0')
			return n;
		if (*end != ',' && *end != ' ')
			return 0;
		s = end + 1;
	}
}

void
bench_store_open(struct bench_jitd *j, struct bench_store *bs)
{
	struct store_opts so;
	char *err = NULL;

	memset(bs, 0, sizeof(*bs));
	if (config_load(j->cfg, &bs->cfg, &err) != JIT_OK ||
	    instance_unlock(bs->cfg, &bs->inst, &err) != JIT_OK)
		bench_fatal("%s", err != NULL ? err : "cannot open the instance");
	memset(&so, 0, sizeof(so));
	so.audit_sk = bs->inst->audit_sk;
	so.checkpoint_every = bs->cfg->audit_checkpoint_every;
	so.checkpoint_interval = bs->cfg->audit_checkpoint_interval;
	if (store_open(bs->cfg->database, 0, &so, &bs->store, &err) != JIT_OK)
		bench_fatal("%s", err != NULL ? err : "cannot open the store");
}

void
bench_store_close(struct bench_store *bs)
{
	store_close(bs->store);
	instance_free(bs->inst);
	config_unref(bs->cfg);
	memset(bs, 0, sizeof(*bs));
}

/* Baseline 1: raw libsodium Ed25519 signing of a 400-byte message. */
double
bench_raw_sign_rate(double secs)
{
	uint8_t pk[32], sk[64], msg[400], sig[64];
	uint64_t t0 = bench_now_ns(), t;
	long n = 0;

	crypto_sign_keypair(pk, sk);
	memset(msg, 0x42, sizeof(msg));
	do {
		msg[n & 0xff]++;
		crypto_sign_detached(sig, NULL, msg, sizeof(msg), sk);
		n++;
	} while ((t = bench_now_ns() - t0) < (uint64_t)(secs * 1e9));
	sodium_memzero(sk, sizeof(sk));
	return (double)n / ((double)t / 1e9);
}

void
bench_grant_configure(struct bench_jitd *j, int threads)
{
	json_t *c = bench_cfg_load(j), *roles;

	roles = json_pack("[{s:s,s:{s:[s]},s:[s],s:[s],s:i,s:s,s:b}]",
	    "name", "bench", "ssh", "principals", "bench",
	    "requesters", "group:eng", "approvers", "group:sre",
	    "approvals_required", 1, "max_duration", "1h",
	    "require_reason", 1);
	if (roles == NULL)
		bench_fatal("json_pack");
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
	bench_cfg_save(j, c);
}

/* Creates the keypair, the grant and the first certificate; returns body. */
char *
bench_grant_setup(struct bench_jitd *j, char **certurl, char **alice)
{
	char alice_b32[64], bob_b32[64], path[96], *keyf, *pubf, *line, *bob;
	char *body;
	struct tu_resp r;
	struct tu_out o;
	json_t *b;
	int id;

	keyf = tu_path(j->tmp, "id");
	pubf = tu_path(j->tmp, "id.pub");
	{
		char *av[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "",
		    "-C", "bench", "-f", keyf, NULL };

		if (tu_run(av, NULL, NULL, 30, &o) != 0 || o.status != 0)
			bench_fatal("ssh-keygen: %s", o.err);
		tu_out_free(&o);
	}
	if ((line = tu_read_file(pubf, NULL)) == NULL)
		bench_fatal("cannot read %s", pubf);
	line[strcspn(line, "\n")] = '\0';
	bench_jitd_user(j, "alice", "eng", alice_b32);
	bench_jitd_user(j, "bob", "sre", bob_b32);
	bench_jitd_start(j);
	/* Wait for the start-up to settle before the idle figures. */
	usleep(300000);
	*alice = bench_login(j, "alice", alice_b32);
	bob = bench_login(j, "bob", bob_b32);
	bench_call(j, "POST", "/v1/requests", *alice, "{\"role\":\"bench\","
	    "\"reason\":\"benchmark\",\"duration\":\"1h\"}", 201, &r);
	id = (int)json_integer_value(json_object_get(r.json, "id"));
	tu_resp_free(&r);
	snprintf(path, sizeof(path), "/v1/requests/%d/approve", id);
	bench_call(j, "POST", path, bob, "{\"comment\":\"bench\"}", 200, &r);
	if (strcmp(tu_jstr(&r, "state"), "approved") != 0)
		bench_fatal("request %d not approved: %s", id, r.body);
	tu_resp_free(&r);
	if ((b = json_pack("{s:s}", "public_key", line)) == NULL ||
	    (body = json_dumps(b, JSON_COMPACT)) == NULL)
		bench_fatal("json");
	json_decref(b);
	snprintf(path, sizeof(path), "/v1/requests/%d/ssh-cert", id);
	bench_call(j, "POST", path, *alice, body, 200, &r);
	if (strncmp(tu_jstr(&r, "certificate"),
	    "ssh-ed25519-cert-v01@openssh.com ", 33) != 0)
		bench_fatal("no certificate in %s", r.body);
	tu_resp_free(&r);
	*certurl = bench_url(j, path);
	free(bob);
	free(line);
	free(keyf);
	free(pubf);
	return body;
}

long
bench_sqlite_count(const char *dbpath, const char *sql)
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
