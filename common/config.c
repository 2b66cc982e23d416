/* config: inih does the parsing; each section has a table-free handler that validates the
 * value as it is read, so a bad file fails with the exact key and line. Files are written
 * through a temp file and rename(2), so a crash never leaves half a config. */
#include "config.h"

#include "err.h"
#include "fields.h"
#include "lang.h"
#include "web.h"

#include <errno.h>
#include <ini.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct parse_ctx {
    void *out;
    char *err;
    int line;
};

static bool parse_yes_no(const char *value, bool *out)
{
    *out = strcmp(value, "yes") == 0;
    return *out || strcmp(value, "no") == 0;
}

static bool copy_field(char *dst, size_t size, const char *value)
{
    size_t n = strlen(value);
    if (n >= size)
        return false;
    memcpy(dst, value, n + 1);
    return true;
}

static bool parse_u32(const char *value, uint32_t min, uint32_t max, uint32_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(value, &end, 10);
    if (errno || !*value || *end || v < min || v > max)
        return false;
    *out = (uint32_t)v;
    return true;
}

static bool parse_u64(const char *value, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(value, &end, 10);
    if (errno || !*value || *end || *value == '-')
        return false;
    *out = v;
    return true;
}

static bool parse_key(const char *value, uint8_t out[KEYS_PUB_LEN])
{
    return keys_unhex(value, out, KEYS_PUB_LEN) == DS_OK;
}

/* ---------------------------------------------------------------- cards */

static bool history_field(struct key_history *h, const char *name, const char *value);

bool config_card_field(struct org_card *c, const char *name, const char *value)
{
    if (strcmp(name, "id") == 0)
        return copy_field(c->org, sizeof(c->org), value) && ids_org_valid(value);
    if (strcmp(name, "kind") == 0)
        return (c->kind = ids_kind_parse(value)) != ORG_NONE;
    if (strcmp(name, "name") == 0)
        return copy_field(c->name, sizeof(c->name), value) &&
               ids_text_valid(value, IDS_NAME_MAX, false);
    if (strcmp(name, "curve_key") == 0)
        return parse_key(value, c->curve_key);
    if (strcmp(name, "sign_key") == 0)
        return parse_key(value, c->sign_key);
    if (strcmp(name, "endpoint") == 0)
        return copy_field(c->endpoint, sizeof(c->endpoint), value);
    if (strcmp(name, "hub") == 0)
        return parse_yes_no(value, &c->hub);
    if (strcmp(name, "rotation") == 0)
        return keys_unhex(value, c->rotation, KEYS_SIG_LEN) == DS_OK;
    return history_field(&c->history, name, value);
}

/* "key_from = N" and "past_key = HEX FROM_SEQ" (one line per earlier key, oldest first). */
static bool history_field(struct key_history *h, const char *name, const char *value)
{
    if (strcmp(name, "key_from") == 0)
        return parse_u64(value, &h->key_from) && h->key_from >= 2;
    if (strcmp(name, "past_key") != 0)
        return false;
    char hex[KEYS_HEX_PUB_LEN];
    const char *space = strchr(value, ' ');
    if (h->n_past == KEYRING_MAX - 1 || !space || (size_t)(space - value) != KEYS_HEX_PUB_LEN - 1)
        return false;
    memcpy(hex, value, KEYS_HEX_PUB_LEN - 1);
    hex[KEYS_HEX_PUB_LEN - 1] = '\0';
    struct keyring_era *e = &h->past[h->n_past];
    if (keys_unhex(hex, e->sign_key, KEYS_PUB_LEN) != DS_OK || !parse_u64(space + 1, &e->from_seq))
        return false;
    if (h->n_past && e->from_seq <= h->past[h->n_past - 1].from_seq)
        return false;
    h->n_past++;
    return true;
}

/* The lines history_field reads; nothing for a history without a rotation. */
static void history_text(const struct key_history *h, char *buf, size_t size)
{
    char sk[KEYS_HEX_PUB_LEN];
    buf[0] = '\0';
    if (!h->key_from)
        return;
    int n = snprintf(buf, size, "key_from = %llu\n", (unsigned long long)h->key_from);
    for (size_t i = 0; i < h->n_past && n >= 0 && (size_t)n < size; i++) {
        keys_hex(h->past[i].sign_key, KEYS_PUB_LEN, sk);
        n += snprintf(buf + n, size - (size_t)n, "past_key = %s %llu\n", sk,
                      (unsigned long long)h->past[i].from_seq);
    }
}

void config_history_ring(const struct key_history *h, const uint8_t sign_key[KEYS_PUB_LEN],
                         struct keyring *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->era, h->past, h->n_past * sizeof(h->past[0]));
    out->n = h->n_past + 1;
    memcpy(out->era[h->n_past].sign_key, sign_key, KEYS_PUB_LEN);
    out->era[h->n_past].from_seq = h->key_from;
}

void config_history_of_ring(struct key_history *h, const struct keyring *ring)
{
    memset(h, 0, sizeof(*h));
    h->key_from = ring->era[ring->n - 1].from_seq;
    h->n_past = ring->n - 1;
    memcpy(h->past, ring->era, h->n_past * sizeof(ring->era[0]));
}

bool config_card_rotation_valid(const struct org_card *card, const uint8_t old_sign[KEYS_PUB_LEN])
{
    const struct key_history *h = &card->history;
    return h->key_from && h->n_past &&
           keyring_rotation_verify(old_sign, card->org, card->curve_key, card->sign_key,
                                   h->key_from, card->rotation);
}

static int card_handler(void *user, const char *section, const char *name, const char *value)
{
    struct parse_ctx *ctx = user;
    if (strcmp(section, "org") != 0 || !config_card_field(ctx->out, name, value)) {
        snprintf(ctx->err, CONFIG_ERR_MAX, "bad value for [%s] %s", section, name);
        return 0;
    }
    return 1;
}

static int load_ini(const char *path, ini_handler handler, struct parse_ctx *ctx)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(ctx->err, CONFIG_ERR_MAX, "cannot open %.300s: %s", path, strerror(errno));
        return errno == ENOENT ? DS_ENOTFOUND : DS_EIO;
    }
    char inner[CONFIG_ERR_MAX] = "";
    char *outer = ctx->err;
    ctx->err = inner;
    int line = ini_parse_file(f, handler, ctx);
    ctx->err = outer;
    fclose(f);
    if (line != 0) {
        snprintf(outer, CONFIG_ERR_MAX, "%.200s line %d: %.250s", path, line,
                 inner[0] ? inner : "syntax error");
        return DS_EINVAL;
    }
    return DS_OK;
}

/* Every card, standalone or inside node.conf, must be whole: a street card with no signing
 * key would leave the node trusting an all-zero key. Returns NULL for a whole card, else
 * the first field that is missing or wrong, so the operator's error names it. */
const char *config_card_problem(const struct org_card *c)
{
    static const uint8_t zero[KEYS_PUB_LEN] = {0};
    if (!c->org[0])
        return "id (missing)";
    if (c->kind == ORG_NONE)
        return "kind (missing)";
    if (ids_org_kind(c->org) != c->kind)
        return "kind (does not match the id)";
    if (!c->name[0])
        return "name (missing)";
    if (memcmp(c->curve_key, zero, KEYS_PUB_LEN) == 0)
        return "curve_key (missing or all zeros)";
    if (memcmp(c->sign_key, zero, KEYS_PUB_LEN) == 0)
        return "sign_key (missing or all zeros)";
    const struct key_history *h = &c->history;
    if ((h->key_from != 0) != (h->n_past != 0))
        return "key_from and past_key (a rotation card needs both)";
    if (h->n_past && h->past[h->n_past - 1].from_seq >= h->key_from)
        return "key_from (not after the last past_key)";
    return NULL;
}

/* The card parsed (rc of the parse), checked whole; where names it in the error. */
static int card_finish(int rc, const char *where, struct org_card *c, struct org_card *card_out,
                       char *err)
{
    if (rc != DS_OK)
        return rc;
    const char *problem = config_card_problem(c);
    if (problem) {
        snprintf(err, CONFIG_ERR_MAX, "%.200s: bad card: %s", where, problem);
        return DS_EINVAL;
    }
    *card_out = *c;
    return DS_OK;
}

int config_card_load(const char *path, struct org_card *card_out, char *err)
{
    struct org_card c;
    memset(&c, 0, sizeof(c));
    struct parse_ctx ctx = {&c, err, 0};
    return card_finish(load_ini(path, card_handler, &ctx), path, &c, card_out, err);
}

int config_card_parse(const char *text, struct org_card *card_out, char *err)
{
    struct org_card c;
    memset(&c, 0, sizeof(c));
    char inner[CONFIG_ERR_MAX] = "";
    struct parse_ctx ctx = {&c, inner, 0};
    int line = ini_parse_string(text, card_handler, &ctx);
    if (line != 0) {
        snprintf(err, CONFIG_ERR_MAX, "card line %d: %.250s", line,
                 inner[0] ? inner : "syntax error");
        return DS_EINVAL;
    }
    return card_finish(DS_OK, "card", &c, card_out, err);
}

static int write_atomic(const char *path, const char *text)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "cannot write %s: %s\n", tmp, strerror(errno));
        return DS_EIO;
    }
    bool ok = fputs(text, f) >= 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
        remove(tmp);
        return DS_EIO;
    }
    return DS_OK;
}

void config_card_text(const struct org_card *c, char *buf, size_t size)
{
    char ck[KEYS_HEX_PUB_LEN], sk[KEYS_HEX_PUB_LEN];
    keys_hex(c->curve_key, KEYS_PUB_LEN, ck);
    keys_hex(c->sign_key, KEYS_PUB_LEN, sk);
    int n = snprintf(buf, size,
                     "# dualsync identity card: public keys only, safe to send\n"
                     "[org]\nid = %s\nkind = %s\nname = %s\ncurve_key = %s\nsign_key = %s\n",
                     c->org, ids_kind_name(c->kind), c->name, ck, sk);
    if (c->endpoint[0] && n > 0 && (size_t)n < size)
        n += snprintf(buf + n, size - (size_t)n, "endpoint = %s\n", c->endpoint);
    if (c->hub && n > 0 && (size_t)n < size)
        n += snprintf(buf + n, size - (size_t)n, "hub = yes\n");
    static const uint8_t unsigned_rotation[KEYS_SIG_LEN] = {0};
    if (!c->history.key_from)
        return;
    if (memcmp(c->rotation, unsigned_rotation, KEYS_SIG_LEN) == 0) {
        /* new keys after lost ones (rekey --lost-keys): nothing signed them */
        if (n > 0 && (size_t)n < size)
            history_text(&c->history, buf + n, size - (size_t)n);
        return;
    }
    char sig[2 * KEYS_SIG_LEN + 1];
    keys_hex(c->rotation, KEYS_SIG_LEN, sig);
    if (n > 0 && (size_t)n < size)
        n += snprintf(buf + n, size - (size_t)n,
                      "# a rotation: these keys sign from event key_from on, the last past_key "
                      "signed it\nrotation = %s\n",
                      sig);
    if (n > 0 && (size_t)n < size)
        history_text(&c->history, buf + n, size - (size_t)n);
}

int config_card_save(const char *path, const struct org_card *card)
{
    char buf[4096];
    config_card_text(card, buf, sizeof(buf));
    int rc = write_atomic(path, buf);
    if (rc == DS_OK)
        chmod(path, 0644); /* public keys only: made to be sent, whatever the umask */
    return rc;
}

int config_identity_create(const char *dir, const char *org, const char *name, const char *endpoint,
                           const char *card_name, char *card_path_out)
{
    struct keys keys;
    struct org_card card;
    /* A directory made beforehand by hand keeps its mode (often 0755): close it, since the
     * keys and then every member go in it. */
    if ((mkdir(dir, 0700) != 0 && errno != EEXIST) || chmod(dir, 0700) != 0) {
        fprintf(stderr, TR("错误: 无法创建 %s(%s)\n", "error: cannot create %s: %s\n"), dir,
                strerror(errno));
        return DS_EIO;
    }
    int rc = keys_crypto_init();
    if (rc != DS_OK)
        return rc;
    keys_generate(&keys);
    rc = keys_save(dir, &keys);
    if (rc != DS_OK)
        return rc;
    memset(&card, 0, sizeof(card));
    snprintf(card.org, sizeof(card.org), "%s", org);
    snprintf(card.name, sizeof(card.name), "%s", name);
    snprintf(card.endpoint, sizeof(card.endpoint), "%s", endpoint ? endpoint : "");
    card.kind = ids_org_kind(org);
    memcpy(card.curve_key, keys.curve_pk, KEYS_PUB_LEN);
    memcpy(card.sign_key, keys.sign_pk, KEYS_PUB_LEN);
    snprintf(card_path_out, 4200, "%s/%s", dir, card_name);
    return config_card_save(card_path_out, &card);
}

/* ---------------------------------------------------------------- [policy] */

void config_policy_defaults(struct policy *p)
{
    memset(p, 0, sizeof(*p));
    p->feedback_per_year = 1;
    p->handling_days = 30;
    p->notice_working_days = 5;
    p->opinion_days = 15;
    p->min_activities = 4;
    p->min_hours = 8;
    p->idle_months = 6;
    p->report_rate_min = 95;
    p->former_member_days = 90;
    strcpy(p->activity_kinds, "activity-day,household-linking,volunteer-service,residents-talk");
    strcpy(p->team_kinds, "patrol,sanitation,culture");
    strcpy(p->service_categories,
           "治安巡逻,环境卫生,文化宣传,助老助残,政策宣讲,矛盾调解,关爱青少年");
    strcpy(p->lead_items, "带头学习提高,带头争创佳绩,带头服务群众,带头遵纪守法,带头弘扬正气");
}

bool config_list_has(const char *list, const char *item)
{
    size_t n = strlen(item);
    for (const char *p = list; n && *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, item, n) == 0)
            return true;
        p += len + (p[len] == ',');
    }
    return false;
}

/* Appends the items of one line; the first line of a key replaces the default list. */
static bool list_field(struct policy *p, unsigned bit, char *list, const char *value, bool codes)
{
    if (!(p->lists_seen & bit))
        list[0] = '\0';
    p->lists_seen |= bit;
    for (const char *v = value; *v;) {
        size_t len = strcspn(v, ",");
        char item[FIELDS_ITEM_MAX + 1];
        while (len && (*v == ' ' || *v == '\t'))
            v++, len--;
        while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
            len--;
        if (len == 0 || len > FIELDS_ITEM_MAX)
            return false;
        memcpy(item, v, len);
        item[len] = '\0';
        if (codes ? !ids_code_valid(item) : !ids_text_valid(item, FIELDS_ITEM_MAX, false))
            return false;
        size_t used = strlen(list);
        if (used + len + 2 > POLICY_LIST_MAX)
            return false;
        snprintf(list + used, POLICY_LIST_MAX - used, "%s%s", used ? "," : "", item);
        v += strcspn(v, ",");
        v += *v == ',';
    }
    return true;
}

static bool policy_field(struct policy *p, const char *name, const char *value)
{
    if (strcmp(name, "feedback_per_year") == 0)
        return parse_u32(value, 1, 4, &p->feedback_per_year) &&
               p->feedback_per_year != 3; /* 1, 2 or 4 */
    if (strcmp(name, "handling_days") == 0)
        return parse_u32(value, 1, 365, &p->handling_days);
    if (strcmp(name, "notice_working_days") == 0)
        return parse_u32(value, 1, 60, &p->notice_working_days);
    if (strcmp(name, "opinion_days") == 0)
        return parse_u32(value, 1, 365, &p->opinion_days);
    if (strcmp(name, "min_activities") == 0)
        return parse_u32(value, 0, 365, &p->min_activities);
    if (strcmp(name, "min_hours") == 0)
        return parse_u32(value, 0, 8760, &p->min_hours);
    if (strcmp(name, "idle_months") == 0)
        return parse_u32(value, 1, 60, &p->idle_months);
    if (strcmp(name, "report_rate_min") == 0)
        return parse_u32(value, 0, 100, &p->report_rate_min);
    if (strcmp(name, "former_member_days") == 0)
        return parse_u32(value, 0, 3650, &p->former_member_days);
    if (strcmp(name, "activity_kinds") == 0)
        return list_field(p, 1u, p->activity_kinds, value, true);
    if (strcmp(name, "team_kinds") == 0)
        return list_field(p, 2u, p->team_kinds, value, true);
    if (strcmp(name, "service_categories") == 0)
        return list_field(p, 4u, p->service_categories, value, false);
    if (strcmp(name, "lead_items") == 0)
        return list_field(p, 8u, p->lead_items, value, false);
    return false;
}

/* One list as "key = a,b,c" lines short enough for inih to read back. */
static void list_text(char *buf, size_t size, const char *key, const char *list)
{
    size_t used = strlen(buf);
    const char *p = list;
    while (*p && used + 1 < size) {
        size_t take = 0, next;
        while (p[take] && take < 120) {
            next = strcspn(p + take, ",");
            if (take && take + next > 120)
                break;
            take += next + (p[take + next] == ',');
        }
        int n = snprintf(buf + used, size - used, "%s = %.*s\n", key,
                         (int)(take && p[take - 1] == ',' ? take - 1 : take), p);
        used += n > 0 ? (size_t)n : 0;
        p += take;
    }
}

static void policy_text(const struct policy *p, char *buf, size_t size)
{
    snprintf(buf, size,
             "\n# thresholds and lists of the practice (see README: settings)\n[policy]\n"
             "feedback_per_year = %" PRIu32 "\nhandling_days = %" PRIu32
             "\nnotice_working_days = %" PRIu32 "\nopinion_days = %" PRIu32
             "\nmin_activities = %" PRIu32 "\nmin_hours = %" PRIu32 "\nidle_months = %" PRIu32
             "\nreport_rate_min = %" PRIu32 "\nformer_member_days = %" PRIu32 "\n",
             p->feedback_per_year, p->handling_days, p->notice_working_days, p->opinion_days,
             p->min_activities, p->min_hours, p->idle_months, p->report_rate_min,
             p->former_member_days);
    list_text(buf, size, "activity_kinds", p->activity_kinds);
    list_text(buf, size, "team_kinds", p->team_kinds);
    list_text(buf, size, "service_categories", p->service_categories);
    list_text(buf, size, "lead_items", p->lead_items);
}

/* ---------------------------------------------------------------- node.conf */

/* [web]: checked for shape here; whether an address may be served without TLS is decided
 * when the daemon starts (console.c), where the operator sees the refusal. */
static bool web_field(struct web_config *w, const char *name, const char *value)
{
    char host[CONFIG_ENDPOINT_MAX];
    uint16_t port;
    if (strcmp(name, "bind") == 0 || strcmp(name, "metrics_bind") == 0) {
        char *dst = name[0] == 'b' ? w->bind : w->metrics_bind;
        return copy_field(dst, CONFIG_ENDPOINT_MAX, value) &&
               (!value[0] || web_parse_bind(value, host, sizeof(host), &port) == DS_OK);
    }
    if (strcmp(name, "cert") == 0)
        return copy_field(w->cert, sizeof(w->cert), value);
    if (strcmp(name, "key") == 0)
        return copy_field(w->key, sizeof(w->key), value);
    if (strcmp(name, "allow_plaintext") == 0)
        return parse_yes_no(value, &w->allow_plaintext);
    if (strcmp(name, "idle_minutes") == 0)
        return parse_u32(value, 1, 24 * 60, &w->idle_minutes);
    return false;
}

int config_web_set_bind(struct web_config *w, const char *bind)
{
    return web_field(w, "bind", bind) ? DS_OK : DS_EINVAL;
}

static void web_defaults(struct web_config *w)
{
    memset(w, 0, sizeof(*w));
    w->idle_minutes = 30;
}

static void web_text(const struct web_config *w, char *buf, size_t size)
{
    snprintf(buf, size,
             "\n# the web console: empty bind = off; cert + key (PEM) = HTTPS; an address other\n"
             "# than loopback needs TLS unless allow_plaintext = yes\n[web]\nbind = %s\n"
             "%s%s%s%s%s%sallow_plaintext = %s\nidle_minutes = %" PRIu32 "\n%s%s%s",
             w->bind, w->cert[0] ? "cert = " : "", w->cert, w->cert[0] ? "\n" : "",
             w->key[0] ? "key = " : "", w->key, w->key[0] ? "\n" : "",
             w->allow_plaintext ? "yes" : "no", w->idle_minutes,
             w->metrics_bind[0] ? "metrics_bind = " : "", w->metrics_bind,
             w->metrics_bind[0] ? "\n" : "");
}

void config_node_defaults(struct node_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->durability = STORE_FSYNC;
    cfg->report_days = 30;
    cfg->heartbeat_ms = 1000;
    cfg->log_level = LOG_INFO;
    config_policy_defaults(&cfg->policy);
    web_defaults(&cfg->web);
}

static bool node_field(struct node_config *c, const char *name, const char *value)
{
    if (strcmp(name, "org") == 0)
        return copy_field(c->org, sizeof(c->org), value) && ids_org_valid(value);
    if (strcmp(name, "name") == 0) /* optional: a config saved without one loads back */
        return copy_field(c->name, sizeof(c->name), value) &&
               ids_text_valid(value, IDS_NAME_MAX, true);
    if (strcmp(name, "broker") == 0)
        return copy_field(c->broker, sizeof(c->broker), value);
    if (strcmp(name, "durability") == 0)
        return store_parse_durability(value, &c->durability) == DS_OK;
    if (strcmp(name, "report_days") == 0)
        return parse_u32(value, 1, 365, &c->report_days);
    if (strcmp(name, "heartbeat_ms") == 0)
        return parse_u32(value, 100, 60000, &c->heartbeat_ms);
    if (strcmp(name, "log_level") == 0)
        return log_parse_level(value, &c->log_level) == DS_OK;
    return history_field(&c->own, name, value);
}

static int node_handler(void *user, const char *section, const char *name, const char *value)
{
    struct parse_ctx *ctx = user;
    struct node_config *c = ctx->out;
    bool ok = strcmp(section, "node") == 0     ? node_field(c, name, value)
              : strcmp(section, "org") == 0    ? config_card_field(&c->street, name, value)
              : strcmp(section, "policy") == 0 ? policy_field(&c->policy, name, value)
              : strcmp(section, "web") == 0    ? web_field(&c->web, name, value)
                                               : false;
    if (!ok) {
        snprintf(ctx->err, CONFIG_ERR_MAX, "bad value for [%s] %s", section, name);
        return 0;
    }
    return 1;
}

int config_node_load(const char *dir, struct node_config *cfg_out, char *err)
{
    char path[4096];
    struct node_config c;
    config_node_defaults(&c);
    snprintf(path, sizeof(path), "%s/node.conf", dir);
    struct parse_ctx ctx = {&c, err, 0};
    int rc = load_ini(path, node_handler, &ctx);
    if (rc != DS_OK)
        return rc;
    if (!c.org[0] || ids_org_kind(c.org) == ORG_STREET || !c.broker[0] ||
        c.street.kind != ORG_STREET) {
        snprintf(err, CONFIG_ERR_MAX,
                 "node.conf: needs [node] org (a unit or community), broker, and the street's "
                 "[org] card");
        return DS_EINVAL;
    }
    const char *problem = config_card_problem(&c.street);
    if (problem) {
        snprintf(err, CONFIG_ERR_MAX, "node.conf: bad street card in [org]: %s", problem);
        return DS_EINVAL;
    }
    *cfg_out = c;
    return DS_OK;
}

int config_node_save(const char *dir, const struct node_config *cfg)
{
    char path[4096], card[4096], buf[8192], policy[6144], web[3200], all[18000];
    snprintf(path, sizeof(path), "%s/node.conf", dir);
    config_card_text(&cfg->street, card, sizeof(card));
    char keys[2048];
    history_text(&cfg->own, keys, sizeof(keys)); /* our earlier signing keys, after a rekey */
    static const char *const levels[] = {"error", "warn", "info", "debug"};
    snprintf(buf, sizeof(buf),
             "# dualsync node settings\n[node]\norg = %s\nname = %s\nbroker = %s\n"
             "durability = %s\nreport_days = %" PRIu32 "\nheartbeat_ms = %" PRIu32
             "\nlog_level = %s\n%s\n# the street office's identity card\n%s",
             cfg->org, cfg->name, cfg->broker, store_durability_name(cfg->durability),
             cfg->report_days, cfg->heartbeat_ms, levels[cfg->log_level], keys, strchr(card, '['));
    policy_text(&cfg->policy, policy, sizeof(policy));
    web_text(&cfg->web, web, sizeof(web));
    snprintf(all, sizeof(all), "%s%s%s", buf, policy, web);
    return write_atomic(path, all);
}

/* ---------------------------------------------------------------- broker.conf */

void config_broker_defaults(struct broker_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->durability = STORE_FSYNC;
    cfg->window = 2048;
    cfg->heartbeat_ms = 1000;
    cfg->log_level = LOG_INFO;
    cfg->figures_seconds = CONFIG_FIGURES_SECONDS;
    config_policy_defaults(&cfg->policy);
    web_defaults(&cfg->web);
    strcpy(cfg->bind, "tcp://127.0.0.1:7700");
}

static bool broker_field(struct broker_config *c, const char *name, const char *value)
{
    if (strcmp(name, "street") == 0)
        return copy_field(c->street, sizeof(c->street), value) && ids_org_kind(value) == ORG_STREET;
    if (strcmp(name, "name") == 0)
        return copy_field(c->name, sizeof(c->name), value) &&
               ids_text_valid(value, IDS_NAME_MAX, false);
    if (strcmp(name, "bind") == 0)
        return copy_field(c->bind, sizeof(c->bind), value);
    if (strcmp(name, "durability") == 0)
        return store_parse_durability(value, &c->durability) == DS_OK;
    if (strcmp(name, "window") == 0)
        return parse_u32(value, 1, 1000000, &c->window);
    if (strcmp(name, "heartbeat_ms") == 0)
        return parse_u32(value, 100, 60000, &c->heartbeat_ms);
    if (strcmp(name, "log_level") == 0)
        return log_parse_level(value, &c->log_level) == DS_OK;
    if (strcmp(name, "hub") == 0)
        return parse_yes_no(value, &c->hub);
    if (strcmp(name, "figures_seconds") == 0)
        return parse_u32(value, 1, 86400, &c->figures_seconds);
    return history_field(&c->own, name, value);
}

static int broker_handler(void *user, const char *section, const char *name, const char *value)
{
    struct parse_ctx *ctx = user;
    struct broker_config *c = ctx->out;
    bool ok = strcmp(section, "broker") == 0   ? broker_field(c, name, value)
              : strcmp(section, "policy") == 0 ? policy_field(&c->policy, name, value)
              : strcmp(section, "web") == 0    ? web_field(&c->web, name, value)
                                               : false;
    if (!ok) {
        snprintf(ctx->err, CONFIG_ERR_MAX, "bad value for [%s] %s", section, name);
        return 0;
    }
    return 1;
}

int config_broker_load(const char *dir, struct broker_config *cfg_out, char *err)
{
    char path[4096];
    struct broker_config c;
    config_broker_defaults(&c);
    snprintf(path, sizeof(path), "%s/broker.conf", dir);
    struct parse_ctx ctx = {&c, err, 0};
    int rc = load_ini(path, broker_handler, &ctx);
    if (rc != DS_OK)
        return rc;
    if (!c.street[0] || !c.name[0]) {
        snprintf(err, CONFIG_ERR_MAX, "broker.conf: needs [broker] street and name");
        return DS_EINVAL;
    }
    *cfg_out = c;
    return DS_OK;
}

int config_broker_save(const char *dir, const struct broker_config *cfg)
{
    char path[4096], buf[6200], keys[2048], policy[6144], web[3200], all[16000], figures[48] = "";
    static const char *const levels[] = {"error", "warn", "info", "debug"};
    snprintf(path, sizeof(path), "%s/broker.conf", dir);
    history_text(&cfg->own, keys, sizeof(keys)); /* the street's earlier signing keys */
    if (cfg->figures_seconds != CONFIG_FIGURES_SECONDS)
        snprintf(figures, sizeof(figures), "figures_seconds = %" PRIu32 "\n", cfg->figures_seconds);
    snprintf(buf, sizeof(buf),
             "# dualsync broker settings (street office)\n[broker]\nstreet = %s\nname = %s\n"
             "bind = %s\ndurability = %s\nwindow = %" PRIu32 "\nheartbeat_ms = %" PRIu32
             "\nlog_level = %s\n%s%s%s",
             cfg->street, cfg->name, cfg->bind, store_durability_name(cfg->durability), cfg->window,
             cfg->heartbeat_ms, levels[cfg->log_level], cfg->hub ? "hub = yes\n" : "", figures,
             keys);
    policy_text(&cfg->policy, policy, sizeof(policy));
    web_text(&cfg->web, web, sizeof(web));
    snprintf(all, sizeof(all), "%s%s%s", buf, policy, web);
    return write_atomic(path, all);
}
