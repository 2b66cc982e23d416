/* routing: the broker decides who receives an event; a node cannot address anyone the
 * broker would not. Member events follow the route table (routes cf: member -> unit "\0"
 * community "\0" state), written by the registration letters:
 *   - an introduction opens a registration: the unit owns the member, the community is
 *     the residence; the same unit may re-introduce (harmless) to the same community;
 *   - the unit's move-out or the community's return/revoke closes it: the community gets
 *     that last letter and nothing more; the unit may then introduce the member to a new
 *     community;
 *   - the unit's release closes it and frees the member for another unit.
 * Every other member event must come from one of the two sides of an open registration
 * and goes to the other. A refused introduction (another unit's member, another
 * community while open) or a late letter of a former side (written concurrently with the
 * close) is stored — it is signed, and the author's sequence must go on — but delivered
 * to nobody, and the author is told (ERROR_REFUSED). A letter about a member the broker
 * has no route for, or from an org that never was a side of it, waits (ERROR_ROUTE):
 * after a broker rebuild the introduction that explains it may still be on its way.
 * Org-level events go to the orgs named in the envelope (checked against the directory),
 * to the units with members in the author community (service needs), or nowhere.
 * by_community (community, unit, member) indexes the open registrations. */
#include "broker.h"

#include "err.h"
#include "rules.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

#define T(x) DUALSYNC__EVENT_TYPE__EVENT_##x

enum route_state { ROUTE_OPEN = 0, ROUTE_CLOSED = 1 };

#define ROUTE_FORMER_MAX 8

/* The registration of one member, and the sides of its earlier registrations (most
 * recent first): their late letters are stored and not delivered, while a letter from an
 * org that was never a side waits (ERROR_ROUTE) — after a broker rebuild the
 * introduction that makes it a side may still be on its way. */
struct route {
    char unit[IDS_ORG_MAX];
    char community[IDS_ORG_MAX];
    enum route_state state;
    size_t n_former;
    char former[ROUTE_FORMER_MAX][IDS_ORG_MAX];
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

/* Value: unit "\0" community "\0" [state byte [former "\0"]...]; routes written before
 * registrations could close have no state byte and are open. */
static bool route_decode(const char *val, size_t len, struct route *out)
{
    memset(out, 0, sizeof(*out));
    size_t ulen = strnlen(val, len);
    if (ulen >= len || ulen >= IDS_ORG_MAX)
        return false;
    size_t clen = strnlen(val + ulen + 1, len - ulen - 1);
    size_t used = ulen + 1 + clen + 1;
    if (used > len || clen >= IDS_ORG_MAX)
        return false;
    strcpy(out->unit, val);
    strcpy(out->community, val + ulen + 1);
    out->state = used < len && val[used] == ROUTE_CLOSED ? ROUTE_CLOSED : ROUTE_OPEN;
    for (used++; used < len && out->n_former < ROUTE_FORMER_MAX;) {
        size_t flen = strnlen(val + used, len - used);
        if (flen == len - used || flen >= IDS_ORG_MAX)
            return false;
        strcpy(out->former[out->n_former++], val + used);
        used += flen + 1;
    }
    return true;
}

static size_t route_encode(const struct route *r, char *val)
{
    size_t n = (size_t)sprintf(val, "%s", r->unit) + 1;
    n += (size_t)sprintf(val + n, "%s", r->community) + 1;
    val[n++] = (char)r->state;
    for (size_t i = 0; i < r->n_former; i++)
        n += (size_t)sprintf(val + n, "%s", r->former[i]) + 1;
    return n;
}

static bool was_side(const struct route *r, const char *org)
{
    for (size_t i = 0; i < r->n_former; i++)
        if (strcmp(r->former[i], org) == 0)
            return true;
    return false;
}

static void remember_side(struct route *r, const char *org)
{
    if (!org[0] || was_side(r, org))
        return;
    size_t n = r->n_former < ROUTE_FORMER_MAX ? r->n_former : ROUTE_FORMER_MAX - 1;
    memmove(r->former[1], r->former[0], n * sizeof(r->former[0]));
    snprintf(r->former[0], IDS_ORG_MAX, "%s", org);
    r->n_former = n + 1;
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
    bool ok = route_decode(val, len, out);
    free(val);
    return ok;
}

static void index_key(struct skey *k, const char *community, const char *unit, const char *member)
{
    skey_init(k);
    skey_str(k, community);
    skey_str(k, unit);
    skey_str(k, member);
}

static void route_put(struct route_overlay *ov, struct eventlog_txn *txn, const char *member,
                      const struct route *old, const struct route *r)
{
    struct route *copy = xmemdup(r, sizeof(*r));
    free(strmap_put(ov->routes, member, copy));
    char val[(ROUTE_FORMER_MAX + 2) * IDS_ORG_MAX + 1];
    size_t len = route_encode(r, val);
    struct skey k;
    skey_init(&k);
    skey_str(&k, member);
    struct store_batch *batch = eventlog_txn_batch(txn);
    store_batch_put(batch, CF_ROUTES, &k, val, len);
    if (old && old->state == ROUTE_OPEN) {
        index_key(&k, old->community, old->unit, member);
        store_batch_delete(batch, CF_BY_COMMUNITY, &k);
    }
    if (r->state == ROUTE_OPEN) {
        index_key(&k, r->community, r->unit, member);
        store_batch_put(batch, CF_BY_COMMUNITY, &k, "", 0);
    }
}

static void recipients_add(struct recipients *out, const char *org)
{
    for (size_t i = 0; i < out->n; i++)
        if (strcmp(out->org[i], org) == 0)
            return;
    if (out->n < ROUTING_RECIPIENTS_MAX)
        snprintf(out->org[out->n++], IDS_ORG_MAX, "%s", org);
}

/* ---------------------------------------------------------------- member events */

static int route_introduction(struct broker *b, struct route_overlay *ov, struct eventlog_txn *txn,
                              const struct event *ev, struct recipients *out)
{
    struct route r;
    Dualsync__Introduction *intro = wire_unpack_introduction(ev->body, ev->body_len);
    if (!intro)
        return DS_EINVAL;
    const struct org_entry *c = directory_find(b, intro->community);
    int rc = DS_OK;
    bool routed = route_lookup(b, ov, ev->member, &r);
    bool open = routed && r.state == ROUTE_OPEN;
    bool mine = routed && (!r.unit[0] || strcmp(r.unit, ev->origin) == 0);
    if (!c || c->kind != ORG_COMMUNITY) {
        rc = DS_EROUTE; /* the directory may not have it yet */
    } else if (open && mine && strcmp(r.community, intro->community) == 0) {
        recipients_add(out, r.community); /* the same letter again: harmless */
    } else if (!routed || (!open && mine)) {
        struct route fresh = routed ? r : (struct route){.state = ROUTE_OPEN};
        fresh.state = ROUTE_OPEN;
        snprintf(fresh.unit, sizeof(fresh.unit), "%s", ev->origin);
        snprintf(fresh.community, sizeof(fresh.community), "%s", intro->community);
        route_put(ov, txn, ev->member, routed ? &r : NULL, &fresh);
        recipients_add(out, fresh.community);
    } else {
        /* Remembered, so that the author's later letters about the member are refused
         * too, instead of waiting for a route that will not come. */
        struct route known = r;
        remember_side(&known, ev->origin);
        route_put(ov, txn, ev->member, &r, &known);
        out->refused = "the member is registered by another unit or with another community";
    }
    wire_msg_free(intro);
    return rc;
}

static bool closes_registration(uint32_t type)
{
    return type == T(MOVE_OUT) || type == T(REGISTRATION_CLOSE) || type == T(UNIT_RELEASE);
}

static int route_member_event(struct broker *b, struct route_overlay *ov, struct eventlog_txn *txn,
                              const struct event *ev, struct recipients *out)
{
    struct route r;
    if (ev->type == T(INTRODUCTION))
        return route_introduction(b, ov, txn, ev, out);
    if (!route_lookup(b, ov, ev->member, &r))
        return DS_EROUTE;
    bool from_unit = strcmp(ev->origin, r.unit) == 0;
    bool from_community = strcmp(ev->origin, r.community) == 0;
    if (!from_unit && !from_community && !was_side(&r, ev->origin))
        return DS_EROUTE; /* not a side yet: its introduction may still be on its way */
    if (r.state != ROUTE_OPEN || (!from_unit && !from_community)) {
        out->refused = "no open registration of this member with your org";
        return DS_OK;
    }
    recipients_add(out, from_unit ? r.community : r.unit);
    if (closes_registration(ev->type)) {
        struct route closed = r;
        closed.state = ROUTE_CLOSED;
        remember_side(&closed, r.community);
        if (ev->type == T(UNIT_RELEASE)) {
            remember_side(&closed, r.unit);
            closed.unit[0] = '\0'; /* any unit may introduce the member now */
        }
        route_put(ov, txn, ev->member, &r, &closed);
    }
    return DS_OK;
}

/* ---------------------------------------------------------------- org-level events */

static void route_addressed(struct broker *b, const struct rule *r, const struct event *ev,
                            struct recipients *out)
{
    for (size_t i = 0; i < ev->msg->n_to; i++) {
        const struct org_entry *o = directory_find(b, ev->msg->to[i]);
        if (!o || o->kind == ORG_STREET || (r->to_kind != ORG_NONE && o->kind != r->to_kind)) {
            out->n = 0;
            out->refused = "an addressee is not in the street's directory";
            return;
        }
        recipients_add(out, o->org);
    }
}

/* The units with at least one open registration in community. */
static int route_member_units(struct broker *b, const char *community, struct recipients *out)
{
    struct skey prefix;
    skey_init(&prefix);
    skey_str(&prefix, community);
    struct store_iter *it = store_iter_new(eventlog_store(b->log), CF_BY_COMMUNITY, &prefix, NULL);
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t klen;
        const uint8_t *k = store_iter_key(it, &klen);
        const char *unit = (const char *)k + prefix.n;
        if (strnlen(unit, klen - prefix.n) < klen - prefix.n && ids_org_kind(unit) == ORG_UNIT)
            recipients_add(out, unit);
    }
    int rc = store_iter_status(it);
    store_iter_destroy(&it);
    return rc;
}

int routing_recipients(struct broker *b, struct route_overlay *ov, struct eventlog_txn *txn,
                       const struct event *ev, struct recipients *out)
{
    out->n = 0;
    out->refused = NULL;
    if (ev->member[0])
        return route_member_event(b, ov, txn, ev, out);
    const struct rule *r = rules_find(ev->type);
    if (!r)
        return DS_OK; /* unknown org-level types are kept, not forwarded */
    switch (r->route) {
    case ROUTE_TO:
        route_addressed(b, r, ev, out);
        return DS_OK;
    case ROUTE_MEMBER_UNITS:
        return route_member_units(b, ev->origin, out);
    default:
        return DS_OK;
    }
}

/* Brokers from before registrations could close have routes but no by_community index:
 * build it once from the route table. */
int routing_upgrade(struct broker *b)
{
    uint64_t done = 0;
    struct eventlog *log = b->log;
    int rc = eventlog_meta_u64(log, "route_index", 0, &done);
    if (rc != DS_OK || done)
        return rc;
    struct skey prefix, k;
    skey_init(&prefix);
    struct eventlog_txn *txn = eventlog_begin(log);
    struct store_iter *it = store_iter_new(eventlog_store(log), CF_ROUTES, &prefix, NULL);
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t klen, vlen;
        const uint8_t *key = store_iter_key(it, &klen);
        const char *val = (const char *)store_iter_value(it, &vlen);
        struct route r;
        if (key[klen - 1] != 0 || !route_decode(val, vlen, &r) || r.state != ROUTE_OPEN)
            continue;
        index_key(&k, r.community, r.unit, (const char *)key);
        store_batch_put(eventlog_txn_batch(txn), CF_BY_COMMUNITY, &k, "", 0);
    }
    rc = store_iter_status(it);
    store_iter_destroy(&it);
    eventlog_txn_put_meta_u64(txn, "route_index", 1);
    if (rc == DS_OK)
        rc = eventlog_commit(&txn);
    eventlog_abort(&txn);
    return rc;
}
