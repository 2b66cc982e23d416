/* rules: one table. Field syntax is checked generically (fields.c, by field name); the
 * validators here add only what a field name cannot say (a directory entry's kind matches
 * its id, a card is not empty, a feedback period matches its year, a notice ends after it
 * starts). They never look at stored state (that is the broker's routing and the node's
 * command checks), so they run anywhere. */
#include "rules.h"

#include "keyring.h"

#include "err.h"
#include "fields.h"
#include "personal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T(x) DUALSYNC__EVENT_TYPE__EVENT_##x
#define D(x) &dualsync__##x##__descriptor

static const struct rule rule_table[] = {
    {T(DIRECTORY_ENTRY), "directory-entry", ORG_STREET, SCOPE_ORG, ROUTE_DIRECTORY, ORG_NONE,
     D(directory_entry), "org,kind,name"},
    {T(INTRODUCTION), "introduction", ORG_UNIT, SCOPE_MEMBER, ROUTE_LOCAL, ORG_NONE,
     D(introduction), "community,name,report_days,date"},
    {T(REPORT_IN), "report-in", ORG_COMMUNITY, SCOPE_MEMBER, ROUTE_LOCAL, ORG_NONE, D(report_in),
     "date"},
    {T(REGISTRATION_CARD), "registration-card", ORG_COMMUNITY, SCOPE_MEMBER, ROUTE_LOCAL, ORG_NONE,
     D(registration_card), NULL},
    {T(FEEDBACK), "feedback", ORG_COMMUNITY, SCOPE_MEMBER, ROUTE_LOCAL, ORG_NONE, D(feedback),
     "year,rating"},
    {T(HANDLING_RESULT), "handling-result", ORG_UNIT, SCOPE_MEMBER, ROUTE_LOCAL, ORG_NONE,
     D(handling_result), "feedback_origin,feedback_seq,action"},
    {T(REGISTRATION_CLOSE), "registration-close", ORG_COMMUNITY, SCOPE_MEMBER, ROUTE_LOCAL,
     ORG_NONE, D(registration_close), "reason,date"},
    {T(MOVE_OUT), "move-out", ORG_UNIT, SCOPE_MEMBER, ROUTE_LOCAL, ORG_NONE, D(move_out), "date"},
    {T(UNIT_RELEASE), "unit-release", ORG_UNIT, SCOPE_MEMBER, ROUTE_LOCAL, ORG_NONE,
     D(unit_release), "date"},
    {T(GROUP_ASSIGN), "group-assign", ORG_COMMUNITY, SCOPE_MEMBER, ROUTE_LOCAL, ORG_NONE,
     D(group_assign), "group"},
    {T(TEAM_MEMBERSHIP), "team-membership", ORG_COMMUNITY, SCOPE_MEMBER, ROUTE_LOCAL, ORG_NONE,
     D(team_membership), "team"},
    {T(ATTENDANCE), "attendance", ORG_COMMUNITY, SCOPE_MEMBER, ROUTE_LOCAL, ORG_NONE, D(attendance),
     "activity,kind,date"},
    {T(OPINION_REQUEST), "opinion-request", ORG_UNIT, SCOPE_EITHER, ROUTE_TO, ORG_COMMUNITY,
     D(opinion_request), "kind,subject,due,date"},
    {T(OPINION_REPLY), "opinion-reply", ORG_COMMUNITY, SCOPE_EITHER, ROUTE_TO, ORG_UNIT,
     D(opinion_reply), "request,verdict,date"},
    {T(PUBLIC_NOTICE), "public-notice", ORG_UNIT, SCOPE_MEMBER, ROUTE_LOCAL, ORG_NONE,
     D(public_notice), "title,matter,start,end,working_days"},
    {T(NOTICE_RESPONSE), "notice-response", ORG_COMMUNITY, SCOPE_MEMBER, ROUTE_LOCAL, ORG_NONE,
     D(notice_response), "notice,status,date"},
    {T(UNIT_VISIT), "unit-visit", ORG_UNIT, SCOPE_MEMBER, ROUTE_LOCAL, ORG_NONE, D(unit_visit),
     "date,text"},
    {T(DIFFICULTY), "difficulty", ORG_UNIT, SCOPE_MEMBER, ROUTE_LOCAL, ORG_NONE, D(difficulty),
     "text,date"},
    {T(DIFFICULTY_RESOLVED), "difficulty-resolved", ORG_COMMUNITY, SCOPE_MEMBER, ROUTE_LOCAL,
     ORG_NONE, D(difficulty_resolved), "difficulty,date"},
    /* ORG_NONE as the author: either side of the member's registration */
    {T(CORRECTION), "correction", ORG_NONE, SCOPE_MEMBER, ROUTE_LOCAL, ORG_NONE, D(correction),
     "target,reason,date"},
    {T(WITHDRAWAL), "withdrawal", ORG_NONE, SCOPE_MEMBER, ROUTE_LOCAL, ORG_NONE, D(withdrawal),
     "target,reason,date"},
    {T(MEMBER_ERASE), "member-erase", ORG_UNIT, SCOPE_MEMBER, ROUTE_LOCAL, ORG_NONE,
     D(member_erase), "reason,date"},
    {T(JOINT_MEETING), "joint-meeting", ORG_STREET, SCOPE_ORG, ROUTE_TO, ORG_NONE, D(joint_meeting),
     "date,title,attendees"},
    {T(LIAISON_MEMBER), "liaison-member", ORG_COMMUNITY, SCOPE_ORG, ROUTE_LOCAL, ORG_NONE,
     D(liaison_member), "name,side,role"},
    {T(BUILDING_GROUP), "building-group", ORG_COMMUNITY, SCOPE_ORG, ROUTE_LOCAL, ORG_NONE,
     D(building_group), "group,title"},
    {T(VOLUNTEER_TEAM), "volunteer-team", ORG_COMMUNITY, SCOPE_ORG, ROUTE_LOCAL, ORG_NONE,
     D(volunteer_team), "team,title,kind"},
    {T(ACTIVITY), "activity", ORG_COMMUNITY, SCOPE_ORG, ROUTE_LOCAL, ORG_NONE, D(activity),
     "kind,title,date"},
    {T(SERVICE_NEED), "service-need", ORG_COMMUNITY, SCOPE_ORG, ROUTE_MEMBER_UNITS, ORG_NONE,
     D(service_need), "kind,title,date"},
    {T(SERVICE_CLAIM), "service-claim", ORG_UNIT, SCOPE_ORG, ROUTE_TO, ORG_COMMUNITY,
     D(service_claim), "need,date"},
    {T(CLAIM_DECISION), "claim-decision", ORG_COMMUNITY, SCOPE_ORG, ROUTE_TO, ORG_UNIT,
     D(claim_decision), "claim,date"},
    {T(SERVICE_FULFILLED), "service-fulfilled", ORG_COMMUNITY, SCOPE_ORG, ROUTE_TO, ORG_UNIT,
     D(service_fulfilled), "need,claim,date"},
    {T(RESOURCE_OFFER), "resource-offer", ORG_UNIT, SCOPE_ORG, ROUTE_TO, ORG_COMMUNITY,
     D(resource_offer), "title,date"},
};

const struct rule *rules_find(uint32_t type)
{
    for (size_t i = 0; i < sizeof(rule_table) / sizeof(rule_table[0]); i++)
        if (rule_table[i].type == type)
            return &rule_table[i];
    return NULL;
}

bool rules_side_may_author(const struct rule *r, enum org_kind kind)
{
    if (r->author == ORG_NONE)
        return kind == ORG_UNIT || kind == ORG_COMMUNITY;
    return kind == r->author;
}

/* The kinds as the clerks name the letters, for the Chinese half of a message. */
static const struct {
    uint32_t type;
    const char *zh;
} names_zh[] = {
    {T(DIRECTORY_ENTRY), "目录条目"},
    {T(INTRODUCTION), "介绍函"},
    {T(REPORT_IN), "报到"},
    {T(REGISTRATION_CARD), "登记卡"},
    {T(FEEDBACK), "反馈函"},
    {T(HANDLING_RESULT), "查处结果"},
    {T(REGISTRATION_CLOSE), "注销登记"},
    {T(MOVE_OUT), "迁居"},
    {T(UNIT_RELEASE), "解除管理"},
    {T(GROUP_ASSIGN), "楼栋联络组分配"},
    {T(TEAM_MEMBERSHIP), "志愿服务队成员"},
    {T(ATTENDANCE), "参加活动记录"},
    {T(OPINION_REQUEST), "征求意见函"},
    {T(OPINION_REPLY), "意见答复"},
    {T(PUBLIC_NOTICE), "公示"},
    {T(NOTICE_RESPONSE), "公示回复"},
    {T(UNIT_VISIT), "走访记录"},
    {T(DIFFICULTY), "困难"},
    {T(DIFFICULTY_RESOLVED), "困难解决"},
    {T(CORRECTION), "更正函"},
    {T(WITHDRAWAL), "撤回函"},
    {T(MEMBER_ERASE), "删除个人信息"},
    {T(JOINT_MEETING), "联席会议"},
    {T(LIAISON_MEMBER), "联络员"},
    {T(BUILDING_GROUP), "楼栋联络组"},
    {T(VOLUNTEER_TEAM), "志愿服务队"},
    {T(ACTIVITY), "活动"},
    {T(SERVICE_NEED), "服务需求"},
    {T(SERVICE_CLAIM), "认领"},
    {T(CLAIM_DECISION), "认领审核"},
    {T(SERVICE_FULFILLED), "服务完成"},
    {T(RESOURCE_OFFER), "资源提供"},
};

const char *rules_type_name_zh(uint32_t type)
{
    for (size_t i = 0; i < sizeof(names_zh) / sizeof(names_zh[0]); i++)
        if (names_zh[i].type == type)
            return names_zh[i].zh;
    return "未知类型";
}

const char *rules_type_name(uint32_t type)
{
    const struct rule *r = rules_find(type);
    return r ? r->name : "unknown";
}

static bool directory_entry_valid(const ProtobufCMessage *m, char *why)
{
    const Dualsync__DirectoryEntry *d = (const Dualsync__DirectoryEntry *)m;
    struct keyring ring;
    bool ok = (int)ids_org_kind(d->org) == (int)d->kind && d->curve_key.len == KEYS_PUB_LEN &&
              keyring_from_entry(d, &ring) == DS_OK &&
              (d->rotation.len == 0 || d->rotation.len == KEYS_SIG_LEN) &&
              d->state <= DUALSYNC__ORG_STATE__ORG_STATE_REMOVED;
    if (!ok)
        snprintf(why, FIELDS_WHY_MAX,
                 "目录条目:类别须与编号一致,密钥 32 字节,历任密钥按序号递增,状态有效\n"
                 "directory entry: kind must match the id, keys 32 bytes, past keys in "
                 "increasing seq, a known state");
    return ok;
}

static bool card_valid(const ProtobufCMessage *m, char *why)
{
    const Dualsync__RegistrationCard *c = (const Dualsync__RegistrationCard *)m;
    bool ok = c->occupation[0] || c->willingness[0] || c->rest_time[0] || c->skills[0] ||
              c->n_categories || c->contact[0];
    if (!ok)
        snprintf(why, FIELDS_WHY_MAX,
                 "登记卡至少要填一项\na registration card needs at least one field");
    return ok;
}

static bool feedback_valid(const ProtobufCMessage *m, char *why)
{
    const Dualsync__Feedback *f = (const Dualsync__Feedback *)m;
    char year[8];
    snprintf(year, sizeof(year), "%u", f->year);
    bool ok = !f->period[0] || strncmp(f->period, year, 4) == 0;
    if (!ok)
        snprintf(why, FIELDS_WHY_MAX,
                 "反馈期间须在其年度之内\nthe feedback period must be in its year");
    return ok;
}

static bool close_valid(const ProtobufCMessage *m, char *why)
{
    const Dualsync__RegistrationClose *c = (const Dualsync__RegistrationClose *)m;
    bool ok = c->reason == DUALSYNC__CLOSE_REASON__CLOSE_RETURNED ||
              c->reason == DUALSYNC__CLOSE_REASON__CLOSE_REVOKED;
    if (!ok)
        snprintf(why, FIELDS_WHY_MAX,
                 "社区注销登记的原因须为退回或撤销\na community closes a registration as returned "
                 "or revoked");
    return ok;
}

static bool notice_valid(const ProtobufCMessage *m, char *why)
{
    const Dualsync__PublicNotice *n = (const Dualsync__PublicNotice *)m;
    bool ok = strcmp(n->start, n->end) <= 0; /* YYYY-MM-DD sorts as text */
    if (!ok)
        snprintf(why, FIELDS_WHY_MAX,
                 "公示结束日期不能早于开始日期\na notice must end on or after its start");
    return ok;
}

static bool correction_valid(const ProtobufCMessage *m, char *why)
{
    const Dualsync__Correction *c = (const Dualsync__Correction *)m;
    bool ok = c->name[0] || c->contact[0] || c->text[0] || c->rating || c->action;
    if (!ok)
        snprintf(why, FIELDS_WHY_MAX,
                 "更正函至少要更正一项\na correction must correct at least one field");
    return ok;
}

static bool type_valid(uint32_t type, const ProtobufCMessage *m, char *why)
{
    switch (type) {
    case T(DIRECTORY_ENTRY):
        return directory_entry_valid(m, why);
    case T(REGISTRATION_CARD):
        return card_valid(m, why);
    case T(FEEDBACK):
        return feedback_valid(m, why);
    case T(REGISTRATION_CLOSE):
        return close_valid(m, why);
    case T(PUBLIC_NOTICE):
        return notice_valid(m, why);
    case T(CORRECTION):
        return correction_valid(m, why);
    default:
        return true;
    }
}

bool rules_body_valid(const struct rule *r, const uint8_t *body, size_t len, char *why)
{
    ProtobufCMessage *m = wire_unpack_body(r->body, body, len);
    if (!m) {
        snprintf(why, FIELDS_WHY_MAX, "%s的内容无法解码\nthe %s body does not decode",
                 rules_type_name_zh(r->type), r->name);
        return false;
    }
    bool ok = fields_valid(m, r->required, why) && type_valid(r->type, m, why) &&
              fields_raw_strings_valid(r->body, body, len, why);
    wire_msg_free(m);
    return ok;
}

/* A letter whose personal part was dropped (erasure, retention) lacks the fields a new
 * one needs (a name, a card's contents): what remains must still decode and be clean
 * text. (That no personal field sits in the signed part is personal_outside's check.) */
static bool redacted_body_valid(const struct rule *r, const uint8_t *body, size_t len, char *why)
{
    ProtobufCMessage *m = wire_unpack_body(r->body, body, len);
    bool ok = m && fields_valid(m, NULL, why) && fields_raw_strings_valid(r->body, body, len, why);
    if (!m)
        snprintf(why, FIELDS_WHY_MAX, "%s的内容无法解码\nthe %s body does not decode",
                 rules_type_name_zh(r->type), r->name);
    wire_msg_free(m);
    return ok;
}

/* A letter of WIRE_SCHEMA_SPLIT or later keeps no personal field in its signed bytes:
 * there, erasure could not reach it. (Letters of schema 1, from before the split, do.) */
static bool personal_outside(const struct event *ev)
{
    uint8_t *clear = NULL, *pers = NULL;
    size_t clear_len = 0, pers_len = 0;
    if (personal_split(ev->type, ev->msg->body.data, ev->msg->body.len, &clear, &clear_len, &pers,
                       &pers_len) != DS_OK)
        return false;
    free(clear);
    free(pers);
    return pers_len == 0;
}

static bool addressees_valid(const struct rule *r, const struct event *ev)
{
    bool member = ev->member[0] != '\0';
    bool addressed = !member && r->route == ROUTE_TO;
    if (!addressed)
        return ev->msg->n_to == 0;
    if (ev->msg->n_to == 0 || ev->msg->n_to > RULES_TO_MAX)
        return false;
    for (size_t i = 0; i < ev->msg->n_to; i++) {
        enum org_kind k = ids_org_kind(ev->msg->to[i]);
        if (k == ORG_NONE || k == ORG_STREET || (r->to_kind != ORG_NONE && k != r->to_kind))
            return false;
    }
    return true;
}

int rules_check(const struct event *ev)
{
    const struct rule *r = rules_find(ev->type);
    char why[FIELDS_WHY_MAX];
    if (!r)
        return DS_OK;
    if (!rules_side_may_author(r, ids_org_kind(ev->origin)))
        return DS_ESIDE;
    bool member = ev->member[0] != '\0';
    if ((r->scope == SCOPE_MEMBER && !member) || (r->scope == SCOPE_ORG && member))
        return DS_EINVAL;
    if (!addressees_valid(r, ev))
        return DS_EINVAL;
    if (member && ev->schema >= WIRE_SCHEMA_SPLIT && !personal_outside(ev))
        return DS_EINVAL;
    if (ev->redacted) /* checked whole where it first arrived; what is left must decode */
        return redacted_body_valid(r, ev->body, ev->body_len, why) ? DS_OK : DS_EINVAL;
    return rules_body_valid(r, ev->body, ev->body_len, why) ? DS_OK : DS_EINVAL;
}
