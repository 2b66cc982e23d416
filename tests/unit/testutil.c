/* testutil: helpers shared by the unit tests. Everything here fails the running cmocka test
 * on error rather than returning codes, so tests read as straight-line scenarios.
 * Temp directories live under /tmp and are removed by the fixture teardown; the PRNG is
 * xorshift64* with a fixed seed per test, so a failing fuzz or model run reproduces. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void tu_assert_rc(int rc, int want, const char *expr, const char *file, int line)
{
    if (rc == want)
        return;
    print_error("%s = %s (%d), expected %s (%d)\n", expr, ds_errname(rc), rc, ds_errname(want),
                want);
    _fail(file, line);
}

void tu_tmpdir(char *buf)
{
    snprintf(buf, TU_PATH_MAX, "/tmp/ds-unit-XXXXXX");
    if (!mkdtemp(buf)) {
        print_error("mkdtemp: %s\n", strerror(errno));
        _fail(__FILE__, __LINE__);
    }
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void tu_rmtree(const char *path)
{
    if (access(path, F_OK) != 0)
        return;
    if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) {
        print_error("rmtree %s: %s\n", path, strerror(errno));
        _fail(__FILE__, __LINE__);
    }
}

int tu_tmpdir_setup(void **state)
{
    char *dir = malloc(TU_PATH_MAX);
    if (!dir)
        return -1;
    tu_tmpdir(dir);
    *state = dir;
    return 0;
}

int tu_tmpdir_teardown(void **state)
{
    char *dir = *state;
    tu_rmtree(dir);
    free(dir);
    *state = NULL;
    return 0;
}

void tu_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

uint64_t tu_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 2685821657736338717ull;
}

size_t tu_rand_below(uint64_t *state, size_t n)
{
    return (size_t)(tu_rand(state) % n);
}

void tu_event_make(struct tu_event *out, const struct keys *k, const char *origin, uint64_t seq,
                   uint64_t hlc, const char *member, uint32_t type, const ProtobufCMessage *body)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    memset(out, 0, sizeof(*out));
    if (body)
        wire_pack(body, &buf, &len);
    wire_event_build(k, origin, seq, hlc, member, type, buf, len, &out->raw, &out->len);
    free(buf);
    assert_rc(wire_event_open(out->raw, out->len, false, &out->ev), DS_OK);
}

void tu_event_free(struct tu_event *e)
{
    if (e->raw)
        wire_event_release(&e->ev);
    free(e->raw);
    memset(e, 0, sizeof(*e));
}

void tu_event_intro(struct tu_event *out, const struct keys *k, const char *unit, uint64_t seq,
                    uint64_t hlc, const char *member, const char *community, const char *name,
                    uint32_t report_days, const char *date)
{
    Dualsync__Introduction b = DUALSYNC__INTRODUCTION__INIT;
    b.community = (char *)community;
    b.name = (char *)name;
    b.report_days = report_days;
    b.date = (char *)date;
    tu_event_make(out, k, unit, seq, hlc, member, DUALSYNC__EVENT_TYPE__EVENT_INTRODUCTION,
                  &b.base);
}

void tu_event_report(struct tu_event *out, const struct keys *k, const char *community,
                     uint64_t seq, uint64_t hlc, const char *member, const char *date)
{
    Dualsync__ReportIn b = DUALSYNC__REPORT_IN__INIT;
    b.date = (char *)date;
    tu_event_make(out, k, community, seq, hlc, member, DUALSYNC__EVENT_TYPE__EVENT_REPORT_IN,
                  &b.base);
}

void tu_event_card(struct tu_event *out, const struct keys *k, const char *community, uint64_t seq,
                   uint64_t hlc, const char *member, const char *occupation,
                   const char *willingness, const char *rest_time)
{
    Dualsync__RegistrationCard b = DUALSYNC__REGISTRATION_CARD__INIT;
    b.occupation = (char *)occupation;
    b.willingness = (char *)willingness;
    b.rest_time = (char *)rest_time;
    tu_event_make(out, k, community, seq, hlc, member,
                  DUALSYNC__EVENT_TYPE__EVENT_REGISTRATION_CARD, &b.base);
}

void tu_event_feedback(struct tu_event *out, const struct keys *k, const char *community,
                       uint64_t seq, uint64_t hlc, const char *member, uint32_t year,
                       Dualsync__Rating rating, bool non_participation, const char *text)
{
    Dualsync__Feedback b = DUALSYNC__FEEDBACK__INIT;
    b.year = year;
    b.rating = rating;
    b.non_participation = non_participation;
    b.text = (char *)text;
    tu_event_make(out, k, community, seq, hlc, member, DUALSYNC__EVENT_TYPE__EVENT_FEEDBACK,
                  &b.base);
}

void tu_event_handling(struct tu_event *out, const struct keys *k, const char *unit, uint64_t seq,
                       uint64_t hlc, const char *member, const char *fb_origin, uint64_t fb_seq,
                       Dualsync__HandlingAction action, const char *text)
{
    Dualsync__HandlingResult b = DUALSYNC__HANDLING_RESULT__INIT;
    b.feedback_origin = (char *)fb_origin;
    b.feedback_seq = fb_seq;
    b.action = action;
    b.text = (char *)text;
    tu_event_make(out, k, unit, seq, hlc, member, DUALSYNC__EVENT_TYPE__EVENT_HANDLING_RESULT,
                  &b.base);
}

void tu_event_move_out(struct tu_event *out, const struct keys *k, const char *unit, uint64_t seq,
                       uint64_t hlc, const char *member, const char *date)
{
    Dualsync__MoveOut b = DUALSYNC__MOVE_OUT__INIT;
    b.date = (char *)date;
    tu_event_make(out, k, unit, seq, hlc, member, DUALSYNC__EVENT_TYPE__EVENT_MOVE_OUT, &b.base);
}

void tu_event_close(struct tu_event *out, const struct keys *k, const char *community, uint64_t seq,
                    uint64_t hlc, const char *member, const char *date)
{
    Dualsync__RegistrationClose b = DUALSYNC__REGISTRATION_CLOSE__INIT;
    b.reason = DUALSYNC__CLOSE_REASON__CLOSE_RETURNED;
    b.date = (char *)date;
    tu_event_make(out, k, community, seq, hlc, member,
                  DUALSYNC__EVENT_TYPE__EVENT_REGISTRATION_CLOSE, &b.base);
}

int tu_event_cmp(const void *a, const void *b)
{
    const struct event *x = *(const struct event *const *)a;
    const struct event *y = *(const struct event *const *)b;
    if (x->hlc != y->hlc)
        return x->hlc < y->hlc ? -1 : 1;
    int c = strcmp(x->origin, y->origin);
    if (c)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq ? 1 : 0;
}
