/* testutil: what the unit tests of common/ share: a temp directory per test (removed at the
 * end), error-code assertions that print names, a deterministic PRNG for model tests and
 * fuzz loops, and builders for signed events of each type.
 * Include after <cmocka.h> and its prerequisites (stdarg.h, stddef.h, setjmp.h). */
#ifndef DUALSYNC_TESTUTIL_H
#define DUALSYNC_TESTUTIL_H

#include "err.h"
#include "keys.h"
#include "wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TU_PATH_MAX 4096

/* Fails the test unless rc == want, naming both codes. */
#define assert_rc(rc, want) tu_assert_rc((rc), (want), #rc, __FILE__, __LINE__)
void tu_assert_rc(int rc, int want, const char *expr, const char *file, int line);

/* Creates a fresh directory /tmp/ds-unit-XXXXXX into buf (size TU_PATH_MAX). */
void tu_tmpdir(char *buf);
/* Removes path and everything under it (nftw, depth first). Missing path is fine. */
void tu_rmtree(const char *path);
/* cmocka fixture: *state becomes a fresh temp dir (a char * path), removed by the
 * teardown, which cmocka runs even when the test fails. Use tu_test_tmpdir(test) in the
 * test table. */
int tu_tmpdir_setup(void **state);
int tu_tmpdir_teardown(void **state);
#define tu_test_tmpdir(f) cmocka_unit_test_setup_teardown(f, tu_tmpdir_setup, tu_tmpdir_teardown)
/* Writes text to path (created or truncated). */
void tu_write_file(const char *path, const char *text);

/* xorshift64*: reproducible pseudo-random numbers; state must be non-zero. */
uint64_t tu_rand(uint64_t *state);
/* Uniform-ish in [0, n). n > 0. */
size_t tu_rand_below(uint64_t *state, size_t n);

/* A built and opened event: the raw bytes (owned) and the event opened over them. */
struct tu_event {
    uint8_t *raw;
    size_t len;
    struct event ev;
};

/* Builds a SignedEvent from a body message, signs it with k and opens it (the test fails
 * if it does not open). body may be NULL for an empty body. Release with tu_event_free. */
void tu_event_make(struct tu_event *out, const struct keys *k, const char *origin, uint64_t seq,
                   uint64_t hlc, const char *member, uint32_t type, const ProtobufCMessage *body);
void tu_event_free(struct tu_event *e);

/* Builders for each event type, over tu_event_make. */
void tu_event_intro(struct tu_event *out, const struct keys *k, const char *unit, uint64_t seq,
                    uint64_t hlc, const char *member, const char *community, const char *name,
                    uint32_t report_days, const char *date);
void tu_event_report(struct tu_event *out, const struct keys *k, const char *community,
                     uint64_t seq, uint64_t hlc, const char *member, const char *date);
void tu_event_card(struct tu_event *out, const struct keys *k, const char *community, uint64_t seq,
                   uint64_t hlc, const char *member, const char *occupation,
                   const char *willingness, const char *rest_time);
void tu_event_feedback(struct tu_event *out, const struct keys *k, const char *community,
                       uint64_t seq, uint64_t hlc, const char *member, uint32_t year,
                       Dualsync__Rating rating, bool non_participation, const char *text);
void tu_event_handling(struct tu_event *out, const struct keys *k, const char *unit, uint64_t seq,
                       uint64_t hlc, const char *member, const char *fb_origin, uint64_t fb_seq,
                       Dualsync__HandlingAction action, const char *text);

/* Comparator for an array of const struct event * in fold order (hlc, origin, seq). */
/* The unit's move-out and the community's return of a registration: both close it. */
void tu_event_move_out(struct tu_event *out, const struct keys *k, const char *unit, uint64_t seq,
                       uint64_t hlc, const char *member, const char *date);
void tu_event_close(struct tu_event *out, const struct keys *k, const char *community, uint64_t seq,
                    uint64_t hlc, const char *member, const char *date);
int tu_event_cmp(const void *a, const void *b);

#endif
