/* broker: lifetime of the street's broker and its control API.
 * The data directory holds broker.conf, keys/, db/ (RocksDB), street.card (the public card
 * nodes need), ctl.sock while running, and endpoint (the bound address, for scripts). The
 * store id is random per database: a broker that lost its disk gets a new one, which tells
 * every node to reset its inbox cursor and publish its log again. */
#include "broker.h"
#include "carry.h"
#include "directory.h"
#include "inbox.h"
#include "links.h"
#include "protocol.h"
#include "receipts.h"
#include "report.h"
#include "routing.h"
#include "verify.h"
#include "sigaudit.h"

#include "calendar.h"
#include "console.h"
#include "ctl.h"
#include "err.h"
#include "fdlimit.h"
#include "fold.h"
#include "lang.h"
#include "log.h"
#include "owner.h"
#include "wire.h"
#include "xalloc.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct broker {
    char dir[4096]; /* "": a broker of broker_new */
    struct broker_config cfg;
    struct keys keys;
    struct eventlog *log;
    struct transport *t;
    struct hlc clock;
    uint8_t store_id[BROKER_STORE_ID_LEN];
    char bound[CONFIG_ENDPOINT_MAX];
    struct broker_counters counters;
    uint64_t started_ms;
    uint64_t (*now_ms)(void); /* broker_now_ms's clock; NULL: the wall clock */
    /* the modules' state */
    struct directory *directory; /* the orgs and the directory stream (directory.c) */
    struct sessions *sessions;   /* the peers' sessions, conduct and batch (protocol.c) */
    struct inbox *inbox;         /* the inboxes' heads and the street's events (inbox.c) */
    struct receipts *receipts;   /* who applied what, and since when entries wait (receipts.c) */
    struct verify_pool *verify;  /* the signature workers (verify.c); NULL: not serving */
    struct sigaudit *sigaudit;   /* the signature check behind the ACK (sigaudit.c); NULL: none */
    struct console *console;     /* the web console's threads (console.c); NULL when off */
    struct links *links;         /* the linked streets and their connections (links.c) */
    struct carry *carry;         /* a hub's carried letters (carry.c) */
};

struct eventlog *broker_log(const struct broker *b)
{
    return b->log;
}
const struct broker_config *broker_config(const struct broker *b)
{
    return &b->cfg;
}
const struct keys *broker_keys(const struct broker *b)
{
    return &b->keys;
}
struct hlc *broker_clock(struct broker *b)
{
    return &b->clock;
}
struct broker_counters *broker_counters(struct broker *b)
{
    return &b->counters;
}
struct transport *broker_transport(const struct broker *b)
{
    return b->t;
}
const uint8_t *broker_store_id(const struct broker *b)
{
    return b->store_id;
}
const char *broker_dir(const struct broker *b)
{
    return b->dir;
}
struct directory *broker_directory(const struct broker *b)
{
    return b->directory;
}
struct inbox *broker_inbox(const struct broker *b)
{
    return b->inbox;
}
struct sessions *broker_sessions(const struct broker *b)
{
    return b->sessions;
}
struct receipts *broker_receipts(const struct broker *b)
{
    return b->receipts;
}
struct verify_pool *broker_verify(const struct broker *b)
{
    return b->verify;
}
struct sigaudit *broker_sigaudit(const struct broker *b)
{
    return b->sigaudit;
}
struct links *broker_links(const struct broker *b)
{
    return b->links;
}
struct carry *broker_carry(const struct broker *b)
{
    return b->carry;
}
void broker_set_sigaudit(struct broker *b, struct sigaudit *a)
{
    b->sigaudit = a;
}

/* The part of opening that needs no data directory: the modules' empty state. */
static struct broker *broker_alloc(void)
{
    struct broker *b = xcalloc(1, sizeof(*b));
    b->directory = directory_new();
    b->sessions = protocol_sessions_new();
    b->inbox = inbox_new();
    b->receipts = receipts_new();
    b->links = links_new();
    b->carry = carry_new();
    return b;
}

struct broker *broker_new(struct eventlog *log, const struct broker_config *cfg,
                          uint64_t (*now_ms)(void))
{
    struct broker *b = broker_alloc();
    b->log = log;
    b->cfg = *cfg;
    b->now_ms = now_ms;
    keys_generate(&b->keys);
    randombytes_buf(b->store_id, BROKER_STORE_ID_LEN);
    b->clock.last = eventlog_hlc_max(log);
    return b;
}

static int load_store_id(struct broker *b)
{
    void *val = NULL;
    size_t len = 0;
    int rc = eventlog_meta_get(b->log, "store_id", &val, &len);
    if (rc == DS_OK && len == BROKER_STORE_ID_LEN) {
        memcpy(b->store_id, val, len);
        free(val);
        return DS_OK;
    }
    free(val);
    if (rc != DS_ENOTFOUND && rc != DS_OK)
        return rc;
    randombytes_buf(b->store_id, BROKER_STORE_ID_LEN);
    struct eventlog_txn *txn = eventlog_begin(b->log);
    eventlog_txn_put_meta(txn, "store_id", b->store_id, BROKER_STORE_ID_LEN);
    return eventlog_commit(&txn);
}

int broker_open(const char *dir, struct broker **b_out)
{
    struct broker *b = broker_alloc();
    char err[CONFIG_ERR_MAX] = "", path[4200];
    int rc;
    snprintf(b->dir, sizeof(b->dir), "%s", dir);
    rc = owner_dir_private(dir) ? DS_OK : DS_EACCES;
    if (rc != DS_OK)
        goto fail;
    rc = config_broker_load(dir, &b->cfg, err);
    if (rc != DS_OK) {
        fprintf(stderr,
                TR("错误: 无法读取配置(先运行 init?): %s\n", "error: cannot read config: %s\n"),
                err);
        goto fail;
    }
    rc = calendar_load_dir(dir);
    if (rc != DS_OK)
        goto fail;
    rc = keys_crypto_init();
    if (rc == DS_OK)
        rc = keys_load(dir, &b->keys);
    if (rc != DS_OK) {
        fprintf(stderr,
                TR("错误: 无法读取 %s/keys 下的密钥(%s)\n",
                   "error: cannot load keys under %s/keys (%s)\n"),
                dir, ds_strerror(rc));
        goto fail;
    }
    snprintf(path, sizeof(path), "%s/db", dir);
    rc = eventlog_open(path, b->cfg.durability, &b->log);
    if (rc == DS_OK) {
        eventlog_defer_folds(b->log); /* records are read only for digests and reports */
        eventlog_on_scrub(b->log, inbox_scrub, NULL); /* erasures reach the inbox copies */
    }
    if (rc == DS_EAGAIN)
        log_debug("broker: store locked dir=%s (running broker or offline command)", dir);
    if (rc != DS_OK)
        goto fail;
    rc = load_store_id(b);
    if (rc == DS_OK)
        rc = directory_load(b);
    if (rc == DS_OK)
        rc = links_load(b);
    if (rc == DS_OK)
        rc = carry_load(b);
    if (rc == DS_OK)
        rc = routing_upgrade(b);
    if (rc != DS_OK)
        goto fail;
    b->clock.last = eventlog_hlc_max(b->log);
    *b_out = b;
    return DS_OK;
fail:
    broker_close(&b);
    return rc;
}

/* Frees what b holds (its log, transport, workers, maps, keys), not b itself. */
static void broker_release(struct broker *b)
{
    verify_pool_destroy(&b->verify);
    sigaudit_close(b);
    links_stop(b); /* its connections are the transport's sockets */
    transport_destroy(&b->t);
    links_destroy(&b->links);
    carry_destroy(&b->carry);
    eventlog_destroy(&b->log);
    directory_destroy(&b->directory);
    protocol_sessions_destroy(&b->sessions);
    receipts_destroy(&b->receipts);
    inbox_destroy(&b->inbox);
    sodium_memzero(&b->keys, sizeof(b->keys));
}

void broker_close(struct broker **bp)
{
    struct broker *b = *bp;
    if (!b)
        return;
    broker_release(b);
    free(b);
    *bp = NULL;
}

int broker_start(struct broker *b)
{
    b->verify = verify_pool_new("ds-verify", false);
    if (!b->verify) {
        fputs(TR("错误: 无法启动签名校验线程\n", "error: cannot start the signature checkers\n"),
              stderr);
        return DS_EIO;
    }
    b->t = transport_new();
    protocol_start(b);
    return DS_OK;
}

static void write_endpoint_file(const struct broker *b)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/endpoint", b->dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f, "%s\n", b->bound);
        fclose(f);
    }
}

static void links_tick_timer(void *arg)
{
    links_tick(arg);
}

int broker_run(struct broker *b)
{
    char ctl_path[256];
    int rc = ctl_socket_path(b->dir, ctl_path, sizeof(ctl_path));
    if (rc != DS_OK) {
        fputs(TR("错误: 数据目录路径太长,放不下控制套接字\n",
                 "error: data directory path too long for a socket\n"),
              stderr);
        return rc;
    }
    rc = broker_start(b);
    if (rc != DS_OK)
        return rc;
    if (sigaudit_open(b) != DS_OK) {
        fputs(TR("错误: 无法启动签名审核线程\n", "error: cannot start the signature audit\n"),
              stderr);
        return DS_EIO;
    }
    rc = transport_ctl_listen(b->t, ctl_path, broker_on_ctl, b);
    if (rc == DS_OK) {
        rc = broker_console_start(b, &b->console); /* its pages call the socket just bound */
        if (rc != DS_OK)
            return rc; /* printed for the operator */
        rc = transport_listen(b->t, b->cfg.bind, &b->keys, broker_authorize, protocol_on_frame, b,
                              b->bound, sizeof(b->bound));
    }
    if (rc != DS_OK) {
        console_stop(&b->console);
        fprintf(stderr, TR("错误: 无法监听 %s\n", "error: cannot listen on %s\n"), b->cfg.bind);
        return rc;
    }
    write_endpoint_file(b);
    b->started_ms = broker_now_ms(b);
    transport_timer(b->t, b->cfg.heartbeat_ms, protocol_tick, b);
    transport_timer(b->t, LINKS_TICK_MS, links_tick_timer, b);
    links_start(b);
    transport_watch_fd(b->t, verify_pool_fd(b->verify), protocol_on_verified, b);
    transport_watch_fd(b->t, sigaudit_fd(b->sigaudit), sigaudit_on_done, b);
    uint64_t fds = fdlimit_current();
    log_info("broker: street=%s listening endpoint=%s orgs=%zu durability=%s fds=%llu",
             b->cfg.street, b->bound, directory_org_count(b),
             store_durability_name(b->cfg.durability), (unsigned long long)fds);
    if (!fdlimit_enough_for(fds, directory_org_count(b)))
        log_warn("broker: the descriptor limit %llu leaves too few for %zu orgs' connections; "
                 "raise LimitNOFILE (docs/OPERATIONS.md)",
                 (unsigned long long)fds, directory_org_count(b));
    transport_run(b->t);
    /* The console first: its pages may be calling the loop's socket, which goes next. */
    console_stop(&b->console);
    protocol_flush(b); /* frames still being checked were not acked: their nodes resend */
    receipts_save(b);  /* what was confirmed since the last save */
    sigaudit_tick(b);  /* and how far the audit got */
    log_info("broker: stopping");
    return DS_OK;
}

/* ---------------------------------------------------------------- control API */

struct status_ctx {
    struct broker *b;
    json_t *peers;
};

/* How long the oldest entry of org's inbox beyond its cursor has waited at the street, 0
 * when nothing waits, null when the entry cannot be read (receipts_lag_ms). The cursor is
 * the one org said, or the one counted before the broker started: a silent org has a lag
 * too, and it is the one that matters. */
static json_t *peer_lag(struct broker *b, const char *org, uint64_t head)
{
    uint64_t lag = 0;
    if (receipts_lag_ms(b, org, head, broker_now_ms(b), &lag) != DS_OK)
        return json_null();
    return json_integer((json_int_t)lag);
}

static bool peer_status(const struct org_entry *e, void *arg)
{
    struct status_ctx *c = arg;
    const char *org = e->org;
    if (e->street[0])
        return true; /* another street's org: it connects to its own broker */
    const struct peer *p = protocol_peer(c->b, org);
    uint64_t head = inbox_head(c->b, org);
    uint64_t confirmed = receipts_cursor(c->b, org);
    const struct conduct *ban = protocol_conduct(c->b, org);
    uint64_t now = broker_now_ms(c->b);
    json_t *row = json_pack(
        "{s:s,s:s,s:b,s:I,s:I,s:I,s:I,s:I,s:o}", "org", org, "kind", ids_kind_name(e->kind),
        "connected", p && p->welcomed, "stored_upto", (json_int_t)eventlog_hwm(c->b->log, org),
        "inbox_head", (json_int_t)head, "delivered", (json_int_t)(p ? p->delivered : 0),
        "confirmed", (json_int_t)confirmed, "last_seen_ms_ago",
        (json_int_t)(p ? now - p->last_seen_ms : 0), "lag_ms", peer_lag(c->b, org, head));
    /* its budgets: sent and not shown read, waiting for signature checks; its refusals */
    json_object_set_new(row, "send_unread_bytes",
                        json_integer((json_int_t)(p ? p->inflight_bytes : 0)));
    json_object_set_new(row, "verify_pending",
                        json_integer((json_int_t)(p ? p->verify_events : 0)));
    json_object_set_new(row, "strikes", json_integer((json_int_t)(p ? p->strikes : 0)));
    /* the directory stream of its connection (street seq of the last entry it confirmed) */
    json_object_set_new(row, "directory_confirmed",
                        json_integer((json_int_t)(p && p->welcomed ? p->dir_confirmed : 0)));
    json_object_set_new(row, "state", json_string(directory_state_name(e->state)));
    json_object_set_new(
        row, "banned_ms",
        json_integer((json_int_t)(ban && ban->until_ms > now ? ban->until_ms - now : 0)));
    json_array_append_new(c->peers, row);
    return true;
}

/* The per-peer budgets' counters (docs/PROTOCOL.md "Budgets"). */
static void budget_counters(json_t *counters, const struct broker_counters *k,
                            const struct transport_stats *ts)
{
    json_object_set_new(counters, "refused_frames", json_integer((json_int_t)k->refused_frames));
    json_object_set_new(counters, "over_budget", json_integer((json_int_t)k->over_budget));
    json_object_set_new(counters, "send_full", json_integer((json_int_t)k->send_full));
    json_object_set_new(counters, "full_closed", json_integer((json_int_t)k->full_closed));
    json_object_set_new(counters, "peers_banned", json_integer((json_int_t)k->peers_banned));
    json_object_set_new(counters, "ban_refused", json_integer((json_int_t)k->ban_refused));
    json_object_set_new(counters, "unknown_types", json_integer((json_int_t)k->unknown_types));
    json_object_set_new(counters, "unknown_type_refused",
                        json_integer((json_int_t)k->unknown_type_refused));
    json_object_set_new(counters, "erasures", json_integer((json_int_t)k->erasures));
    json_object_set_new(counters, "rerouted", json_integer((json_int_t)k->rerouted));
    json_object_set_new(counters, "signature_failed",
                        json_integer((json_int_t)k->signature_failed));
    json_object_set_new(counters, "signature_blocked",
                        json_integer((json_int_t)k->signature_blocked));
    json_object_set_new(counters, "hellos_resumed", json_integer((json_int_t)k->hellos_resumed));
    json_object_set_new(counters, "conn_refused", json_integer((json_int_t)ts->conn_refused));
    json_object_set_new(counters, "conns_closed", json_integer((json_int_t)ts->conns_closed));
}

static json_t *status_json(struct broker *b)
{
    char sid[2 * BROKER_STORE_ID_LEN + 1];
    struct transport_stats ts = {0};
    const struct broker_counters *k = &b->counters;
    struct status_ctx c = {b, json_array()};
    keys_hex(b->store_id, BROKER_STORE_ID_LEN, sid);
    if (b->t)
        transport_stats(b->t, &ts);
    directory_each(b, peer_status, &c);
    json_t *counters =
        json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "frames_in",
                  (json_int_t)k->frames_in, "events_stored", (json_int_t)k->events_stored,
                  "duplicates", (json_int_t)k->duplicates, "malformed", (json_int_t)k->malformed,
                  "rejected", (json_int_t)k->rejected, "unrouted", (json_int_t)k->unrouted, "forks",
                  (json_int_t)k->forks, "auth_refused", (json_int_t)k->auth_refused, "org_mismatch",
                  (json_int_t)k->org_mismatch, "dropped_frames", (json_int_t)ts.bad_frames,
                  "sessions_dropped", (json_int_t)k->sessions_dropped, "send_failures",
                  (json_int_t)ts.send_failures, "read_pauses", (json_int_t)k->read_pauses);
    /* Offline (the broker not running), status reads what is persisted: "running" says so. */
    json_object_set_new(counters, "rejected_auth", json_integer((json_int_t)k->rejected_auth));
    json_object_set_new(counters, "rejected_side", json_integer((json_int_t)k->rejected_side));
    json_object_set_new(counters, "rejected_sequence",
                        json_integer((json_int_t)k->rejected_sequence));
    json_object_set_new(counters, "rejected_route", json_integer((json_int_t)k->rejected_route));
    budget_counters(counters, k, &ts);
    json_t *s = json_pack(
        "{s:s,s:s,s:b,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:o,s:o,s:o,s:{s:I,s:I,s:I,s:I}}", "street",
        b->cfg.street, "name", b->cfg.name, "running", b->t != NULL, "store_id", sid, "endpoint",
        b->bound, "directory_version", (json_int_t)eventlog_hwm(b->log, b->cfg.street),
        "members_unfolded", (json_int_t)eventlog_dirty_count(b->log), "claims_open",
        (json_int_t)protocol_claims_open(b), "uptime_ms",
        (json_int_t)(b->t ? broker_now_ms(b) - b->started_ms : 0), "verify_pending",
        (json_int_t)(b->verify ? verify_pending_events(b->verify) : 0), "peers", c.peers,
        "counters", counters, "commits", ctl_commits_json(b->log), "chaos", "dropped",
        (json_int_t)ts.chaos_dropped, "duplicated", (json_int_t)ts.chaos_duplicated, "reordered",
        (json_int_t)ts.chaos_reordered, "delayed", (json_int_t)ts.chaos_delayed);
    /* how long each turn of the loop held it: a long one delays every frame behind it */
    if (b->t)
        json_object_set_new(s, "loop", hist_json(transport_loop_turns(b->t)));
    /* An erasure's bytes are gone from the disk once this is false (eventlog_scrub). */
    json_object_set_new(s, "scrub_pending", json_boolean(eventlog_scrub_pending(b->log)));
    /* the directory stream: its entries and the street seq of the last */
    json_object_set_new(s, "directory_entries", json_integer((json_int_t)directory_count(b)));
    json_object_set_new(s, "directory_head", json_integer((json_int_t)directory_head(b)));
    json_object_set_new(s, "links", links_json(b)); /* the other streets' brokers (links.h) */
    if (b->cfg.hub) /* what it keeps of the letters it carried (carry.h) */
        json_object_set_new(s, "carried", carry_json(b));
    if (b->sigaudit) /* the signatures checked behind the ACK: only a running broker has it */
        json_object_set_new(s, "signature_audit", sigaudit_json(b));
    json_t *store = ctl_store_json(b->log);
    if (store)
        json_object_set_new(s, "store", store);
    return s;
}

bool broker_card_rotation_of_ctl(const Dualsync__CtlCommand *cmd, struct org_card *card)
{
    for (size_t i = 0; i < cmd->n_args; i++) {
        const char *k = cmd->args[i]->key;
        if ((strcmp(k, "key_from") == 0 || strcmp(k, "rotation") == 0 ||
             strcmp(k, "past_key") == 0) &&
            !config_card_field(card, k, cmd->args[i]->value))
            return false;
    }
    return true;
}

static int card_from_ctl(const Dualsync__CtlCommand *cmd, struct org_card *card)
{
    const char *org = ctl_arg(cmd, "org"), *name = ctl_arg(cmd, "name");
    const char *ck = ctl_arg(cmd, "curve-key"), *sk = ctl_arg(cmd, "sign-key");
    memset(card, 0, sizeof(*card));
    if (!org || !name || !ck || !sk || !ids_org_valid(org) || strlen(name) > IDS_NAME_MAX ||
        keys_unhex(ck, card->curve_key, KEYS_PUB_LEN) != DS_OK ||
        keys_unhex(sk, card->sign_key, KEYS_PUB_LEN) != DS_OK)
        return DS_EINVAL;
    strcpy(card->org, org);
    strcpy(card->name, name);
    card->kind = ids_org_kind(org);
    if (!broker_card_rotation_of_ctl(cmd, card))
        return DS_EINVAL;
    return config_card_problem(card) ? DS_EINVAL : DS_OK;
}

/* An id is one org in the city: an org of another street says which street holds it. */
static void org_exists_error(const struct broker *b, const char *org, uint8_t **out, size_t *len)
{
    const char *holder = directory_holder(b, org);
    if (!holder || strcmp(holder, b->cfg.street) == 0) {
        ctl_reply_error(DS_EEXIST, "该组织或其密钥已在目录中",
                        "org or its key is already in the directory", 0, out, len);
        return;
    }
    char zh[300], en[300];
    snprintf(zh, sizeof(zh), "组织编号 %s 已由 %s 登记:同一城市中编号只能属于一个街道", org,
             holder);
    snprintf(en, sizeof(en),
             "org id %s is registered by %s: an id belongs to one street of the city", org, holder);
    ctl_reply_error(DS_EEXIST, zh, en, 0, out, len);
}

static void org_add_reply(struct broker *b, const Dualsync__CtlCommand *cmd, uint8_t **out,
                          size_t *len)
{
    struct org_card card;
    if (b->cfg.hub) {
        ctl_reply_error(DS_EINVAL, "中转 broker(hub)没有自己的组织:请在所属街道加入",
                        "a hub has no orgs of its own: add the org at its street", 0, out, len);
        return;
    }
    int rc = card_from_ctl(cmd, &card);
    if (rc == DS_OK)
        rc = directory_add(b, &card);
    if (rc == DS_EINVAL)
        ctl_reply_error(rc, "组织名片无效:需要单位或社区的 id、名称和两个公钥",
                        "invalid card: needs a unit or community id, a name and both public keys",
                        0, out, len);
    else if (rc == DS_EEXIST)
        org_exists_error(b, card.org, out, len);
    else if (rc != DS_OK)
        ctl_reply_error(rc, "存储失败", "storage failure", 0, out, len);
    else {
        char fp[KEYS_FINGERPRINT_LEN];
        keys_fingerprint(card.curve_key, card.sign_key, fp);
        ctl_reply_ok(json_pack("{s:s,s:s,s:I}", "org", card.org, "fingerprint", fp,
                               "directory_version",
                               (json_int_t)eventlog_hwm(b->log, b->cfg.street)),
                     out, len);
    }
}

/* org revoke / org rekey / org remove: the org lifecycle (directory.c). */
static void lifecycle_error(int rc, json_t *open, uint8_t **out, size_t *len)
{
    if (rc == DS_EACCES)
        ctl_reply_error(rc, "该组织属于另一街道,只能由那个街道吊销、换钥或移除",
                        "that org belongs to another street: only that street revokes, rekeys or "
                        "removes it",
                        0, out, len);
    else if (rc == DS_ENOTFOUND)
        ctl_reply_error(rc, "目录中没有该组织(或已移除)",
                        "no such org in the directory (or removed)", 0, out, len);
    else if (rc == DS_EEXIST && open && json_array_size(open)) {
        char ids[512] = "";
        size_t i;
        json_t *m;
        json_array_foreach(open, i, m)
        {
            if (strlen(ids) + strlen(json_string_value(m)) + 3 >= sizeof(ids) - 4) {
                strcat(ids, " …");
                break;
            }
            strcat(ids, i ? ", " : "");
            strcat(ids, json_string_value(m));
        }
        char zh[700], en[700];
        snprintf(zh, sizeof(zh),
                 "该组织还有 %zu 名党员在册(%s):请先办理转出或注销,或加 --force 一并关闭",
                 json_array_size(open), ids);
        snprintf(en, sizeof(en),
                 "the org still has %zu members registered (%s): release or close them first, "
                 "or add --force to close them with it",
                 json_array_size(open), ids);
        ctl_reply_error(rc, zh, en, 0, out, len);
    } else if (rc == DS_EEXIST)
        ctl_reply_error(rc, "该组织已被吊销,或新密钥已在使用",
                        "the org is already revoked, or the new key is already in use", 0, out,
                        len);
    else if (rc == DS_EAUTH)
        ctl_reply_error(rc,
                        "新名片不是用街道所知的旧密钥签署的轮换名片(可能是冒充);确认指纹后可加 "
                        "--unsigned",
                        "the new card is not a rotation signed by the key the street knows (it "
                        "may be an impostor); after comparing fingerprints by phone, add "
                        "--unsigned",
                        0, out, len);
    else if (rc == DS_ESEQ)
        ctl_reply_error(rc, "街道已收到该组织轮换点之后的事件:请对方重新执行 rekey 生成新名片",
                        "the street already holds events of the org from after the card's "
                        "key_from: have the org run rekey again for a new card",
                        0, out, len);
    else if (rc == DS_EINVAL)
        ctl_reply_error(rc, "名片或原因无效(类别须相同,新密钥不能已在目录中)",
                        "invalid card or reason (same kind, a key not already in the directory)", 0,
                        out, len);
    else
        ctl_reply_error(rc, "存储失败", "storage failure", 0, out, len);
}

static void org_lifecycle_reply(struct broker *b, const Dualsync__CtlCommand *cmd, uint8_t **out,
                                size_t *len)
{
    const char *org = ctl_arg(cmd, "org"), *reason = ctl_arg(cmd, "reason");
    json_t *open = NULL;
    if (strcmp(cmd->cmd, "org rekey") == 0)
        org = NULL; /* the card names it */
    int rc = DS_EINVAL;
    struct org_card card;
    if (strcmp(cmd->cmd, "org rekey") == 0) {
        rc = card_from_ctl(cmd, &card);
        if (rc == DS_OK)
            rc = directory_rekey(b, &card, ctl_arg(cmd, "unsigned") != NULL);
    } else if (!org || !ids_org_valid(org)) {
        rc = DS_ENOTFOUND;
    } else if (strcmp(cmd->cmd, "org revoke") == 0) {
        rc = directory_revoke(b, org, reason);
    } else {
        rc = directory_remove(b, org, reason, ctl_arg(cmd, "force") != NULL, &open);
    }
    if (rc != DS_OK) {
        lifecycle_error(rc, open, out, len);
        json_decref(open);
        return;
    }
    const struct org_entry *e = directory_find(b, org ? org : card.org);
    char fp[KEYS_FINGERPRINT_LEN];
    keys_fingerprint(e->curve_key, keyring_current(&e->ring), fp);
    json_t *j =
        json_pack("{s:s,s:s,s:s,s:I,s:I}", "org", e->org, "state", directory_state_name(e->state),
                  "fingerprint", fp, "key_from", (json_int_t)e->ring.era[e->ring.n - 1].from_seq,
                  "directory_version", (json_int_t)eventlog_hwm(b->log, b->cfg.street));
    json_object_set_new(j, "closed", open ? open : json_array());
    ctl_reply_ok(j, out, len);
}

/* The street sees counts, not records: only the digest and the event count leave here. */
static void digest_reply(struct broker *b, const Dualsync__CtlCommand *cmd, uint8_t **out,
                         size_t *len)
{
    const char *member = ctl_arg(cmd, "member");
    Dualsync__MemberRecord *rec = NULL;
    if (!member || !ids_member_valid(member)) {
        ctl_reply_error(DS_EINVAL, "成员编号无效", "invalid member id", 0, out, len);
        return;
    }
    if (eventlog_member(b->log, member, &rec) != DS_OK) {
        ctl_reply_error(DS_ENOTFOUND, "没有该成员的记录", "no record of this member", 0, out, len);
        return;
    }
    char hex[2 * KEYS_DIGEST_LEN + 1], clear[2 * KEYS_DIGEST_LEN + 1];
    fold_digest_hex(rec, hex);
    fold_clear_digest_hex(rec, clear); /* what a hub that carried the letters holds */
    ctl_reply_ok(json_pack("{s:s,s:s,s:s,s:I}", "member", member, "digest", hex, "clear_digest",
                           clear, "events", (json_int_t)rec->events),
                 out, len);
    fold_free(&rec);
}

static bool digest_one(const Dualsync__MemberRecord *rec, void *arg)
{
    char hex[2 * KEYS_DIGEST_LEN + 1], clear[2 * KEYS_DIGEST_LEN + 1];
    fold_digest_hex(rec, hex);
    fold_clear_digest_hex(rec, clear);
    json_array_append_new(arg, json_pack("{s:s,s:s,s:s,s:I}", "member", rec->member, "digest", hex,
                                         "clear_digest", clear, "events", (json_int_t)rec->events));
    return true;
}

/* Every member's digest (no record fields): what a convergence check compares. */
static void digests_reply(struct broker *b, uint8_t **out, size_t *len)
{
    json_t *arr = json_array();
    if (eventlog_members_each(b->log, digest_one, arr) != DS_OK) {
        json_decref(arr);
        ctl_reply_error(DS_EIO, "读取失败", "read failure", 0, out, len);
        return;
    }
    ctl_reply_ok(arr, out, len);
}

uint64_t broker_now_ms(const struct broker *b)
{
    return b->now_ms ? b->now_ms() : hlc_wall_ms();
}

void broker_on_ctl(void *arg, const uint8_t *req, size_t len, uint8_t **reply_out,
                   size_t *reply_len_out)
{
    struct broker *b = arg;
    Dualsync__CtlRequest *r = wire_unpack_ctl_request(req, len);
    if (!r || r->n_commands != 1) {
        ctl_reply_error(DS_EPROTO, "无效的控制请求", "invalid control request", 0, reply_out,
                        reply_len_out);
        wire_msg_free(r);
        return;
    }
    ctl_normalize_args(r); /* dates as 2026/3/5, attendees as "a，b" */
    const Dualsync__CtlCommand *cmd = r->commands[0];
    if (strcmp(cmd->cmd, "status") == 0)
        ctl_reply_ok(status_json(b), reply_out, reply_len_out);
    else if (strcmp(cmd->cmd, "org list") == 0)
        ctl_reply_ok(directory_json(b), reply_out, reply_len_out);
    else if (strcmp(cmd->cmd, "org add") == 0) {
        org_add_reply(b, cmd, reply_out, reply_len_out);
        inbox_pump_all(b);
    } else if (strcmp(cmd->cmd, "org revoke") == 0 || strcmp(cmd->cmd, "org rekey") == 0 ||
               strcmp(cmd->cmd, "org remove") == 0) {
        org_lifecycle_reply(b, cmd, reply_out, reply_len_out);
        inbox_pump_all(b);
    } else if (strcmp(cmd->cmd, "digests") == 0)
        digests_reply(b, reply_out, reply_len_out);
    else if (strcmp(cmd->cmd, "digest") == 0)
        digest_reply(b, cmd, reply_out, reply_len_out);
    else if (strcmp(cmd->cmd, "report") == 0)
        report_street_reply(b, cmd, reply_out, reply_len_out);
    else if (strcmp(cmd->cmd, "meetings") == 0)
        report_meetings_reply(b, reply_out, reply_len_out);
    else if (strncmp(cmd->cmd, "peer ", 5) == 0)
        links_ctl(b, cmd, reply_out, reply_len_out);
    else if (strcmp(cmd->cmd, "claims") == 0)
        ctl_reply_ok(routing_claims_json(b), reply_out, reply_len_out);
    else if (strcmp(cmd->cmd, "meeting add") == 0) {
        report_meeting_add_reply(b, cmd, reply_out, reply_len_out);
        inbox_pump_all(b); /* the attendees that are connected get it now */
    } else
        ctl_reply_error(DS_EINVAL, "未知命令", "unknown command", 0, reply_out, reply_len_out);
    wire_msg_free(r);
}
