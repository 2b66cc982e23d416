/* inbox: one ordered sequence of entries per recipient org, their durable heads, and
 * delivery within the credit window and the connection's send budget. */
#ifndef DUALSYNC_BROKER_INBOX_H
#define DUALSYNC_BROKER_INBOX_H

#include "eventlog.h"
#include "ids.h"
#include "store.h"
#include "strmap.h"
#include "wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct broker;
struct peer;

/* The inbox's state, owned by inbox.c: each org's head (a cache of meta "head/<org>") and
 * the street's own events once read (every node takes the same cards). */
struct inbox;

struct inbox *inbox_new(void);
void inbox_destroy(struct inbox **ip);

uint64_t inbox_head(struct broker *b, const char *org);
/* The inbox's part of a broker transaction: btxn.c calls these, in the order btxn.h gives;
 * everything else appends with btxn_append. inbox_append puts the entry (a reference to
 * the event origin/seq) and keeps it, and org's new head, in pending_heads (org -> struct
 * inbox_pending *, freed with inbox_pending_free); inbox_stage_heads puts each new head into
 * txn once; inbox_commit_heads moves them in memory (and pumps) once txn is written
 * (eventlog_txn_write), delivering the entries and letters it wrote from memory rather
 * than from the store. */
struct inbox_pending;
/* What an inbox entry holds: a reference to the event (origin, seq). */
struct inbox_ref {
    char origin[IDS_ORG_MAX];
    uint64_t seq;
};
void inbox_pending_free(void *ip);
/* A transaction's pending_heads map, and its return when the transaction ends. The inbox
 * keeps one returned map, emptied, for the next transaction, as the event log keeps its
 * transaction: at the whole city's year freeing each commit's table (4,096 slots for 2,500
 * orgs), and glibc consolidating its free lists on that free, was 2.5% of the loop; about
 * a point net is saved (docs/BENCHMARKS.md, "A transaction's heads kept"). Several may be
 * out at once; the extra ones are freed. */
struct strmap *inbox_pending_take(struct broker *b);
void inbox_pending_give(struct broker *b, struct strmap **pending_heads);
uint64_t inbox_pending_head(const struct inbox_pending *ip);
void inbox_append(struct broker *b, struct eventlog_txn *txn, struct strmap *pending_heads,
                  const char *org, const char *origin, uint64_t seq);
void inbox_stage_heads(struct broker *b, struct eventlog_txn *txn, struct strmap *pending_heads);
void inbox_commit_heads(struct broker *b, struct strmap *pending_heads,
                        const struct eventlog_txn *written);
/* The hlc of the event at org's inbox seq (one point read; a street event from memory once
 * read), for the age of what waits. DS_OK, DS_ENOTFOUND (no such entry), DS_EIO (logged). */
int inbox_entry_hlc(struct broker *b, const char *org, uint64_t seq, uint64_t *hlc_out);
/* The inbox's part of an erasure's scrub (eventlog_on_scrub): entries of an older store
 * that carry a letter whose personal part was redacted are rewritten without it. Runs on the
 * scrub's thread: it reads and writes the store only (entries are never rewritten by the loop). */
int inbox_scrub(struct store *s, const struct strmap *redactions, void *arg);
/* The directory stream of p's connection: a HELLO's cursor (the node has every entry up to
 * that street seq; a cursor past the head is taken as the head), and a CONFIRM's
 * (false when it is past what was sent: a malformed CONFIRM). */
void inbox_directory_resume(struct broker *b, struct peer *p, uint64_t cursor);
bool inbox_directory_confirmed(struct peer *p, uint64_t upto);
/* Sends what the windows and the peer's send budget allow to a welcomed peer: the
 * directory entries after its cursor first, then its inbox. A few entries held by a
 * commit to many recipients wait while a DELIVER is unconfirmed: its CONFIRM sends them,
 * in one frame with those committed meanwhile. */
void inbox_pump(struct broker *b, struct peer *p);
/* The same, with one frame sent even while one is unconfirmed: after a CONFIRM that moved
 * nothing (the node's heartbeat), so that a DELIVER lost on the way shows the node a gap
 * at once instead of holding the inbox until the node resyncs. */
void inbox_pump_unheld(struct broker *b, struct peer *p);
/* Forgets the letters held for the CONFIRMs of DELIVERs in flight (they are read from the
 * store when sent): after an erasure, whose letters must leave without their personal
 * part. */
void inbox_drop_tails(struct broker *b);
/* The send budget of p's connection: forget it (a new connection), release what a CONFIRM
 * (or a HELLO's cursor) up to upto shows read, and whether more than half of it is in
 * flight (a peer asking for a resend then is not reading: its connection is closed). */
void inbox_sent_reset(struct peer *p);
void inbox_sent_confirmed(struct peer *p, uint64_t upto);
bool inbox_sent_over_half(const struct peer *p);
void inbox_pump_all(struct broker *b);

#endif
