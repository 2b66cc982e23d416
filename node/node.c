/* node: storage side of a unit's or community's node.
 * Own events: appended locally first, durably, with contiguous seqs (the event log
 * enforces it), then published by sync.c; nothing the operator saw accepted can be lost.
 * Delivered events: verified against the signing key of their origin (the street's key
 * from node.conf for directory entries, the directory for everyone else), checked against
 * the author-side rules, deduplicated by (origin, seq) with fork detection, and stored
 * together with the new inbox cursor in one WriteBatch, so a kill -9 in the middle leaves
 * either the whole delivery applied or none of it. */
#include "node.h"

#include "annual.h"
#include "calendar.h"

#include "ctl.h"
#include "owner.h"
#include "err.h"
#include "fdlimit.h"
#include "lang.h"
#include "log.h"
#include "rules.h"
#include "tasks.h"
#include "wire.h"
#include "xalloc.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A note the broker sent about our letter seq, kept in meta as "<what>/<our org>/<seq>". */
static void note_letter(struct node *n, const char *what, uint64_t seq, const char *text)
{
    char name[IDS_EVENT_ID_MAX + 16];
    snprintf(name, sizeof(name), "%s/%s/%llu", what, n->cfg.org, (unsigned long long)seq);
    struct eventlog_txn *txn = eventlog_begin(n->log);
    eventlog_txn_put_meta(txn, name, text, strlen(text) + 1);
    if (eventlog_commit(&txn) != DS_OK)
        log_warn("node: cannot record the %s note of seq %llu", what, (unsigned long long)seq);
}

/* The note of what kind kept for our introduction of rec, or NULL (caller frees). */
static char *intro_note(const struct node *n, const char *what, const Dualsync__MemberRecord *rec)
{
    char name[IDS_EVENT_ID_MAX + 16];
    void *val = NULL;
    size_t len = 0;
    if (strcmp(rec->unit, n->cfg.org) != 0 || !rec->intro_id[0])
        return NULL;
    snprintf(name, sizeof(name), "%s/%s", what, rec->intro_id);
    if (eventlog_meta_get(n->log, name, &val, &len) != DS_OK)
        return NULL;
    if (len == 0 || ((char *)val)[len - 1] != '\0') {
        free(val);
        return xstrdup(what);
    }
    return val;
}

bool node_note_refused(struct node *n, uint64_t seq, const char *why)
{
    char name[IDS_EVENT_ID_MAX + 16];
    void *val = NULL;
    size_t len = 0;
    snprintf(name, sizeof(name), "refused/%s/%llu", n->cfg.org, (unsigned long long)seq);
    if (eventlog_meta_get(n->log, name, &val, &len) == DS_OK) {
        free(val); /* a lost claim is said again every 10 s: kept once */
        return false;
    }
    note_letter(n, "refused", seq, why);
    annual_free(&n->annual); /* a refused introduction no longer counts: not in its record */
    return true;
}

char *node_intro_refused(const struct node *n, const Dualsync__MemberRecord *rec)
{
    /* A report-in to our letter reached us: the street routed it after all, when a release
     * older than it came later (broker/routing.c, "a late release"). */
    return rec->reported ? NULL : intro_note(n, "refused", rec);
}

void node_note_claimed(struct node *n, uint64_t seq, const char *text)
{
    char name[IDS_EVENT_ID_MAX + 16];
    void *val = NULL;
    size_t len = 0;
    snprintf(name, sizeof(name), "claimed/%s/%llu", n->cfg.org, (unsigned long long)seq);
    if (eventlog_meta_get(n->log, name, &val, &len) == DS_OK) {
        free(val); /* the street says it again every 10 s while it lasts: kept once */
        return;
    }
    log_warn("node: %s", text);
    note_letter(n, "claimed", seq, text);
}

char *node_intro_claimed(const struct node *n, const Dualsync__MemberRecord *rec)
{
    return rec->reported ? NULL : intro_note(n, "claimed", rec);
}

uint64_t node_now_ms(void)
{
    return hlc_wall_ms();
}

uint64_t node_clock_ms(const struct node *n)
{
    return n->now_ms ? n->now_ms() : node_now_ms();
}

void node_set_error(struct node *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n->last_error, sizeof(n->last_error), fmt, ap);
    va_end(ap);
}

const struct node_org *node_find_org(const struct node *n, const char *org)
{
    return strmap_get(n->orgs, org);
}

/* False for an entry whose keys do not make a ring (the broker checks them; a node that
 * gets one anyway keeps the org it knew). */
static bool remember_org(struct node *n, const Dualsync__DirectoryEntry *d)
{
    struct node_org *o = xcalloc(1, sizeof(*o));
    if (keyring_from_entry(d, &o->ring) != DS_OK) {
        free(o);
        return false;
    }
    snprintf(o->org, sizeof(o->org), "%s", d->org);
    snprintf(o->name, sizeof(o->name), "%s", d->name);
    snprintf(o->reason, sizeof(o->reason), "%s", d->reason);
    snprintf(o->street, sizeof(o->street), "%s", d->street ? d->street : "");
    o->kind = (enum org_kind)d->kind;
    o->state = d->state;
    free(strmap_put(n->orgs, o->org, o));
    return true;
}

static int load_directory(struct node *n)
{
    struct skey prefix;
    skey_init(&prefix);
    struct store_iter *it = store_iter_new(eventlog_store(n->log), CF_ORGS, &prefix, NULL);
    int rc = DS_OK;
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t len;
        const uint8_t *v = store_iter_value(it, &len);
        Dualsync__DirectoryEntry *d = wire_unpack_directory_entry(v, len);
        bool ok = d && remember_org(n, d);
        wire_msg_free(d);
        if (!ok) {
            rc = DS_EIO;
            break;
        }
    }
    if (rc == DS_OK)
        rc = store_iter_status(it); /* an I/O error ends a scan early: say so */
    store_iter_destroy(&it);
    return rc;
}

static int load_state(struct node *n)
{
    void *val = NULL;
    size_t len = 0;
    int rc = eventlog_meta_u64(n->log, "inbox_cursor", 0, &n->inbox_cursor);
    if (rc == DS_OK)
        rc = eventlog_meta_u64(n->log, "directory_cursor", 0, &n->dir_cursor);
    if (rc != DS_OK)
        return rc;
    rc = eventlog_meta_get(n->log, "broker_store_id", &val, &len);
    if (rc == DS_OK && len <= NODE_STORE_ID_MAX) {
        memcpy(n->store_id, val, len);
        n->store_id_len = len;
    }
    free(val);
    n->own_seq = eventlog_hwm(n->log, n->cfg.org);
    n->clock.last = eventlog_hlc_max(n->log);
    rc = eventlog_meta_u64(n->log, "restore_target", 0, &n->restore_target);
    if (rc == DS_OK)
        n->sync = sync_new(n);
    return rc == DS_OK ? load_directory(n) : rc;
}

static int open_node(const char *dir, bool read_only, struct node **node_out)
{
    struct node *n = xcalloc(1, sizeof(*n));
    char err[CONFIG_ERR_MAX] = "", path[4200];
    snprintf(n->dir, sizeof(n->dir), "%s", dir);
    n->orgs = strmap_new();
    n->receipts = strmap_new();
    int rc = read_only || owner_dir_private(dir) ? DS_OK : DS_EACCES;
    if (rc != DS_OK)
        goto fail;
    rc = config_node_load(dir, &n->cfg, err);
    if (rc != DS_OK) {
        fprintf(stderr,
                TR("错误: 无法读取节点配置(先运行 dualsync-node init?): %s\n",
                   "error: cannot read node config: %s\n"),
                err);
        goto fail;
    }
    n->kind = ids_org_kind(n->cfg.org);
    log_set_level(n->cfg.log_level);
    rc = calendar_load_dir(dir);
    if (rc != DS_OK)
        goto fail;
    rc = keys_crypto_init();
    if (rc == DS_OK)
        rc = keys_load(dir, &n->keys);
    if (rc != DS_OK) {
        fprintf(stderr,
                TR("错误: 无法读取 %s/keys 下的密钥(%s)\n",
                   "error: cannot load keys under %s/keys (%s)\n"),
                dir, ds_strerror(rc));
        goto fail;
    }
    config_history_ring(&n->cfg.own, n->keys.sign_pk, &n->own_ring);
    config_card_keyring(&n->cfg.street, &n->street_ring);
    snprintf(path, sizeof(path), "%s/db", dir);
    n->offline = read_only;
    rc = read_only ? eventlog_open_read_only(path, &n->log)
                   : eventlog_open(path, n->cfg.durability, &n->log);
    if (rc == DS_EAGAIN && !read_only)
        fprintf(
            stderr,
            TR("错误: 数据目录 %s 的节点已在运行\n", "error: a node is already running on %s\n"),
            dir);
    if (rc == DS_OK)
        rc = load_state(n);
    if (rc != DS_OK)
        goto fail;
    eventlog_on_member_change(n->log, reports_member_changed, n);
    *node_out = n;
    return DS_OK;
fail:
    node_close(&n);
    return rc;
}

int node_open(const char *dir, struct node **node_out)
{
    return open_node(dir, false, node_out);
}

int node_open_offline(const char *dir, struct node **node_out)
{
    return open_node(dir, true, node_out);
}

void node_close(struct node **np)
{
    struct node *n = *np;
    if (!n)
        return;
    transport_destroy(&n->t);
    eventlog_destroy(&n->log);
    strmap_destroy(&n->orgs, free);
    strmap_destroy(&n->receipts, free);
    sync_destroy(&n->sync);
    tasks_free(&n->tasks);
    annual_free(&n->annual);
    sodium_memzero(&n->keys, sizeof(n->keys));
    free(n);
    *np = NULL;
}

int node_run(struct node *n)
{
    char ctl_path[256];
    if (ctl_socket_path(n->dir, ctl_path, sizeof(ctl_path)) != DS_OK) {
        fputs(TR("错误: 数据目录路径太长,放不下控制套接字\n",
                 "error: data directory path too long for a socket\n"),
              stderr);
        return DS_EINVAL;
    }
    n->t = transport_new();
    if (transport_ctl_listen(n->t, ctl_path, commands_on_ctl, n) != DS_OK)
        return DS_EIO;
    int rc = node_console_start(n, &n->console); /* its pages call the socket just bound */
    if (rc != DS_OK)
        return rc;
    log_info("node: org=%s own_seq=%llu inbox_cursor=%llu directory_cursor=%llu broker=%s "
             "fds=%llu",
             n->cfg.org, (unsigned long long)n->own_seq, (unsigned long long)n->inbox_cursor,
             (unsigned long long)n->dir_cursor, n->cfg.broker,
             (unsigned long long)fdlimit_current());
    sync_start(n);
    transport_timer(n->t, n->cfg.heartbeat_ms, sync_tick, n);
    transport_run(n->t);
    console_stop(&n->console); /* before the loop's socket goes: pages may be calling it */
    log_info("node: stopping");
    return DS_OK;
}

void node_build_event(struct node *n, uint64_t seq, const char *member, uint32_t type,
                      const uint8_t *body, size_t body_len, char *const *to, size_t n_to,
                      uint8_t **raw_out, size_t *len_out)
{
    uint64_t hlc = hlc_tick(&n->clock, node_now_ms());
    wire_event_build_to(&n->keys, n->cfg.org, seq, hlc, member, type, body, body_len, to, n_to,
                        raw_out, len_out);
}

int node_append(struct node *n, uint8_t **raws, const size_t *lens, size_t count)
{
    struct eventlog_txn *txn = eventlog_begin(n->log);
    int rc = DS_OK;
    for (size_t i = 0; i < count && rc == DS_OK; i++) {
        struct event ev;
        rc = wire_event_open(raws[i], lens[i], false, &ev);
        if (rc == DS_OK) {
            rc = eventlog_txn_add(txn, &ev, EVENTLOG_CONTIGUOUS);
            if (rc == DS_OK)
                rc = retention_note(n, txn, &ev);
            wire_event_release(&ev);
        }
    }
    if (rc != DS_OK) {
        log_error("node: own event refused by the log rc=%s", ds_errname(rc));
        eventlog_abort(&txn);
        return rc;
    }
    rc = eventlog_commit(&txn);
    if (rc == DS_OK) {
        n->own_seq = eventlog_hwm(n->log, n->cfg.org);
        sync_pump(n);
    }
    return rc;
}

bool node_org_addressable(const struct node_org *o, enum org_kind kind)
{
    /* another street's org too: letters cross through the street's links */
    return o && o->kind == kind && o->state != DUALSYNC__ORG_STATE__ORG_STATE_REMOVED;
}

const uint8_t *node_origin_key(const struct node *n, const char *origin, uint64_t seq)
{
    if (strcmp(origin, n->cfg.street.org) == 0)
        return keyring_for(&n->street_ring, seq);
    if (strcmp(origin, n->cfg.org) == 0)
        return keyring_for(&n->own_ring, seq);
    const struct node_org *o = node_find_org(n, origin);
    return o ? keyring_for(&o->ring, seq) : NULL;
}

/* A directory entry becomes visible at once, so that later events of the same delivery
 * from the new org verify; its row is written in the delivery's batch. */
static void apply_directory_entry(struct node *n, struct eventlog_txn *txn, const struct event *ev)
{
    Dualsync__DirectoryEntry *d = wire_unpack_directory_entry(ev->body, ev->body_len);
    if (!d)
        return;
    struct skey k;
    skey_init(&k);
    skey_str(&k, d->org);
    store_batch_put(eventlog_txn_batch(txn), CF_ORGS, &k, ev->body, ev->body_len);
    const struct node_org *was = node_find_org(n, d->org);
    if (was && d->sign_key.len == KEYS_PUB_LEN &&
        memcmp(keyring_current(&was->ring), d->sign_key.data, KEYS_PUB_LEN) != 0)
        log_warn("node: directory: org=%s signs with a new key from seq %llu (%s)", d->org,
                 (unsigned long long)d->key_from,
                 d->rotation.len ? "a rotation signed by its old key" : "set by the street");
    if (d->state != DUALSYNC__ORG_STATE__ORG_STATE_ACTIVE)
        log_warn("node: directory: org=%s is %s: %s", d->org,
                 d->state == DUALSYNC__ORG_STATE__ORG_STATE_REVOKED ? "revoked" : "removed",
                 d->reason);
    remember_org(n, d);
    wire_msg_free(d);
}

static void apply_one(struct node *n, struct eventlog_txn *txn, const uint8_t *raw, size_t len)
{
    struct event ev;
    int open_rc = wire_event_open(raw, len, false, &ev);
    if (open_rc == DS_EAUTH) { /* a personal part other than the one its signature names */
        char origin[IDS_ORG_MAX] = "?";
        uint64_t seq = 0;
        wire_event_id(raw, len, origin, &seq);
        n->counters.rejected++;
        n->counters.rejected_signature++;
        log_warn("node: delivered event rejected origin=%s seq=%llu rc=EAUTH (personal part "
                 "tampered)",
                 origin, (unsigned long long)seq);
        return;
    }
    if (open_rc != DS_OK) {
        n->counters.rejected++;
        n->counters.rejected_malformed++;
        log_warn("node: delivered event does not decode, skipped");
        return;
    }
    const uint8_t *key = node_origin_key(n, ev.origin, ev.seq);
    int rc = key && wire_event_verify(&ev, key) ? rules_check(&ev) : DS_EAUTH;
    if (rc == DS_OK)
        rc = eventlog_txn_add(txn, &ev, 0);
    if (rc == DS_OK)
        rc = retention_note(n, txn, &ev);
    if (rc == DS_OK) {
        n->counters.applied++;
        hlc_observe(&n->clock, ev.hlc);
        if (ev.type == DUALSYNC__EVENT_TYPE__EVENT_DIRECTORY_ENTRY)
            apply_directory_entry(n, txn, &ev);
    } else if (rc == DS_EEXIST) {
        n->counters.duplicates++;
    } else if (rc == DS_EIO) {
        /* Skipping would move the cursor past an event we never stored: stop, and let the
         * restart resume from the durable cursor. */
        log_error("node: storage error while applying a delivery; exiting to retry");
        exit(1);
    } else if (rc == DS_EFORK) {
        n->counters.forks++;
        log_error("node: FORK origin=%s seq=%llu msg=\"same id, other bytes; refused\"", ev.origin,
                  (unsigned long long)ev.seq);
    } else {
        n->counters.rejected++;
        if (rc == DS_EAUTH)
            n->counters.rejected_signature++;
        else if (rc == DS_ESIDE)
            n->counters.rejected_side++;
        else
            n->counters.rejected_invalid++;
        log_warn("node: delivered event rejected origin=%s seq=%llu rc=%s", ev.origin,
                 (unsigned long long)ev.seq, ds_errname(rc));
    }
    wire_event_release(&ev);
}

/* Whether raw is one of the street's directory entries (the only events of the stream)
 * and within the frame's range (after, upto]. */
static bool street_directory_entry(const struct node *n, const uint8_t *raw, size_t len,
                                   uint64_t after, uint64_t upto)
{
    struct event ev;
    if (wire_event_open(raw, len, false, &ev) != DS_OK)
        return false;
    bool ok = ev.type == DUALSYNC__EVENT_TYPE__EVENT_DIRECTORY_ENTRY &&
              strcmp(ev.origin, n->cfg.street.org) == 0 && ev.seq > after && ev.seq <= upto;
    wire_event_release(&ev);
    return ok;
}

static void commit_or_exit(struct node *n, struct eventlog_txn **txn)
{
    if (eventlog_commit(txn) != DS_OK) {
        log_error("node: cannot store a delivery; exiting so a restart resumes from cursor=%llu "
                  "directory=%llu",
                  (unsigned long long)n->inbox_cursor, (unsigned long long)n->dir_cursor);
        exit(1);
    }
}

uint64_t node_apply_directory(struct node *n, uint64_t after, uint64_t upto,
                              const ProtobufCBinaryData *events, size_t count)
{
    if (after > n->dir_cursor || upto <= n->dir_cursor)
        return n->dir_cursor; /* a gap, or nothing new */
    struct eventlog_txn *txn = eventlog_begin(n->log);
    for (size_t i = 0; i < count; i++) {
        if (street_directory_entry(n, events[i].data, events[i].len, after, upto)) {
            apply_one(n, txn, events[i].data, events[i].len);
        } else {
            n->counters.rejected++;
            n->counters.rejected_invalid++;
            log_warn("node: a directory frame carried another event than a directory entry of "
                     "its range");
        }
    }
    eventlog_txn_put_meta_u64(txn, "directory_cursor", upto);
    commit_or_exit(n, &txn);
    n->dir_cursor = upto;
    return upto;
}

uint64_t node_apply_delivery(struct node *n, uint64_t first, const ProtobufCBinaryData *events,
                             size_t count)
{
    if (first == 0 || first > n->inbox_cursor + 1)
        return n->inbox_cursor; /* a gap: ignore; the next session resends from the cursor */
    struct eventlog_txn *txn = eventlog_begin(n->log);
    uint64_t cursor = n->inbox_cursor;
    for (size_t i = 0; i < count; i++) {
        uint64_t inbox_seq = first + i;
        if (inbox_seq <= cursor)
            continue; /* delivered twice: already applied */
        apply_one(n, txn, events[i].data, events[i].len);
        cursor = inbox_seq;
    }
    if (cursor == n->inbox_cursor) {
        eventlog_abort(&txn);
        return cursor;
    }
    eventlog_txn_put_meta_u64(txn, "inbox_cursor", cursor);
    commit_or_exit(n, &txn);
    n->inbox_cursor = cursor;
    return cursor;
}
