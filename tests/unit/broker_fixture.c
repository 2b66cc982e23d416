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

void bf_config(struct broker_config *cfg, const char *street)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->window = 64;
    cfg->heartbeat_ms = 1000;
    snprintf(cfg->street, sizeof(cfg->street), "%s", street);
}

struct broker *bf_open(const char *dir, const char *street, uint64_t (*now_ms)(void))
{
    struct eventlog *log = NULL;
    struct broker_config *cfg = calloc(1, sizeof(*cfg));
    assert_non_null(cfg);
    bf_config(cfg, street);
    assert_rc(keys_crypto_init(), DS_OK);
    assert_rc(eventlog_open(dir, STORE_WAL, &log), DS_OK);
    eventlog_defer_folds(log);
    struct broker *b = broker_new(log, cfg, now_ms);
    free(cfg);
    return b;
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

void bf_close(struct broker **bp)
{
    broker_close(bp);
}
