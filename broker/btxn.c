/* btxn: the broker's one transaction (btxn.h). The inbox keeps the entries and heads
 * (inbox.c), routing the overlay (routing.c); this file only puts them in the order that
 * survives a crash, so no caller writes that order again. */
#include "btxn.h"
#include "carry.h"
#include "directory.h"

#include "broker.h"
#include "inbox.h"
#include "protocol.h"
#include "routing.h"
#include "err.h"
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

void btxn_begin(struct broker *b, struct btxn *t)
{
    t->b = b;
    t->log = eventlog_begin(broker_log(b));
    t->routes = route_overlay_new();
    t->heads = inbox_pending_take(b);
    t->carries = NULL;
    t->dropped = 0;
}

void btxn_append(struct btxn *t, const char *org, const char *origin, uint64_t seq)
{
    /* Another street's org is reached through a linked broker (its street's, or a hub's):
     * the entry goes into that broker's inbox, which its link reads (links.c) and routes
     * on its side. */
    const struct org_entry *e = directory_find(t->b, org);
    const char *to = !e || !e->street[0] ? org : e->via[0] ? e->via : e->street;
    inbox_append(t->b, t->log, t->heads, to, origin, seq);
    if (broker_config(t->b)->hub)
        carry_appended(t, origin, seq);
}

int btxn_commit(struct btxn *t)
{
    inbox_stage_heads(t->b, t->log, t->heads);
    int rc = carry_stage(t);
    if (rc == DS_OK)
        rc = eventlog_txn_write(t->log);
    if (rc == DS_OK) {
        inbox_commit_heads(t->b, t->heads, t->log);
        protocol_claims_moved(t->b, route_overlay_claims_moved(t->routes));
        carry_dropped(t->b, t->dropped);
    }
    btxn_abort(t);
    return rc;
}

void btxn_abort(struct btxn *t)
{
    eventlog_abort(&t->log);
    route_overlay_destroy(&t->routes);
    inbox_pending_give(t->b, &t->heads);
    strmap_destroy(&t->carries, free);
}
