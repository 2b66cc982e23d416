/* broker: the street office's store-and-forward broker.
 * It owns the street's directory (which org has which keys), the member routing table
 * (member -> unit, residence community), every event of its street, and one inbox per
 * org. Nodes publish over a CURVE ROUTER; the broker verifies, stores, routes, acks once
 * durable, and delivers each inbox with a credit window.
 * Modules: directory.c (orgs and directory events), routing.c (recipients of an event and
 * the route table), inbox.c (per-org inbox sequences and delivery), receipts.c (what each
 * recipient applied, and the street's lag), protocol.c (the frame handlers), btxn.c (the
 * one transaction they all write through: btxn.h), broker.c (start, stop, status, the
 * timers' clock), main.c (the CLI). All but main.c are the library dualsync_broker, which
 * the unit tests link. */
#ifndef DUALSYNC_BROKER_H
#define DUALSYNC_BROKER_H

#include "config.h"
#include "eventlog.h"
#include "hlc.h"
#include <jansson.h>
#include "keys.h"
#include "rules.h"
#include "sheet.h"
#include "strmap.h"
#include "transport.h"

#include <stdbool.h>
#include <stdint.h>

#define BROKER_STORE_ID_LEN 16
#define BROKER_DELIVER_BATCH 256u
#define BROKER_PEER_TIMEOUT_MS 15000u
#define BROKER_MAX_SKEW_MS (24u * 3600u * 1000u)
/* Events waiting for their signatures before the broker stops reading frames (about a
 * second of verification on two cores); reading resumes below half of it. */
#define BROKER_VERIFY_QUEUE_MAX 16384u
/* The same in bytes of events: a node sending 64 KiB events could otherwise queue 1 GiB
 * within the event count (letters are ~300 bytes: 16,384 of them are ~5 MiB). */
#define BROKER_VERIFY_QUEUE_BYTES ((size_t)32 << 20)
/* Member records refolded per heartbeat while no frame arrives (about 0.1–0.3 s). */
#define BROKER_SETTLE_PER_TICK 4096u
/* Checked events stored per wake-up, so PINGs and HELLOs between them are not starved. */
#define BROKER_STORE_BUDGET 4096u

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

#define ORG_REASON_MAX 256

struct org_entry {
    char org[IDS_ORG_MAX];
    enum org_kind kind;
    char name[IDS_NAME_MAX + 1];
    uint8_t curve_key[KEYS_PUB_LEN];
    struct keyring ring; /* its signing keys: which one signs which of its events */
    Dualsync__OrgState state;
    char reason[ORG_REASON_MAX]; /* of a revoke or removal */
    uint64_t seq;                /* directory event that announced it as it is now */
};

/* A DELIVER frame sent on the peer's connection that the peer has not yet confirmed. */
struct sent_frame {
    uint64_t last; /* its last inbox seq */
    size_t bytes;
};

/* A connected (or recently connected) node. */
struct peer {
    struct transport_peer addr;
    bool welcomed;
    uint64_t delivered; /* highest inbox seq sent (rewound to confirmed by a HELLO) */
    uint64_t confirmed; /* highest inbox seq the node confirmed */
    uint64_t sent_upto; /* highest inbox seq ever sent on this connection */
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

struct broker_counters {
    uint64_t frames_in;
    uint64_t events_stored;
    uint64_t duplicates;
    uint64_t malformed;         /* frames or events that do not decode or fail syntax */
    uint64_t rejected;          /* events refused: the sum of the four below and forks */
    uint64_t rejected_auth;     /* bad signature, or an origin that is not the key's org */
    uint64_t rejected_side;     /* a type the author's side may not write */
    uint64_t rejected_sequence; /* a gap in the author's sequence */
    uint64_t rejected_route;    /* no route yet (unknown member or community) */
    uint64_t unrouted;          /* events stored but delivered to nobody (ERROR_REFUSED) */
    uint64_t forks;
    uint64_t auth_refused;
    uint64_t org_mismatch;     /* frames claiming another org than their key */
    uint64_t sessions_dropped; /* a send failed or the peer fell silent: it must HELLO again */
    uint64_t read_pauses;      /* reading stopped: verify_queue_full */
    uint64_t refused_frames;   /* frames counted against their peer's strikes */
    uint64_t over_budget;      /* PUBLISH frames refused unchecked: the peer's verify budget */
    uint64_t send_full;        /* pumps held back: the peer's send budget was spent */
    uint64_t full_closed;      /* connections closed: a resend asked for with the budget spent */
    uint64_t peers_banned;     /* disconnections for refused frames */
    uint64_t ban_refused;      /* handshakes refused: the key is banned */
    uint64_t unknown_types;    /* events of an unknown type that passed every check */
    uint64_t unknown_type_refused; /* ... refused: a body or a rate over BROKER_UNKNOWN_* */
    uint64_t erasures;             /* member-erase letters taken: personal parts dropped */
};

struct publish_batch;
struct console;

/* The street's own events (its directory of org cards, its notices), kept in memory by
 * inbox.c: every org's inbox points at them, so each is delivered once per org. */
struct street_event {
    uint8_t *raw; /* NULL until read */
    size_t len;
};
struct street_cache {
    struct street_event *ev; /* by seq - 1 */
    size_t cap;              /* slots allocated */
};

struct broker {
    char dir[4096];
    struct broker_config cfg;
    struct keys keys;
    struct eventlog *log;
    struct transport *t;
    struct strmap *orgs;    /* org id -> struct org_entry * */
    struct strmap *by_key;  /* hex CURVE key -> struct org_entry * (borrowed) */
    struct strmap *peers;   /* org id -> struct peer * */
    struct strmap *conduct; /* org id -> struct conduct * (protocol.c; NULL until first needed) */
    struct strmap *heads;   /* org id -> uint64_t * inbox head (cache of meta) */
    struct street_cache street_events;
    struct hlc clock;
    uint8_t store_id[BROKER_STORE_ID_LEN];
    char bound[CONFIG_ENDPOINT_MAX];
    struct broker_counters counters;
    struct publish_batch *batch; /* checked PUBLISH frames of this wake-up, committed together */
    struct verify_pool *verify;
    uint64_t publishes_in;      /* PUBLISH frames taken (not a status counter) */
    uint64_t publishes_at_tick; /* publishes_in at the last tick: idle when unchanged */
    uint64_t last_tick_ms;
    uint64_t started_ms;
    /* routing_claims_open's count, and when it was taken (0: never) */
    size_t claims_open;
    uint64_t claims_counted_ms;
    struct console *console;   /* the web console's threads (console.c); NULL when off */
    struct receipts *receipts; /* who applied what, and since when entries wait (receipts.c) */
    uint64_t (*now_ms)(void);  /* broker_now_ms's clock; NULL: the wall clock */
};

/* Opens the broker of data dir: config, keys, log, directory. DS_OK with *b_out owned by
 * the caller (broker_close). Errors are printed for the operator. */
int broker_open(const char *dir, struct broker **b_out);
void broker_close(struct broker **bp);

/* Binds and serves until SIGINT/SIGTERM. */
int broker_run(struct broker *b);

/* directory.c */
int directory_load(struct broker *b);
/* Adds an org to the directory: a signed directory event, inbox entries for everyone,
 * and the whole directory for the newcomer, in one batch. DS_EEXIST when the org or one of
 * its keys is already there; DS_EINVAL for a bad card. */
int directory_add(struct broker *b, const struct org_card *card);
/* The org lifecycle (docs/OPERATIONS.md "An org leaves", "A key leaked"): each publishes the
 * org's new directory entry to every org not removed, in one batch, and closes the org's
 * live connections. Revoke: its key is refused from now on, letters to it are held in its
 * inbox. Rekey: card holds its new keys; a rotation card (dualsync-node rekey) must be
 * signed by the key the street knows (DS_EAUTH otherwise) and start after what the street
 * holds from the org (DS_ESEQ); with unsigned_ok a plain card is taken as a rotation from
 * the next seq on (an org that lost its keys; the operator compared fingerprints). Remove:
 * refused (DS_EEXIST, the members in *open_out) while the org has open registrations
 * unless force, which closes them first. DS_ENOTFOUND for an org not in the directory or
 * already removed; DS_EINVAL for a bad card or reason. */
int directory_revoke(struct broker *b, const char *org, const char *reason);
int directory_rekey(struct broker *b, const struct org_card *card, bool unsigned_ok);
int directory_remove(struct broker *b, const char *org, const char *reason, bool force,
                     json_t **open_out);
/* "active", "revoked" or "removed". */
const char *directory_state_name(Dualsync__OrgState state);
/* The org's entry, whatever its state (NULL when it never was in the directory). */
const struct org_entry *directory_find(const struct broker *b, const char *org);
json_t *directory_json(const struct broker *b);
bool directory_authorize(void *arg, const uint8_t key[KEYS_PUB_LEN], char org_out[IDS_ORG_MAX]);
/* The ZAP decision: a directory key (directory_authorize) whose org is not banned
 * (protocol.c). */
bool broker_authorize(void *arg, const uint8_t key[KEYS_PUB_LEN], char org_out[IDS_ORG_MAX]);
/* Authors an org-level street event (a joint meeting) addressed to to[0..n_to): signed with
 * the street's keys, checked against its rule, stored, and appended to each addressee's inbox
 * in one transaction. DS_OK with *seq_out; DS_EINVAL or DS_ESIDE (breaks its rule), DS_EIO. */
int directory_author(struct broker *b, uint32_t type, const uint8_t *body, size_t body_len,
                     char *const *to, size_t n_to, uint64_t *seq_out);

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
/* How many members some unit claims while no report-in decided (the street's status): a
 * scan of the route table, taken at most every ROUTING_CLAIMS_COUNT_MS. */
#define ROUTING_CLAIMS_COUNT_MS 10000u
size_t routing_claims_open(struct broker *b);
/* Calls fn for each unit in a claim conflict: the member, the unit, its introduction (event
 * id) and the other unit it competes with (of a registered unit: its first claimant). */
typedef void (*routing_claim_fn)(void *arg, const char *member, const char *unit, const char *intro,
                                 const char *other);
void routing_claims_each(struct broker *b, routing_claim_fn fn, void *arg);
/* Calls fn for each introduction that lost a claim (a report-in named another unit's
 * letter): the member, the losing unit, its introduction and the unit that won. Kept in
 * meta "lost/<introduction>" from the report-in on, so that a unit offline then is told
 * when it is back (its node notes it once: ERROR_REFUSED on that letter). */
void routing_lost_each(struct broker *b, routing_claim_fn fn, void *arg);

/* verify.c: worker threads check the signatures of queued PUBLISH frames while the loop
 * thread stores the frames already checked; jobs come back in the order they went in. */
enum verify_verdict {
    VERIFY_BAD,
    VERIFY_OK,
    /* At or below the org's stored seq when queued: a resent copy (same bytes, no need to
     * verify again) or a fork. protocol.c verifies it on the loop thread unless the store
     * holds exactly these bytes. */
    VERIFY_SKIPPED,
};
struct verify_job {
    struct verify_job *next;
    struct transport_peer addr; /* the connection it came from: its org signs it */
    Dualsync__Frame *frame;     /* a PUBLISH, owned */
    struct keyring ring;        /* the org's signing keys: each event is checked with its seq's */
    bool key_known;
    uint64_t stored_upto;
    enum verify_verdict *verdict; /* one per event of the frame */
    size_t bytes;                 /* of its events, for the queue's byte bound */
    /* the workers' progress (verify.c, under its lock) */
    size_t next_event;  /* first event of the next chunk to hand out */
    size_t in_progress; /* chunks being checked */
    size_t bad_at;      /* first bad event found (SIZE_MAX: none yet) */
    bool claimed;       /* every chunk handed out */
    bool done;          /* and checked */
};
struct verify_pool;
/* Starts one worker per core; NULL (logged) if no thread or pipe can be made. */
struct verify_pool *verify_pool_new(void);
void verify_pool_destroy(struct verify_pool **vpp);
/* Readable when a job is done (poll it from the loop, then verify_drain_wakeups). */
int verify_pool_fd(const struct verify_pool *vp);
void verify_drain_wakeups(struct verify_pool *vp);
/* Makes verify_pool_fd readable, so the loop comes back for jobs it left done. */
void verify_wake(struct verify_pool *vp);
/* ring NULL when the org has none (every event is then VERIFY_BAD). Takes frame. */
struct verify_job *verify_job_new(const struct transport_peer *addr, Dualsync__Frame *frame,
                                  const struct keyring *ring, uint64_t stored_upto);
void verify_job_free(struct verify_job *job);
void verify_submit(struct verify_pool *vp, struct verify_job *job);
/* The oldest done job whose org has no older job still queued, else NULL: each org's
 * frames come back in the order they went in (its contiguity), but one org's slow frames
 * do not hold back another's. Workers likewise check at most one job per org at a time,
 * oldest first, so one org's flood takes at most one core while others' frames wait. */
struct verify_job *verify_take(struct verify_pool *vp);
size_t verify_pending_events(struct verify_pool *vp);
/* True when the jobs not yet taken hold more than BROKER_VERIFY_QUEUE_MAX events or
 * BROKER_VERIFY_QUEUE_BYTES bytes of events: the loop should stop reading frames. */
bool verify_queue_full(struct verify_pool *vp);
/* True when they hold less than half of both: reading may resume. */
bool verify_queue_drained(struct verify_pool *vp);

/* inbox.c */
uint64_t inbox_head(struct broker *b, const char *org);
/* The inbox's part of a broker transaction: btxn.c calls these, in the order btxn.h gives;
 * everything else appends with btxn_append / btxn_append_event. inbox_append counts org's
 * new head in pending_heads (org -> uint64_t *, malloc'd); inbox_stage_heads puts each
 * counted head into txn once; inbox_commit_heads moves them in memory (and pumps) once txn
 * has committed. A letter's entry also carries the event's bytes (delivered without a
 * point read), as the log keeps them (eventlog_txn_kept): without the personal part of a
 * member the street erased. Entries written before the erasure lose it at the scrub
 * (inbox_scrub). */
void inbox_append(struct broker *b, struct eventlog_txn *txn, struct strmap *pending_heads,
                  const char *org, const char *origin, uint64_t seq);
void inbox_append_event(struct broker *b, struct eventlog_txn *txn, struct strmap *pending_heads,
                        const char *org, const struct event *ev);
void inbox_stage_heads(struct broker *b, struct eventlog_txn *txn, struct strmap *pending_heads);
void inbox_commit_heads(struct broker *b, struct strmap *pending_heads);
/* The hlc of the event at org's inbox seq (one point read; a street event from memory once
 * read), for the age of what waits. DS_OK, DS_ENOTFOUND (no such entry), DS_EIO (logged). */
int inbox_entry_hlc(struct broker *b, const char *org, uint64_t seq, uint64_t *hlc_out);
/* The inbox's part of an erasure's scrub (eventlog_on_scrub): entries that carry a letter
 * whose personal part was redacted are rewritten without it. Runs on the scrub's thread:
 * it reads and writes the store only (entries are never rewritten by the loop). */
int inbox_scrub(struct store *s, const struct strmap *redactions, void *arg);
/* Sends what the window and the peer's send budget allow to a welcomed peer. */
void inbox_pump(struct broker *b, struct peer *p);
/* The send budget of p's connection: forget it (a new connection), release what a CONFIRM
 * (or a HELLO's cursor) up to upto shows read, and whether more than half of it is in
 * flight (a peer asking for a resend then is not reading: its connection is closed). */
void inbox_sent_reset(struct peer *p);
void inbox_sent_confirmed(struct peer *p, uint64_t upto);
bool inbox_sent_over_half(const struct peer *p);
void inbox_pump_all(struct broker *b);
/* Frees the street events read so far (broker_close). */
void inbox_cache_free(struct broker *b);

/* receipts.c: how far each recipient has applied its inbox (persisted), the receipts
 * that gives each origin (highest seq of the origin each recipient applied), and when
 * entries arrived in each inbox (in memory), for the lag of an org. */
struct receipts;
struct receipts *receipts_new(void);
void receipts_destroy(struct receipts **rp);
/* org said (HELLO cursor, CONFIRM) it applied its inbox up to upto. */
void receipts_confirmed(struct broker *b, const char *org, uint64_t upto);
/* org's cursor as the broker knows it: what it said since the broker started, else what
 * was counted before (0 for an org never heard of). */
uint64_t receipts_cursor(struct broker *b, const char *org);
/* Entries from 'first' on entered org's inbox at now_ms (inbox_commit_heads). */
void receipts_arrived(struct broker *b, const char *org, uint64_t first, uint64_t now_ms);
/* How long org's oldest entry beyond its cursor has waited at the street (0 when none
 * waits); an entry older than the broker's start is dated by its hlc. DS_OK, DS_EIO. */
int receipts_lag_ms(struct broker *b, const char *org, uint64_t head, uint64_t now_ms,
                    uint64_t *lag_out);
/* Counts what recipients confirmed since the last tick, stores it, and sends the origins
 * whose receipts moved a Receipts frame. */
void receipts_tick(struct broker *b);
/* Sends p's org its receipts (after WELCOME). */
void receipts_send(struct broker *b, struct peer *p);
/* origin's receipts as {recipient: upto}. */
json_t *receipts_json(struct broker *b, const char *origin);

/* protocol.c */
void protocol_on_frame(void *arg, const struct transport_peer *peer, const uint8_t *data,
                       size_t len);
void protocol_send(struct broker *b, struct peer *p, const Dualsync__Frame *f);
void protocol_tick(void *arg);
/* Stores the PUBLISH frames the verify workers have checked, in arrival order and up to
 * BROKER_STORE_BUDGET events, in one commit, and answers them. */
void protocol_on_verified(void *arg);
/* Commits the PUBLISH frames gathered since the last flush and answers them. */
void protocol_flush(void *arg);

/* report.c: the street's supervision report (counts per unit and per community, never a
 * member id or name) and its joint meeting records. The *_reply functions answer control
 * commands ("report", "meeting add", "meetings"); the *_print functions are the CLI's text
 * (and CSV) for their JSON. */
void report_street_reply(struct broker *b, const Dualsync__CtlCommand *cmd, uint8_t **out,
                         size_t *len);
void report_meeting_add_reply(struct broker *b, const Dualsync__CtlCommand *cmd, uint8_t **out,
                              size_t *len);
void report_meetings_reply(struct broker *b, uint8_t **out, size_t *len);
/* How the CLI prints the street report: text, CSV (csv; for Excel with excel: a BOM and
 * Chinese headers) or an .xlsx workbook (xlsx: a sheet each for units, communities and
 * totals). report_street_print returns 0, or 1 when the workbook cannot be written. */
struct report_format {
    bool csv, excel;
    const char *xlsx;
};
int report_street_print(json_t *j, const struct report_format *f);
/* The report's rows flat (overdue as overdue_<kind>; side unit/community/total), of one
 * side or (NULL) all, and their columns: what CSV and workbooks are made of. */
extern const struct sheet_column report_street_columns[];
json_t *report_street_rows(json_t *report, const char *side);
void report_meetings_print(json_t *j);

/* console.c: starts the street console of broker.conf's [web] on threads of its own, which
 * reach the broker only through its control socket. DS_OK (also when the console is off,
 * *console_out NULL); an error is printed for the operator and the broker does not start. */
int broker_console_start(struct broker *b, struct console **console_out);

/* broker.c */
void broker_on_ctl(void *arg, const uint8_t *req, size_t len, uint8_t **reply_out,
                   size_t *reply_len_out);
/* The clock of the broker's timers (liveness, bans, rates, lag): b->now_ms when set (a
 * test's clock), else the wall clock. Events' hybrid clocks always read the wall clock. */
uint64_t broker_now_ms(const struct broker *b);

#endif
