/* sigaudit: every stored event's signature, checked after its ACK (sigaudit.c).
 * The broker acknowledges a node's event once it is durable and its origin is the org of
 * the CURVE connection it came on (protocol.c); a connection's signatures are checked
 * before anything of it is stored until one of its letters has verified. The audit checks
 * every stored event, in each org's seq order,
 * with worker threads that run only on CPU nothing else wants (SCHED_IDLE), reading the
 * events from the frames just stored or, when it falls behind or after a restart, from
 * the log. Its progress (checked up to which seq, per org) is in the store: a restart
 * goes on where the last one stopped, and nothing stored escapes it.
 * An event whose signature fails blocks its org: the org's node is told (ERROR_AUTH with
 * the seq), nothing more of the org is stored until the street re-keys it, and `status`
 * shows it. Recipients check every signature themselves and never apply such an event
 * (docs/ARCHITECTURE.md, "Who verifies what"). */
#ifndef DUALSYNC_BROKER_SIGAUDIT_H
#define DUALSYNC_BROKER_SIGAUDIT_H

#include "transport.h"
#include "wire.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct broker;
struct sigaudit;

/* Loads each org's progress and starts the workers: the audit b runs (broker_sigaudit). A
 * store that never ran an audit was checked event by event before it stored them: its
 * progress starts at each org's last seq. DS_OK, or DS_EIO (logged) when no worker can
 * start. */
int sigaudit_open(struct broker *b);
/* Stops b's audit, if any; what it had not checked is read from the log by the next one. */
void sigaudit_close(struct broker *b);
/* Readable when a job is done: the loop calls sigaudit_on_done(b). */
int sigaudit_fd(const struct sigaudit *a);
void sigaudit_on_done(void *arg);

/* Events lo..hi of addr's org, in frame, are committed: they join the audit. Takes frame
 * (the audit reads the log instead when it is behind). Without an audit: frees frame. */
void sigaudit_stored(struct broker *b, const struct transport_peer *addr, Dualsync__Frame *frame,
                     uint64_t lo, uint64_t hi);
/* Per heartbeat: queues what was left for the log, and stores the progress made. */
void sigaudit_tick(struct broker *b);

/* Whether org is blocked: the seq of its first event that failed the audit. */
bool sigaudit_blocked(const struct broker *b, const char *org, uint64_t *seq_out);
/* The street re-keyed org: its later events may be stored again. */
void sigaudit_unblock(struct broker *b, const char *org);

/* For status: {"checked", "behind", "bad", "blocked": {org: seq}}. */
json_t *sigaudit_json(const struct broker *b);

#endif
