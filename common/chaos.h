/* chaos: fault injection for the chaos test, off unless DS_CHAOS is set in the
 * environment, and not built at all with -DDS_CHAOS=OFF (the default of a Release build,
 * so the package has none: the functions below are then stubs that send every frame).
 * It sits in front of the transport's sends and drops, duplicates, delays and reorders
 * outgoing frames with the configured probabilities, reproducibly from a seed:
 *     DS_CHAOS="drop=0.1,dup=0.1,reorder=0.1,delay=0.1,seed=42"
 * A process running with chaos logs a warning at start, so it is never on by accident.
 * One thread. */
#ifndef DUALSYNC_CHAOS_H
#define DUALSYNC_CHAOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct chaos;

struct chaos_stats {
    uint64_t dropped, duplicated, reordered, delayed;
};

/* Sends one frame for real; peer is the caller's opaque destination (may be NULL). */
typedef void (*chaos_send_fn)(void *arg, const void *peer, const uint8_t *data, size_t len);

#ifdef DS_WITH_CHAOS
#define CHAOS_BUILT true

/* Parses a DS_CHAOS spec. NULL for NULL/empty spec; NULL with *bad set for a spec that
 * does not parse (the caller refuses to start). */
struct chaos *chaos_new(const char *spec, bool *bad);
void chaos_destroy(struct chaos **cp);

/* Sends (or drops, duplicates, holds) one frame. peer is copied (peer_len bytes). */
void chaos_submit(struct chaos *c, const void *peer, size_t peer_len, const uint8_t *data,
                  size_t len, uint64_t now_ms, chaos_send_fn send, void *arg);
/* Sends held frames whose time has come. Call every few ms. */
void chaos_flush(struct chaos *c, uint64_t now_ms, chaos_send_fn send, void *arg);
void chaos_stats(const struct chaos *c, struct chaos_stats *out);

#else /* built with -DDS_CHAOS=OFF (Release): no fault injection, every frame is sent */
#define CHAOS_BUILT false
static inline struct chaos *chaos_new(const char *spec, bool *bad)
{
    (void)spec;
    *bad = false;
    return NULL;
}
static inline void chaos_destroy(struct chaos **cp)
{
    *cp = NULL;
}
static inline void chaos_submit(struct chaos *c, const void *peer, size_t peer_len,
                                const uint8_t *data, size_t len, uint64_t now_ms,
                                chaos_send_fn send, void *arg)
{
    (void)c, (void)peer_len, (void)now_ms;
    send(arg, peer, data, len);
}
static inline void chaos_flush(struct chaos *c, uint64_t now_ms, chaos_send_fn send, void *arg)
{
    (void)c, (void)now_ms, (void)send, (void)arg;
}
static inline void chaos_stats(const struct chaos *c, struct chaos_stats *out)
{
    (void)c;
    memset(out, 0, sizeof(*out));
}
#endif

#endif
