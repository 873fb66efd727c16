/*
 * Helpers shared by the configuration's parsers (config.c and the
 * sections parsed in their own files: notify_config.c, oidc_config.c).
 * Internal to broker/.
 */
#ifndef JIT_BROKER_CONFIG_INT_H
#define JIT_BROKER_CONFIG_INT_H

/*
 * Sets *err (when err is not NULL) to a malloc'd "config PATH: message",
 * freeing what it held.
 */
void config_fail(char **err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Resolves p against the config file's directory (malloc'd, or NULL). */
char *config_resolve_path(const char *cfgpath, const char *p);

#endif
