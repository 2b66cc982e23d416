/* verify: the signatures of PUBLISH frames, checked by worker threads while the loop
 * thread stores what is already checked. Two pools use it: the PUBLISH path's, which
 * opens every event but checks signatures only as the job's mode asks (a connection's
 * first new letter: VERIFY_CHECK_FIRST; a vouched connection's frames come here only
 * while others wait or the loop's batch is full, protocol.c storable_on_loop), and the
 * audit's (sigaudit.c), which checks every signature of stored events at SCHED_IDLE.
 * Ed25519 verification is most of the broker's CPU (docs/BENCHMARKS.md). Verifying a frame
 * on the loop thread, or fanning one frame out and joining, leaves every other core idle
 * while the loop stores, routes and waits for fsync. Here frames queue in arrival order;
 * workers take them one at a time, and the loop takes the checked ones back in the same
 * order, so contiguity per org and the answer order are what they were. A job carries
 * everything its worker reads (the frame and a copy of the origin's key), so workers
 * share nothing with the loop but this queue. The verdict is only "signed by the key of
 * the connection's org"; side, body, sequence and route are still checked in order by
 * protocol.c on the loop thread.
 * Fairness: order matters only within an org. Workers check frames in chunks of
 * VERIFY_CHUNK events, each time taking the oldest chunk of an org no other worker is
 * checking (or, if every waiting org is being checked, the oldest chunk at all), and the
 * loop takes back the oldest done job of each org. A letter from one org is then checked
 * behind at most a chunk of another org's flood, and stored without waiting for the
 * flood's frames, while a single busy org still gets every core.
 * A frame's checks stop at its first bad event: protocol.c stops storing there too, so
 * checking the rest was CPU spent for an attacker. */
#define _GNU_SOURCE /* SCHED_IDLE */
#include "verify.h"

#include "broker.h"

#include "err.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define VERIFY_THREADS_MAX 8
/* Events a worker checks before it looks again for the oldest work of another org: a
 * letter from one node waits behind at most this many checks of another's flood (about
 * 3 ms on one core), and one large frame is checked on every core. */
#define VERIFY_CHUNK 64u
/* Orgs remembered while looking for a job to take; past this the search gives up and the
 * loop takes jobs in plain arrival order (fair enough: so many orgs are all publishing). */
#define VERIFY_SCAN_ORGS 64

struct verify_pool {
    pthread_mutex_t mu;
    pthread_cond_t work;
    struct verify_job *head, *tail;       /* in arrival order */
    struct verify_job *next;              /* first job no worker has claimed (none before it is) */
    const char *busy[VERIFY_THREADS_MAX]; /* orgs being checked now, one slot per worker */
    /* The loop's alone (verify_submit adds, verify_take subtracts; no worker reads them),
     * so the loop reads them without the lock: every lock the loop takes is one a
     * preempted worker can make it wait for (docs/BENCHMARKS.md, "The loop's stalls"). */
    size_t pending_events; /* events of jobs submitted and not yet taken */
    size_t pending_bytes;  /* and their bytes */
    /* Jobs done and not yet taken: while 0, verify_take answers without the lock. */
    atomic_size_t done_jobs;
    bool stopping;
    bool idle;     /* workers at SCHED_IDLE */
    char name[16]; /* the workers' thread name */
    int wake[2];   /* pipe: a worker writes when a job is done; the loop polls wake[0] */
    pthread_t threads[VERIFY_THREADS_MAX];
    size_t n_threads;
};

static size_t event_count(const struct verify_job *job)
{
    return job->n_events;
}

static struct verify_job *job_new(const struct transport_peer *addr,
                                  const ProtobufCBinaryData *events, size_t n,
                                  const struct keyring *ring, uint64_t stored_upto)
{
    struct verify_job *job = xcalloc(1, sizeof(*job));
    job->addr = *addr;
    job->events = events;
    job->n_events = n;
    job->check = VERIFY_CHECK_ALL;
    job->key_known = ring != NULL;
    if (ring)
        job->ring = *ring;
    job->stored_upto = stored_upto;
    job->check_upto = UINT64_MAX;
    job->bad_at = SIZE_MAX;
    job->verdict = xcalloc(n ? n : 1, sizeof(*job->verdict));
    for (size_t i = 0; i < n; i++)
        job->bytes += events[i].len;
    return job;
}

struct verify_job *verify_job_new(const struct transport_peer *addr, Dualsync__Frame *frame,
                                  const struct keyring *ring, uint64_t stored_upto)
{
    struct verify_job *job =
        job_new(addr, frame->publish->events, frame->publish->n_events, ring, stored_upto);
    job->frame = frame;
    return job;
}

struct verify_job *verify_job_of_events(const struct transport_peer *addr,
                                        ProtobufCBinaryData *events, size_t n,
                                        const struct keyring *ring, uint64_t stored_upto)
{
    struct verify_job *job = job_new(addr, events, n, ring, stored_upto);
    job->owned = events;
    return job;
}

void verify_job_free(struct verify_job *job)
{
    if (!job)
        return;
    wire_frame_free(job->frame);
    for (size_t i = 0; job->owned && i < job->n_events; i++)
        free(job->owned[i].data);
    free(job->owned);
    free(job->verdict);
    free(job);
}

enum verify_verdict verify_unsigned_verdict(const struct verify_job *job, const struct event *ev)
{
    if (strcmp(ev->origin, job->addr.org) != 0 || !job->key_known)
        return VERIFY_BAD;
    if (ev->seq <= job->stored_upto || ev->seq > job->check_upto)
        return VERIFY_SKIPPED; /* a resent copy, most likely: see enum verify_verdict */
    return VERIFY_BOUND;
}

/* Whether the job asks for ev's signature (ev new, within check_upto). */
static bool wants_signature(const struct verify_job *job, const struct event *ev)
{
    return job->check == VERIFY_CHECK_ALL ||
           (job->check == VERIFY_CHECK_FIRST && ev->seq == job->stored_upto + 1);
}

static enum verify_verdict verify_one(const struct verify_job *job, const ProtobufCBinaryData *raw)
{
    struct event ev;
    if (wire_event_open(raw->data, raw->len, false, &ev) != DS_OK)
        return VERIFY_BAD; /* protocol.c reports it as malformed */
    enum verify_verdict v = verify_unsigned_verdict(job, &ev);
    if (v == VERIFY_BOUND && wants_signature(job, &ev))
        v = wire_event_verify(&ev, keyring_for(&job->ring, ev.seq)) ? VERIFY_OK : VERIFY_BAD;
    wire_event_release(&ev);
    return v;
}

static void wake_loop(struct verify_pool *vp)
{
    /* A full pipe already holds a wake-up; nothing else can fail here. */
    ssize_t n = write(vp->wake[1], "x", 1);
    (void)n;
}

static bool org_busy(const struct verify_pool *vp, const char *org)
{
    for (size_t t = 0; t < vp->n_threads; t++)
        if (vp->busy[t] && strcmp(vp->busy[t], org) == 0)
            return true;
    return false;
}

/* Marks job done once its last chunk is in. Lock held. True when it became done: the
 * caller then wakes the loop, after unlocking (woken inside the lock, the loop could take
 * the worker's core and then wait for the lock the worker still holds). */
static bool finish_if_done(struct verify_pool *vp, struct verify_job *job)
{
    if (!job->claimed || job->in_progress != 0 || job->done)
        return false;
    job->done = true;
    atomic_fetch_add(&vp->done_jobs, 1);
    return true;
}

/* The oldest job with chunks left: of an org no worker is checking if there is one
 * (fairness), else any (no core idles while work waits). Lock held. */
static struct verify_job *pick(struct verify_pool *vp)
{
    struct verify_job *any = NULL;
    for (struct verify_job *job = vp->next; job; job = job->next) {
        if (job->claimed)
            continue;
        if (!org_busy(vp, job->addr.org))
            return job;
        if (!any)
            any = job;
    }
    return any;
}

/* Claims the next chunk of the job pick() chose: *from..*to of its events. A chunk past
 * the job's first bad event is not checked at all (*wake set if that finished its job).
 * NULL if there is no work. Lock held. */
static struct verify_job *claim(struct verify_pool *vp, size_t slot, size_t *from, size_t *to,
                                bool *wake)
{
    struct verify_job *job;
    while ((job = pick(vp)) != NULL) {
        size_t n = job->n_events;
        *from = job->next_event;
        *to = *from + VERIFY_CHUNK < n ? *from + VERIFY_CHUNK : n;
        job->next_event = *to;
        job->claimed = *to >= n || *from > job->bad_at;
        while (vp->next && vp->next->claimed)
            vp->next = vp->next->next;
        if (*from > job->bad_at) {
            *wake |= finish_if_done(vp, job); /* the rest stay VERIFY_BAD */
            continue;
        }
        job->in_progress++;
        vp->busy[slot] = job->addr.org;
        return job;
    }
    return NULL;
}

struct worker_arg {
    struct verify_pool *vp;
    size_t slot;
};

/* SCHED_IDLE: the thread runs only when no other thread of the machine wants the CPU.
 * Linux lets any process lower its own threads to it; going back to SCHED_OTHER needs
 * RLIMIT_NICE of 20 (nice 0) or CAP_SYS_NICE (sched(7)). */
static int set_policy(int policy)
{
    struct sched_param sp = {.sched_priority = 0};
    return pthread_setschedparam(pthread_self(), policy, &sp);
}

/* An idle pool's worker is at SCHED_IDLE only while it checks signatures, and at the
 * normal policy while it holds or waits for the pool's lock. Idle throughout, a worker
 * preempted inside the lock waited milliseconds for a core while the loop, which takes
 * the same lock, waited for it: 20-52 ms of the loop's stalls in 10 s at 10,000 ev/s
 * (docs/BENCHMARKS.md, "The loop's stalls over 10 s"). Where the process may not leave
 * SCHED_IDLE, the worker stays in it, as it did before (the first worker says so).
 * Returns whether it switches around each chunk. */
static bool idle_while_checking(const char *name, size_t slot)
{
    int rc = set_policy(SCHED_IDLE);
    if (rc != 0) {
        log_warn("%s: cannot run at idle priority: %s", name, strerror(rc));
        return false;
    }
    rc = set_policy(SCHED_OTHER);
    if (rc != 0 && slot == 0)
        log_info("%s: stays at idle priority while it holds its queue's lock (%s; "
                 "RLIMIT_NICE 20, the systemd unit's LimitNICE=+0, allows the switch)",
                 name, strerror(rc));
    return rc == 0;
}

static void *worker(void *arg)
{
    struct worker_arg wa = *(struct worker_arg *)arg;
    struct verify_pool *vp = wa.vp;
    free(arg);
    prctl(PR_SET_NAME, vp->name, 0, 0, 0); /* so top and perf tell it from the loop */
    bool switching = vp->idle && idle_while_checking(vp->name, wa.slot);
    bool wake = false; /* a job became done: tell the loop once the lock is released */
    pthread_mutex_lock(&vp->mu);
    for (;;) {
        struct verify_job *job = NULL;
        size_t from = 0, to = 0, bad = SIZE_MAX;
        while (!vp->stopping && (job = claim(vp, wa.slot, &from, &to, &wake)) == NULL) {
            if (wake) { /* before sleeping */
                pthread_mutex_unlock(&vp->mu);
                wake_loop(vp);
                wake = false;
                pthread_mutex_lock(&vp->mu);
                continue;
            }
            pthread_cond_wait(&vp->work, &vp->mu);
        }
        if (vp->stopping)
            break;
        pthread_mutex_unlock(&vp->mu);
        if (wake)
            wake_loop(vp);
        wake = false;
        if (switching)
            set_policy(SCHED_IDLE);
        for (size_t i = from; i < to && bad == SIZE_MAX; i++) {
            job->verdict[i] = verify_one(job, &job->events[i]);
            if (job->verdict[i] == VERIFY_BAD)
                bad = i; /* the rest stay VERIFY_BAD: protocol.c stops at this one */
        }
        if (switching)
            set_policy(SCHED_OTHER);
        pthread_mutex_lock(&vp->mu);
        if (bad < job->bad_at)
            job->bad_at = bad;
        job->in_progress--;
        vp->busy[wa.slot] = NULL;
        wake |= finish_if_done(vp, job);
        pthread_cond_broadcast(&vp->work); /* its org's next chunk may be claimed now */
    }
    pthread_mutex_unlock(&vp->mu);
    return NULL;
}

static size_t thread_count(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t n = cpus > 1 ? (size_t)cpus : 1;
    return n > VERIFY_THREADS_MAX ? VERIFY_THREADS_MAX : n;
}

struct verify_pool *verify_pool_new(const char *name, bool idle)
{
    struct verify_pool *vp = xcalloc(1, sizeof(*vp));
    atomic_init(&vp->done_jobs, 0);
    snprintf(vp->name, sizeof(vp->name), "%s", name);
    vp->idle = idle;
    pthread_mutex_init(&vp->mu, NULL);
    pthread_cond_init(&vp->work, NULL);
    if (pipe(vp->wake) != 0 || fcntl(vp->wake[0], F_SETFL, O_NONBLOCK) != 0 ||
        fcntl(vp->wake[1], F_SETFL, O_NONBLOCK) != 0) {
        log_error("verify: pipe: %s", strerror(errno));
        free(vp);
        return NULL;
    }
    size_t want = thread_count();
    pthread_mutex_lock(&vp->mu); /* n_threads is read by workers (org_busy) */
    for (size_t t = 0; t < want; t++) {
        struct worker_arg *wa = xmalloc(sizeof(*wa));
        wa->vp = vp;
        wa->slot = vp->n_threads;
        if (pthread_create(&vp->threads[vp->n_threads], NULL, worker, wa) == 0)
            vp->n_threads++;
        else
            free(wa);
    }
    pthread_mutex_unlock(&vp->mu);
    if (vp->n_threads == 0) {
        log_error("verify: cannot start a worker thread");
        verify_pool_destroy(&vp);
        return NULL;
    }
    return vp;
}

void verify_pool_destroy(struct verify_pool **vpp)
{
    struct verify_pool *vp = *vpp;
    if (!vp)
        return;
    pthread_mutex_lock(&vp->mu);
    vp->stopping = true;
    pthread_cond_broadcast(&vp->work);
    pthread_mutex_unlock(&vp->mu);
    for (size_t t = 0; t < vp->n_threads; t++)
        pthread_join(vp->threads[t], NULL);
    /* Jobs still queued were never acked: their nodes publish them again. */
    while (vp->head) {
        struct verify_job *job = vp->head;
        vp->head = job->next;
        verify_job_free(job);
    }
    close(vp->wake[0]);
    close(vp->wake[1]);
    pthread_cond_destroy(&vp->work);
    pthread_mutex_destroy(&vp->mu);
    free(vp);
    *vpp = NULL;
}

int verify_pool_fd(const struct verify_pool *vp)
{
    return vp->wake[0];
}

void verify_submit(struct verify_pool *vp, struct verify_job *job)
{
    pthread_mutex_lock(&vp->mu);
    if (vp->tail)
        vp->tail->next = job;
    else
        vp->head = job;
    vp->tail = job;
    if (!vp->next)
        vp->next = job;
    vp->pending_events += event_count(job);
    vp->pending_bytes += job->bytes;
    pthread_cond_signal(&vp->work);
    pthread_mutex_unlock(&vp->mu);
}

static bool org_seen(const char *const *orgs, size_t n, const char *org)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(orgs[i], org) == 0)
            return true;
    return false;
}

/* Unlinks job (after prev, or the head) from the queue. Called with the lock held. */
static void unlink_job(struct verify_pool *vp, struct verify_job *prev, struct verify_job *job)
{
    if (prev)
        prev->next = job->next;
    else
        vp->head = job->next;
    if (vp->tail == job)
        vp->tail = prev;
    if (vp->next == job)
        vp->next = job->next;
    job->next = NULL;
    vp->pending_events -= event_count(job);
    vp->pending_bytes -= job->bytes;
}

struct verify_job *verify_take(struct verify_pool *vp)
{
    const char *waiting[VERIFY_SCAN_ORGS]; /* orgs with an older job not done */
    size_t n_waiting = 0;
    struct verify_job *prev = NULL, *job;
    if (atomic_load(&vp->done_jobs) == 0)
        return NULL; /* a job done after this load wakes the loop again */
    pthread_mutex_lock(&vp->mu);
    for (job = vp->head; job; prev = job, job = job->next) {
        bool behind = org_seen(waiting, n_waiting, job->addr.org);
        if (job->done && !behind)
            break;
        if (behind)
            continue;
        if (n_waiting == VERIFY_SCAN_ORGS) {
            job = NULL; /* too many orgs to keep apart: wait for the oldest */
            break;
        }
        waiting[n_waiting++] = job->addr.org;
    }
    if (job) {
        unlink_job(vp, prev, job);
        atomic_fetch_sub(&vp->done_jobs, 1);
    }
    pthread_mutex_unlock(&vp->mu);
    return job;
}

size_t verify_pending_events(struct verify_pool *vp)
{
    return vp->pending_events;
}

size_t verify_pending_bytes(struct verify_pool *vp)
{
    return vp->pending_bytes;
}

bool verify_queue_full(struct verify_pool *vp)
{
    return vp->pending_events > BROKER_VERIFY_QUEUE_MAX ||
           vp->pending_bytes > BROKER_VERIFY_QUEUE_BYTES;
}

bool verify_queue_drained(struct verify_pool *vp)
{
    return vp->pending_events < BROKER_VERIFY_QUEUE_MAX / 2 &&
           vp->pending_bytes < BROKER_VERIFY_QUEUE_BYTES / 2;
}

void verify_drain_wakeups(struct verify_pool *vp)
{
    char buf[256];
    while (read(vp->wake[0], buf, sizeof(buf)) > 0)
        ;
}

void verify_wake(struct verify_pool *vp)
{
    wake_loop(vp);
}
