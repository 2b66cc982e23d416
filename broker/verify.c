/* verify: the signatures of one PUBLISH frame, checked on every core.
 * Ed25519 verification is most of the broker's CPU (docs/BENCHMARKS.md), and each check
 * is independent and pure, so a frame's events are split across worker threads while
 * the loop thread takes its share; nothing else runs meanwhile, so the directory they
 * read does not change under them. Small frames are checked inline: a thread costs more
 * than a few signatures. The verdict is only "signed by the origin's key"; everything
 * else (side, body, sequence, route) is still checked in order by protocol.c. */
#include "broker.h"

#include "err.h"
#include "xalloc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VERIFY_THREADS_MAX 8
#define VERIFY_INLINE_BELOW 16 /* events; fewer are verified on the loop thread alone */

struct verify_job {
    const struct broker *b;
    const Dualsync__Publish *pub;
    bool *ok;
    size_t first, stride;
};

static bool verify_one(const struct broker *b, const ProtobufCBinaryData *raw)
{
    struct event ev;
    if (wire_event_open(raw->data, raw->len, false, &ev) != DS_OK)
        return false;
    const struct org_entry *origin = directory_find(b, ev.origin);
    bool ok = origin && wire_event_verify(&ev, origin->sign_key);
    wire_event_release(&ev);
    return ok;
}

static void *verify_stride(void *arg)
{
    const struct verify_job *j = arg;
    for (size_t i = j->first; i < j->pub->n_events; i += j->stride)
        j->ok[i] = verify_one(j->b, &j->pub->events[i]);
    return NULL;
}

static size_t worker_count(size_t events)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t n = cpus > 1 ? (size_t)cpus : 1;
    if (n > VERIFY_THREADS_MAX)
        n = VERIFY_THREADS_MAX;
    return events < VERIFY_INLINE_BELOW ? 1 : n;
}

bool *verify_publish(const struct broker *b, const Dualsync__Publish *pub)
{
    bool *ok = xcalloc(pub->n_events ? pub->n_events : 1, sizeof(*ok));
    size_t n = worker_count(pub->n_events);
    struct verify_job jobs[VERIFY_THREADS_MAX];
    pthread_t threads[VERIFY_THREADS_MAX];
    for (size_t t = 0; t < n; t++)
        jobs[t] = (struct verify_job){b, pub, ok, t, n};
    /* Workers take strides 1..n-1; if one cannot start, the loop thread does its share. */
    bool spawned[VERIFY_THREADS_MAX] = {false};
    for (size_t t = 1; t < n; t++)
        spawned[t] = pthread_create(&threads[t], NULL, verify_stride, &jobs[t]) == 0;
    verify_stride(&jobs[0]);
    for (size_t t = 1; t < n; t++) {
        if (spawned[t])
            pthread_join(threads[t], NULL);
        else
            verify_stride(&jobs[t]);
    }
    return ok;
}
