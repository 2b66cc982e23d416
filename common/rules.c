/* rules: one table, one validator per body type. Validators decode the body, check every
 * field a later reader will trust, and free it; they never look at stored state (that is
 * the broker's routing and the node's command checks), so they can run anywhere. */
#include "rules.h"

#include "err.h"

#include <string.h>

static const struct rule rule_table[] = {
    {DUALSYNC__EVENT_TYPE__EVENT_DIRECTORY_ENTRY, "directory-entry", ORG_STREET, false},
    {DUALSYNC__EVENT_TYPE__EVENT_INTRODUCTION, "introduction", ORG_UNIT, true},
    {DUALSYNC__EVENT_TYPE__EVENT_REPORT_IN, "report-in", ORG_COMMUNITY, true},
    {DUALSYNC__EVENT_TYPE__EVENT_REGISTRATION_CARD, "registration-card", ORG_COMMUNITY, true},
    {DUALSYNC__EVENT_TYPE__EVENT_FEEDBACK, "feedback", ORG_COMMUNITY, true},
    {DUALSYNC__EVENT_TYPE__EVENT_HANDLING_RESULT, "handling-result", ORG_UNIT, true},
};

const struct rule *rules_find(uint32_t type)
{
    for (size_t i = 0; i < sizeof(rule_table) / sizeof(rule_table[0]); i++)
        if (rule_table[i].type == type)
            return &rule_table[i];
    return NULL;
}

const char *rules_type_name(uint32_t type)
{
    const struct rule *r = rules_find(type);
    return r ? r->name : "unknown";
}

static int check_directory_entry(const struct event *ev)
{
    Dualsync__DirectoryEntry *d = wire_unpack_directory_entry(ev->body, ev->body_len);
    int rc = DS_EINVAL;
    if (!d)
        return DS_EINVAL;
    if (ids_org_kind(d->org) != ORG_NONE && (int)ids_org_kind(d->org) == (int)d->kind &&
        ids_text_valid(d->name, IDS_NAME_MAX, false) && d->curve_key.len == KEYS_PUB_LEN &&
        d->sign_key.len == KEYS_PUB_LEN)
        rc = DS_OK;
    wire_msg_free(d);
    return rc;
}

static int check_introduction(const struct event *ev)
{
    Dualsync__Introduction *b = wire_unpack_introduction(ev->body, ev->body_len);
    int rc = DS_EINVAL;
    if (!b)
        return DS_EINVAL;
    if (ids_org_kind(b->community) == ORG_COMMUNITY &&
        ids_text_valid(b->name, IDS_NAME_MAX, false) && b->report_days >= 1 &&
        b->report_days <= 365 && ids_date_valid(b->date))
        rc = DS_OK;
    wire_msg_free(b);
    return rc;
}

static int check_report_in(const struct event *ev)
{
    Dualsync__ReportIn *b = wire_unpack_report_in(ev->body, ev->body_len);
    int rc = (b && ids_date_valid(b->date)) ? DS_OK : DS_EINVAL;
    wire_msg_free(b);
    return rc;
}

static int check_registration_card(const struct event *ev)
{
    Dualsync__RegistrationCard *b = wire_unpack_registration_card(ev->body, ev->body_len);
    int rc = DS_EINVAL;
    if (!b)
        return DS_EINVAL;
    if (ids_text_valid(b->occupation, RULES_CARD_FIELD_MAX, true) &&
        ids_text_valid(b->willingness, RULES_CARD_FIELD_MAX, true) &&
        ids_text_valid(b->rest_time, RULES_CARD_FIELD_MAX, true) &&
        (b->occupation[0] || b->willingness[0] || b->rest_time[0]))
        rc = DS_OK;
    wire_msg_free(b);
    return rc;
}

static int check_feedback(const struct event *ev)
{
    Dualsync__Feedback *b = wire_unpack_feedback(ev->body, ev->body_len);
    int rc = DS_EINVAL;
    if (!b)
        return DS_EINVAL;
    if (b->year >= 1949 && b->year <= 9999 && b->rating >= DUALSYNC__RATING__RATING_EXCELLENT &&
        b->rating <= DUALSYNC__RATING__RATING_POOR && ids_text_valid(b->text, IDS_TEXT_MAX, true))
        rc = DS_OK;
    wire_msg_free(b);
    return rc;
}

static int check_handling_result(const struct event *ev)
{
    Dualsync__HandlingResult *b = wire_unpack_handling_result(ev->body, ev->body_len);
    int rc = DS_EINVAL;
    if (!b)
        return DS_EINVAL;
    if (ids_org_kind(b->feedback_origin) == ORG_COMMUNITY && b->feedback_seq >= 1 &&
        b->action >= DUALSYNC__HANDLING_ACTION__HANDLING_CRITICISM &&
        b->action <= DUALSYNC__HANDLING_ACTION__HANDLING_NO_ACTION &&
        ids_text_valid(b->text, IDS_TEXT_MAX, true))
        rc = DS_OK;
    wire_msg_free(b);
    return rc;
}

int rules_check(const struct event *ev)
{
    const struct rule *r = rules_find(ev->type);
    if (!r)
        return DS_OK;
    if (ids_org_kind(ev->origin) != r->author)
        return DS_ESIDE;
    if (r->member_required != (ev->member[0] != '\0'))
        return DS_EINVAL;
    switch (ev->type) {
    case DUALSYNC__EVENT_TYPE__EVENT_DIRECTORY_ENTRY:
        return check_directory_entry(ev);
    case DUALSYNC__EVENT_TYPE__EVENT_INTRODUCTION:
        return check_introduction(ev);
    case DUALSYNC__EVENT_TYPE__EVENT_REPORT_IN:
        return check_report_in(ev);
    case DUALSYNC__EVENT_TYPE__EVENT_REGISTRATION_CARD:
        return check_registration_card(ev);
    case DUALSYNC__EVENT_TYPE__EVENT_FEEDBACK:
        return check_feedback(ev);
    case DUALSYNC__EVENT_TYPE__EVENT_HANDLING_RESULT:
        return check_handling_result(ev);
    default:
        return DS_OK;
    }
}
