/*
 * Notifications end to end, with jitd in-process on an injected clock and
 * a test chat/webhook receiver (libmicrohttpd) on 127.0.0.1 in this
 * process: payloads and signatures of webhooks and Slack messages for
 * every event; a receiver that is stopped, then back (retries with
 * backoff, moved along by the fake clock); jitd closed with undelivered
 * rows and reopened (nothing lost); dead after notify_max_attempts (audit
 * and metrics).  Inbound Slack callbacks signed here with the configured
 * secret: a valid click approves; bad signature, stale and future
 * timestamps, replays, unknown chat users, the requester and a
 * non-approver are refused and audited; without slack_mfa_asserted the
 * reply links to the approval page and nothing is decided.  Config checks
 * of outbound URLs.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include "broker/config.h"
#include "broker/instance.h"
#include "broker/notify.h"
#include "broker/serve.h"
#include "broker/server.h"
#include "broker/store_outbox.h"
#include "common/clock.h"
#include "common/err.h"
#include "tests/lib/instdb.h"
#include "tests/lib/http.h"
#include "tests/lib/testutil.h"

#define PW		"correct horse battery"
#define HOOK_KEY	"webhook-secret-0123456789abcdef"
#define SLACK_KEY	"8f742231b10e8888abcd99yyyzzz85a5"
#define PUBLIC_URL	"https://jitd.example.test"
#define MAXREC		256

static volatile int64_t fake_now;
static char *tmp, *inst, *cfgpath, *base;
static struct server *srv;
static int mfa_asserted = 1;
static struct {
	char	name[32];
	char	b32[64];
	char	token[64];
} users[8];
static int nusers;

/* ---- the test receiver ---- */

struct rec {
	char	path[64];
	char	ts[32];
	char	sig[80];
	char	event[40];
	char	*body;
};

static struct {
	pthread_mutex_t		 mu;
	struct MHD_Daemon	*d;
	int			 port;
	int			 fail;		/* answer 500 */
	struct rec		 r[MAXREC];
	int			 n;
} rx = { .mu = PTHREAD_MUTEX_INITIALIZER };

struct rx_conn {
	char	*body;
	size_t	 len;
};

static void
copy_header(struct MHD_Connection *c, const char *name, char *out,
    size_t len)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);

	snprintf(out, len, "%s", v != NULL ? v : "");
}

static enum MHD_Result
rx_handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **ptr)
{
	struct rx_conn *cx = *ptr;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	int fail;

	if (cx == NULL) {
		cx = calloc(1, sizeof(*cx));
		*ptr = cx;
		return MHD_YES;
	}
	if (*size > 0) {
		cx->body = realloc(cx->body, cx->len + *size + 1);
		memcpy(cx->body + cx->len, data, *size);
		cx->len += *size;
		cx->body[cx->len] = '\0';
		*size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&rx.mu);
	fail = rx.fail;
	if (!fail && rx.n < MAXREC) {
		struct rec *r = &rx.r[rx.n++];

		snprintf(r->path, sizeof(r->path), "%s", url);
		copy_header(c, "X-Jitd-Timestamp", r->ts, sizeof(r->ts));
		copy_header(c, "X-Jitd-Signature", r->sig, sizeof(r->sig));
		copy_header(c, "X-Jitd-Event", r->event, sizeof(r->event));
		r->body = cx->body != NULL ? cx->body : strdup("");
		cx->body = NULL;
	}
	pthread_mutex_unlock(&rx.mu);
	resp = MHD_create_response_from_buffer(2, (void *)"ok",
	    MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(c, fail ? 500 : 200, resp);
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

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)rx.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rx.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION, (uint16_t)rx.port, NULL, NULL,
	    rx_handler, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1,
	    MHD_OPTION_NOTIFY_COMPLETED, rx_done, NULL, MHD_OPTION_END);
	ck_assert_ptr_nonnull(rx.d);
}

static void
rx_stop(void)
{
	if (rx.d != NULL)
		MHD_stop_daemon(rx.d);
	rx.d = NULL;
}

static int
rx_count(void)
{
	int n;

	pthread_mutex_lock(&rx.mu);
	n = rx.n;
	pthread_mutex_unlock(&rx.mu);
	return n;
}

static void
pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Kicks the worker until the receiver holds n records (30 s at most). */
static void
wait_received(int n)
{
	int i;

	for (i = 0; i < 600 && rx_count() < n; i++) {
		notify_worker_kick(srv);
		pause_ms(50);
	}
	ck_assert_msg(rx_count() >= n, "received %d of %d", rx_count(), n);
}

/* Finds the record for (path, event, request id), or NULL. */
static struct rec *
rx_find(const char *path, const char *event, json_int_t id, json_t **body)
{
	json_t *j;
	int i;

	for (i = 0; i < rx_count(); i++) {
		struct rec *r = &rx.r[i];

		if (strcmp(r->path, path) != 0)
			continue;
		if ((j = json_loads(r->body, 0, NULL)) == NULL)
			continue;
		if (strcmp(path, "/hook") == 0 &&
		    strcmp(json_string_value(json_object_get(j, "event")),
		    event) == 0 && json_integer_value(json_object_get(
		    json_object_get(j, "request"), "id")) == id) {
			*body = j;
			return r;
		}
		if (strcmp(path, "/slack") == 0) {
			char needle[64];

			snprintf(needle, sizeof(needle), "#%lld*",
			    (long long)id);
			if (strstr(r->body, needle) != NULL &&
			    strstr(r->body, event) != NULL) {
				*body = j;
				return r;
			}
		}
		json_decref(j);
	}
	return NULL;
}

/* ---- jitd ---- */

static int64_t
fake_clock(void)
{
	return fake_now;
}

static int
user_index(const char *name)
{
	int i;

	for (i = 0; i < nusers; i++)
		if (strcmp(users[i].name, name) == 0)
			return i;
	return -1;
}

static void
jitd_cmd(char *const argv[], struct tu_out *o)
{
	ck_assert_int_eq(tu_run(argv, NULL, NULL, 60, o), 0);
	ck_assert_msg(o->status == 0, "jitd %s: %s", argv[3], o->err);
}

static void
add_user(const char *name, const char *groups, const char *slack)
{
	char *pwf = tu_path(tmp, "pw"), *jitd = tu_bin("jitd");
	char *argv[] = { jitd, "-c", cfgpath, "user", "add", (char *)name,
	    "--groups", (char *)groups, "--password-file", pwf, NULL };
	char *largv[] = { jitd, "-c", cfgpath, "user", "link", (char *)name,
	    "--slack", (char *)slack, NULL };
	struct tu_out o;
	const char *s;

	tu_write_file(pwf, PW "\n", strlen(PW) + 1, 0600);
	jitd_cmd(argv, &o);
	s = strstr(o.out, "totp_secret: ");
	ck_assert_ptr_nonnull(s);
	snprintf(users[nusers].name, sizeof(users[nusers].name), "%s", name);
	ck_assert_int_eq(sscanf(s, "totp_secret: %63s", users[nusers].b32),
	    1);
	nusers++;
	tu_out_free(&o);
	if (slack != NULL) {
		jitd_cmd(largv, &o);
		tu_out_free(&o);
	}
	free(pwf);
	free(jitd);
}

static void
call(const char *method, const char *path, const char *user,
    const char *body, struct tu_resp *r)
{
	char url[512];
	const char *tok = NULL;
	int i;

	if (user != NULL) {
		ck_assert_int_ge(i = user_index(user), 0);
		tok = users[i].token;
	}
	snprintf(url, sizeof(url), "%s%s", base, path);
	ck_assert_int_eq(tu_http(method, url, tok, body, body != NULL ?
	    strlen(body) : 0, NULL, NULL, NULL, r), 0);
}

static void
login(const char *name)
{
	struct tu_resp r;
	char code[7], body[256];
	int i = user_index(name);

	tu_totp(users[i].b32, fake_now, code);
	snprintf(body, sizeof(body), "{\"user\":\"%s\",\"password\":\"" PW
	    "\",\"otp\":\"%s\"}", name, code);
	call("POST", "/v1/login", NULL, body, &r);
	ck_assert_msg(r.status == 200, "login %s: %s", name, r.body);
	snprintf(users[i].token, sizeof(users[i].token), "%s",
	    tu_jstr(&r, "token"));
	tu_resp_free(&r);
}

static void
login_all(void)
{
	login("alice");
	login("bob");
	login("carol");
	login("audrey");
}

static const char roles_json[] =
"[{\"name\":\"prod-ssh\",\"ssh\":{\"principals\":[\"webadmin\"]},"
"  \"requesters\":[\"group:eng\"],\"approvers\":[\"group:sre\"],"
"  \"approvals_required\":1,\"max_duration\":\"1h\",\"pending_ttl\":\"1h\","
"  \"require_reason\":false},"
" {\"name\":\"glass\",\"ssh\":{\"principals\":[\"webadmin\"]},"
"  \"requesters\":[\"group:eng\"],\"approvers\":[\"group:sre\"],"
"  \"approvals_required\":1,\"break_glass\":true,\"max_duration\":\"1h\","
"  \"require_reason\":true}]";

static void
write_config(void)
{
	json_t *c = json_load_file(cfgpath, 0, NULL), *targets;
	char url[128];

	ck_assert_ptr_nonnull(c);
	targets = json_array();
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", rx.port);
	json_array_append_new(targets, json_pack("{s:s,s:s,s:s,s:s,s:b}",
	    "name", "siem", "type", "webhook", "url", url, "secret_file",
	    "hook.key", "insecure_loopback", 1));
	snprintf(url, sizeof(url), "http://localhost:%d/slack", rx.port);
	json_array_append_new(targets, json_pack("{s:s,s:s,s:b}", "type",
	    "slack", "url", url, "insecure_loopback", 1));
	json_object_set_new(c, "notify", targets);
	json_object_set_new(c, "notify_max_attempts", json_integer(3));
	json_object_set_new(c, "slack_signing_secret_file",
	    json_string("slack.key"));
	json_object_set_new(c, "slack_mfa_asserted",
	    json_boolean(mfa_asserted));
	json_object_set_new(c, "public_url", json_string(PUBLIC_URL "/"));
	ck_assert_int_eq(json_dump_file(c, cfgpath, JSON_INDENT(2)), 0);
	json_decref(c);
}

static void
open_jitd(void)
{
	char *err = NULL;

	ck_assert_msg(serve_open(cfgpath, NULL, &srv, &err) == JIT_OK, "%s",
	    err);
}

static void
setup(void)
{
	json_t *c;
	char *err = NULL, listen[64], *p;
	int port = tu_free_port();

	tmp = tu_mkdtemp("notify");
	inst = tu_path(tmp, "inst");
	cfgpath = tu_path(inst, "jitd.json");
	ck_assert_msg(tu_instance_create(inst, &err) == JIT_OK, "%s", err);
	c = json_load_file(cfgpath, 0, NULL);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	json_object_set_new(c, "listen", json_string(listen));
	json_object_set_new(c, "roles", json_loads(roles_json, 0, NULL));
	json_object_set_new(c, "sweep_interval", json_string("1s"));
	json_object_set_new(c, "auditors", json_pack("[s]", "group:audit"));
	ck_assert_int_eq(json_dump_file(c, cfgpath, JSON_INDENT(2)), 0);
	json_decref(c);
	p = tu_path(inst, "hook.key");
	tu_write_file(p, HOOK_KEY "\n", strlen(HOOK_KEY) + 1, 0600);
	free(p);
	p = tu_path(inst, "slack.key");
	tu_write_file(p, SLACK_KEY, strlen(SLACK_KEY), 0600);
	free(p);
	rx.port = tu_free_port();
	rx.n = 0;
	rx.fail = 0;
	write_config();
	nusers = 0;
	add_user("alice", "eng", "UALICE");
	add_user("carol", "eng", "UCAROL");
	add_user("bob", "sre", "UBOB");
	add_user("audrey", "audit", NULL);
	fake_now = (time(NULL) / 30) * 30 + 5;
	jit_clock_set(fake_clock);
	rx_start();
	open_jitd();
	if (asprintf(&base, "http://127.0.0.1:%d", port) == -1)
		abort();
	login_all();
}

static void
setup_nomfa(void)
{
	mfa_asserted = 0;
	setup();
}

static void
teardown(void)
{
	int i;

	serve_close(srv);
	srv = NULL;
	rx_stop();
	for (i = 0; i < rx.n; i++)
		free(rx.r[i].body);
	rx.n = 0;
	jit_clock_set(NULL);
	tu_rmdir(tmp);
	free(tmp);
	free(inst);
	free(cfgpath);
	free(base);
	mfa_asserted = 1;
}

static json_int_t
request(const char *user, const char *body, const char *state)
{
	struct tu_resp r;
	json_int_t id;

	call("POST", "/v1/requests", user, body, &r);
	ck_assert_msg(r.status == 201, "create: %ld %s", r.status, r.body);
	id = json_integer_value(json_object_get(r.json, "id"));
	ck_assert_str_eq(tu_jstr(&r, "state"), state);
	tu_resp_free(&r);
	return id;
}

static void
act(const char *user, json_int_t id, const char *action, long want)
{
	struct tu_resp r;
	char path[128];

	snprintf(path, sizeof(path), "/v1/requests/%lld/%s", (long long)id,
	    action);
	call("POST", path, user, NULL, &r);
	ck_assert_msg(r.status == want, "%s %s: %ld %s", user, action,
	    r.status, r.body);
	tu_resp_free(&r);
}

static const char *
req_state(json_int_t id)
{
	static char st[32];
	struct tu_resp r;
	char path[64];

	snprintf(path, sizeof(path), "/v1/requests/%lld", (long long)id);
	call("GET", path, "audrey", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	snprintf(st, sizeof(st), "%s", tu_jstr(&r, "state"));
	tu_resp_free(&r);
	return st;
}

/* Audit events with action and outcome whose details contain needle. */
static int
audit_count(const char *action, const char *outcome, const char *needle)
{
	struct tu_resp r;
	char path[256];
	json_t *evs;
	size_t i;
	int n = 0;

	snprintf(path, sizeof(path), "/v1/audit?action=%s&limit=1000", action);
	call("GET", path, "audrey", NULL, &r);
	ck_assert_int_eq(r.status, 200);
	evs = json_object_get(r.json, "events");
	for (i = 0; i < json_array_size(evs); i++) {
		json_t *e = json_array_get(evs, i);
		char *d = json_dumps(e, JSON_COMPACT);

		if (strcmp(json_string_value(json_object_get(e, "outcome")),
		    outcome) == 0 && (needle == NULL || strstr(d, needle) !=
		    NULL))
			n++;
		free(d);
	}
	tu_resp_free(&r);
	return n;
}

static void
hmac_hex(const char *key, const char *prefix, const char *ts,
    const char *body, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	char *msg;
	int i;

	if (asprintf(&msg, "%s:%s:%s", prefix, ts, body) == -1)
		abort();
	ck_assert_ptr_nonnull(HMAC(EVP_sha256(), key, (int)strlen(key),
	    (unsigned char *)msg, strlen(msg), md, &mdlen));
	for (i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
	free(msg);
}

/* ---- outbound ---- */

static void
check_webhook(json_int_t id, const char *event, const char *actor)
{
	struct rec *r;
	json_t *b;
	char want[65];

	ck_assert_msg((r = rx_find("/hook", event, id, &b)) != NULL,
	    "no webhook %s for %lld", event, (long long)id);
	ck_assert_str_eq(r->event, event);
	hmac_hex(HOOK_KEY, "v1", r->ts, r->body, want);
	ck_assert_int_eq(strncmp(r->sig, "v1=", 3), 0);
	ck_assert_str_eq(r->sig + 3, want);
	ck_assert_int_eq(atoll(r->ts), fake_now);
	ck_assert_int_eq(json_integer_value(json_object_get(b, "version")),
	    1);
	ck_assert_uint_eq(strlen(json_string_value(json_object_get(b,
	    "delivery"))), 32);
	ck_assert_str_eq(json_string_value(json_object_get(b, "actor")),
	    actor);
	{
		char url[128];

		snprintf(url, sizeof(url), PUBLIC_URL "/#request/%lld",
		    (long long)id);
		ck_assert_str_eq(json_string_value(json_object_get(b, "url")),
		    url);
	}
	json_decref(b);
}

START_TEST(payloads_and_signatures)
{
	json_int_t a, d, g, e;
	json_t *b, *blocks, *el;
	struct rec *r;
	size_t i;
	int found = 0, n;

	a = request("alice", "{\"role\":\"prod-ssh\",\"duration\":\"30m\","
	    "\"reason\":\"disk <full> & more\"}", "pending");
	wait_received(2);
	check_webhook(a, "request.created", "alice");
	/* A tampered body would not verify. */
	{
		char want[65];

		r = rx_find("/hook", "request.created", a, &b);
		json_decref(b);
		hmac_hex("wrong key", "v1", r->ts, r->body, want);
		ck_assert_str_ne(r->sig + 3, want);
	}
	/* Slack: blocks with the details and the two buttons. */
	ck_assert_ptr_nonnull(r = rx_find("/slack", "requested", a, &b));
	ck_assert_str_eq(r->sig, "");
	ck_assert(strstr(r->body, "disk &lt;full&gt; &amp; more") != NULL);
	blocks = json_object_get(b, "blocks");
	for (i = 0; i < json_array_size(blocks); i++) {
		json_t *blk = json_array_get(blocks, i);

		if (strcmp(json_string_value(json_object_get(blk, "type")),
		    "actions") != 0)
			continue;
		el = json_object_get(blk, "elements");
		ck_assert_int_eq(json_array_size(el), 2);
		ck_assert_str_eq(json_string_value(json_object_get(
		    json_array_get(el, 0), "action_id")), "approve");
		ck_assert_str_eq(json_string_value(json_object_get(
		    json_array_get(el, 1), "action_id")), "deny");
		ck_assert_int_eq(atoll(json_string_value(json_object_get(
		    json_array_get(el, 0), "value"))), a);
		ck_assert_int_eq(atoll(json_string_value(json_object_get(
		    json_array_get(el, 1), "value"))), a);
		found = 1;
	}
	ck_assert(found);
	ck_assert(json_is_string(json_object_get(b, "text")));
	json_decref(b);
	/* Approve, deny, break-glass, revoke, expire. */
	act("bob", a, "approve", 200);
	d = request("alice", "{\"role\":\"prod-ssh\",\"duration\":\"5m\"}",
	    "pending");
	act("bob", d, "deny", 200);
	g = request("carol", "{\"role\":\"glass\",\"duration\":\"5m\","
	    "\"reason\":\"INC-9 outage\"}", "approved");
	act("bob", a, "revoke", 200);
	wait_received(2 + 2 + 2 + 2 + 4 + 2);
	check_webhook(a, "request.approved", "bob");
	check_webhook(d, "request.created", "alice");
	check_webhook(d, "request.denied", "bob");
	check_webhook(g, "request.created", "carol");
	check_webhook(g, "breakglass.used", "carol");
	check_webhook(a, "request.revoked", "bob");
	ck_assert_ptr_nonnull(rx_find("/slack", "BREAK-GLASS used", g, &b));
	json_decref(b);
	/* Approved messages carry no buttons. */
	ck_assert_ptr_nonnull(r = rx_find("/slack", "approved by bob", a, &b));
	ck_assert(strstr(r->body, "\"actions\"") == NULL);
	json_decref(b);
	e = request("alice", "{\"role\":\"prod-ssh\",\"duration\":\"5m\"}",
	    "pending");
	n = 14 + 2;
	wait_received(n);
	fake_now += 3601;
	/* The sweeper (every second) expires it and g's grant. */
	wait_received(n + 4);
	check_webhook(e, "request.expired", "jitd");
	check_webhook(g, "request.expired", "jitd");
	/* Every row delivered; metrics agree. */
	{
		struct tu_resp m;

		call("GET", "/metrics", NULL, NULL, &m);
		ck_assert(strstr(m.body, "jitd_notify_pending 0\n") != NULL);
		ck_assert(strstr(m.body, "jitd_notify_delivered_total 20\n") !=
		    NULL);
		ck_assert(strstr(m.body, "jitd_notify_dead_total 0\n") != NULL);
		tu_resp_free(&m);
	}
}
END_TEST

struct ob_stat {
	int	pending, attempts_min;
};

static int
ob_one(void *arg, const struct store_outbox *o)
{
	struct ob_stat *s = arg;

	if (strcmp(o->state, "pending") == 0) {
		s->pending++;
		if (s->attempts_min < 0 || o->attempts < s->attempts_min)
			s->attempts_min = o->attempts;
	}
	return JIT_OK;
}

static struct ob_stat
outbox_stat(void)
{
	struct ob_stat s = { 0, -1 };

	ck_assert_int_eq(store_outbox_list(srv->store, NULL, 0, 1000, ob_one,
	    &s), JIT_OK);
	return s;
}

/* Kicks the worker until every pending row has >= n attempts. */
static void
wait_attempts(int n)
{
	int i;

	for (i = 0; i < 600; i++) {
		struct ob_stat s = outbox_stat();

		if (s.pending == 0 || s.attempts_min >= n)
			return;
		notify_worker_kick(srv);
		pause_ms(50);
	}
	ck_abort_msg("attempts did not reach %d", n);
}

START_TEST(retries_and_restart)
{
	json_int_t a, b;
	json_t *j;

	/* The receiver is down: attempts fail and are rescheduled. */
	rx_stop();
	a = request("alice", "{\"role\":\"prod-ssh\",\"duration\":\"5m\"}",
	    "pending");
	wait_attempts(1);
	ck_assert_int_eq(outbox_stat().pending, 2);
	/* Not due again until the backoff has passed. */
	notify_worker_kick(srv);
	pause_ms(300);
	ck_assert_int_eq(outbox_stat().attempts_min, 1);
	fake_now += 2;
	wait_attempts(2);
	/* Back up: the next due attempt delivers. */
	rx_start();
	fake_now += 10;
	wait_received(2);
	check_webhook(a, "request.created", "alice");
	ck_assert_int_eq(outbox_stat().pending, 0);
	ck_assert_ptr_nonnull(rx_find("/slack", "requested", a, &j));
	json_decref(j);
	/* Down again; jitd stops with undelivered rows and starts again. */
	rx_stop();
	b = request("alice", "{\"role\":\"prod-ssh\",\"duration\":\"5m\"}",
	    "pending");
	act("bob", b, "approve", 200);
	wait_attempts(1);
	ck_assert_int_eq(outbox_stat().pending, 4);
	serve_close(srv);
	srv = NULL;
	rx_start();
	open_jitd();
	ck_assert_int_eq(outbox_stat().pending, 4);
	fake_now += 10;
	wait_received(6);
	ck_assert_int_eq(outbox_stat().pending, 0);
	check_webhook(b, "request.created", "alice");
	check_webhook(b, "request.approved", "bob");
	/* Each delivery arrived once. */
	ck_assert_int_eq(rx_count(), 6);
}
END_TEST

START_TEST(dead_after_max_attempts)
{
	struct tu_resp m;
	json_int_t a;
	int i;

	pthread_mutex_lock(&rx.mu);
	rx.fail = 1;
	pthread_mutex_unlock(&rx.mu);
	a = request("alice", "{\"role\":\"prod-ssh\",\"duration\":\"5m\"}",
	    "pending");
	for (i = 1; i <= 3; i++) {
		wait_attempts(i);
		fake_now += 301;
	}
	ck_assert_int_eq(outbox_stat().pending, 0);
	login_all();
	{
		char needle[64];

		snprintf(needle, sizeof(needle), "\"target\":\"request:%lld\"",
		    (long long)a);
		ck_assert_int_eq(audit_count("notify.dead", "failed", needle),
		    2);
		ck_assert_int_eq(audit_count("notify.dead", "failed",
		    "HTTP status 500"), 2);
	}
	call("GET", "/metrics", NULL, NULL, &m);
	ck_assert(strstr(m.body, "jitd_notify_dead_total 2\n") != NULL);
	ck_assert(strstr(m.body, "jitd_notify_pending 0\n") != NULL);
	ck_assert(strstr(m.body, "jitd_notify_failed_attempts_total 6\n") !=
	    NULL);
	tu_resp_free(&m);
	ck_assert_int_eq(rx_count(), 0);
}
END_TEST

/* ---- inbound ---- */

struct click {
	const char	*user;		/* chat user id */
	const char	*action;	/* approve, deny */
	json_int_t	 id;
	const char	*action_ts;
	int64_t		 ts;		/* request timestamp */
	const char	*key;		/* signing secret */
};

static void
slack_post(const struct click *c, struct tu_resp *out)
{
	struct curl_slist *h = NULL;
	char *json, *enc, *body, ts[32], sig[65], line[160], url[256];
	json_t *p;
	CURL *cu;
	FILE *f;
	size_t blen = 0;

	p = json_pack("{s:s,s:{s:s,s:s},s:{s:s},s:s,s:[{s:s,s:s,s:s,s:s,"
	    "s:s}]}", "type", "block_actions", "user", "id", c->user,
	    "username", "someone", "team", "id", "T1", "response_url",
	    "https://hooks.slack.test/actions/1", "actions", "action_id",
	    c->action, "block_id", "b", "value", "", "type", "button",
	    "action_ts", c->action_ts);
	{
		char v[32];

		snprintf(v, sizeof(v), "%lld", (long long)c->id);
		json_object_set_new(json_array_get(json_object_get(p,
		    "actions"), 0), "value", json_string(v));
	}
	json = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	cu = curl_easy_init();
	enc = curl_easy_escape(cu, json, 0);
	if (asprintf(&body, "payload=%s", enc) == -1)
		abort();
	blen = strlen(body);
	snprintf(ts, sizeof(ts), "%lld", (long long)c->ts);
	hmac_hex(c->key, "v0", ts, body, sig);
	snprintf(line, sizeof(line), "X-Slack-Request-Timestamp: %s", ts);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof(line), "X-Slack-Signature: v0=%s", sig);
	h = curl_slist_append(h, line);
	h = curl_slist_append(h,
	    "Content-Type: application/x-www-form-urlencoded");
	h = curl_slist_append(h, "Expect:");
	snprintf(url, sizeof(url), "%s/v1/hooks/slack", base);
	memset(out, 0, sizeof(*out));
	f = open_memstream(&out->body, &out->len);
	curl_easy_setopt(cu, CURLOPT_URL, url);
	curl_easy_setopt(cu, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(cu, CURLOPT_POSTFIELDSIZE, (long)blen);
	curl_easy_setopt(cu, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(cu, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
	ck_assert_int_eq(curl_easy_perform(cu), CURLE_OK);
	curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &out->status);
	fclose(f);
	out->headers = strdup("");
	out->json = json_loads(out->body, 0, NULL);
	curl_slist_free_all(h);
	curl_free(enc);
	curl_easy_cleanup(cu);
	free(body);
	free(json);
}

static const char *
reply_text(struct tu_resp *r)
{
	return tu_jstr(r, "text");
}

START_TEST(slack_callbacks)
{
	struct click c;
	struct tu_resp r;
	json_int_t a;

	a = request("alice", "{\"role\":\"prod-ssh\",\"duration\":\"30m\"}",
	    "pending");
	memset(&c, 0, sizeof(c));
	c.user = "UBOB";
	c.action = "approve";
	c.id = a;
	c.action_ts = "1700000000.000100";
	c.ts = fake_now;
	c.key = SLACK_KEY;
	/* A bad signature. */
	c.key = "not the secret";
	slack_post(&c, &r);
	ck_assert_int_eq(r.status, 401);
	tu_resp_free(&r);
	c.key = SLACK_KEY;
	/* Old and future timestamps (signed correctly). */
	c.ts = fake_now - 301;
	slack_post(&c, &r);
	ck_assert_int_eq(r.status, 401);
	tu_resp_free(&r);
	c.ts = fake_now + 301;
	slack_post(&c, &r);
	ck_assert_int_eq(r.status, 401);
	tu_resp_free(&r);
	c.ts = fake_now;
	ck_assert_int_eq(audit_count("slack.callback", "refused",
	    "bad signature"), 1);
	ck_assert_int_eq(audit_count("slack.callback", "refused",
	    "five-minute window"), 2);
	ck_assert_str_eq(req_state(a), "pending");
	/* An unknown chat user. */
	c.user = "UNOBODY";
	c.action_ts = "1700000000.000200";
	slack_post(&c, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strstr(reply_text(&r), "not linked") != NULL);
	tu_resp_free(&r);
	ck_assert_int_eq(audit_count("slack.action", "refused",
	    "chat user not linked"), 1);
	/* The requester on her own request. */
	c.user = "UALICE";
	c.action_ts = "1700000000.000300";
	slack_post(&c, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strncmp(reply_text(&r), "Refused:", 8) == 0);
	ck_assert(json_is_false(json_object_get(r.json, "replace_original")));
	tu_resp_free(&r);
	/* Not an approver. */
	c.user = "UCAROL";
	c.action_ts = "1700000000.000400";
	slack_post(&c, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strncmp(reply_text(&r), "Refused:", 8) == 0);
	tu_resp_free(&r);
	ck_assert_int_eq(audit_count("request.approve", "refused",
	    "\"via\":\"slack\""), 2);
	ck_assert_int_eq(audit_count("request.approve", "refused",
	    "\"actor\":\"alice\""), 1);
	ck_assert_int_eq(audit_count("request.approve", "refused",
	    "\"actor\":\"carol\""), 1);
	ck_assert_str_eq(req_state(a), "pending");
	/* bob's click approves, and the reply replaces the message. */
	c.user = "UBOB";
	c.action_ts = "1700000000.000500";
	slack_post(&c, &r);
	ck_assert_msg(r.status == 200, "%s", r.body);
	ck_assert(json_is_true(json_object_get(r.json, "replace_original")));
	ck_assert_str_eq(tu_jstr(&r, "jitd_state"), "approved");
	ck_assert_str_eq(tu_jstr(&r, "jitd_decided_by"), "bob");
	ck_assert(strstr(r.body, "Approved by *bob* via Slack") != NULL);
	ck_assert(strstr(r.body, "\"actions\"") == NULL);
	tu_resp_free(&r);
	ck_assert_str_eq(req_state(a), "approved");
	ck_assert_int_eq(audit_count("request.approve", "ok",
	    "\"via\":\"slack\""), 1);
	/* The same click again is a replay: refused and audited. */
	slack_post(&c, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(strstr(reply_text(&r), "already received") != NULL);
	tu_resp_free(&r);
	ck_assert_int_eq(audit_count("slack.action", "refused", "replay"), 1);
	/* The approval was notified like an API approval. */
	wait_received(4);
	check_webhook(a, "request.approved", "bob");
	/* A form body that is not a payload, correctly signed. */
	{
		struct tu_resp x;
		char url[256];

		snprintf(url, sizeof(url), "%s/v1/hooks/slack", base);
		ck_assert_int_eq(tu_http("POST", url, NULL, "a=b", 3,
		    "application/x-www-form-urlencoded", NULL, NULL, &x), 0);
		ck_assert_int_eq(x.status, 401);
		tu_resp_free(&x);
	}
}
END_TEST

START_TEST(slack_without_mfa_links_to_page)
{
	struct click c;
	struct tu_resp r;
	json_int_t a;
	char link[128];

	a = request("alice", "{\"role\":\"prod-ssh\",\"duration\":\"30m\"}",
	    "pending");
	memset(&c, 0, sizeof(c));
	c.user = "UBOB";
	c.action = "approve";
	c.id = a;
	c.action_ts = "1700000001.000100";
	c.ts = fake_now;
	c.key = SLACK_KEY;
	slack_post(&c, &r);
	ck_assert_int_eq(r.status, 200);
	snprintf(link, sizeof(link), PUBLIC_URL "/#request/%lld",
	    (long long)a);
	ck_assert_msg(strstr(reply_text(&r), link) != NULL, "%s", r.body);
	tu_resp_free(&r);
	ck_assert_str_eq(req_state(a), "pending");
	ck_assert_int_eq(audit_count("slack.action", "refused",
	    "does not count as MFA"), 1);
	ck_assert_int_eq(audit_count("request.approve", "ok", NULL), 0);
}
END_TEST

/* ---- configuration ---- */

static int
load_with_target(const char *target_json, char **err)
{
	json_t *c = json_load_file(cfgpath, 0, NULL);
	struct config *cfg = NULL;
	int r;

	json_object_set_new(c, "notify", json_pack("[o]",
	    json_loads(target_json, 0, NULL)));
	ck_assert_int_eq(json_dump_file(c, cfgpath, JSON_INDENT(2)), 0);
	json_decref(c);
	free(*err);
	*err = NULL;
	r = config_load(cfgpath, &cfg, err);
	config_unref(cfg);
	return r;
}

START_TEST(config_checks)
{
	char *err = NULL;

	ck_assert_int_eq(load_with_target("{\"type\":\"webhook\",\"url\":"
	    "\"https://hooks.example.com/x\",\"secret_file\":\"hook.key\"}",
	    &err), JIT_OK);
	ck_assert_int_ne(load_with_target("{\"type\":\"webhook\",\"url\":"
	    "\"http://hooks.example.com/x\",\"secret_file\":\"hook.key\"}",
	    &err), JIT_OK);
	ck_assert(strstr(err, "must use https") != NULL);
	ck_assert_int_ne(load_with_target("{\"type\":\"webhook\",\"url\":"
	    "\"http://10.0.0.1/x\",\"secret_file\":\"hook.key\","
	    "\"insecure_loopback\":true}", &err), JIT_OK);
	ck_assert(strstr(err, "not loopback") != NULL);
	ck_assert_int_ne(load_with_target("{\"type\":\"webhook\",\"url\":"
	    "\"http://127.0.0.1.evil.com/x\",\"secret_file\":\"hook.key\","
	    "\"insecure_loopback\":true}", &err), JIT_OK);
	ck_assert_int_ne(load_with_target("{\"type\":\"slack\",\"url\":"
	    "\"http://user@127.0.0.1/x\",\"insecure_loopback\":true}", &err),
	    JIT_OK);
	ck_assert_int_eq(load_with_target("{\"type\":\"slack\",\"url\":"
	    "\"http://127.9.9.9:8080/x\",\"insecure_loopback\":true}", &err),
	    JIT_OK);
	ck_assert_int_eq(load_with_target("{\"type\":\"slack\",\"url\":"
	    "\"http://[::1]:8080/x\",\"insecure_loopback\":true}", &err),
	    JIT_OK);
	ck_assert_int_eq(load_with_target("{\"type\":\"slack\",\"url\":"
	    "\"http://localhost/x\",\"insecure_loopback\":true}", &err),
	    JIT_OK);
	ck_assert_int_ne(load_with_target("{\"type\":\"slack\",\"url\":"
	    "\"ftp://127.0.0.1/x\",\"insecure_loopback\":true}", &err),
	    JIT_OK);
	ck_assert_int_ne(load_with_target("{\"type\":\"slack\",\"url\":"
	    "\"https://a.example/x\",\"channel\":\"#ops\"}", &err), JIT_OK);
	ck_assert(strstr(err, "unknown key \"channel\"") != NULL);
	ck_assert_int_ne(load_with_target("{\"type\":\"webhook\",\"url\":"
	    "\"https://a.example/x\"}", &err), JIT_OK);
	ck_assert(strstr(err, "secret_file is required") != NULL);
	ck_assert_int_ne(load_with_target("{\"type\":\"teams\",\"url\":"
	    "\"https://a.example/x\"}", &err), JIT_OK);
	free(err);
}
END_TEST

int
main(void)
{
	SRunner *sr;
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("notify");
	TCase *tn = tcase_create("nomfa");
	int failed;

	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, payloads_and_signatures);
	tcase_add_test(tc, retries_and_restart);
	tcase_add_test(tc, dead_after_max_attempts);
	tcase_add_test(tc, slack_callbacks);
	tcase_add_test(tc, config_checks);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tn, setup_nomfa, teardown);
	tcase_set_timeout(tn, 120);
	tcase_add_test(tn, slack_without_mfa_links_to_page);
	suite_add_tcase(s, tn);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
