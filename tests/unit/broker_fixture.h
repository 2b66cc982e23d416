/* broker_fixture: a bare broker for the broker's unit tests (test_protocol, test_routing,
 * test_inbox): a log in a temp directory with member folds deferred (as the broker runs it), a
 * street and its key, a delivery window of 64, and no transport or signature workers (a test that
 * needs them calls broker_start). */
#ifndef DUALSYNC_TEST_BROKER_FIXTURE_H
#define DUALSYNC_TEST_BROKER_FIXTURE_H

#include "broker.h"

/* A broker on dir as street, its timers on now_ms (NULL: the wall clock). */
struct broker *bf_open(const char *dir, const char *street, uint64_t (*now_ms)(void));
/* The same as a hub (`init --hub`, cfg.hub): no orgs of its own (carry.h). */
struct broker *bf_open_hub(const char *dir, const char *street, uint64_t (*now_ms)(void));
/* The same broker on a log the test opened (and set up) itself; it takes log. */
struct broker *bf_open_log(struct eventlog *log, const char *street, uint64_t (*now_ms)(void));
/* Adds org to b's directory with k's public keys, as `org add` would. */
void bf_add_org(struct broker *b, const char *org, enum org_kind kind, const struct keys *k);
/* Frees the broker and what the test and the broker's modules made (broker_close). */
void bf_close(struct broker **bp);

#endif
