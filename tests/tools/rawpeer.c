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
 *   unknown-type M    our next event: type 999 (from a "newer version") about member M
 *   bulk-unknown M    our next 200 events: type 999 about member M, each ~60 KiB, in
 *                     frames of 60: what the broker must deliver without one giant frame
 *   sig-batch M       one frame of our next 40 events (type 999 about M) whose 25th has a
 *                     corrupted signature: the broker verifies a frame on several threads
 *                     and must still store exactly the 24 before it
 *   flood M           our next 24,576 events (type 999 about M, small bodies) in full
 *                     frames, sent back to back: more than the broker lets wait for its
 *                     signature checks, so it must stop reading for a while and still
 *                     store every one
 * Output: {"welcomed":bool,"sent":n,"errors":{"<code>":count,...},"acks":n}.
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

struct peer {
    struct node_config cfg;
    struct keys keys;
    struct transport_client *c;
    json_t *errors;
    int acks;
    uint64_t stored_upto;
    bool welcomed;
};

static void send_frame(struct peer *p, const Dualsync__Frame *f)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    wire_pack(&f->base, &buf, &len);
    transport_client_send(p->c, buf, len, 1);
    free(buf);
}

/* Reads replies until quiet for timeout_ms, tallying them. */
static void drain(struct peer *p, int timeout_ms)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    while (transport_client_recv(p->c, timeout_ms, &buf, &len) == DS_OK) {
        Dualsync__Frame *f = wire_frame_unpack(buf, len);
        free(buf);
        if (!f)
            continue;
        if (f->kind_case == DUALSYNC__FRAME__KIND_WELCOME) {
            p->welcomed = true;
            p->stored_upto = f->welcome->stored_upto;
        } else if (f->kind_case == DUALSYNC__FRAME__KIND_ACK) {
            p->acks++;
        } else if (f->kind_case == DUALSYNC__FRAME__KIND_ERROR) {
            const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
                &dualsync__error_code__descriptor, (int)f->error->code);
            const char *name = v ? v->name : "unknown";
            json_t *n = json_object_get(p->errors, name);
            json_object_set_new(p->errors, name, json_integer(n ? json_integer_value(n) + 1 : 1));
        }
        wire_frame_free(f);
    }
}

static void hello(struct peer *p)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Hello h = DUALSYNC__HELLO__INIT;
    h.org = p->cfg.org;
    h.proto = WIRE_PROTO_VERSION;
    f.kind_case = DUALSYNC__FRAME__KIND_HELLO;
    f.hello = &h;
    send_frame(p, &f);
    drain(p, 500);
}

static void publish_one(struct peer *p, const uint8_t *raw, size_t len)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Publish pub = DUALSYNC__PUBLISH__INIT;
    ProtobufCBinaryData ev = {len, (uint8_t *)raw};
    pub.n_events = 1;
    pub.events = &ev;
    f.kind_case = DUALSYNC__FRAME__KIND_PUBLISH;
    f.publish = &pub;
    send_frame(p, &f);
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

/* A well-formed next event of ours: an introduction, or a body of an unknown type that an
 * older broker and node must store and forward without understanding it. */
static void build_valid(struct peer *p, const char *member, const char *community, bool intro,
                        uint8_t **raw, size_t *len)
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
                     member, intro ? DUALSYNC__EVENT_TYPE__EVENT_INTRODUCTION : 999u, body,
                     body_len, raw, len);
    free(body);
}

static void random_bytes(uint8_t *buf, size_t n);

static void bulk_unknown(struct peer *p, const char *member, int *sent)
{
    enum { TOTAL = 200, PER_FRAME = 60, BODY = 60 * 1024 };
    uint8_t *body = xmalloc(BODY);
    ProtobufCBinaryData evs[PER_FRAME];
    for (int done = 0; done < TOTAL;) {
        Dualsync__Frame f = DUALSYNC__FRAME__INIT;
        Dualsync__Publish pub = DUALSYNC__PUBLISH__INIT;
        int n = TOTAL - done < PER_FRAME ? TOTAL - done : PER_FRAME;
        for (int i = 0; i < n; i++) {
            random_bytes(body, BODY);
            wire_event_build(&p->keys, p->cfg.org, p->stored_upto + 1 + (uint64_t)(done + i),
                             hlc_wall_ms() << HLC_COUNTER_BITS, member, 999u, body, BODY,
                             &evs[i].data, &evs[i].len);
        }
        pub.n_events = (size_t)n;
        pub.events = evs;
        f.kind_case = DUALSYNC__FRAME__KIND_PUBLISH;
        f.publish = &pub;
        send_frame(p, &f);
        for (int i = 0; i < n; i++)
            free(evs[i].data);
        done += n;
        *sent += n;
        drain(p, 300);
    }
    free(body);
}

static void sig_batch(struct peer *p, const char *member, int *sent)
{
    enum { N = 40, BAD = 25 };
    ProtobufCBinaryData evs[N];
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Publish pub = DUALSYNC__PUBLISH__INIT;
    for (int i = 0; i < N; i++) {
        uint8_t body[8] = {(uint8_t)i};
        wire_event_build(&p->keys, p->cfg.org, p->stored_upto + 1 + (uint64_t)i,
                         hlc_wall_ms() << HLC_COUNTER_BITS, member, 999u, body, sizeof(body),
                         &evs[i].data, &evs[i].len);
    }
    evs[BAD - 1].data[evs[BAD - 1].len - 1] ^= 0x01; /* the signature is the last field */
    pub.n_events = N;
    pub.events = evs;
    f.kind_case = DUALSYNC__FRAME__KIND_PUBLISH;
    f.publish = &pub;
    send_frame(p, &f);
    for (int i = 0; i < N; i++)
        free(evs[i].data);
    *sent += N;
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
        for (int i = 0; i < PER_FRAME; i++) {
            uint8_t body[16] = {(uint8_t)k, (uint8_t)i};
            wire_event_build(&p->keys, p->cfg.org,
                             p->stored_upto + 1 + (uint64_t)(k * PER_FRAME + i),
                             hlc_wall_ms() << HLC_COUNTER_BITS, member, 999u, body, sizeof(body),
                             &evs[i].data, &evs[i].len);
        }
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

static void run_mode(struct peer *p, const char *mode, const char *arg, int *sent)
{
    int count = arg ? atoi(arg) : 1;
    uint8_t *raw = NULL;
    size_t len = 0;
    if (strcmp(mode, "garbage") == 0 || strcmp(mode, "multipart") == 0) {
        for (int i = 0; i < count; i++, (*sent)++) {
            uint8_t buf[4096];
            size_t n = 1 + (size_t)rand() % sizeof(buf);
            random_bytes(buf, n);
            transport_client_send(p->c, buf, n, strcmp(mode, "multipart") == 0 ? 2 : 1);
        }
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
    } else if (strcmp(mode, "oversize") == 0) {
        size_t n = WIRE_FRAME_MAX + 1024;
        uint8_t *big = xcalloc(1, n);
        transport_client_send(p->c, big, n, 1);
        free(big);
        (*sent)++;
    } else if (strcmp(mode, "foreign-origin") == 0 && arg) {
        build_event(p, arg, 1, false, &raw, &len);
        publish_one(p, raw, len);
        (*sent)++;
    } else if (strcmp(mode, "bad-sig") == 0 || strcmp(mode, "wrong-side") == 0) {
        build_event(p, p->cfg.org, p->stored_upto + 1, strcmp(mode, "wrong-side") == 0, &raw, &len);
        if (strcmp(mode, "bad-sig") == 0)
            raw[len - 1] ^= 0x01; /* the signature is the last field */
        publish_one(p, raw, len);
        (*sent)++;
    } else if ((strcmp(mode, "intro") == 0 || strcmp(mode, "unknown-type") == 0) && arg) {
        char member[IDS_MEMBER_MAX + 1] = "", community[IDS_ORG_MAX] = "";
        sscanf(arg, "%64[^,],%63s", member, community);
        build_valid(p, member, community, strcmp(mode, "intro") == 0, &raw, &len);
        publish_one(p, raw, len);
        (*sent)++;
    } else if (strcmp(mode, "bulk-unknown") == 0 && arg) {
        bulk_unknown(p, arg, sent);
    } else if (strcmp(mode, "sig-batch") == 0 && arg) {
        sig_batch(p, arg, sent);
    } else if (strcmp(mode, "flood") == 0 && arg) {
        flood(p, arg, sent);
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        exit(2);
    }
    free(raw);
}

int main(int argc, char **argv)
{
    struct peer p;
    char err[CONFIG_ERR_MAX] = "";
    int sent = 0;
    unsigned seed = 1;
    if (argc < 3) {
        fprintf(stderr, "usage: ds-rawpeer NODE_DIR MODE [ARG] [--seed N]\n");
        return 2;
    }
    if (argc >= 6 && strcmp(argv[4], "--seed") == 0)
        seed = (unsigned)atoi(argv[5]);
    srand(seed);
    memset(&p, 0, sizeof(p));
    p.errors = json_object();
    if (config_node_load(argv[1], &p.cfg, err) != DS_OK || keys_crypto_init() != DS_OK ||
        keys_load(argv[1], &p.keys) != DS_OK) {
        fprintf(stderr, "cannot load node dir %s: %s\n", argv[1], err);
        return 1;
    }
    if (transport_client_open(p.cfg.broker, p.cfg.street.curve_key, &p.keys, &p.c) != DS_OK)
        return 1;
    hello(&p);
    run_mode(&p, argv[2], argc > 3 && strncmp(argv[3], "--", 2) != 0 ? argv[3] : NULL, &sent);
    drain(&p, 700);
    json_t *out = json_pack("{s:b,s:i,s:i,s:O}", "welcomed", p.welcomed, "sent", sent, "acks",
                            p.acks, "errors", p.errors);
    char *text = json_dumps(out, JSON_COMPACT);
    printf("%s\n", text);
    free(text);
    json_decref(out);
    json_decref(p.errors);
    transport_client_close(&p.c);
    return 0;
}
