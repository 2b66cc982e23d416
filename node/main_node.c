/* dualsync-node: `init` makes a unit's or community's data directory (keys, node.conf,
 * and the org's public card for the street office); `run` is the daemon. */
#include "node.h"

#include "cliargs.h"
#include "err.h"
#include "lang.h"
#include "log.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

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

static int cmd_init(const struct cli_parsed *p)
{
    struct node_config cfg;
    config_node_defaults(&cfg);
    if (fill_config(p, &cfg) != DS_OK)
        return 2;
    char path[4200], file[IDS_ORG_MAX + 8];
    /* "community:hexie" -> community-hexie.card: the street office receives one file per
     * org, and ten files all called org.card would be a mix-up waiting to happen */
    snprintf(file, sizeof(file), "%s.card", cfg.org);
    file[strcspn(file, ":")] = '-';
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
    struct node *n = NULL;
    if (node_open(p.data_dir, &n) != DS_OK)
        return 1;
    enum log_level level;
    if (p.log_level && log_parse_level(p.log_level, &level) == DS_OK)
        log_set_level(level);
    int rc = node_run(n);
    node_close(&n);
    return rc == DS_OK ? 0 : 1;
}
