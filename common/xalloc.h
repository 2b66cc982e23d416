/* xalloc: allocation that aborts on out-of-memory, so callers carry no OOM branches.
 * A process that cannot allocate a few bytes cannot keep any promise anyway; dying
 * loudly is safer than limping on with half-written state. */
#ifndef DUALSYNC_XALLOC_H
#define DUALSYNC_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* Copies n bytes of s and NUL-terminates. */
char *xstrndup(const char *s, size_t n);
/* Copies n bytes. Returns NULL for n == 0 only if s is NULL. */
void *xmemdup(const void *s, size_t n);

#endif
