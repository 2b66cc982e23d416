/* retention: how long a node keeps a member's personal data (issue 11, item 5;
 * docs/ARCHITECTURE.md "Retention and erasure").
 *   - An erasure (member-erase, from the member's unit) drops the personal part of every
 *     letter about the member held here, own or received, in the transaction that stores
 *     it: on the unit that writes it, on every side it is delivered to, and on a node
 *     restored after it.
 *   - A community retires a closed registration: [policy] former_member_days after the
 *     close was written (its hlc, not the date on the letter, which a clerk may set in the
 *     past), the letters about the member held here keep only their clear part (ids,
 *     dates, counts: what its reports read). No event: a community only forgets. A later
 *     registration in the same community is new, and kept; it is retired in turn after
 *     its own close.
 *   - Either way a scrub starts at the next tick, on a thread of its own (eventlog_scrub),
 *     so that no SST or WAL file keeps the dropped bytes. */
#include "node.h"

#include "err.h"
#include "log.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

#define RETENTION_SWEEP_MS (3600u * 1000u) /* and whenever a registration closes here */

int retention_note(struct node *n, struct eventlog_txn *txn, const struct event *ev)
{
    switch (ev->type) {
    case DUALSYNC__EVENT_TYPE__EVENT_MEMBER_ERASE: {
        size_t dropped = 0;
        int rc = eventlog_txn_redact_member(txn, ev->member, UINT64_MAX, &dropped);
        if (rc == DS_OK)
            log_info("retention: member=%s erased by %s: %zu letters keep no personal part",
                     ev->member, ev->origin, dropped);
        return rc;
    }
    case DUALSYNC__EVENT_TYPE__EVENT_REGISTRATION_CLOSE:
    case DUALSYNC__EVENT_TYPE__EVENT_MOVE_OUT:
    case DUALSYNC__EVENT_TYPE__EVENT_UNIT_RELEASE:
        n->retention_sweep_at = 0; /* a close: the next tick sweeps */
        return DS_OK;
    default:
        return DS_OK;
    }
}

struct retire_pick {
    const struct node *n;
    uint64_t cutoff_ms; /* closed at or before it (wall clock, ms) */
    char **members;
    size_t count, cap;
};

static bool pick_retired(const Dualsync__MemberRecord *rec, void *arg)
{
    struct retire_pick *p = arg;
    /* Nothing counts after a close: the record's last hlc is the close's. A member retired
     * before, who came back and left again, is retired again up to the new close. */
    if (!rec->closed || strcmp(rec->community, p->n->cfg.org) != 0 ||
        (rec->last_hlc >> HLC_COUNTER_BITS) > p->cutoff_ms ||
        eventlog_redacted_upto(p->n->log, rec->member) >= rec->last_hlc)
        return true;
    if (p->count == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 16;
        p->members = xrealloc(p->members, p->cap * sizeof(*p->members));
    }
    p->members[p->count++] = xstrdup(rec->member);
    return true;
}

/* Retires the closed registrations of this community older than former_member_days. */
static void sweep(struct node *n)
{
    uint64_t keep_ms = (uint64_t)n->cfg.policy.former_member_days * 86400u * 1000u;
    uint64_t now = node_now_ms();
    struct retire_pick p = {.n = n, .cutoff_ms = now > keep_ms ? now - keep_ms : 0};
    if (eventlog_members_each(n->log, pick_retired, &p) != DS_OK || !p.count) {
        free(p.members);
        return;
    }
    /* Every letter held now is of the closed registrations: a new one would have reopened
     * the record. Later letters (a new registration here) are above this hlc, and kept. */
    uint64_t upto = eventlog_hlc_max(n->log);
    struct eventlog_txn *txn = eventlog_begin(n->log);
    int rc = DS_OK;
    for (size_t i = 0; i < p.count && rc == DS_OK; i++)
        rc = eventlog_txn_redact_member(txn, p.members[i], upto, NULL);
    rc = rc == DS_OK ? eventlog_commit(&txn) : (eventlog_abort(&txn), rc);
    if (rc == DS_OK)
        log_info("retention: %zu closed registrations older than %u days retired: their letters "
                 "keep no personal part here",
                 p.count, n->cfg.policy.former_member_days);
    else
        log_error("retention: cannot retire %zu closed registrations (%s); next sweep retries",
                  p.count, ds_errname(rc));
    for (size_t i = 0; i < p.count; i++)
        free(p.members[i]);
    free(p.members);
}

void retention_tick(struct node *n, uint64_t now_ms)
{
    if (n->kind == ORG_COMMUNITY && now_ms >= n->retention_sweep_at) {
        n->retention_sweep_at = now_ms + RETENTION_SWEEP_MS;
        sweep(n);
    }
    if (eventlog_scrub(n->log) != DS_OK)
        log_error("retention: the store could not be scrubbed; the next tick retries");
}
