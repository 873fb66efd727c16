/* Duration parsing and formatting (see duration.h). */
#include <stdio.h>
#include <string.h>

#include "common/duration.h"
#include "common/err.h"

#define DURATION_LEN_MAX 64

int
duration_parse(const char *s, int64_t max, int64_t *secs)
{
	int64_t total = 0, n, unit;
	size_t len;
	int digits, bare = 1;

	*secs = 0;
	if (s == NULL || (len = strnlen(s, DURATION_LEN_MAX + 1)) == 0)
		return JIT_ERR_INVALID_FORMAT;
	if (len > DURATION_LEN_MAX)
		return JIT_ERR_LIMIT;
	while (*s != '\0') {
		n = 0;
		digits = 0;
		while (*s >= '0' && *s <= '9') {
			if (n > (INT64_MAX - 9) / 10)
				return JIT_ERR_LIMIT;
			n = n * 10 + (*s - '0');
			s++;
			digits++;
		}
		if (digits == 0)
			return JIT_ERR_INVALID_FORMAT;
		switch (*s) {
		case '\0':
			if (!bare)
				return JIT_ERR_INVALID_FORMAT;
			unit = 1;
			break;
		case 's':
			unit = 1;
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = 86400;
			break;
		case 'w':
			unit = 7 * 86400;
			break;
		default:
			return JIT_ERR_INVALID_FORMAT;
		}
		if (*s != '\0')
			s++;
		bare = 0;
		if (n > INT64_MAX / unit || total > INT64_MAX - n * unit)
			return JIT_ERR_LIMIT;
		total += n * unit;
	}
	if (total <= 0)
		return JIT_ERR_INVALID_FORMAT;
	if (total > max)
		return JIT_ERR_LIMIT;
	*secs = total;
	return JIT_OK;
}

void
duration_format(int64_t secs, char *out, size_t outlen)
{
	static const struct {
		int64_t	 n;
		char	 c;
	} units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
	size_t i, off = 0;
	int w;

	if (outlen == 0)
		return;
	out[0] = '\0';
	if (secs <= 0) {
		snprintf(out, outlen, "0s");
		return;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (secs < units[i].n)
			continue;
		w = snprintf(out + off, outlen - off, "%lld%c",
		    (long long)(secs / units[i].n), units[i].c);
		if (w < 0 || (size_t)w >= outlen - off)
			return;
		off += (size_t)w;
		secs %= units[i].n;
	}
}
