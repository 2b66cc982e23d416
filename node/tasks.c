/* tasks: the sorted list of duties behind the `tasks` command (tasks.h). Each row keeps
 * its strings as offsets into one growing text buffer: at 100,000 tasks, one JSON object
 * per task (ten strings and a hash table each) made and freed on every call was most of
 * the call's time, and reading the sort keys back out of those objects in every
 * comparison most of the rest. */
#include "tasks.h"

#include "buf.h"
#include "ids.h"
#include "strmap.h"
#include "xalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct task_row {
    enum duty_kind kind;
    enum org_kind actor;
    bool overdue;
    char due[DUTIES_DATE_LEN];
    size_t member, name, org, ref, zh, en; /* offsets into text */
};

struct task_list {
    char as_of[DUTIES_DATE_LEN];
    uint64_t generation;
    struct task_row *rows;
    size_t n, cap, overdue;
    struct buf text;
    /* While rows are added: text -> its offset + 1, for the strings many rows share (the
     * descriptions, the org), kept once: 100,000 report-ins introduced on the same day have
     * the same two descriptions, which would otherwise be most of the list's memory. */
    struct strmap *shared;
};

struct task_list *tasks_new(const char *as_of, uint64_t generation)
{
    struct task_list *l = xcalloc(1, sizeof(*l));
    snprintf(l->as_of, sizeof(l->as_of), "%s", as_of);
    l->generation = generation;
    buf_append(&l->text, "", 1); /* offset 0 is the empty string */
    l->shared = strmap_new();
    return l;
}

void tasks_free(struct task_list **lp)
{
    struct task_list *l = *lp;
    if (!l)
        return;
    free(l->rows);
    buf_release(&l->text);
    strmap_destroy(&l->shared, NULL);
    free(l);
    *lp = NULL;
}

bool tasks_fresh(const struct task_list *l, const char *as_of, uint64_t generation)
{
    return l && l->generation == generation && strcmp(l->as_of, as_of) == 0;
}

/* s copied into the text buffer (with its NUL): its offset. */
static size_t keep(struct task_list *l, const char *s)
{
    if (!s || !*s)
        return 0;
    size_t at = l->text.len;
    buf_append(&l->text, s, strlen(s) + 1);
    return at;
}

/* The same for a string many rows may share: stored once. */
static size_t keep_shared(struct task_list *l, const char *s)
{
    if (!s || !*s)
        return 0;
    uintptr_t at = (uintptr_t)strmap_get(l->shared, s);
    if (at)
        return (size_t)(at - 1);
    size_t off = keep(l, s);
    strmap_put(l->shared, s, (void *)(uintptr_t)(off + 1));
    return off;
}

void tasks_add(const struct duty *d, void *list)
{
    struct task_list *l = list;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 256;
        l->rows = xrealloc(l->rows, l->cap * sizeof(*l->rows));
    }
    struct task_row *r = &l->rows[l->n++];
    r->kind = d->kind;
    r->actor = d->actor;
    r->overdue = d->overdue;
    memcpy(r->due, d->due, sizeof(r->due));
    r->member = keep(l, d->member);
    r->name = keep(l, d->name);
    r->org = keep_shared(l, d->org);
    r->ref = keep(l, d->ref);
    r->zh = keep_shared(l, d->zh);
    r->en = keep_shared(l, d->en);
    l->overdue += d->overdue;
}

/* A row's sort keys as pointers, taken once the text buffer no longer moves. */
struct sort_key {
    const char *due, *kind, *member, *ref;
    size_t row;
};

static int key_cmp(const void *a, const void *b)
{
    const struct sort_key *x = a, *y = b;
    if (!x->due[0] != !y->due[0])
        return x->due[0] ? -1 : 1;
    int r = strcmp(x->due, y->due);
    if (!r)
        r = strcmp(x->kind, y->kind);
    if (!r)
        r = strcmp(x->member, y->member);
    return r ? r : strcmp(x->ref, y->ref);
}

void tasks_sort(struct task_list *l)
{
    struct sort_key *keys = xmalloc((l->n ? l->n : 1) * sizeof(*keys));
    for (size_t i = 0; i < l->n; i++) {
        const struct task_row *r = &l->rows[i];
        keys[i] = (struct sort_key){r->due, duties_kind_name(r->kind), l->text.p + r->member,
                                    l->text.p + r->ref, i};
    }
    qsort(keys, l->n, sizeof(*keys), key_cmp);
    strmap_destroy(&l->shared, NULL); /* complete: nothing is added after the sort */
    struct task_row *rows = xmalloc((l->cap ? l->cap : 1) * sizeof(*rows));
    for (size_t i = 0; i < l->n; i++)
        rows[i] = l->rows[keys[i].row];
    free(keys);
    free(l->rows);
    l->rows = rows;
}

size_t tasks_count(const struct task_list *l)
{
    return l->n;
}

size_t tasks_overdue(const struct task_list *l)
{
    return l->overdue;
}

/* "key": then a JSON string: one field of a row */
static void field(struct buf *out, const char *key, const char *value)
{
    buf_puts(out, key);
    buf_json_str(out, value);
}

static void row_json(const struct task_list *l, const struct task_row *r, struct buf *out)
{
    const char *t = l->text.p;
    field(out, "{\"kind\":", duties_kind_name(r->kind));
    field(out, ",\"member\":", t + r->member);
    field(out, ",\"name\":", t + r->name);
    field(out, ",\"ref\":", t + r->ref);
    field(out, ",\"due\":", r->due);
    buf_puts(out, r->overdue ? ",\"overdue\":true" : ",\"overdue\":false");
    field(out, ",\"actor\":", r->actor == ORG_NONE ? "member" : ids_kind_name(r->actor));
    field(out, ",\"org\":", t + r->org);
    field(out, ",\"zh\":", t + r->zh);
    field(out, ",\"en\":", t + r->en);
    buf_puts(out, "}");
}

void tasks_json_text(const struct task_list *l, size_t first, size_t limit, struct buf *out)
{
    if (first > l->n)
        first = l->n;
    size_t end = limit && limit < l->n - first ? first + limit : l->n;
    buf_puts(out, "[");
    for (size_t i = first; i < end; i++) {
        if (i > first)
            buf_puts(out, ",");
        row_json(l, &l->rows[i], out);
    }
    buf_puts(out, "]");
}
