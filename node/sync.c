/* sync: the node's side of the protocol (docs/PROTOCOL.md).
 * Liveness is ours, not ZeroMQ's: every heartbeat we PING; a broker silent for three
 * heartbeats, or a HELLO unanswered for as long, gets a fresh socket and a fresh HELLO.
 * Every resend comes from RocksDB: after WELCOME we publish from the broker's stored_upto,
 * whatever we had sent before, and the broker resends our inbox from our durable cursor.
 * Retries back off: a broker that does not answer is more often busy than gone, and every
 * HELLO it finds in its queue costs it a WELCOME and a window of inbox reads, every
 * republish a signature check per event. So consecutive unanswered HELLOs, new sockets,
 * republishes and inbox resyncs wait 1, 2, 4, 8, 8… heartbeats (jittered by org, so that
 * nodes started together spread out), and the answer that shows progress resets each.
 * A node whose log is behind what the broker holds of it (it lost its disk) refuses to
 * write: it could only reuse sequence numbers, which would fork its feed. */
#include "sync.h"
#include "node.h"

#include "backoff.h"
#include "err.h"
#include "log.h"
#include "wire.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

/* A node its broker refused tries again this often (see sync_tick). */
#define SYNC_AUTH_RETRY_MS 1000u

/* The longest backoff step, in heartbeats. With the stall rules' own 3 heartbeats a
 * retry comes at most 11 heartbeats after the last: the chaos and integration tests'
 * deadlines (30 s and more at 1 s heartbeats) still hold after a broker restart. */
#define SYNC_BACKOFF_CAP_BEATS 8u

/* The session with the broker. Nothing here is durable: a restart begins a new session,
 * and what must survive it (the cursors) is struct node's, in the log's meta. */
struct sync {
    enum node_state state;
    uint64_t acked;       /* the broker holds our events up to here */
    uint64_t sent;        /* published up to here in this session */
    uint64_t rewind_mark; /* 'sent' when we last rewound to 'acked': older errors are stale */
    uint64_t inbox_head;  /* the broker's head for us, as last heard */
    uint64_t dir_head;    /* the street's last directory entry, as last heard */
    uint64_t ping_nonce, pong_nonce, pong_head, pong_dir_head;
    bool restoring;       /* fetching our own events back from the broker */
    uint64_t retry_at_ms; /* a routing refusal: publish again at this time */
    uint64_t session_start_ms, last_rx_ms, last_progress_ms;
    uint64_t outbox_progress_ms; /* last ACK progress (or rewind): detects a lost PUBLISH/ACK */
    uint64_t inbox_progress_ms;  /* last cursor progress: detects a lost DELIVER */
    /* Retries that go unanswered back off (common/backoff.h); each count is reset by the
     * progress that answers it. */
    unsigned hello_tries;     /* HELLOs sent since the last WELCOME */
    uint64_t hello_due_ms;    /* a HELLO is out: no other before this time (0: none out) */
    unsigned reconnect_tries; /* new sockets since the last frame received */
    unsigned republish_tries; /* republishes since the last ACK progress */
    unsigned resync_tries;    /* inbox resync HELLOs since the last cursor progress */
};

struct sync *sync_new(const struct node *n)
{
    struct sync *s = xcalloc(1, sizeof(*s));
    if (n->restore_target > n->own_seq)
        s->state = NODE_NEEDS_RESTORE; /* learnt before a restart: still true */
    return s;
}

void sync_destroy(struct sync **sp)
{
    free(*sp);
    *sp = NULL;
}

struct sync_view sync_view(const struct node *n)
{
    const struct sync *s = n->sync;
    return (struct sync_view){
        .state = s->state,
        .acked = s->acked,
        .sent = s->sent,
        .inbox_head = s->inbox_head,
        .dir_head = s->dir_head,
        .ping_nonce = s->ping_nonce,
        .pong_nonce = s->pong_nonce,
        .pong_head = s->pong_head,
        .pong_dir_head = s->pong_dir_head,
        .restoring = s->restoring,
        .retry_at_ms = s->retry_at_ms,
        .session_start_ms = s->session_start_ms,
        .last_progress_ms = s->last_progress_ms,
        .hello_tries = s->hello_tries,
        .reconnect_tries = s->reconnect_tries,
        .republish_tries = s->republish_tries,
        .resync_tries = s->resync_tries,
    };
}

const char *node_state_name(enum node_state st)
{
    static const char *const names[] = {"connecting", "ready", "auth-refused", "needs-restore",
                                        "blocked"};
    return names[st];
}

/* The retry rules, each with its own jitter sequence. */
enum sync_retry {
    SYNC_RETRY_HELLO = 1,
    SYNC_RETRY_RECONNECT,
    SYNC_RETRY_REPUBLISH,
    SYNC_RETRY_RESYNC,
};

/* The wait before retry number attempt + 1 of a rule: 1, 2, 4, 8, 8… heartbeats, each
 * drawn in [half, whole]. The draw depends on (org, rule, attempt) only, so sync_tick can
 * ask every beat and get the same answer. */
static uint64_t retry_delay(const struct node *n, enum sync_retry rule, unsigned attempt)
{
    uint64_t beat = n->cfg.heartbeat_ms;
    return backoff_delay_ms(attempt, beat, SYNC_BACKOFF_CAP_BEATS * beat,
                            backoff_seed(n->cfg.org, (uint32_t)rule));
}

/* The stall rules (silence, no ACK progress, inbox stalled) wait 3 heartbeats before their
 * first retry, and 3 heartbeats plus retry_delay(tries - 1) once they have retried 'tries'
 * times without progress. */
static uint64_t stall_limit(const struct node *n, enum sync_retry rule, unsigned tries)
{
    uint64_t limit = 3u * n->cfg.heartbeat_ms;
    return tries ? limit + retry_delay(n, rule, tries - 1) : limit;
}

/* Whether another HELLO may go now: none is out, or the last one's wait is over. */
static bool hello_due(const struct node *n, uint64_t now)
{
    return n->sync->hello_due_ms == 0 || now >= n->sync->hello_due_ms;
}

static int send_frame(struct node *n, const Dualsync__Frame *f)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    wire_pack(&f->base, &buf, &len);
    int rc = transport_send(n->t, buf, len);
    if (rc != DS_OK)
        log_debug("sync: send failed (not connected)");
    free(buf);
    return rc;
}

/* HELLO. resume: this retries a HELLO that went unanswered on this connection (the
 * tick's retry in connecting): a broker that welcomed the connection meanwhile answers
 * with a WELCOME only, not with a second copy of the window it is sending. Every HELLO
 * that asks for a resend (a gap, a stall, a new connection or store) has it false. */
static void send_hello(struct node *n, bool resume)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Hello h = DUALSYNC__HELLO__INIT;
    h.org = n->cfg.org;
    h.proto = WIRE_PROTO_VERSION;
    h.own_seq = n->own_seq;
    h.inbox_cursor = n->inbox_cursor;
    h.directory_cursor = n->dir_cursor;
    h.broker_store_id.data = n->store_id;
    h.broker_store_id.len = n->store_id_len;
    h.resume = resume;
    f.kind_case = DUALSYNC__FRAME__KIND_HELLO;
    f.hello = &h;
    if (send_frame(n, &f) == DS_OK) {
        n->sync->hello_due_ms =
            node_clock_ms(n) + retry_delay(n, SYNC_RETRY_HELLO, n->sync->hello_tries);
        n->sync->hello_tries++;
    } else {
        n->sync->hello_due_ms = 0; /* not connected (yet): nothing is out, the broker saw nothing */
    }
}

static void on_client_event(void *arg, enum transport_event ev)
{
    struct node *n = arg;
    if (ev == TRANSPORT_AUTH_REFUSED) {
        n->sync->state = NODE_AUTH_REFUSED;
        node_set_error(n, "broker refused our key: this org is not in the street directory "
                          "(send the org's card to the street office) / broker 拒绝了本节点密钥");
        log_warn("sync: broker refused our key msg=\"not in the street directory\"");
    } else if (ev == TRANSPORT_HANDSHAKE_FAILED) {
        node_set_error(n, "CURVE handshake failed: wrong street key in node.conf?");
    } else if (ev == TRANSPORT_HANDSHAKE_OK) {
        if (n->sync->state == NODE_AUTH_REFUSED)
            n->sync->state = NODE_CONNECTING;
        /* A new connection needs its HELLO whatever the backoff: the first may have been
         * refused by ZMQ_IMMEDIATE, or went on a connection that is gone. */
        send_hello(n, false);
    }
}

static void on_frame(void *arg, const uint8_t *data, size_t len);
static void send_fetch(struct node *n);
static void send_confirm(struct node *n);

static void reconnect(struct node *n)
{
    if (transport_connect(n->t, n->cfg.broker, n->cfg.street.curve_key, &n->keys, on_frame, n) !=
        DS_OK) {
        node_set_error(n, "cannot connect to %s", n->cfg.broker);
        return;
    }
    if (n->sync->state != NODE_AUTH_REFUSED && n->sync->state != NODE_NEEDS_RESTORE)
        n->sync->state = NODE_CONNECTING;
    n->sync->session_start_ms = node_clock_ms(n);
    n->counters.reconnects++;
    send_hello(n, false);
}

void sync_start(struct node *n)
{
    transport_on_client_event(n->t, on_client_event, n);
    n->counters.reconnects = 0;
    reconnect(n);
}

/* Records the broker's store id; for a new store (the broker lost its disk) also resets
 * the inbox and directory cursors and forgets the old store's directory log, which the
 * new broker writes anew under the same sequence numbers. */
static int persist_store(struct node *n, const uint8_t *id, size_t len, bool new_store)
{
    struct eventlog_txn *txn = eventlog_begin(n->log);
    uint64_t cursor = new_store ? 0 : n->inbox_cursor;
    int rc = new_store ? eventlog_txn_forget_origin(txn, n->cfg.street.org) : DS_OK;
    if (rc != DS_OK) {
        eventlog_abort(&txn);
        return rc;
    }
    eventlog_txn_put_meta(txn, "broker_store_id", id, len);
    eventlog_txn_put_meta_u64(txn, "inbox_cursor", cursor);
    eventlog_txn_put_meta_u64(txn, "directory_cursor", new_store ? 0 : n->dir_cursor);
    rc = eventlog_commit(&txn);
    if (rc == DS_OK) {
        memcpy(n->store_id, id, len);
        n->store_id_len = len;
        n->inbox_cursor = cursor;
        if (new_store)
            n->dir_cursor = 0;
    }
    return rc;
}

void sync_pump(struct node *n)
{
    while (n->sync->state == NODE_READY && n->sync->retry_at_ms == 0 &&
           n->sync->sent < n->own_seq && n->sync->sent - n->sync->acked < NODE_PUBLISH_WINDOW) {
        uint64_t count = n->own_seq - n->sync->sent,
                 room = NODE_PUBLISH_WINDOW - (n->sync->sent - n->sync->acked);
        if (count > room)
            count = room; /* an ACK off a frame's boundary opens less than a frame */
        if (count > NODE_PUBLISH_BATCH)
            count = NODE_PUBLISH_BATCH;
        Dualsync__Frame f = DUALSYNC__FRAME__INIT;
        Dualsync__Publish p = DUALSYNC__PUBLISH__INIT;
        p.events = xcalloc(count, sizeof(*p.events));
        size_t bytes = 0;
        /* one range read of its own letters (after a long time offline they are in table
         * files), not a point read each */
        eventlog_origin_run(n->log, n->cfg.org, n->sync->sent + 1, (size_t)count, WIRE_FRAME_BUDGET,
                            p.events, &p.n_events);
        for (size_t i = 0; i < p.n_events; i++)
            bytes += p.events[i].len;
        if (bytes >= WIRE_FRAME_BUDGET)
            count = p.n_events; /* a full frame, not a missing event */
        f.kind_case = DUALSYNC__FRAME__KIND_PUBLISH;
        f.publish = &p;
        bool ok = p.n_events && send_frame(n, &f) == DS_OK;
        if (ok &&
            n->sync->sent == n->sync->acked) /* nothing was out: the ACK's 3 heartbeats start now */
            n->sync->outbox_progress_ms = node_clock_ms(n);
        if (ok)
            n->sync->sent += p.n_events; /* unsent events go in the next pump, from RocksDB */
        for (size_t i = 0; i < p.n_events; i++)
            free(p.events[i].data);
        free(p.events);
        if (!ok)
            break;
        if (p.n_events < count) {
            log_error("sync: own event missing from the log seq=%llu",
                      (unsigned long long)(n->sync->sent + 1));
            break;
        }
    }
}

static void on_welcome(struct node *n, const Dualsync__Welcome *w)
{
    bool new_store =
        n->store_id_len && (w->store_id.len != n->store_id_len ||
                            memcmp(w->store_id.data, n->store_id, n->store_id_len) != 0);
    if (w->store_id.len == 0 || w->store_id.len > NODE_STORE_ID_MAX)
        return;
    n->sync->hello_tries = 0; /* answered */
    n->sync->hello_due_ms = 0;
    if (new_store || !n->store_id_len) {
        if (new_store)
            log_warn("sync: broker has a new store id; resetting inbox cursor and republishing");
        if (persist_store(n, w->store_id.data, w->store_id.len, new_store) != DS_OK)
            return;
        if (new_store) {
            send_hello(n, false); /* restart the session with the reset cursor */
            return;
        }
    }
    if (w->stored_upto > n->own_seq) {
        /* Durable, so that neither a restart nor a lost session lets the node write (and
         * reuse a seq) before it has its own events back. */
        struct eventlog_txn *txn = eventlog_begin(n->log);
        eventlog_txn_put_meta_u64(txn, "restore_target", w->stored_upto);
        if (eventlog_commit(&txn) != DS_OK)
            return;
        n->sync->state = NODE_NEEDS_RESTORE;
        n->restore_target = w->stored_upto;
        if (n->sync->restoring) {
            send_fetch(n);
            return;
        }
        node_set_error(n,
                       "the broker holds %llu of our events, we have %llu: this data "
                       "directory was lost or replaced; restore it before writing",
                       (unsigned long long)w->stored_upto, (unsigned long long)n->own_seq);
        log_error("sync: %s", n->last_error);
        return;
    }
    n->sync->state = NODE_READY;
    n->counters.sessions++;
    n->sync->republish_tries = 0; /* a new session publishes from stored_upto anyway */
    n->sync->acked = w->stored_upto;
    n->sync->rewind_mark = n->sync->sent; /* errors about frames of an earlier session are stale */
    n->sync->sent = n->sync->acked;
    n->sync->outbox_progress_ms = n->sync->inbox_progress_ms = node_clock_ms(n);
    n->sync->inbox_head = w->inbox_head;
    n->sync->dir_head = w->directory_head;
    n->last_error[0] = '\0';
    log_info("sync: session up acked=%llu own_seq=%llu cursor=%llu head=%llu",
             (unsigned long long)n->sync->acked, (unsigned long long)n->own_seq,
             (unsigned long long)n->inbox_cursor, (unsigned long long)n->sync->inbox_head);
    sync_pump(n);
}

/* The broker's inbox head for us, from a DELIVER or a PONG. When it moves past a cursor
 * that had caught up, the inbox stall rule's 3 heartbeats start now, not at the last
 * progress, which may be long ago. */
static void note_head(struct node *n, uint64_t head)
{
    if (head <= n->sync->inbox_head)
        return;
    if (n->sync->inbox_head <= n->inbox_cursor)
        n->sync->inbox_progress_ms = node_clock_ms(n);
    n->sync->inbox_head = head;
}

/* The same for the street's last directory entry (Directory, PONG). */
static void note_dir_head(struct node *n, uint64_t head)
{
    if (head <= n->sync->dir_head)
        return;
    if (n->sync->dir_head <= n->dir_cursor && n->sync->inbox_head <= n->inbox_cursor)
        n->sync->inbox_progress_ms = node_clock_ms(n);
    n->sync->dir_head = head;
}

/* A gap in what the broker sends (a frame lost): say HELLO again, the broker resends from
 * our cursors. The frames already on their way behind the lost one all have the gap: one
 * HELLO answers for them (another only if its wait is over). */
static void resync_after_gap(struct node *n, const char *what, uint64_t have, uint64_t want)
{
    if (!hello_due(n, node_clock_ms(n)))
        return;
    log_info("sync: %s gap have=%llu need=%llu, resyncing", what, (unsigned long long)have,
             (unsigned long long)want);
    send_hello(n, false);
}

static void on_directory(struct node *n, const Dualsync__Directory *d)
{
    note_dir_head(n, d->head);
    if (d->after > n->dir_cursor) {
        resync_after_gap(n, "directory", n->dir_cursor, d->after);
        return;
    }
    if (node_apply_directory(n, d->after, d->upto, d->events, d->n_events) > d->after) {
        n->sync->resync_tries = 0;
        n->sync->last_progress_ms = n->sync->inbox_progress_ms = node_clock_ms(n);
    }
    send_confirm(n); /* also for a redelivery: the broker's window must open again */
}

static void on_deliver(struct node *n, const Dualsync__Deliver *d)
{
    note_head(n, d->inbox_head);
    uint64_t before = n->inbox_cursor;
    if (d->directory_needed > n->dir_cursor) {
        /* A Directory frame before it was lost: a letter must not come before its
         * author's card. */
        resync_after_gap(n, "directory before delivery", n->dir_cursor, d->directory_needed);
        return;
    }
    if (d->first > before + 1) {
        resync_after_gap(n, "inbox", before, d->first); /* an earlier DELIVER was lost */
        return;
    }
    uint64_t cursor = node_apply_delivery(n, d->first, d->events, d->n_events);
    if (cursor > before) {
        n->sync->resync_tries = 0;
        n->sync->last_progress_ms = n->sync->inbox_progress_ms = node_clock_ms(n);
    }
    send_confirm(n); /* also for a redelivery: the broker's window must open again */
}

/* ---------------------------------------------------------------- restore */

static void send_fetch(struct node *n)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Fetch req = DUALSYNC__FETCH__INIT;
    req.from = n->own_seq + 1;
    req.upto = n->restore_target;
    f.kind_case = DUALSYNC__FRAME__KIND_FETCH;
    f.fetch = &req;
    send_frame(n, &f);
}

int sync_restore_start(struct node *n)
{
    if (n->sync->state != NODE_NEEDS_RESTORE || n->restore_target <= n->own_seq)
        return DS_EINVAL;
    n->sync->restoring = true;
    n->sync->outbox_progress_ms = node_clock_ms(n);
    log_info("sync: restoring own events %llu..%llu from the broker",
             (unsigned long long)(n->own_seq + 1), (unsigned long long)n->restore_target);
    send_fetch(n);
    return DS_OK;
}

/* Our own events, back from the broker: each must be signed by our key and continue our
 * sequence, exactly as if we had just written it. */
static void on_fetched(struct node *n, const Dualsync__Fetched *f)
{
    if (!n->sync->restoring || f->first != n->own_seq + 1)
        return;
    struct eventlog_txn *txn = eventlog_begin(n->log);
    int rc = DS_OK;
    for (size_t i = 0; i < f->n_events && rc == DS_OK; i++) {
        struct event ev;
        rc = wire_event_open(f->events[i].data, f->events[i].len, false, &ev);
        if (rc != DS_OK)
            break;
        if (strcmp(ev.origin, n->cfg.org) != 0 ||
            !wire_event_verify(&ev, keyring_for(&n->own_ring, ev.seq)))
            rc = DS_EAUTH;
        if (rc == DS_OK)
            rc = eventlog_txn_add(txn, &ev, EVENTLOG_CONTIGUOUS);
        if (rc == DS_OK)
            rc = retention_note(n, txn, &ev);
        if (rc == DS_OK)
            hlc_observe(&n->clock, ev.hlc);
        wire_event_release(&ev);
    }
    if (rc != DS_OK || f->n_events == 0) {
        eventlog_abort(&txn);
        n->sync->restoring = false;
        node_set_error(n, "restore stopped: the broker sent an event that is not ours (%s)",
                       ds_errname(rc));
        log_error("sync: %s", n->last_error);
        return;
    }
    if (eventlog_commit(&txn) != DS_OK) {
        log_error("sync: cannot store restored events; exiting");
        exit(1);
    }
    n->own_seq = eventlog_hwm(n->log, n->cfg.org);
    n->sync->last_progress_ms = n->sync->outbox_progress_ms = node_clock_ms(n);
    if (n->own_seq < n->restore_target) {
        send_fetch(n);
        return;
    }
    log_info("sync: restore complete own_seq=%llu", (unsigned long long)n->own_seq);
    n->sync->restoring = false;
    n->sync->state = NODE_CONNECTING;
    n->last_error[0] = '\0';
    send_hello(n, false); /* a fresh WELCOME finds us whole and starts the session */
}

static void on_error(struct node *n, const Dualsync__Error *e)
{
    if (e->code == DUALSYNC__ERROR_CODE__ERROR_REFUSED && e->seq >= 1 && e->seq <= n->own_seq &&
        !node_note_refused(n, e->seq, e->message))
        return; /* told before (a lost claim is said again every 10 s): nothing new */
    if (e->code == DUALSYNC__ERROR_CODE__ERROR_CLAIMED) {
        /* a notice, repeated while the conflict lasts: no error of ours */
        if (e->seq >= 1 && e->seq <= n->own_seq)
            node_note_claimed(n, e->seq, e->message);
        return;
    }
    n->counters.broker_errors++;
    node_set_error(n, "broker: %.200s (seq %llu)", e->message, (unsigned long long)e->seq);
    log_warn("sync: broker error code=%d seq=%llu msg=\"%s\"", (int)e->code,
             (unsigned long long)e->seq, e->message);
    switch (e->code) {
    case DUALSYNC__ERROR_CODE__ERROR_HELLO_FIRST:
        /* Every frame we sent after the broker dropped the session comes back as one of
         * these; a HELLO for each would each cost the broker a WELCOME and a window of
         * deliveries. One HELLO is enough; the tick retries it on its backoff. */
        if (n->sync->state != NODE_NEEDS_RESTORE)
            n->sync->state = NODE_CONNECTING;
        if (hello_due(n, node_clock_ms(n)))
            send_hello(n, false);
        break;
    case DUALSYNC__ERROR_CODE__ERROR_SEQUENCE:
        /* Every frame in flight behind a lost one fails the same way; only the first
         * error after a rewind is news, the rest name frames sent before it. */
        if (e->seq > n->sync->rewind_mark && n->sync->retry_at_ms == 0) {
            n->sync->rewind_mark = n->sync->sent;
            n->sync->sent = n->sync->acked; /* resend from what the broker has */
            sync_pump(n);
        }
        break;
    case DUALSYNC__ERROR_CODE__ERROR_ROUTE:
        /* Not final: a route appears when the member's unit publishes its introduction,
         * which after a broker lost its disk may come after our events. Try again later. */
        if (e->seq > n->sync->acked)
            n->sync->retry_at_ms = node_clock_ms(n) + 5u * n->cfg.heartbeat_ms;
        break;
    case DUALSYNC__ERROR_CODE__ERROR_BUSY:
        /* Over the street's rate for event types it does not know (we are the newer
         * version): nothing stored, no fault of ours; resend when the allowance is back. */
        if (e->seq > n->sync->acked)
            n->sync->retry_at_ms = node_clock_ms(n) + NODE_BUSY_RETRY_MS;
        break;
    case DUALSYNC__ERROR_CODE__ERROR_REFUSED:
        /* Final and not blocking: the event is stored and acked, the other side will not
         * see it (e.g. the member is registered by another unit). Remembered, so that the
         * operator sees it on the member and writes nothing more about it. */
        n->counters.refused++; /* noted above, the first time */
        break;
    case DUALSYNC__ERROR_CODE__ERROR_AUTH:
        /* Also for an event already acked: the street checks signatures behind its ACK
         * (its audit), and one of ours failed. Nothing more of ours is taken. */
        if (e->seq > 0)
            n->sync->state = NODE_BLOCKED;
        break;
    case DUALSYNC__ERROR_CODE__ERROR_SIDE:
    case DUALSYNC__ERROR_CODE__ERROR_FORK:
    case DUALSYNC__ERROR_CODE__ERROR_MALFORMED:
        if (e->seq > 0 && e->seq > n->sync->acked)
            n->sync->state = NODE_BLOCKED; /* our own event is refused: an operator must look */
        break;
    default:
        break;
    }
}

/* The broker's word on how far each recipient applied our letters: kept for the console
 * (a letter "applied on the other side"); an entry beyond what we wrote is the broker's
 * mistake, counted and dropped. An org not (yet) in our directory is kept: after a lost
 * store the receipts come with the session, before the directory is delivered again. Not
 * while we lack our own log (needs-restore, restoring): the broker rightly knows more of
 * it than we do. */
static void on_receipts(struct node *n, const Dualsync__Receipts *m)
{
    if (n->sync->state == NODE_NEEDS_RESTORE || n->sync->restoring)
        return; /* the next session's Receipts, after the restore, are the ones to keep */
    for (size_t i = 0; i < m->n_receipts; i++) {
        const Dualsync__Receipt *r = m->receipts[i];
        if (!r->org || !ids_org_valid(r->org) || r->upto > n->own_seq) {
            n->counters.rejected++;
            n->counters.rejected_malformed++;
            log_warn("sync: receipt for %s up to %llu ignored", r->org ? r->org : "?",
                     (unsigned long long)r->upto);
            continue;
        }
        uint64_t *have = strmap_get(n->receipts, r->org);
        if (!have) {
            have = xcalloc(1, sizeof(*have));
            strmap_put(n->receipts, r->org, have);
        }
        if (r->upto > *have)
            *have = r->upto;
    }
}

static void on_frame(void *arg, const uint8_t *data, size_t len)
{
    struct node *n = arg;
    Dualsync__Frame *f = wire_frame_unpack(data, len);
    if (!f) {
        n->counters.rejected++;
        log_warn("sync: undecodable frame from broker len=%zu", len);
        return;
    }
    n->sync->last_rx_ms = node_clock_ms(n);
    n->sync->reconnect_tries = 0; /* the broker is there: a silence after this is a new one */
    switch (f->kind_case) {
    case DUALSYNC__FRAME__KIND_WELCOME:
        on_welcome(n, f->welcome);
        break;
    case DUALSYNC__FRAME__KIND_ACK:
        if (f->ack->upto > n->sync->acked && f->ack->upto <= n->own_seq) {
            n->sync->acked = f->ack->upto;
            n->sync->republish_tries = 0;
            n->sync->last_progress_ms = n->sync->outbox_progress_ms = n->sync->last_rx_ms;
            if (n->sync->sent < n->sync->acked)
                n->sync->sent = n->sync->acked; /* an ACK for a frame of before a rewind */
        }
        sync_pump(n);
        break;
    case DUALSYNC__FRAME__KIND_DELIVER:
        if (n->sync->state == NODE_READY || n->sync->state == NODE_BLOCKED)
            on_deliver(n, f->deliver);
        break;
    case DUALSYNC__FRAME__KIND_DIRECTORY:
        if (n->sync->state == NODE_READY || n->sync->state == NODE_BLOCKED)
            on_directory(n, f->directory);
        break;
    case DUALSYNC__FRAME__KIND_PONG:
        n->sync->pong_nonce = f->pong->nonce;
        n->sync->pong_head = f->pong->inbox_head;
        n->sync->pong_dir_head = f->pong->directory_head;
        note_head(n, n->sync->pong_head);
        note_dir_head(n, n->sync->pong_dir_head);
        break;
    case DUALSYNC__FRAME__KIND_ERROR:
        on_error(n, f->error);
        break;
    case DUALSYNC__FRAME__KIND_FETCHED:
        on_fetched(n, f->fetched);
        break;
    case DUALSYNC__FRAME__KIND_RECEIPTS:
        on_receipts(n, f->receipts);
        break;
    default:
        n->counters.rejected++;
        break;
    }
    wire_frame_free(f);
}

uint64_t sync_probe(struct node *n)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Ping p = DUALSYNC__PING__INIT;
    p.nonce = ++n->sync->ping_nonce;
    f.kind_case = DUALSYNC__FRAME__KIND_PING;
    f.ping = &p;
    send_frame(n, &f);
    return p.nonce;
}

static void send_confirm(struct node *n)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Confirm c = DUALSYNC__CONFIRM__INIT;
    c.upto = n->inbox_cursor;
    c.directory_upto = n->dir_cursor;
    f.kind_case = DUALSYNC__FRAME__KIND_CONFIRM;
    f.confirm = &c;
    send_frame(n, &f);
}

/* ZeroMQ may lose a frame without closing the connection (a full queue, a reset
 * reconnected under us): nothing then says so, so we look for stalls. Published events
 * with no ACK progress for 3 heartbeats are sent again; an inbox that the broker says
 * holds more than we applied, with no progress for as long, is asked for again (HELLO
 * makes the broker resend from our cursor); and the cursor is confirmed every beat, so a
 * lost CONFIRM cannot leave the broker's window shut. A stall that outlasts its repair is
 * more likely a busy broker than another loss, so each repeat waits longer (backoff). */
static void repair_losses(struct node *n, uint64_t now)
{
    if (n->sync->state == NODE_READY && n->sync->acked < n->sync->sent &&
        n->sync->retry_at_ms == 0 &&
        now - n->sync->outbox_progress_ms >
            stall_limit(n, SYNC_RETRY_REPUBLISH, n->sync->republish_tries)) {
        log_info("sync: no ack for %llu ms, publishing again from %llu",
                 (unsigned long long)(now - n->sync->outbox_progress_ms),
                 (unsigned long long)(n->sync->acked + 1));
        n->sync->rewind_mark = n->sync->sent;
        n->sync->sent = n->sync->acked;
        n->sync->outbox_progress_ms = now;
        n->sync->republish_tries++;
    }
    if ((n->sync->inbox_head > n->inbox_cursor || n->sync->dir_head > n->dir_cursor) &&
        now - n->sync->inbox_progress_ms >
            stall_limit(n, SYNC_RETRY_RESYNC, n->sync->resync_tries)) {
        log_info("sync: inbox stalled at %llu of %llu (directory %llu of %llu), resyncing",
                 (unsigned long long)n->inbox_cursor, (unsigned long long)n->sync->inbox_head,
                 (unsigned long long)n->dir_cursor, (unsigned long long)n->sync->dir_head);
        n->sync->inbox_progress_ms = now;
        n->sync->resync_tries++;
        send_hello(n, false);
    }
    if (n->inbox_cursor > 0 || n->dir_cursor > 0)
        send_confirm(n);
}

void sync_tick(void *arg)
{
    struct node *n = arg;
    uint64_t now = node_clock_ms(n), limit = 3u * n->cfg.heartbeat_ms;
    uint64_t since = n->sync->last_rx_ms > n->sync->session_start_ms ? n->sync->last_rx_ms
                                                                     : n->sync->session_start_ms;
    retention_tick(n, now);
    eventlog_rest(n->log, now); /* memory back to the OS after a quiet while */
    reports_rest(n, now);
    if (n->sync->state == NODE_AUTH_REFUSED) {
        /* libzmq does not retry after a ZAP refusal; we do, every second, so that a node
         * is in session within about 2 s of the street office adding its card, without a
         * restart. A refusal costs the broker one handshake and one ZAP request. */
        if (now - n->sync->session_start_ms >= SYNC_AUTH_RETRY_MS)
            reconnect(n);
        return;
    }
    /* The first silence of 3 heartbeats gets a new socket at once; if the new one hears
     * nothing either, each further new socket waits longer: each costs the broker a
     * handshake, a ZAP request and a HELLO. */
    if (now - since > stall_limit(n, SYNC_RETRY_RECONNECT, n->sync->reconnect_tries)) {
        log_info("sync: broker silent for %llu ms, reconnecting",
                 (unsigned long long)(now - since));
        n->sync->reconnect_tries++;
        reconnect(n);
        return;
    }
    if (n->sync->retry_at_ms && now >= n->sync->retry_at_ms) {
        n->sync->retry_at_ms = 0;
        n->sync->rewind_mark = n->sync->sent;
        n->sync->sent = n->sync->acked;
    }
    if (n->sync->state == NODE_READY || n->sync->state == NODE_BLOCKED)
        repair_losses(n, now);
    if (n->sync->restoring && now - n->sync->outbox_progress_ms > limit) {
        n->sync->outbox_progress_ms = now; /* a FETCH or FETCHED was lost: ask again */
        send_fetch(n);
    }
    if (n->sync->state == NODE_READY || n->sync->state == NODE_BLOCKED ||
        n->sync->state == NODE_NEEDS_RESTORE)
        sync_probe(n); /* keeps the session alive; PONG also refreshes the inbox head */
    else if (n->sync->state == NODE_CONNECTING && hello_due(n, now))
        send_hello(n, n->sync->hello_tries > 0); /* unanswered: 1, 2, 4, 8, 8… beats later */
    sync_pump(n);
}
