/* fold: the member record as a pure function of the member's events.
 * Events are applied in (hlc, origin, seq) order; the same set of events gives the same
 * record byte for byte, whatever order they arrived in. The canonical encoding is the
 * protobuf-c packing of Dualsync__MemberRecord (fields in number order, repeated fields in
 * fold order, no maps), and the digest is BLAKE2b-256 of it.
 * Field ownership follows single-writer: the unit's events write name, unit, introduction;
 * the community's events write report-in, card and feedback; handling results come from
 * the unit. An event from an org that is not the member's current side is counted but
 * does not change fields (it can only come from a stale route). */
#ifndef DUALSYNC_FOLD_H
#define DUALSYNC_FOLD_H

#include "keys.h"
#include "wire.h"

#include <stdint.h>

/* A fresh record for member. Caller owns; free with fold_free. */
Dualsync__MemberRecord *fold_new(const char *member);
void fold_free(Dualsync__MemberRecord **recp);

/* Applies one event (already validated by rules_check) to the record. */
void fold_apply(Dualsync__MemberRecord *rec, const struct event *ev);

/* Canonical bytes of the record; *out is malloc'd (caller frees). */
void fold_encode(const Dualsync__MemberRecord *rec, uint8_t **out, size_t *len_out);

/* Decodes canonical bytes; NULL if they do not decode. Free with fold_free. */
Dualsync__MemberRecord *fold_decode(const uint8_t *data, size_t len);

/* Digest of the canonical bytes, and its lower-case hex (out size >= 65). */
void fold_digest(const Dualsync__MemberRecord *rec, uint8_t out[KEYS_DIGEST_LEN]);
void fold_digest_hex(const Dualsync__MemberRecord *rec, char *out);

#endif
