/* personal: the personal fields of member letters (issue 11, item 5), and the split of a
 * body into clear and personal records by field number. The split works on the wire
 * format, not on decoded messages, so it never re-encodes a field: each record is copied
 * byte for byte to one side or the other. */
#include "personal.h"

#include "dualsync.pb-c.h"
#include "err.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

#define T(x) DUALSYNC__EVENT_TYPE__EVENT_##x

struct personal_rule {
    uint32_t type;
    const ProtobufCMessageDescriptor *body;
    const char *fields; /* comma separated */
};

/* What names, reaches or describes the person: the name and contacts, the card's
 * contents, and every free text a clerk writes about the member (a summary can name a
 * relative, an illness, an address). Dates, ids, enums, codes and counts stay clear:
 * routing, reports and the fold's bookkeeping read them. */
static const struct personal_rule personal_rules[] = {
    {T(INTRODUCTION), &dualsync__introduction__descriptor, "name,contact"},
    {T(REGISTRATION_CARD), &dualsync__registration_card__descriptor,
     "occupation,willingness,rest_time,skills,categories,contact"},
    {T(FEEDBACK), &dualsync__feedback__descriptor, "text"},
    {T(HANDLING_RESULT), &dualsync__handling_result__descriptor, "text"},
    {T(REGISTRATION_CLOSE), &dualsync__registration_close__descriptor, "text"},
    {T(UNIT_RELEASE), &dualsync__unit_release__descriptor, "text"},
    {T(OPINION_REQUEST), &dualsync__opinion_request__descriptor, "subject"},
    {T(OPINION_REPLY), &dualsync__opinion_reply__descriptor, "text"},
    {T(PUBLIC_NOTICE), &dualsync__public_notice__descriptor, "title,matter"},
    {T(NOTICE_RESPONSE), &dualsync__notice_response__descriptor, "text"},
    {T(UNIT_VISIT), &dualsync__unit_visit__descriptor, "text"},
    {T(DIFFICULTY), &dualsync__difficulty__descriptor, "text"},
    {T(DIFFICULTY_RESOLVED), &dualsync__difficulty_resolved__descriptor, "text"},
    {T(CORRECTION), &dualsync__correction__descriptor, "reason,name,contact,text"},
    {T(WITHDRAWAL), &dualsync__withdrawal__descriptor, "reason"},
};

static const struct personal_rule *rule_of(uint32_t type)
{
    for (size_t i = 0; i < sizeof(personal_rules) / sizeof(personal_rules[0]); i++)
        if (personal_rules[i].type == type)
            return &personal_rules[i];
    return NULL;
}

static bool listed(const char *list, const char *field)
{
    size_t n = strlen(field);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && memcmp(p, field, n) == 0)
            return true;
        p += len + (end != NULL);
    }
    return false;
}

bool personal_field(uint32_t type, const char *field)
{
    const struct personal_rule *r = rule_of(type);
    return r && listed(r->fields, field);
}

static bool personal_number(const struct personal_rule *r, uint32_t number)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(r->body, (unsigned)number);
    return f && listed(r->fields, f->name);
}

/* Reads a base-128 varint at *pos (at most 10 bytes); false past the end or too long. */
static bool read_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64 && *pos < len; shift += 7) {
        uint8_t byte = p[(*pos)++];
        v |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* The end of the record starting at pos, and its field number; false if malformed. */
static bool record_end(const uint8_t *p, size_t len, size_t pos, size_t *end_out,
                       uint32_t *number_out)
{
    uint64_t tag = 0, n = 0;
    if (!read_varint(p, len, &pos, &tag) || (tag >> 3) == 0 || (tag >> 3) > UINT32_MAX)
        return false;
    switch (tag & 7) {
    case 0: /* varint */
        if (!read_varint(p, len, &pos, &n))
            return false;
        break;
    case 1: /* 64-bit */
        n = 8;
        goto fixed;
    case 5: /* 32-bit */
        n = 4;
        goto fixed;
    case 2: /* length-delimited */
        if (!read_varint(p, len, &pos, &n))
            return false;
    fixed:
        if (n > len - pos)
            return false;
        pos += (size_t)n;
        break;
    default: /* groups (3, 4) are not used by proto3 */
        return false;
    }
    *end_out = pos;
    *number_out = (uint32_t)(tag >> 3);
    return true;
}

int personal_split(uint32_t type, const uint8_t *body, size_t len, uint8_t **clear_out,
                   size_t *clear_len, uint8_t **personal_out, size_t *personal_len)
{
    const struct personal_rule *r = rule_of(type);
    uint8_t *clear = len ? xmalloc(len) : NULL, *pers = len ? xmalloc(len) : NULL;
    size_t cn = 0, pn = 0;
    for (size_t pos = 0, end = 0; pos < len; pos = end) {
        uint32_t number = 0;
        if (!record_end(body, len, pos, &end, &number)) {
            free(clear);
            free(pers);
            return DS_EINVAL;
        }
        bool personal = r && personal_number(r, number);
        memcpy(personal ? pers + pn : clear + cn, body + pos, end - pos);
        *(personal ? &pn : &cn) += end - pos;
    }
    if (!cn) {
        free(clear);
        clear = NULL;
    }
    if (!pn) {
        free(pers);
        pers = NULL;
    }
    *clear_out = clear;
    *clear_len = cn;
    *personal_out = pers;
    *personal_len = pn;
    return DS_OK;
}
