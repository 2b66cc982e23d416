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

static struct broker *open_log(struct eventlog *log, const char *street, bool hub,
                               uint64_t (*now_ms)(void))
{
    struct broker_config *cfg = calloc(1, sizeof(*cfg)); /* large: not on the stack */
    assert_non_null(cfg);
    cfg->hub = hub;
    cfg->window = 64;
    cfg->heartbeat_ms = 1000;
    snprintf(cfg->street, sizeof(cfg->street), "%s", street);
    assert_rc(keys_crypto_init(), DS_OK);
    struct broker *b = broker_new(log, cfg, now_ms);
    free(cfg);
    return b;
}

struct broker *bf_open_log(struct eventlog *log, const char *street, uint64_t (*now_ms)(void))
{
    return open_log(log, street, false, now_ms);
}

static struct eventlog *open_deferred(const char *dir)
{
    struct eventlog *log = NULL;
    assert_rc(eventlog_open(dir, STORE_WAL, &log), DS_OK);
    eventlog_defer_folds(log);
    return log;
}

struct broker *bf_open(const char *dir, const char *street, uint64_t (*now_ms)(void))
{
    return open_log(open_deferred(dir), street, false, now_ms);
}

struct broker *bf_open_hub(const char *dir, const char *street, uint64_t (*now_ms)(void))
{
    return open_log(open_deferred(dir), street, true, now_ms);
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
