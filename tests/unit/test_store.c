/* Unit tests of store, on a real RocksDB in a temp directory per test. The key encoding is
 * what makes RocksDB order the log order, so the ordering tests use seqs whose decimal and
 * byte orders disagree (2 < 10, 255 < 256). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "fdlimit.h"
#include "store.h"
#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static void event_key(struct skey *k, const char *origin, uint64_t seq)
{
    skey_init(k);
    skey_str(k, origin);
    skey_u64(k, seq);
}

static void name_key(struct skey *k, const char *name)
{
    skey_init(k);
    skey_str(k, name);
}

static void test_store_skey_encoding(void **state)
{
    struct skey k;
    uint8_t b[8];
    (void)state;
    event_key(&k, "unit:a", 0x0102030405060708ull);
    assert_int_equal(k.n, 7 + 8);
    assert_false(k.overflow);
    assert_memory_equal(k.b, "unit:a\0\x01\x02\x03\x04\x05\x06\x07\x08", 15);
    store_put_u64be(b, 258);
    assert_memory_equal(b, "\0\0\0\0\0\0\x01\x02", 8);
    assert_true(store_get_u64be(b) == 258);
    store_put_u64be(b, UINT64_MAX);
    assert_true(store_get_u64be(b) == UINT64_MAX);

    /* Appends past SKEY_MAX set overflow and write nothing more. */
    char big[SKEY_MAX];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    skey_init(&k);
    skey_str(&k, big); /* exactly SKEY_MAX bytes with the 0 */
    assert_false(k.overflow);
    assert_int_equal(k.n, SKEY_MAX);
    skey_u64(&k, 1);
    assert_true(k.overflow);
    assert_int_equal(k.n, SKEY_MAX);
}

static void test_store_put_get(void **state)
{
    const char *dir = *state;
    struct store *s = NULL;
    struct skey k;
    void *val = NULL;
    size_t len = 0;
    assert_rc(store_open(dir, STORE_FSYNC, &s), DS_OK);
    struct store_batch *b = store_batch_new(s);
    event_key(&k, "unit:a", 1);
    store_batch_put(b, CF_EVENTS, &k, "event one", 9);
    name_key(&k, "M1");
    store_batch_put(b, CF_MEMBERS, &k, "", 0); /* empty values are values */
    assert_rc(store_commit(s, b), DS_OK);
    store_batch_destroy(&b);
    assert_null(b);

    event_key(&k, "unit:a", 1);
    assert_rc(store_get(s, CF_EVENTS, &k, &val, &len), DS_OK);
    assert_int_equal(len, 9);
    assert_memory_equal(val, "event one", 9);
    free(val);
    name_key(&k, "M1");
    val = NULL;
    assert_rc(store_get(s, CF_MEMBERS, &k, &val, &len), DS_OK);
    assert_int_equal(len, 0);
    free(val);
    /* Column families are separate key spaces. */
    event_key(&k, "unit:a", 1);
    assert_rc(store_get(s, CF_META, &k, &val, &len), DS_ENOTFOUND);
    store_destroy(&s);
    assert_null(s);
    store_destroy(&s); /* NULL-safe */
}

static void test_store_get_missing_notfound(void **state)
{
    const char *dir = *state;
    struct store *s = NULL;
    struct skey k;
    void *val = (void *)0x1;
    size_t len = 12345;
    uint64_t v = 0;
    assert_rc(store_open(dir, STORE_WAL, &s), DS_OK);
    name_key(&k, "nothing");
    assert_rc(store_get(s, CF_META, &k, &val, &len), DS_ENOTFOUND);
    assert_ptr_equal(val, (void *)0x1); /* out-parameters untouched */
    assert_int_equal(len, 12345);
    assert_rc(store_get_u64(s, CF_META, &k, 99, &v), DS_OK);
    assert_true(v == 99);
    store_destroy(&s);
}

static void test_store_get_u64(void **state)
{
    const char *dir = *state;
    struct store *s = NULL;
    struct skey k;
    uint64_t v = 0;
    assert_rc(store_open(dir, STORE_WAL, &s), DS_OK);
    struct store_batch *b = store_batch_new(s);
    name_key(&k, "cursor");
    store_batch_put_u64(b, CF_META, &k, 0x1122334455667788ull);
    name_key(&k, "short");
    store_batch_put(b, CF_META, &k, "abc", 3);
    assert_rc(store_commit(s, b), DS_OK);
    store_batch_destroy(&b);
    name_key(&k, "cursor");
    assert_rc(store_get_u64(s, CF_META, &k, 0, &v), DS_OK);
    assert_true(v == 0x1122334455667788ull);
    /* A value that is not 8 bytes is corrupt, not a number. */
    name_key(&k, "short");
    assert_rc(store_get_u64(s, CF_META, &k, 0, &v), DS_EIO);
    store_destroy(&s);
}

static void test_store_iter_prefix_big_endian_order(void **state)
{
    const char *dir = *state;
    static const uint64_t seqs[] = {10, 2, 256, 1, 255, 65536, 3};
    static const uint64_t sorted[] = {1, 2, 3, 10, 255, 256, 65536};
    struct store *s = NULL;
    struct skey k, prefix, from;
    assert_rc(store_open(dir, STORE_WAL, &s), DS_OK);
    struct store_batch *b = store_batch_new(s);
    for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
        event_key(&k, "unit:a", seqs[i]);
        store_batch_put_u64(b, CF_EVENTS, &k, seqs[i]);
    }
    /* Neighbours that share the string prefix but not the key prefix. */
    event_key(&k, "unit:a-b", 1);
    store_batch_put_u64(b, CF_EVENTS, &k, 1000);
    event_key(&k, "unit:", 5);
    store_batch_put_u64(b, CF_EVENTS, &k, 1001);
    event_key(&k, "unit:b", 1);
    store_batch_put_u64(b, CF_EVENTS, &k, 1002);
    assert_rc(store_commit(s, b), DS_OK);
    store_batch_destroy(&b);

    name_key(&prefix, "unit:a");
    struct store_iter *it = store_iter_new(s, CF_EVENTS, &prefix, NULL);
    size_t n = 0;
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t klen, vlen;
        const uint8_t *key = store_iter_key(it, &klen);
        const uint8_t *val = store_iter_value(it, &vlen);
        assert_true(n < sizeof(sorted) / sizeof(sorted[0]));
        assert_int_equal(klen, prefix.n + 8);
        assert_true(store_get_u64be(key + prefix.n) == sorted[n]);
        assert_int_equal(vlen, 8);
        assert_true(store_get_u64be(val) == sorted[n]);
        n++;
    }
    assert_int_equal(n, sizeof(sorted) / sizeof(sorted[0]));
    store_iter_destroy(&it);
    assert_null(it);

    /* Starting from a position inside the prefix. */
    event_key(&from, "unit:a", 4);
    it = store_iter_new(s, CF_EVENTS, &prefix, &from);
    assert_true(store_iter_valid(it));
    size_t klen;
    const uint8_t *key = store_iter_key(it, &klen);
    assert_true(store_get_u64be(key + prefix.n) == 10);
    store_iter_destroy(&it);

    /* An empty prefix walks the whole family. */
    skey_init(&prefix);
    it = store_iter_new(s, CF_EVENTS, &prefix, NULL);
    n = 0;
    for (; store_iter_valid(it); store_iter_next(it))
        n++;
    assert_int_equal(n, sizeof(seqs) / sizeof(seqs[0]) + 3);
    store_iter_destroy(&it);

    /* A prefix with no keys. */
    name_key(&prefix, "unit:zzz");
    it = store_iter_new(s, CF_EVENTS, &prefix, NULL);
    assert_false(store_iter_valid(it));
    store_iter_destroy(&it);
    store_destroy(&s);
}

static void test_store_batch_atomic_count(void **state)
{
    const char *dir = *state;
    struct store *s = NULL;
    struct skey k;
    void *val = NULL;
    size_t len = 0;
    assert_rc(store_open(dir, STORE_FSYNC, &s), DS_OK);

    struct store_batch *b = store_batch_new(s);
    assert_int_equal(store_batch_count(b), 0);
    name_key(&k, "a");
    store_batch_put(b, CF_META, &k, "1", 1);
    name_key(&k, "b");
    store_batch_put(b, CF_ROUTES, &k, "2", 1);
    name_key(&k, "c");
    store_batch_put(b, CF_ORGS, &k, "3", 1);
    assert_int_equal(store_batch_count(b), 3);
    /* Nothing is visible before the commit. */
    name_key(&k, "a");
    assert_rc(store_get(s, CF_META, &k, &val, &len), DS_ENOTFOUND);
    assert_rc(store_commit(s, b), DS_OK);
    /* The batch is left as it was. */
    assert_int_equal(store_batch_count(b), 3);
    store_batch_clear(b);
    assert_int_equal(store_batch_count(b), 0);

    /* All three landed, in their own families. */
    name_key(&k, "a");
    assert_rc(store_get(s, CF_META, &k, &val, &len), DS_OK);
    free(val);
    name_key(&k, "b");
    assert_rc(store_get(s, CF_ROUTES, &k, &val, &len), DS_OK);
    free(val);
    name_key(&k, "c");
    assert_rc(store_get(s, CF_ORGS, &k, &val, &len), DS_OK);
    free(val);

    /* A delete and a put in one batch. */
    name_key(&k, "a");
    store_batch_delete(b, CF_META, &k);
    name_key(&k, "d");
    store_batch_put(b, CF_META, &k, "4", 1);
    assert_int_equal(store_batch_count(b), 2);
    assert_rc(store_commit(s, b), DS_OK);
    name_key(&k, "a");
    assert_rc(store_get(s, CF_META, &k, &val, &len), DS_ENOTFOUND);
    name_key(&k, "d");
    assert_rc(store_get(s, CF_META, &k, &val, &len), DS_OK);
    free(val);

    /* A cleared batch commits nothing. */
    store_batch_clear(b);
    name_key(&k, "e");
    store_batch_put(b, CF_META, &k, "5", 1);
    store_batch_clear(b);
    assert_rc(store_commit(s, b), DS_OK);
    assert_rc(store_get(s, CF_META, &k, &val, &len), DS_ENOTFOUND);
    store_batch_destroy(&b);
    store_batch_destroy(&b); /* NULL-safe */
    store_destroy(&s);
}

/* A batch reaches RocksDB sorted by family and key (store.c: memtable inserts in key
 * order), and two writes to one key keep their order: the later wins, as it would in
 * arrival order. Writes given in reverse key order over two families, each key written
 * several times (put, delete, put; put, put; put, delete), land as the last one said. */
static void test_store_batch_later_write_wins(void **state)
{
    const char *dir = *state;
    struct store *s = NULL;
    struct skey k;
    void *val = NULL;
    size_t len = 0;
    assert_rc(store_open(dir, STORE_WAL, &s), DS_OK);
    struct store_batch *b = store_batch_new(s);
    for (int i = 99; i >= 0; i--) {
        char v[32];
        event_key(&k, "unit:a", (uint64_t)i);
        snprintf(v, sizeof(v), "first-%d", i);
        store_batch_put(b, CF_EVENTS, &k, v, strlen(v));
        store_batch_put(b, CF_META, &k, v, strlen(v));
        if (i % 3 == 0)
            store_batch_delete(b, CF_EVENTS, &k);
        snprintf(v, sizeof(v), "last-%d", i);
        if (i % 3 != 2)
            store_batch_put(b, CF_EVENTS, &k, v, strlen(v));
        else
            store_batch_delete(b, CF_META, &k);
    }
    assert_int_equal(store_batch_count(b), 100 * 3 + 34);
    assert_rc(store_commit(s, b), DS_OK);
    assert_int_equal(store_batch_count(b), 100 * 3 + 34);
    store_batch_destroy(&b);
    for (int i = 0; i < 100; i++) {
        char want[32];
        event_key(&k, "unit:a", (uint64_t)i);
        snprintf(want, sizeof(want), "%s-%d", i % 3 != 2 ? "last" : "first", i);
        assert_rc(store_get(s, CF_EVENTS, &k, &val, &len), DS_OK);
        assert_int_equal(len, strlen(want));
        assert_memory_equal(val, want, len);
        free(val);
        int rc = store_get(s, CF_META, &k, &val, &len);
        if (i % 3 == 2) {
            assert_rc(rc, DS_ENOTFOUND);
        } else {
            assert_rc(rc, DS_OK);
            free(val);
        }
    }
    store_destroy(&s);
}

/* The durability modes are what they promise on disk: "fsync" (the default) fsyncs the WAL
 * on every commit before store_commit returns, "wal" and "none" never do. Counted by
 * RocksDB itself, so a store that forgot to ask for the sync fails here. */
static void test_store_fsync_mode_syncs_every_commit(void **state)
{
    static const enum store_durability modes[] = {STORE_FSYNC, STORE_WAL, STORE_NONE};
    const char *dir = *state;
    for (size_t i = 0; i < 3; i++) {
        char path[TU_PATH_MAX + 16];
        struct store *s = NULL;
        struct skey k;
        snprintf(path, sizeof(path), "%s/%s", dir, store_durability_name(modes[i]));
        assert_rc(store_open_instrumented(path, modes[i], &s), DS_OK);
        int64_t before = store_wal_syncs(s);
        assert_true(before >= 0);
        for (uint64_t n = 1; n <= 5; n++) {
            struct store_batch *b = store_batch_new(s);
            name_key(&k, "hwm");
            store_batch_put_u64(b, CF_META, &k, n);
            assert_rc(store_commit(s, b), DS_OK);
            store_batch_destroy(&b);
            int64_t synced = store_wal_syncs(s) - before;
            if (modes[i] == STORE_FSYNC && synced != (int64_t)n)
                fail_msg("fsync mode: %lld WAL syncs after %llu commits", (long long)synced,
                         (unsigned long long)n);
            if (modes[i] != STORE_FSYNC && synced != 0)
                fail_msg("%s mode: %lld WAL syncs", store_durability_name(modes[i]),
                         (long long)synced);
        }
        store_destroy(&s);
    }
    /* A store opened the ordinary way has no statistics to read. */
    struct store *plain = NULL;
    char path[TU_PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/plain", dir);
    assert_rc(store_open(path, STORE_FSYNC, &plain), DS_OK);
    assert_true(store_wal_syncs(plain) == -1);
    store_destroy(&plain);
}

static void test_store_reopen_persists(void **state)
{
    static const enum store_durability modes[] = {STORE_FSYNC, STORE_WAL, STORE_NONE};
    const char *dir = *state;
    for (size_t i = 0; i < 3; i++) {
        char path[TU_PATH_MAX + 16];
        struct store *s = NULL;
        struct skey k;
        uint64_t v = 0;
        /* One database per mode; RocksDB creates the directory. */
        snprintf(path, sizeof(path), "%s/%s", dir, store_durability_name(modes[i]));
        assert_rc(store_open(path, modes[i], &s), DS_OK);
        struct store_batch *b = store_batch_new(s);
        name_key(&k, "hwm");
        store_batch_put_u64(b, CF_META, &k, 42);
        assert_rc(store_commit(s, b), DS_OK);
        store_batch_destroy(&b);
        store_destroy(&s);
        /* A clean close keeps the data in every mode. */
        assert_rc(store_open(path, modes[i], &s), DS_OK);
        assert_rc(store_get_u64(s, CF_META, &k, 0, &v), DS_OK);
        assert_true(v == 42);
        store_destroy(&s);
    }
}

/* store_size sums the families: the memtables hold what was written, and once RocksDB has
 * flushed them (it does when it recovers the WAL at open), the SST files hold it. */
static void test_store_size_memtables_then_sst(void **state)
{
    enum { N = 2000, VAL = 512 };
    const char *dir = *state;
    struct store *s = NULL;
    struct skey k;
    uint8_t val[VAL];
    uint64_t rnd = 0x9e3779b97f4a7c15ull, sst0 = 1, mem0 = 0, sst = 0, mem = 0;
    assert_rc(store_open(dir, STORE_WAL, &s), DS_OK);
    assert_rc(store_size(s, &sst0, &mem0), DS_OK);
    assert_true(sst0 == 0); /* a new database has no SST file */
    struct store_batch *b = store_batch_new(s);
    for (uint64_t i = 0; i < N; i++) {
        for (size_t j = 0; j < VAL; j += 8) { /* incompressible, so LZ4 cannot shrink it */
            uint64_t r = tu_rand(&rnd);
            memcpy(val + j, &r, 8);
        }
        event_key(&k, "unit:a", i + 1);
        store_batch_put(b, i % 2 ? CF_EVENTS : CF_BY_MEMBER, &k, val, VAL);
    }
    assert_rc(store_commit(s, b), DS_OK);
    store_batch_destroy(&b);
    assert_rc(store_size(s, &sst, &mem), DS_OK);
    assert_true(sst == 0);
    assert_true(mem >= mem0 + (uint64_t)N * VAL); /* both families counted */
    store_destroy(&s);

    assert_rc(store_open(dir, STORE_WAL, &s), DS_OK);
    uint64_t sst1 = 0, mem1 = 0;
    assert_rc(store_size(s, &sst1, &mem1), DS_OK);
    assert_true(sst1 >= (uint64_t)N * VAL);
    assert_true(mem1 < mem);
    store_destroy(&s);
}

/* A batched read answers each key as a point read would: values from table files and from
 * the memtable, in the order asked (not key order), and DS_ENOTFOUND for the keys absent,
 * over more keys than RocksDB's own batch of 32. */
static void test_store_multi_get_as_point_reads(void **state)
{
    enum { N = 120 };
    const char *dir = *state;
    struct store *s = NULL;
    struct skey k;
    char v[32];
    assert_rc(store_open(dir, STORE_WAL, &s), DS_OK);
    struct store_batch *b = store_batch_new(s);
    for (int i = 1; i <= N; i += 2) { /* odd seqs, flushed to a table file by the reopen */
        event_key(&k, "unit:a", (uint64_t)i);
        snprintf(v, sizeof(v), "sst-%d", i);
        store_batch_put(b, CF_EVENTS, &k, v, strlen(v));
    }
    assert_rc(store_commit(s, b), DS_OK);
    store_batch_destroy(&b);
    store_destroy(&s);
    assert_rc(store_open(dir, STORE_WAL, &s), DS_OK);
    b = store_batch_new(s);
    for (int i = 2; i <= N; i += 4) { /* seqs 2, 6, 10...: in the memtable */
        event_key(&k, "unit:a", (uint64_t)i);
        snprintf(v, sizeof(v), "mem-%d", i);
        store_batch_put(b, CF_EVENTS, &k, v, strlen(v));
    }
    assert_rc(store_commit(s, b), DS_OK);
    store_batch_destroy(&b);

    struct skey keys[N];
    void *vals[N];
    size_t lens[N];
    int rcs[N];
    for (int i = 0; i < N; i++) /* descending: the answers must follow the asking order */
        event_key(&keys[i], "unit:a", (uint64_t)(N - i));
    assert_rc(store_multi_get(s, CF_EVENTS, N, keys, vals, lens, rcs), DS_OK);
    for (int i = 0; i < N; i++) {
        int seq = N - i;
        if (seq % 4 == 0) {
            assert_rc(rcs[i], DS_ENOTFOUND);
            assert_null(vals[i]);
            continue;
        }
        snprintf(v, sizeof(v), "%s-%d", seq % 2 ? "sst" : "mem", seq);
        assert_rc(rcs[i], DS_OK);
        assert_int_equal(lens[i], strlen(v));
        assert_memory_equal(vals[i], v, lens[i]);
        free(vals[i]);
    }
    assert_rc(store_multi_get(s, CF_EVENTS, 0, keys, vals, lens, rcs), DS_OK);
    store_destroy(&s);
}

static void test_store_durability_parse(void **state)
{
    static const char *const bad[] = {"maybe", "", "FSYNC", "fsync ", "sync", "WAL"};
    enum store_durability d = STORE_NONE;
    (void)state;
    assert_rc(store_parse_durability("fsync", &d), DS_OK);
    assert_int_equal(d, STORE_FSYNC);
    assert_rc(store_parse_durability("wal", &d), DS_OK);
    assert_int_equal(d, STORE_WAL);
    assert_rc(store_parse_durability("none", &d), DS_OK);
    assert_int_equal(d, STORE_NONE);
    for (int m = STORE_FSYNC; m <= STORE_NONE; m++) {
        enum store_durability back;
        assert_rc(store_parse_durability(store_durability_name((enum store_durability)m), &back),
                  DS_OK);
        assert_int_equal(back, m);
    }
    d = STORE_WAL;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_rc(store_parse_durability(bad[i], &d), DS_EINVAL);
    assert_int_equal(d, STORE_WAL); /* untouched on failure */
}

static void test_store_open_twice_eagain(void **state)
{
    const char *dir = *state;
    struct store *s = NULL, *again = NULL;
    assert_rc(store_open(dir, STORE_WAL, &s), DS_OK);
    assert_rc(store_open(dir, STORE_WAL, &again), DS_EAGAIN);
    assert_null(again);
    store_destroy(&s);
    /* Free again once the first handle is closed. */
    assert_rc(store_open(dir, STORE_WAL, &again), DS_OK);
    store_destroy(&again);
}

/* The newest OPTIONS-<n> file RocksDB wrote in dir, read whole (caller frees). */
static char *read_options_file(const char *dir)
{
    char best[256] = "";
    unsigned long best_n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));) {
        unsigned long n = 0;
        if (sscanf(e->d_name, "OPTIONS-%lu", &n) == 1 && strchr(e->d_name, '.') == NULL &&
            n >= best_n) {
            best_n = n;
            snprintf(best, sizeof(best), "%s", e->d_name);
        }
    }
    closedir(d);
    assert_true(best[0] != '\0');
    char path[TU_PATH_MAX + 300];
    snprintf(path, sizeof(path), "%s/%s", dir, best);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *text = calloc(1, 1 << 20);
    assert_non_null(text);
    size_t n = fread(text, 1, (1 << 20) - 1, f);
    fclose(f);
    assert_true(n > 0 && n < (1 << 20) - 1);
    return text;
}

/* The value of "name=" in the lines after 'from' up to the next section, or -1. */
static long long option_value(const char *from, const char *name)
{
    const char *end = strstr(from + 1, "\n[");
    char pat[128];
    snprintf(pat, sizeof(pat), "\n  %s=", name);
    const char *p = strstr(from, pat);
    if (!p || (end && p > end))
        return -1;
    return strtoll(p + strlen(pat), NULL, 10);
}

/* Every column family, by the name RocksDB's OPTIONS file gives it. */
static const char *const families[] = {"default", "by_member", "members", "inbox",       "meta",
                                       "routes",  "orgs",      "by_type", "by_community"};

/* The OPTIONS file's section of kind ("CFOptions", "TableOptions/BlockBasedTable") for a
 * family: the test fails when there is none. */
static const char *options_section(const char *text, const char *kind, const char *family)
{
    char section[96];
    snprintf(section, sizeof(section), "[%s \"%s\"]", kind, family);
    const char *at = strstr(text, section);
    if (!at)
        fail_msg("no %s for family %s", kind, family);
    return at;
}

/* RocksDB's defaults let each family hold 2 x 64 MiB of memtables and keep WAL files
 * until every family flushed: the store caps both. Read back from the OPTIONS file
 * RocksDB writes for the options it actually runs with. */
static void test_store_memory_caps_applied(void **state)
{
    const char *dir = *state;
    struct store *s = NULL;
    assert_rc(store_open(dir, STORE_WAL, &s), DS_OK);
    char *text = read_options_file(dir);
    const char *db = strstr(text, "[DBOptions]");
    assert_non_null(db);
    assert_true(option_value(db, "db_write_buffer_size") == (long long)STORE_MEMTABLE_BUDGET);
    assert_true(option_value(db, "max_total_wal_size") == (long long)STORE_WAL_BUDGET);
    long long sum = 0;
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
        const char *cf = options_section(text, "CFOptions", families[i]);
        long long wb = option_value(cf, "write_buffer_size");
        /* Each family under half the budget: no single family can take all of it. */
        if (wb <= 0 || wb > (long long)STORE_MEMTABLE_BUDGET / 2)
            fail_msg("family %s write_buffer_size=%lld", families[i], wb);
        assert_true(option_value(cf, "max_write_buffer_number") == 2);
        sum += wb;
    }
    /* The small families got small memtables: the sum is far below 9 x 64 MiB. */
    assert_true(sum <= 2 * (long long)STORE_MEMTABLE_BUDGET);
    free(text);
    store_destroy(&s);
}

/* The text of "name=" in the lines after 'from' up to the next section ("" if absent). */
static void option_text(const char *from, const char *name, char *out, size_t size)
{
    const char *end = strstr(from + 1, "\n[");
    char pat[128];
    snprintf(pat, sizeof(pat), "\n  %s=", name);
    const char *p = strstr(from, pat);
    out[0] = '\0';
    if (!p || (end && p > end))
        return;
    p += strlen(pat);
    size_t n = strcspn(p, "\n");
    snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), p);
}

/* The options of one table format, or the first family where they differ. */
static void expect_table(const char *text, const char *family, const char *const want[][2],
                         size_t n)
{
    char value[128];
    const char *t = options_section(text, "TableOptions/BlockBasedTable", family);
    for (size_t k = 0; k < n; k++) {
        option_text(t, want[k][0], value, sizeof(value));
        if (strcmp(value, want[k][1]) != 0)
            fail_msg("family %s: %s=%s, want %s", family, want[k][0], value, want[k][1]);
    }
}

/* By default RocksDB keeps every open file's index and bloom filter in memory beside the
 * block cache, so a broker's memory grew with its data. The store puts them in the cache,
 * partitioned, with the top levels and L0 pinned: read back for every family. The routes
 * family, small and read a key at a time, keeps one index block per file in the cache and
 * a hash index in each data block. */
static void test_store_index_and_filters_live_in_the_cache(void **state)
{
    static const char *const want[][2] = {
        {"cache_index_and_filter_blocks", "true"},
        {"cache_index_and_filter_blocks_with_high_priority", "true"},
        {"pin_l0_filter_and_index_blocks_in_cache", "true"},
        {"pin_top_level_index_and_filter", "true"},
        {"partition_filters", "true"},
        {"index_type", "kTwoLevelIndexSearch"},
        {"data_block_index_type", "kDataBlockBinarySearch"},
    };
    static const char *const want_routes[][2] = {
        {"cache_index_and_filter_blocks", "true"},
        {"cache_index_and_filter_blocks_with_high_priority", "true"},
        {"pin_l0_filter_and_index_blocks_in_cache", "true"},
        {"partition_filters", "false"},
        {"index_type", "kBinarySearch"},
        {"data_block_index_type", "kDataBlockBinaryAndHash"},
    };
    const char *dir = *state;
    struct store *s = NULL;
    assert_rc(store_open(dir, STORE_WAL, &s), DS_OK);
    char *text = read_options_file(dir);
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
        if (strcmp(families[i], "routes") == 0)
            expect_table(text, families[i], want_routes,
                         sizeof(want_routes) / sizeof(want_routes[0]));
        else
            expect_table(text, families[i], want, sizeof(want) / sizeof(want[0]));
    }
    free(text);
    store_destroy(&s);
}

/* A route is read for nearly every letter and nearly always found: the routes family has
 * no filter on its last level (optimize_filters_for_hits), and every other family keeps
 * its filters, where a miss is common (a new event, a member with no record yet). */
static void test_store_routes_skip_the_last_level_filter(void **state)
{
    const char *dir = *state;
    struct store *s = NULL;
    assert_rc(store_open(dir, STORE_WAL, &s), DS_OK);
    char *text = read_options_file(dir);
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
        char value[16];
        const char *cf = options_section(text, "CFOptions", families[i]);
        option_text(cf, "optimize_filters_for_hits", value, sizeof(value));
        const char *want = strcmp(families[i], "routes") == 0 ? "true" : "false";
        if (strcmp(value, want) != 0)
            fail_msg("family %s: optimize_filters_for_hits=%s, want %s", families[i], value, want);
    }
    free(text);
    store_destroy(&s);
}

/* Each table file read stays open up to max_open_files; at a fixed 256 a street's store
 * passed it within days and reopened files on every read (docs/BENCHMARKS.md, "Table
 * files kept open"). The store takes half the process's descriptor limit, within
 * fdlimit's bounds: read back from the OPTIONS file under two soft limits. */
static void test_store_open_files_follow_the_descriptor_limit(void **state)
{
    static const rlim_t softs[] = {1024, 20000};
    const char *dir = *state;
    struct rlimit saved;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
    for (size_t i = 0; i < sizeof(softs) / sizeof(softs[0]); i++) {
        if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < softs[i])
            continue; /* this machine's hard limit is lower: nothing to set */
        struct rlimit rl = {softs[i], saved.rlim_max};
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
        struct store *s = NULL;
        assert_rc(store_open(dir, STORE_WAL, &s), DS_OK);
        char *text = read_options_file(dir);
        const char *db = strstr(text, "[DBOptions]");
        assert_non_null(db);
        long long files = option_value(db, "max_open_files");
        if (files != fdlimit_store_files(softs[i]) || files <= 256)
            fail_msg("soft limit %llu: max_open_files=%lld, want %d", (unsigned long long)softs[i],
                     files, fdlimit_store_files(softs[i]));
        free(text);
        store_destroy(&s);
    }
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_skey_encoding),
        tu_test_tmpdir(test_store_put_get),
        tu_test_tmpdir(test_store_get_missing_notfound),
        tu_test_tmpdir(test_store_get_u64),
        tu_test_tmpdir(test_store_iter_prefix_big_endian_order),
        tu_test_tmpdir(test_store_batch_atomic_count),
        tu_test_tmpdir(test_store_reopen_persists),
        tu_test_tmpdir(test_store_size_memtables_then_sst),
        tu_test_tmpdir(test_store_batch_later_write_wins),
        tu_test_tmpdir(test_store_multi_get_as_point_reads),
        tu_test_tmpdir(test_store_fsync_mode_syncs_every_commit),
        cmocka_unit_test(test_store_durability_parse),
        tu_test_tmpdir(test_store_open_twice_eagain),
        tu_test_tmpdir(test_store_memory_caps_applied),
        tu_test_tmpdir(test_store_index_and_filters_live_in_the_cache),
        tu_test_tmpdir(test_store_routes_skip_the_last_level_filter),
        tu_test_tmpdir(test_store_open_files_follow_the_descriptor_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
