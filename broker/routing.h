/* routing: who receives an event (the member routing table: member -> unit, residence
 * community, claims, former sides; org-level relationships), decided inside a broker
 * transaction. */
#ifndef DUALSYNC_BROKER_ROUTING_H
#define DUALSYNC_BROKER_ROUTING_H

#include "ids.h"
#include "rules.h"
#include "wire.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct broker;

/* routing.c: the recipients of an event, and route updates, inside a transaction.
 * DS_OK with out filled (out->refused set when the event is stored but delivered to
 * nobody, with the reason); DS_EROUTE when the broker cannot route it yet (unknown member
 * or community: the author retries). */
#define ROUTING_RECIPIENTS_MAX (RULES_TO_MAX + 2)
struct recipients {
    size_t n;
    char org[ROUTING_RECIPIENTS_MAX][IDS_ORG_MAX];
    const char *refused;
};
struct btxn;
struct route_overlay;
/* The routes a transaction changed, read before the store's (btxn.c owns one per btxn). */
struct route_overlay *route_overlay_new(void);
void route_overlay_destroy(struct route_overlay **op);
/* How many more members have claims once the batch's routes are stored (less when claims
 * were decided): the street's count moves by it at the commit. */
long route_overlay_claims_moved(const struct route_overlay *ov);
/* Who receives ev, into out (out->refused: stored, delivered to nobody). DS_OK; DS_EROUTE
 * (or DS_EINVAL) when it cannot be routed yet; DS_EIO when a release's replay (routing.c,
 * "a late release") could not read the member's letters: the batch must be dropped. */
int routing_recipients(struct btxn *t, const struct event *ev, struct recipients *out);
/* The members with an open registration (or a claim) of org, as a JSON array of ids; with
 * close, in t, their registrations closed and the claims dropped, as a release and a
 * close would: the member is free for another unit, the former sides' late letters are
 * stored and delivered to nobody. */
int routing_org_members(struct btxn *t, const char *org, bool close, json_t *members_out);
/* Builds indexes an older broker did not keep; once, at open. */
int routing_upgrade(struct broker *b);
/* The members with claims (other units' introductions awaiting a report-in), as a JSON
 * array of {member, unit, community, intro, open, claims: [{unit, community, intro}]}. */
json_t *routing_claims_json(struct broker *b);
/* How many members some unit claims while no report-in decided: a scan of the route table,
 * once per broker run (protocol_claims_open then follows each commit's
 * route_overlay_claims_moved). */
size_t routing_claims_count(struct broker *b);
/* Calls fn for each unit in a claim conflict on a community of this street (another
 * street's community's broker tells of those on it: links.h): the member, the unit, its
 * introduction (event id) and the other unit it competes with (of a registered unit: its
 * first claimant). */
typedef void (*routing_claim_fn)(void *arg, const char *member, const char *unit, const char *intro,
                                 const char *other);
void routing_claims_each(struct broker *b, routing_claim_fn fn, void *arg);
/* Calls fn for each introduction that lost a claim (a report-in named another unit's
 * letter): the member, the losing unit, its introduction and the unit that won. Kept in
 * meta "lost/<introduction>" from the report-in on, so that a unit offline then is told
 * when it is back (its node notes it once: ERROR_REFUSED on that letter). */
void routing_lost_each(struct broker *b, routing_claim_fn fn, void *arg);
/* Across streets (links.c): the broker of the community's street decided that unit's
 * introduction intro of member lost to winner (a report-in named winner's letter, or the
 * member was winner's already). In t: the route follows (the registration winner's,
 * confirmed, or unit's claim dropped; unit a former side) and the loss is noted
 * ("lost/<intro>"), so that unit hears it here, or the street it is reached through does. */
int routing_claim_lost(struct btxn *t, const char *member, const char *unit, const char *intro,
                       const char *winner);
/* Whether the loss of introduction intro is noted here already. */
bool routing_lost_known(struct broker *b, const char *intro);

#endif
