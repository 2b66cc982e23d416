/* sigaudit: every stored event's signature, checked behind the acknowledgement (sigaudit.h).
 * Per org the audit keeps three seqs: `audited` (every event up to it checked; in the
 * store), `queued` (up to it handed to the workers) and `bad` (the first event that
 * failed; in the store; 0: none). Frames just committed go to the workers as they are
 * (no copy, no read) while the org's queue is contiguous and the workers keep up; when
 * they do not (a burst beyond AUDIT_FRAMES_*, a bad event found, a restart), the
 * org is "behind" and sigaudit_tick reads its next events from the log, a bounded amount at
 * a time. The workers return each org's jobs in order, so `audited` only grows by whole
 * jobs, each starting where the one before ended; when a bad event restarts the queue
 * after it, the org's generation moves and the jobs still out (tagged with the old one)
 * are dropped on return: their events are read again. */
#include "sigaudit.h"

#include "broker.h"
#include "directory.h"
#include "protocol.h"
#include "verify.h"

#include "err.h"
#include "log.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Events read from the log per job, and queued from the log at most at once: enough to
 * keep the workers busy between two ticks' reads, little enough to read on the loop. */
#define AUDIT_READ_JOB 256u
#define AUDIT_READ_QUEUED 2048u
/* Frames just committed wait for the workers only while they hold fewer events (or
 * bytes) than this; beyond it the audit reads the log later instead of keeping the
 * frames: a long burst costs the broker no memory (the whole city's year outran the
 * audit by millions of letters). */
#define AUDIT_FRAMES_QUEUED 4096u
#define AUDIT_FRAMES_BYTES ((size_t)4 << 20)
/* Set once this store's audit has started: a store without it was fully checked. */
#define AUDIT_META_STARTED "audit_started"

struct audit_org {
    char org[IDS_ORG_MAX];
    uint64_t audited, queued, bad;
    uint64_t gen; /* moves when the queue restarts at `audited`: older jobs are dropped */
    bool behind;  /* its next events come from the log */
    bool dirty;   /* audited or bad changed since last stored */
};

/* A list of orgs (the dirty ones, the ones behind). */
struct org_list {
    struct audit_org **at;
    size_t n, cap;
};

struct sigaudit {
    struct verify_pool *pool;
    struct strmap *orgs;    /* org id -> struct audit_org * */
    struct org_list dirty;  /* progress not yet stored */
    struct org_list behind; /* the orgs whose next events come from the log */
    bool started_stored;    /* AUDIT_META_STARTED is in the store */
    uint64_t checked;       /* events checked since the broker started */
    uint64_t bad_found;     /* events that failed, since the broker started */
};

static void store_progress(struct broker *b);

static void meta_name(char *buf, size_t size, const char *what, const char *org)
{
    snprintf(buf, size, "audit_%s/%s", what, org);
}

static void org_list_add(struct org_list *l, struct audit_org *o)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->at = xrealloc(l->at, l->cap * sizeof(*l->at));
    }
    l->at[l->n++] = o;
}

static void mark_dirty(struct sigaudit *a, struct audit_org *o)
{
    if (!o->dirty)
        org_list_add(&a->dirty, o);
    o->dirty = true;
}

/* Marks o behind (listed in a->behind); read_all_behind unlists it once caught up. */
static void set_behind(struct sigaudit *a, struct audit_org *o)
{
    if (!o->behind)
        org_list_add(&a->behind, o);
    o->behind = true;
}

/* org's progress: from the store the first time it is asked for. */
static struct audit_org *org_of(struct broker *b, const char *org)
{
    struct sigaudit *a = broker_sigaudit(b);
    struct audit_org *o = strmap_get(a->orgs, org);
    if (o)
        return o;
    o = xcalloc(1, sizeof(*o));
    snprintf(o->org, sizeof(o->org), "%s", org);
    uint64_t hwm = eventlog_hwm(broker_log(b), org);
    char name[IDS_ORG_MAX + 16];
    if (!a->started_stored) {
        o->audited = hwm; /* stored before audits existed: each was checked before it was */
        mark_dirty(a, o);
    } else {
        meta_name(name, sizeof(name), "upto", org);
        if (eventlog_meta_u64(broker_log(b), name, 0, &o->audited) != DS_OK || o->audited > hwm)
            o->audited = 0; /* unreadable or impossible: check the org's events again */
    }
    meta_name(name, sizeof(name), "bad", org);
    if (eventlog_meta_u64(broker_log(b), name, 0, &o->bad) != DS_OK)
        o->bad = 0;
    o->queued = o->audited;
    strmap_put(a->orgs, org, o);
    if (o->audited < hwm)
        set_behind(a, o);
    return o;
}

static bool load_org(const struct org_entry *e, void *arg)
{
    if (e->street[0])
        return true; /* another street's org publishes to its own broker */
    org_of(arg, e->org);
    return true;
}

int sigaudit_open(struct broker *b)
{
    struct sigaudit *a = xcalloc(1, sizeof(*a));
    uint64_t started = 0;
    a->orgs = strmap_new();
    broker_set_sigaudit(b, a); /* load_org finds it there */
    if (eventlog_meta_u64(broker_log(b), AUDIT_META_STARTED, 0, &started) == DS_OK && started)
        a->started_stored = true;
    directory_each(b, load_org, b);
    a->pool = verify_pool_new("ds-audit", true);
    if (!a->pool) {
        sigaudit_close(b);
        return DS_EIO;
    }
    if (a->behind.n)
        log_info("audit: %zu orgs have stored events not yet checked; checking them", a->behind.n);
    store_progress(b); /* the "started" mark before any event is stored unchecked */
    return DS_OK;
}

static void sigaudit_destroy(struct sigaudit **ap)
{
    struct sigaudit *a = *ap;
    if (!a)
        return;
    verify_pool_destroy(&a->pool); /* jobs in it are read again from the log next time */
    strmap_destroy(&a->orgs, free);
    free(a->behind.at);
    free(a->dirty.at);
    free(a);
    *ap = NULL;
}

void sigaudit_close(struct broker *b)
{
    struct sigaudit *a = broker_sigaudit(b);
    broker_set_sigaudit(b, NULL);
    sigaudit_destroy(&a);
}

int sigaudit_fd(const struct sigaudit *a)
{
    return verify_pool_fd(a->pool);
}

static const struct keyring *ring_of(const struct broker *b, const char *org)
{
    const struct org_entry *e = directory_find(b, org);
    return e ? &e->ring : NULL;
}

void sigaudit_stored(struct broker *b, const struct transport_peer *addr, Dualsync__Frame *frame,
                     uint64_t lo, uint64_t hi)
{
    struct sigaudit *a = broker_sigaudit(b);
    if (!a) {
        wire_frame_free(frame);
        return;
    }
    struct audit_org *o = org_of(b, addr->org);
    if (lo <= o->audited) { /* the org was removed and added again: a new log */
        o->audited = o->queued = lo - 1;
        o->gen++;
        o->bad = 0;
        mark_dirty(a, o);
    }
    if (o->behind || o->queued + 1 != lo || verify_pending_events(a->pool) >= AUDIT_FRAMES_QUEUED ||
        verify_pending_bytes(a->pool) >= AUDIT_FRAMES_BYTES) {
        wire_frame_free(frame);
        set_behind(a, o); /* sigaudit_tick reads them from the log */
        return;
    }
    struct verify_job *job = verify_job_new(addr, frame, ring_of(b, addr->org), lo - 1);
    job->check_upto = hi;
    job->tag = o->gen;
    o->queued = hi;
    verify_submit(a->pool, job);
}

/* Queues up to AUDIT_READ_JOB of o's next events, read from the log: DS_OK, DS_ENOTFOUND
 * when none is left (o has caught up), or the log's error. */
static int queue_from_log(struct broker *b, struct audit_org *o)
{
    uint64_t hwm = eventlog_hwm(broker_log(b), o->org);
    if (o->queued >= hwm)
        return DS_ENOTFOUND;
    size_t want = hwm - o->queued < AUDIT_READ_JOB ? (size_t)(hwm - o->queued) : AUDIT_READ_JOB;
    ProtobufCBinaryData *evs = xcalloc(want, sizeof(*evs));
    size_t n = 0;
    /* one range read on the loop, not a point read per letter (the audit reads behind
     * after a restart or a burst, where the letters are in table files) */
    int rc = eventlog_origin_run(broker_log(b), o->org, o->queued + 1, want, SIZE_MAX, evs, &n);
    if (rc == DS_OK && n == 0)
        rc = DS_ENOTFOUND;
    if (n == 0) {
        free(evs);
        log_error("audit: cannot read %s/%llu (%s); its check waits for the next tick", o->org,
                  (unsigned long long)(o->queued + 1), ds_errname(rc));
        return rc == DS_ENOTFOUND ? DS_EIO : rc; /* below the hwm: not "caught up" */
    }
    struct transport_peer addr = {0};
    snprintf(addr.org, sizeof(addr.org), "%s", o->org);
    struct verify_job *job = verify_job_of_events(&addr, evs, n, ring_of(b, o->org), o->queued);
    job->check_upto = o->queued + n;
    job->tag = o->gen;
    o->queued += n;
    verify_submit(broker_sigaudit(b)->pool, job);
    return DS_OK;
}

/* Queues the listed orgs' next events from the log while the workers hold fewer than
 * AUDIT_READ_QUEUED; an org that has caught up leaves the list (and takes the fast path
 * of sigaudit_stored again). Only the listed orgs are visited, not the whole street. */
static void read_all_behind(struct broker *b)
{
    struct sigaudit *a = broker_sigaudit(b);
    size_t i = 0;
    while (i < a->behind.n && verify_pending_events(a->pool) < AUDIT_READ_QUEUED) {
        struct audit_org *o = a->behind.at[i];
        int rc = queue_from_log(b, o);
        if (rc == DS_ENOTFOUND) {
            o->behind = false;
            a->behind.at[i] = a->behind.at[--a->behind.n];
        } else if (rc != DS_OK) {
            i++; /* logged: the next tick tries again */
        }
    }
}

/* The first failure of o: counted, logged, its node told, and its org blocked. */
static void found_bad(struct broker *b, struct audit_org *o, uint64_t seq)
{
    broker_sigaudit(b)->bad_found++;
    broker_counters(b)->signature_failed++;
    if (o->bad)
        return;
    o->bad = seq;
    log_error("audit: %s/%llu fails its signature check; nothing more is stored from %s until "
              "the street re-keys it (org rekey)",
              o->org, (unsigned long long)seq, o->org);
    protocol_notify(b, o->org, DUALSYNC__ERROR_CODE__ERROR_AUTH,
                    "this letter of yours fails the street's signature check: your node signs "
                    "with a key the street does not hold; nothing more is taken from it until "
                    "the street office re-keys your org",
                    seq);
}

/* Takes in one done job: o->audited moves to its last event, or to its first bad one
 * (the workers stop there); then the rest is read again from the log. */
static void record(struct broker *b, const struct verify_job *job)
{
    struct audit_org *o = org_of(b, job->addr.org);
    if (job->tag != o->gen)
        return; /* queued before a bad event restarted the queue: read again */
    uint64_t seq = job->stored_upto;
    for (size_t i = 0; i < job->n_events; i++) {
        if (job->verdict[i] == VERIFY_SKIPPED)
            continue; /* a resent copy before the stored range, or beyond it */
        seq++;
        broker_sigaudit(b)->checked++;
        if (job->verdict[i] != VERIFY_OK) {
            found_bad(b, o, seq);
            o->audited = o->queued = seq;
            o->gen++; /* the jobs still out were queued past the bad one: drop them */
            set_behind(broker_sigaudit(b), o);
            mark_dirty(broker_sigaudit(b), o);
            return;
        }
    }
    o->audited = seq;
    mark_dirty(broker_sigaudit(b), o);
}

void sigaudit_on_done(void *arg)
{
    struct broker *b = arg;
    struct sigaudit *a = broker_sigaudit(b);
    struct verify_job *job;
    verify_drain_wakeups(a->pool);
    while ((job = verify_take(a->pool)) != NULL) {
        record(b, job);
        verify_job_free(job);
    }
    read_all_behind(b);
}

/* Writes the progress made since the last call: a crash loses at most a heartbeat of it,
 * and those events are checked again. */
static void store_progress(struct broker *b)
{
    struct sigaudit *a = broker_sigaudit(b);
    if (!a->dirty.n && a->started_stored)
        return;
    struct eventlog_txn *txn = eventlog_begin(broker_log(b));
    char name[IDS_ORG_MAX + 16];
    for (size_t i = 0; i < a->dirty.n; i++) {
        struct audit_org *o = a->dirty.at[i];
        meta_name(name, sizeof(name), "upto", o->org);
        eventlog_txn_put_meta_u64(txn, name, o->audited);
        meta_name(name, sizeof(name), "bad", o->org);
        eventlog_txn_put_meta_u64(txn, name, o->bad);
    }
    eventlog_txn_put_meta_u64(txn, AUDIT_META_STARTED, 1);
    if (eventlog_commit(&txn) != DS_OK) {
        log_error("audit: cannot store its progress; trying again next tick");
        return;
    }
    for (size_t i = 0; i < a->dirty.n; i++)
        a->dirty.at[i]->dirty = false;
    a->dirty.n = 0;
    a->started_stored = true;
}

void sigaudit_tick(struct broker *b)
{
    struct sigaudit *a = broker_sigaudit(b);
    if (!a)
        return;
    read_all_behind(b);
    store_progress(b);
}

bool sigaudit_blocked(const struct broker *b, const char *org, uint64_t *seq_out)
{
    const struct audit_org *o =
        broker_sigaudit(b) ? strmap_get(broker_sigaudit(b)->orgs, org) : NULL;
    if (!o || !o->bad)
        return false;
    *seq_out = o->bad;
    return true;
}

void sigaudit_unblock(struct broker *b, const char *org)
{
    struct audit_org *o = broker_sigaudit(b) ? strmap_get(broker_sigaudit(b)->orgs, org) : NULL;
    if (!o || !o->bad)
        return;
    log_warn("audit: %s re-keyed: its events are taken again (the one that failed, seq %llu, "
             "stays refused by every recipient)",
             org, (unsigned long long)o->bad);
    o->bad = 0;
    mark_dirty(broker_sigaudit(b), o);
    store_progress(b);
}

struct audit_sums {
    const struct broker *b;
    uint64_t behind;
    json_t *blocked;
};

static bool sum_org(const char *org, void *value, void *arg)
{
    struct audit_sums *s = arg;
    const struct audit_org *o = value;
    uint64_t hwm = eventlog_hwm(broker_log(s->b), org);
    s->behind += hwm > o->audited ? hwm - o->audited : 0;
    if (o->bad)
        json_object_set_new(s->blocked, org, json_integer((json_int_t)o->bad));
    return true;
}

json_t *sigaudit_json(const struct broker *b)
{
    struct audit_sums s = {b, 0, json_object()};
    if (broker_sigaudit(b))
        strmap_each(broker_sigaudit(b)->orgs, sum_org, &s);
    return json_pack("{s:I, s:I, s:I, s:o}", "checked",
                     (json_int_t)(broker_sigaudit(b) ? broker_sigaudit(b)->checked : 0), "behind",
                     (json_int_t)s.behind, "bad",
                     (json_int_t)(broker_sigaudit(b) ? broker_sigaudit(b)->bad_found : 0),
                     "blocked", s.blocked);
}
