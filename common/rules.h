/* rules: the catalogue of event types — what each one is, which side may author it,
 * whether it is about a member or about an org, how the broker routes it, and which body
 * fields it needs. Single writer per field: every known type has exactly one authoring
 * side, and every receiver (broker and node) checks it; a correction or withdrawal may
 * come from either side, and touches only its own author's letter (fold.c). Unknown types (from
 * newer peers) pass with no side check: they are stored and forwarded, and the fold ignores them.
 */
#ifndef DUALSYNC_RULES_H
#define DUALSYNC_RULES_H

#include "ids.h"
#include "wire.h"

#include <stdbool.h>
#include <stdint.h>

#define RULES_CARD_FIELD_MAX 256
#define RULES_REPORT_DAYS_DEFAULT 30
#define RULES_TO_MAX 256 /* orgs one org-level event may be addressed to */

enum rule_scope {
    SCOPE_MEMBER, /* about one member: routed to the member's unit and community */
    SCOPE_ORG,    /* about the org: no member id */
    SCOPE_EITHER, /* opinions: about a member, or about the unit itself */
};

/* How the broker routes the org-level form (member events always go by member). */
enum rule_route {
    ROUTE_DIRECTORY,    /* the street's directory: every org (broker/directory.c) */
    ROUTE_TO,           /* the orgs in the envelope's `to`, of kind to_kind */
    ROUTE_MEMBER_UNITS, /* the units with members registered in the author community */
    ROUTE_LOCAL,        /* kept by the broker (for restore), delivered to nobody */
};

struct rule {
    uint32_t type;
    const char *name;     /* "introduction", "report-in", ... */
    enum org_kind author; /* the only side that may write it; ORG_NONE: either side */
    enum rule_scope scope;
    enum rule_route route;
    enum org_kind to_kind; /* ROUTE_TO: kind of every recipient (ORG_NONE: unit or community) */
    const ProtobufCMessageDescriptor *body;
    const char *required; /* body fields that must be given, comma separated */
};

/* The rule of a known type, NULL for a type this version does not know. */
const struct rule *rules_find(uint32_t type);

/* Name of a type for display: the rule's name or "unknown". */
const char *rules_type_name(uint32_t type);
/* Its Chinese name ("介绍函"), for the Chinese half of a message; "未知类型" if unknown. */
const char *rules_type_name_zh(uint32_t type);
/* Whether an org of kind may author events of r. */
bool rules_side_may_author(const struct rule *r, enum org_kind kind);

/* Checks a body of a known type (fields, required fields, type-specific rules). On false,
 * why (size FIELDS_WHY_MAX) says what is wrong. */
bool rules_body_valid(const struct rule *r, const uint8_t *body, size_t len, char *why);

/* Checks an opened event against its type: author side (DS_ESIDE), member presence,
 * addressees and body syntax (DS_EINVAL). Unknown types: DS_OK. */
int rules_check(const struct event *ev);

#endif
