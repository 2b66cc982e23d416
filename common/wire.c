/* wire: protobuf-c glue. Decoding is where hostile bytes first meet typed data, so every
 * decode is bounded (size checked before unpack) and followed by syntax checks of the
 * fields that later code will trust (ids, lengths). protobuf-c keeps unknown fields of a
 * decoded message, but we never re-encode events anyway: the raw bytes are the record. */
#include "wire.h"

#include "err.h"
#include "personal.h"
#include "xalloc.h"

#include <stdio.h>
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
    uint8_t sig[KEYS_SIG_LEN], hash[KEYS_DIGEST_LEN];
    uint8_t *env = NULL, *clear = NULL, *pers = NULL;
    size_t env_len = 0, clear_len = 0, pers_len = 0;

    ev.origin = (char *)origin;
    ev.seq = seq;
    ev.hlc = hlc;
    ev.member = (char *)(member ? member : "");
    ev.schema = WIRE_SCHEMA_SPLIT;
    ev.type = type;
    ev.body.data = (uint8_t *)body;
    ev.body.len = body_len;
    ev.to = (char **)to;
    ev.n_to = n_to;
    if (member && member[0] &&
        personal_split(type, body, body_len, &clear, &clear_len, &pers, &pers_len) == DS_OK &&
        pers_len) {
        ev.body.data = clear;
        ev.body.len = clear_len;
        keys_digest(pers, pers_len, hash);
        ev.personal_hash.data = hash;
        ev.personal_hash.len = sizeof(hash);
        se.personal.data = pers;
        se.personal.len = pers_len;
    }
    wire_pack(&ev.base, &env, &env_len);
    keys_sign(keys, env, env_len, sig);
    se.event.data = env;
    se.event.len = env_len;
    se.sig.data = sig;
    se.sig.len = sizeof(sig);
    wire_pack(&se.base, raw_out, len_out);
    free(env);
    free(clear);
    free(pers);
}

void wire_event_strip(const struct event *ev, uint8_t **raw_out, size_t *len_out)
{
    Dualsync__SignedEvent se = DUALSYNC__SIGNED_EVENT__INIT;
    se.event.data = (uint8_t *)ev->envelope;
    se.event.len = ev->envelope_len;
    se.sig.data = (uint8_t *)ev->sig;
    se.sig.len = KEYS_SIG_LEN;
    wire_pack(&se.base, raw_out, len_out);
}

bool wire_event_same(const struct event *a, const struct event *b)
{
    return a->envelope_len == b->envelope_len &&
           memcmp(a->envelope, b->envelope, a->envelope_len) == 0 &&
           memcmp(a->sig, b->sig, KEYS_SIG_LEN) == 0;
}

/* The personal part, if any, must be the one the signed bytes name (its hash), and only
 * member letters have one. The body the rest of the code reads is both parts joined. */
static int personal_check(struct event *ev)
{
    const ProtobufCBinaryData *hash = &ev->msg->personal_hash;
    const ProtobufCBinaryData *pers = &ev->signed_msg->personal;
    if (!hash->len)
        return pers->len ? DS_EINVAL : DS_OK;
    if (hash->len != KEYS_DIGEST_LEN || !ev->member[0])
        return DS_EINVAL;
    if (!pers->len) {
        ev->redacted = true;
        return DS_OK;
    }
    uint8_t got[KEYS_DIGEST_LEN];
    keys_digest(pers->data, pers->len, got);
    if (memcmp(got, hash->data, KEYS_DIGEST_LEN) != 0)
        return DS_EAUTH; /* not what the origin signed: tampered, as a bad signature is */
    ev->personal = pers->data;
    ev->personal_len = pers->len;
    ev->body_owned = xmalloc(ev->body_len + pers->len);
    if (ev->body_len)
        memcpy(ev->body_owned, ev->body, ev->body_len);
    memcpy(ev->body_owned + ev->body_len, pers->data, pers->len);
    ev->body = ev->body_owned;
    ev->body_len += pers->len;
    return DS_OK;
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
    return personal_check(ev);
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
    free(ev->body_owned);
    memset(ev, 0, sizeof(*ev));
}

bool wire_event_id(const uint8_t *raw, size_t len, char origin[IDS_ORG_MAX], uint64_t *seq)
{
    Dualsync__SignedEvent *se =
        len <= WIRE_EVENT_MAX ? dualsync__signed_event__unpack(NULL, len, raw) : NULL;
    Dualsync__Event *m = se ? dualsync__event__unpack(NULL, se->event.len, se->event.data) : NULL;
    bool ok = m && ids_org_valid(m->origin);
    if (ok) {
        snprintf(origin, IDS_ORG_MAX, "%s", m->origin);
        *seq = m->seq;
    }
    if (m)
        dualsync__event__free_unpacked(m, NULL);
    if (se)
        dualsync__signed_event__free_unpacked(se, NULL);
    return ok;
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
WIRE_UNPACKER(wire_unpack_street_figures, Dualsync__StreetFigures, street_figures)
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
