/* Unit tests of the node's large reads on a real node (node_open over real RocksDB in a
 * temp directory), asked through its control handler as the CLI and the console ask them:
 * the annual report's kept rows (node/annual.c, node/reports.c) and the member list
 * written as JSON text (node/commands.c).
 * The point of the kept rows is that a report reads only the records changed since the
 * last one: eventlog_members_each and eventlog_member are wrapped at link time
 * (-Wl,--wrap) and counted. Each test also checks the figures against what the records
 * say, so a row kept too long (a change not seen) fails as surely as a scan too many. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "ctl.h"
#include "eventlog.h"
#include "node.h"
#include "node_fixture.h"
#include "testutil.h"
#include "wire.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STREET "street:jinyu"
#define UNIT "unit:tax"
#define COMMUNITY "community:hexie"
#define ENDPOINT "tcp://127.0.0.1:7700"
#define HLC0 ((uint64_t)1767225600000 << 16) /* 2026-01-01 */

/* ---------------------------------------------------------------- counted reads */

static size_t scans, point_reads;

int __real_eventlog_members_each(struct eventlog *log,
                                 bool (*fn)(const Dualsync__MemberRecord *rec, void *arg),
                                 void *arg);
int __wrap_eventlog_members_each(struct eventlog *log,
                                 bool (*fn)(const Dualsync__MemberRecord *rec, void *arg),
                                 void *arg);
int __wrap_eventlog_members_each(struct eventlog *log,
                                 bool (*fn)(const Dualsync__MemberRecord *rec, void *arg),
                                 void *arg)
{
    scans++;
    return __real_eventlog_members_each(log, fn, arg);
}

int __real_eventlog_member(struct eventlog *log, const char *member,
                           Dualsync__MemberRecord **rec_out);
int __wrap_eventlog_member(struct eventlog *log, const char *member,
                           Dualsync__MemberRecord **rec_out);
int __wrap_eventlog_member(struct eventlog *log, const char *member,
                           Dualsync__MemberRecord **rec_out)
{
    point_reads++;
    return __real_eventlog_member(log, member, rec_out);
}

/* ---------------------------------------------------------------- fixture */

struct fixture {
    char root[TU_PATH_MAX];
    char dir[TU_PATH_MAX + 16];
    struct keys street_keys, other_keys; /* the other side's signing keys */
    struct node *n;
    uint64_t own_seq, other_seq, hlc;
};

static struct fixture *make(const char *org, const char *name)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    tu_tmpdir(fx->root);
    assert_rc(keys_crypto_init(), DS_OK);
    nf_make_node_dir(fx->root, STREET, org, name, ENDPOINT, &fx->street_keys, fx->dir,
                     sizeof(fx->dir));
    keys_generate(&fx->other_keys);
    assert_rc(node_open(fx->dir, &fx->n), DS_OK);
    fx->hlc = HLC0;
    return fx;
}

static int setup_community(void **state)
{
    *state = make(COMMUNITY, "和谐社区");
    return 0;
}

static int setup_unit(void **state)
{
    *state = make(UNIT, "市税务局");
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    node_close(&fx->n);
    tu_rmtree(fx->root);
    free(fx);
    return 0;
}

/* Stores e in the node's log in a transaction of its own, as applying a letter does. */
static void store(struct fixture *fx, struct tu_event *e)
{
    struct eventlog_txn *txn = eventlog_begin(fx->n->log);
    assert_rc(eventlog_txn_add(txn, &e->ev, 0), DS_OK);
    assert_rc(eventlog_commit(&txn), DS_OK);
    tu_event_free(e);
}

/* The unit's introduction of member to the community. */
static void intro(struct fixture *fx, const char *member)
{
    struct tu_event e;
    bool at_unit = fx->n->kind == ORG_UNIT;
    tu_event_intro(&e, at_unit ? &fx->n->keys : &fx->other_keys, UNIT,
                   at_unit ? ++fx->own_seq : ++fx->other_seq, ++fx->hlc, member, COMMUNITY, "张三",
                   30, "2026-03-01");
    store(fx, &e);
}

/* The community's report-in of member (the test's node is the community). */
static void report_in(struct fixture *fx, const char *member)
{
    struct tu_event e;
    tu_event_report(&e, &fx->n->keys, COMMUNITY, ++fx->own_seq, ++fx->hlc, member, "2026-03-05");
    store(fx, &e);
}

/* The unit's move-out of member (the test's node is the community). */
static void move_out(struct fixture *fx, const char *member)
{
    struct tu_event e;
    tu_event_move_out(&e, &fx->other_keys, UNIT, ++fx->other_seq, ++fx->hlc, member, "2026-06-01");
    store(fx, &e);
}

/* The node's answer to `annual report` of year, with the reads it took. */
/* The node's answer to req (taken) as it sent it, with the reads it took. */
static char *ask_text(struct fixture *fx, struct ctl_request *req)
{
    uint8_t *packed = NULL, *reply = NULL;
    size_t len = 0, reply_len = 0;
    ctl_request_pack(req, &packed, &len);
    ctl_request_destroy(&req);
    scans = point_reads = 0;
    commands_on_ctl(fx->n, packed, len, &reply, &reply_len);
    free(packed);
    Dualsync__CtlReply *r = wire_unpack_ctl_reply(reply, reply_len);
    free(reply);
    assert_non_null(r);
    assert_int_equal(r->code, DS_OK);
    char *text = strdup(r->json);
    wire_msg_free(r);
    return text;
}

/* The same, parsed. */
static json_t *ask(struct fixture *fx, struct ctl_request *req)
{
    char *text = ask_text(fx, req);
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    if (!j)
        fail_msg("the answer is not JSON: %s (%s)", err.text, text);
    free(text);
    return j;
}

/* `annual report` of year, with or without its member rows. */
static struct ctl_request *report_request(const char *year, bool summary)
{
    struct ctl_request *req = ctl_request_new();
    ctl_request_command(req, "annual report");
    ctl_request_arg(req, "year", year);
    if (summary)
        ctl_request_arg(req, "summary", "1");
    return req;
}

static json_t *report_of(struct fixture *fx, const char *year, bool summary)
{
    return ask(fx, report_request(year, summary));
}

/* `members`: without limit, the whole list (the CLI's); else one page after offset, of
 * filter's members when filter is not NULL (the console's). */
static json_t *members(struct fixture *fx, const char *filter, const char *limit,
                       const char *offset)
{
    struct ctl_request *req = ctl_request_new();
    ctl_request_command(req, "members");
    if (filter)
        ctl_request_arg(req, "filter", filter);
    if (limit)
        ctl_request_arg(req, "limit", limit);
    if (offset)
        ctl_request_arg(req, "offset", offset);
    return ask(fx, req);
}

static json_t *report(struct fixture *fx, bool summary)
{
    return report_of(fx, "2026", summary);
}

static long long num(const json_t *j, const char *key)
{
    const json_t *v = json_object_get(j, key);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

/* ---------------------------------------------------------------- tests */

/* The first report reads every record once; the next, with nothing changed, reads none;
 * after one member's report-in it reads that record only, and counts it. */
static void test_reads_only_changed_records(void **state)
{
    struct fixture *fx = *state;
    char member[16];
    for (int i = 0; i < 20; i++) {
        snprintf(member, sizeof(member), "M%02d", i);
        intro(fx, member);
    }
    json_t *j = report(fx, false);
    assert_int_equal(scans, 1);
    assert_int_equal(num(j, "registered"), 20);
    assert_int_equal(num(j, "reported"), 0);
    json_decref(j);

    j = report(fx, false);
    assert_int_equal(scans + point_reads, 0);
    assert_int_equal(num(j, "registered"), 20);
    json_decref(j);

    report_in(fx, "M07");
    j = report(fx, false);
    assert_int_equal(scans, 0);
    assert_int_equal(point_reads, 1);
    assert_int_equal(num(j, "registered"), 20);
    assert_int_equal(num(j, "reported"), 1);
    json_t *rows = json_object_get(j, "members");
    assert_int_equal(json_array_size(rows), 20);
    json_t *m7 = json_array_get(rows, 7);
    assert_string_equal(json_string_value(json_object_get(m7, "member")), "M07");
    assert_true(json_is_true(json_object_get(m7, "reported")));
    assert_string_equal(json_string_value(json_object_get(m7, "report_date")), "2026-03-05");
    assert_true(json_is_real(json_object_get(m7, "hours"))); /* a real, as jansson wrote it */
    assert_string_equal(json_string_value(json_object_get(m7, "unit")), UNIT);
    json_decref(j);
}

/* Numbers are written as every reply writes them (CTL_JSON_FLAGS): a rate of one in three
 * is 33.3, not 33.299999999999997, and an hour count is a real even when whole. */
static void test_numbers_as_replies_write_them(void **state)
{
    struct fixture *fx = *state;
    intro(fx, "M01");
    intro(fx, "M02");
    intro(fx, "M03");
    report_in(fx, "M02");
    char *text = ask_text(fx, report_request("2026", false));
    if (!strstr(text, "\"report_rate\":33.3,") || !strstr(text, "\"hours\":0.0,"))
        fail_msg("numbers not written as replies write them: %s", text);
    free(text);
}

/* Rows come in member order whatever order they were added or changed in, and a member
 * who moved away leaves the rows; a new member joins them. */
static void test_rows_follow_the_records(void **state)
{
    struct fixture *fx = *state;
    static const char *const members[] = {"M05", "M01", "M09", "M03"};
    for (size_t i = 0; i < 4; i++)
        intro(fx, members[i]);
    json_decref(report(fx, false));

    move_out(fx, "M03");
    intro(fx, "M00");
    report_in(fx, "M09");
    json_t *j = report(fx, false);
    assert_int_equal(scans, 0);
    assert_int_equal(point_reads, 3);
    assert_int_equal(num(j, "registered"), 4);
    json_t *rows = json_object_get(j, "members");
    static const char *const want[] = {"M00", "M01", "M05", "M09"};
    assert_int_equal(json_array_size(rows), 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(rows, i), "member")),
                            want[i]);
    json_decref(j);

    /* the summary: the same counts, no rows */
    j = report(fx, true);
    assert_int_equal(num(j, "registered"), 4);
    assert_int_equal(num(j, "reported"), 1);
    assert_null(json_object_get(j, "members"));
    json_decref(j);
}

/* A broker's refusal of an introduction changes who counts without changing a record:
 * the kept rows are dropped and the next report reads every record again. */
static void test_refusal_drops_the_rows(void **state)
{
    struct fixture *fx = *state;
    intro(fx, "M01"); /* our seq 1 */
    intro(fx, "M02"); /* our seq 2 */
    json_t *j = report(fx, false);
    assert_int_equal(num(j, "introduced"), 2);
    json_decref(j);

    assert_true(node_note_refused(fx->n, 1, "the community is not in the street"));
    j = report(fx, false);
    assert_int_equal(scans, 1);
    assert_int_equal(num(j, "introduced"), 1);
    json_t *rows = json_object_get(j, "members");
    assert_int_equal(json_array_size(rows), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "member")),
                        "M02");
    json_decref(j);
}

/* Another year is read whole (its rows are not the kept year's); the kept rows of the
 * first year are gone, so asking for it again reads whole too. */
static void test_another_year_reads_whole(void **state)
{
    struct fixture *fx = *state;
    intro(fx, "M01");
    json_decref(report(fx, false));
    json_decref(report_of(fx, "2025", false));
    assert_int_equal(scans, 1);
    json_decref(report(fx, false));
    assert_int_equal(scans, 1);
}

/* The member list, whole (the CLI's) and a page (the console's), as JSON a client parses:
 * the fields and their types, member order, the total of every row. */
static void test_member_list(void **state)
{
    struct fixture *fx = *state;
    intro(fx, "M02");
    intro(fx, "M01");
    report_in(fx, "M02");
    move_out(fx, "M01");
    intro(fx, "M03");

    json_t *all = members(fx, NULL, NULL, NULL);
    assert_true(json_is_array(all));
    assert_int_equal(json_array_size(all), 2); /* M01 moved away */
    json_t *m2 = json_array_get(all, 0);
    assert_string_equal(json_string_value(json_object_get(m2, "member")), "M02");
    assert_string_equal(json_string_value(json_object_get(m2, "name")), "张三");
    assert_string_equal(json_string_value(json_object_get(m2, "unit")), UNIT);
    assert_string_equal(json_string_value(json_object_get(m2, "community")), COMMUNITY);
    assert_true(json_is_true(json_object_get(m2, "reported")));
    assert_true(json_is_false(json_object_get(m2, "card")));
    assert_true(json_is_string(json_object_get(m2, "closed")));
    assert_true(json_is_string(json_object_get(m2, "group")));
    assert_int_equal(num(m2, "feedback"), 0);
    assert_int_equal(strlen(json_string_value(json_object_get(m2, "digest"))), 64);
    json_decref(all);

    json_t *page = members(fx, "closed", "10", NULL);
    assert_int_equal(num(page, "total"), 1);
    json_t *rows = json_object_get(page, "members");
    assert_int_equal(json_array_size(rows), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "member")),
                        "M01");
    json_decref(page);

    page = members(fx, NULL, "10", "5"); /* a page past the end: the total, no rows */
    assert_int_equal(num(page, "total"), 2);
    assert_int_equal(json_array_size(json_object_get(page, "members")), 0);
    json_decref(page);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reads_only_changed_records, setup_community, teardown),
        cmocka_unit_test_setup_teardown(test_rows_follow_the_records, setup_community, teardown),
        cmocka_unit_test_setup_teardown(test_refusal_drops_the_rows, setup_unit, teardown),
        cmocka_unit_test_setup_teardown(test_another_year_reads_whole, setup_community, teardown),
        cmocka_unit_test_setup_teardown(test_member_list, setup_community, teardown),
        cmocka_unit_test_setup_teardown(test_numbers_as_replies_write_them, setup_community,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
