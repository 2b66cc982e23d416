#ifndef DUALSYNC_BROKER_RECEIPTS_H
#define DUALSYNC_BROKER_RECEIPTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct broker;
struct inbox_ref;
struct peer;

/* receipts.c: how far each recipient has applied its inbox (persisted), the receipts
 * that gives each origin (highest seq of the origin each recipient applied), and when
 * entries arrived in each inbox (in memory), for the lag of an org. */
struct receipts;
struct receipts *receipts_new(void);
void receipts_destroy(struct receipts **rp);
/* org said (HELLO cursor, CONFIRM) it applied its inbox up to upto. */
void receipts_confirmed(struct broker *b, const char *org, uint64_t upto);
/* org's cursor as the broker knows it: what it said since the broker started, else what
 * was counted before (0 for an org never heard of). */
uint64_t receipts_cursor(struct broker *b, const char *org);
/* Entries first .. first + n - 1 (refs) entered org's inbox at now_ms (inbox_commit_heads).
 * They are kept in memory until they are walked, so that the walk need not read them back
 * from the store; past the bounds below, and for entries older than the broker's start,
 * it does. */
void receipts_arrived(struct broker *b, const char *org, uint64_t first,
                      const struct inbox_ref *refs, size_t n, uint64_t now_ms);
/* The bounds of the kept entries (16 bytes each): per recipient, and in all (one pool, in
 * chunks of 32 entries, to which a walk gives back what it counted). */
#define RECEIPTS_KEPT_PER_RECIPIENT 1024u
#define RECEIPTS_KEPT_TOTAL 524288u
/* A lower bound in all, from now on: the tests reach it with a few entries. */
void receipts_limit_kept(struct broker *b, size_t entries);
/* How long org's oldest entry beyond its cursor has waited at the street (0 when none
 * waits); an entry older than the broker's start is dated by its hlc. DS_OK, DS_EIO. */
int receipts_lag_ms(struct broker *b, const char *org, uint64_t head, uint64_t now_ms,
                    uint64_t *lag_out);
/* A recipient's receipts move at most this long after its confirmation (a few of its
 * entries wait; a recipient quiet for this long is walked at its next tick). */
#define RECEIPTS_WALK_MS 3000u
/* How often what the ticks counted is stored: saving rewrites each moved origin's whole
 * list, so once per interval rather than once per tick; a crash loses at most this much
 * of the walk, which the recipients' next HELLOs walk again. */
#define RECEIPTS_SAVE_MS 10000u
/* Counts what recipients confirmed since the last tick, stores it when RECEIPTS_SAVE_MS
 * have passed since the last save (a hub: every time, with what its walk dropped), and
 * sends each connected origin the receipts that moved. */
void receipts_tick(struct broker *b);
/* The same, storing what was counted now (the broker stopping). */
void receipts_save(struct broker *b);
/* Sends p's org all its receipts (after WELCOME). */
void receipts_send(struct broker *b, struct peer *p);
/* With a PONG: all of p's org's receipts again when RECEIPTS_MEND_MS have passed since they
 * were last sent whole, which mends a Receipts frame lost with its connection within that
 * time; a PONG each heartbeat carrying the whole list was a street's worth of entries per
 * org per second. */
#define RECEIPTS_MEND_MS 10000u
void receipts_mend(struct broker *b, struct peer *p);
/* origin's receipts as {recipient: upto}. */
json_t *receipts_json(struct broker *b, const char *origin);

#endif
