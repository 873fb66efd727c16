/* Escaping for logs and terminals, and the JSON nesting check (safetext.h). */
#include <stdlib.h>
#include <string.h>

#include "common/safetext.h"

int
safetext_is_unsafe(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) ||
	    c == 0x00ad ||			/* soft hyphen */
	    c == 0x061c ||			/* Arabic letter mark */
	    c == 0x180e ||			/* Mongolian vowel separator */
	    (c >= 0x200b && c <= 0x200f) ||	/* zero width, LRM, RLM */
	    (c >= 0x2028 && c <= 0x202e) ||	/* LS, PS, LRE..RLO */
	    (c >= 0x2060 && c <= 0x206f) ||	/* joiners, LRI..PDI, etc. */
	    c == 0xfeff ||			/* BOM, zero width no-break */
	    (c >= 0xfff9 && c <= 0xfffb) ||	/* interlinear annotation */
	    (c >= 0xe0000 && c <= 0xe007f);	/* tags */
}

/*
 * Decodes one UTF-8 sequence at p (at most n bytes).  Returns its length
 * and the code point, or 0 if it is not valid (overlong, surrogate, past
 * U+10FFFF, truncated).
 */
static size_t
utf8_decode(const unsigned char *p, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t c;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		c = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		c = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		c = p[0] & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return len;
}

void
safetext_log(FILE *f, const char *s)
{
	const unsigned char *p;

	if (s == NULL)
		return;
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

char *
safetext_term(const char *s)
{
	const unsigned char *p;
	char *out, *o;
	size_t n, len, k;
	uint32_t c;

	if (s == NULL)
		s = "";
	n = strlen(s);
	/* Worst case: every byte becomes "\xNN" (4 bytes per byte). */
	if (n > (SIZE_MAX - 1) / 4 || (out = malloc(4 * n + 1)) == NULL)
		return NULL;
	o = out;
	for (p = (const unsigned char *)s; *p != '\0'; p += len) {
		len = utf8_decode(p, n - (size_t)(p - (const unsigned char *)s),
		    &c);
		if (len == 0 || c < 0x20 || c == 0x7f) {
			len = 1;
			o += sprintf(o, "\\x%02x", *p);
		} else if (safetext_is_unsafe(c) && c <= 0xffff)
			o += sprintf(o, "\\u%04x", (unsigned int)c);
		else if (safetext_is_unsafe(c))
			o += sprintf(o, "\\U%08x", (unsigned int)c);
		else
			for (k = 0; k < len; k++)
				*o++ = (char)p[k];
	}
	*o = '\0';
	return out;
}

int
safetext_json_depth(const char *buf, size_t len, int max)
{
	size_t i;
	int depth = 0, deepest = 0, in_string = 0;

	for (i = 0; i < len; i++) {
		char ch = buf[i];

		if (in_string) {
			if (ch == '\\')
				i++;	/* the escaped byte cannot end it */
			else if (ch == '"')
				in_string = 0;
			continue;
		}
		switch (ch) {
		case '"':
			in_string = 1;
			break;
		case '[':
		case '{':
			if (++depth > deepest && (deepest = depth) > max)
				return max + 1;
			break;
		case ']':
		case '}':
			if (depth > 0)
				depth--;
			break;
		default:
			break;
		}
	}
	return deepest;
}
