/* ctl_status: the daemons' half of ctl.h, what both daemons' `status` says about their
 * event log. Apart from ctl.c because the CLI links ctl.c to call a daemon, and anything
 * that reaches the store makes every CLI process load RocksDB (12 ms of its start in a
 * release build, most of it). */
#include "ctl.h"

#include "err.h"
#include "eventlog.h"
#include "store.h"

json_t *ctl_commits_json(const struct eventlog *log)
{
    struct eventlog_commit_stats st;
    eventlog_commit_stats(log, &st);
    json_t *buckets = json_array();
    for (size_t i = 0; i < EVENTLOG_COMMIT_BUCKETS; i++)
        json_array_append_new(buckets, json_pack("[f,I]", st.le_ms[i], (json_int_t)st.le[i]));
    return json_pack("{s:I,s:f,s:o}", "count", (json_int_t)st.count, "sum_ms",
                     (double)st.sum_ns / 1e6, "buckets", buckets);
}

json_t *ctl_store_json(struct eventlog *log)
{
    uint64_t sst = 0, mem = 0;
    if (store_size(eventlog_store(log), &sst, &mem) != DS_OK)
        return NULL;
    return json_pack("{s:I,s:I}", "sst_bytes", (json_int_t)sst, "memtable_bytes", (json_int_t)mem);
}
