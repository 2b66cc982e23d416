/* wire: every protobuf pack and unpack of dualsync happens here (the generated structs
 * may be read anywhere). It owns three encodings:
 *   - the signed event: build (encode + sign) and open (decode + syntax checks);
 *   - frames between node and broker;
 *   - event bodies and stored records (generic pack, typed unpack).
 * An opened event keeps pointers to the exact bytes it came from, so the log stores and
 * forwards what the origin signed, never a re-encoding. */
#ifndef DUALSYNC_WIRE_H
#define DUALSYNC_WIRE_H

#include "dualsync.pb-c.h"
#include "ids.h"
#include "keys.h"

#include <stddef.h>
#include <stdint.h>

#define WIRE_EVENT_MAX (64u * 1024u) /* bytes of one SignedEvent */
/* Bytes of one frame. A frame holds at most WIRE_FRAME_BUDGET of events plus the one that
 * crossed it (up to WIRE_EVENT_MAX) and the framing: 2 MiB leaves room. It was 8 MiB, and
 * the broker queues up to TRANSPORT_SERVER_RCVHWM frames per connection: every megabyte
 * here is 32 per connection an attacker holding a key could make the broker buffer. */
#define WIRE_FRAME_MAX (2u * 1024u * 1024u)
#define WIRE_EVENTS_PER_FRAME 1024u
/* Senders stop adding events to a frame past this many bytes, so that a frame of large
 * events (unknown types may be up to WIRE_EVENT_MAX) stays well under WIRE_FRAME_MAX.
 * 1 MiB is 3,000 letters, more than the 256 a node puts in a frame. */
#define WIRE_FRAME_BUDGET (1024u * 1024u)
/* 2: the directory is a stream of its own (Directory frames, Hello.directory_cursor,
 * Deliver.directory_needed); a node of version 1 would miss every org added after it. */
#define WIRE_PROTO_VERSION 2u
/* Event.schema of the letters built now: 2 carries a member letter's personal fields
 * beside the signed bytes (SignedEvent.personal); 1, before, inside them. */
#define WIRE_SCHEMA_SPLIT 2u

/* A decoded, syntax-checked event. The strings are copies; the byte pointers borrow from
 * the decoded messages and stay valid until wire_event_release(). */
struct event {
    char origin[IDS_ORG_MAX];
    char member[IDS_MEMBER_MAX + 1]; /* "" for org-level events */
    uint64_t seq;
    uint64_t hlc;
    uint32_t schema;
    uint32_t type;
    const uint8_t *body; /* the whole body: the signed clear part and the personal part */
    size_t body_len;
    const uint8_t *personal; /* the personal part (SignedEvent.personal), NULL if none */
    size_t personal_len;
    bool redacted;           /* the letter had a personal part, and it was dropped */
    const uint8_t *envelope; /* the signed Event bytes */
    size_t envelope_len;
    const uint8_t *sig;
    const uint8_t *raw; /* the whole SignedEvent, as received or built */
    size_t raw_len;
    Dualsync__SignedEvent *signed_msg; /* owned */
    Dualsync__Event *msg;              /* owned */
    uint8_t *raw_owned;                /* owned when the event holds its own raw copy */
    uint8_t *body_owned;               /* owned when body joins two parts */
};

/* Encodes an Event, signs it with keys, and returns the SignedEvent bytes in *raw_out
 * (malloc'd, caller frees) and their length in *len_out. */
void wire_event_build(const struct keys *keys, const char *origin, uint64_t seq, uint64_t hlc,
                      const char *member, uint32_t type, const uint8_t *body, size_t body_len,
                      uint8_t **raw_out, size_t *len_out);

/* The same, for an org-level event addressed to the orgs in to[0..n_to). A member letter's
 * personal fields (common/personal.h) go into SignedEvent.personal, bound by their hash. */
void wire_event_build_to(const struct keys *keys, const char *origin, uint64_t seq, uint64_t hlc,
                         const char *member, uint32_t type, const uint8_t *body, size_t body_len,
                         char *const *to, size_t n_to, uint8_t **raw_out, size_t *len_out);

/* Decodes raw SignedEvent bytes (borrowed; they must outlive *ev unless copy is true, in
 * which case the event keeps its own copy) and checks syntax: sizes, origin and member
 * ids, seq >= 1, signature length, and that a personal part matches its hash. It does not verify
 * the signature or the author side. DS_OK (release with wire_event_release), DS_EPROTO (does not
 * decode), DS_EINVAL (syntax), DS_EAUTH (a personal part other than the one the signed bytes name:
 * tampered). */
int wire_event_open(const uint8_t *raw, size_t len, bool copy, struct event *ev_out);
void wire_event_release(struct event *ev);

/* The SignedEvent without its personal part (malloc'd, caller frees): what a holder keeps
 * once the member's personal fields are erased or retired. It verifies and identifies the
 * event as the full one does. */
void wire_event_strip(const struct event *ev, uint8_t **raw_out, size_t *len_out);

/* Whether a and b are the same event: the same signed bytes and signature. With or
 * without a personal part (bound by its hash in the signed bytes) an event is itself. */
bool wire_event_same(const struct event *a, const struct event *b);

/* The (origin, seq) of raw SignedEvent bytes that do not open, for a log line: false when
 * even the signed bytes do not decode to a valid id. */
bool wire_event_id(const uint8_t *raw, size_t len, char origin[IDS_ORG_MAX], uint64_t *seq);

/* Checks the Ed25519 signature against the origin's public key. */
bool wire_event_verify(const struct event *ev, const uint8_t pub[KEYS_PUB_LEN]);

/* Packs any generated message. *out is malloc'd (caller frees). */
void wire_pack(const ProtobufCMessage *msg, uint8_t **out, size_t *len_out);

/* Frames. Unpack returns NULL for bytes that do not decode or carry no known kind;
 * free with wire_frame_free (NULL-safe). */
Dualsync__Frame *wire_frame_unpack(const uint8_t *data, size_t len);
void wire_frame_free(Dualsync__Frame *frame);

/* Typed unpack of bodies and records; NULL if the bytes do not decode. Free with
 * wire_msg_free (NULL-safe). */
Dualsync__DirectoryEntry *wire_unpack_directory_entry(const uint8_t *d, size_t n);
Dualsync__Introduction *wire_unpack_introduction(const uint8_t *d, size_t n);
Dualsync__ReportIn *wire_unpack_report_in(const uint8_t *d, size_t n);
Dualsync__RegistrationCard *wire_unpack_registration_card(const uint8_t *d, size_t n);
Dualsync__Feedback *wire_unpack_feedback(const uint8_t *d, size_t n);
Dualsync__HandlingResult *wire_unpack_handling_result(const uint8_t *d, size_t n);
Dualsync__MemberRecord *wire_unpack_member_record(const uint8_t *d, size_t n);
Dualsync__StreetFigures *wire_unpack_street_figures(const uint8_t *d, size_t n);
Dualsync__CtlRequest *wire_unpack_ctl_request(const uint8_t *d, size_t n);
Dualsync__CtlReply *wire_unpack_ctl_reply(const uint8_t *d, size_t n);
/* Any body by its descriptor (the rule table names each type's descriptor). */
ProtobufCMessage *wire_unpack_body(const ProtobufCMessageDescriptor *desc, const uint8_t *d,
                                   size_t n);
void wire_msg_free(void *msg);

#endif
