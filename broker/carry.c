/* carry: what a hub keeps of the letters it carries (carry.h). */
#include "carry.h"

#include "broker.h"
#include "btxn.h"

#include "err.h"
#include "ids.h"
#include "log.h"
#include "store.h"
#include "strmap.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>

struct carry {
    uint64_t dropped;       /* parts dropped since the start */
    uint64_t last_drop_ms;  /* the last walk that dropped one */
    uint64_t last_scrub_ms; /* the last scrub asked for (0: none since the start) */
    bool unscrubbed;        /* dropped parts wait for a scrub (meta "carry_unscrubbed") */
};

/* A letter's count in a walk: how many streets it still goes to, and whether this walk
 * dropped its part. */
struct walked {
    uint64_t left;
    bool dropped;
};

struct carry *carry_new(void)
{
    return xcalloc(1, sizeof(struct carry));
}

void carry_destroy(struct carry **cp)
{
    free(*cp);
    *cp = NULL;
}

static void count_key(struct skey *k, const char *origin, uint64_t seq)
{
    skey_init(k);
    skey_str(k, "carry");
    skey_str(k, origin);
    skey_u64(k, seq);
}

static void unscrubbed_key(struct skey *k)
{
    skey_init(k);
    skey_str(k, "carry_unscrubbed");
}

int carry_load(struct broker *b)
{
    struct skey k;
    void *v = NULL;
    size_t len = 0;
    unscrubbed_key(&k);
    int rc = store_get(eventlog_store(broker_log(b)), CF_META, &k, &v, &len);
    free(v);
    broker_carry(b)->unscrubbed = rc == DS_OK;
    return rc == DS_OK || rc == DS_ENOTFOUND ? DS_OK : DS_EIO;
}

/* A letter's stored count of streets still to go (0: none kept). */
static int stored_left(struct broker *b, const char *origin, uint64_t seq, uint64_t *left)
{
    struct skey k;
    count_key(&k, origin, seq);
    return store_get_u64(eventlog_store(broker_log(b)), CF_META, &k, 0, left);
}

void carry_appended(struct btxn *t, const char *origin, uint64_t seq)
{
    char id[IDS_EVENT_ID_MAX];
    ids_event_id(id, sizeof(id), origin, seq);
    if (!t->carries)
        t->carries = strmap_new();
    uint64_t *n = strmap_get(t->carries, id);
    if (!n) {
        n = xcalloc(1, sizeof(*n));
        strmap_put(t->carries, id, n);
    }
    (*n)++;
}

struct stage_ctx {
    struct btxn *t;
    int rc;
};

static bool stage_one(const char *id, void *value, void *arg)
{
    struct stage_ctx *c = arg;
    char origin[IDS_ORG_MAX];
    uint64_t seq = 0, left = 0;
    if (!ids_event_id_parse(id, origin, &seq))
        return true; /* made by carry_appended from a stored event: cannot happen */
    c->rc = stored_left(c->t->b, origin, seq, &left);
    if (c->rc != DS_OK)
        return false;
    struct skey k;
    count_key(&k, origin, seq);
    store_batch_put_u64(eventlog_txn_batch(c->t->log), CF_META, &k,
                        left + *(const uint64_t *)value);
    return true;
}

int carry_stage(struct btxn *t)
{
    struct stage_ctx c = {t, DS_OK};
    if (t->carries)
        strmap_each(t->carries, stage_one, &c);
    return c.rc;
}

static void mark_unscrubbed(struct eventlog_txn *txn)
{
    struct skey k;
    unscrubbed_key(&k);
    store_batch_put(eventlog_txn_batch(txn), CF_META, &k, "", 0);
}

int carry_nowhere(struct btxn *t, const char *origin, uint64_t seq)
{
    bool dropped = false;
    int rc = eventlog_txn_strip(t->log, origin, seq, &dropped);
    if (rc == DS_OK && dropped) {
        mark_unscrubbed(t->log);
        t->dropped++;
    }
    return rc == DS_OK ? DS_OK : DS_EIO;
}

int carry_delivered(struct broker *b, struct eventlog_txn *txn, struct strmap *counts,
                    const char *origin, uint64_t seq)
{
    char id[IDS_EVENT_ID_MAX];
    ids_event_id(id, sizeof(id), origin, seq);
    struct walked *w = strmap_get(counts, id);
    if (!w) {
        w = xcalloc(1, sizeof(*w));
        if (stored_left(b, origin, seq, &w->left) != DS_OK) {
            free(w);
            return DS_EIO;
        }
        strmap_put(counts, id, w);
    }
    if (w->left > 0)
        w->left--;
    if (w->left > 0 || w->dropped)
        return DS_OK;
    /* the last street it went to has it (or a letter counted before counts were kept) */
    bool dropped = false;
    int rc = eventlog_txn_strip(txn, origin, seq, &dropped);
    if (rc == DS_ENOTFOUND) {
        log_error("carry: inbox entry of a letter not stored: %s", id);
        return DS_OK;
    }
    w->dropped = rc == DS_OK;
    return rc == DS_OK ? DS_OK : DS_EIO;
}

static bool stage_walked(const char *id, void *value, void *arg)
{
    const struct walked *w = value;
    char origin[IDS_ORG_MAX];
    uint64_t seq = 0;
    struct skey k;
    if (!ids_event_id_parse(id, origin, &seq))
        return true;
    count_key(&k, origin, seq);
    if (w->left)
        store_batch_put_u64(eventlog_txn_batch(arg), CF_META, &k, w->left);
    else
        store_batch_delete(eventlog_txn_batch(arg), CF_META, &k);
    return true;
}

static bool count_dropped(const char *id, void *value, void *arg)
{
    (void)id;
    *(uint64_t *)arg += ((const struct walked *)value)->dropped;
    return true;
}

uint64_t carry_walked(struct eventlog_txn *txn, struct strmap *counts)
{
    uint64_t dropped = 0;
    strmap_each(counts, stage_walked, txn);
    strmap_each(counts, count_dropped, &dropped);
    if (dropped)
        mark_unscrubbed(txn);
    return dropped;
}

void carry_dropped(struct broker *b, uint64_t n)
{
    struct carry *c = broker_carry(b);
    if (!n)
        return;
    c->dropped += n;
    c->unscrubbed = true;
    c->last_drop_ms = broker_now_ms(b);
}

void carry_tick(struct broker *b)
{
    struct carry *c = broker_carry(b);
    uint64_t now = broker_now_ms(b);
    if (!c->unscrubbed)
        return;
    bool quiet = now - c->last_drop_ms >= CARRY_SCRUB_QUIET_MS;
    bool due = !c->last_scrub_ms || now - c->last_scrub_ms >= CARRY_SCRUB_EVERY_MS;
    if (!quiet && !due)
        return;
    struct eventlog_txn *txn = eventlog_begin(broker_log(b));
    struct skey k;
    unscrubbed_key(&k);
    store_batch_delete(eventlog_txn_batch(txn), CF_META, &k);
    eventlog_txn_mark_scrub(txn);
    if (eventlog_commit(&txn) != DS_OK) {
        log_error("carry: cannot ask for a scrub; trying again next tick");
        return;
    }
    c->unscrubbed = false;
    c->last_scrub_ms = now;
}

json_t *carry_json(const struct broker *b)
{
    const struct carry *c = broker_carry(b);
    return json_pack("{s:I,s:b}", "parts_dropped", (json_int_t)c->dropped, "scrub_waits",
                     c->unscrubbed);
}
