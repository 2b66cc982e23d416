/* store: the process's one RocksDB database, seen as named column families of sorted
 * byte keys. The only module that includes <rocksdb/c.h>.
 * Keys are built with struct skey: strings end in a 0 byte and integers are big-endian,
 * so RocksDB's byte order is the natural order ("unit:a" < "unit:a-b", seq 2 < seq 10).
 * All writes go through a batch, committed atomically with the configured durability.
 * One handle, one thread. */
#ifndef DUALSYNC_STORE_H
#define DUALSYNC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum store_cf {
    CF_EVENTS = 0,   /* origin, seq -> SignedEvent bytes */
    CF_BY_MEMBER,    /* member, hlc, origin, seq -> empty */
    CF_MEMBERS,      /* member -> folded MemberRecord state */
    CF_INBOX,        /* recipient, inbox seq -> origin, seq (broker) */
    CF_META,         /* name -> value: counters, cursors, ids */
    CF_ROUTES,       /* member -> unit, community (broker) */
    CF_ORGS,         /* org id -> DirectoryEntry bytes */
    CF_BY_TYPE,      /* type, hlc, origin, seq -> SignedEvent: org-level, for lists and tasks */
    CF_BY_COMMUNITY, /* community, unit, member -> empty: open registrations (broker) */
    CF_COUNT
};

enum store_durability {
    STORE_FSYNC = 0, /* fsync the WAL on every commit (default) */
    STORE_WAL,       /* write the WAL, let the OS flush it: survives a process crash */
    STORE_NONE,      /* no WAL: for benchmarks only */
};

/* Parses "fsync", "wal", "none". DS_EINVAL otherwise. */
int store_parse_durability(const char *text, enum store_durability *out);
const char *store_durability_name(enum store_durability d);

/* Memory caps of one store (store.c says why each number). The memtables of all column
 * families together: past this RocksDB flushes the oldest. */
#define STORE_MEMTABLE_BUDGET ((size_t)64 << 20)
/* The WAL files together: past this RocksDB flushes the families that keep the oldest
 * WAL file alive, so that it can be deleted. */
#define STORE_WAL_BUDGET ((uint64_t)128 << 20)
/* The block cache, which also holds the index and filter blocks: what a store reads from
 * its files stays within this, however large the files grow. */
#define STORE_BLOCK_CACHE ((size_t)32 << 20)

#define SKEY_MAX 320

/* A key under construction. Appends past SKEY_MAX set 'overflow' instead of writing. */
struct skey {
    uint8_t b[SKEY_MAX];
    size_t n;
    bool overflow;
};

void skey_init(struct skey *k);
void skey_str(struct skey *k, const char *s); /* the string and a 0 byte */
void skey_u64(struct skey *k, uint64_t v);    /* 8 bytes, big-endian */
void skey_bytes(struct skey *k, const void *p, size_t n);
void store_put_u64be(uint8_t out[8], uint64_t v);
uint64_t store_get_u64be(const uint8_t in[8]);

struct store;
struct store_batch;
struct store_iter;

/* Opens (creating if missing) the database at path. On DS_OK *store_out is a handle the
 * caller owns (store_destroy). DS_EIO when RocksDB refuses (logged), DS_EAGAIN when another
 * process holds the database lock (a daemon is running on it). */
int store_open(const char *path, enum store_durability durability, struct store **store_out);
void store_destroy(struct store **storep);
/* The same with RocksDB's statistics on, for tests that must see what RocksDB did (it costs
 * a little on every operation, so daemons do not use it). */
int store_open_instrumented(const char *path, enum store_durability durability,
                            struct store **store_out);
/* Opens the database at path for reading only, without its lock (so a daemon can start
 * meanwhile), as of now (the WAL is replayed in memory). Writes fail. DS_EIO when there is
 * no database or RocksDB refuses (logged). */
int store_open_read_only(const char *path, struct store **store_out);
/* How many times RocksDB has fsynced the WAL since the open (its rocksdb.wal.synced
 * ticker); -1 for a store not opened instrumented. */
int64_t store_wal_syncs(struct store *s);

/* The database's size, summed over the column families, for status and /metrics:
 * *sst_bytes_out its SST files (rocksdb.total-sst-files-size: live files and obsolete ones
 * not deleted yet), *memtable_bytes_out its memtables (rocksdb.cur-size-all-mem-tables,
 * the active one and those waiting to flush). Cheap: no I/O. DS_OK, DS_EIO (logged) when
 * RocksDB does not answer a property. */
int store_size(struct store *s, uint64_t *sst_bytes_out, uint64_t *memtable_bytes_out);

/* Makes RocksDB forget what was overwritten or deleted (erasure, docs/ARCHITECTURE.md):
 * flushes every memtable (so the WAL files that held the old values become obsolete and
 * are deleted) and compacts every family down to its bottommost level, rewritten, so no
 * SST keeps an older version of a key. Costs a full compaction: seconds for a street's
 * store; called when an erasure asks for it, not on a hot path. DS_OK or DS_EIO (logged). */
int store_scrub(struct store *s);

/* Asks RocksDB to flush every memtable that holds data, in the background (returns at
 * once): what they held is then in SST files, and their memory is freed as each flush
 * ends. DS_OK or DS_EIO (logged). */
int store_flush_async(struct store *s);

/* Empties the block cache of every block no reader holds (pinned index and filter blocks
 * stay), then lets it fill again: for a daemon gone idle, whose next read finds the files
 * in the OS's page cache. The freed blocks go back to the heap (malloc_trim returns them). */
void store_drop_cache(struct store *s);

/* Reads one value. DS_OK: *val_out is a malloc'd copy (caller frees), *len_out its length.
 * DS_ENOTFOUND, DS_EIO (logged). */
int store_get(struct store *s, enum store_cf cf, const struct skey *key, void **val_out,
              size_t *len_out);
/* Reads n values of one family in one call (RocksDB's batched MultiGet: the batch passes
 * each memtable and table file once, and keys in the same data block read it once). For
 * each i, rcs[i] is DS_OK (vals[i] a malloc'd copy the caller frees, lens[i] its length),
 * DS_ENOTFOUND or DS_EIO (logged); vals[i] is NULL unless DS_OK. Returns DS_EIO if any
 * read failed, else DS_OK. */
int store_multi_get(struct store *s, enum store_cf cf, size_t n, const struct skey *keys,
                    void **vals, size_t *lens, int *rcs);
/* Reads a u64 meta-style value (8 bytes BE); *out = dflt when absent. */
int store_get_u64(struct store *s, enum store_cf cf, const struct skey *key, uint64_t dflt,
                  uint64_t *out);

/* A new empty batch for s (the batch uses its column families). */
struct store_batch *store_batch_new(struct store *s);
void store_batch_destroy(struct store_batch **batchp);
void store_batch_put(struct store_batch *b, enum store_cf cf, const struct skey *key,
                     const void *val, size_t len);
void store_batch_put_u64(struct store_batch *b, enum store_cf cf, const struct skey *key,
                         uint64_t v);
void store_batch_delete(struct store_batch *b, enum store_cf cf, const struct skey *key);
/* Empties the batch for reuse. Its buffers are kept when they hold at most
 * STORE_BATCH_KEEP_BYTES, so a batch refilled every loop turn does not grow them anew, and
 * one large restore does not pin its memory. */
#define STORE_BATCH_KEEP_BYTES (4u << 20)
void store_batch_clear(struct store_batch *b);
size_t store_batch_count(const struct store_batch *b);

/* Writes the batch atomically (all or nothing). DS_OK, DS_EIO (logged). The batch is left
 * as it was; clear or destroy it. */
int store_commit(struct store *s, struct store_batch *b);

/* Iterates the keys of cf that start with prefix, from 'from' (or the prefix when from is
 * NULL) upwards. The key and value pointers are valid until the next step. */
struct store_iter *store_iter_new(struct store *s, enum store_cf cf, const struct skey *prefix,
                                  const struct skey *from);
bool store_iter_valid(struct store_iter *it);
void store_iter_next(struct store_iter *it);
const uint8_t *store_iter_key(struct store_iter *it, size_t *len_out);
const uint8_t *store_iter_value(struct store_iter *it, size_t *len_out);
/* After a loop over the iterator: DS_OK when it ended because the keys ran out, DS_EIO
 * (logged) when RocksDB hit an error, which also makes store_iter_valid() false. */
int store_iter_status(struct store_iter *it);
void store_iter_destroy(struct store_iter **itp);

#endif
