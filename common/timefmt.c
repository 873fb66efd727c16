/* RFC 3339 (UTC) and epoch timestamps (see timefmt.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/timefmt.h"

void
time_format(int64_t t, char out[TIMEFMT_LEN])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, TIMEFMT_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, TIMEFMT_LEN, "%lld", (long long)t);
}

int
time_parse(const char *s, int64_t *out)
{
	struct tm tm;
	const char *p;
	int64_t v = 0;
	char *end;
	time_t t;

	*out = 0;
	if (s == NULL || *s == '\0' || strlen(s) > 32)
		return JIT_ERR_INVALID_FORMAT;
	for (p = s; *p >= '0' && *p <= '9'; p++) {
		if (v > (INT64_MAX - 9) / 10)
			return JIT_ERR_INVALID_FORMAT;
		v = v * 10 + (*p - '0');
	}
	if (*p == '\0') {
		*out = v;
		return JIT_OK;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0' || strlen(s) != TIMEFMT_LEN - 1)
		return JIT_ERR_INVALID_FORMAT;
	if ((t = timegm(&tm)) == (time_t)-1)
		return JIT_ERR_INVALID_FORMAT;
	*out = (int64_t)t;
	return JIT_OK;
}
