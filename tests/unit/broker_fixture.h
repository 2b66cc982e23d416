/* broker_fixture: a bare struct broker for the broker's unit tests (test_protocol,
 * test_routing): a log in a temp directory with member folds deferred (as the broker runs
 * it), the maps its modules read, a street and its key, a delivery window of 64, and no
 * transport or signature workers (a test that needs them adds them). */
#ifndef DUALSYNC_TEST_BROKER_FIXTURE_H
#define DUALSYNC_TEST_BROKER_FIXTURE_H

#include "broker.h"

/* Opens b on dir as street. */
void bf_open(struct broker *b, const char *dir, const char *street);
/* Adds org to b's directory with k's public keys, as `org add` would. */
void bf_add_org(struct broker *b, const char *org, enum org_kind kind, const struct keys *k);
/* Frees what bf_open, the test and the broker's modules made (broker_release). */
void bf_close(struct broker *b);

#endif
