/* inbox: one ordered sequence of event pointers per recipient org.
 *   inbox cf: recipient "\0" inbox_seq(8, BE) -> origin "\0" seq(8, BE)
 *   An entry is a reference: delivering reads each event's row (a point read). Stores
 *   written between 2026-11-29 and 2026-12-04 have letters' entries that also carry the
 *   event's bytes ([event bytes] after the reference); they are delivered from them and
 *   scrubbed like the log. Carrying the bytes was meant to spare those point reads; it
 *   wrote every letter three times, and the city's year was 28% faster on 43% of the disk
 *   without it (BENCHMARKS.md "Letters written once"). The street's events are read from
 *   RocksDB once and then served from memory (struct inbox's street cache).
 *   meta "head/<org>": the last inbox seq of org.
 * The directory is not in the inboxes: it is one stream (directory.h) that each node reads
 * from its own cursor, sent before any inbox entry (a letter never comes before its
 * author's card: each DELIVER names the directory it needs, in case a Directory frame was
 * lost) with its own window (BROKER_DIRECTORY_WINDOW entries). 2,500 nodes take the same
 * 2,500 cards from memory; writing them into every inbox was O(orgs²) entries
 * (BENCHMARKS.md).
 * A transaction counts each org's head in pending_heads as entries are appended and puts
 * it once, at the end (inbox_stage_heads), in the same batch as the entries: one meta
 * write per org per commit instead of one per entry (a frame of letters to one community
 * moves its head once).
 * The recipient's cursor is its own (it says it in HELLO and CONFIRM): delivery needs no
 * per-recipient durable state beyond the head (receipts.c counts what it confirmed, for
 * the letters' authors and the street's lag). Delivery is at-least-once with a
 * credit window: at most cfg.window unconfirmed events in flight per recipient, read from
 * RocksDB (or the batch just written, or the recipient's tail in memory) each time, never
 * from socket buffers, and after a commit to many recipients one small DELIVER at a time:
 * fewer than INBOX_HOLD_BELOW new letters wait for the CONFIRM of the one in flight
 * (hold_for_confirm). A vanished peer costs its window only, and its tail (all tails
 * together at most INBOX_TAIL_BYTES_MAX).
 * Send budget: besides the window in entries, each connection may hold at most
 * BROKER_PEER_SEND_FRAMES frames and BROKER_PEER_SEND_BYTES bytes that its peer has not
 * confirmed (the broker cannot see libzmq's queue, but a peer that does not read does not
 * confirm). New entries use half of it; a resend after a HELLO (entries at or below
 * sent_upto) may use the rest, since the copies it replaces may still be queued. A frame
 * counts until a CONFIRM covers its last entry. */
#include "inbox.h"

#include "broker.h"
#include "protocol.h"
#include "receipts.h"

#include "err.h"
#include "log.h"
#include "strcopy.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The street's own events (its directory of org cards, its notices), by seq - 1. */
struct street_event {
    uint8_t *raw; /* NULL until read */
    size_t len;
};
struct street_cache {
    struct street_event *ev;
    size_t cap; /* slots allocated */
};

struct inbox {
    struct strmap *heads; /* org id -> uint64_t * inbox head (cache of meta) */
    struct street_cache street;
    const struct eventlog_txn *written;   /* while its heads move: the letters just stored */
    const struct strmap *written_entries; /* and its entries (org -> struct inbox_pending *) */
    struct strmap *spare_pending;         /* an emptied pending_heads kept for the next one */
    struct strmap *tails;                 /* org -> struct tail *: letters held (below) */
    size_t fanout;                        /* recipients of the commit whose heads move */
    size_t tail_bytes;                    /* of all tails, at most INBOX_TAIL_BYTES_MAX */
};

/* The letters committed for one recipient while a DELIVER to it was unconfirmed, kept in
 * memory until its CONFIRM sends them (hold_for_confirm): entries first..first+n-1 of its
 * inbox. Read back from the store instead, they cost the loop more than the frames they
 * saved (BENCHMARKS.md "One small DELIVER in flight"). */
struct tail {
    uint64_t first;
    ProtobufCBinaryData *ev;
    size_t n, cap;
};

/* Letters fewer than this wait for the CONFIRM of a DELIVER in flight; more go at once,
 * so that a recipient taking letters as fast as they come keeps several frames in flight
 * (waiting for each CONFIRM in turn cut the rate to one community at 100 units by 12%). */
#define INBOX_HOLD_BELOW 32u

/* A commit's letters are held only when it wrote to this many recipients or more: frames
 * cost where a commit fans out to many at once (the whole city's year); a commit to a few
 * (a small street, one unit's letters to one community) has few frames to save, and sends
 * at once as before rather than make its letters wait a round trip. */
#define INBOX_HOLD_FANOUT 16u

/* Held letters of all recipients, at most (a few letters each for 2,500 nodes is ~2 MiB);
 * past it a commit's letters go out at once, as without holding. */
#define INBOX_TAIL_BYTES_MAX ((size_t)8 << 20)

static void tail_free(void *value)
{
    struct tail *t = value;
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->ev[i].data);
    free(t->ev);
    free(t);
}

static void head_name(char *buf, size_t size, const char *org)
{
    snprintf(buf, size, "head/%s", org);
}

/* Keeps v as org's head in memory; the slot to move it by later. */
static uint64_t *cache_head(struct broker *b, const char *org, uint64_t v)
{
    uint64_t *slot = xmalloc(sizeof(*slot));
    *slot = v;
    strmap_put(broker_inbox(b)->heads, org, slot);
    return slot;
}

/* org's cached head, read from meta the first time; NULL when that read fails. */
static uint64_t *head_slot(struct broker *b, const char *org)
{
    uint64_t *cached = strmap_get(broker_inbox(b)->heads, org);
    if (cached)
        return cached;
    char name[IDS_ORG_MAX + 8];
    uint64_t v = 0;
    head_name(name, sizeof(name), org);
    if (eventlog_meta_u64(broker_log(b), name, 0, &v) != DS_OK)
        return NULL;
    return cache_head(b, org, v);
}

uint64_t inbox_head(struct broker *b, const char *org)
{
    const uint64_t *h = head_slot(b, org);
    return h ? *h : 0;
}

struct inbox_pending {
    uint64_t head;          /* the org's head once the transaction is written */
    uint64_t first;         /* the first entry it appends */
    struct inbox_ref *refs; /* entries first..head */
    size_t cap;
};

void inbox_pending_free(void *ip)
{
    struct inbox_pending *p = ip;
    if (p)
        free(p->refs);
    free(p);
}

struct strmap *inbox_pending_take(struct broker *b)
{
    struct inbox *in = broker_inbox(b);
    struct strmap *m = in->spare_pending;
    in->spare_pending = NULL;
    return m ? m : strmap_new();
}

void inbox_pending_give(struct broker *b, struct strmap **pending_heads)
{
    if (!*pending_heads)
        return; /* an ended transaction's */
    struct inbox *in = broker_inbox(b);
    if (in->spare_pending) {
        strmap_destroy(pending_heads, inbox_pending_free);
        return;
    }
    strmap_clear(*pending_heads, inbox_pending_free);
    in->spare_pending = *pending_heads;
    *pending_heads = NULL;
}

uint64_t inbox_pending_head(const struct inbox_pending *ip)
{
    return ip->head;
}

void inbox_append(struct broker *b, struct eventlog_txn *txn, struct strmap *pending_heads,
                  const char *org, const char *origin, uint64_t seq)
{
    struct inbox_pending *ip = strmap_get(pending_heads, org);
    if (!ip) {
        ip = xcalloc(1, sizeof(*ip));
        ip->head = inbox_head(b, org);
        ip->first = ip->head + 1;
        strmap_put(pending_heads, org, ip);
    }
    size_t n = (size_t)(ip->head + 1 - ip->first);
    if (n == ip->cap) {
        ip->cap = ip->cap ? 2 * ip->cap : 8;
        ip->refs = xrealloc(ip->refs, ip->cap * sizeof(*ip->refs));
    }
    strcopy(ip->refs[n].origin, sizeof(ip->refs[n].origin), origin);
    ip->refs[n].seq = seq;
    ip->head++;
    struct skey k, v;
    skey_init(&k);
    skey_str(&k, org);
    skey_u64(&k, ip->head);
    skey_init(&v);
    skey_str(&v, origin);
    skey_u64(&v, seq);
    store_batch_put(eventlog_txn_batch(txn), CF_INBOX, &k, v.b, v.n);
}

/* One entry of an older store that carries an erased letter: rewritten with the letter's
 * stripped bytes. */
static void scrub_entry(struct store_batch *batch, const uint8_t *k, size_t klen, const uint8_t *v,
                        size_t head, const struct event *ev)
{
    uint8_t *bare = NULL;
    size_t bare_len = 0;
    wire_event_strip(ev, &bare, &bare_len);
    uint8_t *val = xmalloc(head + bare_len);
    memcpy(val, v, head);
    memcpy(val + head, bare, bare_len);
    struct skey key;
    skey_init(&key);
    skey_bytes(&key, k, klen);
    store_batch_put(batch, CF_INBOX, &key, val, head + bare_len);
    free(val);
    free(bare);
}

int inbox_scrub(struct store *s, const struct strmap *redactions, void *arg)
{
    (void)arg;
    struct skey all;
    skey_init(&all);
    struct store_batch *batch = store_batch_new(s);
    struct store_iter *it = store_iter_new(s, CF_INBOX, &all, NULL);
    int rc = DS_OK;
    size_t rewritten = 0;
    for (; store_iter_valid(it) && rc == DS_OK; store_iter_next(it)) {
        size_t klen, vlen;
        const uint8_t *k = store_iter_key(it, &klen);
        const uint8_t *v = store_iter_value(it, &vlen);
        size_t head = strnlen((const char *)v, vlen) + 1 + 8;
        struct event ev;
        if (head >= vlen || wire_event_open(v + head, vlen - head, false, &ev) != DS_OK)
            continue; /* a pointer entry, or bytes delivery would refuse anyway */
        if (eventlog_redacts(redactions, &ev)) {
            scrub_entry(batch, k, klen, v, head, &ev);
            rewritten++;
        }
        wire_event_release(&ev);
        if (store_batch_count(batch) >= 1024) {
            rc = store_commit(s, batch);
            store_batch_clear(batch);
        }
    }
    if (rc == DS_OK)
        rc = store_iter_status(it);
    store_iter_destroy(&it);
    if (rc == DS_OK && store_batch_count(batch))
        rc = store_commit(s, batch);
    store_batch_destroy(&batch);
    if (rc == DS_OK && rewritten)
        log_info("inbox: %zu entries of erased letters rewritten without their personal part",
                 rewritten);
    return rc;
}

static bool stage_head(const char *org, void *value, void *arg)
{
    char name[IDS_ORG_MAX + 8];
    head_name(name, sizeof(name), org);
    eventlog_txn_put_meta_u64(arg, name, ((const struct inbox_pending *)value)->head);
    return true;
}

void inbox_stage_heads(struct broker *b, struct eventlog_txn *txn, struct strmap *pending_heads)
{
    (void)b;
    strmap_each(pending_heads, stage_head, txn);
}

static bool hold_for_confirm(const struct broker *b, const struct peer *p, uint64_t head);
static bool keep_tail(struct broker *b, const char *org, const struct inbox_pending *ip);
static void pump(struct broker *b, struct peer *p, bool hold);

static bool commit_head(const char *org, void *value, void *arg)
{
    struct broker *b = arg;
    /* moved in place: this runs for every org a commit wrote to */
    const struct inbox_pending *ip = value;
    uint64_t *h = head_slot(b, org);
    receipts_arrived(b, org, ip->first, ip->refs, (size_t)(ip->head + 1 - ip->first),
                     broker_now_ms(b));
    uint64_t head = ip->head;
    if (h)
        *h = head;
    else
        cache_head(b, org, head);
    /* its letters wait in memory for the CONFIRM of a DELIVER in flight, or go now */
    struct peer *p = protocol_peer(b, org);
    if (p && !(broker_inbox(b)->fanout >= INBOX_HOLD_FANOUT && p->welcomed &&
               hold_for_confirm(b, p, head) && keep_tail(b, org, value)))
        pump(b, p, false);
    return true;
}

void inbox_commit_heads(struct broker *b, struct strmap *pending_heads,
                        const struct eventlog_txn *written)
{
    struct inbox *in = broker_inbox(b);
    in->written = written;
    in->written_entries = pending_heads;
    in->fanout = strmap_count(pending_heads);
    strmap_each(pending_heads, commit_head, b);
    in->written = NULL;
    in->written_entries = NULL;
}

/* Street events beyond this many stay on disk (a street's directory is a few thousand). */
#define STREET_CACHE_MAX 65536u

struct inbox *inbox_new(void)
{
    struct inbox *in = xcalloc(1, sizeof(*in));
    in->heads = strmap_new();
    in->tails = strmap_new();
    return in;
}

void inbox_destroy(struct inbox **ip)
{
    struct inbox *in = *ip;
    if (!in)
        return;
    for (size_t i = 0; i < in->street.cap; i++)
        free(in->street.ev[i].raw);
    free(in->street.ev);
    strmap_destroy(&in->heads, free);
    strmap_destroy(&in->spare_pending, inbox_pending_free);
    strmap_destroy(&in->tails, tail_free);
    free(in);
    *ip = NULL;
}
/* A copy of the event an inbox entry points at: from the transaction just written while its
 * heads move (the letters a batch stored are delivered at once: no point read back); the
 * street's from memory once read (they never change: only this broker writes them, at the
 * next seq); others from disk. */
static int pointed_event(struct broker *b, const char *origin, uint64_t seq, uint8_t **raw,
                         size_t *len)
{
    const uint8_t *fresh = NULL;
    if (broker_inbox(b)->written &&
        eventlog_txn_raw(broker_inbox(b)->written, origin, seq, &fresh, len)) {
        *raw = xmemdup(fresh, *len);
        return DS_OK;
    }
    struct street_cache *c = &broker_inbox(b)->street;
    if (strcmp(origin, broker_config(b)->street) != 0 || seq == 0 || seq > STREET_CACHE_MAX)
        return eventlog_get_raw(broker_log(b), origin, seq, raw, len);
    if (seq > c->cap) {
        size_t cap = c->cap ? c->cap : 256;
        while (cap < seq)
            cap *= 2;
        c->ev = xrealloc(c->ev, cap * sizeof(*c->ev));
        memset(c->ev + c->cap, 0, (cap - c->cap) * sizeof(*c->ev));
        c->cap = cap;
    }
    struct street_event *e = &c->ev[seq - 1];
    if (!e->raw) {
        int rc = eventlog_get_raw(broker_log(b), origin, seq, &e->raw, &e->len);
        if (rc != DS_OK)
            return rc;
    }
    *raw = xmemdup(e->raw, e->len);
    *len = e->len;
    return DS_OK;
}

int inbox_entry_hlc(struct broker *b, const char *org, uint64_t seq, uint64_t *hlc_out)
{
    struct skey k;
    skey_init(&k);
    skey_str(&k, org);
    skey_u64(&k, seq);
    uint8_t *v = NULL, *raw = NULL;
    size_t vlen = 0, rlen = 0;
    int rc = store_get(eventlog_store(broker_log(b)), CF_INBOX, &k, (void **)&v, &vlen);
    if (rc != DS_OK)
        return rc;
    size_t olen = strnlen((const char *)v, vlen);
    const uint8_t *bytes = NULL;
    struct event ev;
    rc = DS_EIO;
    if (olen + 1 + 8 < vlen) { /* a letter: the entry carries the event */
        bytes = v + olen + 1 + 8;
        rlen = vlen - (olen + 1 + 8);
    } else if (olen + 1 + 8 == vlen &&
               pointed_event(b, (const char *)v, store_get_u64be(v + olen + 1), &raw, &rlen) ==
                   DS_OK) {
        bytes = raw;
    } else {
        goto out; /* a dangling pointer: the store is damaged */
    }
    if (wire_event_open(bytes, rlen, false, &ev) != DS_OK)
        goto out;
    *hlc_out = ev.hlc;
    wire_event_release(&ev);
    rc = DS_OK;
out:
    if (rc != DS_OK)
        log_error("inbox: unreadable inbox entry org=%s seq=%llu", org, (unsigned long long)seq);
    free(raw);
    free(v);
    return rc;
}

static void drop_tail(struct inbox *in, const char *org, struct tail *t)
{
    for (size_t i = 0; i < t->n; i++)
        in->tail_bytes -= t->ev[i].len;
    tail_free(strmap_remove(in->tails, org));
}

/* Appends the letters the transaction being committed wrote to org's inbox (ip) to its
 * tail. False (nothing kept) when they do not follow the tail or would pass the bytes
 * allowed: they are sent now. */
static bool keep_tail(struct broker *b, const char *org, const struct inbox_pending *ip)
{
    struct inbox *in = broker_inbox(b);
    struct tail *t = strmap_get(in->tails, org);
    if (!in->written || (t && t->first + t->n != ip->first))
        return false;
    if (!t) {
        t = xcalloc(1, sizeof(*t));
        t->first = ip->first;
        strmap_put(in->tails, org, t);
    }
    size_t n = (size_t)(ip->head + 1 - ip->first), kept = t->n, bytes = 0;
    if (t->n + n > t->cap) {
        t->cap = t->n + n > 2 * t->cap ? t->n + n : 2 * t->cap;
        t->ev = xrealloc(t->ev, t->cap * sizeof(*t->ev));
    }
    for (size_t i = 0; i < n; i++) {
        const uint8_t *raw = NULL;
        size_t len = 0;
        /* not a letter of this transaction (the street's), or past the bytes allowed: the
         * copies are undone and everything goes now */
        if (!eventlog_txn_raw(in->written, ip->refs[i].origin, ip->refs[i].seq, &raw, &len) ||
            in->tail_bytes + bytes + len > INBOX_TAIL_BYTES_MAX) {
            while (t->n > kept)
                free(t->ev[--t->n].data);
            if (t->n == 0)
                tail_free(strmap_remove(in->tails, org));
            return false;
        }
        t->ev[t->n].data = xmemdup(raw, len);
        t->ev[t->n++].len = len;
        bytes += len;
    }
    in->tail_bytes += bytes;
    return true;
}

/* Moves up to max held letters of org from seq 'from' on into the Deliver message, within
 * the frame's byte budget; the ones before 'from' (sent from the store) are dropped. False
 * when org's tail does not hold 'from'. */
static bool read_tail(struct inbox *in, const char *org, uint64_t from, size_t max,
                      Dualsync__Deliver *d)
{
    struct tail *t = strmap_get(in->tails, org);
    if (t && from >= t->first + t->n) {
        drop_tail(in, org, t); /* all sent from the store (after an erasure, a HELLO) */
        return false;
    }
    if (!t || from < t->first)
        return false;
    size_t skip = (size_t)(from - t->first), take = 0, bytes = 0;
    for (size_t i = 0; i < skip; i++) {
        in->tail_bytes -= t->ev[i].len;
        free(t->ev[i].data);
    }
    d->events = xcalloc(max, sizeof(*d->events));
    d->first = from;
    while (skip + take < t->n && take < max && bytes < WIRE_FRAME_BUDGET) {
        d->events[take] = t->ev[skip + take];
        bytes += t->ev[skip + take].len;
        take++;
    }
    d->n_events = take;
    in->tail_bytes -= bytes;
    t->n -= skip + take;
    t->first += skip + take;
    if (t->n == 0) {
        drop_tail(in, org, t);
        return true;
    }
    memmove(t->ev, t->ev + skip + take, t->n * sizeof(*t->ev));
    return true;
}

void inbox_drop_tails(struct broker *b)
{
    struct inbox *in = broker_inbox(b);
    strmap_clear(in->tails, tail_free);
    in->tail_bytes = 0;
}

/* Reads up to max of the entries the transaction just written appended (ip), from seq
 * 'from' on, into the Deliver message: no iterator over the inbox. */
static int read_written(struct broker *b, const char *org, const struct inbox_pending *ip,
                        uint64_t from, size_t max, Dualsync__Deliver *d)
{
    size_t bytes = 0;
    for (uint64_t seq = from; seq <= ip->head && d->n_events < max && bytes < WIRE_FRAME_BUDGET;
         seq++) {
        const struct inbox_ref *ref = &ip->refs[seq - ip->first];
        ProtobufCBinaryData *e = &d->events[d->n_events];
        if (pointed_event(b, ref->origin, ref->seq, &e->data, &e->len) != DS_OK) {
            log_error("inbox: dangling inbox entry org=%s", org);
            return DS_EIO;
        }
        bytes += e->len;
        d->n_events++;
    }
    return DS_OK;
}

/* Entries taken from the inbox per batched read of the events they point at: RocksDB's
 * MultiGet works in batches of 32, and the frame's byte budget is looked at between
 * batches (at most one batch of events is read past it, then dropped). */
#define INBOX_READ_CHUNK 32u

/* The events of a chunk of inbox entries, read after the entries themselves: the ones
 * pointed_event has in memory (the transaction's letters, the street's events) from there,
 * the others in one batched read of the log. slot[i] is where origin[i]/seq[i] goes. */
struct chunk_reads {
    char origin[INBOX_READ_CHUNK][IDS_ORG_MAX];
    const char *origins[INBOX_READ_CHUNK];
    uint64_t seq[INBOX_READ_CHUNK];
    size_t slot[INBOX_READ_CHUNK];
    size_t n;
};

static bool pointed_in_memory(struct broker *b, const char *origin, uint64_t seq)
{
    const uint8_t *raw = NULL;
    size_t len = 0;
    return strcmp(origin, broker_config(b)->street) == 0 ||
           (broker_inbox(b)->written &&
            eventlog_txn_raw(broker_inbox(b)->written, origin, seq, &raw, &len));
}

/* One inbox entry's event into e: copied when the entry carries it, else from memory, else
 * queued in cr for the chunk's batched read. */
static int take_entry(struct broker *b, const uint8_t *v, size_t vlen, ProtobufCBinaryData *e,
                      size_t slot, struct chunk_reads *cr)
{
    size_t olen = strnlen((const char *)v, vlen);
    if (olen + 1 + 8 < vlen) { /* the entry carries the event: no read */
        e->len = vlen - (olen + 1 + 8);
        e->data = xmemdup(v + olen + 1 + 8, e->len);
        return DS_OK;
    }
    if (olen + 1 + 8 != vlen || olen >= IDS_ORG_MAX)
        return DS_EIO;
    uint64_t seq = store_get_u64be(v + olen + 1);
    if (pointed_in_memory(b, (const char *)v, seq))
        return pointed_event(b, (const char *)v, seq, &e->data, &e->len);
    memcpy(cr->origin[cr->n], v, olen + 1);
    cr->origins[cr->n] = cr->origin[cr->n];
    cr->seq[cr->n] = seq;
    cr->slot[cr->n++] = slot;
    return DS_OK;
}

static int read_chunk(struct broker *b, struct chunk_reads *cr, Dualsync__Deliver *d)
{
    uint8_t *raws[INBOX_READ_CHUNK];
    size_t lens[INBOX_READ_CHUNK];
    int rc = eventlog_get_raws(broker_log(b), cr->n, cr->origins, cr->seq, raws, lens);
    for (size_t i = 0; i < cr->n; i++) {
        d->events[cr->slot[i]].data = raws[i];
        d->events[cr->slot[i]].len = lens[i];
    }
    cr->n = 0;
    return rc;
}

/* Drops the events after the one that reached the frame's byte budget (the rule of a read
 * one event at a time: an event is sent if the ones before it are under the budget). */
static void trim_to_budget(Dualsync__Deliver *d)
{
    size_t bytes = 0, keep = 0;
    while (keep < d->n_events && bytes < WIRE_FRAME_BUDGET)
        bytes += d->events[keep++].len;
    for (size_t i = keep; i < d->n_events; i++) {
        free(d->events[i].data);
        d->events[i].data = NULL;
    }
    d->n_events = keep;
}

static size_t events_bytes(const ProtobufCBinaryData *events, size_t n)
{
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += events[i].len;
    return bytes;
}

/* Reads up to max events of org's inbox from seq 'from' into the Deliver message: from the
 * entries the transaction being committed wrote, when they are all that is asked for (a
 * recipient that keeps up), else from the store: the entries by an iterator, the events
 * they point at by chunks of batched reads (a recipient that fell behind takes a window
 * of letters from many authors: one MultiGet per chunk instead of a point read each). */
static int read_inbox(struct broker *b, const char *org, uint64_t from, size_t max,
                      Dualsync__Deliver *d)
{
    if (read_tail(broker_inbox(b), org, from, max, d))
        return DS_OK;
    const struct strmap *written = broker_inbox(b)->written_entries;
    const struct inbox_pending *ip = written ? strmap_get(written, org) : NULL;
    if (ip && from >= ip->first && from <= ip->head) {
        d->events = xcalloc(max, sizeof(*d->events));
        d->first = from;
        return read_written(b, org, ip, from, max, d);
    }
    struct skey prefix, start;
    skey_init(&prefix);
    skey_str(&prefix, org);
    start = prefix;
    skey_u64(&start, from);
    d->events = xcalloc(max, sizeof(*d->events));
    d->first = from;
    struct store_iter *it =
        store_iter_new(eventlog_store(broker_log(b)), CF_INBOX, &prefix, &start);
    struct chunk_reads *cr = xcalloc(1, sizeof(*cr));
    int rc = DS_OK;
    while (rc == DS_OK && store_iter_valid(it) && d->n_events < max &&
           events_bytes(d->events, d->n_events) < WIRE_FRAME_BUDGET) {
        for (size_t taken = 0;
             rc == DS_OK && store_iter_valid(it) && d->n_events < max && taken < INBOX_READ_CHUNK;
             taken++, store_iter_next(it)) {
            size_t vlen;
            const uint8_t *v = store_iter_value(it, &vlen);
            rc = take_entry(b, v, vlen, &d->events[d->n_events], d->n_events, cr);
            d->n_events++;
        }
        if (rc == DS_OK)
            rc = read_chunk(b, cr, d);
    }
    if (rc == DS_OK)
        rc = store_iter_status(it); /* an I/O error ends a scan early: say so */
    if (rc != DS_OK)
        log_error("inbox: unreadable inbox entry or event org=%s", org);
    else
        trim_to_budget(d);
    free(cr);
    store_iter_destroy(&it);
    return rc;
}

static void free_deliver(Dualsync__Deliver *d)
{
    for (size_t i = 0; i < d->n_events; i++)
        free(d->events[i].data);
    free(d->events);
}

void inbox_sent_reset(struct peer *p)
{
    p->n_inflight = 0;
    p->inflight_bytes = p->fetch_bytes = 0;
    p->fetch_from = p->sent_upto = p->dir_sent_upto = 0;
}

/* Forgets the frames of one stream (inbox or directory) that upto shows read. */
static void release_sent(struct peer *p, bool directory, uint64_t upto)
{
    size_t kept = 0, bytes = p->fetch_bytes;
    for (size_t i = 0; i < p->n_inflight; i++)
        if (p->inflight[i].directory != directory || p->inflight[i].last > upto) {
            bytes += p->inflight[i].bytes;
            p->inflight[kept++] = p->inflight[i];
        }
    p->n_inflight = kept;
    p->inflight_bytes = bytes;
}

void inbox_sent_confirmed(struct peer *p, uint64_t upto)
{
    release_sent(p, false, upto);
}

bool inbox_sent_over_half(const struct peer *p)
{
    return p->inflight_bytes > BROKER_PEER_SEND_BYTES / 2 ||
           p->n_inflight > BROKER_PEER_SEND_FRAMES / 2;
}

/* Whether the connection may take another frame: half the budget for new entries, all of
 * it for a resend (of inbox entries, or of the directory). */
static bool send_room(const struct peer *p, bool resend)
{
    size_t frames = resend ? BROKER_PEER_SEND_FRAMES : BROKER_PEER_SEND_FRAMES / 2;
    size_t bytes = resend ? BROKER_PEER_SEND_BYTES : BROKER_PEER_SEND_BYTES / 2;
    return p->n_inflight < frames && p->inflight_bytes < bytes;
}

static void note_sent(struct peer *p, bool directory, uint64_t last, size_t bytes)
{
    if (p->n_inflight < BROKER_PEER_SEND_FRAMES) /* send_room keeps it so */
        p->inflight[p->n_inflight++] = (struct sent_frame){last, bytes, directory};
    p->inflight_bytes += bytes;
    uint64_t *upto = directory ? &p->dir_sent_upto : &p->sent_upto;
    if (last > *upto)
        *upto = last;
}

/* Fills d with the directory entries from stream position pos on, within max entries and
 * the frame budget; d->upto is the last position's seq looked at. For a linked broker
 * (street: its id) the entries not for it are passed over (directory_entry_for: a street
 * publishes its own orgs, a hub the others' too), and d may then carry fewer entries than
 * it covers, or none. */
static int read_directory(struct broker *b, size_t pos, size_t max, const char *street,
                          Dualsync__Directory *d)
{
    d->events = xcalloc(max, sizeof(*d->events));
    size_t bytes = 0;
    for (size_t looked = 0; looked < max && pos < directory_count(b) && bytes < WIRE_FRAME_BUDGET;
         pos++, looked++) {
        uint64_t seq = directory_seq_at(b, pos);
        d->upto = seq;
        if (street && !directory_entry_for(b, pos, street))
            continue;
        ProtobufCBinaryData *e = &d->events[d->n_events];
        int rc = pointed_event(b, broker_config(b)->street, seq, &e->data, &e->len);
        if (rc != DS_OK) {
            log_error("inbox: unreadable directory entry seq=%llu", (unsigned long long)seq);
            return rc;
        }
        bytes += e->len;
        d->n_events++;
    }
    return DS_OK;
}

/* Sends p the directory entries after its cursor, within the window. True when p has
 * been sent the whole directory: only then may inbox entries follow. */
static bool pump_directory(struct broker *b, struct peer *p)
{
    uint64_t head = directory_head(b);
    size_t window = broker_config(b)->window < BROKER_DIRECTORY_WINDOW ? broker_config(b)->window
                                                                       : BROKER_DIRECTORY_WINDOW;
    while (p->welcomed && p->dir_sent < head) {
        size_t from = directory_position(b, p->dir_sent);
        size_t unconfirmed = from - directory_position(b, p->dir_confirmed);
        if (unconfirmed >= window)
            return false;
        if (!send_room(p, p->dir_sent < p->dir_sent_upto)) {
            broker_counters(b)->send_full++;
            return false;
        }
        size_t n = window - unconfirmed;
        if (n > BROKER_DELIVER_BATCH)
            n = BROKER_DELIVER_BATCH;
        Dualsync__Frame f = DUALSYNC__FRAME__INIT;
        Dualsync__Directory d = DUALSYNC__DIRECTORY__INIT;
        d.after = p->dir_sent;
        d.head = head;
        bool street = ids_org_kind(p->addr.org) == ORG_STREET; /* a linked broker's session */
        int rc = read_directory(b, from, n, street ? p->addr.org : NULL, &d);
        if (rc == DS_OK && d.upto) {
            f.kind_case = DUALSYNC__FRAME__KIND_DIRECTORY;
            f.directory = &d;
            protocol_send(b, p, &f);
            if (p->welcomed) {
                p->dir_sent = d.upto;
                note_sent(p, true, d.upto, events_bytes(d.events, d.n_events));
            }
        }
        for (size_t i = 0; i < d.n_events; i++)
            free(d.events[i].data);
        free(d.events);
        if (rc != DS_OK || d.upto == 0)
            return false;
    }
    return p->welcomed;
}

void inbox_directory_resume(struct broker *b, struct peer *p, uint64_t cursor)
{
    uint64_t head = directory_head(b);
    if (cursor > head)
        cursor = head;
    /* on a connection already sent entries, the cursor is a confirmation: never back */
    if (p->dir_sent_upto == 0 || cursor > p->dir_confirmed)
        p->dir_confirmed = cursor;
    p->dir_sent = p->dir_confirmed;
    release_sent(p, true, p->dir_confirmed);
}

bool inbox_directory_confirmed(struct peer *p, uint64_t upto)
{
    if (upto > (p->dir_sent_upto > p->dir_sent ? p->dir_sent_upto : p->dir_sent))
        return false; /* more than it was sent on this connection, or had at its HELLO */
    if (upto > p->dir_confirmed)
        p->dir_confirmed = upto;
    if (p->dir_sent < p->dir_confirmed)
        p->dir_sent = p->dir_confirmed; /* it has them from before a HELLO */
    release_sent(p, true, p->dir_confirmed);
    return true;
}

/* Whether the entries p has not been sent wait for the CONFIRM of those in flight: they
 * do while they are few (INBOX_HOLD_BELOW, or the window when smaller). Every frame is a
 * message through both sides' ZeroMQ and kernel, and a CONFIRM back: sent at each commit,
 * three of four DELIVERs of the whole city's year left while the one before was
 * unconfirmed, a few letters each (BENCHMARKS.md "One small DELIVER in flight"). A resend
 * after a HELLO (below sent_upto) and more than a few never wait, and once a pump sends,
 * it sends all the windows allow, as before (a frame cut short by its bytes is followed
 * at once). */
static bool hold_for_confirm(const struct broker *b, const struct peer *p, uint64_t head)
{
    if (p->delivered <= p->confirmed || p->delivered < p->sent_upto)
        return false;
    uint64_t few = broker_config(b)->window;
    if (few > INBOX_HOLD_BELOW)
        few = INBOX_HOLD_BELOW;
    return head - p->delivered < few;
}

static void pump(struct broker *b, struct peer *p, bool hold)
{
    if (!pump_directory(b, p))
        return;
    uint64_t head = inbox_head(b, p->addr.org);
    /* only what a commit held waits (a tail): letters left by the window go as before */
    if (hold && strmap_get(broker_inbox(b)->tails, p->addr.org) && hold_for_confirm(b, p, head))
        return;
    while (p->welcomed && p->delivered < head &&
           p->delivered - p->confirmed < broker_config(b)->window) {
        if (!send_room(p, p->delivered < p->sent_upto)) {
            broker_counters(b)->send_full++; /* nothing more until it confirms what it has */
            return;
        }
        uint64_t room = broker_config(b)->window - (p->delivered - p->confirmed);
        uint64_t n = head - p->delivered;
        if (n > room)
            n = room;
        if (n > BROKER_DELIVER_BATCH)
            n = BROKER_DELIVER_BATCH;
        Dualsync__Frame f = DUALSYNC__FRAME__INIT;
        Dualsync__Deliver d = DUALSYNC__DELIVER__INIT;
        int rc = read_inbox(b, p->addr.org, p->delivered + 1, (size_t)n, &d);
        if (rc != DS_OK || d.n_events == 0) {
            free_deliver(&d);
            return;
        }
        d.inbox_head = head;
        d.directory_needed = p->dir_sent;
        f.kind_case = DUALSYNC__FRAME__KIND_DELIVER;
        f.deliver = &d;
        protocol_send(b, p, &f);
        if (p->welcomed) {
            p->delivered += d.n_events;
            note_sent(p, false, p->delivered, events_bytes(d.events, d.n_events));
        }
        free_deliver(&d);
    }
}

void inbox_pump(struct broker *b, struct peer *p)
{
    pump(b, p, true);
}

void inbox_pump_unheld(struct broker *b, struct peer *p)
{
    pump(b, p, false);
}

static bool pump_one(struct peer *p, void *arg)
{
    inbox_pump(arg, p);
    return true;
}

void inbox_pump_all(struct broker *b)
{
    protocol_each_peer(b, pump_one, b);
}
