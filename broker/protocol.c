/* protocol: the broker's side of the node <-> broker protocol, as a table of frame
 * handlers (see docs/PROTOCOL.md).
 * Trust: the org of a frame is the org its CURVE key authenticated as (transport gives
 * it); an event must be signed by that org's key, authored by the side its type allows,
 * contiguous in the org's sequence, and addressed (by the broker's routing) to orgs that
 * have business with the member. The first event that fails stops the frame: the events
 * before it are stored and acked, the failure is answered with ERROR, counted and logged.
 * Durability: ACK is sent only after the batch commit returned, and the commit fsyncs
 * in the default durability mode.
 * Budgets: a peer's PUBLISH frames wait for their signatures only within its verify
 * budget (BROKER_PEER_VERIFY_*); beyond it a frame is refused unchecked, and the street's
 * other peers are read as before. Every refused frame is a strike; BROKER_STRIKES_MAX
 * strikes in BROKER_STRIKE_WINDOW_MS close the org's connections and ban its key at the
 * handshake (broker_authorize) for BROKER_BAN_MS, doubling per repeat. Events of a type
 * this version does not know are refused beyond their own limits (BROKER_UNKNOWN_*: a
 * body size, and a token bucket per org), each refusal a strike. A HELLO on a live
 * connection resends from the peer's confirmed cursor only within its send budget
 * (inbox.c): asking again while half the budget is unread closes the connection, which is
 * what frees libzmq's queue of it. */
#include "protocol.h"

#include "broker.h"
#include "carry.h"
#include "directory.h"
#include "inbox.h"
#include "links.h"
#include "receipts.h"
#include "report.h"
#include "routing.h"
#include "verify.h"
#include "sigaudit.h"

#include "btxn.h"

#include "err.h"
#include "hlc.h"
#include "log.h"
#include "rules.h"
#include "wire.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

void protocol_send(struct broker *b, struct peer *p, const Dualsync__Frame *f)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    wire_pack(&f->base, &buf, &len);
    if (transport_send_peer(broker_transport(b), &p->addr, buf, len) != DS_OK && p->welcomed) {
        /* Gone or stuck: forget the session; its next HELLO starts it again. (An answer
         * to an old connection of the org has no session to drop.) */
        p->welcomed = false;
        broker_counters(b)->sessions_dropped++;
        log_warn("broker: peer=%s unreachable (its send queue is full or it is gone), session "
                 "dropped",
                 p->addr.org);
    }
    free(buf);
}

/* The sessions' state, private to this file: the other modules reach a peer through
 * protocol_peer and protocol_each_peer. */
struct sessions {
    struct strmap *peers;        /* org id -> struct peer * */
    struct strmap *conduct;      /* org id -> struct conduct * (NULL until first needed) */
    struct publish_batch *batch; /* checked PUBLISH frames of this wake-up, committed together */
    uint64_t publishes_in;       /* PUBLISH frames taken */
    uint64_t publishes_at_tick;  /* publishes_in at the last tick: idle when unchanged */
    uint64_t last_tick_ms;       /* the last tick, or when serving began */
    size_t claims_open;          /* the street's open claims (valid once claims_counted) */
    bool claims_counted;         /* counted from the route table once, then kept by commits */
    uint64_t claims_told_ms;     /* when the units in conflict were last told; 0: never */
};

struct sessions *protocol_sessions_new(void)
{
    struct sessions *s = xcalloc(1, sizeof(*s));
    s->peers = strmap_new();
    return s;
}

void protocol_sessions_destroy(struct sessions **sp)
{
    struct sessions *s = *sp;
    if (!s)
        return;
    strmap_destroy(&s->peers, free);
    strmap_destroy(&s->conduct, free);
    free(s);
    *sp = NULL;
}

struct peer *protocol_peer(const struct broker *b, const char *org)
{
    return strmap_get(broker_sessions(b)->peers, org);
}

const struct conduct *protocol_conduct(const struct broker *b, const char *org)
{
    return broker_sessions(b)->conduct ? strmap_get(broker_sessions(b)->conduct, org) : NULL;
}

struct each_peer {
    bool (*fn)(struct peer *p, void *arg);
    void *arg;
};

static bool each_peer(const char *org, void *value, void *arg)
{
    (void)org;
    struct each_peer *c = arg;
    return c->fn(value, c->arg);
}

void protocol_each_peer(struct broker *b, bool (*fn)(struct peer *p, void *arg), void *arg)
{
    struct each_peer c = {fn, arg};
    strmap_each(broker_sessions(b)->peers, each_peer, &c);
}

static struct conduct *ban_of(const struct broker *b, const char *org)
{
    return broker_sessions(b)->conduct ? strmap_get(broker_sessions(b)->conduct, org) : NULL;
}

static bool banned(const struct broker *b, const char *org, uint64_t now)
{
    const struct conduct *ban = ban_of(b, org);
    return ban && now < ban->until_ms;
}

bool broker_authorize(void *arg, const uint8_t key[KEYS_PUB_LEN], char org_out[IDS_ORG_MAX])
{
    struct broker *b = arg;
    /* a linked street's broker (links.h), else an org of this street */
    if (!links_authorize(b, key, org_out) && !directory_authorize(b, key, org_out))
        return false;
    if (!banned(b, org_out, broker_now_ms(b)))
        return true;
    broker_counters(b)->ban_refused++;
    log_debug("broker: handshake of banned peer=%s refused", org_out);
    return false;
}

/* Disconnects p's org for its refused frames and refuses its key for a while: its
 * connections are closed (libzmq frees what they queued), frames still queued from them
 * are dropped unread, and the handshake refuses it until the ban ends. */
static void ban_peer(struct broker *b, struct peer *p, uint64_t now)
{
    if (!broker_sessions(b)->conduct)
        broker_sessions(b)->conduct = strmap_new();
    struct conduct *ban = strmap_get(broker_sessions(b)->conduct, p->addr.org);
    if (!ban) {
        ban = xcalloc(1, sizeof(*ban));
        strmap_put(broker_sessions(b)->conduct, p->addr.org, ban);
    }
    if (now > ban->until_ms + 3600u * 1000u)
        ban->count = 0; /* an hour of good conduct since the last */
    uint64_t ms = (uint64_t)BROKER_BAN_MS << (ban->count < 10 ? ban->count : 10);
    ban->count++;
    ban->until_ms = now + (ms < BROKER_BAN_MAX_MS ? ms : BROKER_BAN_MAX_MS);
    broker_counters(b)->peers_banned++;
    log_warn("broker: peer=%s disconnected: %u refused frames within %u ms, banned for %llu ms "
             "(ban %u)",
             p->addr.org, p->strikes, BROKER_STRIKE_WINDOW_MS,
             (unsigned long long)(ban->until_ms - now), ban->count);
    p->welcomed = false;
    p->strikes = 0;
    p->strike_bytes = 0;
    transport_close_org(broker_transport(b), p->addr.org);
}

/* Counts a refused frame of bytes against p; the last strike of a window, or the byte that
 * takes the window's refused bytes to BROKER_STRIKE_BYTES_MAX, bans it. */
static void strike(struct broker *b, struct peer *p, size_t bytes)
{
    uint64_t now = broker_now_ms(b);
    broker_counters(b)->refused_frames++;
    if (now - p->strike_window_ms > BROKER_STRIKE_WINDOW_MS) {
        p->strike_window_ms = now;
        p->strikes = 0;
        p->strike_bytes = 0;
    }
    p->strike_bytes += bytes;
    if (++p->strikes >= BROKER_STRIKES_MAX || p->strike_bytes >= BROKER_STRIKE_BYTES_MAX)
        ban_peer(b, p, now);
}

static void send_error(struct broker *b, struct peer *p, Dualsync__ErrorCode code, const char *msg,
                       uint64_t seq)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Error e = DUALSYNC__ERROR__INIT;
    e.code = code;
    e.message = (char *)msg;
    e.seq = seq;
    f.kind_case = DUALSYNC__FRAME__KIND_ERROR;
    f.error = &e;
    log_warn("broker: peer=%s error=%d seq=%llu msg=\"%s\"", p->addr.org, (int)code,
             (unsigned long long)seq, msg);
    protocol_send(b, p, &f);
}

/* The session of addr's org. Only a HELLO may move a session to a new connection: a
 * frame still queued on an old connection must not end the new session. NULL when a
 * non-HELLO frame comes from a connection that is not the session's. */
static struct peer *peer_for(struct broker *b, const struct transport_peer *addr, bool hello)
{
    struct peer *p = strmap_get(broker_sessions(b)->peers, addr->org);
    if (!p) {
        p = xcalloc(1, sizeof(*p));
        p->addr = *addr;
        strmap_put(broker_sessions(b)->peers, addr->org, p);
    }
    if (p->addr.id_len != addr->id_len || memcmp(p->addr.id, addr->id, addr->id_len) != 0) {
        if (!hello)
            return NULL;
        p->addr = *addr; /* a new connection of the same org: the old session is over */
        p->welcomed = false;
        inbox_sent_reset(p); /* what the old connection queued is its own */
    }
    p->last_seen_ms = broker_now_ms(b);
    p->frames++;
    return p;
}

/* Where delivery resumes after a HELLO with cursor. On a connection that was sent entries
 * already, the cursor is a confirmation (it never moves the confirmed cursor back: an
 * honest node's cursor only grows), and entries beyond it are sent again, from it, within
 * the send budget: a node says HELLO when a DELIVER was lost. A peer asking for that while
 * more than half its budget is unread does not read at all; false: close it. */
static bool resume_delivery(struct broker *b, struct peer *p, uint64_t cursor)
{
    if (p->sent_upto == 0) {
        p->delivered = p->confirmed = cursor;
        return true;
    }
    if (cursor > p->sent_upto)
        cursor = p->sent_upto; /* a cursor beyond what it was sent: what it was sent */
    if (cursor > p->confirmed)
        p->confirmed = cursor;
    inbox_sent_confirmed(p, p->confirmed);
    if (inbox_sent_over_half(p)) {
        broker_counters(b)->full_closed++;
        log_warn("broker: peer=%s asks for a resend with %zu bytes unread, connection closed",
                 p->addr.org, p->inflight_bytes);
        p->welcomed = false;
        transport_close_peer(broker_transport(b), &p->addr);
        strike(b, p, 0); /* a flood of such HELLOs costs a handshake each: bounded by the ban */
        return false;
    }
    p->delivered = p->confirmed;
    return true;
}

/* WELCOME: what the street holds of p's org and of the street, as of now. */
static void send_welcome(struct broker *b, struct peer *p, const Dualsync__Hello *h,
                         uint64_t cursor)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Welcome w = DUALSYNC__WELCOME__INIT;
    w.stored_upto = eventlog_hwm(broker_log(b), p->addr.org);
    w.store_id.data = (uint8_t *)broker_store_id(b); /* pack only reads it */
    w.store_id.len = BROKER_STORE_ID_LEN;
    w.directory_version = eventlog_hwm(broker_log(b), broker_config(b)->street);
    w.inbox_head = inbox_head(b, p->addr.org);
    w.street = (char *)broker_config(b)->street;
    w.directory_head = directory_head(b);
    f.kind_case = DUALSYNC__FRAME__KIND_WELCOME;
    f.welcome = &w;
    log_info("broker: hello peer=%s own_seq=%llu stored=%llu cursor=%llu head=%llu "
             "directory=%llu/%llu%s",
             p->addr.org, (unsigned long long)h->own_seq, (unsigned long long)w.stored_upto,
             (unsigned long long)cursor, (unsigned long long)w.inbox_head,
             (unsigned long long)p->dir_sent, (unsigned long long)w.directory_head,
             h->resume ? " resumed" : "");
    protocol_send(b, p, &f);
}

static void on_hello(struct broker *b, struct peer *p, const Dualsync__Hello *h)
{
    if (strcmp(h->org, p->addr.org) != 0) {
        broker_counters(b)->org_mismatch++;
        send_error(b, p, DUALSYNC__ERROR_CODE__ERROR_AUTH, "HELLO names another org than your key",
                   0);
        strike(b, p, 0);
        return;
    }
    if (h->proto != WIRE_PROTO_VERSION) {
        broker_counters(b)->malformed++;
        send_error(b, p, DUALSYNC__ERROR_CODE__ERROR_MALFORMED, "unsupported protocol version", 0);
        strike(b, p, 0);
        return;
    }
    if (h->resume && p->welcomed) {
        /* The node retries a HELLO whose WELCOME had not reached it yet; this connection
         * was welcomed, and what it was sent since is on its way behind that WELCOME (one
         * connection loses nothing in between; a frame lost anyway is a gap the node asks
         * for with a full HELLO). Rewinding would send its whole window again. */
        broker_counters(b)->hellos_resumed++;
        send_welcome(b, p, h, p->confirmed);
        inbox_pump(b, p);
        return;
    }
    uint64_t head = inbox_head(b, p->addr.org);
    bool same_store = h->broker_store_id.len == BROKER_STORE_ID_LEN &&
                      memcmp(h->broker_store_id.data, broker_store_id(b), BROKER_STORE_ID_LEN) == 0;
    uint64_t cursor = same_store ? h->inbox_cursor : 0;
    if (cursor > head)
        cursor = head;
    /* the directory's frames it shows read count off its send budget before the check */
    inbox_directory_resume(b, p, same_store ? h->directory_cursor : 0);
    if (!resume_delivery(b, p, cursor))
        return;
    receipts_confirmed(b, p->addr.org, p->confirmed);
    p->welcomed = true;
    p->vouched = false; /* a new connection, maybe a new key: its signatures are checked */
    send_welcome(b, p, h, cursor);
    receipts_send(b, p);
    inbox_pump(b, p);
}

void protocol_notify(struct broker *b, const char *org, Dualsync__ErrorCode code, const char *why,
                     uint64_t seq)
{
    struct peer *p = strmap_get(broker_sessions(b)->peers, org);
    if (p && p->welcomed)
        send_error(b, p, code, why, seq);
}

/* org's record of conduct (its ban, its unknown-type allowance), made on first use. */
static struct conduct *conduct_of(struct broker *b, const char *org)
{
    if (!broker_sessions(b)->conduct)
        broker_sessions(b)->conduct = strmap_new();
    struct conduct *c = strmap_get(broker_sessions(b)->conduct, org);
    if (!c) {
        c = xcalloc(1, sizeof(*c));
        strmap_put(broker_sessions(b)->conduct, org, c);
    }
    return c;
}

/* Takes one token of c's unknown-type bucket at now; false when it is empty. The bucket
 * holds BROKER_UNKNOWN_BURST and gets one back each BROKER_UNKNOWN_REFILL_MS. */
static bool take_unknown_token(struct conduct *c, uint64_t now)
{
    uint64_t back = now > c->unknown_refill_ms
                        ? (now - c->unknown_refill_ms) / BROKER_UNKNOWN_REFILL_MS
                        : 0; /* a clock set back gives nothing back */
    if (back >= c->unknown_taken) {
        c->unknown_taken = 0;
        c->unknown_refill_ms = now;
    } else {
        c->unknown_taken -= (unsigned)back;
        c->unknown_refill_ms += back * BROKER_UNKNOWN_REFILL_MS;
    }
    if (c->unknown_taken >= BROKER_UNKNOWN_BURST)
        return false;
    c->unknown_taken++;
    return true;
}

_Static_assert(BROKER_UNKNOWN_BODY_MAX == 8192 && BROKER_UNKNOWN_BURST == 256 &&
                   BROKER_UNKNOWN_REFILL_MS == 10000,
               "the refusals below name the limits");

/* An event of a type this version does not know passed rules_check unread (a newer node
 * may send one). What a hostile org could make of that, huge bodies or floods of them
 * that every recipient stores and refolds, is bounded here: a body of at most
 * BROKER_UNKNOWN_BODY_MAX (DS_EINVAL: a refused frame, a strike), and a token of the org's
 * bucket per event (DS_EAGAIN: ERROR_BUSY, resend later, no strike). Both counted, with
 * *why. */
static int check_unknown_type(struct broker *b, const char *org, const struct event *ev,
                              const char **why)
{
    if (ev->body_len > BROKER_UNKNOWN_BODY_MAX) {
        *why = "unknown event type: body over 8192 bytes";
    } else if (!take_unknown_token(conduct_of(b, org), broker_now_ms(b))) {
        *why = "unknown event types over the per-org rate (256 at once, then one per 10 s): "
               "resend later";
        broker_counters(b)->unknown_type_refused++;
        return DS_EAGAIN;
    } else {
        broker_counters(b)->unknown_types++;
        return DS_OK;
    }
    broker_counters(b)->unknown_type_refused++;
    return DS_EINVAL;
}

/* Checks one published event of org's connection (its signature was checked by a verify
 * worker: signed_ok); on failure fills *code and *why. The limits of unknown types come
 * last and skip what is stored already (a resend, or a fork refused later), so that only
 * a new event that passed everything else takes a token. */
static int check_event(struct broker *b, const char *org, const struct event *ev, bool signed_ok,
                       Dualsync__ErrorCode *code, const char **why)
{
    const struct org_entry *origin = directory_find(b, ev->origin);
    if (strcmp(ev->origin, org) != 0 || !origin ||
        origin->state != DUALSYNC__ORG_STATE__ORG_STATE_ACTIVE) { /* revoked while in flight */
        broker_counters(b)->org_mismatch++;
        *code = DUALSYNC__ERROR_CODE__ERROR_AUTH;
        *why = "event origin is not the org of your key";
        return DS_EAUTH;
    }
    if (!signed_ok) {
        *code = DUALSYNC__ERROR_CODE__ERROR_AUTH;
        *why = "bad signature";
        return DS_EAUTH;
    }
    uint64_t bad_seq = 0;
    if (sigaudit_blocked(b, org, &bad_seq) && ev->seq > eventlog_hwm(broker_log(b), org)) {
        broker_counters(b)->signature_blocked++;
        *code = DUALSYNC__ERROR_CODE__ERROR_AUTH;
        *why = "an earlier letter of yours failed the street's signature check: nothing more is "
               "taken from your node until the street office re-keys your org";
        return DS_EAUTH;
    }
    int rc = rules_check(ev);
    if (rc == DS_ESIDE) {
        *code = DUALSYNC__ERROR_CODE__ERROR_SIDE;
        *why = "your side may not author this event type";
        return rc;
    }
    if (rc != DS_OK || hlc_ms(ev->hlc) > broker_now_ms(b) + BROKER_MAX_SKEW_MS) {
        *code = DUALSYNC__ERROR_CODE__ERROR_MALFORMED;
        *why = rc != DS_OK ? "event body fails validation" : "event clock too far in the future";
        return DS_EINVAL;
    }
    rc = !rules_find(ev->type) && ev->seq > eventlog_hwm(broker_log(b), org)
             ? check_unknown_type(b, org, ev, why)
             : DS_OK;
    if (rc != DS_OK) /* a rate is no misconduct: an honest newer node resends later */
        *code = rc == DS_EAGAIN ? DUALSYNC__ERROR_CODE__ERROR_BUSY
                                : DUALSYNC__ERROR_CODE__ERROR_MALFORMED;
    return rc;
}

struct publish_result {
    Dualsync__ErrorCode code;
    const char *why;
    uint64_t seq;
    uint64_t stored_lo, stored_hi; /* the seqs this frame added to the store (0: none) */
    bool vouched;        /* the connection, or this frame, stored a letter it signed correctly */
    const char *refused; /* the first event of the frame stored but delivered to nobody */
    uint64_t refused_seq;
};

/* Group commit: the PUBLISH frames read in one wake-up share one transaction and so one
 * fsync; each is answered (ACK and any ERROR) only once that commit has returned. */
struct pending_publish {
    struct transport_peer addr;
    struct publish_result res;
    size_t held_events, held_bytes; /* of its org's verify budget, until it is answered */
    Dualsync__Frame *frame;         /* for the audit once committed (res.stored_lo..hi) */
};

struct publish_batch {
    struct btxn t;
    struct recipients to; /* scratch: too big for the stack of every event */
    struct pending_publish *acks;
    size_t n, cap;
    size_t stored;
    size_t on_loop; /* events taken without the pool (store_on_loop): at most a commit's */
    bool failed;    /* a storage error: nothing of the batch is committed */
};

static struct publish_batch *batch_for(struct broker *b)
{
    if (!broker_sessions(b)->batch) {
        broker_sessions(b)->batch = xcalloc(1, sizeof(struct publish_batch));
        btxn_begin(b, &broker_sessions(b)->batch->t);
    }
    return broker_sessions(b)->batch;
}

/* An event stored but delivered to nobody: counted, logged, and its author told after
 * the ACK (the first one per frame), so the operator sees why the other side has not. */
static void note_refused(struct broker *b, const struct event *ev, const struct recipients *to,
                         struct publish_result *res)
{
    if (!to->refused)
        return;
    broker_counters(b)->unrouted++;
    log_warn("broker: stored, not delivered: %s/%llu member=%s: %s", ev->origin,
             (unsigned long long)ev->seq, ev->member, to->refused);
    if (!res->refused) {
        res->refused = to->refused;
        res->refused_seq = ev->seq;
    }
}

/* The member's unit erased the member (protocol.h). */
int protocol_erase_member(struct broker *b, struct eventlog_txn *txn, const struct event *ev)
{
    /* ev is the batch's own copy, which the redaction may reopen in place: its ids are
     * copied first */
    char member[IDS_MEMBER_MAX + 1], origin[IDS_ORG_MAX];
    snprintf(member, sizeof(member), "%s", ev->member);
    snprintf(origin, sizeof(origin), "%s", ev->origin);
    size_t dropped = 0;
    int rc = eventlog_txn_redact_member(txn, member, UINT64_MAX, &dropped);
    inbox_drop_tails(b); /* a held copy may still carry the personal part */
    if (rc == DS_OK) {
        broker_counters(b)->erasures++;
        log_info("broker: member=%s erased by %s: %zu letters keep no personal part", member,
                 origin, dropped);
    }
    return rc;
}

/* Whether ev is signed by its origin's key of its seq, checked here on the loop thread:
 * for the rare events a worker did not check and that may not wait for the audit (below). */
static bool signed_by_origin(const struct broker *b, const struct event *ev)
{
    const struct org_entry *origin = directory_find(b, ev->origin);
    return origin && wire_event_verify(ev, keyring_for(&origin->ring, ev->seq));
}

/* A worker skipped the event as a likely resend (VERIFY_SKIPPED): when the store holds
 * exactly these bytes it was verified when stored (DS_EEXIST); anything else is
 * verified here. *seq_rc keeps the store's answer for the caller. */
static int check_skipped(struct broker *b, struct eventlog_txn *txn, const struct event *ev,
                         bool *signed_ok, int *seq_rc)
{
    *seq_rc = eventlog_txn_check(txn, ev, EVENTLOG_CONTIGUOUS);
    if (*seq_rc == DS_EEXIST)
        return DS_EEXIST;
    *signed_ok = signed_by_origin(b, ev);
    return DS_OK;
}

static void count_refusal(struct broker_counters *k, Dualsync__ErrorCode code)
{
    if (code == DUALSYNC__ERROR_CODE__ERROR_MALFORMED) {
        k->malformed++;
        return;
    }
    k->rejected += code != 0 && code != DUALSYNC__ERROR_CODE__ERROR_BUSY;
    k->rejected_auth += code == DUALSYNC__ERROR_CODE__ERROR_AUTH;
    k->rejected_side += code == DUALSYNC__ERROR_CODE__ERROR_SIDE;
    k->rejected_sequence += code == DUALSYNC__ERROR_CODE__ERROR_SEQUENCE;
    k->rejected_route += code == DUALSYNC__ERROR_CODE__ERROR_ROUTE;
}

/* Adds what it can of one checked PUBLISH to the batch; DS_EIO on a storage error. */
static int publish_events(struct broker *b, const struct verify_job *job, struct publish_batch *pb,
                          struct publish_result *res)
{
    for (size_t i = 0; i < job->n_events && !res->code; i++) {
        struct event ev;
        struct recipients *to = &pb->to;
        int rc = wire_event_open(job->events[i].data, job->events[i].len, false, &ev);
        res->seq = 0;
        if (rc == DS_EAUTH) { /* a personal part other than the one the origin signed */
            count_refusal(broker_counters(b), DUALSYNC__ERROR_CODE__ERROR_AUTH);
            res->code = DUALSYNC__ERROR_CODE__ERROR_AUTH;
            res->why = "the letter's personal part is not the one its signature names";
            break;
        } else if (rc != DS_OK) {
            broker_counters(b)->malformed++;
            res->code = DUALSYNC__ERROR_CODE__ERROR_MALFORMED;
            res->why = "event does not decode or fails syntax";
            break;
        }
        res->seq = ev.seq;
        enum verify_verdict verdict =
            job->on_loop ? verify_unsigned_verdict(job, &ev) : job->verdict[i];
        bool signed_ok = verdict == VERIFY_OK, checked = signed_ok;
        bool skipped = verdict == VERIFY_SKIPPED;
        if (verdict == VERIFY_BOUND && res->vouched)
            signed_ok = true; /* the audit checks it after the ACK */
        else if (verdict == VERIFY_BOUND)
            signed_ok = checked = signed_by_origin(b, &ev); /* not vouched for yet */
        int seq_rc = DS_OK;
        rc = skipped ? check_skipped(b, pb->t.log, &ev, &signed_ok, &seq_rc) : DS_OK;
        if (rc == DS_OK)
            rc = check_event(b, job->addr.org, &ev, signed_ok, &res->code, &res->why);
        if (rc == DS_OK) /* nothing was added to the batch since check_skipped asked */
            rc = skipped ? seq_rc : eventlog_txn_check(pb->t.log, &ev, EVENTLOG_CONTIGUOUS);
        if (rc == DS_EEXIST) {
            broker_counters(b)->duplicates++;
        } else if (rc == DS_EFORK || rc == DS_ESEQ) {
            res->code = rc == DS_EFORK ? DUALSYNC__ERROR_CODE__ERROR_FORK
                                       : DUALSYNC__ERROR_CODE__ERROR_SEQUENCE;
            res->why = rc == DS_EFORK ? "fork: this seq is stored with other bytes"
                                      : "sequence gap: resend from the acked seq";
            broker_counters(b)->forks += rc == DS_EFORK;
        } else if (rc == DS_OK && (rc = routing_recipients(&pb->t, &ev, to)) != DS_OK) {
            if (rc != DS_EIO) { /* an I/O error fails the batch, below */
                res->code = DUALSYNC__ERROR_CODE__ERROR_ROUTE;
                res->why = "cannot route yet: unknown member or community (retry later)";
            }
        } else if (rc == DS_OK) {
            const struct event *kept = NULL; /* ev, handed to the batch (not decoded again) */
            rc = eventlog_txn_adopt(pb->t.log, &ev, EVENTLOG_CONTIGUOUS, &kept);
            for (size_t k = 0; rc == DS_OK && k < to->n; k++)
                btxn_append(&pb->t, to->org[k], kept->origin, kept->seq);
            if (rc == DS_OK && kept->type == DUALSYNC__EVENT_TYPE__EVENT_MEMBER_ERASE &&
                !to->refused)
                rc = protocol_erase_member(b, pb->t.log, kept);
            if (rc == DS_OK) {
                pb->stored++;
                res->stored_lo = res->stored_lo ? res->stored_lo : kept->seq;
                res->stored_hi = kept->seq;
                res->vouched |= checked;
                hlc_observe(broker_clock(b), kept->hlc);
                note_refused(b, kept, to, res);
            }
        }
        wire_event_release(&ev);
        if (rc == DS_EIO)
            return DS_EIO; /* a route may be in the batch without its event: drop it all */
        count_refusal(broker_counters(b), res->code);
    }
    return DS_OK;
}

static bool over_verify_events(const struct peer *p, const struct verify_job *job)
{
    return p->verify_events + job->n_events > BROKER_PEER_VERIFY_EVENTS;
}

static bool over_verify_budget(const struct peer *p, const struct verify_job *job)
{
    return p->verify_events + job->n_events > BROKER_PEER_VERIFY_EVENTS ||
           p->verify_bytes + job->bytes > BROKER_PEER_VERIFY_BYTES;
}

static void store_publish(struct broker *b, struct verify_job *job);

/* Whether the loop may store job itself: a vouched session's PUBLISH (nothing in it asks
 * for a signature), no frame waiting in the pool (so none of its org before it), and room
 * in this wake-up's batch (beyond it, frames queue for the pool as before, so one burst
 * commits no more than BROKER_STORE_BUDGET events at once and a flood meets its org's
 * verify budget: events stored here count toward it until they are answered). */
static bool storable_on_loop(struct broker *b, const struct verify_job *job)
{
    const struct publish_batch *pb = broker_sessions(b)->batch;
    size_t in_batch = pb ? pb->on_loop : 0;
    return job->check == VERIFY_CHECK_NONE && in_batch + job->n_events <= BROKER_STORE_BUDGET &&
           verify_pending_events(broker_verify(b)) == 0;
}

/* Stores job at once, with no trip through a worker and back (two thread switches and a
 * pipe on the way to the ACK and the recipients). It joins this wake-up's batch, which is
 * committed once the frames read now are in: the pool's wake-up runs protocol_on_verified
 * next. */
static void store_on_loop(struct broker *b, struct verify_job *job)
{
    bool begins = broker_sessions(b)->batch == NULL;
    job->on_loop = true;
    store_publish(b, job);
    broker_sessions(b)->batch->on_loop += job->n_events;
    if (begins)
        verify_wake(broker_verify(b));
    verify_job_free(job);
}

/* Queues a PUBLISH for its checks (taking the frame); it is stored when a worker has
 * checked it and every frame of its org before it (protocol_on_verified). Until one of a
 * connection's new events has verified and been stored, its signatures are checked
 * before anything is stored (a worker checks the event after the stored ones, the loop
 * any other: signed_by_origin); from then on its events are bound to its org by the
 * connection alone, and sigaudit.c checks their signatures after the ACK. */
static void on_publish(struct broker *b, struct peer *p, Dualsync__Frame *f)
{
    if (f->publish->n_events > WIRE_EVENTS_PER_FRAME) {
        broker_counters(b)->malformed++;
        send_error(b, p, DUALSYNC__ERROR_CODE__ERROR_MALFORMED, "too many events in one frame", 0);
        strike(b, p, 0);
        wire_frame_free(f);
        return;
    }
    const struct org_entry *org = directory_find(b, p->addr.org);
    struct verify_job *job = verify_job_new(&p->addr, f, org ? &org->ring : NULL,
                                            eventlog_hwm(broker_log(b), p->addr.org));
    if (over_verify_budget(p, job)) {
        /* More than an honest node can have unacked: refused unchecked, nothing stored,
         * no ACK. A node resends from its ACK (ERROR_INTERNAL asks nothing else of it). */
        broker_counters(b)->over_budget++;
        send_error(b, p, DUALSYNC__ERROR_CODE__ERROR_INTERNAL,
                   "busy: over your budget of events awaiting signature checks; resend after "
                   "your ACK",
                   0);
        /* Over the event budget no honest node gets (its window is as large): its bytes
         * count toward a ban. Over the byte budget only, a node with large letters may. */
        strike(b, p, over_verify_events(p, job) ? job->bytes : 0);
        verify_job_free(job);
        return;
    }
    job->check = p->vouched ? VERIFY_CHECK_NONE : VERIFY_CHECK_FIRST;
    p->verify_events += job->n_events;
    p->verify_bytes += job->bytes;
    broker_sessions(b)->publishes_in++;
    if (storable_on_loop(b, job)) {
        store_on_loop(b, job);
        return;
    }
    verify_submit(broker_verify(b), job);
    if (!transport_reads_paused(broker_transport(b)) && verify_queue_full(broker_verify(b))) {
        broker_counters(b)->read_pauses++;
        transport_pause_reads(broker_transport(b), true);
    }
}

/* A refused event is a strike against its connection's org (and its frame is refused
 * whole from there on); a sequence gap, a route not there yet, and storage are not the
 * peer's fault. */
static bool strikes_for(Dualsync__ErrorCode code)
{
    return code == DUALSYNC__ERROR_CODE__ERROR_MALFORMED ||
           code == DUALSYNC__ERROR_CODE__ERROR_AUTH || code == DUALSYNC__ERROR_CODE__ERROR_SIDE ||
           code == DUALSYNC__ERROR_CODE__ERROR_FORK;
}

/* A job left the verify queue, or a frame stored by the loop was answered: its org's
 * budget has room again. */
static void release_verify_budget(struct broker *b, const char *org, size_t n, size_t bytes)
{
    struct peer *p = strmap_get(broker_sessions(b)->peers, org);
    if (!p)
        return; /* forgotten meanwhile: a new struct peer starts at zero */
    p->verify_events -= n < p->verify_events ? n : p->verify_events;
    p->verify_bytes -= bytes < p->verify_bytes ? bytes : p->verify_bytes;
}

static bool same_connection(const struct peer *p, const struct transport_peer *addr)
{
    return p && p->addr.id_len == addr->id_len && memcmp(p->addr.id, addr->id, addr->id_len) == 0;
}

/* Adds one checked PUBLISH to this wake-up's batch; answered after the commit, and its
 * frame handed to the audit. */
static void store_publish(struct broker *b, struct verify_job *job)
{
    struct publish_batch *pb = batch_for(b);
    struct pending_publish pp = {.addr = job->addr};
    bool dropped = banned(b, job->addr.org, broker_now_ms(b));
    if (job->on_loop && !dropped) { /* never queued: held until answered (storable_on_loop) */
        pp.held_events = job->n_events;
        pp.held_bytes = job->bytes;
    } else {
        release_verify_budget(b, job->addr.org, job->n_events, job->bytes);
    }
    if (dropped)
        return; /* checked before its org was banned: dropped, as its queued frames are */
    struct peer *p = strmap_get(broker_sessions(b)->peers, job->addr.org);
    pp.res.vouched = same_connection(p, &job->addr) && p->vouched;
    if (!pb->failed && publish_events(b, job, pb, &pp.res) != DS_OK)
        pb->failed = true;
    if (p && strikes_for(pp.res.code))
        strike(b, p, job->bytes);
    if (pp.res.vouched && same_connection(p, &job->addr))
        p->vouched = true;
    if (pp.res.stored_lo) {
        pp.frame = job->frame; /* job->events point into it: the job is freed next */
        job->frame = NULL;
    }
    if (pb->n == pb->cap) {
        pb->cap = pb->cap ? 2 * pb->cap : 16;
        pb->acks = xrealloc(pb->acks, pb->cap * sizeof(*pb->acks));
    }
    pb->acks[pb->n++] = pp;
}

/* Answers one PUBLISH of a committed (or failed) batch, on the connection it came from. */
static void answer_publish(struct broker *b, const struct pending_publish *pp, int rc)
{
    struct peer *p = strmap_get(broker_sessions(b)->peers, pp->addr.org);
    struct peer gone = {.addr = pp->addr};
    if (!same_connection(p, &pp->addr))
        p = &gone; /* the session moved on: answer the old connection anyway */
    if (rc != DS_OK) {
        send_error(b, p, DUALSYNC__ERROR_CODE__ERROR_INTERNAL, "storage failure, retry later", 0);
        return;
    }
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Ack a = DUALSYNC__ACK__INIT;
    a.origin = (char *)pp->addr.org;
    a.upto = eventlog_hwm(broker_log(b), pp->addr.org);
    f.kind_case = DUALSYNC__FRAME__KIND_ACK;
    f.ack = &a;
    protocol_send(b, p, &f);
    if (pp->res.refused)
        send_error(b, p, DUALSYNC__ERROR_CODE__ERROR_REFUSED, pp->res.refused, pp->res.refused_seq);
    if (pp->res.code)
        send_error(b, p, pp->res.code, pp->res.why, pp->res.seq);
}

/* Restarts a peer's silence clock: for silences the broker caused (a stall, paused reads). */
static bool forgive_peer(const char *org, void *value, void *arg)
{
    (void)org;
    struct peer *p = value;
    p->last_seen_ms = *(const uint64_t *)arg;
    return true;
}

void protocol_on_verified(void *arg)
{
    struct broker *b = arg;
    size_t events = 0;
    struct verify_job *job;
    verify_drain_wakeups(broker_verify(b));
    while (events < BROKER_STORE_BUDGET && (job = verify_take(broker_verify(b))) != NULL) {
        events += job->n_events;
        store_publish(b, job);
        verify_job_free(job);
    }
    protocol_flush(b);
    if (events >= BROKER_STORE_BUDGET)
        verify_wake(broker_verify(b)); /* more may be done: come back after the other sockets */
    if (transport_reads_paused(broker_transport(b)) && verify_queue_drained(broker_verify(b))) {
        uint64_t now = broker_now_ms(b);
        transport_pause_reads(broker_transport(b), false);
        strmap_each(broker_sessions(b)->peers, forgive_peer, &now); /* we were not listening */
    }
}

void protocol_flush(void *arg)
{
    struct broker *b = arg;
    struct publish_batch *pb = broker_sessions(b)->batch;
    if (!pb)
        return;
    broker_sessions(b)->batch = NULL;
    int rc = DS_EIO;
    if (pb->failed) {
        btxn_abort(&pb->t);
    } else if (pb->stored == 0) {
        /* Nothing new (refused frames, resends): no write, and no fsync for a flood of
         * them to make every other node's letters wait behind. */
        btxn_abort(&pb->t);
        rc = DS_OK;
    } else {
        rc = btxn_commit(&pb->t); /* and the recipients' deliveries go out */
    }
    if (rc == DS_OK)
        broker_counters(b)->events_stored += pb->stored;
    for (size_t i = 0; i < pb->n; i++) {
        struct pending_publish *pp = &pb->acks[i];
        release_verify_budget(b, pp->addr.org, pp->held_events, pp->held_bytes);
        answer_publish(b, pp, rc);
        if (rc == DS_OK && pp->frame)
            sigaudit_stored(b, &pp->addr, pp->frame, pp->res.stored_lo, pp->res.stored_hi);
        else
            wire_frame_free(pp->frame);
    }
    free(pb->acks);
    free(pb);
}

bool protocol_batch_open(const struct broker *b)
{
    return broker_sessions(b)->batch != NULL;
}

static void on_confirm(struct broker *b, struct peer *p, const Dualsync__Confirm *c)
{
    /* what it was sent on this connection, or had when it said HELLO */
    if (c->upto > (p->sent_upto > p->delivered ? p->sent_upto : p->delivered) ||
        !inbox_directory_confirmed(p, c->directory_upto)) {
        broker_counters(b)->malformed++;
        send_error(b, p, DUALSYNC__ERROR_CODE__ERROR_MALFORMED, "confirm beyond what was delivered",
                   0); /* Error.seq names the sender's own events only */
        return;
    }
    bool moved = c->upto > p->confirmed;
    if (moved) {
        p->confirmed = c->upto;
        receipts_confirmed(b, p->addr.org, c->upto);
    }
    if (p->delivered < p->confirmed)
        p->delivered = p->confirmed; /* it has them from before a HELLO: no need to resend */
    inbox_sent_confirmed(p, p->confirmed);
    if (moved)
        inbox_pump(b, p);
    else
        inbox_pump_unheld(b, p);
}

/* Restore: a node's own events, back to it, in order, within the frame budget. */
static void on_fetch(struct broker *b, struct peer *p, const Dualsync__Fetch *req)
{
    uint64_t hwm = eventlog_hwm(broker_log(b), p->addr.org);
    if (req->from == 0 || req->from > hwm || req->upto < req->from) {
        broker_counters(b)->malformed++;
        send_error(b, p, DUALSYNC__ERROR_CODE__ERROR_MALFORMED, "fetch outside the stored range",
                   0);
        return;
    }
    if (req->from > p->fetch_from) {
        p->inflight_bytes -= p->fetch_bytes; /* it stored what it fetched before */
        p->fetch_bytes = 0;
    } else if (inbox_sent_over_half(p)) {
        /* the same again while half its budget is unread: it is not reading */
        broker_counters(b)->full_closed++;
        log_warn("broker: peer=%s fetches again with %zu bytes unread, connection closed",
                 p->addr.org, p->inflight_bytes);
        p->welcomed = false;
        transport_close_peer(broker_transport(b), &p->addr);
        strike(b, p, 0);
        return;
    }
    uint64_t upto = req->upto < hwm ? req->upto : hwm;
    if (upto - req->from >= BROKER_DELIVER_BATCH)
        upto = req->from + BROKER_DELIVER_BATCH - 1;
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Fetched out = DUALSYNC__FETCHED__INIT;
    out.first = req->from;
    out.events = xcalloc((size_t)(upto - req->from + 1), sizeof(*out.events));
    size_t bytes = 0;
    /* one range read: a restore asks for old letters, mostly in table files, where a point
     * read each was a seek through index and filter per letter on the loop */
    if (eventlog_origin_run(broker_log(b), p->addr.org, req->from, (size_t)(upto - req->from + 1),
                            WIRE_FRAME_BUDGET, out.events, &out.n_events) != DS_OK)
        log_warn("broker: peer=%s fetch from %llu: the log could not be read past %zu letters",
                 p->addr.org, (unsigned long long)req->from, out.n_events);
    for (size_t i = 0; i < out.n_events; i++)
        bytes += out.events[i].len;
    f.kind_case = DUALSYNC__FRAME__KIND_FETCHED;
    f.fetched = &out;
    protocol_send(b, p, &f);
    p->fetch_from = req->from;
    p->fetch_bytes += bytes;
    p->inflight_bytes += bytes;
    for (size_t i = 0; i < out.n_events; i++)
        free(out.events[i].data);
    free(out.events);
}

static void on_ping(struct broker *b, struct peer *p, const Dualsync__Ping *ping)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Pong pong = DUALSYNC__PONG__INIT;
    pong.nonce = ping->nonce;
    pong.inbox_head = inbox_head(b, p->addr.org);
    pong.directory_head = directory_head(b);
    f.kind_case = DUALSYNC__FRAME__KIND_PONG;
    f.pong = &pong;
    protocol_send(b, p, &f);
    receipts_mend(b, p);
    inbox_pump(b, p);
}

/* A linked street's report figures, to a hub (report.h): counts only. Anyone else sending
 * them, or figures that are not the street's or do not add up, is refused and struck. */
static void on_figures(struct broker *b, struct peer *p, const Dualsync__StreetFigures *f,
                       size_t len)
{
    const char *why = "only a hub takes figures, from a street linked with it";
    int rc = DS_EINVAL;
    if (broker_config(b)->hub && links_has(b, p->addr.org))
        rc = report_figures_take(b, p->addr.org, f, &why);
    if (rc == DS_EINVAL) {
        broker_counters(b)->malformed++;
        send_error(b, p, DUALSYNC__ERROR_CODE__ERROR_MALFORMED, why, 0);
        strike(b, p, len);
    }
}

/* A linked street's decision about a claim (links.h). From anyone else: refused, struck. */
static void on_claim_notice(struct broker *b, struct peer *p, const Dualsync__ClaimNotice *n,
                            size_t len)
{
    if (links_has(b, p->addr.org)) {
        links_take_notice(b, p->addr.org, n);
        return;
    }
    broker_counters(b)->malformed++;
    send_error(b, p, DUALSYNC__ERROR_CODE__ERROR_MALFORMED,
               "only a linked street's broker sends claim notices", 0);
    strike(b, p, len);
}

void protocol_on_frame(void *arg, const struct transport_peer *addr, const uint8_t *data,
                       size_t len)
{
    struct broker *b = arg;
    if (banned(b, addr->org, broker_now_ms(b)))
        return; /* queued before its connections were closed: dropped unread */
    Dualsync__Frame *f = wire_frame_unpack(data, len);
    bool hello = f && f->kind_case == DUALSYNC__FRAME__KIND_HELLO;
    struct peer *p = peer_for(b, addr, hello);
    struct peer stranger = {.addr = *addr};
    broker_counters(b)->frames_in++;
    if (!p) {
        /* A frame from a connection that is not its org's session: answer that connection
         * only, leave the session alone. */
        send_error(b, &stranger, DUALSYNC__ERROR_CODE__ERROR_HELLO_FIRST, "send HELLO first", 0);
    } else if (!f) {
        broker_counters(b)->malformed++;
        send_error(b, p, DUALSYNC__ERROR_CODE__ERROR_MALFORMED, "frame does not decode", 0);
        strike(b, p, len);
    } else if (hello) {
        on_hello(b, p, f->hello);
    } else if (!p->welcomed) {
        send_error(b, p, DUALSYNC__ERROR_CODE__ERROR_HELLO_FIRST, "send HELLO first", 0);
    } else if (f->kind_case == DUALSYNC__FRAME__KIND_PUBLISH) {
        on_publish(b, p, f);
        f = NULL; /* the verify job owns it now */
    } else if (f->kind_case == DUALSYNC__FRAME__KIND_CONFIRM) {
        on_confirm(b, p, f->confirm);
    } else if (f->kind_case == DUALSYNC__FRAME__KIND_PING) {
        on_ping(b, p, f->ping);
    } else if (f->kind_case == DUALSYNC__FRAME__KIND_FETCH) {
        on_fetch(b, p, f->fetch);
    } else if (f->kind_case == DUALSYNC__FRAME__KIND_FIGURES) {
        on_figures(b, p, f->figures, len);
    } else if (f->kind_case == DUALSYNC__FRAME__KIND_CLAIM_NOTICE) {
        on_claim_notice(b, p, f->claim_notice, len);
    } else {
        broker_counters(b)->malformed++;
        send_error(b, p, DUALSYNC__ERROR_CODE__ERROR_MALFORMED, "unexpected frame kind", 0);
        strike(b, p, len);
    }
    wire_frame_free(f);
}

struct stale_search {
    uint64_t now;
    struct peer *found;
};

static bool stale_peer(const char *org, void *value, void *arg)
{
    struct peer *p = value;
    struct stale_search *q = arg;
    (void)org;
    if (q->now - p->last_seen_ms > BROKER_PEER_TIMEOUT_MS) {
        q->found = p;
        return false;
    }
    return true;
}

/* Member records are folded when read (eventlog_defer_folds); a broker that took no
 * PUBLISH since the last tick folds a share of the waiting ones, so that a digest or a
 * report later finds little to do. Idle means no letters: connected nodes PING and
 * CONFIRM every heartbeat, and counting those (as it once did) meant never idle. */
static void settle_when_idle(struct broker *b)
{
    bool idle = broker_sessions(b)->publishes_in == broker_sessions(b)->publishes_at_tick &&
                !broker_sessions(b)->batch && verify_pending_events(broker_verify(b)) == 0;
    broker_sessions(b)->publishes_at_tick = broker_sessions(b)->publishes_in;
    if (idle && eventlog_dirty_count(broker_log(b)))
        eventlog_settle(broker_log(b), BROKER_SETTLE_PER_TICK,
                        (uint64_t)BROKER_SETTLE_BUDGET_MS * 1000000u, NULL);
    /* An erasure's scrub does not wait for a quiet street: the erased bytes must leave the
     * disk soon. It runs on a thread of its own (a full compaction); the loop goes on. */
    eventlog_scrub(broker_log(b));
    eventlog_rest(broker_log(b), broker_now_ms(b)); /* memory back to the OS after a quiet while */
}

/* A claim conflict over one of a connected unit's introductions, as a notice naming its
 * letter (ERROR_CLAIMED): its node marks the member, so the clerk sees that another unit
 * introduced the same person and that the community's report-in decides. Or the loss of
 * that introduction (the community's report-in named another unit's letter, or the member
 * was another unit's), as a refusal of it (ERROR_REFUSED): its node notes it once, shows it
 * on the member and writes nothing more about it. */
static void tell_unit(struct broker *b, struct peer *p, const char *member, const char *intro,
                      const char *other, bool lost)
{
    char origin[IDS_ORG_MAX], msg[256];
    uint64_t seq = 0;
    if (!p->welcomed || !ids_event_id_parse(intro, origin, &seq) || strcmp(origin, p->addr.org))
        return;
    if (lost)
        snprintf(msg, sizeof(msg),
                 "member %s: the community's report-in named the introduction of %s; the member "
                 "is that unit's, and this introduction is not a registration",
                 member, other);
    else
        snprintf(msg, sizeof(msg),
                 "member %s: %s introduced this member too; the community's report-in decides "
                 "whose member it is",
                 member, other[0] ? other : "another unit");
    send_error(b, p,
               lost ? DUALSYNC__ERROR_CODE__ERROR_REFUSED : DUALSYNC__ERROR_CODE__ERROR_CLAIMED,
               msg, seq);
}

void protocol_claim_notice(struct broker *b, const char *member, const char *unit,
                           const char *intro, const char *other, bool lost)
{
    struct peer *p = strmap_get(broker_sessions(b)->peers, unit);
    if (p)
        tell_unit(b, p, member, intro, other, lost);
    else
        links_notice(b, member, unit, intro, other, lost); /* another street's unit */
}

static void claim_notice(void *arg, const char *member, const char *unit, const char *intro,
                         const char *other)
{
    protocol_claim_notice(arg, member, unit, intro, other, false);
}

static void lost_notice(void *arg, const char *member, const char *unit, const char *intro,
                        const char *winner)
{
    protocol_claim_notice(arg, member, unit, intro, winner, true);
}

/* Every PROTOCOL_CLAIMS_NOTICE_MS the units in a conflict hear of it again, and the units
 * that lost one hear that: a unit offline at the time hears of it once it is back. A
 * street without claims costs one empty scan of the lost ones. */
static void claims_tick(struct broker *b)
{
    struct sessions *s = broker_sessions(b);
    uint64_t now = broker_now_ms(b);
    if (s->claims_told_ms && now - s->claims_told_ms < PROTOCOL_CLAIMS_NOTICE_MS)
        return;
    s->claims_told_ms = now ? now : 1;
    if (protocol_claims_open(b))
        routing_claims_each(b, claim_notice, b);
    routing_lost_each(b, lost_notice, b);
}

size_t protocol_claims_open(struct broker *b)
{
    struct sessions *s = broker_sessions(b);
    if (!s->claims_counted) {
        s->claims_open = routing_claims_count(b);
        s->claims_counted = true;
    }
    return s->claims_open;
}

void protocol_claims_moved(struct broker *b, long moved)
{
    struct sessions *s = broker_sessions(b);
    if (!s->claims_counted || moved == 0)
        return; /* counted from the table at the first question */
    if (moved < 0 && (size_t)-moved > s->claims_open) {
        log_warn("broker: claims count below zero (%zu %ld); counting the route table again",
                 s->claims_open, moved);
        s->claims_counted = false;
        return;
    }
    s->claims_open = (size_t)((long)s->claims_open + moved);
}

void protocol_start(struct broker *b)
{
    broker_sessions(b)->last_tick_ms = broker_now_ms(b);
}

void protocol_tick(void *arg)
{
    struct broker *b = arg;
    uint64_t now = broker_now_ms(b);
    uint64_t gap = now - broker_sessions(b)->last_tick_ms; /* protocol_start starts it */
    if (gap > BROKER_PEER_TIMEOUT_MS / 2 && gap > 2u * broker_config(b)->heartbeat_ms) {
        /* The loop itself was busy (a long report or digest run, a slow disk): the peers'
         * frames wait unread, so their silence is ours. Start their clocks again. */
        log_warn("broker: loop stalled for %llu ms; peers' silence not counted",
                 (unsigned long long)gap);
        strmap_each(broker_sessions(b)->peers, forgive_peer, &now);
    }
    broker_sessions(b)->last_tick_ms = now;
    settle_when_idle(b);
    receipts_tick(b);
    carry_tick(b); /* a hub's dropped parts: a scrub asked for (the next tick starts it) */
    sigaudit_tick(b);
    claims_tick(b);
    if (transport_server_backlog(broker_transport(b))) {
        /* Frames wait unread (reads paused, or more arrive than a burst takes): nobody's
         * silence means anything now; judge it again once the backlog is read. */
        strmap_each(broker_sessions(b)->peers, forgive_peer, &now);
        return;
    }
    for (;;) { /* the map must not change during a walk: find one, remove it, repeat */
        struct stale_search q = {now, NULL};
        strmap_each(broker_sessions(b)->peers, stale_peer, &q);
        if (!q.found)
            break;
        broker_counters(b)->sessions_dropped++;
        log_warn("broker: peer=%s silent for %u ms, session closed", q.found->addr.org,
                 BROKER_PEER_TIMEOUT_MS);
        free(strmap_remove(broker_sessions(b)->peers, q.found->addr.org));
    }
}
