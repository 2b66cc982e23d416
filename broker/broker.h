/* broker: the street office's store-and-forward broker.
 * It owns the street's directory (which org has which keys), the member routing table
 * (member -> unit, residence community), every event of its street, and one inbox per
 * org. Nodes publish over a CURVE ROUTER; the broker binds each event to its session's
 * org, stores, routes, acks once durable, audits signatures behind the ACK, and delivers
 * each inbox with a credit window. One header per module says what it promises:
 * directory.h (orgs and directory events), routing.h (recipients of an event and the route
 * table), inbox.h (per-org inbox sequences and delivery), receipts.h (what each recipient
 * applied, and the street's lag), verify.h (the signature workers), sigaudit.h (every
 * stored event's signature, checked behind the ACK), protocol.h (the frame handlers,
 * sessions and per-peer budgets), btxn.h (the one transaction they all write through),
 * report.h (the street report), links.h (peer links to other streets' brokers), carry.h
 * (what a hub keeps of the letters it carries). This header is
 * broker.c's: struct broker is private to it, and the modules reach the state they share (the log,
 * the config and keys, the clock, the counters, the transport) and each other's opaque state
 * (struct directory, inbox, sessions, receipts, verify_pool, sigaudit) through its accessors;
 * broker.c also holds start, stop, status and the clock. main.c is the CLI. All but main.c are the
 * library dualsync_broker, which the unit tests link. */
#ifndef DUALSYNC_BROKER_H
#define DUALSYNC_BROKER_H

#include "config.h"
#include "eventlog.h"
#include "hlc.h"
#include "keys.h"
#include "rules.h"
#include "sheet.h"
#include "strmap.h"
#include "transport.h"

#include "directory.h"
#include "inbox.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define BROKER_STORE_ID_LEN 16
#define BROKER_DELIVER_BATCH 256u
/* Directory entries in flight per connection (the directory stream's window; the inbox's
 * is cfg.window). 2,500 nodes connecting at once each take the same 2,500 cards, and what
 * is in flight waits in ZeroMQ's queues in the broker's memory: with cfg.window (2,048)
 * the broker peaked at 844–913 MiB, with 128 at 294–319 MiB, connected as fast
 * (BENCHMARKS.md "The directory as a stream"). */
#define BROKER_DIRECTORY_WINDOW 128u
#define BROKER_PEER_TIMEOUT_MS 15000u
#define BROKER_MAX_SKEW_MS (24u * 3600u * 1000u)
/* Events waiting for their signatures before the broker stops reading frames (about a
 * second of verification on two cores); reading resumes below half of it. */
#define BROKER_VERIFY_QUEUE_MAX 16384u
/* The same in bytes of events: a node sending 64 KiB events could otherwise queue 1 GiB
 * within the event count (letters are ~300 bytes: 16,384 of them are ~5 MiB). */
#define BROKER_VERIFY_QUEUE_BYTES ((size_t)32 << 20)
/* Member records refolded per heartbeat while no letter arrives: at most this many, and
 * for at most BROKER_SETTLE_BUDGET_MS. Without the time bound, 4,096 refolds whose letters
 * had left the block cache held the loop for about a minute in the city's year (each is a
 * point read per letter), and letters that came meanwhile waited unread. */
#define BROKER_SETTLE_PER_TICK 4096u
#define BROKER_SETTLE_BUDGET_MS 50u
/* Checked events stored per wake-up, so PINGs and HELLOs between them are not starved. */
#define BROKER_STORE_BUDGET 4096u

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
    uint64_t rerouted;             /* letters routed again: a release came after them (routing.c) */
    uint64_t signature_failed;     /* stored events whose signature failed the audit (sigaudit.c) */
    uint64_t signature_blocked;    /* events refused: their org is blocked by a failed audit */
    uint64_t hellos_resumed; /* HELLO retries on a welcomed connection: a WELCOME, no resend */
};

struct console;
struct verify_pool;
struct receipts;
struct sigaudit;
struct sessions;
struct links;
struct carry;

/* The broker: private to broker.c. A module reaches the shared services and the other
 * modules' state only through the functions below. */
struct broker;

/* The shared services. */
struct eventlog *broker_log(const struct broker *b);
const struct broker_config *broker_config(const struct broker *b);
const struct keys *broker_keys(const struct broker *b);
struct hlc *broker_clock(struct broker *b); /* the street's events' hybrid clock */
struct broker_counters *broker_counters(struct broker *b);
/* The transport while serving (broker_run, broker_start), else NULL: an offline command. */
struct transport *broker_transport(const struct broker *b);
const uint8_t *broker_store_id(const struct broker *b); /* BROKER_STORE_ID_LEN bytes */
const char *broker_dir(const struct broker *b);         /* the data directory ("": none) */

/* The modules' state, each opaque outside its module. */
struct directory *broker_directory(const struct broker *b);
struct inbox *broker_inbox(const struct broker *b);
struct sessions *broker_sessions(const struct broker *b);
struct receipts *broker_receipts(const struct broker *b);
struct verify_pool *broker_verify(const struct broker *b); /* NULL: not serving */
struct sigaudit *broker_sigaudit(const struct broker *b);  /* NULL: no audit running */
struct links *broker_links(const struct broker *b);        /* the linked streets (links.h) */
struct carry *broker_carry(const struct broker *b);        /* a hub's carried letters (carry.h) */
/* A rotation card's lines in a control command (key_from, rotation, past_key, as the CLI
 * sends them from the card file) into card; false when one does not parse. For `org
 * rekey` and `peer rekey`. */
bool broker_card_rotation_of_ctl(const Dualsync__CtlCommand *cmd, struct org_card *card);
/* sigaudit_open and sigaudit_close's: the audit b runs from now on (NULL: none). */
void broker_set_sigaudit(struct broker *b, struct sigaudit *a);

/* Opens the broker of data dir: config, keys, log, directory. DS_OK with *b_out owned by
 * the caller (broker_close). Errors are printed for the operator. */
int broker_open(const char *dir, struct broker **b_out);
void broker_close(struct broker **bp);
/* A broker of log alone, for the unit tests (tests/unit/broker_fixture.c): no data
 * directory, the config cfg, fresh keys and store id, an empty directory, the timers on
 * now_ms (NULL: the wall clock). It takes log; broker_close frees both. keys_crypto_init
 * first (the keys are libsodium's). */
struct broker *broker_new(struct eventlog *log, const struct broker_config *cfg,
                          uint64_t (*now_ms)(void));
/* What broker_run starts before it binds: the transport (unbound) and the signature
 * workers. DS_OK, or DS_EIO (printed for the operator). The unit tests call it to drive the
 * protocol by hand. */
int broker_start(struct broker *b);

/* Binds and serves until SIGINT/SIGTERM. */
int broker_run(struct broker *b);

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
