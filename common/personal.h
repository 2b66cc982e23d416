/* personal: which fields of a member letter are personal data, and how a letter's body is
 * split so that those fields can be dropped without breaking the signature.
 *
 * A member letter (an event with a member id) of a type listed in personal.c travels as
 * two encodings of its body message: the clear part (ids, dates, enums, counts — what
 * routing, reports and the fold's bookkeeping read) inside the signed Event, and the
 * personal part (names, contacts, card contents, free texts) beside it in the
 * SignedEvent, bound by its BLAKE2b hash in the Event. Both are records of the protobuf
 * wire format, so the whole body is the clear part followed by the personal part: a
 * decoder reads the concatenation as one message. Dropping the personal part (erasure,
 * retention) leaves an event that still verifies and whose bytes still identify it.
 * Pure functions, no I/O; any thread. */
#ifndef DUALSYNC_PERSONAL_H
#define DUALSYNC_PERSONAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether field (a body field name, e.g. "contact") of a member letter of type is
 * personal. Unknown types and org-level letters have no personal field. */
bool personal_field(uint32_t type, const char *field);

/* Splits body (the encoding of type's body message) into its clear records and its
 * personal records, each malloc'd (caller frees; NULL with length 0 when empty).
 * DS_OK, or DS_EINVAL when body is not well-formed protobuf wire format (nothing
 * allocated). A type with no personal field gives the whole body as clear. */
int personal_split(uint32_t type, const uint8_t *body, size_t len, uint8_t **clear_out,
                   size_t *clear_len, uint8_t **personal_out, size_t *personal_len);

#endif
