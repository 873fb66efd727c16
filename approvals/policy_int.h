/*
 * Text checks shared by policy.c (loading roles) and policy_check.c
 * (checking requests); not part of the approvals/ interface.
 */
#ifndef JIT_APPROVALS_POLICY_INT_H
#define JIT_APPROVALS_POLICY_INT_H

#include <stddef.h>

/* 1 if the len bytes of s are all printable ASCII (0x20..0x7e). */
int policy_printable_ascii(const char *s, size_t len);

/*
 * 1 if the len bytes of s are well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF) without control characters: C0,
 * DEL, C1, the line and paragraph separators, and the bidirectional
 * embeddings, overrides and isolates that can make text read differently
 * from what it says.
 */
int policy_clean_utf8(const char *s, size_t len);

#endif
