/* Terminal secret prompts and small string-list helpers (see tty.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "common/err.h"
#include "common/secret.h"
#include "common/tty.h"

int
tty_read_secret(const char *prompt, size_t max, char **out)
{
	struct termios old, noecho;
	char *buf = NULL;
	size_t len = 0;
	int fd, r = JIT_ERR_INTERNAL, restored = 1;
	ssize_t n;
	char c;

	*out = NULL;
	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) == -1)
		return JIT_ERR_NOT_FOUND;
	if ((buf = malloc(max + 1)) == NULL) {
		close(fd);
		return JIT_ERR_ALLOC;
	}
	if (tcgetattr(fd, &old) == 0) {
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		noecho.c_lflag |= ICANON;
		if (tcsetattr(fd, TCSAFLUSH, &noecho) == 0)
			restored = 0;
	}
	(void)!write(fd, prompt, strlen(prompt));
	for (;;) {
		n = read(fd, &c, 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0 || c == '\n' || c == '\r')
			break;
		if (len == max) {
			r = JIT_ERR_LIMIT;
			goto out;
		}
		buf[len++] = c;
	}
	buf[len] = '\0';
	*out = buf;
	buf = NULL;
	r = JIT_OK;
 out:
	if (!restored)
		(void)tcsetattr(fd, TCSAFLUSH, &old);
	(void)!write(fd, "\n", 1);
	close(fd);
	c = 0;
	if (buf != NULL)
		freezero(buf, max + 1);
	return r;
}

char **
strv_split(const char *s, char sep, size_t max, size_t *np)
{
	char **v;
	const char *p, *e;
	size_t n = 1, i = 0;

	*np = 0;
	for (p = s; *p != '\0'; p++)
		if (*p == sep)
			n++;
	if (n > max)
		return NULL;
	if ((v = calloc(n + 1, sizeof(*v))) == NULL)
		return NULL;
	for (p = s;; p = e + 1) {
		if ((e = strchr(p, sep)) == NULL)
			e = p + strlen(p);
		if ((v[i++] = strndup(p, (size_t)(e - p))) == NULL) {
			strv_free(v);
			return NULL;
		}
		if (*e == '\0')
			break;
	}
	*np = i;
	return v;
}

void
strv_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}
