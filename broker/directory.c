/* directory: the street's orgs and their keys.
 * The directory is itself a log of signed events from the street's own origin, so nodes
 * receive it like any other event and can check it against the street's signing key.
 * orgs cf: org id -> [8 byte seq][DirectoryEntry]. In memory: by org and by CURVE key
 * (the ZAP handler's lookup, once per connection). A newcomer's inbox gets the whole
 * directory so far; everyone else's gets the new entry. The street's other events (joint
 * meetings) share its sequence but go only to the orgs they are addressed to. */
#include "broker.h"

#include "err.h"
#include "log.h"
#include "wire.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

static void remember(struct broker *b, struct org_entry *e)
{
    char hex[KEYS_HEX_PUB_LEN];
    struct org_entry *old = strmap_get(b->orgs, e->org);
    if (old) { /* drop the old key's lookup before the entry it points to is freed */
        char old_hex[KEYS_HEX_PUB_LEN];
        keys_hex(old->curve_key, KEYS_PUB_LEN, old_hex);
        strmap_remove(b->by_key, old_hex);
    }
    keys_hex(e->curve_key, KEYS_PUB_LEN, hex);
    free(strmap_put(b->orgs, e->org, e));
    strmap_put(b->by_key, hex, e);
}

static struct org_entry *entry_from(const Dualsync__DirectoryEntry *d, uint64_t seq)
{
    struct org_entry *e = xcalloc(1, sizeof(*e));
    snprintf(e->org, sizeof(e->org), "%s", d->org);
    snprintf(e->name, sizeof(e->name), "%s", d->name);
    e->kind = (enum org_kind)d->kind;
    memcpy(e->curve_key, d->curve_key.data, KEYS_PUB_LEN);
    memcpy(e->sign_key, d->sign_key.data, KEYS_PUB_LEN);
    e->seq = seq;
    return e;
}

int directory_load(struct broker *b)
{
    struct skey prefix;
    skey_init(&prefix);
    struct store_iter *it = store_iter_new(eventlog_store(b->log), CF_ORGS, &prefix, NULL);
    int rc = DS_OK;
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t len;
        const uint8_t *v = store_iter_value(it, &len);
        Dualsync__DirectoryEntry *d = len > 8 ? wire_unpack_directory_entry(v + 8, len - 8) : NULL;
        if (!d || d->curve_key.len != KEYS_PUB_LEN || d->sign_key.len != KEYS_PUB_LEN) {
            log_error("directory: corrupt org entry");
            wire_msg_free(d);
            rc = DS_EIO;
            break;
        }
        remember(b, entry_from(d, store_get_u64be(v)));
        wire_msg_free(d);
    }
    if (rc == DS_OK)
        rc = store_iter_status(it); /* an I/O error ends a scan early: say so */
    store_iter_destroy(&it);
    return rc;
}

const struct org_entry *directory_find(const struct broker *b, const char *org)
{
    return strmap_get(b->orgs, org);
}

bool directory_authorize(void *arg, const uint8_t key[KEYS_PUB_LEN], char org_out[IDS_ORG_MAX])
{
    struct broker *b = arg;
    char hex[KEYS_HEX_PUB_LEN];
    keys_hex(key, KEYS_PUB_LEN, hex);
    const struct org_entry *e = strmap_get(b->by_key, hex);
    if (!e) {
        b->counters.auth_refused++;
        log_warn("broker: refused connection key=%.16s... msg=\"not in directory\"", hex);
        return false;
    }
    strcpy(org_out, e->org);
    return true;
}

struct fanout {
    struct broker *b;
    struct eventlog_txn *txn;
    struct strmap *heads;
    const char *newcomer;
    uint64_t seq;
};

static bool fanout_one(const char *org, void *value, void *arg)
{
    (void)value;
    struct fanout *f = arg;
    if (strcmp(org, f->newcomer) != 0)
        inbox_append(f->b, f->txn, f->heads, org, f->b->cfg.street, f->seq);
    return true;
}

static int card_check(const struct broker *b, const struct org_card *card)
{
    char hex[KEYS_HEX_PUB_LEN];
    if (card->kind != ORG_UNIT && card->kind != ORG_COMMUNITY)
        return DS_EINVAL;
    if (ids_org_kind(card->org) != card->kind || !ids_text_valid(card->name, IDS_NAME_MAX, false))
        return DS_EINVAL;
    keys_hex(card->curve_key, KEYS_PUB_LEN, hex);
    if (strmap_get(b->orgs, card->org) || strmap_get(b->by_key, hex))
        return DS_EEXIST;
    return DS_OK;
}

static void entry_body(const struct org_card *card, uint8_t **body, size_t *len)
{
    Dualsync__DirectoryEntry d = DUALSYNC__DIRECTORY_ENTRY__INIT;
    d.org = (char *)card->org;
    d.kind = (Dualsync__OrgKind)card->kind;
    d.name = (char *)card->name;
    d.curve_key.data = (uint8_t *)card->curve_key;
    d.curve_key.len = KEYS_PUB_LEN;
    d.sign_key.data = (uint8_t *)card->sign_key;
    d.sign_key.len = KEYS_PUB_LEN;
    wire_pack(&d.base, body, len);
}

struct backfill {
    struct broker *b;
    struct eventlog_txn *txn;
    struct strmap *heads;
    const char *newcomer;
};

static bool backfill_one(const struct event *ev, void *arg)
{
    struct backfill *f = arg;
    if (strcmp(ev->origin, f->b->cfg.street) == 0)
        inbox_append(f->b, f->txn, f->heads, f->newcomer, ev->origin, ev->seq);
    return true;
}

/* A newcomer's inbox gets the directory so far: the street's directory entries only. The
 * street also writes events addressed to some orgs (joint meetings), which are theirs. */
static int backfill_directory(struct broker *b, struct eventlog_txn *txn, struct strmap *heads,
                              const char *newcomer)
{
    struct backfill f = {b, txn, heads, newcomer};
    return eventlog_type_events(b->log, DUALSYNC__EVENT_TYPE__EVENT_DIRECTORY_ENTRY, backfill_one,
                                &f);
}

int directory_add(struct broker *b, const struct org_card *card)
{
    int rc = card_check(b, card);
    if (rc != DS_OK)
        return rc;
    uint8_t *body = NULL, *raw = NULL;
    size_t body_len = 0, raw_len = 0;
    uint64_t seq = eventlog_hwm(b->log, b->cfg.street) + 1;
    entry_body(card, &body, &body_len);
    wire_event_build(&b->keys, b->cfg.street, seq, hlc_tick(&b->clock, hlc_wall_ms()), "",
                     DUALSYNC__EVENT_TYPE__EVENT_DIRECTORY_ENTRY, body, body_len, &raw, &raw_len);

    struct event ev;
    struct eventlog_txn *txn = eventlog_begin(b->log);
    struct strmap *heads = strmap_new();
    rc = wire_event_open(raw, raw_len, false, &ev);
    if (rc == DS_OK) {
        rc = eventlog_txn_add(txn, &ev, EVENTLOG_CONTIGUOUS);
        wire_event_release(&ev);
    }
    if (rc == DS_OK) {
        struct skey k;
        uint8_t *val = xmalloc(8 + body_len);
        store_put_u64be(val, seq);
        memcpy(val + 8, body, body_len);
        skey_init(&k);
        skey_str(&k, card->org);
        store_batch_put(eventlog_txn_batch(txn), CF_ORGS, &k, val, 8 + body_len);
        free(val);
        struct fanout f = {b, txn, heads, card->org, seq};
        strmap_each(b->orgs, fanout_one, &f);
        rc = backfill_directory(b, txn, heads, card->org);
        if (rc == DS_OK) {
            inbox_append(b, txn, heads, card->org, b->cfg.street, seq);
            inbox_stage_heads(b, txn, heads);
            rc = eventlog_commit(&txn);
        }
    }
    eventlog_abort(&txn);
    if (rc == DS_OK) {
        Dualsync__DirectoryEntry *d = wire_unpack_directory_entry(body, body_len);
        remember(b, entry_from(d, seq));
        wire_msg_free(d);
        inbox_commit_heads(b, heads);
        log_info("directory: added org=%s kind=%s seq=%llu", card->org, ids_kind_name(card->kind),
                 (unsigned long long)seq);
    }
    strmap_destroy(&heads, free);
    free(body);
    free(raw);
    return rc;
}

int directory_author(struct broker *b, uint32_t type, const uint8_t *body, size_t body_len,
                     char *const *to, size_t n_to, uint64_t *seq_out)
{
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    uint64_t seq = eventlog_hwm(b->log, b->cfg.street) + 1;
    wire_event_build_to(&b->keys, b->cfg.street, seq, hlc_tick(&b->clock, hlc_wall_ms()), "", type,
                        body, body_len, to, n_to, &raw, &raw_len);

    struct event ev;
    struct eventlog_txn *txn = eventlog_begin(b->log);
    struct strmap *heads = strmap_new();
    int rc = wire_event_open(raw, raw_len, false, &ev);
    if (rc == DS_OK) {
        /* what every receiver will check, checked before the event is handed out */
        rc = rules_check(&ev);
        if (rc == DS_OK)
            rc = eventlog_txn_add(txn, &ev, EVENTLOG_CONTIGUOUS);
        wire_event_release(&ev);
    }
    if (rc == DS_OK) {
        for (size_t i = 0; i < n_to; i++)
            inbox_append(b, txn, heads, to[i], b->cfg.street, seq);
        inbox_stage_heads(b, txn, heads);
        rc = eventlog_commit(&txn);
    }
    eventlog_abort(&txn);
    if (rc == DS_OK) {
        inbox_commit_heads(b, heads);
        *seq_out = seq;
        log_info("directory: street event type=%s seq=%llu to=%zu", rules_type_name(type),
                 (unsigned long long)seq, n_to);
    }
    strmap_destroy(&heads, free);
    free(raw);
    return rc;
}

static bool entry_json(const char *org, void *value, void *arg)
{
    (void)org;
    const struct org_entry *e = value;
    char ck[KEYS_HEX_PUB_LEN], sk[KEYS_HEX_PUB_LEN], fp[KEYS_FINGERPRINT_LEN];
    keys_hex(e->curve_key, KEYS_PUB_LEN, ck);
    keys_hex(e->sign_key, KEYS_PUB_LEN, sk);
    keys_fingerprint(e->curve_key, e->sign_key, fp);
    json_array_append_new(arg,
                          json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "org", e->org, "kind",
                                    ids_kind_name(e->kind), "name", e->name, "curve_key", ck,
                                    "sign_key", sk, "fingerprint", fp, "seq", (json_int_t)e->seq));
    return true;
}

static int by_org(const void *a, const void *b)
{
    return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "org")),
                  json_string_value(json_object_get(*(json_t *const *)b, "org")));
}

json_t *directory_json(const struct broker *b)
{
    json_t *arr = json_array();
    strmap_each(b->orgs, entry_json, arr);
    size_t n = json_array_size(arr);
    json_t **items = xmalloc((n ? n : 1) * sizeof(*items));
    for (size_t i = 0; i < n; i++)
        items[i] = json_incref(json_array_get(arr, i));
    qsort(items, n, sizeof(*items), by_org);
    json_t *sorted = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(sorted, items[i]);
    free(items);
    json_decref(arr);
    return sorted;
}
