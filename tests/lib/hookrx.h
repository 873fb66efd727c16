/*
 * A webhook receiver for tests: libmicrohttpd on 127.0.0.1 and a free
 * port, in the test's process, answering 200 to every POST (some of them
 * slowly, on request) and keeping the "delivery" id of each JSON body it
 * gets, so a test can count deliveries and duplicates (jitd's outbox
 * delivers at least once).
 */
#ifndef JIT_TESTS_HOOKRX_H
#define JIT_TESTS_HOOKRX_H

#define HOOKRX_MAX	4096	/* deliveries kept; more are counted only */

struct hookrx;

/* Starts a receiver; returns NULL if it cannot listen. */
struct hookrx *hookrx_start(void);
int hookrx_port(const struct hookrx *rx);
/* Stops it (waits for handlers) and frees it.  Accepts NULL. */
void hookrx_stop(struct hookrx *rx);

/*
 * Makes the next n deliveries wait ms before they are answered, so that
 * a delivery stays in flight while other senders could pick it up too.
 */
void hookrx_slow(struct hookrx *rx, int n, int ms);

/*
 * Deliveries received so far, and in *distinct (may be NULL) how many
 * different delivery ids among them.
 */
int hookrx_count(struct hookrx *rx, int *distinct);

#endif
