/* hist: a latency histogram with fixed bounds (0.5 ms to 1 s), for what a daemon's
 * `status` and /metrics say about how long its work took: each event log commit
 * (eventlog.c) and each turn of the loop (transport.c: one handler's run, between two
 * polls). Fixed bounds, so that two processes' histograms read alike and adding a sample
 * costs a few comparisons. */
#ifndef DUALSYNC_HIST_H
#define DUALSYNC_HIST_H

#include <jansson.h>
#include <stdint.h>

#define HIST_BUCKETS 11 /* finite upper bounds; +Inf is 'count' */

struct hist {
    uint64_t in[HIST_BUCKETS + 1]; /* per bucket, not cumulative; the last is +Inf */
    uint64_t count, sum_ns, max_ns;
};

struct hist_stats {
    uint64_t count;             /* samples */
    uint64_t sum_ns;            /* their total */
    uint64_t max_ns;            /* the longest */
    double le_ms[HIST_BUCKETS]; /* the bounds: 0.5, 1, 2, 5, ... 1000 ms */
    uint64_t le[HIST_BUCKETS];  /* samples of at most le_ms[i] (cumulative) */
};

/* Counts one sample of ns nanoseconds. */
void hist_add(struct hist *h, uint64_t ns);

/* The figures so far. */
void hist_stats(const struct hist *h, struct hist_stats *out);

/* {"count":N,"sum_ms":X,"max_ms":X,"buckets":[[0.5,n],[1,n],...,[1000,n]]}, n cumulative. */
json_t *hist_json(const struct hist *h);

/* CLOCK_MONOTONIC in nanoseconds: what samples are usually timed with. */
uint64_t hist_now_ns(void);

#endif
