/* receipts: how far each recipient has applied its inbox, and what that tells the
 * letters' authors.
 *   A recipient's CONFIRM (or the cursor in its HELLO) says it applied and stored its
 *   inbox up to a seq. Walking those entries on the tick (bounded per tick) gives, per
 *   origin, the highest seq each recipient has applied. The entries a commit wrote are kept
 *   in memory until they are walked (bounded: RECEIPTS_KEPT_TOTAL); the walk reads back
 *   from the inbox cf only those older than the broker's start or past the bound. An
 *   origin's entries enter every inbox in its seq order (its events are stored
 *   contiguously), so "R applied origin's seq s" is exactly "s <= receipt[origin][R]".
 *   Each connected origin is sent its receipts (a Receipts frame) after WELCOME and
 *   whenever they move: its console shows a letter as applied on the other side.
 *   meta "walked/<org>":  inbox seq of org up to which its receipts are counted
 *   meta "rcpt/<origin>": recipient "\0" seq(8, BE), repeated
 *   Both go in one batch, at most every RECEIPTS_SAVE_MS and when the broker stops (a
 *   hub: on every tick that walked, with what its walk dropped). A crash loses at most
 *   the walks since the last save; the recipients' next HELLOs walk those entries again
 *   (a maximum is idempotent).
 * A recipient walked less than RECEIPTS_WALK_MS ago is walked again only once it has
 * confirmed WALK_MIN_SPAN entries more (a hub walks every tick: its walk drops parts).
 * What a tick costs grows with what moved, not with the street: an origin is sent only
 * the receipts that moved since the last tick (a node keeps the highest it was told of
 * each recipient), the whole list after WELCOME, and again with a PONG once
 * RECEIPTS_MEND_MS have passed (that mends a frame lost with its connection). Saving
 * rewrites each moved origin's whole list, so it is done once per interval, not per tick.
 * Arrivals, in memory only: when entries entered each inbox (one checkpoint per second
 * at most), so an org's lag is how long its oldest unconfirmed entry has waited at the
 * street, not the letter's age since its author wrote it offline. */
#include "receipts.h"

#include "broker.h"
#include "carry.h"
#include "inbox.h"
#include "protocol.h"

#include "buf.h"
#include "err.h"
#include "log.h"
#include "store.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Inbox entries walked per tick, in all and per recipient (a few ms of range scan). */
#define WALK_PER_TICK 65536u
#define WALK_PER_RECIPIENT 16384u
/* A recipient walked less than RECEIPTS_WALK_MS ago waits until it has confirmed this many
 * entries more: each walk seeks through every sorted run of the inbox family, and at the
 * whole city's year, with each of 2,500 recipients walked every tick for a few entries,
 * those seeks were 4-5% of the loop. */
#define WALK_MIN_SPAN 64u
/* Checkpoints kept per inbox: beyond them the oldest are kept (they date the entries that
 * wait longest) and newer arrivals count from the last one. */
#define ARRIVALS_MAX 512u
#define ARRIVAL_SPACING_MS 1000u

struct arrival {
    uint64_t seq; /* the first inbox seq of a commit */
    uint64_t ms;  /* when it committed */
};

struct origin_receipts;

/* An inbox entry kept from its commit until it is walked: the receipts of the letter's
 * origin (NULL: the street's own entry, which has no author to tell) and its seq there. */
struct kept_entry {
    struct origin_receipts *o;
    uint64_t seq;
};

/* Kept entries live in chunks of one pool (struct receipts), so that what they take is
 * bounded by the pool, not by how many entries each recipient once had: a chunk a walk
 * empties goes back to the pool, not to malloc. */
#define KEPT_CHUNK 32u
struct kept_chunk {
    struct kept_chunk *next;
    struct kept_entry e[KEPT_CHUNK];
};

/* A recipient's kept entries: inbox seqs first, first + 1, ..., n of them, from
 * head->e[off] on, in chunks up to tail. */
struct kept {
    struct kept_chunk *head, *tail;
    size_t off, n;
    uint64_t first;
};

struct recipient {
    char org[IDS_ORG_MAX];
    uint64_t walked;    /* receipts are counted up to this inbox seq */
    uint64_t confirmed; /* what the recipient said since the broker started */
    uint64_t walked_ms; /* when it was last walked (0: not since the broker started) */
    bool said;          /* it said HELLO or CONFIRM since the broker started */
    bool dirty;         /* walked moved since the last persist */
    struct arrival *arr;
    size_t n_arr, cap_arr;
    struct kept kept; /* its entries from their commit until they are walked */
};

/* One recipient's receipt of one origin's letters: a slot of the origin's table. The
 * street keeps one per (origin, recipient) pair that ever exchanged a letter, 362,000 at
 * the whole city's year: a slot of its own table, keyed by the recipient's struct (which
 * lives as long as the broker), not a map entry with a copied name and a value allocated
 * apart, which took about 45 MiB of the broker's peak there (heaptrack). */
struct receipt {
    struct recipient *to; /* NULL: a free slot */
    uint64_t upto;        /* the highest seq of the origin the recipient applied */
    bool moved;           /* since the origin was last sent its receipts */
};

struct origin_receipts {
    char origin[IDS_ORG_MAX];
    struct receipt *slots; /* open addressing, linear probing; cap a power of two */
    size_t cap, n;
    bool moved;   /* some receipt moved since the last push */
    bool unsaved; /* some receipt moved since the last save */
};

struct receipts {
    struct strmap *recipients; /* org -> struct recipient * */
    struct strmap *origins;    /* origin -> struct origin_receipts * */
    uint64_t saved_ms;         /* when the walk was last saved (or the first tick) */
    bool unsaved;              /* something was walked since */
    struct kept_chunk *spare;  /* the pool's chunks no recipient holds */
    size_t chunks;             /* the pool's chunks, at most max_chunks */
    size_t max_chunks;         /* RECEIPTS_KEPT_TOTAL / KEPT_CHUNK (receipts_limit_kept) */
};

struct receipts *receipts_new(void)
{
    struct receipts *r = xcalloc(1, sizeof(*r));
    r->recipients = strmap_new();
    r->origins = strmap_new();
    r->max_chunks = RECEIPTS_KEPT_TOTAL / KEPT_CHUNK;
    return r;
}

static void free_chunks(struct kept_chunk *c)
{
    while (c) {
        struct kept_chunk *next = c->next;
        free(c);
        c = next;
    }
}

static void free_recipient(void *v)
{
    struct recipient *r = v;
    if (r) {
        free(r->arr);
        free_chunks(r->kept.head);
    }
    free(r);
}

static void free_origin(void *v)
{
    struct origin_receipts *o = v;
    if (o)
        free(o->slots);
    free(o);
}

static size_t slot_of(const struct origin_receipts *o, const struct recipient *to)
{
    uint64_t h = (uint64_t)(uintptr_t)to * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 32) & (o->cap - 1);
}

/* o's receipt of to; when o has none, a new one (upto 0) with add, NULL without. */
static struct receipt *receipt_of(struct origin_receipts *o, struct recipient *to, bool add)
{
    if (add && (o->n + 1) * 4 > o->cap * 3) { /* grow at 3/4 full: the table stays small */
        struct receipt *old = o->slots;
        size_t old_cap = o->cap;
        o->cap = old_cap ? 2 * old_cap : 8;
        o->slots = xcalloc(o->cap, sizeof(*o->slots));
        for (size_t i = 0; i < old_cap; i++) {
            if (!old[i].to)
                continue;
            size_t j = slot_of(o, old[i].to);
            while (o->slots[j].to)
                j = (j + 1) & (o->cap - 1);
            o->slots[j] = old[i];
        }
        free(old);
    }
    if (!o->cap)
        return NULL;
    size_t i = slot_of(o, to);
    for (; o->slots[i].to; i = (i + 1) & (o->cap - 1))
        if (o->slots[i].to == to)
            return &o->slots[i];
    if (!add)
        return NULL;
    o->slots[i].to = to;
    o->n++;
    return &o->slots[i];
}

void receipts_destroy(struct receipts **rp)
{
    struct receipts *r = *rp;
    if (!r)
        return;
    strmap_destroy(&r->recipients, free_recipient);
    strmap_destroy(&r->origins, free_origin);
    free_chunks(r->spare);
    free(r);
    *rp = NULL;
}

static struct recipient *recipient(struct broker *b, const char *org)
{
    struct recipient *r = strmap_get(broker_receipts(b)->recipients, org);
    if (r)
        return r;
    char name[IDS_ORG_MAX + 16];
    r = xcalloc(1, sizeof(*r));
    snprintf(r->org, sizeof(r->org), "%s", org);
    snprintf(name, sizeof(name), "walked/%s", org);
    if (eventlog_meta_u64(broker_log(b), name, 0, &r->walked) != DS_OK)
        r->walked = 0; /* unreadable: walked again from the start, which is only slower */
    strmap_put(broker_receipts(b)->recipients, org, r);
    return r;
}

/* Parses a stored "rcpt/<origin>" value; a damaged one is logged and ignored (the
 * receipts are counted again as recipients confirm). */
static void parse_origin(struct broker *b, struct origin_receipts *o, const char *origin,
                         const uint8_t *v, size_t len)
{
    size_t at = 0;
    while (at < len) {
        size_t n = strnlen((const char *)v + at, len - at);
        if (n == 0 || n >= IDS_ORG_MAX || at + n + 1 + 8 > len) {
            log_warn("receipts: damaged receipts of %s ignored", origin);
            return;
        }
        receipt_of(o, recipient(b, (const char *)v + at), true)->upto =
            store_get_u64be(v + at + n + 1);
        at += n + 1 + 8;
    }
}

static struct origin_receipts *origin_of(struct broker *b, const char *origin)
{
    struct origin_receipts *o = strmap_get(broker_receipts(b)->origins, origin);
    if (o)
        return o;
    char name[IDS_ORG_MAX + 16];
    void *v = NULL;
    size_t len = 0;
    o = xcalloc(1, sizeof(*o));
    snprintf(o->origin, sizeof(o->origin), "%s", origin);
    snprintf(name, sizeof(name), "rcpt/%s", origin);
    if (eventlog_meta_get(broker_log(b), name, &v, &len) == DS_OK)
        parse_origin(b, o, origin, v, len);
    free(v);
    strmap_put(broker_receipts(b)->origins, origin, o);
    return o;
}

/* Drops the checkpoints that only date entries before oldest_waiting. */
static void prune_arrivals(struct recipient *r, uint64_t oldest_waiting)
{
    size_t drop = 0;
    while (drop + 1 < r->n_arr && r->arr[drop + 1].seq <= oldest_waiting)
        drop++;
    if (!drop)
        return;
    memmove(r->arr, r->arr + drop, (r->n_arr - drop) * sizeof(*r->arr));
    r->n_arr -= drop;
}

void receipts_confirmed(struct broker *b, const char *org, uint64_t upto)
{
    struct recipient *r = recipient(b, org);
    r->confirmed = upto;
    r->said = true;
    prune_arrivals(r, upto + 1);
}

uint64_t receipts_cursor(struct broker *b, const char *org)
{
    struct recipient *r = recipient(b, org);
    return r->said ? r->confirmed : r->walked;
}

static void chunk_put(struct receipts *rs, struct kept_chunk *c)
{
    c->next = rs->spare;
    rs->spare = c;
}

/* A chunk from the pool, or NULL when the pool has given all it may. */
static struct kept_chunk *chunk_get(struct receipts *rs)
{
    struct kept_chunk *c = rs->spare;
    if (c) {
        rs->spare = c->next;
    } else if (rs->chunks < rs->max_chunks) {
        c = xmalloc(sizeof(*c));
        rs->chunks++;
    } else {
        return NULL;
    }
    c->next = NULL;
    return c;
}

static void forget_kept(struct receipts *rs, struct kept *k)
{
    while (k->head) {
        struct kept_chunk *next = k->head->next;
        chunk_put(rs, k->head);
        k->head = next;
    }
    *k = (struct kept){0};
}

/* Appends an entry; false when the pool is spent (nothing appended). */
static bool kept_push(struct receipts *rs, struct kept *k, struct origin_receipts *o, uint64_t seq)
{
    size_t at = (k->off + k->n) % KEPT_CHUNK;
    if (!k->tail || (at == 0 && k->n)) {
        struct kept_chunk *c = chunk_get(rs);
        if (!c)
            return false;
        if (k->tail)
            k->tail->next = c;
        else
            k->head = c;
        k->tail = c;
    }
    k->tail->e[at] = (struct kept_entry){o, seq};
    k->n++;
    return true;
}

/* Drops the first entry (it was walked). */
static void kept_pop(struct receipts *rs, struct kept *k)
{
    k->first++;
    k->n--;
    if (++k->off < KEPT_CHUNK && k->n)
        return;
    if (!k->n) {
        forget_kept(rs, k);
        return;
    }
    struct kept_chunk *next = k->head->next;
    chunk_put(rs, k->head);
    k->head = next;
    k->off = 0;
}

/* Keeps r's entries first.. (refs) for the walk when they follow those it keeps and both
 * it and the pool have room; otherwise r keeps none (a recipient that far behind, or a
 * street that busy, is walked from the store). */
static void keep_entries(struct broker *b, struct recipient *r, uint64_t first,
                         const struct inbox_ref *refs, size_t n)
{
    struct receipts *rs = broker_receipts(b);
    struct kept *k = &r->kept;
    if (k->n && k->first + k->n != first)
        forget_kept(rs, k); /* some were not kept: the walk reads them all back */
    if (k->n + n > RECEIPTS_KEPT_PER_RECIPIENT) {
        forget_kept(rs, k);
        return;
    }
    if (!k->n)
        k->first = first;
    const char *street = broker_config(b)->street;
    struct origin_receipts *o = NULL;
    for (size_t i = 0; i < n; i++) {
        /* a commit's entries mostly come from a few origins, one after another */
        if (i == 0 || strcmp(refs[i].origin, refs[i - 1].origin) != 0)
            o = strcmp(refs[i].origin, street) == 0 ? NULL : origin_of(b, refs[i].origin);
        if (!kept_push(rs, k, o, refs[i].seq)) {
            forget_kept(rs, k);
            return;
        }
    }
}

void receipts_limit_kept(struct broker *b, size_t entries)
{
    broker_receipts(b)->max_chunks = entries / KEPT_CHUNK;
}

void receipts_arrived(struct broker *b, const char *org, uint64_t first,
                      const struct inbox_ref *refs, size_t n, uint64_t now_ms)
{
    struct recipient *r = recipient(b, org);
    keep_entries(b, r, first, refs, n);
    if (r->n_arr && now_ms - r->arr[r->n_arr - 1].ms < ARRIVAL_SPACING_MS)
        return;
    if (r->n_arr == ARRIVALS_MAX)
        return;
    if (r->n_arr == r->cap_arr) {
        r->cap_arr = r->cap_arr ? 2 * r->cap_arr : 4;
        r->arr = xrealloc(r->arr, r->cap_arr * sizeof(*r->arr));
    }
    r->arr[r->n_arr++] = (struct arrival){first, now_ms};
}

int receipts_lag_ms(struct broker *b, const char *org, uint64_t head, uint64_t now_ms,
                    uint64_t *lag_out)
{
    struct recipient *r = recipient(b, org);
    uint64_t cursor = r->said ? r->confirmed : r->walked, waiting = cursor + 1;
    *lag_out = 0;
    if (head <= cursor)
        return DS_OK;
    prune_arrivals(r, waiting);
    if (r->n_arr && r->arr[0].seq <= waiting) {
        *lag_out = now_ms > r->arr[0].ms ? now_ms - r->arr[0].ms : 0;
        return DS_OK;
    }
    /* It entered the inbox before this broker started: dated by its author's clock. */
    uint64_t hlc = 0;
    int rc = inbox_entry_hlc(b, org, waiting, &hlc);
    if (rc == DS_OK)
        *lag_out = now_ms > hlc_ms(hlc) ? now_ms - hlc_ms(hlc) : 0;
    return rc;
}

struct tick_ctx {
    struct broker *b;
    struct eventlog_txn *txn;
    struct strmap *carried; /* a hub's letters walked (carry_delivered), or NULL */
    size_t budget;
    int rc;
    uint64_t now_ms;
    bool paced; /* recipients walked lately wait for WALK_MIN_SPAN entries */
};

/* Counts the entry of r's inbox after r->walked: the origin's seq (o NULL: the street's own
 * entry, nobody to tell); on a hub, the letter's parts every street has are dropped too.
 * False when that could not be staged (c->rc set): the entry is walked again. */
static bool count_entry(struct tick_ctx *c, struct recipient *r, struct origin_receipts *o,
                        uint64_t seq)
{
    if (o) {
        struct receipt *have = receipt_of(o, r, true);
        if (seq > have->upto) {
            have->upto = seq;
            have->moved = o->moved = o->unsaved = true;
        }
        if (c->carried && carry_delivered(c->b, c->txn, c->carried, o->origin, seq) != DS_OK) {
            c->rc = DS_EIO;
            return false;
        }
    }
    r->walked++;
    r->dirty = true;
    return true;
}

/* Counts org's inbox entries walked+1 .. upto from the store, at most budget of them. */
static size_t walk_stored(struct tick_ctx *c, const char *org, struct recipient *r, uint64_t upto,
                          size_t budget)
{
    struct broker *b = c->b;
    struct skey prefix, start;
    skey_init(&prefix);
    skey_str(&prefix, org);
    start = prefix;
    skey_u64(&start, r->walked + 1);
    struct store_iter *it =
        store_iter_new(eventlog_store(broker_log(b)), CF_INBOX, &prefix, &start);
    size_t n = 0;
    for (; store_iter_valid(it) && n < budget; store_iter_next(it), n++) {
        size_t klen, vlen;
        const uint8_t *k = store_iter_key(it, &klen);
        const uint8_t *v = store_iter_value(it, &vlen);
        uint64_t at = store_get_u64be(k + klen - 8);
        size_t olen = strnlen((const char *)v, vlen);
        if (at > upto)
            break;
        r->walked = at - 1; /* (entries are contiguous; were one missing, the walk passes it) */
        struct origin_receipts *o = NULL;
        uint64_t seq = 0;
        if (olen == 0 || olen >= IDS_ORG_MAX || olen + 1 + 8 > vlen) {
            log_error("receipts: unreadable inbox entry org=%s seq=%llu", org,
                      (unsigned long long)at);
        } else if (strcmp((const char *)v, broker_config(b)->street) != 0) {
            o = origin_of(b, (const char *)v);
            seq = store_get_u64be(v + olen + 1);
        }
        if (!count_entry(c, r, o, seq))
            break;
    }
    store_iter_destroy(&it);
    return n;
}

/* Counts r's entries walked+1 .. upto from those kept since their commit, at most budget. */
static size_t walk_kept(struct tick_ctx *c, struct recipient *r, uint64_t upto, size_t budget)
{
    struct receipts *rs = broker_receipts(c->b);
    struct kept *k = &r->kept;
    size_t n = 0;
    while (n < budget && k->n && k->first == r->walked + 1 && r->walked < upto) {
        const struct kept_entry *e = &k->head->e[k->off];
        if (!count_entry(c, r, e->o, e->seq))
            break;
        kept_pop(rs, k);
        n++;
    }
    return n;
}

/* Counts org's inbox entries walked+1 .. its cursor, at most budget of them: those kept
 * since their commit from memory, the others (older than the broker's start, or not kept)
 * read back from the store. */
static size_t walk_recipient(struct tick_ctx *c, const char *org, struct recipient *r,
                             size_t budget)
{
    struct receipts *rs = broker_receipts(c->b);
    uint64_t upto = r->said ? r->confirmed : r->walked;
    struct kept *k = &r->kept;
    /* Walked entries are popped as they are counted; were any left behind walked, neither
     * branch below would move this recipient again. */
    while (k->n && k->first <= r->walked)
        kept_pop(rs, k);
    if (upto <= r->walked)
        return 0;
    size_t n = 0;
    if (k->n && k->first > r->walked + 1)
        n += walk_stored(c, org, r, upto < k->first ? upto : k->first - 1, budget);
    if (c->rc == DS_OK)
        n += walk_kept(c, r, upto, budget - n);
    if (c->rc == DS_OK && !k->n && r->walked < upto && n < budget)
        n += walk_stored(c, org, r, upto, budget - n);
    return n;
}

static bool walk_one(const char *org, void *value, void *arg)
{
    struct tick_ctx *c = arg;
    struct recipient *r = value;
    uint64_t upto = r->said ? r->confirmed : r->walked;
    if (upto <= r->walked || (c->paced && upto - r->walked < WALK_MIN_SPAN && r->walked_ms &&
                              c->now_ms - r->walked_ms < RECEIPTS_WALK_MS))
        return true;
    size_t cap = c->budget < WALK_PER_RECIPIENT ? c->budget : WALK_PER_RECIPIENT;
    c->budget -= walk_recipient(c, org, r, cap);
    r->walked_ms = c->now_ms;
    return c->budget > 0 && c->rc == DS_OK;
}

static bool stage_walked(const char *org, void *value, void *arg)
{
    struct recipient *r = value;
    char name[IDS_ORG_MAX + 16];
    if (r->dirty) {
        snprintf(name, sizeof(name), "walked/%s", org);
        eventlog_txn_put_meta_u64(arg, name, r->walked);
    }
    return true;
}

static bool stage_origin(const char *origin, void *value, void *arg)
{
    struct origin_receipts *o = value;
    char name[IDS_ORG_MAX + 16];
    struct buf v = BUF_INIT;
    if (!o->unsaved)
        return true;
    for (size_t i = 0; i < o->cap; i++) {
        const struct receipt *rc = &o->slots[i];
        uint8_t seq[8];
        if (!rc->to)
            continue;
        store_put_u64be(seq, rc->upto);
        buf_append(&v, rc->to->org, strlen(rc->to->org) + 1);
        buf_append(&v, seq, sizeof(seq));
    }
    snprintf(name, sizeof(name), "rcpt/%s", origin);
    eventlog_txn_put_meta(arg, name, v.p ? v.p : "", v.len);
    buf_release(&v);
    return true;
}

/* A Receipts frame being filled: entries in one array, the frame's pointers to them. */
struct receipts_out {
    Dualsync__Receipts m;
    Dualsync__Receipt *entries;
    bool moved_only; /* only the receipts that moved since the last push */
};

static void add_entry(struct receipts_out *out, struct receipt *rc)
{
    bool take = !out->moved_only || rc->moved;
    rc->moved = false; /* sent, or not worth sending: either way told */
    if (!take)
        return;
    Dualsync__Receipt *e = &out->entries[out->m.n_receipts];
    dualsync__receipt__init(e);
    e->org = rc->to->org;
    e->upto = rc->upto;
    out->m.receipts[out->m.n_receipts++] = e;
}

/* Sends p's org its receipts: all of them, or only those that moved since the last push. */
static void send_receipts(struct broker *b, struct peer *p, struct origin_receipts *o,
                          bool moved_only)
{
    size_t n = o->n;
    if (!n)
        return; /* nothing applied yet: nothing to say */
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    struct receipts_out out = {.m = DUALSYNC__RECEIPTS__INIT, .moved_only = moved_only};
    out.entries = xmalloc(n * sizeof(*out.entries)); /* each initialised as it is filled */
    out.m.receipts = xmalloc(n * sizeof(*out.m.receipts));
    for (size_t i = 0; i < o->cap; i++)
        if (o->slots[i].to)
            add_entry(&out, &o->slots[i]);
    f.kind_case = DUALSYNC__FRAME__KIND_RECEIPTS;
    f.receipts = &out.m;
    if (out.m.n_receipts)
        protocol_send(b, p, &f);
    free(out.m.receipts);
    free(out.entries);
}

void receipts_send(struct broker *b, struct peer *p)
{
    p->receipts_sent_ms = broker_now_ms(b);
    send_receipts(b, p, origin_of(b, p->addr.org), false);
}

void receipts_mend(struct broker *b, struct peer *p)
{
    if (broker_now_ms(b) - p->receipts_sent_ms >= RECEIPTS_MEND_MS)
        receipts_send(b, p);
}

static bool clear_recipient(const char *org, void *value, void *arg)
{
    (void)org, (void)arg;
    ((struct recipient *)value)->dirty = false;
    return true;
}

static bool clear_origin(const char *origin, void *value, void *arg)
{
    (void)origin, (void)arg;
    ((struct origin_receipts *)value)->unsaved = false;
    return true;
}

/* Sends a connected origin what moved of its receipts (one not connected is sent them all
 * after its next WELCOME). */
static bool push_origin(const char *origin, void *value, void *arg)
{
    struct origin_receipts *o = value;
    struct broker *b = arg;
    if (!o->moved)
        return true;
    struct peer *p = protocol_peer(b, origin);
    if (p && p->welcomed)
        send_receipts(b, p, o, true);
    else
        for (size_t i = 0; i < o->cap; i++)
            o->slots[i].moved = false;
    o->moved = false;
    return true;
}

/* A walk that could not be stored: the recipients walk again from what was stored. */
static bool rewind_recipient(const char *org, void *value, void *arg)
{
    struct recipient *r = value;
    struct broker *b = arg;
    char name[IDS_ORG_MAX + 16];
    snprintf(name, sizeof(name), "walked/%s", org);
    if (r->dirty && eventlog_meta_u64(broker_log(b), name, 0, &r->walked) != DS_OK)
        r->walked = 0;
    r->dirty = false;
    return true;
}

/* Stores the walked cursors and the moved origins' receipts in txn (with what a hub's walk
 * dropped); on failure the recipients walk again from what was stored. */
static void save_walk(struct broker *b, struct eventlog_txn *txn, uint64_t dropped, int rc)
{
    struct receipts *rs = broker_receipts(b);
    strmap_each(rs->recipients, stage_walked, txn);
    strmap_each(rs->origins, stage_origin, txn);
    if (rc != DS_OK || eventlog_commit(&txn) != DS_OK) {
        eventlog_abort(&txn);
        log_error("receipts: cannot store the receipts; trying again next tick");
        strmap_each(rs->recipients, rewind_recipient, b);
        return;
    }
    carry_dropped(b, dropped);
    strmap_each(rs->recipients, clear_recipient, NULL);
    strmap_each(rs->origins, clear_origin, NULL);
    rs->unsaved = false;
    rs->saved_ms = broker_now_ms(b);
}

static void tick(struct broker *b, bool save_now)
{
    /* A hub's walk also drops the parts of the letters every street has (carry.h), in the
     * same commit as the walk: a walk is counted once, so a hub saves every walk. */
    struct receipts *rs = broker_receipts(b);
    bool hub = broker_config(b)->hub;
    uint64_t now = broker_now_ms(b);
    struct tick_ctx c = {.b = b,
                         .txn = hub ? eventlog_begin(broker_log(b)) : NULL,
                         .carried = hub ? strmap_new() : NULL,
                         .budget = WALK_PER_TICK,
                         .rc = DS_OK,
                         .now_ms = now,
                         .paced = !save_now && !hub};
    if (!rs->saved_ms)
        rs->saved_ms = now; /* the first tick starts the first interval */
    strmap_each(rs->recipients, walk_one, &c);
    bool walked = c.budget < WALK_PER_TICK || c.rc != DS_OK;
    rs->unsaved = rs->unsaved || walked;
    bool due = save_now || (hub && walked) || now - rs->saved_ms >= RECEIPTS_SAVE_MS;
    if (rs->unsaved && due) {
        if (!c.txn)
            c.txn = eventlog_begin(broker_log(b));
        uint64_t dropped = c.carried ? carry_walked(c.txn, c.carried) : 0;
        save_walk(b, c.txn, dropped, c.rc);
        c.txn = NULL;
    }
    eventlog_abort(&c.txn);
    strmap_destroy(&c.carried, free);
    strmap_each(rs->origins, push_origin, b);
}

void receipts_tick(struct broker *b)
{
    tick(b, false);
}

void receipts_save(struct broker *b)
{
    tick(b, true);
}

json_t *receipts_json(struct broker *b, const char *origin)
{
    json_t *j = json_object();
    const struct origin_receipts *o = origin_of(b, origin);
    for (size_t i = 0; i < o->cap; i++)
        if (o->slots[i].to)
            json_object_set_new(j, o->slots[i].to->org, json_integer((json_int_t)o->slots[i].upto));
    return j;
}
