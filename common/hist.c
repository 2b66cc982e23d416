/* hist: fixed-bound latency histograms (hist.h). */
#include "hist.h"

#include <time.h>

static const uint64_t bounds_ns[HIST_BUCKETS] = {
    500000,   1000000,   2000000,   5000000,   10000000,   20000000,
    50000000, 100000000, 250000000, 500000000, 1000000000,
};

void hist_add(struct hist *h, uint64_t ns)
{
    size_t i = 0;
    while (i < HIST_BUCKETS && ns > bounds_ns[i])
        i++;
    h->in[i]++;
    h->count++;
    h->sum_ns += ns;
    if (ns > h->max_ns)
        h->max_ns = ns;
}

void hist_stats(const struct hist *h, struct hist_stats *out)
{
    uint64_t below = 0;
    out->count = h->count;
    out->sum_ns = h->sum_ns;
    out->max_ns = h->max_ns;
    for (size_t i = 0; i < HIST_BUCKETS; i++) {
        below += h->in[i];
        out->le[i] = below;
        out->le_ms[i] = (double)bounds_ns[i] / 1e6;
    }
}

json_t *hist_json(const struct hist *h)
{
    struct hist_stats st;
    hist_stats(h, &st);
    json_t *buckets = json_array();
    for (size_t i = 0; i < HIST_BUCKETS; i++)
        json_array_append_new(buckets, json_pack("[f,I]", st.le_ms[i], (json_int_t)st.le[i]));
    return json_pack("{s:I,s:f,s:f,s:o}", "count", (json_int_t)st.count, "sum_ms",
                     (double)st.sum_ns / 1e6, "max_ms", (double)st.max_ns / 1e6, "buckets",
                     buckets);
}

uint64_t hist_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
