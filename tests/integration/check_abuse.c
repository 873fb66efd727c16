/*
 * A real bin/jitd under abuse.  A password flood from 127.0.0.2 (the whole
 * of 127.0.0.0/8 is loopback, so each address is another client) gets 429
 * before any hashing while a real user logs in from 127.0.0.1 with
 * password and TOTP (oathtool) again and again; /metrics proves how few
 * hashes the flood cost.  Three hundred connections from 127.0.0.3 that
 * dribble a byte a second are refused by the per-address limit or cut by
 * the request deadline while other clients are served.  Over-deep JSON and
 * over-long fields are refused with 400 and change nothing.  User names,
 * comments and reasons with newlines, terminal escapes and bidirectional
 * controls come out escaped in the log, the SIEM file, the audit export
 * and the `jit` command's output.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "tests/lib/http.h"
#include "tests/lib/testutil.h"

#define PW		"correct horse battery"
#define IP_BURST	5
#define USER_BURST	3
#define PER_IP_CONNS	64
#define SLOW_CONNS	300
#define FLOODERS	4
#define FLOOD_MIN	400	/* requests the flood makes at least */

/* A user name with every trick: SGR, RLO, CR LF, BS, isolates, marks. */
#define EVIL_USER_JSON	"\\u001b[31m\\u202eroot\\r\\n\\b\\u2066x\\u2069" \
			"\\u200e\\u200f"
#define EVIL_USER	"\x1b[31m\xe2\x80\xaeroot\r\n\b\xe2\x81\xa6x" \
			"\xe2\x81\xa9\xe2\x80\x8e\xe2\x80\x8f"
/* An approval comment: clear screen, set the title, RLO, isolates. */
#define EVIL_COMMENT	"lgtm\n\x1b[2J\x1b]0;pwned\x07\r\b\xe2\x80\xae" \
			"deny\xe2\x81\xa6x\xe2\x81\xa9\xc2\x9b"
/* A reason the policy accepts (no controls) that still has marks. */
#define MARKED_REASON	"fix \xe2\x80\x8f\xe2\x80\x8e" "deploy \xd8\x9c ok"

static char *tmp, *inst, *cfg, *jitd, *jit, *logpath, *siem;
static char alice_b32[64], bob_b32[64];
static int port;
static pid_t pid;

/* --- the daemon ------------------------------------------------------ */

static void
set_config(const char *key, json_t *value)
{
	json_t *c = json_load_file(cfg, 0, NULL);

	ck_assert_ptr_nonnull(c);
	json_object_set_new(c, key, value);
	ck_assert_int_eq(json_dump_file(c, cfg, JSON_INDENT(2)), 0);
	json_decref(c);
}

static void
add_user(const char *name, const char *groups, char *b32)
{
	char *pwf = tu_path(tmp, "pw");
	char *argv[] = { jitd, "-c", cfg, "user", "add", (char *)name,
	    "--groups", (char *)groups, "--password-file", pwf, NULL };
	struct tu_out o;
	const char *s;

	tu_write_file(pwf, PW "\n", strlen(PW) + 1, 0600);
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 60, &o), 0);
	ck_assert_msg(o.status == 0, "user add: %s", o.err);
	ck_assert_ptr_nonnull(s = strstr(o.out, "totp_secret: "));
	ck_assert_int_eq(sscanf(s, "totp_secret: %63s", b32), 1);
	tu_out_free(&o);
	free(pwf);
}

static void
start(void)
{
	char *argv[] = { jitd, "-c", cfg, "serve", NULL };
	int i;

	pid = tu_spawn(argv, NULL, logpath);
	ck_assert_msg(tu_wait_port(port, 30) == 0, "jitd did not start");
	for (i = 0; i < 100; i++) {
		char *log = tu_read_file(logpath, NULL);
		int up = tu_contains(log, "listening on");

		free(log);
		if (up)
			return;
		ck_assert_msg(waitpid(pid, NULL, WNOHANG) == 0, "jitd exited");
		usleep(50000);
	}
	ck_abort_msg("jitd did not say it listens");
}

static void
stop_jitd(void)
{
	char *log;

	if (pid <= 0)
		return;
	tu_stop(pid);
	pid = 0;
	log = tu_read_file(logpath, NULL);
	ck_assert_msg(!tu_contains(log, "Sanitizer") &&
	    !tu_contains(log, "runtime error:"), "sanitizer report: %s", log);
	free(log);
}

static void
setup(void)
{
	char *argv[] = { NULL, "init", NULL, NULL };
	struct tu_out o;
	char l[64];

	tmp = tu_mkdtemp("abuse");
	inst = tu_path(tmp, "inst");
	cfg = tu_path(inst, "jitd.json");
	jitd = tu_bin("jitd");
	jit = tu_bin("jit");
	logpath = tu_path(tmp, "jitd.log");
	siem = tu_path(tmp, "siem.jsonl");
	argv[0] = jitd;
	argv[2] = inst;
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 60, &o), 0);
	ck_assert_msg(o.status == 0, "init: %s", o.err);
	tu_out_free(&o);
	port = tu_free_port();
	snprintf(l, sizeof(l), "127.0.0.1:%d", port);
	set_config("listen", json_string(l));
	set_config("threads", json_integer(4));
	set_config("audit_log_file", json_string(siem));
	set_config("login_limits", json_pack("{s:i,s:i,s:i,s:i,s:i}",
	    "ip_burst", IP_BURST, "ip_per_minute", 60, "user_burst",
	    USER_BURST, "user_per_minute", 6, "max_concurrent_hashes", 4));
	set_config("connections", json_pack("{s:i,s:i,s:s,s:s}", "max", 1024,
	    "per_ip", PER_IP_CONNS, "idle_timeout", "5s", "request_timeout",
	    "2s"));
	add_user("alice", "eng", alice_b32);
	add_user("bob", "approvers,auditors", bob_b32);
	pid = 0;
}

static void
teardown(void)
{
	stop_jitd();
	tu_rmdir(tmp);
	free(tmp);
	free(inst);
	free(cfg);
	free(jitd);
	free(jit);
	free(logpath);
	free(siem);
}

/* --- HTTP from a chosen loopback address ----------------------------- */

struct res {
	long	 status;
	char	*body;
	char	*hdr;
	size_t	 blen, hlen;
};

static size_t
sink(char *p, size_t size, size_t n, void *arg)
{
	char **buf = arg;
	size_t old = *buf != NULL ? strlen(*buf) : 0, add = size * n;
	char *nb;

	if ((nb = realloc(*buf, old + add + 1)) == NULL)
		return 0;
	memcpy(nb + old, p, add);
	nb[old + add] = '\0';
	*buf = nb;
	return add;
}

static void
res_free(struct res *r)
{
	free(r->body);
	free(r->hdr);
	memset(r, 0, sizeof(*r));
}

/*
 * One request from source address src (NULL: 127.0.0.1) on handle cu
 * (NULL: a fresh one), so a thread keeps its connection alive.  Returns
 * the status (0: no answer).
 */
static long
req(CURL *cu, const char *src, const char *method, const char *path,
    const char *token, const char *body, const char *extra, struct res *r)
{
	struct curl_slist *h = NULL;
	char url[256], line[512], iface[64];
	CURL *c = cu != NULL ? cu : curl_easy_init();

	memset(r, 0, sizeof(*r));
	ck_assert_ptr_nonnull(c);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	snprintf(iface, sizeof(iface), "host!%s", src != NULL ? src :
	    "127.0.0.1");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_INTERFACE, iface);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r->hdr);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (token != NULL) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
		h = curl_slist_append(h, line);
	}
	if (body != NULL) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	} else
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
	if (extra != NULL)
		h = curl_slist_append(h, extra);
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(h);
	if (cu == NULL)
		curl_easy_cleanup(c);
	if (r->body == NULL)
		r->body = strdup("");
	if (r->hdr == NULL)
		r->hdr = strdup("");
	return r->status;
}

/* The value of one sample of /metrics, e.g. name{label="x"}. */
static double
metric(const char *sample)
{
	struct res r;
	const char *p;
	char want[160];
	double v = -1;

	ck_assert_int_eq(req(NULL, NULL, "GET", "/metrics", NULL, NULL, NULL,
	    &r), 200);
	snprintf(want, sizeof(want), "\n%s ", sample);
	if ((p = strstr(r.body, want)) != NULL)
		v = strtod(p + strlen(want), NULL);
	res_free(&r);
	ck_assert_msg(v >= 0, "no sample %s in /metrics", sample);
	return v;
}

static long long
audit_head(void)
{
	struct res r;
	json_t *j;
	long long h;

	ck_assert_int_eq(req(NULL, NULL, "GET", "/healthz", NULL, NULL, NULL,
	    &r), 200);
	ck_assert_ptr_nonnull(j = json_loads(r.body, 0, NULL));
	h = json_integer_value(json_object_get(j, "audit_head"));
	json_decref(j);
	res_free(&r);
	return h;
}

/*
 * Logs name in from 127.0.0.1 at path with the code of the next unused
 * TOTP step (the broker accepts one step either side of now, each step
 * once); returns the status and the token in tok (if not NULL).
 */
static long
login_step(const char *path, const char *name, const char *b32,
    long long *last_step, char *tok, size_t toklen)
{
	long long cur = (long long)time(NULL) / 30, step;
	char code[7], body[256];
	struct res r;
	json_t *j;
	long st;

	step = *last_step + 1 > cur - 1 ? *last_step + 1 : cur - 1;
	ck_assert_msg(step <= cur + 1, "no unused TOTP step left");
	tu_totp(b32, (int64_t)step * 30 + 1, code);
	snprintf(body, sizeof(body), "{\"user\":\"%s\",\"password\":\"" PW
	    "\",\"otp\":\"%s\"}", name, code);
	st = req(NULL, NULL, "POST", path, NULL, body, NULL, &r);
	ck_assert_msg(st == 200, "login %s at %s: %ld %s", name, path, st,
	    r.body);
	*last_step = step;
	if (tok != NULL) {
		ck_assert_ptr_nonnull(j = json_loads(r.body, 0, NULL));
		snprintf(tok, toklen, "%s", json_string_value(
		    json_object_get(j, "token")));
		json_decref(j);
	}
	res_free(&r);
	return st;
}

/*
 * Before a login with the previous step's code: waits out the last two
 * seconds of a step, so the broker's clock is still within one step.
 */
static void
not_at_step_end(void)
{
	while (time(NULL) % 30 >= 28)
		usleep(100000);
}

/* --- the password flood ---------------------------------------------- */

struct flooder {
	int		 id;
	const char	*src;
	volatile int	*stop;
	long		 sent, n429, n401, nother;
	int		 retry_after_seen;
};

static long
sent_so_far(struct flooder *f)
{
	long n = 0;
	int i;

	for (i = 0; i < FLOODERS; i++)
		n += __atomic_load_n(&f[i].sent, __ATOMIC_SEQ_CST);
	return n;
}

static void *
flood_main(void *arg)
{
	struct flooder *f = arg;
	CURL *cu = curl_easy_init();
	char body[128];
	struct res r;
	long st;

	while (!*f->stop) {
		/* A new name every time: only the address's bucket holds. */
		snprintf(body, sizeof(body), "{\"user\":\"flood%d-%ld\","
		    "\"password\":\"guess%ld\",\"otp\":\"000000\"}", f->id,
		    f->sent, f->sent);
		st = req(cu, f->src, "POST", "/v1/login", NULL, body, NULL, &r);
		if (st == 429) {
			f->n429++;
			if (strcasestr(r.hdr, "\nRetry-After: ") != NULL &&
			    tu_contains(r.body, "too_many_requests"))
				f->retry_after_seen = 1;
		} else if (st == 401)
			f->n401++;
		else
			f->nother++;
		res_free(&r);
		__atomic_add_fetch(&f->sent, 1, __ATOMIC_SEQ_CST);
		usleep(500);	/* hundreds a second, not all the CPU */
	}
	curl_easy_cleanup(cu);
	return NULL;
}

START_TEST(password_flood)
{
	struct flooder f[FLOODERS];
	pthread_t th[FLOODERS];
	volatile int stop = 0;
	long long alice_step = 0, bob_step = 0;
	long total = 0, n429 = 0, n401 = 0, nother = 0, before, rate;
	double hashes0, hashes, ip0, user0;
	struct timespec t0, t1;
	struct res r;
	char src[32];
	int i, k, retry_seen = 0;

	start();
	hashes0 = metric("jitd_password_hashes_total");
	ip0 = metric("jitd_login_throttled_total{limit=\"ip\"}");
	user0 = metric("jitd_login_throttled_total{limit=\"user\"}");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < FLOODERS; i++) {
		memset(&f[i], 0, sizeof(f[i]));
		f[i].id = i;
		f[i].src = "127.0.0.2";
		f[i].stop = &stop;
		pthread_create(&th[i], NULL, flood_main, &f[i]);
	}
	/* Once the flood has spent its burst, the real users log in. */
	while (sent_so_far(f) < 100)
		usleep(10000);
	not_at_step_end();
	for (k = 0; k < 3; k++) {
		before = sent_so_far(f);
		login_step("/v1/login", "alice", alice_b32, &alice_step, NULL,
		    0);
		/* The flood went on while alice logged in. */
		ck_assert_int_gt(sent_so_far(f), before);
	}
	before = sent_so_far(f);
	bob_step = (long long)time(NULL) / 30 - 1;	/* the current step */
	login_step("/v1/web/login", "bob", bob_b32, &bob_step, NULL, 0);
	ck_assert_int_gt(sent_so_far(f), before);
	while (sent_so_far(f) < FLOOD_MIN)
		usleep(10000);
	stop = 1;
	for (i = 0; i < FLOODERS; i++) {
		pthread_join(th[i], NULL);
		total += f[i].sent;
		n429 += f[i].n429;
		n401 += f[i].n401;
		nother += f[i].nother;
		retry_seen |= f[i].retry_after_seen;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	rate = (long)(total / ((double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9));
	fprintf(stderr, "password_flood: %ld requests (about %ld/s): %ld "
	    "answered 429, %ld answered 401\n", total, rate, n429, n401);
	ck_assert_int_eq(nother, 0);
	ck_assert(retry_seen);
	ck_assert_int_eq(n429 + n401, total);
	/*
	 * Many names from many addresses: the name's own bucket refuses
	 * the fourth guess, whatever the address.
	 */
	for (i = 0; i <= USER_BURST; i++) {
		static const char body[] = "{\"user\":\"mallory\","
		    "\"password\":\"guess\",\"otp\":\"000000\"}";

		snprintf(src, sizeof(src), "127.0.0.%d", 10 + i);
		ck_assert_int_eq(req(NULL, src, "POST", "/v1/login", NULL,
		    body, NULL, &r), i < USER_BURST ? 401 : 429);
		res_free(&r);
	}
	/*
	 * Every hash is accounted for: each flood answer 401 cost one, the
	 * 429s none; then alice's three, bob's one and mallory's three.
	 */
	hashes = metric("jitd_password_hashes_total") - hashes0;
	ck_assert_msg(hashes == (double)(n401 + 4 + USER_BURST),
	    "%.0f hashes for %ld flood 401s", hashes, n401);
	ck_assert_msg(hashes * 10 < (double)total, "%.0f hashes for %ld "
	    "flood requests", hashes, total);
	ck_assert(metric("jitd_login_throttled_total{limit=\"ip\"}") - ip0 ==
	    (double)n429);
	ck_assert(metric("jitd_login_throttled_total{limit=\"user\"}") -
	    user0 == 1);
	ck_assert(metric("jitd_logins_total{result=\"ok\"}") == 4);
	/* Throttled attempts neither count towards a lockout nor are locked. */
	ck_assert(metric("jitd_lockouts_total") == 0);
	login_step("/v1/login", "bob", bob_b32, &bob_step, NULL, 0);
}
END_TEST

/* --- slow connections ------------------------------------------------ */

static const char slow_request[] =
    "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";

struct slow {
	int	 fd;
	size_t	 sent;
	int	 closed;	/* the server closed it */
	int	 answered;	/* an HTTP answer came back */
};

static int
slow_connect(const char *src)
{
	struct sockaddr_in a;
	int fd;

	ck_assert_int_ge(fd = socket(AF_INET, SOCK_STREAM, 0), 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, src, &a.sin_addr), 1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	a.sin_port = htons((uint16_t)port);
	ck_assert_int_eq(inet_pton(AF_INET, "127.0.0.1", &a.sin_addr), 1);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads what is there without waiting; notes a close or an answer. */
static void
slow_poll(struct slow *s)
{
	struct pollfd p = { s->fd, POLLIN, 0 };
	char buf[256];
	ssize_t n;

	if (s->closed || poll(&p, 1, 0) <= 0)
		return;
	n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n > 0 && memcmp(buf, "HTTP/1.1 ", 9) == 0)
		s->answered = 1;
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
		s->closed = 1;
}

START_TEST(slow_connections)
{
	struct slow s[SLOW_CONNS];
	double cut0, opened0, cut, opened, held, most_held = 0;
	int i, round, open_now, served_during = 0;
	struct res r;

	start();
	cut0 = metric("jitd_connections_cut_total");
	opened0 = metric("jitd_connections_total");
	for (i = 0; i < SLOW_CONNS; i++) {
		memset(&s[i], 0, sizeof(s[i]));
		if ((s[i].fd = slow_connect("127.0.0.3")) < 0)
			s[i].closed = 1;	/* refused outright */
	}
	/*
	 * A byte a second each (the idle timeout is 5 s, so that alone
	 * never fires); the request would take over a minute to arrive.
	 */
	for (round = 0; round < 30; round++) {
		open_now = 0;
		for (i = 0; i < SLOW_CONNS; i++) {
			slow_poll(&s[i]);
			if (s[i].closed)
				continue;
			if (send(s[i].fd, slow_request + s[i].sent, 1,
			    MSG_NOSIGNAL | MSG_DONTWAIT) == 1)
				s[i].sent++;
			else if (errno != EAGAIN && errno != EWOULDBLOCK)
				s[i].closed = 1;
			open_now += !s[i].closed;
		}
		if (open_now == 0)
			break;
		/* What the server holds open (a few are our own requests). */
		held = metric("jitd_connections_open");
		if (held > most_held)
			most_held = held;
		/* Meanwhile other clients are served. */
		ck_assert_int_eq(req(NULL, NULL, "GET", "/healthz", NULL, NULL,
		    NULL, &r), 200);
		res_free(&r);
		ck_assert_int_eq(req(NULL, "127.0.0.4", "GET", "/v1/roles",
		    NULL, NULL, NULL, &r), 401);
		res_free(&r);
		served_during += held >= PER_IP_CONNS / 2;
		sleep(1);
	}
	fprintf(stderr, "slow_connections: the server held at most %.0f "
	    "connections for %d slow ones; all closed after %d rounds\n",
	    most_held, SLOW_CONNS, round);
	for (i = 0; i < SLOW_CONNS; i++) {
		ck_assert_msg(s[i].closed, "slow connection %d still open", i);
		ck_assert_msg(!s[i].answered, "slow connection %d answered", i);
		ck_assert(s[i].sent < sizeof(slow_request) - 1);
		if (s[i].fd >= 0)
			close(s[i].fd);
	}
	/* Only the per-address limit's worth got in; the deadline cut them. */
	ck_assert_msg(most_held <= PER_IP_CONNS + 4, "%.0f held", most_held);
	ck_assert_int_gt(served_during, 0);
	cut = metric("jitd_connections_cut_total") - cut0;
	opened = metric("jitd_connections_total") - opened0;
	ck_assert_msg(cut >= 1 && cut <= PER_IP_CONNS, "%.0f cut", cut);
	ck_assert_msg(opened < SLOW_CONNS, "%.0f accepted", opened);
	ck_assert_int_eq(req(NULL, NULL, "GET", "/healthz", NULL, NULL, NULL,
	    &r), 200);
	res_free(&r);
}
END_TEST

/* --- deep JSON and long fields --------------------------------------- */

/* A body {"role": "demo-ssh", key: <depth - 1 nested arrays>}. */
static char *
nested(const char *key, int depth)
{
	char *b = malloc((size_t)depth * 2 + 128), *p;
	int i;

	ck_assert_ptr_nonnull(b);
	p = b + sprintf(b, "{\"role\":\"demo-ssh\",\"%s\":", key);
	for (i = 1; i < depth; i++)
		*p++ = '[';
	for (i = 1; i < depth; i++)
		*p++ = ']';
	strcpy(p, "}");
	return b;
}

/* A body {key: "<n times x>"} plus extra members (may be ""). */
static char *
long_field(const char *key, size_t n, const char *extra)
{
	char *b = malloc(n + strlen(extra) + strlen(key) + 16);
	int off;

	ck_assert_ptr_nonnull(b);
	off = sprintf(b, "{%s\"%s\":\"", extra, key);
	memset(b + off, 'x', n);
	strcpy(b + off + n, "\"}");
	return b;
}

static void
expect_400(const char *path, const char *token, const char *body,
    const char *code, const char *words)
{
	struct res r;
	json_t *j;

	ck_assert_int_eq(req(NULL, NULL, "POST", path, token, body, NULL, &r),
	    400);
	ck_assert_ptr_nonnull(j = json_loads(r.body, 0, NULL));
	ck_assert_msg(strcmp(json_string_value(json_object_get(j, "error")),
	    code) == 0, "%s: %s", path, r.body);
	ck_assert_msg(tu_contains(json_string_value(json_object_get(j,
	    "message")), words), "%s: %s", path, r.body);
	json_decref(j);
	res_free(&r);
}

START_TEST(deep_json_and_long_fields)
{
	static const struct {
		const char	*path;
		const char	*key;
		size_t		 max;
		const char	*extra;
	} fields[] = {
		{ "/v1/login", "user", 256,
		    "\"password\":\"p\",\"otp\":\"1\"," },
		{ "/v1/login", "password", 1024,
		    "\"user\":\"a\",\"otp\":\"1\"," },
		{ "/v1/login", "otp", 16,
		    "\"user\":\"a\",\"password\":\"p\"," },
		{ "/v1/web/login", "user", 256, "\"password\":\"p\","
		    "\"otp\":\"1\"," },
		{ "/v1/mfa", "otp", 16, "" },
		{ "/v1/requests", "role", 64, "\"duration\":60," },
		{ "/v1/requests", "reason", 1024, "\"role\":\"demo-ssh\","
		    "\"duration\":60," },
		{ "/v1/requests", "ticket", 64, "\"role\":\"demo-ssh\","
		    "\"duration\":60," },
		{ "/v1/requests/1/approve", "comment", 1024, "" },
		{ "/v1/requests/1/deny", "comment", 1024, "" },
		{ "/v1/requests/1/review", "comment", 1024, "" },
		{ "/v1/requests/1/extend", "reason", 1024, "\"duration\":60," },
		{ "/v1/requests/1/ssh-cert", "public_key", 16384, "" },
	};
	long long alice_step = (long long)time(NULL) / 30 - 1, head;
	char tok[64], *b, hdr[20000];
	struct res r;
	size_t i;

	start();
	login_step("/v1/login", "alice", alice_b32, &alice_step, tok,
	    sizeof(tok));
	head = audit_head();
	/* 33 levels, and 2000 (which jansson alone would take). */
	expect_400("/v1/requests", tok, b = nested("reason", 33),
	    "invalid_json", "deeper than 32 levels");
	free(b);
	expect_400("/v1/requests", tok, b = nested("reason", 2000),
	    "invalid_json", "deeper than 32 levels");
	free(b);
	expect_400("/v1/login", NULL, b = nested("user", 40), "invalid_json",
	    "deeper than 32 levels");
	free(b);
	/* 32 levels pass the nesting check and meet the field check. */
	expect_400("/v1/requests", tok, b = nested("x", 32),
	    "invalid_request", "unknown field \"x\"");
	free(b);
	/* One byte over each field's bound. */
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		b = long_field(fields[i].key, fields[i].max + 1,
		    fields[i].extra);
		expect_400(fields[i].path, tok, b, "invalid_request",
		    "too long");
		free(b);
	}
	/* NUL inside a string; a body and headers over their caps. */
	expect_400("/v1/requests/1/approve", tok, "{\"comment\":\"a\\u0000b\"}",
	    "invalid_json", "\\u0000 is not allowed");
	b = long_field("reason", 70000, "");
	ck_assert_int_eq(req(NULL, NULL, "POST", "/v1/requests", tok, b, NULL,
	    &r), 413);
	res_free(&r);
	free(b);
	memset(hdr, 'h', sizeof(hdr) - 1);
	hdr[sizeof(hdr) - 1] = '\0';
	memcpy(hdr, "X-Big: ", 7);
	ck_assert_int_eq(req(NULL, NULL, "GET", "/v1/me", tok, NULL, hdr, &r),
	    431);
	res_free(&r);
	/* Nothing was written, nothing was asked for. */
	ck_assert_int_eq(audit_head(), head);
	ck_assert_int_eq(req(NULL, NULL, "GET", "/v1/requests?mine=1", tok,
	    NULL, NULL, &r), 200);
	ck_assert(tu_contains(r.body, "\"requests\":[]"));
	res_free(&r);
	/*
	 * At the bound a field is not too long: it goes on to the checks
	 * after (and may succeed, so this comes last).
	 */
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		b = long_field(fields[i].key, fields[i].max, fields[i].extra);
		req(NULL, NULL, "POST", fields[i].path, tok, b, NULL, &r);
		ck_assert_msg(r.status != 0 && !tu_contains(r.body,
		    "too long"), "%s %s: %ld %s", fields[i].path,
		    fields[i].key, r.status, r.body);
		res_free(&r);
		free(b);
	}
}
END_TEST

/* --- escapes in logs, audit and the terminal ------------------------- */

/*
 * Fails if text holds a control character other than newline (or tab,
 * if tabs), a C1 control or a bidirectional or invisible format
 * character, raw.
 */
static void
assert_clean(const char *what, const char *text, size_t len)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t i;

	for (i = 0; i < len; i++) {
		ck_assert_msg(p[i] >= 0x20 || p[i] == '\n', "%s: raw control "
		    "0x%02x at %zu", what, p[i], i);
		ck_assert_msg(p[i] != 0x7f, "%s: raw DEL at %zu", what, i);
		if (p[i] == 0xc2 && i + 1 < len)
			ck_assert_msg(p[i + 1] < 0x80 || p[i + 1] > 0x9f,
			    "%s: raw C1 control at %zu", what, i);
		if (p[i] == 0xe2 && i + 2 < len && p[i + 1] == 0x80)
			ck_assert_msg(!(p[i + 2] >= 0x8b && p[i + 2] <= 0x8f) &&
			    !(p[i + 2] >= 0xa8 && p[i + 2] <= 0xae),
			    "%s: raw bidi or invisible mark at %zu", what, i);
		if (p[i] == 0xe2 && i + 2 < len && p[i + 1] == 0x81)
			ck_assert_msg(!(p[i + 2] >= 0xa0 && p[i + 2] <= 0xaf),
			    "%s: raw bidi isolate at %zu", what, i);
		if (p[i] == 0xd8 && i + 1 < len)
			ck_assert_msg(p[i + 1] != 0x9c, "%s: raw Arabic letter "
			    "mark at %zu", what, i);
	}
}

/* Runs jit as user (its own JIT_HOME), with argv after the name. */
static struct tu_out
jit_as(const char *user, ...)
{
	char home[512], url[128];
	struct tu_out o;
	va_list ap;
	int r;

	snprintf(home, sizeof(home), "%s/home-%s", tmp, user);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	va_start(ap, user);
	r = tu_jitv(home, url, 60, ap, &o);
	va_end(ap);
	ck_assert_int_eq(r, 0);
	return o;
}

/* jit output must be clean on both streams. */
static struct tu_out
jit_clean(const char *what, const char *user, const char *a1,
    const char *a2, const char *a3, const char *a4)
{
	struct tu_out o = jit_as(user, a1, a2, a3, a4, NULL);

	assert_clean(what, o.out, strlen(o.out));
	assert_clean(what, o.err, strlen(o.err));
	return o;
}

static void
jit_login(const char *user, const char *b32)
{
	char *pwf = tu_path(tmp, "pw"), code[7];
	struct tu_out o;

	tu_write_file(pwf, PW "\n", strlen(PW) + 1, 0600);
	tu_totp(b32, (int64_t)time(NULL), code);
	o = jit_as(user, "login", "--user", user, "--password-file", pwf,
	    "--otp", code, NULL);
	ck_assert_msg(o.status == 0, "jit login %s: %s", user, o.err);
	tu_out_free(&o);
	free(pwf);
}

START_TEST(escapes_everywhere)
{
	char *text, *line, *save = NULL, *exp, *exportf, *key;
	char id[32];
	struct tu_out o;
	struct res r;
	size_t len;
	json_t *j;
	int found = 0;
	long n;

	start();
	jit_login("alice", alice_b32);
	jit_login("bob", bob_b32);
	/* A login attempt whose user name carries every trick. */
	ck_assert_int_eq(req(NULL, NULL, "POST", "/v1/login", NULL,
	    "{\"user\":\"" EVIL_USER_JSON "\",\"password\":\"x\","
	    "\"otp\":\"1\"}", NULL, &r), 401);
	res_free(&r);
	/* A NUL cannot get in at all. */
	ck_assert_int_eq(req(NULL, NULL, "POST", "/v1/login", NULL,
	    "{\"user\":\"ro\\u0000ot\",\"password\":\"x\",\"otp\":\"1\"}",
	    NULL, &r), 400);
	res_free(&r);
	/* A reason with an escape is refused; one with marks is taken. */
	o = jit_as("alice", "request", "demo-ssh", "--for", "30m", "--reason",
	    "deploy \x1b[31mnow", NULL);
	ck_assert_int_eq(o.status, 1);
	ck_assert(tu_contains(o.err, "control characters"));
	assert_clean("refused request", o.err, strlen(o.err));
	tu_out_free(&o);
	o = jit_as("alice", "request", "demo-ssh", "--for", "30m", "--reason",
	    MARKED_REASON, NULL);
	ck_assert_msg(o.status == 0, "%s", o.err);
	ck_assert_int_eq(sscanf(o.out, "request %31[0-9]:", id), 1);
	tu_out_free(&o);
	/* The approver sees the reason, marks escaped. */
	o = jit_clean("jit approvals", "bob", "approvals", NULL, NULL, NULL);
	ck_assert_msg(tu_contains(o.out, "fix \\u200f\\u200edeploy \\u061c "
	    "ok"), "%s", o.out);
	tu_out_free(&o);
	o = jit_as("bob", "approve", id, "--comment", EVIL_COMMENT, NULL);
	ck_assert_msg(o.status == 0, "%s", o.err);
	assert_clean("jit approve", o.out, strlen(o.out));
	tu_out_free(&o);
	o = jit_clean("jit status", "bob", "status", id, NULL, NULL);
	ck_assert_msg(tu_contains(o.out, "lgtm\\x0a\\x1b[2J\\x1b]0;pwned\\x07"
	    "\\x0d\\x08\\u202edeny\\u2066x\\u2069\\u009b"), "%s", o.out);
	ck_assert(tu_contains(o.out, "\\u200f\\u200e"));
	tu_out_free(&o);
	o = jit_clean("jit status (requester)", "alice", "status", id, NULL,
	    NULL);
	ck_assert(tu_contains(o.out, "\\u202edeny"));
	tu_out_free(&o);
	o = jit_clean("jit requests", "alice", "requests", NULL, NULL, NULL);
	ck_assert(tu_contains(o.out, "\\u200f"));
	tu_out_free(&o);
	o = jit_clean("jit requests --all", "bob", "requests", "--all", NULL,
	    NULL);
	tu_out_free(&o);
	o = jit_clean("jit audit", "bob", "audit", NULL, NULL, NULL);
	ck_assert_msg(tu_contains(o.out, "\\x1b[31m\\u202eroot\\x0d\\x0a\\x08"
	    "\\u2066x\\u2069\\u200e\\u200f"), "%s", o.out);
	tu_out_free(&o);
	o = jit_clean("jit audit grants", "bob", "audit", "grants", NULL,
	    NULL);
	ck_assert(tu_contains(o.out, "\\u202edeny"));
	tu_out_free(&o);
	o = jit_clean("jit audit --json", "bob", "audit", "--json", NULL,
	    NULL);
	tu_out_free(&o);
	/* The API itself answers ASCII only. */
	{
		char path[64], tok[128];
		json_t *sess;
		char *sp;

		sp = tu_path(tmp, "home-bob/session.json");
		ck_assert_ptr_nonnull(sess = json_load_file(sp, 0, NULL));
		snprintf(tok, sizeof(tok), "%s", json_string_value(
		    json_object_get(sess, "token")));
		json_decref(sess);
		free(sp);
		snprintf(path, sizeof(path), "/v1/requests/%s", id);
		ck_assert_int_eq(req(NULL, NULL, "GET", path, tok, NULL, NULL,
		    &r), 200);
		assert_clean("GET /v1/requests/ID", r.body, strlen(r.body));
		ck_assert(strcasestr(r.body, "\\u202edeny") != NULL);
		res_free(&r);
	}
	/* The export: ASCII JSON lines, and the chain still verifies. */
	o = jit_as("bob", "audit", "export", NULL);
	ck_assert_msg(o.status == 0, "%s", o.err);
	exp = o.out;
	o.out = NULL;
	tu_out_free(&o);
	assert_clean("audit export", exp, strlen(exp));
	ck_assert(strcasestr(exp, "\\u001b[31m\\u202eroot\\r\\n\\b") != NULL);
	ck_assert(strcasestr(exp, "\\u202edeny\\u2066x\\u2069\\u009b") !=
	    NULL);
	exportf = tu_path(tmp, "export.jsonl");
	tu_write_file(exportf, exp, strlen(exp), 0600);
	key = tu_path(inst, "audit.pub");
	o = jit_as("bob", "audit", "verify", exportf, "--key", key, NULL);
	ck_assert_msg(o.status == 0 && tu_contains(o.out, "intact"), "%s %s",
	    o.out, o.err);
	tu_out_free(&o);
	free(exp);
	stop_jitd();
	/* The SIEM file: one JSON object a line, escapes kept as escapes. */
	text = tu_read_file(siem, &len);
	assert_clean("SIEM file", text, len);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		ck_assert_msg((j = json_loads(line, 0, NULL)) != NULL, "%s",
		    line);
		if (strcmp(json_string_value(json_object_get(j, "actor")),
		    EVIL_USER) == 0)
			found++;
		json_decref(j);
	}
	ck_assert_int_eq(found, 1);
	free(text);
	/* The log: printable ASCII lines, each a structured line. */
	text = tu_read_file(logpath, &len);
	assert_clean("jitd log", text, len);
	for (n = 0; n < (long)len; n++)
		ck_assert_msg((unsigned char)text[n] < 0x7f, "jitd log: byte "
		    "0x%02x at %ld", (unsigned char)text[n], n);
	ck_assert(tu_contains(text, "user=\"\\x1b[31m\\xe2\\x80\\xaeroot"
	    "\\x0d\\x0a\\x08"));
	save = NULL;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		ck_assert_msg(strncmp(line, "time=", 5) == 0, "log line: %s",
		    line);
	free(text);
	free(exportf);
	free(key);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("abuse");
	TCase *tc = tcase_create("abuse");
	SRunner *sr;
	int failed;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, password_flood);
	tcase_add_test(tc, slow_connections);
	tcase_add_test(tc, deep_json_and_long_fields);
	tcase_add_test(tc, escapes_everywhere);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	curl_global_cleanup();
	return failed == 0 ? 0 : 1;
}
