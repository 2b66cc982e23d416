/* protocol: the broker's side of the frames (docs/PROTOCOL.md): sessions, PUBLISH (checked,
 * stored, acknowledged), CONFIRM, FETCH, PING, the per-peer budgets, strikes and bans, and
 * the heartbeat's timers. */
#ifndef DUALSYNC_BROKER_PROTOCOL_H
#define DUALSYNC_BROKER_PROTOCOL_H

#include "ids.h"
#include "keys.h"
#include "transport.h"
#include "wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct broker;

/* Per-peer budgets: no authenticated peer may cost the street more than these
 * (docs/PROTOCOL.md "Budgets"). */
/* Bytes of DELIVER and FETCHED frames sent on a peer's connection and not yet shown read
 * (confirmed, or followed by the next FETCH). New entries go out while less than half of
 * it is in flight; the other half is room for one resend after a lost frame. A window of
 * letters is ~600 KB: the budget only ever binds a peer that does not read. */
#define BROKER_PEER_SEND_BYTES ((size_t)8 << 20)
/* DELIVER frames unconfirmed on a connection (half for new entries, as above). A peer that
 * confirms late gets fuller frames, not more of them. */
#define BROKER_PEER_SEND_FRAMES 64u
/* Events of one org waiting for their signature checks: a node never has more than
 * NODE_PUBLISH_WINDOW (4,096) own events unacked, so an honest node never reaches it. */
#define BROKER_PEER_VERIFY_EVENTS 4096u
/* The same in bytes (4,096 letters are ~1.2 MiB; large events of unknown types fill it
 * sooner and simply wait for their ACKs). */
#define BROKER_PEER_VERIFY_BYTES ((size_t)16 << 20)
/* A peer whose frames are refused this many times within BROKER_STRIKE_WINDOW_MS (frames
 * that do not decode, events refused for syntax, signature, side or fork, frames over its
 * verify budget) is disconnected and refused at the handshake for a while. An honest node
 * stops publishing at its first refused event (state blocked). */
#define BROKER_STRIKES_MAX 32u
#define BROKER_STRIKE_WINDOW_MS 60000u
/* ... or refused frames of this many bytes in the window. A flood of large bad frames is
 * cut after a few (each was decrypted and decoded ahead of other peers' frames: the other
 * nodes' latency); an honest node sends at most one refused frame before it stops (state
 * blocked), and a frame is at most WIRE_FRAME_MAX (2 MiB), so one such frame at worst costs
 * it the first, 10 s ban. A connection closed for asking again with its send budget unread
 * is a strike of no bytes. */
#define BROKER_STRIKE_BYTES_MAX ((size_t)1 << 20)
/* The first ban lasts this long; each further ban within an hour of the last doubles it. */
#define BROKER_BAN_MS 10000u
#define BROKER_BAN_MAX_MS (15u * 60u * 1000u)
/* Events of a type this broker does not know (from a node newer than the broker) pass
 * rules_check unread, so they have limits of their own; beyond them an event is refused
 * (ERROR_MALFORMED, a strike). A body of at most 8 KiB: a letter of today's rules with its
 * free text at the maximum (IDS_TEXT_MAX, 4 KiB) and as much again for its other fields.
 * At 64 KiB (WIRE_EVENT_MAX) each, one unit could put megabytes into a member's record
 * that its community stores and refolds. */
#define BROKER_UNKNOWN_BODY_MAX 8192u
/* At most BROKER_UNKNOWN_BURST of them at once per org, then one per
 * BROKER_UNKNOWN_REFILL_MS (a token bucket, protocol.c). The burst is one full PUBLISH of
 * a node (NODE_PUBLISH_BATCH, 256): what an honest newer node has of a new type after a
 * week offline or one bulk action goes through at once. The rate, 360 an hour, is far
 * above what people write (a city's nodes write about 4 letters a day each,
 * docs/BENCHMARKS.md), and caps what one org adds to the street's disk and to its
 * members' refolds at ~70 MB a day of bodies at the limit. */
#define BROKER_UNKNOWN_BURST 256u
#define BROKER_UNKNOWN_REFILL_MS 10000u

/* A DELIVER (or Directory) frame sent on the peer's connection that the peer has not yet
 * confirmed. */
struct sent_frame {
    uint64_t last; /* its last inbox seq (directory: its last directory entry's street seq) */
    size_t bytes;
    bool directory;
};

/* A connected (or recently connected) node. */
struct peer {
    struct transport_peer addr;
    bool welcomed;
    uint64_t delivered; /* highest inbox seq sent (rewound to confirmed by a HELLO) */
    uint64_t confirmed; /* highest inbox seq the node confirmed */
    uint64_t sent_upto; /* highest inbox seq ever sent on this connection */
    /* the directory stream (inbox.c), in street seqs of directory entries */
    uint64_t dir_sent;      /* the last sent (reset to the node's cursor by a HELLO) */
    uint64_t dir_confirmed; /* the last the node confirmed */
    uint64_t dir_sent_upto; /* the last ever sent on this connection */
    uint64_t last_seen_ms;
    uint64_t frames;
    /* send budget (inbox.c): what this connection has been sent and not shown read */
    struct sent_frame inflight[BROKER_PEER_SEND_FRAMES];
    size_t n_inflight;
    size_t inflight_bytes; /* of inflight[] plus fetch_bytes */
    size_t fetch_bytes;    /* FETCHED frames since the node last moved its fetch on */
    uint64_t fetch_from;   /* `from` of the last FETCH answered */
    /* verify budget (protocol.c): its PUBLISH events queued for signature checks */
    size_t verify_events, verify_bytes;
    /* one of this connection's new events verified: the rest are left to the audit */
    bool vouched;
    /* when its whole list of receipts was last sent (receipts.c) */
    uint64_t receipts_sent_ms;
    /* refused frames in the current strike window */
    unsigned strikes;
    size_t strike_bytes; /* of the refused frames in the window */
    uint64_t strike_window_ms;
};

/* What the broker remembers of an org's conduct (protocol.c), from its first ban or its
 * first event of an unknown type until the broker stops: a ban (its key is refused at the
 * handshake until until_ms, after refused frames), and its allowance of unknown types. */
struct conduct {
    uint64_t until_ms;
    unsigned count; /* bans so far (each doubles the next), forgotten after an hour */
    /* the token bucket of unknown-type events: tokens taken (0: full, as calloc makes
     * it), and when the last token came back */
    unsigned unknown_taken;
    uint64_t unknown_refill_ms;
};

/* The sessions (a struct peer per org heard from) and the orgs' conduct (bans, the
 * unknown-type allowance): protocol.c's own state. */
struct sessions;
struct sessions *protocol_sessions_new(void);
void protocol_sessions_destroy(struct sessions **sp);
/* org's session (connected or recently connected), NULL when none. */
struct peer *protocol_peer(const struct broker *b, const char *org);
/* org's record of conduct, NULL when it has none. */
const struct conduct *protocol_conduct(const struct broker *b, const char *org);
/* Calls fn for each session, in no set order, until it returns false; fn must not add
 * or forget sessions (a send that fails, which unwelcomes one, is fine). */
void protocol_each_peer(struct broker *b, bool (*fn)(struct peer *p, void *arg), void *arg);

void protocol_on_frame(void *arg, const struct transport_peer *peer, const uint8_t *data,
                       size_t len);
void protocol_send(struct broker *b, struct peer *p, const Dualsync__Frame *f);
/* Serving begins (broker_start): the heartbeat's clock starts now. */
void protocol_start(struct broker *b);
/* The heartbeat: liveness, settling, receipts, the audit's progress, claims. */
void protocol_tick(void *arg);
/* How many members some unit claims while no report-in decided (the street's status):
 * the route table's count (routing_claims_count) at the first question, then moved by each
 * commit (protocol_claims_moved, from btxn_commit) rather than counted again, so that a
 * street of many members does not scan its route table on a timer. */
size_t protocol_claims_open(struct broker *b);
void protocol_claims_moved(struct broker *b, long moved);
/* How often the units in a claim conflict are told of it again (protocol_tick). */
#define PROTOCOL_CLAIMS_NOTICE_MS 10000u
/* Tells unit of a claim conflict over its introduction intro of member with other
 * (ERROR_CLAIMED), or that intro lost to other (ERROR_REFUSED): its node, if it is
 * connected here; a unit of another street through its link (links_notice). */
void protocol_claim_notice(struct broker *b, const char *member, const char *unit,
                           const char *intro, const char *other, bool lost);
/* Tells org's node, if it is connected, of a refusal found after the ACK (sigaudit.c). */
void protocol_notify(struct broker *b, const char *org, Dualsync__ErrorCode code, const char *why,
                     uint64_t seq);
/* A member-erase letter (ev, in txn) was taken: the broker keeps no personal part of any
 * letter about the member from now on; its inbox entries lose theirs at the scrub
 * (inbox_scrub), which the next tick starts. DS_OK, DS_EIO. */
struct eventlog_txn;
struct event;
int protocol_erase_member(struct broker *b, struct eventlog_txn *txn, const struct event *ev);
/* Stores the PUBLISH frames the verify workers have checked, in arrival order and up to
 * BROKER_STORE_BUDGET events, in one commit, and answers them. */
void protocol_on_verified(void *arg);
/* Commits the PUBLISH frames gathered since the last flush and answers them. */
void protocol_flush(void *arg);
/* True while frames are stored in a batch not yet committed (the next flush's). */
bool protocol_batch_open(const struct broker *b);

/* The ZAP decision: a directory key (directory_authorize) whose org is not banned
 * (protocol.c). */
bool broker_authorize(void *arg, const uint8_t key[KEYS_PUB_LEN], char org_out[IDS_ORG_MAX]);

#endif
