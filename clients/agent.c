/*
 * The ssh-agent client (see agent.h).  Messages are a u32 length and
 * that many bytes, the first of them the message type; answers are read
 * with a ceiling and parsed through common/buf.h.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clients/agent.h"
#include "common/buf.h"
#include "common/err.h"

#define SSH_AGENT_FAILURE		5
#define SSH_AGENT_SUCCESS		6
#define SSH2_AGENTC_ADD_ID_CONSTRAINED	25
#define SSH_AGENT_CONSTRAIN_LIFETIME	1

/* Ceilings: what we send, and any answer the agent may give. */
#define AGENT_MSG_MAX		(64 * 1024)
#define AGENT_ANSWER_MAX	(256 * 1024)
#define AGENT_TIMEOUT_S		10

int
agent_connect(int *fdp)
{
	struct sockaddr_un sun;
	struct timeval tv = { AGENT_TIMEOUT_S, 0 };
	const char *path;
	int fd, saved;

	*fdp = -1;
	if ((path = getenv("SSH_AUTH_SOCK")) == NULL || *path == '\0')
		return JIT_ERR_NOT_FOUND;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return JIT_ERR_SYSTEM;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return JIT_ERR_SYSTEM;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return JIT_ERR_SYSTEM;
	}
	*fdp = fd;
	return JIT_OK;
}

void
agent_close(int fd)
{
	if (fd != -1)
		close(fd);
}

static int
write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = send(fd, p, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return JIT_ERR_SYSTEM;
		}
		p += n;
		len -= (size_t)n;
	}
	return JIT_OK;
}

static int
read_all(int fd, uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = read(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return JIT_ERR_SYSTEM;
		}
		if (n == 0)
			return JIT_ERR_INCOMPLETE;
		p += n;
		len -= (size_t)n;
	}
	return JIT_OK;
}

/* Sends one message (its u32 length first) and reads one answer. */
static int
exchange(int fd, const struct buf *msg, uint8_t *type)
{
	struct buf *frame = NULL, *ans = NULL;
	uint8_t hdr[4], *body = NULL;
	uint32_t len;
	int r = JIT_ERR_INTERNAL;

	*type = 0;
	if ((frame = buf_new(AGENT_MSG_MAX + 4)) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	if ((r = buf_put_stringb(frame, msg)) != JIT_OK ||
	    (r = write_all(fd, buf_ptr(frame), buf_len(frame))) != JIT_OK ||
	    (r = read_all(fd, hdr, sizeof(hdr))) != JIT_OK)
		goto out;
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | hdr[3];
	if (len == 0 || len > AGENT_ANSWER_MAX) {
		r = len == 0 ? JIT_ERR_INVALID_FORMAT : JIT_ERR_LIMIT;
		goto out;
	}
	if ((body = malloc(len)) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	if ((r = read_all(fd, body, len)) != JIT_OK)
		goto out;
	if ((ans = buf_from(body, len)) == NULL) {
		r = JIT_ERR_ALLOC;
		goto out;
	}
	if ((r = buf_get_u8(ans, type)) != JIT_OK)
		goto out;
	r = JIT_OK;
 out:
	buf_free(ans);
	free(body);
	buf_free(frame);
	return r;
}

int
agent_add_ed25519_cert(int fd, const uint8_t *cert, size_t certlen,
    const uint8_t pk[SKF_ED25519_PK], const uint8_t sk[SKF_ED25519_SK],
    const char *comment, uint32_t lifetime)
{
	struct buf *msg = NULL;
	uint8_t type = 0;
	int r = JIT_ERR_INTERNAL;

	if ((msg = buf_new(AGENT_MSG_MAX)) == NULL)
		return JIT_ERR_ALLOC;
	/*
	 * The key as OpenSSH serialises a private certified key: type name,
	 * certificate, ENC(A), k || ENC(A); then the comment and the
	 * constraints.
	 */
	if ((r = buf_put_u8(msg, SSH2_AGENTC_ADD_ID_CONSTRAINED)) != JIT_OK ||
	    (r = buf_put_cstring(msg, SKF_ED25519_CERT_NAME)) != JIT_OK ||
	    (r = buf_put_string(msg, cert, certlen)) != JIT_OK ||
	    (r = buf_put_string(msg, pk, SKF_ED25519_PK)) != JIT_OK ||
	    (r = buf_put_string(msg, sk, SKF_ED25519_SK)) != JIT_OK ||
	    (r = buf_put_cstring(msg, comment != NULL ? comment : "")) !=
	    JIT_OK ||
	    (r = buf_put_u8(msg, SSH_AGENT_CONSTRAIN_LIFETIME)) != JIT_OK ||
	    (r = buf_put_u32(msg, lifetime)) != JIT_OK)
		goto out;
	if ((r = exchange(fd, msg, &type)) != JIT_OK)
		goto out;
	if (type == SSH_AGENT_SUCCESS)
		r = JIT_OK;
	else if (type == SSH_AGENT_FAILURE)
		r = JIT_ERR_PERMISSION;
	else
		r = JIT_ERR_INVALID_FORMAT;
 out:
	/* buf_free() wipes the message (and exchange() its frame). */
	buf_free(msg);
	return r;
}
