/* calendar: which days are working days (工作日). Monday to Friday, except the public
 * holidays (法定节假日 and the days taken off around them), plus the make-up working days
 * (调休) that fall on a weekend. The State Council's schedules for 2025 and 2026 are built
 * in, and 2027's statutory days (its make-up days were not yet published when this was
 * written); a street adds the next year's, or corrects one, with a file in the data
 * directory (holidays.txt, read at start: calendar_load), which it also sends to its
 * units and communities so that every side counts the same working days.
 * One calendar per process, set before any thread starts; reads need no lock. */
#ifndef DUALSYNC_CALENDAR_H
#define DUALSYNC_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CALENDAR_FILE "holidays.txt"

/* Whether the day (days since 1970-01-01; weekday: 1 Monday .. 7 Sunday) is a working
 * day. */
bool calendar_working(int32_t days, int weekday);

/* Adds the days of a file to the built-in ones (a day in the file wins). One day per
 * line: "YYYY-MM-DD off|work [note]" ("休" and "班" are accepted too); blank lines and
 * lines starting with # are skipped. DS_OK, DS_ENOTFOUND (no such file: nothing changes),
 * or DS_EINVAL with the line and what is wrong in err (nothing changes). */
int calendar_load(const char *path, char *err, size_t err_size);

/* calendar_load of DIR/holidays.txt for a daemon starting on DIR: DS_OK also when there is
 * no such file; DS_EINVAL with the reason printed for the operator. */
int calendar_load_dir(const char *dir);

/* Back to the built-in days only (tests). */
void calendar_reset(void);

#endif
