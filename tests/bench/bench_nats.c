/* bench_nats: nats-server with JetStream measured beside the broker (bench_nats.h). The
 * NATS client protocol is text over TCP: the server greets with INFO, the client says
 * CONNECT and PING; "PUB subject reply n\r\n<n bytes>\r\n" publishes, "SUB subject sid"
 * subscribes, and the server sends "MSG subject sid [reply] n\r\n<n bytes>\r\n" and PINGs
 * that must be answered. JetStream is driven through its $JS.API subjects (request and
 * reply), and acknowledges each publish to its reply subject. */
#define _GNU_SOURCE /* memmem */
#include "bench_nats.h"

#include "bench.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NATS_CONSUMERS 2
#define NATS_ACK_EVERY 256 /* a consumer acknowledges all it has every this many messages */

struct nconn;
typedef void (*nmsg_fn)(struct nconn *c, unsigned sid, const char *reply, const char *data,
                        size_t len);

struct nconn {
    int fd;
    char *in, *out;
    size_t in_len, in_cap, out_len, out_cap;
    nmsg_fn on_msg;
    size_t pongs;
    bool failed;
    /* a publisher's counts, or a consumer's */
    size_t index, sent, acked, received, unacked;
    char *reply; /* the last API reply (the control connection) */
};

/* ---------------------------------------------------------------- the connection */

static void out_put(struct nconn *c, const void *data, size_t len)
{
    if (c->out_len + len > c->out_cap) {
        c->out_cap = (c->out_len + len) * 2;
        c->out = xrealloc(c->out, c->out_cap);
    }
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
}

__attribute__((format(printf, 2, 3))) static void out_printf(struct nconn *c, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < sizeof(line))
        out_put(c, line, (size_t)n);
}

static void publish(struct nconn *c, const char *subject, const char *reply, const void *data,
                    size_t len)
{
    if (reply[0])
        out_printf(c, "PUB %s %s %zu\r\n", subject, reply, len);
    else
        out_printf(c, "PUB %s %zu\r\n", subject, len);
    out_put(c, data, len);
    out_put(c, "\r\n", 2);
}

static void flush_out(struct nconn *c)
{
    size_t done = 0;
    while (done < c->out_len) {
        ssize_t n = write(c->fd, c->out + done, c->out_len - done);
        if (n > 0) {
            done += (size_t)n;
        } else {
            if (n < 0 && errno != EAGAIN && errno != EINTR) {
                fprintf(stderr, "bench: nats: write: %s\n", strerror(errno));
                c->failed = true;
            }
            break;
        }
    }
    memmove(c->out, c->out + done, c->out_len - done);
    c->out_len -= done;
}

/* "MSG subject sid [reply] n" at line (NUL-terminated): the sid, reply ("" when none) and
 * n. False when the line does not parse. */
static bool parse_msg_line(char *line, unsigned *sid, char **reply, size_t *n)
{
    char *tok[5], *save = NULL;
    size_t k = 0;
    for (char *t = strtok_r(line, " ", &save); t && k < 5; t = strtok_r(NULL, " ", &save))
        tok[k++] = t;
    if (k != 4 && k != 5)
        return false;
    *sid = (unsigned)strtoul(tok[2], NULL, 10);
    *reply = k == 5 ? tok[3] : (char *)"";
    *n = strtoul(tok[k - 1], NULL, 10);
    return true;
}

/* Handles every whole protocol line (and message) in c->in. */
static void parse_in(struct nconn *c)
{
    size_t at = 0;
    for (;;) {
        char *eol = memmem(c->in + at, c->in_len - at, "\r\n", 2);
        if (!eol)
            break;
        size_t line_len = (size_t)(eol - (c->in + at)), next = at + line_len + 2;
        if (line_len >= 4 && memcmp(c->in + at, "MSG ", 4) == 0) {
            char line[1024], *reply;
            unsigned sid;
            size_t n;
            snprintf(line, sizeof(line), "%.*s", (int)line_len, c->in + at);
            if (!parse_msg_line(line, &sid, &reply, &n)) {
                fprintf(stderr, "bench: nats: bad MSG line: %s\n", line);
                c->failed = true;
                return;
            }
            if (next + n + 2 > c->in_len)
                break; /* the rest of the message is still on its way */
            if (c->on_msg)
                c->on_msg(c, sid, reply, c->in + next, n);
            next += n + 2;
        } else if (line_len == 4 && memcmp(c->in + at, "PING", 4) == 0) {
            out_put(c, "PONG\r\n", 6);
        } else if (line_len == 4 && memcmp(c->in + at, "PONG", 4) == 0) {
            c->pongs++;
        } else if (line_len >= 4 && memcmp(c->in + at, "-ERR", 4) == 0) {
            fprintf(stderr, "bench: nats: server error: %.*s\n", (int)line_len, c->in + at);
            c->failed = true;
        } /* INFO and +OK: nothing to do */
        at = next;
    }
    memmove(c->in, c->in + at, c->in_len - at);
    c->in_len -= at;
}

static void read_in(struct nconn *c)
{
    for (;;) {
        if (c->in_cap - c->in_len < 65536) {
            c->in_cap = c->in_cap ? c->in_cap * 2 : 262144;
            c->in = xrealloc(c->in, c->in_cap);
        }
        ssize_t n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
        if (n > 0) {
            c->in_len += (size_t)n;
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            fprintf(stderr, "bench: nats: connection lost\n");
            c->failed = true;
        }
        break;
    }
    parse_in(c);
}

/* One poll over every connection, at most timeout_ms: reads, parses, writes. */
static void poll_conns(struct nconn **cs, size_t n, int timeout_ms)
{
    struct pollfd *pfd = xcalloc(n, sizeof(*pfd));
    for (size_t i = 0; i < n; i++) {
        flush_out(cs[i]);
        pfd[i] = (struct pollfd){.fd = cs[i]->fd,
                                 .events = (short)(POLLIN | (cs[i]->out_len ? POLLOUT : 0))};
    }
    if (poll(pfd, n, timeout_ms) > 0)
        for (size_t i = 0; i < n; i++) {
            if (pfd[i].revents & (POLLIN | POLLERR | POLLHUP))
                read_in(cs[i]);
            flush_out(cs[i]);
        }
    free(pfd);
}

/* Connects to the server on 127.0.0.1:port (retrying until deadline: it may be starting)
 * and waits for the PONG after CONNECT. NULL when it cannot. */
static struct nconn *nconn_open(int port, double deadline)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = -1;
    while (!expired(deadline)) {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
            break;
        if (fd >= 0)
            close(fd);
        fd = -1;
        pause_us(50000);
    }
    if (fd < 0)
        return NULL;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    struct nconn *c = xcalloc(1, sizeof(*c));
    c->fd = fd;
    out_printf(c, "CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":false,"
                  "\"protocol\":1,\"name\":\"dualsync-bench\"}\r\nPING\r\n");
    while (!c->pongs && !c->failed && !expired(deadline))
        poll_conns(&c, 1, 10);
    return c;
}

static void nconn_close(struct nconn **cp)
{
    struct nconn *c = *cp;
    if (!c)
        return;
    close(c->fd);
    free(c->in);
    free(c->out);
    free(c->reply);
    free(c);
    *cp = NULL;
}

/* ---------------------------------------------------------------- JetStream's API */

static void on_api_reply(struct nconn *c, unsigned sid, const char *reply, const char *data,
                         size_t len)
{
    (void)sid;
    (void)reply;
    free(c->reply);
    c->reply = xmalloc(len + 1);
    memcpy(c->reply, data, len);
    c->reply[len] = '\0';
}

/* A request to a $JS.API subject, its reply awaited; false (said) on an error reply or
 * none before deadline. Retried while JetStream is still starting. */
static bool api_call(struct nconn *ctl, const char *subject, const char *json, double deadline)
{
    while (!expired(deadline)) {
        free(ctl->reply);
        ctl->reply = NULL;
        publish(ctl, subject, "_INBOX.api", json, strlen(json));
        double give_up = now_s() + 5;
        while (!ctl->reply && !ctl->failed && !expired(give_up))
            poll_conns(&ctl, 1, 10);
        if (ctl->reply && !strstr(ctl->reply, "\"error\""))
            return true;
        if (ctl->failed || (ctl->reply && !strstr(ctl->reply, "not enabled")))
            break;
        pause_us(100000); /* JetStream not ready yet, or no reply: ask again */
    }
    fprintf(stderr, "bench: nats: %s failed: %s\n", subject, ctl->reply ? ctl->reply : "no reply");
    return false;
}

/* ---------------------------------------------------------------- the run */

static size_t run_total;

static void on_pub_ack(struct nconn *c, unsigned sid, const char *reply, const char *data,
                       size_t len)
{
    (void)sid;
    (void)reply;
    if (memmem(data, len, "\"error\"", 7)) {
        fprintf(stderr, "bench: nats: publish refused: %.*s\n", (int)len, data);
        c->failed = true;
        return;
    }
    c->acked++;
}

/* A push consumer's message: its reply subject is $JS.ACK.<stream>.<consumer>.<delivered>.
 * <stream seq>.<consumer seq>.<time>.<pending> (newer servers put a domain and an account
 * hash before the stream and a token after); only first deliveries count. */
static void on_consumed(struct nconn *c, unsigned sid, const char *reply, const char *data,
                        size_t len)
{
    (void)sid;
    (void)data;
    (void)len;
    unsigned long field[12] = {0};
    size_t n = 0;
    for (const char *p = reply; p && n < 12; n++) {
        field[n] = strtoul(p, NULL, 10);
        p = strchr(p, '.');
        p = p ? p + 1 : NULL;
    }
    size_t delivered = n == 9 ? 4 : 6, pending = n == 9 ? 8 : 10;
    if (field[delivered] == 1)
        c->received++;
    if (++c->unacked >= NATS_ACK_EVERY || field[pending] == 0 || c->received == run_total) {
        publish(c, reply, "", "", 0); /* ack-all: everything up to this one */
        c->unacked = 0;
    }
}

static bool start_server(const char *dir, int port, pid_t *pid)
{
    char conf[700], store[700], log[700];
    snprintf(conf, sizeof(conf), "%s.conf", dir);
    snprintf(store, sizeof(store), "%s/js", dir);
    snprintf(log, sizeof(log), "%s.log", dir);
    FILE *f = fopen(conf, "w");
    if (!f)
        return false;
    fprintf(f, "listen: 127.0.0.1:%d\njetstream {\n  store_dir: \"%s\"\n}\n", port, store);
    fclose(f);
    char *argv[] = {(char *)nats_server_path(), "-c", conf, NULL};
    *pid = spawn_child(argv, log);
    return *pid > 0;
}

/* The stream and the two consumers, through ctl; consumers subscribe first. */
static bool make_stream(struct nconn *ctl, struct nconn **cons, double deadline)
{
    out_printf(ctl, "SUB _INBOX.api 1\r\n");
    if (!api_call(ctl, "$JS.API.STREAM.CREATE.DS",
                  "{\"name\":\"DS\",\"subjects\":[\"ds.>\"],\"storage\":\"file\","
                  "\"retention\":\"limits\",\"num_replicas\":1}",
                  deadline))
        return false;
    for (size_t i = 0; i < NATS_CONSUMERS; i++) {
        char subject[96], json[512];
        out_printf(cons[i], "SUB deliver.c%zu 1\r\n", i);
        poll_conns(&cons[i], 1, 0);
        snprintf(subject, sizeof(subject), "$JS.API.CONSUMER.DURABLE.CREATE.DS.c%zu", i);
        snprintf(json, sizeof(json),
                 "{\"stream_name\":\"DS\",\"config\":{\"durable_name\":\"c%zu\","
                 "\"deliver_subject\":\"deliver.c%zu\",\"deliver_policy\":\"all\","
                 "\"ack_policy\":\"all\",\"max_ack_pending\":%d,\"replay_policy\":\"instant\"}}",
                 i, i, 4 * NATS_ACK_EVERY * 16);
        if (!api_call(ctl, subject, json, deadline))
            return false;
    }
    return true;
}

static bool all_done(struct nconn **pubs, size_t n_pubs, struct nconn **cons)
{
    size_t acked = 0;
    for (size_t i = 0; i < n_pubs; i++)
        acked += pubs[i]->acked;
    for (size_t i = 0; i < NATS_CONSUMERS; i++)
        if (cons[i]->received < run_total)
            return false;
    return acked == run_total;
}

/* Publishes until every message is acknowledged and consumed, or the deadline. */
static bool pump(struct nconn **all, size_t n_all, struct nconn **pubs, size_t n_pubs,
                 struct nconn **cons, double deadline)
{
    char payload[NATS_MSG_BYTES];
    memset(payload, 'x', sizeof(payload));
    while (!all_done(pubs, n_pubs, cons) && !expired(deadline)) {
        for (size_t i = 0; i < n_pubs; i++) {
            struct nconn *p = pubs[i];
            size_t share = run_total / n_pubs + (i < run_total % n_pubs);
            char subject[32], reply[32];
            snprintf(subject, sizeof(subject), "ds.p%zu", i);
            snprintf(reply, sizeof(reply), "_INBOX.p%zu", i);
            while (p->sent < share && p->sent - p->acked < NATS_WINDOW) {
                publish(p, subject, reply, payload, sizeof(payload));
                p->sent++;
            }
        }
        poll_conns(all, n_all, 1);
        for (size_t i = 0; i < n_all; i++)
            if (all[i]->failed)
                return false;
    }
    return all_done(pubs, n_pubs, cons);
}

const char *nats_server_path(void)
{
    static char found[512];
    const char *env = getenv("DS_BENCH_NATS");
    if (env && *env)
        return access(env, X_OK) == 0 ? env : NULL;
    const char *path = getenv("PATH");
    char dirs[4096];
    snprintf(dirs, sizeof(dirs), "%s:/usr/sbin:/usr/local/sbin", path ? path : "/usr/bin");
    for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(found, sizeof(found), "%s/nats-server", d);
        if (access(found, X_OK) == 0)
            return found;
    }
    return NULL;
}

struct nats_figures nats_run(const char *work_dir, size_t publishers, size_t events,
                             double deadline_s)
{
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/nats-%zu", work_dir, publishers);
    int port = free_port();
    pid_t pid = 0;
    double deadline = now_s() + deadline_s;
    size_t n_all = publishers + NATS_CONSUMERS + 1;
    struct nconn **all = xcalloc(n_all, sizeof(*all));
    struct nats_figures fig = {0};
    run_total = events;
    bool ok = start_server(dir, port, &pid);
    for (size_t i = 0; ok && i < n_all; i++)
        ok = (all[i] = nconn_open(port, now_s() + 20)) != NULL && !all[i]->failed;
    struct nconn *ctl = all[0], **cons = all + 1, **pubs = all + 1 + NATS_CONSUMERS;
    if (ok) {
        ctl->on_msg = on_api_reply;
        for (size_t i = 0; i < NATS_CONSUMERS; i++)
            cons[i]->on_msg = on_consumed;
        for (size_t i = 0; i < publishers; i++) {
            pubs[i]->on_msg = on_pub_ack;
            out_printf(pubs[i], "SUB _INBOX.p%zu 1\r\n", i);
        }
        ok = make_stream(ctl, cons, deadline);
    }
    double cpu0 = ok ? proc_cpu_s(pid) : 0, t0 = now_s();
    fig.ok = ok && pump(all + 1, n_all - 1, pubs, publishers, cons, deadline);
    fig.seconds = now_s() - t0;
    if (fig.ok) {
        fig.rate = (double)events / fig.seconds;
        fig.rss_mib = (double)proc_status_kib(pid, "VmHWM") / 1024.0;
        fig.cpu_s = proc_cpu_s(pid) - cpu0;
    } else {
        fprintf(stderr, "bench: nats: %zu publishers: failed or past the deadline (%s.log)\n",
                publishers, dir);
    }
    for (size_t i = 0; i < n_all; i++)
        nconn_close(&all[i]);
    free(all);
    stop_child(&pid, SIGTERM);
    return fig;
}
