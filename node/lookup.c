/* lookup: see lookup.h. The directory is small (a street's orgs), so a scan per lookup
 * costs nothing next to the write it precedes. */
#include "lookup.h"

#include "ctl.h"
#include "err.h"
#include "fold.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct org_scan {
    const char *text;
    enum org_kind kind;
    const struct node_org *by_code, *by_name, *nearest;
    size_t codes, names, nearest_d;
};

static bool kind_fits(const struct org_scan *s, enum org_kind k)
{
    return s->kind == ORG_NONE ? k != ORG_STREET : k == s->kind;
}

static bool scan_org(const char *id, void *value, void *arg)
{
    struct org_scan *s = arg;
    const struct node_org *org = value;
    const char *code = strchr(id, ':');
    if (!code || !kind_fits(s, org->kind))
        return true;
    code++;
    if (strcmp(code, s->text) == 0) {
        s->by_code = org;
        s->codes++;
    }
    if (org->name[0] && strcmp(org->name, s->text) == 0) {
        s->by_name = org;
        s->names++;
    }
    size_t d = ids_edit_distance(s->text, code), d_id = ids_edit_distance(s->text, id);
    if (d_id < d)
        d = d_id;
    if (d < s->nearest_d) {
        s->nearest = org;
        s->nearest_d = d;
    }
    return true;
}

int lookup_org(const struct node *n, const char *text, enum org_kind kind, char out[IDS_ORG_MAX])
{
    const struct node_org *exact = text ? node_find_org(n, text) : NULL;
    if (exact && (kind == ORG_NONE ? exact->kind != ORG_STREET : exact->kind == kind)) {
        snprintf(out, IDS_ORG_MAX, "%s", exact->org);
        return DS_OK;
    }
    if (!text || !*text)
        return DS_ENOTFOUND;
    struct org_scan s = {.text = text, .kind = kind, .nearest_d = 64};
    strmap_each(n->orgs, scan_org, &s);
    if (s.codes > 1 || (!s.codes && s.names > 1))
        return DS_EEXIST;
    const struct node_org *found = s.codes ? s.by_code : s.by_name;
    if (!found)
        return DS_ENOTFOUND;
    snprintf(out, IDS_ORG_MAX, "%s", found->org);
    return DS_OK;
}

int lookup_org_refusal(const struct node *n, const char *option, const char *text,
                       enum org_kind kind, struct outcome *o)
{
    const char *what_zh = kind == ORG_COMMUNITY ? "社区" : kind == ORG_UNIT ? "单位" : "组织";
    const char *what_en = kind == ORG_COMMUNITY ? "community" : kind == ORG_UNIT ? "unit" : "org";
    char zh[512], en[512];
    struct org_scan s = {.text = text ? text : "", .kind = kind, .nearest_d = 64};
    strmap_each(n->orgs, scan_org, &s);
    if (!text || !*text) {
        snprintf(zh, sizeof(zh), "缺少 --%s(街道目录中的%s)", option, what_zh);
        snprintf(en, sizeof(en), "--%s is missing (a %s of the street directory)", option, what_en);
    } else if (s.nearest && s.nearest_d <= 3) {
        snprintf(zh, sizeof(zh), "--%s「%.60s」不是街道目录中的%s;是否要输入 %s(%.60s)?", option,
                 text, what_zh, s.nearest->org, s.nearest->name);
        snprintf(en, sizeof(en),
                 "--%s '%.60s' is not a %s of the street directory; did you mean %s (%.60s)?",
                 option, text, what_en, s.nearest->org, s.nearest->name);
    } else {
        snprintf(zh, sizeof(zh), "--%s「%.60s」不是街道目录中的%s(用 orgs 查看目录)", option, text,
                 what_zh);
        snprintf(en, sizeof(en), "--%s '%.60s' is not a %s of the street directory (see orgs)",
                 option, text, what_en);
    }
    return fail(o, DS_ENOTFOUND, zh, en);
}

/* member in one case (upper or lower) into out; false when that changes nothing. */
static bool recased(const char *member, bool upper, char out[IDS_MEMBER_MAX + 1])
{
    size_t i = 0;
    for (; member[i] && i < IDS_MEMBER_MAX; i++)
        out[i] =
            (char)(upper ? toupper((unsigned char)member[i]) : tolower((unsigned char)member[i]));
    out[i] = '\0';
    return strcmp(out, member) != 0;
}

int lookup_member_refusal(struct node *n, const char *member, struct outcome *o)
{
    char other[IDS_MEMBER_MAX + 1], zh[512], en[512];
    Dualsync__MemberRecord *rec = NULL;
    bool found = false;
    for (int upper = 1; upper >= 0 && !found; upper--)
        if (recased(member, upper, other) && eventlog_member(n->log, other, &rec) == DS_OK) {
            fold_free(&rec);
            found = true;
        }
    if (found) {
        snprintf(zh, sizeof(zh), "未知成员「%.64s」;是否要输入「%s」?(成员编号区分大小写)", member,
                 other);
        snprintf(en, sizeof(en),
                 "unknown member '%.64s'; did you mean '%s'? (member ids are "
                 "case-sensitive)",
                 member, other);
    } else {
        snprintf(zh, sizeof(zh), "未知成员「%.64s」:本节点没有该成员的介绍函(用 members 查看)",
                 member);
        snprintf(en, sizeof(en),
                 "unknown member '%.64s': no introduction letter for this member here (see "
                 "members)",
                 member);
    }
    return fail(o, DS_ENOTFOUND, zh, en);
}

static void replace_value(Dualsync__CtlArg *a, const char *v)
{
    free(a->value);
    a->value = xstrdup(v);
}

static void normalize_org(const struct node *n, Dualsync__CtlArg *a)
{
    char out[IDS_ORG_MAX];
    if (!a->key || !a->value)
        return;
    if (strcmp(a->key, "community") == 0 && lookup_org(n, a->value, ORG_COMMUNITY, out) == DS_OK)
        replace_value(a, out);
    else if (strcmp(a->key, "org") == 0 && lookup_org(n, a->value, ORG_NONE, out) == DS_OK)
        replace_value(a, out);
}

void lookup_normalize(const struct node *n, Dualsync__CtlRequest *r)
{
    ctl_normalize_args(r);
    for (size_t i = 0; i < r->n_commands; i++)
        for (size_t k = 0; k < r->commands[i]->n_args; k++)
            normalize_org(n, r->commands[i]->args[k]);
}
