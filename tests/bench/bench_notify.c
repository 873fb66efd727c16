/*
 * make bench: approval round trip to chat.  The real bin/jitd has two
 * notification targets, a signed webhook and a Slack-style incoming
 * webhook, both pointing at a small libmicrohttpd receiver inside this
 * program on 127.0.0.1.  Each round: alice creates a request (POST
 * /v1/requests), bob approves it (POST /v1/requests/{id}/approve), and
 * the receiver notes when each delivery lands.  Printed over
 * BENCH_NOTIFY_ROUNDS rounds (default 50), p50/p99 of:
 *   - the create and approve API calls themselves (baseline);
 *   - a direct POST of a same-sized payload from here to the receiver on
 *     a fresh connection, as the delivery worker makes it (baseline: the
 *     floor of any delivery);
 *   - request sent -> "request.created" at the webhook and at Slack;
 *   - approve sent -> "request.approved" at the webhook and at Slack.
 * Timings are printed, never asserted; the run fails if a delivery does
 * not arrive within 10 s.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "tests/bench/benchlib.h"
#include "tests/lib/testutil.h"

#define MAXREC		4096
#define ROUNDS_MAX	1000
#define WAIT_NS		10000000000ULL

/* One delivery as the receiver saw it. */
struct arrival {
	int		 slack;		/* 0: webhook, 1: Slack */
	int		 approved;	/* 0: created, 1: approved */
	long long	 id;		/* request id */
	uint64_t	 t;		/* bench_now_ns() at arrival */
};

static struct {
	pthread_mutex_t		 mu;
	struct MHD_Daemon	*d;
	int			 port;
	struct arrival		 a[MAXREC];
	int			 n;
} rx = { .mu = PTHREAD_MUTEX_INITIALIZER };

struct rx_conn {
	char	*body;
	size_t	 len;
};

/* Reads what a delivery was about; 0, or -1 if it is not understood. */
static int
classify(const char *url, const char *event, const char *body,
    struct arrival *a)
{
	json_t *js = json_loads(body, 0, NULL);
	const char *text, *p;
	int r = -1;

	if (js == NULL)
		return -1;
	if (strcmp(url, "/hook") == 0 && event != NULL) {
		a->slack = 0;
		a->approved = strcmp(event, "request.approved") == 0;
		a->id = (long long)json_integer_value(json_object_get(
		    json_object_get(js, "request"), "id"));
		r = a->id > 0 ? 0 : -1;
	} else if (strcmp(url, "/slack") == 0 &&
	    (text = json_string_value(json_object_get(js, "text"))) != NULL &&
	    (p = strstr(text, "request #")) != NULL) {
		a->slack = 1;
		a->approved = strstr(text, ": approved") != NULL;
		a->id = atoll(p + 9);
		r = a->id > 0 ? 0 : -1;
	}
	json_decref(js);
	return r;
}

static enum MHD_Result
rx_handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **ptr)
{
	struct rx_conn *cx = *ptr;
	struct MHD_Response *resp;
	struct arrival a;
	enum MHD_Result ret;
	char *q;

	if (cx == NULL) {
		if ((cx = calloc(1, sizeof(*cx))) == NULL)
			return MHD_NO;
		*ptr = cx;
		return MHD_YES;
	}
	if (*size > 0) {
		if (cx->len + *size > 1024 * 1024 ||
		    (q = realloc(cx->body, cx->len + *size + 1)) == NULL)
			return MHD_NO;
		cx->body = q;
		memcpy(cx->body + cx->len, data, *size);
		cx->len += *size;
		cx->body[cx->len] = '\0';
		*size = 0;
		return MHD_YES;
	}
	memset(&a, 0, sizeof(a));
	a.t = bench_now_ns();
	if (cx->body != NULL && strcmp(url, "/direct") != 0 &&
	    classify(url, MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "X-Jitd-Event"), cx->body, &a) == 0) {
		pthread_mutex_lock(&rx.mu);
		if (rx.n < MAXREC)
			rx.a[rx.n++] = a;
		pthread_mutex_unlock(&rx.mu);
	}
	resp = MHD_create_response_from_buffer(2, (void *)"ok",
	    MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void
rx_done(void *cls, struct MHD_Connection *c, void **ptr,
    enum MHD_RequestTerminationCode toe)
{
	struct rx_conn *cx = *ptr;

	if (cx != NULL) {
		free(cx->body);
		free(cx);
	}
	*ptr = NULL;
}

static void
rx_start(void)
{
	struct sockaddr_in sa;

	rx.port = tu_free_port();
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)rx.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rx.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION, (uint16_t)rx.port, NULL, NULL,
	    rx_handler, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_NOTIFY_COMPLETED, rx_done, NULL, MHD_OPTION_END);
	if (rx.d == NULL)
		bench_fatal("cannot start the receiver");
}

/* Waits for the delivery (slack, approved) of request id; its time. */
static uint64_t
wait_arrival(int slack, int approved, long long id)
{
	uint64_t t_end = bench_now_ns() + WAIT_NS, t = 0;
	int i;

	while (t == 0 && bench_now_ns() < t_end) {
		pthread_mutex_lock(&rx.mu);
		for (i = 0; i < rx.n && t == 0; i++)
			if (rx.a[i].slack == slack &&
			    rx.a[i].approved == approved && rx.a[i].id == id)
				t = rx.a[i].t;
		pthread_mutex_unlock(&rx.mu);
		if (t == 0)
			usleep(200);
	}
	if (t == 0)
		bench_fatal("request %lld: no %s %s delivery within 10 s", id,
		    slack ? "Slack" : "webhook", approved ? "approved" :
		    "created");
	return t;
}

static void
configure(struct bench_jitd *j)
{
	json_t *c = bench_cfg_load(j), *roles, *notify;
	char hook[96], slack[96], *keyf;

	keyf = tu_path(j->inst, "webhook.key");
	tu_write_file(keyf, "bench-webhook-signing-key\n", 26, 0600);
	free(keyf);
	snprintf(hook, sizeof(hook), "http://127.0.0.1:%d/hook", rx.port);
	snprintf(slack, sizeof(slack), "http://127.0.0.1:%d/slack", rx.port);
	roles = json_pack("[{s:s,s:{s:[s]},s:[s],s:[s],s:i,s:s}]",
	    "name", "bench", "ssh", "principals", "bench",
	    "requesters", "group:eng", "approvers", "group:sre",
	    "approvals_required", 1, "max_duration", "1h");
	notify = json_pack("[{s:s,s:s,s:s,s:s,s:b},{s:s,s:s,s:s,s:b}]",
	    "type", "webhook", "name", "siem", "url", hook, "secret_file",
	    "webhook.key", "insecure_loopback", 1,
	    "type", "slack", "name", "chat", "url", slack,
	    "insecure_loopback", 1);
	if (roles == NULL || notify == NULL)
		bench_fatal("json_pack");
	json_object_set_new(c, "roles", roles);
	json_object_set_new(c, "notify", notify);
	json_object_set_new(c, "mfa_max_age", json_string("1h"));
	bench_cfg_save(j, c);
}

static size_t
discard(char *data, size_t size, size_t n, void *arg)
{
	return size * n;
}

/* Baseline: a fresh-connection POST of len bytes to the receiver. */
static uint64_t
direct_post(const char *url, const char *body)
{
	struct curl_slist *h = NULL;
	uint64_t t0;
	long status = 0;
	CURL *c;

	if ((c = curl_easy_init()) == NULL)
		bench_fatal("curl_easy_init");
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	t0 = bench_now_ns();
	if (curl_easy_perform(c) != CURLE_OK)
		bench_fatal("direct POST failed");
	t0 = bench_now_ns() - t0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		bench_fatal("direct POST: %ld", status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return t0;
}

static void
row(const char *label, uint64_t *v, int n, double base_p50)
{
	bench_sort(v, (size_t)n);
	printf("  %-46s %9.2f %9.2f %9.2f", label, bench_pct_ms(v, (size_t)n,
	    0.50), bench_pct_ms(v, (size_t)n, 0.99), (double)v[n - 1] / 1e6);
	if (base_p50 > 0)
		printf(" %8.1f", bench_pct_ms(v, (size_t)n, 0.50) / base_p50);
	printf("\n");
}

int
main(void)
{
	static uint64_t l_create[ROUNDS_MAX], l_approve[ROUNDS_MAX],
	    l_direct[ROUNDS_MAX], d_wc[ROUNDS_MAX], d_sc[ROUNDS_MAX],
	    d_wa[ROUNDS_MAX], d_sa[ROUNDS_MAX];
	char a_b32[64], b_b32[64], path[96], durl[96], *alice, *bob;
	char payload[1400];
	struct bench_jitd j;
	struct tu_resp r;
	uint64_t t0, t1;
	double direct_p50;
	const char *base, *fsname;
	long long id;
	int rounds, i, st;

	bench_set_name("bench_notify");
	rounds = (int)bench_env_long("BENCH_NOTIFY_ROUNDS", 50, 3, ROUNDS_MAX);
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	base = bench_pick_base(&fsname);
	rx_start();
	bench_jitd_init(&j, "bench-notify");
	configure(&j);
	bench_jitd_user(&j, "alice", "eng", a_b32);
	bench_jitd_user(&j, "bob", "sre", b_b32);
	bench_jitd_start(&j);
	alice = bench_login(&j, "alice", a_b32);
	bob = bench_login(&j, "bob", b_b32);

	/* A webhook body is about 1 KB: the direct baseline sends as much. */
	memset(payload, 'x', sizeof(payload) - 1);
	payload[0] = '"';
	payload[sizeof(payload) - 2] = '"';
	payload[sizeof(payload) - 1] = '\0';
	snprintf(durl, sizeof(durl), "http://127.0.0.1:%d/direct", rx.port);
	for (i = 0; i < rounds; i++) {
		l_direct[i] = direct_post(durl, payload);
		t0 = bench_now_ns();
		bench_call(&j, "POST", "/v1/requests", alice, "{\"role\":"
		    "\"bench\",\"reason\":\"benchmark round trip\","
		    "\"duration\":\"10m\"}", 201, &r);
		l_create[i] = bench_now_ns() - t0;
		id = (long long)json_integer_value(json_object_get(r.json,
		    "id"));
		tu_resp_free(&r);
		d_wc[i] = wait_arrival(0, 0, id) - t0;
		d_sc[i] = wait_arrival(1, 0, id) - t0;
		snprintf(path, sizeof(path), "/v1/requests/%lld/approve", id);
		t1 = bench_now_ns();
		bench_call(&j, "POST", path, bob, "{\"comment\":\"ok\"}", 200,
		    &r);
		l_approve[i] = bench_now_ns() - t1;
		tu_resp_free(&r);
		d_wa[i] = wait_arrival(0, 1, id) - t1;
		d_sa[i] = wait_arrival(1, 1, id) - t1;
	}
	st = bench_jitd_stop(&j);

	printf("bench_notify: approval round trip to chat, %d rounds, "
	    "receiver on 127.0.0.1\n", rounds);
	printf("  instance on %s (%s), %ld cores; targets: signed webhook + "
	    "Slack incoming webhook\n", base, fsname,
	    sysconf(_SC_NPROCESSORS_ONLN));
	printf("  %-46s %9s %9s %9s %8s\n", "", "p50 ms", "p99 ms", "max ms",
	    "/direct");
	direct_p50 = (bench_sort(l_direct, (size_t)rounds),
	    bench_pct_ms(l_direct, (size_t)rounds, 0.50));
	row("direct POST to the receiver, new conn (baseline)", l_direct,
	    rounds, direct_p50);
	row("POST /v1/requests (API call, baseline)", l_create, rounds,
	    direct_p50);
	row("POST /v1/requests/{id}/approve (API call)", l_approve, rounds,
	    direct_p50);
	row("request sent -> webhook request.created", d_wc, rounds,
	    direct_p50);
	row("request sent -> Slack request.created", d_sc, rounds,
	    direct_p50);
	row("approve sent -> webhook request.approved", d_wa, rounds,
	    direct_p50);
	row("approve sent -> Slack request.approved", d_sa, rounds,
	    direct_p50);
	printf("  (/direct: p50 over the direct POST's p50; jitd exit %d)\n",
	    st);
	bench_print_load();
	MHD_stop_daemon(rx.d);
	curl_global_cleanup();
	bench_jitd_free(&j);
	free(alice);
	free(bob);
	return st != 0;
}
