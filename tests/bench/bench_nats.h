/* bench_nats: a peer measured in the same run as the broker (issue 12). Debian's
 * nats-server with JetStream (file storage) on loopback, doing the broker's work: P
 * publishers each publish their share of E messages of 300 bytes and wait for each
 * publish's acknowledgement (the stream stored it), at most NATS_WINDOW unacknowledged,
 * and two durable consumers each receive every message and acknowledge it (ack-all, every
 * 256 messages, as a community confirms a DELIVER). A row is done when every publish is
 * acknowledged and both consumers have every message. The client is a small NATS protocol
 * client over plain sockets (no NATS C library in Debian), one poll loop for all its
 * connections, like the broker benchmark's virtual nodes. */
#ifndef DUALSYNC_BENCH_NATS_H
#define DUALSYNC_BENCH_NATS_H

#include <stdbool.h>
#include <stddef.h>

#define NATS_MSG_BYTES 300
#define NATS_WINDOW 4096 /* unacknowledged publishes per publisher: NODE_PUBLISH_WINDOW */

/* The nats-server to run: $DS_BENCH_NATS, else nats-server on PATH or in /usr/sbin;
 * NULL when there is none (the table then says how to install it). */
const char *nats_server_path(void);

/* What one run measured. ok is false when it failed or hit its deadline (said on stderr,
 * the server's log beside its store). */
struct nats_figures {
    bool ok;
    double rate;    /* messages acknowledged and received by both consumers, per second */
    double seconds; /* from the first publish to the last of those */
    double rss_mib; /* nats-server's peak resident size */
    double cpu_s;   /* nats-server's CPU over the run */
};

/* One run on a fresh server with its store under work_dir: publishers connections,
 * events messages, deadline_s for all of it. */
struct nats_figures nats_run(const char *work_dir, size_t publishers, size_t events,
                             double deadline_s);

#endif
