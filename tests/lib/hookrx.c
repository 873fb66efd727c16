/* A webhook receiver for tests (see hookrx.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "tests/lib/hookrx.h"
#include "tests/lib/testutil.h"

#define BODY_MAX	(256 * 1024)
#define DELIVERY_MAX	64

struct hookrx {
	pthread_mutex_t		 mu;
	struct MHD_Daemon	*d;
	int			 port;
	int			 n;		/* every POST with a body */
	int			 slow_left;	/* deliveries still to delay */
	int			 slow_ms;
	char			 ids[HOOKRX_MAX][DELIVERY_MAX];
};

struct conn {
	char	*body;
	size_t	 len;
};

/* Keeps the delivery id; returns how long to wait before answering. */
static int
record(struct hookrx *rx, const char *body)
{
	json_t *j = json_loads(body, 0, NULL);
	const char *id = json_string_value(json_object_get(j, "delivery"));
	int ms = 0;

	pthread_mutex_lock(&rx->mu);
	if (rx->n < HOOKRX_MAX)
		snprintf(rx->ids[rx->n], DELIVERY_MAX, "%s", id != NULL ? id :
		    "");
	rx->n++;
	if (rx->slow_left > 0) {
		rx->slow_left--;
		ms = rx->slow_ms;
	}
	pthread_mutex_unlock(&rx->mu);
	json_decref(j);
	return ms;
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *data,
    size_t *size, void **ptr)
{
	struct hookrx *rx = cls;
	struct conn *cx = *ptr;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *nb;
	int ms;

	if (cx == NULL) {
		if ((cx = calloc(1, sizeof(*cx))) == NULL)
			return MHD_NO;
		*ptr = cx;
		return MHD_YES;
	}
	if (*size > 0) {
		if (cx->len + *size > BODY_MAX ||
		    (nb = realloc(cx->body, cx->len + *size + 1)) == NULL)
			return MHD_NO;
		memcpy(nb + cx->len, data, *size);
		cx->len += *size;
		nb[cx->len] = '\0';
		cx->body = nb;
		*size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "POST") == 0 && cx->body != NULL &&
	    (ms = record(rx, cx->body)) > 0) {
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

		nanosleep(&ts, NULL);
	}
	resp = MHD_create_response_from_buffer(2, (void *)"ok",
	    MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void
done(void *cls, struct MHD_Connection *c, void **ptr,
    enum MHD_RequestTerminationCode toe)
{
	struct conn *cx = *ptr;

	if (cx != NULL) {
		free(cx->body);
		free(cx);
	}
	*ptr = NULL;
}

struct hookrx *
hookrx_start(void)
{
	struct hookrx *rx;
	struct sockaddr_in sa;

	if ((rx = calloc(1, sizeof(*rx))) == NULL)
		return NULL;
	pthread_mutex_init(&rx->mu, NULL);
	rx->port = tu_free_port();
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)rx->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rx->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION, (uint16_t)rx->port, NULL, NULL,
	    handler, rx, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_NOTIFY_COMPLETED, done, NULL, MHD_OPTION_END);
	if (rx->d == NULL) {
		pthread_mutex_destroy(&rx->mu);
		free(rx);
		return NULL;
	}
	return rx;
}

int
hookrx_port(const struct hookrx *rx)
{
	return rx->port;
}

void
hookrx_stop(struct hookrx *rx)
{
	if (rx == NULL)
		return;
	MHD_stop_daemon(rx->d);
	pthread_mutex_destroy(&rx->mu);
	free(rx);
}

void
hookrx_slow(struct hookrx *rx, int n, int ms)
{
	pthread_mutex_lock(&rx->mu);
	rx->slow_left = n;
	rx->slow_ms = ms;
	pthread_mutex_unlock(&rx->mu);
}

int
hookrx_count(struct hookrx *rx, int *distinct)
{
	int i, k, n, d = 0;

	pthread_mutex_lock(&rx->mu);
	n = rx->n;
	for (i = 0; i < n && i < HOOKRX_MAX; i++) {
		for (k = 0; k < i; k++)
			if (strcmp(rx->ids[k], rx->ids[i]) == 0)
				break;
		d += k == i;
	}
	pthread_mutex_unlock(&rx->mu);
	if (distinct != NULL)
		*distinct = d;
	return n;
}
