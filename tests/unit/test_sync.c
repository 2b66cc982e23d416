/* Unit tests of the node's sync state machine (node/sync.c) against a fake broker, with
 * no socket and no sleep. The node is opened by the real path (node_open) on a data
 * directory made as `dualsync-node init` makes one, with real RocksDB in a temp directory.
 * - Transport: the three calls sync.c makes are wrapped at link time
 *   (-Wl,--wrap=transport_connect,transport_send,transport_on_client_event). Every frame
 *   the node sends is decoded (wire_frame_unpack) and kept with the time it left; the
 *   frame handler and the monitor callback the node hands to the transport are kept too,
 *   and the test plays the broker through them. The wrapped send also checks two
 *   invariants on every frame: a PUBLISH continues the node's sequence and keeps at most
 *   NODE_PUBLISH_WINDOW events unacked, and a CONFIRM never says more than the durable
 *   inbox cursor.
 * - Clock: struct node now_ms (node_clock_ms) reads fake_now_ms, which only the test
 *   moves; the tests tick in steps of STEP ms, as the daemon's timer would every
 *   heartbeat, so that a retry's time is known to within one step.
 * Backoff delays are jittered by org: the tests assert the bounds docs/PROTOCOL.md gives
 * (1, 2, 4, 8, 8 heartbeats, each drawn in [half, whole]), never the drawn values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "node.h"
#include "ctl.h"
#include "node_fixture.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STREET "street:jinyu"
#define UNIT "unit:tax"
#define COMMUNITY "community:hexie"
#define ENDPOINT "tcp://127.0.0.1:7700"
#define HB 1000u  /* the node's heartbeat_ms (the default) */
#define STEP 100u /* how far the tests' clock moves between two ticks */
#define STORE_A "store-a"
#define STORE_B "store-b"

/* ---------------------------------------------------------------- the fake transport */

/* A frame the node sent, decoded, and when. */
struct sent_frame {
    Dualsync__Frame *f;
    uint64_t at;
};

static uint64_t fake_now_ms;

static struct {
    struct node *n; /* the node under test: the wrapped send checks it */
    transport_frame_fn on_frame;
    void *frame_arg;
    transport_event_fn on_event;
    void *event_arg;
    size_t connects;
    struct sent_frame *frames;
    size_t n_frames, cap;
    size_t pings_answered; /* frames[] before this index were looked at by answer_pings */
} fake;

static uint64_t fake_clock(void)
{
    return fake_now_ms;
}

int __wrap_transport_connect(struct transport *t, const char *endpoint,
                             const uint8_t server_key[KEYS_PUB_LEN], const struct keys *keys,
                             transport_frame_fn on_frame, void *arg);
int __wrap_transport_connect(struct transport *t, const char *endpoint,
                             const uint8_t server_key[KEYS_PUB_LEN], const struct keys *keys,
                             transport_frame_fn on_frame, void *arg)
{
    (void)t;
    (void)server_key;
    (void)keys;
    assert_string_equal(endpoint, ENDPOINT);
    fake.on_frame = on_frame;
    fake.frame_arg = arg;
    fake.connects++;
    return DS_OK;
}

void __wrap_transport_on_client_event(struct transport *t, transport_event_fn fn, void *arg);
void __wrap_transport_on_client_event(struct transport *t, transport_event_fn fn, void *arg)
{
    (void)t;
    fake.on_event = fn;
    fake.event_arg = arg;
}

/* A PUBLISH continues from what the node has sent and keeps the window. */
static void check_publish(const Dualsync__Publish *p)
{
    const struct node *n = fake.n;
    assert_true(p->n_events >= 1 && p->n_events <= NODE_PUBLISH_BATCH);
    for (size_t i = 0; i < p->n_events; i++) {
        char origin[IDS_ORG_MAX];
        uint64_t seq = 0;
        assert_true(wire_event_id(p->events[i].data, p->events[i].len, origin, &seq));
        assert_string_equal(origin, UNIT);
        assert_int_equal(seq, sync_view(n).sent + 1 + i);
        if (seq - sync_view(n).acked > NODE_PUBLISH_WINDOW)
            fail_msg("published seq %llu with only %llu acked: over the window",
                     (unsigned long long)seq, (unsigned long long)sync_view(n).acked);
    }
}

/* A CONFIRM says what is applied and durable, never more. */
static void check_confirm(const Dualsync__Confirm *c)
{
    uint64_t durable = 0;
    assert_rc(eventlog_meta_u64(fake.n->log, "inbox_cursor", 0, &durable), DS_OK);
    if (c->upto > durable)
        fail_msg("CONFIRM %llu sent while the durable cursor is %llu", (unsigned long long)c->upto,
                 (unsigned long long)durable);
    assert_int_equal(c->upto, fake.n->inbox_cursor);
    assert_rc(eventlog_meta_u64(fake.n->log, "directory_cursor", 0, &durable), DS_OK);
    if (c->directory_upto > durable)
        fail_msg("CONFIRM directory %llu sent while the durable cursor is %llu",
                 (unsigned long long)c->directory_upto, (unsigned long long)durable);
    assert_int_equal(c->directory_upto, fake.n->dir_cursor);
}

int __wrap_transport_send(struct transport *t, const uint8_t *data, size_t len);
int __wrap_transport_send(struct transport *t, const uint8_t *data, size_t len)
{
    (void)t;
    Dualsync__Frame *f = wire_frame_unpack(data, len);
    assert_non_null(f);
    if (f->kind_case == DUALSYNC__FRAME__KIND_PUBLISH)
        check_publish(f->publish);
    else if (f->kind_case == DUALSYNC__FRAME__KIND_CONFIRM)
        check_confirm(f->confirm);
    if (fake.n_frames == fake.cap) {
        fake.cap = fake.cap ? 2 * fake.cap : 64;
        fake.frames = realloc(fake.frames, fake.cap * sizeof(*fake.frames));
        assert_non_null(fake.frames);
    }
    fake.frames[fake.n_frames].f = f;
    fake.frames[fake.n_frames].at = fake_now_ms;
    fake.n_frames++;
    return DS_OK;
}

/* Forgets the frames sent so far. */
static void clear_frames(void)
{
    for (size_t i = 0; i < fake.n_frames; i++)
        wire_frame_free(fake.frames[i].f);
    fake.n_frames = 0;
    fake.pings_answered = 0;
}

static size_t count_kind(Dualsync__Frame__KindCase kind)
{
    size_t c = 0;
    for (size_t i = 0; i < fake.n_frames; i++)
        c += fake.frames[i].f->kind_case == kind;
    return c;
}

/* The last frame of that kind, or NULL. */
static const Dualsync__Frame *last_of(Dualsync__Frame__KindCase kind)
{
    for (size_t i = fake.n_frames; i > 0; i--)
        if (fake.frames[i - 1].f->kind_case == kind)
            return fake.frames[i - 1].f;
    return NULL;
}

/* The events of every PUBLISH sent so far, and the first seq of the first one. */
static size_t published_events(uint64_t *first_out)
{
    size_t total = 0;
    *first_out = 0;
    for (size_t i = 0; i < fake.n_frames; i++) {
        const Dualsync__Frame *f = fake.frames[i].f;
        if (f->kind_case != DUALSYNC__FRAME__KIND_PUBLISH)
            continue;
        if (total == 0) {
            char origin[IDS_ORG_MAX];
            assert_true(wire_event_id(f->publish->events[0].data, f->publish->events[0].len, origin,
                                      first_out));
        }
        total += f->publish->n_events;
    }
    return total;
}

/* ---------------------------------------------------------------- the fake broker */

static void feed(Dualsync__Frame *f)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_non_null(fake.on_frame);
    wire_pack(&f->base, &buf, &len);
    fake.on_frame(fake.frame_arg, buf, len);
    free(buf);
}

static void welcome(const char *store_id, uint64_t stored_upto, uint64_t inbox_head)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Welcome w = DUALSYNC__WELCOME__INIT;
    w.stored_upto = stored_upto;
    w.store_id.data = (uint8_t *)store_id;
    w.store_id.len = strlen(store_id);
    w.inbox_head = inbox_head;
    w.street = STREET;
    f.kind_case = DUALSYNC__FRAME__KIND_WELCOME;
    f.welcome = &w;
    feed(&f);
}

static void ack(uint64_t upto)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Ack a = DUALSYNC__ACK__INIT;
    a.origin = UNIT;
    a.upto = upto;
    f.kind_case = DUALSYNC__FRAME__KIND_ACK;
    f.ack = &a;
    feed(&f);
}

static void broker_error(Dualsync__ErrorCode code, uint64_t seq)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Error e = DUALSYNC__ERROR__INIT;
    e.code = code;
    e.seq = seq;
    e.message = "refused by the test";
    f.kind_case = DUALSYNC__FRAME__KIND_ERROR;
    f.error = &e;
    feed(&f);
}

static void pong(uint64_t nonce)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Pong p = DUALSYNC__PONG__INIT;
    p.nonce = nonce;
    p.inbox_head = sync_view(fake.n).inbox_head;
    f.kind_case = DUALSYNC__FRAME__KIND_PONG;
    f.pong = &p;
    feed(&f);
}

/* The broker answers every PING sent since the last call. */
static void answer_pings(void)
{
    for (; fake.pings_answered < fake.n_frames; fake.pings_answered++) {
        const Dualsync__Frame *f = fake.frames[fake.pings_answered].f;
        if (f->kind_case == DUALSYNC__FRAME__KIND_PING)
            pong(f->ping->nonce);
    }
}

static void deliver(uint64_t first, const struct tu_event *evs, size_t count, uint64_t head)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Deliver d = DUALSYNC__DELIVER__INIT;
    ProtobufCBinaryData raw[8];
    assert_true(count <= 8);
    for (size_t i = 0; i < count; i++) {
        raw[i].data = evs[i].raw;
        raw[i].len = evs[i].len;
    }
    d.first = first;
    d.events = raw;
    d.n_events = count;
    d.inbox_head = head;
    f.kind_case = DUALSYNC__FRAME__KIND_DELIVER;
    f.deliver = &d;
    feed(&f);
}

/* A Directory frame: entries after street seq `after`, up to `upto`. */
static void directory(uint64_t after, const struct tu_event *evs, size_t count, uint64_t upto,
                      uint64_t head)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Directory d = DUALSYNC__DIRECTORY__INIT;
    ProtobufCBinaryData raw[8];
    assert_true(count <= 8);
    for (size_t i = 0; i < count; i++) {
        raw[i].data = evs[i].raw;
        raw[i].len = evs[i].len;
    }
    d.after = after;
    d.events = raw;
    d.n_events = count;
    d.upto = upto;
    d.head = head;
    f.kind_case = DUALSYNC__FRAME__KIND_DIRECTORY;
    f.directory = &d;
    feed(&f);
}

/* A DELIVER of one event at inbox seq first that needs the directory up to needed. */
static void deliver_needing(uint64_t first, const struct tu_event *ev, uint64_t needed)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Deliver d = DUALSYNC__DELIVER__INIT;
    ProtobufCBinaryData raw = {ev->len, ev->raw};
    d.first = first;
    d.events = &raw;
    d.n_events = 1;
    d.inbox_head = first;
    d.directory_needed = needed;
    f.kind_case = DUALSYNC__FRAME__KIND_DELIVER;
    f.deliver = &d;
    feed(&f);
}

static void fetched(uint64_t first, uint8_t **raws, const size_t *lens, size_t count)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Fetched m = DUALSYNC__FETCHED__INIT;
    ProtobufCBinaryData raw[8];
    assert_true(count <= 8);
    for (size_t i = 0; i < count; i++) {
        raw[i].data = raws[i];
        raw[i].len = lens[i];
    }
    m.first = first;
    m.events = raw;
    m.n_events = count;
    f.kind_case = DUALSYNC__FRAME__KIND_FETCHED;
    f.fetched = &m;
    feed(&f);
}

/* Moves the clock one step and runs the node's timer, as its heartbeat would. */
static void step(void)
{
    fake_now_ms += STEP;
    sync_tick(fake.n);
}

/* ---------------------------------------------------------------- fixture */

struct fixture {
    char root[TU_PATH_MAX];
    char dir[TU_PATH_MAX + 16];
    struct keys street_keys;
    struct keys community_keys;
    struct node *n;
};

/* Opens (again) the node of fx->dir on the test's clock. */
static void open_node(struct fixture *fx)
{
    assert_rc(node_open(fx->dir, &fx->n), DS_OK);
    fx->n->now_ms = fake_clock;
    fake.n = fx->n;
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    memset(&fake, 0, sizeof(fake));
    tu_tmpdir(fx->root);
    assert_rc(keys_crypto_init(), DS_OK);
    nf_make_node_dir(fx->root, STREET, UNIT, "市税务局", ENDPOINT, &fx->street_keys, fx->dir,
                     sizeof(fx->dir));
    keys_generate(&fx->community_keys);
    /* our letters are dated by the wall clock (hlc): the test's clock starts beside it */
    fake_now_ms = hlc_wall_ms();
    open_node(fx);
    assert_int_equal(fx->n->cfg.heartbeat_ms, HB); /* the default the timings assume */
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    node_close(&fx->n);
    clear_frames();
    free(fake.frames);
    memset(&fake, 0, sizeof(fake));
    tu_rmtree(fx->root);
    free(fx);
    return 0;
}

/* Appends count own letters (resource offers to COMMUNITY) by the node's own path. */
static void append_own(struct fixture *fx, size_t count)
{
    enum { CHUNK = 512 };
    static uint8_t *raws[CHUNK];
    static size_t lens[CHUNK];
    char *to[1] = {COMMUNITY};
    while (count > 0) {
        size_t k = count < CHUNK ? count : CHUNK;
        for (size_t i = 0; i < k; i++) {
            Dualsync__ResourceOffer b = DUALSYNC__RESOURCE_OFFER__INIT;
            uint8_t *body = NULL;
            size_t body_len = 0;
            b.title = "会议室";
            b.date = "2026-03-05";
            wire_pack(&b.base, &body, &body_len);
            node_build_event(fx->n, fx->n->own_seq + 1 + i, "",
                             DUALSYNC__EVENT_TYPE__EVENT_RESOURCE_OFFER, body, body_len, to, 1,
                             &raws[i], &lens[i]);
            free(body);
        }
        assert_rc(node_append(fx->n, raws, lens, k), DS_OK);
        for (size_t i = 0; i < k; i++)
            free(raws[i]);
        count -= k;
    }
}

/* A directory entry seq for org (a community with keys k), as the street writes it but
 * signed by signer. */
static void dir_entry_signed(struct tu_event *out, const struct keys *signer, uint64_t seq,
                             const char *org, const struct keys *k)
{
    Dualsync__DirectoryEntry d = DUALSYNC__DIRECTORY_ENTRY__INIT;
    d.org = (char *)org;
    d.kind = DUALSYNC__ORG_KIND__ORG_KIND_COMMUNITY;
    d.name = "和谐社区";
    d.curve_key.data = (uint8_t *)k->curve_pk;
    d.curve_key.len = KEYS_PUB_LEN;
    d.sign_key.data = (uint8_t *)k->sign_pk;
    d.sign_key.len = KEYS_PUB_LEN;
    d.state = DUALSYNC__ORG_STATE__ORG_STATE_ACTIVE;
    tu_event_make(out, signer, STREET, seq, (fake_now_ms << HLC_COUNTER_BITS) + seq, NULL,
                  DUALSYNC__EVENT_TYPE__EVENT_DIRECTORY_ENTRY, &d.base);
}

/* The street's directory entry seq for org (a community with keys k). */
static void dir_entry(struct fixture *fx, struct tu_event *out, uint64_t seq, const char *org,
                      const struct keys *k)
{
    dir_entry_signed(out, &fx->street_keys, seq, org, k);
}

/* The node connected and in session with a broker of STORE_A holding stored_upto of its
 * events (what it then published is in fake.frames). */
static void start_ready(uint64_t stored_upto, uint64_t inbox_head)
{
    sync_start(fake.n);
    welcome(STORE_A, stored_upto, inbox_head);
    assert_int_equal(sync_view(fake.n).state, NODE_READY);
}

/* The code a write command gets from the node's control API now. */
static int write_code(struct node *n)
{
    struct ctl_request *req = ctl_request_new();
    uint8_t *buf = NULL, *reply = NULL;
    size_t len = 0, reply_len = 0;
    ctl_request_command(req, "visit record");
    ctl_request_arg(req, "member", "m-1");
    ctl_request_arg(req, "text", "走访");
    ctl_request_arg(req, "date", "2026-03-05");
    ctl_request_pack(req, &buf, &len);
    commands_on_ctl(n, buf, len, &reply, &reply_len);
    Dualsync__CtlReply *r = wire_unpack_ctl_reply(reply, reply_len);
    assert_non_null(r);
    int code = r->code;
    wire_msg_free(r);
    free(reply);
    free(buf);
    ctl_request_destroy(&req);
    return code;
}

/* The wait before retry number attempt + 1 of a backoff rule (docs/PROTOCOL.md):
 * 1, 2, 4, 8, 8… heartbeats, drawn in [half, whole]. */
static uint64_t backoff_hi(unsigned attempt)
{
    return (attempt < 3 ? 1u << attempt : 8u) * (uint64_t)HB;
}

static uint64_t backoff_lo(unsigned attempt)
{
    return backoff_hi(attempt) - backoff_hi(attempt) / 2;
}

/* ---------------------------------------------------------------- tests */

/* HELLO says who we are and where we are; WELCOME starts the session and the node
 * publishes from the broker's stored_upto, whatever it had sent before. The store id is
 * kept, durably, and said in the next HELLO with the cursor. */
static void test_sync_hello_welcome_publishes_from_stored_upto(void **state)
{
    struct fixture *fx = *state;
    struct node *n = fx->n;
    uint64_t first = 0;
    append_own(fx, 5);
    assert_int_equal(fake.n_frames, 0); /* not in session: nothing published */

    sync_start(n);
    assert_int_equal(fake.connects, 1);
    assert_int_equal(fake.n_frames, 1);
    const Dualsync__Hello *h = last_of(DUALSYNC__FRAME__KIND_HELLO)->hello;
    assert_string_equal(h->org, UNIT);
    assert_int_equal(h->proto, WIRE_PROTO_VERSION);
    assert_int_equal(h->own_seq, 5);
    assert_int_equal(h->inbox_cursor, 0);
    assert_int_equal(h->broker_store_id.len, 0); /* first contact */
    assert_int_equal(sync_view(n).state, NODE_CONNECTING);

    clear_frames();
    welcome(STORE_A, 2, 0);
    assert_int_equal(sync_view(n).state, NODE_READY);
    assert_int_equal(sync_view(n).acked, 2);
    assert_int_equal(n->counters.sessions, 1);
    assert_int_equal(count_kind(DUALSYNC__FRAME__KIND_PUBLISH), 1);
    assert_int_equal(published_events(&first), 3);
    assert_int_equal(first, 3);
    const Dualsync__Publish *p = last_of(DUALSYNC__FRAME__KIND_PUBLISH)->publish;
    for (size_t i = 0; i < p->n_events; i++) {
        struct event ev;
        assert_rc(wire_event_open(p->events[i].data, p->events[i].len, false, &ev), DS_OK);
        assert_true(wire_event_verify(&ev, n->keys.sign_pk));
        wire_event_release(&ev);
    }
    void *id = NULL;
    size_t id_len = 0;
    assert_rc(eventlog_meta_get(n->log, "broker_store_id", &id, &id_len), DS_OK);
    assert_int_equal(id_len, strlen(STORE_A));
    assert_memory_equal(id, STORE_A, id_len);
    free(id);

    /* two inbox entries applied, then a new session: its HELLO carries store id and cursor */
    struct tu_event evs[2];
    dir_entry(fx, &evs[0], 1, COMMUNITY, &fx->community_keys);
    dir_entry(fx, &evs[1], 2, "community:other", &fx->community_keys);
    deliver(1, evs, 2, 2);
    assert_int_equal(n->inbox_cursor, 2);
    ack(5);
    assert_int_equal(sync_view(n).acked, 5);
    clear_frames();
    broker_error(DUALSYNC__ERROR_CODE__ERROR_HELLO_FIRST, 0);
    assert_int_equal(sync_view(n).state, NODE_CONNECTING);
    h = last_of(DUALSYNC__FRAME__KIND_HELLO)->hello;
    assert_int_equal(h->own_seq, 5);
    assert_int_equal(h->inbox_cursor, 2);
    assert_int_equal(h->broker_store_id.len, strlen(STORE_A));
    assert_memory_equal(h->broker_store_id.data, STORE_A, strlen(STORE_A));

    /* the same store again: nothing reset, and nothing to publish */
    clear_frames();
    welcome(STORE_A, 5, 2);
    assert_int_equal(sync_view(n).state, NODE_READY);
    assert_int_equal(n->inbox_cursor, 2);
    assert_int_equal(eventlog_hwm(n->log, STREET), 2);
    assert_int_equal(count_kind(DUALSYNC__FRAME__KIND_PUBLISH), 0);
    assert_int_equal(count_kind(DUALSYNC__FRAME__KIND_HELLO), 0);
    tu_event_free(&evs[0]);
    tu_event_free(&evs[1]);
}

/* At most NODE_PUBLISH_WINDOW own events are unacked at any time (the wrapped send checks
 * every PUBLISH), in frames of at most NODE_PUBLISH_BATCH; each ACK opens the window by
 * what it acknowledges; an ACK beyond our log is ignored. */
static void test_sync_publish_window(void **state)
{
    struct fixture *fx = *state;
    struct node *n = fx->n;
    const uint64_t total = NODE_PUBLISH_WINDOW + 600;
    uint64_t first = 0;
    append_own(fx, total);
    start_ready(0, 0);
    assert_int_equal(published_events(&first), NODE_PUBLISH_WINDOW);
    assert_int_equal(first, 1);
    assert_int_equal(count_kind(DUALSYNC__FRAME__KIND_PUBLISH),
                     NODE_PUBLISH_WINDOW / NODE_PUBLISH_BATCH);
    assert_int_equal(sync_view(n).sent, NODE_PUBLISH_WINDOW);

    /* a tick within the heartbeats publishes nothing more: the window is full */
    clear_frames();
    step();
    assert_int_equal(count_kind(DUALSYNC__FRAME__KIND_PUBLISH), 0);

    clear_frames();
    ack(NODE_PUBLISH_BATCH);
    assert_int_equal(sync_view(n).acked, NODE_PUBLISH_BATCH);
    assert_int_equal(published_events(&first), NODE_PUBLISH_BATCH);
    assert_int_equal(first, NODE_PUBLISH_WINDOW + 1);

    /* an ACK that is not on a frame's boundary (frames end early at the byte budget, a
     * broker commits what it has): the window opens by exactly what it acknowledges */
    clear_frames();
    ack(NODE_PUBLISH_BATCH + 100);
    assert_int_equal(published_events(&first), 100);
    assert_int_equal(first, NODE_PUBLISH_WINDOW + NODE_PUBLISH_BATCH + 1);
    assert_int_equal(sync_view(n).sent - sync_view(n).acked, NODE_PUBLISH_WINDOW);

    clear_frames();
    ack(NODE_PUBLISH_WINDOW);
    assert_int_equal(published_events(&first),
                     total - NODE_PUBLISH_WINDOW - NODE_PUBLISH_BATCH - 100);
    assert_int_equal(first, NODE_PUBLISH_WINDOW + NODE_PUBLISH_BATCH + 101);
    assert_int_equal(sync_view(n).sent, total);

    clear_frames();
    ack(total + 1000); /* beyond what we wrote: the broker's mistake */
    assert_int_equal(sync_view(n).acked, NODE_PUBLISH_WINDOW);
    ack(total);
    assert_int_equal(sync_view(n).acked, total);
    assert_int_equal(count_kind(DUALSYNC__FRAME__KIND_PUBLISH), 0);

    /* a new letter goes at once, alone */
    append_own(fx, 1);
    assert_int_equal(published_events(&first), 1);
    assert_int_equal(first, total + 1);
}

/* A delivery is confirmed only once it is applied and its cursor durable (the wrapped send
 * checks each CONFIRM against the stored cursor); a redelivery is confirmed again without
 * being applied twice; a gap is not confirmed but answered with a HELLO (the broker then
 * resends from the cursor); an event that fails its signature is skipped, counted, and
 * confirmed past; a DELIVER before WELCOME is not applied; every tick confirms again. */
static void test_sync_confirm_after_durable_apply(void **state)
{
    struct fixture *fx = *state;
    struct node *n = fx->n;
    struct keys stranger;
    struct tu_event evs[2], bad;
    dir_entry(fx, &evs[0], 1, COMMUNITY, &fx->community_keys);
    dir_entry(fx, &evs[1], 2, "community:other", &fx->community_keys);
    keys_generate(&stranger);
    dir_entry_signed(&bad, &stranger, 3, "community:third", &stranger); /* not the street's key */

    sync_start(n);
    deliver(1, evs, 2, 2); /* before WELCOME: no session, not applied */
    assert_int_equal(n->inbox_cursor, 0);
    assert_int_equal(count_kind(DUALSYNC__FRAME__KIND_CONFIRM), 0);

    welcome(STORE_A, 0, 3);
    clear_frames();
    deliver(1, evs, 2, 3);
    assert_int_equal(n->inbox_cursor, 2);
    assert_int_equal(n->counters.applied, 2);
    assert_int_equal(eventlog_hwm(n->log, STREET), 2);
    assert_non_null(node_find_org(n, COMMUNITY));
    assert_int_equal(count_kind(DUALSYNC__FRAME__KIND_CONFIRM), 1);
    assert_int_equal(last_of(DUALSYNC__FRAME__KIND_CONFIRM)->confirm->upto, 2);

    clear_frames();
    deliver(1, evs, 2, 3); /* the broker resends: confirmed again, not applied again */
    assert_int_equal(n->counters.applied, 2);
    assert_int_equal(n->counters.duplicates, 0);
    assert_int_equal(last_of(DUALSYNC__FRAME__KIND_CONFIRM)->confirm->upto, 2);

    clear_frames();
    deliver(5, evs, 1, 5); /* entries 3 and 4 were lost on the way */
    assert_int_equal(n->inbox_cursor, 2);
    assert_int_equal(count_kind(DUALSYNC__FRAME__KIND_CONFIRM), 0);
    assert_int_equal(count_kind(DUALSYNC__FRAME__KIND_HELLO), 1);
    assert_int_equal(last_of(DUALSYNC__FRAME__KIND_HELLO)->hello->inbox_cursor, 2);
    assert_false(last_of(DUALSYNC__FRAME__KIND_HELLO)->hello->resume); /* it asks a resend */
    welcome(STORE_A, 0, 5);

    clear_frames();
    deliver(3, &bad, 1, 5);
    assert_int_equal(n->counters.rejected_signature, 1);
    assert_null(node_find_org(n, "community:third"));
    assert_int_equal(n->inbox_cursor, 3);
    assert_int_equal(last_of(DUALSYNC__FRAME__KIND_CONFIRM)->confirm->upto, 3);

    clear_frames();
    step(); /* a lost CONFIRM must not shut the broker's window: each tick says it again */
    assert_int_equal(count_kind(DUALSYNC__FRAME__KIND_CONFIRM), 1);
    assert_int_equal(last_of(DUALSYNC__FRAME__KIND_CONFIRM)->confirm->upto, 3);
    tu_event_free(&evs[0]);
    tu_event_free(&evs[1]);
    tu_event_free(&bad);
}

/* Published events with no ACK progress for 3 heartbeats are published again from the
 * acked seq; each further republish without progress waits 3 heartbeats plus 1, 2, 4, 8,
 * 8 heartbeats (jittered: [half, whole] of each); ACK progress ends it. The broker answers
 * every PING meanwhile, so the silence rule stays out of it. */
static void test_sync_republish_backoff(void **state)
{
    struct fixture *fx = *state;
    struct node *n = fx->n;
    uint64_t last = 0, first = 0;
    unsigned republished = 0;
    append_own(fx, 3);
    start_ready(0, 0);
    assert_int_equal(published_events(&first), 3);
    last = fake_now_ms;
    clear_frames();
    while (republished < 7) {
        step();
        answer_pings();
        if (count_kind(DUALSYNC__FRAME__KIND_PUBLISH) == 0) {
            if (fake_now_ms - last > 3 * HB + backoff_hi(7) + STEP)
                fail_msg("no republish %u ms after the last", (unsigned)(fake_now_ms - last));
            continue;
        }
        assert_int_equal(published_events(&first), 3);
        assert_int_equal(first, 1); /* from the acked seq */
        uint64_t waited = fake_now_ms - last;
        uint64_t lo = republished ? 3 * HB + backoff_lo(republished - 1) : 3 * HB;
        uint64_t hi = republished ? 3 * HB + backoff_hi(republished - 1) : 3 * HB;
        if (waited <= lo || waited > hi + STEP)
            fail_msg("republish %u came %llu ms after the last, not in (%llu, %llu]",
                     republished + 1, (unsigned long long)waited, (unsigned long long)lo,
                     (unsigned long long)(hi + STEP));
        republished++;
        assert_int_equal(sync_view(n).republish_tries, republished);
        last = fake_now_ms;
        clear_frames();
    }
    assert_int_equal(fake.connects, 1); /* the broker was there all along */

    ack(2); /* progress: the count starts again, the next stall waits 3 heartbeats */
    assert_int_equal(sync_view(n).republish_tries, 0);
    last = fake_now_ms;
    clear_frames();
    while (count_kind(DUALSYNC__FRAME__KIND_PUBLISH) == 0) {
        step();
        answer_pings();
        assert_true(fake_now_ms - last <= 3 * HB + STEP);
    }
    assert_true(fake_now_ms - last > 3 * HB);
    assert_int_equal(published_events(&first), 1);
    assert_int_equal(first, 3);

    ack(3); /* all acked: nothing is resent however long we wait */
    clear_frames();
    for (int i = 0; i < 300; i++) {
        step();
        answer_pings();
    }
    assert_int_equal(count_kind(DUALSYNC__FRAME__KIND_PUBLISH), 0);
}

/* The 3 heartbeats without ACK progress count from the publish: a letter written after a
 * quiet while (everything acked long ago) is not published again at the next tick. */
static void test_sync_republish_counts_from_the_publish(void **state)
{
    struct fixture *fx = *state;
    uint64_t at;
    append_own(fx, 1);
    start_ready(0, 0);
    ack(1);
    for (int i = 0; i < 100; i++) { /* 10 s, all acked, the broker answering */
        step();
        answer_pings();
    }
    clear_frames();
    append_own(fx, 1);
    assert_int_equal(count_kind(DUALSYNC__FRAME__KIND_PUBLISH), 1);
    at = fake_now_ms;
    clear_frames();
    while (count_kind(DUALSYNC__FRAME__KIND_PUBLISH) == 0) {
        step();
        answer_pings();
    }
    if (fake_now_ms - at <= 3 * HB)
        fail_msg("published again %llu ms after the publish, before 3 heartbeats",
                 (unsigned long long)(fake_now_ms - at));
    assert_true(fake_now_ms - at <= 3 * HB + STEP);
}

/* The same for the inbox: an entry announced (PONG) after a quiet while has 3 heartbeats
 * for its DELIVER before the node asks for it again (a HELLO costs the broker a WELCOME
 * and a window of reads). */
static void test_sync_resync_counts_from_the_head(void **state)
{
    struct fixture *fx = *state;
    struct node *n = fx->n;
    uint64_t at;
    start_ready(0, 0);
    for (int i = 0; i < 100; i++) { /* 10 s of an empty inbox */
        step();
        answer_pings();
    }
    clear_frames();
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Pong p = DUALSYNC__PONG__INIT;
    p.inbox_head = 1; /* an entry for us; its DELIVER is on its way */
    f.kind_case = DUALSYNC__FRAME__KIND_PONG;
    f.pong = &p;
    feed(&f);
    assert_int_equal(sync_view(n).inbox_head, 1);
    at = fake_now_ms;
    while (count_kind(DUALSYNC__FRAME__KIND_HELLO) == 0) {
        step();
        answer_pings();
    }
    if (fake_now_ms - at <= 3 * HB)
        fail_msg("inbox resync HELLO %llu ms after the head moved, before 3 heartbeats",
                 (unsigned long long)(fake_now_ms - at));
    assert_true(fake_now_ms - at <= 3 * HB + STEP);
    assert_int_equal(last_of(DUALSYNC__FRAME__KIND_HELLO)->hello->inbox_cursor, 0);
}

/* A HELLO that goes unanswered is said again after 1, 2, 4, 8, 8… heartbeats (jittered);
 * the broker's other frames keep the connection (no new socket). WELCOME resets the
 * backoff; a burst of HELLO_FIRST errors (one for each frame the broker did not take)
 * costs one HELLO, not one each. */
static void test_sync_hello_backoff(void **state)
{
    struct fixture *fx = *state;
    struct node *n = fx->n;
    unsigned hellos = 1;
    uint64_t last;
    sync_start(n);
    assert_int_equal(count_kind(DUALSYNC__FRAME__KIND_HELLO), 1);
    assert_false(last_of(DUALSYNC__FRAME__KIND_HELLO)->hello->resume); /* a new connection */
    last = fake_now_ms;
    clear_frames();
    while (hellos < 7) {
        step();
        pong(0); /* the broker is there (busy), it just does not answer the HELLO */
        if (count_kind(DUALSYNC__FRAME__KIND_HELLO) == 0) {
            if (fake_now_ms - last > backoff_hi(7) + STEP)
                fail_msg("no HELLO %u ms after the last", (unsigned)(fake_now_ms - last));
            continue;
        }
        assert_int_equal(count_kind(DUALSYNC__FRAME__KIND_HELLO), 1);
        /* a retry on the same connection: a broker that welcomed it resends nothing */
        assert_true(last_of(DUALSYNC__FRAME__KIND_HELLO)->hello->resume);
        uint64_t waited = fake_now_ms - last;
        if (waited < backoff_lo(hellos - 1) || waited > backoff_hi(hellos - 1) + STEP)
            fail_msg("HELLO %u came %llu ms after the last, not in [%llu, %llu]", hellos + 1,
                     (unsigned long long)waited, (unsigned long long)backoff_lo(hellos - 1),
                     (unsigned long long)(backoff_hi(hellos - 1) + STEP));
        hellos++;
        assert_int_equal(sync_view(n).hello_tries, hellos);
        last = fake_now_ms;
        clear_frames();
    }
    assert_int_equal(fake.connects, 1);
    assert_int_equal(sync_view(n).state, NODE_CONNECTING);

    welcome(STORE_A, 0, 0);
    assert_int_equal(sync_view(n).state, NODE_READY);
    assert_int_equal(sync_view(n).hello_tries, 0);

    clear_frames();
    for (int i = 0; i < 10; i++)
        broker_error(DUALSYNC__ERROR_CODE__ERROR_HELLO_FIRST, 0);
    assert_int_equal(sync_view(n).state, NODE_CONNECTING);
    assert_int_equal(count_kind(DUALSYNC__FRAME__KIND_HELLO), 1);
    /* the broker dropped the session: this HELLO must make it resend */
    assert_false(last_of(DUALSYNC__FRAME__KIND_HELLO)->hello->resume);
    /* the next one comes on the first step of the backoff, not sooner */
    last = fake_now_ms;
    clear_frames();
    while (count_kind(DUALSYNC__FRAME__KIND_HELLO) == 0) {
        step();
        pong(0);
    }
    assert_true(fake_now_ms - last >= backoff_lo(0));
    assert_true(fake_now_ms - last <= backoff_hi(0) + STEP);
}

/* Liveness is ours: a broker silent for 3 heartbeats gets a fresh socket and a new HELLO;
 * one silent on the new socket too gets the next after 3 heartbeats plus 1, 2, 4…
 * (jittered); any frame from the broker ends it. A broker that answers PINGs is never
 * left. */
static void test_sync_silent_broker_reconnects(void **state)
{
    struct fixture *fx = *state;
    struct node *n = fx->n;
    uint64_t last;
    start_ready(0, 0);
    for (int i = 0; i < 100; i++) { /* 10 s of a broker that answers */
        step();
        answer_pings();
    }
    assert_int_equal(fake.connects, 1);
    assert_int_equal(sync_view(n).state, NODE_READY);
    assert_true(count_kind(DUALSYNC__FRAME__KIND_PING) >= 9);

    last = fake_now_ms; /* the last PONG */
    for (unsigned reconnects = 0; reconnects < 5;) {
        size_t before = fake.connects;
        clear_frames();
        step();
        if (fake.connects == before) {
            if (fake_now_ms - last > 3 * HB + backoff_hi(7) + STEP)
                fail_msg("no new socket %u ms into the silence", (unsigned)(fake_now_ms - last));
            continue;
        }
        assert_int_equal(fake.connects, before + 1);
        assert_int_equal(count_kind(DUALSYNC__FRAME__KIND_HELLO), 1);
        assert_int_equal(sync_view(n).state, NODE_CONNECTING);
        uint64_t waited = fake_now_ms - last;
        uint64_t lo = reconnects ? 3 * HB + backoff_lo(reconnects - 1) : 3 * HB;
        uint64_t hi = reconnects ? 3 * HB + backoff_hi(reconnects - 1) : 3 * HB;
        if (waited <= lo || waited > hi + STEP)
            fail_msg("new socket %u came %llu ms after the last, not in (%llu, %llu]",
                     reconnects + 1, (unsigned long long)waited, (unsigned long long)lo,
                     (unsigned long long)(hi + STEP));
        reconnects++;
        last = fake_now_ms;
    }
    assert_int_equal(n->counters.reconnects, 6); /* the first socket counts too */

    welcome(STORE_A, 0, 0); /* the broker is back: the next silence starts afresh */
    assert_int_equal(sync_view(n).reconnect_tries, 0);
    last = fake_now_ms;
    size_t before = fake.connects;
    while (fake.connects == before) {
        step();
        assert_true(fake_now_ms - last <= 3 * HB + STEP);
    }
    assert_true(fake_now_ms - last > 3 * HB);
}

/* A WELCOME from another store (the broker lost its data, docs/OPERATIONS.md): the node
 * keeps the new id, resets its inbox cursor to 0 and forgets the street's log (the new
 * broker writes it anew under the same seqs), all durably, says HELLO again, and on the
 * next WELCOME publishes its whole log from the new stored_upto. The re-created directory
 * entries are applied, not taken for forks. */
static void test_sync_store_id_change_resets_cursor(void **state)
{
    struct fixture *fx = *state;
    struct node *n = fx->n;
    struct tu_event old_evs[2], new_evs[2];
    uint64_t first = 0, cursor = 99;
    append_own(fx, 3);
    dir_entry(fx, &old_evs[0], 1, COMMUNITY, &fx->community_keys);
    dir_entry(fx, &old_evs[1], 2, "community:other", &fx->community_keys);
    start_ready(0, 2);
    ack(3);
    deliver(1, old_evs, 2, 2);
    assert_int_equal(n->inbox_cursor, 2);
    assert_int_equal(eventlog_hwm(n->log, STREET), 2);

    broker_error(DUALSYNC__ERROR_CODE__ERROR_HELLO_FIRST, 0); /* the new broker knows no session */
    clear_frames();
    welcome(STORE_B, 0, 0);
    assert_int_equal(n->inbox_cursor, 0);
    assert_rc(eventlog_meta_u64(n->log, "inbox_cursor", 99, &cursor), DS_OK);
    assert_int_equal(cursor, 0);
    assert_int_equal(eventlog_hwm(n->log, STREET), 0);
    void *id = NULL;
    size_t id_len = 0;
    assert_rc(eventlog_meta_get(n->log, "broker_store_id", &id, &id_len), DS_OK);
    assert_int_equal(id_len, strlen(STORE_B));
    assert_memory_equal(id, STORE_B, id_len);
    free(id);
    assert_int_equal(count_kind(DUALSYNC__FRAME__KIND_PUBLISH), 0);
    const Dualsync__Hello *h = last_of(DUALSYNC__FRAME__KIND_HELLO)->hello;
    assert_int_equal(h->inbox_cursor, 0);
    assert_int_equal(h->broker_store_id.len, strlen(STORE_B));
    assert_memory_equal(h->broker_store_id.data, STORE_B, strlen(STORE_B));

    clear_frames();
    welcome(STORE_B, 0, 2);
    assert_int_equal(sync_view(n).state, NODE_READY);
    assert_int_equal(sync_view(n).acked, 0);
    assert_int_equal(published_events(&first), 3);
    assert_int_equal(first, 1);

    fake_now_ms += 5000; /* the new broker dates its entries anew: other bytes, same seqs */
    dir_entry(fx, &new_evs[0], 1, COMMUNITY, &fx->community_keys);
    dir_entry(fx, &new_evs[1], 2, "community:other", &fx->community_keys);
    assert_true(new_evs[0].len != old_evs[0].len ||
                memcmp(new_evs[0].raw, old_evs[0].raw, new_evs[0].len) != 0);
    deliver(1, new_evs, 2, 2);
    assert_int_equal(n->inbox_cursor, 2);
    assert_int_equal(n->counters.forks, 0);
    assert_int_equal(n->counters.applied, 4);
    for (int i = 0; i < 2; i++) {
        tu_event_free(&old_evs[i]);
        tu_event_free(&new_evs[i]);
    }
}

/* ERROR_AUTH, ERROR_SIDE, ERROR_FORK and ERROR_MALFORMED about an own event the broker has
 * not acked block the node: no more publishing (new letters wait in the log), deliveries
 * still applied, until a new session. The same about an acked event is stale: ignored —
 * except ERROR_AUTH, which the street's signature audit sends after the ACK. */
static void test_sync_refusal_blocks(void **state)
{
    static const Dualsync__ErrorCode codes[] = {
        DUALSYNC__ERROR_CODE__ERROR_AUTH,
        DUALSYNC__ERROR_CODE__ERROR_SIDE,
        DUALSYNC__ERROR_CODE__ERROR_FORK,
        DUALSYNC__ERROR_CODE__ERROR_MALFORMED,
    };
    struct fixture *fx = *state;
    struct node *n = fx->n;
    struct tu_event evs[4];
    uint64_t first = 0;
    start_ready(0, 0);
    for (size_t i = 0; i < 4; i++) {
        char org[IDS_ORG_MAX];
        snprintf(org, sizeof(org), "community:c%zu", i);
        dir_entry(fx, &evs[i], i + 1, org, &fx->community_keys);
    }
    for (size_t i = 0; i < 4; i++) {
        uint64_t base = n->own_seq;
        append_own(fx, 3);
        ack(base + 1);
        uint64_t errors = n->counters.broker_errors;

        bool audit = codes[i] == DUALSYNC__ERROR_CODE__ERROR_AUTH;
        broker_error(codes[i], base + 1); /* about an acked event */
        assert_int_equal(sync_view(n).state, audit ? NODE_BLOCKED : NODE_READY);
        broker_error(codes[i], base + 2);
        assert_int_equal(sync_view(n).state, NODE_BLOCKED);
        assert_int_equal(n->counters.broker_errors, errors + 2);
        assert_true(n->last_error[0] != '\0');

        clear_frames();
        append_own(fx, 1);
        for (int s = 0; s < 50; s++) { /* 5 s: more than the republish rule's 3 heartbeats */
            step();
            answer_pings();
        }
        assert_int_equal(count_kind(DUALSYNC__FRAME__KIND_PUBLISH), 0);
        assert_true(count_kind(DUALSYNC__FRAME__KIND_PING) > 0);
        deliver(i + 1, &evs[i], 1, i + 1);
        assert_int_equal(n->inbox_cursor, i + 1);
        assert_int_equal(last_of(DUALSYNC__FRAME__KIND_CONFIRM)->confirm->upto, i + 1);
        assert_int_equal(sync_view(n).state, NODE_BLOCKED);

        clear_frames(); /* a new session clears it: publishing resumes from stored_upto */
        welcome(STORE_A, base + 1, i + 1);
        assert_int_equal(sync_view(n).state, NODE_READY);
        assert_int_equal(published_events(&first), 3);
        assert_int_equal(first, base + 2);
        ack(n->own_seq);
    }
    for (size_t i = 0; i < 4; i++)
        tu_event_free(&evs[i]);
}

/* ERROR_BUSY (over the street's rate for unknown types): not blocking; publishing pauses
 * and resumes from the acked seq NODE_BUSY_RETRY_MS later, with no republish meanwhile.
 * A stale BUSY (about an acked event) changes nothing. */
static void test_sync_busy_retries_later(void **state)
{
    struct fixture *fx = *state;
    struct node *n = fx->n;
    uint64_t first = 0, at;
    append_own(fx, 3);
    start_ready(0, 0);
    ack(1);
    broker_error(DUALSYNC__ERROR_CODE__ERROR_BUSY, 1);
    assert_int_equal(sync_view(n).retry_at_ms, 0); /* stale */
    at = fake_now_ms;
    broker_error(DUALSYNC__ERROR_CODE__ERROR_BUSY, 2);
    assert_int_equal(sync_view(n).state, NODE_READY);
    assert_int_equal(sync_view(n).retry_at_ms, at + NODE_BUSY_RETRY_MS);
    clear_frames();
    append_own(fx, 1); /* written, not sent while the broker is busy */
    while (count_kind(DUALSYNC__FRAME__KIND_PUBLISH) == 0) {
        step();
        answer_pings();
        assert_true(fake_now_ms - at <= NODE_BUSY_RETRY_MS);
    }
    assert_int_equal(fake_now_ms - at, NODE_BUSY_RETRY_MS);
    assert_int_equal(published_events(&first), 3);
    assert_int_equal(first, 2);
    assert_int_equal(sync_view(n).retry_at_ms, 0);
    assert_int_equal(sync_view(n).state, NODE_READY);
}

/* ERROR_ROUTE (no route yet for the member): not blocking; the node publishes again from
 * the acked seq 5 heartbeats later. */
static void test_sync_route_retries_later(void **state)
{
    struct fixture *fx = *state;
    struct node *n = fx->n;
    uint64_t first = 0, at;
    append_own(fx, 4);
    start_ready(0, 0);
    ack(2);
    at = fake_now_ms;
    broker_error(DUALSYNC__ERROR_CODE__ERROR_ROUTE, 3);
    assert_int_equal(sync_view(n).state, NODE_READY);
    clear_frames();
    while (count_kind(DUALSYNC__FRAME__KIND_PUBLISH) == 0) {
        step();
        answer_pings();
        assert_true(fake_now_ms - at <= 5 * HB);
    }
    assert_int_equal(fake_now_ms - at, 5 * HB);
    assert_int_equal(published_events(&first), 2);
    assert_int_equal(first, 3);
    /* the retry is a fresh publish: its ACK gets 3 heartbeats, as any */
    at = fake_now_ms;
    clear_frames();
    while (count_kind(DUALSYNC__FRAME__KIND_PUBLISH) == 0) {
        step();
        answer_pings();
    }
    if (fake_now_ms - at <= 3 * HB)
        fail_msg("published again %llu ms after the retry, before 3 heartbeats",
                 (unsigned long long)(fake_now_ms - at));
}

/* ERROR_REFUSED (stored, delivered to nobody) is final and not blocking: counted and kept
 * once on the letter, said again it is not news. ERROR_CLAIMED is a notice, no error.
 * ERROR_SEQUENCE rewinds to the acked seq once: the errors of the frames sent before the
 * rewind are stale. */
static void test_sync_refused_claimed_sequence(void **state)
{
    struct fixture *fx = *state;
    struct node *n = fx->n;
    uint64_t first = 0;
    void *note = NULL;
    size_t note_len = 0;
    append_own(fx, 4);
    start_ready(0, 0);
    ack(2);

    broker_error(DUALSYNC__ERROR_CODE__ERROR_REFUSED, 2);
    broker_error(DUALSYNC__ERROR_CODE__ERROR_REFUSED, 2);
    assert_int_equal(sync_view(n).state, NODE_READY);
    assert_int_equal(n->counters.refused, 1);
    assert_int_equal(n->counters.broker_errors, 1);
    assert_rc(eventlog_meta_get(n->log, "refused/" UNIT "/2", &note, &note_len), DS_OK);
    free(note);

    broker_error(DUALSYNC__ERROR_CODE__ERROR_CLAIMED, 1);
    assert_int_equal(n->counters.broker_errors, 1);
    assert_rc(eventlog_meta_get(n->log, "claimed/" UNIT "/1", &note, &note_len), DS_OK);
    free(note);

    clear_frames();
    broker_error(DUALSYNC__ERROR_CODE__ERROR_SEQUENCE, 3);
    assert_int_equal(published_events(&first), 2);
    assert_int_equal(first, 3);
    clear_frames();
    broker_error(DUALSYNC__ERROR_CODE__ERROR_SEQUENCE, 4); /* a frame of before the rewind */
    assert_int_equal(count_kind(DUALSYNC__FRAME__KIND_PUBLISH), 0);
    assert_int_equal(sync_view(n).state, NODE_READY);
}

/* A broker that holds more of our events than our log (we lost our disk): needs-restore,
 * durably (a restart does not let us write either); writes refused with DS_ERESTORE,
 * nothing published. The restore fetches our events back, checks they are ours, and a
 * fresh WELCOME finds the node whole. */
static void test_sync_needs_restore_refuses_writes(void **state)
{
    struct fixture *fx = *state;
    struct node *n = fx->n;
    uint8_t *raws[5];
    size_t lens[5];
    uint64_t target = 0;
    char *to[1] = {COMMUNITY};
    for (size_t i = 0; i < 5; i++) {
        Dualsync__ResourceOffer b = DUALSYNC__RESOURCE_OFFER__INIT;
        uint8_t *body = NULL;
        size_t body_len = 0;
        b.title = "会议室";
        b.date = "2026-03-05";
        wire_pack(&b.base, &body, &body_len);
        node_build_event(n, i + 1, "", DUALSYNC__EVENT_TYPE__EVENT_RESOURCE_OFFER, body, body_len,
                         to, 1, &raws[i], &lens[i]);
        free(body);
    }
    /* the broker got 5, the data directory came back from a backup that has 2 */
    assert_rc(node_append(n, raws, lens, 2), DS_OK);

    sync_start(n);
    welcome(STORE_A, 5, 0);
    assert_int_equal(sync_view(n).state, NODE_NEEDS_RESTORE);
    assert_int_equal(n->restore_target, 5);
    assert_true(n->last_error[0] != '\0');
    assert_rc(eventlog_meta_u64(n->log, "restore_target", 0, &target), DS_OK);
    assert_int_equal(target, 5);
    assert_int_equal(write_code(n), DS_ERESTORE);
    clear_frames();
    for (int s = 0; s < 50; s++) {
        step();
        answer_pings();
    }
    assert_int_equal(count_kind(DUALSYNC__FRAME__KIND_PUBLISH), 0);
    assert_int_equal(sync_view(n).state, NODE_NEEDS_RESTORE);

    /* a restart remembers */
    node_close(&fx->n);
    open_node(fx);
    n = fx->n;
    assert_int_equal(sync_view(n).state, NODE_NEEDS_RESTORE);
    assert_int_equal(write_code(n), DS_ERESTORE);
    sync_start(n);
    welcome(STORE_A, 5, 0);
    assert_int_equal(sync_view(n).state, NODE_NEEDS_RESTORE);

    clear_frames();
    assert_rc(sync_restore_start(n), DS_OK);
    const Dualsync__Fetch *fr = last_of(DUALSYNC__FRAME__KIND_FETCH)->fetch;
    assert_int_equal(fr->from, 3);
    assert_int_equal(fr->upto, 5);
    clear_frames();
    fetched(3, &raws[2], &lens[2], 2);
    assert_int_equal(n->own_seq, 4);
    assert_int_equal(last_of(DUALSYNC__FRAME__KIND_FETCH)->fetch->from, 5);
    clear_frames();
    fetched(5, &raws[4], &lens[4], 1);
    assert_int_equal(n->own_seq, 5);
    assert_int_equal(sync_view(n).state, NODE_CONNECTING);
    assert_int_equal(last_of(DUALSYNC__FRAME__KIND_HELLO)->hello->own_seq, 5);
    clear_frames();
    welcome(STORE_A, 5, 0);
    assert_int_equal(sync_view(n).state, NODE_READY);
    assert_int_equal(count_kind(DUALSYNC__FRAME__KIND_PUBLISH), 0);
    assert_true(write_code(n) != DS_ERESTORE);
    for (size_t i = 0; i < 5; i++)
        free(raws[i]);
}

/* A restore takes only our own events: one signed by another key stops it, nothing
 * stored. */
static void test_sync_restore_refuses_foreign_events(void **state)
{
    struct fixture *fx = *state;
    struct node *n = fx->n;
    struct tu_event foreign;
    sync_start(n);
    welcome(STORE_A, 3, 0);
    assert_int_equal(sync_view(n).state, NODE_NEEDS_RESTORE);
    assert_rc(sync_restore_start(n), DS_OK);
    tu_event_make(&foreign, &fx->community_keys, UNIT, 1, fake_now_ms << HLC_COUNTER_BITS, "", 999,
                  NULL);
    fetched(1, &foreign.raw, &foreign.len, 1);
    assert_false(sync_view(n).restoring);
    assert_int_equal(n->own_seq, 0);
    assert_int_equal(eventlog_hwm(n->log, UNIT), 0);
    assert_int_equal(sync_view(n).state, NODE_NEEDS_RESTORE);
    tu_event_free(&foreign);
}

/* A node never welcomed cannot know whether the broker holds events of its org: it refuses
 * writes (DS_EAGAIN) until its first WELCOME. */
static void test_sync_writes_wait_for_first_welcome(void **state)
{
    struct fixture *fx = *state;
    struct node *n = fx->n;
    sync_start(n);
    assert_int_equal(write_code(n), DS_EAGAIN);
    welcome(STORE_A, 0, 0);
    int rc = write_code(n);
    assert_true(rc != DS_EAGAIN && rc != DS_ERESTORE);
}

/* The broker's ZAP handler refused our key: auth-refused, a new socket every second
 * (libzmq would not retry), and a handshake that succeeds says HELLO at once. */
static void test_sync_auth_refused_retries_every_second(void **state)
{
    struct fixture *fx = *state;
    struct node *n = fx->n;
    uint64_t at;
    sync_start(n);
    assert_non_null(fake.on_event);
    fake.on_event(fake.event_arg, TRANSPORT_AUTH_REFUSED);
    assert_int_equal(sync_view(n).state, NODE_AUTH_REFUSED);
    at = sync_view(n).session_start_ms;
    while (fake.connects == 1) {
        step();
        assert_true(fake_now_ms - at <= 1000);
    }
    assert_int_equal(fake_now_ms - at, 1000);
    assert_int_equal(sync_view(n).state, NODE_AUTH_REFUSED);
    clear_frames();
    fake.on_event(fake.event_arg, TRANSPORT_HANDSHAKE_OK);
    assert_int_equal(sync_view(n).state, NODE_CONNECTING);
    assert_int_equal(count_kind(DUALSYNC__FRAME__KIND_HELLO), 1);
    welcome(STORE_A, 0, 0);
    assert_int_equal(sync_view(n).state, NODE_READY);
}

/* The directory stream: a Directory frame is applied with its cursor in one commit and
 * confirmed; one that starts past the cursor (a frame lost) is not applied and asks for a
 * resend (HELLO with the cursor); a DELIVER that needs more of the directory than the node
 * holds is not applied either (a letter never before its author's card); an event in the
 * stream that is not a street directory entry of the frame's range is refused; a head heard of and
 * not reached asks again after the stall rule's wait. */
static void test_sync_directory_stream(void **state)
{
    struct fixture *fx = *state;
    struct node *n = fx->n;
    struct tu_event evs[3], letter;
    uint64_t durable = 0;
    dir_entry(fx, &evs[0], 1, COMMUNITY, &fx->community_keys);
    dir_entry(fx, &evs[1], 3, "community:other", &fx->community_keys);
    dir_entry(fx, &evs[2], 4, "community:third", &fx->community_keys);
    tu_event_intro(&letter, &fx->community_keys, COMMUNITY, 1, hlc_wall_ms() << 16, "m-1",
                   COMMUNITY, "Zhang", 30, "2026-03-01");
    start_ready(0, 0);
    clear_frames();

    directory(0, evs, 2, 3, 4); /* street seq 2 is a notice to others: not in the stream */
    assert_int_equal(n->dir_cursor, 3);
    assert_rc(eventlog_meta_u64(n->log, "directory_cursor", 0, &durable), DS_OK);
    assert_int_equal(durable, 3);
    assert_non_null(node_find_org(n, "community:other"));
    assert_int_equal(last_of(DUALSYNC__FRAME__KIND_CONFIRM)->confirm->directory_upto, 3);

    clear_frames();
    deliver_needing(1, &letter, 4); /* the entry of seq 4 was lost on the way */
    assert_int_equal(n->inbox_cursor, 0);
    assert_int_equal(count_kind(DUALSYNC__FRAME__KIND_CONFIRM), 0);
    assert_int_equal(count_kind(DUALSYNC__FRAME__KIND_HELLO), 1);
    assert_int_equal(last_of(DUALSYNC__FRAME__KIND_HELLO)->hello->directory_cursor, 3);
    welcome(STORE_A, 0, 1);

    clear_frames();
    directory(3, &evs[2], 1, 4, 4);
    deliver_needing(1, &letter, 4);
    assert_int_equal(n->dir_cursor, 4);
    assert_int_equal(n->inbox_cursor, 1); /* taken (whatever its own check says of it) */
    assert_int_equal(n->counters.rejected_invalid, 0);

    clear_frames();
    directory(6, evs, 1, 7, 7); /* a gap: nothing applied, a resend asked for */
    assert_int_equal(n->dir_cursor, 4);
    assert_int_equal(count_kind(DUALSYNC__FRAME__KIND_HELLO), 1);
    assert_false(last_of(DUALSYNC__FRAME__KIND_HELLO)->hello->resume);
    welcome(STORE_A, 0, 1);

    clear_frames();
    directory(4, &letter, 1, 7, 7); /* not a directory entry: refused, the stream goes on */
    assert_int_equal(n->counters.rejected_invalid, 1);
    assert_int_equal(n->dir_cursor, 7);
    directory(7, evs, 1, 8, 8); /* an entry outside the frame's range (seq 1): refused */
    assert_int_equal(n->counters.rejected_invalid, 2);
    assert_int_equal(n->dir_cursor, 8);
    assert_int_equal(last_of(DUALSYNC__FRAME__KIND_CONFIRM)->confirm->directory_upto, 8);

    /* the head moves on (a PONG says 9) and nothing comes: the stall rule asks again */
    clear_frames();
    sync_probe(n);
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Pong p = DUALSYNC__PONG__INIT;
    p.nonce = sync_view(n).ping_nonce;
    p.inbox_head = 1;
    p.directory_head = 9;
    f.kind_case = DUALSYNC__FRAME__KIND_PONG;
    f.pong = &p;
    feed(&f);
    assert_int_equal(sync_view(n).dir_head, 9);
    for (int i = 0; i < 60 && count_kind(DUALSYNC__FRAME__KIND_HELLO) == 0; i++) {
        step();
        answer_pings();
    }
    assert_int_equal(count_kind(DUALSYNC__FRAME__KIND_HELLO), 1);
    assert_int_equal(last_of(DUALSYNC__FRAME__KIND_HELLO)->hello->directory_cursor, 8);
    for (int i = 0; i < 3; i++)
        tu_event_free(&evs[i]);
    tu_event_free(&letter);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sync_hello_welcome_publishes_from_stored_upto, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sync_publish_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_confirm_after_durable_apply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_republish_backoff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_republish_counts_from_the_publish, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sync_resync_counts_from_the_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_hello_backoff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_silent_broker_reconnects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_store_id_change_resets_cursor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_directory_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_refusal_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_busy_retries_later, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_route_retries_later, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_refused_claimed_sequence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_needs_restore_refuses_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_restore_refuses_foreign_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_writes_wait_for_first_welcome, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_auth_refused_retries_every_second, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
