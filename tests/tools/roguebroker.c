/* ds-roguebroker: a hostile broker for tests (ds-rawpeer is a hostile node). Every event
 * a node receives passes the broker's checks first, so only a broker that lies can show
 * whether the node checks them again. This one holds the street's keys (a stopped real
 * broker's data directory), so the node's CURVE handshake pins it as its broker, and
 * delivers events it forged from real ones:
 *
 *   ds-roguebroker deliver --street BROKER_DIR --to NODE_DIR --log DIR [--deadline S] STEP...
 *     Binds the broker's endpoint (BROKER_DIR/broker.conf) with its CURVE keys and admits
 *     only the key of NODE_DIR's org. To every HELLO it answers a WELCOME that echoes the
 *     HELLO's broker_store_id (the node keeps its cursor) with stored_upto = the node's
 *     own_seq (it publishes nothing), then delivers the steps one DELIVER frame each, the
 *     first at inbox seq = the first HELLO's inbox_cursor + 1. It answers PINGs, and ends
 *     once the node has confirmed every step (exit 0) or at the deadline (exit 1).
 *     Output: {"node":org,"hellos":n,"first":F,"last":L,"confirmed":highest CONFIRM,
 *              "complete":bool,"delivered":[{"inbox_seq":s,"step":"...","event":"o/seq"}]}
 *
 *   ds-roguebroker publish --as NODE_DIR --log DIR [--deadline S] STEP...
 *     The other direction, to the real (running) broker: connects with NODE_DIR's keys,
 *     says HELLO, publishes the steps one PUBLISH frame each, waits for an ACK of each and
 *     then a PONG (the broker sends a frame's ERROR right after its ACK, so the PONG
 *     arrives after all of them). Exit 0 when all were answered, 1 at the deadline.
 *     Output: {"org":org,"welcomed":bool,"sent":n,"acks":n,"errors":{"<code>":count},
 *              "error_seqs":[seq,...],"complete":bool}
 *
 * A STEP is one argument, words separated by spaces. Each starts from the event ORG/SEQ
 * stored in DIR/db (the RocksDB of a stopped broker or node; keys/ of a running one are
 * readable, its db is locked); KEYDIR is a data directory whose keys/ sign:
 *   "copy ORG/SEQ"                 the stored bytes, unchanged (a resend)
 *   "tamper ORG/SEQ FROM TO"       the stored bytes with FROM replaced by TO (same length,
 *                                  FROM found exactly once, in the body) after signing:
 *                                  the signature no longer matches
 *   "resign ORG/SEQ KEYDIR"        the same Event bytes, signed with KEYDIR's key: an
 *                                  origin signed with another org's key
 *   "origin ORG/SEQ NEWORG KEYDIR" the same fields claiming origin NEWORG (e.g. one not in
 *                                  the directory), signed with KEYDIR's key
 *   "fork ORG/SEQ FROM TO KEYDIR"  the same (origin, seq) with FROM replaced by TO in the
 *                                  body, signed with KEYDIR's key (the origin's own: a
 *                                  valid signature on other bytes)
 * Every wait is bounded by the deadline (default 20 s). */
#include "config.h"
#include "err.h"
#include "eventlog.h"
#include "hlc.h"
#include "keys.h"
#include "log.h"
#include "transport.h"
#include "wire.h"
#include "xalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STEP_WORDS_MAX 6
#define ERR_MAX CONFIG_ERR_MAX

struct step {
    char *text; /* the step as given (borrowed from argv) */
    char event_id[IDS_EVENT_ID_MAX];
    uint8_t *raw; /* SignedEvent bytes to send */
    size_t len;
};

/* ---------------------------------------------------------------- building the steps */

/* The offset of the only occurrence of needle in hay, or -1 (none, or more than one). */
static long find_once(const uint8_t *hay, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    long at = -1;
    for (size_t i = 0; m > 0 && i + m <= n; i++) {
        if (memcmp(hay + i, needle, m) != 0)
            continue;
        if (at >= 0)
            return -1;
        at = (long)i;
    }
    return at;
}

static int load_keys(const char *dir, struct keys *keys_out, char *err)
{
    int rc = keys_load(dir, keys_out);
    if (rc != DS_OK)
        snprintf(err, ERR_MAX, "cannot load keys of %s: %s", dir, ds_errname(rc));
    return rc;
}

static void pack_signed(const uint8_t *envelope, size_t len, const uint8_t sig[KEYS_SIG_LEN],
                        uint8_t **raw_out, size_t *len_out)
{
    Dualsync__SignedEvent se = DUALSYNC__SIGNED_EVENT__INIT;
    se.event.data = (uint8_t *)envelope;
    se.event.len = len;
    se.sig.data = (uint8_t *)sig;
    se.sig.len = KEYS_SIG_LEN;
    wire_pack(&se.base, raw_out, len_out);
}

/* Builds the bytes of one step from the stored event it names. */
static int step_build(struct eventlog *log, char *text, struct step *out, char *err)
{
    char copy[1024], *words[STEP_WORDS_MAX], *save = NULL, origin[IDS_ORG_MAX];
    size_t n = 0;
    uint64_t seq = 0;
    uint8_t *stored = NULL, *body = NULL;
    size_t stored_len = 0;
    struct event ev;
    struct keys keys;
    bool opened = false;
    int rc = DS_EINVAL;

    snprintf(copy, sizeof(copy), "%s", text);
    for (char *w = strtok_r(copy, " ", &save); w && n < STEP_WORDS_MAX;
         w = strtok_r(NULL, " ", &save))
        words[n++] = w;
    const char *verb = n > 0 ? words[0] : "";
    if (n < 2 || !ids_event_id_parse(words[1], origin, &seq)) {
        snprintf(err, ERR_MAX, "step '%s': expected VERB ORG/SEQ ...", text);
        goto out;
    }
    rc = eventlog_get_raw(log, origin, seq, &stored, &stored_len);
    if (rc != DS_OK) {
        snprintf(err, ERR_MAX, "step '%s': %s/%llu not in the log: %s", text, origin,
                 (unsigned long long)seq, ds_errname(rc));
        goto out;
    }
    rc = wire_event_open(stored, stored_len, false, &ev);
    if (rc != DS_OK) {
        snprintf(err, ERR_MAX, "step '%s': the stored event does not open", text);
        goto out;
    }
    opened = true;
    rc = DS_EINVAL;
    out->text = text;
    ids_event_id(out->event_id, sizeof(out->event_id), origin, seq);
    if (strcmp(verb, "copy") == 0 && n == 2) {
        out->raw = stored;
        out->len = stored_len;
        stored = NULL;
    } else if (strcmp(verb, "tamper") == 0 && n == 4 && strlen(words[2]) == strlen(words[3])) {
        long at = find_once(stored, stored_len, words[2]);
        if (at < 0 || find_once(ev.body, ev.body_len, words[2]) < 0) {
            snprintf(err, ERR_MAX, "step '%s': '%s' is not once in the body", text, words[2]);
            goto out;
        }
        memcpy(stored + at, words[3], strlen(words[3]));
        out->raw = stored;
        out->len = stored_len;
        stored = NULL;
    } else if (strcmp(verb, "resign") == 0 && n == 3) {
        uint8_t sig[KEYS_SIG_LEN];
        if ((rc = load_keys(words[2], &keys, err)) != DS_OK)
            goto out;
        keys_sign(&keys, ev.envelope, ev.envelope_len, sig);
        pack_signed(ev.envelope, ev.envelope_len, sig, &out->raw, &out->len);
    } else if ((strcmp(verb, "origin") == 0 && n == 4) ||
               (strcmp(verb, "fork") == 0 && n == 5 && strlen(words[2]) == strlen(words[3]))) {
        bool fork = verb[0] == 'f';
        const char *new_origin = fork ? origin : words[2];
        if ((rc = load_keys(words[n - 1], &keys, err)) != DS_OK)
            goto out;
        rc = DS_EINVAL;
        body = xmalloc(ev.body_len + 1);
        if (ev.body_len)
            memcpy(body, ev.body, ev.body_len);
        if (fork) {
            long at = find_once(body, ev.body_len, words[2]);
            if (at < 0) {
                snprintf(err, ERR_MAX, "step '%s': '%s' is not once in the body", text, words[2]);
                goto out;
            }
            memcpy(body + at, words[3], strlen(words[3]));
        }
        if (!ids_org_valid(new_origin)) {
            snprintf(err, ERR_MAX, "step '%s': bad origin %s", text, new_origin);
            goto out;
        }
        wire_event_build_to(&keys, new_origin, seq, ev.hlc, ev.member, ev.type, body, ev.body_len,
                            ev.msg->to, ev.msg->n_to, &out->raw, &out->len);
        ids_event_id(out->event_id, sizeof(out->event_id), new_origin, seq);
    } else {
        snprintf(err, ERR_MAX, "step '%s': unknown step or wrong arguments", text);
        goto out;
    }
    rc = DS_OK;
out:
    if (opened)
        wire_event_release(&ev);
    free(stored);
    free(body);
    return rc;
}

/* Builds every step from the log under dir/db, which must not be in use. */
static int steps_build(const char *dir, char **texts, size_t n, struct step *steps, char *err)
{
    char path[4200];
    struct eventlog *log = NULL;
    snprintf(path, sizeof(path), "%s/db", dir);
    int rc = eventlog_open(path, STORE_WAL, &log);
    if (rc != DS_OK) {
        snprintf(err, ERR_MAX, "cannot open the log under %.300s: %s (is its process stopped?)",
                 dir, ds_errname(rc));
        return rc;
    }
    for (size_t i = 0; i < n && rc == DS_OK; i++)
        rc = step_build(log, texts[i], &steps[i], err);
    eventlog_destroy(&log);
    return rc;
}

static void steps_free(struct step *steps, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(steps[i].raw);
    free(steps);
}

static uint64_t deadline_after(double seconds)
{
    return hlc_wall_ms() + (uint64_t)(seconds * 1000.0);
}

static const char *error_name(int code)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&dualsync__error_code__descriptor, code);
    return v ? v->name : "unknown";
}

/* ---------------------------------------------------------------- deliver: the broker */

struct rogue {
    struct transport *t;
    struct broker_config cfg;
    char org[IDS_ORG_MAX]; /* the only node let in */
    uint8_t curve_pk[KEYS_PUB_LEN];
    struct step *steps;
    size_t n;
    uint64_t first; /* inbox seq of steps[0]; 0 until the first HELLO */
    uint64_t confirmed;
    unsigned hellos;
    uint64_t send_failures;
    uint64_t deadline_ms;
    bool complete;
};

static bool rogue_authorize(void *arg, const uint8_t key[KEYS_PUB_LEN], char org_out[IDS_ORG_MAX])
{
    struct rogue *r = arg;
    if (memcmp(key, r->curve_pk, KEYS_PUB_LEN) != 0)
        return false;
    snprintf(org_out, IDS_ORG_MAX, "%s", r->org);
    return true;
}

static void rogue_send(struct rogue *r, const struct transport_peer *peer, const Dualsync__Frame *f)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    wire_pack(&f->base, &buf, &len);
    if (transport_send_peer(r->t, peer, buf, len) != DS_OK)
        r->send_failures++;
    free(buf);
}

static uint64_t rogue_last(const struct rogue *r)
{
    return r->first + r->n - 1;
}

/* WELCOME (the node's own store id and seq: it keeps its cursor and publishes nothing),
 * then every step after the node's cursor, one DELIVER each. */
static void rogue_on_hello(struct rogue *r, const struct transport_peer *peer,
                           const Dualsync__Hello *h)
{
    r->hellos++;
    if (!r->first)
        r->first = h->inbox_cursor + 1;
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Welcome w = DUALSYNC__WELCOME__INIT;
    w.stored_upto = h->own_seq;
    w.store_id = h->broker_store_id;
    w.inbox_head = rogue_last(r);
    w.street = r->cfg.street;
    f.kind_case = DUALSYNC__FRAME__KIND_WELCOME;
    f.welcome = &w;
    rogue_send(r, peer, &f);
    uint64_t from = h->inbox_cursor + 1 > r->first ? h->inbox_cursor + 1 : r->first;
    for (uint64_t s = from; s <= rogue_last(r); s++) {
        Dualsync__Frame df = DUALSYNC__FRAME__INIT;
        Dualsync__Deliver d = DUALSYNC__DELIVER__INIT;
        ProtobufCBinaryData ev = {r->steps[s - r->first].len, r->steps[s - r->first].raw};
        d.first = s;
        d.n_events = 1;
        d.events = &ev;
        d.inbox_head = rogue_last(r);
        df.kind_case = DUALSYNC__FRAME__KIND_DELIVER;
        df.deliver = &d;
        rogue_send(r, peer, &df);
    }
}

static void rogue_on_frame(void *arg, const struct transport_peer *peer, const uint8_t *data,
                           size_t len)
{
    struct rogue *r = arg;
    Dualsync__Frame *f = wire_frame_unpack(data, len);
    if (!f)
        return;
    if (f->kind_case == DUALSYNC__FRAME__KIND_HELLO) {
        rogue_on_hello(r, peer, f->hello);
    } else if (f->kind_case == DUALSYNC__FRAME__KIND_CONFIRM) {
        if (f->confirm->upto > r->confirmed)
            r->confirmed = f->confirm->upto;
        if (r->first && r->confirmed >= rogue_last(r)) {
            r->complete = true;
            transport_stop(r->t);
        }
    } else if (f->kind_case == DUALSYNC__FRAME__KIND_PING) {
        Dualsync__Frame pf = DUALSYNC__FRAME__INIT;
        Dualsync__Pong p = DUALSYNC__PONG__INIT;
        p.nonce = f->ping->nonce;
        p.inbox_head = r->first ? rogue_last(r) : 0;
        pf.kind_case = DUALSYNC__FRAME__KIND_PONG;
        pf.pong = &p;
        rogue_send(r, peer, &pf);
    }
    wire_frame_free(f);
}

static void rogue_tick(void *arg)
{
    struct rogue *r = arg;
    if (hlc_wall_ms() >= r->deadline_ms)
        transport_stop(r->t);
}

static int run_deliver(const char *street_dir, const char *node_dir, double deadline_s,
                       struct step *steps, size_t n)
{
    struct rogue r;
    struct keys street_keys, node_keys;
    struct node_config ncfg;
    char err[CONFIG_ERR_MAX] = "", bound[CONFIG_ENDPOINT_MAX];
    memset(&r, 0, sizeof(r));
    if (config_broker_load(street_dir, &r.cfg, err) != DS_OK ||
        config_node_load(node_dir, &ncfg, err) != DS_OK ||
        load_keys(street_dir, &street_keys, err) != DS_OK ||
        load_keys(node_dir, &node_keys, err) != DS_OK) {
        fprintf(stderr, "ds-roguebroker: %s\n", err);
        return 1;
    }
    snprintf(r.org, sizeof(r.org), "%s", ncfg.org);
    memcpy(r.curve_pk, node_keys.curve_pk, KEYS_PUB_LEN);
    r.steps = steps;
    r.n = n;
    r.deadline_ms = deadline_after(deadline_s);
    r.t = transport_new();
    if (transport_listen(r.t, r.cfg.bind, &street_keys, rogue_authorize, rogue_on_frame, &r, bound,
                         sizeof(bound)) != DS_OK) {
        transport_destroy(&r.t);
        return 1;
    }
    transport_timer(r.t, 50, rogue_tick, &r);
    log_info("roguebroker: listening endpoint=%s node=%s steps=%zu", bound, r.org, n);
    transport_run(r.t);
    transport_destroy(&r.t);

    json_t *delivered = json_array();
    for (size_t i = 0; r.first && i < n; i++)
        json_array_append_new(delivered,
                              json_pack("{s:I,s:s,s:s}", "inbox_seq", (json_int_t)(r.first + i),
                                        "step", steps[i].text, "event", steps[i].event_id));
    json_t *out =
        json_pack("{s:s,s:i,s:I,s:I,s:I,s:b,s:I,s:o}", "node", r.org, "hellos", r.hellos, "first",
                  (json_int_t)r.first, "last", (json_int_t)(r.first ? rogue_last(&r) : 0),
                  "confirmed", (json_int_t)r.confirmed, "complete", r.complete, "send_failures",
                  (json_int_t)r.send_failures, "delivered", delivered);
    char *text = json_dumps(out, JSON_COMPACT);
    printf("%s\n", text);
    free(text);
    json_decref(out);
    return r.complete ? 0 : 1;
}

/* ---------------------------------------------------------------- publish: the node */

struct client {
    struct transport_client *c;
    uint64_t deadline_ms;
    bool welcomed;
    bool ponged;
    int acks;
    json_t *errors, *error_seqs;
};

/* DS_OK, DS_EAGAIN (not connected). */
static int client_send(struct client *cl, const Dualsync__Frame *f)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    wire_pack(&f->base, &buf, &len);
    int rc = transport_client_send(cl->c, buf, len, 1);
    free(buf);
    return rc;
}

/* Reads and tallies frames until done(cl) or the deadline. */
static bool client_wait(struct client *cl, bool (*done)(const struct client *, int), int want)
{
    while (!done(cl, want)) {
        uint64_t now = hlc_wall_ms();
        uint8_t *buf = NULL;
        size_t len = 0;
        if (now >= cl->deadline_ms)
            return false;
        if (transport_client_recv(cl->c, (int)(cl->deadline_ms - now), &buf, &len) != DS_OK)
            continue;
        Dualsync__Frame *f = wire_frame_unpack(buf, len);
        free(buf);
        if (!f)
            continue;
        if (f->kind_case == DUALSYNC__FRAME__KIND_WELCOME) {
            cl->welcomed = true;
        } else if (f->kind_case == DUALSYNC__FRAME__KIND_ACK) {
            cl->acks++;
        } else if (f->kind_case == DUALSYNC__FRAME__KIND_PONG) {
            cl->ponged = true;
        } else if (f->kind_case == DUALSYNC__FRAME__KIND_ERROR) {
            const char *name = error_name((int)f->error->code);
            json_t *c = json_object_get(cl->errors, name);
            json_object_set_new(cl->errors, name, json_integer(c ? json_integer_value(c) + 1 : 1));
            json_array_append_new(cl->error_seqs, json_integer((json_int_t)f->error->seq));
        }
        wire_frame_free(f);
    }
    return true;
}

static bool is_welcomed(const struct client *cl, int want)
{
    (void)want;
    return cl->welcomed;
}

static bool has_acks(const struct client *cl, int want)
{
    return cl->acks >= want;
}

static bool has_pong(const struct client *cl, int want)
{
    (void)want;
    return cl->ponged;
}

static int run_publish(const char *node_dir, double deadline_s, struct step *steps, size_t n)
{
    struct node_config cfg;
    struct keys keys;
    struct client cl;
    char err[CONFIG_ERR_MAX] = "";
    memset(&cl, 0, sizeof(cl));
    if (config_node_load(node_dir, &cfg, err) != DS_OK ||
        load_keys(node_dir, &keys, err) != DS_OK) {
        fprintf(stderr, "ds-roguebroker: %s\n", err);
        return 1;
    }
    if (transport_client_open(cfg.broker, cfg.street.curve_key, &keys, &cl.c) != DS_OK)
        return 1;
    cl.deadline_ms = deadline_after(deadline_s);
    cl.errors = json_object();
    cl.error_seqs = json_array();

    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Hello h = DUALSYNC__HELLO__INIT;
    h.org = cfg.org;
    h.proto = WIRE_PROTO_VERSION;
    f.kind_case = DUALSYNC__FRAME__KIND_HELLO;
    f.hello = &h;
    client_send(&cl, &f);
    bool complete = client_wait(&cl, is_welcomed, 0);
    int sent = 0;
    for (size_t i = 0; complete && i < n; i++) {
        Dualsync__Frame pf = DUALSYNC__FRAME__INIT;
        Dualsync__Publish pub = DUALSYNC__PUBLISH__INIT;
        ProtobufCBinaryData ev = {steps[i].len, steps[i].raw};
        pub.n_events = 1;
        pub.events = &ev;
        pf.kind_case = DUALSYNC__FRAME__KIND_PUBLISH;
        pf.publish = &pub;
        sent += client_send(&cl, &pf) == DS_OK;
    }
    complete = complete && sent == (int)n && client_wait(&cl, has_acks, sent);
    if (complete) { /* a frame's ERROR follows its ACK: the PONG comes after all of them */
        Dualsync__Frame pf = DUALSYNC__FRAME__INIT;
        Dualsync__Ping ping = DUALSYNC__PING__INIT;
        ping.nonce = 0x726f677565; /* "rogue" */
        pf.kind_case = DUALSYNC__FRAME__KIND_PING;
        pf.ping = &ping;
        client_send(&cl, &pf);
        complete = client_wait(&cl, has_pong, 0);
    }
    transport_client_close(&cl.c);
    json_t *out = json_pack("{s:s,s:b,s:i,s:i,s:o,s:o,s:b}", "org", cfg.org, "welcomed",
                            cl.welcomed, "sent", sent, "acks", cl.acks, "errors", cl.errors,
                            "error_seqs", cl.error_seqs, "complete", complete);
    char *text = json_dumps(out, JSON_COMPACT);
    printf("%s\n", text);
    free(text);
    json_decref(out);
    return complete ? 0 : 1;
}

/* ---------------------------------------------------------------- main */

static int usage(void)
{
    fprintf(stderr,
            "usage: ds-roguebroker deliver --street BROKER_DIR --to NODE_DIR --log DIR "
            "[--deadline S] STEP...\n"
            "       ds-roguebroker publish --as NODE_DIR --log DIR [--deadline S] STEP...\n"
            "STEP: \"copy ORG/SEQ\" | \"tamper ORG/SEQ FROM TO\" | \"resign ORG/SEQ KEYDIR\" |\n"
            "      \"origin ORG/SEQ NEWORG KEYDIR\" | \"fork ORG/SEQ FROM TO KEYDIR\"\n"
            "(see the header of tests/tools/roguebroker.c)\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *street = NULL, *to = NULL, *as = NULL, *log_dir = NULL;
    double deadline = 20.0;
    char err[ERR_MAX] = "";
    int i = 2;
    if (argc < 2)
        return usage();
    bool deliver = strcmp(argv[1], "deliver") == 0;
    if (!deliver && strcmp(argv[1], "publish") != 0)
        return usage();
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--street") == 0)
            street = argv[i + 1];
        else if (strcmp(argv[i], "--to") == 0)
            to = argv[i + 1];
        else if (strcmp(argv[i], "--as") == 0)
            as = argv[i + 1];
        else if (strcmp(argv[i], "--log") == 0)
            log_dir = argv[i + 1];
        else if (strcmp(argv[i], "--deadline") == 0)
            deadline = atof(argv[i + 1]);
        else
            return usage();
    }
    size_t n = (size_t)(argc - i);
    if (!log_dir || n == 0 || deadline <= 0 || (deliver ? !street || !to : !as))
        return usage();
    log_set_component("roguebroker");
    if (keys_crypto_init() != DS_OK)
        return 1;
    struct step *steps = xcalloc(n, sizeof(*steps));
    int rc = steps_build(log_dir, argv + i, n, steps, err);
    if (rc != DS_OK) {
        fprintf(stderr, "ds-roguebroker: %s\n", err);
        steps_free(steps, n);
        return 2;
    }
    rc =
        deliver ? run_deliver(street, to, deadline, steps, n) : run_publish(as, deadline, steps, n);
    steps_free(steps, n);
    return rc;
}
