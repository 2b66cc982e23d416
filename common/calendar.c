/* calendar: see calendar.h. The days are kept as a sorted array of (day, working?) and
 * looked up by binary search: a few dozen a year. */
#include "calendar.h"

#include "duties.h"
#include "err.h"
#include "lang.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct special_day {
    int32_t days;
    bool working; /* a make-up working day (调休上班); else a day off */
};

/* The State Council's holiday schedules (国务院办公厅关于节假日安排的通知): the days off,
 * and the make-up working days ("+"). 2027: only the statutory days (新年, 春节 除夕 to 初三,
 * 清明, 劳动节 May 1–2, 端午, 中秋, 国庆 Oct 1–3); its schedule replaces them in holidays.txt
 * once published. */
static const char *const builtin[] = {
    /* 2025 */
    "2025-01-01",
    "+2025-01-26",
    "2025-01-28",
    "2025-01-29",
    "2025-01-30",
    "2025-01-31",
    "2025-02-01",
    "2025-02-02",
    "2025-02-03",
    "2025-02-04",
    "+2025-02-08",
    "2025-04-04",
    "2025-04-05",
    "2025-04-06",
    "+2025-04-27",
    "2025-05-01",
    "2025-05-02",
    "2025-05-03",
    "2025-05-04",
    "2025-05-05",
    "2025-05-31",
    "2025-06-01",
    "2025-06-02",
    "+2025-09-28",
    "2025-10-01",
    "2025-10-02",
    "2025-10-03",
    "2025-10-04",
    "2025-10-05",
    "2025-10-06",
    "2025-10-07",
    "2025-10-08",
    "+2025-10-11",
    /* 2026 */
    "2026-01-01",
    "2026-01-02",
    "2026-01-03",
    "+2026-01-04",
    "+2026-02-14",
    "2026-02-15",
    "2026-02-16",
    "2026-02-17",
    "2026-02-18",
    "2026-02-19",
    "2026-02-20",
    "2026-02-21",
    "2026-02-22",
    "2026-02-23",
    "+2026-02-28",
    "2026-04-04",
    "2026-04-05",
    "2026-04-06",
    "2026-05-01",
    "2026-05-02",
    "2026-05-03",
    "2026-05-04",
    "2026-05-05",
    "+2026-05-09",
    "2026-06-19",
    "2026-06-20",
    "2026-06-21",
    "+2026-09-20",
    "2026-09-25",
    "2026-09-26",
    "2026-09-27",
    "2026-10-01",
    "2026-10-02",
    "2026-10-03",
    "2026-10-04",
    "2026-10-05",
    "2026-10-06",
    "2026-10-07",
    "+2026-10-10",
    /* 2027: statutory days only */
    "2027-01-01",
    "2027-02-05",
    "2027-02-06",
    "2027-02-07",
    "2027-02-08",
    "2027-04-05",
    "2027-05-01",
    "2027-05-02",
    "2027-06-09",
    "2027-09-15",
    "2027-10-01",
    "2027-10-02",
    "2027-10-03",
};

static struct special_day *days_table; /* NULL: the built-in table, built on first use */
static size_t n_days;

static int by_day(const void *a, const void *b)
{
    int32_t x = ((const struct special_day *)a)->days, y = ((const struct special_day *)b)->days;
    return (x > y) - (x < y);
}

/* Adds or replaces one day in a table being built (kept unsorted until sorted). */
static void put_day(struct special_day **t, size_t *n, int32_t days, bool working)
{
    for (size_t i = 0; i < *n; i++)
        if ((*t)[i].days == days) {
            (*t)[i].working = working;
            return;
        }
    *t = xrealloc(*t, (*n + 1) * sizeof(**t));
    (*t)[(*n)++] = (struct special_day){days, working};
}

static void build_builtin(struct special_day **t, size_t *n)
{
    *t = NULL;
    *n = 0;
    for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++) {
        bool working = builtin[i][0] == '+';
        int32_t days;
        if (duties_date_days(builtin[i] + working, &days))
            put_day(t, n, days, working);
    }
}

static void install(struct special_day *t, size_t n)
{
    qsort(t, n, sizeof(*t), by_day);
    free(days_table);
    days_table = t;
    n_days = n;
}

void calendar_reset(void)
{
    struct special_day *t;
    size_t n;
    build_builtin(&t, &n);
    install(t, n);
}

bool calendar_working(int32_t days, int weekday)
{
    if (!days_table)
        calendar_reset();
    struct special_day key = {days, false};
    const struct special_day *d = bsearch(&key, days_table, n_days, sizeof(key), by_day);
    if (d)
        return d->working;
    return weekday >= 1 && weekday <= 5;
}

/* One line of a calendar file into (days, working); false when it is not one. */
static bool parse_line(char *line, int32_t *days, bool *working)
{
    char date[16], kind[16];
    if (sscanf(line, "%15s %15s", date, kind) != 2 || !duties_date_days(date, days))
        return false;
    if (strcmp(kind, "off") == 0 || strcmp(kind, "休") == 0)
        *working = false;
    else if (strcmp(kind, "work") == 0 || strcmp(kind, "班") == 0)
        *working = true;
    else
        return false;
    return true;
}

int calendar_load_dir(const char *dir)
{
    char path[4200], err[4400];
    snprintf(path, sizeof(path), "%s/%s", dir, CALENDAR_FILE);
    int rc = calendar_load(path, err, sizeof(err));
    if (rc == DS_EINVAL)
        fprintf(stderr, TR("错误: 节假日文件有误,未启动: %s\n", "error: %s\n"), err);
    return rc == DS_ENOTFOUND ? DS_OK : rc;
}

int calendar_load(const char *path, char *err, size_t err_size)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return DS_ENOTFOUND;
    struct special_day *t;
    size_t n;
    char line[512];
    long lineno = 0;
    int rc = DS_OK;
    build_builtin(&t, &n);
    while (rc == DS_OK && fgets(line, sizeof(line), f)) {
        lineno++;
        char *p = line + strspn(line, " \t");
        int32_t days;
        bool working;
        if (*p == '#' || *p == '\n' || *p == '\r' || *p == '\0')
            continue;
        if (!parse_line(p, &days, &working)) {
            snprintf(err, err_size, "%s line %ld: want \"YYYY-MM-DD off|work [note]\"", path,
                     lineno);
            rc = DS_EINVAL;
        } else {
            put_day(&t, &n, days, working);
        }
    }
    fclose(f);
    if (rc != DS_OK) {
        free(t);
        return rc;
    }
    install(t, n);
    return DS_OK;
}
