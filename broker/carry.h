/* carry: what a hub keeps of the letters it carries between streets. A hub (`init --hub`)
 * has no orgs of its own: every letter it stores is another street's, on its way to a
 * third. It keeps each one whole only until every street it was passed to has it: the
 * street's broker CONFIRMs its inbox here, receipts.c walks the confirmed entries, and
 * when the last of a letter's entries is walked its personal part is dropped
 * (eventlog_txn_strip, in the walk's own commit). What stays is the signed clear part, so
 * the hub still deduplicates, detects forks and folds the record with its personal fields
 * empty (fold_clear_digest_hex). RocksDB forgets the dropped bytes at the next scrub,
 * which a hub asks for once the walk has been quiet a while or a minute has passed, not
 * after every walk (a scrub compacts the whole store).
 *   meta "carry/<origin>/<seq>": streets the letter still goes to (u64)
 *   meta "carry_unscrubbed":     parts were dropped since the last scrub was asked for
 * A letter a hub stores and passes to nobody loses its part at once. */
#ifndef DUALSYNC_BROKER_CARRY_H
#define DUALSYNC_BROKER_CARRY_H

#include "eventlog.h"

#include <jansson.h>
#include <stdint.h>

struct broker;
struct btxn;
struct strmap;

/* The walk quiet this long, or this long since the last, and a scrub is asked for. */
#define CARRY_SCRUB_QUIET_MS 2000u
#define CARRY_SCRUB_EVERY_MS 60000u

struct carry;
struct carry *carry_new(void);
void carry_destroy(struct carry **cp);
/* At open: whether dropped parts still wait for a scrub. DS_OK, DS_EIO. */
int carry_load(struct broker *b);

/* btxn_append on a hub: the letter (origin, seq) entered one more street's inbox. */
void carry_appended(struct btxn *t, const char *origin, uint64_t seq);
/* btxn_commit, before the write: each letter's count of streets it still goes to. */
int carry_stage(struct btxn *t);
/* relay on a hub: the letter just stored goes to no street; its part is dropped now. */
int carry_nowhere(struct btxn *t, const char *origin, uint64_t seq);

/* The receipts walk on a hub, of a street's confirmed inbox entry (origin, seq), in txn:
 * one street fewer to go; at none, the letter's part is dropped. counts (origin/seq ->
 * the walk's own state, free()d with the map) holds what the walk changed so far;
 * carry_walked stages it and says how many parts it dropped. DS_OK, DS_EIO. */
int carry_delivered(struct broker *b, struct eventlog_txn *txn, struct strmap *counts,
                    const char *origin, uint64_t seq);
uint64_t carry_walked(struct eventlog_txn *txn, struct strmap *counts);
/* After a commit that dropped n parts (btxn_commit, the walk's). */
void carry_dropped(struct broker *b, uint64_t n);

/* Every heartbeat: asks for a scrub when parts were dropped and the walk is quiet. */
void carry_tick(struct broker *b);
/* For status: parts dropped since the start, whether a scrub waits for them. */
json_t *carry_json(const struct broker *b);

#endif
