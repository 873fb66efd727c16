/*
 * sshd_config handling for jit server-setup: the managed block between
 * "# BEGIN jitd" and "# END jitd" (replaced in place, never duplicated,
 * put first in the file when new, since sshd keeps the first value it
 * reads for most keywords and lines after a Match belong to it),
 * checking a configuration with the real `sshd -t -f`, and asking a
 * running sshd to reload.  Programs run with execv and an argv array.
 */
#ifndef JIT_CLIENTS_SSHDCONF_H
#define JIT_CLIENTS_SSHDCONF_H

#include <stddef.h>

#define SSHDCONF_BEGIN	"# BEGIN jitd"
#define SSHDCONF_END	"# END jitd"

/*
 * Returns in *out (malloc'd, NUL-terminated) the configuration text with
 * every managed block removed and block (which must hold the markers)
 * put where the first one was, or at the top if there was none; *had
 * tells which.  JIT_ERR_INVALID_FORMAT if a BEGIN marker has no END (or
 * the reverse): the file is then left for a human.
 */
int sshdconf_apply_block(const char *text, size_t len, const char *block,
    char **out, int *had) __attribute__((warn_unused_result));

/*
 * Notes (malloc'd text, "" when none) about lines outside the managed
 * block that set one of the keywords the block sets.
 */
char *sshdconf_conflicts(const char *text, size_t len);

/*
 * Runs argv (argv[0] a path, or searched in PATH with execvp) with its
 * output (stdout and stderr, at most 64 KiB kept) in *output (malloc'd,
 * may be NULL).  Returns the exit status, 128+signal, or -1 if it could
 * not run.
 */
int sshdconf_run(char *const argv[], char **output);

/* The sshd binary: $JIT_SSHD, else /usr/sbin/sshd, else "sshd". */
const char *sshdconf_sshd_path(void);

/*
 * Asks the system's sshd to reload: `systemctl reload ssh` when systemd
 * runs, else SIGHUP to the pid in /run/sshd.pid.  Writes what it did (or
 * why it did nothing) into note.  Returns 0, or -1 if a reload failed.
 */
int sshdconf_reload(char *note, size_t notelen);

#endif
