/* routing: the broker decides who receives an event; a node cannot address anyone the
 * broker would not. Member events follow the route table (routes cf: member -> unit "\0"
 * community "\0" state), written by the registration letters:
 *   - an introduction opens a registration: the unit owns the member, the community is
 *     the residence; the same unit may re-introduce (harmless) to the same community;
 *   - the unit's move-out or the community's return/revoke closes it: the community gets
 *     that last letter and nothing more; the unit may then introduce the member to a new
 *     community;
 *   - the unit's release closes it and frees the member for another unit; when the
 *     release arrives after letters of the member that are later than it by hlc, those
 *     are routed again in hlc order ("a late release", below).
 * Whose member it is (docs/WORKFLOWS.md): until the community's report-in names an
 * introduction, another unit's introduction of the member is a claim, delivered to the
 * claim's community, not a refusal; a claim's unit writes to its claim's community; the
 * community's letters other than the report-in and a return wait for that report-in
 * (refused before it: no community letter goes to a unit it has not confirmed); the
 * report-in naming a claim's letter makes the claim the registration, and every other
 * claimant a former side. common/fold.c folds by the same rules.
 * Every other member event must come from one of the two sides of an open registration
 * and goes to the other. A refused introduction (another unit's member, another
 * community while open) or a late letter of a former side (written concurrently with the
 * close) is stored — it is signed, and the author's sequence must go on — but delivered
 * to nobody, and the author is told (ERROR_REFUSED). A letter about a member the broker
 * has no route for, or from an org that never was a side of it, waits (ERROR_ROUTE):
 * after a broker rebuild the introduction that explains it may still be on its way.
 * A member-erase from the member's unit goes to every side that ever held the member
 * (route_erase), and the broker drops its own copies of the personal parts (protocol.c).
 * Org-level events go to the orgs named in the envelope (checked against the directory),
 * to the units with members in the author community (service needs), or nowhere.
 * by_community (community, unit, member) indexes the open registrations. */
#include "routing.h"

#include "broker.h"
#include "directory.h"

#include "btxn.h"

#include "err.h"
#include "fields.h"
#include "fold.h"
#include "log.h"
#include "rules.h"
#include "strcopy.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

#define T(x) DUALSYNC__EVENT_TYPE__EVENT_##x

enum route_state { ROUTE_OPEN = 0, ROUTE_CLOSED = 1 };

#define ROUTE_FORMER_MAX 8
#define ROUTE_CLAIMS_MAX FOLD_CLAIMS_MAX
#define ROUTE_V2 0x80 /* state byte flag: confirmed, introduction and claims follow */

struct claim {
    char unit[IDS_ORG_MAX];
    char community[IDS_ORG_MAX];
    char intro[IDS_EVENT_ID_MAX];
};

/* The registration of one member, and the sides of its earlier registrations (most
 * recent first): their late letters are stored and not delivered, while a letter from an
 * org that was never a side waits (ERROR_ROUTE) — after a broker rebuild the
 * introduction that makes it a side may still be on its way. */
struct route {
    char unit[IDS_ORG_MAX];
    char community[IDS_ORG_MAX];
    enum route_state state;
    bool confirmed;               /* a report-in named this registration's letter */
    char intro[IDS_EVENT_ID_MAX]; /* that letter ("" in routes from before claims) */
    size_t n_claims;
    struct claim claims[ROUTE_CLAIMS_MAX];
    size_t n_former;
    char former[ROUTE_FORMER_MAX][IDS_ORG_MAX];
};

#define ROUTE_VALUE_MAX                                                                            \
    ((ROUTE_FORMER_MAX + 2) * IDS_ORG_MAX + IDS_EVENT_ID_MAX + 4 +                                 \
     ROUTE_CLAIMS_MAX * (2 * IDS_ORG_MAX + IDS_EVENT_ID_MAX))

struct route_overlay {
    struct strmap *routes; /* member -> struct route * */
    long claims_moved;     /* members with claims, after the batch less before it */
};

struct route_overlay *route_overlay_new(void)
{
    struct route_overlay *ov = xcalloc(1, sizeof(*ov));
    ov->routes = strmap_new();
    return ov;
}

long route_overlay_claims_moved(const struct route_overlay *ov)
{
    return ov->claims_moved;
}

void route_overlay_destroy(struct route_overlay **op)
{
    if (!*op)
        return;
    strmap_destroy(&(*op)->routes, free);
    free(*op);
    *op = NULL;
}

/* Reads one NUL-terminated string of at most max-1 bytes at *used into out. */
static bool take_str(const char *val, size_t len, size_t *used, char *out, size_t max)
{
    size_t n = strnlen(val + *used, len - *used);
    if (*used >= len || n == len - *used || n >= max)
        return false;
    memcpy(out, val + *used, n + 1);
    *used += n + 1;
    return true;
}

/* Value: unit "\0" community "\0" state [confirmed intro "\0" n_claims (unit "\0"
 * community "\0" intro "\0")...] [former "\0"]...; the bracketed part only when the state
 * byte has ROUTE_V2. Routes written before registrations could close have no state byte
 * and are open; routes from before claims are taken as confirmed (their unit was the only
 * one the broker let in). */
static bool route_decode(const char *val, size_t len, struct route *out)
{
    memset(out, 0, sizeof(*out));
    size_t used = 0;
    if (!take_str(val, len, &used, out->unit, IDS_ORG_MAX) ||
        !take_str(val, len, &used, out->community, IDS_ORG_MAX))
        return false;
    uint8_t state = used < len ? (uint8_t)val[used++] : ROUTE_OPEN;
    out->state = (state & ~ROUTE_V2) == ROUTE_CLOSED ? ROUTE_CLOSED : ROUTE_OPEN;
    out->confirmed = true;
    if (state & ROUTE_V2) {
        if (used + 1 > len)
            return false;
        out->confirmed = val[used++] != 0;
        if (!take_str(val, len, &used, out->intro, IDS_EVENT_ID_MAX) || used >= len)
            return false;
        out->n_claims = (uint8_t)val[used++];
        if (out->n_claims > ROUTE_CLAIMS_MAX)
            return false;
        for (size_t i = 0; i < out->n_claims; i++) {
            struct claim *c = &out->claims[i];
            if (!take_str(val, len, &used, c->unit, IDS_ORG_MAX) ||
                !take_str(val, len, &used, c->community, IDS_ORG_MAX) ||
                !take_str(val, len, &used, c->intro, IDS_EVENT_ID_MAX))
                return false;
        }
    }
    while (used < len && out->n_former < ROUTE_FORMER_MAX)
        if (!take_str(val, len, &used, out->former[out->n_former++], IDS_ORG_MAX))
            return false;
    return true;
}

/* Appends s and its NUL at val + n; the route's fields are terminated within their arrays,
 * and ROUTE_VALUE_MAX holds them all. Returns the new length. */
static size_t put_str(char *val, size_t n, const char *s)
{
    size_t len = strlen(s) + 1;
    memcpy(val + n, s, len);
    return n + len;
}

static size_t route_encode(const struct route *r, char *val)
{
    size_t n = put_str(val, 0, r->unit);
    n = put_str(val, n, r->community);
    val[n++] = (char)(r->state | ROUTE_V2);
    val[n++] = (char)r->confirmed;
    n = put_str(val, n, r->intro);
    val[n++] = (char)r->n_claims;
    for (size_t i = 0; i < r->n_claims; i++) {
        n = put_str(val, n, r->claims[i].unit);
        n = put_str(val, n, r->claims[i].community);
        n = put_str(val, n, r->claims[i].intro);
    }
    for (size_t i = 0; i < r->n_former; i++)
        n = put_str(val, n, r->former[i]);
    return n;
}

static long claim_where(const struct route *r, const char *unit, const char *intro)
{
    for (size_t i = 0; i < r->n_claims; i++)
        if ((unit && strcmp(r->claims[i].unit, unit) == 0) ||
            (intro && strcmp(r->claims[i].intro, intro) == 0))
            return (long)i;
    return -1;
}

static void drop_claim(struct route *r, size_t i)
{
    memmove(&r->claims[i], &r->claims[i + 1], (r->n_claims - i - 1) * sizeof(r->claims[0]));
    r->n_claims--;
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
    strcopy(r->former[0], IDS_ORG_MAX, org);
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
    if (store_get(eventlog_store(broker_log(b)), CF_ROUTES, &k, &val, &len) != DS_OK)
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
    ov->claims_moved += (r->n_claims > 0) - (old && old->n_claims > 0);
    char val[ROUTE_VALUE_MAX];
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
        strcopy(out->org[out->n++], IDS_ORG_MAX, org);
}

/* ---------------------------------------------------------------- member events */

/* A fresh registration of ev's unit with community: what an introduction opens when the
 * member is free (never routed, released, or closed by this unit). */
static struct route fresh_route(const struct route *old, const struct event *ev,
                                const char *community)
{
    struct route fresh = old ? *old : (struct route){0};
    fresh.state = ROUTE_OPEN;
    fresh.confirmed = false;
    fresh.n_claims = 0;
    strcopy(fresh.unit, sizeof(fresh.unit), ev->origin);
    strcopy(fresh.community, sizeof(fresh.community), community);
    ids_event_id(fresh.intro, sizeof(fresh.intro), ev->origin, ev->seq);
    return fresh;
}

/* Another unit's introduction while no report-in has confirmed the registration: a claim
 * (a new one, or the same unit's claim again with the same community). False when there
 * is no room or the unit's claim is with another community. */
static bool add_claim(struct route *r, const struct event *ev, const char *community)
{
    long i = claim_where(r, ev->origin, NULL);
    if (i >= 0)
        return strcmp(r->claims[i].community, community) == 0;
    if (r->n_claims >= ROUTE_CLAIMS_MAX)
        return false;
    struct claim *c = &r->claims[r->n_claims++];
    strcopy(c->unit, sizeof(c->unit), ev->origin);
    strcopy(c->community, sizeof(c->community), community);
    ids_event_id(c->intro, sizeof(c->intro), ev->origin, ev->seq);
    return true;
}

static bool is_foreign(struct broker *b, const char *org)
{
    const struct org_entry *e = directory_find(b, org);
    return e && e->street[0];
}

/* Whose member it is across streets is decided once, by the broker of the community's
 * street (links.c carries its decision back as claim notices). Another street's broker
 * knows of the member only the letters that passed through it, so where both the
 * introduction's community and the registration's are another street's, a unit's
 * introduction is passed on as a claim, not refused on what this broker last heard. */
static bool decided_elsewhere(struct broker *b, const struct route *r, const struct org_entry *c)
{
    return c->street[0] && (!r->community[0] || is_foreign(b, r->community));
}

static void note_lost(struct eventlog_txn *txn, const char *member, const char *unit,
                      const char *intro, const char *winner);

/* A relayed introduction this street, the community's, refused: the member is winner's.
 * Noted as a lost claim, so that the author's street is told (it was acked there). */
static void note_lost_letter(struct eventlog_txn *txn, const struct event *ev, const char *winner)
{
    char id[IDS_EVENT_ID_MAX];
    ids_event_id(id, sizeof(id), ev->origin, ev->seq);
    note_lost(txn, ev->member, ev->origin, id, winner);
}

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
    struct route next = r;
    if (!c || c->kind != ORG_COMMUNITY) {
        rc = DS_EROUTE; /* the directory may not have it yet */
    } else if (c->state == DUALSYNC__ORG_STATE__ORG_STATE_REMOVED) {
        out->refused = "the community was removed from the street's directory";
    } else if (open && mine && strcmp(r.community, intro->community) == 0) {
        recipients_add(out, r.community); /* the same letter again: harmless */
    } else if (!routed || (!open && mine)) {
        next = fresh_route(routed ? &r : NULL, ev, intro->community);
        route_put(ov, txn, ev->member, routed ? &r : NULL, &next);
        recipients_add(out, next.community);
    } else if (!mine && (!r.confirmed || decided_elsewhere(b, &r, c)) &&
               add_claim(&next, ev, intro->community)) {
        route_put(ov, txn, ev->member, &r, &next);
        recipients_add(out, intro->community);
    } else {
        /* Remembered, so that the author's later letters about the member are refused
         * too, instead of waiting for a route that will not come. */
        remember_side(&next, ev->origin);
        route_put(ov, txn, ev->member, &r, &next);
        out->refused = r.confirmed && !mine
                           ? "the member is registered by another unit (it reported in with "
                             "that unit's introduction)"
                           : "the member is registered by another unit or with another community";
        if (r.confirmed && !mine && !c->street[0] && is_foreign(b, ev->origin))
            note_lost_letter(txn, ev, r.unit); /* its street hears it (links.c) */
    }
    wire_msg_free(intro);
    return rc;
}

static bool closes_registration(uint32_t type)
{
    return type == T(MOVE_OUT) || type == T(REGISTRATION_CLOSE) || type == T(UNIT_RELEASE);
}

/* The introduction a report-in or a return names; "" when none (or another type). */
static void named_intro(const struct event *ev, char *out, size_t size)
{
    out[0] = '\0';
    if (ev->type == T(REPORT_IN)) {
        Dualsync__ReportIn *b = wire_unpack_report_in(ev->body, ev->body_len);
        if (b)
            snprintf(out, size, "%s", b->intro);
        wire_msg_free(b);
    } else if (ev->type == T(REGISTRATION_CLOSE)) {
        Dualsync__RegistrationClose *b = (Dualsync__RegistrationClose *)wire_unpack_body(
            &dualsync__registration_close__descriptor, ev->body, ev->body_len);
        if (b)
            snprintf(out, size, "%s", b->intro);
        wire_msg_free(b);
    }
}

/* unit's introduction intro of member lost to winner's (a report-in named that one). */
static void note_lost(struct eventlog_txn *txn, const char *member, const char *unit,
                      const char *intro, const char *winner)
{
    char name[IDS_EVENT_ID_MAX + 8], val[IDS_MEMBER_MAX + IDS_ORG_MAX + 2];
    if (!unit[0] || !intro[0])
        return;
    snprintf(name, sizeof(name), "lost/%s", intro);
    size_t n = (size_t)snprintf(val, sizeof(val), "%s%c%s", member, '\0', winner);
    eventlog_txn_put_meta(txn, name, val, n + 1);
}

/* A letter of a claim's unit, or a community's report-in or return naming a claim's
 * letter. True when ev was one (routed, or refused, into out). */
static bool route_claim_event(struct route_overlay *ov, struct eventlog_txn *txn,
                              const struct event *ev, const struct route *r, struct recipients *out)
{
    char intro[IDS_EVENT_ID_MAX];
    struct route next = *r;
    long i = claim_where(r, ev->origin, NULL);
    if (i >= 0) { /* the claimant writes to its claim's community */
        recipients_add(out, r->claims[i].community);
        if (ev->type == T(MOVE_OUT) || ev->type == T(UNIT_RELEASE)) {
            remember_side(&next, ev->origin);
            drop_claim(&next, (size_t)i);
            route_put(ov, txn, ev->member, r, &next);
        }
        return true;
    }
    named_intro(ev, intro, sizeof(intro));
    i = intro[0] ? claim_where(r, NULL, intro) : -1;
    if (i < 0 || strcmp(r->claims[i].community, ev->origin) != 0)
        return false;
    const struct claim won = r->claims[i];
    recipients_add(out, won.unit);
    drop_claim(&next, (size_t)i);
    if (ev->type == T(REGISTRATION_CLOSE)) { /* returned: both ends of the claim are done */
        remember_side(&next, won.unit);
        remember_side(&next, won.community);
    } else { /* a report-in: the member brought this claim's letter */
        if (r->unit[0] && r->state == ROUTE_OPEN)
            note_lost(txn, ev->member, r->unit, r->intro, won.unit);
        for (size_t k = 0; k < next.n_claims; k++)
            note_lost(txn, ev->member, next.claims[k].unit, next.claims[k].intro, won.unit);
        if (r->unit[0])
            remember_side(&next, r->unit);
        if (strcmp(r->community, won.community) != 0 && r->community[0])
            remember_side(&next, r->community);
        for (size_t k = 0; k < next.n_claims; k++)
            remember_side(&next, next.claims[k].unit);
        next.n_claims = 0;
        snprintf(next.unit, sizeof(next.unit), "%s", won.unit);
        snprintf(next.community, sizeof(next.community), "%s", won.community);
        snprintf(next.intro, sizeof(next.intro), "%s", won.intro);
        next.state = ROUTE_OPEN;
        next.confirmed = true;
    }
    route_put(ov, txn, ev->member, r, &next);
    return true;
}

/* The community of an open registration: its report-in and return must name the
 * registration's letter if they name one; its other letters wait for the report-in. */
static const char *community_refusal(const struct route *r, const struct event *ev)
{
    char intro[IDS_EVENT_ID_MAX];
    if (ev->type != T(REPORT_IN) && ev->type != T(REGISTRATION_CLOSE))
        return r->confirmed ? NULL
                            : "the member has not reported in: the community confirms the unit "
                              "by the report-in first";
    named_intro(ev, intro, sizeof(intro));
    if (intro[0] && r->intro[0] && strcmp(intro, r->intro) != 0)
        return "the letter names an introduction that is not this member's registration";
    return NULL;
}

/* A report-in or return naming an introduction the broker has not seen (neither the
 * registration's nor a claim's): after a broker rebuild that letter may still be on its
 * way, so it waits (ERROR_ROUTE) rather than be refused for good. */
static bool names_unseen_intro(const struct route *r, const struct event *ev)
{
    char intro[IDS_EVENT_ID_MAX];
    named_intro(ev, intro, sizeof(intro));
    return intro[0] && r->intro[0] && strcmp(intro, r->intro) != 0 &&
           claim_where(r, NULL, intro) < 0;
}

/* An erasure comes from the registration's unit (open, or closed by a move or a return;
 * not after a release: no unit then), and not while another unit's claim waits for the
 * report-in. common/fold.c apply_erase holds the same rule. It goes to every side that
 * ever held the member's letters: the community and the former sides (at most
 * ROUTE_FORMER_MAX, the most recent). */
static int route_erase(const struct route *r, const struct event *ev, struct recipients *out)
{
    if (!r->unit[0] || strcmp(r->unit, ev->origin) != 0) {
        out->refused = "only the member's unit erases the member's personal data";
        return DS_OK;
    }
    if (!r->confirmed && r->n_claims) {
        out->refused = "another unit claims the member: the community's report-in decides "
                       "whose member it is before an erasure";
        return DS_OK;
    }
    const char *sides[2 + ROUTE_FORMER_MAX]; /* no claims: confirmed, or none */
    size_t n = 0;
    sides[n++] = r->unit;
    sides[n++] = r->community;
    for (size_t k = 0; k < r->n_former; k++)
        sides[n++] = r->former[k];
    for (size_t k = 0; k < n; k++)
        if (sides[k][0] && strcmp(sides[k], ev->origin) != 0)
            recipients_add(out, sides[k]);
    return DS_OK;
}

static int route_member_event(struct broker *b, struct route_overlay *ov, struct eventlog_txn *txn,
                              const struct event *ev, struct recipients *out, bool *freed)
{
    struct route r;
    if (ev->type == T(INTRODUCTION))
        return route_introduction(b, ov, txn, ev, out);
    if (!route_lookup(b, ov, ev->member, &r))
        return DS_EROUTE;
    if (ev->type == T(MEMBER_ERASE))
        return route_erase(&r, ev, out);
    if (route_claim_event(ov, txn, ev, &r, out))
        return DS_OK;
    for (size_t k = 0; k < r.n_claims; k++)
        if (strcmp(r.claims[k].community, ev->origin) == 0 &&
            strcmp(r.community, ev->origin) != 0) {
            out->refused = "the member has not reported in: the community confirms the unit by "
                           "the report-in first";
            return DS_OK;
        }
    bool from_unit = strcmp(ev->origin, r.unit) == 0;
    bool from_community = strcmp(ev->origin, r.community) == 0;
    if (!from_unit && !from_community && !was_side(&r, ev->origin))
        return DS_EROUTE; /* not a side yet: its introduction may still be on its way */
    if (r.state != ROUTE_OPEN || (!from_unit && !from_community)) {
        out->refused = "no open registration of this member with your org";
        return DS_OK;
    }
    if (from_community && names_unseen_intro(&r, ev))
        return DS_EROUTE;
    if (from_community && (out->refused = community_refusal(&r, ev)) != NULL)
        return DS_OK;
    recipients_add(out, from_unit ? r.community : r.unit);
    struct route next = r;
    if (ev->type == T(REPORT_IN) && !r.confirmed) {
        next.confirmed = true; /* the registration's own letter: the claims lapse */
        for (size_t k = 0; k < r.n_claims; k++) {
            note_lost(txn, ev->member, r.claims[k].unit, r.claims[k].intro, r.unit);
            remember_side(&next, r.claims[k].unit);
        }
        next.n_claims = 0;
        route_put(ov, txn, ev->member, &r, &next);
    }
    if (closes_registration(ev->type)) {
        next.state = ROUTE_CLOSED;
        remember_side(&next, r.community);
        if (ev->type == T(UNIT_RELEASE)) {
            remember_side(&next, r.unit);
            next.unit[0] = '\0'; /* any unit may introduce the member now */
            *freed = true;
        }
        route_put(ov, txn, ev->member, &r, &next);
    }
    return DS_OK;
}

/* ---------------------------------------------------------------- org-level events */

/* ---------------------------------------------------------------- relationships
 * An org-level letter reaches only an org it has business with (issue 11): a unit writes
 * to a community where it has an open registration (opinion requests, claims, offers); a
 * community answers what the addressee sent it (replies, decisions, fulfilments). */

struct open_in {
    const char *community, *unit;
    bool found;
};

static bool open_in_overlay(const char *member, void *value, void *arg)
{
    (void)member;
    const struct route *r = value;
    struct open_in *q = arg;
    q->found = q->found || (r->state == ROUTE_OPEN && strcmp(r->community, q->community) == 0 &&
                            strcmp(r->unit, q->unit) == 0);
    return !q->found;
}

/* Whether unit has an open registration in community: committed (by_community) or
 * written earlier in this transaction (the overlay). */
static bool registered_in(struct broker *b, struct route_overlay *ov, const char *community,
                          const char *unit)
{
    struct open_in q = {community, unit, false};
    strmap_each(ov->routes, open_in_overlay, &q);
    if (q.found)
        return true;
    struct skey prefix;
    skey_init(&prefix);
    skey_str(&prefix, community);
    skey_str(&prefix, unit);
    struct store_iter *it =
        store_iter_new(eventlog_store(broker_log(b)), CF_BY_COMMUNITY, &prefix, NULL);
    q.found = store_iter_valid(it);
    store_iter_destroy(&it);
    return q.found;
}

/* The stored event an id names, if it is from `from` and was addressed to `to`: 1 yes,
 * 0 no, -1 not stored (yet: after a rebuild it may be on its way). */
static int answers(struct broker *b, const char *id, const char *from, const char *to)
{
    char origin[IDS_ORG_MAX];
    uint64_t seq;
    uint8_t *raw = NULL;
    size_t len = 0;
    struct event ev;
    if (!ids_event_id_parse(id, origin, &seq) || strcmp(origin, from) != 0)
        return 0;
    if (eventlog_get_raw(broker_log(b), origin, seq, &raw, &len) != DS_OK)
        return -1;
    int yes = 0;
    if (wire_event_open(raw, len, false, &ev) == DS_OK) {
        for (size_t i = 0; i < ev.msg->n_to && !yes; i++)
            yes = strcmp(ev.msg->to[i], to) == 0;
        if (ev.type == T(SERVICE_NEED)) /* needs go to the units by registration */
            yes = ids_org_kind(to) == ORG_UNIT;
        wire_event_release(&ev);
    }
    free(raw);
    return yes;
}

/* The event id a body names in field (request, need, claim); "" if none. */
static void body_ref(const struct rule *r, const struct event *ev, const char *field, char *out,
                     size_t size)
{
    ProtobufCMessage *m = wire_unpack_body(r->body, ev->body, ev->body_len);
    snprintf(out, size, "%s", m ? fields_get_str(m, field) : "");
    wire_msg_free(m);
}

/* 1 the author has business with addressee, 0 not, -1 not known yet (wait). */
static int related(struct broker *b, struct route_overlay *ov, const struct rule *r,
                   const struct event *ev, const char *addressee)
{
    char ref[IDS_EVENT_ID_MAX];
    switch (ev->type) {
    case T(OPINION_REQUEST):
    case T(SERVICE_CLAIM):
    case T(RESOURCE_OFFER):
        if (ev->type == T(SERVICE_CLAIM)) {
            body_ref(r, ev, "need", ref, sizeof(ref));
            int a = answers(b, ref, addressee, ev->origin);
            if (a <= 0)
                return a;
        }
        return registered_in(b, ov, addressee, ev->origin);
    case T(OPINION_REPLY):
        body_ref(r, ev, "request", ref, sizeof(ref));
        return answers(b, ref, addressee, ev->origin);
    case T(CLAIM_DECISION):
    case T(SERVICE_FULFILLED):
        body_ref(r, ev, "claim", ref, sizeof(ref));
        return answers(b, ref, addressee, ev->origin);
    default:
        return 1; /* the street's letters (joint meetings) */
    }
}

static int route_addressed(struct broker *b, struct route_overlay *ov, const struct rule *r,
                           const struct event *ev, struct recipients *out)
{
    for (size_t i = 0; i < ev->msg->n_to; i++) {
        const struct org_entry *o = directory_find(b, ev->msg->to[i]);
        if (!o || o->kind == ORG_STREET || (r->to_kind != ORG_NONE && o->kind != r->to_kind) ||
            o->state == DUALSYNC__ORG_STATE__ORG_STATE_REMOVED) {
            out->n = 0;
            out->refused = "an addressee is not (or no longer) in the street's directory";
            return DS_OK;
        }
        int rel = related(b, ov, r, ev, o->org);
        if (rel < 0) {
            out->n = 0;
            return DS_EROUTE; /* what it answers may still be on its way */
        }
        if (rel == 0) {
            out->n = 0;
            out->refused = "the letter answers nothing the addressee sent, or the addressee has "
                           "no member registered with the author";
            return DS_OK;
        }
        recipients_add(out, o->org);
    }
    return DS_OK;
}

/* The units with at least one open registration in community. */
static int route_member_units(struct broker *b, const char *community, struct recipients *out)
{
    struct skey prefix;
    skey_init(&prefix);
    skey_str(&prefix, community);
    struct store_iter *it =
        store_iter_new(eventlog_store(broker_log(b)), CF_BY_COMMUNITY, &prefix, NULL);
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

/* ---------------------------------------------------------------- a late release
 * Routes follow arrival order, but a member's letters mean what their hlc order says. A
 * release can arrive after another unit's later introduction of the member: after a
 * broker rebuild (every node publishes its whole log again, org after org) or from a unit
 * that wrote the release offline. That introduction was refused, as the member was still
 * registered, and so were its unit's next letters. When a release frees the member, the
 * member's letters that are later than it by hlc and came before it are routed again, in
 * hlc order, in the same transaction: the introduction opens its registration and reaches
 * its community, and the letters after it follow. A letter some recipient had already
 * been sent is sent again; the recipient counts it as a duplicate. */
struct replay {
    struct btxn *t;
    size_t rerouted;
};

static bool replay_one(const struct event *ev, void *arg)
{
    struct replay *rp = arg;
    struct recipients to = {0};
    bool freed = false; /* a later release is replayed here too: its letters follow it */
    if (route_member_event(rp->t->b, rp->t->routes, rp->t->log, ev, &to, &freed) != DS_OK)
        return true; /* still no route: as when it came */
    for (size_t k = 0; k < to.n; k++)
        btxn_append(rp->t, to.org[k], ev->origin, ev->seq);
    rp->rerouted += to.n > 0;
    return true;
}

static int replay_after_release(struct btxn *t, const struct event *release)
{
    struct replay rp = {t, 0};
    int rc =
        eventlog_txn_member_events_after(t->log, release->member, release->hlc, replay_one, &rp);
    if (rp.rerouted) {
        broker_counters(t->b)->rerouted += rp.rerouted;
        log_info("routing: member=%s released by %s/%llu after %zu later letters came: routed "
                 "again in hlc order",
                 release->member, release->origin, (unsigned long long)release->seq, rp.rerouted);
    }
    return rc;
}

int routing_recipients(struct btxn *t, const struct event *ev, struct recipients *out)
{
    struct broker *b = t->b;
    struct route_overlay *ov = t->routes;
    out->n = 0;
    out->refused = NULL;
    if (ev->member[0]) {
        bool freed = false;
        int rc = route_member_event(b, ov, t->log, ev, out, &freed);
        return rc == DS_OK && freed ? replay_after_release(t, ev) : rc;
    }
    const struct rule *r = rules_find(ev->type);
    if (!r)
        return DS_OK; /* unknown org-level types are kept, not forwarded */
    switch (r->route) {
    case ROUTE_TO:
        return route_addressed(b, ov, r, ev, out);
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
    struct eventlog *log = broker_log(b);
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

/* Calls fn for each decodable route of the table (member id, route), in member order, until
 * fn returns false; the scan's status (an I/O error ends it early). */
static int routes_each(struct broker *b,
                       bool (*fn)(const char *member, const struct route *r, void *arg), void *arg)
{
    struct skey prefix;
    skey_init(&prefix);
    struct store_iter *it = store_iter_new(eventlog_store(broker_log(b)), CF_ROUTES, &prefix, NULL);
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t klen, vlen;
        const uint8_t *key = store_iter_key(it, &klen);
        const char *val = (const char *)store_iter_value(it, &vlen);
        struct route r;
        if (key[klen - 1] == 0 && route_decode(val, vlen, &r) && !fn((const char *)key, &r, arg))
            break;
    }
    int rc = store_iter_status(it);
    store_iter_destroy(&it);
    return rc;
}

static bool count_claimed(const char *member, const struct route *r, void *arg)
{
    (void)member;
    *(size_t *)arg += r->n_claims > 0;
    return true;
}

size_t routing_claims_count(struct broker *b)
{
    size_t n = 0;
    routes_each(b, count_claimed, &n);
    return n;
}

struct claims_walk {
    struct broker *b;
    routing_claim_fn fn;
    void *arg;
};

/* Each side of a conflict this street decides: another street's community's broker tells
 * of the claims on it (links.h), from what it alone knows whole. */
static bool each_claimant(const char *member, const struct route *r, void *arg)
{
    struct claims_walk *w = arg;
    if (!r->n_claims)
        return true;
    if (r->unit[0] && r->intro[0] && r->state == ROUTE_OPEN && !is_foreign(w->b, r->community))
        w->fn(w->arg, member, r->unit, r->intro, r->claims[0].unit);
    for (size_t i = 0; i < r->n_claims; i++)
        if (!is_foreign(w->b, r->claims[i].community))
            w->fn(w->arg, member, r->claims[i].unit, r->claims[i].intro, r->unit[0] ? r->unit : "");
    return true;
}

void routing_lost_each(struct broker *b, routing_claim_fn fn, void *arg)
{
    struct skey prefix;
    skey_init(&prefix);
    skey_bytes(&prefix, "lost/", 5);
    struct store_iter *it = store_iter_new(eventlog_store(broker_log(b)), CF_META, &prefix, NULL);
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t klen, vlen;
        const char *k = (const char *)store_iter_key(it, &klen);
        const char *v = (const char *)store_iter_value(it, &vlen);
        char intro[IDS_EVENT_ID_MAX], origin[IDS_ORG_MAX];
        uint64_t seq = 0;
        size_t mlen = strnlen(v, vlen);
        if (klen < 7 || k[klen - 1] != '\0' || klen - 5 > sizeof(intro) || mlen + 2 > vlen ||
            v[vlen - 1] != '\0')
            continue; /* not ours: skipped, never trusted */
        memcpy(intro, k + 5, klen - 5);
        if (ids_event_id_parse(intro, origin, &seq))
            fn(arg, v, origin, intro, v + mlen + 1);
    }
    store_iter_destroy(&it);
}

void routing_claims_each(struct broker *b, routing_claim_fn fn, void *arg)
{
    struct claims_walk w = {b, fn, arg};
    routes_each(b, each_claimant, &w);
}

static bool claim_json(const char *member, const struct route *r, void *arg)
{
    if (!r->n_claims)
        return true;
    json_t *claims = json_array();
    for (size_t i = 0; i < r->n_claims; i++)
        json_array_append_new(claims,
                              json_pack("{s:s,s:s,s:s}", "unit", r->claims[i].unit, "community",
                                        r->claims[i].community, "intro", r->claims[i].intro));
    json_array_append_new(arg, json_pack("{s:s,s:s,s:s,s:s,s:b,s:o}", "member", member, "unit",
                                         r->unit, "community", r->community, "intro", r->intro,
                                         "open", r->state == ROUTE_OPEN, "claims", claims));
    return true;
}

/* Every member some unit claims while no report-in has confirmed its registration: the
 * street's list of conflicts to watch (WORKFLOWS.md "whose member"). A scan of the route
 * table: for the `claims` command, not for status polls. */
json_t *routing_claims_json(struct broker *b)
{
    json_t *arr = json_array();
    routes_each(b, claim_json, arr);
    return arr;
}

/* ---------------------------------------------------------------- an org leaves */

static bool org_in_route(const struct route *r, const char *org)
{
    if (r->state == ROUTE_OPEN && (strcmp(r->unit, org) == 0 || strcmp(r->community, org) == 0))
        return true;
    for (size_t i = 0; i < r->n_claims; i++)
        if (strcmp(r->claims[i].unit, org) == 0 || strcmp(r->claims[i].community, org) == 0)
            return true;
    return false;
}

/* r without org: its registration closed (a removed unit's member is free for another
 * unit, as after a release; a removed community's member waits for its unit's next
 * introduction, as after a move-out), its claims dropped. */
static void route_without(const struct route *r, const char *org, struct route *next)
{
    *next = *r;
    if (r->state == ROUTE_OPEN && (strcmp(r->unit, org) == 0 || strcmp(r->community, org) == 0)) {
        next->state = ROUTE_CLOSED;
        remember_side(next, r->community);
        remember_side(next, r->unit);
        if (strcmp(r->unit, org) == 0)
            next->unit[0] = '\0';
    }
    next->n_claims = 0;
    for (size_t i = 0; i < r->n_claims; i++)
        if (strcmp(r->claims[i].unit, org) != 0 && strcmp(r->claims[i].community, org) != 0)
            next->claims[next->n_claims++] = r->claims[i];
}

struct org_members {
    struct route_overlay *ov;
    struct eventlog_txn *txn;
    const char *org;
    bool close;
    json_t *out;
};

static bool org_member(const char *member, const struct route *r, void *arg)
{
    struct org_members *q = arg;
    if (!org_in_route(r, q->org))
        return true;
    json_array_append_new(q->out, json_string(member));
    if (q->close) {
        struct route next;
        route_without(r, q->org, &next);
        route_put(q->ov, q->txn, member, r, &next);
    }
    return true;
}

int routing_org_members(struct btxn *t, const char *org, bool close, json_t *members_out)
{
    struct org_members q = {t->routes, t->log, org, close, members_out};
    return routes_each(t->b, org_member, &q);
}

/* The community's street decided that unit's introduction lost to winner: the registration
 * becomes winner's, confirmed (winner's own claim here gives its letter), or unit's claim
 * is dropped; either way unit is a former side and the loss noted for it to be told. */
int routing_claim_lost(struct btxn *t, const char *member, const char *unit, const char *intro,
                       const char *winner)
{
    struct route r;
    if (route_lookup(t->b, t->routes, member, &r)) {
        struct route next = r;
        long i = claim_where(&r, unit, intro);
        if (r.state == ROUTE_OPEN && strcmp(r.unit, unit) == 0 && strcmp(r.intro, intro) == 0) {
            long w = claim_where(&r, winner, NULL);
            snprintf(next.intro, sizeof(next.intro), "%s", w >= 0 ? r.claims[w].intro : "");
            if (w >= 0)
                drop_claim(&next, (size_t)w);
            snprintf(next.unit, sizeof(next.unit), "%s", winner);
            next.state = ROUTE_OPEN;
            next.confirmed = true;
            remember_side(&next, unit);
            route_put(t->routes, t->log, member, &r, &next);
        } else if (i >= 0) {
            drop_claim(&next, (size_t)i);
            remember_side(&next, unit);
            route_put(t->routes, t->log, member, &r, &next);
        }
    }
    note_lost(t->log, member, unit, intro, winner);
    return DS_OK;
}

bool routing_lost_known(struct broker *b, const char *intro)
{
    char name[IDS_EVENT_ID_MAX + 8];
    void *val = NULL;
    size_t len = 0;
    snprintf(name, sizeof(name), "lost/%s", intro);
    if (eventlog_meta_get(broker_log(b), name, &val, &len) != DS_OK)
        return false;
    free(val);
    return true;
}
