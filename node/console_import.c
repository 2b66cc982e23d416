/* console_import: the 导入 page of a unit's console, the CLI's `import members` in a browser.
 *
 * The upload arrives whole in the request (common/web.h, at most WEB_BODY_MAX bytes) and is
 * read where it lies, through fmemopen: roster reads a FILE and import_roster needs it
 * seekable, which a memory stream is, so no copy of members' data is ever written to disk.
 * The import itself is import_roster (node/import.h), the same function the CLI runs:
 * the same two passes, the same chunks with skip-existing (re-uploading imports nothing
 * twice), the same refusals, on this web thread and through the control socket.
 *
 * The node's kind comes from the console's site argument (node/console.c gives
 * `&n->kind`): a community's console shows the page but refuses the import before it
 * reads the file, with words rather than the daemon's side refusal. */
#include "console_import.h"

#include "console.h"
#include "err.h"
#include "ids.h"
#include "import.h"

#include <stdio.h>
#include <string.h>

#define FILENAME_MAX_SHOWN 200 /* bytes of an uploaded file's name kept for the audit */

static bool is_unit(const struct page *pg)
{
    return *(const enum org_kind *)page_arg(pg) == ORG_UNIT;
}

static void para(struct page *pg, const char *cls, const char *zh, const char *en)
{
    page_printf(pg, "<p class=\"%s\"%s>", cls, strcmp(cls, "err") == 0 ? " role=\"alert\"" : "");
    page_tt(pg, zh, en);
    page_printf(pg, "</p>");
}

/* ---------------------------------------------------------------- the form */

struct column_doc {
    const char *names; /* as the header may write them (common/roster.h) */
    bool required;
    const char *zh;
    const char *en;
};

static const struct column_doc columns[] = {
    {"member, id, 党员编号, 编号", true, "党员编号：1–64 个字母、数字或 -",
     "party membership number: 1–64 letters, digits or -"},
    {"name, 姓名", true, "姓名", "the member's name"},
    {"community, 居住社区, 社区", true, "居住社区：community:<代码>，须在街道目录中",
     "community:<code>, a community in the street's directory"},
    {"contact, 联系方式", false, "联系方式，最多 256 字节；空 = 无",
     "contact, up to 256 bytes; empty = none"},
    {"report_days, report-days, 报到期限", false, "报到期限 1–365 天；空 = 节点默认",
     "days to report in, 1–365; empty = the node's default"},
    {"date, 日期", false, "介绍函日期 YYYY-MM-DD（或 YYYY/M/D）；空 = 今天",
     "date of the letter, YYYY-MM-DD (or YYYY/M/D); empty = today"},
};

static void columns_html(struct page *pg)
{
    page_printf(pg, "<table class=\"list\" id=\"columns\"><thead><tr><th>");
    page_tt(pg, "列名（任选其一）", "Column (any of)");
    page_printf(pg, "</th><th>");
    page_tt(pg, "必填", "Required");
    page_printf(pg, "</th><th>");
    page_tt(pg, "内容", "Value");
    page_printf(pg, "</th></tr></thead><tbody>");
    for (size_t i = 0; i < sizeof(columns) / sizeof(columns[0]); i++) {
        page_printf(pg, "<tr><td><code>");
        page_text(pg, columns[i].names);
        page_printf(pg, "</code></td><td>%s</td><td>", columns[i].required ? "✓" : "");
        page_tt(pg, columns[i].zh, columns[i].en);
        page_printf(pg, "</td></tr>");
    }
    page_printf(pg, "</tbody></table>");
    para(pg, "hint",
         "CSV 文件，UTF-8 编码（Excel：另存为 “CSV UTF-8（逗号分隔）”），第一行是列名，顺序不限。"
         "未知的列名会使整个文件被拒绝，以免拼错的列被悄悄忽略；列名留空的列不导入。",
         "A CSV file in UTF-8 (Excel: Save as \"CSV UTF-8 (comma delimited)\") whose first row "
         "names the columns, in any order. An unknown column name refuses the whole file, so "
         "that a misspelt column is never dropped silently; a column with an empty name is "
         "ignored.");
    para(pg, "hint",
         "有误的行不导入，并列出行号、列和原因；其余行照常导入。重新上传同一文件是安全的："
         "已导入的党员会被跳过，不会重复发函。",
         "Bad rows are not imported and are listed with their row, column and reason; the "
         "other rows are imported. Uploading the same file again is safe: members already "
         "imported are skipped, no letter is sent twice.");
}

static void upload_form(struct page *pg)
{
    page_form_begin(pg, "/import", true);
    page_printf(pg, "<div class=\"card form\"><label>");
    page_tt(pg, "党员名册（CSV）", "Member roster (CSV)");
    page_printf(pg, " <span class=\"req\">*</span><input type=\"file\" name=\"file\" "
                    "accept=\".csv,text/csv\" required></label>");
    page_printf(pg, "<button type=\"submit\"%s>", page_is_operator(pg) ? "" : " disabled");
    page_tt(pg, "导入", "Import");
    page_printf(pg, "</button>");
    if (!page_is_operator(pg))
        para(pg, "hint", "只读账户不能导入。", "A viewer account cannot import.");
    page_printf(pg, "</div></form>");
}

static void not_a_unit(struct page *pg)
{
    para(pg, "err", "只有单位党组织导入党员名册（向社区发出介绍函）；社区不能导入。",
         "Only a unit imports a member roster (introductions to communities); a community "
         "cannot.");
}

void page_import(struct page *pg)
{
    page_begin(pg, "导入党员名册", "Import a member roster");
    if (!is_unit(pg)) {
        not_a_unit(pg);
    } else {
        upload_form(pg);
        columns_html(pg);
    }
    page_end(pg);
}

/* ---------------------------------------------------------------- the result */

static void count_pill(struct page *pg, const char *id, const char *cls, long long n,
                       const char *zh, const char *en)
{
    page_printf(pg, "<span class=\"pill %s\">", cls);
    page_tt(pg, zh, en);
    page_printf(pg, " <b id=\"%s\">%lld</b></span> ", id, n);
}

static long long jint(const json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static void summary_html(struct page *pg, const json_t *res)
{
    long long nbad =
        (long long)json_array_size(json_object_get(res, "bad")) + jint(res, "bad_omitted");
    page_printf(pg, "<p class=\"summary\" id=\"summary\">");
    count_pill(pg, "rows", "", jint(res, "rows"), "读取行数", "Rows read");
    count_pill(pg, "imported", jint(res, "imported") ? "good" : "", jint(res, "imported"), "已导入",
               "Imported");
    count_pill(pg, "skipped", "", jint(res, "skipped"), "已存在（跳过）",
               "Already present (skipped)");
    count_pill(pg, "bad", nbad ? "bad" : "", nbad, "有误", "Refused");
    page_printf(pg, "</p>");
}

/* The column a refusal of the daemon is about, when its English text names the option
 * ("--community is not a community in the street directory"): the options of `intro send`
 * are the roster's English column names. NULL: about the whole row. */
static const char *column_of_refusal(const char *en)
{
    static const char *const opts[][2] = {
        {"--member", "member"},           {"--name", "name"},
        {"--community", "community"},     {"--contact", "contact"},
        {"--report-days", "report_days"}, {"--date", "date"},
    };
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
        if (strstr(en, opts[i][0]))
            return opts[i][1];
    return NULL;
}

static void bad_rows_html(struct page *pg, const json_t *res)
{
    const json_t *bad = json_object_get(res, "bad");
    if (!json_array_size(bad))
        return;
    page_printf(pg, "<h2>");
    page_tt(pg, "未导入的行", "Rows not imported");
    page_printf(pg, "</h2><table class=\"list\" id=\"refused-rows\"><thead><tr><th>");
    page_tt(pg, "行", "Row");
    page_printf(pg, "</th><th>");
    page_tt(pg, "列", "Column");
    page_printf(pg, "</th><th>");
    page_tt(pg, "原因", "Reason");
    page_printf(pg, "</th></tr></thead><tbody>");
    for (size_t i = 0; i < json_array_size(bad); i++) {
        const json_t *b = json_array_get(bad, i);
        bool by_node = json_is_true(json_object_get(b, "refused"));
        page_printf(pg, "<tr data-row=\"%lld\"><td>%lld</td><td>", jint(b, "row"), jint(b, "row"));
        const char *column = jstr(b, "column");
        if (by_node && !*column && column_of_refusal(jstr(b, "reason_en")))
            column = column_of_refusal(jstr(b, "reason_en"));
        page_text(pg, column);
        page_printf(pg, "</td><td>");
        if (by_node) {
            page_printf(pg, "<span class=\"pill bad\">");
            page_tt(pg, "节点拒绝", "refused by the node");
            page_printf(pg, "</span> ");
        }
        page_tt(pg, jstr(b, "reason_zh"), jstr(b, "reason_en"));
        page_printf(pg, "</td></tr>");
    }
    page_printf(pg, "</tbody></table>");
    long long omitted = jint(res, "bad_omitted");
    if (omitted > 0) {
        page_printf(pg, "<p class=\"hint\">%lld ", omitted);
        page_tt(pg, "行有误未列出", "more bad rows not listed");
        page_printf(pg, "</p>");
    }
}

/* The uploaded file's name as the audit can keep it: UTF-8, bounded, never empty. */
static void name_for_audit(const char *filename, char *out, size_t size)
{
    size_t len = filename ? strlen(filename) : 0;
    if (len == 0) {
        snprintf(out, size, "%s", "(no file name)");
        return;
    }
    if (len > FILENAME_MAX_SHOWN) {
        len = FILENAME_MAX_SHOWN;
        while (len > 0 && ((unsigned char)filename[len] & 0xC0) == 0x80)
            len--; /* cut before a character, not inside it */
    }
    if (!ids_utf8_valid(filename, len))
        snprintf(out, size, "%s", "(file name not UTF-8)");
    else
        snprintf(out, size, "%.*s", (int)len, filename);
}

/* The HTTP status of an import that did not run to the end. */
static int status_of(int rc)
{
    if (rc == DS_EINVAL)
        return 422; /* the file */
    if (rc == DS_ENOTRUNNING || rc == DS_ETIMEDOUT || rc == DS_EPROTO)
        return 503; /* the daemon is not there */
    return 409;     /* the daemon refuses the import now (side, restore, not in session) */
}

void post_import(struct page *pg)
{
    size_t len = 0;
    const char *filename = NULL;
    const char *data = web_form_file(page_req(pg), "file", &len, &filename);
    char target[FILENAME_MAX_SHOWN + 1];
    name_for_audit(filename, target, sizeof(target));
    if (!is_unit(pg)) {
        page_audit(pg, "import members", target, "refused: not a unit");
        page_error(pg, 403, "只有单位党组织导入党员名册；社区不能导入。",
                   "Only a unit imports a member roster; a community cannot.");
        return;
    }
    if (!data || len == 0) {
        page_audit(pg, "import members", target, "refused: no file or an empty file");
        page_set_status(pg, 400);
        page_begin(pg, "导入党员名册", "Import a member roster");
        para(pg, "err", "没有收到文件，或文件是空的。请选择名册 CSV 文件。",
             "No file arrived, or it is empty. Choose the roster's CSV file.");
        upload_form(pg);
        page_end(pg);
        return;
    }
    /* read only ("r"): fmemopen never writes through the pointer it is given */
    FILE *f = fmemopen((void *)data, len, "r");
    if (!f) {
        page_audit(pg, "import members", target, "refused: cannot read the upload");
        page_error(pg, 500, "无法读取上传的文件。", "Cannot read the uploaded file.");
        return;
    }
    json_t *res = NULL;
    int rc = import_roster(page_dir(pg), f, NULL, NULL, &res);
    fclose(f);

    const json_t *err = json_object_get(res, "error");
    long long nbad =
        (long long)json_array_size(json_object_get(res, "bad")) + jint(res, "bad_omitted");
    char outcome[1200];
    if (rc == DS_OK)
        snprintf(outcome, sizeof(outcome), "ok rows=%lld imported=%lld skipped=%lld bad=%lld",
                 jint(res, "rows"), jint(res, "imported"), jint(res, "skipped"), nbad);
    else
        snprintf(outcome, sizeof(outcome), "refused: %.900s (imported=%lld skipped=%lld)",
                 jstr(err, "reason_en"), jint(res, "imported"), jint(res, "skipped"));
    page_audit(pg, "import members", target, outcome);

    if (rc != DS_OK)
        page_set_status(pg, status_of(rc));
    page_begin(pg, "导入党员名册", "Import a member roster");
    page_printf(pg, "<p class=\"summary\"><span class=\"pill\">");
    page_text(pg, target);
    page_printf(pg, "</span></p>");
    if (rc == DS_EINVAL) {
        page_printf(pg, "<p class=\"err\" role=\"alert\" id=\"file-refused\">");
        page_tt(pg, "整个文件被拒绝，未导入任何行：",
                "The whole file is refused; nothing was imported: ");
        page_tt(pg, jstr(err, "reason_zh"), jstr(err, "reason_en"));
        page_printf(pg, "</p>");
    } else {
        if (rc != DS_OK) {
            page_printf(pg, "<p class=\"err\" role=\"alert\" id=\"stopped\">");
            page_tt(pg, "导入中止：", "The import stopped: ");
            page_tt(pg, jstr(err, "reason_zh"), jstr(err, "reason_en"));
            page_printf(pg, "</p>");
        } else if (nbad == 0) {
            para(pg, "ok", "全部行已导入或已存在。", "Every row is imported or already present.");
        }
        summary_html(pg, res);
        bad_rows_html(pg, res);
        if (nbad > 0 || rc != DS_OK)
            para(pg, "hint", "改正后重新上传同一文件即可：已导入的行会被跳过。",
                 "Fix them and upload the same file again: rows already imported are skipped.");
    }
    upload_form(pg);
    json_decref(res);
    page_end(pg);
}
