/* ds-rawpeer: a hostile node for tests. It authenticates with a real org's keys (from an
 * initialised, not running, node data directory), says HELLO, then sends what a correct
 * node never would, and reports the broker's answers as JSON:
 *   garbage N         frames of random bytes
 *   truncated N       valid PUBLISH frames cut at random points
 *   multipart N       two-part messages
 *   oversize          one frame above the broker's frame limit
 *   foreign-origin O  an event claiming origin O, signed with our key
 *   bad-sig           our own next event with a corrupted signature
 *   wrong-side        an event type our side may not author, correctly signed
 *   intro M,C         (a unit) our next event: a valid introduction of member M to C
 *   unknown-type M    our next --count events (1) of type --type (999, one a "newer
 *                     version" made) about member M, each with --body random bytes (64),
 *                     in one frame
 *   bulk-unknown M    our next 200 events: type 999 about member M, each with --body bytes
 *                     (8,192: the broker's limit for unknown types), in frames of 60, read
 *                     as we go
 *   letters M         our next --count events (3,000): corrections about member M
 *                     of our own seq 1 (its introduction), each with --body bytes of text
 *                     (4,000; at most 4,096), in frames within WIRE_FRAME_BUDGET, sent back
 *                     to back; then waits for their ACK. A known type, so any number pass
 *                     the broker; the fold keeps none of that text (a correction of an
 *                     introduction changes only its name or contact): a big inbox
 *   sig-batch M       one frame of our next 40 events (type 999 about M) whose 25th has a
 *                     corrupted signature: the broker checks the first before its ACK and
 *                     stores all 40; its audit finds the 25th and blocks our org
 *   flood M           our next 24,576 events (corrections as in letters, 8 bytes of
 *                     text) in full frames, sent back to back: more than one org may have
 *                     waiting for signature checks (BROKER_PEER_VERIFY_EVENTS), so the
 *                     broker refuses the frames beyond it unchecked while it keeps reading
 *                     everyone
 * The attacks of issue 11 (a valid key that does not play fair); with --hold S the peer
 * then keeps its connections open S seconds without reading anything:
 *   hello-flood N     N HELLOs, never reading (not even the WELCOME): each asks the
 *                     broker to send the inbox again
 *   fetch-flood N     N FETCHes of our own events from seq 1, never reading
 *   badsig-flood N    one frame of 1,024 of our next events, every signature corrupted,
 *                     sent N times: the broker must stop at the first bad one and
 *                     disconnect us after BROKER_STRIKES_MAX refused frames
 *   conn-flood N      N more connections with our key, each saying HELLO: the broker's
 *                     handshake admits TRANSPORT_CONNS_PER_KEY in all
 * Options: --seed N, --hold S, --type N, --body BYTES, --count N (as above).
 * Output: {"welcomed":bool,"sent":n,"errors":{"<code>":count,...},"acks":n,
 *          "acked":upto,"welcomed_conns":n}.
 * It then reads the answers it knows are coming (one per frame the broker reads whole), for
 * up to 10 s, and 200 ms more for any after them; 700 ms of quiet where it cannot know
 * (dropped frames, floods). A peer whose handshake is refused (banned, one connection too
 * many) sends nothing after its HELLO and says "welcomed":false at once.
 * Random choices come from a fixed seed (--seed) so a failing run can be repeated. */
#include "config.h"
#include "err.h"
#include "hlc.h"
#include "keys.h"
#include "transport.h"
#include "wire.h"
#include "xalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How long the peer waits for the answers it knows are coming (a sanitized broker is slow),
 * then for anything after them, and for anything at all when it cannot know; and how long
 * the extra connections of conn-flood have to be welcomed. */
enum { ANSWER_WAIT_MS = 10000, AFTER_ANSWERS_MS = 200, QUIET_MS = 700, CONN_WELCOME_MS = 3000 };

struct peer {
    struct node_config cfg;
    struct keys keys;
    struct transport_client *c;
    json_t *errors;
    int acks;
    int answers;    /* ACKs and ERRORs: each frame a mode sends is answered by one */
    uint64_t acked; /* the highest ACK upto */
    uint64_t stored_upto;
    bool welcomed;
    int welcomed_conns; /* conn-flood: connections that got a WELCOME */
    struct transport_client *extra[64];
    size_t n_extra;
    /* --type, --body, --count: 0 when not given */
    uint32_t type;
    size_t body;
    int count;
};

static void send_frame(struct peer *p, const Dualsync__Frame *f);

/* One PUBLISH frame of the n signed events evs. */
static void send_publish(struct peer *p, ProtobufCBinaryData *evs, size_t n)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Publish pub = DUALSYNC__PUBLISH__INIT;
    pub.n_events = n;
    pub.events = evs;
    f.kind_case = DUALSYNC__FRAME__KIND_PUBLISH;
    f.publish = &pub;
    send_frame(p, &f);
}

static void send_frame(struct peer *p, const Dualsync__Frame *f)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    wire_pack(&f->base, &buf, &len);
    transport_client_send(p->c, buf, len, 1);
    free(buf);
}

/* Tallies one reply (buf is freed). */
static void tally(struct peer *p, uint8_t *buf, size_t len)
{
    Dualsync__Frame *f = wire_frame_unpack(buf, len);
    free(buf);
    if (!f)
        return;
    if (f->kind_case == DUALSYNC__FRAME__KIND_WELCOME) {
        p->welcomed = true;
        p->stored_upto = f->welcome->stored_upto;
    } else if (f->kind_case == DUALSYNC__FRAME__KIND_ACK) {
        p->acks++;
        p->answers++;
        if (f->ack->upto > p->acked)
            p->acked = f->ack->upto;
    } else if (f->kind_case == DUALSYNC__FRAME__KIND_ERROR) {
        const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
            &dualsync__error_code__descriptor, (int)f->error->code);
        const char *name = v ? v->name : "unknown";
        p->answers++;
        json_t *n = json_object_get(p->errors, name);
        json_object_set_new(p->errors, name, json_integer(n ? json_integer_value(n) + 1 : 1));
    }
    wire_frame_free(f);
}

/* Reads replies until quiet for timeout_ms, tallying them. */
static void drain(struct peer *p, int timeout_ms)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    while (transport_client_recv(p->c, timeout_ms, &buf, &len) == DS_OK)
        tally(p, buf, len);
}

/* Reads replies until answers ACKs and ERRORs in all have come, for at most timeout_ms: a
 * slow broker (a sanitized build) gets the whole deadline, a fast one none of it. */
static void await_answers(struct peer *p, int answers, int timeout_ms)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    uint64_t end = hlc_wall_ms() + (uint64_t)timeout_ms;
    while (p->answers < answers && hlc_wall_ms() < end)
        if (transport_client_recv(p->c, 100, &buf, &len) == DS_OK)
            tally(p, buf, len);
}

/* Reads replies until an ACK covers upto or an ERROR comes, for at most timeout_ms. */
static void wait_acked(struct peer *p, uint64_t upto, int timeout_ms)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    uint64_t end = hlc_wall_ms() + (uint64_t)timeout_ms;
    while (p->acked < upto && json_object_size(p->errors) == 0 && hlc_wall_ms() < end)
        if (transport_client_recv(p->c, 100, &buf, &len) == DS_OK)
            tally(p, buf, len);
}

static void pack_hello(struct peer *p, uint8_t **buf, size_t *len)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Hello h = DUALSYNC__HELLO__INIT;
    h.org = p->cfg.org;
    h.proto = WIRE_PROTO_VERSION;
    f.kind_case = DUALSYNC__FRAME__KIND_HELLO;
    f.hello = &h;
    wire_pack(&f.base, buf, len);
}

static void hello(struct peer *p, bool read)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    pack_hello(p, &buf, &len);
    transport_client_send(p->c, buf, len, 1);
    free(buf);
    if (!read)
        return;
    /* The WELCOME first, however slow the broker is (its stored_upto numbers our next
     * events: without it they would start at 1 and be forks), then what follows it. */
    uint8_t *r = NULL;
    size_t rlen = 0;
    for (int waited = 0; !p->welcomed && waited < 5000 && !transport_client_refused(p->c);
         waited += 100)
        if (transport_client_recv(p->c, 100, &r, &rlen) == DS_OK)
            tally(p, r, rlen);
    drain(p, 100); /* the deliveries that follow it, which no mode counts */
}

/* Sends frame (owned by the caller) n times and never reads. */
static void send_n(struct peer *p, const uint8_t *frame, size_t len, int n, int *sent)
{
    for (int i = 0; i < n; i++) {
        if (transport_client_send(p->c, frame, len, 1) != DS_OK)
            break; /* disconnected: libzmq holds no more for us */
        (*sent)++;
    }
}

static void hello_flood(struct peer *p, int n, int *sent)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    pack_hello(p, &buf, &len);
    send_n(p, buf, len, n, sent);
    free(buf);
}

static void fetch_flood(struct peer *p, int n, int *sent)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Fetch req = DUALSYNC__FETCH__INIT;
    uint8_t *buf = NULL;
    size_t len = 0;
    req.from = 1;
    req.upto = UINT64_MAX;
    f.kind_case = DUALSYNC__FRAME__KIND_FETCH;
    f.fetch = &req;
    wire_pack(&f.base, &buf, &len);
    send_n(p, buf, len, n, sent);
    free(buf);
}

/* Flips the last bit of an event's signature, wherever it is in the SignedEvent (a letter
 * with a personal part has that part after it). */
static void corrupt_signature(uint8_t *raw, size_t len)
{
    struct event ev;
    if (wire_event_open(raw, len, false, &ev) != DS_OK)
        return;
    for (size_t i = 0; i + KEYS_SIG_LEN <= len; i++)
        if (memcmp(raw + i, ev.sig, KEYS_SIG_LEN) == 0) {
            raw[i + KEYS_SIG_LEN - 1] ^= 0x01;
            break;
        }
    wire_event_release(&ev);
}

static void badsig_flood(struct peer *p, const char *member, int n, int *sent)
{
    enum { N = WIRE_EVENTS_PER_FRAME };
    ProtobufCBinaryData *evs = xcalloc(N, sizeof(*evs));
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Publish pub = DUALSYNC__PUBLISH__INIT;
    uint8_t *buf = NULL;
    size_t len = 0;
    for (int i = 0; i < N; i++) {
        uint8_t body[8] = {(uint8_t)i};
        wire_event_build(&p->keys, p->cfg.org, p->stored_upto + 1 + (uint64_t)i,
                         hlc_wall_ms() << HLC_COUNTER_BITS, member, 999u, body, sizeof(body),
                         &evs[i].data, &evs[i].len);
        corrupt_signature(evs[i].data, evs[i].len);
    }
    pub.n_events = N;
    pub.events = evs;
    f.kind_case = DUALSYNC__FRAME__KIND_PUBLISH;
    f.publish = &pub;
    wire_pack(&f.base, &buf, &len);
    for (int i = 0; i < N; i++)
        free(evs[i].data);
    free(evs);
    /* Once banned, our connection is gone and a send waits for one that never comes. */
    transport_client_set_send_timeout(p->c, 1000);
    for (int i = 0; i < n; i++) { /* read as we go: the ERRORs, then the end */
        if (transport_client_send(p->c, buf, len, 1) != DS_OK)
            break;
        (*sent)++;
        drain(p, 20);
    }
    free(buf);
}

/* More connections with our key, each saying HELLO; counts those welcomed. */
static void conn_flood(struct peer *p, int n, int *sent)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    pack_hello(p, &buf, &len);
    for (int i = 0; i < n && p->n_extra < sizeof(p->extra) / sizeof(p->extra[0]); i++) {
        struct transport_client *c = NULL;
        if (transport_client_open(p->cfg.broker, p->cfg.street.curve_key, &p->keys, &c) != DS_OK)
            break;
        p->extra[p->n_extra++] = c;
        transport_client_send(c, buf, len, 1);
        (*sent)++;
    }
    free(buf);
    /* All of them at once: a refused handshake never answers, so each one not welcomed
     * costs the whole wait, and one wait for all of them is enough. */
    bool decided[sizeof(p->extra) / sizeof(p->extra[0])] = {false}; /* welcomed or refused */
    uint64_t end = hlc_wall_ms() + CONN_WELCOME_MS;
    for (int left = (int)p->n_extra; left > 0 && hlc_wall_ms() < end;) {
        for (size_t i = 0; i < p->n_extra; i++) {
            uint8_t *r = NULL;
            size_t rlen = 0;
            if (decided[i])
                continue;
            if (transport_client_refused(p->extra[i])) {
                decided[i] = true;
                left--;
                continue;
            }
            if (transport_client_recv(p->extra[i], 10, &r, &rlen) != DS_OK)
                continue;
            Dualsync__Frame *f = wire_frame_unpack(r, rlen);
            if (f && f->kind_case == DUALSYNC__FRAME__KIND_WELCOME) {
                decided[i] = true;
                left--;
                p->welcomed_conns++;
            }
            wire_frame_free(f);
            free(r);
        }
    }
}

static void publish_one(struct peer *p, const uint8_t *raw, size_t len)
{
    ProtobufCBinaryData ev = {len, (uint8_t *)raw};
    send_publish(p, &ev, (size_t)(1));
}

/* A signed event: a report-in for a unit (wrong side), an introduction for a community. */
static void build_event(struct peer *p, const char *origin, uint64_t seq, bool wrong_side,
                        uint8_t **raw, size_t *len)
{
    bool unit = ids_org_kind(p->cfg.org) == ORG_UNIT;
    uint8_t *body = NULL;
    size_t body_len = 0;
    uint32_t type;
    if (unit != wrong_side) {
        Dualsync__Introduction b = DUALSYNC__INTRODUCTION__INIT;
        b.community = (char *)"community:nowhere";
        b.name = (char *)"x";
        b.report_days = 30;
        b.date = (char *)"2026-01-01";
        wire_pack(&b.base, &body, &body_len);
        type = DUALSYNC__EVENT_TYPE__EVENT_INTRODUCTION;
    } else {
        Dualsync__ReportIn b = DUALSYNC__REPORT_IN__INIT;
        b.date = (char *)"2026-01-01";
        wire_pack(&b.base, &body, &body_len);
        type = DUALSYNC__EVENT_TYPE__EVENT_REPORT_IN;
    }
    wire_event_build(&p->keys, origin, seq, hlc_wall_ms() << HLC_COUNTER_BITS, "M-hostile", type,
                     body, body_len, raw, len);
    free(body);
}

/* A well-formed next event of ours: an introduction of member to community. */
static void build_intro(struct peer *p, const char *member, const char *community, uint8_t **raw,
                        size_t *len)
{
    uint8_t *body = NULL;
    size_t body_len = 0;
    Dualsync__Introduction b = DUALSYNC__INTRODUCTION__INIT;
    b.community = (char *)community;
    b.name = (char *)"未来版本";
    b.report_days = 30;
    b.date = (char *)"2026-01-01";
    wire_pack(&b.base, &body, &body_len);
    wire_event_build(&p->keys, p->cfg.org, p->stored_upto + 1, hlc_wall_ms() << HLC_COUNTER_BITS,
                     member, DUALSYNC__EVENT_TYPE__EVENT_INTRODUCTION, body, body_len, raw, len);
    free(body);
}

static void random_bytes(uint8_t *buf, size_t n);

/* Our next --count events of type --type (from a "newer version": an older broker and
 * node must store and forward them without understanding them), in one frame. */
static void unknown_type(struct peer *p, const char *member, int *sent)
{
    size_t n = p->count > 0 ? (size_t)p->count : 1, body_len = p->body ? p->body : 64;
    uint8_t *body = xmalloc(body_len);
    ProtobufCBinaryData *evs = xcalloc(n, sizeof(*evs));
    for (size_t i = 0; i < n; i++) {
        random_bytes(body, body_len);
        wire_event_build(&p->keys, p->cfg.org, p->stored_upto + 1 + i,
                         hlc_wall_ms() << HLC_COUNTER_BITS, member, p->type ? p->type : 999u, body,
                         body_len, &evs[i].data, &evs[i].len);
    }
    send_publish(p, evs, (size_t)(n));
    *sent += (int)n;
    for (size_t i = 0; i < n; i++)
        free(evs[i].data);
    free(evs);
    free(body);
}

static void bulk_unknown(struct peer *p, const char *member, int *sent)
{
    enum { TOTAL = 200, PER_FRAME = 60 }; /* frames within WIRE_FRAME_BUDGET */
    size_t body_len = p->body ? p->body : 8192;
    uint8_t *body = xmalloc(body_len);
    ProtobufCBinaryData evs[PER_FRAME];
    for (int done = 0; done < TOTAL;) {
        int n = TOTAL - done < PER_FRAME ? TOTAL - done : PER_FRAME;
        for (int i = 0; i < n; i++) {
            random_bytes(body, body_len);
            wire_event_build(&p->keys, p->cfg.org, p->stored_upto + 1 + (uint64_t)(done + i),
                             hlc_wall_ms() << HLC_COUNTER_BITS, member, 999u, body, body_len,
                             &evs[i].data, &evs[i].len);
        }
        int answers = p->answers + 1;
        send_publish(p, evs, (size_t)((size_t)n));
        for (int i = 0; i < n; i++)
            free(evs[i].data);
        done += n;
        *sent += n;
        await_answers(p, answers, ANSWER_WAIT_MS); /* read as we go */
    }
    free(body);
}

static void sig_batch(struct peer *p, const char *member, int *sent)
{
    enum { N = 40, BAD = 25 };
    ProtobufCBinaryData evs[N];
    for (int i = 0; i < N; i++) {
        uint8_t body[8] = {(uint8_t)i};
        wire_event_build(&p->keys, p->cfg.org, p->stored_upto + 1 + (uint64_t)i,
                         hlc_wall_ms() << HLC_COUNTER_BITS, member, 999u, body, sizeof(body),
                         &evs[i].data, &evs[i].len);
    }
    corrupt_signature(evs[BAD - 1].data, evs[BAD - 1].len);
    send_publish(p, evs, (size_t)(N));
    for (int i = 0; i < N; i++)
        free(evs[i].data);
    *sent += N;
}

/* Our event seq: a correction about member of our own seq 1 (its text is text). */
static void build_letter(struct peer *p, const char *member, uint64_t seq, const char *text,
                         ProtobufCBinaryData *out)
{
    char target[IDS_EVENT_ID_MAX];
    Dualsync__Correction b = DUALSYNC__CORRECTION__INIT;
    uint8_t *body = NULL;
    size_t body_len = 0;
    snprintf(target, sizeof(target), "%s/1", p->cfg.org);
    b.target = target;
    b.reason = (char *)"rawpeer";
    b.date = (char *)"2026-01-01";
    b.text = (char *)text;
    wire_pack(&b.base, &body, &body_len);
    wire_event_build(&p->keys, p->cfg.org, seq, hlc_wall_ms() << HLC_COUNTER_BITS, member,
                     DUALSYNC__EVENT_TYPE__EVENT_CORRECTION, body, body_len, &out->data, &out->len);
    free(body);
}

static void letters(struct peer *p, const char *member, int *sent)
{
    size_t total = p->count > 0 ? (size_t)p->count : 3000;
    size_t text_len = p->body ? p->body : 4000;
    char *text = xmalloc(text_len + 1);
    memset(text, 'x', text_len);
    text[text_len] = '\0';
    ProtobufCBinaryData *evs = xcalloc(WIRE_EVENTS_PER_FRAME, sizeof(*evs));
    for (size_t done = 0; done < total;) {
        size_t n = 0, bytes = 0;
        while (done + n < total && n < WIRE_EVENTS_PER_FRAME && bytes < WIRE_FRAME_BUDGET) {
            build_letter(p, member, p->stored_upto + 1 + done + n, text, &evs[n]);
            bytes += evs[n++].len;
        }
        send_publish(p, evs, (size_t)(n));
        for (size_t i = 0; i < n; i++)
            free(evs[i].data);
        done += n;
        *sent += (int)n;
    }
    free(evs);
    free(text);
    wait_acked(p, p->stored_upto + total, 60000);
}

static void flood(struct peer *p, const char *member, int *sent)
{
    enum { FRAMES = 24, PER_FRAME = WIRE_EVENTS_PER_FRAME };
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Publish pub = DUALSYNC__PUBLISH__INIT;
    ProtobufCBinaryData *evs = xcalloc(PER_FRAME, sizeof(*evs));
    uint8_t **frames = xcalloc(FRAMES, sizeof(*frames));
    size_t *lens = xcalloc(FRAMES, sizeof(*lens));
    for (int k = 0; k < FRAMES; k++) { /* all signed first, so that they go out at once */
        for (int i = 0; i < PER_FRAME; i++)
            build_letter(p, member, p->stored_upto + 1 + (uint64_t)(k * PER_FRAME + i), "flooding",
                         &evs[i]);
        pub.n_events = PER_FRAME;
        pub.events = evs;
        f.kind_case = DUALSYNC__FRAME__KIND_PUBLISH;
        f.publish = &pub;
        wire_pack(&f.base, &frames[k], &lens[k]);
        for (int i = 0; i < PER_FRAME; i++)
            free(evs[i].data);
    }
    bool refused = false;
    for (int k = 0; k < FRAMES; k++) {
        /* counted only when ZeroMQ took it (a full queue refuses after its send timeout) */
        refused = refused || transport_client_send(p->c, frames[k], lens[k], 1) != DS_OK;
        if (!refused)
            *sent += PER_FRAME;
        free(frames[k]);
    }
    free(lens);
    free(frames);
    free(evs);
}

static void random_bytes(uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)(rand() & 0xFF);
}

/* Sends what mode says; returns how many more answers (ACKs, ERRORs) are sure to come: one
 * per frame the broker reads whole, or -1 when that depends on the broker (frames it drops,
 * floods it cuts off). */
static int run_mode(struct peer *p, const char *mode, const char *arg, int *sent)
{
    int count = arg ? atoi(arg) : 1, answers = 1;
    uint8_t *raw = NULL;
    size_t len = 0;
    if (strcmp(mode, "garbage") == 0) {
        for (int i = 0; i < count; i++, (*sent)++) {
            uint8_t buf[4096];
            size_t n = 1 + (size_t)rand() % sizeof(buf);
            random_bytes(buf, n);
            transport_client_send(p->c, buf, n, 1);
        }
        answers = count;
    } else if (strcmp(mode, "multipart") == 0) {
        for (int i = 0; i < count; i++, (*sent)++) {
            uint8_t buf[4096];
            size_t n = 1 + (size_t)rand() % sizeof(buf);
            random_bytes(buf, n);
            transport_client_send(p->c, buf, n, 2);
        }
        answers = -1;
    } else if (strcmp(mode, "truncated") == 0) {
        build_event(p, p->cfg.org, p->stored_upto + 1, false, &raw, &len);
        Dualsync__Frame f = DUALSYNC__FRAME__INIT;
        Dualsync__Publish pub = DUALSYNC__PUBLISH__INIT;
        ProtobufCBinaryData ev = {len, raw};
        uint8_t *frame = NULL;
        size_t flen = 0;
        pub.n_events = 1;
        pub.events = &ev;
        f.kind_case = DUALSYNC__FRAME__KIND_PUBLISH;
        f.publish = &pub;
        wire_pack(&f.base, &frame, &flen);
        for (int i = 0; i < count; i++, (*sent)++)
            transport_client_send(p->c, frame, 1 + (size_t)rand() % (flen - 1), 1);
        free(frame);
        answers = count;
    } else if (strcmp(mode, "oversize") == 0) {
        size_t n = WIRE_FRAME_MAX + 1024;
        uint8_t *big = xcalloc(1, n);
        transport_client_send(p->c, big, n, 1);
        free(big);
        (*sent)++;
        answers = -1;
    } else if (strcmp(mode, "foreign-origin") == 0 && arg) {
        build_event(p, arg, 1, false, &raw, &len);
        publish_one(p, raw, len);
        (*sent)++;
    } else if (strcmp(mode, "bad-sig") == 0 || strcmp(mode, "wrong-side") == 0) {
        build_event(p, p->cfg.org, p->stored_upto + 1, strcmp(mode, "wrong-side") == 0, &raw, &len);
        if (strcmp(mode, "bad-sig") == 0)
            corrupt_signature(raw, len);
        publish_one(p, raw, len);
        (*sent)++;
    } else if (strcmp(mode, "intro") == 0 && arg) {
        char member[IDS_MEMBER_MAX + 1] = "", community[IDS_ORG_MAX] = "";
        sscanf(arg, "%64[^,],%63s", member, community);
        build_intro(p, member, community, &raw, &len);
        publish_one(p, raw, len);
        (*sent)++;
    } else if (strcmp(mode, "unknown-type") == 0 && arg) {
        unknown_type(p, arg, sent);
    } else if (strcmp(mode, "letters") == 0 && arg) {
        letters(p, arg, sent);
        answers = -1;
    } else if (strcmp(mode, "bulk-unknown") == 0 && arg) {
        bulk_unknown(p, arg, sent);
        answers = 0;
    } else if (strcmp(mode, "sig-batch") == 0 && arg) {
        sig_batch(p, arg, sent);
    } else if (strcmp(mode, "flood") == 0 && arg) {
        flood(p, arg, sent);
        answers = -1;
    } else if (strcmp(mode, "hello-flood") == 0) {
        hello_flood(p, count, sent);
    } else if (strcmp(mode, "fetch-flood") == 0) {
        fetch_flood(p, count, sent);
    } else if (strcmp(mode, "badsig-flood") == 0) {
        badsig_flood(p, "M-hostile", count, sent);
        answers = -1;
    } else if (strcmp(mode, "conn-flood") == 0) {
        conn_flood(p, count, sent);
        answers = 0;
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        exit(2);
    }
    free(raw);
    return answers;
}

/* Modes that must not read the broker's answers (a peer that never reads). */
static bool silent_mode(const char *mode)
{
    return strcmp(mode, "hello-flood") == 0 || strcmp(mode, "fetch-flood") == 0;
}

int main(int argc, char **argv)
{
    struct peer p;
    char err[CONFIG_ERR_MAX] = "";
    int sent = 0, hold_s = 0;
    unsigned seed = 1;
    if (argc < 3) {
        fprintf(stderr, "usage: ds-rawpeer NODE_DIR MODE [ARG] [--seed N] [--hold S] [--type N] "
                        "[--body BYTES] [--count N]\n");
        return 2;
    }
    memset(&p, 0, sizeof(p));
    for (int i = 3; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--seed") == 0)
            seed = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--hold") == 0)
            hold_s = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--type") == 0)
            p.type = (uint32_t)strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--body") == 0)
            p.body = (size_t)strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--count") == 0)
            p.count = atoi(argv[i + 1]);
    }
    srand(seed);
    if (p.count > (int)WIRE_EVENTS_PER_FRAME && strcmp(argv[2], "letters") != 0) {
        fprintf(stderr, "--count: at most %u events in one frame\n", WIRE_EVENTS_PER_FRAME);
        return 2;
    }
    p.errors = json_object();
    if (config_node_load(argv[1], &p.cfg, err) != DS_OK || keys_crypto_init() != DS_OK ||
        keys_load(argv[1], &p.keys) != DS_OK) {
        fprintf(stderr, "cannot load node dir %s: %s\n", argv[1], err);
        return 1;
    }
    if (transport_client_open(p.cfg.broker, p.cfg.street.curve_key, &p.keys, &p.c) != DS_OK)
        return 1;
    bool silent = silent_mode(argv[2]);
    hello(&p, !silent);
    /* Not welcomed: the broker refused the handshake, and libzmq would hold what we sent
     * until its send timeout. */
    if (silent || p.welcomed) {
        int before = p.answers;
        int answers = run_mode(&p, argv[2],
                               argc > 3 && strncmp(argv[3], "--", 2) != 0 ? argv[3] : NULL, &sent);
        if (hold_s > 0)
            sleep((unsigned)hold_s); /* connections open, nothing read */
        if (!silent && answers > 0)
            await_answers(&p, before + answers, ANSWER_WAIT_MS);
        if (!silent)
            drain(&p, answers >= 0 ? AFTER_ANSWERS_MS : QUIET_MS);
    }
    json_t *out = json_pack("{s:b,s:i,s:i,s:I,s:O,s:i}", "welcomed", p.welcomed, "sent", sent,
                            "acks", p.acks, "acked", (json_int_t)p.acked, "errors", p.errors,
                            "welcomed_conns", p.welcomed_conns);
    char *text = json_dumps(out, JSON_COMPACT);
    printf("%s\n", text);
    free(text);
    json_decref(out);
    json_decref(p.errors);
    for (size_t i = 0; i < p.n_extra; i++)
        transport_client_close(&p.extra[i]);
    transport_client_close(&p.c);
    return 0;
}
