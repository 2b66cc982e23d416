/* directory: the street's orgs and their keys.
 * The directory is itself a log of signed events from the street's own origin, so nodes
 * receive it like any other event and can check it against the street's signing key.
 * orgs cf: org id -> [8 byte seq][DirectoryEntry]. In memory: by org and by CURVE key
 * (the ZAP handler's lookup, once per connection). The directory entries' seqs, in order,
 * are the directory stream: each node reads it from its own cursor (inbox.c), so adding
 * the n-th org writes one event, not n inbox entries (and a newcomer's n more). The
 * street's other events (joint meetings) share its sequence but go into the inboxes of
 * the orgs they are addressed to. */
#include "directory.h"
#include "sigaudit.h"

#include "broker.h"
#include "protocol.h"
#include "routing.h"

#include "btxn.h"

#include "err.h"
#include "log.h"
#include "wire.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

/* The seqs of the street's directory entries, in order: the directory stream. */
struct directory_seqs {
    uint64_t *seq;
    bool *foreign; /* of each: it announces another street's org */
    size_t n, cap;
};

struct directory {
    struct strmap *orgs;   /* org id -> struct org_entry * (owned) */
    struct strmap *by_key; /* hex CURVE key -> struct org_entry * (borrowed; active orgs) */
    struct directory_seqs seqs;
};

struct directory *directory_new(void)
{
    struct directory *d = xcalloc(1, sizeof(*d));
    d->orgs = strmap_new();
    d->by_key = strmap_new();
    return d;
}

void directory_destroy(struct directory **dp)
{
    struct directory *d = *dp;
    if (!d)
        return;
    strmap_destroy(&d->by_key, NULL);
    strmap_destroy(&d->orgs, free);
    free(d->seqs.seq);
    free(d->seqs.foreign);
    free(d);
    *dp = NULL;
}

/* Only an active org's CURVE key opens a session (the ZAP handler's lookup). */
static void remember(struct broker *b, struct org_entry *e)
{
    struct directory *d = broker_directory(b);
    char hex[KEYS_HEX_PUB_LEN];
    struct org_entry *old = strmap_get(d->orgs, e->org);
    if (old) { /* drop the old key's lookup before the entry it points to is freed */
        keys_hex(old->curve_key, KEYS_PUB_LEN, hex);
        if (strmap_get(d->by_key, hex) == old)
            strmap_remove(d->by_key, hex);
    }
    keys_hex(e->curve_key, KEYS_PUB_LEN, hex);
    free(strmap_put(d->orgs, e->org, e));
    if (e->state == DUALSYNC__ORG_STATE__ORG_STATE_ACTIVE && !e->street[0])
        strmap_put(d->by_key, hex, e); /* another street's org connects to its own broker */
}

static struct org_entry *entry_from(const Dualsync__DirectoryEntry *d, uint64_t seq)
{
    struct org_entry *e = xcalloc(1, sizeof(*e));
    if (d->curve_key.len != KEYS_PUB_LEN || keyring_from_entry(d, &e->ring) != DS_OK) {
        free(e);
        return NULL;
    }
    snprintf(e->org, sizeof(e->org), "%s", d->org);
    snprintf(e->name, sizeof(e->name), "%s", d->name);
    snprintf(e->reason, sizeof(e->reason), "%s", d->reason);
    snprintf(e->street, sizeof(e->street), "%s", d->street);
    snprintf(e->via, sizeof(e->via), "%s", d->via);
    e->kind = (enum org_kind)d->kind;
    e->state = d->state;
    memcpy(e->curve_key, d->curve_key.data, KEYS_PUB_LEN);
    e->seq = seq;
    return e;
}

static void seqs_push(struct directory_seqs *d, uint64_t seq, bool foreign)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 256;
        d->seq = xrealloc(d->seq, d->cap * sizeof(*d->seq));
        d->foreign = xrealloc(d->foreign, d->cap * sizeof(*d->foreign));
    }
    d->foreign[d->n] = foreign;
    d->seq[d->n++] = seq;
}

/* Whether a directory event's body names another street as the org's holder. */
static bool foreign_body(const struct event *ev)
{
    Dualsync__DirectoryEntry *d = wire_unpack_directory_entry(ev->body, ev->body_len);
    bool foreign = d && d->street && d->street[0];
    wire_msg_free(d);
    return foreign;
}

static bool load_seq(const struct event *ev, void *arg)
{
    struct broker *b = arg;
    if (strcmp(ev->origin, broker_config(b)->street) == 0)
        seqs_push(&broker_directory(b)->seqs, ev->seq, foreign_body(ev));
    return true;
}

/* The seqs in seq order, the foreign marks moved with them. */
static void seqs_sort(struct directory_seqs *d)
{
    for (size_t i = 1; i < d->n; i++) /* nearly sorted already (hlc order): insertion */
        for (size_t j = i; j > 0 && d->seq[j - 1] > d->seq[j]; j--) {
            uint64_t s = d->seq[j];
            bool f = d->foreign[j];
            d->seq[j] = d->seq[j - 1];
            d->foreign[j] = d->foreign[j - 1];
            d->seq[j - 1] = s;
            d->foreign[j - 1] = f;
        }
}

/* The stream's seqs from the type index (in hlc order there: sorted into seq order). */
static int load_seqs(struct broker *b)
{
    int rc = eventlog_type_events(broker_log(b), DUALSYNC__EVENT_TYPE__EVENT_DIRECTORY_ENTRY,
                                  load_seq, b);
    seqs_sort(&broker_directory(b)->seqs);
    return rc;
}

uint64_t directory_head(const struct broker *b)
{
    const struct directory_seqs *d = &broker_directory(b)->seqs;
    return d->n ? d->seq[d->n - 1] : 0;
}

size_t directory_position(const struct broker *b, uint64_t after)
{
    const struct directory_seqs *d = &broker_directory(b)->seqs;
    size_t lo = 0, hi = d->n; /* the first entry > after is in [lo, hi] */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->seq[mid] <= after)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

size_t directory_count(const struct broker *b)
{
    return broker_directory(b)->seqs.n;
}

uint64_t directory_seq_at(const struct broker *b, size_t pos)
{
    const struct directory_seqs *d = &broker_directory(b)->seqs;
    return pos < d->n ? d->seq[pos] : 0;
}

bool directory_entry_for(const struct broker *b, size_t pos, const char *peer)
{
    const struct directory_seqs *d = &broker_directory(b)->seqs;
    if (pos >= d->n || !d->foreign[pos])
        return pos < d->n;
    if (!broker_config(b)->hub)
        return false;
    /* a hub: the entry's holder and way, read from the entry as it was announced */
    uint8_t *raw = NULL;
    size_t len = 0;
    struct event ev;
    bool to_peer = false;
    if (eventlog_get_raw(broker_log(b), broker_config(b)->street, d->seq[pos], &raw, &len) ==
            DS_OK &&
        wire_event_open(raw, len, false, &ev) == DS_OK) {
        Dualsync__DirectoryEntry *e = wire_unpack_directory_entry(ev.body, ev.body_len);
        to_peer =
            e && e->street && strcmp(e->street, peer) != 0 && e->via && strcmp(e->via, peer) != 0;
        wire_msg_free(e);
        wire_event_release(&ev);
    }
    free(raw);
    return to_peer;
}

size_t directory_org_count(const struct broker *b)
{
    return strmap_count(broker_directory(b)->orgs);
}

struct each_org {
    bool (*fn)(const struct org_entry *e, void *arg);
    void *arg;
};

static bool each_org(const char *org, void *value, void *arg)
{
    (void)org;
    struct each_org *c = arg;
    return c->fn(value, c->arg);
}

void directory_each(const struct broker *b, bool (*fn)(const struct org_entry *e, void *arg),
                    void *arg)
{
    struct each_org c = {fn, arg};
    strmap_each(broker_directory(b)->orgs, each_org, &c);
}

int directory_load(struct broker *b)
{
    struct skey prefix;
    skey_init(&prefix);
    struct store_iter *it = store_iter_new(eventlog_store(broker_log(b)), CF_ORGS, &prefix, NULL);
    int rc = DS_OK;
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t len;
        const uint8_t *v = store_iter_value(it, &len);
        Dualsync__DirectoryEntry *d = len > 8 ? wire_unpack_directory_entry(v + 8, len - 8) : NULL;
        struct org_entry *e = d ? entry_from(d, store_get_u64be(v)) : NULL;
        wire_msg_free(d);
        if (!e) {
            log_error("directory: corrupt org entry");
            rc = DS_EIO;
            break;
        }
        remember(b, e);
    }
    if (rc == DS_OK)
        rc = store_iter_status(it); /* an I/O error ends a scan early: say so */
    store_iter_destroy(&it);
    return rc == DS_OK ? load_seqs(b) : rc;
}

const struct org_entry *directory_find(const struct broker *b, const char *org)
{
    return strmap_get(broker_directory(b)->orgs, org);
}

bool directory_authorize(void *arg, const uint8_t key[KEYS_PUB_LEN], char org_out[IDS_ORG_MAX])
{
    struct broker *b = arg;
    char hex[KEYS_HEX_PUB_LEN];
    keys_hex(key, KEYS_PUB_LEN, hex);
    const struct org_entry *e = strmap_get(broker_directory(b)->by_key, hex);
    if (!e) {
        broker_counters(b)->auth_refused++;
        log_warn("broker: refused connection key=%.16s... msg=\"not in directory\"", hex);
        return false;
    }
    strcpy(org_out, e->org);
    return true;
}

struct key_search {
    const uint8_t *curve;
    bool found;
};

static bool has_key(const char *org, void *value, void *arg)
{
    (void)org;
    const struct org_entry *e = value;
    struct key_search *q = arg;
    q->found = memcmp(e->curve_key, q->curve, KEYS_PUB_LEN) == 0;
    return !q->found;
}

/* Whether any org, whatever its state, has (or had at its last entry) this CURVE key. */
bool directory_key_in_use(const struct broker *b, const uint8_t curve[KEYS_PUB_LEN])
{
    struct key_search q = {curve, false};
    strmap_each(broker_directory(b)->orgs, has_key, &q);
    return q.found;
}

static int card_check(const struct broker *b, const struct org_card *card)
{
    if (card->kind != ORG_UNIT && card->kind != ORG_COMMUNITY)
        return DS_EINVAL;
    if (ids_org_kind(card->org) != card->kind || !ids_text_valid(card->name, IDS_NAME_MAX, false))
        return DS_EINVAL;
    if (strmap_get(broker_directory(b)->orgs, card->org) ||
        directory_key_in_use(b, card->curve_key))
        return DS_EEXIST; /* a removed org's id is not reused either */
    return DS_OK;
}

/* The directory event body of e (rotation: the old key's signature of a rekey, or NULL). */
static void entry_body(const struct org_entry *e, const uint8_t *rotation, uint8_t **body,
                       size_t *len)
{
    Dualsync__DirectoryEntry d = DUALSYNC__DIRECTORY_ENTRY__INIT;
    Dualsync__PastKey past[KEYRING_MAX], *ptrs[KEYRING_MAX];
    d.org = (char *)e->org;
    d.kind = (Dualsync__OrgKind)e->kind;
    d.name = (char *)e->name;
    d.curve_key.data = (uint8_t *)e->curve_key;
    d.curve_key.len = KEYS_PUB_LEN;
    keyring_to_entry(&e->ring, &d, past, ptrs);
    if (rotation) {
        d.rotation.data = (uint8_t *)rotation;
        d.rotation.len = KEYS_SIG_LEN;
    }
    d.state = e->state;
    d.reason = (char *)e->reason;
    d.street = (char *)e->street;
    d.via = (char *)e->via;
    wire_pack(&d.base, body, len);
}

/* Publishes e as the org's entry now: the signed directory event and the orgs cf in one
 * batch; then the in-memory directory and the stream, and every connected node is sent
 * the entry (the org itself included: a revoked org finds its entry when it comes back).
 * Takes e. */
static int publish_entry(struct broker *b, struct org_entry *e, const uint8_t *rotation)
{
    uint8_t *body = NULL, *raw = NULL;
    size_t body_len = 0, raw_len = 0;
    uint64_t seq = eventlog_hwm(broker_log(b), broker_config(b)->street) + 1;
    entry_body(e, rotation, &body, &body_len);
    wire_event_build(broker_keys(b), broker_config(b)->street, seq,
                     hlc_tick(broker_clock(b), hlc_wall_ms()), "",
                     DUALSYNC__EVENT_TYPE__EVENT_DIRECTORY_ENTRY, body, body_len, &raw, &raw_len);

    struct event ev;
    struct btxn t;
    btxn_begin(b, &t);
    int rc = wire_event_open(raw, raw_len, false, &ev);
    if (rc == DS_OK) {
        rc = rules_check(&ev); /* what every node will check */
        if (rc == DS_OK)
            rc = eventlog_txn_add(t.log, &ev, EVENTLOG_CONTIGUOUS);
        wire_event_release(&ev);
    }
    if (rc == DS_OK) {
        struct skey k;
        uint8_t *val = xmalloc(8 + body_len);
        store_put_u64be(val, seq);
        memcpy(val + 8, body, body_len);
        skey_init(&k);
        skey_str(&k, e->org);
        store_batch_put(eventlog_txn_batch(t.log), CF_ORGS, &k, val, 8 + body_len);
        free(val);
    }
    if (rc == DS_OK)
        rc = btxn_commit(&t);
    else
        btxn_abort(&t);
    if (rc == DS_OK) {
        e->seq = seq;
        remember(b, e);
        seqs_push(&broker_directory(b)->seqs, seq, e->street[0] != 0); /* durable: deliver it */
        inbox_pump_all(b);
    } else {
        free(e);
    }
    free(body);
    free(raw);
    return rc;
}

int directory_add(struct broker *b, const struct org_card *card)
{
    int rc = card_check(b, card);
    if (rc != DS_OK)
        return rc;
    struct org_entry *e = xcalloc(1, sizeof(*e));
    snprintf(e->org, sizeof(e->org), "%s", card->org);
    snprintf(e->name, sizeof(e->name), "%s", card->name);
    e->kind = card->kind;
    memcpy(e->curve_key, card->curve_key, KEYS_PUB_LEN);
    /* A rotation card re-added after a broker rebuild brings the org's earlier keys, so its
     * events from before the rotation are still accepted when the node republishes them. */
    const struct key_history *h = &card->history;
    if (h->key_from && config_card_rotation_valid(card, h->past[h->n_past - 1].sign_key))
        config_card_keyring(card, &e->ring);
    else
        keyring_init(&e->ring, card->sign_key);
    rc = publish_entry(b, e, NULL);
    if (rc == DS_OK)
        log_info("directory: added org=%s kind=%s", card->org, ids_kind_name(card->kind));
    return rc;
}

/* The org's sessions end now: a revoked or rotated key must not keep a live connection. */
static void close_sessions(struct broker *b, const char *org)
{
    struct peer *p = protocol_peer(b, org);
    if (p)
        p->welcomed = false;
    if (broker_transport(b))
        transport_close_org(broker_transport(b), org);
}

static int changed_entry(struct broker *b, const char *org, const char *reason,
                         struct org_entry **out)
{
    const struct org_entry *cur = strmap_get(broker_directory(b)->orgs, org);
    if (!cur || cur->state == DUALSYNC__ORG_STATE__ORG_STATE_REMOVED)
        return DS_ENOTFOUND;
    if (cur->street[0])
        return DS_EACCES; /* another street's org: its own street revokes or rekeys it */
    if (reason && !ids_text_valid(reason, ORG_REASON_MAX - 1, false))
        return DS_EINVAL;
    *out = xmemdup(cur, sizeof(*cur));
    snprintf((*out)->reason, sizeof((*out)->reason), "%s", reason ? reason : "");
    return DS_OK;
}

int directory_revoke(struct broker *b, const char *org, const char *reason)
{
    struct org_entry *e = NULL;
    int rc = changed_entry(b, org, reason, &e);
    if (rc != DS_OK)
        return rc;
    if (e->state == DUALSYNC__ORG_STATE__ORG_STATE_REVOKED) {
        free(e);
        return DS_EEXIST;
    }
    e->state = DUALSYNC__ORG_STATE__ORG_STATE_REVOKED;
    rc = publish_entry(b, e, NULL);
    if (rc == DS_OK) {
        close_sessions(b, org);
        log_warn("directory: revoked org=%s reason=\"%s\"", org, reason ? reason : "");
    }
    return rc;
}

int directory_rekey(struct broker *b, const struct org_card *card, bool unsigned_ok)
{
    struct org_entry *e = NULL;
    int rc = changed_entry(b, card->org, NULL, &e);
    if (rc != DS_OK)
        return rc;
    uint64_t held = eventlog_hwm(broker_log(b), card->org);
    uint64_t from = card->history.key_from ? card->history.key_from : held + 1;
    /* signed by the key the street knows: a rotation, not an impostor with a new card */
    bool signed_ok = config_card_rotation_valid(card, keyring_current(&e->ring));
    if (card->kind != e->kind || directory_key_in_use(b, card->curve_key))
        rc = DS_EINVAL;
    else if (!signed_ok && !unsigned_ok)
        rc = DS_EAUTH;
    else if (from <= held)
        rc = DS_ESEQ; /* the street holds events of the org from after the rotation */
    else if (from <= 1)
        keyring_init(&e->ring, card->sign_key); /* nothing of it was ever signed */
    else
        rc = keyring_rotate(&e->ring, card->sign_key, from);
    if (rc != DS_OK) {
        free(e);
        return rc;
    }
    memcpy(e->curve_key, card->curve_key, KEYS_PUB_LEN);
    e->state = DUALSYNC__ORG_STATE__ORG_STATE_ACTIVE;
    rc = publish_entry(b, e, signed_ok ? card->rotation : NULL);
    if (rc == DS_OK) {
        close_sessions(b, card->org);   /* the old key's session, if any */
        sigaudit_unblock(b, card->org); /* a failed signature is what a rekey answers */
        log_warn("directory: rekeyed org=%s from seq %llu%s", card->org, (unsigned long long)from,
                 unsigned_ok ? " (unsigned)" : "");
    }
    return rc;
}

int directory_remove(struct broker *b, const char *org, const char *reason, bool force,
                     json_t **open_out)
{
    struct org_entry *e = NULL;
    int rc = changed_entry(b, org, reason, &e);
    if (rc != DS_OK)
        return rc;
    json_t *open = json_array();
    struct btxn t;
    btxn_begin(b, &t);
    rc = routing_org_members(&t, org, force, open);
    if (rc == DS_OK && force && json_array_size(open))
        rc = btxn_commit(&t); /* before the entry: a crash in between re-runs cleanly */
    else
        btxn_abort(&t);
    if (rc == DS_OK && json_array_size(open) && !force)
        rc = DS_EEXIST;
    if (rc != DS_OK) {
        free(e);
        *open_out = open;
        return rc;
    }
    e->state = DUALSYNC__ORG_STATE__ORG_STATE_REMOVED;
    rc = publish_entry(b, e, NULL);
    if (rc == DS_OK) {
        close_sessions(b, org);
        log_warn("directory: removed org=%s closed_registrations=%zu reason=\"%s\"", org,
                 json_array_size(open), reason ? reason : "");
    }
    *open_out = open;
    return rc;
}

const char *directory_holder(const struct broker *b, const char *org)
{
    const struct org_entry *e = strmap_get(broker_directory(b)->orgs, org);
    if (!e)
        return NULL;
    return e->street[0] ? e->street : broker_config(b)->street;
}

/* What a linked broker may announce: a unit or community with keys that make a ring and
 * texts a node will show; held by another street when it comes from a hub, else by the
 * linked street itself (no holder named). */
static bool import_valid(const struct broker *b, const Dualsync__DirectoryEntry *d, bool hub)
{
    struct keyring ring;
    bool named = d->street && d->street[0];
    if (d->kind != DUALSYNC__ORG_KIND__ORG_KIND_UNIT &&
        d->kind != DUALSYNC__ORG_KIND__ORG_KIND_COMMUNITY)
        return false;
    if (!d->org || ids_org_kind(d->org) != (enum org_kind)d->kind || named != hub)
        return false;
    if (named &&
        (ids_org_kind(d->street) != ORG_STREET || strcmp(d->street, broker_config(b)->street) == 0))
        return false;
    if (!d->name || !ids_text_valid(d->name, IDS_NAME_MAX, false) ||
        (d->reason && d->reason[0] && !ids_text_valid(d->reason, ORG_REASON_MAX - 1, false)))
        return false;
    if (d->state != DUALSYNC__ORG_STATE__ORG_STATE_ACTIVE &&
        d->state != DUALSYNC__ORG_STATE__ORG_STATE_REVOKED &&
        d->state != DUALSYNC__ORG_STATE__ORG_STATE_REMOVED)
        return false;
    return d->curve_key.len == KEYS_PUB_LEN && keyring_from_entry(d, &ring) == DS_OK;
}

/* Whether another org than org has (or had at its last entry) this CURVE key. */
struct other_key_search {
    const char *org;
    const uint8_t *curve;
    bool found;
};

static bool other_has_key(const char *org, void *value, void *arg)
{
    const struct org_entry *e = value;
    struct other_key_search *q = arg;
    q->found = strcmp(org, q->org) != 0 && memcmp(e->curve_key, q->curve, KEYS_PUB_LEN) == 0;
    return !q->found;
}

/* Whether cur already says what d says (a resend, or the same entry after a link reset). */
static bool same_entry(const struct org_entry *cur, const struct org_entry *e)
{
    return cur->kind == e->kind && cur->state == e->state && strcmp(cur->name, e->name) == 0 &&
           strcmp(cur->reason, e->reason) == 0 && strcmp(cur->street, e->street) == 0 &&
           strcmp(cur->via, e->via) == 0 &&
           memcmp(cur->curve_key, e->curve_key, KEYS_PUB_LEN) == 0 && cur->ring.n == e->ring.n &&
           memcmp(cur->ring.era, e->ring.era, e->ring.n * sizeof(e->ring.era[0])) == 0;
}

int directory_import(struct broker *b, const Dualsync__DirectoryEntry *d, const char *via, bool hub,
                     bool *changed, char holder_out[IDS_ORG_MAX])
{
    *changed = false;
    if (!import_valid(b, d, hub))
        return DS_EINVAL;
    const char *street = hub ? d->street : via;
    const char *holder = directory_holder(b, d->org);
    if (holder && strcmp(holder, street) != 0) {
        snprintf(holder_out, IDS_ORG_MAX, "%s", holder);
        return DS_EEXIST; /* an id is one org in the city: the first street keeps it */
    }
    const struct org_entry *was = directory_find(b, d->org);
    if (was && hub && strcmp(was->via, was->street) == 0)
        return DS_OK; /* reached directly: the hub's way is not needed */
    struct other_key_search q = {d->org, d->curve_key.data, false};
    strmap_each(broker_directory(b)->orgs, other_has_key, &q);
    if (q.found) {
        snprintf(holder_out, IDS_ORG_MAX, "%s", broker_config(b)->street);
        return DS_EEXIST;
    }
    struct org_entry *e = entry_from(d, 0);
    if (!e)
        return DS_EINVAL;
    snprintf(e->street, sizeof(e->street), "%s", street);
    snprintf(e->via, sizeof(e->via), "%s", via);
    const struct org_entry *cur = directory_find(b, d->org);
    if (cur && same_entry(cur, e)) {
        free(e);
        return DS_OK;
    }
    int rc = publish_entry(b, e, d->rotation.len == KEYS_SIG_LEN ? d->rotation.data : NULL);
    *changed = rc == DS_OK;
    if (rc == DS_OK)
        log_info("directory: org=%s of street=%s via=%s %s", d->org, street, via,
                 cur ? "changed" : "added");
    return rc;
}

int directory_author(struct broker *b, uint32_t type, const uint8_t *body, size_t body_len,
                     char *const *to, size_t n_to, uint64_t *seq_out)
{
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    uint64_t seq = eventlog_hwm(broker_log(b), broker_config(b)->street) + 1;
    wire_event_build_to(broker_keys(b), broker_config(b)->street, seq,
                        hlc_tick(broker_clock(b), hlc_wall_ms()), "", type, body, body_len, to,
                        n_to, &raw, &raw_len);

    struct event ev;
    struct btxn t;
    btxn_begin(b, &t);
    int rc = wire_event_open(raw, raw_len, false, &ev);
    if (rc == DS_OK) {
        /* what every receiver will check, checked before the event is handed out */
        rc = rules_check(&ev);
        if (rc == DS_OK)
            rc = eventlog_txn_add(t.log, &ev, EVENTLOG_CONTIGUOUS);
        wire_event_release(&ev);
    }
    for (size_t i = 0; rc == DS_OK && i < n_to; i++)
        btxn_append(&t, to[i], broker_config(b)->street, seq);
    if (rc == DS_OK)
        rc = btxn_commit(&t);
    else
        btxn_abort(&t);
    if (rc == DS_OK) {
        *seq_out = seq;
        log_info("directory: street event type=%s seq=%llu to=%zu", rules_type_name(type),
                 (unsigned long long)seq, n_to);
    }
    free(raw);
    return rc;
}

const char *directory_state_name(Dualsync__OrgState state)
{
    return state == DUALSYNC__ORG_STATE__ORG_STATE_REVOKED   ? "revoked"
           : state == DUALSYNC__ORG_STATE__ORG_STATE_REMOVED ? "removed"
                                                             : "active";
}

struct json_ctx {
    const struct broker *b;
    json_t *arr;
};

static bool entry_json(const char *org, void *value, void *arg)
{
    (void)org;
    const struct org_entry *e = value;
    struct json_ctx *c = arg;
    char ck[KEYS_HEX_PUB_LEN], sk[KEYS_HEX_PUB_LEN], fp[KEYS_FINGERPRINT_LEN];
    keys_hex(e->curve_key, KEYS_PUB_LEN, ck);
    keys_hex(keyring_current(&e->ring), KEYS_PUB_LEN, sk);
    keys_fingerprint(e->curve_key, keyring_current(&e->ring), fp);
    json_t *row = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:I,s:I}", "org", e->org, "kind",
        ids_kind_name(e->kind), "name", e->name, "curve_key", ck, "sign_key", sk, "fingerprint", fp,
        "seq", (json_int_t)e->seq, "state", directory_state_name(e->state), "reason", e->reason,
        "keys", (json_int_t)e->ring.n, "key_from", (json_int_t)e->ring.era[e->ring.n - 1].from_seq);
    json_object_set_new(row, "street", json_string(directory_holder(c->b, e->org)));
    json_object_set_new(row, "foreign", json_boolean(e->street[0] != 0)); /* a linked street's */
    json_object_set_new(row, "via", json_string(e->via)); /* the link it is reached through */
    json_array_append_new(c->arr, row);
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
    struct json_ctx c = {b, arr};
    strmap_each(broker_directory(b)->orgs, entry_json, &c);
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
