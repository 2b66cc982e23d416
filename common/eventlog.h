/* eventlog: the durable, append-only event log of one process, on store (RocksDB).
 *   events     (origin, seq)              -> SignedEvent bytes, verbatim
 *   by_member  (member, hlc, origin, seq) -> "": a reference, the bytes are in events
 *                                            (stores of 2026-11-29..12-04 carry them)
 *   members    member                     -> last folded position + MemberRecord
 *   by_type    (type, hlc, origin, seq)   -> the event's bytes: org-level events (lists,
 *                                            tasks), each list one range scan
 *   meta       "hwm" origin               -> highest seq stored from origin
 *              "fold_version"             -> FOLD_VERSION the member records were folded with
 *              "type_index"               -> 1 once older org-level events were indexed
 *              "dirty" member             -> "" while member's record waits for a refold
 *              "redact" member            -> hlc: member's events up to it are kept without
 *                                            their personal part (erasure, retention)
 *              "scrub"                    -> "" while a redaction waits for eventlog_scrub
 * Writes happen in transactions: a transaction collects events and any other puts the
 * caller adds to its batch (cursors, inbox entries, routes), refolds the touched members
 * at commit, and writes everything in one WriteBatch. kill -9 at any instant leaves either
 * all of it or none of it.
 * Identity is (origin, seq): adding a stored event again is a no-op (DS_EEXIST); the same
 * (origin, seq) with other bytes is a fork (DS_EFORK), never taken as a duplicate.
 * One handle, one thread. */
#ifndef DUALSYNC_EVENTLOG_H
#define DUALSYNC_EVENTLOG_H

#include "hist.h"
#include "store.h"
#include "strmap.h"
#include "wire.h"

#include <stdbool.h>
#include <stdint.h>

struct eventlog;
struct eventlog_txn;

/* Opens the log under dir (the RocksDB directory itself). On DS_OK *log_out is owned by
 * the caller (eventlog_destroy). DS_EIO (logged), DS_EAGAIN (locked by another process). */
int eventlog_open(const char *dir, enum store_durability durability, struct eventlog **log_out);
/* Opens the log for reading only (store_open_read_only), for a CLI whose daemon is not
 * running. The records are read as stored: DS_EAGAIN when they need the daemon first
 * (folded by an older version, or refolds pending). A transaction's commit fails. */
int eventlog_open_read_only(const char *dir, struct eventlog **log_out);
void eventlog_destroy(struct eventlog **logp);

/* The underlying store, for the caller's own column families (inbox, routes, orgs).
 * Borrowed for the life of the log. */
struct store *eventlog_store(struct eventlog *log);

/* Highest seq stored from origin (0 when none). For the broker, which takes every origin's
 * events contiguously, it is also "stored up to". */
uint64_t eventlog_hwm(const struct eventlog *log, const char *origin);

/* Highest hlc of any stored event (0 when empty): a restarted clock starts past it. */
uint64_t eventlog_hlc_max(const struct eventlog *log);

/* Reads the verbatim bytes of (origin, seq). DS_OK with *raw_out malloc'd (caller frees),
 * DS_ENOTFOUND, DS_EIO. */
int eventlog_get_raw(struct eventlog *log, const char *origin, uint64_t seq, uint8_t **raw_out,
                     size_t *len_out);

/* The bytes of n events in one read of the store (store_multi_get): raws[i] malloc'd (the
 * caller frees each) and lens[i]. DS_OK when every one was read; else DS_ENOTFOUND or
 * DS_EIO and raws[i] NULL for each one missing. */
int eventlog_get_raws(struct eventlog *log, size_t n, const char *const *origins,
                      const uint64_t *seqs, uint8_t **raws, size_t *lens);

/* The bytes of origin's events from seq `from` on, in one range read of the store (one
 * seek, then the next keys; not a point read each): into out[0..], each out[i].data
 * malloc'd (the caller frees each), until `max` events, the first seq not stored, or the
 * event that brings their bytes to max_bytes (that one included, as a frame's budget is
 * counted). DS_OK with *n_out events (0 when `from` is not stored), or DS_EIO (*n_out
 * still counts those read, for the caller to free). */
int eventlog_origin_run(struct eventlog *log, const char *origin, uint64_t from, size_t max,
                        size_t max_bytes, ProtobufCBinaryData *out, size_t *n_out);

/* The folded record of member. DS_OK with *rec_out owned by the caller (fold_free),
 * DS_ENOTFOUND, DS_EIO. */
int eventlog_member(struct eventlog *log, const char *member, Dualsync__MemberRecord **rec_out);

/* Visits every member record in member order; stop early by returning false. */
int eventlog_members_each(struct eventlog *log,
                          bool (*fn)(const Dualsync__MemberRecord *rec, void *arg), void *arg);

/* Visits the events of member in fold order. */
int eventlog_member_events(struct eventlog *log, const char *member,
                           bool (*fn)(const struct event *ev, void *arg), void *arg);

/* Visits the org-level events (no member) of one type in (hlc, origin, seq) order. */
int eventlog_type_events(struct eventlog *log, uint32_t type,
                         bool (*fn)(const struct event *ev, void *arg), void *arg);

/* Meta values (cursors, ids). */
int eventlog_meta_u64(struct eventlog *log, const char *name, uint64_t dflt, uint64_t *out);
int eventlog_meta_get(struct eventlog *log, const char *name, void **val_out, size_t *len_out);

enum eventlog_add_flags {
    EVENTLOG_CONTIGUOUS = 1 << 0, /* require seq == hwm(origin) + 1 (broker, own events) */
};

/* Starts a transaction. Caller owns it until eventlog_commit or eventlog_abort. */
struct eventlog_txn *eventlog_begin(struct eventlog *log);

/* What eventlog_txn_add would answer, without adding anything. */
int eventlog_txn_check(struct eventlog_txn *txn, const struct event *ev, unsigned flags);

/* Adds an opened, already verified event. DS_OK: stored at commit. DS_EEXIST: the same
 * bytes are stored (or added earlier in this txn); nothing added. DS_EFORK: other bytes
 * under the same id; nothing added. DS_ESEQ: contiguity required and broken. DS_EIO. */
int eventlog_txn_add(struct eventlog_txn *txn, const struct event *ev, unsigned flags);

/* The same for an event the caller opened and hands over: on DS_OK it belongs to txn (*ev
 * is left empty; *kept_out, if not NULL, is the event as txn keeps it, valid until the txn
 * ends), so it is not decoded a second time; on any other answer *ev is the caller's as
 * before. */
int eventlog_txn_adopt(struct eventlog_txn *txn, struct event *ev, unsigned flags,
                       const struct event **kept_out);

/* Events added so far in this transaction. */
size_t eventlog_txn_count(const struct eventlog_txn *txn);

/* The transaction's batch, for the caller's own puts in the same atomic write. */
struct store_batch *eventlog_txn_batch(struct eventlog_txn *txn);
void eventlog_txn_put_meta_u64(struct eventlog_txn *txn, const char *name, uint64_t v);
void eventlog_txn_put_meta(struct eventlog_txn *txn, const char *name, const void *v, size_t len);

/* Drops every stored event of origin and its high-water mark, in this transaction. Only
 * for org-level origins (the street's directory log, which a broker that lost its disk
 * writes anew); DS_EINVAL, nothing dropped, if origin has any member event. Do not add
 * events of origin in the same transaction. */
int eventlog_txn_forget_origin(struct eventlog_txn *txn, const char *origin);

/* Personal data (docs/ARCHITECTURE.md, "Retention and erasure"). Drops the personal part
 * (SignedEvent.personal) of every event of member with hlc <= upto, stored or added in this
 * transaction, and keeps it dropped from events of member up to upto added later; the
 * record is refolded from what remains at commit. The events keep their ids, signatures
 * and hashes, so they still verify, deduplicate and detect forks. *count_out (may be NULL)
 * says how many events lost a part. DS_OK or DS_EIO. RocksDB still holds the old bytes
 * until eventlog_scrub. */
int eventlog_txn_redact_member(struct eventlog_txn *txn, const char *member, uint64_t upto,
                               size_t *count_out);
/* Drops the personal part of the one event (origin, seq), stored or added in txn: what a
 * hub keeps of a letter it carried once every broker it went to has it (broker/links.c).
 * Unlike a redaction it leaves no mark, so a later copy of the same letter is kept whole.
 * Only with deferred folds: the member is marked dirty and refolded from the bare bytes.
 * *stripped_out says whether a part was dropped. DS_OK, DS_ENOTFOUND (not stored),
 * DS_EINVAL (folds not deferred), DS_EIO. */
int eventlog_txn_strip(struct eventlog_txn *txn, const char *origin, uint64_t seq,
                       bool *stripped_out);
/* Marks the store for a scrub (eventlog_scrub) when txn commits: a caller that dropped
 * bytes by eventlog_txn_strip decides how often RocksDB must forget them. */
void eventlog_txn_mark_scrub(struct eventlog_txn *txn);
/* Visits member's events with an hlc above after, stored or added in txn before this
 * call, in fold order (hlc, origin, seq): the letters that came before an older one that
 * changes what they mean (broker/routing.c, a release that arrives late). Each is
 * opened from a copy, so fn may add to txn. DS_OK, or DS_EIO. */
int eventlog_txn_member_events_after(struct eventlog_txn *txn, const char *member, uint64_t after,
                                     bool (*fn)(const struct event *ev, void *arg), void *arg);
/* The hlc up to which member's events are kept without their personal part: 0 for none,
 * UINT64_MAX for an erasure (all of them, for good), an hlc for a retirement. */
uint64_t eventlog_redacted_upto(const struct eventlog *log, const char *member);
/* After a commit that redacted (even before a crash and restart): makes the store forget
 * the dropped bytes (store_scrub: flush, WAL, forced bottommost compaction) on a thread of
 * its own, so the caller's loop goes on; a later call collects it and clears the mark (or
 * starts another, for redactions committed meanwhile). A no-op when nothing waits, so a
 * daemon calls it on every tick. DS_OK or DS_EIO (the next call retries). */
int eventlog_scrub(struct eventlog *log);
/* The owner's part of a scrub, for column families of its own that hold event bytes (the
 * broker's inbox): called on the scrub's thread before the compaction, with the
 * redactions as they stood when it started (member -> uint64_t *upto; eventlog_redacts
 * reads them). It may only rewrite existing keys, with its own batches. DS_OK or DS_EIO. */
typedef int (*eventlog_scrub_fn)(struct store *s, const struct strmap *redactions, void *arg);
void eventlog_on_scrub(struct eventlog *log, eventlog_scrub_fn fn, void *arg);
/* Whether ev's personal part falls under one of redactions. */
bool eventlog_redacts(const struct strmap *redactions, const struct event *ev);
/* Whether a redaction waits for its scrub, or one is running. */
bool eventlog_scrub_pending(const struct eventlog *log);
/* The same as eventlog_scrub, then waits for the scrub to finish (tests, tools). */
int eventlog_scrub_wait(struct eventlog *log);

/* Deferred folds (for the broker): from now on a commit marks touched members dirty
 * (meta "dirty" member, in the same batch) instead of refolding their records, and a
 * record is refolded from the log when it is read (eventlog_member, eventlog_members_each)
 * or settled. Any process opening the store honours marks left by another. */
void eventlog_defer_folds(struct eventlog *log);
/* Refolds up to max dirty members (in transactions of at most 1,024), clearing their
 * marks, and starts no transaction once budget_ns has passed (EVENTLOG_NO_BUDGET: none).
 * Each transaction takes as many members as fit in what is left of the budget at the pace
 * the previous ones went (at least one; a first call starts with a few), so a process
 * that settles while idle is back to its work soon even when every refold reads from
 * disk. *settled_out (may be NULL) says how many. DS_OK or DS_EIO. */
#define EVENTLOG_NO_BUDGET UINT64_MAX
int eventlog_settle(struct eventlog *log, size_t max, uint64_t budget_ns, size_t *settled_out);
/* Members whose records wait for a refold. */
size_t eventlog_dirty_count(const struct eventlog *log);

/* Refolds the touched members, writes everything atomically and ends the transaction
 * (*txnp = NULL either way). DS_OK or DS_EIO (nothing written). */
int eventlog_commit(struct eventlog_txn **txnp);
/* Ends the transaction, writing nothing; *txnp = NULL. An ended transaction is emptied and
 * kept (with its tables and buffers) for the log's next eventlog_begin. */
void eventlog_abort(struct eventlog_txn **txnp);
/* The same write without ending the transaction: it keeps its events readable through
 * eventlog_txn_raw until eventlog_abort ends it, and takes no more. The broker delivers
 * what it just stored from there instead of reading each letter back from the store. */
int eventlog_txn_write(struct eventlog_txn *txn);
/* The bytes of (origin, seq) as this transaction stores them (without a personal part
 * its redactions drop), borrowed from txn: true if it was added here, false if not. */
bool eventlog_txn_raw(const struct eventlog_txn *txn, const char *origin, uint64_t seq,
                      const uint8_t **raw_out, size_t *len_out);

/* Called after each durable commit, once for every member whose record that commit
 * rewrote (or marked for a deferred refold), with the member's id (borrowed for the
 * call). A reader that keeps figures per member (node/annual.c) rereads only those. One
 * listener; NULL removes it. */
typedef void (*eventlog_member_fn)(const char *member, void *arg);
void eventlog_on_member_change(struct eventlog *log, eventlog_member_fn fn, void *arg);

/* A number that changes with every commit (a failed one too): what a reader computed from
 * the log at one generation still holds while the generation is the same (node/tasks.c
 * keeps its list between calls this way). */
uint64_t eventlog_generation(const struct eventlog *log);

/* Gives memory back while the daemon is idle; call it every tick with the time (ms). Once
 * nothing was committed for EVENTLOG_REST_AFTER_MS, memtables holding more than
 * EVENTLOG_REST_MEMTABLE_BYTES are flushed in the background, and once that flush has
 * ended the block cache is emptied, the transaction kept for the next eventlog_begin is
 * freed, and the freed heap goes back to the OS (malloc_trim, once per quiet spell). After
 * an import of 100,000 letters a unit's node otherwise kept ~40 MB of memtables while
 * doing nothing. Cheap when there is nothing to do (one RocksDB property read, or none). */
#define EVENTLOG_REST_AFTER_MS 30000u
#define EVENTLOG_REST_MEMTABLE_BYTES ((uint64_t)4 << 20)
void eventlog_rest(struct eventlog *log, uint64_t now_ms);

/* Commit latency, for `status` and /metrics: every eventlog_commit since the open (a
 * failed one too) is timed on the monotonic clock, from its call to its return, folds and
 * fsync included, and counted in the histogram's fixed buckets. */
const struct hist *eventlog_commits(const struct eventlog *log);
/* Tests only: the clock commits are timed with (nanoseconds, monotonic), instead of
 * CLOCK_MONOTONIC. */
void eventlog_set_clock(struct eventlog *log, uint64_t (*mono_ns)(void *arg), void *arg);

#endif
