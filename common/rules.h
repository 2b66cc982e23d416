/* rules: what each event type is, who may author it, and what a valid body looks like.
 * Single writer per field: every known type has exactly one authoring side, and every
 * receiver (broker and node) checks it. Unknown types (from newer peers) pass with no side
 * check: they are stored and forwarded, and the fold ignores them. */
#ifndef DUALSYNC_RULES_H
#define DUALSYNC_RULES_H

#include "ids.h"
#include "wire.h"

#include <stdbool.h>
#include <stdint.h>

#define RULES_CARD_FIELD_MAX 256
#define RULES_REPORT_DAYS_DEFAULT 30

struct rule {
    uint32_t type;
    const char *name;     /* "introduction", "report-in", ... */
    enum org_kind author; /* the only side that may write it */
    bool member_required; /* a member event (routed) or an org-level event */
};

/* The rule of a known type, NULL for a type this version does not know. */
const struct rule *rules_find(uint32_t type);

/* Name of a type for display: the rule's name or "unknown". */
const char *rules_type_name(uint32_t type);

/* Checks an opened event against its type: author side (DS_ESIDE), member presence and
 * body syntax (DS_EINVAL). Unknown types: DS_OK. */
int rules_check(const struct event *ev);

#endif
