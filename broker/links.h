/* links: this street's peer links to other streets' brokers, or to a hub (a city of
 * streets, docs/ARCHITECTURE.md "A city of streets"). Both offices add each other's card
 * (`peer add`); each broker then opens a CURVE connection to the other's and reads, from
 * its own durable cursors, the other's directory stream and this street's inbox there,
 * as a node reads its street's. Each directory entry is checked against the other
 * broker's signing key and announced again here as an org another street holds
 * (directory_import), so every node of this street sees the whole city; each letter is
 * verified against its author's key, stored and routed here with the cursor in one
 * commit, and only then confirmed. The other broker, for its part, lets this street's key
 * in through ZAP (links_authorize) and sends it its own orgs' entries (a hub: every
 * street's but this one's) and the letters for this street's orgs. */
#ifndef DUALSYNC_BROKER_LINKS_H
#define DUALSYNC_BROKER_LINKS_H

#include "ids.h"
#include "keys.h"
#include "wire.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct broker;

/* A link silent this long (no frame, no PONG) is closed and opened again. */
#define LINKS_SILENT_MS 15000u
/* The links' timer: a HELLO again while unanswered (the first is dropped when it leaves
 * before the connection is up), a silent link found. */
#define LINKS_TICK_MS 500u
/* A PING on a welcomed link this often. */
#define LINKS_PING_MS 2000u
/* A resend from the cursors asked for at most this often (a gap shows on every frame
 * after a lost one), and when the other broker has more and nothing came this long. */
#define LINKS_RESYNC_MS 1000u
#define LINKS_STALL_MS 3000u
/* A street sends a hub it links with its report figures (report.h) on each WELCOME, and
 * again when its log changed and broker.conf's figures_seconds passed (default 60). */

/* The links' state, owned by links.c: the linked streets' cards, each link's cursor and
 * connection. */
struct links;
struct links *links_new(void);
void links_destroy(struct links **lp);

/* Loads the linked streets (meta "peer/<street>") at open. DS_OK, DS_EIO. */
int links_load(struct broker *b);
/* Opens a connection to every linked street (broker_run, after the listen) and closes
 * them (before the transport goes). */
void links_start(struct broker *b);
void links_stop(struct broker *b);
/* Every LINKS_TICK_MS: a PING per link, a silent link opened again, a HELLO retried. */
void links_tick(struct broker *b);
/* The ZAP decision for a linked street's CURVE key: its street id into org_out. */
bool links_authorize(const struct broker *b, const uint8_t key[KEYS_PUB_LEN],
                     char org_out[IDS_ORG_MAX]);
/* `peer add` (the other street's card, as the CLI sends a card: org, name, curve-key,
 * sign-key, endpoint), `peer list`, `peer remove` (org). */
void links_ctl(struct broker *b, const Dualsync__CtlCommand *cmd, uint8_t **out, size_t *len);
/* Each link, for status: street, name, endpoint, connected, cursor, remote head, lag,
 * entries taken and refused, the last refusal, ms since the last progress. */
json_t *links_json(const struct broker *b);
/* Letters across streets, for the street report: inbox entries this street gave to its
 * linked brokers (out) and letters it took from them (in), since the links were added. */
void links_crossed(const struct broker *b, uint64_t *out, uint64_t *in);
/* Whether street is linked here; the linked streets' ids (a JSON array of strings). */
bool links_has(const struct broker *b, const char *street);
json_t *links_streets(const struct broker *b);
/* A frame from street's broker on its link (the transport's handler; tests call it). */
void links_on_frame(struct broker *b, const char *street, const uint8_t *data, size_t len);
/* Claims across streets: the broker of the community's street decides whose member it is
 * (routing.c); a decision about a unit reached through a link goes to that link as a
 * ClaimNotice (claimed: a claim waits for the report-in; lost: the introduction lost to
 * other), unless the introduction's community is reached that way too (it decides
 * there). Nothing is sent while the link is down: the notices are repeated every 10 s. */
void links_notice(struct broker *b, const char *member, const char *unit, const char *intro,
                  const char *other, bool lost);
/* A claim notice from street's broker (its session here): taken only when its unit is
 * reached from here not through street and the introduction's community is; a loss is
 * stored (routing_claim_lost) once. Then told on to the unit (protocol_claim_notice).
 * Otherwise counted (claim_notices_refused) and logged. */
void links_take_notice(struct broker *b, const char *street, const Dualsync__ClaimNotice *n);

#endif
