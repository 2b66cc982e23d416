/* eventlog: the write path of every process.
 * Design notes:
 * - The per-origin high-water mark (hwm) lives in memory and in meta; it is permanent
 *   (no time window), so a node back after months still deduplicates correctly.
 * - Duplicate check: seq above hwm cannot be stored yet, so only seqs at or below it cost
 *   a point lookup (bloom-filtered); the same id with other bytes is a fork.
 * - Member records are materialised at commit. When every new event of a member sorts
 *   after the last folded position (the normal case) they are applied to the stored record;
 *   a late event with an older hlc makes us re-fold that member from its index, which is
 *   cheap because a member has few events. A member with no record has no stored event
 *   (see fold_member), so its pending events are folded from scratch without the index.
 * - Nothing touches the in-memory hwm until the batch is durable, so a failed commit leaves
 *   memory and disk in agreement.
 * - Deferred folds (the broker, which reads records only for digests and reports): a
 *   commit marks a touched member "dirty" (a small meta key in the same batch) instead of
 *   rewriting its whole record per batch; the record is refolded from the log when read,
 *   or by eventlog_settle when the process is idle. The mark survives a crash with the
 *   events it stands for.
 * - Each commit is timed (two monotonic clock reads) and counted in a fixed histogram for
 *   /metrics: a few integer adds, no allocation and no log line per commit. */
#include "eventlog.h"

#include "err.h"
#include "fault.h"
#include "fold.h"
#include "log.h"
#include "strcopy.h"
#include "strmap.h"
#include "xalloc.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct eventlog {
    struct store *store;
    /* eventlog_rest: the generation last seen, since when it has not moved, and whether a
     * flush it asked for may still be running */
    uint64_t rest_generation, rest_since_ms;
    bool rest_flushing, rest_trimmed;
    struct strmap *hwm; /* origin -> uint64_t * */
    uint64_t hlc_max;
    bool defer_folds;
    struct strmap *dirty;  /* member -> DIRTY: events stored, record not refolded yet */
    struct strmap *redact; /* member -> uint64_t *: events up to this hlc kept bare */
    /* Scrubs (eventlog_scrub) run on a thread of their own: a full compaction of a street's
     * store takes long, and the loop must go on meanwhile. due counts redactions committed,
     * scrubbing the count a running scrub started at. */
    uint64_t scrub_due, scrub_started;
    pthread_t scrub_thread;
    bool scrub_running;
    atomic_bool scrub_done;
    int scrub_rc;
    eventlog_scrub_fn scrub_fn; /* the owner's own column families (the broker's inbox) */
    void *scrub_arg;
    eventlog_member_fn member_fn; /* eventlog_on_member_change */
    void *member_arg;
    struct strmap *scrub_snapshot;  /* the redactions as the running scrub started */
    uint64_t (*mono_ns)(void *arg); /* times commits; tests drive it (eventlog_set_clock) */
    void *mono_arg;
    struct hist commits;        /* eventlog_commits */
    struct eventlog_txn *spare; /* the last transaction, emptied for eventlog_begin */
    uint64_t settle_pace_ns;    /* per member, in the last settling transaction (0: none) */
};

static void txn_free(struct eventlog_txn *txn);

static char dirty_mark;
#define DIRTY ((void *)&dirty_mark)
#define SETTLE_CHUNK 1024             /* members refolded per transaction by eventlog_settle */
#define EVENTLOG_TXN_KEEP_EVENTS 8192 /* an emptied transaction keeps its array up to it */
#define SETTLE_FIRST 16               /* members a budgeted settle takes before it knows the pace */

/* One event added in a transaction, with its position in the member's fold order. */
struct txn_event {
    struct event ev; /* owns a copy of the raw bytes */
};

struct member_pending {
    struct txn_event **events;
    size_t n, cap;
    bool refold;   /* redacted in this txn: fold from the log, not from the stored record */
    bool stripped; /* a stored event lost its personal part (eventlog_txn_strip): dirty */
};

struct eventlog_txn {
    struct eventlog *log;
    struct store_batch *batch;
    struct strmap *added;   /* "origin/seq" -> struct txn_event * */
    struct strmap *hwm;     /* origin -> uint64_t * (pending) */
    struct strmap *members; /* member -> struct member_pending * */
    struct txn_event **events;
    size_t n, cap;
    uint64_t hlc_max;
    char forget[IDS_ORG_MAX]; /* an org-level origin whose events this txn drops, or "" */
    struct strmap *redact;    /* member -> uint64_t *: redactions of this txn */
    bool scrub;               /* eventlog_txn_mark_scrub */
    bool written;             /* eventlog_txn_write ran: readable, nothing more is added */
};

static void key_event(struct skey *k, const char *origin, uint64_t seq)
{
    skey_init(k);
    skey_str(k, origin);
    skey_u64(k, seq);
}

static void key_meta(struct skey *k, const char *name, const char *sub)
{
    skey_init(k);
    skey_str(k, name);
    if (sub)
        skey_str(k, sub);
}

/* by_member key: member, hlc, origin, seq. The suffix after the member is the position. */
static void key_position(struct skey *k, uint64_t hlc, const char *origin, uint64_t seq)
{
    skey_u64(k, hlc);
    skey_str(k, origin);
    skey_u64(k, seq);
}

static bool load_hwm_entry(struct eventlog *log, const uint8_t *key, size_t klen,
                           const uint8_t *val, size_t vlen)
{
    /* key: "hwm\0" origin "\0" */
    const char *origin = (const char *)key + 4;
    if (vlen != 8 || klen < 6 || key[klen - 1] != 0)
        return false;
    uint64_t *v = xmalloc(sizeof(*v));
    *v = store_get_u64be(val);
    free(strmap_put(log->hwm, origin, v));
    return true;
}

static int load_meta(struct eventlog *log)
{
    struct skey prefix;
    key_meta(&prefix, "hwm", NULL);
    struct store_iter *it = store_iter_new(log->store, CF_META, &prefix, NULL);
    int rc = DS_OK;
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t klen, vlen;
        const uint8_t *k = store_iter_key(it, &klen);
        const uint8_t *v = store_iter_value(it, &vlen);
        if (!load_hwm_entry(log, k, klen, v, vlen)) {
            log_error("eventlog: corrupt hwm entry");
            rc = DS_EIO;
            break;
        }
    }
    if (rc == DS_OK)
        rc = store_iter_status(it); /* an I/O error ends a scan early: say so */
    store_iter_destroy(&it);
    if (rc == DS_OK)
        rc = eventlog_meta_u64(log, "hlc", 0, &log->hlc_max);
    return rc;
}

/* Redactions: meta "redact" member -> the hlc up to which the member's events are kept
 * without their personal part; "scrub" -> "" while a redaction waits for its scrub. */
static int load_redactions(struct eventlog *log)
{
    struct skey prefix, k;
    key_meta(&prefix, "redact", NULL);
    struct store_iter *it = store_iter_new(log->store, CF_META, &prefix, NULL);
    int rc = DS_OK;
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t klen, vlen;
        const uint8_t *key = store_iter_key(it, &klen);
        const uint8_t *v = store_iter_value(it, &vlen);
        if (klen <= prefix.n + 1 || key[klen - 1] != 0 || vlen != 8) {
            log_error("eventlog: corrupt redaction mark");
            rc = DS_EIO;
            break;
        }
        uint64_t *upto = xmalloc(sizeof(*upto));
        *upto = store_get_u64be(v);
        free(strmap_put(log->redact, (const char *)key + prefix.n, upto));
    }
    if (rc == DS_OK)
        rc = store_iter_status(it);
    store_iter_destroy(&it);
    void *val = NULL;
    size_t len = 0;
    key_meta(&k, "scrub", NULL);
    if (rc == DS_OK && store_get(log->store, CF_META, &k, &val, &len) == DS_OK) {
        log->scrub_due = 1; /* a crash before the last scrub finished: scrub again */
        free(val);
    }
    return rc;
}

/* The dirty marks of deferred folds: meta "dirty" member -> "". Loaded whatever the
 * mode, so that any reader of a broker's store refolds what the broker left. */
static int load_dirty(struct eventlog *log)
{
    struct skey prefix;
    key_meta(&prefix, "dirty", NULL);
    struct store_iter *it = store_iter_new(log->store, CF_META, &prefix, NULL);
    int rc = DS_OK;
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t klen;
        const uint8_t *k = store_iter_key(it, &klen);
        if (klen <= prefix.n + 1 || k[klen - 1] != 0) {
            log_error("eventlog: corrupt dirty mark");
            rc = DS_EIO;
            break;
        }
        strmap_put(log->dirty, (const char *)k + prefix.n, DIRTY);
    }
    if (rc == DS_OK)
        rc = store_iter_status(it);
    store_iter_destroy(&it);
    return rc;
}

static bool collect_member_id(const Dualsync__MemberRecord *rec, void *arg)
{
    struct strmap *ids = arg;
    strmap_put(ids, rec->member, NULL);
    return true;
}

static bool track_for_refold(const char *member, void *value, void *arg)
{
    (void)value;
    struct eventlog_txn *txn = arg;
    strmap_put(txn->members, member, xcalloc(1, sizeof(struct member_pending)));
    return true;
}

/* Stores from before the by_type index have org-level events (directory entries) that
 * are not in it: index them once. */
static int migrate_type_index(struct eventlog *log)
{
    uint64_t done = 0;
    int rc = eventlog_meta_u64(log, "type_index", 0, &done);
    if (rc != DS_OK || done)
        return rc;
    struct skey prefix, k;
    skey_init(&prefix);
    struct eventlog_txn *txn = eventlog_begin(log);
    struct store_iter *it = store_iter_new(log->store, CF_EVENTS, &prefix, NULL);
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t vlen;
        const uint8_t *val = store_iter_value(it, &vlen);
        struct event ev;
        if (wire_event_open(val, vlen, false, &ev) != DS_OK)
            continue;
        if (!ev.member[0]) {
            skey_init(&k);
            skey_u64(&k, ev.type);
            key_position(&k, ev.hlc, ev.origin, ev.seq);
            store_batch_put(txn->batch, CF_BY_TYPE, &k, val, vlen);
        }
        wire_event_release(&ev);
    }
    rc = store_iter_status(it);
    store_iter_destroy(&it);
    eventlog_txn_put_meta_u64(txn, "type_index", 1);
    if (rc == DS_OK)
        rc = eventlog_commit(&txn);
    eventlog_abort(&txn);
    return rc;
}

/* Records folded by an older fold_apply are refolded from the log once, when a new
 * version first opens the store; the log itself never changes. */
static int migrate_fold(struct eventlog *log)
{
    uint64_t version = 0;
    int rc = eventlog_meta_u64(log, "fold_version", 0, &version);
    if (rc != DS_OK || version == FOLD_VERSION)
        return rc;
    struct strmap *ids = strmap_new();
    rc = eventlog_members_each(log, collect_member_id, ids);
    struct eventlog_txn *txn = eventlog_begin(log);
    if (rc == DS_OK) {
        strmap_each(ids, track_for_refold, txn);
        eventlog_txn_put_meta_u64(txn, "fold_version", FOLD_VERSION);
        rc = eventlog_commit(&txn);
    }
    eventlog_abort(&txn);
    if (strmap_count(ids))
        log_info("eventlog: refolded %zu member records for fold version %u", strmap_count(ids),
                 FOLD_VERSION);
    strmap_destroy(&ids, NULL);
    return rc;
}

static uint64_t monotonic_ns(void *arg)
{
    (void)arg;
    return hist_now_ns();
}

int eventlog_open(const char *dir, enum store_durability durability, struct eventlog **log_out)
{
    struct eventlog *log = xcalloc(1, sizeof(*log));
    log->mono_ns = monotonic_ns;
    log->hwm = strmap_new();
    log->dirty = strmap_new();
    log->redact = strmap_new();
    int rc = store_open(dir, durability, &log->store);
    if (rc == DS_OK)
        rc = load_meta(log);
    if (rc == DS_OK)
        rc = load_dirty(log);
    if (rc == DS_OK)
        rc = load_redactions(log);
    if (rc == DS_OK)
        rc = migrate_type_index(log);
    if (rc == DS_OK)
        rc = migrate_fold(log);
    if (rc != DS_OK) {
        eventlog_destroy(&log);
        return rc;
    }
    *log_out = log;
    return DS_OK;
}

int eventlog_open_read_only(const char *dir, struct eventlog **log_out)
{
    struct eventlog *log = xcalloc(1, sizeof(*log));
    uint64_t version = 0, type_index = 0;
    log->mono_ns = monotonic_ns;
    log->hwm = strmap_new();
    log->dirty = strmap_new();
    log->redact = strmap_new();
    int rc = store_open_read_only(dir, &log->store);
    if (rc == DS_OK)
        rc = load_meta(log);
    if (rc == DS_OK)
        rc = load_dirty(log);
    if (rc == DS_OK)
        rc = load_redactions(log);
    if (rc == DS_OK)
        rc = eventlog_meta_u64(log, "fold_version", 0, &version);
    if (rc == DS_OK)
        rc = eventlog_meta_u64(log, "type_index", 0, &type_index);
    if (rc == DS_OK && (version != FOLD_VERSION || !type_index || strmap_count(log->dirty)))
        rc = DS_EAGAIN; /* reading would mean writing first: start the daemon once */
    if (rc != DS_OK) {
        eventlog_destroy(&log);
        return rc;
    }
    *log_out = log;
    return DS_OK;
}

void eventlog_destroy(struct eventlog **logp)
{
    struct eventlog *log = *logp;
    if (!log)
        return;
    if (log->scrub_running) { /* the mark stays if it did not finish: the next open scrubs */
        pthread_join(log->scrub_thread, NULL);
        strmap_destroy(&log->scrub_snapshot, free);
    }
    txn_free(log->spare);
    store_destroy(&log->store);
    strmap_destroy(&log->hwm, free);
    strmap_destroy(&log->dirty, NULL);
    strmap_destroy(&log->redact, free);
    free(log);
    *logp = NULL;
}

struct store *eventlog_store(struct eventlog *log)
{
    return log->store;
}

uint64_t eventlog_hwm(const struct eventlog *log, const char *origin)
{
    const uint64_t *v = strmap_get(log->hwm, origin);
    return v ? *v : 0;
}

uint64_t eventlog_hlc_max(const struct eventlog *log)
{
    return log->hlc_max;
}

int eventlog_get_raw(struct eventlog *log, const char *origin, uint64_t seq, uint8_t **raw_out,
                     size_t *len_out)
{
    struct skey k;
    key_event(&k, origin, seq);
    return store_get(log->store, CF_EVENTS, &k, (void **)raw_out, len_out);
}

int eventlog_get_raws(struct eventlog *log, size_t n, const char *const *origins,
                      const uint64_t *seqs, uint8_t **raws, size_t *lens)
{
    struct skey *keys = xcalloc(n ? n : 1, sizeof(*keys));
    int *rcs = xcalloc(n ? n : 1, sizeof(*rcs));
    for (size_t i = 0; i < n; i++)
        key_event(&keys[i], origins[i], seqs[i]);
    int rc = store_multi_get(log->store, CF_EVENTS, n, keys, (void **)raws, lens, rcs);
    for (size_t i = 0; i < n && rc == DS_OK; i++)
        rc = rcs[i];
    free(rcs);
    free(keys);
    return rc;
}

int eventlog_origin_run(struct eventlog *log, const char *origin, uint64_t from, size_t max,
                        size_t max_bytes, ProtobufCBinaryData *out, size_t *n_out)
{
    struct skey prefix, start;
    skey_init(&prefix);
    skey_str(&prefix, origin);
    key_event(&start, origin, from);
    struct store_iter *it = store_iter_new(log->store, CF_EVENTS, &prefix, &start);
    size_t n = 0, bytes = 0;
    for (; n < max && bytes < max_bytes && store_iter_valid(it); store_iter_next(it)) {
        size_t klen, vlen;
        const uint8_t *key = store_iter_key(it, &klen);
        if (klen != prefix.n + 8 || store_get_u64be(key + prefix.n) != from + n)
            break; /* a gap: what follows it is not this run */
        const uint8_t *val = store_iter_value(it, &vlen);
        out[n].data = xmemdup(val, vlen ? vlen : 1);
        out[n].len = vlen;
        bytes += vlen;
        n++;
    }
    int rc = store_iter_status(it);
    store_iter_destroy(&it);
    *n_out = n;
    return rc == DS_OK ? DS_OK : DS_EIO;
}

int eventlog_meta_u64(struct eventlog *log, const char *name, uint64_t dflt, uint64_t *out)
{
    struct skey k;
    key_meta(&k, name, NULL);
    return store_get_u64(log->store, CF_META, &k, dflt, out);
}

int eventlog_meta_get(struct eventlog *log, const char *name, void **val_out, size_t *len_out)
{
    struct skey k;
    key_meta(&k, name, NULL);
    return store_get(log->store, CF_META, &k, val_out, len_out);
}

/* ---------------------------------------------------------------- member records */

/* Stored member value: [1 byte position length][position][record bytes]. */
static int member_load(struct eventlog *log, const char *member, Dualsync__MemberRecord **rec_out,
                       struct skey *pos_out)
{
    struct skey k;
    void *val = NULL;
    size_t len = 0;
    skey_init(&k);
    skey_str(&k, member);
    int rc = store_get(log->store, CF_MEMBERS, &k, &val, &len);
    if (rc != DS_OK)
        return rc;
    const uint8_t *v = val;
    size_t plen = len ? v[0] : 0;
    Dualsync__MemberRecord *rec = NULL;
    if (len >= 1 + plen && plen <= SKEY_MAX)
        rec = fold_decode(v + 1 + plen, len - 1 - plen);
    if (!rec) {
        log_error("eventlog: corrupt member record member=%s", member);
        free(val);
        return DS_EIO;
    }
    if (pos_out) {
        skey_init(pos_out);
        skey_bytes(pos_out, v + 1, plen);
    }
    free(val);
    *rec_out = rec;
    return DS_OK;
}

static int settle_members(struct eventlog *log, char **members, size_t n);

int eventlog_member(struct eventlog *log, const char *member, Dualsync__MemberRecord **rec_out)
{
    if (strmap_get(log->dirty, member)) {
        char *one = (char *)member;
        int rc = settle_members(log, &one, 1);
        if (rc != DS_OK)
            return rc;
    }
    return member_load(log, member, rec_out, NULL);
}

int eventlog_members_each(struct eventlog *log,
                          bool (*fn)(const Dualsync__MemberRecord *rec, void *arg), void *arg)
{
    int settled = eventlog_settle(log, SIZE_MAX, EVENTLOG_NO_BUDGET, NULL);
    if (settled != DS_OK)
        return settled;
    struct skey prefix;
    skey_init(&prefix);
    struct store_iter *it = store_iter_new(log->store, CF_MEMBERS, &prefix, NULL);
    int rc = DS_OK;
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t len;
        const uint8_t *v = store_iter_value(it, &len);
        size_t plen = len ? v[0] : 0;
        Dualsync__MemberRecord *rec = NULL;
        if (len >= 1 + plen)
            rec = fold_decode(v + 1 + plen, len - 1 - plen);
        if (!rec) {
            log_error("eventlog: corrupt member record while listing");
            rc = DS_EIO;
            break;
        }
        bool more = fn(rec, arg);
        fold_free(&rec);
        if (!more)
            break;
    }
    if (rc == DS_OK)
        rc = store_iter_status(it); /* an I/O error ends a scan early: say so */
    store_iter_destroy(&it);
    return rc;
}

/* Parses a by_member key's position (after "member\0"). */
static bool parse_position(const uint8_t *p, size_t n, uint64_t *hlc, char *origin, uint64_t *seq)
{
    if (n < 8 + 2 + 8)
        return false;
    *hlc = store_get_u64be(p);
    const uint8_t *o = p + 8;
    size_t olen = n - 8 - 8;
    if (o[olen - 1] != 0 || olen > IDS_ORG_MAX)
        return false;
    memcpy(origin, o, olen);
    *seq = store_get_u64be(p + n - 8);
    return true;
}

/* Visits the events whose index keys (in cf) start with prefix, in position order. */
/* The event of an index entry (by_member, by_type): an org-level letter's by_type entry
 * holds its bytes, as do the by_member entries a store wrote between 2026-11-29 and
 * 2026-12-04; the others are references and cost a point read (*buf, which the caller
 * frees). *raw is valid until the iterator moves. */
static int index_event(struct eventlog *log, struct store_iter *it, size_t prefix_n,
                       const uint8_t **raw, size_t *len, uint8_t **buf)
{
    size_t klen, vlen;
    const uint8_t *k = store_iter_key(it, &klen);
    const uint8_t *v = store_iter_value(it, &vlen);
    uint64_t hlc, seq;
    char origin[IDS_ORG_MAX];
    *buf = NULL;
    if (vlen > 0) {
        *raw = v;
        *len = vlen;
        return DS_OK;
    }
    if (!parse_position(k + prefix_n, klen - prefix_n, &hlc, origin, &seq))
        return DS_EIO;
    int rc = eventlog_get_raw(log, origin, seq, buf, len);
    *raw = *buf;
    return rc == DS_ENOTFOUND ? DS_EIO : rc;
}

static int events_under(struct eventlog *log, enum store_cf cf, const struct skey *prefix,
                        bool (*fn)(const struct event *ev, void *arg), void *arg)
{
    struct store_iter *it = store_iter_new(log->store, cf, prefix, NULL);
    int rc = DS_OK;
    for (; store_iter_valid(it) && rc == DS_OK; store_iter_next(it)) {
        const uint8_t *raw = NULL;
        uint8_t *buf = NULL;
        size_t rlen = 0;
        struct event ev;
        rc = index_event(log, it, prefix->n, &raw, &rlen, &buf);
        if (rc == DS_OK && wire_event_open(raw, rlen, false, &ev) == DS_OK) {
            bool more = fn(&ev, arg);
            wire_event_release(&ev);
            if (!more) {
                free(buf);
                break;
            }
        } else if (rc == DS_OK) {
            rc = DS_EIO;
        }
        free(buf);
    }
    if (rc == DS_OK)
        rc = store_iter_status(it); /* an I/O error ends a scan early: say so */
    store_iter_destroy(&it);
    return rc;
}

int eventlog_type_events(struct eventlog *log, uint32_t type,
                         bool (*fn)(const struct event *ev, void *arg), void *arg)
{
    struct skey prefix;
    skey_init(&prefix);
    skey_u64(&prefix, type);
    int rc = events_under(log, CF_BY_TYPE, &prefix, fn, arg);
    if (rc != DS_OK)
        log_error("eventlog: unreadable org events type=%u", type);
    return rc;
}

int eventlog_member_events(struct eventlog *log, const char *member,
                           bool (*fn)(const struct event *ev, void *arg), void *arg)
{
    struct skey prefix;
    skey_init(&prefix);
    skey_str(&prefix, member);
    int rc = events_under(log, CF_BY_MEMBER, &prefix, fn, arg);
    if (rc != DS_OK)
        log_error("eventlog: unreadable timeline member=%s", member);
    return rc;
}

/* ---------------------------------------------------------------- transactions */

struct eventlog_txn *eventlog_begin(struct eventlog *log)
{
    struct eventlog_txn *txn = log->spare;
    if (txn) { /* emptied by eventlog_abort */
        log->spare = NULL;
        return txn;
    }
    txn = xcalloc(1, sizeof(*txn));
    txn->log = log;
    txn->batch = store_batch_new(log->store);
    txn->added = strmap_new();
    txn->hwm = strmap_new();
    txn->members = strmap_new();
    txn->redact = strmap_new();
    return txn;
}

static void member_pending_free(void *p)
{
    struct member_pending *mp = p;
    free(mp->events);
    free(mp);
}

static void txn_free(struct eventlog_txn *txn)
{
    if (!txn)
        return;
    free(txn->events);
    strmap_destroy(&txn->added, NULL);
    strmap_destroy(&txn->hwm, free);
    strmap_destroy(&txn->members, member_pending_free);
    strmap_destroy(&txn->redact, free);
    store_batch_destroy(&txn->batch);
    free(txn);
}

/* Empties txn the way eventlog_begin makes one, keeping its maps' tables and its batch's
 * buffers. The broker's transactions at 100 units hold ~4,000 letters and 1.5 MB of
 * writes; freeing those tables and buffers after each, which made glibc consolidate its
 * free lists, was 4-5% of the loop (docs/BENCHMARKS.md, "A transaction kept, and ids
 * copied without snprintf"). */
static void txn_empty(struct eventlog_txn *txn)
{
    for (size_t i = 0; i < txn->n; i++) {
        wire_event_release(&txn->events[i]->ev);
        free(txn->events[i]);
    }
    txn->n = 0;
    if (txn->cap > EVENTLOG_TXN_KEEP_EVENTS) {
        free(txn->events);
        txn->events = NULL;
        txn->cap = 0;
    }
    strmap_clear(txn->added, NULL);
    strmap_clear(txn->hwm, free);
    strmap_clear(txn->members, member_pending_free);
    strmap_clear(txn->redact, free);
    store_batch_clear(txn->batch);
    txn->hlc_max = 0;
    txn->forget[0] = '\0';
    txn->scrub = false;
    txn->written = false;
}

void eventlog_abort(struct eventlog_txn **txnp)
{
    struct eventlog_txn *txn = *txnp;
    if (!txn)
        return;
    *txnp = NULL;
    txn_empty(txn);
    if (txn->log->spare) { /* two were open at once: one is kept */
        txn_free(txn);
        return;
    }
    txn->log->spare = txn;
}

struct store_batch *eventlog_txn_batch(struct eventlog_txn *txn)
{
    return txn->batch;
}

size_t eventlog_txn_count(const struct eventlog_txn *txn)
{
    return txn->n;
}

void eventlog_txn_put_meta_u64(struct eventlog_txn *txn, const char *name, uint64_t v)
{
    struct skey k;
    key_meta(&k, name, NULL);
    store_batch_put_u64(txn->batch, CF_META, &k, v);
}

void eventlog_txn_put_meta(struct eventlog_txn *txn, const char *name, const void *v, size_t len)
{
    struct skey k;
    key_meta(&k, name, NULL);
    store_batch_put(txn->batch, CF_META, &k, v, len);
}

static uint64_t txn_hwm(const struct eventlog_txn *txn, const char *origin)
{
    const uint64_t *v = strmap_get(txn->hwm, origin);
    return v ? *v : eventlog_hwm(txn->log, origin);
}

/* Whether stored bytes are ev: a copy whose personal part was dropped is the same event. */
static bool same_event(const uint8_t *raw, size_t len, const struct event *ev)
{
    struct event stored;
    if (wire_event_open(raw, len, false, &stored) != DS_OK)
        return false;
    bool same = wire_event_same(&stored, ev);
    wire_event_release(&stored);
    return same;
}

/* DS_OK when (origin, seq) is not stored, DS_EEXIST / DS_EFORK when it is. */
static int check_stored(struct eventlog_txn *txn, const struct event *ev)
{
    char id[IDS_EVENT_ID_MAX];
    ids_event_id(id, sizeof(id), ev->origin, ev->seq);
    const struct txn_event *te = strmap_get(txn->added, id);
    if (te)
        return wire_event_same(&te->ev, ev) ? DS_EEXIST : DS_EFORK;
    if (ev->seq > txn_hwm(txn, ev->origin))
        return DS_OK;
    uint8_t *raw = NULL;
    size_t len = 0;
    int rc = eventlog_get_raw(txn->log, ev->origin, ev->seq, &raw, &len);
    if (rc == DS_ENOTFOUND)
        return DS_OK;
    if (rc != DS_OK)
        return rc;
    rc = same_event(raw, len, ev) ? DS_EEXIST : DS_EFORK;
    free(raw);
    return rc;
}

static void txn_track_member(struct eventlog_txn *txn, struct txn_event *te)
{
    struct member_pending *mp = strmap_get(txn->members, te->ev.member);
    if (!mp) {
        mp = xcalloc(1, sizeof(*mp));
        strmap_put(txn->members, te->ev.member, mp);
    }
    if (mp->n == mp->cap) {
        mp->cap = mp->cap ? mp->cap * 2 : 4;
        mp->events = xrealloc(mp->events, mp->cap * sizeof(*mp->events));
    }
    mp->events[mp->n++] = te;
}

/* ---------------------------------------------------------------- redaction */

/* The hlc up to which member's events are kept without their personal part (0: none). */
static uint64_t redact_upto(const struct eventlog_txn *txn, const char *member)
{
    const uint64_t *v = strmap_get(txn->redact, member);
    if (!v)
        v = strmap_get(txn->log->redact, member);
    return v ? *v : 0;
}

static bool redacts(const struct eventlog_txn *txn, const struct event *ev)
{
    return ev->personal_len && ev->member[0] && ev->hlc <= redact_upto(txn, ev->member);
}

/* Opens raw as an owned event, as this log keeps it: without its personal part when the
 * member's redaction covers it. */
static int open_kept(const struct eventlog_txn *txn, const uint8_t *raw, size_t len,
                     struct event *out)
{
    int rc = wire_event_open(raw, len, true, out);
    if (rc != DS_OK || !redacts(txn, out))
        return rc;
    uint8_t *bare = NULL;
    size_t bare_len = 0;
    wire_event_strip(out, &bare, &bare_len);
    wire_event_release(out);
    rc = wire_event_open(bare, bare_len, true, out);
    free(bare);
    return rc;
}

/* Puts an event's bytes under its id, and its position in by_member (by_type: below). */
static void put_event(struct eventlog_txn *txn, const struct event *ev)
{
    struct skey k;
    key_event(&k, ev->origin, ev->seq);
    store_batch_put(txn->batch, CF_EVENTS, &k, ev->raw, ev->raw_len);
    if (!ev->member[0])
        return;
    skey_init(&k);
    skey_str(&k, ev->member);
    key_position(&k, ev->hlc, ev->origin, ev->seq);
    /* A reference: the bytes are in events only. Carrying them here too (as stores written
     * before 2026-12-04 do) tripled the bytes written and compacted per letter with the
     * inbox's copy; a refold's point reads cost less (BENCHMARKS.md "Letters written
     * once"). */
    store_batch_put(txn->batch, CF_BY_MEMBER, &k, (const uint8_t *)"", 0);
}

/* Rewrites the stored events of member the redaction covers, without their personal
 * part, and the index entries that carry their bytes (references stay empty). */
static int redact_stored(struct eventlog_txn *txn, const char *member, size_t *count, size_t *held)
{
    struct skey prefix;
    skey_init(&prefix);
    skey_str(&prefix, member);
    struct store_iter *it = store_iter_new(txn->log->store, CF_BY_MEMBER, &prefix, NULL);
    int rc = DS_OK;
    for (; store_iter_valid(it) && rc == DS_OK; store_iter_next(it)) {
        const uint8_t *raw = NULL;
        uint8_t *buf = NULL;
        size_t rlen = 0, vlen = 0;
        struct event ev;
        store_iter_value(it, &vlen);
        rc = index_event(txn->log, it, prefix.n, &raw, &rlen, &buf);
        if (rc == DS_OK && wire_event_open(raw, rlen, false, &ev) != DS_OK)
            rc = DS_EIO;
        *held += rc == DS_OK;
        if (rc == DS_OK && redacts(txn, &ev)) {
            uint8_t *bare = NULL;
            size_t bare_len = 0;
            wire_event_strip(&ev, &bare, &bare_len);
            struct skey k;
            key_event(&k, ev.origin, ev.seq);
            store_batch_put(txn->batch, CF_EVENTS, &k, bare, bare_len);
            if (vlen) {
                size_t klen = 0;
                const uint8_t *key = store_iter_key(it, &klen);
                skey_init(&k);
                skey_bytes(&k, key, klen);
                store_batch_put(txn->batch, CF_BY_MEMBER, &k, bare, bare_len);
            }
            free(bare);
            (*count)++;
        }
        if (rc == DS_OK)
            wire_event_release(&ev);
        free(buf);
    }
    if (rc == DS_OK)
        rc = store_iter_status(it);
    store_iter_destroy(&it);
    return rc;
}

static struct member_pending *txn_member(struct eventlog_txn *txn, const char *member)
{
    struct member_pending *mp = strmap_get(txn->members, member);
    if (!mp) {
        mp = xcalloc(1, sizeof(*mp));
        strmap_put(txn->members, member, mp);
    }
    return mp;
}

/* Replaces an event added in txn by its bare copy. */
static int strip_added(struct eventlog_txn *txn, struct txn_event *te)
{
    uint8_t *bare = NULL;
    size_t bare_len = 0;
    wire_event_strip(&te->ev, &bare, &bare_len);
    wire_event_release(&te->ev);
    int rc = wire_event_open(bare, bare_len, true, &te->ev);
    free(bare);
    if (rc != DS_OK)
        return DS_EIO;
    put_event(txn, &te->ev);
    return DS_OK;
}

int eventlog_txn_redact_member(struct eventlog_txn *txn, const char *member, uint64_t upto,
                               size_t *count_out)
{
    size_t count = 0;
    if (upto <= redact_upto(txn, member)) { /* covered already: nothing new to drop */
        if (count_out)
            *count_out = 0;
        return DS_OK;
    }
    uint64_t *v = xmalloc(sizeof(*v));
    *v = upto;
    free(strmap_put(txn->redact, member, v));
    struct skey k;
    key_meta(&k, "redact", member);
    store_batch_put_u64(txn->batch, CF_META, &k, upto);
    key_meta(&k, "scrub", NULL);
    store_batch_put(txn->batch, CF_META, &k, "", 0);
    size_t held = 0;
    int rc = redact_stored(txn, member, &count, &held);
    if (rc != DS_OK) {
        log_error("eventlog: cannot redact member=%s", member);
        return rc;
    }
    if (!strmap_get(txn->members, member) && !held) { /* nothing of the member here yet */
        if (count_out)
            *count_out = 0;
        return DS_OK;
    }
    struct member_pending *mp = txn_member(txn, member);
    for (size_t i = 0; i < mp->n; i++) { /* added earlier in this txn */
        if (!redacts(txn, &mp->events[i]->ev))
            continue;
        if (strip_added(txn, mp->events[i]) != DS_OK)
            return DS_EIO;
        count++;
    }
    mp->refold = true;
    if (count_out)
        *count_out = count;
    return DS_OK;
}

int eventlog_txn_strip(struct eventlog_txn *txn, const char *origin, uint64_t seq,
                       bool *stripped_out)
{
    *stripped_out = false;
    if (!txn->log->defer_folds)
        return DS_EINVAL; /* the refold must read the bare bytes: after the batch is written */
    char id[IDS_EVENT_ID_MAX];
    ids_event_id(id, sizeof(id), origin, seq);
    struct txn_event *te = strmap_get(txn->added, id);
    if (te) {
        if (!te->ev.personal_len)
            return DS_OK;
        *stripped_out = true;
        return strip_added(txn, te);
    }
    uint8_t *raw = NULL;
    size_t len = 0;
    int rc = eventlog_get_raw(txn->log, origin, seq, &raw, &len);
    if (rc != DS_OK)
        return rc;
    struct event ev;
    if (wire_event_open(raw, len, false, &ev) != DS_OK) {
        free(raw);
        return DS_EIO;
    }
    if (ev.personal_len) {
        uint8_t *bare = NULL;
        size_t bare_len = 0;
        wire_event_strip(&ev, &bare, &bare_len);
        struct skey k;
        key_event(&k, origin, seq);
        store_batch_put(txn->batch, CF_EVENTS, &k, bare, bare_len);
        free(bare);
        if (ev.member[0]) {
            /* an index entry of an older store may carry the bytes: a reference now */
            skey_init(&k);
            skey_str(&k, ev.member);
            key_position(&k, ev.hlc, ev.origin, ev.seq);
            store_batch_put(txn->batch, CF_BY_MEMBER, &k, (const uint8_t *)"", 0);
            txn_member(txn, ev.member)->stripped = true;
        }
        *stripped_out = true;
    }
    wire_event_release(&ev);
    free(raw);
    return DS_OK;
}

void eventlog_txn_mark_scrub(struct eventlog_txn *txn)
{
    struct skey k;
    key_meta(&k, "scrub", NULL);
    store_batch_put(txn->batch, CF_META, &k, "", 0);
    txn->scrub = true;
}

/* eventlog_txn_member_events_after: copies of the events to visit, sorted. */
struct later_event {
    uint64_t hlc, seq;
    char origin[IDS_ORG_MAX];
    uint8_t *raw;
    size_t len;
};
struct later_events {
    struct later_event *v;
    size_t n, cap;
    uint64_t after;
};

static void later_add(struct later_events *l, const struct event *ev)
{
    if (ev->hlc <= l->after)
        return;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 8;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    struct later_event *e = &l->v[l->n++];
    e->hlc = ev->hlc;
    e->seq = ev->seq;
    strcopy(e->origin, sizeof(e->origin), ev->origin);
    e->raw = xmemdup(ev->raw, ev->raw_len);
    e->len = ev->raw_len;
}

static bool later_collect(const struct event *ev, void *arg)
{
    later_add(arg, ev);
    return true;
}

static int later_cmp(const void *a, const void *b)
{
    const struct later_event *x = a, *y = b;
    if (x->hlc != y->hlc)
        return x->hlc < y->hlc ? -1 : 1;
    int c = strcmp(x->origin, y->origin);
    return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

int eventlog_txn_member_events_after(struct eventlog_txn *txn, const char *member, uint64_t after,
                                     bool (*fn)(const struct event *ev, void *arg), void *arg)
{
    struct later_events l = {.after = after};
    int rc = eventlog_member_events(txn->log, member, later_collect, &l);
    const struct member_pending *mp = strmap_get(txn->members, member);
    for (size_t i = 0; rc == DS_OK && mp && i < mp->n; i++)
        later_add(&l, &mp->events[i]->ev); /* added in txn: a stored event is never added */
    if (l.n)
        qsort(l.v, l.n, sizeof(*l.v), later_cmp);
    bool more = true;
    for (size_t i = 0; i < l.n; i++) {
        struct event ev;
        if (rc == DS_OK && more && wire_event_open(l.v[i].raw, l.v[i].len, false, &ev) == DS_OK) {
            more = fn(&ev, arg);
            wire_event_release(&ev);
        } else if (rc == DS_OK && more) {
            rc = DS_EIO; /* it opened when it was stored */
        }
        free(l.v[i].raw);
    }
    free(l.v);
    return rc;
}

uint64_t eventlog_redacted_upto(const struct eventlog *log, const char *member)
{
    const uint64_t *upto = strmap_get(log->redact, member);
    return upto ? *upto : 0;
}

static void *scrub_main(void *arg)
{
    struct eventlog *log = arg;
    /* RocksDB takes the loop's writes meanwhile: the hook only rewrites existing keys. */
    log->scrub_rc =
        log->scrub_fn ? log->scrub_fn(log->store, log->scrub_snapshot, log->scrub_arg) : DS_OK;
    if (log->scrub_rc == DS_OK)
        log->scrub_rc = store_scrub(log->store);
    atomic_store(&log->scrub_done, true);
    return NULL;
}

static bool copy_redaction(const char *member, void *value, void *arg)
{
    uint64_t *v = xmalloc(sizeof(*v));
    *v = *(const uint64_t *)value;
    strmap_put(arg, member, v);
    return true;
}

void eventlog_on_scrub(struct eventlog *log, eventlog_scrub_fn fn, void *arg)
{
    log->scrub_fn = fn;
    log->scrub_arg = arg;
}

bool eventlog_redacts(const struct strmap *redactions, const struct event *ev)
{
    const uint64_t *upto = ev->member[0] ? strmap_get(redactions, ev->member) : NULL;
    return ev->personal_len && upto && ev->hlc <= *upto;
}

/* A finished scrub: its mark is cleared unless a redaction came after it started. */
static int scrub_finish(struct eventlog *log)
{
    pthread_join(log->scrub_thread, NULL);
    log->scrub_running = false;
    strmap_destroy(&log->scrub_snapshot, free);
    int rc = log->scrub_rc;
    if (rc != DS_OK || log->scrub_due != log->scrub_started)
        return rc;
    struct store_batch *b = store_batch_new(log->store);
    struct skey k;
    key_meta(&k, "scrub", NULL);
    store_batch_delete(b, CF_META, &k);
    rc = store_commit(log->store, b);
    store_batch_destroy(&b);
    if (rc == DS_OK) {
        log->scrub_due = 0;
        log_info("eventlog: scrubbed: erased and retired data compacted away");
    }
    return rc;
}

int eventlog_scrub(struct eventlog *log)
{
    int rc = DS_OK;
    if (log->scrub_running && atomic_load(&log->scrub_done))
        rc = scrub_finish(log);
    if (log->scrub_running || !log->scrub_due)
        return rc;
    log->scrub_started = log->scrub_due;
    atomic_store(&log->scrub_done, false);
    log->scrub_snapshot = strmap_new();
    strmap_each(log->redact, copy_redaction, log->scrub_snapshot);
    if (pthread_create(&log->scrub_thread, NULL, scrub_main, log) != 0) {
        strmap_destroy(&log->scrub_snapshot, free);
        log_error("eventlog: cannot start a scrub thread; the next call retries");
        return DS_EIO;
    }
    log->scrub_running = true;
    return rc;
}

bool eventlog_scrub_pending(const struct eventlog *log)
{
    return log->scrub_due != 0 || log->scrub_running;
}

int eventlog_scrub_wait(struct eventlog *log)
{
    int rc = eventlog_scrub(log);
    if (rc == DS_OK && log->scrub_running)
        rc = scrub_finish(log);
    return rc;
}

int eventlog_txn_check(struct eventlog_txn *txn, const struct event *ev, unsigned flags)
{
    int rc = check_stored(txn, ev);
    if (rc != DS_OK)
        return rc;
    if ((flags & EVENTLOG_CONTIGUOUS) && ev->seq != txn_hwm(txn, ev->origin) + 1)
        return DS_ESEQ;
    return DS_OK;
}

/* Takes te (its event opened and owned, as this log keeps it) into txn: the batch's
 * rows, the txn's lookups, the pending hwm and the member's pending letters. */
static void txn_take(struct eventlog_txn *txn, struct txn_event *te)
{
    const struct event *ev = &te->ev;
    uint64_t hwm = txn_hwm(txn, ev->origin);
    if (txn->n == txn->cap) {
        txn->cap = txn->cap ? txn->cap * 2 : 16;
        txn->events = xrealloc(txn->events, txn->cap * sizeof(*txn->events));
    }
    txn->events[txn->n++] = te;
    char id[IDS_EVENT_ID_MAX];
    ids_event_id(id, sizeof(id), ev->origin, ev->seq);
    strmap_put(txn->added, id, te);
    if (ev->seq > hwm) {
        uint64_t *v = xmalloc(sizeof(*v));
        *v = ev->seq;
        free(strmap_put(txn->hwm, ev->origin, v));
    }
    if (ev->hlc > txn->hlc_max)
        txn->hlc_max = ev->hlc;

    struct skey k;
    put_event(txn, ev);
    if (ev->member[0]) {
        txn_track_member(txn, te);
    } else {
        skey_init(&k);
        skey_u64(&k, ev->type);
        key_position(&k, ev->hlc, ev->origin, ev->seq);
        store_batch_put(txn->batch, CF_BY_TYPE, &k, ev->raw, ev->raw_len);
    }
}

int eventlog_txn_add(struct eventlog_txn *txn, const struct event *ev, unsigned flags)
{
    assert(!txn->written);
    int rc = eventlog_txn_check(txn, ev, flags);
    if (rc != DS_OK)
        return rc;
    struct txn_event *te = xcalloc(1, sizeof(*te));
    rc = open_kept(txn, ev->raw, ev->raw_len, &te->ev);
    if (rc != DS_OK) { /* cannot happen for an event that opened once */
        free(te);
        return rc;
    }
    txn_take(txn, te);
    return DS_OK;
}

int eventlog_txn_adopt(struct eventlog_txn *txn, struct event *ev, unsigned flags,
                       const struct event **kept_out)
{
    if (redacts(txn, ev)) { /* kept without its personal part: opened again from the rest */
        int rc = eventlog_txn_add(txn, ev, flags);
        if (rc == DS_OK) {
            wire_event_release(ev);
            if (kept_out)
                *kept_out = &txn->events[txn->n - 1]->ev;
        }
        return rc;
    }
    assert(!txn->written);
    int rc = eventlog_txn_check(txn, ev, flags);
    if (rc != DS_OK)
        return rc;
    if (!ev->raw_owned) { /* the decoded fields are the event's own; the bytes may not be */
        ev->raw_owned = xmemdup(ev->raw, ev->raw_len);
        ev->raw = ev->raw_owned;
    }
    struct txn_event *te = xcalloc(1, sizeof(*te));
    te->ev = *ev;
    memset(ev, 0, sizeof(*ev));
    txn_take(txn, te);
    if (kept_out)
        *kept_out = &te->ev;
    return DS_OK;
}

static int position_cmp(uint64_t ha, const char *oa, uint64_t sa, uint64_t hb, const char *ob,
                        uint64_t sb)
{
    if (ha != hb)
        return ha < hb ? -1 : 1;
    int c = strcmp(oa, ob);
    if (c)
        return c;
    return sa < sb ? -1 : sa > sb ? 1 : 0;
}

static int event_cmp(const void *a, const void *b)
{
    const struct event *x = *(const struct event *const *)a;
    const struct event *y = *(const struct event *const *)b;
    return position_cmp(x->hlc, x->origin, x->seq, y->hlc, y->origin, y->seq);
}

static int txn_event_cmp(const void *a, const void *b)
{
    const struct txn_event *x = *(const struct txn_event *const *)a;
    const struct txn_event *y = *(const struct txn_event *const *)b;
    return position_cmp(x->ev.hlc, x->ev.origin, x->ev.seq, y->ev.hlc, y->ev.origin, y->ev.seq);
}

/* All events of member, stored and pending, as opened events in fold order. The stored
 * ones are loaded into owned copies appended to *owned (caller releases). */
static int collect_member_events(struct eventlog_txn *txn, const char *member,
                                 const struct member_pending *mp, struct event ***all_out,
                                 size_t *n_out, struct event **owned_out, size_t *owned_n)
{
    struct skey prefix;
    skey_init(&prefix);
    skey_str(&prefix, member);
    size_t cap = mp->n + 16, n = 0, on = 0, ocap = 16;
    struct event **all = xmalloc(cap * sizeof(*all));
    struct event *owned = xmalloc(ocap * sizeof(*owned));
    int rc = DS_OK;
    struct store_iter *it = store_iter_new(txn->log->store, CF_BY_MEMBER, &prefix, NULL);
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t rlen = 0;
        const uint8_t *raw = NULL;
        uint8_t *buf = NULL;
        if (index_event(txn->log, it, prefix.n, &raw, &rlen, &buf) != DS_OK) {
            rc = DS_EIO;
            break;
        }
        if (on == ocap) {
            ocap *= 2;
            owned = xrealloc(owned, ocap * sizeof(*owned));
        }
        rc = open_kept(txn, raw, rlen, &owned[on]);
        free(buf);
        if (rc != DS_OK) {
            rc = DS_EIO;
            break;
        }
        on++;
    }
    if (rc == DS_OK)
        rc = store_iter_status(it); /* an I/O error ends a scan early: say so */
    store_iter_destroy(&it);
    if (rc != DS_OK) {
        log_error("eventlog: refold failed member=%s", member);
        for (size_t i = 0; i < on; i++)
            wire_event_release(&owned[i]);
        free(owned);
        free(all);
        return rc;
    }
    /* Pointers into 'owned' are taken only now that it no longer moves. */
    if (on + mp->n > cap) {
        cap = on + mp->n;
        all = xrealloc(all, cap * sizeof(*all));
    }
    for (size_t i = 0; i < on; i++)
        all[n++] = &owned[i];
    for (size_t i = 0; i < mp->n; i++)
        all[n++] = &mp->events[i]->ev;
    qsort(all, n, sizeof(*all), event_cmp);
    *all_out = all;
    *n_out = n;
    *owned_out = owned;
    *owned_n = on;
    return DS_OK;
}

static Dualsync__MemberRecord *refold(struct eventlog_txn *txn, const char *member,
                                      const struct member_pending *mp, struct skey *last_out)
{
    struct event **all = NULL, *owned = NULL;
    size_t n = 0, on = 0;
    if (collect_member_events(txn, member, mp, &all, &n, &owned, &on) != DS_OK)
        return NULL;
    if (n == 0) { /* a dirty mark or forced refold of a member with no event: corrupt */
        log_error("eventlog: no events to refold member=%s", member);
        free(owned);
        free(all);
        return NULL;
    }
    Dualsync__MemberRecord *rec = fold_new(member);
    for (size_t i = 0; i < n; i++)
        fold_apply(&rec, all[i]);
    skey_init(last_out);
    key_position(last_out, all[n - 1]->hlc, all[n - 1]->origin, all[n - 1]->seq);
    for (size_t i = 0; i < on; i++)
        wire_event_release(&owned[i]);
    free(owned);
    free(all);
    return rec;
}

static bool after_position(const struct skey *last, const struct event *ev)
{
    uint64_t hlc, seq;
    char origin[IDS_ORG_MAX];
    if (!parse_position(last->b, last->n, &hlc, origin, &seq))
        return false;
    return position_cmp(ev->hlc, ev->origin, ev->seq, hlc, origin, seq) > 0;
}

struct fold_ctx {
    struct eventlog_txn *txn;
    int rc;
};

/* Applies the pending events (sorted) to *rec; last becomes the position of the last. */
static void fold_pending(Dualsync__MemberRecord **rec, const struct member_pending *mp,
                         struct skey *last)
{
    for (size_t i = 0; i < mp->n; i++)
        fold_apply(rec, &mp->events[i]->ev);
    const struct event *tail = &mp->events[mp->n - 1]->ev;
    skey_init(last);
    key_position(last, tail->hlc, tail->origin, tail->seq);
}

static bool fold_member(const char *member, void *value, void *arg)
{
    struct fold_ctx *ctx = arg;
    struct member_pending *mp = value;
    Dualsync__MemberRecord *rec = NULL;
    struct skey last;

    if (mp->n) /* none: a forced refold (migrate_fold) */
        qsort(mp->events, mp->n, sizeof(*mp->events), txn_event_cmp);
    int rc = member_load(ctx->txn->log, member, &rec, &last);
    if (rc == DS_OK && mp->n && !mp->refold && after_position(&last, &mp->events[0]->ev)) {
        fold_pending(&rec, mp, &last);
    } else if (rc == DS_ENOTFOUND && mp->n && !mp->refold) {
        /* A new member. Its by_member range is empty, so refold would fold exactly these
         * events in this order: every commit that puts a member's by_member keys puts its
         * record in the same batch (or fails whole), and no code deletes a record. The
         * one exception, a deferred fold's dirty member, never gets here: while any
         * member is dirty, commits go through defer_member, which folds only forced
         * refolds (mp->n == 0). */
        rec = fold_new(member);
        fold_pending(&rec, mp, &last);
    } else if (rc == DS_OK || rc == DS_ENOTFOUND) {
        fold_free(&rec);
        rec = refold(ctx->txn, member, mp, &last); /* also: mp->n == 0, a forced refold */
    }
    if (!rec) {
        ctx->rc = DS_EIO;
        return false;
    }
    uint8_t *bytes = NULL;
    size_t len = 0;
    fold_encode(rec, &bytes, &len);
    uint8_t *val = xmalloc(1 + last.n + len);
    val[0] = (uint8_t)last.n;
    memcpy(val + 1, last.b, last.n);
    memcpy(val + 1 + last.n, bytes, len);
    struct skey k;
    skey_init(&k);
    skey_str(&k, member);
    store_batch_put(ctx->txn->batch, CF_MEMBERS, &k, val, 1 + last.n + len);
    free(val);
    free(bytes);
    fold_free(&rec);
    return true;
}

static bool merge_redaction(const char *member, void *value, void *arg)
{
    struct eventlog *log = arg;
    uint64_t *v = xmalloc(sizeof(*v));
    *v = *(const uint64_t *)value;
    free(strmap_put(log->redact, member, v));
    return true;
}

static bool put_hwm(const char *origin, void *value, void *arg)
{
    struct eventlog_txn *txn = arg;
    struct skey k;
    key_meta(&k, "hwm", origin);
    store_batch_put_u64(txn->batch, CF_META, &k, *(uint64_t *)value);
    return true;
}

static bool merge_hwm(const char *origin, void *value, void *arg)
{
    struct eventlog *log = arg;
    uint64_t *v = xmalloc(sizeof(*v));
    *v = *(uint64_t *)value;
    free(strmap_put(log->hwm, origin, v));
    return true;
}

int eventlog_txn_forget_origin(struct eventlog_txn *txn, const char *origin)
{
    struct skey prefix, k;
    int rc = DS_OK;
    skey_init(&prefix);
    skey_str(&prefix, origin);
    struct store_iter *it = store_iter_new(txn->log->store, CF_EVENTS, &prefix, NULL);
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t klen, vlen;
        const uint8_t *key = store_iter_key(it, &klen);
        struct event ev;
        const uint8_t *val = store_iter_value(it, &vlen);
        /* Only org-level events may go: a member's record is folded from its events. */
        bool member_event = true;
        if (wire_event_open(val, vlen, false, &ev) == DS_OK) {
            member_event = ev.member[0] != '\0';
            if (!member_event) { /* its by_type entry goes with it */
                skey_init(&k);
                skey_u64(&k, ev.type);
                key_position(&k, ev.hlc, ev.origin, ev.seq);
                store_batch_delete(txn->batch, CF_BY_TYPE, &k);
            }
            wire_event_release(&ev);
        }
        if (member_event) {
            rc = DS_EINVAL;
            break;
        }
        skey_init(&k);
        skey_bytes(&k, key, klen);
        store_batch_delete(txn->batch, CF_EVENTS, &k);
    }
    if (rc == DS_OK)
        rc = store_iter_status(it); /* an I/O error ends a scan early: say so */
    store_iter_destroy(&it);
    if (rc != DS_OK) {
        log_error("eventlog: refusing to forget origin=%s: it has member events", origin);
        return rc;
    }
    key_meta(&k, "hwm", origin);
    store_batch_delete(txn->batch, CF_META, &k);
    snprintf(txn->forget, sizeof(txn->forget), "%s", origin);
    return DS_OK;
}

/* Deferred mode: marks a member with new events dirty instead of folding it; a forced
 * refold (no events: settling, migrate_fold) still folds, and clears the mark. */
static bool defer_member(const char *member, void *value, void *arg)
{
    struct fold_ctx *ctx = arg;
    const struct member_pending *mp = value;
    struct skey k;
    key_meta(&k, "dirty", member);
    if ((mp->n == 0 && !mp->stripped) || mp->refold) { /* a redaction folds now */
        store_batch_delete(ctx->txn->batch, CF_META, &k);
        return fold_member(member, value, arg);
    }
    if (!strmap_get(ctx->txn->log->dirty, member))
        store_batch_put(ctx->txn->batch, CF_META, &k, "", 0);
    return true;
}

/* After a durable commit: the dirty set follows what the batch wrote. */
static bool note_dirty(const char *member, void *value, void *arg)
{
    const struct member_pending *mp = value;
    struct eventlog *log = arg;
    if ((mp->n || mp->stripped) && !mp->refold)
        strmap_put(log->dirty, member, DIRTY);
    else
        strmap_remove(log->dirty, member);
    return true;
}

static bool tell_member(const char *member, void *value, void *arg)
{
    (void)value;
    const struct eventlog *log = arg;
    log->member_fn(member, log->member_arg);
    return true;
}

void eventlog_on_member_change(struct eventlog *log, eventlog_member_fn fn, void *arg)
{
    log->member_fn = fn;
    log->member_arg = arg;
}

int eventlog_txn_write(struct eventlog_txn *txn)
{
    struct eventlog *log = txn->log;
    assert(!txn->written);
    uint64_t start_ns = log->mono_ns(log->mono_arg);
    struct fold_ctx ctx = {txn, DS_OK};
    bool defer = txn->log->defer_folds || strmap_count(txn->log->dirty);
    strmap_each(txn->members, defer ? defer_member : fold_member, &ctx);
    int rc = ctx.rc;
    if (rc == DS_OK) {
        strmap_each(txn->hwm, put_hwm, txn);
        if (txn->hlc_max > txn->log->hlc_max)
            eventlog_txn_put_meta_u64(txn, "hlc", txn->hlc_max);
        rc = txn->n ? fault_before_commit(txn->n) : DS_OK; /* off unless a test arms it */
        if (rc == DS_OK)
            rc = store_commit(txn->log->store, txn->batch);
    }
    if (rc == DS_OK) {
        if (txn->forget[0])
            free(strmap_remove(txn->log->hwm, txn->forget));
        strmap_each(txn->hwm, merge_hwm, txn->log);
        if (txn->hlc_max > txn->log->hlc_max)
            txn->log->hlc_max = txn->hlc_max;
        if (defer)
            strmap_each(txn->members, note_dirty, txn->log);
        strmap_each(txn->redact, merge_redaction, txn->log);
        txn->log->scrub_due += strmap_count(txn->redact) > 0 || txn->scrub;
        if (log->member_fn)
            strmap_each(txn->members, tell_member, log);
    }
    txn->written = true;
    uint64_t end_ns = log->mono_ns(log->mono_arg);
    hist_add(&log->commits, end_ns > start_ns ? end_ns - start_ns : 0);
    return rc;
}

int eventlog_commit(struct eventlog_txn **txnp)
{
    int rc = eventlog_txn_write(*txnp);
    eventlog_abort(txnp);
    return rc;
}

bool eventlog_txn_raw(const struct eventlog_txn *txn, const char *origin, uint64_t seq,
                      const uint8_t **raw_out, size_t *len_out)
{
    char id[IDS_EVENT_ID_MAX];
    ids_event_id(id, sizeof(id), origin, seq);
    const struct txn_event *te = strmap_get(txn->added, id);
    if (!te)
        return false;
    *raw_out = te->ev.raw;
    *len_out = te->ev.raw_len;
    return true;
}

uint64_t eventlog_generation(const struct eventlog *log)
{
    return log->commits.count;
}

void eventlog_rest(struct eventlog *log, uint64_t now_ms)
{
    if (log->rest_generation != log->commits.count || log->rest_since_ms == 0 ||
        now_ms < log->rest_since_ms) {
        /* busy since the last call (or the wall clock stepped back): idle from now */
        log->rest_generation = log->commits.count;
        log->rest_since_ms = now_ms;
        log->rest_trimmed = false;
        return;
    }
    if (log->rest_trimmed || now_ms - log->rest_since_ms < EVENTLOG_REST_AFTER_MS)
        return;
    uint64_t sst = 0, mem = 0;
    if (store_size(log->store, &sst, &mem) != DS_OK)
        return;
    if (mem > EVENTLOG_REST_MEMTABLE_BYTES) {
        if (!log->rest_flushing && store_flush_async(log->store) == DS_OK) {
            log->rest_flushing = true;
            log_info("eventlog: idle for %u s, flushing %llu bytes of memtables",
                     EVENTLOG_REST_AFTER_MS / 1000u, (unsigned long long)mem);
        }
        return; /* trimmed once the flush has freed them */
    }
    /* Once per quiet spell: what the memtables held, and what large reads left (their
     * replies are freed by libzmq's thread after the control socket's own trim). */
    log->rest_flushing = false;
    log->rest_trimmed = true;
    store_drop_cache(log->store);
    txn_free(log->spare); /* its tables and buffers: up to a few MiB after a large commit */
    log->spare = NULL;
    malloc_trim(0);
}

const struct hist *eventlog_commits(const struct eventlog *log)
{
    return &log->commits;
}

void eventlog_set_clock(struct eventlog *log, uint64_t (*mono_ns)(void *arg), void *arg)
{
    log->mono_ns = mono_ns;
    log->mono_arg = arg;
}

void eventlog_defer_folds(struct eventlog *log)
{
    log->defer_folds = true;
}

size_t eventlog_dirty_count(const struct eventlog *log)
{
    return strmap_count(log->dirty);
}

/* Refolds members from the log in one transaction, clearing their dirty marks. */
static int settle_members(struct eventlog *log, char **members, size_t n)
{
    struct eventlog_txn *txn = eventlog_begin(log);
    for (size_t i = 0; i < n; i++)
        strmap_put(txn->members, members[i], xcalloc(1, sizeof(struct member_pending)));
    int rc = eventlog_commit(&txn);
    if (rc != DS_OK)
        log_error("eventlog: cannot refold %zu deferred member records", n);
    return rc;
}

struct settle_pick {
    char *names[SETTLE_CHUNK];
    size_t n, want;
};

static bool pick_dirty(const char *member, void *value, void *arg)
{
    (void)value;
    struct settle_pick *pick = arg;
    pick->names[pick->n++] = xstrdup(member);
    return pick->n < pick->want;
}

/* How many members the next settling transaction takes: what is left of max, at most
 * SETTLE_CHUNK, and what fits in left_ns at the last pace (SETTLE_FIRST before any). */
static size_t settle_want(const struct eventlog *log, size_t left, uint64_t left_ns)
{
    size_t want = left < SETTLE_CHUNK ? left : SETTLE_CHUNK;
    if (left_ns == EVENTLOG_NO_BUDGET)
        return want;
    uint64_t fit = log->settle_pace_ns ? left_ns / log->settle_pace_ns : SETTLE_FIRST;
    if (fit < want)
        want = fit ? (size_t)fit : 1;
    return want;
}

int eventlog_settle(struct eventlog *log, size_t max, uint64_t budget_ns, size_t *settled_out)
{
    size_t done = 0;
    int rc = DS_OK;
    uint64_t start = log->mono_ns(log->mono_arg), now = start;
    while (rc == DS_OK && done < max && strmap_count(log->dirty) && now - start < budget_ns) {
        uint64_t left_ns = budget_ns == EVENTLOG_NO_BUDGET ? budget_ns : budget_ns - (now - start);
        struct settle_pick pick = {.n = 0, .want = settle_want(log, max - done, left_ns)};
        strmap_each(log->dirty, pick_dirty, &pick); /* names copied: the commit edits the map */
        rc = settle_members(log, pick.names, pick.n);
        uint64_t end = log->mono_ns(log->mono_arg);
        if (rc == DS_OK) {
            done += pick.n;
            uint64_t pace = (end > now ? end - now : 0) / pick.n;
            log->settle_pace_ns = pace ? pace : 1; /* 0 would mean "not yet known" */
        }
        now = end;
        for (size_t i = 0; i < pick.n; i++)
            free(pick.names[i]);
    }
    if (settled_out)
        *settled_out = done;
    return rc;
}
