/* commands: the node's control API, one handler per command (a table, as the CLI has).
 * Every operator input is validated here, in the daemon, whatever the CLI already did:
 * ids, dates, UTF-8, sizes, enum values, the side allowed to write each letter, and that
 * referenced members and feedback letters exist. A refused command changes nothing and
 * says why in Chinese and English. Write commands in one request are all-or-nothing: they
 * are validated first, then appended in one batch. */
#include "commands.h"

#include "buf.h"
#include "console_print.h"
#include "lookup.h"
#include "ctl.h"
#include "err.h"
#include "fields.h"
#include "fold.h"
#include "log.h"
#include "rules.h"
#include "wire.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int fail(struct outcome *o, int code, const char *zh, const char *en)
{
    o->code = code;
    snprintf(o->zh, sizeof(o->zh), "%s", zh);
    snprintf(o->en, sizeof(o->en), "%s", en);
    return code;
}

void commands_today(char out[11])
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

static int require_writable(struct node *n, struct outcome *o)
{
    enum node_state state = sync_view(n).state;
    if (state == NODE_NEEDS_RESTORE || n->own_seq < n->restore_target)
        return fail(o, DS_ERESTORE, "本节点数据不完整,须先恢复才能写入",
                    "this node lost its log and must be restored before writing");
    /* A node that has never been welcomed cannot know whether the broker already holds
     * events of its org (a lost disk): writing now could reuse a sequence number. */
    if (n->store_id_len == 0 && state != NODE_READY)
        return fail(
            o, DS_EAGAIN, "本节点尚未与街道 broker 建立过会话,请稍后再试(见 status)",
            "this node has not yet been in session with the broker; retry later (see status)");
    return DS_OK;
}

static int member_arg(const Dualsync__CtlCommand *cmd, const char **member, struct outcome *o)
{
    *member = ctl_arg(cmd, "member");
    if (!*member || !ids_member_valid(*member))
        return fail(o, DS_EINVAL, "成员编号无效:须为 1–64 个字母、数字或 -",
                    "invalid member id: 1-64 letters, digits or -");
    return DS_OK;
}

/* Loads the member's record and checks this node is (or, for reads, was) one of its two
 * sides. */
static int load_member(struct node *n, const char *member, bool open_only,
                       Dualsync__MemberRecord **rec, struct outcome *o)
{
    if (eventlog_member(n->log, member, rec) != DS_OK)
        return lookup_member_refusal(n, member, o);
    const char *mine = n->kind == ORG_UNIT ? (*rec)->unit : (*rec)->community;
    if (strcmp(mine, n->cfg.org) != 0) {
        fold_free(rec);
        return fail(o, DS_EROUTE, "该成员不属于本组织", "this member does not belong to this org");
    }
    if (open_only && (*rec)->erased) {
        fold_free(rec);
        return fail(o, DS_EINVAL, "该成员的个人信息已删除,不能再为其发函",
                    "this member's personal data was erased: no more letters about the member");
    }
    if (open_only && (*rec)->closed) {
        fold_free(rec);
        return fail(o, DS_EINVAL, "该成员在本组织的登记已注销,不能再发函",
                    "this member's registration here is closed; no more letters about it");
    }
    char *refused = open_only ? node_intro_refused(n, *rec) : NULL;
    if (refused) {
        free(refused);
        fold_free(rec);
        return fail(o, DS_EROUTE, "街道 broker 拒绝了本单位对该成员的介绍函(该成员由其他单位登记)",
                    "the broker refused this unit's introduction of the member (registered by "
                    "another unit)");
    }
    return DS_OK;
}

int commands_own_member(struct node *n, const char *member, Dualsync__MemberRecord **rec,
                        struct outcome *o)
{
    return load_member(n, member, true, rec, o);
}

int commands_own_member_any(struct node *n, const char *member, Dualsync__MemberRecord **rec,
                            struct outcome *o)
{
    return load_member(n, member, false, rec, o);
}

/* ---------------------------------------------------------------- read commands */

/* The record as JSON: its fields, the digest, whether the registration is open, and the
 * broker's refusal of our introduction if there was one. */
static json_t *record_json(const struct node *n, const Dualsync__MemberRecord *rec)
{
    char hex[2 * KEYS_DIGEST_LEN + 1];
    char *refused = node_intro_refused(n, rec);
    fold_digest_hex(rec, hex);
    json_t *j = fields_json(&rec->base);
    json_object_set_new(j, "digest", json_string(hex));
    json_object_set_new(j, "open", json_boolean(rec->unit[0] && !rec->closed && !refused));
    json_object_set_new(j, "refused", json_string(refused ? refused : ""));
    free(refused);
    char *claimed = node_intro_claimed(n, rec);
    json_object_set_new(j, "claimed", json_string(claimed ? claimed : ""));
    free(claimed);
    /* Whether this node still holds the member's personal fields (node/retention.c): an
     * erasure reaches a former side's record too (the fold clears only the unit's own). */
    uint64_t upto = eventlog_redacted_upto(n->log, rec->member);
    json_object_set_new(j, "personal",
                        json_string(rec->erased || upto == UINT64_MAX ? "erased"
                                    : upto && upto >= rec->last_hlc   ? "retired"
                                                                      : "kept"));
    return j;
}

static int cmd_member_show(struct node *n, const Dualsync__CtlCommand *cmd, struct outcome *o)
{
    const char *member;
    Dualsync__MemberRecord *rec = NULL;
    if (member_arg(cmd, &member, o) || load_member(n, member, false, &rec, o))
        return o->code;
    o->result = record_json(n, rec);
    fold_free(&rec);
    return DS_OK;
}

static bool history_entry(const struct event *ev, void *arg)
{
    const struct rule *r = rules_find(ev->type);
    char id[IDS_EVENT_ID_MAX];
    ids_event_id(id, sizeof(id), ev->origin, ev->seq);
    ProtobufCMessage *body = r ? wire_unpack_body(r->body, ev->body, ev->body_len) : NULL;
    /* schema 1: personal fields inside the signed bytes (an erasure cannot drop them);
     * personal "dropped": this node keeps the letter without them (retention.c). */
    json_array_append_new(arg, json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:o}", "id", id, "type",
                                         rules_type_name(ev->type), "origin", ev->origin, "hlc",
                                         (json_int_t)ev->hlc, "schema", (json_int_t)ev->schema,
                                         "personal",
                                         ev->redacted       ? "dropped"
                                         : ev->personal_len ? "kept"
                                                            : "none",
                                         "body", body ? fields_json(body) : json_null()));
    fields_free(body);
    return true;
}

/* Every letter about the member this node holds, past registrations included, in fold
 * order: the record shows the current registration, the history shows how it came. */
static int cmd_member_history(struct node *n, const Dualsync__CtlCommand *cmd, struct outcome *o)
{
    const char *member;
    Dualsync__MemberRecord *rec = NULL;
    if (member_arg(cmd, &member, o) || load_member(n, member, false, &rec, o))
        return o->code;
    fold_free(&rec);
    json_t *arr = json_array();
    if (eventlog_member_events(n->log, member, history_entry, arr) != DS_OK) {
        json_decref(arr);
        return fail(o, DS_EIO, "读取失败", "read failure");
    }
    o->result = arr;
    return DS_OK;
}

static int cmd_digest(struct node *n, const Dualsync__CtlCommand *cmd, struct outcome *o)
{
    const char *member;
    Dualsync__MemberRecord *rec = NULL;
    char hex[2 * KEYS_DIGEST_LEN + 1], clear[2 * KEYS_DIGEST_LEN + 1];
    if (member_arg(cmd, &member, o) || load_member(n, member, false, &rec, o))
        return o->code;
    fold_digest_hex(rec, hex);
    fold_clear_digest_hex(rec, clear); /* what a hub that carried the letters holds */
    o->result = json_pack("{s:s,s:s,s:s,s:i}", "member", member, "digest", hex, "clear_digest",
                          clear, "events", (int)rec->events);
    fold_free(&rec);
    return DS_OK;
}

/* `members`: this side's members. Without `limit` every open registration (with `all`,
 * the closed and refused ones too) as an array, as the CLI prints it. With `limit` (the
 * console's paging) one page as {"total":N,"members":[...]}, after `q` (a part of the id
 * or name, any case) and `filter` (open, not-reported, no-card, closed): only the page's
 * rows are turned into JSON and digested, so a page costs little over 10,000 members. The
 * rows are written as JSON text (buf_json_str): at 100,000 members, a million jansson
 * values were made, written and freed per call. */
struct list_ctx {
    struct node *n;
    struct buf rows; /* the shown rows, comma-separated JSON objects */
    bool all;
    const char *q;      /* NULL: no search */
    const char *filter; /* NULL: the CLI's listing */
    size_t offset, limit, total;
};

static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    return n == 0;
}

static bool list_wants(const struct list_ctx *c, const Dualsync__MemberRecord *rec, bool gone)
{
    if (c->q && !contains_ci(rec->member, c->q) && !contains_ci(rec->name, c->q) &&
        !contains_ci(rec->contact, c->q))
        return false;
    if (!c->filter)
        return !gone || c->all;
    if (strcmp(c->filter, "closed") == 0)
        return gone;
    if (gone)
        return false;
    if (strcmp(c->filter, "not-reported") == 0)
        return !rec->reported;
    if (strcmp(c->filter, "no-card") == 0)
        return !(rec->occupation[0] || rec->willingness[0] || rec->rest_time[0] || rec->skills[0] ||
                 rec->contact[0] || rec->n_categories);
    return true; /* open */
}

static bool list_member(const Dualsync__MemberRecord *rec, void *arg)
{
    struct list_ctx *c = arg;
    const char *mine = c->n->kind == ORG_UNIT ? rec->unit : rec->community;
    if (strcmp(mine, c->n->cfg.org) != 0)
        return true; /* never ours */
    char *refused = node_intro_refused(c->n, rec);
    free(refused);
    if (!list_wants(c, rec, rec->closed || refused))
        return true; /* moved away or refused: shown only with --all or filter=closed */
    size_t at = c->total++;
    if (c->limit && (at < c->offset || at >= c->offset + c->limit))
        return true; /* counted, not shown: another page */
    char hex[2 * KEYS_DIGEST_LEN + 1], closed[64];
    fold_digest_hex(rec, hex);
    fields_enum_name(&dualsync__close_reason__descriptor, rec->closed, closed);
    bool card = rec->occupation[0] || rec->willingness[0] || rec->rest_time[0] || rec->skills[0] ||
                rec->contact[0] || rec->n_categories;
    struct buf *b = &c->rows;
    buf_puts(b, b->len ? ",{\"member\":" : "{\"member\":");
    buf_json_str(b, rec->member);
    buf_puts(b, ",\"name\":");
    buf_json_str(b, rec->name);
    buf_puts(b, ",\"unit\":");
    buf_json_str(b, rec->unit);
    buf_puts(b, ",\"community\":");
    buf_json_str(b, rec->community);
    buf_printf(b, ",\"reported\":%s,\"card\":%s,\"closed\":", rec->reported ? "true" : "false",
               card ? "true" : "false");
    buf_json_str(b, closed);
    buf_puts(b, ",\"group\":");
    buf_json_str(b, rec->group);
    buf_printf(b, ",\"feedback\":%zu,\"digest\":\"%s\"}", rec->n_feedback, hex);
    return true;
}

static bool size_arg(const Dualsync__CtlCommand *cmd, const char *key, size_t max, size_t *out)
{
    const char *v = ctl_arg(cmd, key);
    char *end = NULL;
    if (!v)
        return true;
    unsigned long long n = strtoull(v, &end, 10);
    if (!*v || *end || n > max)
        return false;
    *out = (size_t)n;
    return true;
}

static int cmd_members(struct node *n, const Dualsync__CtlCommand *cmd, struct outcome *o)
{
    /* q (the console's search box), or the CLI's --name / --contact: id, name or contact */
    const char *q = ctl_arg(cmd, "q")      ? ctl_arg(cmd, "q")
                    : ctl_arg(cmd, "name") ? ctl_arg(cmd, "name")
                                           : ctl_arg(cmd, "contact");
    struct list_ctx c = {n, BUF_INIT, ctl_flag(cmd, "all"), q, ctl_arg(cmd, "filter"), 0, 0, 0};
    static const char *const filters[] = {"open", "not-reported", "no-card", "closed"};
    bool filter_ok = !c.filter;
    for (size_t i = 0; i < 4 && !filter_ok; i++)
        filter_ok = strcmp(c.filter, filters[i]) == 0;
    if (!filter_ok || !size_arg(cmd, "offset", SIZE_MAX / 2, &c.offset) ||
        !size_arg(cmd, "limit", 1000, &c.limit))
        return fail(o, DS_EINVAL,
                    "--filter 须为 open、not-reported、no-card 或 closed;--limit 1–1000",
                    "--filter must be open, not-reported, no-card or closed; --limit 1..1000");
    if (eventlog_members_each(n->log, list_member, &c) != DS_OK) {
        buf_release(&c.rows);
        return fail(o, DS_EIO, "读取失败", "read failure");
    }
    struct buf out = BUF_INIT;
    if (c.limit)
        buf_printf(&out, "{\"total\":%zu,\"members\":[", c.total);
    else
        buf_puts(&out, "[");
    if (c.rows.len)
        buf_append(&out, c.rows.p, c.rows.len);
    buf_puts(&out, c.limit ? "]}" : "]");
    buf_release(&c.rows);
    o->text = buf_take(&out, NULL);
    return DS_OK;
}

static bool receipt_json(const char *org, void *value, void *arg)
{
    json_object_set_new(arg, org, json_integer((json_int_t) * (const uint64_t *)value));
    return true;
}

static int cmd_status(struct node *n, struct outcome *o)
{
    char sid[2 * NODE_STORE_ID_MAX + 1] = "";
    keys_hex(n->store_id, n->store_id_len, sid);
    uint64_t now = node_now_ms();
    struct sync_view v = sync_view(n);
    const struct node_counters *k = &n->counters;
    struct transport_stats ts = {0};
    if (n->t)
        transport_stats(n->t, &ts);
    o->result = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:s,s:s,"
        "s:b,s:I,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I},s:{s:I,s:I,s:I,s:I}}",
        "org", n->cfg.org, "name", n->cfg.name, "kind", ids_kind_name(n->kind), "broker",
        n->cfg.broker, "state", node_state_name(v.state), "connected",
        v.state == NODE_READY || v.state == NODE_BLOCKED, "own_seq", (json_int_t)n->own_seq,
        "acked", (json_int_t)v.acked, "unacked", (json_int_t)(n->own_seq - v.acked), "inbox_cursor",
        (json_int_t)n->inbox_cursor, "inbox_head", (json_int_t)v.inbox_head, "pending",
        (json_int_t)(v.inbox_head > n->inbox_cursor ? v.inbox_head - n->inbox_cursor : 0),
        "directory_cursor", (json_int_t)n->dir_cursor, "directory_head", (json_int_t)v.dir_head,
        "pong_nonce", (json_int_t)v.pong_nonce, "pong_head", (json_int_t)v.pong_head,
        "pong_directory_head", (json_int_t)v.pong_dir_head, "last_progress_ms_ago",
        (json_int_t)(v.last_progress_ms ? (int64_t)(now - v.last_progress_ms) : -1), "orgs_known",
        (json_int_t)strmap_count(n->orgs), "last_error", n->last_error, "store_id", sid,
        "restoring", v.restoring, "restore_target", (json_int_t)n->restore_target, "counters",
        "applied", (json_int_t)k->applied, "duplicates", (json_int_t)k->duplicates, "forks",
        (json_int_t)k->forks, "rejected", (json_int_t)k->rejected, "broker_errors",
        (json_int_t)k->broker_errors, "refused", (json_int_t)k->refused, "reconnects",
        (json_int_t)k->reconnects, "sessions", (json_int_t)k->sessions, "chaos", "dropped",
        (json_int_t)ts.chaos_dropped, "duplicated", (json_int_t)ts.chaos_duplicated, "reordered",
        (json_int_t)ts.chaos_reordered, "delayed", (json_int_t)ts.chaos_delayed);
    /* rejected, by reason (they add up to it) */
    json_t *c = json_object_get(o->result, "counters");
    json_object_set_new(c, "rejected_malformed", json_integer((json_int_t)k->rejected_malformed));
    json_object_set_new(c, "rejected_signature", json_integer((json_int_t)k->rejected_signature));
    json_object_set_new(c, "rejected_side", json_integer((json_int_t)k->rejected_side));
    json_object_set_new(c, "rejected_invalid", json_integer((json_int_t)k->rejected_invalid));
    json_t *receipts = json_object();
    strmap_each(n->receipts, receipt_json, receipts);
    json_object_set_new(o->result, "receipts", receipts);
    json_object_set_new(o->result, "commits", ctl_commits_json(n->log));
    if (n->t) /* how long each turn of the loop held it */
        json_object_set_new(o->result, "loop", hist_json(transport_loop_turns(n->t)));
    /* Erased or retired bytes are gone from the disk once this is false (retention.c). */
    json_object_set_new(o->result, "scrub_pending", json_boolean(eventlog_scrub_pending(n->log)));
    json_t *store = ctl_store_json(n->log);
    if (store)
        json_object_set_new(o->result, "store", store);
    return DS_OK;
}

struct orgs_ctx {
    json_t *arr;
    const char *name;   /* a part of the id or the name, or NULL */
    const char *street; /* this node's street */
};

static bool org_json(const char *key, void *value, void *arg)
{
    (void)key;
    const struct node_org *org = value;
    struct orgs_ctx *c = arg;
    if (c->name && !contains_ci(org->org, c->name) && !contains_ci(org->name, c->name))
        return true;
    static const char *const states[] = {"active", "revoked", "removed"};
    json_array_append_new(c->arr, json_pack("{s:s,s:s,s:s,s:s,s:s,s:I}", "org", org->org, "kind",
                                            ids_kind_name(org->kind), "name", org->name, "state",
                                            states[org->state <= 2 ? org->state : 0], "reason",
                                            org->reason, "keys", (json_int_t)org->ring.n));
    /* the street that holds it: a city of linked streets shows every street's orgs */
    json_object_set_new(json_array_get(c->arr, json_array_size(c->arr) - 1), "street",
                        json_string(org->street[0] ? org->street : c->street));
    return true;
}

static int by_org_id(const void *a, const void *b)
{
    return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "org")),
                  json_string_value(json_object_get(*(json_t *const *)b, "org")));
}

/* The directory, sorted by id (a map walk has no order), optionally filtered by --name. */
static void cmd_orgs(struct node *n, const Dualsync__CtlCommand *cmd, struct outcome *o)
{
    struct orgs_ctx c = {json_array(), ctl_arg(cmd, "name"), n->cfg.street.org};
    strmap_each(n->orgs, org_json, &c);
    size_t count = json_array_size(c.arr);
    json_t **items = xcalloc(count + 1, sizeof(*items));
    for (size_t i = 0; i < count; i++)
        items[i] = json_incref(json_array_get(c.arr, i));
    qsort(items, count, sizeof(*items), by_org_id);
    o->result = json_array();
    for (size_t i = 0; i < count; i++)
        json_array_append_new(o->result, items[i]);
    free(items);
    json_decref(c.arr);
}

/* ---------------------------------------------------------------- letter */

/* One letter by id or by verification code (console_print.h): the event, its body as
 * JSON with labelled fields, the registration it belongs to with both orgs' names, and
 * its code. Any event this node holds may be shown: what it wrote, what it received
 * (past registrations included) and the street's directory. */

static const char *org_name(const char *org, void *arg)
{
    const struct node *n = arg;
    const struct node_org *o = node_find_org(n, org);
    if (o)
        return o->name;
    if (strcmp(org, n->cfg.street.org) == 0)
        return n->cfg.street.name;
    return strcmp(org, n->cfg.org) == 0 ? n->cfg.name : "";
}

/* The registration a member letter belongs to: the introduction in force when it was
 * written (fold order), so a letter of a past registration names its own community. */
struct letter_reg {
    const struct event *target;
    char unit[IDS_ORG_MAX];
    char community[IDS_ORG_MAX];
    char name[IDS_NAME_MAX + 1];
    bool found;
};

static bool letter_reg_step(const struct event *ev, void *arg)
{
    struct letter_reg *r = arg;
    if (ev->type == DUALSYNC__EVENT_TYPE__EVENT_INTRODUCTION) {
        Dualsync__Introduction *in = wire_unpack_introduction(ev->body, ev->body_len);
        if (in) {
            snprintf(r->unit, sizeof(r->unit), "%s", ev->origin);
            snprintf(r->community, sizeof(r->community), "%s", in->community);
            snprintf(r->name, sizeof(r->name), "%s", in->name);
        }
        wire_msg_free(in);
    }
    r->found = strcmp(ev->origin, r->target->origin) == 0 && ev->seq == r->target->seq;
    return !r->found;
}

static void letter_set_org(json_t *j, const char *key, const char *org, struct node *n)
{
    char name_key[32];
    snprintf(name_key, sizeof(name_key), "%s_name", key);
    json_object_set_new(j, key, json_string(org));
    json_object_set_new(j, name_key, json_string(*org ? org_name(org, n) : ""));
}

/* The body's date; a body without one (a card) is dated by its clock. */
static void letter_date(const struct event *ev, json_t *body, char out[16])
{
    const char *d = json_string_value(json_object_get(body, "date"));
    if (!d || !*d)
        d = json_string_value(json_object_get(body, "start"));
    if (d && *d) {
        snprintf(out, 16, "%s", d);
        return;
    }
    time_t secs = (time_t)(hlc_ms(ev->hlc) / 1000);
    struct tm tm;
    localtime_r(&secs, &tm);
    strftime(out, 16, "%Y-%m-%d", &tm);
}

/* The letter's signature checked again with its author's key (the street's from its
 * card, ours, or the directory's), as node.c checked it when the letter arrived. */
static const char *letter_signature(struct node *n, const struct event *ev)
{
    const uint8_t *key = node_origin_key(n, ev->origin, ev->seq);
    if (!key)
        return "unknown-key";
    return wire_event_verify(ev, key) ? "ok" : "bad";
}

static json_t *letter_json(struct node *n, const struct event *ev)
{
    const struct rule *r = rules_find(ev->type);
    ProtobufCMessage *msg = r ? wire_unpack_body(r->body, ev->body, ev->body_len) : NULL;
    json_t *body = msg ? fields_json(msg) : json_null();
    fields_free(msg);
    char id[IDS_EVENT_ID_MAX], code[LETTER_CODE_MAX], date[16];
    ids_event_id(id, sizeof(id), ev->origin, ev->seq);
    letter_code(ev, code);
    letter_date(ev, body, date);
    json_t *j =
        json_pack("{s:s,s:s,s:I,s:s,s:s,s:s}", "id", id, "type", rules_type_name(ev->type), "hlc",
                  (json_int_t)ev->hlc, "date", date, "member", ev->member, "code", code);
    letter_set_org(j, "origin", ev->origin, n);
    struct letter_reg reg = {.target = ev};
    if (ev->member[0]) {
        Dualsync__MemberRecord *rec = NULL;
        if (eventlog_member_events(n->log, ev->member, letter_reg_step, &reg) != DS_OK ||
            !reg.found || !reg.unit[0]) {
            reg.unit[0] = reg.community[0] = reg.name[0] = '\0';
            if (eventlog_member(n->log, ev->member, &rec) == DS_OK) {
                snprintf(reg.unit, sizeof(reg.unit), "%s", rec->unit);
                snprintf(reg.community, sizeof(reg.community), "%s", rec->community);
                snprintf(reg.name, sizeof(reg.name), "%s", rec->name);
            }
            fold_free(&rec);
        }
    }
    letter_set_org(j, "unit", reg.unit, n);
    letter_set_org(j, "community", reg.community, n);
    json_object_set_new(j, "member_name", json_string(reg.name));
    json_t *to = json_array();
    for (size_t i = 0; i < ev->msg->n_to; i++)
        json_array_append_new(
            to, json_pack("{s:s,s:s}", "org", ev->msg->to[i], "name", org_name(ev->msg->to[i], n)));
    json_object_set_new(j, "to", to);
    json_object_set_new(j, "signature", json_string(letter_signature(n, ev)));
    letter_describe(rules_type_name(ev->type), body, org_name, n, j);
    json_object_set_new(j, "body", body);
    return j;
}

/* The stored event whose code is want: a scan of every event held here (the code is a
 * digest; no index maps it back). *raw_out malloc'd. DS_OK, DS_ENOTFOUND, DS_EIO. */
static int letter_find_code(struct node *n, const uint8_t want[LETTER_CODE_BYTES],
                            uint8_t **raw_out, size_t *len_out)
{
    struct skey all;
    skey_init(&all);
    struct store_iter *it = store_iter_new(eventlog_store(n->log), CF_EVENTS, &all, NULL);
    int rc = DS_ENOTFOUND;
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t len;
        const uint8_t *raw = store_iter_value(it, &len);
        uint8_t d[KEYS_DIGEST_LEN];
        struct event ev;
        if (wire_event_open(raw, len, false, &ev) != DS_OK)
            continue;
        letter_digest(&ev, d);
        wire_event_release(&ev);
        if (memcmp(d, want, LETTER_CODE_BYTES) == 0) {
            *raw_out = xmemdup(raw, len);
            *len_out = len;
            rc = DS_OK;
            break;
        }
    }
    if (rc == DS_ENOTFOUND && store_iter_status(it) != DS_OK)
        rc = DS_EIO;
    store_iter_destroy(&it);
    return rc;
}

static int cmd_letter(struct node *n, const Dualsync__CtlCommand *cmd, struct outcome *o)
{
    const char *id = ctl_arg(cmd, "id"), *code = ctl_arg(cmd, "code");
    char origin[IDS_ORG_MAX];
    uint64_t seq = 0;
    uint8_t want[LETTER_CODE_BYTES], *raw = NULL;
    size_t len = 0;
    int rc;
    struct event ev;
    if (!id == !code)
        return fail(o, DS_EINVAL, "letter 需要函件编号(id)或核验码(code)之一",
                    "letter needs either a letter id (id) or a verification code (code)");
    if (id && !ids_event_id_parse(id, origin, &seq))
        return fail(o, DS_EINVAL, "函件编号无效:格式为 组织/序号,如 unit:tax/12",
                    "invalid letter id: ORG/SEQ, such as unit:tax/12");
    if (code && letter_code_parse(code, want) != DS_OK)
        return fail(o, DS_EINVAL, "核验码无效:应为 16 位字母或数字(不含 U),如 7QX2-M4KD-0RTA-9HCE",
                    "invalid verification code: 16 letters or digits (no U), such as "
                    "7QX2-M4KD-0RTA-9HCE");
    rc = id ? eventlog_get_raw(n->log, origin, seq, &raw, &len)
            : letter_find_code(n, want, &raw, &len);
    if (rc == DS_ENOTFOUND)
        return fail(o, DS_ENOTFOUND,
                    id ? "本节点没有该函件" : "未找到:本节点没有与此核验码对应的函件",
                    id ? "no such letter here" : "no such letter here: no letter with this code");
    if (rc != DS_OK || wire_event_open(raw, len, false, &ev) != DS_OK) {
        free(raw);
        return fail(o, DS_EIO, "读取失败", "read failure");
    }
    o->result = letter_json(n, &ev);
    if (code)
        json_object_set_new(o->result, "match", json_true());
    wire_event_release(&ev);
    free(raw);
    return DS_OK;
}

/* ---------------------------------------------------------------- dispatch */

/* Validation reads committed state only, so two introductions of one member in one
 * request would both pass; the broker would refuse the second. */
static bool introduced_earlier(const struct pending_event *pe, size_t i)
{
    if (pe[i].type != DUALSYNC__EVENT_TYPE__EVENT_INTRODUCTION)
        return false;
    for (size_t j = 0; j < i; j++)
        if (pe[j].type == pe[i].type && strcmp(pe[j].member, pe[i].member) == 0)
            return true;
    return false;
}

/* Validates every command of the request; the events to write end up packed at the
 * front of pe (a command may write none, one or two). Returns how many, or sets o. */
static size_t validate_writes(struct node *n, const Dualsync__CtlRequest *r,
                              struct pending_event *pe, size_t *skipped, struct outcome *o,
                              uint32_t *failed)
{
    size_t used = 0;
    for (size_t i = 0; i < r->n_commands; i++) {
        write_fn fn = letters_find(r->commands[i]->cmd);
        struct write_ctx w = {n, pe, used};
        *failed = (uint32_t)i;
        if (!fn) {
            fail(o, DS_EINVAL, "批量请求中只能有写命令", "only write commands may be batched");
            return 0;
        }
        if (require_writable(n, o) || fn(&w, r->commands[i], &pe[used], o))
            return 0;
        /* A command writes nothing (skip-existing), one letter, or two (a move). */
        size_t made = pe[used].type ? 1 + (pe[used + 1].type != 0) : 0;
        *skipped += made == 0;
        for (size_t k = used; k < used + made; k++)
            if (introduced_earlier(pe, k)) {
                fail(o, DS_EEXIST, "同一批次中对同一成员发出了两份介绍函",
                     "the same member is introduced twice in one batch");
                return 0;
            }
        used += made;
    }
    return used;
}

static void append_writes(struct node *n, struct pending_event *pe, size_t count, size_t skipped,
                          struct outcome *o)
{
    uint8_t **raws = xcalloc(count + 1, sizeof(*raws));
    size_t *lens = xcalloc(count + 1, sizeof(*lens));
    json_t *ids = json_array();
    for (size_t i = 0; i < count; i++) {
        char id[IDS_EVENT_ID_MAX];
        node_build_event(n, n->own_seq + 1 + i, pe[i].member, pe[i].type, pe[i].body,
                         pe[i].body_len, pe[i].to, pe[i].n_to, &raws[i], &lens[i]);
        ids_event_id(id, sizeof(id), n->cfg.org, n->own_seq + 1 + i);
        json_array_append_new(ids, json_string(id));
    }
    if (count && node_append(n, raws, lens, count) != DS_OK) {
        json_decref(ids);
        fail(o, DS_EIO, "写入本地日志失败,未作任何更改",
             "cannot write the local log; nothing changed");
    } else {
        o->result = json_pack("{s:o,s:I,s:I}", "events", ids, "own_seq", (json_int_t)n->own_seq,
                              "skipped", (json_int_t)skipped);
    }
    for (size_t i = 0; i < count; i++)
        free(raws[i]);
    free(raws);
    free(lens);
}

static void run_writes(struct node *n, const Dualsync__CtlRequest *r, struct outcome *o,
                       uint32_t *failed)
{
    size_t slots = 2 * r->n_commands + 1, skipped = 0;
    struct pending_event *pe = xcalloc(slots, sizeof(*pe));
    size_t count = validate_writes(n, r, pe, &skipped, o, failed);
    if (o->code == DS_OK)
        append_writes(n, pe, count, skipped, o);
    for (size_t i = 0; i < slots; i++)
        letters_pending_free(&pe[i]);
    free(pe);
}

static void run_read(struct node *n, const Dualsync__CtlCommand *cmd, struct outcome *o)
{
    const char *c = cmd->cmd;
    if (strcmp(c, "status") == 0)
        cmd_status(n, o);
    else if (strcmp(c, "member show") == 0)
        cmd_member_show(n, cmd, o);
    else if (strcmp(c, "member history") == 0)
        cmd_member_history(n, cmd, o);
    else if (strcmp(c, "members") == 0)
        cmd_members(n, cmd, o);
    else if (strcmp(c, "digest") == 0)
        cmd_digest(n, cmd, o);
    else if (strcmp(c, "letter") == 0)
        cmd_letter(n, cmd, o);
    else if (strcmp(c, "orgs") == 0)
        cmd_orgs(n, cmd, o);
    else if (strcmp(c, "restore") == 0) {
        if (sync_restore_start(n) != DS_OK)
            fail(o, DS_EINVAL, "无需恢复:只有状态为 needs-restore 的节点才能恢复",
                 "nothing to restore: only a node in state needs-restore can be restored");
        else
            o->result = json_pack("{s:I,s:I}", "own_seq", (json_int_t)n->own_seq, "target",
                                  (json_int_t)n->restore_target);
    } else if (strcmp(c, "probe") == 0)
        o->result = json_pack("{s:I}", "nonce", (json_int_t)sync_probe(n));
    else if (!reports_run(n, cmd, o))
        fail(o, DS_EINVAL, "未知命令", "unknown command");
}

void commands_on_ctl(void *arg, const uint8_t *req, size_t len, uint8_t **reply_out,
                     size_t *reply_len_out)
{
    struct node *n = arg;
    struct outcome o = {0};
    uint32_t failed = 0;
    Dualsync__CtlRequest *r = wire_unpack_ctl_request(req, len);
    if (!r || r->n_commands == 0 || r->n_commands > WIRE_EVENTS_PER_FRAME)
        fail(&o, DS_EPROTO, "无效的控制请求", "invalid control request");
    else {
        lookup_normalize(n, r); /* "hexie", "和谐社区", "2026/3/5": canonical from here on */
        if (r->n_commands > 1 || letters_find(r->commands[0]->cmd))
            run_writes(n, r, &o, &failed);
        else
            run_read(n, r->commands[0], &o);
    }
    if (o.code != DS_OK) {
        json_decref(o.result);
        ctl_reply_error(o.code, o.zh, o.en, failed, reply_out, reply_len_out);
    } else if (o.text) {
        ctl_reply_ok_text(o.text, reply_out, reply_len_out);
    } else {
        ctl_reply_ok(o.result, reply_out, reply_len_out);
    }
    free(o.text);
    wire_msg_free(r);
}
