/* Unit tests of common/chaos, the fault injection of the chaos test: specs parse or are
 * refused, each fault does what it says, nothing is ever lost except by "drop", and a
 * seed reproduces the same decisions. Time is passed in, so no test sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "chaos.h"

#include <string.h>

struct sink {
    int order[4096];
    size_t n;
};

static void record(void *arg, const void *peer, const uint8_t *data, size_t len)
{
    (void)peer;
    struct sink *s = arg;
    int v = 0;
    assert_int_equal(len, sizeof(v));
    memcpy(&v, data, sizeof(v));
    s->order[s->n++] = v;
}

static void send_n(struct chaos *c, struct sink *s, int n)
{
    for (int i = 0; i < n; i++)
        chaos_submit(c, NULL, 0, (const uint8_t *)&i, sizeof(i), 1000, record, s);
    chaos_flush(c, 1000 + 1000, record, s); /* everything held is due by now */
}

static void test_chaos_specs(void **state)
{
    (void)state;
    bool bad = true;
    assert_null(chaos_new(NULL, &bad));
    assert_false(bad);
    assert_null(chaos_new("", &bad));
    assert_false(bad);
    assert_null(chaos_new("drop=x", &bad));
    assert_true(bad);
    assert_null(chaos_new("jitter=0.1", &bad));
    assert_true(bad);
    assert_null(chaos_new("drop=0.6,delay=0.6", &bad)); /* more than certain */
    assert_true(bad);
    struct chaos *c = chaos_new("drop=0.1,dup=0.1,reorder=0.1,delay=0.1,seed=3", &bad);
    assert_non_null(c);
    assert_false(bad);
    chaos_destroy(&c);
    assert_null(c);
}

static void test_chaos_drop_all_and_dup_all(void **state)
{
    (void)state;
    bool bad;
    struct sink s = {.n = 0};
    struct chaos_stats st;
    struct chaos *c = chaos_new("drop=1", &bad);
    send_n(c, &s, 100);
    chaos_stats(c, &st);
    assert_int_equal(s.n, 0);
    assert_int_equal(st.dropped, 100);
    chaos_destroy(&c);

    c = chaos_new("dup=1", &bad);
    send_n(c, &s, 100);
    chaos_stats(c, &st);
    assert_int_equal(s.n, 200);
    assert_int_equal(st.duplicated, 100);
    for (int i = 0; i < 100; i++) { /* each frame twice, in order */
        assert_int_equal(s.order[2 * i], i);
        assert_int_equal(s.order[2 * i + 1], i);
    }
    chaos_destroy(&c);
}

static void test_chaos_reorder_and_delay_lose_nothing(void **state)
{
    (void)state;
    bool bad;
    struct sink s = {.n = 0};
    struct chaos_stats st;
    struct chaos *c = chaos_new("reorder=0.3,delay=0.3,seed=9", &bad);
    send_n(c, &s, 1000);
    chaos_stats(c, &st);
    assert_int_equal(s.n, 1000);
    assert_true(st.reordered > 0 && st.delayed > 0);
    int seen[1000] = {0}, out_of_order = 0;
    for (size_t i = 0; i < s.n; i++) {
        seen[s.order[i]]++;
        if (i && s.order[i] < s.order[i - 1])
            out_of_order++;
    }
    for (int i = 0; i < 1000; i++)
        assert_int_equal(seen[i], 1);
    assert_true(out_of_order > 0);
    chaos_destroy(&c);
}

static void test_chaos_seed_reproduces(void **state)
{
    (void)state;
    bool bad;
    static struct sink a, b;
    struct chaos *c1 = chaos_new("drop=0.2,dup=0.2,reorder=0.2,delay=0.2,seed=5", &bad);
    struct chaos *c2 = chaos_new("drop=0.2,dup=0.2,reorder=0.2,delay=0.2,seed=5", &bad);
    send_n(c1, &a, 500);
    send_n(c2, &b, 500);
    assert_int_equal(a.n, b.n);
    assert_memory_equal(a.order, b.order, a.n * sizeof(a.order[0]));
    chaos_destroy(&c1);
    chaos_destroy(&c2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chaos_specs),
        cmocka_unit_test(test_chaos_drop_all_and_dup_all),
        cmocka_unit_test(test_chaos_reorder_and_delay_lose_nothing),
        cmocka_unit_test(test_chaos_seed_reproduces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
