/* links: peer links between street brokers (and hubs).
 * A link is the other broker's card, kept in meta "peer\0<street>\0" with the link's
 * durable state: its two cursors (the street seq of the last directory entry taken from
 * it, and the last entry of this street's inbox there that is stored here) and the other
 * broker's store id. This broker reads both streams as a node reads its street's: HELLO
 * with the cursors, Directory and DELIVER frames from there, CONFIRM once what they carry
 * is stored.
 * - Directory entries at or below the cursor are never taken again, and taking one twice
 *   changes nothing (directory_import compares), so a crash between the import and the
 *   cursor's write costs a resend, not a double announcement.
 * - Letters are stored, routed and given their inbox entries here in one commit with the
 *   new inbox cursor; one stored before is a duplicate by (origin, seq). */
#include "links.h"

#include "broker.h"
#include "btxn.h"
#include "carry.h"
#include "directory.h"
#include "protocol.h"
#include "report.h"
#include "routing.h"

#include "config.h"
#include "ctl.h"
#include "err.h"
#include "keyring.h"
#include "log.h"
#include "rules.h"
#include "store.h"
#include "transport.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A card's text in the record: the card file as config_card_text writes it. */
#define LINK_TEXT_MAX 4096
/* The record: [8 directory cursor][8 inbox cursor] (big-endian) [1: has a store id]
 * [16 store id][card text]. */
#define LINK_HEAD (8 + 8 + 1 + BROKER_STORE_ID_LEN)

struct link {
    struct org_card card; /* the other street: id, name, keys, endpoint */
    struct keyring ring;  /* its signing keys over time (a street may rotate its keys) */
    struct broker *b;     /* for the transport's frame callback */
    struct transport_link *conn;
    bool welcomed;
    bool closing; /* closed at the next tick: answered as another street, or a frame not stored */
    bool has_store_id;
    uint8_t store_id[BROKER_STORE_ID_LEN];
    uint64_t cursor;            /* street seq of its last directory entry taken (durable) */
    uint64_t inbox_cursor;      /* the last entry of this street's inbox there, stored here */
    uint64_t remote_head;       /* its directory's head, as it last said */
    uint64_t remote_inbox_head; /* this street's inbox there: its last entry, as it last said */
    uint64_t opened_ms, last_frame_ms, last_progress_ms, ping_ms, nonce;
    uint64_t resync_ms;      /* the last HELLO that asked for a resend from the cursors */
    bool hello_sent;         /* on this connection: a retry is a resume (no resend asked) */
    uint64_t taken, refused; /* directory entries */
    uint64_t relayed, letters_refused, held; /* letters: stored here, refused, not routable */
    uint64_t notices_sent, notices_taken, notices_refused; /* claim notices (its decisions) */
    bool figures_sent;                /* to a hub: the report figures, on this session */
    uint64_t figures_ms, figures_gen; /* when they were sent, and the log's generation */
    char last_refusal[320];
};

struct links {
    struct link **v;
    size_t n;
};

struct links *links_new(void)
{
    return xcalloc(1, sizeof(struct links));
}

static void link_free(struct link *l)
{
    transport_link_close(&l->conn);
    free(l);
}

void links_destroy(struct links **lp)
{
    struct links *ls = *lp;
    if (!ls)
        return;
    for (size_t i = 0; i < ls->n; i++)
        link_free(ls->v[i]);
    free(ls->v);
    free(ls);
    *lp = NULL;
}

static struct link *link_find(const struct broker *b, const char *street)
{
    struct links *ls = broker_links(b);
    for (size_t i = 0; i < ls->n; i++)
        if (strcmp(ls->v[i]->card.org, street) == 0)
            return ls->v[i];
    return NULL;
}

/* ---------------------------------------------------------------- the record */

static void record_key(struct skey *k, const char *street)
{
    skey_init(k);
    skey_str(k, "peer");
    skey_str(k, street);
}

/* Puts l's record, with the cursors given, into txn's batch. */
static void link_put(struct eventlog_txn *txn, const struct link *l, uint64_t cursor,
                     uint64_t inbox_cursor)
{
    uint8_t val[LINK_HEAD + LINK_TEXT_MAX];
    config_card_text(&l->card, (char *)val + LINK_HEAD, LINK_TEXT_MAX);
    size_t text = strlen((char *)val + LINK_HEAD);
    store_put_u64be(val, cursor);
    store_put_u64be(val + 8, inbox_cursor);
    val[16] = l->has_store_id;
    memcpy(val + 17, l->store_id, BROKER_STORE_ID_LEN);
    struct skey k;
    record_key(&k, l->card.org);
    store_batch_put(eventlog_txn_batch(txn), CF_META, &k, val, LINK_HEAD + text);
}

static int link_save(struct broker *b, const struct link *l)
{
    struct eventlog_txn *txn = eventlog_begin(broker_log(b));
    link_put(txn, l, l->cursor, l->inbox_cursor);
    return eventlog_commit(&txn);
}

static int link_delete(struct broker *b, const char *street)
{
    struct skey k;
    record_key(&k, street);
    struct eventlog_txn *txn = eventlog_begin(broker_log(b));
    store_batch_delete(eventlog_txn_batch(txn), CF_META, &k);
    return eventlog_commit(&txn);
}

static struct link *link_new(struct broker *b, const struct org_card *card)
{
    struct link *l = xcalloc(1, sizeof(*l));
    l->card = *card;
    l->b = b;
    config_card_keyring(card, &l->ring);
    return l;
}

static void links_push(struct broker *b, struct link *l)
{
    struct links *ls = broker_links(b);
    ls->v = xrealloc(ls->v, (ls->n + 1) * sizeof(*ls->v));
    ls->v[ls->n++] = l;
}

int links_load(struct broker *b)
{
    struct skey prefix;
    skey_init(&prefix);
    skey_str(&prefix, "peer");
    struct store_iter *it = store_iter_new(eventlog_store(broker_log(b)), CF_META, &prefix, NULL);
    int rc = DS_OK;
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t len;
        const uint8_t *v = store_iter_value(it, &len);
        struct org_card card;
        char err[CONFIG_ERR_MAX] = "", *text = NULL;
        if (len > LINK_HEAD) {
            text = xmalloc(len - LINK_HEAD + 1);
            memcpy(text, v + LINK_HEAD, len - LINK_HEAD);
            text[len - LINK_HEAD] = '\0';
        }
        if (!text || config_card_parse(text, &card, err) != DS_OK || card.kind != ORG_STREET) {
            log_error("links: corrupt peer record: %s", err);
            free(text);
            rc = DS_EIO;
            break;
        }
        free(text);
        struct link *l = link_new(b, &card);
        l->cursor = store_get_u64be(v);
        l->inbox_cursor = store_get_u64be(v + 8);
        l->has_store_id = v[16] != 0;
        memcpy(l->store_id, v + 17, BROKER_STORE_ID_LEN);
        links_push(b, l);
    }
    if (rc == DS_OK)
        rc = store_iter_status(it);
    store_iter_destroy(&it);
    return rc;
}

/* ---------------------------------------------------------------- the connection */

static void on_link_frame(void *arg, const uint8_t *data, size_t len)
{
    struct link *l = arg;
    links_on_frame(l->b, l->card.org, data, len);
}

static void link_send(struct link *l, const Dualsync__Frame *f)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (!l->conn)
        return;
    wire_pack(&f->base, &buf, &len);
    transport_link_send(l->conn, buf, len); /* a lost frame: the next tick says HELLO again */
    free(buf);
}

/* A HELLO: resume, the retry of one unanswered on this connection (the other broker then
 * answers with a WELCOME alone, if it had welcomed it); else a new session from the
 * cursor (after a gap, everything after the cursor is sent again). */
static void send_hello(struct broker *b, struct link *l, bool resume)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Hello h = DUALSYNC__HELLO__INIT;
    h.org = (char *)broker_config(b)->street;
    h.proto = WIRE_PROTO_VERSION;
    h.directory_cursor = l->cursor;
    h.inbox_cursor = l->inbox_cursor;
    h.resume = resume && l->hello_sent;
    if (l->has_store_id) {
        h.broker_store_id.data = l->store_id;
        h.broker_store_id.len = BROKER_STORE_ID_LEN;
    }
    f.kind_case = DUALSYNC__FRAME__KIND_HELLO;
    f.hello = &h;
    l->hello_sent = true;
    link_send(l, &f);
}

/* A frame was lost (a gap in a stream, or a letter ahead of the directory its author is
 * announced in): the other broker sends again from the cursors. At most once per
 * LINKS_RESYNC_MS: every frame after a lost one shows the same gap, and each HELLO makes
 * the other broker send its whole window again. */
static void resync(struct broker *b, struct link *l, const char *what)
{
    uint64_t now = broker_now_ms(b);
    if (l->resync_ms && now - l->resync_ms < LINKS_RESYNC_MS)
        return;
    l->resync_ms = now;
    log_info("links: street=%s %s: asking again from directory=%llu inbox=%llu", l->card.org, what,
             (unsigned long long)l->cursor, (unsigned long long)l->inbox_cursor);
    send_hello(b, l, false);
}

static void link_open(struct broker *b, struct link *l)
{
    struct transport *t = broker_transport(b);
    if (!t || l->conn)
        return;
    if (transport_link_open(t, l->card.endpoint, l->card.curve_key, broker_keys(b), on_link_frame,
                            l, &l->conn) != DS_OK)
        return; /* logged; the next tick tries again */
    l->welcomed = false;
    l->hello_sent = false;
    l->opened_ms = l->last_frame_ms = broker_now_ms(b);
    log_info("links: connecting street=%s endpoint=%s cursor=%llu", l->card.org, l->card.endpoint,
             (unsigned long long)l->cursor);
    send_hello(b, l, false);
}

static void link_close(struct link *l)
{
    transport_link_close(&l->conn);
    l->welcomed = false;
}

void links_start(struct broker *b)
{
    struct links *ls = broker_links(b);
    for (size_t i = 0; i < ls->n; i++)
        link_open(b, ls->v[i]);
}

void links_stop(struct broker *b)
{
    struct links *ls = broker_links(b);
    for (size_t i = 0; ls && i < ls->n; i++)
        link_close(ls->v[i]);
}

/* The other broker said (PONG, WELCOME, a frame) it has more than this street took, and
 * nothing was taken for LINKS_STALL_MS: what it sent was lost, a resend asked for too. */
static bool stalled(const struct link *l, uint64_t now)
{
    uint64_t since = l->last_progress_ms > l->resync_ms ? l->last_progress_ms : l->resync_ms;
    if (l->opened_ms > since)
        since = l->opened_ms;
    return l->welcomed && (l->remote_inbox_head > l->inbox_cursor || l->remote_head > l->cursor) &&
           now - since >= LINKS_STALL_MS;
}

/* A hub is sent this street's report figures on each WELCOME, and again once the log
 * changed and figures_seconds passed (a count is a scan of the street's records). */
static bool figures_due(const struct broker *b, const struct link *l, uint64_t now)
{
    if (!l->card.hub || !l->welcomed || broker_config(b)->hub)
        return false;
    return !l->figures_sent ||
           (now - l->figures_ms >= (uint64_t)broker_config(b)->figures_seconds * 1000u &&
            eventlog_generation(broker_log(b)) != l->figures_gen);
}

/* Sends l the figures, counted at most once per tick (*frame) for every hub. */
static void send_figures(struct broker *b, struct link *l, uint64_t now, uint8_t **frame,
                         size_t *len)
{
    if (!*frame && report_figures_frame(b, frame, len) != DS_OK) {
        log_error("links: the report figures cannot be counted; trying again");
        return;
    }
    transport_link_send(l->conn, *frame, *len);
    l->figures_sent = true;
    l->figures_ms = now;
    l->figures_gen = eventlog_generation(broker_log(b));
}

void links_tick(struct broker *b)
{
    struct links *ls = broker_links(b);
    uint64_t now = broker_now_ms(b);
    uint8_t *frame = NULL;
    size_t len = 0;
    for (size_t i = 0; i < ls->n; i++) {
        struct link *l = ls->v[i];
        if (l->closing) {
            link_close(l);
            l->closing = false;
            l->last_frame_ms = now; /* wait a while before asking the same endpoint again */
            continue;
        }
        if (l->conn && now - l->last_frame_ms > LINKS_SILENT_MS) {
            log_warn("links: street=%s silent for %llu ms, connecting again", l->card.org,
                     (unsigned long long)(now - l->last_frame_ms));
            link_close(l);
        }
        if (!l->conn) {
            link_open(b, l);
        } else if (!l->welcomed) {
            send_hello(b, l, true);
        } else if (now - l->ping_ms >= LINKS_PING_MS) {
            l->ping_ms = now;
            Dualsync__Frame f = DUALSYNC__FRAME__INIT;
            Dualsync__Ping ping = DUALSYNC__PING__INIT;
            ping.nonce = ++l->nonce;
            f.kind_case = DUALSYNC__FRAME__KIND_PING;
            f.ping = &ping;
            link_send(l, &f);
        }
        if (l->conn && stalled(l, now))
            resync(b, l, "no progress while the other broker has more");
        if (l->conn && figures_due(b, l, now))
            send_figures(b, l, now, &frame, &len);
    }
    free(frame);
}

void links_crossed(const struct broker *b, uint64_t *out, uint64_t *in)
{
    struct links *ls = broker_links(b);
    *out = *in = 0;
    for (size_t i = 0; i < ls->n; i++) {
        *out += inbox_head((struct broker *)b, ls->v[i]->card.org);
        *in += ls->v[i]->inbox_cursor;
    }
}

bool links_has(const struct broker *b, const char *street)
{
    return link_find(b, street) != NULL;
}

json_t *links_streets(const struct broker *b)
{
    struct links *ls = broker_links(b);
    json_t *a = json_array();
    for (size_t i = 0; i < ls->n; i++)
        json_array_append_new(a, json_string(ls->v[i]->card.org));
    return a;
}

bool links_authorize(const struct broker *b, const uint8_t key[KEYS_PUB_LEN],
                     char org_out[IDS_ORG_MAX])
{
    struct links *ls = broker_links(b);
    for (size_t i = 0; i < ls->n; i++)
        if (memcmp(ls->v[i]->card.curve_key, key, KEYS_PUB_LEN) == 0) {
            snprintf(org_out, IDS_ORG_MAX, "%s", ls->v[i]->card.org);
            return true;
        }
    return false;
}

/* ---------------------------------------------------------------- frames */

static void refuse_entry(struct link *l, uint64_t seq, const char *why)
{
    l->refused++;
    snprintf(l->last_refusal, sizeof(l->last_refusal), "seq %llu: %s", (unsigned long long)seq,
             why);
    log_warn("links: street=%s directory entry seq=%llu refused: %s", l->card.org,
             (unsigned long long)seq, why);
}

/* One entry of the other street's stream: its own event, signed by its key for that seq,
 * announcing one of its own orgs. */
static void take_entry(struct broker *b, struct link *l, const uint8_t *raw, size_t len)
{
    struct event ev;
    if (wire_event_open(raw, len, false, &ev) != DS_OK) {
        refuse_entry(l, 0, "does not decode");
        return;
    }
    char holder[IDS_ORG_MAX] = "", why[200];
    Dualsync__DirectoryEntry *d = NULL;
    const uint8_t *key = keyring_for(&l->ring, ev.seq);
    if (strcmp(ev.origin, l->card.org) != 0 ||
        ev.type != DUALSYNC__EVENT_TYPE__EVENT_DIRECTORY_ENTRY) {
        refuse_entry(l, ev.seq, "not a directory entry of that street");
    } else if (ev.seq <= l->cursor) {
        /* taken before: a resend */
    } else if (!key || !wire_event_verify(&ev, key)) {
        refuse_entry(l, ev.seq, "bad signature");
    } else if (!(d = wire_unpack_directory_entry(ev.body, ev.body_len))) {
        refuse_entry(l, ev.seq, "body does not decode");
    } else {
        bool changed = false;
        int rc = directory_import(b, d, l->card.org, l->card.hub, &changed, holder);
        if (rc == DS_EEXIST) {
            snprintf(why, sizeof(why), "org %s is held by %s", d->org, holder);
            refuse_entry(l, ev.seq, why);
        } else if (rc == DS_EINVAL) {
            snprintf(why, sizeof(why), "org %s: not a valid unit or community %s",
                     d->org ? d->org : "?", l->card.hub ? "of another street" : "of that street");
            refuse_entry(l, ev.seq, why);
        } else if (rc == DS_OK) {
            l->taken += changed;
        }
    }
    wire_msg_free(d);
    wire_event_release(&ev);
}

/* What this street holds of the other's streams, durably: a CONFIRM. */
static void send_confirm(struct link *l)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Confirm c = DUALSYNC__CONFIRM__INIT;
    c.upto = l->inbox_cursor;
    c.directory_upto = l->cursor;
    f.kind_case = DUALSYNC__FRAME__KIND_CONFIRM;
    f.confirm = &c;
    link_send(l, &f);
}

static void refuse_letter(struct link *l, const struct event *ev, const char *why)
{
    l->letters_refused++;
    snprintf(l->last_refusal, sizeof(l->last_refusal), "letter %s/%llu: %s", ev->origin,
             (unsigned long long)ev->seq, why);
    log_warn("links: street=%s letter %s/%llu refused: %s", l->card.org, ev->origin,
             (unsigned long long)ev->seq, why);
}

/* Whether org is another street's, reached through the link to street. */
static bool reached_through(const struct broker *b, const char *org, const char *street)
{
    const struct org_entry *e = directory_find(b, org);
    return e && e->street[0] && strcmp(e->via[0] ? e->via : e->street, street) == 0;
}

/* Stores and routes here one letter the other street relayed (ev, opened), in t. Every
 * signature is checked: the link's session vouches for no origin. DS_OK (stored, a
 * duplicate, or refused and counted), DS_EIO. The other street sends its directory's
 * entries before any letter on the same session, so an author unknown here is one this
 * street refused (an id it holds) or never was that street's. */
static int relay_one(struct broker *b, struct link *l, struct btxn *t, struct event *ev)
{
    const struct org_entry *o = directory_find(b, ev->origin);
    if (!o || !o->street[0] || strcmp(o->via[0] ? o->via : o->street, l->card.org) != 0) {
        refuse_letter(l, ev, "its author is not an org reached through that link");
        return DS_OK;
    }
    if (!wire_event_verify(ev, keyring_for(&o->ring, ev->seq))) {
        refuse_letter(l, ev, "bad signature");
        return DS_OK;
    }
    if (rules_check(ev) != DS_OK) {
        refuse_letter(l, ev, "a letter its author's side may not write");
        return DS_OK;
    }
    if (hlc_ms(ev->hlc) > broker_now_ms(b) + BROKER_MAX_SKEW_MS) {
        refuse_letter(l, ev, "its clock is too far in the future");
        return DS_OK;
    }
    int rc = eventlog_txn_check(t->log, ev, 0);
    if (rc == DS_EEXIST)
        return DS_OK; /* had it: a resend */
    if (rc != DS_OK) {
        refuse_letter(l, ev,
                      rc == DS_EFORK ? "fork: this seq is stored with other bytes"
                                     : "refused by the log");
        return DS_OK;
    }
    struct recipients to;
    rc = routing_recipients(t, ev, &to);
    if (rc == DS_EIO)
        return rc;
    if (rc != DS_OK) {
        to.n = 0;
        to.refused = "cannot be routed here";
    }
    const struct event *kept = NULL;
    size_t sent = 0;
    rc = eventlog_txn_adopt(t->log, ev, 0, &kept);
    for (size_t k = 0; rc == DS_OK && k < to.n; k++)
        if (!reached_through(b, to.org[k], l->card.org)) { /* it came that way: not back */
            btxn_append(t, to.org[k], kept->origin, kept->seq);
            sent++;
        }
    if (rc == DS_OK && !sent && broker_config(b)->hub) /* a hub keeps no part it passes on */
        rc = carry_nowhere(t, kept->origin, kept->seq);
    if (rc == DS_OK && kept->type == DUALSYNC__EVENT_TYPE__EVENT_MEMBER_ERASE && !to.refused)
        rc = protocol_erase_member(b, t->log, kept);
    if (rc != DS_OK)
        return DS_EIO;
    l->relayed++;
    if (to.refused) {
        l->held++;
        log_warn("links: street=%s letter %s/%llu member=%s stored, delivered to nobody: %s",
                 l->card.org, kept->origin, (unsigned long long)kept->seq, kept->member,
                 to.refused);
    }
    hlc_observe(broker_clock(b), kept->hlc);
    return DS_OK;
}

/* A DELIVER of this street's inbox at the other broker: its letters to this street's orgs.
 * They are stored, routed and given to their recipients' inboxes here, with the link's
 * inbox cursor, in one transaction; only then is the other broker told (CONFIRM), so what
 * it counts as delivered is durable here. */
static void on_deliver(struct broker *b, struct link *l, const Dualsync__Deliver *d)
{
    if (d->inbox_head > l->remote_inbox_head)
        l->remote_inbox_head = d->inbox_head;
    if (d->directory_needed > l->cursor) {
        /* a Directory frame before it was lost: a letter must not come before the entry
         * of its author, which it would be refused without */
        resync(b, l, "directory before delivery");
        return;
    }
    if (d->first > l->inbox_cursor + 1) {
        resync(b, l, "inbox gap"); /* a frame was lost between */
        return;
    }
    struct btxn t;
    btxn_begin(b, &t);
    uint64_t upto = l->inbox_cursor;
    int rc = DS_OK;
    for (size_t i = 0; i < d->n_events && rc == DS_OK; i++) {
        uint64_t seq = d->first + i;
        if (seq <= l->inbox_cursor)
            continue;
        struct event ev;
        if (wire_event_open(d->events[i].data, d->events[i].len, false, &ev) != DS_OK) {
            l->letters_refused++;
            log_warn("links: street=%s sent a letter that does not open", l->card.org);
            upto = seq;
            continue;
        }
        rc = relay_one(b, l, &t, &ev);
        wire_event_release(&ev);
        if (rc == DS_OK)
            upto = seq;
    }
    if (rc == DS_EIO || upto == l->inbox_cursor) {
        btxn_abort(&t);
    } else {
        link_put(t.log, l, l->cursor, upto);
        rc = btxn_commit(&t);
        if (rc == DS_OK) {
            l->inbox_cursor = upto;
            l->last_progress_ms = broker_now_ms(b);
        }
    }
    if (rc != DS_OK) {
        /* nothing of the frame is stored: not confirmed; a new connection at the next tick
         * asks again from the cursor */
        log_error("links: street=%s letters not stored: %s", l->card.org, ds_strerror(rc));
        l->closing = true;
        return;
    }
    send_confirm(l);
}

static void on_pong(struct link *l, const Dualsync__Pong *p)
{
    if (p->directory_head > l->remote_head)
        l->remote_head = p->directory_head;
    if (p->inbox_head > l->remote_inbox_head)
        l->remote_inbox_head = p->inbox_head;
}

static void on_welcome(struct broker *b, struct link *l, const Dualsync__Welcome *w)
{
    if (!w->street || strcmp(w->street, l->card.org) != 0) {
        log_warn("links: endpoint=%s answers as street=%s, not %s: link closed", l->card.endpoint,
                 w->street ? w->street : "", l->card.org);
        l->closing = true; /* closed by the next tick, not from inside its own frame handler */
        return;
    }
    bool same = w->store_id.len == BROKER_STORE_ID_LEN && l->has_store_id &&
                memcmp(w->store_id.data, l->store_id, BROKER_STORE_ID_LEN) == 0;
    if (!same && w->store_id.len == BROKER_STORE_ID_LEN) {
        if (l->has_store_id)
            log_warn("links: street=%s has a new store: its directory read again from the start",
                     l->card.org);
        memcpy(l->store_id, w->store_id.data, BROKER_STORE_ID_LEN);
        l->has_store_id = true;
        l->cursor = l->inbox_cursor = 0; /* what it holds is numbered anew */
        link_save(b, l);
    }
    l->remote_head = w->directory_head;
    l->remote_inbox_head = w->inbox_head;
    l->welcomed = true;
    l->figures_sent = false; /* a hub (again) on this session: the figures now */
    log_info("links: street=%s welcomed cursor=%llu head=%llu", l->card.org,
             (unsigned long long)l->cursor, (unsigned long long)l->remote_head);
}

static void on_directory(struct broker *b, struct link *l, const Dualsync__Directory *d)
{
    if (d->after > l->cursor) {
        resync(b, l, "directory gap"); /* a frame was lost between */
        return;
    }
    for (size_t i = 0; i < d->n_events; i++)
        take_entry(b, l, d->events[i].data, d->events[i].len);
    l->remote_head = d->head;
    if (d->upto > l->cursor) {
        uint64_t was = l->cursor;
        l->cursor = d->upto;
        if (link_save(b, l) != DS_OK) {
            l->cursor = was; /* not durable: not confirmed; taken again after a HELLO */
            return;
        }
        l->last_progress_ms = broker_now_ms(b);
    }
    send_confirm(l);
}

void links_on_frame(struct broker *b, const char *street, const uint8_t *data, size_t len)
{
    struct link *l = link_find(b, street);
    if (!l || l->closing)
        return; /* removed meanwhile, or closing */
    l->last_frame_ms = broker_now_ms(b);
    Dualsync__Frame *f = wire_frame_unpack(data, len);
    if (!f) {
        broker_counters(b)->malformed++;
        log_warn("links: street=%s sent a frame that does not decode", street);
        return;
    }
    if (f->kind_case == DUALSYNC__FRAME__KIND_WELCOME)
        on_welcome(b, l, f->welcome);
    else if (f->kind_case == DUALSYNC__FRAME__KIND_DIRECTORY && l->welcomed)
        on_directory(b, l, f->directory);
    else if (f->kind_case == DUALSYNC__FRAME__KIND_DELIVER && l->welcomed)
        on_deliver(b, l, f->deliver);
    else if (f->kind_case == DUALSYNC__FRAME__KIND_PONG)
        on_pong(l, f->pong);
    else if (f->kind_case == DUALSYNC__FRAME__KIND_ERROR) {
        log_warn("links: street=%s error=%d msg=\"%s\"", street, (int)f->error->code,
                 f->error->message ? f->error->message : "");
        if (f->error->code == DUALSYNC__ERROR_CODE__ERROR_HELLO_FIRST) {
            l->welcomed = false; /* the other broker restarted: a new session at the next tick */
            l->hello_sent = false;
        }
    }
    wire_frame_free(f);
}

/* ---------------------------------------------------------------- claims across streets
 * Whose member it is, across streets, is decided once, by the broker of the community's
 * street (routing.c: another street's broker passes a unit's introduction on as a claim).
 * Its decisions about a unit reached through a link travel as claim notices, link by link,
 * to the unit's own broker, which tells the unit's node as it tells of its own claims. */

/* The community that member's introduction intro (ORG/SEQ, stored here: it passed
 * through this broker) names. False when no such introduction of member is here. */
static bool intro_community(struct broker *b, const char *intro, const char *member,
                            char community[IDS_ORG_MAX])
{
    char origin[IDS_ORG_MAX];
    uint64_t seq = 0;
    uint8_t *raw = NULL;
    size_t len = 0;
    struct event ev;
    bool ok = false;
    if (!ids_event_id_parse(intro, origin, &seq) ||
        eventlog_get_raw(broker_log(b), origin, seq, &raw, &len) != DS_OK)
        return false;
    if (wire_event_open(raw, len, false, &ev) == DS_OK) {
        if (ev.type == DUALSYNC__EVENT_TYPE__EVENT_INTRODUCTION && strcmp(ev.member, member) == 0) {
            Dualsync__Introduction *in = wire_unpack_introduction(ev.body, ev.body_len);
            if (in)
                snprintf(community, IDS_ORG_MAX, "%s", in->community);
            ok = in != NULL;
            wire_msg_free(in);
        }
        wire_event_release(&ev);
    }
    free(raw);
    return ok;
}

void links_notice(struct broker *b, const char *member, const char *unit, const char *intro,
                  const char *other, bool lost)
{
    const struct org_entry *o = directory_find(b, unit);
    char community[IDS_ORG_MAX];
    if (!o || !o->street[0])
        return;
    const char *via = o->via[0] ? o->via : o->street;
    struct link *l = link_find(b, via);
    if (!l || !l->welcomed || !intro_community(b, intro, member, community) ||
        reached_through(b, community, via))
        return; /* not connected (told again in 10 s), or that way decides it itself */
    Dualsync__ClaimNotice n = DUALSYNC__CLAIM_NOTICE__INIT;
    n.member = (char *)member;
    n.intro = (char *)intro;
    n.other = (char *)other;
    n.lost = lost;
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    f.kind_case = DUALSYNC__FRAME__KIND_CLAIM_NOTICE;
    f.claim_notice = &n;
    link_send(l, &f);
    l->notices_sent++;
}

/* Why street may not decide what n says, or NULL. Its unit must be reached from here not
 * through street (this street's, or beyond another link), and the introduction it names
 * must have passed here with a community reached through street. */
static const char *notice_refusal(struct broker *b, const char *street,
                                  const Dualsync__ClaimNotice *n, char unit[IDS_ORG_MAX])
{
    char community[IDS_ORG_MAX];
    uint64_t seq = 0;
    const struct org_entry *o = NULL, *w = NULL;
    if (!n->member || !n->intro || !n->other || !ids_event_id_parse(n->intro, unit, &seq))
        return "a claim notice without its member, letter or unit";
    if (!(o = directory_find(b, unit)) || reached_through(b, unit, street))
        return "a claim notice about a unit not reached from here";
    if (!(w = directory_find(b, n->other)) || w->kind != ORG_UNIT)
        return "a claim notice naming no unit of the city";
    if (!intro_community(b, n->intro, n->member, community))
        return "a claim notice about an introduction that did not pass here";
    if (!reached_through(b, community, street))
        return "a claim notice from a street that is not the way to the introduction's community";
    return NULL;
}

void links_take_notice(struct broker *b, const char *street, const Dualsync__ClaimNotice *n)
{
    struct link *l = link_find(b, street);
    char unit[IDS_ORG_MAX];
    if (!l || (n->lost && n->intro && routing_lost_known(b, n->intro)))
        return; /* a loss is told every 10 s: heard before */
    const char *why = notice_refusal(b, street, n, unit);
    if (why) {
        l->notices_refused++;
        snprintf(l->last_refusal, sizeof(l->last_refusal), "claim notice %s: %s",
                 n->intro ? n->intro : "", why);
        log_warn("links: street=%s %s", street, l->last_refusal);
        return;
    }
    l->notices_taken++;
    if (n->lost) {
        struct btxn t;
        btxn_begin(b, &t);
        routing_claim_lost(&t, n->member, unit, n->intro, n->other);
        int rc = btxn_commit(&t);
        if (rc != DS_OK) {
            log_error("links: street=%s the loss of %s not stored: %s", street, n->intro,
                      ds_strerror(rc));
            return; /* told again in 10 s */
        }
        log_info("links: street=%s member=%s introduction %s lost to %s", street, n->member,
                 n->intro, n->other);
    }
    protocol_claim_notice(b, n->member, unit, n->intro, n->other, n->lost); /* on at once */
}

/* ---------------------------------------------------------------- control */

static json_t *link_json(const struct broker *b, const struct link *l)
{
    char fp[KEYS_FINGERPRINT_LEN];
    keys_fingerprint(l->card.curve_key, l->card.sign_key, fp);
    uint64_t now = broker_now_ms(b);
    const struct peer *p = protocol_peer(b, l->card.org);
    uint64_t theirs = p && p->welcomed ? p->dir_confirmed : 0;
    json_t *j =
        json_pack("{s:s,s:s,s:s,s:s,s:b,s:I,s:I,s:b,s:I,s:I,s:s}", "street", l->card.org, "name",
                  l->card.name, "endpoint", l->card.endpoint, "fingerprint", fp, "connected",
                  l->welcomed, "directory_cursor", (json_int_t)l->cursor, "directory_head",
                  (json_int_t)l->remote_head, "caught_up",
                  l->welcomed && l->cursor >= l->remote_head, "entries_taken", (json_int_t)l->taken,
                  "entries_refused", (json_int_t)l->refused, "last_refusal", l->last_refusal);
    json_object_set_new(j, "last_progress_ms_ago",
                        l->last_progress_ms ? json_integer((json_int_t)(now - l->last_progress_ms))
                                            : json_null());
    /* the other way: how far the other street has read this street's directory */
    json_object_set_new(j, "their_session", json_boolean(p && p->welcomed));
    json_object_set_new(j, "their_directory_cursor", json_integer((json_int_t)theirs));
    /* letters: taken from it (stored and routed here), refused, stored for nobody; and
     * those for its orgs waiting in its inbox here */
    json_object_set_new(j, "inbox_cursor", json_integer((json_int_t)l->inbox_cursor));
    json_object_set_new(j, "letters_relayed", json_integer((json_int_t)l->relayed));
    json_object_set_new(j, "letters_refused", json_integer((json_int_t)l->letters_refused));
    json_object_set_new(j, "letters_held", json_integer((json_int_t)l->held));
    /* claim notices: the decisions of a community's street, sent and taken */
    json_object_set_new(j, "claim_notices_sent", json_integer((json_int_t)l->notices_sent));
    json_object_set_new(j, "claim_notices_taken", json_integer((json_int_t)l->notices_taken));
    json_object_set_new(j, "claim_notices_refused", json_integer((json_int_t)l->notices_refused));
    uint64_t head = inbox_head((struct broker *)b, l->card.org);
    uint64_t confirmed = p ? p->confirmed : 0;
    json_object_set_new(j, "letters_pending_to_them",
                        json_integer((json_int_t)(head > confirmed ? head - confirmed : 0)));
    uint64_t theirs_head = l->remote_inbox_head;
    json_object_set_new(
        j, "letters_pending_from_them",
        json_integer(
            (json_int_t)(theirs_head > l->inbox_cursor ? theirs_head - l->inbox_cursor : 0)));
    return j;
}

json_t *links_json(const struct broker *b)
{
    struct links *ls = broker_links(b);
    json_t *arr = json_array();
    for (size_t i = 0; i < ls->n; i++)
        json_array_append_new(arr, link_json(b, ls->v[i]));
    return arr;
}

static bool card_of_ctl(const Dualsync__CtlCommand *cmd, struct org_card *c)
{
    const char *org = ctl_arg(cmd, "org"), *name = ctl_arg(cmd, "name");
    const char *ck = ctl_arg(cmd, "curve-key"), *sk = ctl_arg(cmd, "sign-key");
    const char *endpoint = ctl_arg(cmd, "endpoint"), *hub = ctl_arg(cmd, "hub");
    memset(c, 0, sizeof(*c));
    if (!org || !name || !ck || !sk || !endpoint || (hub && !config_card_field(c, "hub", hub)))
        return false;
    if (!broker_card_rotation_of_ctl(cmd, c)) /* a rotation card's lines (peer rekey) */
        return false;
    return config_card_field(c, "id", org) && config_card_field(c, "kind", "street") &&
           config_card_field(c, "name", name) && config_card_field(c, "curve_key", ck) &&
           config_card_field(c, "sign_key", sk) && config_card_field(c, "endpoint", endpoint) &&
           !config_card_problem(c) && c->endpoint[0];
}

static void peer_add(struct broker *b, const Dualsync__CtlCommand *cmd, uint8_t **out, size_t *len)
{
    struct org_card card;
    char org[IDS_ORG_MAX];
    if (!card_of_ctl(cmd, &card)) {
        ctl_reply_error(DS_EINVAL, "需要另一街道的名片(street.card:id、名称、两个公钥和地址)",
                        "needs another street's card (street.card: id, name, both public keys and "
                        "its endpoint)",
                        0, out, len);
        return;
    }
    if (strcmp(card.org, broker_config(b)->street) == 0 ||
        memcmp(card.curve_key, broker_keys(b)->curve_pk, KEYS_PUB_LEN) == 0) {
        ctl_reply_error(DS_EINVAL, "这是本街道自己的名片", "this is this street's own card", 0, out,
                        len);
        return;
    }
    if (link_find(b, card.org) || links_authorize(b, card.curve_key, org) ||
        directory_key_in_use(b, card.curve_key)) {
        ctl_reply_error(DS_EEXIST, "该街道(或其密钥)已经连接",
                        "that street (or its key) is "
                        "already linked",
                        0, out, len);
        return;
    }
    struct link *l = link_new(b, &card);
    if (link_save(b, l) != DS_OK) {
        free(l);
        ctl_reply_error(DS_EIO, "存储失败", "storage failure", 0, out, len);
        return;
    }
    links_push(b, l);
    link_open(b, l); /* at once when serving; else at the next run */
    log_info("links: added street=%s endpoint=%s", card.org, card.endpoint);
    ctl_reply_ok(link_json(b, l), out, len);
}

/* Why a linked street's new card (peer rekey) is not taken, as the two texts, or NULL. */
static const char *rekey_refusal(struct broker *b, const struct link *l, const struct org_card *c,
                                 int *rc, const char **en)
{
    char org[IDS_ORG_MAX];
    *rc = DS_EEXIST;
    if (memcmp(c->sign_key, l->card.sign_key, KEYS_PUB_LEN) == 0) {
        *en = "this link already uses this card";
        return "该连接已在使用这张名片";
    }
    if ((links_authorize(b, c->curve_key, org) && strcmp(org, l->card.org) != 0) ||
        directory_key_in_use(b, c->curve_key)) {
        *en = "its new key is another org's or street's";
        return "新名片的密钥属于另一组织或街道";
    }
    *rc = DS_EAUTH;
    if (!c->history.key_from || !config_card_rotation_valid(c, keyring_current(&l->ring))) {
        *en = "the new card is not signed by the street key this link knows (it may be an "
              "impostor); not taken";
        return "新名片不是由本连接所知的该街道密钥签署的(可能是冒充),未采用";
    }
    return NULL;
}

/* `peer rekey`: a linked street rotated its keys (`dualsync-broker rekey`; OPERATIONS "The
 * street's key leaked"). Its new card is taken only when signed by the street key this
 * link knows, as a node takes its own street's; the cursors stay, and the earlier keys
 * stay in the link's keyring for the entries they signed. Both connections with the old
 * key end: the link opens again to the new key, and ZAP lets in only the new one. */
static void peer_rekey(struct broker *b, const Dualsync__CtlCommand *cmd, uint8_t **out,
                       size_t *len)
{
    struct org_card card;
    struct link *l = NULL;
    const char *zh, *en = NULL;
    int rc = DS_OK;
    if (!card_of_ctl(cmd, &card)) {
        ctl_reply_error(DS_EINVAL, "需要该街道换钥后的新名片(street.card)",
                        "needs the street's new card after its rekey (street.card)", 0, out, len);
        return;
    }
    if (!(l = link_find(b, card.org))) {
        ctl_reply_error(DS_ENOTFOUND, "没有与该街道的连接(先 peer add)",
                        "no link with that street (peer add it first)", 0, out, len);
        return;
    }
    if ((zh = rekey_refusal(b, l, &card, &rc, &en)) != NULL) {
        ctl_reply_error(rc, zh, en, 0, out, len);
        return;
    }
    struct org_card was = l->card;
    l->card = card;
    if (link_save(b, l) != DS_OK) {
        l->card = was;
        ctl_reply_error(DS_EIO, "存储失败", "storage failure", 0, out, len);
        return;
    }
    config_card_keyring(&card, &l->ring);
    link_close(l);
    if (broker_transport(b))
        transport_close_org(broker_transport(b), card.org); /* its session on the old key */
    link_open(b, l);
    log_warn("links: street=%s rekeyed from its seq %llu", card.org,
             (unsigned long long)card.history.key_from);
    ctl_reply_ok(link_json(b, l), out, len);
}

static void peer_remove(struct broker *b, const Dualsync__CtlCommand *cmd, uint8_t **out,
                        size_t *len)
{
    const char *street = ctl_arg(cmd, "org");
    struct links *ls = broker_links(b);
    size_t i = 0;
    while (street && i < ls->n && strcmp(ls->v[i]->card.org, street) != 0)
        i++;
    if (!street || i == ls->n) {
        ctl_reply_error(DS_ENOTFOUND, "没有与该街道的连接", "no link with that street", 0, out,
                        len);
        return;
    }
    if (link_delete(b, street) != DS_OK) {
        ctl_reply_error(DS_EIO, "存储失败", "storage failure", 0, out, len);
        return;
    }
    link_free(ls->v[i]);
    ls->v[i] = ls->v[--ls->n];
    if (broker_transport(b))
        transport_close_org(broker_transport(b), street); /* its session here ends too */
    log_warn("links: removed street=%s", street);
    ctl_reply_ok(json_pack("{s:s}", "street", street), out, len);
}

void links_ctl(struct broker *b, const Dualsync__CtlCommand *cmd, uint8_t **out, size_t *len)
{
    if (strcmp(cmd->cmd, "peer add") == 0)
        peer_add(b, cmd, out, len);
    else if (strcmp(cmd->cmd, "peer remove") == 0)
        peer_remove(b, cmd, out, len);
    else if (strcmp(cmd->cmd, "peer rekey") == 0)
        peer_rekey(b, cmd, out, len);
    else
        ctl_reply_ok(links_json(b), out, len);
}
