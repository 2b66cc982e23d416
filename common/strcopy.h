/* strcopy: the bounded copy snprintf(dst, size, "%s", src) makes, without running the
 * format parser. The broker copies a dozen org ids and names per letter (routes, claims,
 * recipients, event ids); through snprintf they took 3% of its loop at 100 units
 * (docs/BENCHMARKS.md, "A transaction kept, and ids copied without snprintf"). */
#ifndef DUALSYNC_STRCOPY_H
#define DUALSYNC_STRCOPY_H
#include <stddef.h>
#include <stdint.h>

/* Copies src into dst (size > 0), cut at size - 1 bytes and always terminated. Returns
 * strlen(src), as snprintf does: a result >= size means src was cut. */
size_t strcopy(char *dst, size_t size, const char *src);

/* Writes "prefix/seq" (an event id, ids_event_id's form) into dst; cut and terminated as
 * strcopy. Returns the length of the whole id. */
size_t strcopy_id(char *dst, size_t size, const char *prefix, uint64_t seq);
#endif
