/* hlc: hybrid logical clock. A timestamp is (wall ms << 16) | counter, so it orders like
 * wall time when clocks agree and still orders causally when they do not: every local
 * event and every received event advances the clock past everything seen.
 * The wall clock is a parameter, never read here, so tests can drive time. */
#ifndef DUALSYNC_HLC_H
#define DUALSYNC_HLC_H

#include <stdint.h>

struct hlc {
    uint64_t last; /* highest timestamp issued or observed */
};

#define HLC_COUNTER_BITS 16

/* Wall-clock milliseconds since the epoch (CLOCK_REALTIME). */
uint64_t hlc_wall_ms(void);

/* Issues a timestamp for a local event: greater than every earlier one and not earlier
 * than wall_ms. */
uint64_t hlc_tick(struct hlc *clock, uint64_t wall_ms);

/* Records a timestamp received from a peer, so later local events sort after it. */
void hlc_observe(struct hlc *clock, uint64_t remote);

/* The wall-clock part of a timestamp, in ms. */
uint64_t hlc_ms(uint64_t ts);

#endif
