/* transport: the ZeroMQ side of dualsync.
 * Design notes:
 * - libzmq's CURVE server accepts any client key unless a ZAP handler answers; ours runs in
 *   the same loop (a REP socket on inproc://zeromq.zap.01, bound before the server socket)
 *   and replies with the org id as User-Id, which libzmq then attaches to every message of
 *   that connection. The broker trusts that, never the org named inside a frame.
 * - ROUTER_MANDATORY makes a send to a vanished peer an error instead of a silent drop,
 *   and MAXMSGSIZE makes libzmq cut off a peer that sends an oversize frame before we ever
 *   allocate for it.
 * - Sends never block (ZMQ_DONTWAIT): a slow peer must cost only its own queue. Anything
 *   dropped is re-sent from RocksDB by the protocol, never from socket buffers.
 * - zloop gives us pollers and timers; messages are read with raw libzmq so that the
 *   User-Id metadata is available. */
#include "transport.h"

#include "chaos.h"
#include "err.h"
#include "hist.h"
#include "log.h"
#include "owner.h"
#include "wire.h"
#include "xalloc.h"

#include <czmq.h>
#include <errno.h>
#include <malloc.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define READ_BURST 64 /* messages handled per wake-up, so one peer cannot starve timers */
/* The server reads more per wake-up: between two reads the loop may store a few thousand
 * checked events (100–300 ms), and a street of 2,500 nodes sends several hundred PINGs
 * and CONFIRMs a second; reading 64 at a time let them wait until their sessions looked
 * silent (BENCHMARKS.md, city-year). Most frames are cheap to take: a PUBLISH is queued
 * for the verify workers. */
#define SERVER_READ_BURST 1024
#define SERVER_READ_MS 50
/* Handshakes approved and not yet followed by a first frame are counted against their
 * key for this long; a connection that sends nothing for as long is closed. */
#define FIRST_FRAME_MS 10000u
#define CONN_SWEEP_MS 1000

/* A connection of the server (see "connections" below). */
struct conn {
    bool used;
    bool seen; /* a message arrived on it: org and id are known */
    char org[IDS_ORG_MAX];
    uint8_t id[TRANSPORT_PEER_ID_MAX];
    size_t id_len;
    uint64_t since_ms;
    struct sockaddr_storage addr;
    socklen_t addr_len;
};

/* A handshake the ZAP handler approved, until its connection's first frame. */
struct approval {
    char org[IDS_ORG_MAX];
    uint64_t ms;
};

struct timer_ctx {
    struct transport *t;
    transport_timer_fn fn;
    void *arg;
};

#define MAX_TIMERS 8

struct transport {
    zloop_t *loop;
    struct hist turns; /* how long each handler held the loop (transport_loop_turns) */
    struct timer_ctx timers[MAX_TIMERS];
    size_t n_timers;
    bool stopping;
    struct chaos *chaos;       /* NULL unless DS_CHAOS is set */
    transport_clock_fn now_ms; /* the timeouts' clock: monotonic unless a test sets one */
    void *now_arg;
    struct transport_link *links;    /* open links (a broker's), each with its own chaos */
    struct chaos_stats links_closed; /* the chaos counts of links closed since */
    /* server */
    zsock_t *router;
    zsock_t *zap;
    zmq_pollitem_t router_item, zap_item;
    transport_authorize_fn authorize;
    transport_peer_frame_fn on_peer_frame;
    void *server_arg;
    bool reads_paused;
    bool backlog; /* the last read burst ended with frames still waiting */
    zsock_t *server_monitor;
    zmq_pollitem_t server_monitor_item;
    struct conn *conns; /* by descriptor */
    size_t n_conns;
    struct approval *approvals;
    size_t n_approvals, cap_approvals;
    unsigned conns_per_key; /* 0: no cap */
    /* an extra descriptor to watch (the broker's verify workers) */
    struct watched_fd {
        zmq_pollitem_t item;
        struct transport *t;
        transport_timer_fn fn;
        void *arg;
    } watched[TRANSPORT_WATCH_MAX];
    size_t n_watched;
    /* client */
    zsock_t *dealer;
    zmq_pollitem_t dealer_item;
    transport_frame_fn on_frame;
    void *client_arg;
    zsock_t *monitor;
    zmq_pollitem_t monitor_item;
    unsigned monitor_seq;
    transport_event_fn on_event;
    void *event_arg;
    /* control */
    zsock_t *ctl;
    zmq_pollitem_t ctl_item;
    transport_ctl_fn on_ctl;
    void *ctl_arg;
    struct transport_stats stats;
};

/* The transport's durations (a connection's first frame, a read burst, the chaos
 * schedule) are measured on a clock that never steps back: with the wall clock, an NTP
 * step backwards made every connection still waiting for its first frame look silent for
 * ages, and it was closed. */
static uint64_t monotonic_ms(void *arg)
{
    (void)arg;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t now_ms(const struct transport *t)
{
    return t->now_ms(t->now_arg);
}

static void transport_disconnect(struct transport *t);
static void drain_more(void *sock);
static void raw_send_peer(void *arg, const void *peer, const uint8_t *data, size_t len);
static void raw_send_dealer(void *arg, const void *peer, const uint8_t *data, size_t len);

static int on_chaos_flush(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    struct transport *t = arg;
    /* Held frames keep their kind of destination: a peer id for the router, none for the
     * dealer. */
    chaos_flush(t->chaos, now_ms(t), t->router ? raw_send_peer : raw_send_dealer, t);
    return 0;
}

/* libzmq decodes small messages inside a shared 8 KiB read buffer (18 KiB with its
 * bookkeeping), and libsodium's CURVE decrypts them in place, so every received message
 * keeps the whole buffer of the read it came in alive until the application closes it.
 * A 10-byte PING queued behind a busy loop then holds 18 KiB: with 2,500 connections,
 * 42,000 such buffers (765 MiB) were alive at once while the broker caught up
 * (BENCHMARKS.md, heaptrack). Without zero copy each message owns its own bytes (none
 * at all up to 33 bytes), at the cost of one memcpy. The option is a DRAFT context
 * option in zmq.h; stable libzmq 4.3 honours it, so it is named here by its number. */
#ifndef ZMQ_ZERO_COPY_RECV
#define ZMQ_ZERO_COPY_RECV 10
#endif

static void context_init(void)
{
    void *ctx = zsys_init();
    zsys_set_logstream(NULL);
    if (zmq_ctx_get(ctx, ZMQ_ZERO_COPY_RECV) != 0 && zmq_ctx_set(ctx, ZMQ_ZERO_COPY_RECV, 0) != 0)
        log_warn("transport: libzmq refused ZERO_COPY_RECV=0 (%s): a queued message holds "
                 "a whole read buffer",
                 zmq_strerror(zmq_errno()));
}

bool transport_zero_copy_recv(void)
{
    return zmq_ctx_get(zsys_init(), ZMQ_ZERO_COPY_RECV) != 0;
}

void transport_set_clock(struct transport *t, transport_clock_fn fn, void *arg)
{
    t->now_ms = fn ? fn : monotonic_ms;
    t->now_arg = fn ? arg : NULL;
}

struct transport *transport_new(void)
{
    struct transport *t = xcalloc(1, sizeof(*t));
    bool bad = false;
    context_init();
    t->now_ms = monotonic_ms;
    t->loop = zloop_new();
    t->conns_per_key = TRANSPORT_CONNS_PER_KEY;
    const char *spec = getenv("DS_CHAOS");
    t->chaos = chaos_new(spec, &bad);
    if (bad) /* a test's mistake: it runs without faults and its chaos counters stay 0 */
        log_error("transport: DS_CHAOS does not parse (want drop=,dup=,reorder=,delay=,seed=); "
                  "no faults injected");
    if (spec && spec[0] && !CHAOS_BUILT)
        log_warn("transport: DS_CHAOS is set but this build has no fault injection "
                 "(-DDS_CHAOS=OFF): ignored");
    if (t->chaos)
        zloop_timer(t->loop, 10, 0, on_chaos_flush, t);
    return t;
}

void transport_destroy(struct transport **tp)
{
    struct transport *t = *tp;
    if (!t)
        return;
    transport_disconnect(t);
    zloop_destroy(&t->loop);
    if (t->server_monitor) {
        zmq_socket_monitor(zsock_resolve(t->router), NULL, 0);
        zsock_destroy(&t->server_monitor);
    }
    zsock_destroy(&t->router);
    free(t->conns);
    free(t->approvals);
    /* The ZAP endpoint is one per process (CZMQ's global context) and closing a socket
     * releases its endpoints asynchronously; unbinding is immediate, so another
     * transport of this process (a test's next case) can bind it at once. */
    if (t->zap)
        zsock_unbind(t->zap, ZAP_ENDPOINT);
    zsock_destroy(&t->zap);
    zsock_destroy(&t->ctl);
    chaos_destroy(&t->chaos);
    free(t);
    *tp = NULL;
}

/* One turn of the loop: a handler's run from its call to its return (everything else
 * waits meanwhile: frames, timers, control requests). */
static void count_turn(struct transport *t, uint64_t since_ns)
{
    uint64_t now = hist_now_ns();
    hist_add(&t->turns, now > since_ns ? now - since_ns : 0);
}

const struct hist *transport_loop_turns(const struct transport *t)
{
    return &t->turns;
}

static int on_timer(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    struct timer_ctx *ctx = arg;
    uint64_t start = hist_now_ns();
    ctx->fn(ctx->arg);
    count_turn(ctx->t, start);
    return 0;
}

void transport_timer(struct transport *t, size_t ms, transport_timer_fn fn, void *arg)
{
    if (t->n_timers == MAX_TIMERS) {
        log_error("transport: too many timers max=%d", MAX_TIMERS);
        return;
    }
    struct timer_ctx *ctx = &t->timers[t->n_timers++];
    ctx->t = t;
    ctx->fn = fn;
    ctx->arg = arg;
    zloop_timer(t->loop, ms, 0, on_timer, ctx);
}

static int on_stop_check(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    struct transport *t = arg;
    return t->stopping ? -1 : 0;
}

void transport_run(struct transport *t)
{
    zloop_timer(t->loop, 50, 0, on_stop_check, t);
    zloop_start(t->loop);
}

void transport_stop(struct transport *t)
{
    t->stopping = true;
}

/* ---------------------------------------------------------------- connections
 * The server's connections by descriptor, so that it can cap them per key and close one:
 * libzmq names a ROUTER's connection only by its routing id and has no call to close it.
 * A received message carries its connection's descriptor (ZMQ_SRCFD); a monitor on the
 * ROUTER reports descriptors accepted and closed. shutdown(2) on a descriptor makes
 * libzmq's engine see the end of the stream and close the connection itself, freeing
 * what it queued. The peer address recorded with a descriptor guards every use against
 * a number reused by a newer connection. */

static bool peer_addr(int fd, struct sockaddr_storage *addr, socklen_t *len)
{
    *len = sizeof(*addr);
    memset(addr, 0, sizeof(*addr));
    return getpeername(fd, (struct sockaddr *)addr, len) == 0;
}

/* Whether descriptor fd is still the connection recorded in c. */
static bool conn_alive(const struct conn *c, int fd)
{
    struct sockaddr_storage addr;
    socklen_t len;
    return peer_addr(fd, &addr, &len) && len == c->addr_len && memcmp(&addr, &c->addr, len) == 0;
}

static struct conn *conn_at(struct transport *t, int fd)
{
    if (fd < 0)
        return NULL;
    if ((size_t)fd >= t->n_conns) {
        size_t n = t->n_conns ? t->n_conns : 64;
        while (n <= (size_t)fd)
            n *= 2;
        t->conns = xrealloc(t->conns, n * sizeof(*t->conns));
        memset(t->conns + t->n_conns, 0, (n - t->n_conns) * sizeof(*t->conns));
        t->n_conns = n;
    }
    return &t->conns[fd];
}

/* A newly accepted descriptor (or one first seen in a message): recorded, unseen. */
static struct conn *conn_open(struct transport *t, int fd, uint64_t now)
{
    struct conn *c = conn_at(t, fd);
    if (!c)
        return NULL;
    memset(c, 0, sizeof(*c));
    if (!peer_addr(fd, &c->addr, &c->addr_len))
        return NULL; /* already gone */
    c->used = true;
    c->since_ms = now;
    return c;
}

static void approval_add(struct transport *t, const char *org, uint64_t now)
{
    if (t->n_approvals == t->cap_approvals) {
        t->cap_approvals = t->cap_approvals ? 2 * t->cap_approvals : 16;
        t->approvals = xrealloc(t->approvals, t->cap_approvals * sizeof(*t->approvals));
    }
    struct approval *a = &t->approvals[t->n_approvals++];
    snprintf(a->org, sizeof(a->org), "%s", org);
    a->ms = now;
}

/* Drops expired approvals and, when org is given, the oldest one of org. */
static void approvals_prune(struct transport *t, const char *org, uint64_t now)
{
    size_t kept = 0;
    bool used = org == NULL;
    for (size_t i = 0; i < t->n_approvals; i++) {
        struct approval *a = &t->approvals[i];
        if (now - a->ms > FIRST_FRAME_MS)
            continue;
        if (!used && strcmp(a->org, org) == 0) {
            used = true;
            continue;
        }
        t->approvals[kept++] = *a;
    }
    t->n_approvals = kept;
}

/* Connections of org: open and seen, plus handshakes approved for it and not yet seen. */
static size_t conn_count(struct transport *t, const char *org, uint64_t now)
{
    size_t n = 0;
    approvals_prune(t, NULL, now);
    for (size_t i = 0; i < t->n_approvals; i++)
        n += strcmp(t->approvals[i].org, org) == 0;
    for (size_t fd = 0; fd < t->n_conns; fd++) {
        struct conn *c = &t->conns[fd];
        if (!c->used || !c->seen || strcmp(c->org, org) != 0)
            continue;
        if (conn_alive(c, (int)fd))
            n++;
        else
            c->used = false; /* closed without our hearing of it */
    }
    return n;
}

/* A message from peer arrived on descriptor fd. */
static void conn_note(struct transport *t, int fd, const struct transport_peer *peer)
{
    struct conn *c = fd >= 0 && (size_t)fd < t->n_conns ? &t->conns[fd] : NULL;
    if (c && c->used && c->seen && c->id_len == peer->id_len &&
        memcmp(c->id, peer->id, peer->id_len) == 0)
        return; /* the usual case: nothing new */
    uint64_t now = now_ms(t);
    if (!c || !c->used || c->seen) /* unknown, or a newer connection under a reused number */
        c = conn_open(t, fd, now);
    if (!c)
        return;
    c->seen = true;
    snprintf(c->org, sizeof(c->org), "%s", peer->org);
    memcpy(c->id, peer->id, peer->id_len);
    c->id_len = peer->id_len;
    approvals_prune(t, peer->org, now); /* its handshake is now this connection */
}

static void conn_close(struct transport *t, int fd, struct conn *c)
{
    if (conn_alive(c, fd) && shutdown(fd, SHUT_RDWR) == 0)
        t->stats.conns_closed++;
    c->used = false; /* libzmq closes it; DISCONNECTED follows */
}

void transport_set_conns_per_key(struct transport *t, unsigned max)
{
    t->conns_per_key = max;
}

int transport_close_org(struct transport *t, const char *org)
{
    int n = 0;
    for (size_t fd = 0; fd < t->n_conns; fd++) {
        struct conn *c = &t->conns[fd];
        if (c->used && c->seen && strcmp(c->org, org) == 0) {
            conn_close(t, (int)fd, c);
            n++;
        }
    }
    return n;
}

int transport_close_peer(struct transport *t, const struct transport_peer *peer)
{
    for (size_t fd = 0; fd < t->n_conns; fd++) {
        struct conn *c = &t->conns[fd];
        if (c->used && c->seen && c->id_len == peer->id_len &&
            memcmp(c->id, peer->id, peer->id_len) == 0) {
            conn_close(t, (int)fd, c);
            return DS_OK;
        }
    }
    return DS_ENOTFOUND;
}

/* Closes connections that sent nothing within FIRST_FRAME_MS of being accepted (a node
 * says HELLO at once), so that silent connections cannot get around the cap. Not while
 * frames wait unread: their first frame may be among them. */
static int on_conn_sweep(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    struct transport *t = arg;
    uint64_t now = now_ms(t);
    if (t->reads_paused || t->backlog)
        return 0;
    for (size_t fd = 0; fd < t->n_conns; fd++) {
        struct conn *c = &t->conns[fd];
        if (c->used && !c->seen && now - c->since_ms > FIRST_FRAME_MS) {
            log_info("transport: connection silent for %u ms after its handshake, closed",
                     FIRST_FRAME_MS);
            conn_close(t, (int)fd, c);
        }
    }
    return 0;
}

/* Monitor messages: frame 1 is 6 bytes (uint16 event, uint32 value: the descriptor for
 * ACCEPTED and DISCONNECTED), frame 2 the endpoint. */
static int on_server_monitor(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void)loop;
    (void)item;
    struct transport *t = arg;
    void *sock = zsock_resolve(t->server_monitor);
    for (int i = 0; i < READ_BURST; i++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            break;
        }
        uint16_t event = 0;
        uint32_t value = 0;
        if (zmq_msg_size(&m) >= 6) {
            memcpy(&event, zmq_msg_data(&m), 2);
            memcpy(&value, (const uint8_t *)zmq_msg_data(&m) + 2, 4);
        }
        zmq_msg_close(&m);
        drain_more(sock);
        struct conn *c = value < t->n_conns ? &t->conns[value] : NULL;
        if (event == ZMQ_EVENT_ACCEPTED && !(c && c->used))
            conn_open(t, (int)value, now_ms(t));
        else if (event == ZMQ_EVENT_DISCONNECTED && c)
            c->used = false;
    }
    return 0;
}

static void server_monitor_start(struct transport *t)
{
    char ep[64];
    snprintf(ep, sizeof(ep), "inproc://ds-server-monitor-%p", (void *)t);
    if (zmq_socket_monitor(zsock_resolve(t->router), ep,
                           ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) != 0) {
        log_warn("transport: server monitor unavailable: %s", zmq_strerror(zmq_errno()));
        return;
    }
    t->server_monitor = zsock_new(ZMQ_PAIR);
    zsock_set_linger(t->server_monitor, 0);
    if (zsock_connect(t->server_monitor, "%s", ep) != 0) {
        zsock_destroy(&t->server_monitor);
        return;
    }
    t->server_monitor_item = (zmq_pollitem_t){zsock_resolve(t->server_monitor), 0, ZMQ_POLLIN, 0};
    zloop_poller(t->loop, &t->server_monitor_item, on_server_monitor, t);
    zloop_timer(t->loop, CONN_SWEEP_MS, 0, on_conn_sweep, t);
}

/* ---------------------------------------------------------------- ZAP */

static void zap_reply(void *sock, const char *req_id, size_t id_len, const char *code,
                      const char *user)
{
    zmq_send(sock, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(sock, req_id, id_len, ZMQ_SNDMORE);
    zmq_send(sock, code, strlen(code), ZMQ_SNDMORE);
    zmq_send(sock, strcmp(code, "200") == 0 ? "OK" : "refused", strcmp(code, "200") == 0 ? 2 : 7,
             ZMQ_SNDMORE);
    zmq_send(sock, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(sock, "", 0, 0);
}

/* ZAP request: version, request id, domain, address, identity, mechanism, credentials. */
static int on_zap(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void)loop;
    (void)item;
    struct transport *t = arg;
    void *sock = zsock_resolve(t->zap);
    zmq_msg_t parts[8];
    int n = 0;
    int more = 1;
    while (more && n < 8) {
        zmq_msg_init(&parts[n]);
        if (zmq_msg_recv(&parts[n], sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&parts[n]);
            break;
        }
        more = zmq_msg_more(&parts[n]);
        n++;
    }
    char org[IDS_ORG_MAX] = "";
    bool ok = n >= 7 && zmq_msg_size(&parts[5]) == 5 &&
              memcmp(zmq_msg_data(&parts[5]), "CURVE", 5) == 0 &&
              zmq_msg_size(&parts[6]) == KEYS_PUB_LEN &&
              t->authorize(t->server_arg, zmq_msg_data(&parts[6]), org);
    bool capped = ok && t->conns_per_key && conn_count(t, org, now_ms(t)) >= t->conns_per_key;
    if (capped) {
        ok = false;
        t->stats.conn_refused++;
        log_warn("transport: ZAP refused peer=%s msg=\"already %u connections\"", org,
                 t->conns_per_key);
    } else if (ok) {
        approval_add(t, org, now_ms(t));
    }
    if (n >= 2) {
        if (!ok && !capped) {
            t->stats.auth_refused++;
            log_warn("transport: ZAP refused a key msg=\"not in the directory, or banned\"");
        }
        zap_reply(sock, zmq_msg_data(&parts[1]), zmq_msg_size(&parts[1]), ok ? "200" : "400",
                  ok ? org : "");
    }
    for (int i = 0; i < n; i++)
        zmq_msg_close(&parts[i]);
    return 0;
}

/* ---------------------------------------------------------------- server */

static void drain_more(void *sock)
{
    int more = 1;
    size_t sz = sizeof(more);
    while (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz) == 0 && more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        zmq_msg_recv(&m, sock, ZMQ_DONTWAIT);
        zmq_msg_close(&m);
    }
}

static bool read_router_message(struct transport *t, void *sock)
{
    zmq_msg_t rid, body;
    struct transport_peer peer;
    zmq_msg_init(&rid);
    if (zmq_msg_recv(&rid, sock, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&rid);
        return false;
    }
    zmq_msg_init(&body);
    bool ok = zmq_msg_more(&rid) && zmq_msg_recv(&body, sock, ZMQ_DONTWAIT) >= 0 &&
              !zmq_msg_more(&body) && zmq_msg_size(&rid) <= TRANSPORT_PEER_ID_MAX;
    const char *user = ok ? zmq_msg_gets(&body, "User-Id") : NULL;
    if (ok && user && strlen(user) < IDS_ORG_MAX) {
        memset(&peer, 0, sizeof(peer));
        peer.id_len = zmq_msg_size(&rid);
        memcpy(peer.id, zmq_msg_data(&rid), peer.id_len);
        strcpy(peer.org, user);
        conn_note(t, zmq_msg_get(&body, ZMQ_SRCFD), &peer);
        t->on_peer_frame(t->server_arg, &peer, zmq_msg_data(&body), zmq_msg_size(&body));
    } else {
        t->stats.bad_frames++;
        log_warn("transport: dropped malformed message msg=\"multipart or unauthenticated\"");
        drain_more(sock);
    }
    zmq_msg_close(&body);
    zmq_msg_close(&rid);
    return true;
}

static int on_router(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void)loop;
    (void)item;
    struct transport *t = arg;
    void *sock = zsock_resolve(t->router);
    int handled = 0;
    uint64_t start = now_ms(t), turn = hist_now_ns();
    t->backlog = true;
    while (handled < SERVER_READ_BURST && !t->reads_paused) {
        if (!read_router_message(t, sock)) {
            t->backlog = false; /* read everything there was */
            break;
        }
        /* Some frames are costly (a HELLO sends a window of the inbox): end the burst
         * after SERVER_READ_MS, so that 2,500 HELLOs at once do not hold the loop. */
        if (++handled % 16 == 0 && now_ms(t) - start > SERVER_READ_MS)
            break;
    }
    count_turn(t, turn);
    return 0;
}

/* Both ends: no lingering on close (the protocol resends from RocksDB), libzmq cuts off a
 * peer sending more than a frame, and a deep send queue: a send that does not fit is
 * dropped, not blocked on. */
static void set_frame_options(zsock_t *s)
{
    zsock_set_linger(s, 0);
    zsock_set_maxmsgsize(s, (int)WIRE_FRAME_MAX);
    zsock_set_sndhwm(s, 100000);
}

/* Every TCP connection, server and client: no ZMTP heartbeats and TCP keepalive (why:
 * set_server_options and set_client_options). */
static void set_liveness_options(zsock_t *s)
{
    zsock_set_heartbeat_ivl(s, 0);
    zsock_set_tcp_keepalive(s, 1);
    zsock_set_tcp_keepalive_idle(s, TRANSPORT_KEEPALIVE_IDLE_S);
    zsock_set_tcp_keepalive_intvl(s, TRANSPORT_KEEPALIVE_INTVL_S);
    zsock_set_tcp_keepalive_cnt(s, TRANSPORT_KEEPALIVE_CNT);
}

/* The broker's ROUTER, one connection per node (2,500 for a city).
 * - No ZMTP heartbeats. libzmq 4.3.4 cancels a timer by a linear scan of all the I/O
 *   thread's timers, and a heartbeating connection arms and cancels one every interval:
 *   O(connections²), a quarter of a core at 2,500 (BENCHMARKS.md). The nodes PING at the
 *   protocol level every heartbeat and the broker forgets a session silent for 15 s
 *   (the clients send no ZMTP PINGs either: set_client_options).
 * - TCP keepalive instead, so that the connection of a node that vanished without a FIN
 *   (power cut, NAT state lost) is reaped by the kernel rather than held for ever: a live
 *   node sends every heartbeat, so probing starts only after TCP_KEEPALIVE_IDLE s of real
 *   silence, and the kernel gives up after CNT unanswered probes INTVL s apart (60 s).
 *   Kernel timers, no cost to the I/O thread.
 * - A small receive queue per peer (TRANSPORT_SERVER_RCVHWM, see transport.h). A full
 *   inbound pipe makes libzmq stop reading that connection (stream_engine_base.cpp,
 *   in_event_internal: the engine keeps the message, sets _input_stopped and resumes when
 *   the pipe drains), so the excess waits in TCP buffers and in the node's send queue:
 *   back-pressure on that node alone, nothing dropped. zmq_socket(3)'s "Drop" for ROUTER
 *   is about sending.
 * - A listen backlog for a whole street connecting at once (TRANSPORT_LISTEN_BACKLOG). */
static void set_server_options(zsock_t *s)
{
    set_frame_options(s);
    zsock_set_rcvhwm(s, TRANSPORT_SERVER_RCVHWM);
    zsock_set_backlog(s, TRANSPORT_LISTEN_BACKLOG);
    set_liveness_options(s);
}

/* A client DEALER: the node's (one connection) and a broker's link (a hub has one per
 * street). No ZMTP heartbeats, TCP keepalive as the server's. Liveness is the protocol's:
 * the node PINGs every heartbeat and takes a new socket after three silent ones
 * (node/sync.c), a link PINGs every 2 s and opens again after 15 s of silence (links.h),
 * so libzmq's timeout adds nothing. Under load it is harmful: a hub of 100 streets, with
 * 300 processes sharing two cores, aborted in libzmq 4.3.4 on "Assertion failed:
 * !_io_error (stream_engine_base.cpp:331)" (zeromq/libzmq#4364, open: a heartbeat
 * timeout firing on a busy engine), which a node facing a stalled broker could meet too. */
static void set_client_options(zsock_t *s)
{
    set_frame_options(s);
    zsock_set_rcvhwm(s, 100000);
    set_liveness_options(s);
}

int transport_listen(struct transport *t, const char *endpoint, const struct keys *keys,
                     transport_authorize_fn authorize, transport_peer_frame_fn on_frame, void *arg,
                     char *bound_out, size_t bound_size)
{
    t->authorize = authorize;
    t->on_peer_frame = on_frame;
    t->server_arg = arg;
    t->zap = zsock_new(ZMQ_REP);
    if (!t->zap || zsock_bind(t->zap, ZAP_ENDPOINT) != 0) {
        log_error("transport: cannot bind ZAP handler: %s", zmq_strerror(zmq_errno()));
        return DS_EIO;
    }
    t->router = zsock_new(ZMQ_ROUTER);
    set_server_options(t->router);
    server_monitor_start(t); /* before the bind: every connection is accepted after it */
    zsock_set_router_mandatory(t->router, 1);
    zsock_set_zap_domain(t->router, "dualsync");
    zsock_set_curve_server(t->router, 1);
    zsock_set_curve_secretkey_bin(t->router, keys->curve_sk);
    zsock_set_curve_publickey_bin(t->router, keys->curve_pk);
    if (zsock_bind(t->router, "%s", endpoint) < 0) {
        log_error("transport: bind endpoint=%s: %s", endpoint, zmq_strerror(zmq_errno()));
        return DS_EIO;
    }
    char *last = zsock_last_endpoint(t->router);
    snprintf(bound_out, bound_size, "%s", last ? last : endpoint);
    zstr_free(&last);
    t->zap_item = (zmq_pollitem_t){zsock_resolve(t->zap), 0, ZMQ_POLLIN, 0};
    t->router_item = (zmq_pollitem_t){zsock_resolve(t->router), 0, ZMQ_POLLIN, 0};
    zloop_poller(t->loop, &t->zap_item, on_zap, t);
    zloop_poller(t->loop, &t->router_item, on_router, t);
    return DS_OK;
}

bool transport_reads_paused(const struct transport *t)
{
    return t->reads_paused;
}

bool transport_server_backlog(const struct transport *t)
{
    return t->reads_paused || t->backlog;
}

void transport_pause_reads(struct transport *t, bool paused)
{
    if (!t->router || paused == t->reads_paused)
        return;
    t->reads_paused = paused;
    if (paused)
        zloop_poller_end(t->loop, &t->router_item);
    else
        zloop_poller(t->loop, &t->router_item, on_router, t);
}

static int on_fd(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void)loop;
    (void)item;
    struct watched_fd *w = arg;
    uint64_t start = hist_now_ns();
    w->fn(w->arg);
    count_turn(w->t, start);
    return 0;
}

void transport_watch_fd(struct transport *t, int fd, transport_timer_fn fn, void *arg)
{
    if (t->n_watched == TRANSPORT_WATCH_MAX) {
        log_error("transport: more than %d descriptors to watch", TRANSPORT_WATCH_MAX);
        abort(); /* a programming error: raise TRANSPORT_WATCH_MAX */
    }
    struct watched_fd *w = &t->watched[t->n_watched++];
    *w = (struct watched_fd){{NULL, fd, ZMQ_POLLIN, 0}, t, fn, arg};
    zloop_poller(t->loop, &w->item, on_fd, w);
}

static int send_peer_now(struct transport *t, const struct transport_peer *peer,
                         const uint8_t *data, size_t len)
{
    void *sock = zsock_resolve(t->router);
    if (zmq_send(sock, peer->id, peer->id_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_send(sock, data, len, ZMQ_DONTWAIT) < 0) {
        t->stats.send_failures++;
        log_debug("transport: send peer=%s failed: %s", peer->org, zmq_strerror(zmq_errno()));
        return DS_EAGAIN;
    }
    return DS_OK;
}

static void raw_send_peer(void *arg, const void *peer, const uint8_t *data, size_t len)
{
    send_peer_now(arg, peer, data, len);
}

int transport_send_peer(struct transport *t, const struct transport_peer *peer, const uint8_t *data,
                        size_t len)
{
    if (!t->chaos)
        return send_peer_now(t, peer, data, len);
    chaos_submit(t->chaos, peer, sizeof(*peer), data, len, now_ms(t), raw_send_peer, t);
    return DS_OK;
}

/* ---------------------------------------------------------------- client */

/* Hands fn up to READ_BURST single-part messages waiting on a client socket (*sockp, read
 * again each time: the node's handler may reconnect, destroying it; a message already
 * received stays valid). Multipart messages are dropped and counted. */
static void read_client(struct transport *t, zsock_t *const *sockp, transport_frame_fn fn,
                        void *arg)
{
    for (int i = 0; i < READ_BURST && *sockp; i++) {
        void *sock = zsock_resolve(*sockp);
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            break;
        }
        if (zmq_msg_more(&m)) {
            t->stats.bad_frames++;
            drain_more(sock);
        } else {
            fn(arg, zmq_msg_data(&m), zmq_msg_size(&m));
        }
        zmq_msg_close(&m);
    }
}

static int on_dealer(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void)loop;
    (void)item;
    struct transport *t = arg;
    uint64_t start = hist_now_ns();
    read_client(t, &t->dealer, t->on_frame, t->client_arg);
    count_turn(t, start);
    return 0;
}

void transport_on_client_event(struct transport *t, transport_event_fn fn, void *arg)
{
    t->on_event = fn;
    t->event_arg = arg;
}

/* Monitor messages: frame 1 is 6 bytes (uint16 event, uint32 value), frame 2 the
 * endpoint. */
static int on_monitor(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void)loop;
    (void)item;
    struct transport *t = arg;
    for (int i = 0; i < READ_BURST && t->monitor; i++) {
        void *sock = zsock_resolve(t->monitor);
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            break;
        }
        uint16_t event = 0;
        if (zmq_msg_size(&m) >= 2)
            memcpy(&event, zmq_msg_data(&m), 2);
        zmq_msg_close(&m);
        drain_more(sock);
        enum transport_event ev = 0;
        if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
            ev = TRANSPORT_HANDSHAKE_OK;
        else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
            ev = TRANSPORT_AUTH_REFUSED;
        else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
                 event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
            ev = TRANSPORT_HANDSHAKE_FAILED;
        else if (event == ZMQ_EVENT_DISCONNECTED)
            ev = TRANSPORT_DISCONNECTED;
        if (ev && t->on_event)
            t->on_event(t->event_arg, ev);
    }
    return 0;
}

static void monitor_start(struct transport *t)
{
    char ep[64];
    snprintf(ep, sizeof(ep), "inproc://ds-monitor-%u", ++t->monitor_seq);
    int events = ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                 ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                 ZMQ_EVENT_DISCONNECTED;
    if (zmq_socket_monitor(zsock_resolve(t->dealer), ep, events) != 0) {
        log_warn("transport: socket monitor unavailable: %s", zmq_strerror(zmq_errno()));
        return;
    }
    t->monitor = zsock_new(ZMQ_PAIR);
    zsock_set_linger(t->monitor, 0);
    if (zsock_connect(t->monitor, "%s", ep) != 0) {
        zsock_destroy(&t->monitor);
        return;
    }
    t->monitor_item = (zmq_pollitem_t){zsock_resolve(t->monitor), 0, ZMQ_POLLIN, 0};
    zloop_poller(t->loop, &t->monitor_item, on_monitor, t);
}

static void transport_disconnect(struct transport *t)
{
    if (!t->dealer)
        return;
    if (t->monitor) {
        zloop_poller_end(t->loop, &t->monitor_item);
        zmq_socket_monitor(zsock_resolve(t->dealer), NULL, 0);
        zsock_destroy(&t->monitor);
    }
    zloop_poller_end(t->loop, &t->dealer_item);
    zsock_destroy(&t->dealer);
}

int transport_connect(struct transport *t, const char *endpoint,
                      const uint8_t server_key[KEYS_PUB_LEN], const struct keys *keys,
                      transport_frame_fn on_frame, void *arg)
{
    transport_disconnect(t);
    t->on_frame = on_frame;
    t->client_arg = arg;
    t->dealer = zsock_new(ZMQ_DEALER);
    set_client_options(t->dealer);
    zsock_set_immediate(t->dealer, 1); /* queue nothing for a connection not yet up */
    zsock_set_reconnect_ivl(t->dealer, 200);
    zsock_set_reconnect_ivl_max(t->dealer, 2000);
    zsock_set_curve_serverkey_bin(t->dealer, server_key);
    zsock_set_curve_secretkey_bin(t->dealer, keys->curve_sk);
    zsock_set_curve_publickey_bin(t->dealer, keys->curve_pk);
    monitor_start(t);
    if (zsock_connect(t->dealer, "%s", endpoint) != 0) {
        log_error("transport: connect endpoint=%s: %s", endpoint, zmq_strerror(zmq_errno()));
        transport_disconnect(t);
        return DS_EIO;
    }
    t->dealer_item = (zmq_pollitem_t){zsock_resolve(t->dealer), 0, ZMQ_POLLIN, 0};
    zloop_poller(t->loop, &t->dealer_item, on_dealer, t);
    return DS_OK;
}

static int send_dealer_now(struct transport *t, const uint8_t *data, size_t len)
{
    if (!t->dealer)
        return DS_EAGAIN;
    if (zmq_send(zsock_resolve(t->dealer), data, len, ZMQ_DONTWAIT) < 0) {
        t->stats.send_failures++;
        return DS_EAGAIN;
    }
    return DS_OK;
}

static void raw_send_dealer(void *arg, const void *peer, const uint8_t *data, size_t len)
{
    (void)peer;
    send_dealer_now(arg, data, len);
}

int transport_send(struct transport *t, const uint8_t *data, size_t len)
{
    if (!t->chaos || !t->dealer)
        return send_dealer_now(t, data, len);
    chaos_submit(t->chaos, NULL, 0, data, len, now_ms(t), raw_send_dealer, t);
    return DS_OK;
}

/* ---------------------------------------------------------------- links */

/* A further client of the same loop: a broker's link to another street's broker. Its own
 * DEALER with the client's options; no socket monitor (the link's PINGs decide liveness,
 * and its owner re-opens it). */
struct transport_link {
    struct transport *t;
    zsock_t *dealer;
    zmq_pollitem_t item;
    transport_frame_fn on_frame;
    void *arg;
    /* DS_CHAOS on a link too: its own stream, so a frame held for a link closed since is
     * dropped with it (chaos_destroy), never sent on another's socket */
    struct chaos *chaos;
    int chaos_timer;
    struct transport_link *next;
};

static void raw_send_link(void *arg, const void *peer, const uint8_t *data, size_t len)
{
    (void)peer;
    struct transport_link *l = arg;
    zmq_send(zsock_resolve(l->dealer), data, len, ZMQ_DONTWAIT); /* a loss is the link's */
}

static int on_link_chaos_flush(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop, (void)timer_id;
    struct transport_link *l = arg;
    chaos_flush(l->chaos, now_ms(l->t), raw_send_link, l);
    return 0;
}

static void add_chaos_stats(struct chaos_stats *sum, const struct chaos *c)
{
    struct chaos_stats cs;
    chaos_stats(c, &cs);
    sum->dropped += cs.dropped;
    sum->duplicated += cs.duplicated;
    sum->reordered += cs.reordered;
    sum->delayed += cs.delayed;
}

static int on_link(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void)loop;
    (void)item;
    struct transport_link *l = arg;
    uint64_t start = hist_now_ns();
    read_client(l->t, &l->dealer, l->on_frame, l->arg);
    count_turn(l->t, start);
    return 0;
}

int transport_link_open(struct transport *t, const char *endpoint,
                        const uint8_t server_key[KEYS_PUB_LEN], const struct keys *keys,
                        transport_frame_fn on_frame, void *arg, struct transport_link **out)
{
    struct transport_link *l = xcalloc(1, sizeof(*l));
    l->t = t;
    l->on_frame = on_frame;
    l->arg = arg;
    l->dealer = zsock_new(ZMQ_DEALER);
    set_client_options(l->dealer);
    zsock_set_immediate(l->dealer, 1);
    zsock_set_reconnect_ivl(l->dealer, 200);
    zsock_set_reconnect_ivl_max(l->dealer, 5000);
    zsock_set_curve_serverkey_bin(l->dealer, server_key);
    zsock_set_curve_secretkey_bin(l->dealer, keys->curve_sk);
    zsock_set_curve_publickey_bin(l->dealer, keys->curve_pk);
    if (zsock_connect(l->dealer, "%s", endpoint) != 0) {
        log_error("transport: link connect endpoint=%s: %s", endpoint, zmq_strerror(zmq_errno()));
        zsock_destroy(&l->dealer);
        free(l);
        return DS_EIO;
    }
    l->item = (zmq_pollitem_t){zsock_resolve(l->dealer), 0, ZMQ_POLLIN, 0};
    zloop_poller(t->loop, &l->item, on_link, l);
    bool bad = false;
    l->chaos = t->chaos ? chaos_new(getenv("DS_CHAOS"), &bad) : NULL;
    if (l->chaos)
        l->chaos_timer = zloop_timer(t->loop, 10, 0, on_link_chaos_flush, l);
    l->next = t->links;
    t->links = l;
    *out = l;
    return DS_OK;
}

int transport_link_send(struct transport_link *l, const uint8_t *data, size_t len)
{
    /* Not counted in send_failures: a HELLO sent before the connection is up is dropped as
     * a matter of course (ZMQ_IMMEDIATE), and the link's owner says it again. */
    if (l->chaos) {
        chaos_submit(l->chaos, NULL, 0, data, len, now_ms(l->t), raw_send_link, l);
        return DS_OK;
    }
    if (zmq_send(zsock_resolve(l->dealer), data, len, ZMQ_DONTWAIT) < 0)
        return DS_EAGAIN;
    return DS_OK;
}

void transport_link_close(struct transport_link **lp)
{
    struct transport_link *l = *lp;
    if (!l)
        return;
    zloop_poller_end(l->t->loop, &l->item);
    if (l->chaos) {
        zloop_timer_end(l->t->loop, l->chaos_timer);
        add_chaos_stats(&l->t->links_closed, l->chaos);
        chaos_destroy(&l->chaos);
    }
    for (struct transport_link **at = &l->t->links; *at; at = &(*at)->next)
        if (*at == l) {
            *at = l->next;
            break;
        }
    zsock_destroy(&l->dealer);
    free(l);
    *lp = NULL;
}

/* ---------------------------------------------------------------- control */

/* A reply this large (a community's whole task list or member list: 20-35 MB at 100,000
 * members) was built from hundreds of thousands of small allocations, freed now. glibc
 * keeps freed heap pages unless told, and a long-lived allocation made meanwhile (a kept
 * task list) pins the heap's top, so an idle node stayed at ~270 MB after one such read;
 * malloc_trim returns the free pages (a few ms, once per large reply). */
#define TRANSPORT_CTL_TRIM_BYTES ((size_t)1 << 20)

static void free_reply(void *data, void *hint)
{
    (void)hint;
    free(data);
}

/* Sends reply (taken; NULL: the empty refusal) without copying it: a whole task list is
 * 36 MB at 100,000 members, and each fresh copy of it costs its page faults again. */
static void send_reply(void *sock, uint8_t *reply, size_t rlen)
{
    zmq_msg_t out;
    if (!reply || zmq_msg_init_data(&out, reply, rlen, free_reply, NULL) != 0) {
        zmq_send(sock, reply ? (const void *)reply : "", rlen, 0);
        free(reply);
        return;
    }
    if (zmq_msg_send(&out, sock, 0) < 0) {
        log_warn("transport: control reply not sent: %s", zmq_strerror(zmq_errno()));
        zmq_msg_close(&out); /* frees reply */
    }
}

static int on_ctl(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void)loop;
    (void)item;
    struct transport *t = arg;
    void *sock = zsock_resolve(t->ctl);
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m);
        return 0;
    }
    uint8_t *reply = NULL;
    size_t rlen = 0;
    drain_more(sock);
    /* ZMQ_SRCFD is the connection the request came on (deprecated in favour of ZAP
     * metadata, which libzmq does not give for ipc): its peer's uid decides. An empty reply
     * is the refusal (ctl_call reads it as DS_EACCES). */
    uint64_t start = hist_now_ns();
    if (owner_peer_allowed(zmq_msg_get(&m, ZMQ_SRCFD)))
        t->on_ctl(t->ctl_arg, zmq_msg_data(&m), zmq_msg_size(&m), &reply, &rlen);
    else
        log_warn("transport: control request from another user refused");
    zmq_msg_close(&m);
    send_reply(sock, reply, rlen);
    if (rlen >= TRANSPORT_CTL_TRIM_BYTES)
        malloc_trim(0);
    count_turn(t, start);
    return 0;
}

int transport_ctl_listen(struct transport *t, const char *path, transport_ctl_fn fn, void *arg)
{
    t->on_ctl = fn;
    t->ctl_arg = arg;
    t->ctl = zsock_new(ZMQ_REP);
    zsock_set_linger(t->ctl, 0);
    zsock_set_maxmsgsize(t->ctl, (int)TRANSPORT_CTL_MSG_MAX);
    if (zsock_bind(t->ctl, "ipc://%s", path) != 0) {
        log_error("transport: bind control path=%s: %s", path, zmq_strerror(zmq_errno()));
        return DS_EIO;
    }
    chmod(path, 0600); /* whatever the umask: only the daemon's user may connect */
    t->ctl_item = (zmq_pollitem_t){zsock_resolve(t->ctl), 0, ZMQ_POLLIN, 0};
    zloop_poller(t->loop, &t->ctl_item, on_ctl, t);
    return DS_OK;
}

int transport_sockopts(const struct transport *t, bool server, struct transport_sockopts *out)
{
    zsock_t *s = server ? t->router : t->dealer;
    if (!s)
        return DS_ENOTFOUND;
    out->sndhwm = zsock_sndhwm(s);
    out->rcvhwm = zsock_rcvhwm(s);
    out->heartbeat_ivl = zsock_heartbeat_ivl(s);
    out->heartbeat_timeout = zsock_heartbeat_timeout(s);
    out->heartbeat_ttl = zsock_heartbeat_ttl(s);
    out->tcp_keepalive = zsock_tcp_keepalive(s);
    out->tcp_keepalive_idle = zsock_tcp_keepalive_idle(s);
    out->tcp_keepalive_intvl = zsock_tcp_keepalive_intvl(s);
    out->tcp_keepalive_cnt = zsock_tcp_keepalive_cnt(s);
    return DS_OK;
}

void transport_stats(const struct transport *t, struct transport_stats *out)
{
    struct chaos_stats cs = t->links_closed;
    *out = t->stats;
    add_chaos_stats(&cs, t->chaos);
    for (const struct transport_link *l = t->links; l; l = l->next)
        add_chaos_stats(&cs, l->chaos);
    out->chaos_dropped = cs.dropped;
    out->chaos_duplicated = cs.duplicated;
    out->chaos_reordered = cs.reordered;
    out->chaos_delayed = cs.delayed;
}

/* A socket file left by a killed daemon refuses connections; libzmq would instead retry
 * silently, so ask the kernel first. DS_OK, DS_EACCES (the socket or its directory is
 * another user's) or DS_ENOTRUNNING. */
static int ctl_listening(const char *path)
{
    struct sockaddr_un sa;
    if (strlen(path) >= sizeof(sa.sun_path))
        return DS_ENOTRUNNING;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0)
        return DS_ENOTRUNNING;
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? DS_OK
             : errno == EACCES || errno == EPERM                  ? DS_EACCES
                                                                  : DS_ENOTRUNNING;
    close(fd);
    return rc;
}

int transport_ctl_call_with(const char *path, const uint8_t *req, size_t len, int timeout_ms,
                            transport_reply_fn on_reply, void *arg)
{
    int listening = ctl_listening(path);
    if (listening != DS_OK)
        return listening;
    void *ctx = zmq_ctx_new();
    void *sock = zmq_socket(ctx, ZMQ_REQ);
    int linger = 0, rc = DS_ETIMEDOUT;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(sock, ZMQ_RCVTIMEO, &timeout_ms, sizeof(timeout_ms));
    zmq_setsockopt(sock, ZMQ_SNDTIMEO, &timeout_ms, sizeof(timeout_ms));
    char ep[4200];
    snprintf(ep, sizeof(ep), "ipc://%s", path);
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_connect(sock, ep) == 0 && zmq_send(sock, req, len, 0) >= 0 &&
        zmq_msg_recv(&m, sock, 0) >= 0) {
        rc = DS_EACCES; /* an empty reply is the refusal, see on_ctl */
        if (zmq_msg_size(&m) > 0)
            rc = on_reply(zmq_msg_data(&m), zmq_msg_size(&m), arg);
    }
    zmq_msg_close(&m);
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return rc;
}

struct reply_copy {
    uint8_t *bytes;
    size_t len;
};

static int copy_reply(const uint8_t *reply, size_t len, void *arg)
{
    struct reply_copy *c = arg;
    c->bytes = xmemdup(reply, len);
    c->len = len;
    return DS_OK;
}

int transport_ctl_call(const char *path, const uint8_t *req, size_t len, int timeout_ms,
                       uint8_t **reply_out, size_t *reply_len_out)
{
    struct reply_copy c = {NULL, 0};
    int rc = transport_ctl_call_with(path, req, len, timeout_ms, copy_reply, &c);
    if (rc == DS_OK) {
        *reply_out = c.bytes;
        *reply_len_out = c.len;
    }
    return rc;
}

struct transport_client {
    void *ctx;
    void *sock;
    void *monitor; /* the socket's handshake failures (a PAIR on its monitor endpoint) */
    bool refused;
};

/* Watches c's handshakes: a server that refuses our key (its ZAP handler said no) sends
 * an ERROR command, which libzmq reports only as a monitor event. */
static void client_monitor(struct transport_client *c)
{
    char endpoint[64];
    snprintf(endpoint, sizeof(endpoint), "inproc://ds-client-monitor-%p", (void *)c);
    if (zmq_socket_monitor(c->sock, endpoint,
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0)
        return;
    int linger = 0;
    c->monitor = zmq_socket(c->ctx, ZMQ_PAIR);
    zmq_setsockopt(c->monitor, ZMQ_LINGER, &linger, sizeof(linger));
    if (zmq_connect(c->monitor, endpoint) != 0) {
        zmq_close(c->monitor);
        c->monitor = NULL;
    }
}

int transport_client_open(const char *endpoint, const uint8_t server_key[KEYS_PUB_LEN],
                          const struct keys *keys, struct transport_client **client_out)
{
    struct transport_client *c = xcalloc(1, sizeof(*c));
    int linger = 0, timeout = 5000;
    c->ctx = zmq_ctx_new();
    c->sock = zmq_socket(c->ctx, ZMQ_DEALER);
    zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(c->sock, ZMQ_SNDTIMEO, &timeout, sizeof(timeout));
    zmq_setsockopt(c->sock, ZMQ_CURVE_SERVERKEY, server_key, KEYS_PUB_LEN);
    zmq_setsockopt(c->sock, ZMQ_CURVE_PUBLICKEY, keys->curve_pk, KEYS_PUB_LEN);
    zmq_setsockopt(c->sock, ZMQ_CURVE_SECRETKEY, keys->curve_sk, KEYS_CURVE_SECRET_LEN);
    client_monitor(c);
    if (zmq_connect(c->sock, endpoint) != 0) {
        log_error("transport: client connect endpoint=%s: %s", endpoint, zmq_strerror(zmq_errno()));
        transport_client_close(&c);
        return DS_EIO;
    }
    *client_out = c;
    return DS_OK;
}

int transport_client_send(struct transport_client *c, const uint8_t *data, size_t len, int parts)
{
    for (int i = 0; i < parts; i++)
        if (zmq_send(c->sock, data, len, i + 1 < parts ? ZMQ_SNDMORE : 0) < 0)
            return DS_EAGAIN;
    return DS_OK;
}

int transport_client_recv(struct transport_client *c, int timeout_ms, uint8_t **data_out,
                          size_t *len_out)
{
    zmq_msg_t m;
    zmq_setsockopt(c->sock, ZMQ_RCVTIMEO, &timeout_ms, sizeof(timeout_ms));
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, c->sock, 0) < 0) {
        zmq_msg_close(&m);
        return DS_ETIMEDOUT;
    }
    *len_out = zmq_msg_size(&m);
    *data_out = xmemdup(zmq_msg_data(&m), zmq_msg_size(&m));
    zmq_msg_close(&m);
    return DS_OK;
}

void transport_client_set_send_timeout(struct transport_client *c, int timeout_ms)
{
    zmq_setsockopt(c->sock, ZMQ_SNDTIMEO, &timeout_ms, sizeof(timeout_ms));
}

bool transport_client_refused(struct transport_client *c)
{
    zmq_msg_t m;
    /* A monitor event is two frames: event number and value, then the endpoint. */
    while (c->monitor && !c->refused) {
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, c->monitor, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            break;
        }
        c->refused |= zmq_msg_more(&m) && zmq_msg_size(&m) >= 2;
        while (zmq_msg_more(&m) && zmq_msg_recv(&m, c->monitor, 0) >= 0)
            ;
        zmq_msg_close(&m);
    }
    return c->refused;
}

void transport_client_close(struct transport_client **cp)
{
    struct transport_client *c = *cp;
    if (!c)
        return;
    if (c->monitor) {
        zmq_socket_monitor(c->sock, NULL, 0);
        zmq_close(c->monitor);
    }
    zmq_close(c->sock);
    zmq_ctx_term(c->ctx);
    free(c);
    *cp = NULL;
}
