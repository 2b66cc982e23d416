/* strmap: a string-keyed hash map (open addressing, linear probing) for the in-memory
 * indexes of a process: directory keys, per-origin marks, peers, dirty members.
 * Keys are copied; values are opaque pointers the caller owns. One thread. Growing is
 * spread over the calls after it: no put or remove rehashes the whole map at once. */
#ifndef DUALSYNC_STRMAP_H
#define DUALSYNC_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

struct strmap;

struct strmap *strmap_new(void);
/* Frees the map and its key copies; calls free_value on each value when not NULL.
 * NULL-safe; sets *mapp to NULL. */
void strmap_destroy(struct strmap **mapp, void (*free_value)(void *));
/* Empties the map as strmap_destroy would, but keeps its table for the next keys when it
 * has at most STRMAP_KEEP_SLOTS slots and is not much larger than this fill needed: a map
 * refilled over and over (a transaction's) neither allocates nor frees a table each time,
 * and one that held far more once is not walked whole ever after. */
#define STRMAP_KEEP_SLOTS 16384u
void strmap_clear(struct strmap *m, void (*free_value)(void *));

/* Inserts or replaces; returns the previous value (or NULL) for the caller to free. */
void *strmap_put(struct strmap *m, const char *key, void *value);
void *strmap_get(const struct strmap *m, const char *key);
/* Removes; returns the value (or NULL). */
void *strmap_remove(struct strmap *m, const char *key);
size_t strmap_count(const struct strmap *m);
/* Slots of the smaller table a growth still has to move (0: not growing). For tests. */
size_t strmap_growing(const struct strmap *m);

/* Visits every entry in unspecified order; stop early by returning false. The map must
 * not change during the walk. */
void strmap_each(const struct strmap *m, bool (*fn)(const char *key, void *value, void *arg),
                 void *arg);

#endif
