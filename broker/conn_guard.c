/* Request deadlines against slow clients (see conn_guard.h). */
#include <sys/socket.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "broker/conn_guard.h"
#include "common/err.h"

#define SCAN_MS_MAX	250	/* how often the thread looks */

struct conn_entry {
	struct conn_entry	*prev, *next;
	int			 fd;
	atomic_int_fast64_t	 since_ms;	/* waiting for a request */
	atomic_int		 arrived;	/* 1: not timed */
	int			 cut;
};

struct conn_guard {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct conn_entry	*head;
	struct metrics		*m;
	int64_t			 timeout_ms;
	int			 stopping;
	pthread_t		 thread;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
scan(struct conn_guard *g)
{
	struct conn_entry *e;
	int64_t now = now_ms();

	for (e = g->head; e != NULL; e = e->next) {
		if (e->cut || atomic_load(&e->arrived) ||
		    now - atomic_load(&e->since_ms) < g->timeout_ms)
			continue;
		e->cut = 1;
		(void)shutdown(e->fd, SHUT_RDWR);
		atomic_fetch_add(&g->m->c[M_CONN_CUT], 1);
	}
}

static void *
guard_main(void *arg)
{
	struct conn_guard *g = arg;
	struct timespec ts;
	int64_t period = g->timeout_ms / 4;

	if (period > SCAN_MS_MAX)
		period = SCAN_MS_MAX;
	pthread_mutex_lock(&g->mu);
	while (!g->stopping) {
		scan(g);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += (long)(period % 1000) * 1000000L;
		ts.tv_sec += (time_t)(period / 1000) + ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		while (!g->stopping && pthread_cond_timedwait(&g->cv, &g->mu,
		    &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

int
conn_guard_start(struct metrics *m, int64_t timeout_s, struct conn_guard **out)
{
	struct conn_guard *g;
	pthread_condattr_t ca;

	*out = NULL;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return JIT_ERR_ALLOC;
	g->m = m;
	g->timeout_ms = timeout_s * 1000;
	pthread_mutex_init(&g->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&g->thread, NULL, guard_main, g) != 0) {
		pthread_cond_destroy(&g->cv);
		pthread_mutex_destroy(&g->mu);
		free(g);
		return JIT_ERR_SYSTEM;
	}
	*out = g;
	return JIT_OK;
}

void
conn_guard_stop(struct conn_guard *g)
{
	struct conn_entry *e;

	if (g == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	g->stopping = 1;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
	pthread_join(g->thread, NULL);
	/* libmicrohttpd has stopped: anything left is ours to free. */
	while ((e = g->head) != NULL) {
		g->head = e->next;
		free(e);
	}
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

void
conn_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct conn_guard *g = cls;
	struct conn_entry *e = *socket_context;
	const union MHD_ConnectionInfo *ci;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		atomic_fetch_add(&g->m->c[M_CONN_OPENED], 1);
		atomic_fetch_add(&g->m->conn_open, 1);
		ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci == NULL || (e = calloc(1, sizeof(*e))) == NULL)
			return;	/* not timed; the idle timeout still is */
		e->fd = ci->connect_fd;
		atomic_init(&e->since_ms, now_ms());
		atomic_init(&e->arrived, 0);
		pthread_mutex_lock(&g->mu);
		e->next = g->head;
		if (g->head != NULL)
			g->head->prev = e;
		g->head = e;
		pthread_mutex_unlock(&g->mu);
		*socket_context = e;
		return;
	}
	atomic_fetch_sub(&g->m->conn_open, 1);
	if (e == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		g->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	pthread_mutex_unlock(&g->mu);
	free(e);
	*socket_context = NULL;
}

static struct conn_entry *
entry_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

void
conn_guard_arrived(struct MHD_Connection *c)
{
	struct conn_entry *e = entry_of(c);

	if (e != NULL)
		atomic_store(&e->arrived, 1);
}

void
conn_guard_next(struct MHD_Connection *c)
{
	struct conn_entry *e = entry_of(c);

	if (e != NULL) {
		atomic_store(&e->since_ms, now_ms());
		atomic_store(&e->arrived, 0);
	}
}
