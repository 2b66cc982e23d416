/* test_verify: the broker's signature workers (broker/verify.c) — each verdict, the order
 * in which jobs come back, the wake-up descriptor and the count of waiting events. */
#define _GNU_SOURCE /* SCHED_IDLE, usleep */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "broker.h"
#include "verify.h"
#include "testutil.h"

#include <dirent.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static struct keys alice, mallory;

/* A PUBLISH frame of n introductions by origin, seqs first..first+n-1, signed by k; the
 * event at index bad (if < n) has a flipped byte in its signature. Unpacked from bytes,
 * as the broker gets it, so that the job can free it. */
/* pub as a frame off the wire: packed and unpacked, owned by the caller (a job takes it). */
static Dualsync__Frame *unpacked_frame(Dualsync__Publish *pub)
{
    Dualsync__Frame f = DUALSYNC__FRAME__INIT;
    f.kind_case = DUALSYNC__FRAME__KIND_PUBLISH;
    f.publish = pub;
    uint8_t *buf = NULL;
    size_t len = 0;
    wire_pack(&f.base, &buf, &len);
    Dualsync__Frame *out = wire_frame_unpack(buf, len);
    free(buf);
    assert_non_null(out);
    return out;
}

static Dualsync__Frame *publish_frame(const struct keys *k, const char *origin, uint64_t first,
                                      size_t n, size_t bad)
{
    Dualsync__Publish pub = DUALSYNC__PUBLISH__INIT;
    struct tu_event *evs = calloc(n, sizeof(*evs));
    pub.n_events = n;
    pub.events = calloc(n, sizeof(*pub.events));
    for (size_t i = 0; i < n; i++) {
        char member[32];
        snprintf(member, sizeof(member), "M%zu", (size_t)first + i);
        tu_event_intro(&evs[i], k, origin, first + i, 1000 + i, member, "community:c1", "Li", 30,
                       "2026-01-05");
        if (i == bad)
            evs[i].raw[evs[i].len - 1] ^= 0x01; /* the signature is the last field */
        pub.events[i].data = evs[i].raw;
        pub.events[i].len = evs[i].len;
    }
    Dualsync__Frame *out = unpacked_frame(&pub);
    for (size_t i = 0; i < n; i++)
        tu_event_free(&evs[i]);
    free(evs);
    free(pub.events);
    return out;
}

/* A ring of k's one key; verify_job_new copies it, so a few slots in turn are enough. */
static const struct keyring *ring_of(const struct keys *k)
{
    static struct keyring rings[4];
    static size_t next;
    struct keyring *r = &rings[next++ % 4];
    keyring_init(r, k->sign_pk);
    return r;
}

static struct transport_peer peer(const char *org)
{
    struct transport_peer p;
    memset(&p, 0, sizeof(p));
    snprintf(p.org, sizeof(p.org), "%s", org);
    p.id_len = 5;
    memcpy(p.id, "conn1", 5);
    return p;
}

/* Takes the next job, waiting (poll on the pool's descriptor, 10 s at most) until the
 * oldest one is done. */
static struct verify_job *take_wait(struct verify_pool *vp)
{
    for (int round = 0; round < 1000; round++) {
        struct verify_job *job = verify_take(vp);
        if (job)
            return job;
        struct pollfd pfd = {.fd = verify_pool_fd(vp), .events = POLLIN};
        poll(&pfd, 1, 10);
        verify_drain_wakeups(vp);
    }
    fail_msg("no job came back within 10 s");
    return NULL;
}

static void test_verdicts(void **state)
{
    (void)state;
    struct verify_pool *vp = verify_pool_new("ds-verify", false);
    assert_non_null(vp);
    struct transport_peer a = peer("unit:u1");
    /* stored_upto 2: seqs 1 and 2 are skipped, 3.. verified; seq 5 is tampered, and the
     * checks stop there (seq 6 is left bad: the broker stores nothing after seq 5). */
    verify_submit(
        vp, verify_job_new(&a, publish_frame(&alice, "unit:u1", 1, 6, 4), ring_of(&alice), 2));
    struct verify_job *job = take_wait(vp);
    enum verify_verdict want[6] = {VERIFY_SKIPPED, VERIFY_SKIPPED, VERIFY_OK,
                                   VERIFY_OK,      VERIFY_BAD,     VERIFY_BAD};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(job->verdict[i], want[i]);
    verify_job_free(job);
    verify_pool_destroy(&vp);
    assert_null(vp);
}

/* What a job checks: VERIFY_CHECK_FIRST checks only the first new event's signature (a
 * session not yet vouched for) and binds the rest; VERIFY_CHECK_NONE binds every new one;
 * check_upto leaves the events above it alone (the audit's job covers what was stored).
 * The tampering here is in the personal part, which opening the event catches (its hash
 * is in the signed bytes) in every mode: the first tampered event and the rest are bad. */
static void test_check_modes(void **state)
{
    (void)state;
    struct verify_pool *vp = verify_pool_new("ds-audit", true);
    assert_non_null(vp);
    struct transport_peer a = peer("unit:u1");
    enum { S_ = VERIFY_SKIPPED, OK = VERIFY_OK, BO = VERIFY_BOUND, BA = VERIFY_BAD };
    struct {
        enum verify_check check;
        size_t bad; /* index of the tampered event */
        uint64_t check_upto;
        int want[6]; /* enum verify_verdict */
    } cases[] = {
        {VERIFY_CHECK_FIRST, 9, UINT64_MAX, {S_, S_, OK, BO, BO, BO}},
        {VERIFY_CHECK_FIRST, 4, UINT64_MAX, {S_, S_, OK, BO, BA, BA}},
        {VERIFY_CHECK_FIRST, 2, UINT64_MAX, {S_, S_, BA, BA, BA, BA}},
        {VERIFY_CHECK_NONE, 9, UINT64_MAX, {S_, S_, BO, BO, BO, BO}},
        {VERIFY_CHECK_ALL, 9, 4, {S_, S_, OK, OK, S_, S_}},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct verify_job *job = verify_job_new(
            &a, publish_frame(&alice, "unit:u1", 1, 6, cases[c].bad), ring_of(&alice), 2);
        job->check = cases[c].check;
        job->check_upto = cases[c].check_upto;
        verify_submit(vp, job);
        job = take_wait(vp);
        for (size_t i = 0; i < 6; i++)
            if ((int)job->verdict[i] != cases[c].want[i])
                fail_msg("case %zu event %zu: verdict %d, want %d", c, i, (int)job->verdict[i],
                         cases[c].want[i]);
        verify_job_free(job);
    }
    verify_pool_destroy(&vp);
}

/* After a rotation at seq 4 (alice's key, then mallory's as her new one), each event is
 * checked with the key of its era: the old key's events before 4 pass, after 4 fail, and
 * the new key's the other way round. A leaked old key signs nothing new. */
static void test_rotation_eras(void **state)
{
    (void)state;
    struct verify_pool *vp = verify_pool_new("ds-verify", false);
    struct transport_peer a = peer("unit:u1");
    struct keyring ring;
    keyring_init(&ring, alice.sign_pk);
    assert_int_equal(keyring_rotate(&ring, mallory.sign_pk, 4), DS_OK);
    /* A frame stops at its first bad signature, so each case is a frame of its own. */
    struct {
        const struct keys *signer;
        uint64_t first;
        size_t n;
        enum verify_verdict want;
    } cases[] = {
        {&alice, 2, 2, VERIFY_OK},    /* seqs 2-3, old key, its era */
        {&alice, 4, 1, VERIFY_BAD},   /* seq 4, old key: after the rotation */
        {&mallory, 3, 1, VERIFY_BAD}, /* seq 3, new key: not yet its era */
        {&mallory, 4, 2, VERIFY_OK},  /* seqs 4-5, new key */
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        verify_submit(vp, verify_job_new(&a,
                                         publish_frame(cases[c].signer, "unit:u1", cases[c].first,
                                                       cases[c].n, 99),
                                         &ring, 0));
        struct verify_job *job = take_wait(vp);
        for (size_t i = 0; i < cases[c].n; i++)
            assert_int_equal(job->verdict[i], cases[c].want);
        verify_job_free(job);
    }
    verify_pool_destroy(&vp);
}

static void test_wrong_signer_or_origin(void **state)
{
    (void)state;
    struct verify_pool *vp = verify_pool_new("ds-verify", false);
    struct transport_peer a = peer("unit:u1");
    /* Signed by another key than the connection's org: bad. */
    verify_submit(
        vp, verify_job_new(&a, publish_frame(&mallory, "unit:u1", 1, 2, 99), ring_of(&alice), 0));
    /* Another org's events on u1's connection, even well signed: bad. */
    verify_submit(
        vp, verify_job_new(&a, publish_frame(&mallory, "unit:u2", 1, 2, 99), ring_of(&mallory), 0));
    /* An org without a key in the directory: bad. */
    verify_submit(vp, verify_job_new(&a, publish_frame(&alice, "unit:u1", 1, 2, 99), NULL, 0));
    for (int j = 0; j < 3; j++) {
        struct verify_job *job = take_wait(vp);
        assert_int_equal(job->verdict[0], VERIFY_BAD);
        assert_int_equal(job->verdict[1], VERIFY_BAD);
        verify_job_free(job);
    }
    verify_pool_destroy(&vp);
}

static void test_order_kept_and_counted(void **state)
{
    (void)state;
    struct verify_pool *vp = verify_pool_new("ds-verify", false);
    struct transport_peer a = peer("unit:u1");
    /* A big frame first, then small ones: workers finish the small ones first, but they
     * come back in the order they went in. */
    size_t sizes[5] = {200, 1, 2, 3, 4};
    uint64_t first = 1;
    size_t total = 0;
    for (int j = 0; j < 5; j++) {
        verify_submit(vp, verify_job_new(&a, publish_frame(&alice, "unit:u1", first, sizes[j], 999),
                                         ring_of(&alice), 0));
        first += sizes[j];
        total += sizes[j];
    }
    assert_int_equal(verify_pending_events(vp), total);
    uint64_t expect_first = 1;
    for (int j = 0; j < 5; j++) {
        struct verify_job *job = take_wait(vp);
        assert_int_equal(job->n_events, sizes[j]);
        struct event ev;
        assert_rc(wire_event_open(job->events[0].data, job->events[0].len, false, &ev), DS_OK);
        assert_int_equal(ev.seq, expect_first);
        wire_event_release(&ev);
        for (size_t i = 0; i < sizes[j]; i++)
            assert_int_equal(job->verdict[i], VERIFY_OK);
        total -= sizes[j];
        expect_first += sizes[j];
        assert_int_equal(verify_pending_events(vp), total);
        verify_job_free(job);
    }
    assert_null(verify_take(vp));
    verify_pool_destroy(&vp);
}

/* A PUBLISH of n events of size bytes each that are not events at all (zeros): workers
 * find them bad at once, and the queue's bounds only count them. */
static Dualsync__Frame *filler_frame(size_t n, size_t size)
{
    Dualsync__Publish pub = DUALSYNC__PUBLISH__INIT;
    uint8_t *zeros = calloc(1, size);
    pub.n_events = n;
    pub.events = calloc(n, sizeof(*pub.events));
    for (size_t i = 0; i < n; i++) {
        pub.events[i].data = zeros;
        pub.events[i].len = size;
    }
    Dualsync__Frame *out = unpacked_frame(&pub);
    free(pub.events);
    free(zeros);
    return out;
}

static void take_and_free(struct verify_pool *vp, int jobs)
{
    for (int j = 0; j < jobs; j++)
        verify_job_free(take_wait(vp));
}

/* The loop stops reading when the queue holds too many events or too many bytes, and
 * reads again below half of both. Few large events must trip the byte bound (a node
 * sending 64 KiB events could queue 1 GiB within the event count). */
static void test_queue_bounds_in_events_and_bytes(void **state)
{
    (void)state;
    struct verify_pool *vp = verify_pool_new("ds-verify", false);
    struct transport_peer a = peer("unit:u1");
    /* frames of 30 events of 60 KiB (1.8 MiB, under the frame limit): 540 events in 18 */
    size_t frame_bytes = 30 * 60 * 1024, full_at = BROKER_VERIFY_QUEUE_BYTES / frame_bytes + 1;
    for (size_t j = 0; j < full_at; j++) {
        assert_false(verify_queue_full(vp));
        verify_submit(vp, verify_job_new(&a, filler_frame(30, 60 * 1024), ring_of(&alice), 0));
    }
    assert_true(verify_queue_full(vp)); /* over the byte bound with 540 events */
    take_and_free(vp, 1);
    assert_false(verify_queue_full(vp));
    size_t left = full_at - 1;
    for (; left * frame_bytes >= BROKER_VERIFY_QUEUE_BYTES / 2; left--) {
        assert_false(verify_queue_drained(vp));
        take_and_free(vp, 1);
    }
    assert_true(verify_queue_drained(vp));
    take_and_free(vp, (int)left);

    size_t frames = BROKER_VERIFY_QUEUE_MAX / 1024 + 1;
    for (size_t j = 0; j < frames; j++)
        verify_submit(vp, verify_job_new(&a, filler_frame(1024, 8), ring_of(&alice), 0));
    assert_true(verify_queue_full(vp)); /* 17,408 small events */
    take_and_free(vp, (int)(frames - BROKER_VERIFY_QUEUE_MAX / 2 / 1024));
    assert_false(verify_queue_drained(vp)); /* exactly half: not below it */
    take_and_free(vp, 1);
    assert_true(verify_queue_drained(vp));
    take_and_free(vp, (int)(BROKER_VERIFY_QUEUE_MAX / 2 / 1024 - 1));
    assert_null(verify_take(vp));
    assert_int_equal(verify_pending_events(vp), 0);
    verify_pool_destroy(&vp);
}

static void test_destroy_with_jobs_queued(void **state)
{
    (void)state;
    struct verify_pool *vp = verify_pool_new("ds-verify", false);
    struct transport_peer a = peer("unit:u1");
    for (int j = 0; j < 20; j++)
        verify_submit(vp, verify_job_new(&a, publish_frame(&alice, "unit:u1", 1, 50, 999),
                                         ring_of(&alice), 0));
    verify_pool_destroy(&vp); /* frees what is queued or running; leak checkers watch */
    assert_null(vp);
}

static void test_wake_descriptor(void **state)
{
    (void)state;
    struct verify_pool *vp = verify_pool_new("ds-verify", false);
    struct pollfd pfd = {.fd = verify_pool_fd(vp), .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 0), 0);
    verify_wake(vp);
    assert_int_equal(poll(&pfd, 1, 0), 1);
    verify_drain_wakeups(vp);
    assert_int_equal(poll(&pfd, 1, 0), 0);
    verify_pool_destroy(&vp);
}

/* How many of this process's threads named name run at SCHED_IDLE, and how many at
 * SCHED_OTHER. */
static void thread_policies(const char *name, int *idle, int *other)
{
    *idle = *other = 0;
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        char path[300], comm[32] = "";
        snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
        FILE *f = e->d_name[0] != '.' ? fopen(path, "r") : NULL;
        if (!f)
            continue;
        if (fgets(comm, sizeof(comm), f))
            comm[strcspn(comm, "\n")] = '\0';
        fclose(f);
        if (strcmp(comm, name) != 0)
            continue;
        int policy = sched_getscheduler((pid_t)atoi(e->d_name));
        *idle += policy == SCHED_IDLE;
        *other += policy == SCHED_OTHER;
    }
    closedir(d);
}

/* Polls (10 s at most) until every worker named name waits at the policy want. */
static void wait_all_at(const char *name, int workers, int want)
{
    int idle = 0, other = 0;
    for (int round = 0; round < 1000; round++) {
        thread_policies(name, &idle, &other);
        if ((want == SCHED_IDLE ? idle : other) == workers)
            return;
        usleep(10000);
    }
    fail_msg("%s: %d idle, %d normal of %d workers", name, idle, other, workers);
}

/* The audit's workers check signatures at SCHED_IDLE but hold and wait for the pool's lock
 * at the normal policy, so that the loop, which takes the same lock, never waits for a
 * thread the scheduler leaves without a core (where the process may leave SCHED_IDLE:
 * root, or RLIMIT_NICE 20; elsewhere they stay idle throughout). */
static void test_idle_pool_checks_idle_and_waits_normal(void **state)
{
    (void)state;
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NICE, &rl), 0);
    bool can_switch = geteuid() == 0 || rl.rlim_cur >= 20;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int workers = cpus < 1 ? 1 : cpus > 8 ? 8 : (int)cpus;
    struct verify_pool *vp = verify_pool_new("t-idle-pool", true);
    assert_non_null(vp);
    wait_all_at("t-idle-pool", workers, can_switch ? SCHED_OTHER : SCHED_IDLE);
    struct transport_peer a = peer("unit:u1");
    verify_submit(vp, verify_job_new(&a, publish_frame(&alice, "unit:u1", 1, 4096, SIZE_MAX),
                                     ring_of(&alice), 0));
    bool seen_idle = false;
    struct verify_job *job = NULL;
    /* about 4,096 x 50 us of checks; 30 s at most */
    for (int round = 0; round < 60000 && (job = verify_take(vp)) == NULL; round++) {
        int idle, other;
        thread_policies("t-idle-pool", &idle, &other);
        seen_idle |= idle > 0;
        usleep(500);
    }
    assert_non_null(job);
    assert_int_equal(job->verdict[4095], VERIFY_OK);
    verify_job_free(job);
    assert_true(seen_idle);
    wait_all_at("t-idle-pool", workers, can_switch ? SCHED_OTHER : SCHED_IDLE);
    verify_pool_destroy(&vp);
}

int main(void)
{
    assert_rc(keys_crypto_init(), DS_OK);
    keys_generate(&alice);
    keys_generate(&mallory);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_check_modes),
        cmocka_unit_test(test_wrong_signer_or_origin),
        cmocka_unit_test(test_rotation_eras),
        cmocka_unit_test(test_order_kept_and_counted),
        cmocka_unit_test(test_queue_bounds_in_events_and_bytes),
        cmocka_unit_test(test_destroy_with_jobs_queued),
        cmocka_unit_test(test_wake_descriptor),
        cmocka_unit_test(test_idle_pool_checks_idle_and_waits_normal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
