/* strmap: FNV-1a hashing, power-of-two table kept at most 70% full, tombstone-free
 * deletion by backward shift, so lookups never degrade after many removals.
 * Growing is incremental: the larger table takes new keys at once, and every later call
 * moves the next STRMAP_MOVE_STEP slots of the old one over, so no call pays for the
 * whole rehash. When a broker's map of dirty members doubled (to 131,072 slots, then to
 * 262,144) in one call, that call held the loop for 13-29 ms (docs/BENCHMARKS.md, "The
 * loop's stalls over 10 s"). While the old table drains, a key is in exactly one of the
 * two; a key moved or removed from the old table leaves a tombstone there, so the probe
 * chains through it stay unbroken until the table is freed. */
#include "strmap.h"

#include "xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Old slots moved per call while growing: the move ends long before the new table (twice
 * the old one's size) could fill, and each call stays a few microseconds. */
#define STRMAP_MOVE_STEP 64u

struct slot {
    char *key;
    void *value;
    uint64_t hash;
};

struct table {
    struct slot *slots;
    size_t cap; /* power of two; 0: no table */
};

struct strmap {
    struct table cur; /* takes every new key */
    struct table old; /* while growing: the keys not yet moved (cap 0 otherwise) */
    size_t moved;     /* old slots below it are moved (tombstones) or were empty */
    size_t count;
};

/* A removed key in the old table: probes pass over it, nothing is moved from it. */
static char tombstone[1];

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

static bool live(const struct slot *s)
{
    return s->key && s->key != tombstone;
}

struct strmap *strmap_new(void)
{
    struct strmap *m = xcalloc(1, sizeof(*m));
    m->cur.cap = 16;
    m->cur.slots = xcalloc(m->cur.cap, sizeof(struct slot));
    return m;
}

/* Frees the keys of t (and their values, when free_value is set); the slots stay as they
 * were. */
static void free_entries(struct table *t, void (*free_value)(void *))
{
    for (size_t i = 0; i < t->cap; i++) {
        if (!live(&t->slots[i]))
            continue;
        free(t->slots[i].key);
        if (free_value)
            free_value(t->slots[i].value);
    }
}

static void table_free(struct table *t, void (*free_value)(void *))
{
    free_entries(t, free_value);
    free(t->slots);
    t->slots = NULL;
    t->cap = 0;
}

void strmap_destroy(struct strmap **mapp, void (*free_value)(void *))
{
    struct strmap *m = *mapp;
    if (!m)
        return;
    table_free(&m->old, free_value);
    table_free(&m->cur, free_value);
    free(m);
    *mapp = NULL;
}

void strmap_clear(struct strmap *m, void (*free_value)(void *))
{
    /* The table the last fill needed (at most 70% full): a larger one is kept only up to
     * four times that, so a map that once held thousands and now holds tens is not walked
     * whole by every strmap_each and clear. */
    size_t fits = 16;
    while (fits * 7 < m->count * 10)
        fits *= 2;
    table_free(&m->old, free_value);
    m->moved = 0;
    m->count = 0;
    if (m->cur.cap > STRMAP_KEEP_SLOTS || m->cur.cap > 4 * fits) {
        table_free(&m->cur, free_value);
        m->cur.cap = m->cur.cap > STRMAP_KEEP_SLOTS ? 16 : fits;
        m->cur.slots = xcalloc(m->cur.cap, sizeof(struct slot));
        return;
    }
    free_entries(&m->cur, free_value);
    memset(m->cur.slots, 0, m->cur.cap * sizeof(struct slot));
}

/* The slot holding key, or the empty slot where it would go. Tombstones (old table only)
 * are passed over. */
static size_t find_slot(const struct table *t, const char *key, uint64_t h)
{
    size_t mask = t->cap - 1, i = h & mask;
    while (t->slots[i].key &&
           (t->slots[i].key == tombstone || t->slots[i].hash != h || strcmp(t->slots[i].key, key)))
        i = (i + 1) & mask;
    return i;
}

/* Puts a slot whose key cur does not hold into cur. */
static void place(struct table *t, const struct slot *s)
{
    size_t mask = t->cap - 1, j = s->hash & mask;
    while (t->slots[j].key)
        j = (j + 1) & mask;
    t->slots[j] = *s;
}

/* Moves up to max old slots into cur; frees the old table once it is drained. */
static void move_some(struct strmap *m, size_t max)
{
    if (!m->old.cap)
        return;
    size_t left = m->old.cap - m->moved, end = m->moved + (max < left ? max : left);
    for (; m->moved < end; m->moved++) {
        struct slot *s = &m->old.slots[m->moved];
        if (live(s))
            place(&m->cur, s);
        if (s->key)
            s->key = tombstone; /* not NULL: a later key's probe chain runs through it */
    }
    if (m->moved == m->old.cap) {
        free(m->old.slots);
        m->old.slots = NULL;
        m->old.cap = 0;
    }
}

static void start_growing(struct strmap *m)
{
    move_some(m, SIZE_MAX); /* a move still under way ends first (not reached in practice) */
    m->old = m->cur;
    m->moved = 0;
    m->cur.cap = m->old.cap * 2;
    m->cur.slots = xcalloc(m->cur.cap, sizeof(struct slot));
}

/* Where key is: in cur (*in_old false) or the old table; NULL when absent. */
static struct slot *lookup(const struct strmap *m, const char *key, uint64_t h, bool *in_old)
{
    struct slot *s = &m->cur.slots[find_slot(&m->cur, key, h)];
    *in_old = false;
    if (s->key)
        return s;
    if (!m->old.cap)
        return NULL;
    s = &m->old.slots[find_slot(&m->old, key, h)];
    *in_old = true;
    return s->key ? s : NULL;
}

/* Empties cur's slot i and shifts the cluster after it back, so no probe chain breaks. */
static void cur_remove_at(struct table *t, size_t i)
{
    size_t mask = t->cap - 1, j = i;
    t->slots[i].key = NULL;
    for (;;) {
        j = (j + 1) & mask;
        if (!t->slots[j].key)
            break;
        size_t home = t->slots[j].hash & mask;
        bool between = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
        if (between)
            continue;
        t->slots[i] = t->slots[j];
        t->slots[j].key = NULL;
        i = j;
    }
}

void *strmap_put(struct strmap *m, const char *key, void *value)
{
    move_some(m, STRMAP_MOVE_STEP);
    uint64_t h = hash_str(key);
    bool in_old;
    struct slot *s = lookup(m, key, h, &in_old);
    if (s) {
        void *prev = s->value;
        s->value = value;
        return prev;
    }
    if ((m->count + 1) * 10 > m->cur.cap * 7)
        start_growing(m);
    struct slot fresh = {xstrdup(key), value, h};
    place(&m->cur, &fresh);
    m->count++;
    return NULL;
}

void *strmap_get(const struct strmap *m, const char *key)
{
    bool in_old;
    const struct slot *s = lookup(m, key, hash_str(key), &in_old);
    return s ? s->value : NULL;
}

void *strmap_remove(struct strmap *m, const char *key)
{
    move_some(m, STRMAP_MOVE_STEP);
    bool in_old;
    struct slot *s = lookup(m, key, hash_str(key), &in_old);
    if (!s)
        return NULL;
    void *value = s->value;
    free(s->key);
    m->count--;
    if (in_old)
        s->key = tombstone;
    else
        cur_remove_at(&m->cur, (size_t)(s - m->cur.slots));
    return value;
}

size_t strmap_count(const struct strmap *m)
{
    return m->count;
}

size_t strmap_growing(const struct strmap *m)
{
    return m->old.cap ? m->old.cap - m->moved : 0;
}

void strmap_each(const struct strmap *m, bool (*fn)(const char *key, void *value, void *arg),
                 void *arg)
{
    const struct table *tables[2] = {&m->old, &m->cur};
    for (int t = 0; t < 2; t++)
        for (size_t i = 0; i < tables[t]->cap; i++) {
            const struct slot *s = &tables[t]->slots[i];
            if (live(s) && !fn(s->key, s->value, arg))
                return;
        }
}
