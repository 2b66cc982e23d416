/* console (broker): the street console, the pages of the street office's web console on
 * top of common/console.c. As on the node, every page runs on a web thread and reaches the
 * broker only through its control socket (page_ctl): reads ask for the JSON that `status`,
 * `org list`, `report` and `meetings` print with --json, and each write is the very command
 * the CLI sends (`org add`, `meeting add`), so a refusal is the broker's own, in both
 * languages, with nothing written. No page reads struct broker.
 * Pages: 街道 the street (every org of the directory: connected, pending, lag, stored, last
 * contact; the error counters above), 加入组织 adding an org from its card file, shown with
 * its key fingerprint for the operator to compare by phone before confirming, 报表 the
 * street report with SVG bars and its CSV, 联席会议 joint meetings, 审计 the audit log; and
 * /metrics in the Prometheus text format, made from `status`.
 * The street sees counts, not names: no page here asks for a member's record. */
#include "broker.h"
#include "directory.h"
#include "report.h"

#include "console.h"
#include "sheet.h"
#include "err.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CARD_FILE_MAX 16384 /* a card is a dozen short lines */

/* ---------------------------------------------------------------- small helpers */

static const char *js(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static long long ji(json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

static void refused(struct page *pg, const char *zh, const char *en)
{
    page_printf(pg, "<p class=\"err\" role=\"alert\">");
    page_tt(pg, zh, en);
    page_printf(pg, "</p>");
}

static void kind_text(struct page *pg, const char *kind)
{
    if (strcmp(kind, "unit") == 0)
        page_tt(pg, "单位", "Unit");
    else if (strcmp(kind, "community") == 0)
        page_tt(pg, "社区", "Community");
    else if (strcmp(kind, "street") == 0)
        page_tt(pg, "街道", "Street");
    else
        page_text(pg, kind);
}

/* A column of a table: its head, and the label of its cells. */
struct column {
    const char *zh;
    const char *en;
};

static void table_head(struct page *pg, const char *id, const struct column *cols, size_t n)
{
    page_printf(pg, "<table class=\"list\" id=\"%s\"><thead><tr>", id);
    for (size_t i = 0; i < n; i++) {
        page_printf(pg, "<th>");
        page_tt(pg, cols[i].zh, cols[i].en);
        page_printf(pg, "</th>");
    }
    page_printf(pg, "</tr></thead><tbody>");
}

/* A cell that names its column, so that where the stylesheet hides the table's head (phone
 * width) it can still say what the number is. */
static void td(struct page *pg, const struct column *col)
{
    page_printf(pg, "<td data-label=\"");
    page_tt(pg, col->zh, col->en);
    page_printf(pg, "\">");
}

/* A key in hex, in groups of 8 digits, so that it can wrap on a narrow screen. */
static void key_text(struct page *pg, const char *hex)
{
    for (size_t i = 0; hex[i]; i += 8) {
        char group[9];
        snprintf(group, sizeof(group), "%.8s", hex + i);
        page_printf(pg, "%s", i ? " " : "");
        page_text(pg, group);
        if (strlen(hex + i) < 8)
            break;
    }
}

/* ---------------------------------------------------------------- 街道 the street */

struct counter_label {
    const char *key; /* in status.counters */
    const char *zh;
    const char *en;
};

/* What went wrong, in the order an operator looks at it. */
static const struct counter_label error_counters[] = {
    {"rejected", "拒收事件", "rejected events"},
    {"malformed", "格式错误", "malformed"},
    {"forks", "分叉", "forks"},
    {"unrouted", "无人接收", "unrouted"},
    {"auth_refused", "认证拒绝", "auth refused"},
    {"org_mismatch", "组织不符", "org mismatch"},
    {"sessions_dropped", "会话中断", "sessions dropped"},
    {"send_failures", "发送失败", "send failures"},
    {"dropped_frames", "丢弃帧", "dropped frames"},
    {"read_pauses", "暂停读取", "read pauses"},
    {"signature_failed", "签名审核未通过", "signatures failed"},
};

/* The orgs the signature audit blocked (sigaudit.c): each with the letter that failed and
 * what lifts it, so the street office sees it without a terminal. */
static void blocked_orgs(struct page *pg, json_t *s)
{
    json_t *blocked = json_object_get(json_object_get(s, "signature_audit"), "blocked");
    const char *org;
    json_t *seq;
    if (!json_object_size(blocked))
        return;
    page_printf(pg, "<p class=\"summary\" id=\"blocked\">");
    json_object_foreach(blocked, org, seq)
    {
        page_printf(pg, "<span class=\"pill bad\" data-blocked=\"");
        page_text(pg, org);
        page_printf(pg, "\">");
        page_tt(pg, "已阻断", "blocked");
        page_printf(pg, " ");
        page_text(pg, org);
        page_printf(pg, ": ");
        page_tt(pg, "第", "letter seq");
        page_printf(pg, " %lld ", (long long)json_integer_value(seq));
        page_tt(pg, "号函件签名不符;重新登记其密钥(org rekey)后恢复",
                "fails its signature; lifted by re-keying the org (org rekey)");
        page_printf(pg, "</span> ");
    }
    page_printf(pg, "</p>");
}

static void street_summary(struct page *pg, json_t *s, size_t connected, size_t orgs)
{
    json_t *k = json_object_get(s, "counters");
    bool running = json_is_true(json_object_get(s, "running"));
    page_printf(pg, "<p class=\"summary\"><span class=\"pill %s\" id=\"running\">",
                running ? "good" : "bad");
    page_tt(pg, running ? "运行中" : "未运行", running ? "running" : "not running");
    page_printf(pg, "</span> <span class=\"pill\">");
    page_text(pg, js(s, "endpoint"));
    page_printf(pg, "</span> <span class=\"pill\" id=\"connected\">%zu/%zu ", connected, orgs);
    page_tt(pg, "个组织在线", "orgs connected");
    page_printf(pg, "</span> <span class=\"pill\">");
    page_tt(pg, "目录版本", "directory version");
    page_printf(pg, " %lld</span> <span class=\"pill\">", ji(s, "directory_version"));
    page_tt(pg, "已存储事件", "events stored");
    page_printf(pg, " %lld</span> <span class=\"pill\">", ji(k, "events_stored"));
    page_tt(pg, "重复", "duplicates");
    page_printf(pg, " %lld</span> <span class=\"pill\">", ji(k, "duplicates"));
    page_tt(pg, "收到帧", "frames in");
    page_printf(pg, " %lld</span></p><p class=\"summary\" id=\"counters\">", ji(k, "frames_in"));
    for (size_t i = 0; i < sizeof(error_counters) / sizeof(error_counters[0]); i++) {
        long long v = ji(k, error_counters[i].key);
        page_printf(pg, "<span class=\"pill%s\" data-counter=\"%s\">", v ? " bad" : "",
                    error_counters[i].key);
        page_tt(pg, error_counters[i].zh, error_counters[i].en);
        page_printf(pg, " %lld</span> ", v);
    }
    page_printf(pg, "</p>");
    blocked_orgs(pg, s);
}

static const struct column org_cols[] = {
    {"组织编号", "Org id"}, {"名称", "Name"},      {"类别", "Kind"},
    {"状态", "State"},      {"连接", "Connected"}, {"待送达", "Pending"},
    {"滞后", "Lag"},        {"已存储", "Stored"},  {"最后联系", "Last seen"},
};

/* The directory state of an org (dualsync-broker org revoke / remove) for a person. */
static void state_text(struct page *pg, const char *state)
{
    if (strcmp(state, "revoked") == 0)
        page_tt(pg, "已吊销", "revoked");
    else if (strcmp(state, "removed") == 0)
        page_tt(pg, "已移除", "removed");
    else
        page_tt(pg, "正常", "active");
}

static void org_row(struct page *pg, json_t *e, json_t *peer)
{
    const char *org = js(e, "org");
    bool connected = json_is_true(json_object_get(peer, "connected"));
    long long ago = ji(peer, "last_seen_ms_ago");
    page_printf(pg, "<tr data-org=\"");
    page_text(pg, org);
    page_printf(pg, "\" data-state=\"");
    page_text(pg, js(e, "state"));
    page_printf(pg, "\">");
    td(pg, &org_cols[0]);
    page_printf(pg, "<a href=\"/org?org=");
    page_text(pg, org);
    page_printf(pg, "\">");
    page_text(pg, org);
    page_printf(pg, "</a></td>");
    td(pg, &org_cols[1]);
    page_text(pg, js(e, "name"));
    page_printf(pg, "</td>");
    td(pg, &org_cols[2]);
    kind_text(pg, js(e, "kind"));
    page_printf(pg, "</td>");
    td(pg, &org_cols[3]);
    state_text(pg, js(e, "state"));
    page_printf(pg, "</td>");
    td(pg, &org_cols[4]);
    page_printf(pg, "%s</td>", connected ? "✓" : "—");
    td(pg, &org_cols[5]);
    if (peer)
        page_printf(pg, "%lld", ji(peer, "inbox_head") - ji(peer, "confirmed"));
    else
        page_printf(pg, "—");
    page_printf(pg, "</td>");
    td(pg, &org_cols[6]);
    json_t *lag = json_object_get(peer, "lag_ms");
    if (json_is_integer(lag))
        page_printf(pg, "<span class=\"lag\" data-lag-ms=\"%lld\">%lld s</span>",
                    (long long)json_integer_value(lag), (long long)json_integer_value(lag) / 1000);
    else
        page_printf(pg, "—");
    page_printf(pg, "</td>");
    td(pg, &org_cols[7]);
    if (peer)
        page_printf(pg, "%lld", ji(peer, "stored_upto"));
    else
        page_printf(pg, "—");
    page_printf(pg, "</td>");
    td(pg, &org_cols[8]);
    /* The broker answers 0 for an org it has not heard from since it started. */
    if (connected || ago > 0)
        page_printf(pg, "%lld s</td></tr>", ago / 1000);
    else
        page_printf(pg, "—</td></tr>");
}

/* The linked streets (status.links) and the orgs learned from them: a city of streets. */
static const struct column link_cols[] = {
    {"街道", "Street"},    {"名称", "Name"},
    {"连接", "Connected"}, {"对方目录已读", "Its directory read"},
    {"拒绝", "Refused"},
};
static const struct column foreign_cols[] = {
    {"组织编号", "Org id"},
    {"名称", "Name"},
    {"所属街道", "Street"},
    {"状态", "State"},
};

/* A cell of col holding text. */
static void text_cell(struct page *pg, const struct column *col, const char *text)
{
    td(pg, col);
    page_text(pg, text);
    page_printf(pg, "</td>");
}

static void linked_streets(struct page *pg, json_t *links, json_t *directory)
{
    if (!json_array_size(links))
        return;
    size_t i;
    json_t *l, *e;
    page_printf(pg, "<h2>");
    page_tt(pg, "对等街道", "Linked streets");
    page_printf(pg, "</h2>");
    table_head(pg, "links", link_cols, sizeof(link_cols) / sizeof(link_cols[0]));
    json_array_foreach(links, i, l)
    {
        page_printf(pg, "<tr data-street=\"");
        page_text(pg, js(l, "street"));
        page_printf(pg, "\">");
        text_cell(pg, &link_cols[0], js(l, "street"));
        text_cell(pg, &link_cols[1], js(l, "name"));
        text_cell(pg, &link_cols[2], json_is_true(json_object_get(l, "connected")) ? "✓" : "—");
        td(pg, &link_cols[3]);
        page_printf(pg, "%lld / %lld</td>", ji(l, "directory_cursor"), ji(l, "directory_head"));
        td(pg, &link_cols[4]);
        page_printf(pg, "%lld", ji(l, "entries_refused") + ji(l, "letters_refused"));
        if (js(l, "last_refusal")[0]) {
            page_printf(pg, " (");
            page_text(pg, js(l, "last_refusal"));
            page_printf(pg, ")");
        }
        page_printf(pg, "</td></tr>");
    }
    page_printf(pg, "</tbody></table><h2>");
    page_tt(pg, "其他街道的组织", "Other streets' orgs");
    page_printf(pg, "</h2>");
    table_head(pg, "foreign-orgs", foreign_cols, sizeof(foreign_cols) / sizeof(foreign_cols[0]));
    json_array_foreach(directory, i, e)
    {
        if (!json_is_true(json_object_get(e, "foreign")))
            continue;
        page_printf(pg, "<tr>");
        text_cell(pg, &foreign_cols[0], js(e, "org"));
        text_cell(pg, &foreign_cols[1], js(e, "name"));
        text_cell(pg, &foreign_cols[2], js(e, "street"));
        td(pg, &foreign_cols[3]);
        state_text(pg, js(e, "state"));
        page_printf(pg, "</td></tr>");
    }
    page_printf(pg, "</tbody></table>");
}

/* Whether this console is a hub's (`init --hub`): no orgs of its own, the city's report. */
static bool is_hub(const struct page *pg)
{
    const struct broker_config *cfg = page_arg(pg);
    return cfg && cfg->hub;
}

static void page_street(struct page *pg)
{
    struct page_answer st, dir;
    page_ctl_simple(pg, "status", &st, NULL);
    page_ctl_simple(pg, "org list", &dir, NULL);
    if (is_hub(pg))
        page_begin(pg, "中转", "The hub");
    else
        page_begin(pg, "街道", "The street");
    if (st.rc != DS_OK || dir.rc != DS_OK) {
        refused(pg, st.rc != DS_OK ? st.zh : dir.zh, st.rc != DS_OK ? st.en : dir.en);
        goto out;
    }
    json_t *by_org = json_object(), *p, *e;
    size_t i, connected = 0;
    json_array_foreach(json_object_get(st.result, "peers"), i, p)
    {
        json_object_set(by_org, js(p, "org"), p);
        connected += json_is_true(json_object_get(p, "connected"));
    }
    size_t own = 0;
    json_array_foreach(dir.result, i, e) own += !json_is_true(json_object_get(e, "foreign"));
    street_summary(pg, st.result, connected, own);
    if (is_hub(pg)) {
        page_printf(pg, "<p class=\"hint\" id=\"hub\">");
        page_tt(pg,
                "这是中转 broker(hub):没有自己的单位和社区,只在与之连接的街道之间转递信件,"
                "转递后不留姓名、名片和文字。各街道报送的数字见「全市汇总」。",
                "This is a hub: it has no units or communities of its own; it passes letters "
                "between the streets linked with it and keeps no names, cards or texts once "
                "they are passed on. The streets' figures are under The city.");
        page_printf(pg, "</p>");
    } else {
        page_printf(pg, "<p><a class=\"btn small\" href=\"/orgs/add\">");
        page_tt(pg, "加入单位或社区", "Add a unit or community");
        page_printf(pg, "</a></p>");
    }
    if (!own && !is_hub(pg)) { /* a hub has none of its own, by design */
        page_printf(pg, "<p class=\"empty\">");
        page_tt(pg, "目录中还没有组织。", "The directory has no org yet.");
        page_printf(pg, "</p>");
    } else if (own) {
        table_head(pg, "orgs", org_cols, sizeof(org_cols) / sizeof(org_cols[0]));
        json_array_foreach(dir.result, i, e)
        {
            if (!json_is_true(json_object_get(e, "foreign")))
                org_row(pg, e, json_object_get(by_org, js(e, "org")));
        }
        page_printf(pg, "</tbody></table><p class=\"hint\">");
        page_tt(pg,
                "待送达:已进入该组织收件箱、尚未被其确认的事件数。滞后:其中最早一件自写成起"
                "已等待的时间(仅在线过的组织可知)。已存储:该组织发来并已存储的事件序号。",
                "Pending: events in the org's inbox it has not confirmed yet. Lag: how long the "
                "oldest of them has waited since it was written (known for orgs in session "
                "since the broker started). Stored: the highest event of the org stored here.");
        page_printf(pg, "</p>");
    }
    json_decref(by_org);
    linked_streets(pg, json_object_get(st.result, "links"), dir.result);
out:
    page_answer_release(&st);
    page_answer_release(&dir);
    page_end(pg);
}

/* ---------------------------------------------------------------- 加入组织 adding an org */

static void card_upload_form(struct page *pg)
{
    page_form_begin(pg, "/orgs/add", true);
    page_printf(pg, "<div class=\"card form\"><label>");
    page_tt(pg, "名片文件(对方发来的 .card,如 community-hexie.card)",
            "Card file (the .card they sent, e.g. community-hexie.card)");
    page_printf(pg, " <span class=\"req\">*</span><input type=\"file\" name=\"card\" "
                    "required></label><button type=\"submit\">");
    page_tt(pg, "查看名片", "Show the card");
    page_printf(pg, "</button></div></form>");
}

static void page_org_add(struct page *pg)
{
    page_begin(pg, "加入单位或社区", "Add a unit or community");
    page_printf(pg, "<p class=\"hint\">");
    page_tt(
        pg,
        "上传单位或社区发来的名片文件。下一步会显示名片的密钥指纹:请打电话与对方核对,"
        "一致后再确认加入。",
        "Upload the card file the unit or community sent you. The next step shows the "
        "card's key fingerprint: compare it with theirs by phone and confirm only if it matches.");
    page_printf(pg, "</p>");
    card_upload_form(pg);
    page_end(pg);
}

/* Parses an uploaded card with the loader `org add --card` uses, through a private file
 * under DIR/tmp. DS_OK with *card_out, else the reason in err (CONFIG_ERR_MAX). */
static int card_parse(struct page *pg, const char *text, size_t len, const char *filename,
                      struct org_card *card_out, char *err)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/tmp", page_dir(pg));
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        snprintf(err, CONFIG_ERR_MAX, "cannot create %.300s: %s", path, strerror(errno));
        log_error("console: mkdir path=%s: %s", path, strerror(errno));
        return DS_EIO;
    }
    snprintf(path, sizeof(path), "%s/tmp/card-XXXXXX", page_dir(pg));
    int fd = mkstemp(path);
    if (fd < 0) {
        snprintf(err, CONFIG_ERR_MAX, "cannot create a temporary file: %s", strerror(errno));
        log_error("console: mkstemp path=%s: %s", path, strerror(errno));
        return DS_EIO;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, text + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    close(fd);
    int rc = DS_EIO;
    if (done != len) {
        snprintf(err, CONFIG_ERR_MAX, "cannot write a temporary file: %s", strerror(errno));
        log_error("console: write path=%s: %s", path, strerror(errno));
    } else {
        char inner[CONFIG_ERR_MAX] = "";
        rc = config_card_load(path, card_out, inner);
        /* The loader names the file: name the one the operator uploaded, not ours. */
        size_t plen = strlen(path);
        bool ours = strncmp(inner, path, plen) == 0;
        if (rc != DS_OK)
            snprintf(err, CONFIG_ERR_MAX, "%.200s%.300s", filename && *filename ? filename : "",
                     ours ? inner + plen : inner);
    }
    unlink(path);
    return rc;
}

/* The card's org or one of its keys is in the directory already (the broker would refuse). */
static bool card_known(json_t *directory, const struct org_card *card, const char *ck,
                       const char *sk)
{
    size_t i;
    json_t *e;
    json_array_foreach(directory, i, e)
    {
        if (strcmp(js(e, "org"), card->org) == 0 || strcmp(js(e, "curve_key"), ck) == 0 ||
            strcmp(js(e, "sign_key"), sk) == 0)
            return true;
    }
    return false;
}

static void hidden(struct page *pg, const char *name, const char *value)
{
    page_printf(pg, "<input type=\"hidden\" name=\"%s\" value=\"", name);
    page_text(pg, value);
    page_printf(pg, "\">");
}

static void card_table(struct page *pg, const struct org_card *card, const char *fp, const char *ck,
                       const char *sk)
{
    page_printf(pg, "<table class=\"record\" id=\"card\"><tr><th>");
    page_tt(pg, "组织编号", "Org id");
    page_printf(pg, "</th><td><code id=\"card-org\">");
    page_text(pg, card->org);
    page_printf(pg, "</code></td></tr><tr><th>");
    page_tt(pg, "类别", "Kind");
    page_printf(pg, "</th><td>");
    kind_text(pg, ids_kind_name(card->kind));
    page_printf(pg, "</td></tr>");
    page_printf(pg, "<tr><th>");
    page_tt(pg, "名称", "Name");
    page_printf(pg, "</th><td>");
    page_text(pg, card->name);
    page_printf(pg, "</td></tr><tr><th>");
    page_tt(pg, "密钥指纹", "Key fingerprint");
    page_printf(pg, "</th><td><b><code id=\"fingerprint\">");
    page_text(pg, fp);
    page_printf(pg, "</code></b></td></tr><tr><th>");
    page_tt(pg, "通信公钥(CURVE)", "Transport key (CURVE)");
    page_printf(pg, "</th><td><small>");
    key_text(pg, ck);
    page_printf(pg, "</small></td></tr><tr><th>");
    page_tt(pg, "签名公钥(Ed25519)", "Signing key (Ed25519)");
    page_printf(pg, "</th><td><small>");
    key_text(pg, sk);
    page_printf(pg, "</small></td></tr></table>");
}

static void post_org_add(struct page *pg)
{
    size_t len = 0;
    const char *filename = NULL;
    const char *text = web_form_file(page_req(pg), "card", &len, &filename);
    struct org_card card;
    char err[CONFIG_ERR_MAX] = "", fp[KEYS_FINGERPRINT_LEN];
    char ck[KEYS_HEX_PUB_LEN], sk[KEYS_HEX_PUB_LEN];
    struct page_answer dir = {0};
    page_begin(pg, "加入单位或社区", "Add a unit or community");
    if (!text || len == 0) {
        page_set_status(pg, 400);
        refused(pg, "没有收到名片文件,请选择文件后再提交。",
                "No card file arrived: choose the file and submit again.");
        goto form;
    }
    if (len > CARD_FILE_MAX || memchr(text, '\0', len)) {
        page_set_status(pg, 422);
        refused(pg, "这不是名片文件(名片是几行文字)。",
                "This is not a card file (a card is a "
                "few lines of text).");
        goto form;
    }
    if (card_parse(pg, text, len, filename, &card, err) != DS_OK) {
        char zh[CONFIG_ERR_MAX + 64], en[CONFIG_ERR_MAX + 64];
        snprintf(zh, sizeof(zh), "名片文件无效,未加入任何组织:%s", err);
        snprintf(en, sizeof(en), "bad card file, nothing was added: %s", err);
        page_set_status(pg, 422);
        refused(pg, zh, en);
        goto form;
    }
    keys_hex(card.curve_key, KEYS_PUB_LEN, ck);
    keys_hex(card.sign_key, KEYS_PUB_LEN, sk);
    keys_fingerprint(card.curve_key, card.sign_key, fp);
    card_table(pg, &card, fp, ck, sk);
    if (card.kind != ORG_UNIT && card.kind != ORG_COMMUNITY) {
        page_set_status(pg, 422);
        refused(pg, "只能加入单位或社区的名片(这是街道的名片?),未加入任何组织。",
                "Only a unit's or a community's card can be added (is this a street card?); "
                "nothing was added.");
        goto form;
    }
    page_ctl_simple(pg, "org list", &dir, NULL);
    if (dir.rc == DS_OK && card_known(dir.result, &card, ck, sk)) {
        page_set_status(pg, 409);
        if (card.history.key_from)
            refused(pg,
                    "这是换钥名片(该组织已在目录中):请在服务器上执行 dualsync-broker org "
                    "rekey --card,并电话核对新指纹。",
                    "This is a rotation card (the org is in the directory already): run "
                    "dualsync-broker org rekey --card on the server, and compare the new "
                    "fingerprint by phone.");
        else
            refused(pg, "该组织或其密钥已在目录中,未加入任何组织。",
                    "The org or one of its keys is already in the directory; nothing was "
                    "added.");
        goto form;
    }
    page_printf(pg, "<p class=\"hint\">");
    page_tt(pg, "请打电话请对方念出其名片的密钥指纹,与上面的指纹逐组核对,一致后再确认。",
            "Call the org and have them read the fingerprint of their card; confirm only if "
            "every group matches the one above.");
    page_printf(pg, "</p>");
    page_form_begin(pg, "/orgs/confirm", false);
    hidden(pg, "org", card.org);
    hidden(pg, "name", card.name);
    hidden(pg, "curve-key", ck);
    hidden(pg, "sign-key", sk);
    page_printf(pg, "<button type=\"submit\" id=\"confirm\"%s>",
                page_is_operator(pg) ? "" : " disabled");
    page_tt(pg, "指纹一致,确认加入", "The fingerprint matches: add it");
    page_printf(pg, "</button> <a href=\"/\">");
    page_tt(pg, "取消", "Cancel");
    page_printf(pg, "</a></form>");
    if (!page_is_operator(pg)) {
        page_printf(pg, "<p class=\"hint\">");
        page_tt(pg, "只读账户不能加入组织。", "A viewer account cannot add an org.");
        page_printf(pg, "</p>");
    }
    goto out;
form:
    page_printf(pg, "<h2>");
    page_tt(pg, "重新上传", "Upload again");
    page_printf(pg, "</h2>");
    card_upload_form(pg);
out:
    page_answer_release(&dir);
    page_end(pg);
}

static void page_org_confirm(struct page *pg)
{
    page_redirect(pg, "/orgs/add");
}

static void post_org_confirm(struct page *pg)
{
    const struct web_request *r = page_req(pg);
    const char *org = web_form(r, "org"), *name = web_form(r, "name");
    const char *ck = web_form(r, "curve-key"), *sk = web_form(r, "sign-key");
    uint8_t curve[KEYS_PUB_LEN], sign[KEYS_PUB_LEN];
    char fp[KEYS_FINGERPRINT_LEN] = "?", outcome[700];
    /* The fingerprint of what is actually sent, which is what the audit line records. */
    if (ck && sk && keys_unhex(ck, curve, KEYS_PUB_LEN) == DS_OK &&
        keys_unhex(sk, sign, KEYS_PUB_LEN) == DS_OK)
        keys_fingerprint(curve, sign, fp);
    struct page_answer a;
    page_ctl_simple(pg, "org add", &a, "org", org, "name", name, "curve-key", ck, "sign-key", sk,
                    NULL);
    if (a.rc == DS_OK)
        snprintf(outcome, sizeof(outcome), "ok fingerprint %s directory_version %lld", fp,
                 ji(a.result, "directory_version"));
    else
        snprintf(outcome, sizeof(outcome), "refused: %s", a.en);
    page_audit(pg, "org add", org ? org : "", outcome);
    page_begin(pg, "加入单位或社区", "Add a unit or community");
    if (a.rc == DS_OK) {
        page_printf(pg, "<p class=\"ok\" role=\"status\">");
        page_tt(pg, "已加入目录:", "Added to the directory: ");
        page_printf(pg, "<code id=\"added\">");
        page_text(pg, js(a.result, "org"));
        page_printf(pg, "</code> · ");
        page_tt(pg, "密钥指纹", "key fingerprint");
        page_printf(pg, " <code>");
        page_text(pg, fp);
        page_printf(pg, "</code></p><p class=\"hint\">");
        page_tt(pg, "该组织的节点现在可以连接;其他组织会收到新的目录。",
                "Its node can connect now; the other orgs receive the new directory.");
        page_printf(pg, "</p><p><a href=\"/\">");
        page_tt(pg, "返回街道", "Back to the street");
        page_printf(pg, "</a></p>");
    } else {
        page_set_status(pg, 422);
        refused(pg, a.zh, a.en);
        page_printf(pg, "<p><a href=\"/orgs/add\">");
        page_tt(pg, "重新上传名片", "Upload a card again");
        page_printf(pg, "</a></p>");
    }
    page_answer_release(&a);
    page_end(pg);
}

/* ---------------------------------------------------------------- 组织 one org: revoke, remove */

static json_t *directory_entry_of(json_t *directory, const char *org)
{
    size_t i;
    json_t *e;
    json_array_foreach(directory, i, e) if (org && strcmp(js(e, "org"), org) == 0) return e;
    return NULL;
}

static void org_details(struct page *pg, json_t *e)
{
    page_printf(pg, "<table class=\"card\" id=\"org\"><tr><th>");
    page_tt(pg, "组织编号", "Org id");
    page_printf(pg, "</th><td><code>");
    page_text(pg, js(e, "org"));
    page_printf(pg, "</code></td></tr><tr><th>");
    page_tt(pg, "名称", "Name");
    page_printf(pg, "</th><td>");
    page_text(pg, js(e, "name"));
    page_printf(pg, "</td></tr><tr><th>");
    page_tt(pg, "状态", "State");
    page_printf(pg, "</th><td id=\"state\">");
    state_text(pg, js(e, "state"));
    if (js(e, "reason")[0]) {
        page_printf(pg, " · ");
        page_text(pg, js(e, "reason"));
    }
    page_printf(pg, "</td></tr><tr><th>");
    page_tt(pg, "密钥指纹", "Key fingerprint");
    page_printf(pg, "</th><td><code>");
    page_text(pg, js(e, "fingerprint"));
    page_printf(pg, "</code> (");
    page_tt(pg, "历任密钥", "keys so far");
    page_printf(pg, " %lld)</td></tr></table>", ji(e, "keys"));
}

/* One action's form: a reason, and for a removal the --force checkbox. */
static void org_action_form(struct page *pg, const char *org, const char *action, const char *zh,
                            const char *en, const char *hint_zh, const char *hint_en)
{
    page_printf(pg, "<h2>");
    page_tt(pg, zh, en);
    page_printf(pg, "</h2><p class=\"hint\">");
    page_tt(pg, hint_zh, hint_en);
    page_printf(pg, "</p>");
    page_form_begin(pg, "/org", false);
    hidden(pg, "org", org);
    hidden(pg, "action", action);
    page_printf(pg, "<div class=\"card form\"><label>");
    page_tt(pg, "原因", "Reason");
    page_printf(pg, " <input type=\"text\" name=\"reason\" maxlength=\"255\"></label>");
    if (strcmp(action, "remove") == 0) {
        page_printf(pg, "<label><input type=\"checkbox\" name=\"force\" value=\"1\"> ");
        page_tt(pg, "一并关闭其在册党员的登记", "also close the registrations of its members");
        page_printf(pg, "</label>");
    }
    page_printf(pg, "<button type=\"submit\" id=\"%s\"%s>", action,
                page_is_operator(pg) ? "" : " disabled");
    page_tt(pg, zh, en);
    page_printf(pg, "</button></div></form>");
}

static void org_page(struct page *pg, const char *org)
{
    struct page_answer dir;
    page_ctl_simple(pg, "org list", &dir, NULL);
    json_t *e = dir.rc == DS_OK ? directory_entry_of(dir.result, org) : NULL;
    if (!e) {
        page_set_status(pg, 404);
        refused(pg, "目录中没有该组织。", "No such org in the directory.");
    } else {
        org_details(pg, e);
        const char *state = js(e, "state");
        bool foreign = json_is_true(json_object_get(e, "foreign"));
        if (foreign) {
            page_printf(pg, "<p class=\"hint\">");
            page_tt(pg, "该组织属于另一街道(", "This org belongs to another street (");
            page_text(pg, js(e, "street"));
            page_tt(pg, "),由那个街道管理。", "), which manages it.");
            page_printf(pg, "</p>");
        } else if (strcmp(state, "active") == 0)
            org_action_form(pg, org, "revoke", "吊销", "Revoke",
                            "密钥泄露或暂停往来时:立即拒绝其密钥并断开连接,发给它的信件暂存,"
                            "待其换钥后送达。",
                            "When its key leaked, or to suspend it: its key is refused and its "
                            "sessions closed at once; letters to it are held until it is "
                            "rekeyed.");
        if (!foreign && strcmp(state, "removed") != 0) {
            org_action_form(pg, org, "remove", "移除", "Remove",
                            "组织撤销或合并时:永久移除,编号不再使用。请先办理其党员的转出或注销。",
                            "When the org closes or merges: removed for good, its id is not "
                            "used again. Hand its members over first.");
            page_printf(pg, "<p class=\"hint\">");
            page_tt(pg,
                    "换钥:请对方停止节点后执行 dualsync-node rekey,再在此服务器上执行 "
                    "dualsync-broker org rekey --card 对方发来的 .rekey.card。",
                    "Rekey: the org stops its node and runs dualsync-node rekey; then run "
                    "dualsync-broker org rekey --card with the .rekey.card it sends.");
            page_printf(pg, "</p>");
        }
    }
    page_printf(pg, "<p><a href=\"/\">");
    page_tt(pg, "返回街道", "Back to the street");
    page_printf(pg, "</a></p>");
    page_answer_release(&dir);
}

static void page_org(struct page *pg)
{
    page_begin(pg, "组织", "Org");
    org_page(pg, web_query(page_req(pg), "org"));
    page_end(pg);
}

static void post_org(struct page *pg)
{
    const struct web_request *r = page_req(pg);
    const char *org = web_form(r, "org"), *action = web_form(r, "action");
    const char *reason = web_form(r, "reason"), *force = web_form(r, "force");
    bool remove = action && strcmp(action, "remove") == 0;
    char outcome[700];
    struct page_answer a;
    if (!org || !action || (!remove && strcmp(action, "revoke") != 0)) {
        page_begin(pg, "组织", "Org");
        page_set_status(pg, 400);
        refused(pg, "无效的请求。", "Invalid request.");
        page_end(pg);
        return;
    }
    if (reason && !reason[0])
        reason = NULL;
    if (remove)
        page_ctl_simple(pg, "org remove", &a, "org", org, "reason", reason, "force",
                        force && force[0] ? "1" : NULL, NULL);
    else
        page_ctl_simple(pg, "org revoke", &a, "org", org, "reason", reason, NULL);
    snprintf(outcome, sizeof(outcome), "%s%s",
             a.rc == DS_OK ? "ok" : "refused: ", a.rc == DS_OK ? "" : a.en);
    page_audit(pg, remove ? "org remove" : "org revoke", org, outcome);
    page_begin(pg, "组织", "Org");
    if (a.rc == DS_OK) {
        page_printf(pg, "<p class=\"ok\" role=\"status\">");
        if (remove)
            page_tt(pg, "已移除。", "Removed.");
        else
            page_tt(pg, "已吊销:其密钥已被拒绝,发给它的信件暂存。",
                    "Revoked: its key is refused; letters to it are held.");
        page_printf(pg, "</p>");
    } else {
        page_set_status(pg, 422);
        refused(pg, a.zh, a.en);
    }
    page_answer_release(&a);
    org_page(pg, org);
    page_end(pg);
}

/* ---------------------------------------------------------------- 报表 the street report */

/* The year asked for (at most 8 bytes: the broker judges it), else the current one. */
static void report_year(struct page *pg, char out[16])
{
    const char *y = web_query(page_req(pg), "year");
    if (y && *y) {
        snprintf(out, 16, "%.8s", y);
        return;
    }
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    snprintf(out, 16, "%d", tm.tm_year + 1900);
}

static const char *overdue_zh(const char *kind)
{
    static const char *const names[][2] = {
        {"report-in", "报到"},       {"feedback", "反馈函"},
        {"handling", "查处结果"},    {"opinion-reply", "征求意见答复"},
        {"notice-post", "公示张贴"}, {"notice-objections", "公示异议"},
        {"difficulty", "困难"},      {"claim-decision", "认领审核"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(names[i][0], kind) == 0)
            return names[i][1];
    return kind;
}

static const struct column report_cols[] = {
    {"组织", "Org"},           {"在册登记", "Registrations"},
    {"报到率", "Report rate"}, {"反馈覆盖", "Feedback coverage"},
    {"逾期事项", "Overdue"},
};

static void rate_cell(struct page *pg, const struct column *col, json_t *rate, long long part,
                      long long whole)
{
    td(pg, col);
    if (json_is_number(rate))
        page_printf(pg, "%.1f%% <small>%lld/%lld</small>", json_number_value(rate), part, whole);
    else
        page_printf(pg, "—");
}

/* The overdue items of a row, by kind, only those that are not zero. */
static void overdue_cell(struct page *pg, json_t *r)
{
    const char *kind;
    json_t *v;
    long long total = ji(r, "overdue_total");
    td(pg, &report_cols[4]);
    page_printf(pg, "%s%lld%s", total ? "<span class=\"pill bad\">" : "", total,
                total ? "</span>" : "");
    json_object_foreach(json_object_get(r, "overdue"), kind, v)
    {
        if (json_integer_value(v) <= 0)
            continue;
        page_printf(pg, " <small>");
        page_tt(pg, overdue_zh(kind), kind);
        page_printf(pg, " %lld</small>", (long long)json_integer_value(v));
    }
    page_printf(pg, "</td>");
}

static void report_row(struct page *pg, json_t *r, const char *org, const char *name, long long min)
{
    bool below = json_is_true(json_object_get(r, "below_min"));
    page_printf(pg, "<tr%s data-org=\"", below ? " class=\"late\"" : "");
    page_text(pg, org);
    page_printf(pg, "\">");
    td(pg, &report_cols[0]);
    page_text(pg, name && *name ? name : org);
    page_printf(pg, " <small>");
    page_text(pg, org);
    page_printf(pg, "</small></td>");
    td(pg, &report_cols[1]);
    page_printf(pg, "%lld</td>", ji(r, "registrations"));
    rate_cell(pg, &report_cols[2], json_object_get(r, "report_rate"), ji(r, "reported"),
              ji(r, "registrations"));
    if (below) {
        page_printf(pg, " <span class=\"pill bad\">");
        page_tt(pg, "低于", "below");
        page_printf(pg, " %lld%%</span>", min);
    }
    page_printf(pg, "</td>");
    rate_cell(pg, &report_cols[3], json_object_get(r, "feedback_coverage"),
              ji(r, "feedback_members"), ji(r, "reported"));
    page_printf(pg, "</td>");
    overdue_cell(pg, r);
    page_printf(pg, "</tr>");
}

static void report_head(struct page *pg, const char *id)
{
    table_head(pg, id, report_cols, sizeof(report_cols) / sizeof(report_cols[0]));
}

/* One bar of the chart: the label is data (an org's name), escaped. */
static void bar(struct page *pg, const char *label, long long part, long long whole)
{
    int pct = whole > 0 ? (int)(part * 100 / whole) : 0;
    page_printf(pg, "<div class=\"bar\"><span>");
    page_text(pg, label);
    page_printf(pg,
                "</span><svg viewBox=\"0 0 100 6\" preserveAspectRatio=\"none\" role=\"img\">"
                "<rect width=\"100\" height=\"6\" class=\"bg\"/>"
                "<rect width=\"%d\" height=\"6\" class=\"fg\"/></svg><b>%d%%</b>"
                "<small>%lld/%lld</small></div>",
                pct, pct, part, whole);
}

static void report_side(struct page *pg, json_t *report, const char *key, const char *zh,
                        const char *en)
{
    json_t *rows = json_object_get(report, key), *r;
    size_t i;
    long long min = ji(report, "report_rate_min");
    char id[32];
    page_printf(pg, "<h2>");
    page_tt(pg, zh, en);
    page_printf(pg, "</h2>");
    if (!json_array_size(rows)) {
        page_printf(pg, "<p class=\"empty\">");
        page_tt(pg, "没有。", "None.");
        page_printf(pg, "</p>");
        return;
    }
    snprintf(id, sizeof(id), "report-%s", key);
    report_head(pg, id);
    json_array_foreach(rows, i, r) report_row(pg, r, js(r, "org"), js(r, "name"), min);
    page_printf(pg, "</tbody></table><div class=\"card\" id=\"chart-%s\"><h3>", key);
    page_tt(pg, "报到率", "Report rate");
    page_printf(pg, "</h3>");
    json_array_foreach(rows, i, r) bar(pg, *js(r, "name") ? js(r, "name") : js(r, "org"),
                                       ji(r, "reported"), ji(r, "registrations"));
    page_printf(pg, "<h3>");
    page_tt(pg, "反馈覆盖(已报到党员中收到反馈函的)",
            "Feedback coverage (reported members with a feedback letter)");
    page_printf(pg, "</h3>");
    json_array_foreach(rows, i, r) bar(pg, *js(r, "name") ? js(r, "name") : js(r, "org"),
                                       ji(r, "feedback_members"), ji(r, "reported"));
    page_printf(pg, "</div>");
}

/* ---- 全市 the city, on a hub: the streets' figures (report --city) */

/* A street's row of the city report (or the totals): its figures. A street's orgs below
 * its own minimum are counted in the summary, not marked against one rate here. */
static void city_row(struct page *pg, json_t *r, const char *org, const char *name)
{
    json_object_set_new(r, "below_min", json_false());
    report_row(pg, r, org, name, 0);
}

static void city_received_one(struct page *pg, json_t *r)
{
    page_printf(pg, "<li data-street=\"");
    page_text(pg, js(r, "org"));
    page_printf(pg, "\">");
    page_text(pg, *js(r, "name") ? js(r, "name") : js(r, "org"));
    page_printf(pg, ": %lld ", ji(r, "year"));
    page_tt(pg, "年,截至", "year, as of");
    page_printf(pg, " ");
    page_text(pg, js(r, "as_of"));
    page_printf(pg, ", %lld ", ji(r, "received_ms_ago") / 1000);
    page_tt(pg, "秒前收到", "s ago");
    if (!json_is_true(json_object_get(r, "connected")))
        page_tt(pg, "(未连接)", " (not connected)");
    page_printf(pg, "</li>");
}

/* When each street's figures came, and the linked streets that sent none yet. */
static void city_received(struct page *pg, json_t *city)
{
    json_t *r;
    size_t i;
    page_printf(pg, "<h2>");
    page_tt(pg, "报送情况", "Figures received");
    page_printf(pg, "</h2><ul id=\"received\">");
    json_array_foreach(json_object_get(city, "streets"), i, r) city_received_one(pg, r);
    json_array_foreach(json_object_get(city, "not_reported"), i, r)
    {
        page_printf(pg, "<li class=\"bad\" data-missing=\"");
        page_text(pg, json_string_value(r));
        page_printf(pg, "\">");
        page_text(pg, json_string_value(r));
        page_printf(pg, ": ");
        page_tt(pg, "尚未报送", "no figures yet");
        page_printf(pg, "</li>");
    }
    page_printf(pg, "</ul>");
}

/* The city page's head: how many streets reported, orgs below their minimum, the CSV. */
static void city_summary(struct page *pg, json_t *t)
{
    page_printf(pg, "<p class=\"summary\"><span class=\"pill\" id=\"streets\">%lld ",
                ji(t, "streets"));
    page_tt(pg, "个街道已报送", "streets reporting");
    page_printf(pg, "</span> <span class=\"pill %s\" id=\"below-min\">%lld ",
                ji(t, "orgs_below_min") ? "bad" : "good", ji(t, "orgs_below_min"));
    page_tt(pg, "个组织报到率低于下限", "orgs below their street's minimum report rate");
    page_printf(pg, "</span> <a class=\"btn small\" id=\"csv\" href=\"/report.csv\" "
                    "download=\"city-report.csv\">");
    page_tt(pg, "下载 CSV", "Download CSV");
    page_printf(pg, "</a></p><p class=\"hint\">");
    page_tt(pg, "各街道报送的统计数字,不含党员信息;每条登记由其社区所在街道计一次。",
            "The streets' own counts, no member data; each registration is counted once, by "
            "its community's street.");
    page_printf(pg, "</p>");
}

static void page_city(struct page *pg)
{
    struct page_answer a;
    json_t *r, *t;
    size_t i;
    page_ctl_simple(pg, "report", &a, "city", "1", NULL);
    page_begin(pg, "全市双重管理汇总", "The city's dual-management figures");
    if (a.rc != DS_OK) {
        refused(pg, a.zh, a.en);
        goto out;
    }
    t = json_object_get(a.result, "totals");
    city_summary(pg, t);
    page_printf(pg, "<h2>");
    page_tt(pg, "各街道", "Streets");
    page_printf(pg, "</h2>");
    report_head(pg, "report-streets");
    json_array_foreach(json_object_get(a.result, "streets"), i, r)
        city_row(pg, r, js(r, "org"), js(r, "name"));
    page_printf(pg, "</tbody></table><h2>");
    page_tt(pg, "全市合计", "The city's totals");
    page_printf(pg, "</h2>");
    report_head(pg, "report-totals");
    city_row(pg, t, js(a.result, "city"), js(a.result, "name"));
    page_printf(pg, "</tbody></table><div class=\"card\">");
    bar(pg, page_t(pg, "报到率", "Report rate"), ji(t, "reported"), ji(t, "registrations"));
    bar(pg, page_t(pg, "反馈覆盖", "Feedback coverage"), ji(t, "feedback_members"),
        ji(t, "reported"));
    page_printf(pg, "</div>");
    city_received(pg, a.result);
out:
    page_answer_release(&a);
    page_end(pg);
}

static void page_report(struct page *pg)
{
    char year[16];
    if (is_hub(pg)) {
        page_city(pg);
        return;
    }
    report_year(pg, year);
    struct page_answer a;
    page_ctl_simple(pg, "report", &a, "year", year, NULL);
    page_begin(pg, "双重管理督查报告", "Dual-management report");
    page_printf(pg, "<form method=\"get\" action=\"/report\" class=\"search\"><input name=\"year\" "
                    "value=\"");
    page_text(pg, year);
    page_printf(pg, "\" size=\"4\" inputmode=\"numeric\"><button type=\"submit\">");
    page_tt(pg, "查看", "Show");
    page_printf(pg, "</button></form>");
    if (a.rc != DS_OK) {
        refused(pg, a.zh, a.en);
        goto out;
    }
    json_t *r = a.result, *t = json_object_get(a.result, "totals");
    page_printf(pg, "<p class=\"summary\"><span class=\"pill\">");
    page_tt(pg, "截至", "As of");
    page_printf(pg, " ");
    page_text(pg, js(r, "as_of"));
    page_printf(pg, "</span> <span class=\"pill %s\" id=\"below-min\">%lld ",
                ji(t, "orgs_below_min") ? "bad" : "good", ji(t, "orgs_below_min"));
    page_tt(pg, "个组织报到率低于", "orgs below a report rate of");
    page_printf(pg, " %lld%%</span> <a class=\"btn small\" id=\"csv\" href=\"/report.csv?year=",
                ji(r, "report_rate_min"));
    buf_url(page_buf(pg), year);
    page_printf(pg, "\" download=\"street-report-");
    page_text(pg, year);
    page_printf(pg, ".csv\">");
    page_tt(pg, "下载 CSV", "Download CSV");
    page_printf(pg, "</a></p><p class=\"hint\">");
    page_tt(pg, "只含统计数字,不含党员信息。", "Counts only, no member data.");
    page_printf(pg, "</p>");
    report_side(pg, r, "units", "单位", "Units");
    report_side(pg, r, "communities", "社区", "Communities");
    page_printf(pg, "<h2>");
    page_tt(pg, "合计", "Totals");
    page_printf(pg, "</h2>");
    report_head(pg, "report-totals");
    report_row(pg, t, js(r, "street"), js(r, "name"), ji(r, "report_rate_min"));
    page_printf(pg, "</tbody></table><div class=\"card\">");
    bar(pg, page_t(pg, "报到率", "Report rate"), ji(t, "reported"), ji(t, "registrations"));
    bar(pg, page_t(pg, "反馈覆盖", "Feedback coverage"), ji(t, "feedback_members"),
        ji(t, "reported"));
    page_printf(pg, "</div>");
out:
    page_answer_release(&a);
    page_end(pg);
}

/* ---- the CSV: what `dualsync-broker report --csv` prints (report.c), after a BOM */

static void page_report_csv(struct page *pg)
{
    char year[16];
    report_year(pg, year);
    struct page_answer a;
    bool city = is_hub(pg);
    if (city)
        page_ctl_simple(pg, "report", &a, "city", "1", NULL);
    else
        page_ctl_simple(pg, "report", &a, "year", year, NULL);
    if (a.rc != DS_OK) {
        page_error(pg, 400, a.zh, a.en);
        page_answer_release(&a);
        return;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        log_error("console: open_memstream: %s", strerror(errno));
        page_error(pg, 500, "无法生成 CSV。", "Cannot make the CSV.");
        page_answer_release(&a);
        return;
    }
    json_t *rows = city ? report_city_rows(a.result) : report_street_rows(a.result, NULL);
    sheet_csv(f, report_street_columns, rows, true); /* for Excel: BOM, Chinese headers */
    json_decref(rows);
    fclose(f);
    page_answer_release(&a);
    char disposition[64];
    if (city)
        snprintf(disposition, sizeof(disposition), "attachment; filename=\"city-report.csv\"");
    else
        snprintf(disposition, sizeof(disposition), "attachment; filename=\"street-report-%s.csv\"",
                 year);
    page_header(pg, "Content-Disposition", disposition);
    page_reply(pg, 200, "text/csv; charset=utf-8", text, len);
}

/* ---------------------------------------------------------------- 联席会议 joint meetings */

struct meeting_field {
    const char *name; /* the CLI option */
    const char *zh;
    const char *en;
    bool area;
};

/* `meeting add` requires every one of them (broker/main.c). */
static const struct meeting_field meeting_fields[] = {
    {"date", "日期", "Date", false},
    {"title", "会议名称", "Title", false},
    {"attendees", "参会单位和社区(组织编号,逗号分隔)", "Attendees (org ids, comma separated)",
     false},
    {"decisions", "决定事项", "Decisions", true},
};
#define N_MEETING_FIELDS (sizeof(meeting_fields) / sizeof(meeting_fields[0]))

static void meetings_list(struct page *pg, json_t *list)
{
    size_t i, k;
    json_t *a;
    if (!json_array_size(list)) {
        page_printf(pg, "<p class=\"empty\">");
        page_tt(pg, "尚无联席会议记录。", "No joint meeting recorded yet.");
        page_printf(pg, "</p>");
        return;
    }
    page_printf(pg, "<table class=\"list\" id=\"meetings\"><thead><tr><th>");
    page_tt(pg, "日期", "Date");
    page_printf(pg, "</th><th>");
    page_tt(pg, "会议", "Meeting");
    page_printf(pg, "</th><th>");
    page_tt(pg, "参会", "Attendees");
    page_printf(pg, "</th><th>");
    page_tt(pg, "决定事项", "Decisions");
    page_printf(pg, "</th></tr></thead><tbody>");
    for (i = json_array_size(list); i-- > 0;) { /* newest first */
        json_t *m = json_array_get(list, i);
        page_printf(pg, "<tr data-id=\"");
        page_text(pg, js(m, "id"));
        page_printf(pg, "\"><td>");
        page_text(pg, js(m, "date"));
        page_printf(pg, "</td><td>");
        page_text(pg, js(m, "title"));
        page_printf(pg, " <small>");
        page_text(pg, js(m, "id"));
        page_printf(pg, "</small></td><td>");
        json_array_foreach(json_object_get(m, "attendees"), k, a)
        {
            if (k)
                page_printf(pg, ", ");
            page_text(pg, json_string_value(a));
        }
        page_printf(pg, "</td><td>");
        page_text(pg, js(m, "decisions"));
        page_printf(pg, "</td></tr>");
    }
    page_printf(pg, "</tbody></table>");
}

/* The field a refusal names ("--date ..."), so it is shown there; NULL: above the form. */
static const struct meeting_field *meeting_field_of(const char *zh, const char *en)
{
    for (size_t i = 0; i < N_MEETING_FIELDS; i++) {
        char opt[32];
        snprintf(opt, sizeof(opt), "--%s", meeting_fields[i].name);
        if (strstr(zh, opt) || strstr(en, opt))
            return &meeting_fields[i];
    }
    return NULL;
}

static void meeting_form(struct page *pg, json_t *directory, bool from_post, const char *zh,
                         const char *en)
{
    const struct meeting_field *bad = zh ? meeting_field_of(zh, en) : NULL;
    page_printf(pg, "<h2>");
    page_tt(pg, "记录联席会议", "Record a joint meeting");
    page_printf(pg, "</h2>");
    if (zh && !bad)
        refused(pg, zh, en);
    page_form_begin(pg, "/meetings", false);
    page_printf(pg, "<div class=\"card form\" id=\"meeting-form\">");
    for (size_t i = 0; i < N_MEETING_FIELDS; i++) {
        const struct meeting_field *f = &meeting_fields[i];
        const char *v = from_post ? web_form(page_req(pg), f->name) : NULL;
        page_printf(pg, "<label%s>", bad == f ? " class=\"bad\"" : "");
        page_tt(pg, f->zh, f->en);
        page_printf(pg, " <span class=\"req\">*</span>");
        if (f->area) {
            page_printf(pg, "<textarea name=\"%s\" required>", f->name);
            page_text(pg, v);
            page_printf(pg, "</textarea>");
        } else {
            page_printf(pg, "<input name=\"%s\" type=\"%s\" required value=\"", f->name,
                        strcmp(f->name, "date") == 0 ? "date" : "text");
            page_text(pg, v);
            page_printf(pg, "\">");
        }
        if (bad == f) {
            page_printf(pg, "<span class=\"field-err\" role=\"alert\">");
            page_tt(pg, zh, en);
            page_printf(pg, "</span>");
        }
        page_printf(pg, "</label>");
    }
    if (json_array_size(directory)) {
        size_t i, shown = 0;
        json_t *e;
        page_printf(pg, "<p class=\"hint\">");
        page_tt(pg, "目录中的单位和社区:", "Units and communities of the directory: ");
        json_array_foreach(directory, i, e)
        {
            if ((strcmp(js(e, "kind"), "unit") != 0 && strcmp(js(e, "kind"), "community") != 0) ||
                json_is_true(json_object_get(e, "foreign")))
                continue; /* another street's org is not this street's to convene */
            page_printf(pg, "%s<code>", shown++ ? " · " : "");
            page_text(pg, js(e, "org"));
            page_printf(pg, "</code> ");
            page_text(pg, js(e, "name"));
        }
        page_printf(pg, "</p>");
    }
    page_printf(pg, "<button type=\"submit\"%s>", page_is_operator(pg) ? "" : " disabled");
    page_tt(pg, "记录并送达参会组织", "Record and deliver to the attendees");
    page_printf(pg, "</button>");
    if (!page_is_operator(pg)) {
        page_printf(pg, "<p class=\"hint\">");
        page_tt(pg, "只读账户不能提交。", "A viewer account cannot submit.");
        page_printf(pg, "</p>");
    }
    page_printf(pg, "</div></form>");
}

/* The page, after a write or not: ok (an accepted meeting's id) or a refusal (zh, en). */
static void meetings_page(struct page *pg, const char *ok_id, const char *zh, const char *en)
{
    struct page_answer list, dir;
    page_ctl_simple(pg, "meetings", &list, NULL);
    page_ctl_simple(pg, "org list", &dir, NULL);
    page_begin(pg, "联席会议", "Joint meetings");
    if (ok_id) {
        page_printf(pg, "<p class=\"ok\" role=\"status\">");
        page_tt(pg, "已记录并送达参会组织:", "Recorded and sent to the attendees: ");
        page_printf(pg, "<code id=\"accepted\">");
        page_text(pg, ok_id);
        page_printf(pg, "</code></p>");
    }
    if (list.rc == DS_OK)
        meetings_list(pg, list.result);
    else
        refused(pg, list.zh, list.en);
    meeting_form(pg, dir.rc == DS_OK ? dir.result : NULL, zh != NULL, zh, en);
    page_answer_release(&list);
    page_answer_release(&dir);
    page_end(pg);
}

static void page_meetings(struct page *pg)
{
    meetings_page(pg, NULL, NULL, NULL);
}

static void post_meetings(struct page *pg)
{
    const struct web_request *r = page_req(pg);
    const char *title = web_form(r, "title");
    char outcome[700];
    struct ctl_request *req = ctl_request_new();
    struct page_answer a = {0};
    ctl_request_command(req, "meeting add");
    /* An empty field is an option not given, refused as the command line refuses it. */
    for (size_t i = 0; i < N_MEETING_FIELDS && a.rc == DS_OK; i++) {
        const char *v = web_form(r, meeting_fields[i].name);
        if (v && *v) {
            ctl_request_arg(req, meeting_fields[i].name, v);
            continue;
        }
        a.rc = DS_EINVAL;
        snprintf(a.zh, sizeof(a.zh), "缺少必填选项 --%s(命令 meeting add)", meeting_fields[i].name);
        snprintf(a.en, sizeof(a.en), "missing required option --%s (command meeting add)",
                 meeting_fields[i].name);
    }
    if (a.rc == DS_OK)
        page_ctl(pg, req, &a);
    ctl_request_destroy(&req);
    if (a.rc == DS_OK)
        snprintf(outcome, sizeof(outcome), "ok %s", js(a.result, "id"));
    else
        snprintf(outcome, sizeof(outcome), "refused: %s", a.en);
    page_audit(pg, "meeting add", title ? title : "", outcome);
    if (a.rc == DS_OK) {
        meetings_page(pg, js(a.result, "id"), NULL, NULL);
    } else {
        page_set_status(pg, 422);
        meetings_page(pg, NULL, a.zh, a.en);
    }
    page_answer_release(&a);
}

/* ---------------------------------------------------------------- metrics */

static void family(struct buf *b, const char *name, const char *type, const char *help)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value as the text format wants it: backslash, quote and newline escaped. */
static void label_value(struct buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            buf_puts(b, "\\\\");
        else if (*s == '"')
            buf_puts(b, "\\\"");
        else if (*s == '\n')
            buf_puts(b, "\\n");
        else
            buf_append(b, s, 1);
    }
}

static void org_sample(struct buf *b, const char *name, const char *org, const char *value)
{
    buf_printf(b, "%s{org=\"", name);
    label_value(b, org);
    buf_printf(b, "\"} %s\n", value);
}

struct counter_metric {
    const char *key; /* in status.counters */
    const char *help;
};

static const struct counter_metric counter_metrics[] = {
    {"frames_in", "frames received from nodes"},
    {"events_stored", "events stored (signatures checked before or behind the ACK)"},
    {"duplicates", "events received again, already stored"},
    {"malformed", "frames or events that do not decode or fail syntax"},
    {"rejected", "events refused (signature, side, route, sequence)"},
    {"unrouted", "events stored but delivered to nobody"},
    {"forks", "events with a stored (origin, seq) and other bytes"},
    {"auth_refused", "connections refused: unknown key"},
    {"org_mismatch", "frames claiming another org than their key"},
    {"dropped_frames", "frames the transport dropped as unreadable"},
    {"sessions_dropped", "sessions ended by a failed send or a silent peer"},
    {"send_failures", "frames the transport could not send"},
    {"read_pauses", "times reading stopped for a full signature queue"},
    {"unknown_types", "events of a type the broker does not know, within its limits"},
    {"unknown_type_refused", "events of an unknown type refused: body or rate over the limit"},
    {"erasures", "member-erase letters taken: the members' personal parts dropped"},
    {"rerouted", "letters routed again in hlc order after an earlier release arrived"},
    {"signature_failed", "stored letters whose signature failed the audit behind the ACK"},
    {"signature_blocked", "letters refused: their org is blocked by a failed audit"},
    {"hellos_resumed", "HELLO retries on a welcomed connection, answered without a resend"},
};

/* dualsync_broker_refused_total's reasons: the status.counters of events and frames the
 * broker refused (each also has a metric of its own above). */
struct refused_reason {
    const char *reason; /* the label */
    const char *key;    /* in status.counters */
};

static const struct refused_reason refused_reasons[] = {
    {"malformed", "malformed"},       {"auth", "rejected_auth"},
    {"side", "rejected_side"},        {"sequence", "rejected_sequence"},
    {"route", "rejected_route"},      {"fork", "forks"},
    {"unrouted", "unrouted"},         {"auth_refused", "auth_refused"},
    {"org_mismatch", "org_mismatch"},
};

enum peer_gauge { PEER_CONNECTED, PEER_PENDING, PEER_LAST_SEEN, PEER_LAG };

static void peer_family(struct buf *b, json_t *peers, const char *name, const char *help,
                        enum peer_gauge which)
{
    size_t i;
    json_t *p;
    char v[64];
    family(b, name, "gauge", help);
    json_array_foreach(peers, i, p)
    {
        bool connected = json_is_true(json_object_get(p, "connected"));
        long long ago = ji(p, "last_seen_ms_ago");
        if (which == PEER_CONNECTED) {
            snprintf(v, sizeof(v), "%d", connected);
        } else if (which == PEER_PENDING) {
            snprintf(v, sizeof(v), "%lld", ji(p, "inbox_head") - ji(p, "confirmed"));
        } else if (which == PEER_LAG) {
            json_t *lag = json_object_get(p, "lag_ms");
            if (!json_is_integer(lag))
                continue; /* its oldest waiting entry cannot be read (logged) */
            long long ms = (long long)json_integer_value(lag);
            snprintf(v, sizeof(v), "%lld.%03lld", ms / 1000, ms % 1000);
        } else {
            if (!connected && ago <= 0)
                continue; /* not heard from since the broker started */
            snprintf(v, sizeof(v), "%lld.%03lld", ago / 1000, ago % 1000);
        }
        org_sample(b, name, js(p, "org"), v);
    }
}

static void broker_metrics(struct page *pg)
{
    struct page_answer a;
    page_ctl_simple(pg, "status", &a, NULL);
    if (a.rc != DS_OK) {
        page_reply(pg, 503, "text/plain; charset=utf-8", xstrdup("daemon not answering\n"), 21);
        return;
    }
    struct buf b = BUF_INIT;
    json_t *s = a.result, *k = json_object_get(s, "counters"), *peers = json_object_get(s, "peers");
    char name[96];
    size_t i, connected = 0;
    json_t *p;
    for (i = 0; i < sizeof(counter_metrics) / sizeof(counter_metrics[0]); i++) {
        snprintf(name, sizeof(name), "dualsync_broker_%s_total", counter_metrics[i].key);
        console_metric(&b, name, "counter", counter_metrics[i].help, ji(k, counter_metrics[i].key));
    }
    family(&b, "dualsync_broker_refused_total", "counter",
           "events and frames refused, by reason (an event naming another org than its "
           "key counts under auth and org_mismatch)");
    for (i = 0; i < sizeof(refused_reasons) / sizeof(refused_reasons[0]); i++)
        buf_printf(&b, "dualsync_broker_refused_total{reason=\"%s\"} %lld\n",
                   refused_reasons[i].reason, ji(k, refused_reasons[i].key));
    json_array_foreach(peers, i, p) connected += json_is_true(json_object_get(p, "connected"));
    console_metric(&b, "dualsync_broker_orgs", "gauge", "units and communities in the directory",
                   (long long)json_array_size(peers));
    console_metric(&b, "dualsync_broker_connected_orgs", "gauge", "orgs in session now",
                   (long long)connected);
    console_metric(&b, "dualsync_broker_members_unfolded", "gauge",
                   "member records not yet refolded", ji(s, "members_unfolded"));
    console_metric(&b, "dualsync_broker_directory_version", "gauge",
                   "seq of the street's last own event (directory entries, meetings)",
                   ji(s, "directory_version"));
    console_metric(&b, "dualsync_broker_verify_pending_events", "gauge",
                   "published events waiting for their signature check", ji(s, "verify_pending"));
    family(&b, "dualsync_broker_uptime_seconds", "gauge", "seconds since the broker started");
    buf_printf(&b, "dualsync_broker_uptime_seconds %lld.%03lld\n", ji(s, "uptime_ms") / 1000,
               ji(s, "uptime_ms") % 1000);
    peer_family(&b, peers, "dualsync_broker_org_connected", "1 when the org is in session",
                PEER_CONNECTED);
    peer_family(&b, peers, "dualsync_broker_org_pending_events",
                "events in the org's inbox "
                "it has not confirmed",
                PEER_PENDING);
    peer_family(&b, peers, "dualsync_broker_org_last_seen_seconds",
                "seconds since the last frame from the org", PEER_LAST_SEEN);
    peer_family(&b, peers, "dualsync_broker_org_lag_seconds",
                "age of the oldest event in the org's inbox it has not confirmed (0: none)",
                PEER_LAG);
    console_metrics_log(&b, "dualsync_broker", s);
    page_answer_release(&a);
    size_t len = 0;
    char *text = buf_take(&b, &len);
    page_reply(pg, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

/* ---------------------------------------------------------------- the site */

static const struct console_page pages[] = {
    {"/", "街道", "Street", true, page_street, NULL, false},
    {"/orgs/add", "加入组织", "Add an org", true, page_org_add, post_org_add, false},
    {"/orgs/confirm", "确认加入", "Confirm", false, page_org_confirm, post_org_confirm, true},
    {"/org", "组织", "Org", false, page_org, post_org, true},
    {"/report", "报表", "Report", true, page_report, NULL, false},
    {"/report.csv", "报表 CSV", "Report CSV", false, page_report_csv, NULL, false},
    {"/meetings", "联席会议", "Joint meetings", true, page_meetings, post_meetings, true},
    {"/audit", "审计", "Audit", true, console_page_audit, NULL, false},
};

/* A hub's: it adds no orgs and holds no meetings. */
static const struct console_page hub_pages[] = {
    {"/", "中转", "Hub", true, page_street, NULL, false},
    {"/org", "组织", "Org", false, page_org, post_org, true},
    {"/report", "全市汇总", "The city", true, page_report, NULL, false},
    {"/report.csv", "汇总 CSV", "City CSV", false, page_report_csv, NULL, false},
    {"/audit", "审计", "Audit", true, console_page_audit, NULL, false},
};

int broker_console_start(struct broker *b, struct console **console_out)
{
    bool hub = broker_config(b)->hub;
    struct console_site site = {
        .dir = broker_dir(b),
        .role_zh = hub ? "中转控制台" : "街道控制台",
        .role_en = hub ? "Hub console" : "Street console",
        .org_name = broker_config(b)->name[0] ? broker_config(b)->name : broker_config(b)->street,
        .org_id = broker_config(b)->street,
        .pages = hub ? hub_pages : pages,
        .n_pages =
            hub ? sizeof(hub_pages) / sizeof(hub_pages[0]) : sizeof(pages) / sizeof(pages[0]),
        .metrics = broker_metrics,
        .arg = broker_config(b), /* read-only once running: whether it is a hub */
    };
    return console_start(&broker_config(b)->web, &site, console_out);
}
