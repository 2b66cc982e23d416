/* Unit tests of the node's task list (node/tasks.c): the order of the `tasks` command,
 * one page of it with the counts of all, the strings copied out of the duties (which
 * borrow from records freed after each callback), and when a kept list may be served
 * again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "buf.h"
#include "eventlog.h"
#include "node.h"
#include "tasks.h"
#include "testutil.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Adds a duty whose strings live in a buffer that is overwritten right after, as a
 * record's are once duties_member returns. */
static void add(struct task_list *l, enum duty_kind kind, const char *member, const char *ref,
                const char *due, bool overdue)
{
    char scratch[3][64];
    struct duty d;
    memset(&d, 0, sizeof(d));
    d.kind = kind;
    snprintf(scratch[0], sizeof(scratch[0]), "%s", member);
    snprintf(scratch[1], sizeof(scratch[1]), "name of %s", member);
    snprintf(scratch[2], sizeof(scratch[2]), "community:c1");
    d.member = scratch[0];
    d.name = scratch[1];
    d.org = scratch[2];
    d.actor = ORG_COMMUNITY;
    snprintf(d.ref, sizeof(d.ref), "%s", ref);
    snprintf(d.due, sizeof(d.due), "%s", due);
    d.overdue = overdue;
    snprintf(d.zh, sizeof(d.zh), "待办 %s", member);
    snprintf(d.en, sizeof(d.en), "due %s", member);
    tasks_add(&d, l);
    memset(scratch, 'x', sizeof(scratch)); /* the list must hold copies */
}

/* A page as a client reads it: the written text must parse as a JSON array. */
static json_t *page_json(const struct task_list *l, size_t first, size_t limit)
{
    struct buf out = BUF_INIT;
    tasks_json_text(l, first, limit, &out);
    json_error_t err;
    json_t *arr = json_loads(out.p, 0, &err);
    if (!arr)
        fail_msg("tasks_json_text wrote no JSON: %s (%s)", err.text, out.p);
    assert_true(json_is_array(arr));
    buf_release(&out);
    return arr;
}

static const char *field(json_t *arr, size_t i, const char *key)
{
    return json_string_value(json_object_get(json_array_get(arr, i), key));
}

/* By due date, items without one last; then kind (by name), member, ref. */
static void test_tasks_sorted_as_documented(void **state)
{
    (void)state;
    struct task_list *l = tasks_new("2026-06-23", 7);
    add(l, DUTY_GROUP, "M1", "", "", false);
    add(l, DUTY_REPORT_IN, "M3", "unit:u1/3", "2026-02-04", true);
    add(l, DUTY_FEEDBACK, "M2", "2026", "2026-02-04", true);
    add(l, DUTY_REPORT_IN, "M2", "unit:u1/2", "2026-02-04", true);
    add(l, DUTY_REPORT_IN, "M2", "unit:u1/1", "2026-02-04", true);
    add(l, DUTY_FEEDBACK, "M9", "2026", "2026-01-31", false);
    tasks_sort(l);
    assert_int_equal(tasks_count(l), 6);
    assert_int_equal(tasks_overdue(l), 4);
    json_t *all = page_json(l, 0, 0);
    static const char *const want[][3] = {
        {"2026-01-31", "feedback", "M9"},  {"2026-02-04", "feedback", "M2"},
        {"2026-02-04", "report-in", "M2"}, {"2026-02-04", "report-in", "M2"},
        {"2026-02-04", "report-in", "M3"}, {"", "group", "M1"},
    };
    assert_int_equal(json_array_size(all), 6);
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(field(all, i, "due"), want[i][0]);
        assert_string_equal(field(all, i, "kind"), want[i][1]);
        assert_string_equal(field(all, i, "member"), want[i][2]);
    }
    assert_string_equal(field(all, 2, "ref"), "unit:u1/1"); /* then by ref */
    assert_string_equal(field(all, 3, "ref"), "unit:u1/2");
    assert_string_equal(field(all, 0, "name"), "name of M9"); /* copied, not borrowed */
    assert_string_equal(field(all, 0, "org"), "community:c1");
    assert_string_equal(field(all, 0, "actor"), "community");
    assert_string_equal(field(all, 0, "zh"), "待办 M9");
    assert_string_equal(field(all, 0, "en"), "due M9");
    assert_true(json_is_false(json_object_get(json_array_get(all, 0), "overdue")));
    assert_true(json_is_true(json_object_get(json_array_get(all, 1), "overdue")));
    json_decref(all);
    tasks_free(&l);
    assert_null(l);
    tasks_free(&l); /* harmless twice */
}

/* A page: rows first..first+limit-1, clipped at the end; limit 0 is the rest. */
static void test_tasks_pages(void **state)
{
    (void)state;
    struct task_list *l = tasks_new("2026-06-23", 1);
    char member[16];
    for (int i = 0; i < 250; i++) {
        snprintf(member, sizeof(member), "M%03d", i);
        add(l, DUTY_REPORT_IN, member, "", "2026-02-04", i % 2);
    }
    tasks_sort(l);
    static const struct {
        size_t first, limit, n;
        const char *first_member;
    } pages[] = {
        {0, 100, 100, "M000"}, {200, 100, 50, "M200"}, {249, 5, 1, "M249"},
        {250, 100, 0, NULL},   {9999, 1, 0, NULL},     {100, 0, 150, "M100"},
    };
    for (size_t p = 0; p < sizeof(pages) / sizeof(pages[0]); p++) {
        json_t *page = page_json(l, pages[p].first, pages[p].limit);
        assert_int_equal(json_array_size(page), pages[p].n);
        if (pages[p].first_member)
            assert_string_equal(field(page, 0, "member"), pages[p].first_member);
        json_decref(page);
    }
    assert_int_equal(tasks_count(l), 250);
    assert_int_equal(tasks_overdue(l), 125);
    tasks_free(&l);
}

/* The written rows carry every string as it was, however it must be escaped. */
static void test_tasks_text_escapes_strings(void **state)
{
    (void)state;
    struct task_list *l = tasks_new("2026-06-23", 7);
    add(l, DUTY_REPORT_IN, "M\"1\\", "unit:u1/1", "2026-02-04", true);
    tasks_sort(l);
    json_t *all = page_json(l, 0, 0);
    assert_int_equal(json_array_size(all), 1);
    assert_string_equal(field(all, 0, "member"), "M\"1\\");
    assert_string_equal(field(all, 0, "name"), "name of M\"1\\");
    assert_string_equal(field(all, 0, "zh"), "待办 M\"1\\");
    assert_string_equal(field(all, 0, "kind"), "report-in");
    assert_string_equal(field(all, 0, "actor"), "community");
    assert_true(json_is_true(json_object_get(json_array_get(all, 0), "overdue")));
    json_decref(all);
    tasks_free(&l);
}

/* A kept list not asked for in NODE_TASKS_KEEP_MS is dropped at the next tick, not
 * before: an idle community of 100,000 members gives its ~10 MB back. */
static void test_tasks_dropped_when_unused(void **state)
{
    (void)state;
    char dir[TU_PATH_MAX];
    struct node n;
    memset(&n, 0, sizeof(n));
    tu_tmpdir(dir);
    assert_rc(eventlog_open(dir, STORE_WAL, &n.log), DS_OK);
    reports_rest(&n, 5000); /* nothing kept: nothing to do */
    n.tasks = tasks_new("2026-06-23", 7);
    n.tasks_used_ms = 1000;
    reports_rest(&n, 1000 + NODE_TASKS_KEEP_MS - 1);
    assert_non_null(n.tasks);
    reports_rest(&n, 1000 + NODE_TASKS_KEEP_MS);
    assert_null(n.tasks);
    eventlog_destroy(&n.log);
    tu_rmtree(dir);
}

/* A kept list holds for its as-of date at its generation of the log only. */
static void test_tasks_fresh_only_for_the_same_day_and_log(void **state)
{
    (void)state;
    struct task_list *l = tasks_new("2026-06-23", 41);
    assert_true(tasks_fresh(l, "2026-06-23", 41));
    assert_false(tasks_fresh(l, "2026-06-23", 42)); /* a letter was committed since */
    assert_false(tasks_fresh(l, "2026-06-24", 41)); /* another day */
    assert_false(tasks_fresh(NULL, "2026-06-23", 41));
    tasks_free(&l);
}

/* The log's generation moves with every commit, so a kept list is never served after one. */
static void test_tasks_generation_moves_with_each_commit(void **state)
{
    const char *dir = *state;
    struct eventlog *log = NULL;
    struct keys k;
    struct tu_event e;
    keys_generate(&k);
    assert_rc(eventlog_open(dir, STORE_WAL, &log), DS_OK);
    uint64_t g0 = eventlog_generation(log);
    tu_event_intro(&e, &k, "unit:u1", 1, 100, "M1", "community:c1", "Li", 30, "2026-01-05");
    struct eventlog_txn *txn = eventlog_begin(log);
    assert_rc(eventlog_txn_add(txn, &e.ev, 0), DS_OK);
    assert_rc(eventlog_commit(&txn), DS_OK);
    uint64_t g1 = eventlog_generation(log);
    assert_true(g1 != g0);
    txn = eventlog_begin(log);
    eventlog_txn_put_meta_u64(txn, "inbox_cursor", 5);
    assert_rc(eventlog_commit(&txn), DS_OK);
    assert_true(eventlog_generation(log) != g1);
    tu_event_free(&e);
    eventlog_destroy(&log);
}

int main(void)
{
    assert_rc(keys_crypto_init(), DS_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tasks_sorted_as_documented),
        cmocka_unit_test(test_tasks_pages),
        cmocka_unit_test(test_tasks_text_escapes_strings),
        cmocka_unit_test(test_tasks_dropped_when_unused),
        cmocka_unit_test(test_tasks_fresh_only_for_the_same_day_and_log),
        tu_test_tmpdir(test_tasks_generation_moves_with_each_commit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
