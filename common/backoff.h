/* backoff: how long to wait before trying again something that went unanswered (a HELLO,
 * a new socket, a republish). Exponential, so that a crowd of nodes facing a busy broker
 * asks less and less often, and jittered, so that nodes that started together do not ask
 * together. Pure arithmetic: no clock, no state; the jitter comes from a seed, so a test
 * (or a node, given the same seed) gets the same delay again. */
#ifndef DUALSYNC_BACKOFF_H
#define DUALSYNC_BACKOFF_H

#include <stdint.h>

/* The delay before try number attempt + 1, attempt counting from 0 (the first retry):
 * c = min(base_ms * 2^attempt, cap_ms), then a seeded draw in [c - c/2, c] ("equal
 * jitter": never more than the cap, never less than half the exponential step).
 * Overflow-safe for any attempt; 0 when base_ms or cap_ms is 0. */
uint64_t backoff_delay_ms(unsigned attempt, uint64_t base_ms, uint64_t cap_ms, uint32_t seed);

/* A seed from a name (e.g. the org id) and a counter, so that nodes draw different delays
 * and one node draws a new one on every call. Deterministic (FNV-1a, then mixed). */
uint32_t backoff_seed(const char *name, uint32_t counter);

#endif
