/* store: RocksDB behind a narrow interface.
 * Design: one DB per process with fixed column families, so that each kind of record has
 * its own key space and compaction; bloom filters on every family because the hot path is
 * point lookups ("do I have (origin, seq)?"); writes only through WriteBatch so that an
 * event, its indexes, the member record and the cursors move together or not at all.
 * The durability mode is fixed per handle and decides the WriteOptions once.
 * Memory is capped: the memtables of all families share one budget and the WAL one
 * ceiling (see cf_write_buffer), because RocksDB's defaults size each of the nine families
 * as if it were the only one. */
#define _GNU_SOURCE /* qsort_r */
#include "store.h"

#include "err.h"
#include "fdlimit.h"
#include "log.h"
#include "xalloc.h"

#include <rocksdb/c.h>
#include <stdlib.h>
#include <string.h>

static const char *const cf_names[CF_COUNT] = {
    "default", "by_member", "members", "inbox", "meta", "routes", "orgs", "by_type", "by_community",
};

/* Memtable size per family. RocksDB's default is 64 MiB for each of up to two memtables
 * per family, so nine families could hold 1.1 GiB before anything flushed (the broker
 * reached 1.1-1.7 GiB in the city-year bench). STORE_MEMTABLE_BUDGET caps the sum; these
 * cap one family, so that a family written rarely flushes small files and one written
 * heavily does not take the whole budget. */
static const size_t cf_write_buffer[CF_COUNT] = {
    /* Letters are written once and never overwritten: a bigger memtable saves nothing on
     * disk, it only delays the flush. */
    [CF_EVENTS] = 16u << 20,
    /* Index keys (~50 bytes, empty values), one per member letter. */
    [CF_BY_MEMBER] = 8u << 20,
    /* The whole record (0.7-1 KB) is rewritten per letter: overwrites of one key inside a
     * memtable never reach an SST file, so this family gets the largest share. */
    [CF_MEMBERS] = 32u << 20,
    /* One ~30-byte entry per recipient per letter. */
    [CF_INBOX] = 8u << 20,
    /* hwm, hlc and inbox heads: few distinct keys rewritten on every commit. */
    [CF_META] = 4u << 20,
    /* One row per registration, one per org, one per org-level letter, one per open
     * registration: small, and written far less often than a letter. */
    [CF_ROUTES] = 4u << 20,
    [CF_ORGS] = 4u << 20,
    [CF_BY_TYPE] = 4u << 20,
    [CF_BY_COMMUNITY] = 4u << 20,
};

/* The families read a key at a time on the broker's hot path (the others are scanned). */
static const bool cf_point_reads[CF_COUNT] = {
    [CF_EVENTS] = true,
    [CF_META] = true,
    [CF_ROUTES] = true,
};

struct store {
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_options_t *cf_opts[CF_COUNT]; /* copies of opts with the family's memtable size */
    /* The table format of every family but routes, and of routes (table_options). */
    rocksdb_block_based_table_options_t *table, *routes_table;
    rocksdb_cache_t *cache;
    rocksdb_writeoptions_t *wopts;
    rocksdb_readoptions_t *ropts;
    rocksdb_column_family_handle_t *cf[CF_COUNT];
};

/* One put or delete of a batch; its key, then its value, are at off in the batch's bytes. */
struct batch_op {
    size_t off;
    uint32_t key_len, val_len;
    uint32_t seq; /* its place in the batch: the later of two writes to one key wins */
    uint8_t cf;
    bool del;
};

/* A batch keeps its writes and hands them to RocksDB at the commit sorted by family and
 * key. A memtable is a skip list that remembers where the last insert went: keys that
 * follow each other are inserted from there, keys in arrival order (a letter's row, its
 * index entry, each recipient's inbox entry, the next letter's row...) each need a search
 * from the top. Those searches were a fifth to a third of the broker's loop
 * (InlineSkipList::RecomputeSpliceLevels; docs/BENCHMARKS.md "The loop's cost per letter"). */
struct store_batch {
    struct store *s; /* the store whose column family handles the batch uses */
    struct batch_op *ops;
    size_t n, cap;
    uint8_t *bytes; /* every op's key and value */
    size_t used, size;
    rocksdb_writebatch_t *wb; /* store_commit's, kept for the next commit (NULL: none) */
};

struct store_iter {
    rocksdb_iterator_t *it;
    struct skey prefix;
};

int store_parse_durability(const char *text, enum store_durability *out)
{
    static const char *const names[] = {"fsync", "wal", "none"};
    for (int i = 0; i < 3; i++) {
        if (strcmp(text, names[i]) == 0) {
            *out = (enum store_durability)i;
            return DS_OK;
        }
    }
    return DS_EINVAL;
}

const char *store_durability_name(enum store_durability d)
{
    return d == STORE_FSYNC ? "fsync" : d == STORE_WAL ? "wal" : "none";
}

void skey_init(struct skey *k)
{
    k->n = 0;
    k->overflow = false;
}

void skey_bytes(struct skey *k, const void *p, size_t n)
{
    if (k->overflow || k->n + n > SKEY_MAX) {
        k->overflow = true;
        return;
    }
    memcpy(k->b + k->n, p, n);
    k->n += n;
}

void skey_str(struct skey *k, const char *s)
{
    skey_bytes(k, s, strlen(s) + 1);
}

void store_put_u64be(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)(v & 0xFF);
        v >>= 8;
    }
}

uint64_t store_get_u64be(const uint8_t in[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | in[i];
    return v;
}

void skey_u64(struct skey *k, uint64_t v)
{
    uint8_t b[8];
    store_put_u64be(b, v);
    skey_bytes(k, b, 8);
}

/* The table format of the families, all sharing one block cache. Index and filter blocks
 * live in that cache, not beside it: by default RocksDB keeps every file's index and bloom
 * filter in memory for as long as the file is open, so a broker grew with its data (10
 * bits per key; a city's year is ~25 M keys, and one index entry per 4 KiB block), year
 * after year. Partitioned, a lookup loads only the small partitions it needs; the top
 * level of each file and all of L0 stay pinned, and they take the cache's high-priority
 * pool, so data blocks are evicted first.
 * The routes family (for_routes) is read a key at a time for nearly every letter and is
 * small (about 100 bytes per member): one index block per file, without partitions, is
 * one cache lookup less per read and still a few hundred KiB, and a hash index inside
 * each data block finds the key without the binary search over the block. */
static rocksdb_block_based_table_options_t *table_options(rocksdb_cache_t *cache, bool for_routes)
{
    rocksdb_block_based_table_options_t *t = rocksdb_block_based_options_create();
    rocksdb_block_based_options_set_block_cache(t, cache);
    /* The table options own the policy from here on. */
    rocksdb_block_based_options_set_filter_policy(t, rocksdb_filterpolicy_create_bloom_full(10));
    rocksdb_block_based_options_set_cache_index_and_filter_blocks(t, 1);
    rocksdb_block_based_options_set_cache_index_and_filter_blocks_with_high_priority(t, 1);
    rocksdb_block_based_options_set_pin_l0_filter_and_index_blocks_in_cache(t, 1);
    if (for_routes) {
        rocksdb_block_based_options_set_data_block_index_type(
            t, rocksdb_block_based_table_data_block_index_type_binary_search_and_hash);
        return t;
    }
    rocksdb_block_based_options_set_index_type(
        t, rocksdb_block_based_table_index_type_two_level_index_search);
    rocksdb_block_based_options_set_partition_filters(t, 1);
    rocksdb_block_based_options_set_pin_top_level_index_and_filter(t, 1);
    return t;
}

static void store_configure(struct store *s, enum store_durability durability)
{
    s->opts = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(s->opts, 1);
    rocksdb_options_set_create_missing_column_families(s->opts, 1);
    /* Every table file read since open stays open: past this many RocksDB closes the
     * least recently used and must reopen it (footer, properties, the pinned top of its
     * index and filter) on the next read that lands in it. A broker's store passes 256
     * files early: an offline `org add` leaves a small file in each family it wrote, and
     * sorted keys move small files down the levels whole instead of merging them (322
     * files, 303 under 100 KB, after 100 orgs and 600,000 letters). At 256, reopening
     * took 30% of the loop (docs/BENCHMARKS.md, "Table files kept open"). */
    rocksdb_options_set_max_open_files(s->opts, fdlimit_store_files(fdlimit_current()));
    rocksdb_options_set_keep_log_file_num(s->opts, 3);
    rocksdb_options_set_compression(s->opts, rocksdb_lz4_compression);
    /* One budget for the memtables of every family: past it RocksDB flushes the family with
     * the oldest memtable. */
    rocksdb_options_set_db_write_buffer_size(s->opts, STORE_MEMTABLE_BUDGET);
    /* A WAL file is deleted only once every family with data in it has flushed; a family
     * written rarely (orgs, routes) would keep hundreds of MiB of WAL alive (381 of 439 MB
     * of the data directory at a tenth of the city). Past this total RocksDB flushes the
     * families that hold the oldest WAL file. The default, 4 x the sum of all memtables,
     * would be 0.7 GiB here. */
    rocksdb_options_set_max_total_wal_size(s->opts, STORE_WAL_BUDGET);
    /* RocksDB's default, stated: one memtable taking writes while the previous flushes. */
    rocksdb_options_set_max_write_buffer_number(s->opts, 2);
    s->cache = rocksdb_cache_create_lru(STORE_BLOCK_CACHE);
    s->table = table_options(s->cache, false);
    s->routes_table = table_options(s->cache, true);
    rocksdb_options_set_block_based_table_factory(s->opts, s->table);
    for (int i = 0; i < CF_COUNT; i++) {
        s->cf_opts[i] = rocksdb_options_create_copy(s->opts);
        rocksdb_options_set_write_buffer_size(s->cf_opts[i], cf_write_buffer[i]);
        if (cf_point_reads[i]) {
            /* A bloom filter over the memtable's whole keys: a point read of a key the
             * memtable lacks (a new member's route, an event of an older batch) skips the
             * skip-list search, which took most of such reads' time on the broker. */
            rocksdb_options_set_memtable_prefix_bloom_size_ratio(s->cf_opts[i], 0.05);
            rocksdb_options_set_memtable_whole_key_filtering(s->cf_opts[i], 1);
        }
    }
    /* A route is read for nearly every letter, and nearly always found: a bloom filter on
     * the last level, which holds most routes, only says "maybe" at the cost of loading a
     * filter partition (3.4% of the loop in the city's year). Misses (a new member's
     * first letter) go to that level's index instead. */
    rocksdb_options_set_optimize_filters_for_hits(s->cf_opts[CF_ROUTES], 1);
    rocksdb_options_set_block_based_table_factory(s->cf_opts[CF_ROUTES], s->routes_table);

    s->wopts = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(s->wopts, durability == STORE_FSYNC);
    rocksdb_writeoptions_disable_WAL(s->wopts, durability == STORE_NONE);
    s->ropts = rocksdb_readoptions_create();
}

enum open_mode { OPEN_WRITE, OPEN_STATISTICS, OPEN_READ_ONLY };

static int open_store(const char *path, enum store_durability durability, enum open_mode mode,
                      struct store **store_out)
{
    struct store *s = xcalloc(1, sizeof(*s));
    const rocksdb_options_t *cf_opts[CF_COUNT];
    char *err = NULL;
    int rc = DS_EIO;

    store_configure(s, durability);
    if (mode == OPEN_STATISTICS)
        rocksdb_options_enable_statistics(s->opts);
    for (int i = 0; i < CF_COUNT; i++)
        cf_opts[i] = s->cf_opts[i];
    if (mode == OPEN_READ_ONLY) /* no lock: the daemon may start meanwhile; the WAL is read */
        s->db = rocksdb_open_for_read_only_column_families(s->opts, path, CF_COUNT, cf_names,
                                                           cf_opts, s->cf, 0, &err);
    else
        s->db =
            rocksdb_open_column_families(s->opts, path, CF_COUNT, cf_names, cf_opts, s->cf, &err);
    if (err) {
        if (strstr(err, "lock") || strstr(err, "Resource temporarily unavailable")) {
            rc = DS_EAGAIN;
            log_debug("store: open path=%s locked: %s", path, err);
        } else {
            log_error("store: open path=%s: %s", path, err);
        }
        s->db = NULL;
        goto out;
    }
    *store_out = s;
    s = NULL;
    rc = DS_OK;
out:
    rocksdb_free(err);
    store_destroy(&s);
    return rc;
}

int store_open(const char *path, enum store_durability durability, struct store **store_out)
{
    return open_store(path, durability, OPEN_WRITE, store_out);
}

int store_open_instrumented(const char *path, enum store_durability durability,
                            struct store **store_out)
{
    return open_store(path, durability, OPEN_STATISTICS, store_out);
}

int store_open_read_only(const char *path, struct store **store_out)
{
    return open_store(path, STORE_WAL, OPEN_READ_ONLY, store_out);
}

int64_t store_wal_syncs(struct store *s)
{
    static const char ticker[] = "rocksdb.wal.synced COUNT : ";
    char *text = rocksdb_options_statistics_get_string(s->opts);
    if (!text)
        return -1;
    const char *at = strstr(text, ticker);
    int64_t n = at ? strtoll(at + strlen(ticker), NULL, 10) : -1;
    rocksdb_free(text);
    return n;
}

int store_size(struct store *s, uint64_t *sst_bytes_out, uint64_t *memtable_bytes_out)
{
    static const char *const props[2] = {"rocksdb.total-sst-files-size",
                                         "rocksdb.cur-size-all-mem-tables"};
    uint64_t sum[2] = {0, 0};
    for (int p = 0; p < 2; p++) {
        for (int i = 0; i < CF_COUNT; i++) {
            uint64_t v = 0;
            if (rocksdb_property_int_cf(s->db, s->cf[i], props[p], &v) != 0) {
                log_error("store: property %s unavailable cf=%s", props[p], cf_names[i]);
                return DS_EIO;
            }
            sum[p] += v;
        }
    }
    *sst_bytes_out = sum[0];
    *memtable_bytes_out = sum[1];
    return DS_OK;
}

int store_flush_async(struct store *s)
{
    char *err = NULL;
    rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
    rocksdb_flushoptions_set_wait(fo, 0);
    for (int i = 0; i < CF_COUNT && !err; i++)
        rocksdb_flush_cf(s->db, fo, s->cf[i], &err);
    rocksdb_flushoptions_destroy(fo);
    if (err) {
        log_error("store: flush failed: %s", err);
        rocksdb_free(err);
        return DS_EIO;
    }
    return DS_OK;
}

void store_drop_cache(struct store *s)
{
    rocksdb_cache_set_capacity(s->cache, 0);
    rocksdb_cache_set_capacity(s->cache, STORE_BLOCK_CACHE);
}

int store_scrub(struct store *s)
{
    char *err = NULL;
    rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
    rocksdb_flushoptions_set_wait(fo, 1);
    for (int i = 0; i < CF_COUNT && !err; i++)
        rocksdb_flush_cf(s->db, fo, s->cf[i], &err);
    rocksdb_flushoptions_destroy(fo);
    rocksdb_compactoptions_t *co = rocksdb_compactoptions_create();
    rocksdb_compactoptions_set_exclusive_manual_compaction(co, 1);
    rocksdb_compactoptions_set_bottommost_level_compaction(co, 2); /* kForce */
    for (int i = 0; i < CF_COUNT && !err; i++)
        rocksdb_compact_range_cf_opt(s->db, s->cf[i], co, NULL, 0, NULL, 0);
    rocksdb_compactoptions_destroy(co);
    if (!err)
        rocksdb_flush_wal(s->db, 1, &err);
    if (err) {
        log_error("store: scrub failed: %s", err);
        rocksdb_free(err);
        return DS_EIO;
    }
    return DS_OK;
}

void store_destroy(struct store **storep)
{
    struct store *s = *storep;
    if (!s)
        return;
    if (s->db) {
        for (int i = 0; i < CF_COUNT; i++)
            if (s->cf[i])
                rocksdb_column_family_handle_destroy(s->cf[i]);
        rocksdb_close(s->db);
    }
    rocksdb_writeoptions_destroy(s->wopts);
    rocksdb_readoptions_destroy(s->ropts);
    for (int i = 0; i < CF_COUNT; i++)
        if (s->cf_opts[i])
            rocksdb_options_destroy(s->cf_opts[i]);
    rocksdb_options_destroy(s->opts);
    rocksdb_block_based_options_destroy(s->table);
    rocksdb_block_based_options_destroy(s->routes_table);
    rocksdb_cache_destroy(s->cache);
    free(s);
    *storep = NULL;
}

int store_get(struct store *s, enum store_cf cf, const struct skey *key, void **val_out,
              size_t *len_out)
{
    char *err = NULL;
    size_t len = 0;
    char *val =
        rocksdb_get_cf(s->db, s->ropts, s->cf[cf], (const char *)key->b, key->n, &len, &err);
    if (err) {
        log_error("store: get cf=%s: %s", cf_names[cf], err);
        rocksdb_free(err);
        return DS_EIO;
    }
    if (!val)
        return DS_ENOTFOUND;
    /* Copy into our allocator so that callers free with free() and ASan sees one heap. */
    *val_out = xmemdup(val, len);
    *len_out = len;
    rocksdb_free(val);
    return DS_OK;
}

int store_multi_get(struct store *s, enum store_cf cf, size_t n, const struct skey *keys,
                    void **vals, size_t *lens, int *rcs)
{
    if (n == 0)
        return DS_OK;
    const char **kp = xcalloc(n, sizeof(*kp));
    size_t *kl = xcalloc(n, sizeof(*kl));
    rocksdb_pinnableslice_t **ps = xcalloc(n, sizeof(*ps));
    char **errs = xcalloc(n, sizeof(*errs));
    for (size_t i = 0; i < n; i++) {
        kp[i] = (const char *)keys[i].b;
        kl[i] = keys[i].n;
    }
    rocksdb_batched_multi_get_cf(s->db, s->ropts, s->cf[cf], n, kp, kl, ps, errs, false);
    int rc = DS_OK;
    for (size_t i = 0; i < n; i++) {
        vals[i] = NULL;
        lens[i] = 0;
        if (errs[i]) {
            log_error("store: multi-get cf=%s: %s", cf_names[cf], errs[i]);
            rocksdb_free(errs[i]);
            rcs[i] = rc = DS_EIO;
        } else if (!ps[i]) {
            rcs[i] = DS_ENOTFOUND;
        } else {
            const char *v = rocksdb_pinnableslice_value(ps[i], &lens[i]);
            vals[i] = xmemdup(v, lens[i]);
            rcs[i] = DS_OK;
        }
        rocksdb_pinnableslice_destroy(ps[i]);
    }
    free(errs);
    free(ps);
    free(kl);
    free(kp);
    return rc;
}

int store_get_u64(struct store *s, enum store_cf cf, const struct skey *key, uint64_t dflt,
                  uint64_t *out)
{
    void *val = NULL;
    size_t len = 0;
    int rc = store_get(s, cf, key, &val, &len);
    if (rc == DS_ENOTFOUND) {
        *out = dflt;
        return DS_OK;
    }
    if (rc != DS_OK)
        return rc;
    if (len != 8) {
        log_error("store: corrupt u64 cf=%s len=%zu", cf_names[cf], len);
        free(val);
        return DS_EIO;
    }
    *out = store_get_u64be(val);
    free(val);
    return DS_OK;
}

struct store_batch *store_batch_new(struct store *s)
{
    struct store_batch *b = xcalloc(1, sizeof(*b));
    b->s = s;
    return b;
}

void store_batch_destroy(struct store_batch **batchp)
{
    struct store_batch *b = *batchp;
    if (!b)
        return;
    free(b->ops);
    free(b->bytes);
    if (b->wb)
        rocksdb_writebatch_destroy(b->wb);
    free(b);
    *batchp = NULL;
}

static void batch_add(struct store_batch *b, enum store_cf cf, bool del, const struct skey *key,
                      const void *val, size_t len)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 64;
        b->ops = xrealloc(b->ops, b->cap * sizeof(*b->ops));
    }
    size_t need = b->used + key->n + len;
    if (need > b->size) {
        size_t size = b->size ? b->size : 4096;
        while (size < need)
            size *= 2;
        b->bytes = xrealloc(b->bytes, size);
        b->size = size;
    }
    b->ops[b->n] = (struct batch_op){b->used,        (uint32_t)key->n, (uint32_t)len,
                                     (uint32_t)b->n, (uint8_t)cf,      del};
    memcpy(b->bytes + b->used, key->b, key->n);
    if (len)
        memcpy(b->bytes + b->used + key->n, val, len);
    b->used = need;
    b->n++;
}

void store_batch_put(struct store_batch *b, enum store_cf cf, const struct skey *key,
                     const void *val, size_t len)
{
    batch_add(b, cf, false, key, val, len);
}

void store_batch_put_u64(struct store_batch *b, enum store_cf cf, const struct skey *key,
                         uint64_t v)
{
    uint8_t buf[8];
    store_put_u64be(buf, v);
    store_batch_put(b, cf, key, buf, 8);
}

void store_batch_delete(struct store_batch *b, enum store_cf cf, const struct skey *key)
{
    batch_add(b, cf, true, key, NULL, 0);
}

void store_batch_clear(struct store_batch *b)
{
    b->n = 0;
    b->used = 0;
    if (b->size + b->cap * sizeof(*b->ops) <= STORE_BATCH_KEEP_BYTES)
        return;
    free(b->ops);
    free(b->bytes);
    b->ops = NULL;
    b->bytes = NULL;
    b->cap = b->size = 0;
    if (b->wb)
        rocksdb_writebatch_destroy(b->wb);
    b->wb = NULL;
}

size_t store_batch_count(const struct store_batch *b)
{
    return b->n;
}

/* qsort_r's order for a batch's ops (arg: the batch's bytes): family, then key (bytewise,
 * as RocksDB's comparator), then place in the batch, so that two writes to one key keep
 * their order. */
static int op_cmp(const void *pa, const void *pb, void *arg)
{
    const struct batch_op *a = pa, *b = pb;
    const uint8_t *bytes = arg;
    if (a->cf != b->cf)
        return a->cf < b->cf ? -1 : 1;
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(bytes + a->off, bytes + b->off, n);
    if (c)
        return c;
    if (a->key_len != b->key_len)
        return a->key_len < b->key_len ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

int store_commit(struct store *s, struct store_batch *b)
{
    char *err = NULL;
    if (b->s != s) {
        log_error("store: batch committed to a store it was not made for");
        return DS_EINVAL;
    }
    /* Sorted in place: a failed commit leaves the same writes, in another order. */
    qsort_r(b->ops, b->n, sizeof(*b->ops), op_cmp, b->bytes);
    if (!b->wb)
        b->wb = rocksdb_writebatch_create();
    rocksdb_writebatch_t *wb = b->wb;
    for (size_t i = 0; i < b->n; i++) {
        const struct batch_op *op = &b->ops[i];
        const char *key = (const char *)b->bytes + op->off;
        if (op->del)
            rocksdb_writebatch_delete_cf(wb, s->cf[op->cf], key, op->key_len);
        else
            rocksdb_writebatch_put_cf(wb, s->cf[op->cf], key, op->key_len, key + op->key_len,
                                      op->val_len);
    }
    rocksdb_write(s->db, s->wopts, wb, &err);
    rocksdb_writebatch_clear(wb); /* keeps its buffer for the next commit */
    if (err) {
        log_error("store: commit entries=%zu: %s", b->n, err);
        rocksdb_free(err);
        return DS_EIO;
    }
    return DS_OK;
}

struct store_iter *store_iter_new(struct store *s, enum store_cf cf, const struct skey *prefix,
                                  const struct skey *from)
{
    struct store_iter *it = xcalloc(1, sizeof(*it));
    it->prefix = *prefix;
    it->it = rocksdb_create_iterator_cf(s->db, s->ropts, s->cf[cf]);
    const struct skey *start = from ? from : prefix;
    rocksdb_iter_seek(it->it, (const char *)start->b, start->n);
    return it;
}

bool store_iter_valid(struct store_iter *it)
{
    if (!rocksdb_iter_valid(it->it))
        return false;
    size_t len = 0;
    const char *k = rocksdb_iter_key(it->it, &len);
    return len >= it->prefix.n && memcmp(k, it->prefix.b, it->prefix.n) == 0;
}

void store_iter_next(struct store_iter *it)
{
    rocksdb_iter_next(it->it);
}

const uint8_t *store_iter_key(struct store_iter *it, size_t *len_out)
{
    return (const uint8_t *)rocksdb_iter_key(it->it, len_out);
}

const uint8_t *store_iter_value(struct store_iter *it, size_t *len_out)
{
    return (const uint8_t *)rocksdb_iter_value(it->it, len_out);
}

int store_iter_status(struct store_iter *it)
{
    char *err = NULL;
    rocksdb_iter_get_error(it->it, &err);
    if (!err)
        return DS_OK;
    log_error("store: iterator: %s", err);
    rocksdb_free(err);
    return DS_EIO;
}

void store_iter_destroy(struct store_iter **itp)
{
    struct store_iter *it = *itp;
    if (!it)
        return;
    rocksdb_iter_destroy(it->it);
    free(it);
    *itp = NULL;
}
