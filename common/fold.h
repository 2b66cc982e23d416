/* fold: the member record as a pure function of the member's events.
 * Events are applied in (hlc, origin, seq) order; the same set of events gives the same
 * record byte for byte, whatever order they arrived in. The canonical encoding is the
 * protobuf-c packing of Dualsync__MemberRecord (fields in number order, repeated fields in
 * fold order, no maps), and the digest is BLAKE2b-256 of it.
 * The record is the shared record of one registration: the introducing unit and the
 * residence community. Only their events count (single writer: the unit writes the
 * introduction, visits, opinions, notices, difficulties and handling; the community the
 * report-in, card, groups, teams, attendance, feedback and replies). A registration
 * closes by the unit's move-out or release or the community's return/revoke; after that
 * nothing changes it, and the next introduction starts a fresh record, because the new
 * side holds none of the old events. Events from anyone else (a stale or refused route)
 * are ignored, not even counted, so every holder of the registration folds the same.
 * Whose member it is: until a report-in names an introduction, another unit's introduction
 * of the member is a claim (`claims`, each folded as the registration it would be); the
 * community's letters other than the report-in and a return wait for that report-in
 * (`confirmed`); a report-in naming a claim's letter makes the claim the record.
 * A correction (更正) changes fields of its author's own earlier letter; a withdrawal (撤回)
 * takes its author's letter out of the record (a withdrawn report-in unsets `reported`);
 * both come after their target in fold order, since the author wrote the target first.
 * The record's unit may erase the member (member-erase): every personal field is cleared
 * (claims dropped) and the record is frozen; letters after it in fold order change nothing,
 * so every holder folds the same record whether or not it still has their personal parts. */
#ifndef DUALSYNC_FOLD_H
#define DUALSYNC_FOLD_H

#include "keys.h"
#include "wire.h"

#include <stdint.h>

/* Bumped whenever fold_apply changes what a record holds: stored records are then refolded
 * from the log when the process opens (eventlog_open). */
#define FOLD_VERSION 4u

/* Other units' introductions of one member kept as claims at most (the broker refuses the
 * next one, so both sides keep the same). */
#define FOLD_CLAIMS_MAX 8

/* A fresh record for member. Caller owns; free with fold_free. */
Dualsync__MemberRecord *fold_new(const char *member);
void fold_free(Dualsync__MemberRecord **recp);

/* Applies one event (already validated by rules_check) to the record. An introduction
 * after a closed registration replaces *recp by a fresh record. */
void fold_apply(Dualsync__MemberRecord **recp, const struct event *ev);

/* Whether the record holds the letter event_id: its introduction, its report-in, or an
 * entry (feedback, handling, attendance, opinion, notice, visit, difficulty). A withdrawn
 * letter, or one of an earlier registration, is not held. */
bool fold_holds(const Dualsync__MemberRecord *rec, const char *event_id);

/* Canonical bytes of the record; *out is malloc'd (caller frees). */
void fold_encode(const Dualsync__MemberRecord *rec, uint8_t **out, size_t *len_out);

/* Decodes canonical bytes; NULL if they do not decode. Free with fold_free. */
Dualsync__MemberRecord *fold_decode(const uint8_t *data, size_t len);

/* Digest of the canonical bytes, and its lower-case hex (out size >= 65). */
void fold_digest(const Dualsync__MemberRecord *rec, uint8_t out[KEYS_DIGEST_LEN]);
void fold_digest_hex(const Dualsync__MemberRecord *rec, char *out);
/* The digest of the record with every personal field empty (claims kept, theirs empty
 * too): what a holder without the letters' personal parts folds, a hub that carried them
 * (broker/links.c). Equal on every side of a member that holds the same letters. */
void fold_clear_digest_hex(const Dualsync__MemberRecord *rec, char *out);

#endif
