/* dualsync-broker: the street office's command line. `run` serves; the other commands
 * talk to the running broker through its control socket, or, when it is not running,
 * open the data directory and run the very same control handler in-process, so both
 * paths behave identically. */
#include "broker.h"
#include "directory.h"
#include "report.h"

#include "accounts.h"
#include "audit.h"
#include "cliargs.h"
#include "ctl.h"
#include "err.h"
#include "fdlimit.h"
#include "lang.h"
#include "log.h"
#include "wire.h"
#include "xalloc.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct cli_command commands[] = {
    {"init", "street:,name:,bind:,durability:,window:,web-bind:,hub", "street,name",
     "初始化街道 broker 的数据目录、密钥和街道名片;街道控制台默认在 127.0.0.1:8390,--web-bind '' "
     "关闭;--hub:区或市的中转 broker,没有自己的组织,在与它互联的街道之间转送 / create the "
     "data dir, keys and street.card; the street console listens on 127.0.0.1:8390 unless "
     "--web-bind says otherwise ('' = off); --hub: a district's or the city's relay, with no "
     "orgs of its own, between the streets linked to it",
     "--data DIR init --street street:CODE --name NAME [--bind tcp://127.0.0.1:7700] "
     "[--durability fsync|wal|none] [--window N] [--web-bind HOST:PORT] [--hub]",
     "--data street init --street street:jinyu --name 金宇路街道 --bind tcp://0.0.0.0:7700"},
    {"run", "", NULL, "运行 broker(前台,Ctrl-C 停止) / run in the foreground (Ctrl-C stops)",
     "--data DIR run", "--data street run"},
    {"rekey", "", NULL,
     "更换街道密钥(broker 停止时):新的 street.card 由旧密钥签署,须发给每个节点执行 "
     "dualsync-node street-rekey / rotate the street's keys (broker stopped): the new "
     "street.card is signed by the old key; every node takes it with dualsync-node street-rekey",
     "--data DIR rekey", "--data street rekey"},
    {"org add", "card:,org:,name:,curve-key:,sign-key:", NULL,
     "把单位或社区加入目录(运行中也可) / add a unit or community (also while running)",
     "--data DIR org add --card FILE | --org ID --name NAME --curve-key HEX --sign-key HEX",
     "--data street org add --card community-hexie.card"},
    {"org list", "", NULL, "列出目录中的组织 / the directory", "--data DIR org list [--json]",
     "--data street org list"},
    {"org revoke", "_,reason:", "_",
     "吊销组织:立即拒绝其密钥、断开连接,发给它的信件暂存至重新换钥 / revoke an org: its key is "
     "refused at once and its sessions closed; letters to it are held until it is rekeyed",
     "--data DIR org revoke ORG [--reason TEXT]",
     "--data street org revoke unit:tax --reason 密钥泄露"},
    {"org rekey", "card:,unsigned", "card",
     "换钥:接受组织用旧密钥签署的新名片(dualsync-node rekey 生成) / accept an org's new card, "
     "signed by its old key (made by dualsync-node rekey); --unsigned for an org that lost its "
     "keys, after comparing fingerprints by phone",
     "--data DIR org rekey --card FILE [--unsigned]",
     "--data street org rekey --card unit-tax.rekey.card"},
    {"org remove", "_,reason:,force", "_",
     "移除撤销的组织(编号不再复用);有在册党员时拒绝,--force 一并关闭其登记 / remove an org "
     "for good (its id is not reused); refused while it has members registered unless --force "
     "closes those registrations",
     "--data DIR org remove ORG [--reason TEXT] [--force]",
     "--data street org remove unit:tax --reason 单位撤销"},
    {"peer add", "card:", "card",
     "与另一街道的 broker 建立对等连接(双方各加对方的 street.card,先电话核对指纹) / link with "
     "another street's broker: both offices add the other's street.card (compare the "
     "fingerprint by phone first)",
     "--data DIR peer add --card OTHER-street.card", "--data street peer add --card xinhua.card"},
    {"peer rekey", "card:", "card",
     "采用对等街道换钥后的新名片(须由本连接所知的旧密钥签署) / take a linked street's new card "
     "after its rekey (it must be signed by the key this link knows)",
     "--data DIR peer rekey --card OTHER-street.card",
     "--data street peer rekey --card xinhua.card"},
    {"peer list", "", NULL,
     "列出对等街道及连接进度 / the linked streets: connected, directory cursor, lag",
     "--data DIR peer list [--json]", "--data street peer list"},
    {"peer remove", "_", "_",
     "断开与某街道的对等连接(已同步的组织保留) / unlink a street (the orgs learned from it stay "
     "as last announced)",
     "--data DIR peer remove STREET", "--data street peer remove street:xinhua"},
    {"status", "", NULL, "显示 broker 状态 / status: every node's connection, progress, counters",
     "--data DIR status [--json]", "--data street status"},
    {"digest", "member:", "member",
     "成员记录摘要(只含摘要和事件数) / a member's digest and event count only",
     "--data DIR digest --member M [--json]", "--data street digest --member DY-0001"},
    {"digests", "", NULL,
     "全部成员的记录摘要,用于核对一致性 / every member's digest, to check convergence",
     "--data DIR digests [--json]", "--data street digests --json"},
    {"report", "year:,as-of:,csv,excel,xlsx:,city", NULL,
     "双重管理督查报告(只含统计数字);hub 上 --city 汇总各街道报送的数字 / supervision report "
     "per unit and community: report rate, feedback coverage, overdue items (counts only); on a "
     "hub, --city sums the figures the linked streets send",
     "--data DIR report --year Y [--as-of YYYY-MM-DD] | --city  [--json | --csv [--excel] | "
     "--xlsx FILE]",
     "--data street report --year 2026 --csv > 2026.csv"},
    {"meeting add", "date:,title:,attendees:,decisions:", "date,title,attendees,decisions",
     "记录联席会议并送达各参会单位、社区 / record a joint meeting, delivered to its attendees",
     "--data DIR meeting add --date D --title T --attendees ORG,ORG --decisions TEXT",
     "--data street meeting add --date 2026-03-20 --title 第一季度联席会议 --attendees "
     "unit:tax,community:hexie --decisions 共建志愿服务队"},
    {"meetings", "", NULL, "列出联席会议记录 / the joint meetings", "--data DIR meetings [--json]",
     "--data street meetings"},
    {"claims", "", NULL,
     "列出尚待报到确认、被多个单位介绍的党员 / the members more than one unit introduced, awaiting "
     "the report-in that decides",
     "--data DIR claims [--json]", "--data street claims"},
    /* ---- street console accounts and audit: act on DIR's files, broker running or not */
    {"user add", "_,role:,password-file:", "_,role",
     "添加街道控制台账户;密码从文件或标准输入读取,终端上输入两次 / add a console account; the "
     "password comes from the file or stdin (asked twice on a terminal)",
     "--data DIR user add NAME --role operator|viewer [--password-file F]",
     "--data street user add office --role operator"},
    {"user passwd", "_,password-file:", "_",
     "修改控制台账户的密码 / set a console account's password",
     "--data DIR user passwd NAME [--password-file F]", "--data street user passwd office"},
    {"user remove", "_", "_", "删除控制台账户 / remove a console account",
     "--data DIR user remove NAME", "--data street user remove office"},
    {"user list", "", NULL, "列出控制台账户及角色 / the console accounts and their roles",
     "--data DIR user list [--json]", "--data street user list"},
    {"audit", "limit:", NULL,
     "控制台审计记录:谁在何时做了什么(最早的在前) / the console's audit log, oldest first",
     "--data DIR audit [--limit N] [--json]", "--data street audit --limit 20"},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};

static int cmd_init(const struct cli_parsed *p)
{
    struct broker_config cfg;
    config_broker_defaults(&cfg);
    const char *street = cli_get(p, "street"), *name = cli_get(p, "name");
    const char *bind = cli_get(p, "bind"), *dur = cli_get(p, "durability");
    if (ids_org_kind(street) != ORG_STREET || !ids_text_valid(name, IDS_NAME_MAX, false)) {
        cli_error("街道 id 须形如 street:code(小写字母、数字、-),名称须为 UTF-8 文本",
                  "street id must look like street:code ([a-z0-9-]), name must be UTF-8 text");
        return 2;
    }
    if ((dur && store_parse_durability(dur, &cfg.durability) != DS_OK) ||
        (bind && strlen(bind) >= sizeof(cfg.bind))) {
        cli_error("--durability 或 --bind 无效", "invalid --durability or --bind");
        return 2;
    }
    const char *window = cli_get(p, "window");
    char *end = NULL;
    if (window)
        cfg.window = (uint32_t)strtoul(window, &end, 10);
    if ((window && (!*window || *end)) || cfg.window < 1 || cfg.window > 1000000) {
        cli_error("--window 须在 1 到 1000000 之间", "--window must be 1..1000000");
        return 2;
    }
    const char *web = cli_get(p, "web-bind");
    if (config_web_set_bind(&cfg.web, web ? web : CONFIG_WEB_BROKER_BIND) != DS_OK) {
        cli_error("--web-bind 须形如 127.0.0.1:8390(空值关闭控制台)",
                  "--web-bind must look like 127.0.0.1:8390 ('' turns the console off)");
        return 2;
    }
    snprintf(cfg.street, sizeof(cfg.street), "%s", street);
    snprintf(cfg.name, sizeof(cfg.name), "%s", name);
    if (bind)
        snprintf(cfg.bind, sizeof(cfg.bind), "%s", bind);
    cfg.hub = cli_get(p, "hub") != NULL;
    char path[4200], err[CONFIG_ERR_MAX];
    int rc =
        config_identity_create(p->data_dir, cfg.street, cfg.name, cfg.bind, "street.card", path);
    if (rc == DS_EEXIST)
        cli_error("该数据目录已初始化", "data directory is already initialised");
    struct org_card card;
    if (rc == DS_OK && cfg.hub) { /* its card says so: the streets take other streets' orgs */
        rc = config_card_load(path, &card, err);
        card.hub = true;
        if (rc == DS_OK)
            rc = config_card_save(path, &card);
    }
    if (rc != DS_OK || config_broker_save(p->data_dir, &cfg) != DS_OK)
        return 1;
    printf(TR("已初始化街道 %s。把 %s 发给各单位和社区。\n",
              "initialised street %s. Send %s to every unit and community.\n"),
           cfg.street, path);
    return 0;
}

static int cmd_run(const struct cli_parsed *p)
{
    struct broker *b = NULL;
    enum log_level level;
    fdlimit_raise(); /* before the store sizes its table cache by it */
    int rc = broker_open(p->data_dir, &b);
    /* An offline `status` or `org add` holds the store for a moment: wait it out. */
    for (int tries = 0; rc == DS_EAGAIN && tries < 50; tries++) {
        struct timespec pause = {0, 100 * 1000 * 1000};
        nanosleep(&pause, NULL);
        rc = broker_open(p->data_dir, &b);
    }
    if (rc == DS_EAGAIN)
        fprintf(stderr,
                TR("错误: 另一个 dualsync-broker 正在使用数据目录 %s\n",
                   "error: another dualsync-broker is using %s\n"),
                p->data_dir);
    if (rc != DS_OK)
        return 1;
    log_set_level(broker_config(b)->log_level);
    if (p->log_level && log_parse_level(p->log_level, &level) == DS_OK)
        log_set_level(level); /* the command line wins over broker.conf */
    rc = broker_run(b);
    broker_close(&b);
    return rc == DS_OK ? 0 : 1;
}

/* A rotation card's lines, named as in the card file (the broker parses them the same way). */
static void add_rotation_args(struct ctl_request *req, const struct org_card *card)
{
    char num[24], sig[2 * KEYS_SIG_LEN + 1], line[KEYS_HEX_PUB_LEN + 24];
    const struct key_history *h = &card->history;
    snprintf(num, sizeof(num), "%llu", (unsigned long long)h->key_from);
    ctl_request_arg(req, "key_from", num);
    keys_hex(card->rotation, KEYS_SIG_LEN, sig);
    ctl_request_arg(req, "rotation", sig);
    for (size_t i = 0; i < h->n_past; i++) {
        keys_hex(h->past[i].sign_key, KEYS_PUB_LEN, line);
        snprintf(line + KEYS_HEX_PUB_LEN - 1, sizeof(line) - (KEYS_HEX_PUB_LEN - 1), " %llu",
                 (unsigned long long)h->past[i].from_seq);
        ctl_request_arg(req, "past_key", line);
    }
}

/* The street's rotation (docs/OPERATIONS.md "The street's key leaked"): new keys from the
 * street's next event on, and a new street.card saying so, signed by the old key, which
 * each node checks against the street key it pins. Card and broker.conf (the earlier keys)
 * first, then the keys: a crash before the swap leaves the old key in force. */
static int cmd_rekey(const struct cli_parsed *p)
{
    struct broker *b = NULL;
    int rc = broker_open(p->data_dir, &b);
    if (rc == DS_EAGAIN)
        cli_error("broker 正在运行:请先停止(systemctl stop dualsync-broker)",
                  "the broker is running: stop it first (systemctl stop dualsync-broker)");
    if (rc != DS_OK)
        return 1;
    char path[4200], err[CONFIG_ERR_MAX];
    struct org_card card;
    struct keyring known;
    struct keys next;
    snprintf(path, sizeof(path), "%s/street.card", p->data_dir);
    if (config_card_load(path, &card, err) != DS_OK) {
        fprintf(stderr,
                TR("错误: 无法读取街道名片: %s\n", "error: cannot read the street card: %s\n"),
                err);
        broker_close(&b);
        return 1;
    }
    config_history_ring(&broker_config(b)->own, broker_keys(b)->sign_pk, &known);
    if (known.n >= KEYRING_MAX) {
        cli_error("换钥次数已达上限", "the street has rotated its keys as often as it may");
        broker_close(&b);
        return 1;
    }
    keys_generate(&next);
    uint64_t from = eventlog_hwm(broker_log(b), broker_config(b)->street) + 1;
    if (keyring_rotate(&known, next.sign_pk, from < 2 ? 2 : from) != DS_OK) {
        cli_error("换钥次数已达上限", "the street has rotated its keys as often as it may");
        sodium_memzero(&next, sizeof(next));
        broker_close(&b);
        return 1;
    }
    config_history_of_ring(&card.history, &known);
    memcpy(card.curve_key, next.curve_pk, KEYS_PUB_LEN);
    memcpy(card.sign_key, next.sign_pk, KEYS_PUB_LEN);
    keyring_rotation_sign(broker_keys(b), card.org, card.curve_key, card.sign_key,
                          card.history.key_from, card.rotation);
    struct broker_config *cfg = xmalloc(sizeof(*cfg)); /* the next broker.conf */
    *cfg = *broker_config(b);
    cfg->own = card.history;
    rc = config_card_save(path, &card);
    if (rc == DS_OK)
        rc = config_broker_save(p->data_dir, cfg);
    free(cfg);
    if (rc == DS_OK)
        rc = keys_replace(p->data_dir, &next);
    sodium_memzero(&next, sizeof(next));
    broker_close(&b);
    if (rc != DS_OK)
        return 1;
    char fp[KEYS_FINGERPRINT_LEN];
    keys_fingerprint(card.curve_key, card.sign_key, fp);
    printf(TR("已更换街道密钥,自第 %llu 号街道事件起使用新密钥。\n新名片: %s(由旧密钥签署)\n"
              "请发给每个单位和社区,由其停止节点后执行 dualsync-node --data D street-rekey "
              "--card street.card。\n新密钥指纹: %s\n",
              "rotated the street's keys: the new key signs from street event %llu on.\nnew "
              "card: %s (signed by the old key)\nSend it to every unit and community; each "
              "stops its node and runs dualsync-node --data D street-rekey --card street.card.\n"
              "new key fingerprint: %s\n"),
           (unsigned long long)card.history.key_from, path, fp);
    return 0;
}

/* Builds the control request for a command line. Returns false on bad input. */
static bool build_request(const struct cli_parsed *p, struct ctl_request *req)
{
    ctl_request_command(req, p->cmd->name);
    const char *card_path = cli_get(p, "card");
    if (card_path) {
        struct org_card card;
        char err[CONFIG_ERR_MAX], ck[KEYS_HEX_PUB_LEN], sk[KEYS_HEX_PUB_LEN];
        if (config_card_load(card_path, &card, err) != DS_OK) {
            fprintf(stderr, TR("错误: 名片文件无效: %s\n", "error: bad card file: %s\n"), err);
            return false;
        }
        keys_hex(card.curve_key, KEYS_PUB_LEN, ck);
        keys_hex(card.sign_key, KEYS_PUB_LEN, sk);
        ctl_request_arg(req, "org", card.org);
        ctl_request_arg(req, "name", card.name);
        ctl_request_arg(req, "curve-key", ck);
        ctl_request_arg(req, "sign-key", sk);
        if (card.kind == ORG_STREET)
            ctl_request_arg(req, "endpoint", card.endpoint);
        if (card.hub)
            ctl_request_arg(req, "hub", "yes");
        if (card.history.key_from)
            add_rotation_args(req, &card);
        if (cli_get(p, "unsigned"))
            ctl_request_arg(req, "unsigned", "1");
        return true;
    }
    if (p->positional &&
        (strncmp(p->cmd->name, "org ", 4) == 0 || strncmp(p->cmd->name, "peer ", 5) == 0))
        ctl_request_arg(req, "org", p->positional);
    for (size_t i = 0; i < p->n; i++)
        ctl_request_arg(req, p->keys[i], p->values[i]);
    return true;
}

/* Runs the request in-process against a broker that is not running. */
static int call_offline(const char *dir, const struct ctl_request *req, Dualsync__CtlReply **out)
{
    struct broker *b = NULL;
    int rc = broker_open(dir, &b);
    if (rc != DS_OK)
        return rc;
    uint8_t *bytes = NULL, *reply = NULL;
    size_t len = 0, rlen = 0;
    ctl_request_pack(req, &bytes, &len);
    broker_on_ctl(b, bytes, len, &reply, &rlen);
    *out = wire_unpack_ctl_reply(reply, rlen);
    free(bytes);
    free(reply);
    broker_close(&b);
    return *out ? DS_OK : DS_EPROTO;
}

/* The signature audit behind the ACK: how far behind it is, and which orgs it blocked. */
static void print_audit(json_t *a)
{
    const char *org;
    json_t *seq;
    if (!a)
        return;
    printf(TR("签名审核: 已核 %lld,待核 %lld,未通过 %lld\n",
              "signature audit: checked %lld, behind %lld, failed %lld\n"),
           (long long)json_integer_value(json_object_get(a, "checked")),
           (long long)json_integer_value(json_object_get(a, "behind")),
           (long long)json_integer_value(json_object_get(a, "bad")));
    json_object_foreach(json_object_get(a, "blocked"), org, seq)
        printf(TR("已阻断 %s: 第 %lld 号函件签名不符;重新登记其密钥(org rekey)后恢复\n",
                  "blocked %s: its letter seq %lld fails its signature; lifted by re-keying it "
                  "(org rekey)\n"),
               org, (long long)json_integer_value(seq));
}

static void print_status(json_t *j)
{
    if (!json_is_true(json_object_get(j, "running")))
        printf(TR("broker 未运行,以下为已持久化的状态\n",
                  "broker not running; persisted state below\n"));
    printf(TR("街道: %s (%s)\n监听: %s\n目录版本: %lld\n待整理的成员记录: %lld\n",
              "street: %s (%s)\nendpoint: %s\ndirectory version: %lld\n"
              "member records not yet refolded: %lld\n"),
           json_string_value(json_object_get(j, "street")),
           json_string_value(json_object_get(j, "name")),
           json_string_value(json_object_get(j, "endpoint")),
           (long long)json_integer_value(json_object_get(j, "directory_version")),
           (long long)json_integer_value(json_object_get(j, "members_unfolded")));
    long long claims = (long long)json_integer_value(json_object_get(j, "claims_open"));
    if (claims)
        printf(TR("多个单位介绍、待报到确认的党员: %lld(见 dualsync-broker claims)\n",
                  "members more than one unit introduced, awaiting the report-in: %lld (see "
                  "dualsync-broker claims)\n"),
               claims);
    /* the headers padded by hand: printf's widths count bytes, a CJK character takes 3 */
    printf(TR("组织                         连接  类别            已存       收件       待收\n",
              "org                          conn  kind          stored      inbox    pending\n"));
    size_t i;
    json_t *peer;
    json_array_foreach(json_object_get(j, "peers"), i, peer)
    {
        long long head = json_integer_value(json_object_get(peer, "inbox_head"));
        long long conf = json_integer_value(json_object_get(peer, "confirmed"));
        printf("%-28s ", json_string_value(json_object_get(peer, "org")));
        cli_cell(
            json_is_true(json_object_get(peer, "connected")) ? TR("是", "yes") : TR("否", "no"), 6);
        printf("%-9s %10lld %10lld %10lld\n", json_string_value(json_object_get(peer, "kind")),
               (long long)json_integer_value(json_object_get(peer, "stored_upto")), head,
               head - conf);
    }
    print_audit(json_object_get(j, "signature_audit"));
    const char *key;
    json_t *v;
    printf(TR("计数器:", "counters:"));
    json_object_foreach(json_object_get(j, "counters"), key, v)
        printf(" %s=%lld", key, (long long)json_integer_value(v));
    printf("\n");
}

/* One line per member in conflict: the registration and each claiming unit. */
static void print_claims(json_t *j)
{
    size_t i, k;
    json_t *e, *c;
    if (json_array_size(j) == 0)
        printf(TR("没有待确认的认领\n", "no member is claimed by more than one unit\n"));
    json_array_foreach(j, i, e)
    {
        printf(TR("%s: 登记 %s → %s (%s)", "%s: registration %s -> %s (%s)"),
               json_string_value(json_object_get(e, "member")),
               json_string_value(json_object_get(e, "unit")),
               json_string_value(json_object_get(e, "community")),
               json_string_value(json_object_get(e, "intro")));
        json_array_foreach(json_object_get(e, "claims"), k, c)
            printf(TR(";认领 %s → %s (%s)", "; claim %s -> %s (%s)"),
                   json_string_value(json_object_get(c, "unit")),
                   json_string_value(json_object_get(c, "community")),
                   json_string_value(json_object_get(c, "intro")));
        printf("\n");
    }
}

static void print_lifecycle(const char *cmd, json_t *j)
{
    const char *org = json_string_value(json_object_get(j, "org"));
    if (strcmp(cmd, "org revoke") == 0)
        printf(TR("已吊销: %s(密钥已拒绝,发给它的信件暂存)\n",
                  "revoked: %s (its key is refused; letters to it are held)\n"),
               org);
    else if (strcmp(cmd, "org rekey") == 0)
        printf(TR("已换钥: %s,自第 %lld 号事件起使用新密钥\n新密钥指纹: %s(请与该组织电话核对)\n",
                  "rekeyed: %s, its new key signs from event %lld on\nnew key fingerprint: %s "
                  "(compare it with the org by phone)\n"),
               org, (long long)json_integer_value(json_object_get(j, "key_from")),
               json_string_value(json_object_get(j, "fingerprint")));
    else
        printf(TR("已移除: %s(关闭登记 %zu 条)\n", "removed: %s (%zu registrations closed)\n"), org,
               json_array_size(json_object_get(j, "closed")));
}

static void print_link(json_t *l)
{
    json_t *ago = json_object_get(l, "last_progress_ms_ago");
    printf(TR("%-28s %s  %s\n  连接: %s  对方目录已读至 %lld / %lld%s  取得 %lld 条,拒绝 %lld 条",
              "%-28s %s  %s\n  connected: %s  its directory read to %lld / %lld%s  taken %lld, "
              "refused %lld"),
           json_string_value(json_object_get(l, "street")),
           json_string_value(json_object_get(l, "name")),
           json_string_value(json_object_get(l, "endpoint")),
           json_is_true(json_object_get(l, "connected")) ? TR("是", "yes") : TR("否", "no"),
           (long long)json_integer_value(json_object_get(l, "directory_cursor")),
           (long long)json_integer_value(json_object_get(l, "directory_head")),
           json_is_true(json_object_get(l, "caught_up")) ? TR("(已追平)", " (caught up)") : "",
           (long long)json_integer_value(json_object_get(l, "entries_taken")),
           (long long)json_integer_value(json_object_get(l, "entries_refused")));
    if (json_is_integer(ago))
        printf(TR(",%lld 秒前有进展", ", progress %lld s ago"),
               (long long)json_integer_value(ago) / 1000);
    const char *why = json_string_value(json_object_get(l, "last_refusal"));
    if (why && why[0])
        printf(TR("\n  最近一次拒绝: %s", "\n  last refusal: %s"), why);
    printf(TR("\n  信件: 已取得至 %lld(对方尚有 %lld 封待取),本次运行取得 %lld 封,拒绝 %lld "
              "封,待对方取 %lld 封",
              "\n  letters: taken up to %lld (%lld more waiting there), %lld taken this run, %lld "
              "refused, %lld waiting for it"),
           (long long)json_integer_value(json_object_get(l, "inbox_cursor")),
           (long long)json_integer_value(json_object_get(l, "letters_pending_from_them")),
           (long long)json_integer_value(json_object_get(l, "letters_relayed")),
           (long long)json_integer_value(json_object_get(l, "letters_refused")),
           (long long)json_integer_value(json_object_get(l, "letters_pending_to_them")));
    printf(TR("\n  对方读本街道目录至 %lld%s\n",
              "\n  it has read this street's directory to %lld%s\n"),
           (long long)json_integer_value(json_object_get(l, "their_directory_cursor")),
           json_is_true(json_object_get(l, "their_session"))
               ? ""
               : TR("(对方未连接)", " (not connected)"));
}

static void print_peers(const char *cmd, json_t *j)
{
    if (strcmp(cmd, "peer remove") == 0) {
        printf(TR("已断开与 %s 的连接\n", "unlinked %s\n"),
               json_string_value(json_object_get(j, "street")));
        return;
    }
    if (strcmp(cmd, "peer rekey") == 0) {
        printf(TR("已采用 %s 的新名片\n新密钥指纹: %s\n", "took the new card of %s\nnew key "
                                                          "fingerprint: %s\n"),
               json_string_value(json_object_get(j, "street")),
               json_string_value(json_object_get(j, "fingerprint")));
        return;
    }
    if (strcmp(cmd, "peer add") == 0) {
        printf(TR("已与 %s 建立对等连接\n密钥指纹: %s\n(请与对方街道电话核对;对方也须 peer add "
                  "本街道的 street.card)\n",
                  "linked with %s\nkey fingerprint: %s\n(compare it by phone; the other office "
                  "must peer add this street's street.card too)\n"),
               json_string_value(json_object_get(j, "street")),
               json_string_value(json_object_get(j, "fingerprint")));
        return;
    }
    if (!json_array_size(j))
        printf(TR("没有对等街道(peer add 添加)\n", "no linked street (add one with peer add)\n"));
    size_t i;
    json_t *l;
    json_array_foreach(j, i, l) print_link(l);
}

/* Prints a reply for the operator; 0, or 1 when a file asked for cannot be written. */
static int print_human(const struct cli_parsed *p, json_t *j)
{
    if (strcmp(p->cmd->name, "status") == 0) {
        print_status(j);
    } else if (strcmp(p->cmd->name, "org list") == 0) {
        size_t i;
        json_t *e;
        json_array_foreach(j, i, e)
            printf("%-32s %-10s %-8s %-24s %s\n", json_string_value(json_object_get(e, "org")),
                   json_string_value(json_object_get(e, "kind")),
                   json_string_value(json_object_get(e, "state")),
                   json_string_value(json_object_get(e, "street")),
                   json_string_value(json_object_get(e, "name")));
    } else if (strncmp(p->cmd->name, "peer ", 5) == 0) {
        print_peers(p->cmd->name, j);
    } else if (strcmp(p->cmd->name, "org add") == 0) {
        printf(TR("已加入目录: %s\n密钥指纹: %s\n(请与该组织电话核对)\n",
                  "added to the directory: %s\nkey fingerprint: %s\n"
                  "(compare it with the org by phone)\n"),
               json_string_value(json_object_get(j, "org")),
               json_string_value(json_object_get(j, "fingerprint")));
    } else if (strncmp(p->cmd->name, "org re", 6) == 0) {
        print_lifecycle(p->cmd->name, j);
    } else if (strcmp(p->cmd->name, "digest") == 0) {
        printf("%s\n", json_string_value(json_object_get(j, "digest")));
    } else if (strcmp(p->cmd->name, "report") == 0) {
        struct report_format f = {cli_get(p, "csv") != NULL, cli_get(p, "excel") != NULL,
                                  cli_get(p, "xlsx")};
        return cli_get(p, "city") ? report_city_print(j, &f) : report_street_print(j, &f);
    } else if (strcmp(p->cmd->name, "meeting add") == 0 || strcmp(p->cmd->name, "meetings") == 0) {
        report_meetings_print(j);
    } else if (strcmp(p->cmd->name, "claims") == 0) {
        print_claims(j);
    } else if (strcmp(p->cmd->name, "digests") == 0) {
        size_t i;
        json_t *e;
        json_array_foreach(j, i, e)
            printf("%-24s %s %lld\n", json_string_value(json_object_get(e, "member")),
                   json_string_value(json_object_get(e, "digest")),
                   (long long)json_integer_value(json_object_get(e, "events")));
    }
    return 0;
}

static int cmd_control(const struct cli_parsed *p)
{
    struct ctl_request *req = ctl_request_new();
    Dualsync__CtlReply *reply = NULL;
    int rc = 2;
    if (!build_request(p, req))
        goto out;
    rc = ctl_call(p->data_dir, req, CTL_TIMEOUT_MS, &reply);
    if (rc == DS_ENOTRUNNING)
        rc = call_offline(p->data_dir, req, &reply);
    /* The store is locked but no socket answers: a broker is starting (`systemctl enable
     * --now` and then `org add` at once, as the README's first hour does). Its control
     * socket comes up within moments; ask it there. */
    for (int tries = 0; rc == DS_EAGAIN && tries < 100; tries++) {
        struct timespec pause = {0, 100 * 1000 * 1000};
        nanosleep(&pause, NULL);
        rc = ctl_call(p->data_dir, req, CTL_TIMEOUT_MS, &reply);
        if (rc == DS_ENOTRUNNING)
            rc = call_offline(p->data_dir, req, &reply);
    }
    if (rc == DS_EACCES) {
        cli_error("权限不足:该 broker 的数据目录和控制接口属于另一用户,请以该用户运行",
                  "permission denied: the broker's data directory and control socket belong to "
                  "another user; run this as that user");
        rc = 1;
        goto out;
    }
    if (rc != DS_OK) {
        fprintf(stderr, TR("错误: 无法访问 broker: %s\n", "error: cannot reach the broker: %s\n"),
                ds_strerror(rc));
        rc = 1;
        goto out;
    }
    if (reply->code != 0) {
        cli_error(reply->error_zh, reply->error_en);
        rc = 1;
        goto out;
    }
    json_t *j = json_loads(reply->json, 0, NULL);
    rc = 0;
    if (p->json)
        printf("%s\n", reply->json);
    else if (j)
        rc = print_human(p, j);
    json_decref(j);
out:
    wire_msg_free(reply);
    ctl_request_destroy(&req);
    return rc;
}

int main(int argc, char **argv)
{
    struct cli_parsed p;
    log_set_component("broker");
    int done = cli_start(argc, argv, "dualsync-broker", "街道 broker / the street office's broker",
                         commands, &p);
    if (done >= 0)
        return done;
    enum log_level level;
    if (p.log_level && log_parse_level(p.log_level, &level) == DS_OK)
        log_set_level(level);
    else if (strcmp(p.cmd->name, "run") != 0)
        log_set_level(LOG_WARN);
    if (strncmp(p.cmd->name, "user ", 5) == 0)
        return accounts_cli_main(&p);
    if (strcmp(p.cmd->name, "audit") == 0)
        return audit_cli_main(&p);
    if (strcmp(p.cmd->name, "init") == 0)
        return cmd_init(&p);
    if (strcmp(p.cmd->name, "run") == 0)
        return cmd_run(&p);
    if (strcmp(p.cmd->name, "rekey") == 0)
        return cmd_rekey(&p);
    return cmd_control(&p);
}
