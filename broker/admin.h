/*
 * Operator commands that work on the database directly, with the daemon
 * running or not: `jitd user ...` and `jitd audit verify`.  Each returns
 * the process exit status and prints its own errors.
 */
#ifndef JIT_BROKER_ADMIN_H
#define JIT_BROKER_ADMIN_H

int admin_user_main(const char *cfgpath, int argc, char **argv);
int admin_audit_verify(const char *cfgpath, const char *export_file,
    const char *key_file);

/* Name rules shared with the API: 1..64 of [a-z0-9._-], starting alnum. */
int admin_valid_name(const char *s);

#endif
