/* fault: see fault.h. The environment is read once, at the first commit that stores
 * events; the hold file is looked at on every such commit, so a test arms and disarms the
 * hold while the process runs, without restarting it. */
#include "fault.h"

#include "err.h"
#include "log.h"

#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define FAULT_POLL_MS 10u

static struct {
    bool loaded;
    const char *hold_path; /* from the environment, which outlives us */
    unsigned fail_left;
} faults;

static void load_env(void)
{
    if (faults.loaded)
        return;
    faults.loaded = true;
    const char *path = getenv("DS_FAULT_HOLD_COMMIT");
    if (path && *path) {
        faults.hold_path = path;
        log_warn("fault: FAULT INJECTION ON: commits of events wait while %s exists", path);
    }
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};
    nanosleep(&ts, NULL);
}

static void hold(size_t events)
{
    if (!faults.hold_path || access(faults.hold_path, F_OK) != 0)
        return;
    log_warn("fault: holding a commit of %zu events while %s exists", events, faults.hold_path);
    unsigned waited = 0;
    while (access(faults.hold_path, F_OK) == 0 && waited < FAULT_HOLD_MAX_MS) {
        sleep_ms(FAULT_POLL_MS);
        waited += FAULT_POLL_MS;
    }
    log_warn("fault: commit released after %u ms", waited);
}

int fault_before_commit(size_t events)
{
    load_env();
    if (faults.fail_left) {
        faults.fail_left--;
        log_warn("fault: failing a commit of %zu events (injected)", events);
        return DS_EIO;
    }
    hold(events);
    return DS_OK;
}

void fault_fail_commits(unsigned n)
{
    faults.fail_left = n;
    if (n)
        log_warn("fault: FAULT INJECTION ON: the next %u commits of events fail", n);
}
