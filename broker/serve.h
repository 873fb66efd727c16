/* `jitd serve`: the daemon's lifecycle. */
#ifndef JIT_BROKER_SERVE_H
#define JIT_BROKER_SERVE_H

/*
 * Loads the config, unseals the instance, opens the CA and the store,
 * starts HTTP and runs until SIGTERM/SIGINT (drain, final checkpoint,
 * exit 0); SIGHUP reloads the config or keeps the old one with a log line.
 * listen may override the config's address ("ADDR:PORT").  Returns the
 * process exit status.
 */
int serve_main(const char *cfgpath, const char *listen);

struct server;

/*
 * The same in pieces, for tests that run the server in-process (with an
 * injected clock): serve_open starts everything and returns the server;
 * serve_reload applies a SIGHUP; serve_close drains and stops it.
 */
int serve_open(const char *cfgpath, const char *listen, struct server **out,
    char **err) __attribute__((warn_unused_result));
void serve_reload(struct server *srv);
void serve_close(struct server *srv);

#endif
