/* Unit tests of the broker's PUBLISH path (broker/protocol.c): a frame goes in through
 * protocol_on_frame, its signatures are checked by the real verify workers, and
 * protocol_on_verified stores and answers it, on a real RocksDB in a temp directory. The
 * broker is a bare one (bf_open) with a street, a unit and a community in its directory;
 * the transport's one send call is wrapped (-Wl,--wrap=transport_send_peer), so the test
 * reads every frame the broker answers with. Commit failures come from fault.h.
 * The per-peer budgets (a HELLO flood, a frame flood, strikes, the limits of unknown
 * types) are driven the same way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "broker.h"
#include "broker_fixture.h"
#include "directory.h"
#include "inbox.h"
#include "protocol.h"
#include "receipts.h"
#include "sigaudit.h"
#include "verify.h"
#include "fault.h"
#include "testutil.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STREET "street:jinyu"
#define UNIT "unit:tax"
#define COMMUNITY "community:hexie"

/* What the broker sent: the number of frames and ACKs, the highest ACK upto for UNIT, and
 * the code of the last ERROR. */
static struct {
    size_t frames;
    size_t acks;
    uint64_t ack_upto;
    int last_error;
    size_t errors;
    size_t delivers, deliver_bytes; /* to COMMUNITY */
    /* to COMMUNITY: Directory frames, their entries, the last one's upto; whether each
     * frame went on from the one before (after == the last upto) and carried the street's
     * directory entries only; the directory_needed of the last DELIVER */
    size_t directories, dir_entries;
    uint64_t dir_upto, deliver_needs;
    bool dir_broken;
    size_t welcomes;  /* to anyone */
    size_t delivered; /* letters DELIVERed to COMMUNITY, each equal to its stored bytes */
    /* FETCHED to UNIT: frames, the last one's first seq and count; whether every letter
     * was UNIT's own at its seq, byte for byte as stored */
    size_t fetched_frames, fetched_n;
    uint64_t fetched_first;
    bool fetched_wrong;
    /* RECEIPTS to UNIT: frames, and the last one's entries (up to 4 of them kept) */
    size_t receipts_frames, receipts_n;
    char receipt_org[4][IDS_ORG_MAX];
    uint64_t receipt_upto[4];
} sent;

/* The broker's log, so that every ACK is checked against the store as it goes out. */
static struct eventlog *acking_log;

/* The log's reads of UNIT's letters (eventlog_get_raw is wrapped); the real one
 * serves every read, and the DELIVER check below. */
static size_t unit_reads;

int __real_eventlog_get_raw(struct eventlog *log, const char *origin, uint64_t seq,
                            uint8_t **raw_out, size_t *len_out);
int __wrap_eventlog_get_raw(struct eventlog *log, const char *origin, uint64_t seq,
                            uint8_t **raw_out, size_t *len_out);
int __wrap_eventlog_get_raw(struct eventlog *log, const char *origin, uint64_t seq,
                            uint8_t **raw_out, size_t *len_out)
{
    unit_reads += strcmp(origin, UNIT) == 0;
    return __real_eventlog_get_raw(log, origin, seq, raw_out, len_out);
}

/* The same for the batched reads of a recipient that fell behind (eventlog_get_raws is
 * wrapped): each of UNIT's letters in a batch counts as one read. */
int __real_eventlog_get_raws(struct eventlog *log, size_t n, const char *const *origins,
                             const uint64_t *seqs, uint8_t **raws, size_t *lens);
int __wrap_eventlog_get_raws(struct eventlog *log, size_t n, const char *const *origins,
                             const uint64_t *seqs, uint8_t **raws, size_t *lens);
int __wrap_eventlog_get_raws(struct eventlog *log, size_t n, const char *const *origins,
                             const uint64_t *seqs, uint8_t **raws, size_t *lens)
{
    for (size_t i = 0; i < n; i++)
        unit_reads += strcmp(origins[i], UNIT) == 0;
    return __real_eventlog_get_raws(log, n, origins, seqs, raws, lens);
}

/* Iterators opened over the broker's inboxes (store_iter_new is wrapped). */
static size_t inbox_scans;

struct store_iter *__real_store_iter_new(struct store *s, enum store_cf cf,
                                         const struct skey *prefix, const struct skey *from);
struct store_iter *__wrap_store_iter_new(struct store *s, enum store_cf cf,
                                         const struct skey *prefix, const struct skey *from);
struct store_iter *__wrap_store_iter_new(struct store *s, enum store_cf cf,
                                         const struct skey *prefix, const struct skey *from)
{
    inbox_scans += cf == CF_INBOX;
    return __real_store_iter_new(s, cf, prefix, from);
}

/* Whether e is the stored bytes of UNIT's letter seq (read without counting). */
static bool is_stored_unit_letter(const ProtobufCBinaryData *e, uint64_t seq)
{
    uint8_t *raw = NULL;
    size_t len = 0;
    if (__real_eventlog_get_raw(acking_log, UNIT, seq, &raw, &len) != DS_OK)
        return false;
    bool same = len == e->len && memcmp(raw, e->data, len) == 0;
    free(raw);
    return same;
}

/* A delivered letter is byte for byte the one in the store (read without counting). */
static void check_delivered_as_stored(const ProtobufCBinaryData *e)
{
    struct event ev;
    uint8_t *raw = NULL;
    size_t len = 0;
    assert_rc(wire_event_open(e->data, e->len, false, &ev), DS_OK);
    assert_rc(__real_eventlog_get_raw(acking_log, ev.origin, ev.seq, &raw, &len), DS_OK);
    assert_int_equal(len, e->len);
    assert_memory_equal(raw, e->data, len);
    free(raw);
    wire_event_release(&ev);
    sent.delivered++;
}

int __wrap_transport_send_peer(struct transport *t, const struct transport_peer *peer,
                               const uint8_t *data, size_t len);
int __wrap_transport_send_peer(struct transport *t, const struct transport_peer *peer,
                               const uint8_t *data, size_t len)
{
    (void)t;
    Dualsync__Frame *f = wire_frame_unpack(data, len);
    assert_non_null(f);
    sent.frames++;
    if (f->kind_case == DUALSYNC__FRAME__KIND_ACK) {
        assert_string_equal(f->ack->origin, UNIT);
        uint64_t stored = eventlog_hwm(acking_log, UNIT);
        if (f->ack->upto > stored)
            fail_msg("ACK upto %llu sent while the store holds %llu of " UNIT,
                     (unsigned long long)f->ack->upto, (unsigned long long)stored);
        sent.acks++;
        if (f->ack->upto > sent.ack_upto)
            sent.ack_upto = f->ack->upto;
    } else if (f->kind_case == DUALSYNC__FRAME__KIND_WELCOME) {
        sent.welcomes++;
    } else if (f->kind_case == DUALSYNC__FRAME__KIND_ERROR) {
        sent.last_error = (int)f->error->code;
        sent.errors++;
    } else if (f->kind_case == DUALSYNC__FRAME__KIND_DELIVER && strcmp(peer->org, COMMUNITY) == 0) {
        sent.delivers++;
        sent.deliver_bytes += len;
        sent.deliver_needs = f->deliver->directory_needed;
        for (size_t i = 0; i < f->deliver->n_events; i++)
            check_delivered_as_stored(&f->deliver->events[i]);
    } else if (f->kind_case == DUALSYNC__FRAME__KIND_RECEIPTS && strcmp(peer->org, UNIT) == 0) {
        sent.receipts_frames++;
        sent.receipts_n = f->receipts->n_receipts;
        for (size_t i = 0; i < f->receipts->n_receipts && i < 4; i++) {
            snprintf(sent.receipt_org[i], IDS_ORG_MAX, "%s", f->receipts->receipts[i]->org);
            sent.receipt_upto[i] = f->receipts->receipts[i]->upto;
        }
    } else if (f->kind_case == DUALSYNC__FRAME__KIND_FETCHED && strcmp(peer->org, UNIT) == 0) {
        sent.fetched_frames++;
        sent.fetched_first = f->fetched->first;
        sent.fetched_n = f->fetched->n_events;
        for (size_t i = 0; i < f->fetched->n_events; i++)
            sent.fetched_wrong =
                sent.fetched_wrong ||
                !is_stored_unit_letter(&f->fetched->events[i], f->fetched->first + i);
    } else if (f->kind_case == DUALSYNC__FRAME__KIND_DIRECTORY &&
               strcmp(peer->org, COMMUNITY) == 0) {
        sent.directories++;
        sent.dir_broken = sent.dir_broken || f->directory->after != sent.dir_upto;
        for (size_t i = 0; i < f->directory->n_events; i++) {
            struct event ev;
            const ProtobufCBinaryData *e = &f->directory->events[i];
            if (wire_event_open(e->data, e->len, false, &ev) != DS_OK) {
                sent.dir_broken = true;
                continue;
            }
            sent.dir_broken = sent.dir_broken || strcmp(ev.origin, STREET) != 0 ||
                              ev.type != DUALSYNC__EVENT_TYPE__EVENT_DIRECTORY_ENTRY;
            wire_event_release(&ev);
        }
        sent.dir_entries += f->directory->n_events;
        sent.dir_upto = f->directory->upto;
    }
    wire_frame_free(f);
    return DS_OK;
}

/* The broker's clock in these tests: it moves only when a test moves it. */
static uint64_t fake_now_ms;

static uint64_t fake_clock(void)
{
    return fake_now_ms;
}

struct fixture {
    char dir[TU_PATH_MAX];
    struct broker *b;
    struct keys unit_keys;
    struct transport_peer unit_addr, community_addr;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    struct keys community_keys;
    tu_tmpdir(fx->dir);
    fake_now_ms = hlc_wall_ms(); /* events are dated by the wall clock: start beside it */
    fx->b = bf_open(fx->dir, STREET, fake_clock);
    struct broker *b = fx->b;
    keys_generate(&fx->unit_keys);
    keys_generate(&community_keys);
    bf_add_org(b, UNIT, ORG_UNIT, &fx->unit_keys);
    bf_add_org(b, COMMUNITY, ORG_COMMUNITY, &community_keys);
    assert_rc(broker_start(b), DS_OK);
    snprintf(fx->unit_addr.org, sizeof(fx->unit_addr.org), "%s", UNIT);
    fx->unit_addr.id_len = 5;
    memcpy(fx->unit_addr.id, "conn1", 5);
    snprintf(fx->community_addr.org, sizeof(fx->community_addr.org), "%s", COMMUNITY);
    fx->community_addr.id_len = 5;
    memcpy(fx->community_addr.id, "conn2", 5);
    memset(&sent, 0, sizeof(sent));
    acking_log = broker_log(b);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    fault_fail_commits(0);
    bf_close(&fx->b);
    tu_rmtree(fx->dir);
    free(fx);
    return 0;
}

static void send_frame_as(struct fixture *fx, const struct transport_peer *addr,
                          const Dualsync__Frame *f)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    wire_pack(&f->base, &buf, &len);
    protocol_on_frame(fx->b, addr, buf, len);
    free(buf);
}

static void send_frame(struct fixture *fx, const Dualsync__Frame *f)
{
    send_frame_as(fx, &fx->unit_addr, f);
}

/* A HELLO from addr with cursors 0; resume: the node's retry of an unanswered one. */
static void hello_retry_as(struct fixture *fx, const struct transport_peer *addr, bool resume)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Hello h = DUALSYNC__HELLO__INIT;
    h.org = (char *)addr->org;
    h.proto = WIRE_PROTO_VERSION;
    h.resume = resume;
    h.broker_store_id.data = (uint8_t *)broker_store_id(fx->b);
    h.broker_store_id.len = BROKER_STORE_ID_LEN;
    f.kind_case = DUALSYNC__FRAME__KIND_HELLO;
    f.hello = &h;
    send_frame_as(fx, addr, &f);
}

static void hello_as(struct fixture *fx, const struct transport_peer *addr)
{
    hello_retry_as(fx, addr, false);
}

static void say_hello(struct fixture *fx)
{
    hello_as(fx, &fx->unit_addr);
}

/* One PUBLISH frame of the n signed events raw, as the unit's node would send it. */
static void send_publish(struct fixture *fx, ProtobufCBinaryData *raw, size_t n)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Publish p = DUALSYNC__PUBLISH__INIT;
    p.events = raw;
    p.n_events = n;
    f.kind_case = DUALSYNC__FRAME__KIND_PUBLISH;
    f.publish = &p;
    send_frame(fx, &f);
}

/* Flips a bit of raw's signature (an introduction's personal part follows it, and is
 * bound to the signed bytes by its hash: it must stay as it is). */
static void corrupt_signature(uint8_t *raw, size_t len)
{
    struct event ev;
    assert_rc(wire_event_open(raw, len, false, &ev), DS_OK);
    size_t at = 0;
    while (at + KEYS_SIG_LEN <= len && memcmp(raw + at, ev.sig, KEYS_SIG_LEN) != 0)
        at++;
    assert_true(at + KEYS_SIG_LEN <= len);
    raw[at + KEYS_SIG_LEN - 1] ^= 0x01;
    wire_event_release(&ev);
}

/* A PUBLISH of the unit's introductions first..last (one frame); not yet checked. The
 * one of seq bad (0: none) has a corrupted signature. */
static void publish_signed(struct fixture *fx, uint64_t first, uint64_t last, uint64_t bad)
{
    size_t n = (size_t)(last - first + 1);
    struct tu_event *ev = calloc(n, sizeof(*ev));
    ProtobufCBinaryData *raw = calloc(n, sizeof(*raw));
    for (size_t i = 0; i < n; i++) {
        char member[32];
        snprintf(member, sizeof(member), "DY-%04zu", (size_t)first + i);
        tu_event_intro(&ev[i], &fx->unit_keys, UNIT, first + i, hlc_wall_ms() << 16, member,
                       COMMUNITY, "Zhang", 30, "2026-03-01");
        if (first + i == bad)
            corrupt_signature(ev[i].raw, ev[i].len);
        raw[i].data = ev[i].raw;
        raw[i].len = ev[i].len;
    }
    send_publish(fx, raw, n);
    for (size_t i = 0; i < n; i++)
        tu_event_free(&ev[i]);
    free(ev);
    free(raw);
}

static void publish_only(struct fixture *fx, uint64_t first, uint64_t last)
{
    publish_signed(fx, first, last, 0);
}

/* Lets the workers check what was published and the loop store it, as the broker's poll
 * loop would, until nothing waits (a vouched session's frames are in the loop's batch
 * already, and committed on the pool's wake-up too). */
static void store_checked(struct fixture *fx)
{
    while (verify_pending_events(broker_verify(fx->b)) > 0 || protocol_batch_open(fx->b)) {
        struct pollfd pfd = {.fd = verify_pool_fd(broker_verify(fx->b)), .events = POLLIN};
        assert_int_equal(poll(&pfd, 1, 10000), 1); /* the workers answer within 10 s */
        protocol_on_verified(fx->b);
    }
}

/* PUBLISHes the unit's introductions first..last (one frame), then lets the workers check
 * them and the loop store them, as the broker's poll loop would. */
static void publish_and_store(struct fixture *fx, uint64_t first, uint64_t last)
{
    publish_only(fx, first, last);
    struct pollfd pfd = {.fd = verify_pool_fd(broker_verify(fx->b)), .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 10000), 1); /* the workers answer within 10 s */
    protocol_on_verified(fx->b);
}

static uint64_t audit_behind(struct broker *b)
{
    json_t *j = sigaudit_json(b);
    uint64_t behind = (uint64_t)json_integer_value(json_object_get(j, "behind"));
    json_decref(j);
    return behind;
}

/* Runs the signature audit as the broker's loop would (its workers' descriptor and its
 * tick), until every stored event is checked; within 10 s. */
static void audit_until_done(struct broker *b)
{
    for (int waited = 0; audit_behind(b) > 0; waited += 10) {
        assert_true(waited < 10000);
        sigaudit_tick(b);
        struct pollfd pfd = {.fd = sigaudit_fd(broker_sigaudit(b)), .events = POLLIN};
        if (poll(&pfd, 1, 10) == 1)
            sigaudit_on_done(b);
    }
}

/* A commit that fails must not be acknowledged: the node is told to retry (ERROR_INTERNAL)
 * and no ACK goes beyond what the store held before. The same frame then commits and is
 * acknowledged up to its last event, which the store now holds. */
static void test_protocol_no_ack_beyond_a_failed_commit(void **state)
{
    struct fixture *fx = *state;
    say_hello(fx);
    publish_and_store(fx, 1, 3);
    assert_int_equal(sent.acks, 1);
    assert_true(sent.ack_upto == 3);
    assert_true(eventlog_hwm(broker_log(fx->b), UNIT) == 3);

    fault_fail_commits(1);
    memset(&sent, 0, sizeof(sent));
    publish_and_store(fx, 4, 6);
    if (sent.ack_upto > 3)
        fail_msg("ACK upto %llu went out for a commit that failed (the store holds 3)",
                 (unsigned long long)sent.ack_upto);
    assert_true(eventlog_hwm(broker_log(fx->b), UNIT) == 3);
    assert_int_equal(sent.last_error, DUALSYNC__ERROR_CODE__ERROR_INTERNAL);

    memset(&sent, 0, sizeof(sent));
    publish_and_store(fx, 4, 6);
    assert_true(sent.ack_upto == 6);
    assert_true(eventlog_hwm(broker_log(fx->b), UNIT) == 6);
    assert_int_equal(sent.last_error, 0);
}

/* Every ACK the broker sends names a seq that is already in its store when it is sent
 * (the wrapped send checks each one against the store). */
static void test_protocol_acks_only_what_is_stored(void **state)
{
    struct fixture *fx = *state;
    say_hello(fx);
    for (uint64_t first = 1; first <= 40; first += 8) {
        memset(&sent, 0, sizeof(sent));
        publish_and_store(fx, first, first + 7);
        assert_int_equal(sent.acks, 1);
        assert_true(sent.ack_upto == first + 7);
    }
}

static void fetch(struct fixture *fx, uint64_t from, uint64_t upto)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Fetch req = DUALSYNC__FETCH__INIT;
    req.from = from;
    req.upto = upto;
    f.kind_case = DUALSYNC__FRAME__KIND_FETCH;
    f.fetch = &req;
    send_frame(fx, &f);
}

/* A restore: FETCH is answered with the node's own letters from `from` in seq order, byte
 * for byte as stored, at most BROKER_DELIVER_BATCH a frame, read by one range read (no
 * point read per letter); a FETCH beyond what is stored is MALFORMED. */
static void test_protocol_fetch_answers_own_letters_by_range(void **state)
{
    struct fixture *fx = *state;
    say_hello(fx);
    for (uint64_t first = 1; first <= 300; first += 100)
        publish_and_store(fx, first, first + 99);
    assert_true(eventlog_hwm(broker_log(fx->b), UNIT) == 300);
    memset(&sent, 0, sizeof(sent));
    unit_reads = 0;
    fetch(fx, 1, 300);
    assert_int_equal(sent.fetched_frames, 1);
    assert_true(sent.fetched_first == 1);
    assert_int_equal(sent.fetched_n, BROKER_DELIVER_BATCH);
    fetch(fx, 257, 1000); /* upto past the stored: what is stored */
    assert_int_equal(sent.fetched_frames, 2);
    assert_true(sent.fetched_first == 257);
    assert_int_equal(sent.fetched_n, 300 - 256);
    assert_false(sent.fetched_wrong);
    assert_int_equal(unit_reads, 0);
    assert_int_equal(sent.errors, 0);
    fetch(fx, 301, 400);
    assert_int_equal(sent.fetched_frames, 2);
    assert_int_equal(sent.last_error, DUALSYNC__ERROR_CODE__ERROR_MALFORMED);
}

/* A community that never reads says HELLO 40 times on one connection (the flood):
 * each used to queue its whole window again. Now what goes out is bounded by the send
 * budget, and the connection is closed once it asks again with half of that unread. */
static void test_protocol_hello_flood_bounded_by_send_budget(void **state)
{
    struct fixture *fx = *state;
    say_hello(fx);
    publish_and_store(fx, 1, 60); /* 60 letters in the community's inbox */
    memset(&sent, 0, sizeof(sent));
    for (int i = 0; i < 40; i++)
        hello_as(fx, &fx->community_addr);
    assert_true(sent.delivers <= BROKER_PEER_SEND_FRAMES / 2 + 1);
    assert_true(sent.deliver_bytes <= BROKER_PEER_SEND_BYTES);
    assert_true(broker_counters(fx->b)->full_closed >= 1);
    struct peer *p = protocol_peer(fx->b, COMMUNITY);
    assert_non_null(p);
    assert_false(p->welcomed);

    /* A community that reads and confirms gets everything, once, on a new connection. */
    memset(&sent, 0, sizeof(sent));
    memcpy(fx->community_addr.id, "conn3", 5);
    hello_as(fx, &fx->community_addr);
    assert_int_equal(sent.delivers, 1);
    assert_true(p->delivered == inbox_head(fx->b, COMMUNITY));
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Confirm c = DUALSYNC__CONFIRM__INIT;
    c.upto = p->delivered;
    c.directory_upto = directory_head(fx->b); /* and the directory, sent before */
    f.kind_case = DUALSYNC__FRAME__KIND_CONFIRM;
    f.confirm = &c;
    send_frame_as(fx, &fx->community_addr, &f);
    assert_int_equal(p->inflight_bytes, 0);
    /* and a HELLO then (a lost frame, as it thinks) resends nothing it confirmed */
    hello_as(fx, &fx->community_addr);
    assert_int_equal(sent.delivers, 1);

    /* A node back with its cursor at the head is sent nothing, and confirming that
     * cursor (as it does every heartbeat) is no error. */
    memset(&sent, 0, sizeof(sent));
    memcpy(fx->community_addr.id, "conn4", 5);
    Dualsync__Frame h = DUALSYNC__FRAME__INIT;
    Dualsync__Hello hello = DUALSYNC__HELLO__INIT;
    hello.org = COMMUNITY;
    hello.proto = WIRE_PROTO_VERSION;
    hello.inbox_cursor = inbox_head(fx->b, COMMUNITY);
    hello.directory_cursor = directory_head(fx->b);
    hello.broker_store_id.data = (uint8_t *)broker_store_id(fx->b);
    hello.broker_store_id.len = BROKER_STORE_ID_LEN;
    h.kind_case = DUALSYNC__FRAME__KIND_HELLO;
    h.hello = &hello;
    send_frame_as(fx, &fx->community_addr, &h);
    c.upto = hello.inbox_cursor;
    send_frame_as(fx, &fx->community_addr, &f);
    assert_int_equal(sent.delivers, 0);
    assert_int_equal(sent.directories, 0);
    assert_int_equal(sent.errors, 0);
}

/* A peer may have at most BROKER_PEER_VERIFY_EVENTS waiting for their signature checks:
 * the frame beyond is refused unchecked (ERROR_INTERNAL, no ACK) and counted. */
static void test_protocol_verify_budget_per_peer(void **state)
{
    struct fixture *fx = *state;
    say_hello(fx);
    memset(&sent, 0, sizeof(sent));
    uint64_t frames = BROKER_PEER_VERIFY_EVENTS / 1024;
    for (uint64_t k = 0; k < frames; k++)
        publish_only(fx, 1 + k * 1024, (k + 1) * 1024);
    assert_int_equal(sent.errors, 0);
    publish_only(fx, frames * 1024 + 1, frames * 1024 + 1); /* one more event: over */
    assert_int_equal(sent.errors, 1);
    assert_int_equal(sent.last_error, DUALSYNC__ERROR_CODE__ERROR_INTERNAL);
    assert_true(broker_counters(fx->b)->over_budget == 1);
    store_checked(fx);
    assert_true(eventlog_hwm(broker_log(fx->b), UNIT) == frames * 1024);
    assert_true(sent.ack_upto == frames * 1024);
    struct peer *p = protocol_peer(fx->b, UNIT);
    assert_int_equal(p->verify_events, 0); /* released as they were taken */
}

/* BROKER_STRIKES_MAX refused frames ban the org: its key is refused at the handshake and
 * its frames still queued are dropped unanswered. */
static void test_protocol_strikes_ban_the_org(void **state)
{
    struct fixture *fx = *state;
    say_hello(fx);
    const uint8_t junk[] = {0xff, 0xff, 0xff};
    for (unsigned i = 0; i < BROKER_STRIKES_MAX - 1; i++)
        protocol_on_frame(fx->b, &fx->unit_addr, junk, sizeof(junk));
    assert_true(broker_counters(fx->b)->peers_banned == 0);
    char org[IDS_ORG_MAX];
    assert_true(broker_authorize(fx->b, fx->unit_keys.curve_pk, org));
    protocol_on_frame(fx->b, &fx->unit_addr, junk, sizeof(junk));
    assert_true(broker_counters(fx->b)->peers_banned == 1);
    assert_true(broker_counters(fx->b)->refused_frames == BROKER_STRIKES_MAX);
    assert_false(broker_authorize(fx->b, fx->unit_keys.curve_pk, org));
    assert_true(broker_counters(fx->b)->ban_refused == 1);
    memset(&sent, 0, sizeof(sent));
    say_hello(fx);
    protocol_on_frame(fx->b, &fx->unit_addr, junk, sizeof(junk));
    assert_int_equal(sent.frames, 0);
}

/* PUBLISHes n org-level events of a type this version does not know (kept by the broker,
 * delivered to nobody), seqs first.., each with a body of body_len bytes, in one frame;
 * then lets the workers check them and the loop store them. */
static void publish_unknown(struct fixture *fx, uint64_t first, size_t n, size_t body_len)
{
    uint8_t *body = calloc(1, body_len);
    ProtobufCBinaryData *raw = calloc(n, sizeof(*raw));
    for (size_t i = 0; i < n; i++)
        wire_event_build(&fx->unit_keys, UNIT, first + i, hlc_wall_ms() << 16, "", 999u, body,
                         body_len, &raw[i].data, &raw[i].len);
    send_publish(fx, raw, n);
    store_checked(fx);
    for (size_t i = 0; i < n; i++)
        free(raw[i].data);
    free(raw);
    free(body);
}

/* Events of a type this version does not know: a body of BROKER_UNKNOWN_BODY_MAX is
 * stored and one byte more refused (ERROR_MALFORMED, a strike); an org may send
 * BROKER_UNKNOWN_BURST of them at once, then one per BROKER_UNKNOWN_REFILL_MS, and beyond
 * that is told ERROR_BUSY (resend later, no strike: an honest newer node may get there).
 * Every refusal is counted; known types are not limited. */
static void test_protocol_unknown_types_limited_per_org(void **state)
{
    struct fixture *fx = *state;
    struct broker *b = fx->b;
    const uint64_t burst = BROKER_UNKNOWN_BURST;
    say_hello(fx);
    memset(&sent, 0, sizeof(sent));
    publish_unknown(fx, 1, 1, BROKER_UNKNOWN_BODY_MAX);
    assert_int_equal(sent.errors, 0);
    assert_true(sent.ack_upto == 1);
    publish_unknown(fx, 2, 1, BROKER_UNKNOWN_BODY_MAX + 1);
    assert_int_equal(sent.errors, 1);
    assert_int_equal(sent.last_error, DUALSYNC__ERROR_CODE__ERROR_MALFORMED);
    assert_true(eventlog_hwm(broker_log(b), UNIT) == 1);
    assert_true(broker_counters(b)->unknown_type_refused == 1);

    /* seq 1 took one token: burst - 1 more pass, the next is refused and stops the frame */
    publish_unknown(fx, 2, burst, 16);
    assert_int_equal(sent.errors, 2);
    assert_int_equal(sent.last_error, DUALSYNC__ERROR_CODE__ERROR_BUSY);
    assert_true(eventlog_hwm(broker_log(b), UNIT) == burst);
    assert_true(sent.ack_upto == burst);
    assert_true(broker_counters(b)->unknown_types == burst);
    assert_true(broker_counters(b)->unknown_type_refused == 2);
    struct peer *p = protocol_peer(b, UNIT);
    assert_int_equal(p->strikes, 1); /* the oversize body only */

    /* three refills later: three more pass */
    const struct conduct *c = protocol_conduct(b, UNIT);
    assert_non_null(c);
    assert_true(c->until_ms == 0); /* a record of conduct, not a ban */
    fake_now_ms += 3 * BROKER_UNKNOWN_REFILL_MS;
    publish_unknown(fx, burst + 1, 4, 16);
    assert_int_equal(sent.errors, 3);
    assert_true(eventlog_hwm(broker_log(b), UNIT) == burst + 3);
    assert_true(broker_counters(b)->unknown_type_refused == 3);

    /* letters of known types meanwhile: no limit of this kind */
    publish_and_store(fx, burst + 4, burst + 13);
    assert_int_equal(sent.errors, 3);
    assert_true(eventlog_hwm(broker_log(b), UNIT) == burst + 13);
    char org[IDS_ORG_MAX];
    assert_true(broker_authorize(b, fx->unit_keys.curve_pk, org)); /* not banned */
}

/* One heartbeat of the broker's loop: the clock moves ms on, then protocol_tick runs. */
static void tick_after(struct fixture *fx, uint64_t ms)
{
    fake_now_ms += ms;
    protocol_tick(fx->b);
}

static void ping(struct fixture *fx)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Ping pg = DUALSYNC__PING__INIT;
    f.kind_case = DUALSYNC__FRAME__KIND_PING;
    f.ping = &pg;
    send_frame(fx, &f);
}

/* Liveness: a peer heard from within BROKER_PEER_TIMEOUT_MS keeps its session; one
 * silent for longer, while the loop ticked every heartbeat, loses it (counted), and its
 * next HELLO starts a new one. */
static void test_protocol_silent_peer_loses_its_session(void **state)
{
    struct fixture *fx = *state;
    struct broker *b = fx->b;
    say_hello(fx);
    struct peer *p = protocol_peer(b, UNIT);
    assert_non_null(p);
    assert_true(p->welcomed);
    for (uint64_t t = 0; t < 2 * BROKER_PEER_TIMEOUT_MS; t += 1000) {
        tick_after(fx, 1000);
        ping(fx); /* a live node: heard every heartbeat */
    }
    assert_non_null(protocol_peer(b, UNIT));
    assert_true(broker_counters(b)->sessions_dropped == 0);
    for (uint64_t t = 0; t < BROKER_PEER_TIMEOUT_MS; t += 1000)
        tick_after(fx, 1000);
    assert_non_null(protocol_peer(b, UNIT)); /* at the limit, not beyond it */
    tick_after(fx, 1000);
    assert_null(protocol_peer(b, UNIT));
    assert_true(broker_counters(b)->sessions_dropped == 1);
    say_hello(fx);
    p = protocol_peer(b, UNIT);
    assert_non_null(p);
    assert_true(p->welcomed);
}

/* A loop that stalled (one tick after more than half the timeout) does not count its
 * peers' silence: they were not read. */
static void test_protocol_stalled_loop_forgives_silence(void **state)
{
    struct fixture *fx = *state;
    struct broker *b = fx->b;
    say_hello(fx);
    tick_after(fx, BROKER_PEER_TIMEOUT_MS + 5000);
    assert_non_null(protocol_peer(b, UNIT));
    assert_true(broker_counters(b)->sessions_dropped == 0);
    /* ... but its clock starts again then: the same silence after the stall counts */
    for (uint64_t t = 0; t <= BROKER_PEER_TIMEOUT_MS; t += 1000)
        tick_after(fx, 1000);
    assert_null(protocol_peer(b, UNIT));
}

/* Refused frames until the org is banned. */
static void strike_out(struct fixture *fx)
{
    const uint8_t junk[] = {0xff, 0xff, 0xff};
    say_hello(fx);
    for (unsigned i = 0; i < BROKER_STRIKES_MAX; i++)
        protocol_on_frame(fx->b, &fx->unit_addr, junk, sizeof(junk));
}

/* A ban lasts BROKER_BAN_MS and the next one, within the hour, twice as long; after an
 * hour of good conduct the count starts again. */
static void test_protocol_ban_lasts_its_time_and_doubles(void **state)
{
    struct fixture *fx = *state;
    struct broker *b = fx->b;
    char org[IDS_ORG_MAX];
    strike_out(fx);
    assert_true(broker_counters(b)->peers_banned == 1);
    fake_now_ms += BROKER_BAN_MS - 1;
    assert_false(broker_authorize(b, fx->unit_keys.curve_pk, org));
    fake_now_ms += 1;
    assert_true(broker_authorize(b, fx->unit_keys.curve_pk, org));

    strike_out(fx);
    assert_true(broker_counters(b)->peers_banned == 2);
    fake_now_ms += 2 * BROKER_BAN_MS - 1;
    assert_false(broker_authorize(b, fx->unit_keys.curve_pk, org));
    fake_now_ms += 1;
    assert_true(broker_authorize(b, fx->unit_keys.curve_pk, org));

    fake_now_ms += 3600u * 1000u + 1; /* an hour of good conduct */
    strike_out(fx);
    assert_true(broker_counters(b)->peers_banned == 3);
    fake_now_ms += BROKER_BAN_MS;
    assert_true(broker_authorize(b, fx->unit_keys.curve_pk, org));
}

/* Signatures behind the ACK: a session's first new event is checked before it is stored
 * (a bad one is refused at once, as before); once one verified, the session's events are
 * stored and acked on its CURVE binding alone, and the audit checks them after. One that
 * fails is counted, its node told (ERROR_AUTH with its seq), and its org blocked: nothing
 * more of it is stored, until the street re-keys it (directory_rekey lifts the block). */
static void test_protocol_signature_checked_behind_the_ack(void **state)
{
    struct fixture *fx = *state;
    struct broker *b = fx->b;
    assert_int_equal(sigaudit_open(b), DS_OK);
    say_hello(fx);
    publish_signed(fx, 1, 2, 1); /* a new session's first letter, badly signed */
    store_checked(fx);
    assert_int_equal(sent.last_error, DUALSYNC__ERROR_CODE__ERROR_AUTH);
    assert_true(eventlog_hwm(broker_log(b), UNIT) == 0);

    memset(&sent, 0, sizeof(sent));
    publish_signed(fx, 1, 4, 3); /* the first verifies; the third is bad: stored, acked */
    store_checked(fx);
    assert_true(sent.ack_upto == 4);
    assert_int_equal(sent.errors, 0);
    audit_until_done(b);
    assert_true(broker_counters(b)->signature_failed == 1);
    assert_int_equal(sent.last_error, DUALSYNC__ERROR_CODE__ERROR_AUTH); /* the node told */
    uint64_t bad = 0;
    assert_true(sigaudit_blocked(b, UNIT, &bad));
    assert_true(bad == 3);

    memset(&sent, 0, sizeof(sent));
    publish_only(fx, 5, 6); /* well signed, but the org is blocked */
    store_checked(fx);
    assert_int_equal(sent.last_error, DUALSYNC__ERROR_CODE__ERROR_AUTH);
    assert_true(eventlog_hwm(broker_log(b), UNIT) == 4);
    assert_true(broker_counters(b)->signature_blocked == 1);

    struct org_card card; /* the street re-keys the org: `org rekey --unsigned` */
    memset(&card, 0, sizeof(card));
    snprintf(card.org, sizeof(card.org), "%s", UNIT);
    card.kind = ORG_UNIT;
    keys_generate(&fx->unit_keys);
    memcpy(card.curve_key, fx->unit_keys.curve_pk, KEYS_PUB_LEN);
    memcpy(card.sign_key, fx->unit_keys.sign_pk, KEYS_PUB_LEN);
    assert_rc(directory_rekey(b, &card, true), DS_OK);
    assert_false(sigaudit_blocked(b, UNIT, &bad));
    say_hello(fx); /* the rekey closed the session */
    memset(&sent, 0, sizeof(sent));
    publish_only(fx, 5, 6);
    store_checked(fx);
    assert_true(sent.ack_upto == 6);
    audit_until_done(b);
    assert_false(sigaudit_blocked(b, UNIT, &bad));
    assert_true(broker_counters(b)->signature_failed == 1);
}

/* Events stored while no audit ran (a crash before its workers got to them) are checked
 * after the restart, read from the log; the block it finds survives the next restart. A
 * store from before audits existed is taken as checked (each event was, before it was
 * stored). */
static void test_protocol_audit_resumes_from_the_log(void **state)
{
    struct fixture *fx = *state;
    struct broker *b = fx->b;
    say_hello(fx);
    publish_and_store(fx, 1, 3); /* no audit yet: an older broker's store */
    assert_int_equal(sigaudit_open(b), DS_OK);
    assert_true(audit_behind(b) == 0);
    sigaudit_tick(b); /* its progress, and that audits began, in the store */
    sigaudit_close(b);

    publish_signed(fx, 4, 8, 6); /* stored, and the audit is gone before it saw them */
    store_checked(fx);
    assert_true(eventlog_hwm(broker_log(b), UNIT) == 8);
    assert_int_equal(sigaudit_open(b), DS_OK);
    assert_true(audit_behind(b) == 5);
    audit_until_done(b);
    uint64_t bad = 0;
    assert_true(sigaudit_blocked(b, UNIT, &bad));
    assert_true(bad == 6);
    sigaudit_tick(b);
    sigaudit_close(b);
    assert_int_equal(sigaudit_open(b), DS_OK);
    assert_true(sigaudit_blocked(b, UNIT, &bad));
    assert_true(bad == 6);
    assert_true(audit_behind(b) == 0);
}

/* A new connection stores nothing it has not signed: a frame that opens with a replay of
 * a stored letter (genuine bytes: it verifies, but stores nothing) and goes on with a
 * badly signed new one is refused, although only the first new event of an unvouched
 * connection is checked by the workers. */
static void test_protocol_replay_does_not_vouch(void **state)
{
    struct fixture *fx = *state;
    struct broker *b = fx->b;
    struct tu_event ev[3];
    ProtobufCBinaryData raw[3];
    for (size_t i = 0; i < 3; i++) {
        char member[32];
        snprintf(member, sizeof(member), "DY-R%zu", i + 1);
        tu_event_intro(&ev[i], &fx->unit_keys, UNIT, i + 1, hlc_wall_ms() << 16, member, COMMUNITY,
                       "Zhang", 30, "2026-03-01");
        raw[i].data = ev[i].raw;
        raw[i].len = ev[i].len;
    }
    corrupt_signature(ev[2].raw, ev[2].len);
    say_hello(fx);
    send_publish(fx, raw, 2); /* the node's seqs 1 and 2 */
    store_checked(fx);
    assert_true(eventlog_hwm(broker_log(b), UNIT) == 2);
    memcpy(fx->unit_addr.id, "conn9", 5); /* a new connection with the org's transport key */
    say_hello(fx);
    memset(&sent, 0, sizeof(sent));
    send_publish(fx, raw + 1, 2); /* seq 2 replayed as stored, seq 3 badly signed */
    store_checked(fx);
    assert_int_equal(sent.last_error, DUALSYNC__ERROR_CODE__ERROR_AUTH);
    assert_true(eventlog_hwm(broker_log(b), UNIT) == 2);
    for (size_t i = 0; i < 3; i++)
        tu_event_free(&ev[i]);
}

/* Registers n more orgs of a kind (prefix000, prefix001, ...), each with fresh keys. */
static void add_orgs(struct broker *b, const char *prefix, enum org_kind kind, int n)
{
    for (int i = 0; i < n; i++) {
        struct keys k;
        char org[32];
        keys_generate(&k);
        snprintf(org, sizeof(org), "%s%03d", prefix, i);
        bf_add_org(b, org, kind, &k);
    }
}

/* Registers n more units (unit:u000, unit:u001, ...). */
static void add_units(struct broker *b, int n)
{
    add_orgs(b, "unit:u", ORG_UNIT, n);
}

/* The community confirms its directory cursor (and its inbox cursor, as a node does). */
static void confirm_directory(struct fixture *fx, uint64_t dir_upto, uint64_t inbox_upto)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Confirm c = DUALSYNC__CONFIRM__INIT;
    c.upto = inbox_upto;
    c.directory_upto = dir_upto;
    f.kind_case = DUALSYNC__FRAME__KIND_CONFIRM;
    f.confirm = &c;
    send_frame_as(fx, &fx->community_addr, &f);
}

/* The directory is one stream, not one inbox entry per org per org: registering 200 more
 * orgs writes no inbox entry; a node that says HELLO with cursor 0 is sent every entry in
 * order, within the window, and only then its letters, each DELIVER naming the directory
 * it needs; a node back at the head is sent none of it again. */
static void test_protocol_directory_is_one_stream(void **state)
{
    struct fixture *fx = *state;
    struct broker *b = fx->b;
    add_units(b, 200);
    assert_int_equal(directory_count(b), 202);
    assert_true(directory_head(b) == 202); /* the street wrote nothing else */
    assert_true(inbox_head(b, COMMUNITY) == 0);
    assert_true(inbox_head(b, "unit:u199") == 0);

    say_hello(fx);
    publish_and_store(fx, 1, 5); /* five letters wait in the community's inbox */
    assert_true(inbox_head(b, COMMUNITY) == 5);
    memset(&sent, 0, sizeof(sent));
    hello_as(fx, &fx->community_addr);
    /* the window (64) of the directory, and no letter before the rest of it */
    assert_int_equal(sent.dir_entries, broker_config(b)->window);
    assert_int_equal(sent.delivers, 0);
    for (int rounds = 0; sent.dir_upto < directory_head(b) && rounds < 10; rounds++)
        confirm_directory(fx, sent.dir_upto, 0);
    assert_true(sent.dir_upto == directory_head(b));
    assert_int_equal(sent.dir_entries, 202);
    assert_false(sent.dir_broken);
    assert_int_equal(sent.delivers, 1);
    assert_true(sent.deliver_needs == directory_head(b));
    assert_int_equal(sent.errors, 0);

    /* a confirm beyond what was sent is malformed */
    confirm_directory(fx, directory_head(b) + 1, 5);
    assert_int_equal(sent.last_error, DUALSYNC__ERROR_CODE__ERROR_MALFORMED);

    /* back on a new connection with the whole directory: none of it again */
    memset(&sent, 0, sizeof(sent));
    memcpy(fx->community_addr.id, "conn5", 5);
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Hello h = DUALSYNC__HELLO__INIT;
    h.org = COMMUNITY;
    h.proto = WIRE_PROTO_VERSION;
    h.inbox_cursor = 5;
    h.directory_cursor = directory_head(b);
    h.broker_store_id.data = (uint8_t *)broker_store_id(b);
    h.broker_store_id.len = BROKER_STORE_ID_LEN;
    f.kind_case = DUALSYNC__FRAME__KIND_HELLO;
    f.hello = &h;
    send_frame_as(fx, &fx->community_addr, &f);
    assert_int_equal(sent.directories, 0);
    assert_int_equal(sent.delivers, 0);

    /* a new org reaches the connected node at once, as one entry */
    struct keys k;
    keys_generate(&k);
    sent.dir_upto = directory_head(b);
    bf_add_org(b, "community:new", ORG_COMMUNITY, &k);
    assert_int_equal(sent.directories, 1);
    assert_int_equal(sent.dir_entries, 1);
    assert_true(sent.dir_upto == directory_head(b));
    assert_false(sent.dir_broken);
    assert_true(inbox_head(b, COMMUNITY) == 5);
}

/* The letters a batch stores reach a connected community from the batch itself: neither
 * a letter (each was one point read before) nor its inbox entry (an iterator over the
 * inbox per delivery) is read back from the store, and each letter is delivered exactly
 * as it is stored. Letters that wait for the community's window are read from the store
 * later, as before. */
static void test_protocol_batch_delivered_without_reading_back(void **state)
{
    struct fixture *fx = *state;
    struct broker *b = fx->b;
    hello_as(fx, &fx->community_addr); /* the whole directory fits in its window */
    say_hello(fx);
    memset(&sent, 0, sizeof(sent));
    unit_reads = inbox_scans = 0;
    publish_and_store(fx, 1, 40);
    assert_true(sent.ack_upto == 40);
    assert_int_equal(sent.delivered, 40);
    assert_int_equal(unit_reads, 0);
    assert_int_equal(inbox_scans, 0);
    confirm_directory(fx, directory_head(b), 40);

    uint64_t window = broker_config(b)->window; /* 64: more than a few, 36 wait */
    publish_and_store(fx, 41, 140);
    assert_int_equal(sent.delivered, 40 + window);
    assert_int_equal(unit_reads, 0);
    assert_int_equal(inbox_scans, 0);
    confirm_directory(fx, directory_head(b), 40 + window); /* the node confirms what it has */
    assert_int_equal(sent.delivered, 140);
    assert_int_equal(unit_reads, 140 - 40 - window); /* the rest, from the store */
    assert_true(inbox_scans > 0);
    assert_int_equal(sent.errors, 0);
}

/* The other communities a fanned-out commit writes to (registered by start_fanned). */
#define FANOUT_OTHERS 15

/* The FANOUT_OTHERS registered, the community and the unit connected, the counts reset. */
static void start_fanned(struct fixture *fx)
{
    add_orgs(fx->b, "community:f", ORG_COMMUNITY, FANOUT_OTHERS);
    hello_as(fx, &fx->community_addr);
    say_hello(fx);
    memset(&sent, 0, sizeof(sent));
    unit_reads = inbox_scans = 0;
}

/* One PUBLISH of the unit's introductions from seq first: n to the connected community,
 * then one to each of the FANOUT_OTHERS (a commit that fans out to 16 recipients, as the
 * city's do), stored. The community's letter of seq s is member DY-s. Returns the last
 * seq. */
static uint64_t publish_fanned(struct fixture *fx, uint64_t first, size_t n)
{
    size_t all = n + FANOUT_OTHERS;
    struct tu_event *ev = calloc(all, sizeof(*ev));
    ProtobufCBinaryData *raw = calloc(all, sizeof(*raw));
    for (size_t i = 0; i < all; i++) {
        char member[32], other[32];
        snprintf(member, sizeof(member), "DY-%04zu", (size_t)first + i);
        snprintf(other, sizeof(other), "community:f%03zu", i < n ? 0 : i - n);
        tu_event_intro(&ev[i], &fx->unit_keys, UNIT, first + i, hlc_wall_ms() << 16, member,
                       i < n ? COMMUNITY : other, "Zhang", 30, "2026-03-01");
        raw[i].data = ev[i].raw;
        raw[i].len = ev[i].len;
    }
    send_publish(fx, raw, all);
    store_checked(fx);
    for (size_t i = 0; i < all; i++)
        tu_event_free(&ev[i]);
    free(ev);
    free(raw);
    return first + all - 1;
}

/* Letters committed while a DELIVER is unconfirmed, fewer than 32, by a commit that fans
 * out to 16 recipients or more, wait for its CONFIRM and go in one frame, from memory:
 * two frames (and two CONFIRMs) for three commits, and nothing read back. A CONFIRM that
 * moves nothing (the node's heartbeat) sends what waits at once: a DELIVER lost on the
 * way then shows the node a gap. A commit to the community alone sends at once: its
 * letters do not wait a round trip. */
static void test_protocol_small_delivers_wait_for_the_confirm(void **state)
{
    struct fixture *fx = *state;
    struct broker *b = fx->b;
    start_fanned(fx);
    uint64_t last = publish_fanned(fx, 1, 3);
    assert_int_equal(sent.delivers, 1);
    last = publish_fanned(fx, last + 1, 2); /* the first DELIVER is unconfirmed: these wait */
    last = publish_fanned(fx, last + 1, 4);
    assert_int_equal(sent.delivers, 1);
    assert_int_equal(sent.delivered, 3);
    assert_true(sent.ack_upto == last); /* stored and acknowledged all the same */
    confirm_directory(fx, directory_head(b), 3);
    assert_int_equal(sent.delivers, 2);
    assert_int_equal(sent.delivered, 9);
    assert_int_equal(unit_reads, 0);
    assert_int_equal(inbox_scans, 0);

    last = publish_fanned(fx, last + 1, 2); /* held behind the second */
    assert_int_equal(sent.delivers, 2);
    confirm_directory(fx, directory_head(b), 3); /* a heartbeat's CONFIRM: nothing moved */
    assert_int_equal(sent.delivers, 3);
    assert_int_equal(sent.delivered, 11);

    publish_and_store(fx, last + 1, last + 2); /* to the community alone: at once */
    assert_int_equal(sent.delivers, 4);
    assert_int_equal(sent.delivered, 13);
    assert_int_equal(sent.errors, 0);
}

/* A held letter whose member is then erased leaves without its personal part: the
 * erasure forgets the letters held in memory, and they are read from the store, as
 * stored (check_delivered_as_stored). */
static void test_protocol_erasure_drops_held_letters(void **state)
{
    struct fixture *fx = *state;
    struct broker *b = fx->b;
    start_fanned(fx);
    uint64_t last = publish_fanned(fx, 1, 1);
    uint64_t held = last + 1; /* its member's introduction, held behind the first */
    last = publish_fanned(fx, held, 1);
    assert_int_equal(sent.delivered, 1);

    char member[32];
    snprintf(member, sizeof(member), "DY-%04llu", (unsigned long long)held);
    struct tu_event erase;
    Dualsync__MemberErase body = DUALSYNC__MEMBER_ERASE__INIT;
    body.reason = DUALSYNC__ERASE_REASON__ERASE_REQUEST;
    body.date = (char *)"2026-12-03";
    tu_event_make(&erase, &fx->unit_keys, UNIT, last + 1, hlc_wall_ms() << 16, member,
                  DUALSYNC__EVENT_TYPE__EVENT_MEMBER_ERASE, &body.base);
    ProtobufCBinaryData raw = {.data = erase.raw, .len = erase.len};
    unit_reads = 0;
    send_publish(fx, &raw, 1);
    store_checked(fx);
    assert_true(sent.ack_upto == last + 1);
    assert_true(broker_counters(b)->erasures == 1);
    /* the erasure goes to the community alone, at once, after the held introduction, which
     * comes from the store, as stored: without "Zhang" */
    assert_int_equal(sent.delivered, 3);
    assert_true(unit_reads >= 1);
    tu_event_free(&erase);
}

/* A connection whose signatures have verified has nothing in its next frames for a
 * worker to check: the loop stores them as it reads them, with no trip through the pool,
 * and answers them only after the commit that the pool's wake-up brings; they count
 * toward the org's verify budget until then. A resent copy of stored letters is still a
 * duplicate. */
static void test_protocol_vouched_frames_stored_on_the_loop(void **state)
{
    struct fixture *fx = *state;
    struct broker *b = fx->b;
    say_hello(fx);
    publish_and_store(fx, 1, 2); /* the first letter verified: the connection is vouched */
    assert_true(sent.ack_upto == 2);

    struct tu_event ev[4]; /* seqs 3..6, signed once: the resend below is the same bytes */
    ProtobufCBinaryData raw[4];
    for (size_t i = 0; i < 4; i++) {
        char member[32];
        snprintf(member, sizeof(member), "DY-%04zu", 3 + i);
        tu_event_intro(&ev[i], &fx->unit_keys, UNIT, 3 + i, hlc_wall_ms() << 16, member, COMMUNITY,
                       "Zhang", 30, "2026-03-01");
        raw[i].data = ev[i].raw;
        raw[i].len = ev[i].len;
    }
    memset(&sent, 0, sizeof(sent));
    send_publish(fx, raw, 3);
    assert_true(verify_pending_events(broker_verify(b)) == 0); /* not queued for a worker */
    assert_true(protocol_batch_open(b));
    assert_true(sent.ack_upto == 0); /* stored, not committed: no ACK yet */
    assert_true(eventlog_hwm(broker_log(b), UNIT) == 2);
    assert_true(protocol_peer(b, UNIT)->verify_events == 3); /* its budget, until answered */
    struct pollfd pfd = {.fd = verify_pool_fd(broker_verify(b)), .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 0), 1); /* the loop is woken to commit */
    protocol_on_verified(b);
    assert_false(protocol_batch_open(b));
    assert_true(protocol_peer(b, UNIT)->verify_events == 0);
    assert_true(sent.ack_upto == 5);
    assert_true(eventlog_hwm(broker_log(b), UNIT) == 5);

    uint64_t dups = broker_counters(b)->duplicates;
    send_publish(fx, raw + 1, 3); /* 4 and 5 again, and 6 */
    store_checked(fx);
    assert_true(broker_counters(b)->duplicates == dups + 2);
    assert_true(sent.ack_upto == 6);
    assert_int_equal(sent.errors, 0);
    for (size_t i = 0; i < 4; i++)
        tu_event_free(&ev[i]);
}

/* A node that retries its HELLO while the first one's WELCOME is on its way (resume) is
 * answered with a WELCOME and nothing sent again; a HELLO that asks for a resend (no
 * resume) gets the window again; a resume HELLO on a connection the broker has not
 * welcomed is an ordinary HELLO. */
static void test_protocol_hello_retry_resends_nothing(void **state)
{
    struct fixture *fx = *state;
    struct broker *b = fx->b;
    add_units(b, 100);
    uint64_t window = broker_config(b)->window;
    memset(&sent, 0, sizeof(sent));
    hello_as(fx, &fx->community_addr);
    assert_int_equal(sent.welcomes, 1);
    assert_int_equal(sent.dir_entries, window);

    memset(&sent, 0, sizeof(sent));
    hello_retry_as(fx, &fx->community_addr, true);
    assert_int_equal(sent.welcomes, 1);
    assert_int_equal(sent.dir_entries, 0);
    assert_int_equal(sent.errors, 0);
    assert_true(broker_counters(b)->hellos_resumed == 1);

    memset(&sent, 0, sizeof(sent));
    hello_retry_as(fx, &fx->community_addr, false); /* a gap: the window again */
    assert_int_equal(sent.welcomes, 1);
    assert_int_equal(sent.dir_entries, window);

    memset(&sent, 0, sizeof(sent));
    memcpy(fx->community_addr.id, "conn7", 5); /* its retry came on a new connection */
    hello_retry_as(fx, &fx->community_addr, true);
    assert_int_equal(sent.welcomes, 1);
    assert_int_equal(sent.dir_entries, window);
    assert_true(broker_counters(b)->hellos_resumed == 1);
}

/* The community at addr confirms its inbox up to inbox_upto (and the directory's head). */
static void confirm_as(struct fixture *fx, const struct transport_peer *addr, uint64_t inbox_upto)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Confirm c = DUALSYNC__CONFIRM__INIT;
    c.upto = inbox_upto;
    c.directory_upto = directory_head(fx->b);
    f.kind_case = DUALSYNC__FRAME__KIND_CONFIRM;
    f.confirm = &c;
    send_frame_as(fx, addr, &f);
}

/* The unit's introduction seq of a new member to community, published and stored. */
static void introduce_to(struct fixture *fx, uint64_t seq, const char *community)
{
    struct tu_event ev;
    char member[32];
    snprintf(member, sizeof(member), "DY-R%03llu", (unsigned long long)seq);
    tu_event_intro(&ev, &fx->unit_keys, UNIT, seq, hlc_wall_ms() << 16, member, community, "Wang",
                   40, "2026-04-01");
    ProtobufCBinaryData raw = {ev.len, ev.raw};
    send_publish(fx, &raw, 1);
    store_checked(fx);
    tu_event_free(&ev);
}

/* The receipt of org in the last Receipts frame to UNIT; 0 when it was not in it. */
static uint64_t last_receipt(const char *org)
{
    for (size_t i = 0; i < sent.receipts_n && i < 4; i++)
        if (strcmp(sent.receipt_org[i], org) == 0)
            return sent.receipt_upto[i];
    return 0;
}

/* What a tick sends grows with what moved, not with the street: the unit is sent the
 * receipts that moved since the last tick (a recipient walked lately, with few entries
 * more, waits until RECEIPTS_WALK_MS have passed), none when none did, all of them after a
 * WELCOME, and all again with a PONG once RECEIPTS_MEND_MS have passed since (which mends
 * a frame lost with its connection), not with every PONG. */
static void test_protocol_receipts_send_what_moved(void **state)
{
    struct fixture *fx = *state;
    struct keys k;
    struct transport_peer other = {.org = "community:anle", .id = "conn3", .id_len = 5};
    keys_generate(&k);
    bf_add_org(fx->b, other.org, ORG_COMMUNITY, &k);
    hello_as(fx, &fx->community_addr);
    hello_as(fx, &other);
    say_hello(fx);
    introduce_to(fx, 1, COMMUNITY);
    introduce_to(fx, 2, other.org);
    introduce_to(fx, 3, COMMUNITY);
    assert_true(sent.ack_upto == 3);

    memset(&sent, 0, sizeof(sent));
    confirm_as(fx, &fx->community_addr, 1);
    confirm_as(fx, &other, 1);
    tick_after(fx, 1000);
    assert_int_equal(sent.receipts_frames, 1);
    assert_int_equal(sent.receipts_n, 2);
    assert_true(last_receipt(COMMUNITY) == 1 && last_receipt(other.org) == 2);

    memset(&sent, 0, sizeof(sent));
    confirm_as(fx, &fx->community_addr, 2);
    tick_after(fx, 1000);
    assert_int_equal(sent.receipts_frames, 0); /* one entry, walked 1 s ago: it waits */
    tick_after(fx, RECEIPTS_WALK_MS - 1000);
    assert_int_equal(sent.receipts_frames, 1);
    assert_int_equal(sent.receipts_n, 1); /* the other community's did not move */
    assert_true(last_receipt(COMMUNITY) == 3);

    memset(&sent, 0, sizeof(sent));
    tick_after(fx, 1000);
    assert_int_equal(sent.receipts_frames, 0);
    ping(fx);
    assert_int_equal(sent.receipts_frames, 0); /* the whole list went with the WELCOME */
    fake_now_ms += RECEIPTS_MEND_MS;
    ping(fx);
    assert_int_equal(sent.receipts_frames, 1);
    assert_int_equal(sent.receipts_n, 2);
    assert_true(last_receipt(COMMUNITY) == 3 && last_receipt(other.org) == 2);
    ping(fx);
    assert_int_equal(sent.receipts_frames, 1); /* mended just now */

    memset(&sent, 0, sizeof(sent));
    say_hello(fx);
    assert_int_equal(sent.welcomes, 1);
    assert_int_equal(sent.receipts_n, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_protocol_hello_flood_bounded_by_send_budget, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_protocol_verify_budget_per_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_protocol_strikes_ban_the_org, setup, teardown),
        cmocka_unit_test_setup_teardown(test_protocol_silent_peer_loses_its_session, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_protocol_stalled_loop_forgives_silence, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_protocol_ban_lasts_its_time_and_doubles, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_protocol_no_ack_beyond_a_failed_commit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_protocol_acks_only_what_is_stored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_protocol_fetch_answers_own_letters_by_range, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_protocol_signature_checked_behind_the_ack, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_protocol_replay_does_not_vouch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_protocol_audit_resumes_from_the_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_protocol_unknown_types_limited_per_org, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_protocol_directory_is_one_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_protocol_hello_retry_resends_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_protocol_vouched_frames_stored_on_the_loop, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_protocol_batch_delivered_without_reading_back, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_protocol_small_delivers_wait_for_the_confirm, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_protocol_erasure_drops_held_letters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_protocol_receipts_send_what_moved, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
