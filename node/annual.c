/* annual: the kept rows of the annual report (annual.h).
 * Rows live in a map by member, each row and its strings one allocation. The report
 * writes them in member order, so a sorted array of the rows is kept beside the map: a
 * row replaced in place (the usual change: a member's record gained a letter) swaps its
 * pointer in the array by binary search; only a member added or removed re-sorts it, at
 * the next annual_each. */
#include "annual.h"

#include "err.h"
#include "strmap.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

struct annual {
    uint32_t year;
    bool complete;
    struct strmap *rows;  /* member -> struct annual_row * */
    struct strmap *stale; /* member -> STALE: record changed since its row was made */
    struct annual_row **sorted;
    size_t n_sorted;
    bool sorted_valid; /* sorted holds exactly the rows of the map, in member order */
};

static char stale_mark;
#define STALE ((void *)&stale_mark)

struct annual *annual_new(uint32_t year)
{
    struct annual *a = xcalloc(1, sizeof(*a));
    a->year = year;
    a->rows = strmap_new();
    a->stale = strmap_new();
    return a;
}

void annual_free(struct annual **ap)
{
    struct annual *a = *ap;
    if (!a)
        return;
    strmap_destroy(&a->rows, free);
    strmap_destroy(&a->stale, NULL);
    free(a->sorted);
    free(a);
    *ap = NULL;
}

uint32_t annual_year(const struct annual *a)
{
    return a->year;
}

bool annual_complete(const struct annual *a)
{
    return a->complete;
}

void annual_mark_complete(struct annual *a)
{
    a->complete = true;
}

void annual_touch(struct annual *a, const char *member)
{
    strmap_put(a->stale, member, STALE);
}

struct names {
    char **v;
    size_t n;
};

static bool collect_name(const char *member, void *value, void *arg)
{
    (void)value;
    struct names *names = arg;
    names->v[names->n++] = xstrdup(member);
    return true;
}

int annual_refresh(struct annual *a, int (*reread)(const char *member, void *arg), void *arg)
{
    struct names names = {xcalloc(strmap_count(a->stale) + 1, sizeof(char *)), 0};
    strmap_each(a->stale, collect_name, &names); /* copied: reread changes the maps */
    int rc = DS_OK;
    for (size_t i = 0; i < names.n; i++) {
        if (rc == DS_OK && (rc = reread(names.v[i], arg)) == DS_OK)
            strmap_remove(a->stale, names.v[i]);
        free(names.v[i]);
    }
    free(names.v);
    return rc;
}

static char *copy_str(char **at, const char *s)
{
    size_t n = strlen(s ? s : "") + 1;
    char *dst = *at;
    memcpy(dst, s ? s : "", n);
    *at += n;
    return dst;
}

static int row_cmp(const void *pa, const void *pb)
{
    const struct annual_row *a = *(struct annual_row *const *)pa;
    const struct annual_row *b = *(struct annual_row *const *)pb;
    return strcmp(a->member, b->member);
}

/* Swaps old for row in the sorted array (same member), if the array is valid. */
static void sorted_replace(struct annual *a, const struct annual_row *old, struct annual_row *row)
{
    if (!a->sorted_valid)
        return;
    struct annual_row **at = bsearch(&old, a->sorted, a->n_sorted, sizeof(*a->sorted), row_cmp);
    if (at)
        *at = row;
    else
        a->sorted_valid = false;
}

void annual_put(struct annual *a, const struct annual_row *row)
{
    const char *s[] = {row->member, row->name, row->report_date, row->other, row->group};
    size_t len = sizeof(*row);
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
        len += strlen(s[i] ? s[i] : "") + 1;
    struct annual_row *copy = xmalloc(len);
    *copy = *row;
    char *at = (char *)(copy + 1);
    copy->member = copy_str(&at, row->member);
    copy->name = copy_str(&at, row->name);
    copy->report_date = copy_str(&at, row->report_date);
    copy->other = copy_str(&at, row->other);
    copy->group = copy_str(&at, row->group);
    struct annual_row *old = strmap_put(a->rows, copy->member, copy);
    if (old)
        sorted_replace(a, old, copy);
    else
        a->sorted_valid = false;
    free(old);
}

void annual_remove(struct annual *a, const char *member)
{
    struct annual_row *old = strmap_remove(a->rows, member);
    if (old)
        a->sorted_valid = false;
    free(old);
}

static bool collect_row(const char *member, void *value, void *arg)
{
    (void)member;
    struct annual *a = arg;
    a->sorted[a->n_sorted++] = value;
    return true;
}

void annual_each(struct annual *a, void (*fn)(const struct annual_row *row, void *arg), void *arg)
{
    if (!a->sorted_valid) {
        free(a->sorted);
        a->sorted = xcalloc(strmap_count(a->rows) + 1, sizeof(*a->sorted));
        a->n_sorted = 0;
        strmap_each(a->rows, collect_row, a);
        qsort(a->sorted, a->n_sorted, sizeof(*a->sorted), row_cmp);
        a->sorted_valid = true;
    }
    for (size_t i = 0; i < a->n_sorted; i++)
        fn(a->sorted[i], arg);
}
