/* sync: the node's side of the protocol with the broker (docs/PROTOCOL.md): HELLO and
 * WELCOME, PUBLISH and ACK, the directory stream and DELIVER with CONFIRM, PING, the
 * restore of a lost log, reconnects and the backoff of every retry. The session's state
 * (struct sync) is private to sync.c; the durable cursors it moves (own_seq, the inbox
 * and directory cursors, the broker's store id, the restore target) are struct node's,
 * because they are the log's. Its timers read node_clock_ms, which a test sets. */
#ifndef DUALSYNC_NODE_SYNC_H
#define DUALSYNC_NODE_SYNC_H

#include <stdbool.h>
#include <stdint.h>

struct node;
struct sync;

enum node_state {
    NODE_CONNECTING = 0, /* HELLO sent, no WELCOME yet */
    NODE_READY,          /* in session with the broker */
    NODE_AUTH_REFUSED,   /* the broker's ZAP handler refused our key */
    NODE_NEEDS_RESTORE,  /* the broker holds more of our events than we do */
    NODE_BLOCKED,        /* the broker rejected one of our events */
};

/* The session as it stands: what status, sync-wait and the tests read. */
struct sync_view {
    enum node_state state;
    uint64_t acked;      /* the broker holds our events up to here */
    uint64_t sent;       /* published up to here in this session */
    uint64_t inbox_head; /* the broker's head of our inbox, as last heard */
    uint64_t dir_head;   /* the street's last directory entry, as last heard */
    uint64_t ping_nonce; /* the last PING's */
    uint64_t pong_nonce, pong_head, pong_dir_head; /* the last PONG's */
    bool restoring;                                /* fetching our own events back */
    uint64_t retry_at_ms;      /* a routing refusal: publish again then (0: none) */
    uint64_t session_start_ms; /* the last new socket */
    uint64_t last_progress_ms; /* the last ACK or cursor progress (0: none yet) */
    /* retries without the progress that answers them (each backs off) */
    unsigned hello_tries, reconnect_tries, republish_tries, resync_tries;
};

/* The session of n before it connects: needs-restore when its log is behind what it
 * learnt the broker holds of it (n->restore_target), else connecting. */
struct sync *sync_new(const struct node *n);
void sync_destroy(struct sync **sp);
struct sync_view sync_view(const struct node *n);
const char *node_state_name(enum node_state s);

/* Connects and says HELLO; the transport's events and frames come back to sync.c. */
void sync_start(struct node *n);
/* Every heartbeat: liveness, stalls and their repair, retries, the PING. */
void sync_tick(void *arg);
/* Publishes own events beyond what was sent, within the window. */
void sync_pump(struct node *n);
/* Sends a PING; returns its nonce (for sync-wait). */
uint64_t sync_probe(struct node *n);
/* Starts fetching our own events back from the broker (state needs-restore).
 * DS_OK, DS_EINVAL when there is nothing to restore. */
int sync_restore_start(struct node *n);

#endif
