/* syncwait: what `dualsync sync-wait` asks its node next, and when it is done.
 * The CLI polls (syncwait.c decides, node/cli.c asks). Its first request is the control
 * command "probe": the node PINGs the broker and answers with the ping's nonce. Then it
 * asks for "status" until the PONG of that nonce is in and both cursors have reached the
 * heads the PONG named, with nothing left unacknowledged. A probe sent while the node is
 * not in session is lost, so a node not "ready" is probed again, and so is one whose PONG
 * has not come within SYNC_WAIT_REPROBE_S of its probe. Time is passed in (seconds since
 * the wait began): the tests drive it. */
#ifndef DUALSYNC_NODE_SYNCWAIT_H
#define DUALSYNC_NODE_SYNCWAIT_H

#include <jansson.h>

#define SYNC_WAIT_REPROBE_S 1.0

enum sync_wait_step { SYNC_WAIT_PROBE, SYNC_WAIT_STATUS, SYNC_WAIT_DONE };

/* A wait begins zeroed: its first request is a probe. */
struct sync_wait {
    long long nonce;  /* the probe being waited for; 0: none is out */
    double probed_at; /* when it was answered, seconds */
};

/* Takes the answer to w's last request at time now and says what to send next: reply is
 * the probe's answer ({"nonce"}) when w had no probe out, else the node's status; NULL when
 * no node answered (not running yet). */
enum sync_wait_step sync_wait_step(struct sync_wait *w, const json_t *reply, double now);

#endif
