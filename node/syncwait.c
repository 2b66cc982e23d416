/* syncwait: the decisions of `dualsync sync-wait` (syncwait.h). */
#include "syncwait.h"

#include <stdbool.h>
#include <string.h>

static long long field(const json_t *j, const char *key)
{
    return (long long)json_integer_value(json_object_get(j, key));
}

static bool in_session(const json_t *status)
{
    const char *state = json_string_value(json_object_get(status, "state"));
    return state && strcmp(state, "ready") == 0;
}

/* Everything written here acked, and everything the broker held for us when it answered
 * the probe applied: a DELIVER still in flight cannot pass for "nothing pending". */
static bool synced(const json_t *status, long long nonce)
{
    return in_session(status) && field(status, "unacked") == 0 &&
           field(status, "pong_nonce") >= nonce &&
           field(status, "inbox_cursor") >= field(status, "pong_head") &&
           field(status, "directory_cursor") >= field(status, "pong_directory_head");
}

enum sync_wait_step sync_wait_step(struct sync_wait *w, const json_t *reply, double now)
{
    if (!reply) { /* not up yet: probe once it is */
        w->nonce = 0;
        return SYNC_WAIT_PROBE;
    }
    if (!w->nonce) {
        w->nonce = field(reply, "nonce");
        w->probed_at = now;
        return w->nonce ? SYNC_WAIT_STATUS : SYNC_WAIT_PROBE;
    }
    if (synced(reply, w->nonce))
        return SYNC_WAIT_DONE;
    if (!in_session(reply) || now - w->probed_at >= SYNC_WAIT_REPROBE_S) {
        w->nonce = 0;
        return SYNC_WAIT_PROBE;
    }
    return SYNC_WAIT_STATUS;
}
