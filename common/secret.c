/* Wiping helpers for secrets (see secret.h). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/secret.h"

void
freezero(void *p, size_t len)
{
	if (p == NULL)
		return;
	sodium_memzero(p, len);
	free(p);
}

void
strfreezero(char *s)
{
	if (s == NULL)
		return;
	freezero(s, strlen(s));
}
