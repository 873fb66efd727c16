/*
 * The delivery worker: one thread that wakes every second (or when
 * kicked), takes the outbox rows that are due by jit_now(), posts each to
 * its target with libcurl and records the outcome through the store
 * writer.  Failures are retried after min(2^attempts, 300) seconds with
 * equal jitter; after notify_max_attempts a row is dead, with an audit
 * event "notify.dead".  The API never waits for any of this.
 *
 * Delivery is at least once: a crash between a successful POST and its
 * commit sends the row again; receivers deduplicate by the webhook's
 * "delivery" id (or by request id and event for Slack).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "broker/notify.h"
#include "broker/server.h"
#include "broker/store_outbox.h"
#include "common/clock.h"
#include "common/err.h"

#define DUE_BATCH	64
#define POST_TIMEOUT_S	5L
#define BACKOFF_MAX_S	300
#define RESPONSE_MAX	(64 * 1024)

struct notify_worker {
	struct server		*srv;
	pthread_t		 thread;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	int			 stopping;
	int			 kicked;
	atomic_int		 abort_transfer;
	atomic_uint_fast64_t	 failed_attempts;
};

struct due_row {
	int64_t		 id;
	char		 target[STORE_NAME_MAX + 1];
	char		 event[32];
	int64_t		 request_id;
	char		*payload;
	int		 attempts;
};

struct due_list {
	struct due_row	 rows[DUE_BATCH];
	size_t		 n;
};

static int
collect(void *arg, const struct store_outbox *o)
{
	struct due_list *l = arg;
	struct due_row *d;

	if (l->n >= DUE_BATCH)
		return JIT_OK;
	d = &l->rows[l->n];
	memset(d, 0, sizeof(*d));
	if ((d->payload = strdup(o->payload)) == NULL)
		return JIT_ERR_ALLOC;
	d->id = o->id;
	snprintf(d->target, sizeof(d->target), "%s", o->target);
	snprintf(d->event, sizeof(d->event), "%s", o->event);
	d->request_id = o->request_id;
	d->attempts = o->attempts;
	l->n++;
	return JIT_OK;
}

static size_t
discard(char *data, size_t size, size_t n, void *arg)
{
	size_t *seen = arg;

	*seen += size * n;
	/* A receiver that answers without end is cut off. */
	return *seen > RESPONSE_MAX ? 0 : size * n;
}

static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	struct notify_worker *w = arg;

	return atomic_load(&w->abort_transfer) ? 1 : 0;
}

/* Posts one payload; returns 0 on a 2xx answer, else -1 with *why. */
static int
post(struct notify_worker *w, const struct notify_target *t,
    const struct due_row *d, char *why, size_t whylen)
{
	struct curl_slist *h = NULL;
	char line[NOTIFY_SECRET_MAX + 64], ts[24], sig[65];
	size_t seen = 0, len = strlen(d->payload);
	long status = 0;
	CURLcode rc;
	CURL *c;
	int r = -1;

	if ((c = curl_easy_init()) == NULL) {
		snprintf(why, whylen, "cannot initialise libcurl");
		return -1;
	}
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "User-Agent: jitd-notify/1");
	h = curl_slist_append(h, "Expect:");
	if (t->type == NOTIFY_WEBHOOK) {
		snprintf(ts, sizeof(ts), "%lld", (long long)jit_now());
		if (notify_sign(t->secret, t->secret_len, "v1", ts, d->payload,
		    len, sig) != JIT_OK) {
			snprintf(why, whylen, "cannot sign the delivery");
			goto out;
		}
		snprintf(line, sizeof(line), "X-Jitd-Timestamp: %s", ts);
		h = curl_slist_append(h, line);
		snprintf(line, sizeof(line), "X-Jitd-Signature: v1=%s", sig);
		h = curl_slist_append(h, line);
		snprintf(line, sizeof(line), "X-Jitd-Event: %s", d->event);
		h = curl_slist_append(h, line);
		/* The same on a retry or from another replica: dedupe on it. */
		snprintf(line, sizeof(line), "X-Jitd-Delivery: %lld",
		    (long long)d->id);
		h = curl_slist_append(h, line);
	} else if (t->secret != NULL) {
		/* A bot token for chat.postMessage-style endpoints. */
		snprintf(line, sizeof(line), "Authorization: Bearer %.*s",
		    (int)t->secret_len, (const char *)t->secret);
		h = curl_slist_append(h, line);
		sodium_memzero(line, sizeof(line));
	}
	curl_easy_setopt(c, CURLOPT_URL, t->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, POST_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, POST_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, d->payload);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &seen);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, w);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		/* The library's sentence names no URL (it may hold a token). */
		snprintf(why, whylen, "%s", curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		snprintf(why, whylen, "HTTP status %ld", status);
		goto out;
	}
	r = 0;
 out:
	/* The list may hold the bot token. */
	{
		struct curl_slist *p;

		for (p = h; p != NULL; p = p->next)
			sodium_memzero(p->data, strlen(p->data));
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return r;
}

struct outcome_job {
	const struct due_row	*d;
	int			 ok;
	const char		*why;
	int			 max_attempts;
	int			 dead;
};

static int
outcome_tx(struct store_tx *tx, void *arg)
{
	struct outcome_job *j = arg;
	const struct due_row *d = j->d;
	int64_t now = store_tx_now(tx), base, delay;
	int attempts = d->attempts + 1, rc, sh;
	char target[48];
	json_t *det;

	if (j->ok)
		return store_tx_outbox_update(tx, d->id, "delivered", attempts,
		    now, "");
	if (attempts >= j->max_attempts) {
		j->dead = 1;
		if ((rc = store_tx_outbox_update(tx, d->id, "dead", attempts,
		    now, j->why)) != JIT_OK)
			return rc;
		snprintf(target, sizeof(target), "request:%lld",
		    (long long)d->request_id);
		if ((det = json_pack("{s:I,s:s,s:s,s:i,s:s}", "outbox_id",
		    (json_int_t)d->id, "target", d->target, "event", d->event,
		    "attempts", attempts, "error", j->why)) == NULL)
			return JIT_ERR_ALLOC;
		rc = store_tx_audit(tx, "jitd", "notify.dead", target,
		    "failed", det);
		json_decref(det);
		return rc;
	}
	sh = attempts < 16 ? attempts : 16;
	base = (int64_t)1 << sh;
	if (base > BACKOFF_MAX_S)
		base = BACKOFF_MAX_S;
	/* Equal jitter: half the delay fixed, half random. */
	delay = base / 2 + (int64_t)randombytes_uniform((uint32_t)(base / 2 +
	    1));
	if (delay < 1)
		delay = 1;
	return store_tx_outbox_update(tx, d->id, "pending", attempts,
	    now + delay, j->why);
}

static void
run_once(struct notify_worker *w)
{
	struct server *srv = w->srv;
	const struct notify_target *t;
	struct outcome_job oj;
	struct due_list *l;
	struct config *cfg;
	char why[STORE_OUTBOX_ERROR_MAX + 1];
	size_t i, k;

	/* With several replicas, one delivers (see store_leader). */
	if (!store_leader(srv->store))
		return;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return;
	cfg = server_config(srv);
	if (store_outbox_list(srv->store, "pending", jit_now(), DUE_BATCH,
	    collect, l) != JIT_OK)
		goto out;
	for (i = 0; i < l->n && !atomic_load(&w->abort_transfer); i++) {
		t = NULL;
		for (k = 0; cfg->notify != NULL && k < cfg->notify->ntargets;
		    k++)
			if (strcmp(cfg->notify->targets[k].name,
			    l->rows[i].target) == 0)
				t = &cfg->notify->targets[k];
		memset(&oj, 0, sizeof(oj));
		oj.d = &l->rows[i];
		oj.max_attempts = cfg->notify != NULL ?
		    cfg->notify->max_attempts : 8;
		if (t == NULL)
			snprintf(why, sizeof(why), "target \"%s\" is not in "
			    "the configuration", l->rows[i].target);
		else if (post(w, t, &l->rows[i], why, sizeof(why)) == 0)
			oj.ok = 1;
		/* Stopping mid-transfer is not the target's failure. */
		if (!oj.ok && atomic_load(&w->abort_transfer))
			break;
		if (!oj.ok)
			atomic_fetch_add(&w->failed_attempts, 1);
		oj.why = why;
		if (store_write(srv->store, outcome_tx, &oj) != JIT_OK)
			fprintf(stderr, "jitd: notify: cannot record the "
			    "outcome of delivery %lld\n",
			    (long long)l->rows[i].id);
	}
 out:
	for (i = 0; i < l->n; i++)
		free(l->rows[i].payload);
	free(l);
	config_unref(cfg);
}

static void *
worker_main(void *arg)
{
	struct notify_worker *w = arg;
	struct timespec ts;

	pthread_mutex_lock(&w->mu);
	while (!w->stopping) {
		if (!w->kicked) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&w->cv, &w->mu, &ts);
		}
		w->kicked = 0;
		if (w->stopping)
			break;
		pthread_mutex_unlock(&w->mu);
		run_once(w);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int
notify_worker_start(struct server *srv)
{
	struct notify_worker *w;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return JIT_ERR_SYSTEM;
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		curl_global_cleanup();
		return JIT_ERR_ALLOC;
	}
	w->srv = srv;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	atomic_init(&w->abort_transfer, 0);
	atomic_init(&w->failed_attempts, 0);
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
		free(w);
		curl_global_cleanup();
		return JIT_ERR_SYSTEM;
	}
	srv->notifier = w;
	return JIT_OK;
}

void
notify_worker_kick(struct server *srv)
{
	struct notify_worker *w = srv->notifier;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->kicked = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void
notify_worker_stop(struct server *srv)
{
	struct notify_worker *w = srv->notifier;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	atomic_store(&w->abort_transfer, 1);
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
	srv->notifier = NULL;
	curl_global_cleanup();
}

void
notify_metrics(struct server *srv, char *out, size_t outlen)
{
	int64_t pending = -1, delivered = -1, dead = -1;
	uint64_t failed = srv->notifier != NULL ?
	    atomic_load(&srv->notifier->failed_attempts) : 0;

	if (store_outbox_counts(srv->store, &pending, &delivered, &dead) !=
	    JIT_OK)
		pending = delivered = dead = -1;
	snprintf(out, outlen,
	    "# HELP jitd_notify_pending Notification deliveries waiting in "
	    "the outbox.\n# TYPE jitd_notify_pending gauge\n"
	    "jitd_notify_pending %lld\n"
	    "# TYPE jitd_notify_delivered_total counter\n"
	    "jitd_notify_delivered_total %lld\n"
	    "# HELP jitd_notify_dead_total Deliveries given up after "
	    "notify_max_attempts.\n# TYPE jitd_notify_dead_total counter\n"
	    "jitd_notify_dead_total %lld\n"
	    "# TYPE jitd_notify_failed_attempts_total counter\n"
	    "jitd_notify_failed_attempts_total %llu\n",
	    (long long)pending, (long long)delivered, (long long)dead,
	    (unsigned long long)failed);
}
