/* amend: corrections (更正) and withdrawals (撤回) of letters about a member, as letters.
 * A paper letter sent with a mistake gets a correction slip or is withdrawn; here the
 * author sends a signed Correction or Withdrawal naming its letter, and both sides fold
 * it (common/fold.c). The rules (docs/WORKFLOWS.md, "Corrections and withdrawals"):
 *   - only the letter's author, and only while the member's registration with it is open;
 *   - a correction changes the fields that make sense for its letter (introduction: name,
 *     contact; feedback: rating, text; handling result: action, text; visit and
 *     difficulty: text) and says why;
 *   - a withdrawal takes out a report-in, feedback letter, attendance, handling result,
 *     visit, difficulty, opinion request or public notice; not an introduction (move or
 *     release the member), not a letter already withdrawn, and not a feedback letter the
 *     unit has answered with a handling result (that is withdrawn first). */
#include "commands.h"

#include "ctl.h"
#include "err.h"
#include "fields.h"
#include "fold.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T(x) DUALSYNC__EVENT_TYPE__EVENT_##x

/* What may be corrected in each kind of letter. */
static const struct {
    uint32_t type;
    const char *fields; /* options of "letter correct" that apply */
} correctable[] = {
    {T(INTRODUCTION), "name,contact"},
    {T(FEEDBACK), "rating,text"},
    {T(HANDLING_RESULT), "action,text"},
    {T(UNIT_VISIT), "text"},
    {T(DIFFICULTY), "text"},
};

static const uint32_t withdrawable[] = {
    T(REPORT_IN),  T(FEEDBACK),   T(ATTENDANCE),      T(HANDLING_RESULT),
    T(UNIT_VISIT), T(DIFFICULTY), T(OPINION_REQUEST), T(PUBLIC_NOTICE),
};

static const char *const correction_options[] = {"name", "contact", "rating", "text", "action"};

/* The letter the command names (--letter), which must be this node's own letter about a
 * member whose registration with us is open: its type in *type, its member's record in
 * *rec (caller frees). */
static int own_letter(struct node *n, const Dualsync__CtlCommand *cmd, uint32_t *type,
                      char member[IDS_MEMBER_MAX + 1], Dualsync__MemberRecord **rec,
                      struct outcome *o)
{
    const char *id = ctl_arg(cmd, "letter");
    struct event ev;
    uint8_t *raw = NULL;
    char zh[256], en[256];
    int rc = letters_load_event(n, id, &ev, &raw);
    if (rc == DS_EINVAL)
        return fail(o, DS_EINVAL, "--letter 须为函件编号(组织/序号,如 unit:tax/12)",
                    "--letter must be a letter id (org/seq, e.g. unit:tax/12)");
    if (rc != DS_OK) {
        snprintf(zh, sizeof(zh), "本节点没有函件「%.96s」", id);
        snprintf(en, sizeof(en), "no letter '%.96s' here", id);
        return fail(o, DS_ENOTFOUND, zh, en);
    }
    bool mine = strcmp(ev.origin, n->cfg.org) == 0, about_member = ev.member[0] != '\0';
    *type = ev.type;
    snprintf(member, IDS_MEMBER_MAX + 1, "%s", ev.member);
    wire_event_release(&ev);
    free(raw);
    if (!mine)
        return fail(o, DS_ESIDE, "只能更正或撤回本组织发出的函件(对方的函件请对方更正)",
                    "only the org that sent a letter may correct or withdraw it");
    if (!about_member)
        return fail(o, DS_EINVAL, "只能更正或撤回关于党员的函件",
                    "only letters about a member "
                    "can be corrected or withdrawn");
    return commands_own_member(n, member, rec, o);
}

static bool type_in(uint32_t type, const uint32_t *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == type)
            return true;
    return false;
}

static bool answered_by_handling(const Dualsync__MemberRecord *rec, const char *feedback_id)
{
    for (size_t i = 0; i < rec->n_handling; i++)
        if (strcmp(rec->handling[i]->feedback_id, feedback_id) == 0)
            return true;
    return false;
}

static int not_counted(const char *id, struct outcome *o)
{
    char zh[256], en[256];
    snprintf(zh, sizeof(zh), "函件「%.96s」已撤回或不属于当前登记", id);
    snprintf(en, sizeof(en),
             "letter '%.96s' is withdrawn already or not of the current "
             "registration",
             id);
    return fail(o, DS_EINVAL, zh, en);
}

/* Builds the body from the options in keys plus target = --letter, and seals it. */
static int seal_amendment(uint32_t type, const Dualsync__CtlCommand *cmd, const char *member,
                          const char *keys, struct pending_event *pe, struct outcome *o)
{
    const struct rule *r = rules_find(type);
    ProtobufCMessage *body = fields_new(r->body);
    char why[FIELDS_WHY_MAX], today[11];
    int rc = fields_set(body, "target", ctl_arg(cmd, "letter"), why);
    for (const char *p = keys; rc == DS_OK && *p;) {
        char key[32];
        size_t n = strcspn(p, ",");
        snprintf(key, sizeof(key), "%.*s", (int)n, p);
        p += n + (p[n] == ',');
        const char *v = ctl_arg(cmd, key);
        if (v && !ids_text_valid(v, IDS_TEXT_MAX, false)) {
            snprintf(why, sizeof(why),
                     "--%s:须为不含控制字符的 UTF-8 文字\n--%s: UTF-8 text "
                     "without control characters",
                     key, key);
            rc = DS_EINVAL;
        } else if (v) {
            rc = fields_set(body, key, v, why);
        }
    }
    if (rc == DS_OK && !fields_get_str(body, "date")[0]) {
        commands_today(today);
        fields_set(body, "date", today, why);
    }
    if (rc != DS_OK) {
        char half[FIELDS_WHY_MAX], zh[FIELDS_WHY_MAX + 32];
        fields_why_zh(why, half, sizeof(half));
        snprintf(zh, sizeof(zh), "输入无效:%s", half);
        fail(o, DS_EINVAL, zh, fields_why_en(why));
    } else {
        letters_seal(r, member, body, pe, o);
    }
    fields_free(body);
    return o->code;
}

int amend_correct(struct write_ctx *w, const Dualsync__CtlCommand *cmd, struct pending_event *pe,
                  struct outcome *o)
{
    char member[IDS_MEMBER_MAX + 1], zh[256], en[256];
    Dualsync__MemberRecord *rec = NULL;
    uint32_t type = 0;
    if (own_letter(w->n, cmd, &type, member, &rec, o))
        return o->code;
    const char *allowed = NULL;
    for (size_t i = 0; i < sizeof(correctable) / sizeof(correctable[0]); i++)
        if (correctable[i].type == type)
            allowed = correctable[i].fields;
    if (!allowed) {
        fold_free(&rec);
        snprintf(zh, sizeof(zh),
                 "%s不能更正:可更正介绍函、反馈函、查处结果、走访记录和困难;"
                 "其他函件可撤回后重发",
                 rules_type_name_zh(type));
        snprintf(en, sizeof(en),
                 "a %s cannot be corrected: introductions, feedback letters, "
                 "handling results, visits and difficulties can; withdraw others and send them "
                 "again",
                 rules_type_name(type));
        return fail(o, DS_EINVAL, zh, en);
    }
    for (size_t i = 0; i < sizeof(correction_options) / sizeof(correction_options[0]); i++) {
        const char *opt = correction_options[i];
        size_t len = strlen(opt);
        const char *hit = strstr(allowed, opt);
        bool applies = hit && (hit[len] == ',' || hit[len] == '\0');
        if (ctl_arg(cmd, opt) && !applies) {
            fold_free(&rec);
            snprintf(zh, sizeof(zh), "--%s 不适用于%s(可更正: %s)", opt, rules_type_name_zh(type),
                     allowed);
            snprintf(en, sizeof(en), "--%s does not apply to a %s (correctable: %s)", opt,
                     rules_type_name(type), allowed);
            return fail(o, DS_EINVAL, zh, en);
        }
    }
    bool counted = fold_holds(rec, ctl_arg(cmd, "letter"));
    fold_free(&rec);
    if (!counted)
        return not_counted(ctl_arg(cmd, "letter"), o);
    return seal_amendment(T(CORRECTION), cmd, member, "reason,date,name,contact,text,rating,action",
                          pe, o);
}

int amend_withdraw(struct write_ctx *w, const Dualsync__CtlCommand *cmd, struct pending_event *pe,
                   struct outcome *o)
{
    char member[IDS_MEMBER_MAX + 1], zh[256], en[256];
    Dualsync__MemberRecord *rec = NULL;
    uint32_t type = 0;
    const char *id = ctl_arg(cmd, "letter");
    if (own_letter(w->n, cmd, &type, member, &rec, o))
        return o->code;
    int rc = DS_OK;
    if (!type_in(type, withdrawable, sizeof(withdrawable) / sizeof(withdrawable[0]))) {
        snprintf(zh, sizeof(zh), "%s不能撤回%s", rules_type_name_zh(type),
                 type == T(INTRODUCTION) ? "(介绍函有误请更正;成员不在本单位或已迁居请用 member "
                                           "release / member move)"
                                         : "");
        snprintf(en, sizeof(en), "a %s cannot be withdrawn%s", rules_type_name(type),
                 type == T(INTRODUCTION) ? " (correct it, or use member release / member move)"
                                         : "");
        rc = fail(o, DS_EINVAL, zh, en);
    } else if (!fold_holds(rec, id)) {
        rc = not_counted(id, o);
    } else if (type == T(FEEDBACK) && answered_by_handling(rec, id)) {
        rc = fail(o, DS_EINVAL, "单位已对该反馈函作出查处结果,须由单位先撤回查处结果",
                  "the unit has answered this feedback letter with a handling result; the unit "
                  "must withdraw that first");
    }
    fold_free(&rec);
    if (rc != DS_OK)
        return rc;
    return seal_amendment(T(WITHDRAWAL), cmd, member, "reason,date", pe, o);
}
