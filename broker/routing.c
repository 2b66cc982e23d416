/* routing: the broker decides who receives a member's events; a node cannot address
 * anyone. The route table (routes cf: member -> unit "\0" community "\0") is written by
 * introduction letters: the introducing unit owns the member and names the residence
 * community. Every other member event must come from one of the two and goes to the
 * other. Routes changed earlier in the same transaction are seen through an overlay, so a
 * frame may introduce a member and write about it. A re-introduction by the same unit to
 * the same community is harmless; another unit, or another community (a move, which needs
 * the old registration closed first), is refused. */
#include "broker.h"

#include "err.h"
#include "rules.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

struct route {
    char unit[IDS_ORG_MAX];
    char community[IDS_ORG_MAX];
};

struct route_overlay {
    struct strmap *routes; /* member -> struct route * */
};

struct route_overlay *route_overlay_new(void)
{
    struct route_overlay *ov = xcalloc(1, sizeof(*ov));
    ov->routes = strmap_new();
    return ov;
}

void route_overlay_destroy(struct route_overlay **op)
{
    if (!*op)
        return;
    strmap_destroy(&(*op)->routes, free);
    free(*op);
    *op = NULL;
}

static bool route_lookup(struct broker *b, struct route_overlay *ov, const char *member,
                         struct route *out)
{
    const struct route *r = strmap_get(ov->routes, member);
    if (r) {
        *out = *r;
        return true;
    }
    struct skey k;
    void *val = NULL;
    size_t len = 0;
    skey_init(&k);
    skey_str(&k, member);
    if (store_get(eventlog_store(b->log), CF_ROUTES, &k, &val, &len) != DS_OK)
        return false;
    const char *unit = val;
    size_t ulen = strnlen(unit, len);
    size_t clen = ulen < len ? strnlen(unit + ulen + 1, len - ulen - 1) : len;
    bool ok = ulen < len && ulen < IDS_ORG_MAX && clen < len - ulen - 1 && clen < IDS_ORG_MAX;
    if (ok) {
        strcpy(out->unit, unit);
        strcpy(out->community, unit + ulen + 1);
    }
    free(val);
    return ok;
}

static void route_put(struct route_overlay *ov, struct eventlog_txn *txn, const char *member,
                      const struct route *r)
{
    struct route *copy = xmemdup(r, sizeof(*r));
    free(strmap_put(ov->routes, member, copy));
    size_t ul = strlen(r->unit) + 1, cl = strlen(r->community) + 1;
    char val[2 * IDS_ORG_MAX];
    memcpy(val, r->unit, ul);
    memcpy(val + ul, r->community, cl);
    struct skey k;
    skey_init(&k);
    skey_str(&k, member);
    store_batch_put(eventlog_txn_batch(txn), CF_ROUTES, &k, val, ul + cl);
}

static int route_introduction(struct broker *b, struct route_overlay *ov, struct eventlog_txn *txn,
                              const struct event *ev, char out[2][IDS_ORG_MAX], int *n_out)
{
    struct route r;
    Dualsync__Introduction *intro = wire_unpack_introduction(ev->body, ev->body_len);
    if (!intro)
        return DS_EINVAL;
    const struct org_entry *c = directory_find(b, intro->community);
    bool known = c && c->kind == ORG_COMMUNITY;
    bool routed = route_lookup(b, ov, ev->member, &r);
    bool conflict =
        routed && (strcmp(r.unit, ev->origin) != 0 || strcmp(r.community, intro->community) != 0);
    if (known && !conflict) {
        snprintf(r.unit, sizeof(r.unit), "%s", ev->origin);
        snprintf(r.community, sizeof(r.community), "%s", intro->community);
        route_put(ov, txn, ev->member, &r);
        strcpy(out[0], r.community);
        *n_out = 1;
    }
    wire_msg_free(intro);
    return known && !conflict ? DS_OK : DS_EROUTE;
}

int routing_recipients(struct broker *b, struct route_overlay *ov, struct eventlog_txn *txn,
                       const struct event *ev, char out[2][IDS_ORG_MAX], int *n_out)
{
    struct route r;
    *n_out = 0;
    if (!ev->member[0])
        return DS_OK; /* org-level events from nodes are kept, not forwarded */
    if (ev->type == DUALSYNC__EVENT_TYPE__EVENT_INTRODUCTION)
        return route_introduction(b, ov, txn, ev, out, n_out);
    if (!route_lookup(b, ov, ev->member, &r))
        return DS_EROUTE;
    if (strcmp(ev->origin, r.unit) == 0)
        strcpy(out[0], r.community);
    else if (strcmp(ev->origin, r.community) == 0)
        strcpy(out[0], r.unit);
    else
        return DS_EROUTE;
    *n_out = 1;
    return DS_OK;
}
