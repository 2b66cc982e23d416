/* config: the files an operator reads, writes and exchanges, all INI (inih):
 *   <data dir>/node.conf    a node's settings (org, broker endpoint, street keys, ...)
 *   <data dir>/broker.conf  the broker's settings (street id, bind endpoint, window, ...)
 *   *.card                  an org's public identity card, exchanged with the street office:
 *                           org id, kind, name, CURVE and signing public keys, and for the
 *                           street also the endpoint nodes connect to.
 * Every value is validated on load; a bad file is refused with the line and the reason. */
#ifndef DUALSYNC_CONFIG_H
#define DUALSYNC_CONFIG_H

#include "ids.h"
#include "keyring.h"
#include "keys.h"
#include "log.h"
#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* inih (Debian's build) reads lines of at most 199 bytes: a longer endpoint would save
 * but not load back, so endpoints are capped well below that. */
#define CONFIG_ENDPOINT_MAX 160
#define CONFIG_ERR_MAX 512

/* An identity's earlier signing keys, after a rotation: the current key signs from event
 * key_from on, past[] (oldest first) the events before. key_from 0: never rotated. Kept in
 * a rotation card, and in node.conf / broker.conf for the process's own keys, beside keys/,
 * so that a node or broker that lost db/ still checks its own old events. */
struct key_history {
    uint64_t key_from;
    size_t n_past;
    struct keyring_era past[KEYRING_MAX - 1];
};

/* The ring of a history whose current key is sign_key. */
void config_history_ring(const struct key_history *h, const uint8_t sign_key[KEYS_PUB_LEN],
                         struct keyring *out);
/* The history of ring: its eras but the last as the past, the last one's start as key_from. */
void config_history_of_ring(struct key_history *h, const struct keyring *ring);

struct org_card {
    char org[IDS_ORG_MAX];
    enum org_kind kind;
    char name[IDS_NAME_MAX + 1];
    uint8_t curve_key[KEYS_PUB_LEN];
    uint8_t sign_key[KEYS_PUB_LEN];
    char endpoint[CONFIG_ENDPOINT_MAX]; /* street cards only */
    bool hub; /* street cards only: a hub (`init --hub`), relaying between linked streets */
    /* A rotation card (`dualsync-node rekey`, `dualsync-broker rekey`): the keys above sign
     * from event history.key_from on, the earlier keys are history.past, and rotation is
     * the last past key's signature of that (keyring_rotation_sign). key_from 0: a first
     * card, none of these. */
    struct key_history history;
    uint8_t rotation[KEYS_SIG_LEN];
};

/* The signing keys of a card as a ring (its past keys, then its own from key_from). */
#define config_card_keyring(card, out) config_history_ring(&(card)->history, (card)->sign_key, out)
/* Whether a rotation card's rotation is signed by old_sign (the key it rotates away from:
 * usually its last past key, unless that key never signed anything and was dropped). */
bool config_card_rotation_valid(const struct org_card *card, const uint8_t old_sign[KEYS_PUB_LEN]);

#define POLICY_LIST_MAX 1024

/* The thresholds and lists of the practice, [policy] in node.conf and broker.conf. Every
 * one has a default (config_policy_defaults); the README lists them. Lists are comma
 * separated and may continue on further lines with the same key. */
struct policy {
    uint32_t feedback_per_year;   /* 1 yearly (default), 2, or 4 quarterly */
    uint32_t handling_days;       /* a handling result is due this long after the feedback */
    uint32_t notice_working_days; /* a public notice runs at least this many working days */
    uint32_t opinion_days;        /* reply time when an opinion request names no due date */
    uint32_t min_activities;      /* activities per member per year */
    uint32_t min_hours;           /* volunteer service hours per member per year */
    uint32_t idle_months;         /* no activity this long: long non-participation */
    uint32_t report_rate_min;     /* % below which the street report flags an org */
    uint32_t former_member_days;  /* a closed registration's personal fields kept this long */
    char activity_kinds[POLICY_LIST_MAX];
    char team_kinds[POLICY_LIST_MAX];
    char service_categories[POLICY_LIST_MAX];
    char lead_items[POLICY_LIST_MAX]; /* the "take the lead" checklist */
    unsigned lists_seen;              /* parse state: lists given in the file replace defaults */
};

void config_policy_defaults(struct policy *p);
/* Whether item is one of a comma separated list. */
bool config_list_has(const char *list, const char *item);

/* [web] in node.conf and broker.conf: the daemon's web console (docs/CONSOLE.md). A file
 * without the section, or with an empty bind, has the console off; `init` writes the
 * defaults below. */
#define CONFIG_PATH_MAX 1024
#define CONFIG_WEB_NODE_BIND "127.0.0.1:8380"
#define CONFIG_WEB_BROKER_BIND "127.0.0.1:8390"
struct web_config {
    char bind[CONFIG_ENDPOINT_MAX]; /* HOST:PORT, or "" for no console */
    char cert[CONFIG_PATH_MAX];     /* PEM certificate and key: both set = HTTPS */
    char key[CONFIG_PATH_MAX];
    bool allow_plaintext;                   /* plain HTTP on an address other than loopback */
    uint32_t idle_minutes;                  /* a session unused this long ends (default 30) */
    char metrics_bind[CONFIG_ENDPOINT_MAX]; /* optional: /metrics without login here */
};

/* Sets w->bind for `init --web-bind`: "" turns the console off. DS_EINVAL for an address
 * that is not HOST:PORT. */
int config_web_set_bind(struct web_config *w, const char *bind);

struct node_config {
    char org[IDS_ORG_MAX];
    char name[IDS_NAME_MAX + 1];
    char broker[CONFIG_ENDPOINT_MAX];
    struct org_card street;
    enum store_durability durability;
    uint32_t report_days;
    uint32_t heartbeat_ms;
    enum log_level log_level;
    struct policy policy;
    struct web_config web;
    struct key_history own; /* our earlier signing keys, after `dualsync-node rekey` */
};

/* broker.conf's figures_seconds by default: a street's report figures to a linked hub at most
 * once a minute (broker/links.h). */
#define CONFIG_FIGURES_SECONDS 60u

struct broker_config {
    char street[IDS_ORG_MAX];
    char name[IDS_NAME_MAX + 1];
    char bind[CONFIG_ENDPOINT_MAX];
    enum store_durability durability;
    uint32_t window; /* unconfirmed events in flight per recipient */
    uint32_t heartbeat_ms;
    enum log_level log_level;
    struct policy policy;
    struct web_config web;
    struct key_history own; /* the street's earlier signing keys, after `dualsync-broker rekey` */
    bool hub;               /* a hub: no orgs of its own, relays between the streets linked to it */
    uint32_t figures_seconds; /* report figures to a linked hub at most this often (links.h) */
};

/* Defaults for a fresh config. */
void config_node_defaults(struct node_config *cfg);
void config_broker_defaults(struct broker_config *cfg);

/* Loads dir/node.conf (or dir/broker.conf). DS_OK, DS_ENOTFOUND (no such file),
 * DS_EINVAL with a message in err (size CONFIG_ERR_MAX) naming the line and the reason. */
int config_node_load(const char *dir, struct node_config *cfg_out, char *err);
int config_broker_load(const char *dir, struct broker_config *cfg_out, char *err);
/* Writes the config atomically (temp file + rename). DS_OK or DS_EIO (logged). */
int config_node_save(const char *dir, const struct node_config *cfg);
int config_broker_save(const char *dir, const struct broker_config *cfg);

int config_card_load(const char *path, struct org_card *card_out, char *err);
/* One "name = value" line of a card; false when the name is unknown or the value bad. */
bool config_card_field(struct org_card *c, const char *name, const char *value);
/* NULL for a whole card, else the first field missing or wrong (for the error message). */
const char *config_card_problem(const struct org_card *c);

/* The identity of a new data directory: creates dir (0700) if missing, fresh keys under
 * it, and the public card of org (with endpoint, for a street) at dir/card_name, whose
 * path goes to card_path_out (size >= 4200). DS_EEXIST when dir already holds keys;
 * DS_EIO (printed for the operator). */
int config_identity_create(const char *dir, const char *org, const char *name, const char *endpoint,
                           const char *card_name, char *card_path_out);
int config_card_save(const char *path, const struct org_card *card);
/* The card as its file says it (an INI [org] section), into buf; and back: DS_OK, or
 * DS_EINVAL with err (a card must be whole, as config_card_load's). */
void config_card_text(const struct org_card *c, char *buf, size_t size);
int config_card_parse(const char *text, struct org_card *card_out, char *err);

#endif
