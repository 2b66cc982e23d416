/* transport: ZeroMQ (libzmq + CZMQ's zloop) behind a small interface; the only module
 * that includes <zmq.h> or <czmq.h>.
 * A transport is one event loop with up to three sockets:
 *   - a CURVE server ROUTER (broker) with an in-loop ZAP handler that admits only the keys
 *     the caller's authorizer knows, and hands every frame over with the org id that the
 *     authenticated key fixes (ZeroMQ's User-Id), never what the frame claims;
 *   - a CURVE client DEALER (node) that can be torn down and re-created, because the
 *     application, not ZeroMQ, decides when a silent peer is dead;
 *   - a local control REP socket on ipc://<data dir>/ctl.sock for the CLI.
 * Frames are single-part messages of at most WIRE_FRAME_MAX bytes; anything else is
 * dropped and counted. One thread. */
#ifndef DUALSYNC_TRANSPORT_H
#define DUALSYNC_TRANSPORT_H

#include "hist.h"
#include "ids.h"
#include "keys.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRANSPORT_PEER_ID_MAX 32

/* Frames the broker's ROUTER queues per connection before libzmq stops reading that
 * connection (TCP back-pressure on that peer alone; nothing is dropped). A node has at
 * most 4,096 own events unacked in frames of up to 256 (NODE_PUBLISH_WINDOW /
 * NODE_PUBLISH_BATCH: 16 full frames), plus a PING per heartbeat and a CONFIRM per
 * delivery; 32 holds that for a node publishing full frames, while a node that sends many
 * small frames or ignores its window waits behind its own queue instead of filling the
 * broker's memory (it was 100,000 frames per peer, then 64). The bound is in frames:
 * 32 frames of at most WIRE_FRAME_MAX (2 MiB) each, 64 MiB per connection at worst. */
#define TRANSPORT_SERVER_RCVHWM 32
/* Connections the kernel holds for the broker before it accepts them (listen(2)'s
 * backlog; the kernel caps it at net.core.somaxconn, 4,096 on Debian 12). libzmq's
 * default of 100 overflowed when a street's 2,500 nodes started together: the dropped
 * SYNs came back after TCP's 1, 3, 7, 15, 31 s, and connecting took 30 s instead of 8. */
#define TRANSPORT_LISTEN_BACKLOG 4096
/* Connections one key may hold at once; the ZAP handler refuses more. A node needs one
 * (a reconnecting node briefly two: the old one closes as the new one opens); the rest
 * is room for a restart racing a slow close. */
#define TRANSPORT_CONNS_PER_KEY 4
/* Messages on the control socket (local, the daemon's own user): a batch of 1,024
 * commands, larger than any frame. */
#define TRANSPORT_CTL_MSG_MAX (8u * 1024u * 1024u)
/* TCP keepalive of the broker's connections: reap a vanished node's half-open
 * connection after 30 s idle + 3 probes 10 s apart. */
#define TRANSPORT_KEEPALIVE_IDLE_S 30
#define TRANSPORT_KEEPALIVE_INTVL_S 10
#define TRANSPORT_KEEPALIVE_CNT 3

struct transport;

/* A peer of the server: its routing id and the org its key authenticated as. */
struct transport_peer {
    uint8_t id[TRANSPORT_PEER_ID_MAX];
    size_t id_len;
    char org[IDS_ORG_MAX];
};

/* Decides whether a CURVE client key may connect; on true writes its org id. */
typedef bool (*transport_authorize_fn)(void *arg, const uint8_t key[KEYS_PUB_LEN],
                                       char org_out[IDS_ORG_MAX]);
typedef void (*transport_peer_frame_fn)(void *arg, const struct transport_peer *peer,
                                        const uint8_t *data, size_t len);
typedef void (*transport_frame_fn)(void *arg, const uint8_t *data, size_t len);
/* Handles a control request; sets *reply_out (malloc'd, the transport frees it). */
typedef void (*transport_ctl_fn)(void *arg, const uint8_t *req, size_t len, uint8_t **reply_out,
                                 size_t *reply_len_out);
typedef void (*transport_timer_fn)(void *arg);

struct transport_stats {
    uint64_t auth_refused;  /* ZAP refusals: unknown (or banned) keys */
    uint64_t conn_refused;  /* ZAP refusals: the key already holds TRANSPORT_CONNS_PER_KEY */
    uint64_t conns_closed;  /* connections closed by transport_close_* or as silent */
    uint64_t bad_frames;    /* multipart or oversize messages dropped */
    uint64_t send_failures; /* sends refused (peer gone, queue full) */
    /* fault injection (DS_CHAOS, tests only; see chaos.h) */
    uint64_t chaos_dropped, chaos_duplicated, chaos_reordered, chaos_delayed;
};

/* A new loop. Caller owns (transport_destroy). Installs SIGINT/SIGTERM handling that ends
 * transport_run. With DS_CHAOS set in the environment (and built in), outgoing frames go
 * through fault injection (chaos.h); a malformed DS_CHAOS is logged and injects nothing. */
struct transport *transport_new(void);
void transport_destroy(struct transport **tp);

/* The clock of the transport's own durations, in milliseconds: a connection's first
 * frame (closed if silent 10 s after its handshake), a read burst's 50 ms, the chaos
 * schedule. It must never step back. Default (fn NULL): CLOCK_MONOTONIC; tests pass
 * their own. */
typedef uint64_t (*transport_clock_fn)(void *arg);
void transport_set_clock(struct transport *t, transport_clock_fn fn, void *arg);

/* Runs until transport_stop() or a termination signal. */
void transport_run(struct transport *t);
void transport_stop(struct transport *t);

/* A repeating timer every ms milliseconds. */
void transport_timer(struct transport *t, size_t ms, transport_timer_fn fn, void *arg);

/* Binds the CURVE server. endpoint may use port '*'; the bound endpoint is written to
 * bound_out. DS_EIO when the bind fails (logged). */
int transport_listen(struct transport *t, const char *endpoint, const struct keys *keys,
                     transport_authorize_fn authorize, transport_peer_frame_fn on_frame, void *arg,
                     char *bound_out, size_t bound_size);
/* Stops (paused) or resumes reading server frames: while paused, frames wait in ZeroMQ
 * and then in TCP, so a peer that sends faster than the server can check is slowed down
 * instead of growing the server's memory. */
void transport_pause_reads(struct transport *t, bool paused);
bool transport_reads_paused(const struct transport *t);
/* True while server frames wait unread (reads paused, or the last burst ended at its limit):
 * a peer's silence then says nothing about the peer. */
bool transport_server_backlog(const struct transport *t);
/* How long each turn of the loop took: every handler's run (frames read, a descriptor or
 * timer served, a control request answered), from its call to its return. A long turn
 * delays everything queued behind it; `status` shows this as `loop`. */
const struct hist *transport_loop_turns(const struct transport *t);
/* True when received messages may share libzmq's read buffers (zero copy). The transport
 * turns it off for its context, so that a queued message holds only its own bytes. */
bool transport_zero_copy_recv(void);
/* Calls fn from the loop whenever fd is readable (fn must drain it). At most
 * TRANSPORT_WATCH_MAX fds per transport (the broker watches its verify and audit workers). */
#define TRANSPORT_WATCH_MAX 4
void transport_watch_fd(struct transport *t, int fd, transport_timer_fn fn, void *arg);

/* Closes the server connection of peer, or every connection of org (their queued frames
 * go with them; the peer may connect again if the handshake lets it). Connections that
 * send nothing within 10 s of their handshake are closed too. DS_OK, DS_ENOTFOUND /
 * the number closed. */
int transport_close_peer(struct transport *t, const struct transport_peer *peer);
int transport_close_org(struct transport *t, const char *org);
/* Sets the connections one key may hold (TRANSPORT_CONNS_PER_KEY unless set; 0 = no cap,
 * for tests whose clients share a key). */
void transport_set_conns_per_key(struct transport *t, unsigned max);

/* Sends one frame to a peer. DS_OK, DS_EAGAIN (peer gone or its queue full; counted). */
int transport_send_peer(struct transport *t, const struct transport_peer *peer, const uint8_t *data,
                        size_t len);

/* Connects the client socket (replacing any previous one, whose queued frames are
 * dropped). DS_EIO on failure (logged). */
int transport_connect(struct transport *t, const char *endpoint,
                      const uint8_t server_key[KEYS_PUB_LEN], const struct keys *keys,
                      transport_frame_fn on_frame, void *arg);
enum transport_event {
    TRANSPORT_HANDSHAKE_OK = 1, /* CURVE handshake done: the server accepted our key */
    TRANSPORT_AUTH_REFUSED,     /* the server's ZAP handler refused our key */
    TRANSPORT_HANDSHAKE_FAILED, /* wrong server key or protocol mismatch */
    TRANSPORT_DISCONNECTED,
};
typedef void (*transport_event_fn)(void *arg, enum transport_event ev);

/* Reports connection events of the client socket (from a libzmq socket monitor). */
void transport_on_client_event(struct transport *t, transport_event_fn fn, void *arg);

/* Sends one frame to the server. DS_OK, DS_EAGAIN (not connected or queue full). */
int transport_send(struct transport *t, const uint8_t *data, size_t len);

/* Further clients of the same loop, one per link (a broker's links to other streets'
 * brokers): a CURVE DEALER each, no socket monitor; the link's owner decides when it is
 * dead and re-opens it. Close every link before transport_destroy. */
struct transport_link;
/* DS_OK with *out owned by the caller (transport_link_close), DS_EIO (logged). on_frame must
 * not close the link it is called for (close it from a timer). */
int transport_link_open(struct transport *t, const char *endpoint,
                        const uint8_t server_key[KEYS_PUB_LEN], const struct keys *keys,
                        transport_frame_fn on_frame, void *arg, struct transport_link **out);
/* DS_OK, DS_EAGAIN (not connected or queue full; not counted: the link's owner resends). */
int transport_link_send(struct transport_link *l, const uint8_t *data, size_t len);
void transport_link_close(struct transport_link **lp);
/* Binds the control socket at ipc://path. DS_EIO on failure (logged). */
int transport_ctl_listen(struct transport *t, const char *path, transport_ctl_fn fn, void *arg);

void transport_stats(const struct transport *t, struct transport_stats *out);

/* The ZeroMQ options of the server (ROUTER) or client (DEALER) socket, as libzmq holds
 * them; for tests. Times in ms (heartbeats) or s (keepalive); 0 or -1 = off / OS default. */
struct transport_sockopts {
    int sndhwm, rcvhwm;
    int heartbeat_ivl, heartbeat_timeout, heartbeat_ttl;
    int tcp_keepalive, tcp_keepalive_idle, tcp_keepalive_intvl, tcp_keepalive_cnt;
};
/* DS_OK, DS_ENOTFOUND when that socket does not exist (not listening / not connected). */
int transport_sockopts(const struct transport *t, bool server, struct transport_sockopts *out);

/* Client side of the control socket: one request, one reply, within timeout_ms.
 * DS_OK with *reply_out malloc'd (caller frees); DS_ENOTRUNNING when nothing listens at
 * path; DS_EACCES when the socket is another user's (its mode, or the daemon's check of
 * the caller's uid); DS_ETIMEDOUT. */
int transport_ctl_call(const char *path, const uint8_t *req, size_t len, int timeout_ms,
                       uint8_t **reply_out, size_t *reply_len_out);
/* The same, handing the reply to on_reply while it is still in the socket's message (its
 * return is the call's): a community's whole task list is 36 MB, and each copy of it
 * costs its page faults again. */
typedef int (*transport_reply_fn)(const uint8_t *reply, size_t len, void *arg);
int transport_ctl_call_with(const char *path, const uint8_t *req, size_t len, int timeout_ms,
                            transport_reply_fn on_reply, void *arg);

/* A blocking CURVE client for tools, tests and benchmarks: it sends whatever bytes it is
 * given (hostile-input tests) and receives with a timeout. Not for the daemons, which
 * use the loop above. */
struct transport_client;

/* DS_OK with *client_out owned by the caller (transport_client_close), DS_EIO. */
int transport_client_open(const char *endpoint, const uint8_t server_key[KEYS_PUB_LEN],
                          const struct keys *keys, struct transport_client **client_out);
/* Sends data as one message of 'parts' identical parts (parts > 1: a malformed multipart
 * message). DS_OK, DS_EAGAIN (not connected within 5 s). */
int transport_client_send(struct transport_client *c, const uint8_t *data, size_t len, int parts);
/* Receives one message. DS_OK with *data_out malloc'd (caller frees), DS_ETIMEDOUT. */
int transport_client_recv(struct transport_client *c, int timeout_ms, uint8_t **data_out,
                          size_t *len_out);
/* How long a send waits for a connection (5 s unless set). */
void transport_client_set_send_timeout(struct transport_client *c, int timeout_ms);
/* Whether the server has refused a handshake of c (its key unknown, banned, or one
 * connection too many): such a client is never welcomed, however long it waits. */
bool transport_client_refused(struct transport_client *c);
void transport_client_close(struct transport_client **cp);

#endif
