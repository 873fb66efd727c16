/* Careful file reading and writing (see fileio.h). */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "common/err.h"
#include "common/fileio.h"
#include "common/limits.h"
#include "common/secret.h"

int
fileio_read(const char *path, size_t max, int flags, uint8_t **out,
    size_t *len)
{
	struct stat st;
	uint8_t *d = NULL;
	size_t got = 0;
	ssize_t n;
	int fd = -1, r = JIT_ERR_INTERNAL, oflags = O_RDONLY | O_CLOEXEC;

	*out = NULL;
	*len = 0;
	if (flags & FILEIO_NOFOLLOW)
		oflags |= O_NOFOLLOW;
	if ((fd = open(path, oflags)) == -1) {
		if (errno == ENOENT)
			r = JIT_ERR_NOT_FOUND;
		else if (errno == ELOOP)
			r = JIT_ERR_PERMISSION;
		else
			r = JIT_ERR_SYSTEM;
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		r = JIT_ERR_SYSTEM;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		r = JIT_ERR_INVALID_ARG;
		goto out;
	}
	if ((flags & FILEIO_PRIVATE) && (st.st_mode & 077) != 0) {
		r = JIT_ERR_PERMISSION;
		goto out;
	}
	if ((size_t)st.st_size > max) {
		r = JIT_ERR_LIMIT;
		goto out;
	}
	if ((d = malloc(max + 1)) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	/* Read until EOF, but never more than max (the file may grow). */
	for (;;) {
		if (got == max) {
			char extra;

			if ((n = read(fd, &extra, 1)) > 0) {
				r = JIT_ERR_LIMIT;
				goto out;
			}
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1) {
				r = JIT_ERR_SYSTEM;
				goto out;
			}
			break;
		}
		n = read(fd, d + got, max - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			r = JIT_ERR_SYSTEM;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	d[got] = '\0';
	*out = d;
	*len = got;
	d = NULL;
	r = JIT_OK;
 out:
	if (d != NULL)
		freezero(d, max + 1);
	if (fd != -1)
		close(fd);
	return r;
}

const char *
fileio_explain(const char *path, int r, int flags, char *buf, size_t len)
{
	int saved = errno;
	struct stat st;

	switch (r) {
	case JIT_ERR_NOT_FOUND:
		snprintf(buf, len, "no such file");
		break;
	case JIT_ERR_LIMIT:
		snprintf(buf, len, "the file is too large");
		break;
	case JIT_ERR_INVALID_ARG:
		snprintf(buf, len, "not a regular file");
		break;
	case JIT_ERR_PERMISSION:
		if ((flags & FILEIO_NOFOLLOW) && lstat(path, &st) == 0 &&
		    S_ISLNK(st.st_mode))
			snprintf(buf, len, "is a symbolic link (refused: name "
			    "the file itself)");
		else if ((flags & FILEIO_PRIVATE) && stat(path, &st) == 0 &&
		    (st.st_mode & 077) != 0)
			snprintf(buf, len, "is readable or writable by group "
			    "or others (mode %04o): it must be readable only by "
			    "its owner (chmod 600)", (unsigned)(st.st_mode &
			    07777));
		else
			snprintf(buf, len, "%s", jit_strerror(r));
		break;
	case JIT_ERR_SYSTEM:
		snprintf(buf, len, "%s", strerror(saved));
		break;
	default:
		snprintf(buf, len, "%s", jit_strerror(r));
		break;
	}
	errno = saved;
	return buf;
}

static int
write_all(int fd, const void *p, size_t len)
{
	const uint8_t *c = p;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, c, len)) == -1) {
			if (errno == EINTR)
				continue;
			return JIT_ERR_SYSTEM;
		}
		c += n;
		len -= (size_t)n;
	}
	return JIT_OK;
}

int
fileio_write_new(const char *path, const void *p, size_t len, mode_t mode)
{
	int fd, r, saved;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd == -1)
		return errno == EEXIST ? JIT_ERR_EXISTS : JIT_ERR_SYSTEM;
	/* The umask must not widen or narrow what the caller asked for. */
	if (fchmod(fd, mode) == -1 ||
	    (r = write_all(fd, p, len)) != JIT_OK || fsync(fd) == -1) {
		saved = errno;
		close(fd);
		unlink(path);
		errno = saved;
		return JIT_ERR_SYSTEM;
	}
	if (close(fd) == -1) {
		saved = errno;
		unlink(path);
		errno = saved;
		return JIT_ERR_SYSTEM;
	}
	return JIT_OK;
}

static void
fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	int fd;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return;
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return;
	(void)fsync(fd);
	close(fd);
}

int
fileio_write_atomic(const char *path, const void *p, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	int r, saved;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%08x", path,
	    randombytes_random()) >= (int)sizeof(tmp))
		return JIT_ERR_LIMIT;
	if ((r = fileio_write_new(tmp, p, len, mode)) != JIT_OK)
		return r;
	if (rename(tmp, path) == -1) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		return JIT_ERR_SYSTEM;
	}
	fsync_parent(path);
	return JIT_OK;
}

int
fileio_read_secret(const char *path, char **out)
{
	uint8_t *d = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if ((r = fileio_read(path, JIT_PASSPHRASE_MAX + 2, 0, &d, &len)) !=
	    JIT_OK)
		return r;
	if (len > 0 && d[len - 1] == '\n')
		d[--len] = '\0';
	if (len > 0 && d[len - 1] == '\r')
		d[--len] = '\0';
	if (len > JIT_PASSPHRASE_MAX || memchr(d, '\0', len) != NULL) {
		freezero(d, JIT_PASSPHRASE_MAX + 3);
		return len > JIT_PASSPHRASE_MAX ? JIT_ERR_LIMIT :
		    JIT_ERR_INVALID_FORMAT;
	}
	*out = (char *)d;
	return JIT_OK;
}
