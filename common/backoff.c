/* backoff: exponential delays with seeded jitter (backoff.h).
 * Design notes:
 * - "Equal jitter" (half fixed, half drawn) rather than "full jitter" (drawn from 0): a
 *   retry never comes sooner than half its step, so the first retry of a node keeps about
 *   its old patience, while nodes that started in the same second still spread over half
 *   a step. The cap bounds the drawn delay, not only the step, so callers can promise a
 *   worst case (tests wait on deadlines).
 * - The draw is a hash of (seed, attempt), not a PRNG with state: the caller owns all the
 *   state there is, and a test can predict every delay. */
#include "backoff.h"

#include <stddef.h>

/* A 32-bit finaliser (murmur3 fmix32): every input bit affects every output bit. */
static uint32_t mix32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

uint64_t backoff_delay_ms(unsigned attempt, uint64_t base_ms, uint64_t cap_ms, uint32_t seed)
{
    uint64_t step = cap_ms;
    if (base_ms == 0 || cap_ms == 0)
        return 0;
    /* base << attempt without overflow: stop doubling once the cap is reached */
    if (attempt < 64 && base_ms <= (cap_ms >> attempt))
        step = base_ms << attempt;
    uint64_t spread = step / 2;
    uint32_t draw = mix32(seed ^ mix32(attempt + 0x9e3779b9u));
    return step - (spread ? draw % (spread + 1) : 0);
}

uint32_t backoff_seed(const char *name, uint32_t counter)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)name; p && *p; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    return mix32(h ^ mix32(counter));
}
