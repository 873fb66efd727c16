/*
 * Bounded, careful file access: reading with a size cap, creating files
 * that must not exist yet, and replacing files atomically.
 */
#ifndef JIT_COMMON_FILEIO_H
#define JIT_COMMON_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FILEIO_NOFOLLOW	0x01	/* refuse a symbolic link */
#define FILEIO_PRIVATE	0x02	/* refuse a file readable by group or others */

/*
 * Reads a whole regular file of at most max bytes into a malloc'd buffer
 * with one extra NUL byte after the data.  Returns JIT_OK,
 * JIT_ERR_NOT_FOUND, JIT_ERR_LIMIT when larger than max,
 * JIT_ERR_PERMISSION when flags are violated, JIT_ERR_SYSTEM otherwise
 * (errno set).  Free *out with freezero(*out, *len + 1).
 */
int fileio_read(const char *path, size_t max, int flags, uint8_t **out,
    size_t *len) __attribute__((warn_unused_result));

/*
 * Explains why fileio_read(path, ..., flags) returned r, as a phrase for a
 * message that already names path: "is a symbolic link", "is readable or
 * writable by group or others (mode 0644): it must be readable only by its
 * owner (chmod 600)", "no such file", "not a regular file", or the system
 * error.  Call it right after the failure (it looks at the file again and
 * at errno).  Writes to buf and returns it.
 */
const char *fileio_explain(const char *path, int r, int flags, char *buf,
    size_t len);

/*
 * Creates path with the given mode (never following a link, never
 * overwriting: JIT_ERR_EXISTS), writes len bytes, fsyncs and closes.  A
 * partially written file is removed.
 */
int fileio_write_new(const char *path, const void *p, size_t len, mode_t mode)
    __attribute__((warn_unused_result));

/*
 * Replaces path atomically: writes a temporary file beside it, fsyncs,
 * renames over path and fsyncs the directory.
 */
int fileio_write_atomic(const char *path, const void *p, size_t len,
    mode_t mode) __attribute__((warn_unused_result));

/*
 * Reads a one-line secret (passphrase) from a file, without its trailing
 * newline, at most JIT_PASSPHRASE_MAX bytes.  Free with strfreezero().
 */
int fileio_read_secret(const char *path, char **out)
    __attribute__((warn_unused_result));

#endif
