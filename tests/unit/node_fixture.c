/* node_fixture: see node_fixture.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "node_fixture.h"

#include "config.h"
#include "log.h"
#include "testutil.h"

#include <stdio.h>

void nf_make_node_dir(const char *root, const char *street, const char *org, const char *name,
                      const char *endpoint, struct keys *street_keys_out, char *dir_out,
                      size_t size)
{
    char street_dir[TU_PATH_MAX + 16], card[4200], err[CONFIG_ERR_MAX] = "";
    struct node_config cfg;
    snprintf(street_dir, sizeof(street_dir), "%s/street", root);
    assert_rc(config_identity_create(street_dir, street, "金宇街道", endpoint, "street.card", card),
              DS_OK);
    assert_rc(keys_load(street_dir, street_keys_out), DS_OK);
    config_node_defaults(&cfg);
    assert_rc(config_card_load(card, &cfg.street, err), DS_OK);
    snprintf(cfg.org, sizeof(cfg.org), "%s", org);
    snprintf(cfg.name, sizeof(cfg.name), "%s", name);
    snprintf(cfg.broker, sizeof(cfg.broker), "%s", endpoint);
    cfg.durability = STORE_WAL;
    cfg.log_level = LOG_ERROR;
    assert_rc(config_web_set_bind(&cfg.web, ""), DS_OK);
    snprintf(dir_out, size, "%s/node", root);
    assert_rc(config_identity_create(dir_out, org, cfg.name, NULL, "node.card", card), DS_OK);
    assert_rc(config_node_save(dir_out, &cfg), DS_OK);
}
