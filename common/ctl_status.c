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
    return hist_json(eventlog_commits(log));
}

json_t *ctl_store_json(struct eventlog *log)
{
    uint64_t sst = 0, mem = 0;
    if (store_size(eventlog_store(log), &sst, &mem) != DS_OK)
        return NULL;
    return json_pack("{s:I,s:I}", "sst_bytes", (json_int_t)sst, "memtable_bytes", (json_int_t)mem);
}
