/* dualsync-node: `init` makes a unit's or community's data directory (keys, node.conf,
 * and the org's public card for the street office); `run` is the daemon. */
#include "node.h"

#include "buf.h"
#include "cliargs.h"
#include "commands.h"
#include "ctl.h"
#include "err.h"
#include "fdlimit.h"
#include "lang.h"
#include "log.h"
#include "wire.h"

#include <sodium.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const struct cli_command commands[] = {
    {"init",
     "org:,name:,street-card:,broker:,durability:,report-days:,web-bind:", "org,name,street-card",
     "初始化节点:密钥、node.conf 和本组织名片 DIR/<类别>-<编号>.card(如 "
     "community-hexie.card,发给街道);网页控制台默认在 "
     "127.0.0.1:8380,--web-bind '' 关闭 / create keys, node.conf and DIR/<kind>-<code>.card, e.g. "
     "community-hexie.card (send it to the street); the web console listens on 127.0.0.1:8380 "
     "unless --web-bind says otherwise ('' = "
     "off)",
     "--data DIR init --org unit:CODE|community:CODE --name NAME --street-card FILE "
     "[--broker tcp://HOST:PORT] [--durability fsync|wal|none] [--report-days N] "
     "[--web-bind HOST:PORT]",
     "--data unit-tax init --org unit:tax --name 市税务局 --street-card street.card --broker "
     "tcp://10.0.0.5:7700"},
    {"run", "", NULL, "运行节点守护进程(前台,Ctrl-C 停止) / run the node daemon in the foreground",
     "--data DIR run", "--data unit-tax run"},
    {"rekey", "lost-keys", NULL,
     "换钥(密钥泄露时):节点停止后生成新密钥和用旧密钥签署的轮换名片 "
     "DIR/<类别>-<编号>.rekey.card,交街道办执行 org rekey;密钥丢失时加 "
     "--lost-keys(名片无旧密钥签名,"
     "街道须电话核对指纹后用 --unsigned) / rotate the keys (a key leaked): with the node "
     "stopped, makes new keys and DIR/<kind>-<code>.rekey.card signed by the old key, for the "
     "street office's org rekey; --lost-keys when DIR/keys is gone (the card is then unsigned: "
     "the street checks the fingerprint by phone and adds --unsigned)",
     "--data DIR rekey [--lost-keys]", "--data unit-tax rekey"},
    {"street-rekey", "card:", "card",
     "接受街道的新名片(街道换钥后;须由旧街道密钥签署,节点须先停止) / take the street's new "
     "card after it rotated its keys (it must be signed by the street key this node knows; "
     "the node must be stopped)",
     "--data DIR street-rekey --card FILE", "--data unit-tax street-rekey --card street.card"},
    {"read", "", "",
     "供 dualsync 命令使用:节点未运行时,从本地记录回答标准输入上的一个只读控制请求,"
     "回复写到标准输出 / for the dualsync CLI: with the daemon stopped, answers one read-only "
     "control request from stdin out of the stored log, the reply on stdout (the CLI does "
     "not load the store itself)",
     "--data DIR read < REQUEST > REPLY", "--data unit-tax read < request.bin > reply.bin"},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};

static int fill_config(const struct cli_parsed *p, struct node_config *cfg)
{
    char err[CONFIG_ERR_MAX] = "not a street card (kind must be street)";
    const char *org = cli_get(p, "org"), *name = cli_get(p, "name");
    const char *broker = cli_get(p, "broker"), *dur = cli_get(p, "durability");
    const char *days = cli_get(p, "report-days");
    enum org_kind kind = ids_org_kind(org);
    if (kind != ORG_UNIT && kind != ORG_COMMUNITY) {
        cli_error("--org 须形如 unit:code 或 community:code(小写字母、数字、-,最多 48 个)",
                  "--org must look like unit:code or community:code ([a-z0-9-]{1,48})");
        return DS_EINVAL;
    }
    if (!ids_text_valid(name, IDS_NAME_MAX, false)) {
        cli_error("--name 须为 UTF-8 文本,最多 128 字节",
                  "--name must be UTF-8 text, at most 128 bytes");
        return DS_EINVAL;
    }
    if (config_card_load(cli_get(p, "street-card"), &cfg->street, err) != DS_OK ||
        cfg->street.kind != ORG_STREET) {
        fprintf(stderr, TR("错误: 街道名片无效: %s\n", "error: bad street card: %s\n"), err);
        return DS_EINVAL;
    }
    if (dur && store_parse_durability(dur, &cfg->durability) != DS_OK) {
        cli_error("--durability 须为 fsync、wal 或 none",
                  "--durability must be fsync, wal or none");
        return DS_EINVAL;
    }
    if (days) {
        char *end = NULL;
        unsigned long v = strtoul(days, &end, 10);
        if (!*days || *end || v < 1 || v > 365) {
            cli_error("--report-days 须为 1–365", "--report-days must be 1..365");
            return DS_EINVAL;
        }
        cfg->report_days = (uint32_t)v;
    }
    const char *web = cli_get(p, "web-bind");
    if (config_web_set_bind(&cfg->web, web ? web : CONFIG_WEB_NODE_BIND) != DS_OK) {
        cli_error("--web-bind 须形如 127.0.0.1:8380(空值关闭控制台)",
                  "--web-bind must look like 127.0.0.1:8380 ('' turns the console off)");
        return DS_EINVAL;
    }
    snprintf(cfg->org, sizeof(cfg->org), "%s", org);
    snprintf(cfg->name, sizeof(cfg->name), "%s", name);
    snprintf(cfg->broker, sizeof(cfg->broker), "%s", broker ? broker : cfg->street.endpoint);
    if (!cfg->broker[0]) {
        cli_error("街道名片没有 endpoint,请用 --broker 指定",
                  "the street card has no endpoint; give --broker");
        return DS_EINVAL;
    }
    return DS_OK;
}

/* The org's card file name, "community:hexie" -> community-hexie<suffix>. */
static void card_file(const char *org, const char *suffix, char *out, size_t size)
{
    snprintf(out, size, "%s%s", org, suffix);
    out[strcspn(out, ":")] = '-';
}

static int cmd_init(const struct cli_parsed *p)
{
    struct node_config cfg;
    config_node_defaults(&cfg);
    if (fill_config(p, &cfg) != DS_OK)
        return 2;
    char path[4200], file[IDS_ORG_MAX + 8];
    /* "community:hexie" -> community-hexie.card: the street office receives one file per
     * org, and ten files all called org.card would be a mix-up waiting to happen */
    card_file(cfg.org, ".card", file, sizeof(file));
    int rc = config_identity_create(p->data_dir, cfg.org, cfg.name, NULL, file, path);
    if (rc == DS_EEXIST)
        cli_error("该数据目录已初始化", "data directory is already initialised");
    if (rc != DS_OK || config_node_save(p->data_dir, &cfg) != DS_OK)
        return 1;
    struct org_card card;
    char err[CONFIG_ERR_MAX], fp[KEYS_FINGERPRINT_LEN] = "?";
    if (config_card_load(path, &card, err) == DS_OK)
        keys_fingerprint(card.curve_key, card.sign_key, fp);
    printf(TR("已初始化 %s。请把 %s 交给街道办,由其执行 dualsync-broker org add --card。\n"
              "密钥指纹: %s(街道办加入时会显示同一指纹,请电话核对)\n",
              "initialised %s. Give %s to the street office to run dualsync-broker org add "
              "--card.\nkey fingerprint: %s (the street sees the same when it adds the card: "
              "compare by phone)\n"),
           cfg.org, path, fp);
    return 0;
}

/* Writes the rotation card, then swaps the keys: a crash in between leaves the old keys
 * in force and a card the street can still accept (or rekey runs again). With lost, the
 * keys are new already (cmd_rekey made them) and there is no old key to sign with. */
static int rotate(struct node *n, const struct keyring *known, const char *path, bool lost)
{
    struct keys next = n->keys;
    struct org_card card;
    if (!lost)
        keys_generate(&next);
    memset(&card, 0, sizeof(card));
    snprintf(card.org, sizeof(card.org), "%s", n->cfg.org);
    snprintf(card.name, sizeof(card.name), "%s", n->cfg.name);
    card.kind = n->kind;
    memcpy(card.curve_key, next.curve_pk, KEYS_PUB_LEN);
    memcpy(card.sign_key, next.sign_pk, KEYS_PUB_LEN);
    struct keyring ring = *known;
    if (keyring_rotate(&ring, next.sign_pk, n->own_seq + 1 < 2 ? 2 : n->own_seq + 1) != DS_OK) {
        sodium_memzero(&next, sizeof(next));
        cli_error("无法换钥:历任密钥已满", "cannot rotate: the ring of keys is full");
        return 1;
    }
    config_history_of_ring(&card.history, &ring);
    if (!lost)
        keyring_rotation_sign(&n->keys, card.org, card.curve_key, card.sign_key,
                              card.history.key_from, card.rotation);
    /* our own ring in node.conf first: with it a crash before the swap leaves the old key
     * in force and reading as the last past key, which still checks every event it signed */
    n->cfg.own = card.history;
    if (config_card_save(path, &card) != DS_OK || config_node_save(n->dir, &n->cfg) != DS_OK ||
        (!lost && keys_replace(n->dir, &next) != DS_OK)) {
        sodium_memzero(&next, sizeof(next));
        return 1;
    }
    sodium_memzero(&next, sizeof(next));
    char fp[KEYS_FINGERPRINT_LEN];
    keys_fingerprint(card.curve_key, card.sign_key, fp);
    if (lost) {
        printf(TR("已生成新密钥: %s 自第 %llu 号事件起使用。旧密钥已丢失,%s 没有旧密钥签名:\n"
                  "请街道办电话核对指纹后执行 dualsync-broker org rekey --card ... --unsigned。\n"
                  "新密钥指纹: %s\n",
                  "new keys for %s from event %llu on. The old keys are lost, so %s carries no "
                  "signature of them:\nthe street office compares the fingerprint by phone and "
                  "runs dualsync-broker org rekey --card ... --unsigned.\nnew key fingerprint: "
                  "%s\n"),
               card.org, (unsigned long long)card.history.key_from, path, fp);
        return 0;
    }
    printf(TR("已换钥: %s 自第 %llu 号事件起使用新密钥。\n请把 %s 交给街道办执行 dualsync-broker "
              "org rekey --card;在此之前节点无法连接街道。\n新密钥指纹: %s(请电话核对)\n",
              "rekeyed %s: the new keys sign from event %llu on.\nGive %s to the street office "
              "for dualsync-broker org rekey --card; until then the street refuses this node.\n"
              "new key fingerprint: %s (compare by phone)\n"),
           card.org, (unsigned long long)card.history.key_from, path, fp);
    return 0;
}

/* --lost-keys: DIR/keys is gone; new keys go in its place (the store and node.conf are
 * kept). Refused when keys are there: a rotation signed by them is the better card. */
static int new_keys_for_lost(const char *dir)
{
    struct keys k;
    int rc = keys_crypto_init();
    if (rc == DS_OK && keys_load(dir, &k) != DS_ENOTFOUND) {
        sodium_memzero(&k, sizeof(k));
        cli_error("密钥仍在(或已损坏):请去掉 --lost-keys 换钥,或先把损坏的 keys 目录移开",
                  "the keys are there (or damaged): rekey without --lost-keys, or move the "
                  "damaged keys directory away first");
        return DS_EEXIST;
    }
    keys_generate(&k);
    rc = keys_save(dir, &k);
    sodium_memzero(&k, sizeof(k));
    if (rc == DS_EEXIST)
        cli_error("keys 目录仍在但不完整:请先把它移开", "the keys directory is there but "
                                                        "incomplete: move it away first");
    return rc;
}

/* A rotation (docs/OPERATIONS.md "A key leaked"): new keys from our next event on, and a
 * card saying so signed by the old key, which is what lets the street tell a rotation from
 * an impostor with a card of their own. The node must be stopped (node_open takes the
 * store's lock). */
static int cmd_rekey(const struct cli_parsed *p)
{
    struct node *n = NULL;
    bool lost = cli_get(p, "lost-keys") != NULL;
    if (lost && new_keys_for_lost(p->data_dir) != DS_OK)
        return 1;
    if (node_open(p->data_dir, &n) != DS_OK)
        return 1;
    const struct node_org *self = node_find_org(n, n->cfg.org);
    /* Lost keys: what the street knows of ours is in the directory we received. */
    struct keyring known = lost && self ? self->ring : n->own_ring;
    char file[IDS_ORG_MAX + 16], path[4200];
    card_file(n->cfg.org, ".rekey.card", file, sizeof(file));
    snprintf(path, sizeof(path), "%s/%s", p->data_dir, file);
    int rc = 1;
    if (sync_view(n).state == NODE_NEEDS_RESTORE) {
        cli_error("节点需要先恢复(restore),之后才能换钥", "restore the node before a rekey");
    } else if (lost && !self) {
        cli_error("目录中没有本组织的旧密钥,无法接续;请与街道办联系",
                  "the directory this node holds has no entry of this org: its old keys are "
                  "unknown here; ask the street office");
    } else if (!lost && self &&
               memcmp(keyring_current(&self->ring), n->keys.sign_pk, KEYS_PUB_LEN) != 0) {
        fprintf(stderr,
                TR("错误: 街道尚未接受上一次换钥;请把 %s 交给街道办执行 org rekey\n",
                   "error: the street has not accepted the last rotation yet; give %s to the "
                   "street office for org rekey\n"),
                path);
    } else if (known.n == KEYRING_MAX) {
        cli_error("换钥次数已达上限", "this org has rotated its keys as often as it may");
    } else {
        rc = rotate(n, &known, path, lost);
    }
    node_close(&n);
    return rc;
}

/* The street's new card (dualsync-broker rekey): taken only when the street key this node
 * pins signed it, so a card from anyone else cannot redirect the node. The node keeps the
 * street's earlier keys from the card, for the street events they signed. */
static int cmd_street_rekey(const struct cli_parsed *p)
{
    struct node *n = NULL;
    struct org_card card;
    char err[CONFIG_ERR_MAX];
    if (config_card_load(cli_get(p, "card"), &card, err) != DS_OK) {
        fprintf(stderr, TR("错误: 名片文件无效: %s\n", "error: bad card file: %s\n"), err);
        return 2;
    }
    if (node_open(p->data_dir, &n) != DS_OK)
        return 1;
    int rc = 1;
    if (card.kind != ORG_STREET || strcmp(card.org, n->cfg.street.org) != 0)
        fprintf(stderr,
                TR("错误: 这不是本街道(%s)的名片\n", "error: not a card of this street (%s)\n"),
                n->cfg.street.org);
    else if (memcmp(card.sign_key, n->cfg.street.sign_key, KEYS_PUB_LEN) == 0)
        cli_error("节点已在使用这张名片", "this node already uses this card");
    else if (!config_card_rotation_valid(&card, n->cfg.street.sign_key))
        cli_error("新名片不是由本节点所知的街道密钥签署的(可能是冒充),未采用",
                  "the new card is not signed by the street key this node knows (it may be an "
                  "impostor); not taken");
    else {
        snprintf(card.endpoint, sizeof(card.endpoint), "%s", n->cfg.street.endpoint);
        n->cfg.street = card;
        rc = config_node_save(n->dir, &n->cfg) == DS_OK ? 0 : 1;
    }
    if (rc == 0) {
        char fp[KEYS_FINGERPRINT_LEN];
        keys_fingerprint(card.curve_key, card.sign_key, fp);
        printf(TR("已采用街道新名片,新密钥指纹: %s。请启动节点。\n",
                  "took the street's new card, new key fingerprint: %s. Start the node.\n"),
               fp);
    }
    node_close(&n);
    return rc;
}

/* `read`: the CLI's read while no daemon runs (node/cli.c call_offline). The log is opened
 * read-only and takes no lock, so the daemon may start meanwhile. Exit 0 with the packed
 * reply on stdout; 2 a request that is not one read; 3 the records need the daemon first
 * (an older store to migrate); 1 no readable log. */
static int cmd_read(const struct cli_parsed *p)
{
    struct buf in = BUF_INIT;
    uint8_t *reply = NULL;
    size_t len = 0, rlen = 0;
    if (buf_read_fd(&in, STDIN_FILENO, CTL_READ_REQUEST_MAX) != DS_OK) {
        buf_release(&in);
        cli_error("标准输入上的请求超过 1 MiB 或无法读取",
                  "the request on stdin is over 1 MiB or unreadable");
        return 2;
    }
    uint8_t *req = (uint8_t *)buf_take(&in, &len);
    Dualsync__CtlRequest *r = wire_unpack_ctl_request(req, len);
    bool one_read =
        r && r->n_commands == 1 && r->commands[0]->cmd && ctl_reads_records(r->commands[0]->cmd);
    wire_msg_free(r);
    if (!one_read) {
        free(req);
        cli_error("标准输入上不是一个只读请求", "stdin does not hold one read request");
        return 2;
    }
    struct node *n = NULL;
    int rc = node_open_offline(p->data_dir, &n);
    if (rc != DS_OK) {
        free(req);
        return rc == DS_EAGAIN ? 3 : 1;
    }
    commands_on_ctl(n, req, len, &reply, &rlen);
    node_close(&n);
    bool written = fwrite(reply, 1, rlen, stdout) == rlen && fflush(stdout) == 0;
    free(req);
    free(reply);
    return written ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct cli_parsed p;
    log_set_component("node");
    int done = cli_start(argc, argv, "dualsync-node",
                         "单位或社区节点 / a unit's or community's node", commands, &p);
    if (done >= 0)
        return done;
    if (strcmp(p.cmd->name, "init") == 0)
        return cmd_init(&p);
    if (strcmp(p.cmd->name, "rekey") == 0)
        return cmd_rekey(&p);
    if (strcmp(p.cmd->name, "street-rekey") == 0)
        return cmd_street_rekey(&p);
    if (strcmp(p.cmd->name, "read") == 0)
        return cmd_read(&p);
    struct node *n = NULL;
    fdlimit_raise(); /* before the store sizes its table cache by it */
    if (node_open(p.data_dir, &n) != DS_OK)
        return 1;
    enum log_level level;
    if (p.log_level && log_parse_level(p.log_level, &level) == DS_OK)
        log_set_level(level);
    int rc = node_run(n);
    node_close(&n);
    return rc == DS_OK ? 0 : 1;
}
