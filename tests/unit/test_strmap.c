/* Unit tests of strmap. Besides the basic operations, a model test runs the real map and a
 * trivial reference (an array indexed by key number) side by side through a long random
 * sequence of puts, replaces and removals, so that backward-shift deletion across probe
 * clusters and table growth are exercised far beyond hand-written cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "strmap.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_strmap_put_get_replace_remove(void **state)
{
    struct strmap *m = strmap_new();
    int a = 1, b = 2, c = 3;
    (void)state;
    assert_int_equal(strmap_count(m), 0);
    assert_null(strmap_put(m, "unit:a", &a));
    assert_null(strmap_put(m, "community:b", &b));
    assert_int_equal(strmap_count(m), 2);
    assert_ptr_equal(strmap_get(m, "unit:a"), &a);
    assert_ptr_equal(strmap_get(m, "community:b"), &b);
    assert_null(strmap_get(m, "unit:missing"));
    /* Replace returns the previous value and keeps the count. */
    assert_ptr_equal(strmap_put(m, "unit:a", &c), &a);
    assert_int_equal(strmap_count(m), 2);
    assert_ptr_equal(strmap_get(m, "unit:a"), &c);
    /* Remove returns the value; a second remove finds nothing. */
    assert_ptr_equal(strmap_remove(m, "unit:a"), &c);
    assert_null(strmap_remove(m, "unit:a"));
    assert_null(strmap_get(m, "unit:a"));
    assert_int_equal(strmap_count(m), 1);
    /* Keys are copied: the caller's buffer may change afterwards. */
    char key[16];
    snprintf(key, sizeof(key), "street:x");
    assert_null(strmap_put(m, key, &a));
    key[0] = 'S';
    assert_ptr_equal(strmap_get(m, "street:x"), &a);
    assert_null(strmap_get(m, key));
    /* The empty string is a key like any other. */
    assert_null(strmap_put(m, "", &b));
    assert_ptr_equal(strmap_get(m, ""), &b);
    strmap_destroy(&m, NULL);
    assert_null(m);
    strmap_destroy(&m, NULL); /* NULL-safe */
}

static void test_strmap_destroy_frees_values(void **state)
{
    struct strmap *m = strmap_new();
    char key[32];
    (void)state;
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        int *v = malloc(sizeof(*v));
        assert_non_null(v);
        *v = i;
        assert_null(strmap_put(m, key, v));
    }
    /* free_value runs on each value: ASan/LeakSanitizer would report any left over. */
    strmap_destroy(&m, free);
    assert_null(m);
}

/* ---------------------------------------------------------------- model test */

#define MODEL_KEYS 10000

struct each_ctx {
    unsigned char *seen;
    void *const *model;
    size_t visits;
    bool bad;
};

static bool each_check(const char *key, void *value, void *arg)
{
    struct each_ctx *ctx = arg;
    long n = strtol(key + 3, NULL, 10);
    ctx->visits++;
    if (strncmp(key, "key", 3) != 0 || n < 0 || n >= MODEL_KEYS || ctx->seen[n] ||
        ctx->model[n] != value) {
        ctx->bad = true;
        return false;
    }
    ctx->seen[n] = 1;
    return true;
}

static void check_against_model(const struct strmap *m, void *const *model)
{
    size_t live = 0;
    char key[32];
    for (size_t i = 0; i < MODEL_KEYS; i++) {
        snprintf(key, sizeof(key), "key%zu", i);
        if (strmap_get(m, key) != model[i])
            fail_msg("get(%s) disagrees with the model", key);
        live += model[i] != NULL;
    }
    assert_int_equal(strmap_count(m), live);

    struct each_ctx ctx = {calloc(MODEL_KEYS, 1), model, 0, false};
    assert_non_null(ctx.seen);
    strmap_each(m, each_check, &ctx);
    assert_false(ctx.bad);
    assert_int_equal(ctx.visits, live); /* each visits every entry exactly once */
    free(ctx.seen);
}

static void test_strmap_model_random_ops(void **state)
{
    /* Values are distinct non-NULL tokens: addresses inside one array. */
    static char tokens[4 * MODEL_KEYS];
    static void *model[MODEL_KEYS];
    struct strmap *m = strmap_new();
    uint64_t rng = 0x5eed5eed1234ull;
    char key[32];
    size_t next_token = 0;
    (void)state;
    memset(model, 0, sizeof(model));

    /* Phase 1: insert every key. */
    for (size_t i = 0; i < MODEL_KEYS; i++) {
        snprintf(key, sizeof(key), "key%zu", i);
        void *v = &tokens[next_token++];
        assert_null(strmap_put(m, key, v));
        model[i] = v;
    }
    check_against_model(m, model);

    /* Phase 2: remove about half, in random order. */
    for (size_t n = 0; n < MODEL_KEYS; n++) {
        size_t i = tu_rand_below(&rng, MODEL_KEYS);
        snprintf(key, sizeof(key), "key%zu", i);
        void *got = strmap_remove(m, key);
        if (got != model[i])
            fail_msg("remove(%s) returned the wrong value", key);
        model[i] = NULL;
    }
    check_against_model(m, model);

    /* Phase 3: a random mix of put, replace, remove and get. */
    for (size_t n = 0; n < 5 * MODEL_KEYS; n++) {
        size_t i = tu_rand_below(&rng, MODEL_KEYS);
        snprintf(key, sizeof(key), "key%zu", i);
        switch (tu_rand_below(&rng, 3)) {
        case 0: {
            void *v = &tokens[next_token++ % sizeof(tokens)];
            if (strmap_put(m, key, v) != model[i])
                fail_msg("put(%s) returned the wrong previous value", key);
            model[i] = v;
            break;
        }
        case 1:
            if (strmap_remove(m, key) != model[i])
                fail_msg("remove(%s) returned the wrong value", key);
            model[i] = NULL;
            break;
        default:
            if (strmap_get(m, key) != model[i])
                fail_msg("get(%s) disagrees with the model", key);
            break;
        }
    }
    check_against_model(m, model);

    /* Phase 4: remove everything left; the map ends empty. */
    for (size_t i = 0; i < MODEL_KEYS; i++) {
        snprintf(key, sizeof(key), "key%zu", i);
        assert_ptr_equal(strmap_remove(m, key), model[i]);
        model[i] = NULL;
    }
    check_against_model(m, model);
    assert_int_equal(strmap_count(m), 0);
    strmap_destroy(&m, NULL);
}

/* A growth moves the old table over a few slots per call (no call rehashes the whole map:
 * on a broker's loop that was a stall of 13-29 ms), and every key stays readable,
 * replaceable and removable while it moves. */
static void test_strmap_growth_is_spread_over_calls(void **state)
{
    static char tokens[2 * MODEL_KEYS];
    static void *model[MODEL_KEYS];
    struct strmap *m = strmap_new();
    char key[32];
    size_t n = 0;
    (void)state;
    memset(model, 0, sizeof(model));
    while (strmap_growing(m) < 4096) { /* until a table of 4,096 slots or more grows */
        snprintf(key, sizeof(key), "key%zu", n);
        model[n] = &tokens[n];
        assert_null(strmap_put(m, key, model[n]));
        n++;
    }
    check_against_model(m, model);
    for (size_t op = 0; strmap_growing(m) > 0; op++) {
        size_t before = strmap_growing(m);
        size_t i = op % 3 == 0 ? n++ : (op * 7919) % n; /* a new key, or an old one */
        assert_true(n < MODEL_KEYS);
        snprintf(key, sizeof(key), "key%zu", i);
        if (op % 3 == 2) {
            assert_ptr_equal(strmap_remove(m, key), model[i]);
            model[i] = NULL;
        } else {
            void *v = &tokens[MODEL_KEYS + i];
            assert_ptr_equal(strmap_put(m, key, v), model[i]);
            model[i] = v;
        }
        assert_true(before - strmap_growing(m) <= 64);
        if (op % 16 == 0)
            check_against_model(m, model); /* gets and each, halfway through the move */
    }
    check_against_model(m, model);
    strmap_destroy(&m, NULL);
}

static bool count_all(const char *key, void *value, void *arg)
{
    (void)key;
    (void)value;
    ++*(size_t *)arg;
    return true;
}

static size_t count_entries(const struct strmap *m)
{
    size_t n = 0;
    strmap_each(m, count_all, &n);
    return n;
}

/* A cleared map is empty (values freed: ASan would report a leak), whether it was small,
 * halfway through a growth, larger than it keeps, or far larger than its last fill, and
 * takes the same keys again. */
static void test_strmap_clear_empties_and_is_reused(void **state)
{
    static const size_t sizes[] = {10, 2870, 3 * STRMAP_KEEP_SLOTS, 2870, 5};
    struct strmap *m = strmap_new();
    char key[32];
    (void)state;
    for (size_t round = 0; round < 2; round++)
        for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
            for (size_t i = 0; i < sizes[s]; i++) {
                snprintf(key, sizeof(key), "key%zu", i);
                size_t *v = malloc(sizeof(*v));
                assert_non_null(v);
                *v = i;
                assert_null(strmap_put(m, key, v));
            }
            if (s == 1)
                assert_true(strmap_growing(m) > 0); /* 4,096 slots grew at 2,868 keys */
            assert_int_equal(count_entries(m), sizes[s]);
            strmap_clear(m, free);
            assert_int_equal(strmap_count(m), 0);
            assert_int_equal(strmap_growing(m), 0);
            assert_int_equal(count_entries(m), 0);
            assert_null(strmap_get(m, "key0"));
        }
    strmap_destroy(&m, free);
}

static bool count_until_three(const char *key, void *value, void *arg)
{
    (void)key;
    (void)value;
    size_t *n = arg;
    return ++*n < 3;
}

static void test_strmap_each_stops_early(void **state)
{
    struct strmap *m = strmap_new();
    char key[16];
    int v = 0;
    size_t n = 0;
    (void)state;
    for (int i = 0; i < 20; i++) {
        snprintf(key, sizeof(key), "m%d", i);
        strmap_put(m, key, &v);
    }
    strmap_each(m, count_until_three, &n);
    assert_int_equal(n, 3);
    strmap_destroy(&m, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strmap_put_get_replace_remove),
        cmocka_unit_test(test_strmap_destroy_frees_values),
        cmocka_unit_test(test_strmap_model_random_ops),
        cmocka_unit_test(test_strmap_growth_is_spread_over_calls),
        cmocka_unit_test(test_strmap_each_stops_early),
        cmocka_unit_test(test_strmap_clear_empties_and_is_reused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
