/*
 * A real OpenSSH sshd for tests.  tu_sshd_start() runs /usr/sbin/sshd in
 * the foreground on 127.0.0.1 at a free port, in a fresh directory of its
 * own with its own host key, trusting the given user CA keys
 * (TrustedUserCAKeys), mapping local accounts to certificate principals
 * (AuthorizedPrincipalsFile) and, optionally, refusing revoked keys
 * (RevokedKeys).  Password, keyboard-interactive and authorized_keys
 * logins are off, so a certificate is the only way in.
 *
 * sshd's StrictModes refuses principals files under a group- or
 * world-writable directory, sticky or not, so the directory is not made
 * under /tmp but under $JIT_SSHD_BASE, by default /run/jit-tests; every
 * directory from there up to / must be root-owned and not writable by
 * group or others.  The principals file is read with the account's uid,
 * so the directories are 0711 and the principals files 0644; the host key
 * is 0600.
 *
 * sshd is killed (SIGTERM) when the thread that started it ends, even
 * through _exit() on a failed check assertion (PR_SET_PDEATHSIG), so start
 * it from the test's main thread.  tu_sshd_stop() stops it by PID and
 * removes its directory; the directory stays when a test dies before
 * that, or when $JIT_SSHD_KEEP is set, with sshd.log and sshd_config for
 * debugging.  Needs root: sshd must be able to switch to the account.
 */
#ifndef JIT_TESTS_SSHD_H
#define JIT_TESTS_SSHD_H

#include <stddef.h>
#include <sys/types.h>

#include "tests/lib/testutil.h"

/* A local account and the certificate principals it accepts. */
struct tu_sshd_account {
	const char		*name;		/* created if missing */
	const char *const	*principals;	/* NULL-terminated */
};

struct tu_sshd_opts {
	/* TrustedUserCAKeys contents: one or more authorized_keys lines. */
	const char			*trusted_ca_keys;
	const struct tu_sshd_account	*accounts;
	size_t				 naccounts;
	/* RevokedKeys contents (an OpenSSH KRL); NULL for no RevokedKeys. */
	const void			*krl;
	size_t				 krl_len;
	/* More sshd_config lines (newline-separated), or NULL. */
	const char			*extra_config;
};

struct tu_sshd;

/*
 * Checks whether a real sshd can be run: root, sshd and ssh-keygen
 * present.  Returns 1, or 0 with a static reason in *why.
 */
int tu_sshd_available(const char **why);

/*
 * Creates the accounts (tu_ensure_account), writes the configuration and
 * starts sshd, then waits until it listens.  Returns NULL after printing
 * the reason (and sshd's log) on stderr if it could not.  Free with
 * tu_sshd_stop().
 */
struct tu_sshd *tu_sshd_start(const struct tu_sshd_opts *opts);

/*
 * Stops sshd by PID (SIGTERM, then SIGKILL), removes its directory and
 * frees s.  Accepts NULL.
 */
void tu_sshd_stop(struct tu_sshd *s);

int tu_sshd_port(const struct tu_sshd *s);
pid_t tu_sshd_pid(const struct tu_sshd *s);
/* The server's private directory and its host public key file; owned by s. */
const char *tu_sshd_dir(const struct tu_sshd *s);
const char *tu_sshd_hostkey_pub(const struct tu_sshd *s);
/* Path of the RevokedKeys file, or NULL if started without a KRL. */
const char *tu_sshd_krl_path(const struct tu_sshd *s);

/* sshd's log so far, malloc'd (never NULL). */
char *tu_sshd_log(const struct tu_sshd *s);

/*
 * Waits up to timeout_s seconds for needle to appear in sshd's log (the
 * log may trail the client by a moment).  Returns 1 if it did.
 */
int tu_sshd_wait_log(const struct tu_sshd *s, const char *needle,
    int timeout_s);

/*
 * The log's current length, and the same wait looking only at what was
 * logged after such a mark: take a mark, connect, then wait for the line
 * that connection should cause.
 */
size_t tu_sshd_log_mark(const struct tu_sshd *s);
int tu_sshd_wait_log_since(const struct tu_sshd *s, size_t mark,
    const char *needle, int timeout_s);

/*
 * Atomically replaces the RevokedKeys file.  sshd reads it at every
 * authentication, so no restart is needed.  Returns 0, or -1 if the
 * server was started without a KRL.
 */
int tu_sshd_set_krl(struct tu_sshd *s, const void *krl, size_t len);

/* Replaces the principals an account accepts (NULL-terminated list). */
void tu_sshd_set_principals(struct tu_sshd *s, const char *account,
    const char *const *principals);

/*
 * Makes sure a local account exists (useradd -m -s /bin/sh) and is not
 * locked: with UsePAM no, sshd refuses accounts whose password field
 * starts with '!', so it is set to '*'.  Returns 0 or -1.
 */
int tu_ensure_account(const char *name);

/*
 * Runs the real ssh client against 127.0.0.1:port as user with only the
 * given identity (certfile may be NULL; note that ssh then still loads
 * KEYFILE-cert.pub if it exists), no configuration files, no agent, no
 * known_hosts and no password prompts, and runs command remotely.
 * tu_ssh_runv adds extra_args (NULL-terminated, may be NULL) before the
 * destination, e.g. "-tt".  Returns tu_run()'s result; o->status is 255
 * when ssh could not log in.
 */
int tu_ssh_run(int port, const char *user, const char *keyfile,
    const char *certfile, const char *command, struct tu_out *o);
int tu_ssh_runv(int port, const char *user, const char *keyfile,
    const char *certfile, char *const extra_args[], const char *command,
    struct tu_out *o);

#endif
