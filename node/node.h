/* node: the daemon of one unit or one community (dualsync-node run), and the state it
 * shares between its parts:
 *   node.c      open/close, the local directory, appending own events, applying delivered
 *               events (one WriteBatch per delivery, cursor included);
 *   sync.c      the protocol with the broker (sync.h: its session state is its own);
 *   commands.c  the control API the `dualsync` CLI calls (with letters.c, the write
 *               commands, and reports.c, tasks and reports; see commands.h);
 *   main_node.c `dualsync-node init|run`;  cli.c the `dualsync` operator CLI. */
#ifndef DUALSYNC_NODE_H
#define DUALSYNC_NODE_H

#include "config.h"
#include "console.h"
#include "eventlog.h"
#include "hlc.h"
#include "keys.h"
#include "strmap.h"
#include "sync.h"
#include "transport.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define NODE_PUBLISH_BATCH 256u
/* After ERROR_BUSY (over the street's rate of unknown event types, one per 10 s): resend
 * then. */
#define NODE_BUSY_RETRY_MS 10000u
#define NODE_PUBLISH_WINDOW 4096u
#define NODE_STORE_ID_MAX 16
/* A kept `tasks` list not asked for this long is dropped (a community of 100,000 members
 * keeps ~10 MB in it; rebuilding it takes a quarter of a second). */
#define NODE_TASKS_KEEP_MS 60000u

struct node_org {
    char org[IDS_ORG_MAX];
    enum org_kind kind;
    char name[IDS_NAME_MAX + 1];
    struct keyring ring; /* its signing keys, each with the events it signs */
    Dualsync__OrgState state;
    char reason[256];         /* of a revoke or removal, as the street wrote it */
    char street[IDS_ORG_MAX]; /* the street that holds it when not this node's own, else "" */
};

struct node_counters {
    uint64_t applied;
    uint64_t duplicates;
    uint64_t forks;
    uint64_t rejected;           /* = the four below */
    uint64_t rejected_malformed; /* does not decode */
    uint64_t rejected_signature; /* bad signature or unknown origin (DS_EAUTH) */
    uint64_t rejected_side;      /* its type is not its origin's side's to write (DS_ESIDE) */
    uint64_t rejected_invalid;   /* its body or addressees break its type's rules, or other */
    uint64_t broker_errors;
    uint64_t refused;    /* own events the broker stored but delivered to nobody */
    uint64_t reconnects; /* fresh sockets: at start, after silence, after a refusal */
    uint64_t sessions;   /* WELCOMEs received: sessions with the broker */
};

struct node {
    char dir[4096];
    struct node_config cfg;
    enum org_kind kind;
    struct keys keys;
    struct keyring own_ring;    /* our signing keys over time (node.conf past keys + keys/) */
    struct keyring street_ring; /* the street's, from its card in node.conf */
    struct eventlog *log;
    struct transport *t;
    struct strmap *orgs; /* org id -> struct node_org * (from the street's directory) */
    bool offline;        /* opened by the CLI to read, no daemon running (node_open_offline) */
    /* org id -> uint64_t *: that org has applied our letters up to this seq (the broker's
     * Receipts, as of this session) */
    struct strmap *receipts;
    struct hlc clock;
    /* the durable cursors (meta of the log; sync.c moves them) */
    uint64_t own_seq;      /* == eventlog_hwm(self) */
    uint64_t inbox_cursor; /* applied and stored up to here */
    /* the street's directory stream (PROTOCOL.md "Directory"): street seq of the last
     * directory entry applied */
    uint64_t dir_cursor;
    uint8_t store_id[NODE_STORE_ID_MAX];
    size_t store_id_len;
    uint64_t restore_target;     /* needs-restore: the broker holds our events up to here */
    struct sync *sync;           /* the session with the broker (sync.c) */
    uint64_t retention_sweep_at; /* next retirement sweep (retention.c); 0: the next tick */
    uint64_t (*now_ms)(void);    /* the protocol's clock (node_clock_ms); NULL: the wall clock */
    char last_error[256];
    struct node_counters counters;
    struct console *console; /* the web console's threads (console.c); NULL when off */
    /* the last `tasks` list, kept while the log is unchanged (tasks.h) and it is asked for */
    struct task_list *tasks;
    uint64_t tasks_used_ms; /* when it was last asked for (node_clock_ms) */
    /* the annual report's rows of the year last asked for, kept up to date from the records
     * each commit rewrites (annual.h), and dropped like the task list when not asked for */
    struct annual *annual;
    uint64_t annual_used_ms;
};

/* console.c: starts the web console of node.conf's [web] on threads of its own, which
 * reach the node only through its control socket. DS_OK (also when the console is off);
 * an error is printed for the operator and the node does not start. */
int node_console_start(struct node *n, struct console **console_out);

/* node.c */
int node_open(const char *dir, struct node **node_out);
/* The same for reading while no daemon runs (the CLI's reads): the log read-only and
 * unlocked, nothing connected. DS_EAGAIN when the records need the daemon first. */
int node_open_offline(const char *dir, struct node **node_out);
void node_close(struct node **np);
int node_run(struct node *n);
const struct node_org *node_find_org(const struct node *n, const char *org);
/* Whether letters may be written to o: it is of this kind and not removed from the
 * directory (a revoked org's letters are held at the street until it is rekeyed). */
bool node_org_addressable(const struct node_org *o, enum org_kind kind);
/* The key that signs origin's event seq: the street's from its card, the others' (ours
 * included, after a rotation) from the directory. NULL when we cannot know it. */
const uint8_t *node_origin_key(const struct node *n, const char *origin, uint64_t seq);
/* Appends events built by the caller (raw SignedEvent bytes, seqs own_seq+1..) in one
 * batch. DS_OK, DS_EIO. */
int node_append(struct node *n, uint8_t **raws, const size_t *lens, size_t count);
/* Signs a new own event with the next seq and a fresh hlc, addressed to to[0..n_to) when
 * it is an org-level letter; *raw_out malloc'd. */
void node_build_event(struct node *n, uint64_t seq, const char *member, uint32_t type,
                      const uint8_t *body, size_t body_len, char *const *to, size_t n_to,
                      uint8_t **raw_out, size_t *len_out);
/* Applies a Directory frame: the street's directory entries after street seq `after` up
 * to `upto`, with the directory cursor in the same commit; returns the new cursor (the old
 * one for a gap). Anything but the street's directory entries of that range is refused
 * and counted.
 * Exits the process if the batch cannot be stored, as node_apply_delivery. */
uint64_t node_apply_directory(struct node *n, uint64_t after, uint64_t upto,
                              const ProtobufCBinaryData *events, size_t count);
/* Applies a delivery from the broker; returns the new cursor. Exits the process if the
 * batch cannot be stored (a restart retries it from the durable cursor). */
uint64_t node_apply_delivery(struct node *n, uint64_t first, const ProtobufCBinaryData *events,
                             size_t count);
void node_set_error(struct node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The broker stored our event seq but delivers it to nobody (ERROR_REFUSED), or our
 * introduction lost a claim: kept in meta "refused/<org>/<seq>" with the broker's reason,
 * the first time only (false when it was kept already). */
bool node_note_refused(struct node *n, uint64_t seq, const char *why);
/* The broker's reason when it refused the member's introduction from this node, or NULL
 * (caller frees). Such a member is not this node's, whatever its local record says. */
char *node_intro_refused(const struct node *n, const Dualsync__MemberRecord *rec);
/* retention.c: personal data leaves when its purpose ends (docs/ARCHITECTURE.md).
 * After each event stored (own, delivered, restored) in txn: an erasure drops the member's
 * personal parts in the same transaction; a close asks for a sweep. DS_OK or DS_EIO. */
int retention_note(struct node *n, struct eventlog_txn *txn, const struct event *ev);
/* Every tick: a community retires registrations closed [policy] former_member_days ago
 * (hourly, and after a close), and a redacted store is scrubbed. */
void retention_tick(struct node *n, uint64_t now_ms);

/* The broker's notice (ERROR_CLAIMED) that another unit introduced the member of our letter
 * seq too, kept the first time it comes; and, for a record of ours not yet reported in,
 * that notice (caller frees) or NULL. */
void node_note_claimed(struct node *n, uint64_t seq, const char *text);
char *node_intro_claimed(const struct node *n, const Dualsync__MemberRecord *rec);
/* The wall clock, in ms since the epoch: it dates our letters (hlc) and our reports. */
uint64_t node_now_ms(void);
/* The clock of the protocol's timers (sync.c: heartbeats, silences, retries and their
 * backoff, progress): n->now_ms when set (a test drives time with it), else node_now_ms(). */
uint64_t node_clock_ms(const struct node *n);

/* reports.c: drops the kept task list and annual report rows once they were not asked for
 * in NODE_TASKS_KEEP_MS, and gives their memory and the block cache's back. Every tick. */
void reports_rest(struct node *n, uint64_t now_ms);
/* An eventlog_member_fn: member's record changed (the kept annual report rows). */
void reports_member_changed(const char *member, void *arg);

/* commands.c */
void commands_on_ctl(void *arg, const uint8_t *req, size_t len, uint8_t **reply_out,
                     size_t *reply_len_out);

#endif
