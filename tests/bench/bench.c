/* dualsync-bench: measures the real broker (the dualsync-broker binary, fsync per batch)
 * against ceilings measured in the same run, so that ratios hold on a noisy machine:
 *   rocksdb ceiling  the same signed events written to a fresh store, WriteBatch of 256,
 *                    fsync per batch, no networking;
 *   zeromq ceiling   the same PUBLISH frames DEALER -> ROUTER over loopback with CURVE,
 *                    no storage;
 *   broker           N virtual units (one process, one CURVE connection each) publish
 *                    those frames; counted when every event is acked (durable) and
 *                    delivered to a virtual community that confirms as it goes;
 *   latency          one event per frame at a fixed offered rate, publish -> DELIVER
 *                    received by the virtual community, p50 / p99 / p99.9;
 *   catch-up         a community that was away while E events were stored reconnects.
 * Virtual nodes sign in advance and keep no log: these figures are the broker's path. The
 * node-side append and apply are measured by tests/bench/bench_e2e.sh.
 * Usage: dualsync-bench BUILD_DIR [--events E] [--units 1,100] [--catchup C] */
#include "config.h"
#include "err.h"
#include "hlc.h"
#include "keys.h"
#include "store.h"
#include "transport.h"
#include "wire.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define PER_FRAME 256
#define WINDOW_FRAMES 8

static char build_dir[1024], work[256], endpoint[64];
static struct org_card street;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pause_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static int run_cmd(char *const argv[], bool wait_exit, pid_t *pid_out)
{
    pid_t pid;
    posix_spawn_file_actions_t fa;
    /* The tools' own chatter would interleave with the tables: send it to /dev/null. */
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
        perror(argv[0]);
        exit(1);
    }
    posix_spawn_file_actions_destroy(&fa);
    if (pid_out)
        *pid_out = pid;
    if (!wait_exit)
        return 0;
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    bind(fd, (struct sockaddr *)&a, sizeof(a));
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

/* A virtual org: keys, id, a client connection. */
struct vnode {
    char org[IDS_ORG_MAX];
    struct keys keys;
    struct transport_client *c;
    uint8_t **frames; /* prebuilt PUBLISH frames */
    size_t *frame_len;
    size_t n_frames, next_frame, acked_frames;
    uint64_t acked;
};

static void add_org(const char *broker_dir, struct vnode *v, const char *org)
{
    char path[512], broker_bin[1100];
    struct org_card card;
    memset(&card, 0, sizeof(card));
    snprintf(v->org, sizeof(v->org), "%s", org);
    keys_generate(&v->keys);
    snprintf(card.org, sizeof(card.org), "%s", org);
    snprintf(card.name, sizeof(card.name), "bench");
    card.kind = ids_org_kind(org);
    memcpy(card.curve_key, v->keys.curve_pk, KEYS_PUB_LEN);
    memcpy(card.sign_key, v->keys.sign_pk, KEYS_PUB_LEN);
    snprintf(path, sizeof(path), "%s/%s.card", work, org + (card.kind == ORG_UNIT ? 5 : 10));
    config_card_save(path, &card);
    snprintf(broker_bin, sizeof(broker_bin), "%s/broker/dualsync-broker", build_dir);
    char *argv[] = {broker_bin, "--data", (char *)broker_dir, "org", "add", "--card", path, NULL};
    if (run_cmd(argv, true, NULL) != 0) {
        fprintf(stderr, "org add %s failed\n", org);
        exit(1);
    }
}

static pid_t start_broker(const char *dir)
{
    char bin[1100], path[700];
    pid_t pid;
    snprintf(bin, sizeof(bin), "%s/broker/dualsync-broker", build_dir);
    char *argv[] = {bin, "--data", (char *)dir, "--log-level", "warn", "run", NULL};
    run_cmd(argv, false, &pid);
    snprintf(path, sizeof(path), "%s/endpoint", dir);
    for (int i = 0; i < 200 && access(path, F_OK) != 0; i++)
        pause_us(20000);
    return pid;
}

static void init_broker(const char *dir)
{
    char bin[1100], bind_ep[64], err[CONFIG_ERR_MAX], path[700];
    snprintf(bin, sizeof(bin), "%s/broker/dualsync-broker", build_dir);
    snprintf(endpoint, sizeof(endpoint), "tcp://127.0.0.1:%d", free_port());
    snprintf(bind_ep, sizeof(bind_ep), "%s", endpoint);
    char *argv[] = {bin,      "--data", (char *)dir, "init",  "--street", "street:bench",
                    "--name", "bench",  "--bind",    bind_ep, "--window", "4096",
                    NULL};
    if (run_cmd(argv, true, NULL) != 0)
        exit(1);
    snprintf(path, sizeof(path), "%s/street.card", dir);
    if (config_card_load(path, &street, err) != DS_OK)
        exit(1);
}

static uint64_t hlc_base;

/* N signed introductions from unit u for members to community c, packed PER_FRAME to a
 * PUBLISH frame. */
static void build_frames(struct vnode *u, const char *community, size_t events, size_t per)
{
    u->n_frames = (events + per - 1) / per;
    u->frames = xcalloc(u->n_frames, sizeof(*u->frames));
    u->frame_len = xcalloc(u->n_frames, sizeof(*u->frame_len));
    Dualsync__Introduction b = DUALSYNC__INTRODUCTION__INIT;
    b.community = (char *)community;
    b.name = (char *)"成员";
    b.report_days = 30;
    b.date = (char *)"2026-03-01";
    uint8_t *body = NULL;
    size_t body_len = 0;
    wire_pack(&b.base, &body, &body_len);
    ProtobufCBinaryData *evs = xcalloc(per, sizeof(*evs));
    for (size_t f = 0; f < u->n_frames; f++) {
        size_t n = 0;
        for (size_t i = f * per; i < events && n < per; i++, n++) {
            char member[IDS_MEMBER_MAX + 1];
            snprintf(member, sizeof(member), "%s-%zu", u->org + 5, i + 1);
            wire_event_build(&u->keys, u->org, i + 1, hlc_base + i, member,
                             DUALSYNC__EVENT_TYPE__EVENT_INTRODUCTION, body, body_len, &evs[n].data,
                             &evs[n].len);
        }
        Dualsync__Frame fr = DUALSYNC__FRAME__INIT;
        Dualsync__Publish p = DUALSYNC__PUBLISH__INIT;
        p.n_events = n;
        p.events = evs;
        fr.kind_case = DUALSYNC__FRAME__KIND_PUBLISH;
        fr.publish = &p;
        wire_pack(&fr.base, &u->frames[f], &u->frame_len[f]);
        for (size_t i = 0; i < n; i++)
            free(evs[i].data);
    }
    free(evs);
    free(body);
}

static void send_frame(struct transport_client *c, const Dualsync__Frame *f)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    wire_pack(&f->base, &buf, &len);
    transport_client_send(c, buf, len, 1);
    free(buf);
}

static void connect_vnode(struct vnode *v)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Hello h = DUALSYNC__HELLO__INIT;
    if (transport_client_open(endpoint, street.curve_key, &v->keys, &v->c) != DS_OK)
        exit(1);
    h.org = v->org;
    h.proto = WIRE_PROTO_VERSION;
    f.kind_case = DUALSYNC__FRAME__KIND_HELLO;
    f.hello = &h;
    send_frame(v->c, &f);
    for (;;) { /* until WELCOME */
        uint8_t *buf = NULL;
        size_t len = 0;
        if (transport_client_recv(v->c, 5000, &buf, &len) != DS_OK) {
            fprintf(stderr, "no WELCOME for %s\n", v->org);
            exit(1);
        }
        Dualsync__Frame *r = wire_frame_unpack(buf, len);
        free(buf);
        bool welcome = r && r->kind_case == DUALSYNC__FRAME__KIND_WELCOME;
        wire_frame_free(r);
        if (welcome)
            return;
    }
}

/* The virtual community: takes what is delivered, confirms it, counts member events and
 * optionally records when each (origin index, seq) arrived. */
struct sink {
    struct vnode v;
    uint64_t member_events, cursor;
    double *arrival; /* indexed by seq of unit 0, or NULL */
    size_t arrival_n;
};

static void sink_poll(struct sink *s, int timeout_ms)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    while (transport_client_recv(s->v.c, timeout_ms, &buf, &len) == DS_OK) {
        Dualsync__Frame *r = wire_frame_unpack(buf, len);
        free(buf);
        timeout_ms = 0;
        if (!r)
            continue;
        if (r->kind_case == DUALSYNC__FRAME__KIND_DELIVER) {
            double t = now_s();
            for (size_t i = 0; i < r->deliver->n_events; i++) {
                struct event ev;
                if (wire_event_open(r->deliver->events[i].data, r->deliver->events[i].len, false,
                                    &ev) != DS_OK)
                    continue;
                if (ev.member[0])
                    s->member_events++;
                if (s->arrival && ev.member[0] && ev.seq < s->arrival_n && s->arrival[ev.seq] == 0)
                    s->arrival[ev.seq] = t;
                wire_event_release(&ev);
            }
            s->cursor = r->deliver->first + r->deliver->n_events - 1;
            Dualsync__Frame f = DUALSYNC__FRAME__INIT;
            Dualsync__Confirm c = DUALSYNC__CONFIRM__INIT;
            c.upto = s->cursor;
            f.kind_case = DUALSYNC__FRAME__KIND_CONFIRM;
            f.confirm = &c;
            send_frame(s->v.c, &f);
        }
        wire_frame_free(r);
    }
}

/* A unit: keeps WINDOW_FRAMES frames in flight, counts ACKs. */
static void unit_pump(struct vnode *u)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    while (transport_client_recv(u->c, 0, &buf, &len) == DS_OK) {
        Dualsync__Frame *r = wire_frame_unpack(buf, len);
        free(buf);
        if (r && r->kind_case == DUALSYNC__FRAME__KIND_ACK && r->ack->upto > u->acked)
            u->acked = r->ack->upto;
        if (r && r->kind_case == DUALSYNC__FRAME__KIND_ERROR)
            fprintf(stderr, "bench: broker error for %s: %s\n", u->org, r->error->message);
        wire_frame_free(r);
    }
    while (u->next_frame < u->n_frames && u->next_frame - u->acked / PER_FRAME < WINDOW_FRAMES) {
        transport_client_send(u->c, u->frames[u->next_frame], u->frame_len[u->next_frame], 1);
        u->next_frame++;
    }
}

/* ---------------------------------------------------------------- ceilings */

static double rocksdb_ceiling(struct vnode *units, size_t n_units, uint64_t *count_out)
{
    char dir[600];
    struct store *s = NULL;
    snprintf(dir, sizeof(dir), "%s/rocksdb-ceiling", work);
    if (store_open(dir, STORE_FSYNC, &s) != DS_OK)
        exit(1);
    /* Decode first (outside the clock): the ceiling is the write, not the parse. */
    size_t cap = 1024, n = 0;
    struct event *evs = xmalloc(cap * sizeof(*evs));
    Dualsync__Frame **frames = xcalloc(1, sizeof(*frames));
    size_t n_frames = 0;
    for (size_t u = 0; u < n_units; u++) {
        for (size_t f = 0; f < units[u].n_frames; f++) {
            Dualsync__Frame *fr = wire_frame_unpack(units[u].frames[f], units[u].frame_len[f]);
            frames = xrealloc(frames, (n_frames + 1) * sizeof(*frames));
            frames[n_frames++] = fr;
            for (size_t i = 0; i < fr->publish->n_events; i++) {
                if (n == cap)
                    evs = xrealloc(evs, (cap *= 2) * sizeof(*evs));
                wire_event_open(fr->publish->events[i].data, fr->publish->events[i].len, false,
                                &evs[n++]);
            }
        }
    }
    double t0 = now_s();
    struct store_batch *b = store_batch_new(s);
    for (size_t i = 0; i < n; i++) {
        struct skey k;
        skey_init(&k);
        skey_str(&k, evs[i].origin);
        skey_u64(&k, evs[i].seq);
        store_batch_put(b, CF_EVENTS, &k, evs[i].raw, evs[i].raw_len);
        if ((i + 1) % PER_FRAME == 0 || i + 1 == n) {
            store_commit(s, b);
            store_batch_clear(b);
        }
    }
    double dt = now_s() - t0;
    store_batch_destroy(&b);
    store_destroy(&s);
    for (size_t i = 0; i < n; i++)
        wire_event_release(&evs[i]);
    free(evs);
    for (size_t i = 0; i < n_frames; i++)
        wire_frame_free(frames[i]);
    free(frames);
    *count_out = n;
    return (double)n / dt;
}

struct zmq_sink {
    struct transport *t;
    size_t frames, want;
};

static bool accept_all(void *arg, const uint8_t key[KEYS_PUB_LEN], char org_out[IDS_ORG_MAX])
{
    (void)arg;
    (void)key;
    strcpy(org_out, "unit:bench");
    return true;
}

static void zmq_sink_frame(void *arg, const struct transport_peer *peer, const uint8_t *data,
                           size_t len)
{
    (void)peer;
    (void)data;
    (void)len;
    struct zmq_sink *z = arg;
    if (++z->frames == z->want)
        transport_stop(z->t);
}

static void *zmq_sink_run(void *arg)
{
    transport_run(((struct zmq_sink *)arg)->t);
    return NULL;
}

static double zeromq_ceiling(struct vnode *units, size_t n_units, uint64_t events)
{
    struct keys server;
    struct zmq_sink z = {.frames = 0, .want = 0};
    char bound[128];
    keys_generate(&server);
    for (size_t u = 0; u < n_units; u++)
        z.want += units[u].n_frames;
    z.t = transport_new();
    if (transport_listen(z.t, "tcp://127.0.0.1:*", &server, accept_all, zmq_sink_frame, &z, bound,
                         sizeof(bound)) != DS_OK)
        exit(1);
    pthread_t th;
    pthread_create(&th, NULL, zmq_sink_run, &z);
    struct transport_client *c = NULL;
    transport_client_open(bound, server.curve_pk, &units[0].keys, &c);
    double t0 = now_s();
    for (size_t u = 0; u < n_units; u++)
        for (size_t f = 0; f < units[u].n_frames; f++)
            transport_client_send(c, units[u].frames[f], units[u].frame_len[f], 1);
    pthread_join(th, NULL);
    double dt = now_s() - t0;
    transport_client_close(&c);
    transport_destroy(&z.t);
    return (double)events / dt;
}

/* ---------------------------------------------------------------- broker phases */

static void stop_broker(pid_t pid)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

static struct vnode *make_street(const char *name, size_t n_units, struct sink *sink)
{
    char dir[600], org[IDS_ORG_MAX];
    snprintf(dir, sizeof(dir), "%s/%s", work, name);
    init_broker(dir);
    memset(sink, 0, sizeof(*sink));
    add_org(dir, &sink->v, "community:sink");
    struct vnode *units = xcalloc(n_units, sizeof(*units));
    for (size_t u = 0; u < n_units; u++) {
        snprintf(org, sizeof(org), "unit:b%zu", u + 1);
        add_org(dir, &units[u], org);
    }
    return units;
}

static void free_units(struct vnode *units, size_t n)
{
    for (size_t u = 0; u < n; u++) {
        for (size_t f = 0; f < units[u].n_frames; f++)
            free(units[u].frames[f]);
        free(units[u].frames);
        free(units[u].frame_len);
        transport_client_close(&units[u].c);
    }
    free(units);
}

static void throughput(size_t n_units, size_t events)
{
    struct sink sink;
    char name[32], dir[600];
    snprintf(name, sizeof(name), "tp-%zu", n_units);
    struct vnode *units = make_street(name, n_units, &sink);
    size_t per_unit = events / n_units;
    for (size_t u = 0; u < n_units; u++)
        build_frames(&units[u], "community:sink", per_unit, PER_FRAME);
    uint64_t total = 0;
    double rdb = rocksdb_ceiling(units, n_units, &total);
    double zmq = zeromq_ceiling(units, n_units, total);
    snprintf(dir, sizeof(dir), "%s/%s", work, name);
    pid_t pid = start_broker(dir);
    connect_vnode(&sink.v);
    for (size_t u = 0; u < n_units; u++)
        connect_vnode(&units[u]);
    double t0 = now_s(), deadline = t0 + 600;
    bool done = false;
    while (!done && now_s() < deadline) {
        done = sink.member_events >= total;
        for (size_t u = 0; u < n_units; u++) {
            unit_pump(&units[u]);
            done = done && units[u].acked == per_unit;
        }
        sink_poll(&sink, 1);
    }
    double dt = now_s() - t0;
    double broker = (double)total / dt;
    printf("| %zu | %llu | %.0f | %.0f | %.0f | %.0f%% | %.0f%% |%s\n", n_units,
           (unsigned long long)total, broker, rdb, zmq, 100.0 * broker / rdb, 100.0 * broker / zmq,
           done ? "" : " (deadline hit)");
    fflush(stdout);
    stop_broker(pid);
    transport_client_close(&sink.v.c);
    free_units(units, n_units);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void latency(double rate, double seconds)
{
    struct sink sink;
    char name[32], dir[600];
    size_t n = (size_t)(rate * seconds);
    snprintf(name, sizeof(name), "lat-%.0f", rate);
    struct vnode *u = make_street(name, 1, &sink);
    build_frames(u, "community:sink", n, 1);
    snprintf(dir, sizeof(dir), "%s/%s", work, name);
    pid_t pid = start_broker(dir);
    connect_vnode(&sink.v);
    connect_vnode(u);
    double *sent = xcalloc(n + 1, sizeof(*sent));
    sink.arrival = xcalloc(n + 1, sizeof(*sink.arrival));
    sink.arrival_n = n + 1;
    double t0 = now_s(), next = t0, deadline = t0 + seconds + 30;
    size_t i = 0;
    while ((i < n || sink.member_events < n) && now_s() < deadline) {
        double t = now_s();
        while (i < n && t >= next) {
            transport_client_send(u->c, u->frames[i], u->frame_len[i], 1);
            sent[i + 1] = t;
            i++;
            next += 1.0 / rate;
        }
        uint8_t *buf = NULL;
        size_t len = 0;
        while (transport_client_recv(u->c, 0, &buf, &len) == DS_OK)
            free(buf); /* ACKs */
        sink_poll(&sink, 0);
    }
    double *lat = xcalloc(n, sizeof(*lat));
    size_t m = 0;
    for (size_t s = 1; s <= n; s++)
        if (sink.arrival[s] > 0)
            lat[m++] = (sink.arrival[s] - sent[s]) * 1000.0;
    qsort(lat, m, sizeof(*lat), cmp_double);
    if (m)
        printf("| %.0f | %zu | %.2f | %.2f | %.2f | %.2f |\n", rate, m, lat[m / 2],
               lat[(size_t)((double)m * 0.99)], lat[(size_t)((double)m * 0.999)], lat[m - 1]);
    fflush(stdout);
    free(lat);
    free(sent);
    free(sink.arrival);
    stop_broker(pid);
    transport_client_close(&sink.v.c);
    free_units(u, 1);
}

static void catchup(size_t events)
{
    struct sink sink;
    char dir[600];
    struct vnode *u = make_street("catchup", 1, &sink);
    build_frames(u, "community:sink", events, PER_FRAME);
    snprintf(dir, sizeof(dir), "%s/catchup", work);
    pid_t pid = start_broker(dir);
    connect_vnode(u);
    double t0 = now_s();
    while (u->acked < events && now_s() < t0 + 1200)
        unit_pump(u), pause_us(100);
    double stored = now_s() - t0;
    connect_vnode(&sink.v);
    double t1 = now_s();
    while (sink.member_events < events && now_s() < t1 + 1200)
        sink_poll(&sink, 5);
    double dt = now_s() - t1;
    printf("| %zu | %.1f | %.1f | %.0f |\n", events, stored, dt, (double)events / dt);
    fflush(stdout);
    stop_broker(pid);
    transport_client_close(&sink.v.c);
    free_units(u, 1);
}

int main(int argc, char **argv)
{
    size_t events = 100000, catchup_events = 200000;
    const char *unit_list = "1,100";
    if (argc < 2) {
        fprintf(stderr, "usage: dualsync-bench BUILD_DIR [--events E] [--units 1,100] "
                        "[--catchup C]\n");
        return 2;
    }
    snprintf(build_dir, sizeof(build_dir), "%s", argv[1]);
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--events") == 0)
            events = strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--units") == 0)
            unit_list = argv[i + 1];
        else if (strcmp(argv[i], "--catchup") == 0)
            catchup_events = strtoul(argv[i + 1], NULL, 10);
    }
    snprintf(work, sizeof(work), "/tmp/ds-bench-XXXXXX");
    if (!mkdtemp(work) || keys_crypto_init() != DS_OK)
        return 1;
    log_set_level(LOG_WARN);
    hlc_base = hlc_wall_ms() << HLC_COUNTER_BITS;

    printf("dualsync-bench: work dir %s\n\n", work);
    printf("| virtual units | events | broker ev/s (acked+delivered) | rocksdb ceiling ev/s | "
           "zeromq ceiling ev/s | broker / rocksdb | broker / zeromq "
           "|\n|---|---|---|---|---|---|---|\n");
    char list[256];
    snprintf(list, sizeof(list), "%s", unit_list);
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save))
        throughput(strtoul(tok, NULL, 10), events);

    printf("\n| offered ev/s | events | p50 ms | p99 ms | p99.9 ms | max ms "
           "|\n|---|---|---|---|---|---|\n");
    latency(1000, 3);
    latency(10000, 2);

    printf("\n| catch-up events | store s | catch-up s | catch-up ev/s |\n|---|---|---|---|\n");
    catchup(catchup_events);
    char rm[400];
    snprintf(rm, sizeof(rm), "rm -rf %s", work);
    return system(rm) == 0 ? 0 : 1;
}
