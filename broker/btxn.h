/* btxn: one broker transaction. Everything the broker changes for one batch of work (a
 * wake-up's PUBLISH frames, a directory change, a street event) goes through one btxn:
 * the event log's write batch, the route overlay (routes changed in this batch, read
 * before the store's), and the inbox heads the batch moves. The order that keeps a restart
 * safe lives here and only here:
 *   1. append events and inbox entries (btxn_append*, routing_* with t);
 *   2. put every moved inbox head into the same write batch;
 *   3. commit (one fsync);
 *   4. only then move the heads in memory, which is what lets entries be delivered (from
 *      the written batch itself, which stays readable until the btxn ends), and the
 *      street's count of open claims.
 * A batch committed without step 2 would leave the durable heads behind, and after a
 * restart new entries would overwrite delivered ones; a head moved in memory before step 3
 * would deliver entries a crash could still lose. */
#ifndef DUALSYNC_BTXN_H
#define DUALSYNC_BTXN_H

#include "eventlog.h"
#include "wire.h"

#include <stdbool.h>
#include <stdint.h>

struct broker;
struct route_overlay;
struct strmap;

struct btxn {
    struct broker *b;
    struct eventlog_txn *log;     /* the write batch */
    struct route_overlay *routes; /* routes changed in this batch (routing.c) */
    struct strmap *heads;         /* org -> struct inbox_pending *: its entries and new head */
    struct strmap *carries;       /* a hub's: origin/seq -> streets added (carry.h), or NULL */
    uint64_t dropped;             /* a hub's: personal parts this batch dropped (carry.h) */
};

/* Starts t on b's log. Every btxn_begin is ended by exactly one btxn_commit or btxn_abort. */
void btxn_begin(struct broker *b, struct btxn *t);
/* Appends to org's inbox a pointer to the event (origin, seq), stored or added in t; for
 * another street's org, to the inbox of the linked broker it is reached through (links.h),
 * which a hub counts (carry.h). */
void btxn_append(struct btxn *t, const char *org, const char *origin, uint64_t seq);
/* Steps 2–4 above. DS_OK; or the commit's error (DS_EIO), and then nothing of t is
 * stored and no head moved. Ends t either way. */
int btxn_commit(struct btxn *t);
/* Drops everything t holds; nothing is written. Harmless on an ended t. */
void btxn_abort(struct btxn *t);

#endif
