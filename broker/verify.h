/* verify: the broker's signature workers (verify.c): one pool checks what a session's
 * PUBLISH frames need before they are stored, another (sigaudit.c) checks every stored event
 * with the CPU nothing else wants. */
#ifndef DUALSYNC_BROKER_VERIFY_H
#define DUALSYNC_BROKER_VERIFY_H

#include "keyring.h"
#include "transport.h"
#include "wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* verify.c: worker threads check the signatures of queued jobs while the loop thread
 * stores (or records) the jobs already checked; jobs come back in the order they went in. */
enum verify_verdict {
    VERIFY_BAD,
    VERIFY_OK,
    /* At or below the org's stored seq when queued: a resent copy (same bytes, no need to
     * verify again) or a fork. protocol.c verifies it on the loop thread unless the store
     * holds exactly these bytes. Above the job's check_upto: not asked about. */
    VERIFY_SKIPPED,
    /* New, from the connection's own org, signature not checked (VERIFY_CHECK_FIRST or
     * _NONE): the session is bound to its org by CURVE; protocol.c checks it on the loop
     * if the connection has not yet shown a good signature, else the audit does later. */
    VERIFY_BOUND,
};
/* Which new events (seq above stored_upto) a job checks. */
enum verify_check {
    VERIFY_CHECK_ALL,
    /* Only the first new one (seq stored_upto + 1), the rest VERIFY_BOUND: a PUBLISH of a
     * session whose signatures the broker has not yet seen verify (protocol.c). */
    VERIFY_CHECK_FIRST,
    /* None: every new one VERIFY_BOUND (a session already vouched for). */
    VERIFY_CHECK_NONE,
};
struct verify_job {
    struct verify_job *next;
    struct transport_peer addr;        /* the connection it came from: its org signs it */
    Dualsync__Frame *frame;            /* a PUBLISH, owned (NULL for events read from the log) */
    ProtobufCBinaryData *owned;        /* or: events owned by the job, each data malloc'd */
    const ProtobufCBinaryData *events; /* the frame's or the owned events */
    size_t n_events;
    enum verify_check check;
    /* VERIFY_CHECK_NONE, stored without the pool (protocol.c): verdict[] is not filled;
     * the loop takes each event's verdict from verify_unsigned_verdict as it opens it. */
    bool on_loop;
    struct keyring ring; /* the org's signing keys: each event is checked with its seq's */
    bool key_known;
    uint64_t stored_upto;
    uint64_t check_upto;          /* events above it are VERIFY_SKIPPED (UINT64_MAX: none) */
    uint64_t tag;                 /* the caller's (sigaudit.c: the generation of the org's queue) */
    enum verify_verdict *verdict; /* one per event of the frame */
    size_t bytes;                 /* of its events, for the queue's byte bound */
    /* the workers' progress (verify.c, under its lock) */
    size_t next_event;  /* first event of the next chunk to hand out */
    size_t in_progress; /* chunks being checked */
    size_t bad_at;      /* first bad event found (SIZE_MAX: none yet) */
    bool claimed;       /* every chunk handed out */
    bool done;          /* and checked */
};
struct verify_pool;
/* Starts one worker per core, named name (for top and perf); idle: the workers check
 * signatures under SCHED_IDLE, so they take only CPU no other thread wants, and hold the
 * pool's lock at the normal policy (where the process may leave SCHED_IDLE). NULL
 * (logged) if no thread or pipe can be made. */
struct verify_pool *verify_pool_new(const char *name, bool idle);
void verify_pool_destroy(struct verify_pool **vpp);
/* Readable when a job is done (poll it from the loop, then verify_drain_wakeups). */
int verify_pool_fd(const struct verify_pool *vp);
void verify_drain_wakeups(struct verify_pool *vp);
/* Makes verify_pool_fd readable, so the loop comes back for jobs it left done. */
void verify_wake(struct verify_pool *vp);
/* ring NULL when the org has none (every event is then VERIFY_BAD). Takes frame. The job
 * checks VERIFY_CHECK_ALL of the events up to any seq; callers change check and
 * check_upto before they submit it. */
struct verify_job *verify_job_new(const struct transport_peer *addr, Dualsync__Frame *frame,
                                  const struct keyring *ring, uint64_t stored_upto);
/* The same for n events read from the log: takes events and each event's data. */
struct verify_job *verify_job_of_events(const struct transport_peer *addr,
                                        ProtobufCBinaryData *events, size_t n,
                                        const struct keyring *ring, uint64_t stored_upto);
void verify_job_free(struct verify_job *job);
/* The verdict of ev without its signature: VERIFY_BAD (not the connection's org, or no
 * key), VERIFY_SKIPPED (at or below stored_upto, or above check_upto), else VERIFY_BOUND.
 * What a worker gives a VERIFY_CHECK_NONE job's event, without the trip to a worker. */
enum verify_verdict verify_unsigned_verdict(const struct verify_job *job, const struct event *ev);
/* verify_submit, verify_take and the counts below are the loop's: one thread calls them
 * all (the counts are read without the pool's lock). */
void verify_submit(struct verify_pool *vp, struct verify_job *job);
/* The oldest done job whose org has no older job still queued, else NULL: each org's
 * frames come back in the order they went in (its contiguity), but one org's slow frames
 * do not hold back another's. Workers likewise check at most one job per org at a time,
 * oldest first, so one org's flood takes at most one core while others' frames wait. */
struct verify_job *verify_take(struct verify_pool *vp);
size_t verify_pending_events(struct verify_pool *vp);
/* The bytes of those events. */
size_t verify_pending_bytes(struct verify_pool *vp);
/* True when the jobs not yet taken hold more than BROKER_VERIFY_QUEUE_MAX events or
 * BROKER_VERIFY_QUEUE_BYTES bytes of events: the loop should stop reading frames. */
bool verify_queue_full(struct verify_pool *vp);
/* True when they hold less than half of both: reading may resume. */
bool verify_queue_drained(struct verify_pool *vp);

#endif
