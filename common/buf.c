/*
 * Bounded byte buffer (see buf.h).  Storage grows geometrically up to a
 * per-buffer ceiling fixed at creation; contents are wiped on free and on
 * reallocation because buffers routinely hold key material.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/limits.h"

struct buf {
	uint8_t	*d;
	size_t	 off;		/* read offset */
	size_t	 size;		/* bytes written */
	size_t	 alloc;
	size_t	 max;
	int	 readonly;
};

struct buf *
buf_new(size_t max)
{
	struct buf *b;

	if (max == 0 || max > JIT_BUF_MAX)
		return NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->max = max;
	return b;
}

struct buf *
buf_from(const void *p, size_t len)
{
	struct buf *b;

	if (len > JIT_BUF_MAX || (p == NULL && len != 0))
		return NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	if (len > 0) {
		if ((b->d = malloc(len)) == NULL) {
			free(b);
			return NULL;
		}
		memcpy(b->d, p, len);
	}
	b->size = b->alloc = b->max = len;
	b->readonly = 1;
	return b;
}

void
buf_free(struct buf *b)
{
	if (b == NULL)
		return;
	if (b->d != NULL) {
		sodium_memzero(b->d, b->alloc);
		free(b->d);
	}
	free(b);
}

void
buf_reset(struct buf *b)
{
	b->off = 0;
	if (b->readonly)
		return;	/* a read-only view only rewinds */
	if (b->d != NULL)
		sodium_memzero(b->d, b->alloc);
	b->size = 0;
}

size_t
buf_len(const struct buf *b)
{
	return b->size - b->off;
}

const uint8_t *
buf_ptr(const struct buf *b)
{
	static const uint8_t empty[1];

	return b->d == NULL ? empty : b->d + b->off;
}

/* Makes room for len more bytes and returns where they go. */
static int
buf_reserve(struct buf *b, size_t len, uint8_t **dp)
{
	size_t need, nalloc;
	uint8_t *nd;

	*dp = NULL;
	if (b->readonly)
		return JIT_ERR_INVALID_ARG;
	if (len > b->max || b->size > b->max - len)
		return JIT_ERR_LIMIT;
	need = b->size + len;
	if (need > b->alloc) {
		nalloc = b->alloc < 256 ? 256 : b->alloc;
		while (nalloc < need)
			nalloc = nalloc > b->max / 2 ? b->max : nalloc * 2;
		if (nalloc > b->max)
			nalloc = b->max;
		/* Copy rather than realloc so that old storage can be wiped. */
		if ((nd = malloc(nalloc)) == NULL)
			return JIT_ERR_ALLOC;
		if (b->d != NULL) {
			memcpy(nd, b->d, b->size);
			sodium_memzero(b->d, b->alloc);
			free(b->d);
		}
		b->d = nd;
		b->alloc = nalloc;
	}
	*dp = b->d + b->size;
	b->size += len;
	return JIT_OK;
}

int
buf_put(struct buf *b, const void *p, size_t len)
{
	uint8_t *d;
	int r;

	if (len == 0)
		return JIT_OK;
	if ((r = buf_reserve(b, len, &d)) != JIT_OK)
		return r;
	memcpy(d, p, len);
	return JIT_OK;
}

int
buf_put_u8(struct buf *b, uint8_t v)
{
	return buf_put(b, &v, 1);
}

int
buf_put_u32(struct buf *b, uint32_t v)
{
	uint8_t x[4];

	x[0] = v >> 24;
	x[1] = v >> 16;
	x[2] = v >> 8;
	x[3] = v;
	return buf_put(b, x, sizeof(x));
}

int
buf_put_u64(struct buf *b, uint64_t v)
{
	int r;

	if ((r = buf_put_u32(b, (uint32_t)(v >> 32))) != JIT_OK)
		return r;
	return buf_put_u32(b, (uint32_t)v);
}

int
buf_put_string(struct buf *b, const void *p, size_t len)
{
	int r;

	if (len > UINT32_MAX)
		return JIT_ERR_LIMIT;
	if (len > b->max || b->size + 4 > b->max - len)
		return JIT_ERR_LIMIT;
	if ((r = buf_put_u32(b, (uint32_t)len)) != JIT_OK)
		return r;
	return buf_put(b, p, len);
}

int
buf_put_cstring(struct buf *b, const char *s)
{
	return buf_put_string(b, s, s == NULL ? 0 : strlen(s));
}

int
buf_put_stringb(struct buf *b, const struct buf *v)
{
	return buf_put_string(b, buf_ptr(v), buf_len(v));
}

int
buf_put_bignum2_bytes(struct buf *b, const uint8_t *p, size_t len)
{
	int r, prepend;

	/* Skip leading zeroes; add one back if the top bit is set. */
	while (len > 0 && *p == 0) {
		p++;
		len--;
	}
	prepend = len > 0 && (p[0] & 0x80) != 0;
	if (len > UINT32_MAX - 1)
		return JIT_ERR_LIMIT;
	if ((r = buf_put_u32(b, (uint32_t)(len + prepend))) != JIT_OK)
		return r;
	if (prepend && (r = buf_put_u8(b, 0)) != JIT_OK)
		return r;
	return buf_put(b, p, len);
}

int
buf_consume(struct buf *b, size_t len)
{
	if (len > buf_len(b))
		return JIT_ERR_INCOMPLETE;
	b->off += len;
	return JIT_OK;
}

int
buf_get(struct buf *b, void *out, size_t len)
{
	if (len > buf_len(b))
		return JIT_ERR_INCOMPLETE;
	if (len > 0)
		memcpy(out, buf_ptr(b), len);
	b->off += len;
	return JIT_OK;
}

int
buf_get_u8(struct buf *b, uint8_t *v)
{
	*v = 0;
	return buf_get(b, v, 1);
}

int
buf_get_u32(struct buf *b, uint32_t *v)
{
	const uint8_t *p;

	*v = 0;
	if (buf_len(b) < 4)
		return JIT_ERR_INCOMPLETE;
	p = buf_ptr(b);
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
	b->off += 4;
	return JIT_OK;
}

int
buf_get_u64(struct buf *b, uint64_t *v)
{
	uint32_t hi, lo;
	int r;

	*v = 0;
	if (buf_len(b) < 8)
		return JIT_ERR_INCOMPLETE;
	if ((r = buf_get_u32(b, &hi)) != JIT_OK ||
	    (r = buf_get_u32(b, &lo)) != JIT_OK)
		return r;
	*v = (uint64_t)hi << 32 | lo;
	return JIT_OK;
}

int
buf_peek_string_direct(const struct buf *b, const uint8_t **p, size_t *lenp)
{
	const uint8_t *d;
	uint32_t len;

	if (p != NULL)
		*p = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if (buf_len(b) < 4)
		return JIT_ERR_INCOMPLETE;
	d = buf_ptr(b);
	len = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 |
	    (uint32_t)d[2] << 8 | (uint32_t)d[3];
	if (len > JIT_BUF_MAX)
		return JIT_ERR_LIMIT;
	if (len > buf_len(b) - 4)
		return JIT_ERR_INCOMPLETE;
	if (p != NULL)
		*p = d + 4;
	if (lenp != NULL)
		*lenp = len;
	return JIT_OK;
}

int
buf_get_string_direct(struct buf *b, const uint8_t **p, size_t *lenp)
{
	const uint8_t *s;
	size_t len;
	int r;

	if (p != NULL)
		*p = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if ((r = buf_peek_string_direct(b, &s, &len)) != JIT_OK)
		return r;
	b->off += 4 + len;
	if (p != NULL)
		*p = s;
	if (lenp != NULL)
		*lenp = len;
	return JIT_OK;
}

int
buf_get_string(struct buf *b, uint8_t **p, size_t *lenp)
{
	const uint8_t *s;
	uint8_t *c;
	size_t len;
	int r;

	*p = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if ((r = buf_peek_string_direct(b, &s, &len)) != JIT_OK)
		return r;
	if ((c = malloc(len + 1)) == NULL)
		return JIT_ERR_ALLOC;
	memcpy(c, s, len);
	c[len] = '\0';
	b->off += 4 + len;
	*p = c;
	if (lenp != NULL)
		*lenp = len;
	return JIT_OK;
}

int
buf_get_cstring(struct buf *b, char **s, size_t *lenp)
{
	const uint8_t *p;
	size_t len;
	int r;

	*s = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if ((r = buf_peek_string_direct(b, &p, &len)) != JIT_OK)
		return r;
	if (len > 0 && memchr(p, '\0', len) != NULL)
		return JIT_ERR_INVALID_FORMAT;
	return buf_get_string(b, (uint8_t **)s, lenp);
}

int
buf_froms(struct buf *b, struct buf **sub)
{
	const uint8_t *p;
	size_t len;
	struct buf *n;
	int r;

	*sub = NULL;
	if ((r = buf_peek_string_direct(b, &p, &len)) != JIT_OK)
		return r;
	if ((n = buf_from(p, len)) == NULL)
		return JIT_ERR_ALLOC;
	b->off += 4 + len;
	*sub = n;
	return JIT_OK;
}

int
buf_get_bignum2_bytes_direct(struct buf *b, const uint8_t **p, size_t *lenp)
{
	const uint8_t *d;
	size_t len;
	int r;

	*p = NULL;
	*lenp = 0;
	if ((r = buf_peek_string_direct(b, &d, &len)) != JIT_OK)
		return r;
	if (len > 0 && (d[0] & 0x80) != 0)
		return JIT_ERR_INVALID_FORMAT;	/* negative */
	if (len > 1 && d[0] == 0 && (d[1] & 0x80) == 0)
		return JIT_ERR_INVALID_FORMAT;	/* not minimal */
	b->off += 4 + len;
	/* Strip the sign byte. */
	if (len > 0 && d[0] == 0) {
		d++;
		len--;
	}
	*p = d;
	*lenp = len;
	return JIT_OK;
}

void
ssh_ed25519_blob(const uint8_t pk[32], uint8_t out[SSH_ED25519_BLOB_LEN])
{
	static const uint8_t prefix[] = {
		0, 0, 0, 11, 's', 's', 'h', '-', 'e', 'd', '2', '5', '5',
		'1', '9', 0, 0, 0, 32
	};

	memcpy(out, prefix, sizeof(prefix));
	memcpy(out + sizeof(prefix), pk, 32);
}
