/* broker_fixture: see broker_fixture.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "broker_fixture.h"

#include "directory.h"
#include "inbox.h"
#include "protocol.h"
#include "receipts.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bf_open(struct broker *b, const char *dir, const char *street)
{
    memset(b, 0, sizeof(*b));
    assert_rc(keys_crypto_init(), DS_OK);
    assert_rc(eventlog_open(dir, STORE_WAL, &b->log), DS_OK);
    eventlog_defer_folds(b->log);
    b->directory = directory_new();
    b->sessions = protocol_sessions_new();
    b->inbox = inbox_new();
    b->receipts = receipts_new();
    b->cfg.window = 64;
    b->cfg.heartbeat_ms = 1000;
    snprintf(b->cfg.street, sizeof(b->cfg.street), "%s", street);
    keys_generate(&b->keys);
}

void bf_add_org(struct broker *b, const char *org, enum org_kind kind, const struct keys *k)
{
    struct org_card card;
    memset(&card, 0, sizeof(card));
    snprintf(card.org, sizeof(card.org), "%s", org);
    card.kind = kind;
    snprintf(card.name, sizeof(card.name), "%s", org);
    memcpy(card.curve_key, k->curve_pk, KEYS_PUB_LEN);
    memcpy(card.sign_key, k->sign_pk, KEYS_PUB_LEN);
    assert_rc(directory_add(b, &card), DS_OK);
}

void bf_close(struct broker *b)
{
    broker_release(b);
}
