/* broker_fixture: a bare broker for the broker's unit tests (test_protocol, test_routing):
 * a log in a temp directory with member folds deferred (as the broker runs it), a street
 * and its key, a delivery window of 64, and no transport or signature workers (a test
 * that needs them calls broker_start). */
#ifndef DUALSYNC_TEST_BROKER_FIXTURE_H
#define DUALSYNC_TEST_BROKER_FIXTURE_H

#include "broker.h"

/* A broker on dir as street, its timers on now_ms (NULL: the wall clock). */
struct broker *bf_open(const char *dir, const char *street, uint64_t (*now_ms)(void));
/* The config bf_open gives its broker (window 64, heartbeat 1 s, street). */
void bf_config(struct broker_config *cfg, const char *street);
/* Adds org to b's directory with k's public keys, as `org add` would. */
void bf_add_org(struct broker *b, const char *org, enum org_kind kind, const struct keys *k);
/* Frees the broker and what the test and the broker's modules made (broker_close). */
void bf_close(struct broker **bp);

#endif
