/* dualsync-bench: measures the real broker (the dualsync-broker binary, fsync per batch)
 * against ceilings measured in the same run, so that ratios hold on a noisy machine:
 *   rocksdb ceiling  the same signed events written to a fresh store, WriteBatch of 256,
 *                    fsync per batch, no networking;
 *   zeromq ceiling   the same PUBLISH frames DEALER -> ROUTER over loopback with CURVE,
 *                    no storage;
 *   broker           N virtual units (one process, one CURVE DEALER connection and one
 *                    directory org each) publish those frames; counted when every event is
 *                    acked (durable) and delivered to a virtual community that confirms as
 *                    it goes. Before that, per street: how long registering the orgs takes
 *                    (`org add` one org at a time), how many inbox entries the directory
 *                    fan-out created, and how long the N+1 connections take to be welcomed
 *                    and to receive their directory;
 *   nats             (unless --skip-nats; when nats-server is installed) the same count of
 *                    300-byte messages through Debian's nats-server with JetStream (file
 *                    storage) by as many publishers as virtual units, each message
 *                    acknowledged to its publisher and received by two consumers
 *                    (bench_nats.h), minutes after the broker's rows;
 *   latency          one event per frame at a fixed offered rate, publish -> DELIVER
 *                    received by the virtual community, p50 / p99 / p99.9; 1,000 ev/s for
 *                    3 s and 10,000 ev/s for 2 s, or S s each (--latency-seconds S);
 *   catch-up         a community that was away while E events were stored reconnects;
 *                    then the unit fetches its E events back (a restore: FETCH after FETCH)
 *                    and erases a member; none of the three with --catchup 0;
 *   flood            (--flood) the latency row at 200 ev/s for 10 s, quiet and then while
 *                    one other node floods the broker (issue 11): `hello` (HELLOs from a
 *                    socket that never reads, over an inbox of 2,000 letters) or `badsig`
 *                    (a frame of 1,024 events with bad signatures, over and over); with the
 *                    broker's peak resident size and CPU over each run;
 *   city-year        (--city-year) one broker, M members, U units, C communities and a
 *                    year of the practice's letters (about 19 per member, real bodies:
 *                    introduction, report-in, registration card, group, attendance,
 *                    notices and responses, democratic appraisal request and reply, yearly
 *                    feedback, handling of poor ratings; plus the communities' building
 *                    groups and activities), published by virtual units and communities
 *                    that only write what they could know (about a member once the
 *                    introduction reached them, a reply once the request did) and, paced
 *                    (the default), day by day; they receive their deliveries and confirm.
 *                    Then every member's record digest on the broker is compared with a
 *                    local fold (common/fold.c) of the same events.
 * Virtual nodes sign in advance (outside the clock) and keep no log and verify nothing:
 * these figures are the broker's path. The node-side append and apply are measured by
 * tests/bench/bench_e2e.sh. All virtual nodes share one ZeroMQ context (one I/O thread)
 * whose socket limit is raised to fit them, polled through one epoll set; the
 * file-descriptor limit is raised to its hard limit. Every phase has a deadline; the
 * broker (and perf) are children that die with the bench, and the work directory is
 * removed at exit (unless --keep).
 * Usage: dualsync-bench BUILD_DIR [--events E] [--units 1,100,2000] [--catchup C]
 *                       [--register cli|ctl] [--deadline S] [--skip-latency] [--flood]
 *                       [--skip-nats] [--latency-seconds S]
 *        dualsync-bench BUILD_DIR --city-year [--members M] [--units U] [--communities C]
 *                       [--register cli|ctl] [--pace day|none] [--window N]
 *                       [--node-timers] [--deadline S] [--check all|N]
 *        either with [--perf DIR] [--keep]
 *   --register cli   `dualsync-broker org add --card F` per org, broker stopped (the
 *                    default, except for --city-year: 2,500 of these take ~15 minutes);
 *              ctl   the same control command per org over the running broker's socket
 *                    (the city-year's default)
 *   --perf DIR       perf record -g on the broker during each measured phase (and during
 *                    a --register ctl registration); DS_BENCH_PERF_DWARF=1 for DWARF
 *                    call graphs. DS_BENCH_BROKER_LOG=info sets the broker's log level.
 *   --node-timers    virtual nodes keep node/sync.c's timers and their backoff (HELLO
 *                    again after 1, 2, 4, 8, 8… s until welcomed, one HELLO for any
 *                    number of "send HELLO first"; publish again after 3 s without ACK
 *                    progress, then 3 s + 1, 2, 4, 8… s)
 * City-year defaults: 20,000 members, 200 units, 50 communities (a tenth of a city). */
#include "backoff.h"
#include "config.h"
#include "bench.h"
#include "bench_nats.h"
#include "ctl.h"
#include "err.h"
#include "fold.h"
#include "hlc.h"
#include "keys.h"
#include "log.h"
#include "store.h"
#include "strmap.h"
#include "transport.h"
#include "wire.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

extern char **environ;

#define PER_FRAME 256      /* events per PUBLISH frame: the node's NODE_PUBLISH_BATCH */
#define WINDOW_FRAMES 8    /* throughput phases: frames in flight per virtual unit */
#define CITY_WINDOW 4096u  /* city-year: unacked own events per node: NODE_PUBLISH_WINDOW */
#define PING_IDLE_S 5.0    /* a virtual node silent this long pings (broker drops at 15 s) */
#define MAX_VSOCKETS 16384 /* ZMQ_MAX_SOCKETS of the virtual nodes' context */

static char build_dir[1024], work[256], endpoint[64], broker_bin[1100];
static struct org_card street;
static void *vctx; /* one ZeroMQ context for every virtual node */
static pid_t broker_pid, perf_pid;
static const char *perf_dir;
static const char *register_mode; /* "cli" or "ctl" */
volatile sig_atomic_t stop_flag;
static bool keep_work;              /* --keep: leave the work dir (broker logs, data) for a look */
static double phase_deadline = 600; /* --deadline: seconds per measured phase */
/* --node-timers: virtual nodes also keep the real node's patience (node/sync.c, heartbeat
 * 1 s, with its backoff from common/backoff.h and the same jitter seeds): HELLO again
 * after 1, 2, 4, 8, 8… s until welcomed; publish again from the last ACK after 3 s without
 * ACK progress, each further time 1, 2, 4, 8… s later. Not imitated: the node's new socket
 * after 3 s of silence and its inbox resync (HELLO after 3 s without cursor progress).
 * Without --node-timers they wait as long as it takes. */
#define NODE_BEAT_MS 1000u
#define NODE_BACKOFF_CAP_MS (8u * NODE_BEAT_MS) /* node/sync.c SYNC_BACKOFF_CAP_BEATS */
#define NODE_RETRY_HELLO 1u                     /* node/sync.c enum sync_retry */
#define NODE_RETRY_REPUBLISH 3u
static bool node_timers;
static uint64_t hellos_sent, republished, send_failures;
/* Frames the virtual nodes sent and received, by kind (Frame.kind's field number): each is
 * a message through both sides' ZeroMQ I/O threads and the kernel, whatever it carries. */
#define FRAME_KINDS 16
static uint64_t frames_sent[FRAME_KINDS], frames_received[FRAME_KINDS];
static uint64_t hlc_base;

double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool expired(double deadline)
{
    return stop_flag || now_s() > deadline;
}

void pause_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1; /* every loop has a deadline that also checks this */
}

void stop_child(pid_t *pid, int sig)
{
    if (*pid > 0) {
        kill(*pid, sig);
        waitpid(*pid, NULL, 0);
    }
    *pid = 0;
}

static void cleanup(void)
{
    stop_child(&perf_pid, SIGINT);
    stop_child(&broker_pid, SIGTERM);
    if (work[0] && keep_work) {
        fprintf(stderr, "bench: kept %s\n", work);
        work[0] = '\0';
    }
    if (work[0]) {
        char rm[400];
        snprintf(rm, sizeof(rm), "rm -rf %s", work);
        if (system(rm) != 0)
            fprintf(stderr, "bench: could not remove %s\n", work);
        work[0] = '\0';
    }
}

/* Runs argv[0]; stdout goes to out_path (or /dev/null). */
static int run_cmd(char *const argv[], bool wait_exit, const char *out_path)
{
    pid_t pid;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path ? out_path : "/dev/null",
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
        perror(argv[0]);
        exit(1);
    }
    posix_spawn_file_actions_destroy(&fa);
    if (!wait_exit)
        return 0;
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

/* A long-lived child (broker, perf) that dies with the bench. stderr to err_path. */
pid_t spawn_child(char *const argv[], const char *err_path)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(1);
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        if (err_path) {
            int fd = open(err_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
            if (fd >= 0)
                dup2(fd, 2);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    bind(fd, (struct sockaddr *)&a, sizeof(a));
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

/* ---------------------------------------------------------------- /proc figures */

long proc_status_kib(pid_t pid, const char *field)
{
    char path[64], line[256];
    long v = -1;
    size_t flen = strlen(field);
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, field, flen) == 0 && line[flen] == ':')
            v = strtol(line + flen + 1, NULL, 10);
    fclose(f);
    return v;
}

/* utime + stime in seconds from a /proc stat line (after the ")" of the name). */
static double stat_cpu_s(const char *after_name)
{
    unsigned long ut = 0, st = 0;
    const char *p = after_name;
    for (int field = 3; field < 14 && p; field++) /* state(3) ... utime(14) stime(15) */
        p = strchr(p, ' '), p = p ? p + 1 : NULL;
    if (!p || sscanf(p, "%lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

double proc_cpu_s(pid_t pid)
{
    char path[64], line[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    const char *after = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
    fclose(f);
    return after ? stat_cpu_s(after + 2) : -1;
}

/* CPU seconds of each live thread of pid, summed by thread name ("dualsync-broker",
 * "ZMQbg/IO/0", "rocksdb:low", ...), into a JSON object, plus "(process)": the whole
 * process, threads that have exited included (the broker's signature workers live for
 * one frame). */
static json_t *thread_cpu(pid_t pid)
{
    char dir_path[64], buf[1024];
    json_t *out = json_object();
    snprintf(dir_path, sizeof(dir_path), "/proc/%d/stat", (int)pid);
    FILE *pf = fopen(dir_path, "r");
    if (pf) {
        size_t n = fread(buf, 1, sizeof(buf) - 1, pf);
        fclose(pf);
        buf[n] = '\0';
        char *close_p = strrchr(buf, ')');
        if (close_p)
            json_object_set_new(out, "(process)", json_real(stat_cpu_s(close_p + 2)));
    }
    snprintf(dir_path, sizeof(dir_path), "/proc/%d/task", (int)pid);
    DIR *d = opendir(dir_path);
    if (!d)
        return out;
    struct dirent *e;
    while ((e = readdir(d))) {
        char path[400];
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%.255s/stat", dir_path, e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        char *open_p = strchr(buf, '('), *close_p = strrchr(buf, ')');
        if (!open_p || !close_p)
            continue;
        char name[64];
        snprintf(name, sizeof(name), "%.*s", (int)(close_p - open_p - 1), open_p + 1);
        double s = stat_cpu_s(close_p + 2);
        if (s < 0)
            continue;
        json_t *old = json_object_get(out, name);
        json_object_set_new(out, name, json_real(s + (old ? json_real_value(old) : 0)));
    }
    closedir(d);
    return out;
}

/* "dualsync-broker 12.3 s, ZMQbg/IO/0 4.1 s, ..., exited threads 3.0 s": CPU seconds spent
 * between two thread_cpu calls. */
static void print_thread_cpu(const char *who, json_t *before, json_t *after, double wall)
{
    const char *name;
    json_t *v;
    double live = 0, all = 0;
    printf("%s CPU by thread over %.1f s wall:", who, wall);
    json_object_foreach(after, name, v)
    {
        json_t *b = json_object_get(before, name);
        double s = json_real_value(v) - (b ? json_real_value(b) : 0);
        if (strcmp(name, "(process)") == 0) {
            all = s;
            continue;
        }
        live += s;
        if (s >= 0.05)
            printf(" %s %.1f s (%.0f%%);", name, s, 100.0 * s / wall);
    }
    if (all - live >= 0.05)
        printf(" exited threads %.1f s (%.0f%%);", all - live, 100.0 * (all - live) / wall);
    printf(" in all %.1f s (%.0f%%)\n", all, 100.0 * all / wall);
}

/* The machine is shared: say how busy it was. */
static void print_load(const char *when)
{
    char buf[128] = "";
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (!fgets(buf, sizeof(buf), f))
            buf[0] = '\0';
        fclose(f);
    }
    printf("load average %s: %s", when, buf[0] ? buf : "?\n");
}

static double du_mib(const char *path)
{
    char cmd[700], buf[64] = "";
    snprintf(cmd, sizeof(cmd), "du -sk %s 2>/dev/null", path);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    if (!fgets(buf, sizeof(buf), p))
        buf[0] = '\0';
    pclose(p);
    return (double)strtol(buf, NULL, 10) / 1024.0;
}

/* ---------------------------------------------------------------- perf */

static void perf_start(const char *name)
{
    if (!perf_dir || broker_pid <= 0)
        return;
    char out[700], pid[16];
    snprintf(out, sizeof(out), "%s/%s.data", perf_dir, name);
    snprintf(pid, sizeof(pid), "%d", (int)broker_pid);
    /* DS_BENCH_PERF_DWARF=1: DWARF call graphs (the libraries have no frame pointers),
     * at a lower rate to keep the file small */
    bool dwarf = getenv("DS_BENCH_PERF_DWARF") != NULL;
    char *argv[] = {"/usr/bin/perf",
                    "record",
                    "-F",
                    dwarf ? "97" : "499",
                    "--call-graph",
                    dwarf ? "dwarf,16384" : "fp",
                    "-p",
                    pid,
                    "-o",
                    out,
                    NULL};
    perf_pid = spawn_child(argv, "/dev/null");
    pause_us(300000); /* let it attach */
}

static void perf_stop(void)
{
    stop_child(&perf_pid, SIGINT);
}

/* ---------------------------------------------------------------- broker */

static void init_broker(const char *dir, unsigned window)
{
    char bind_ep[64], err[CONFIG_ERR_MAX], path[700], win[16];
    snprintf(endpoint, sizeof(endpoint), "tcp://127.0.0.1:%d", free_port());
    snprintf(bind_ep, sizeof(bind_ep), "%s", endpoint);
    snprintf(win, sizeof(win), "%u", window);
    /* DS_BENCH_DURABILITY=wal|none: the broker without fsync, to see what the disk costs */
    char *dur = getenv("DS_BENCH_DURABILITY");
    char *argv[] = {broker_bin, "--data", (char *)dir, "init",  "--street",   "street:bench",
                    "--name",   "bench",  "--bind",    bind_ep, "--web-bind", "",
                    "--window", win,      NULL,        NULL,    NULL};
    size_t argc = window ? 14 : 12; /* without --window N: the default window */
    argv[argc] = dur ? "--durability" : NULL;
    argv[argc + 1] = dur;
    if (run_cmd(argv, true, NULL) != 0)
        exit(1);
    snprintf(path, sizeof(path), "%s/street.card", dir);
    if (config_card_load(path, &street, err) != DS_OK)
        exit(1);
}

static void start_broker(const char *dir)
{
    char path[700], log_path[700];
    snprintf(log_path, sizeof(log_path), "%s.log", dir);
    /* DS_BENCH_BROKER_LOG=info|debug for a closer look (with --keep) */
    char *level = getenv("DS_BENCH_BROKER_LOG") ? getenv("DS_BENCH_BROKER_LOG") : "warn";
    char *argv[] = {broker_bin, "--data", (char *)dir, "--log-level", level, "run", NULL};
    snprintf(path, sizeof(path), "%s/endpoint", dir);
    unlink(path);
    broker_pid = spawn_child(argv, log_path);
    for (int i = 0; i < 1500 && access(path, F_OK) != 0; i++)
        pause_us(20000);
    if (access(path, F_OK) != 0) {
        fprintf(stderr, "bench: the broker did not start (see %s)\n", log_path);
        exit(1);
    }
}

static void stop_broker(void)
{
    stop_child(&broker_pid, SIGTERM);
}

/* Lines the broker logged (warnings and errors: it runs at --log-level warn). */
static long broker_log_lines(const char *dir)
{
    char path[700], line[4096];
    long n = 0;
    snprintf(path, sizeof(path), "%s.log", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f))
        if (n++ < 3) /* the first few, to say what it was about */
            fprintf(stderr, "bench: broker log: %s", line);
    fclose(f);
    return n;
}

/* One control request to the running broker: the JSON result, or NULL. */
static json_t *ctl_json(const char *dir, const char *cmd, const char *k1, const char *v1,
                        int timeout_ms)
{
    struct ctl_request *req = ctl_request_new();
    Dualsync__CtlReply *reply = NULL;
    json_t *j = NULL;
    ctl_request_command(req, cmd);
    if (k1)
        ctl_request_arg(req, k1, v1);
    if (ctl_call(dir, req, timeout_ms, &reply) == DS_OK && reply->code == 0)
        j = json_loads(reply->json, 0, NULL);
    else
        fprintf(stderr, "bench: control %s failed%s%s\n", cmd, reply ? ": " : "",
                reply ? reply->error_en : "");
    wire_msg_free(reply);
    ctl_request_destroy(&req);
    return j;
}

/* Sum of every org's inbox head: the inbox entries the broker holds. */
static uint64_t inbox_total(const char *dir)
{
    json_t *j = ctl_json(dir, "status", NULL, NULL, 60000);
    uint64_t sum = 0;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(j, "peers"), i, p) sum +=
        (uint64_t)json_integer_value(json_object_get(p, "inbox_head"));
    json_decref(j);
    return sum;
}

/* ---------------------------------------------------------------- virtual nodes */

/* A virtual org: keys, id, one DEALER socket on the shared context. */
struct vnode {
    char org[IDS_ORG_MAX];
    size_t index;
    struct keys keys;
    void *sock;
    bool registered; /* its ZMQ_FD is in the fleet's epoll set */
    bool touched;    /* sent on since the last drain: a send may swallow the read signal */
    bool welcomed;
    uint8_t store_id[32];
    size_t store_id_len;
    uint64_t head_at_welcome;     /* inbox head in WELCOME, before any traffic */
    uint64_t dir_head_at_welcome; /* the street's last directory entry in WELCOME */
    uint64_t cursor, confirmed_sent;
    uint64_t dir_cursor, dir_confirmed_sent; /* the directory stream (Directory frames) */
    uint64_t dir_events, member_events;      /* deliveries received */
    uint64_t dir_again;   /* directory entries received again (a frame at or below the cursor) */
    uint64_t sent, acked; /* own events (city-year) */
    uint64_t fetched;     /* own events fetched back in order (the restore after a catch-up) */
    double last_send, last_recv, hello_due, ack_progress_at;
    uint64_t ack_mark;
    unsigned hello_tries, republish_tries; /* --node-timers: the node's backoff counts */
    uint64_t errors;
    /* throughput phases: prebuilt frames */
    uint8_t **frames;
    size_t *frame_len;
    size_t n_frames, next_frame, per_frame;
    uint64_t frame_events; /* events in the prebuilt frames */
    /* city-year: stream[seq - 1] is the global index of own event seq */
    uint32_t *stream;
    size_t n_stream;
};

/* What a virtual node does with a delivered member event and with an ACK
 * (phase-specific). */
static void (*on_member_event)(struct vnode *v, const struct event *ev, double t);
static void (*on_ack)(struct vnode *v, uint64_t from, uint64_t upto);
static uint64_t errors_printed;

static void vctx_init(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max; /* two descriptors per virtual node, plus RocksDB */
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    vctx = zmq_ctx_new();
    int limit = zmq_ctx_get(vctx, ZMQ_SOCKET_LIMIT);
    int want = MAX_VSOCKETS < limit ? MAX_VSOCKETS : limit;
    /* Must be set before the context's first socket: the default is 1023. */
    if (zmq_ctx_set(vctx, ZMQ_MAX_SOCKETS, want) != 0) {
        fprintf(stderr, "bench: ZMQ_MAX_SOCKETS %d: %s\n", want, zmq_strerror(zmq_errno()));
        exit(1);
    }
}

static void vnode_keys(struct vnode *v, const char *org, size_t index)
{
    memset(v, 0, sizeof(*v));
    snprintf(v->org, sizeof(v->org), "%s", org);
    v->index = index;
    keys_generate(&v->keys);
}

static void vnode_open(struct vnode *v)
{
    int linger = 0, hwm = 100000, timeout = 5000;
    v->sock = zmq_socket(vctx, ZMQ_DEALER);
    if (!v->sock) {
        fprintf(stderr, "bench: zmq_socket for %s: %s\n", v->org, zmq_strerror(zmq_errno()));
        exit(1);
    }
    zmq_setsockopt(v->sock, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(v->sock, ZMQ_SNDHWM, &hwm, sizeof(hwm));
    zmq_setsockopt(v->sock, ZMQ_RCVHWM, &hwm, sizeof(hwm));
    zmq_setsockopt(v->sock, ZMQ_SNDTIMEO, &timeout, sizeof(timeout));
    zmq_setsockopt(v->sock, ZMQ_CURVE_SERVERKEY, street.curve_key, KEYS_PUB_LEN);
    zmq_setsockopt(v->sock, ZMQ_CURVE_PUBLICKEY, v->keys.curve_pk, KEYS_PUB_LEN);
    zmq_setsockopt(v->sock, ZMQ_CURVE_SECRETKEY, v->keys.curve_sk, KEYS_CURVE_SECRET_LEN);
    if (zmq_connect(v->sock, endpoint) != 0) {
        fprintf(stderr, "bench: connect %s: %s\n", v->org, zmq_strerror(zmq_errno()));
        exit(1);
    }
}

static void vnode_close(struct vnode *v)
{
    if (v->sock)
        zmq_close(v->sock);
    v->sock = NULL;
    v->registered = false;
}

static bool vnode_send(struct vnode *v, const uint8_t *data, size_t len)
{
    v->touched = true;
    if (zmq_send(v->sock, data, len, ZMQ_DONTWAIT) < 0) {
        send_failures++; /* reconnecting (a DEALER with no pipe) or a full queue */
        return false;
    }
    v->last_send = now_s();
    return true;
}

static bool vnode_send_frame(struct vnode *v, const Dualsync__Frame *f)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    wire_pack(&f->base, &buf, &len);
    bool ok = vnode_send(v, buf, len);
    free(buf);
    if (ok && (unsigned)f->kind_case < FRAME_KINDS)
        frames_sent[f->kind_case]++;
    return ok;
}

/* node/sync.c retry_delay(): the wait before retry attempt + 1 of a rule, in seconds. */
static double node_retry_s(const struct vnode *v, unsigned rule, unsigned attempt)
{
    uint64_t ms =
        backoff_delay_ms(attempt, NODE_BEAT_MS, NODE_BACKOFF_CAP_MS, backoff_seed(v->org, rule));
    return (double)ms / 1000.0;
}

/* resume: a retry of an unanswered HELLO on the same connection, as node/sync.c sends it
 * (Hello.resume). */
static void vnode_hello(struct vnode *v, bool resume)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    Dualsync__Hello h = DUALSYNC__HELLO__INIT;
    h.org = v->org;
    h.proto = WIRE_PROTO_VERSION;
    h.own_seq = v->sent;
    h.inbox_cursor = v->cursor;
    h.directory_cursor = v->dir_cursor;
    h.broker_store_id.data = v->store_id;
    h.broker_store_id.len = v->store_id_len;
    h.resume = resume;
    f.kind_case = DUALSYNC__FRAME__KIND_HELLO;
    f.hello = &h;
    v->welcomed = false;
    hellos_sent++;
    bool sent = vnode_send_frame(v, &f);
    if (!node_timers)
        v->hello_due = now_s() + 30.0;
    else if (sent)
        v->hello_due = now_s() + node_retry_s(v, NODE_RETRY_HELLO, v->hello_tries++);
    else /* as the node: nothing is out, so no backoff; try again at the next beat */
        v->hello_due = now_s() + NODE_BEAT_MS / 1000.0;
}

static void vnode_handle(struct vnode *v, const uint8_t *data, size_t len)
{
    Dualsync__Frame *r = wire_frame_unpack(data, len);
    if (!r)
        return;
    if ((unsigned)r->kind_case < FRAME_KINDS)
        frames_received[r->kind_case]++;
    if (r->kind_case == DUALSYNC__FRAME__KIND_WELCOME) {
        v->welcomed = true;
        v->hello_tries = v->republish_tries = 0;
        v->hello_due = 0;
        v->head_at_welcome = r->welcome->inbox_head;
        v->dir_head_at_welcome = r->welcome->directory_head;
        v->store_id_len = r->welcome->store_id.len < sizeof(v->store_id) ? r->welcome->store_id.len
                                                                         : sizeof(v->store_id);
        memcpy(v->store_id, r->welcome->store_id.data, v->store_id_len);
        /* as a node does: go on publishing from what the broker holds (a session the broker
         * dropped lost the frames in flight) */
        if (r->welcome->stored_upto > v->acked) {
            if (on_ack)
                on_ack(v, v->acked + 1, r->welcome->stored_upto);
            v->acked = r->welcome->stored_upto;
        }
        if (v->stream)
            v->sent = v->acked;
        if (v->frames)
            v->next_frame = (size_t)(v->acked / v->per_frame);
    } else if (r->kind_case == DUALSYNC__FRAME__KIND_ACK) {
        if (r->ack->upto > v->acked) {
            if (on_ack)
                on_ack(v, v->acked + 1, r->ack->upto);
            v->acked = r->ack->upto;
        }
        /* after a rewind (new session, error), frames still in flight get acked too */
        if (v->stream && v->sent < v->acked)
            v->sent = v->acked;
        if (v->frames && v->next_frame < v->acked / v->per_frame)
            v->next_frame = (size_t)(v->acked / v->per_frame);
    } else if (r->kind_case == DUALSYNC__FRAME__KIND_ERROR) {
        v->errors++;
        if (errors_printed++ < 10)
            fprintf(stderr, "bench: broker error for %s: code %d seq %llu: %s\n", v->org,
                    (int)r->error->code, (unsigned long long)r->error->seq, r->error->message);
        if (r->error->code == DUALSYNC__ERROR_CODE__ERROR_HELLO_FIRST) {
            /* the broker dropped the session; a node with --node-timers sends one HELLO
             * for any number of these, then retries on its backoff (vnode_upkeep) */
            if (!node_timers || now_s() >= v->hello_due)
                vnode_hello(v, false);
            else
                v->welcomed = false;
        } else if (r->error->code != DUALSYNC__ERROR_CODE__ERROR_REFUSED && v->stream)
            v->sent = v->acked; /* send again from what is durable */
    } else if (r->kind_case == DUALSYNC__FRAME__KIND_FETCHED) {
        if (r->fetched->first == v->fetched + 1)
            v->fetched += r->fetched->n_events;
    } else if (r->kind_case == DUALSYNC__FRAME__KIND_DIRECTORY) {
        const Dualsync__Directory *d = r->directory;
        if (d->after <= v->dir_cursor && d->upto > v->dir_cursor) {
            v->dir_events += d->n_events;
            v->dir_cursor = d->upto;
        } else if (d->upto <= v->dir_cursor) {
            v->dir_again += d->n_events;
        }
    } else if (r->kind_case == DUALSYNC__FRAME__KIND_DELIVER) {
        double t = now_s();
        const Dualsync__Deliver *d = r->deliver;
        for (size_t i = 0; i < d->n_events; i++) {
            struct event ev;
            if (wire_event_open(d->events[i].data, d->events[i].len, false, &ev) != DS_OK)
                continue;
            if (ev.member[0]) {
                v->member_events++;
                if (on_member_event)
                    on_member_event(v, &ev, t);
            } else {
                v->dir_events++;
            }
            wire_event_release(&ev);
        }
        if (d->n_events && d->first + d->n_events - 1 > v->cursor)
            v->cursor = d->first + d->n_events - 1;
    }
    wire_frame_free(r);
}

static void vnode_drain(struct vnode *v)
{
    v->touched = false;
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, v->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        v->last_recv = now_s();
        vnode_handle(v, zmq_msg_data(&m), zmq_msg_size(&m));
        zmq_msg_close(&m);
    }
}

/* Whether v holds the directory and the inbox it was told of in its WELCOME. */
static bool vnode_has_directory(const struct vnode *v)
{
    return v->dir_cursor >= v->dir_head_at_welcome && v->cursor >= v->head_at_welcome;
}

/* Confirms what was received (one CONFIRM per wake-up), pings when idle. */
static void vnode_upkeep(struct vnode *v, double now)
{
    /* a HELLO can be lost (sent while the connection was being re-established): ask again,
     * on the node's backoff (--node-timers) or after 30 s */
    if (!v->welcomed && now >= v->hello_due)
        vnode_hello(v, node_timers && v->hello_tries > 0);
    if (node_timers && v->welcomed && v->stream && v->acked < v->sent) {
        double patience = 3.0;
        if (v->republish_tries)
            patience += node_retry_s(v, NODE_RETRY_REPUBLISH, v->republish_tries - 1);
        if (v->acked != v->ack_mark) {
            v->ack_mark = v->acked;
            v->ack_progress_at = now;
            v->republish_tries = 0;
        } else if (now - v->ack_progress_at > patience) {
            republished += v->sent - v->acked;
            v->sent = v->acked;
            v->ack_progress_at = now;
            v->republish_tries++;
        }
    }
    if (v->welcomed && (v->cursor > v->confirmed_sent || v->dir_cursor > v->dir_confirmed_sent)) {
        Dualsync__Frame f = DUALSYNC__FRAME__INIT;
        Dualsync__Confirm c = DUALSYNC__CONFIRM__INIT;
        c.upto = v->cursor;
        c.directory_upto = v->dir_cursor;
        f.kind_case = DUALSYNC__FRAME__KIND_CONFIRM;
        f.confirm = &c;
        if (vnode_send_frame(v, &f)) {
            v->confirmed_sent = v->cursor;
            v->dir_confirmed_sent = v->dir_cursor;
        }
    } else if (v->welcomed && now - v->last_send > PING_IDLE_S) {
        Dualsync__Frame f = DUALSYNC__FRAME__INIT;
        Dualsync__Ping p = DUALSYNC__PING__INIT;
        f.kind_case = DUALSYNC__FRAME__KIND_PING;
        f.ping = &p;
        vnode_send_frame(v, &f);
    }
}

/* Every virtual node of a phase, polled together. zmq_poll over thousands of sockets
 * costs a syscall and a command check per socket per call, which made this process, not
 * the broker, the bottleneck at 2,500 nodes; so the sockets' ZMQ_FD descriptors go into
 * one epoll set, and a socket is drained (read until EAGAIN, which also rearms its
 * ZMQ_FD) when epoll says so or when it was sent on. */
struct fleet {
    struct vnode **v;
    size_t n;
    int epfd;
};

static void fleet_init(struct fleet *f, struct vnode **v, size_t n)
{
    f->v = v;
    f->n = n;
    f->epfd = epoll_create1(0);
    if (f->epfd < 0) {
        perror("epoll_create1");
        exit(1);
    }
}

static void fleet_free(struct fleet *f)
{
    for (size_t i = 0; i < f->n; i++)
        vnode_close(f->v[i]);
    close(f->epfd);
    f->epfd = -1;
}

static void fleet_poll(struct fleet *f, int timeout_ms)
{
    bool busy = false;
    for (size_t i = 0; i < f->n; i++) {
        struct vnode *v = f->v[i];
        if (v->sock && !v->registered) {
            int fd = -1;
            size_t sz = sizeof(fd);
            zmq_getsockopt(v->sock, ZMQ_FD, &fd, &sz);
            struct epoll_event ev = {.events = EPOLLIN, .data.ptr = v};
            if (epoll_ctl(f->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
                perror("epoll_ctl");
                exit(1);
            }
            v->registered = v->touched = true;
        }
        if (v->sock && v->touched) {
            uint64_t before = v->dir_events + v->member_events + v->acked;
            vnode_drain(v);
            busy = busy || v->dir_events + v->member_events + v->acked != before;
        }
    }
    struct epoll_event evs[512];
    int n = epoll_wait(f->epfd, evs, 512, busy ? 0 : timeout_ms);
    for (int i = 0; i < n; i++)
        vnode_drain(evs[i].data.ptr);
    double t = now_s();
    for (size_t i = 0; i < f->n; i++)
        if (f->v[i]->sock)
            vnode_upkeep(f->v[i], t);
}

struct connect_stats {
    double welcome_s, directory_s;
    uint64_t directory_events;
    uint64_t directory_again; /* received again (resent) */
    bool ok;
};

/* Opens every connection at once, sends HELLO, waits until all are welcomed and have
 * received (and confirmed) their directory. */
static struct connect_stats fleet_connect(struct fleet *f, double limit_s)
{
    struct connect_stats cs = {0, 0, 0, 0, false};
    double t0 = now_s();
    for (size_t i = 0; i < f->n; i++) {
        vnode_open(f->v[i]);
        vnode_hello(f->v[i], false);
    }
    size_t welcomed = 0;
    while (welcomed < f->n && !expired(t0 + limit_s)) {
        fleet_poll(f, 5);
        welcomed = 0;
        for (size_t i = 0; i < f->n; i++)
            welcomed += f->v[i]->welcomed;
    }
    cs.welcome_s = now_s() - t0;
    bool all = welcomed == f->n;
    while (all && !expired(t0 + limit_s)) {
        bool done = true;
        for (size_t i = 0; i < f->n && done; i++)
            done = vnode_has_directory(f->v[i]);
        if (done)
            break;
        fleet_poll(f, 5);
    }
    cs.directory_s = now_s() - t0;
    bool drained = all;
    for (size_t i = 0; i < f->n; i++) {
        cs.directory_events += f->v[i]->dir_events;
        cs.directory_again += f->v[i]->dir_again;
        drained = drained && vnode_has_directory(f->v[i]);
    }
    /* let the last CONFIRMs go out */
    fleet_poll(f, 0);
    cs.ok = drained;
    if (!cs.ok)
        fprintf(stderr, "bench: connect incomplete: %zu of %zu welcomed, directory %s\n", welcomed,
                f->n, drained ? "drained" : "not drained");
    return cs;
}

/* ---------------------------------------------------------------- registration */

struct reg_stats {
    size_t orgs;
    double total_s, first_ms, last_ms; /* mean per org: first and last tenth */
    uint64_t inbox_entries;
    double db_mib;
    struct connect_stats conn;
    bool complete;
};

static void write_card(const struct vnode *v, char *path, size_t size)
{
    struct org_card card;
    memset(&card, 0, sizeof(card));
    snprintf(card.org, sizeof(card.org), "%s", v->org);
    snprintf(card.name, sizeof(card.name), "bench");
    card.kind = ids_org_kind(v->org);
    memcpy(card.curve_key, v->keys.curve_pk, KEYS_PUB_LEN);
    memcpy(card.sign_key, v->keys.sign_pk, KEYS_PUB_LEN);
    snprintf(path, size, "%s/%s.card", work, strchr(v->org, ':') + 1);
    config_card_save(path, &card);
}

static bool add_org_cli(const char *dir, const struct vnode *v)
{
    char path[512];
    write_card(v, path, sizeof(path));
    char *argv[] = {broker_bin, "--data", (char *)dir, "org", "add", "--card", path, NULL};
    return run_cmd(argv, true, NULL) == 0;
}

static bool add_org_ctl(const char *dir, const struct vnode *v)
{
    char ck[KEYS_HEX_PUB_LEN], sk[KEYS_HEX_PUB_LEN];
    struct ctl_request *req = ctl_request_new();
    Dualsync__CtlReply *reply = NULL;
    keys_hex(v->keys.curve_pk, KEYS_PUB_LEN, ck);
    keys_hex(v->keys.sign_pk, KEYS_PUB_LEN, sk);
    ctl_request_command(req, "org add");
    ctl_request_arg(req, "org", v->org);
    ctl_request_arg(req, "name", "bench");
    ctl_request_arg(req, "curve-key", ck);
    ctl_request_arg(req, "sign-key", sk);
    bool ok = ctl_call(dir, req, 120000, &reply) == DS_OK && reply->code == 0;
    wire_msg_free(reply);
    ctl_request_destroy(&req);
    return ok;
}

/* Registers every org one `org add` at a time, through the CLI against the stopped broker
 * (--register cli: a process and a RocksDB open per org, as an operator's script does)
 * or through the control socket of the running broker (--register ctl: the same handler,
 * no process per org). There is no bulk form: the control API takes one command per
 * request. Leaves the broker running; stops at the deadline. */
static struct reg_stats register_orgs(const char *dir, struct vnode **v, size_t n, double limit_s)
{
    struct reg_stats rs;
    memset(&rs, 0, sizeof(rs));
    bool ctl = strcmp(register_mode, "ctl") == 0;
    if (ctl)
        start_broker(dir);
    char perf_name[64];
    snprintf(perf_name, sizeof(perf_name), "register-%zu", n);
    if (ctl && n >= 100)
        perf_start(perf_name);
    double t0 = now_s(), deadline = t0 + limit_s, first = 0, last = 0;
    size_t tenth = n / 10 ? n / 10 : 1, i;
    double ts = t0;
    for (i = 0; i < n && !expired(deadline); i++) {
        bool ok = ctl ? add_org_ctl(dir, v[i]) : add_org_cli(dir, v[i]);
        if (!ok) {
            fprintf(stderr, "bench: org add %s failed\n", v[i]->org);
            exit(1);
        }
        double t = now_s();
        if (i < tenth)
            first += t - ts;
        if (i >= n - tenth)
            last += t - ts;
        ts = t;
    }
    rs.orgs = i;
    rs.complete = i == n;
    rs.total_s = now_s() - t0;
    perf_stop();
    rs.first_ms = 1000.0 * first / (double)tenth;
    rs.last_ms = 1000.0 * last / (double)tenth;
    if (!ctl)
        start_broker(dir);
    rs.inbox_entries = inbox_total(dir);
    char db[700];
    snprintf(db, sizeof(db), "%s/db", dir);
    rs.db_mib = du_mib(db);
    return rs;
}

static char reg_rows[64][512];
static size_t n_reg_rows;

static void reg_row(const struct reg_stats *rs)
{
    if (n_reg_rows == 64)
        return;
    snprintf(reg_rows[n_reg_rows++], sizeof(reg_rows[0]),
             "| %zu | %s | %.1f%s | %.1f | %.1f | %llu | %.1f | %.2f | %.2f | %llu |", rs->orgs,
             register_mode, rs->total_s, rs->complete ? "" : " (deadline hit)", rs->first_ms,
             rs->last_ms, (unsigned long long)rs->inbox_entries, rs->db_mib, rs->conn.welcome_s,
             rs->conn.directory_s, (unsigned long long)rs->conn.directory_events);
}

static void print_reg_rows(void)
{
    printf("\n| orgs registered | via | register s | ms per org (first tenth) | ms per org "
           "(last tenth) | inbox entries | db MiB | all welcomed s | directory delivered s | "
           "directory events delivered |\n|---|---|---|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < n_reg_rows; i++)
        printf("%s\n", reg_rows[i]);
    fflush(stdout);
}

/* ---------------------------------------------------------------- throughput frames */

/* N signed introductions from unit u for members to community c, packed per to a
 * PUBLISH frame. */
static void build_frames(struct vnode *u, const char *community, size_t events, size_t per)
{
    u->n_frames = (events + per - 1) / per;
    u->per_frame = per;
    u->frame_events = events;
    u->frames = xcalloc(u->n_frames ? u->n_frames : 1, sizeof(*u->frames));
    u->frame_len = xcalloc(u->n_frames ? u->n_frames : 1, sizeof(*u->frame_len));
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

/* Keeps WINDOW_FRAMES frames in flight. */
static void unit_pump(struct vnode *u)
{
    while (u->welcomed && u->next_frame < u->n_frames &&
           u->next_frame - u->acked / u->per_frame < WINDOW_FRAMES) {
        if (!vnode_send(u, u->frames[u->next_frame], u->frame_len[u->next_frame]))
            break;
        u->next_frame++;
    }
}

static void free_frames(struct vnode *u)
{
    for (size_t f = 0; f < u->n_frames; f++)
        free(u->frames[f]);
    free(u->frames);
    free(u->frame_len);
    u->frames = NULL;
    u->n_frames = 0;
}

/* ---------------------------------------------------------------- ceilings */

static double rocksdb_ceiling(struct vnode **units, size_t n_units, uint64_t *count_out)
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
        for (size_t f = 0; f < units[u]->n_frames; f++) {
            Dualsync__Frame *fr = wire_frame_unpack(units[u]->frames[f], units[u]->frame_len[f]);
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

static double zeromq_ceiling(struct vnode **units, size_t n_units, uint64_t events)
{
    struct keys server;
    struct zmq_sink z = {.frames = 0, .want = 0};
    char bound[128];
    keys_generate(&server);
    for (size_t u = 0; u < n_units; u++)
        z.want += units[u]->n_frames;
    z.t = transport_new();
    if (transport_listen(z.t, "tcp://127.0.0.1:*", &server, accept_all, zmq_sink_frame, &z, bound,
                         sizeof(bound)) != DS_OK)
        exit(1);
    pthread_t th;
    pthread_create(&th, NULL, zmq_sink_run, &z);
    struct transport_client *c = NULL;
    transport_client_open(bound, server.curve_pk, &units[0]->keys, &c);
    double t0 = now_s();
    for (size_t u = 0; u < n_units; u++)
        for (size_t f = 0; f < units[u]->n_frames; f++)
            transport_client_send(c, units[u]->frames[f], units[u]->frame_len[f], 1);
    pthread_join(th, NULL);
    double dt = now_s() - t0;
    transport_client_close(&c);
    transport_destroy(&z.t);
    return (double)events / dt;
}

/* ---------------------------------------------------------------- broker phases */

/* A street with a sink community and n units, registered (the broker left running).
 * all[0] is the sink. */
static struct vnode **make_street(const char *name, size_t n_units, struct reg_stats *rs_out)
{
    char dir[600], org[IDS_ORG_MAX];
    snprintf(dir, sizeof(dir), "%s/%s", work, name);
    init_broker(dir, 4096);
    struct vnode **all = xcalloc(n_units + 1, sizeof(*all));
    for (size_t i = 0; i <= n_units; i++) {
        all[i] = xmalloc(sizeof(**all));
        if (i == 0)
            snprintf(org, sizeof(org), "community:sink");
        else
            snprintf(org, sizeof(org), "unit:b%zu", i);
        vnode_keys(all[i], org, i);
    }
    struct reg_stats rs = register_orgs(dir, all, n_units + 1, 600);
    if (!rs.complete) {
        reg_row(&rs);
        print_reg_rows();
        fprintf(stderr, "bench: registration of %zu orgs did not finish in 600 s\n", n_units + 1);
        exit(1);
    }
    if (rs_out)
        *rs_out = rs;
    return all;
}

static void free_street(struct vnode **all, size_t n_units)
{
    for (size_t i = 0; i <= n_units; i++) {
        free_frames(all[i]);
        vnode_close(all[i]);
        free(all[i]);
    }
    free(all);
}

static struct vnode *sink_node;
static double *sink_arrival;
static size_t sink_arrival_n;

static void sink_event(struct vnode *v, const struct event *ev, double t)
{
    if (v == sink_node && sink_arrival && ev->seq < sink_arrival_n && sink_arrival[ev->seq] == 0)
        sink_arrival[ev->seq] = t;
}

/* Throughput: the sink counts each (unit, seq) once (delivery is at-least-once, and a
 * session the broker dropped is redelivered from its cursor). */
static uint8_t *tp_seen;
static size_t tp_units, tp_per_unit;
static uint64_t tp_unique;

static void tp_event(struct vnode *v, const struct event *ev, double t)
{
    (void)t;
    size_t u = 0;
    if (v->index != 0 || sscanf(ev->origin, "unit:b%zu", &u) != 1 || u < 1 || u > tp_units ||
        ev->seq < 1 || ev->seq > tp_per_unit)
        return;
    size_t k = (u - 1) * tp_per_unit + (size_t)(ev->seq - 1);
    if (!tp_seen[k]) {
        tp_seen[k] = 1;
        tp_unique++;
    }
}

static double throughput(size_t n_units, size_t events)
{
    char name[32], dir[600];
    snprintf(name, sizeof(name), "tp-%zu", n_units);
    snprintf(dir, sizeof(dir), "%s/%s", work, name);
    struct reg_stats rs;
    struct vnode **all = make_street(name, n_units, &rs);
    struct vnode **units = all + 1;
    size_t per_unit = events / n_units;
    for (size_t u = 0; u < n_units; u++)
        build_frames(units[u], "community:sink", per_unit, PER_FRAME);
    uint64_t total = 0;
    double rdb = rocksdb_ceiling(units, n_units, &total);
    double zmq = zeromq_ceiling(units, n_units, total);
    struct fleet f;
    fleet_init(&f, all, n_units + 1);
    tp_units = n_units;
    tp_per_unit = per_unit;
    tp_unique = 0;
    tp_seen = xcalloc(n_units * per_unit + 1, 1);
    on_member_event = tp_event;
    rs.conn = fleet_connect(&f, 600);
    const struct connect_stats cs = rs.conn;
    reg_row(&rs);
    json_t *cpu0 = thread_cpu(broker_pid);
    char perf_name[64];
    snprintf(perf_name, sizeof(perf_name), "throughput-%zu", n_units);
    perf_start(perf_name);
    double t0 = now_s(), deadline = t0 + phase_deadline, next_report = t0 + 10;
    bool done = false;
    while (cs.ok && !done && !expired(deadline)) {
        done = tp_unique >= total;
        uint64_t acked = 0;
        for (size_t u = 0; u < n_units; u++) {
            unit_pump(units[u]);
            acked += units[u]->acked;
            done = done && units[u]->acked == per_unit;
        }
        fleet_poll(&f, 1);
        if (now_s() > next_report) {
            next_report += 10;
            fprintf(stderr, "bench: %.0f s: %llu of %llu acked, %llu delivered to the sink\n",
                    now_s() - t0, (unsigned long long)acked, (unsigned long long)total,
                    (unsigned long long)tp_unique);
        }
    }
    double dt = now_s() - t0;
    perf_stop();
    json_t *cpu1 = thread_cpu(broker_pid);
    double broker = (double)(done ? total : tp_unique) / dt; /* what got through */
    on_member_event = NULL;
    free(tp_seen);
    tp_seen = NULL;
    printf("| %zu | %llu | %.0f | %.0f | %.0f | %.0f%% | %.0f%% |%s\n", n_units,
           (unsigned long long)total, broker, rdb, zmq, 100.0 * broker / rdb, 100.0 * broker / zmq,
           done ? "" : " (deadline hit)");
    print_thread_cpu("  broker", cpu0, cpu1, dt);
    fflush(stdout);
    json_decref(cpu0);
    json_decref(cpu1);
    long lines = broker_log_lines(dir);
    if (lines)
        fprintf(stderr, "bench: the broker logged %ld warning lines (%s.log)\n", lines, dir);
    stop_broker();
    fleet_free(&f);
    free_street(all, n_units);
    return broker;
}

/* The same work for nats-server with JetStream, one row per count of publishers, beside
 * the broker's rate with as many units (rates[i] for counts[i]). */
static void nats_table(const size_t *counts, const double *rates, size_t n, size_t events)
{
    printf("\n| NATS publishers | messages | acked publish/s (both consumers have all) | s | "
           "nats-server peak RSS MiB | nats-server CPU s | broker / NATS (broker, same units) |\n"
           "|---|---|---|---|---|---|---|\n");
    if (!nats_server_path()) {
        printf("| nats-server not found (apt-get install nats-server, or DS_BENCH_NATS=PATH): "
               "no peer measured | | | | | | |\n");
        return;
    }
    for (size_t i = 0; i < n && !stop_flag; i++) {
        struct nats_figures nf = nats_run(work, counts[i], events, phase_deadline);
        if (!nf.ok)
            printf("| %zu | %zu | failed or past the deadline | | | | |\n", counts[i], events);
        else
            printf("| %zu | %zu | %.0f | %.2f | %.1f | %.1f | %.2f× (%.0f ev/s) |\n", counts[i],
                   events, nf.rate, nf.seconds, nf.rss_mib, nf.cpu_s, rates[i] / nf.rate, rates[i]);
        fflush(stdout);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* From a status reply: the event log's commits, and the slowest of them (ms). */
static void commit_figures(json_t *st, long long *count, double *slowest_ms)
{
    json_t *c = st ? json_object_get(st, "commits") : NULL;
    *count = (long long)json_integer_value(json_object_get(c, "count"));
    *slowest_ms = json_number_value(json_object_get(c, "max_ms"));
}

/* From a histogram of a status reply (hist_json): how many samples took over 5 ms. */
static long long over_5ms(json_t *hist)
{
    long long count = (long long)json_integer_value(json_object_get(hist, "count"));
    size_t i;
    json_t *bucket;
    json_array_foreach(json_object_get(hist, "buckets"), i,
                       bucket) if (json_number_value(json_array_get(bucket, 0)) ==
                                   5.0) return count -
        (long long)json_integer_value(json_array_get(bucket, 1));
    return 0;
}

static void latency(double rate, double seconds)
{
    char name[32];
    size_t n = (size_t)(rate * seconds);
    snprintf(name, sizeof(name), "lat-%.0f", rate);
    struct vnode **all = make_street(name, 1, NULL);
    struct vnode *u = all[1];
    build_frames(u, "community:sink", n, 1);
    struct fleet f;
    fleet_init(&f, all, 2);
    sink_node = all[0];
    on_member_event = sink_event;
    fleet_connect(&f, 60);
    double *sent = xcalloc(n + 1, sizeof(*sent));
    sink_arrival = xcalloc(n + 1, sizeof(*sink_arrival));
    sink_arrival_n = n + 1;
    double t0 = now_s(), next = t0, deadline = t0 + seconds + 30;
    size_t i = 0;
    while ((i < n || all[0]->member_events < n) && !expired(deadline)) {
        double t = now_s();
        while (i < n && t >= next) {
            vnode_send(u, u->frames[i], u->frame_len[i]);
            sent[i + 1] = t;
            i++;
            next += 1.0 / rate;
        }
        /* Sleep in the poll until the next send is due, at least 1 ms: at 10,000 ev/s the
         * next send is always less than 1 ms away, and polling with timeout 0 until then
         * took 80% of a core from the broker on this 2-core machine (its p50 was 19 ms).
         * What fell due meanwhile goes out together, each timed when it is sent. */
        double wait_ms = i < n ? (next - now_s()) * 1000.0 : 5;
        fleet_poll(&f, wait_ms > 0 ? (wait_ms < 1 ? 1 : (int)wait_ms) : 0);
    }
    double *lat = xcalloc(n ? n : 1, sizeof(*lat));
    size_t m = 0;
    for (size_t s = 1; s <= n; s++)
        if (sink_arrival[s] > 0)
            lat[m++] = (sink_arrival[s] - sent[s]) * 1000.0;
    qsort(lat, m, sizeof(*lat), cmp_double);
    /* the broker's commits meanwhile: how many, and the slowest (a slow fsync, a write
     * stall) */
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/%s", work, name);
    json_t *st = ctl_json(dir, "status", NULL, NULL, 10000);
    long long commits = 0;
    double slowest = 0;
    commit_figures(st, &commits, &slowest);
    /* over the broker's life (this phase's street is new): commits and turns of the loop
     * that took over 5 ms (a letter that came meanwhile waited), and the longest turn */
    json_t *turns = st ? json_object_get(st, "loop") : NULL;
    json_t *commit_hist = st ? json_object_get(st, "commits") : NULL;
    double turn_max = json_number_value(json_object_get(turns, "max_ms"));
    long long slow_commits = over_5ms(commit_hist), slow_turns = over_5ms(turns);
    json_decref(st);
    if (m)
        printf("| %.0f | %zu | %.2f | %.2f | %.2f | %.2f | %lld | %.1f | %lld | %lld | %.1f |\n",
               rate, m, lat[m / 2], lat[(size_t)((double)m * 0.99)],
               lat[(size_t)((double)m * 0.999)], lat[m - 1], commits, slowest, slow_commits,
               slow_turns, turn_max);
    fflush(stdout);
    free(lat);
    free(sent);
    free(sink_arrival);
    sink_arrival = NULL;
    on_member_event = NULL;
    stop_broker();
    fleet_free(&f);
    free_street(all, 1);
}

/* The restore after a catch-up: the unit fetches its own events back, one FETCH at a time
 * as a node in needs-restore does. Figures printed after the table. */
static double restore_s = -1;

static void restore_all(struct vnode *u, struct fleet *uf, size_t events)
{
    double t0 = now_s();
    while (u->fetched < events && !expired(t0 + 600)) {
        Dualsync__Frame f = DUALSYNC__FRAME__INIT;
        Dualsync__Fetch req = DUALSYNC__FETCH__INIT;
        req.from = u->fetched + 1;
        req.upto = events;
        f.kind_case = DUALSYNC__FRAME__KIND_FETCH;
        f.fetch = &req;
        uint64_t had = u->fetched;
        vnode_send_frame(u, &f);
        for (double t1 = now_s(); u->fetched == had && !expired(t1 + 10);)
            fleet_poll(uf, 1);
        if (u->fetched == had)
            break; /* no answer in 10 s: reported as not done */
    }
    restore_s = u->fetched >= events ? now_s() - t0 : -1;
}

/* The erasure after a catch-up (issue 11, item 5): figures printed after the table. */
static double erase_ack_ms = -1, erase_scrub_s = -1, erase_db_before = 0, erase_db_after = 0;

/* The unit erases its first member: the time to the ACK (the redaction of the member's
 * letters is in that commit) and to the end of the scrub (status.scrub_pending false: the
 * inbox rewritten and the store compacted, on the scrub's thread). */
static void erase_one(struct vnode *u, struct fleet *uf, const char *dir, uint64_t seq)
{
    char member[IDS_MEMBER_MAX + 1];
    snprintf(member, sizeof(member), "%s-1", u->org + 5);
    Dualsync__MemberErase b = DUALSYNC__MEMBER_ERASE__INIT;
    b.reason = DUALSYNC__ERASE_REASON__ERASE_REQUEST;
    b.date = (char *)"2026-12-03";
    uint8_t *body = NULL;
    size_t body_len = 0;
    wire_pack(&b.base, &body, &body_len);
    ProtobufCBinaryData ev = {0, NULL};
    wire_event_build(&u->keys, u->org, seq, hlc_base + seq, member,
                     DUALSYNC__EVENT_TYPE__EVENT_MEMBER_ERASE, body, body_len, &ev.data, &ev.len);
    free(body);
    Dualsync__Frame fr = DUALSYNC__FRAME__INIT;
    Dualsync__Publish p = DUALSYNC__PUBLISH__INIT;
    p.n_events = 1;
    p.events = &ev;
    fr.kind_case = DUALSYNC__FRAME__KIND_PUBLISH;
    fr.publish = &p;
    erase_db_before = du_mib(dir);
    double t0 = now_s();
    vnode_send_frame(u, &fr);
    free(ev.data);
    while (u->acked < seq && !expired(t0 + 60))
        fleet_poll(uf, 1);
    erase_ack_ms = u->acked >= seq ? (now_s() - t0) * 1e3 : -1;
    for (bool pending = true; pending && !expired(t0 + 600);) {
        json_t *st = ctl_json(dir, "status", NULL, NULL, 5000);
        pending = !st || json_is_true(json_object_get(st, "scrub_pending"));
        json_decref(st);
        if (pending)
            fleet_poll(uf, 100);
    }
    erase_scrub_s = now_s() - t0;
    erase_db_after = du_mib(dir);
}

static void catchup(size_t events)
{
    struct vnode **all = make_street("catchup", 1, NULL);
    struct vnode *u = all[1];
    build_frames(u, "community:sink", events, PER_FRAME);
    struct fleet uf, sf;
    fleet_init(&uf, all + 1, 1);
    fleet_init(&sf, all, 1);
    fleet_connect(&uf, 60);
    double t0 = now_s();
    while (u->acked < events && !expired(t0 + 600)) {
        unit_pump(u);
        fleet_poll(&uf, 1);
    }
    double stored = now_s() - t0;
    /* the sink connects: its inbox holds the directory, then the events */
    double t1 = now_s();
    vnode_open(all[0]);
    vnode_hello(all[0], false);
    while (all[0]->member_events < events && !expired(t1 + 600))
        fleet_poll(&sf, 5);
    double dt = now_s() - t1;
    printf("| %zu | %.1f | %.1f | %.0f |\n", events, stored, dt, (double)events / dt);
    fflush(stdout);
    restore_all(u, &uf, events);
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/catchup", work);
    erase_one(u, &uf, dir, events + 1);
    stop_broker();
    fleet_free(&uf);
    fleet_free(&sf);
    free_street(all, 1);
}

/* ---------------------------------------------------------------- flood (issue 11) */

/* Whether the flood phase runs (--flood runs it alone). */
static bool flood_rows;

/* CPU seconds the broker process has used. */
static double broker_cpu_s(void)
{
    return proc_cpu_s(broker_pid);
}

/* The flooder's frames: HELLOs (never reading what comes back) or one frame of 1,024
 * events whose signatures are all bad. */
static void flood_frame(struct vnode *v, const char *kind, uint8_t **out, size_t *len)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    if (strcmp(kind, "hello") == 0) {
        Dualsync__Hello h = DUALSYNC__HELLO__INIT;
        h.org = v->org;
        h.proto = WIRE_PROTO_VERSION;
        f.kind_case = DUALSYNC__FRAME__KIND_HELLO;
        f.hello = &h;
        wire_pack(&f.base, out, len);
        return;
    }
    enum { N = WIRE_EVENTS_PER_FRAME };
    ProtobufCBinaryData *evs = xcalloc(N, sizeof(*evs));
    Dualsync__Publish p = DUALSYNC__PUBLISH__INIT;
    for (size_t i = 0; i < N; i++) {
        uint8_t body[8] = {(uint8_t)i};
        wire_event_build(&v->keys, v->org, i + 1, hlc_base + i, "FLOOD-1", 999u, body, sizeof(body),
                         &evs[i].data, &evs[i].len);
        evs[i].data[evs[i].len - 1] ^= 0x01; /* an unknown type: the signature is last */
    }
    p.n_events = N;
    p.events = evs;
    f.kind_case = DUALSYNC__FRAME__KIND_PUBLISH;
    f.publish = &p;
    wire_pack(&f.base, out, len);
    for (size_t i = 0; i < N; i++)
        free(evs[i].data);
    free(evs);
}

/* One row: unit:b1 -> community:sink at 200 ev/s for 10 s, the latency of each event;
 * meanwhile (kind non-NULL) community:flood sends its flood frames as fast as ZeroMQ takes
 * them, never reading. Its inbox holds 2,000 letters from unit:b2, stored first. */
static void flood_row(const char *kind)
{
    const double rate = 200, seconds = 10;
    size_t n = (size_t)(rate * seconds);
    static unsigned runs;
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/flood-%u-%s", work, ++runs, kind ? kind : "quiet");
    init_broker(dir, 2048);
    struct vnode *v[4];
    const char *orgs[4] = {"community:sink", "unit:b1", "unit:b2", "community:flood"};
    for (size_t i = 0; i < 4; i++) {
        v[i] = xmalloc(sizeof(*v[i]));
        vnode_keys(v[i], orgs[i], i);
    }
    register_orgs(dir, v, 4, 600);
    struct fleet f;
    fleet_init(&f, v, 3);
    fleet_connect(&f, 60);
    build_frames(v[2], "community:flood", 2000, PER_FRAME); /* the flooder's inbox */
    double t0 = now_s();
    while (v[2]->acked < 2000 && !expired(t0 + 60)) {
        unit_pump(v[2]);
        fleet_poll(&f, 1);
    }
    build_frames(v[1], "community:sink", n, 1);
    uint8_t *flood = NULL;
    size_t flood_len = 0;
    if (kind) {
        flood_frame(v[3], kind, &flood, &flood_len);
        vnode_open(v[3]);
        vnode_hello(v[3], false);
    }
    double *sent = xcalloc(n + 1, sizeof(*sent));
    sink_node = v[0];
    on_member_event = sink_event;
    sink_arrival = xcalloc(n + 1, sizeof(*sink_arrival));
    sink_arrival_n = n + 1;
    long rss0 = proc_status_kib(broker_pid, "VmHWM");
    double cpu0 = broker_cpu_s();
    uint64_t flood_sent = 0;
    double start = now_s(), next = start, deadline = start + seconds + 30;
    size_t i = 0;
    while ((i < n || v[0]->member_events < n) && !expired(deadline)) {
        double t = now_s();
        while (i < n && t >= next) {
            vnode_send(v[1], v[1]->frames[i], v[1]->frame_len[i]);
            sent[i + 1] = t;
            i++;
            next += 1.0 / rate;
        }
        for (int k = 0; kind && i < n && k < 64; k++) /* never read: v[3] is not polled */
            if (zmq_send(v[3]->sock, flood, flood_len, ZMQ_DONTWAIT) >= 0)
                flood_sent++;
        double wait_ms = i < n ? (next - now_s()) * 1000.0 : 5;
        fleet_poll(&f, wait_ms > 0 ? (wait_ms < 1 ? 1 : (int)wait_ms) : 0);
    }
    double cpu = broker_cpu_s() - cpu0;
    long rss1 = proc_status_kib(broker_pid, "VmHWM");
    double *lat = xcalloc(n ? n : 1, sizeof(*lat));
    size_t m = 0;
    for (size_t s = 1; s <= n; s++)
        if (sink_arrival[s] > 0)
            lat[m++] = (sink_arrival[s] - sent[s]) * 1000.0;
    qsort(lat, m, sizeof(*lat), cmp_double);
    json_t *st = ctl_json(dir, "status", NULL, NULL, 10000);
    json_t *k = st ? json_object_get(st, "counters") : NULL;
    if (m)
        printf("| %s | %zu | %.2f | %.2f | %.2f | %llu | %.1f | %.1f | %lld / %lld / %lld |\n",
               kind ? kind : "none (quiet)", m, lat[m / 2], lat[(size_t)((double)m * 0.99)],
               lat[m - 1], (unsigned long long)flood_sent, (double)(rss1 - rss0) / 1024.0, cpu,
               (long long)json_integer_value(json_object_get(k, "full_closed")),
               (long long)json_integer_value(json_object_get(k, "refused_frames")),
               (long long)json_integer_value(json_object_get(k, "peers_banned")));
    fflush(stdout);
    json_decref(st);
    free(lat);
    free(sent);
    free(flood);
    free(sink_arrival);
    sink_arrival = NULL;
    on_member_event = NULL;
    stop_broker();
    fleet_free(&f);
    for (size_t j = 0; j < 4; j++) {
        free_frames(v[j]);
        vnode_close(v[j]);
        free(v[j]);
    }
}

static void flood_table(void)
{
    printf("\n| flood from community:flood | events | p50 ms | p99 ms | max ms | flood frames "
           "sent | broker peak RSS growth MiB | broker CPU s | closed full / refused frames / "
           "banned |\n|---|---|---|---|---|---|---|---|---|\n");
    flood_row(NULL);
    flood_row("hello");
    flood_row("badsig");
    flood_row(NULL);
}

/* ---------------------------------------------------------------- city-year */

#define T(x) DUALSYNC__EVENT_TYPE__EVENT_##x
#define CY_NONE UINT32_MAX
#define CY_GROUPS 10     /* building liaison groups per community */
#define CY_ACTIVITIES 24 /* activities per community and year (twice a month) */
#define DAY_MS 86400000ull
#define HOUR_MS 3600000ull

/* One letter of the simulated year. Bodies are built and signed once every seq is known
 * (a handling result names its feedback's seq, a reply its request's id). */
struct cy_event {
    uint64_t t;      /* ms since 1 January 00:00 of the simulated year */
    uint32_t origin; /* vnode index: units first, then communities */
    uint32_t member; /* CY_NONE for org-level letters */
    uint32_t dep;    /* must have been delivered to origin before this is written */
    uint32_t ref;    /* the event this one names in its body */
    uint32_t seq;
    uint16_t type;
    uint16_t p; /* per type: rating and flags, group, minutes, notice status, ... */
    uint8_t *raw;
    uint32_t raw_len;
    uint8_t delivered;
};

struct city {
    size_t members, units, communities, orgs;
    int year;
    uint64_t year_ms; /* 1 January of the year, ms since the epoch */
    struct vnode **v;
    struct cy_event *ev;
    size_t n_ev, cap_ev;
    uint32_t *order; /* event indexes by (origin, t): each vnode's stream is a slice */
    uint32_t *m_unit, *m_comm, *m_first, *m_count;
    uint16_t *m_acts, *m_minutes;
    uint32_t *activity; /* community c, activity j -> event index */
    uint64_t member_events, delivered, misrouted, expected_deliveries;
    struct strmap *by_org; /* org id -> struct vnode * */
    bool paced;            /* day by day: a day's letters only once every earlier one is acked */
    uint32_t window;       /* unacked own letters per virtual node */
    uint32_t day;          /* paced: the first day not yet wholly acked */
    uint32_t day_total[400], day_acked[400];
};

static struct city cy;

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint32_t rnd_below(uint32_t n)
{
    return (uint32_t)(rnd() % n);
}

static uint64_t at(uint32_t day, uint32_t hour)
{
    return day * DAY_MS + hour * HOUR_MS + rnd() % HOUR_MS;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static void day_date(uint32_t day, char out[16])
{
    static const int md[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int m = 0, d = (int)day;
    while (m < 11 && d >= md[m] + (m == 1 && leap(cy.year))) {
        d -= md[m] + (m == 1 && leap(cy.year));
        m++;
    }
    snprintf(out, 16, "%04d-%02d-%02d", cy.year % 10000, (m + 1) % 100, (d + 1) % 100);
}

static uint32_t cy_add(uint64_t t, uint32_t origin, uint32_t member, uint16_t type, uint32_t dep,
                       uint32_t ref, uint16_t p)
{
    if (cy.n_ev == cy.cap_ev) {
        cy.cap_ev = cy.cap_ev ? 2 * cy.cap_ev : 1u << 16;
        cy.ev = xrealloc(cy.ev, cy.cap_ev * sizeof(*cy.ev));
    }
    struct cy_event *e = &cy.ev[cy.n_ev];
    memset(e, 0, sizeof(*e));
    e->t = t;
    e->origin = origin;
    e->member = member;
    e->type = type;
    e->dep = dep;
    e->ref = ref;
    e->p = p;
    return (uint32_t)cy.n_ev++;
}

static uint32_t day_of(uint32_t idx)
{
    return (uint32_t)(cy.ev[idx].t / DAY_MS);
}

/* The year of one member: ~19 letters (attendance varies). Days only move forward, and
 * every letter that answers another is at least a day later than it. */
static void gen_member(uint32_t m)
{
    uint32_t u = m % (uint32_t)cy.units, c = rnd_below((uint32_t)cy.communities);
    uint32_t cv = (uint32_t)cy.units + c; /* the community's vnode */
    cy.m_unit[m] = u;
    cy.m_comm[m] = c;
    cy.m_first[m] = (uint32_t)cy.n_ev;
    uint32_t di = rnd_below(60); /* the registration drive: January and February */
    uint32_t intro = cy_add(at(di, 9), u, m, T(INTRODUCTION), CY_NONE, CY_NONE, 0);
    uint32_t dr = di + 1 + rnd_below(14);
    cy_add(at(dr, 10), cv, m, T(REPORT_IN), intro, CY_NONE, 0);
    uint32_t dc = dr + rnd_below(7);
    cy_add(at(dc, 15), cv, m, T(REGISTRATION_CARD), intro, CY_NONE, (uint16_t)rnd_below(4));
    uint32_t dg = dc + 1 + rnd_below(14);
    cy_add(at(dg, 11), cv, m, T(GROUP_ASSIGN), intro, CY_NONE, (uint16_t)rnd_below(CY_GROUPS));
    /* attendance: 6..18 of the community's activities after the report-in */
    uint32_t j0 = 0;
    while (j0 < CY_ACTIVITIES && day_of(cy.activity[c * CY_ACTIVITIES + j0]) <= dr)
        j0++;
    uint32_t avail = CY_ACTIVITIES - j0, k = 6 + rnd_below(13);
    uint32_t pick[CY_ACTIVITIES];
    for (uint32_t i = 0; i < avail; i++)
        pick[i] = j0 + i;
    if (k > avail)
        k = avail;
    for (uint32_t i = 0; i < k; i++) { /* partial shuffle, then in date order */
        uint32_t r = i + rnd_below(avail - i), tmp = pick[i];
        pick[i] = pick[r];
        pick[r] = tmp;
    }
    for (uint32_t i = 1; i < k; i++)
        for (uint32_t j = i; j > 0 && pick[j - 1] > pick[j]; j--) {
            uint32_t tmp = pick[j];
            pick[j] = pick[j - 1];
            pick[j - 1] = tmp;
        }
    uint32_t minutes = 0;
    for (uint32_t i = 0; i < k; i++) {
        uint32_t act = cy.activity[c * CY_ACTIVITIES + pick[i]];
        uint16_t mins = (uint16_t)(60 + 30 * rnd_below(5));
        cy_add(day_of(act) * DAY_MS + 18 * HOUR_MS + rnd() % HOUR_MS, cv, m, T(ATTENDANCE), intro,
               act, mins);
        minutes += mins;
    }
    cy.m_acts[m] = (uint16_t)k;
    cy.m_minutes[m] = (uint16_t)(minutes > 65535 ? 65535 : minutes);
    /* public notice (一成 nominated before 1 July): posted, then no objections */
    if (rnd_below(10) == 0) {
        uint32_t dn = 160 + rnd_below(10);
        uint32_t notice = cy_add(at(dn, 9), u, m, T(PUBLIC_NOTICE), CY_NONE, CY_NONE, 0);
        cy_add(at(dn + 1, 10), cv, m, T(NOTICE_RESPONSE), notice, notice,
               DUALSYNC__NOTICE_STATUS__NOTICE_POSTED);
        cy_add(at(dn + 8, 10), cv, m, T(NOTICE_RESPONSE), notice, notice,
               rnd_below(20) ? DUALSYNC__NOTICE_STATUS__NOTICE_NO_OBJECTIONS
                             : DUALSYNC__NOTICE_STATUS__NOTICE_OBJECTIONS);
    }
    /* democratic appraisal: the unit asks, the community replies */
    uint32_t dq = 318 + rnd_below(15);
    uint32_t req = cy_add(at(dq, 9), u, m, T(OPINION_REQUEST), CY_NONE, CY_NONE, 0);
    cy_add(at(dq + 1 + rnd_below(7), 14), cv, m, T(OPINION_REPLY), req, req, 0);
    /* yearly feedback; a poor rating or long non-participation needs a handling result */
    uint32_t df = 334 + rnd_below(15), r = rnd_below(100);
    uint16_t rating = r < 30 ? 1 : r < 80 ? 2 : r < 97 ? 3 : 4;
    bool np = k <= 6 && rnd_below(3) == 0;
    uint32_t fb = cy_add(at(df, 16), cv, m, T(FEEDBACK), intro, CY_NONE,
                         (uint16_t)(rating | (np ? 0x10 : 0)));
    if (rating == 4 || np)
        cy_add(at(df + 3 + rnd_below(7), 10), u, m, T(HANDLING_RESULT), fb, fb,
               rating == 4 ? DUALSYNC__HANDLING_ACTION__HANDLING_CRITICISM
                           : DUALSYNC__HANDLING_ACTION__HANDLING_NO_ACTION);
    cy.m_count[m] = (uint32_t)cy.n_ev - cy.m_first[m];
}

static int order_cmp(const void *a, const void *b)
{
    const struct cy_event *x = &cy.ev[*(const uint32_t *)a], *y = &cy.ev[*(const uint32_t *)b];
    if (x->origin != y->origin)
        return x->origin < y->origin ? -1 : 1;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

static uint64_t cy_hlc(const struct cy_event *e)
{
    return (cy.year_ms + e->t) << HLC_COUNTER_BITS;
}

static void cy_member_id(uint32_t m, char out[IDS_MEMBER_MAX + 1])
{
    snprintf(out, IDS_MEMBER_MAX + 1, "M%07u", m + 1);
}

static void cy_event_id(uint32_t idx, char out[IDS_EVENT_ID_MAX])
{
    ids_event_id(out, IDS_EVENT_ID_MAX, cy.v[cy.ev[idx].origin]->org, cy.ev[idx].seq);
}

static const char *const activity_kinds[] = {"activity-day", "volunteer-service",
                                             "household-linking", "residents-talk"};

/* The real body message of e, packed. */
static void cy_body(uint32_t idx, uint8_t **body, size_t *len)
{
    const struct cy_event *e = &cy.ev[idx];
    char date[16], d2[16], id[IDS_EVENT_ID_MAX], code[16], title[64], name[64];
    uint32_t day = (uint32_t)(e->t / DAY_MS);
    day_date(day, date);
    switch (e->type) {
    case T(BUILDING_GROUP): {
        Dualsync__BuildingGroup b = DUALSYNC__BUILDING_GROUP__INIT;
        snprintf(code, sizeof(code), "g-%02u", e->p);
        snprintf(title, sizeof(title), "%u号楼", e->p + 1u);
        b.group = code;
        b.title = title;
        wire_pack(&b.base, body, len);
        break;
    }
    case T(ACTIVITY): {
        Dualsync__Activity b = DUALSYNC__ACTIVITY__INIT;
        b.kind = (char *)activity_kinds[e->p % 4];
        snprintf(title, sizeof(title), "主题党日活动 %u", e->p + 1u);
        b.title = title;
        b.date = date;
        b.minutes = 120;
        wire_pack(&b.base, body, len);
        break;
    }
    case T(INTRODUCTION): {
        Dualsync__Introduction b = DUALSYNC__INTRODUCTION__INIT;
        snprintf(name, sizeof(name), "党员%u", e->member + 1);
        b.community = cy.v[cy.units + cy.m_comm[e->member]]->org;
        b.name = name;
        b.report_days = 30;
        b.date = date;
        b.contact = (char *)"单位党委办公室";
        wire_pack(&b.base, body, len);
        break;
    }
    case T(REPORT_IN): {
        Dualsync__ReportIn b = DUALSYNC__REPORT_IN__INIT;
        b.date = date;
        wire_pack(&b.base, body, len);
        break;
    }
    case T(REGISTRATION_CARD): {
        static const char *const occ[] = {"教师", "工程师", "公务员", "退休"};
        static char *cats[] = {"环境卫生", "文明宣传"};
        Dualsync__RegistrationCard b = DUALSYNC__REGISTRATION_CARD__INIT;
        b.occupation = (char *)occ[e->p % 4];
        b.willingness = (char *)"愿意参加志愿服务";
        b.rest_time = (char *)"周末";
        b.skills = (char *)"宣讲";
        b.categories = cats;
        b.n_categories = 2;
        b.contact = (char *)"手机";
        wire_pack(&b.base, body, len);
        break;
    }
    case T(GROUP_ASSIGN): {
        Dualsync__GroupAssign b = DUALSYNC__GROUP_ASSIGN__INIT;
        snprintf(code, sizeof(code), "g-%02u", e->p);
        b.group = code;
        b.date = date;
        wire_pack(&b.base, body, len);
        break;
    }
    case T(ATTENDANCE): {
        Dualsync__Attendance b = DUALSYNC__ATTENDANCE__INIT;
        cy_event_id(e->ref, id);
        b.activity = id;
        b.kind = (char *)activity_kinds[cy.ev[e->ref].p % 4];
        b.date = date;
        b.minutes = e->p;
        wire_pack(&b.base, body, len);
        break;
    }
    case T(PUBLIC_NOTICE): {
        Dualsync__PublicNotice b = DUALSYNC__PUBLIC_NOTICE__INIT;
        day_date(day + 7, d2);
        b.title = (char *)"优秀共产党员推荐公示";
        b.matter = (char *)"拟推荐为优秀共产党员";
        b.start = date;
        b.end = d2;
        b.working_days = 5;
        wire_pack(&b.base, body, len);
        break;
    }
    case T(NOTICE_RESPONSE): {
        Dualsync__NoticeResponse b = DUALSYNC__NOTICE_RESPONSE__INIT;
        cy_event_id(e->ref, id);
        b.notice = id;
        b.status = (Dualsync__NoticeStatus)e->p;
        b.date = date;
        b.text = e->p == DUALSYNC__NOTICE_STATUS__NOTICE_OBJECTIONS ? (char *)"有群众反映情况"
                                                                    : (char *)"";
        wire_pack(&b.base, body, len);
        break;
    }
    case T(OPINION_REQUEST): {
        Dualsync__OpinionRequest b = DUALSYNC__OPINION_REQUEST__INIT;
        day_date(day + 10, d2);
        snprintf(title, sizeof(title), "%d年度民主评议", cy.year);
        b.kind = DUALSYNC__OPINION_KIND__OPINION_DEMOCRATIC_APPRAISAL;
        b.subject = title;
        b.due = d2;
        b.date = date;
        wire_pack(&b.base, body, len);
        break;
    }
    case T(OPINION_REPLY): {
        Dualsync__OpinionReply b = DUALSYNC__OPINION_REPLY__INIT;
        cy_event_id(e->ref, id);
        b.request = id;
        b.verdict = DUALSYNC__OPINION_VERDICT__VERDICT_AGREE;
        b.text = (char *)"在社区表现良好";
        b.date = date;
        wire_pack(&b.base, body, len);
        break;
    }
    case T(FEEDBACK): {
        Dualsync__Feedback b = DUALSYNC__FEEDBACK__INIT;
        char period[8];
        snprintf(period, sizeof(period), "%d", cy.year);
        b.year = (uint32_t)cy.year;
        b.rating = (Dualsync__Rating)(e->p & 0xF);
        b.non_participation = (e->p & 0x10) != 0;
        b.text = (char *)"年度表现情况";
        b.period = period;
        b.date = date;
        b.activities = cy.m_acts[e->member];
        b.minutes = cy.m_minutes[e->member];
        wire_pack(&b.base, body, len);
        break;
    }
    case T(HANDLING_RESULT): {
        Dualsync__HandlingResult b = DUALSYNC__HANDLING_RESULT__INIT;
        b.feedback_origin = cy.v[cy.ev[e->ref].origin]->org;
        b.feedback_seq = cy.ev[e->ref].seq;
        b.action = (Dualsync__HandlingAction)e->p;
        b.text = (char *)"已谈话提醒";
        b.date = date;
        wire_pack(&b.base, body, len);
        break;
    }
    default:
        fprintf(stderr, "bench: no body for type %u\n", e->type);
        exit(1);
    }
}

struct sign_job {
    size_t from, step;
};

static void *sign_worker(void *arg)
{
    const struct sign_job *job = arg;
    for (size_t i = job->from; i < cy.n_ev; i += job->step) {
        struct cy_event *e = &cy.ev[i];
        char member[IDS_MEMBER_MAX + 1] = "";
        uint8_t *body = NULL, *raw = NULL;
        size_t body_len = 0, raw_len = 0;
        if (e->member != CY_NONE)
            cy_member_id(e->member, member);
        cy_body((uint32_t)i, &body, &body_len);
        const struct vnode *v = cy.v[e->origin];
        wire_event_build(&v->keys, v->org, e->seq, cy_hlc(e), member, e->type, body, body_len, &raw,
                         &raw_len);
        e->raw = raw;
        e->raw_len = (uint32_t)raw_len;
        free(body);
    }
    return NULL;
}

/* Generates the year, assigns every origin's seqs in date order and signs (2 threads). */
static double city_generate(void)
{
    double t0 = now_s();
    cy.activity = xcalloc(cy.communities * CY_ACTIVITIES, sizeof(*cy.activity));
    for (size_t c = 0; c < cy.communities; c++) {
        uint32_t cv = (uint32_t)(cy.units + c);
        for (uint16_t g = 0; g < CY_GROUPS; g++)
            cy_add(8 * HOUR_MS + g * 60000u, cv, CY_NONE, T(BUILDING_GROUP), CY_NONE, CY_NONE, g);
        for (uint16_t j = 0; j < CY_ACTIVITIES; j++)
            cy.activity[c * CY_ACTIVITIES + j] = cy_add((5u + 15u * j) * DAY_MS + 9 * HOUR_MS, cv,
                                                        CY_NONE, T(ACTIVITY), CY_NONE, CY_NONE, j);
    }
    cy.m_unit = xcalloc(cy.members, sizeof(uint32_t));
    cy.m_comm = xcalloc(cy.members, sizeof(uint32_t));
    cy.m_first = xcalloc(cy.members, sizeof(uint32_t));
    cy.m_count = xcalloc(cy.members, sizeof(uint32_t));
    cy.m_acts = xcalloc(cy.members, sizeof(uint16_t));
    cy.m_minutes = xcalloc(cy.members, sizeof(uint16_t));
    for (uint32_t m = 0; m < cy.members; m++)
        gen_member(m);
    cy.order = xmalloc(cy.n_ev * sizeof(*cy.order));
    for (size_t i = 0; i < cy.n_ev; i++)
        cy.order[i] = (uint32_t)i;
    qsort(cy.order, cy.n_ev, sizeof(*cy.order), order_cmp);
    for (size_t i = 0, seq = 0; i < cy.n_ev; i++) {
        struct cy_event *e = &cy.ev[cy.order[i]];
        struct vnode *v = cy.v[e->origin];
        if (!v->stream) {
            v->stream = &cy.order[i];
            seq = 0;
        }
        e->seq = (uint32_t)++seq;
        v->n_stream = seq;
        cy.day_total[e->t / DAY_MS]++;
        if (e->member != CY_NONE) {
            cy.member_events++;
            cy.expected_deliveries++; /* every member letter goes to the other side */
        }
    }
    pthread_t th[2];
    struct sign_job jobs[2] = {{0, 2}, {1, 2}};
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, sign_worker, &jobs[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    return now_s() - t0;
}

/* A delivered member letter: mark it (at-least-once delivery may repeat it) and check it
 * reached the other side of the registration. */
static void city_event(struct vnode *v, const struct event *ev, double t)
{
    (void)t;
    const struct vnode *o = strmap_get(cy.by_org, ev->origin);
    if (!o || ev->seq == 0 || ev->seq > o->n_stream)
        return;
    struct cy_event *e = &cy.ev[o->stream[ev->seq - 1]];
    if (e->delivered)
        return;
    e->delivered = 1;
    cy.delivered++;
    size_t want = e->origin < cy.units ? cy.units + cy.m_comm[e->member] : cy.m_unit[e->member];
    if (v->index != want)
        cy.misrouted++;
}

/* Paced: the day advances once all its letters are acked. */
static void city_ack(struct vnode *v, uint64_t from, uint64_t upto)
{
    for (uint64_t s = from; s <= upto && s <= v->n_stream; s++)
        cy.day_acked[cy.ev[v->stream[s - 1]].t / DAY_MS]++;
    while (cy.day < 399 && cy.day_acked[cy.day] == cy.day_total[cy.day])
        cy.day++;
}

/* Sends the next ready letters (each only once what it answers has arrived and, paced,
 * once its day has come), a frame of up to PER_FRAME at a time, cy.window unacked at most. */
static void city_pump(struct vnode *v)
{
    ProtobufCBinaryData evs[PER_FRAME];
    while (v->welcomed && v->sent < v->n_stream && v->sent - v->acked < cy.window) {
        size_t n = 0;
        while (n < PER_FRAME && v->sent + n < v->n_stream && v->sent + n - v->acked < cy.window) {
            const struct cy_event *e = &cy.ev[v->stream[v->sent + n]];
            if (e->dep != CY_NONE && !cy.ev[e->dep].delivered)
                break;
            if (cy.paced && e->t / DAY_MS > cy.day)
                break;
            evs[n].data = e->raw;
            evs[n].len = e->raw_len;
            n++;
        }
        if (!n)
            return;
        Dualsync__Frame f = DUALSYNC__FRAME__INIT;
        Dualsync__Publish p = DUALSYNC__PUBLISH__INIT;
        p.n_events = n;
        p.events = evs;
        f.kind_case = DUALSYNC__FRAME__KIND_PUBLISH;
        f.publish = &p;
        if (!vnode_send_frame(v, &f))
            return;
        v->sent += n;
    }
}

/* Prints the frames counted since the snapshot sent0/received0, and per letter. */
static void print_frames(const uint64_t sent0[FRAME_KINDS], const uint64_t received0[FRAME_KINDS],
                         size_t letters)
{
    static const char *const names[FRAME_KINDS] = {
        [DUALSYNC__FRAME__KIND_HELLO] = "HELLO",
        [DUALSYNC__FRAME__KIND_WELCOME] = "WELCOME",
        [DUALSYNC__FRAME__KIND_PUBLISH] = "PUBLISH",
        [DUALSYNC__FRAME__KIND_ACK] = "ACK",
        [DUALSYNC__FRAME__KIND_DELIVER] = "DELIVER",
        [DUALSYNC__FRAME__KIND_CONFIRM] = "CONFIRM",
        [DUALSYNC__FRAME__KIND_ERROR] = "ERROR",
        [DUALSYNC__FRAME__KIND_PING] = "PING",
        [DUALSYNC__FRAME__KIND_PONG] = "PONG",
        [DUALSYNC__FRAME__KIND_RECEIPTS] = "RECEIPTS",
        [DUALSYNC__FRAME__KIND_DIRECTORY] = "DIRECTORY",
    };
    const uint64_t *now[2] = {frames_sent, frames_received};
    const uint64_t *then[2] = {sent0, received0};
    for (int side = 0; side < 2; side++) {
        uint64_t all = 0;
        for (int k = 0; k < FRAME_KINDS; k++)
            all += now[side][k] - then[side][k];
        printf("frames %s by the virtual nodes: %llu (%.2f per letter)", side ? "received" : "sent",
               (unsigned long long)all, letters ? (double)all / (double)letters : 0.0);
        const char *sep = ":";
        for (int k = 0; k < FRAME_KINDS; k++) {
            if (now[side][k] == then[side][k])
                continue;
            printf("%s %s %llu", sep, names[k] ? names[k] : "other",
                   (unsigned long long)(now[side][k] - then[side][k]));
            sep = ",";
        }
        printf("\n");
    }
}

/* A year that did not finish: where is it stuck, on our side and on the broker's? */
static void city_stall_report(const char *dir)
{
    size_t unwelcomed = 0, unacked = 0, blocked = 0, undelivered = 0, to_unwelcomed = 0;
    uint64_t in_flight = 0;
    const struct vnode *sample = NULL;
    double t = now_s();
    for (size_t i = 0; i < cy.orgs; i++) {
        const struct vnode *v = cy.v[i];
        unwelcomed += !v->welcomed;
        if (v->sent > v->acked) {
            unacked++;
            in_flight += v->sent - v->acked;
        }
        if (v->sent < v->n_stream) {
            const struct cy_event *e = &cy.ev[v->stream[v->sent]];
            blocked += e->dep != CY_NONE && !cy.ev[e->dep].delivered;
        }
    }
    for (size_t i = 0; i < cy.orgs; i++) {
        const struct vnode *v = cy.v[i];
        for (uint64_t s = 0; s < v->acked && s < v->n_stream; s++) {
            const struct cy_event *e = &cy.ev[v->stream[s]];
            if (e->member == CY_NONE || e->delivered)
                continue;
            undelivered++;
            size_t to =
                e->origin < cy.units ? cy.units + cy.m_comm[e->member] : cy.m_unit[e->member];
            to_unwelcomed += !cy.v[to]->welcomed;
            if (!sample)
                sample = cy.v[to];
        }
    }
    printf("stalled: day %u (%u of %u letters acked); %zu nodes not welcomed, %zu with "
           "%llu letters sent and not acked, %zu waiting for a delivery; %zu letters acked "
           "and not delivered (%zu of them to nodes not welcomed)\n",
           cy.day, cy.day_acked[cy.day], cy.day_total[cy.day], unwelcomed, unacked,
           (unsigned long long)in_flight, blocked, undelivered, to_unwelcomed);
    if (sample) {
        printf("  e.g. %s: welcomed %d, cursor %llu, confirmed %llu, last frame from the broker "
               "%.0f s ago, last sent %.0f s ago",
               sample->org, sample->welcomed, (unsigned long long)sample->cursor,
               (unsigned long long)sample->confirmed_sent, t - sample->last_recv,
               t - sample->last_send);
        json_t *st = ctl_json(dir, "status", NULL, NULL, 60000);
        size_t i;
        json_t *p;
        json_array_foreach(
            json_object_get(st, "peers"), i,
            p) if (strcmp(json_string_value(json_object_get(p, "org")), sample->org) == 0)
            printf("; the broker says: connected %d, inbox head %lld, delivered %lld, "
                   "confirmed %lld, last seen %lld ms ago",
                   json_is_true(json_object_get(p, "connected")),
                   (long long)json_integer_value(json_object_get(p, "inbox_head")),
                   (long long)json_integer_value(json_object_get(p, "delivered")),
                   (long long)json_integer_value(json_object_get(p, "confirmed")),
                   (long long)json_integer_value(json_object_get(p, "last_seen_ms_ago")));
        json_decref(st);
        printf("\n");
    }
}

static int fold_order_cmp(const void *a, const void *b)
{
    const struct event *x = a, *y = b;
    if (x->hlc != y->hlc)
        return x->hlc < y->hlc ? -1 : 1;
    int c = strcmp(x->origin, y->origin);
    if (c)
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The digest of member m folded here from the same events, as every holder folds them. */
static void local_digest(uint32_t m, char hex[2 * KEYS_DIGEST_LEN + 1], uint32_t *events)
{
    char member[IDS_MEMBER_MAX + 1];
    size_t n = cy.m_count[m];
    struct event *evs = xcalloc(n, sizeof(*evs));
    for (size_t i = 0; i < n; i++) {
        const struct cy_event *e = &cy.ev[cy.m_first[m] + i];
        wire_event_open(e->raw, e->raw_len, false, &evs[i]);
    }
    qsort(evs, n, sizeof(*evs), fold_order_cmp);
    cy_member_id(m, member);
    Dualsync__MemberRecord *rec = fold_new(member);
    for (size_t i = 0; i < n; i++)
        fold_apply(&rec, &evs[i]);
    fold_digest_hex(rec, hex);
    *events = rec->events;
    fold_free(&rec);
    for (size_t i = 0; i < n; i++)
        wire_event_release(&evs[i]);
    free(evs);
}

/* Compares the broker's digest of members (all, or a spread sample) with local folds;
 * also checks a few through `dualsync-broker digest --member M --json`. */
static void city_converge(const char *dir, size_t check)
{
    double t0 = now_s();
    json_t *all = ctl_json(dir, "digests", NULL, NULL, 300000);
    double fetch_s = now_s() - t0;
    struct strmap *broker = strmap_new();
    size_t i;
    json_t *e;
    json_array_foreach(all, i, e)
        strmap_put(broker, json_string_value(json_object_get(e, "member")), e);
    size_t step = check && check < cy.members ? cy.members / check : 1, compared = 0, equal = 0;
    size_t missing = 0;
    for (uint32_t m = 0; m < cy.members; m += (uint32_t)step) {
        char hex[2 * KEYS_DIGEST_LEN + 1], member[IDS_MEMBER_MAX + 1];
        uint32_t events = 0;
        local_digest(m, hex, &events);
        cy_member_id(m, member);
        json_t *b = strmap_get(broker, member);
        compared++;
        if (!b) {
            missing++;
            continue;
        }
        bool same = strcmp(json_string_value(json_object_get(b, "digest")), hex) == 0 &&
                    json_integer_value(json_object_get(b, "events")) == (json_int_t)events;
        equal += same;
        if (!same && compared - equal - missing <= 3)
            fprintf(stderr, "bench: %s differs: broker %s (%lld events), local %s (%u)\n", member,
                    json_string_value(json_object_get(b, "digest")),
                    (long long)json_integer_value(json_object_get(b, "events")), hex, events);
    }
    double check_s = now_s() - t0 - fetch_s;
    /* the CLI path for three members */
    size_t cli_equal = 0;
    for (uint32_t k = 0; k < 3; k++) {
        uint32_t m = (uint32_t)((cy.members - 1) * k / 2);
        char member[IDS_MEMBER_MAX + 1], out[700], hex[2 * KEYS_DIGEST_LEN + 1];
        uint32_t events;
        cy_member_id(m, member);
        snprintf(out, sizeof(out), "%s/digest-%u.json", work, k);
        char *argv[] = {broker_bin, "--data", (char *)dir, "digest",
                        "--member", member,   "--json",    NULL};
        run_cmd(argv, true, out);
        json_t *j = json_load_file(out, 0, NULL);
        local_digest(m, hex, &events);
        if (j && json_string_value(json_object_get(j, "digest")) &&
            strcmp(json_string_value(json_object_get(j, "digest")), hex) == 0)
            cli_equal++;
        json_decref(j);
    }
    printf("\n| members checked | equal to the local fold | missing on the broker | broker "
           "records | `digest --member` (CLI) equal | fetch all digests s | local fold s "
           "|\n|---|---|---|---|---|---|---|\n| %zu | %zu | %zu | %zu | %zu of 3 | %.1f | %.1f |\n",
           compared, equal, missing, json_array_size(all), cli_equal, fetch_s, check_s);
    printf("converged: %s\n", equal == compared && cli_equal == 3 ? "yes" : "NO");
    strmap_destroy(&broker, NULL);
    json_decref(all);
}

static void city_year(size_t members, size_t units, size_t communities, double deadline_s,
                      size_t check, bool paced, uint32_t window)
{
    char dir[600], org[IDS_ORG_MAX];
    memset(&cy, 0, sizeof(cy));
    cy.paced = paced;
    cy.window = window;
    cy.members = members;
    cy.units = units;
    cy.communities = communities;
    cy.orgs = units + communities;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    cy.year = tm.tm_year + 1900 - 1; /* last year: every clock is in the past */
    uint64_t days = 0;               /* 1 January of the year, in days since 1970-01-01 */
    for (int y = 1970; y < cy.year; y++)
        days += leap(y) ? 366u : 365u;
    cy.year_ms = days * DAY_MS;
    snprintf(dir, sizeof(dir), "%s/city", work);
    printf("city-year %d: %zu members, %zu units, %zu communities, one broker (fsync, default "
           "delivery window); virtual nodes publish %s, %u letters unacked at most\n",
           cy.year, members, units, communities,
           paced ? "day by day (a day's letters once all earlier days are acked)"
                 : "unpaced (each as soon as what it answers was delivered)",
           window);
    fflush(stdout);

    init_broker(dir, 0);
    cy.v = xcalloc(cy.orgs, sizeof(*cy.v));
    cy.by_org = strmap_new();
    for (size_t i = 0; i < cy.orgs; i++) {
        cy.v[i] = xmalloc(sizeof(**cy.v));
        if (i < units)
            snprintf(org, sizeof(org), "unit:u-%zu", i + 1);
        else
            snprintf(org, sizeof(org), "community:c-%zu", i - units + 1);
        vnode_keys(cy.v[i], org, i);
        strmap_put(cy.by_org, cy.v[i]->org, cy.v[i]);
    }
    struct reg_stats rs = register_orgs(dir, cy.v, cy.orgs, 600);
    printf("registered %zu orgs via %s in %.1f s (%.1f ms per org in the first tenth, %.1f in "
           "the last): %llu directory inbox entries, db %.1f MiB%s\n",
           rs.orgs, register_mode, rs.total_s, rs.first_ms, rs.last_ms,
           (unsigned long long)rs.inbox_entries, rs.db_mib,
           rs.complete ? "" : " — DEADLINE HIT, stopping");
    fflush(stdout);
    if (!rs.complete)
        return;

    double gen_s = city_generate();
    size_t raw_bytes = 0;
    for (size_t i = 0; i < cy.n_ev; i++)
        raw_bytes += cy.ev[i].raw_len;
    printf("generated and signed %zu letters in advance (2 threads, outside the clock) in %.1f "
           "s: %llu member letters (%.1f per member), %zu org-level, %.0f MiB signed\n",
           cy.n_ev, gen_s, (unsigned long long)cy.member_events,
           (double)cy.member_events / (double)members, cy.n_ev - (size_t)cy.member_events,
           (double)raw_bytes / 1048576.0);
    fflush(stdout);

    struct fleet f;
    fleet_init(&f, cy.v, cy.orgs);
    on_member_event = city_event;
    on_ack = city_ack;
    struct connect_stats cs = fleet_connect(&f, 600);
    printf("connected %zu virtual nodes: all welcomed in %.1f s, directory (%llu entries "
           "received, %llu received again, %llu in the inboxes) delivered and confirmed in "
           "%.1f s; %llu HELLOs sent%s\n",
           cy.orgs, cs.welcome_s, (unsigned long long)cs.directory_events,
           (unsigned long long)cs.directory_again, (unsigned long long)rs.inbox_entries,
           cs.directory_s, (unsigned long long)hellos_sent, node_timers ? " (node timers on)" : "");
    fflush(stdout);
    if (!cs.ok)
        return;

    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    json_t *cpu0 = thread_cpu(broker_pid);
    uint64_t sent0[FRAME_KINDS], received0[FRAME_KINDS];
    memcpy(sent0, frames_sent, sizeof(sent0));
    memcpy(received0, frames_received, sizeof(received0));
    perf_start("city-year");
    double t0 = now_s(), deadline = t0 + deadline_s, next_report = t0 + 10;
    uint64_t acked = 0;
    bool done = false;
    while (!done && !expired(deadline)) {
        for (size_t i = 0; i < cy.orgs; i++)
            city_pump(cy.v[i]);
        fleet_poll(&f, 1);
        acked = 0;
        for (size_t i = 0; i < cy.orgs; i++)
            acked += cy.v[i]->acked;
        done = acked == cy.n_ev && cy.delivered == cy.expected_deliveries;
        if (now_s() > next_report) {
            next_report += 10;
            fprintf(stderr,
                    "bench: %.0f s: %llu of %zu acked, %llu of %llu delivered, broker "
                    "RSS %ld MiB\n",
                    now_s() - t0, (unsigned long long)acked, cy.n_ev,
                    (unsigned long long)cy.delivered, (unsigned long long)cy.expected_deliveries,
                    proc_status_kib(broker_pid, "VmRSS") / 1024);
        }
    }
    double dt = now_s() - t0;
    perf_stop();
    printf("virtual nodes: %llu HELLOs in all, %llu sends refused by ZeroMQ%s",
           (unsigned long long)hellos_sent, (unsigned long long)send_failures,
           node_timers ? "" : "\n");
    if (node_timers)
        printf(", %llu letters published again after 3 s (and backoff) without ACK progress\n",
               (unsigned long long)republished);
    print_frames(sent0, received0, cy.n_ev);
    long hwm = proc_status_kib(broker_pid, "VmHWM"), rss = proc_status_kib(broker_pid, "VmRSS");
    json_t *cpu1 = thread_cpu(broker_pid);
    getrusage(RUSAGE_SELF, &ru1);
    double bench_cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
                       (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
                       (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
                       (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
    uint64_t errors = 0;
    for (size_t i = 0; i < cy.orgs; i++)
        errors += cy.v[i]->errors;
    double db = du_mib(dir);
    on_ack = NULL;
    printf("\n| members | units | communities | letters | year s | letters/s (acked+delivered) "
           "| delivered | misrouted | broker errors | broker VmHWM MiB | broker VmRSS MiB at end "
           "| data dir MiB |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n"
           "| %zu | %zu | %zu | %zu | %.1f%s | %.0f | %llu of %llu | %llu | %llu | %ld | %ld | "
           "%.0f |\n",
           members, units, communities, cy.n_ev, dt, done ? "" : " (deadline hit)",
           (double)acked / dt, (unsigned long long)cy.delivered,
           (unsigned long long)cy.expected_deliveries, (unsigned long long)cy.misrouted,
           (unsigned long long)errors, hwm / 1024, rss / 1024, db);
    print_thread_cpu("broker", cpu0, cpu1, dt);
    print_load("at the end of the year");
    printf("bench process (virtual nodes) CPU: %.1f s (%.0f%% of one core)\n", bench_cpu,
           100.0 * bench_cpu / dt);
    fflush(stdout);
    json_decref(cpu0);
    json_decref(cpu1);
    long lines = broker_log_lines(dir);
    if (lines)
        fprintf(stderr, "bench: the broker logged %ld warning lines (%s.log)\n", lines, dir);
    if (done)
        city_converge(dir, check);
    else {
        city_stall_report(dir);
        printf("converged: not checked (the year did not finish)\n");
    }
    fflush(stdout);
    stop_broker();
    fleet_free(&f);
    for (size_t i = 0; i < cy.n_ev; i++)
        free(cy.ev[i].raw);
    for (size_t i = 0; i < cy.orgs; i++)
        free(cy.v[i]);
    free(cy.v);
    free(cy.ev);
    free(cy.order);
    free(cy.m_unit);
    free(cy.m_comm);
    free(cy.m_first);
    free(cy.m_count);
    free(cy.m_acts);
    free(cy.m_minutes);
    free(cy.activity);
    strmap_destroy(&cy.by_org, NULL);
}

/* ---------------------------------------------------------------- main */

static void print_machine(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    printf("machine: %ld CPUs online, %.1f GiB RAM; open files limit %llu; virtual nodes' "
           "ZeroMQ context: max sockets %d, I/O threads %d\n",
           sysconf(_SC_NPROCESSORS_ONLN), (double)pages * (double)page / 1073741824.0,
           (unsigned long long)rl.rlim_cur, zmq_ctx_get(vctx, ZMQ_MAX_SOCKETS),
           zmq_ctx_get(vctx, ZMQ_IO_THREADS));
}

static void usage(FILE *out)
{
    fputs("用法 / usage:\n"
          "  dualsync-bench BUILD_DIR [--events E] [--units 1,100,2000] [--catchup C]\n"
          "                 [--register cli|ctl] [--deadline S] [--skip-latency] [--flood]\n"
          "                 [--skip-nats] [--latency-seconds S]\n"
          "  dualsync-bench BUILD_DIR --city-year [--members M] [--units U] [--communities C]\n"
          "                 [--register cli|ctl] [--pace day|none] [--window N] [--node-timers]\n"
          "                 [--deadline S] [--check all|N]\n"
          "  either with [--perf DIR] [--keep]\n"
          "BUILD_DIR holds broker/dualsync-broker (e.g. build/dev). The first form measures the\n"
          "broker's throughput against RocksDB and ZeroMQ ceilings taken in the same run, and\n"
          "nats-server with JetStream doing the same work (when installed; --skip-nats), the\n"
          "latency at 1,000 and 10,000 events/s (for 3 and 2 s, or S s each), a catch-up\n"
          "and a restore of its letters (none with --catchup 0);\n"
          "the second runs a year of a street's letters (default: a tenth of a city, 20,000\n"
          "members, 200 units, 50 communities) and checks every member's record. Figures\n"
          "and the commands that made them: docs/BENCHMARKS.md. Environment:\n"
          "DS_BENCH_BROKER_LOG=info|debug (broker log level), DS_BENCH_PERF_DWARF=1 (DWARF\n"
          "call graphs with --perf), DS_BENCH_DURABILITY=wal|none (the broker without fsync:\n"
          "what the disk costs).\n"
          "BUILD_DIR 为构建目录（含 broker/dualsync-broker）；数据与命令见 docs/BENCHMARKS.md。\n",
          out);
}

int main(int argc, char **argv)
{
    size_t events = 100000, catchup_events = 200000, members = 20000, communities = 50;
    size_t check = 0;
    const char *unit_list = NULL;
    double deadline = 600, latency_s = 0;
    bool city = false, skip_latency = false, paced = true;
    bool flood_only = false, skip_nats = false;
    uint32_t window = CITY_WINDOW;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
    if (argc < 2 || argv[1][0] == '-') {
        usage(stderr);
        return 2;
    }
    snprintf(build_dir, sizeof(build_dir), "%s", argv[1]);
    snprintf(broker_bin, sizeof(broker_bin), "%s/broker/dualsync-broker", build_dir);
    if (access(broker_bin, X_OK) != 0) {
        fprintf(stderr,
                "bench: %s 不可执行 / is not executable: BUILD_DIR must be a build directory\n",
                broker_bin);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--city-year") == 0) {
            city = true;
            continue;
        }
        if (strcmp(a, "--skip-latency") == 0) {
            skip_latency = true;
            continue;
        }
        if (strcmp(a, "--flood") == 0) {
            flood_only = flood_rows = true;
            continue;
        }
        if (strcmp(a, "--skip-nats") == 0) {
            skip_nats = true;
            continue;
        }
        if (strcmp(a, "--keep") == 0) {
            keep_work = true;
            continue;
        }
        if (strcmp(a, "--node-timers") == 0) {
            node_timers = true;
            continue;
        }
        if (!v) {
            fprintf(stderr, "bench: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (strcmp(a, "--events") == 0)
            events = strtoul(v, NULL, 10);
        else if (strcmp(a, "--units") == 0)
            unit_list = v;
        else if (strcmp(a, "--catchup") == 0)
            catchup_events = strtoul(v, NULL, 10);
        else if (strcmp(a, "--members") == 0)
            members = strtoul(v, NULL, 10);
        else if (strcmp(a, "--communities") == 0)
            communities = strtoul(v, NULL, 10);
        else if (strcmp(a, "--deadline") == 0)
            deadline = phase_deadline = strtod(v, NULL);
        else if (strcmp(a, "--check") == 0)
            check = strcmp(v, "all") == 0 ? 0 : strtoul(v, NULL, 10);
        else if (strcmp(a, "--register") == 0 && (!strcmp(v, "cli") || !strcmp(v, "ctl")))
            register_mode = v;
        else if (strcmp(a, "--perf") == 0)
            perf_dir = v;
        else if (strcmp(a, "--pace") == 0 && (!strcmp(v, "day") || !strcmp(v, "none")))
            paced = strcmp(v, "day") == 0;
        else if (strcmp(a, "--latency-seconds") == 0 && strtod(v, NULL) > 0)
            latency_s = strtod(v, NULL);
        else if (strcmp(a, "--window") == 0 && strtoul(v, NULL, 10) > 0)
            window = (uint32_t)strtoul(v, NULL, 10);
        else {
            fprintf(stderr, "bench: unknown option %s\n", a);
            return 2;
        }
    }
    snprintf(work, sizeof(work), "/tmp/ds-bench-XXXXXX");
    if (!mkdtemp(work) || keys_crypto_init() != DS_OK)
        return 1;
    atexit(cleanup);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    log_set_level(LOG_WARN);
    hlc_base = hlc_wall_ms() << HLC_COUNTER_BITS;
    vctx_init();

    printf("dualsync-bench: work dir %s\n", work);
    print_machine();
    print_load("at start");
    printf("\n");
    if (!register_mode)
        register_mode = city ? "ctl" : "cli";
    if (flood_only) {
        flood_table();
    } else if (city) {
        size_t units = unit_list ? strtoul(unit_list, NULL, 10) : 200;
        if (!members || !units || !communities) {
            fprintf(stderr, "bench: --members, --units and --communities must be > 0\n");
            return 2;
        }
        city_year(members, units, communities, deadline, check, paced, window);
    } else {
        printf("| virtual units | events | broker ev/s (acked+delivered) | rocksdb ceiling ev/s | "
               "zeromq ceiling ev/s | broker / rocksdb | broker / zeromq "
               "|\n|---|---|---|---|---|---|---|\n");
        char list[256];
        snprintf(list, sizeof(list), "%s", unit_list ? unit_list : "1,100");
        size_t counts[16], n_rows = 0;
        double rates[16];
        for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok && !stop_flag && n_rows < 16;
             tok = strtok_r(NULL, ",", &save)) {
            counts[n_rows] = strtoul(tok, NULL, 10);
            rates[n_rows] = throughput(counts[n_rows], events);
            n_rows++;
        }
        print_reg_rows();
        if (!skip_nats)
            nats_table(counts, rates, n_rows, events);
        if (!skip_latency && !stop_flag) {
            printf("\n| offered ev/s | events | p50 ms | p99 ms | p99.9 ms | max ms | broker "
                   "commits | slowest commit ms | commits > 5 ms | loop turns > 5 ms | "
                   "longest loop turn ms |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
            latency(1000, latency_s > 0 ? latency_s : 3);
            latency(10000, latency_s > 0 ? latency_s : 2);
            if (flood_rows)
                flood_table();
        }
        if (!skip_latency && !stop_flag && catchup_events) {
            printf("\n| catch-up events | store s | catch-up s | catch-up ev/s "
                   "|\n|---|---|---|---|\n");
            catchup(catchup_events);
            printf("\n| erasure after the catch-up: events in the store | ACK ms | scrub done s "
                   "| db MiB before | after |\n|---|---|---|---|---|\n| %zu | %.1f | %.1f | "
                   "%.1f | %.1f |\n",
                   catchup_events + 1, erase_ack_ms, erase_scrub_s, erase_db_before,
                   erase_db_after);
            printf("\n| restore after the catch-up: own events fetched back | s | ev/s "
                   "|\n|---|---|---|\n| %zu | %.2f | %.0f |\n",
                   catchup_events, restore_s,
                   restore_s > 0 ? (double)catchup_events / restore_s : 0);
        }
    }
    print_load("at end");
    zmq_ctx_term(vctx);
    return stop_flag ? 130 : 0;
}
