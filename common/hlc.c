/* hlc: the packed form makes the classic HLC rules one max():
 * l' = max(l, pt), c' = (l' == l) ? c + 1 : 0 is exactly max(last + 1, pt << 16),
 * with a counter overflow carrying into the ms part (still monotonic, still causal). */
#include "hlc.h"

#include <time.h>

uint64_t hlc_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t hlc_tick(struct hlc *clock, uint64_t wall_ms)
{
    uint64_t physical = wall_ms << HLC_COUNTER_BITS;
    uint64_t next = clock->last + 1;
    if (physical > next)
        next = physical;
    clock->last = next;
    return next;
}

void hlc_observe(struct hlc *clock, uint64_t remote)
{
    if (remote > clock->last)
        clock->last = remote;
}

uint64_t hlc_ms(uint64_t ts)
{
    return ts >> HLC_COUNTER_BITS;
}
