/* fault: test-only fault points on the commit path of the event log, so that the tests
 * of "acknowledge only what is durable" (broker) and "the inbox cursor moves with the
 * events it covers" (node) can stop a process at a known point instead of hoping that a
 * SIGKILL lands in a window of microseconds. Off unless asked for:
 *   DS_FAULT_HOLD_COMMIT=PATH  while the file PATH exists, every commit that stores events
 *                              waits before its write, after logging (warn)
 *                              "fault: holding a commit of N events"; a test kills the
 *                              process then, or removes PATH to let the commit go on.
 *                              The wait ends by itself after FAULT_HOLD_MAX_MS.
 *   fault_fail_commits(n)      (unit tests) the next n commits that store events fail
 *                              with DS_EIO, writing nothing.
 * An armed fault point logs a warning when first seen, so it is never on by accident.
 * Commits of one process come from one thread (the loop), and so do these calls. */
#ifndef DUALSYNC_FAULT_H
#define DUALSYNC_FAULT_H

#include <stddef.h>

#define FAULT_HOLD_MAX_MS 120000u

/* Called by eventlog_commit before it writes a batch holding `events` events (> 0).
 * DS_OK to go on and write; DS_EIO for an injected failure (nothing may be written). */
int fault_before_commit(size_t events);

/* Makes the next n commits that store events fail (0 disarms). */
void fault_fail_commits(unsigned n);

#endif
