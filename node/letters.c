/* letters: the write commands. Most letters are one row of the table at the bottom: the
 * event type, the side that may send it, whether it names a member, the options copied
 * into body fields of the same name, and an optional check for what a field name cannot
 * say (a referenced letter exists, a kind is configured, a figure is computed). The body
 * is then validated by the same rules the broker and the receiving node apply, so the
 * operator hears about a bad value before anything is written. Introductions and moves
 * are written out in full because they open and close registrations. */
#include "commands.h"

#include "config.h"
#include "ctl.h"
#include "duties.h"
#include "err.h"
#include "fields.h"
#include "fold.h"
#include "lookup.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T(x) DUALSYNC__EVENT_TYPE__EVENT_##x

/* ---------------------------------------------------------------- small helpers */

static int require_side(struct node *n, enum org_kind kind, struct outcome *o)
{
    if (n->kind == kind)
        return DS_OK;
    return kind == ORG_UNIT
               ? fail(o, DS_ESIDE, "只有单位可以发出此函件", "only a unit may send this letter")
               : fail(o, DS_ESIDE, "只有社区可以发出此函件",
                      "only a community may send this letter");
}

static int member_arg(const Dualsync__CtlCommand *cmd, const char **member, struct outcome *o)
{
    *member = ctl_arg(cmd, "member");
    if (!*member || !ids_member_valid(*member))
        return fail(o, DS_EINVAL, "成员编号无效:须为 1–64 个字母、数字或 -",
                    "invalid member id: 1-64 letters, digits or -");
    return DS_OK;
}

/* A refusal from fields.c or rules.c: its Chinese half and its English half. */
static int bad_value(struct outcome *o, const char *why)
{
    char half[FIELDS_WHY_MAX], zh[FIELDS_WHY_MAX + 32];
    fields_why_zh(why, half, sizeof(half));
    snprintf(zh, sizeof(zh), "输入无效:%s", half);
    return fail(o, DS_EINVAL, zh, fields_why_en(why));
}

/* Copies the options named in keys ("a,b-c") into the body fields of the same name. */
static int take_args(const Dualsync__CtlCommand *cmd, ProtobufCMessage *body, const char *keys,
                     struct outcome *o)
{
    char key[64], why[FIELDS_WHY_MAX];
    for (const char *p = keys; p && *p;) {
        size_t n = strcspn(p, ",");
        snprintf(key, sizeof(key), "%.*s", (int)n, p);
        p += n + (p[n] == ',');
        const char *v = ctl_arg(cmd, key);
        if (!v)
            continue;
        if (!ids_text_valid(v, IDS_TEXT_MAX, true)) {
            snprintf(why, sizeof(why),
                     "--%s:须为不含控制字符的 UTF-8 文字,最多 %d 字节\n--%s: UTF-8 text without "
                     "control characters, at most %d bytes",
                     key, IDS_TEXT_MAX, key, IDS_TEXT_MAX);
            return bad_value(o, why);
        }
        if (fields_set(body, key, v, why) != DS_OK)
            return bad_value(o, why);
    }
    return DS_OK;
}

static void set_field(ProtobufCMessage *body, const char *name, const char *value)
{
    char why[FIELDS_WHY_MAX];
    (void)fields_set(body, name, value, why); /* names are ours; values are checked later */
}

/* A date field left empty means today. */
static void default_today(ProtobufCMessage *body, const char *name)
{
    char today[11];
    if (protobuf_c_message_descriptor_get_field_by_name(body->descriptor, name) &&
        !fields_get_str(body, name)[0]) {
        commands_today(today);
        set_field(body, name, today);
    }
}

int letters_load_event(struct node *n, const char *id, struct event *ev, uint8_t **raw)
{
    char origin[IDS_ORG_MAX];
    uint64_t seq;
    size_t len = 0;
    if (!id || !ids_event_id_parse(id, origin, &seq))
        return DS_EINVAL;
    if (eventlog_get_raw(n->log, origin, seq, raw, &len) != DS_OK)
        return DS_ENOTFOUND;
    if (wire_event_open(*raw, len, false, ev) != DS_OK) {
        free(*raw);
        return DS_EIO;
    }
    return DS_OK;
}

/* The org-level event `id` of type, written by us (mine) or received by us (the broker
 * delivers org letters only to the orgs they concern), with its decoded body in *body
 * (caller frees with fields_free). */
static int find_org_letter(struct node *n, const char *id, uint32_t type, bool mine,
                           ProtobufCMessage **body, char origin[IDS_ORG_MAX], struct outcome *o)
{
    struct event ev;
    uint8_t *raw = NULL;
    int rc = letters_load_event(n, id, &ev, &raw);
    if (rc == DS_EINVAL)
        return fail(o, DS_EINVAL, "编号无效:格式为 组织/序号", "invalid id: use org/seq");
    if (rc != DS_OK)
        return fail(o, DS_ENOTFOUND, "本节点没有该编号的函件", "no letter with that id here");
    bool ok = ev.type == type && !ev.member[0] && (strcmp(ev.origin, n->cfg.org) == 0) == mine;
    if (ok) {
        *body = wire_unpack_body(rules_find(type)->body, ev.body, ev.body_len);
        snprintf(origin, IDS_ORG_MAX, "%s", ev.origin);
        ok = *body != NULL;
    }
    wire_event_release(&ev);
    free(raw);
    if (!ok)
        return fail(o, DS_ENOTFOUND, "该编号不是本节点可处理的此类函件",
                    "that id is not a letter of this kind for this org");
    return DS_OK;
}

struct code_search {
    uint32_t type;
    const char *origin, *field, *value;
    ProtobufCMessage *found; /* the latest body with that code */
};

static bool match_code(const struct event *ev, void *arg)
{
    struct code_search *s = arg;
    if (strcmp(ev->origin, s->origin) != 0)
        return true;
    ProtobufCMessage *b = wire_unpack_body(rules_find(s->type)->body, ev->body, ev->body_len);
    if (b && strcmp(fields_get_str(b, s->field), s->value) == 0) {
        fields_free(s->found);
        s->found = b;
    } else {
        fields_free(b);
    }
    return true;
}

/* The latest of our org-level letters of type whose field equals value (a group, a team). */
static ProtobufCMessage *find_by_code(struct node *n, uint32_t type, const char *field,
                                      const char *value)
{
    struct code_search s = {type, n->cfg.org, field, value, NULL};
    if (eventlog_type_events(n->log, type, match_code, &s) != DS_OK) {
        fields_free(s.found);
        return NULL;
    }
    return s.found;
}

static void add_to(struct pending_event *pe, const char *org)
{
    if (pe->n_to < RULES_TO_MAX)
        pe->to[pe->n_to++] = xstrdup(org);
}

/* Every item of a comma separated option must be in the configured list. */
static int check_items(const char *items, const char *allowed, const char *what_zh,
                       const char *what_en, struct outcome *o)
{
    char item[FIELDS_ITEM_MAX + 1], zh[256], en[256];
    for (const char *p = items ? items : ""; *p;) {
        size_t n = strcspn(p, ",");
        snprintf(item, sizeof(item), "%.*s", (int)n, p);
        p += n + (p[n] == ',');
        if (!config_list_has(allowed, item)) {
            snprintf(zh, sizeof(zh), "%s“%s”不在配置的列表中(%s)", what_zh, item, allowed);
            snprintf(en, sizeof(en), "%s \"%s\" is not in the configured list (%s)", what_en, item,
                     allowed);
            return fail(o, DS_EINVAL, zh, en);
        }
    }
    return DS_OK;
}

/* ---------------------------------------------------------------- letter checks */

/* The state a check sees and may change. */
struct letter {
    struct write_ctx *w;
    const Dualsync__CtlCommand *cmd;
    Dualsync__MemberRecord *rec; /* member letters: the open registration */
    ProtobufCMessage *body;
    struct pending_event *pe;
};

/* The body of a letter of type written earlier in the same request (about member, when
 * member is not NULL) whose field equals value; NULL when there is none. Caller frees
 * with fields_free. Validation reads committed state, so every "already done" check also
 * asks this. */
static ProtobufCMessage *earlier_letter(const struct letter *l, uint32_t type, const char *member,
                                        const char *field, const char *value)
{
    for (size_t i = 0; i < l->w->n_earlier; i++) {
        const struct pending_event *e = &l->w->earlier[i];
        if (e->type != type || (member && strcmp(e->member, member) != 0))
            continue;
        ProtobufCMessage *b = wire_unpack_body(rules_find(type)->body, e->body, e->body_len);
        if (b && (!field || strcmp(fields_get_str(b, field), value) == 0))
            return b;
        fields_free(b);
    }
    return NULL;
}

static bool done_earlier(const struct letter *l, uint32_t type, const char *member,
                         const char *field, const char *value)
{
    ProtobufCMessage *b = earlier_letter(l, type, member, field, value);
    fields_free(b);
    return b != NULL;
}

struct decision_search {
    const char *field, *id;
    bool found;
};

static bool match_reference(const struct event *ev, void *arg)
{
    struct decision_search *s = arg;
    ProtobufCMessage *b = wire_unpack_body(rules_find(ev->type)->body, ev->body, ev->body_len);
    s->found |= b && strcmp(fields_get_str(b, s->field), s->id) == 0;
    fields_free(b);
    return !s->found;
}

/* Whether one of the node's org-level letters of type names id in field. */
static bool referenced_by(struct node *n, uint32_t type, const char *field, const char *id)
{
    struct decision_search s = {field, id, false};
    eventlog_type_events(n->log, type, match_reference, &s);
    return s.found;
}

static int check_handling(struct letter *l, struct outcome *o)
{
    const char *fid = ctl_arg(l->cmd, "feedback");
    char origin[IDS_ORG_MAX];
    uint64_t seq = 0;
    if (!fid || !ids_event_id_parse(fid, origin, &seq))
        return fail(o, DS_EINVAL, "--feedback 须为反馈函编号,如 community:xx/12",
                    "--feedback must be a feedback event id like community:xx/12");
    bool found = false;
    for (size_t i = 0; i < l->rec->n_feedback; i++)
        found |= strcmp(l->rec->feedback[i]->event_id, fid) == 0;
    if (!found)
        return fail(o, DS_ENOTFOUND, "该成员没有此反馈函",
                    "no such feedback letter for this member");
    Dualsync__HandlingResult *h = (Dualsync__HandlingResult *)l->body;
    set_field(l->body, "feedback_origin", origin);
    h->feedback_seq = seq;
    return DS_OK;
}

static bool opinion_about_org(int kind)
{
    return kind == DUALSYNC__OPINION_KIND__OPINION_ADVANCED_ORG ||
           kind == DUALSYNC__OPINION_KIND__OPINION_CIVILISED_UNIT;
}

static int check_opinion_request(struct letter *l, struct outcome *o)
{
    Dualsync__OpinionRequest *r = (Dualsync__OpinionRequest *)l->body;
    const char *community = ctl_arg(l->cmd, "community");
    char due[11];
    if (!r->kind)
        return fail(o, DS_EINVAL,
                    "--kind 须为 excellent-member、advanced-individual、democratic-appraisal、"
                    "cadre-promotion、new-member、advanced-org 或 civilised-unit",
                    "--kind must be excellent-member, advanced-individual, democratic-appraisal, "
                    "cadre-promotion, new-member, advanced-org or civilised-unit");
    if (opinion_about_org(r->kind) != (l->rec == NULL))
        return fail(o, DS_EINVAL, "先进党组织、文明单位须用 --community;其余须用 --member",
                    "advanced-org and civilised-unit take --community; the other kinds --member");
    if (!l->rec) {
        const struct node_org *c = community ? node_find_org(l->w->n, community) : NULL;
        if (!node_org_addressable(c, ORG_COMMUNITY))
            return lookup_org_refusal(l->w->n, "community", community, ORG_COMMUNITY, o);
        add_to(l->pe, community);
    }
    if (!r->due[0] &&
        duties_date_add(r->date, (int32_t)l->w->n->cfg.policy.opinion_days, due) == DS_OK)
        set_field(l->body, "due", due);
    if (ids_date_valid(r->due) && ids_date_valid(r->date) && strcmp(r->due, r->date) < 0)
        return fail(o, DS_EINVAL, "--due 不能早于发函日期",
                    "--due cannot be before the letter's date");
    return DS_OK;
}

static int check_notice(struct letter *l, struct outcome *o)
{
    Dualsync__PublicNotice *b = (Dualsync__PublicNotice *)l->body;
    const struct policy *p = &l->w->n->cfg.policy;
    char end[11], zh[128], en[128];
    default_today(l->body, "start");
    const char *days = ctl_arg(l->cmd, "working-days");
    if (days && !b->working_days)
        return fail(o, DS_EINVAL, "--working-days 须为正整数", "--working-days must be positive");
    if (!b->working_days)
        b->working_days = p->notice_working_days;
    if (b->working_days < p->notice_working_days) {
        snprintf(zh, sizeof(zh), "公示期不得少于 %u 个工作日", p->notice_working_days);
        snprintf(en, sizeof(en), "a notice runs at least %u working days", p->notice_working_days);
        return fail(o, DS_EINVAL, zh, en);
    }
    if (b->working_days <= 60 && duties_notice_end(b->start, b->working_days, end) == DS_OK)
        set_field(l->body, "end", end);
    return DS_OK;
}

static int check_claim(struct letter *l, struct outcome *o)
{
    ProtobufCMessage *need = NULL;
    char origin[IDS_ORG_MAX];
    const char *claimant = fields_get_str(l->body, "claimant");
    if (find_org_letter(l->w->n, ctl_arg(l->cmd, "need"), T(SERVICE_NEED), false, &need, origin, o))
        return o->code;
    fields_free(need);
    if (claimant[0]) {
        Dualsync__MemberRecord *rec = NULL;
        if (commands_own_member(l->w->n, claimant, &rec, o))
            return o->code;
        fold_free(&rec);
    }
    add_to(l->pe, origin);
    return DS_OK;
}

static int check_offer(struct letter *l, struct outcome *o)
{
    const char *community = ctl_arg(l->cmd, "community");
    const struct node_org *c = community ? node_find_org(l->w->n, community) : NULL;
    if (!node_org_addressable(c, ORG_COMMUNITY))
        return lookup_org_refusal(l->w->n, "community", community, ORG_COMMUNITY, o);
    add_to(l->pe, community);
    return DS_OK;
}

/* A card is one document: options not given keep their current value. */
static int check_card(struct letter *l, struct outcome *o)
{
    Dualsync__RegistrationCard *c = (Dualsync__RegistrationCard *)l->body;
    static const char *const fields[] = {"occupation", "willingness", "rest-time", "skills",
                                         "contact"};
    const ProtobufCMessage *cur = &l->rec->base;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        char name[32];
        snprintf(name, sizeof(name), "%s", fields[i]);
        if (!ctl_arg(l->cmd, fields[i])) {
            for (char *p = name; *p; p++)
                *p = *p == '-' ? '_' : *p;
            set_field(l->body, name, fields_get_str(cur, name));
        }
    }
    if (!ctl_arg(l->cmd, "categories"))
        for (size_t i = 0; i < l->rec->n_categories; i++) {
            c->categories = xrealloc(c->categories, (c->n_categories + 1) * sizeof(char *));
            c->categories[c->n_categories++] = xstrdup(l->rec->categories[i]);
        }
    else if (check_items(ctl_arg(l->cmd, "categories"), l->w->n->cfg.policy.service_categories,
                         "服务类别", "service category", o))
        return o->code;
    return DS_OK;
}

static int check_group_leader(struct letter *l, struct outcome *o)
{
    const char *leader = fields_get_str(l->body, "leader");
    Dualsync__MemberRecord *rec = NULL;
    if (leader[0] && commands_own_member(l->w->n, leader, &rec, o))
        return o->code;
    fold_free(&rec);
    return DS_OK;
}

/* Whether the same request defines the code earlier (group add, then group assign). */
static bool code_earlier(const struct letter *l, uint32_t type, const char *field,
                         const char *value)
{
    bool found = false;
    for (size_t i = 0; i < l->w->n_earlier && !found; i++) {
        const struct pending_event *e = &l->w->earlier[i];
        if (e->type != type)
            continue;
        ProtobufCMessage *b = wire_unpack_body(rules_find(type)->body, e->body, e->body_len);
        found = b && strcmp(fields_get_str(b, field), value) == 0;
        fields_free(b);
    }
    return found;
}

static int check_code_exists(struct letter *l, uint32_t type, const char *field, const char *zh,
                             const char *en, struct outcome *o)
{
    const char *value = fields_get_str(l->body, field);
    if (code_earlier(l, type, field, value))
        return DS_OK;
    ProtobufCMessage *found = find_by_code(l->w->n, type, field, value);
    if (!found)
        return fail(o, DS_ENOTFOUND, zh, en);
    fields_free(found);
    return DS_OK;
}

/* The introductions a report-in here may name: the registration's own (while open) and
 * the claims whose community is this one. */
static bool may_name(const struct letter *l, const char *intro)
{
    const Dualsync__MemberRecord *rec = l->rec;
    if (!rec->closed && strcmp(rec->intro_id, intro) == 0)
        return true;
    for (size_t i = 0; i < rec->n_claims; i++)
        if (strcmp(rec->claims[i]->intro_id, intro) == 0 &&
            strcmp(rec->claims[i]->community, l->w->n->cfg.org) == 0)
            return true;
    return false;
}

/* The introductions a report-in may name, "unit:a/3(单位甲)、unit:b/5(单位乙)", into buf. */
static void list_namable(const struct letter *l, char *buf, size_t size)
{
    const Dualsync__MemberRecord *rec = l->rec;
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i <= rec->n_claims && n < size; i++) {
        const Dualsync__MemberRecord *r = i == 0 ? rec : rec->claims[i - 1];
        if (!may_name(l, r->intro_id))
            continue;
        n += (size_t)snprintf(buf + n, size - n, "%s%s(%s)", n ? ", " : "", r->intro_id, r->unit);
    }
}

/* A report-in names the introduction letter the member brought (--intro, its id): the
 * broker binds the member to that letter's unit, and no other unit gets the community's
 * letters. Without --intro, the registration's own letter when no other unit claims the
 * member here; with claims, the operator must say which (WORKFLOWS.md, "whose member"). */
static int check_report_in(struct letter *l, struct outcome *o)
{
    char zh[1024], en[1024], namable[700];
    Dualsync__ReportIn *b = (Dualsync__ReportIn *)l->body;
    if (l->rec->closed && l->rec->n_claims == 0)
        return fail(o, DS_EINVAL, "该成员在本组织的登记已注销,不能再发函",
                    "this member's registration here is closed; no more letters about it");
    if (l->rec->confirmed || l->rec->reported ||
        done_earlier(l, T(REPORT_IN), l->rec->member, NULL, NULL))
        return fail(o, DS_EEXIST, "该党员已报到", "this member has already reported in");
    list_namable(l, namable, sizeof(namable));
    if (!b->intro[0] && !l->rec->closed && l->rec->n_claims == 0) {
        if (b->intro != protobuf_c_empty_string)
            free(b->intro);
        b->intro = xstrdup(l->rec->intro_id);
        return DS_OK;
    }
    if (b->intro[0] && may_name(l, b->intro))
        return DS_OK;
    if (!namable[0])
        return fail(o, DS_EINVAL, "该党员在本社区的登记已注销,没有可报到的介绍函",
                    "the member's registration here is closed: no introduction to report in with");
    snprintf(zh, sizeof(zh), "%s:有多个单位介绍了该党员,请用 --intro 写明党员所持介绍函的编号:%s",
             b->intro[0] ? "所写介绍函不属于该党员在本社区的登记" : "需要写明介绍函", namable);
    snprintf(en, sizeof(en),
             "%s: name the introduction letter the member brought with --intro, one of: %s",
             b->intro[0] ? "that introduction is not one of this member's here"
                         : "more than one unit introduced this member",
             namable);
    return fail(o, DS_EINVAL, zh, en);
}

/* A return may name a claim's introduction (--intro): that claim is returned, the
 * registration stays. Without --intro it closes the registration itself. */
static int check_close(struct letter *l, struct outcome *o)
{
    const char *intro = fields_get_str(l->body, "intro");
    char namable[700];
    if (!intro[0] || may_name(l, intro))
        return DS_OK;
    list_namable(l, namable, sizeof(namable));
    char zh[1024], en[1024];
    snprintf(zh, sizeof(zh), "介绍函「%.96s」不属于该党员在本社区的登记或认领(可写: %s)", intro,
             namable);
    snprintf(en, sizeof(en),
             "the introduction \"%.96s\" is not this member's registration or claim here (one "
             "of: %s)",
             intro, namable);
    return fail(o, DS_EINVAL, zh, en);
}

static int check_group_assign(struct letter *l, struct outcome *o)
{
    return check_code_exists(l, T(BUILDING_GROUP), "group", "没有此楼栋联络组(先 group add)",
                             "no such building group (group add first)", o);
}

static int check_team_join(struct letter *l, struct outcome *o)
{
    const Dualsync__TeamMembership *b = (const Dualsync__TeamMembership *)l->body;
    bool member_of = false;
    if (check_code_exists(l, T(VOLUNTEER_TEAM), "team", "没有此志愿服务队(先 team add)",
                          "no such volunteer team (team add first)", o))
        return o->code;
    for (size_t i = 0; i < l->rec->n_teams; i++)
        member_of |= strcmp(l->rec->teams[i], b->team) == 0;
    for (size_t i = 0; i < l->w->n_earlier; i++) { /* joins and leaves earlier in the request */
        const struct pending_event *e = &l->w->earlier[i];
        if (e->type != T(TEAM_MEMBERSHIP) || strcmp(e->member, l->rec->member) != 0)
            continue;
        Dualsync__TeamMembership *t = (Dualsync__TeamMembership *)wire_unpack_body(
            &dualsync__team_membership__descriptor, e->body, e->body_len);
        if (t && strcmp(t->team, b->team) == 0)
            member_of = !t->leave;
        wire_msg_free(t);
    }
    if (member_of && !b->leave)
        return fail(o, DS_EEXIST, "该党员已在此服务队", "the member is in this team already");
    if (!member_of && b->leave)
        return fail(o, DS_EINVAL, "该党员不在此服务队", "the member is not in this team");
    return DS_OK;
}

static int check_team(struct letter *l, struct outcome *o)
{
    return check_items(fields_get_str(l->body, "kind"), l->w->n->cfg.policy.team_kinds,
                       "服务队类型", "team kind", o);
}

static int check_activity(struct letter *l, struct outcome *o)
{
    return check_items(fields_get_str(l->body, "kind"), l->w->n->cfg.policy.activity_kinds,
                       "活动类型", "activity kind", o);
}

/* Whether the same request already records the member at this activity. */
static bool attended_earlier(const struct letter *l, const char *activity)
{
    bool found = false;
    for (size_t i = 0; i < l->w->n_earlier && !found; i++) {
        const struct pending_event *e = &l->w->earlier[i];
        if (e->type != T(ATTENDANCE) || strcmp(e->member, l->rec->member) != 0)
            continue;
        Dualsync__Attendance *a = (Dualsync__Attendance *)wire_unpack_body(
            &dualsync__attendance__descriptor, e->body, e->body_len);
        found = a && strcmp(a->activity, activity) == 0;
        wire_msg_free(a);
    }
    return found;
}

static int check_attendance(struct letter *l, struct outcome *o)
{
    ProtobufCMessage *act = NULL;
    char origin[IDS_ORG_MAX];
    const char *id = ctl_arg(l->cmd, "activity");
    if (find_org_letter(l->w->n, id, T(ACTIVITY), true, &act, origin, o))
        return o->code;
    Dualsync__Activity *a = (Dualsync__Activity *)act;
    Dualsync__Attendance *b = (Dualsync__Attendance *)l->body;
    set_field(l->body, "kind", a->kind);
    set_field(l->body, "date", a->date);
    if (!b->minutes)
        b->minutes = a->minutes;
    fields_free(act);
    bool twice = false;
    for (size_t i = 0; i < l->rec->n_attendance; i++)
        twice |= strcmp(l->rec->attendance[i]->activity, id) == 0;
    if (twice || attended_earlier(l, id))
        return fail(o, DS_EEXIST, "已登记该成员参加此活动",
                    "this member's attendance at this activity is already recorded");
    return DS_OK;
}

/* The period a feedback letter covers: --period, or --year, or the period of its date
 * under the configured cadence (the same periods `tasks` uses). */
static int feedback_period(struct letter *l, struct duties_period *period, struct outcome *o)
{
    const char *given = ctl_arg(l->cmd, "period"), *year = ctl_arg(l->cmd, "year");
    uint32_t per_year = l->w->n->cfg.policy.feedback_per_year;
    int rc = given  ? duties_period_parse(given, per_year, period)
             : year ? duties_period_parse(year, 1, period)
                    : duties_period_of(fields_get_str(l->body, "date"), per_year, period);
    if (rc != DS_OK || (year && strlen(year) != 4))
        return fail(o, DS_EINVAL, "--period 须为 YYYY 或 YYYY-Qn,--year 须为四位年份",
                    "--period must be YYYY or YYYY-Qn, --year a four-digit year");
    return DS_OK;
}

/* Attendance of the member recorded earlier in the same request counts too. */
static void count_earlier_attendance(struct letter *l, const char *member,
                                     const struct duties_period *p, Dualsync__Feedback *f)
{
    for (size_t i = 0; i < l->w->n_earlier; i++) {
        const struct pending_event *e = &l->w->earlier[i];
        if (e->type != T(ATTENDANCE) || strcmp(e->member, member) != 0)
            continue;
        Dualsync__Attendance *a = (Dualsync__Attendance *)wire_unpack_body(
            &dualsync__attendance__descriptor, e->body, e->body_len);
        if (a && strcmp(a->date, p->start) >= 0 && strcmp(a->date, p->end) <= 0) {
            f->activities++;
            f->minutes += a->minutes;
        }
        wire_msg_free(a);
    }
}

/* Whether a feedback letter already covers any day of period (the same rule `tasks` uses,
 * so a yearly letter also covers its quarters), in the record or earlier in the request. */
static bool period_covered(const struct letter *l, const struct duties_period *period)
{
    uint32_t per_year = l->w->n->cfg.policy.feedback_per_year;
    struct duties_period other;
    for (size_t i = 0; i < l->rec->n_feedback; i++)
        if (duties_feedback_period(l->rec->feedback[i], per_year, &other) == DS_OK &&
            duties_period_overlaps(period, &other))
            return true;
    for (size_t i = 0; i < l->w->n_earlier; i++) {
        const struct pending_event *e = &l->w->earlier[i];
        if (e->type != T(FEEDBACK) || strcmp(e->member, l->rec->member) != 0)
            continue;
        Dualsync__Feedback *f = (Dualsync__Feedback *)wire_unpack_body(
            &dualsync__feedback__descriptor, e->body, e->body_len);
        bool overlaps = f && duties_period_parse(f->period, per_year, &other) == DS_OK &&
                        duties_period_overlaps(period, &other);
        wire_msg_free(f);
        if (overlaps)
            return true;
    }
    return false;
}

static int check_feedback(struct letter *l, struct outcome *o)
{
    Dualsync__Feedback *f = (Dualsync__Feedback *)l->body;
    struct duties_period period;
    struct duties_figures figures;
    if (feedback_period(l, &period, o) ||
        check_items(ctl_arg(l->cmd, "lead"), l->w->n->cfg.policy.lead_items, "带头事项",
                    "take-the-lead item", o))
        return o->code;
    if (!f->rating)
        return fail(o, DS_EINVAL, "--rating 须为 excellent、good、fair 或 poor(优秀/良好/一般/差)",
                    "--rating must be excellent, good, fair or poor");
    set_field(l->body, "period", period.label);
    f->year = (uint32_t)atoi(period.label);
    if (period_covered(l, &period))
        return fail(o, DS_EEXIST, "该成员本期的反馈函已发出(期间重叠)",
                    "a feedback letter covering this period was already sent for this member");
    /* The figures come from the records, not from the operator. */
    duties_participation(l->rec, period.start, period.end, &figures);
    f->activities = figures.activities;
    /* the letter's field is 32 bits: a sum beyond it says "at least" rather than wrapping */
    f->minutes = figures.minutes > UINT32_MAX ? UINT32_MAX : (uint32_t)figures.minutes;
    count_earlier_attendance(l, l->rec->member, &period, f);
    return DS_OK;
}

static int check_opinion_reply(struct letter *l, struct outcome *o)
{
    const char *req = fields_get_str(l->body, "request");
    if (done_earlier(l, T(OPINION_REPLY), NULL, "request", req))
        return fail(o, DS_EEXIST, "该征求意见函已答复", "this opinion request is already answered");
    if (!l->rec) {
        ProtobufCMessage *r = NULL;
        char origin[IDS_ORG_MAX];
        if (find_org_letter(l->w->n, req, T(OPINION_REQUEST), false, &r, origin, o))
            return o->code;
        fields_free(r);
        if (referenced_by(l->w->n, T(OPINION_REPLY), "request", req))
            return fail(o, DS_EEXIST, "该征求意见函已答复",
                        "this opinion request is already answered");
        add_to(l->pe, origin);
        return DS_OK;
    }
    for (size_t i = 0; i < l->rec->n_opinions; i++)
        if (strcmp(l->rec->opinions[i]->event_id, req) == 0)
            return l->rec->opinions[i]->reply_id[0]
                       ? fail(o, DS_EEXIST, "该征求意见函已答复",
                              "this opinion request is already answered")
                       : DS_OK;
    return fail(o, DS_ENOTFOUND, "该成员没有此征求意见函",
                "no such opinion request for this member");
}

/* What the same request already said about a notice counts as said. */
static void notice_said_earlier(const struct letter *l, const char *notice, bool *posted,
                                bool *reported)
{
    for (size_t k = 0; k < l->w->n_earlier; k++) {
        const struct pending_event *pe = &l->w->earlier[k];
        if (pe->type != T(NOTICE_RESPONSE) || strcmp(pe->member, l->rec->member) != 0)
            continue;
        Dualsync__NoticeResponse *er = (Dualsync__NoticeResponse *)wire_unpack_body(
            &dualsync__notice_response__descriptor, pe->body, pe->body_len);
        if (er && strcmp(er->notice, notice) == 0) {
            *posted |= er->status == DUALSYNC__NOTICE_STATUS__NOTICE_POSTED;
            *reported |= er->status != DUALSYNC__NOTICE_STATUS__NOTICE_POSTED;
        }
        wire_msg_free(er);
    }
}

static int check_notice_response(struct letter *l, struct outcome *o)
{
    Dualsync__NoticeResponse *r = (Dualsync__NoticeResponse *)l->body;
    const bool posting = r->status == DUALSYNC__NOTICE_STATUS__NOTICE_POSTED;
    for (size_t i = 0; i < l->rec->n_notices; i++) {
        const Dualsync__NoticeEntry *e = l->rec->notices[i];
        if (strcmp(e->event_id, r->notice) != 0)
            continue;
        bool posted = e->posted_date[0], reported = e->outcome != 0;
        notice_said_earlier(l, r->notice, &posted, &reported);
        if (posting && posted)
            return fail(o, DS_EEXIST, "已确认张贴", "posting is already confirmed");
        if (!posting && !posted)
            return fail(o, DS_EINVAL, "须先确认张贴,再反馈有无异议",
                        "confirm the posting before reporting objections");
        if (!posting && reported)
            return fail(o, DS_EEXIST, "已反馈公示结果", "the notice's outcome is already reported");
        return DS_OK;
    }
    return fail(o, DS_ENOTFOUND, "该成员没有此公示", "no such notice for this member");
}

static int check_difficulty_resolved(struct letter *l, struct outcome *o)
{
    const char *id = fields_get_str(l->body, "difficulty");
    if (done_earlier(l, T(DIFFICULTY_RESOLVED), l->rec->member, "difficulty", id))
        return fail(o, DS_EEXIST, "该困难已标记解决", "this difficulty is already resolved");
    for (size_t i = 0; i < l->rec->n_difficulties; i++)
        if (strcmp(l->rec->difficulties[i]->event_id, id) == 0)
            return l->rec->difficulties[i]->resolved_id[0]
                       ? fail(o, DS_EEXIST, "该困难已标记解决",
                              "this difficulty is already resolved")
                       : DS_OK;
    return fail(o, DS_ENOTFOUND, "该成员没有此困难记录", "no such difficulty for this member");
}

static int check_claim_decision(struct letter *l, struct outcome *o)
{
    const char *decision = ctl_arg(l->cmd, "decision"), *id = ctl_arg(l->cmd, "claim");
    ProtobufCMessage *claim = NULL;
    char origin[IDS_ORG_MAX];
    if (!decision || (strcmp(decision, "approve") != 0 && strcmp(decision, "decline") != 0))
        return fail(o, DS_EINVAL, "--decision 须为 approve 或 decline",
                    "--decision must be approve or decline");
    if (find_org_letter(l->w->n, id, T(SERVICE_CLAIM), false, &claim, origin, o))
        return o->code;
    fields_free(claim);
    if (referenced_by(l->w->n, T(CLAIM_DECISION), "claim", id) ||
        done_earlier(l, T(CLAIM_DECISION), NULL, "claim", id))
        return fail(o, DS_EEXIST, "该认领已有决定", "this claim is already decided");
    ((Dualsync__ClaimDecision *)l->body)->approved = strcmp(decision, "approve") == 0;
    add_to(l->pe, origin);
    return DS_OK;
}

struct approval_search {
    const char *claim;
    bool approved;
};

static bool match_approval(const struct event *ev, void *arg)
{
    struct approval_search *a = arg;
    Dualsync__ClaimDecision *d = (Dualsync__ClaimDecision *)wire_unpack_body(
        &dualsync__claim_decision__descriptor, ev->body, ev->body_len);
    if (d && strcmp(d->claim, a->claim) == 0)
        a->approved = d->approved;
    wire_msg_free(d);
    return true;
}

/* Whether the community approved the claim, before or earlier in this request. */
static bool claim_approved(const struct letter *l, const char *claim)
{
    struct approval_search a = {claim, false};
    ProtobufCMessage *b = earlier_letter(l, T(CLAIM_DECISION), NULL, "claim", claim);
    if (b)
        a.approved = ((Dualsync__ClaimDecision *)b)->approved;
    else
        eventlog_type_events(l->w->n->log, T(CLAIM_DECISION), match_approval, &a);
    fields_free(b);
    return a.approved;
}

static int check_fulfilled(struct letter *l, struct outcome *o)
{
    ProtobufCMessage *need = NULL, *claim = NULL;
    char origin[IDS_ORG_MAX], mine[IDS_ORG_MAX];
    const char *need_id = fields_get_str(l->body, "need");
    if (find_org_letter(l->w->n, need_id, T(SERVICE_NEED), true, &need, mine, o) ||
        find_org_letter(l->w->n, fields_get_str(l->body, "claim"), T(SERVICE_CLAIM), false, &claim,
                        origin, o)) {
        fields_free(need);
        return o->code;
    }
    bool same = strcmp(fields_get_str(claim, "need"), need_id) == 0;
    fields_free(need);
    fields_free(claim);
    if (!same)
        return fail(o, DS_EINVAL, "该认领不是针对此需求的", "that claim is not for this need");
    if (referenced_by(l->w->n, T(SERVICE_FULFILLED), "need", need_id) ||
        done_earlier(l, T(SERVICE_FULFILLED), NULL, "need", need_id))
        return fail(o, DS_EEXIST, "该需求已登记完成", "this need is already fulfilled");
    if (!claim_approved(l, fields_get_str(l->body, "claim")))
        return fail(o, DS_EINVAL, "该认领尚未获同意(先 claim decide --decision approve)",
                    "that claim is not approved (claim decide --decision approve first)");
    add_to(l->pe, origin);
    return DS_OK;
}

/* An erasure is for good: once is enough. (It may follow a close: a member who left the
 * unit, or died, is erased after the registration ended.) */
static int check_erase(struct letter *l, struct outcome *o)
{
    const Dualsync__MemberRecord *rec = l->rec;
    char *refused = node_intro_refused(l->w->n, rec), *claimed = node_intro_claimed(l->w->n, rec);
    bool lost = refused != NULL, contested = claimed != NULL && !rec->confirmed;
    free(refused);
    free(claimed);
    if (rec->erased)
        return fail(o, DS_EEXIST, "该成员的个人信息已删除",
                    "this member's personal data is erased already");
    if (rec->closed == DUALSYNC__CLOSE_REASON__CLOSE_RELEASED)
        return fail(o, DS_EINVAL, "该成员已转出本单位,不再由本单位删除",
                    "the member left this unit (released): no longer this unit's to erase");
    if (lost)
        return fail(o, DS_EROUTE, "街道 broker 拒绝了本单位对该成员的介绍函(该成员由其他单位登记)",
                    "the broker refused this unit's introduction of the member (registered by "
                    "another unit)");
    if (contested)
        return fail(o, DS_EINVAL, "另有单位介绍了该党员,须待社区报到确认后才能删除",
                    "another unit introduced this member too: the community's report-in decides "
                    "whose member it is before an erasure");
    return DS_OK;
}

/* ---------------------------------------------------------------- the table */

typedef int (*letter_check)(struct letter *l, struct outcome *o);

static const struct letter_kind {
    const char *cmd;
    uint32_t type;
    const char *options; /* copied into body fields of the same name */
    letter_check check;
} letter_kinds[] = {
    {"handling send", T(HANDLING_RESULT), "action,text,date", check_handling},
    {"member release", T(UNIT_RELEASE), "text,date", NULL},
    {"member erase", T(MEMBER_ERASE), "reason,date", check_erase},
    {"opinion request", T(OPINION_REQUEST), "kind,subject,due,date", check_opinion_request},
    {"notice post", T(PUBLIC_NOTICE), "title,matter,start,working-days", check_notice},
    {"visit record", T(UNIT_VISIT), "text,date", NULL},
    {"difficulty raise", T(DIFFICULTY), "text,date", NULL},
    {"claim send", T(SERVICE_CLAIM), "need,claimant,text,date", check_claim},
    {"offer send", T(RESOURCE_OFFER), "title,text,date", check_offer},
    {"report", T(REPORT_IN), "date,intro", check_report_in},
    {"card set", T(REGISTRATION_CARD), "occupation,willingness,rest-time,skills,categories,contact",
     check_card},
    {"registration close", T(REGISTRATION_CLOSE), "reason,text,date,intro", check_close},
    {"group add", T(BUILDING_GROUP), "group,title,leader", check_group_leader},
    {"group assign", T(GROUP_ASSIGN), "group,date", check_group_assign},
    {"team add", T(VOLUNTEER_TEAM), "team,title,kind", check_team},
    {"team join", T(TEAM_MEMBERSHIP), "team,leave,date", check_team_join},
    {"activity add", T(ACTIVITY), "kind,title,date,minutes", check_activity},
    {"attendance record", T(ATTENDANCE), "activity,minutes", check_attendance},
    {"liaison add", T(LIAISON_MEMBER), "name,side,org,role,leave", NULL},
    {"feedback send", T(FEEDBACK), "rating,non-participation,poor-conduct,lead,text,date",
     check_feedback},
    {"opinion reply", T(OPINION_REPLY), "request,verdict,text,date", check_opinion_reply},
    {"notice respond", T(NOTICE_RESPONSE), "notice,status,text,date", check_notice_response},
    {"difficulty resolve", T(DIFFICULTY_RESOLVED), "difficulty,text,date",
     check_difficulty_resolved},
    {"need publish", T(SERVICE_NEED), "kind,title,text,date", NULL},
    {"claim decide", T(CLAIM_DECISION), "claim,text,date", check_claim_decision},
    {"need fulfil", T(SERVICE_FULFILLED), "need,claim,text,date", check_fulfilled},
};

static const struct letter_kind *find_kind(const char *cmd)
{
    for (size_t i = 0; i < sizeof(letter_kinds) / sizeof(letter_kinds[0]); i++)
        if (strcmp(letter_kinds[i].cmd, cmd) == 0)
            return &letter_kinds[i];
    return NULL;
}

int letters_seal(const struct rule *r, const char *member, ProtobufCMessage *body,
                 struct pending_event *pe, struct outcome *o)
{
    char why[FIELDS_WHY_MAX];
    uint8_t *bytes = NULL;
    size_t len = 0;
    wire_pack(body, &bytes, &len);
    if (!rules_body_valid(r, bytes, len, why)) {
        free(bytes);
        return bad_value(o, why);
    }
    snprintf(pe->member, sizeof(pe->member), "%s", member ? member : "");
    pe->type = r->type;
    pe->body = bytes;
    pe->body_len = len;
    return DS_OK;
}

/* Whether this letter names a member: always, never, or (opinions) when --member is given. */
static bool names_member(const struct rule *r, const Dualsync__CtlCommand *cmd)
{
    return r->scope == SCOPE_MEMBER || (r->scope == SCOPE_EITHER && ctl_arg(cmd, "member"));
}

/* The community's letters about a member wait for the report-in that confirms the unit
 * (the broker would refuse them): all but the report-in and a return. */
static int awaits_report_in(const struct write_ctx *w, uint32_t type,
                            const Dualsync__MemberRecord *rec, struct outcome *o)
{
    if (w->n->kind != ORG_COMMUNITY || rec->confirmed || type == T(REPORT_IN) ||
        type == T(REGISTRATION_CLOSE))
        return DS_OK;
    for (size_t i = 0; i < w->n_earlier; i++) /* a report-in earlier in the same request */
        if (w->earlier[i].type == T(REPORT_IN) && strcmp(w->earlier[i].member, rec->member) == 0)
            return DS_OK;
    return fail(o, DS_EINVAL,
                "该党员尚未报到:社区在报到(确认其所属单位)之后才能发送此函件;先 report --member",
                "the member has not reported in: the community sends this after the report-in "
                "that confirms the member's unit (report --member first)");
}

static int write_letter(struct write_ctx *w, const Dualsync__CtlCommand *cmd,
                        struct pending_event *pe, struct outcome *o)
{
    const struct letter_kind *k = find_kind(cmd->cmd);
    const struct rule *r = rules_find(k->type);
    struct letter l = {w, cmd, NULL, NULL, pe};
    const char *member = NULL;
    if (require_side(w->n, r->author, o))
        return o->code;
    if (names_member(r, cmd) &&
        (member_arg(cmd, &member, o) || (k->type == T(REPORT_IN) || k->type == T(MEMBER_ERASE)
                                             ? commands_own_member_any(w->n, member, &l.rec, o)
                                             : commands_own_member(w->n, member, &l.rec, o))))
        return o->code;
    l.body = fields_new(r->body);
    if (take_args(cmd, l.body, k->options, o) == DS_OK) {
        default_today(l.body, "date");
        /* the letter's own faults first, then whether its time has come */
        if ((!k->check || k->check(&l, o) == DS_OK) &&
            (!l.rec || awaits_report_in(w, k->type, l.rec, o) == DS_OK))
            letters_seal(r, member, l.body, pe, o);
    }
    fields_free(l.body);
    fold_free(&l.rec);
    return o->code;
}

/* ---------------------------------------------------------------- registrations */

static bool moved_out_earlier(const struct write_ctx *w, const char *member)
{
    for (size_t i = 0; i < w->n_earlier; i++)
        if (w->earlier[i].type == T(MOVE_OUT) && strcmp(w->earlier[i].member, member) == 0)
            return true;
    return false;
}

/* Whether this unit may introduce the member to community, given what it holds. DS_OK to
 * write (*skip set when the same letter was sent already and --skip-existing asks to
 * skip it), or an error. */
static int may_introduce(struct write_ctx *w, const Dualsync__CtlCommand *cmd, const char *member,
                         const char *community, bool *skip, struct outcome *o)
{
    Dualsync__MemberRecord *rec = NULL;
    if (moved_out_earlier(w, member) || eventlog_member(w->n->log, member, &rec) != DS_OK)
        return DS_OK;
    bool mine = strcmp(rec->unit, w->n->cfg.org) == 0;
    bool same = mine && strcmp(rec->community, community) == 0;
    bool open = rec->unit[0] && !rec->closed;
    bool released = rec->closed == DUALSYNC__CLOSE_REASON__CLOSE_RELEASED;
    bool none = !rec->unit[0], erased = rec->erased;
    fold_free(&rec);
    if (erased)
        return fail(o, DS_EINVAL, "该成员的个人信息已删除,不能再为其发函",
                    "this member's personal data was erased: no more letters about the member");
    if (open && same && ctl_flag(cmd, "skip-existing")) {
        *skip = true;
        return DS_OK;
    }
    if (open && same)
        return fail(o, DS_EEXIST, "已向该社区发出过此成员的介绍函",
                    "an introduction letter for this member was already sent to this community");
    if (none || released || (!open && mine))
        return DS_OK;
    if (!mine)
        return fail(o, DS_EROUTE, "该成员由其他单位管理", "this member is managed by another unit");
    return fail(o, DS_EEXIST, "该成员已登记在另一社区;迁居请用 member move(原登记随之注销)",
                "this member is registered with another community; for a move use member move "
                "(it closes the old registration)");
}

static int write_intro(struct write_ctx *w, const Dualsync__CtlCommand *cmd,
                       struct pending_event *pe, struct outcome *o)
{
    const struct rule *r = rules_find(T(INTRODUCTION));
    const char *member = NULL, *community = ctl_arg(cmd, "community");
    bool skip = false;
    if (require_side(w->n, ORG_UNIT, o) || member_arg(cmd, &member, o))
        return o->code;
    const struct node_org *c = community ? node_find_org(w->n, community) : NULL;
    if (!node_org_addressable(c, ORG_COMMUNITY))
        return lookup_org_refusal(w->n, "community", community, ORG_COMMUNITY, o);
    if (may_introduce(w, cmd, member, community, &skip, o))
        return o->code;
    if (skip)
        return DS_OK; /* pe->type stays 0: nothing to write */
    ProtobufCMessage *body = fields_new(r->body);
    Dualsync__Introduction *b = (Dualsync__Introduction *)body;
    if (take_args(cmd, body, "community,name,contact,report-days,date", o) == DS_OK) {
        default_today(body, "date");
        if (!b->report_days)
            b->report_days = w->n->cfg.report_days;
        letters_seal(r, member, body, pe, o);
    }
    fields_free(body);
    return o->code;
}

/* A move: the old registration closes (move-out, to the old community) and the member is
 * introduced to the new community, in one request. The name comes from the record. */
static int write_move(struct write_ctx *w, const Dualsync__CtlCommand *cmd,
                      struct pending_event *pe, struct outcome *o)
{
    const struct rule *r = rules_find(T(MOVE_OUT));
    const char *member = NULL, *community = ctl_arg(cmd, "community");
    Dualsync__MemberRecord *rec = NULL;
    if (require_side(w->n, ORG_UNIT, o) || member_arg(cmd, &member, o) ||
        commands_own_member(w->n, member, &rec, o))
        return o->code;
    if (community && strcmp(rec->community, community) == 0) {
        fold_free(&rec);
        return fail(o, DS_EEXIST, "该成员已登记在此社区", "the member is registered there already");
    }
    ProtobufCMessage *body = fields_new(r->body);
    if (take_args(cmd, body, "date", o) == DS_OK) {
        default_today(body, "date");
        letters_seal(r, member, body, pe, o);
    }
    fields_free(body);
    if (o->code == DS_OK) {
        /* The introduction is the second event of this command: it sees the move-out. */
        struct pending_event *all = xcalloc(w->n_earlier + 1, sizeof(*all));
        memcpy(all, w->earlier, w->n_earlier * sizeof(*all));
        all[w->n_earlier] = *pe;
        struct write_ctx w2 = {w->n, all, w->n_earlier + 1};
        Dualsync__CtlCommand intro = *cmd;
        Dualsync__CtlArg name = DUALSYNC__CTL_ARG__INIT, *args[32];
        size_t n = 0;
        for (size_t i = 0; i < cmd->n_args && n < 31; i++)
            args[n++] = cmd->args[i];
        name.key = "name";
        name.value = rec->name;
        args[n++] = &name;
        intro.args = args;
        intro.n_args = n;
        write_intro(&w2, &intro, pe + 1, o);
        free(all);
    }
    fold_free(&rec);
    return o->code;
}

/* ---------------------------------------------------------------- lookup */

static const struct {
    const char *cmd;
    write_fn fn;
} special[] = {
    {"intro send", write_intro},
    {"member move", write_move},
    {"letter correct", amend_correct},
    {"letter withdraw", amend_withdraw},
};

write_fn letters_find(const char *cmd)
{
    for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
        if (strcmp(special[i].cmd, cmd) == 0)
            return special[i].fn;
    return find_kind(cmd) ? write_letter : NULL;
}

void letters_pending_free(struct pending_event *pe)
{
    free(pe->body);
    for (size_t i = 0; i < pe->n_to; i++)
        free(pe->to[i]);
    memset(pe, 0, sizeof(*pe));
}
