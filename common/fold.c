/* fold: a record is a Dualsync__MemberRecord whose strings and arrays are heap-allocated,
 * exactly as protobuf-c's unpack would allocate them, so one free_unpacked releases a
 * record whether it was decoded from the store or built here. */
#include "fold.h"

#include "ids.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

static void set_str(char **field, const char *value)
{
    if (*field && *field != protobuf_c_empty_string)
        free(*field);
    *field = xstrdup(value);
}

Dualsync__MemberRecord *fold_new(const char *member)
{
    Dualsync__MemberRecord *rec = xmalloc(sizeof(*rec));
    dualsync__member_record__init(rec);
    set_str(&rec->member, member);
    return rec;
}

void fold_free(Dualsync__MemberRecord **recp)
{
    if (*recp)
        dualsync__member_record__free_unpacked(*recp, NULL);
    *recp = NULL;
}

static void apply_introduction(Dualsync__MemberRecord *rec, const struct event *ev)
{
    Dualsync__Introduction *b = wire_unpack_introduction(ev->body, ev->body_len);
    char id[IDS_EVENT_ID_MAX];
    if (!b)
        return;
    /* A new residence community starts a new registration: what the old community
     * recorded does not carry over. */
    if (strcmp(rec->community, b->community) != 0) {
        rec->reported = false;
        set_str(&rec->report_date, "");
        set_str(&rec->occupation, "");
        set_str(&rec->willingness, "");
        set_str(&rec->rest_time, "");
    }
    ids_event_id(id, sizeof(id), ev->origin, ev->seq);
    set_str(&rec->name, b->name);
    set_str(&rec->unit, ev->origin);
    set_str(&rec->community, b->community);
    set_str(&rec->intro_date, b->date);
    set_str(&rec->intro_id, id);
    rec->report_days = b->report_days;
    wire_msg_free(b);
}

static bool from_community(const Dualsync__MemberRecord *rec, const struct event *ev)
{
    return strcmp(rec->community, ev->origin) == 0;
}

static bool from_unit(const Dualsync__MemberRecord *rec, const struct event *ev)
{
    return strcmp(rec->unit, ev->origin) == 0;
}

static void apply_report_in(Dualsync__MemberRecord *rec, const struct event *ev)
{
    Dualsync__ReportIn *b = wire_unpack_report_in(ev->body, ev->body_len);
    if (!b)
        return;
    rec->reported = true;
    set_str(&rec->report_date, b->date);
    wire_msg_free(b);
}

static void apply_card(Dualsync__MemberRecord *rec, const struct event *ev)
{
    Dualsync__RegistrationCard *b = wire_unpack_registration_card(ev->body, ev->body_len);
    if (!b)
        return;
    set_str(&rec->occupation, b->occupation);
    set_str(&rec->willingness, b->willingness);
    set_str(&rec->rest_time, b->rest_time);
    wire_msg_free(b);
}

static void apply_feedback(Dualsync__MemberRecord *rec, const struct event *ev)
{
    Dualsync__Feedback *b = wire_unpack_feedback(ev->body, ev->body_len);
    char id[IDS_EVENT_ID_MAX];
    if (!b)
        return;
    Dualsync__FeedbackEntry *e = xmalloc(sizeof(*e));
    dualsync__feedback_entry__init(e);
    ids_event_id(id, sizeof(id), ev->origin, ev->seq);
    set_str(&e->event_id, id);
    set_str(&e->text, b->text);
    e->year = b->year;
    e->rating = b->rating;
    e->non_participation = b->non_participation;
    e->hlc = ev->hlc;
    rec->feedback = xrealloc(rec->feedback, (rec->n_feedback + 1) * sizeof(*rec->feedback));
    rec->feedback[rec->n_feedback++] = e;
    wire_msg_free(b);
}

static void apply_handling(Dualsync__MemberRecord *rec, const struct event *ev)
{
    Dualsync__HandlingResult *b = wire_unpack_handling_result(ev->body, ev->body_len);
    char id[IDS_EVENT_ID_MAX], fid[IDS_EVENT_ID_MAX];
    if (!b)
        return;
    Dualsync__HandlingEntry *e = xmalloc(sizeof(*e));
    dualsync__handling_entry__init(e);
    ids_event_id(id, sizeof(id), ev->origin, ev->seq);
    ids_event_id(fid, sizeof(fid), b->feedback_origin, b->feedback_seq);
    set_str(&e->event_id, id);
    set_str(&e->feedback_id, fid);
    set_str(&e->text, b->text);
    e->action = b->action;
    e->hlc = ev->hlc;
    rec->handling = xrealloc(rec->handling, (rec->n_handling + 1) * sizeof(*rec->handling));
    rec->handling[rec->n_handling++] = e;
    wire_msg_free(b);
}

void fold_apply(Dualsync__MemberRecord *rec, const struct event *ev)
{
    rec->events++;
    if (ev->hlc > rec->last_hlc)
        rec->last_hlc = ev->hlc;
    switch (ev->type) {
    case DUALSYNC__EVENT_TYPE__EVENT_INTRODUCTION:
        apply_introduction(rec, ev);
        break;
    case DUALSYNC__EVENT_TYPE__EVENT_REPORT_IN:
        if (from_community(rec, ev))
            apply_report_in(rec, ev);
        break;
    case DUALSYNC__EVENT_TYPE__EVENT_REGISTRATION_CARD:
        if (from_community(rec, ev))
            apply_card(rec, ev);
        break;
    case DUALSYNC__EVENT_TYPE__EVENT_FEEDBACK:
        if (from_community(rec, ev))
            apply_feedback(rec, ev);
        break;
    case DUALSYNC__EVENT_TYPE__EVENT_HANDLING_RESULT:
        if (from_unit(rec, ev))
            apply_handling(rec, ev);
        break;
    default:
        break; /* unknown or org-level: counted, no field changes */
    }
}

void fold_encode(const Dualsync__MemberRecord *rec, uint8_t **out, size_t *len_out)
{
    wire_pack(&rec->base, out, len_out);
}

Dualsync__MemberRecord *fold_decode(const uint8_t *data, size_t len)
{
    return wire_unpack_member_record(data, len);
}

void fold_digest(const Dualsync__MemberRecord *rec, uint8_t out[KEYS_DIGEST_LEN])
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    fold_encode(rec, &bytes, &len);
    keys_digest(bytes, len, out);
    free(bytes);
}

void fold_digest_hex(const Dualsync__MemberRecord *rec, char *out)
{
    uint8_t d[KEYS_DIGEST_LEN];
    fold_digest(rec, d);
    keys_hex(d, sizeof(d), out);
}
