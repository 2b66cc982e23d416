/* libFuzzer target: the member roster reader (common/roster, over libcsv) that
 * `dualsync import members` feeds an operator's CSV file to. Must never crash, read out of
 * bounds or grow without bound; every good row it returns must pass the checks the daemon
 * applies, row numbers must grow, and every refusal must say why in valid UTF-8. */
#include "err.h"
#include "ids.h"
#include "roster.h"
#include "strmap.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(bool ok)
{
    if (!ok)
        abort();
}

static void check_error(const struct roster_error *e)
{
    require(e->reason_zh[0] && e->reason_en[0]);
    require(ids_utf8_valid(e->reason_zh, strlen(e->reason_zh)));
    require(ids_utf8_valid(e->reason_en, strlen(e->reason_en)));
    require(ids_utf8_valid(e->column, strlen(e->column)));
}

static void check_row(const struct roster_row *row, struct strmap *seen)
{
    require(ids_member_valid(row->member));
    require(ids_text_valid(row->name, IDS_NAME_MAX, false));
    require(ids_org_kind(row->community) == ORG_COMMUNITY);
    require(ids_text_valid(row->contact, ROSTER_CONTACT_MAX, true));
    require(row->report_days <= 365);
    require(!row->date[0] || ids_date_valid(row->date));
    require(!strmap_get(seen, row->member)); /* a member is returned once at most */
    strmap_put(seen, row->member, (void *)1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* fmemopen refuses a zero size; an empty file is /dev/null */
    FILE *f = size ? fmemopen((void *)data, size, "rb") : fopen("/dev/null", "rb");
    struct roster *r = NULL;
    struct roster_error e;
    struct roster_row row;
    long last = 0;
    int res;
    if (!f)
        abort();
    if (roster_open(f, &r, &e) != DS_OK) {
        check_error(&e);
        fclose(f);
        return 0;
    }
    struct strmap *seen = strmap_new();
    while ((res = roster_next(r, &row, &e)) == ROSTER_ROW || res == ROSTER_BAD_ROW) {
        long n = res == ROSTER_ROW ? row.row : e.row;
        require(n > last);
        last = n;
        if (res == ROSTER_ROW)
            check_row(&row, seen);
        else
            check_error(&e);
    }
    if (res == ROSTER_FATAL)
        check_error(&e);
    require(roster_rows(r) <= last);
    roster_destroy(&r);
    strmap_destroy(&seen, NULL);
    fclose(f);
    return 0;
}
