/*
 * A deadline for receiving each request.  libmicrohttpd cuts a connection
 * that sends nothing for connections.idle_timeout, but a client that sends
 * one byte just often enough (slowloris) would hold its connection for
 * ever.  The guard follows every connection (MHD_OPTION_NOTIFY_CONNECTION)
 * and cuts one whose request has not fully arrived request_timeout after
 * the guard started waiting for it: from the accept, or from the end of
 * the previous request on a kept-alive connection.  A request that has
 * arrived (being handled, waiting for a commit, or streaming its answer)
 * is not timed.  Cutting is shutdown(2) of the socket, which
 * libmicrohttpd then sees as the peer closing.  The guard cuts only under
 * its lock, and forgets a connection under the same lock when
 * libmicrohttpd reports it closed, which libmicrohttpd does before it
 * closes the descriptor: the guard never touches a reused descriptor.
 * The numbers of connections open and cut are in /metrics.  Internal to
 * broker/.
 */
#ifndef JIT_BROKER_CONN_GUARD_H
#define JIT_BROKER_CONN_GUARD_H

#include <microhttpd.h>

#include "broker/metrics.h"

struct conn_guard;

/*
 * Starts the guard's thread, cutting requests slower than timeout_s
 * seconds, counting in m.  Returns JIT_OK or a JIT_ERR_* code.
 */
int conn_guard_start(struct metrics *m, int64_t timeout_s,
    struct conn_guard **out) __attribute__((warn_unused_result));
/* Stops the thread and frees the guard (after libmicrohttpd stopped). */
void conn_guard_stop(struct conn_guard *g);

/* The MHD_OPTION_NOTIFY_CONNECTION callback; cls is the guard. */
void conn_guard_notify(void *cls, struct MHD_Connection *c,
    void **socket_context, enum MHD_ConnectionNotificationCode toe);

/* The request on c has arrived whole: stop timing it. */
void conn_guard_arrived(struct MHD_Connection *c);
/* The request on c is over: time the next one from now. */
void conn_guard_next(struct MHD_Connection *c);

#endif
