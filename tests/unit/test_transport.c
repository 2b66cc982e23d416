/* Unit tests of common/transport on real ZeroMQ over 127.0.0.1:* — the one module that
 * talks to libzmq. A key the authorizer knows gets in and its frames carry the org the
 * key fixes; an unknown key is refused by the ZAP handler and nothing reaches the
 * handler; the control socket answers a request. Waits are bounded by a deadline timer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testutil.h"
#include "hlc.h"
#include "transport.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct server_ctx {
    struct transport *t;
    struct keys known;
    int frames;
    char last_org[IDS_ORG_MAX];
    char last_data[64];
    uint64_t deadline_ms;
    int want_frames;
    int want_refusals;
};

static bool authorize(void *arg, const uint8_t key[KEYS_PUB_LEN], char org_out[IDS_ORG_MAX])
{
    struct server_ctx *c = arg;
    if (memcmp(key, c->known.curve_pk, KEYS_PUB_LEN) != 0)
        return false;
    strcpy(org_out, "unit:known");
    return true;
}

static void on_frame(void *arg, const struct transport_peer *peer, const uint8_t *data, size_t len)
{
    struct server_ctx *c = arg;
    c->frames++;
    strcpy(c->last_org, peer->org);
    snprintf(c->last_data, sizeof(c->last_data), "%.*s", (int)len, (const char *)data);
}

static void check_done(void *arg)
{
    struct server_ctx *c = arg;
    struct transport_stats s;
    transport_stats(c->t, &s);
    if ((c->frames >= c->want_frames && (int)s.auth_refused >= c->want_refusals) ||
        hlc_wall_ms() > c->deadline_ms)
        transport_stop(c->t);
}

/* A timer whose second run holds the loop for 12 ms, and whose fourth stops it. */
struct turns_ctx {
    struct transport *t;
    int runs;
};

static void slow_second_turn(void *arg)
{
    struct turns_ctx *c = arg;
    if (++c->runs == 2) {
        struct timespec d = {0, 12 * 1000 * 1000};
        while (nanosleep(&d, &d) != 0)
            ;
    }
    if (c->runs == 4)
        transport_stop(c->t);
}

/* Every handler's run is a turn of the loop, timed from its call to its return: the long
 * one is counted past 10 ms and is the longest. */
static void test_transport_loop_turns_are_timed(void **state)
{
    (void)state;
    struct turns_ctx c = {transport_new(), 0};
    struct hist_stats st;
    hist_stats(transport_loop_turns(c.t), &st);
    assert_true(st.count == 0);
    transport_timer(c.t, 5, slow_second_turn, &c);
    transport_run(c.t);
    hist_stats(transport_loop_turns(c.t), &st);
    assert_true(st.count >= 4);
    assert_true(st.max_ns >= 12u * 1000 * 1000);
    assert_true(st.le_ms[4] == 10.0);
    assert_true(st.count - st.le[4] >= 1); /* over 10 ms: the slow turn */
    assert_true(st.sum_ns >= st.max_ns);
    transport_destroy(&c.t);
}

static void test_transport_known_key_delivers_stranger_refused(void **state)
{
    (void)state;
    struct server_ctx c;
    struct keys server, stranger;
    char bound[256];
    struct transport_client *good = NULL, *bad = NULL;
    memset(&c, 0, sizeof(c));
    assert_rc(keys_crypto_init(), DS_OK);
    keys_generate(&server);
    keys_generate(&c.known);
    keys_generate(&stranger);
    c.t = transport_new();
    assert_rc(transport_listen(c.t, "tcp://127.0.0.1:*", &server, authorize, on_frame, &c, bound,
                               sizeof(bound)),
              DS_OK);
    assert_rc(transport_client_open(bound, server.curve_pk, &stranger, &bad), DS_OK);
    assert_rc(transport_client_open(bound, server.curve_pk, &c.known, &good), DS_OK);
    assert_rc(transport_client_send(bad, (const uint8_t *)"intruder", 8, 1), DS_OK);
    assert_rc(transport_client_send(good, (const uint8_t *)"hello", 5, 1), DS_OK);
    c.want_frames = 1;
    c.want_refusals = 1;
    c.deadline_ms = hlc_wall_ms() + 10000;
    transport_timer(c.t, 20, check_done, &c);
    transport_run(c.t);

    struct transport_stats s;
    transport_stats(c.t, &s);
    assert_int_equal(c.frames, 1);
    assert_string_equal(c.last_org, "unit:known");
    assert_string_equal(c.last_data, "hello");
    assert_true(s.auth_refused >= 1);
    /* The refusal reaches the stranger as a failed handshake, which it can see. */
    uint64_t end = hlc_wall_ms() + 10000;
    while (!transport_client_refused(bad) && hlc_wall_ms() < end)
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
    assert_true(transport_client_refused(bad));
    assert_false(transport_client_refused(good));
    transport_client_close(&good);
    transport_client_close(&bad);
    transport_destroy(&c.t);
}

static bool authorize_all(void *arg, const uint8_t key[KEYS_PUB_LEN], char org_out[IDS_ORG_MAX])
{
    (void)arg;
    (void)key;
    strcpy(org_out, "unit:any");
    return true;
}

static void on_client_frame(void *arg, const uint8_t *data, size_t len)
{
    (void)arg;
    (void)data;
    (void)len;
}

/* The broker's ROUTER runs without ZMTP heartbeats (libzmq's O(n) timer cancel per
 * connection per interval) and with TCP keepalive and a small receive queue instead; the
 * node's DEALER has none either (libzmq#4364: a heartbeat timeout on a busy engine can
 * abort; the node's liveness is its own PING). Read back from libzmq, not from our
 * constants alone. */
static void test_transport_broker_router_and_node_dealer_options(void **state)
{
    (void)state;
    struct keys server, client;
    struct transport_sockopts o;
    char bound[256];
    assert_rc(keys_crypto_init(), DS_OK);
    keys_generate(&server);
    keys_generate(&client);
    struct transport *t = transport_new();
    assert_rc(transport_sockopts(t, true, &o), DS_ENOTFOUND);
    assert_rc(transport_sockopts(t, false, &o), DS_ENOTFOUND);
    assert_rc(transport_listen(t, "tcp://127.0.0.1:*", &server, authorize_all, on_frame, NULL,
                               bound, sizeof(bound)),
              DS_OK);
    assert_rc(transport_sockopts(t, true, &o), DS_OK);
    assert_int_equal(o.rcvhwm, TRANSPORT_SERVER_RCVHWM);
    assert_true(o.rcvhwm >= 16 && o.rcvhwm <= 256); /* >= a node's 4096 / 256 full frames */
    assert_int_equal(o.sndhwm, 100000);
    assert_int_equal(o.heartbeat_ivl, 0);
    assert_int_equal(o.tcp_keepalive, 1);
    assert_int_equal(o.tcp_keepalive_idle, TRANSPORT_KEEPALIVE_IDLE_S);
    assert_int_equal(o.tcp_keepalive_intvl, TRANSPORT_KEEPALIVE_INTVL_S);
    assert_int_equal(o.tcp_keepalive_cnt, TRANSPORT_KEEPALIVE_CNT);
    /* a vanished node's connection is reaped after about a minute, not held for hours */
    assert_true(
        TRANSPORT_KEEPALIVE_IDLE_S + TRANSPORT_KEEPALIVE_INTVL_S * TRANSPORT_KEEPALIVE_CNT <= 120);

    /* Not to our own ROUTER: a handshake would tie up the ZAP endpoint the next test binds. */
    assert_rc(
        transport_connect(t, "tcp://127.0.0.1:9", server.curve_pk, &client, on_client_frame, NULL),
        DS_OK);
    assert_rc(transport_sockopts(t, false, &o), DS_OK);
    assert_int_equal(o.heartbeat_ivl, 0); /* libzmq#4364: liveness is the node's own */
    assert_int_equal(o.tcp_keepalive, 1);
    assert_int_equal(o.rcvhwm, 100000);
    transport_destroy(&t);
}

/* Back-pressure test: the server's handler, on the first frame, makes the client send
 * numbered 16 KiB frames while the server's loop is busy (inside the handler, so nothing
 * reads the ROUTER), until the client's send is refused (its own queue of 1,000 frames is
 * full and stays full for its 5 s send timeout). In those seconds the client's I/O thread
 * pushes what TCP takes, the server's I/O thread reads it until the server's queue holds
 * TRANSPORT_SERVER_RCVHWM frames, and the rest waits in kernel buffers. Once the loop
 * reads again every frame the client's socket accepted must arrive, in order: a full
 * inbound queue stops libzmq reading the connection; it does not drop. */
#define FLOOD_FRAME 16384
#define FLOOD_MAX 20000

struct flood_ctx {
    struct transport *t;
    struct transport_client *client;
    uint32_t sent, received, out_of_order;
    bool started;
    uint64_t deadline_ms;
};

static void on_flood_frame(void *arg, const struct transport_peer *peer, const uint8_t *data,
                           size_t len)
{
    struct flood_ctx *c = arg;
    static uint8_t frame[FLOOD_FRAME];
    uint32_t seq;
    (void)peer;
    if (!c->started) {
        c->started = true;
        while (c->sent < FLOOD_MAX) {
            seq = c->sent + 1;
            memcpy(frame, &seq, sizeof(seq));
            if (transport_client_send(c->client, frame, sizeof(frame), 1) != DS_OK)
                break; /* refused after the client's 5 s send timeout: all queues full */
            c->sent = seq;
        }
        return;
    }
    if (len != FLOOD_FRAME) {
        c->out_of_order++;
        return;
    }
    memcpy(&seq, data, sizeof(seq));
    if (seq != c->received + 1)
        c->out_of_order++;
    c->received++;
}

static void check_flood(void *arg)
{
    struct flood_ctx *c = arg;
    if ((c->started && c->received >= c->sent) || hlc_wall_ms() > c->deadline_ms)
        transport_stop(c->t);
}

/* A server on 127.0.0.1 that lets any key in, and a client connected to it that has sent
 * "go": the server's first frame, on which the tests' handlers start their work. */
static void start_server_and_client(struct transport **t, struct transport_client **client,
                                    transport_peer_frame_fn on_peer_frame, void *arg)
{
    struct keys server, own;
    char bound[256];
    assert_rc(keys_crypto_init(), DS_OK);
    keys_generate(&server);
    keys_generate(&own);
    *t = transport_new();
    assert_rc(transport_listen(*t, "tcp://127.0.0.1:*", &server, authorize_all, on_peer_frame, arg,
                               bound, sizeof(bound)),
              DS_OK);
    assert_rc(transport_client_open(bound, server.curve_pk, &own, client), DS_OK);
    assert_rc(transport_client_send(*client, (const uint8_t *)"go", 2, 1), DS_OK);
}

static void test_transport_full_server_queue_pushes_back_without_loss(void **state)
{
    (void)state;
    struct flood_ctx c;
    memset(&c, 0, sizeof(c));
    start_server_and_client(&c.t, &c.client, on_flood_frame, &c);
    c.deadline_ms = hlc_wall_ms() + 60000;
    transport_timer(c.t, 20, check_flood, &c);
    transport_run(c.t);

    assert_true(c.started);
    /* refused (not the loop's cap), and many times what the server queues */
    assert_true(c.sent < FLOOD_MAX);
    assert_true(c.sent > 8 * TRANSPORT_SERVER_RCVHWM);
    assert_int_equal(c.received, c.sent);
    assert_int_equal(c.out_of_order, 0);
    transport_client_close(&c.client);
    transport_destroy(&c.t);
}

static void on_ctl(void *arg, const uint8_t *req, size_t len, uint8_t **reply_out,
                   size_t *reply_len_out)
{
    (void)arg;
    uint8_t *r = malloc(len + 1);
    r[0] = '!';
    memcpy(r + 1, req, len);
    *reply_out = r;
    *reply_len_out = len + 1;
}

static void test_transport_ctl_not_running_is_reported(void **state)
{
    char path[TU_PATH_MAX + 16];
    uint8_t *reply = NULL;
    size_t rlen = 0;
    snprintf(path, sizeof(path), "%s/ctl.sock", (const char *)*state);
    assert_rc(transport_ctl_call(path, (const uint8_t *)"x", 1, 1000, &reply, &rlen),
              DS_ENOTRUNNING);
    /* The socket file a SIGKILLed daemon leaves behind: bound, never unlinked, nobody
     * listening. The CLI must say "not running" at once, not hang until its timeout. */
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    assert_true(strlen(path) < sizeof(sa.sun_path));
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(fd);
    assert_rc(transport_ctl_call(path, (const uint8_t *)"x", 1, 1000, &reply, &rlen),
              DS_ENOTRUNNING);
}

static void test_transport_ctl_call_times_out(void **state)
{
    char path[TU_PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/ctl.sock", (const char *)*state);
    struct transport *t = transport_new();
    assert_rc(transport_ctl_listen(t, path, on_ctl, NULL), DS_OK);
    /* The REP socket is served by the loop, which this thread is not running: a call with
     * a short timeout must time out rather than hang. */
    uint8_t *reply = NULL;
    size_t rlen = 0;
    assert_rc(transport_ctl_call(path, (const uint8_t *)"x", 1, 200, &reply, &rlen), DS_ETIMEDOUT);
    transport_destroy(&t);
}

/* transport_pause_reads: frames sent while the server is paused stay queued (not lost,
 * not handled) until it resumes; transport_watch_fd calls back when its fd is readable. */
struct pause_ctx {
    struct server_ctx server;
    struct transport_client *client;
    int phase;
    uint64_t paused_at_ms;
    int frames_while_paused;
    int fd_calls;
    int pipe_fd[2];
};

static void on_pause_fd(void *arg)
{
    struct pause_ctx *c = arg;
    char buf[16];
    if (read(c->pipe_fd[0], buf, sizeof(buf)) > 0) /* one byte was written: one read */
        c->fd_calls++;
}

static void pause_step(void *arg)
{
    struct pause_ctx *c = arg;
    uint64_t now = hlc_wall_ms();
    if (c->phase == 0 && c->server.frames == 1) {
        transport_pause_reads(c->server.t, true);
        assert_rc(transport_client_send(c->client, (const uint8_t *)"b", 1, 1), DS_OK);
        assert_rc(transport_client_send(c->client, (const uint8_t *)"c", 1, 1), DS_OK);
        assert_int_equal(write(c->pipe_fd[1], "x", 1), 1);
        c->paused_at_ms = now;
        c->phase = 1;
    } else if (c->phase == 1 && now - c->paused_at_ms > 300) {
        c->frames_while_paused = c->server.frames;
        transport_pause_reads(c->server.t, false);
        c->phase = 2;
    }
    if ((c->phase == 2 && c->server.frames == 3) || now > c->server.deadline_ms)
        transport_stop(c->server.t);
}

/* A server on 127.0.0.1 that lets in one key, s->known (made here, for the clients). */
static void start_known_server(struct server_ctx *s, struct keys *server,
                               transport_peer_frame_fn on_peer_frame, void *arg, char *bound,
                               size_t bound_size)
{
    assert_rc(keys_crypto_init(), DS_OK);
    keys_generate(server);
    keys_generate(&s->known);
    s->t = transport_new();
    assert_rc(transport_listen(s->t, "tcp://127.0.0.1:*", server, authorize, on_peer_frame, arg,
                               bound, bound_size),
              DS_OK);
}

static void test_transport_pause_reads_and_watch_fd(void **state)
{
    (void)state;
    struct pause_ctx c;
    struct keys server;
    char bound[256];
    memset(&c, 0, sizeof(c));
    assert_int_equal(pipe(c.pipe_fd), 0);
    start_known_server(&c.server, &server, on_frame, &c.server, bound, sizeof(bound));
    transport_watch_fd(c.server.t, c.pipe_fd[0], on_pause_fd, &c);
    assert_rc(transport_client_open(bound, server.curve_pk, &c.server.known, &c.client), DS_OK);
    assert_rc(transport_client_send(c.client, (const uint8_t *)"a", 1, 1), DS_OK);
    c.server.deadline_ms = hlc_wall_ms() + 10000;
    transport_timer(c.server.t, 20, pause_step, &c);
    transport_run(c.server.t);

    assert_int_equal(c.phase, 2);
    assert_int_equal(c.frames_while_paused, 1);
    assert_int_equal(c.server.frames, 3);
    assert_string_equal(c.server.last_data, "c");
    assert_int_equal(c.fd_calls, 1);
    transport_client_close(&c.client);
    transport_destroy(&c.server.t);
    close(c.pipe_fd[0]);
    close(c.pipe_fd[1]);
}

/* transport_server_backlog: frames that arrived faster than one read burst takes leave a
 * backlog (the broker then does not judge its peers' silence); once all are read, none. */
#define BACKLOG_CLIENTS 24 /* × TRANSPORT_SERVER_RCVHWM queued frames > one read burst */
#define BACKLOG_EACH 100

struct backlog_ctx {
    struct server_ctx server; /* first: on_backlog_frame gets it as the server's arg */
    struct transport_client *client[BACKLOG_CLIENTS];
    int want;
    bool seen_backlog, cleared;
};

/* The first frame makes every client send its frames at once, from inside the server's
 * loop, so that they are all waiting when the loop reads again. */
static void on_backlog_frame(void *arg, const struct transport_peer *peer, const uint8_t *data,
                             size_t len)
{
    struct backlog_ctx *c = arg;
    on_frame(&c->server, peer, data, len);
    if (c->server.frames != 1)
        return;
    for (int k = 0; k < BACKLOG_CLIENTS; k++)
        for (int i = 0; i < BACKLOG_EACH; i++)
            assert_rc(transport_client_send(c->client[k], (const uint8_t *)"x", 1, 1), DS_OK);
    /* The server's loop is busy (as the broker storing a batch): ZeroMQ fills each
     * connection's queue up to its RCVHWM meanwhile. Which is what we need to hold, not
     * something we wait for: a second on loopback is far more than 2,400 tiny frames take. */
    sleep(1);
}

static void backlog_step(void *arg)
{
    struct backlog_ctx *c = arg;
    if (c->server.frames > 0 && c->server.frames < c->want && transport_server_backlog(c->server.t))
        c->seen_backlog = true;
    if (c->server.frames == c->want) {
        c->cleared = !transport_server_backlog(c->server.t);
        transport_stop(c->server.t);
    } else if (hlc_wall_ms() > c->server.deadline_ms) {
        transport_stop(c->server.t);
    }
}

static void test_transport_backlog_while_frames_wait(void **state)
{
    (void)state;
    struct backlog_ctx c;
    struct keys server;
    char bound[256];
    memset(&c, 0, sizeof(c));
    c.want = 1 + BACKLOG_CLIENTS * BACKLOG_EACH;
    start_known_server(&c.server, &server, on_backlog_frame, &c, bound, sizeof(bound));
    transport_set_conns_per_key(c.server.t, 0); /* every client holds the one known key */
    for (int k = 0; k < BACKLOG_CLIENTS; k++)
        assert_rc(transport_client_open(bound, server.curve_pk, &c.server.known, &c.client[k]),
                  DS_OK);
    assert_rc(transport_client_send(c.client[0], (const uint8_t *)"x", 1, 1), DS_OK);
    c.server.deadline_ms = hlc_wall_ms() + 20000;
    transport_timer(c.server.t, 1, backlog_step, &c);
    transport_run(c.server.t);

    assert_int_equal(c.server.frames, c.want);
    assert_true(c.seen_backlog);
    assert_true(c.cleared);
    for (int k = 0; k < BACKLOG_CLIENTS; k++)
        transport_client_close(&c.client[k]);
    transport_destroy(&c.server.t);
}

/* Memory test: frames that wait unread must hold their own bytes, not libzmq's read
 * buffers. The server's handler, on the first frame, makes the client send TRICKLE_N
 * 30-byte frames a few ms apart (each one arrives in a read of its own) while nothing
 * reads the ROUTER, and watches the process's heap for a second. With libzmq's zero copy
 * each queued frame kept its whole read buffer alive (18 KiB: over 1 MiB here; 765 MiB
 * for a street of 2,500 nodes). mallinfo2 sums every arena, so the I/O thread's is in it;
 * under ASan (or valgrind) it reads 0 and the bound holds trivially. */
#define TRICKLE_N 64

static void pause_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

struct trickle_ctx {
    struct transport *t;
    struct transport_client *client;
    int received;
    size_t heap_growth;
    uint64_t deadline_ms;
};

static void on_trickle_frame(void *arg, const struct transport_peer *peer, const uint8_t *data,
                             size_t len)
{
    struct trickle_ctx *c = arg;
    static const uint8_t frame[30] = "a frame that waits to be read";
    (void)peer;
    (void)data;
    if (len != sizeof(frame)) { /* the first frame: trickle while the loop is held here */
        size_t before = mallinfo2().uordblks;
        for (int i = 0; i < TRICKLE_N; i++) {
            assert_rc(transport_client_send(c->client, frame, sizeof(frame), 1), DS_OK);
            pause_ms(3); /* paced, so that each frame comes in a read of its own */
        }
        for (uint64_t until = hlc_wall_ms() + 1000; hlc_wall_ms() < until; pause_ms(10)) {
            size_t now = mallinfo2().uordblks;
            if (now > before && now - before > c->heap_growth)
                c->heap_growth = now - before;
        }
        return;
    }
    c->received++;
}

static void check_trickle(void *arg)
{
    struct trickle_ctx *c = arg;
    if (c->received >= TRICKLE_N || hlc_wall_ms() > c->deadline_ms)
        transport_stop(c->t);
}

static void test_transport_queued_frames_hold_only_their_bytes(void **state)
{
    (void)state;
    struct trickle_ctx c;
    memset(&c, 0, sizeof(c));
    start_server_and_client(&c.t, &c.client, on_trickle_frame, &c);
    assert_false(transport_zero_copy_recv());
    c.deadline_ms = hlc_wall_ms() + 20000;
    transport_timer(c.t, 10, check_trickle, &c);
    transport_run(c.t);

    assert_int_equal(c.received, TRICKLE_N);
    /* 64 frames of 30 bytes; 1 MiB or more when each kept an 18 KiB read buffer */
    assert_true(c.heap_growth < 256 * 1024);
    transport_client_close(&c.client);
    transport_destroy(&c.t);
}

/* A silent connection under a clock the test moves. */
struct silent_ctx {
    struct server_ctx c;
    uint64_t fake_ms; /* the transport's clock */
    const char *bound;
    const uint8_t *server_pk;
    struct transport_client *late; /* the same key once the silent one is gone */
    int phase;
};

static uint64_t fake_clock(void *arg)
{
    return ((struct silent_ctx *)arg)->fake_ms;
}

static void silent_step(void *arg)
{
    struct silent_ctx *x = arg;
    struct transport_stats s;
    transport_stats(x->c.t, &s);
    if (x->phase == 0 && s.conn_refused >= 1) { /* the first one holds the key's one slot */
        x->fake_ms += 10001;                    /* 10 s pass, on the transport's clock only */
        x->phase = 1;
    } else if (x->phase == 1 && s.conns_closed >= 1) {
        assert_rc(transport_client_open(x->bound, x->server_pk, &x->c.known, &x->late), DS_OK);
        assert_rc(transport_client_send(x->late, (const uint8_t *)"hello", 5, 1), DS_OK);
        x->phase = 2;
    }
    if (x->c.frames >= 1 || hlc_wall_ms() > x->c.deadline_ms)
        transport_stop(x->c.t);
}

/* A connection that says nothing for 10 s after its handshake is closed, and its key may
 * connect again: 10 s of the transport's clock (set by transport_set_clock), not of the
 * wall clock, so this takes about a second of real time. With one connection per key, a
 * second one is refused while the silent one waits. */
static void test_transport_silence_is_timed_on_the_transports_clock(void **state)
{
    (void)state;
    struct silent_ctx x;
    struct keys server;
    char bound[256];
    struct transport_client *silent = NULL, *second = NULL;
    memset(&x, 0, sizeof(x));
    start_known_server(&x.c, &server, on_frame, &x.c, bound, sizeof(bound));
    x.fake_ms = 1000000;
    transport_set_clock(x.c.t, fake_clock, &x); /* before any client connects */
    transport_set_conns_per_key(x.c.t, 1);
    x.bound = bound;
    x.server_pk = server.curve_pk;
    assert_rc(transport_client_open(bound, server.curve_pk, &x.c.known, &silent), DS_OK);
    assert_rc(transport_client_open(bound, server.curve_pk, &x.c.known, &second), DS_OK);
    x.c.deadline_ms = hlc_wall_ms() + 8000; /* the wall clock's 10 s would not fit */
    transport_timer(x.c.t, 20, silent_step, &x);
    transport_run(x.c.t);
    struct transport_stats s;
    transport_stats(x.c.t, &s);
    assert_int_equal(x.phase, 2);
    assert_true(s.conns_closed >= 1);
    assert_int_equal(x.c.frames, 1);
    assert_string_equal(x.c.last_org, "unit:known");
    transport_client_close(&x.late);
    transport_client_close(&second);
    transport_client_close(&silent);
    transport_destroy(&x.c.t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transport_loop_turns_are_timed),
        cmocka_unit_test(test_transport_known_key_delivers_stranger_refused),
        cmocka_unit_test(test_transport_broker_router_and_node_dealer_options),
        cmocka_unit_test(test_transport_full_server_queue_pushes_back_without_loss),
        cmocka_unit_test(test_transport_pause_reads_and_watch_fd),
        cmocka_unit_test(test_transport_backlog_while_frames_wait),
        cmocka_unit_test(test_transport_queued_frames_hold_only_their_bytes),
        cmocka_unit_test(test_transport_silence_is_timed_on_the_transports_clock),
        tu_test_tmpdir(test_transport_ctl_not_running_is_reported),
        tu_test_tmpdir(test_transport_ctl_call_times_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
