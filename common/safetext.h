/*
 * Text that came from outside, made harmless for where it is shown: a log
 * line (one line, ASCII, quotes escaped), an approver's terminal (no
 * escape sequences, no carriage returns, no bidirectional overrides that
 * make "approve" read as something else) and JSON.  Also the nesting
 * check that runs over JSON text before a parser sees it.
 */
#ifndef JIT_COMMON_SAFETEXT_H
#define JIT_COMMON_SAFETEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * 1 if code point c is a C0 or C1 control, DEL, or an invisible format
 * character that changes how the text around it is displayed: the
 * bidirectional marks, embeddings, overrides and isolates (U+061C,
 * U+200E/F, U+202A..U+202E, U+2066..U+2069), zero-width characters,
 * line and paragraph separators, the byte order mark, interlinear
 * annotations and the tag characters (U+E0000..U+E007F).
 */
int safetext_is_unsafe(uint32_t c);

/*
 * Writes s to f for a log line: printable ASCII as is; '"', '\\', every
 * control and every byte >= 0x7f as \xNN.  NULL writes nothing.
 */
void safetext_log(FILE *f, const char *s);

/*
 * Returns a malloc'd copy of s for a terminal (NULL on allocation
 * failure; NULL s gives "").  Printable UTF-8 is kept; C0 controls, DEL
 * and bytes that are not valid UTF-8 become \xNN; other unsafe code
 * points (safetext_is_unsafe) become \uXXXX (\UXXXXXXXX above U+FFFF).
 * A newline or tab is escaped too, so one field stays on one line.
 */
char *safetext_term(const char *s);

/*
 * The nesting depth of the JSON text buf (len bytes): how many arrays and
 * objects are open at the deepest point, strings skipped correctly.  It
 * stops counting past max and then returns max + 1.  Malformed text gets
 * whatever depth was seen; the parser reports the syntax error.
 */
int safetext_json_depth(const char *buf, size_t len, int max);

#endif
