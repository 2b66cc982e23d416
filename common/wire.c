/* wire: protobuf-c glue. Decoding is where hostile bytes first meet typed data, so every
 * decode is bounded (size checked before unpack) and followed by syntax checks of the
 * fields that later code will trust (ids, lengths). protobuf-c keeps unknown fields of a
 * decoded message, but we never re-encode events anyway: the raw bytes are the record. */
#include "wire.h"

#include "err.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

void wire_pack(const ProtobufCMessage *msg, uint8_t **out, size_t *len_out)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = xmalloc(len ? len : 1);
    protobuf_c_message_pack(msg, buf);
    *out = buf;
    *len_out = len;
}

void wire_event_build(const struct keys *keys, const char *origin, uint64_t seq, uint64_t hlc,
                      const char *member, uint32_t type, const uint8_t *body, size_t body_len,
                      uint8_t **raw_out, size_t *len_out)
{
    wire_event_build_to(keys, origin, seq, hlc, member, type, body, body_len, NULL, 0, raw_out,
                        len_out);
}

void wire_event_build_to(const struct keys *keys, const char *origin, uint64_t seq, uint64_t hlc,
                         const char *member, uint32_t type, const uint8_t *body, size_t body_len,
                         char *const *to, size_t n_to, uint8_t **raw_out, size_t *len_out)
{
    Dualsync__Event ev = DUALSYNC__EVENT__INIT;
    Dualsync__SignedEvent se = DUALSYNC__SIGNED_EVENT__INIT;
    uint8_t sig[KEYS_SIG_LEN];
    uint8_t *env = NULL;
    size_t env_len = 0;

    ev.origin = (char *)origin;
    ev.seq = seq;
    ev.hlc = hlc;
    ev.member = (char *)(member ? member : "");
    ev.schema = 1;
    ev.type = type;
    ev.body.data = (uint8_t *)body;
    ev.body.len = body_len;
    ev.to = (char **)to;
    ev.n_to = n_to;
    wire_pack(&ev.base, &env, &env_len);
    keys_sign(keys, env, env_len, sig);
    se.event.data = env;
    se.event.len = env_len;
    se.sig.data = sig;
    se.sig.len = sizeof(sig);
    wire_pack(&se.base, raw_out, len_out);
    free(env);
}

static int event_check(struct event *ev)
{
    Dualsync__Event *m = ev->msg;
    if (!ids_org_valid(m->origin) || m->seq == 0 || m->hlc == 0)
        return DS_EINVAL;
    if (m->member[0] != '\0' && !ids_member_valid(m->member))
        return DS_EINVAL;
    if (ev->signed_msg->sig.len != KEYS_SIG_LEN)
        return DS_EINVAL;
    strcpy(ev->origin, m->origin);
    strcpy(ev->member, m->member);
    ev->seq = m->seq;
    ev->hlc = m->hlc;
    ev->schema = m->schema;
    ev->type = m->type;
    ev->body = m->body.data;
    ev->body_len = m->body.len;
    ev->envelope = ev->signed_msg->event.data;
    ev->envelope_len = ev->signed_msg->event.len;
    ev->sig = ev->signed_msg->sig.data;
    return DS_OK;
}

int wire_event_open(const uint8_t *raw, size_t len, bool copy, struct event *ev_out)
{
    struct event ev;
    int rc;

    memset(&ev, 0, sizeof(ev));
    if (len == 0 || len > WIRE_EVENT_MAX)
        return DS_EINVAL;
    ev.signed_msg = dualsync__signed_event__unpack(NULL, len, raw);
    if (!ev.signed_msg)
        return DS_EPROTO;
    ev.msg = dualsync__event__unpack(NULL, ev.signed_msg->event.len, ev.signed_msg->event.data);
    if (!ev.msg) {
        rc = DS_EPROTO;
        goto fail;
    }
    rc = event_check(&ev);
    if (rc != DS_OK)
        goto fail;
    if (copy) {
        ev.raw_owned = xmemdup(raw, len);
        raw = ev.raw_owned;
    }
    ev.raw = raw;
    ev.raw_len = len;
    *ev_out = ev;
    return DS_OK;
fail:
    wire_event_release(&ev);
    return rc;
}

void wire_event_release(struct event *ev)
{
    if (ev->msg)
        dualsync__event__free_unpacked(ev->msg, NULL);
    if (ev->signed_msg)
        dualsync__signed_event__free_unpacked(ev->signed_msg, NULL);
    free(ev->raw_owned);
    memset(ev, 0, sizeof(*ev));
}

bool wire_event_verify(const struct event *ev, const uint8_t pub[KEYS_PUB_LEN])
{
    return keys_verify(pub, ev->envelope, ev->envelope_len, ev->sig);
}

Dualsync__Frame *wire_frame_unpack(const uint8_t *data, size_t len)
{
    if (len > WIRE_FRAME_MAX)
        return NULL;
    Dualsync__Frame *f = dualsync__frame__unpack(NULL, len, data);
    if (f && f->kind_case == DUALSYNC__FRAME__KIND__NOT_SET) {
        dualsync__frame__free_unpacked(f, NULL);
        return NULL;
    }
    return f;
}

void wire_frame_free(Dualsync__Frame *frame)
{
    if (frame)
        dualsync__frame__free_unpacked(frame, NULL);
}

#define WIRE_UNPACKER(fn, type, lower)                                                             \
    type *fn(const uint8_t *d, size_t n)                                                           \
    {                                                                                              \
        return dualsync__##lower##__unpack(NULL, n, d);                                            \
    }

WIRE_UNPACKER(wire_unpack_directory_entry, Dualsync__DirectoryEntry, directory_entry)
WIRE_UNPACKER(wire_unpack_introduction, Dualsync__Introduction, introduction)
WIRE_UNPACKER(wire_unpack_report_in, Dualsync__ReportIn, report_in)
WIRE_UNPACKER(wire_unpack_registration_card, Dualsync__RegistrationCard, registration_card)
WIRE_UNPACKER(wire_unpack_feedback, Dualsync__Feedback, feedback)
WIRE_UNPACKER(wire_unpack_handling_result, Dualsync__HandlingResult, handling_result)
WIRE_UNPACKER(wire_unpack_member_record, Dualsync__MemberRecord, member_record)
WIRE_UNPACKER(wire_unpack_ctl_request, Dualsync__CtlRequest, ctl_request)
WIRE_UNPACKER(wire_unpack_ctl_reply, Dualsync__CtlReply, ctl_reply)

ProtobufCMessage *wire_unpack_body(const ProtobufCMessageDescriptor *desc, const uint8_t *d,
                                   size_t n)
{
    return protobuf_c_message_unpack(desc, NULL, n, d);
}

void wire_msg_free(void *msg)
{
    if (msg)
        protobuf_c_message_free_unpacked(msg, NULL);
}
