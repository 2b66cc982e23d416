/* cliargs: a table-driven parser. Commands may be several words ("intro send"); the
 * longest matching name wins, so "org add" and "org list" coexist with "org".
 * Messages, help and usage are in the one language of common/lang; cli_start sets it from
 * --lang (or the environment) before it prints anything. The man page stays in both: it is
 * made once, at build time, for whoever reads it. */
#define _XOPEN_SOURCE 700 /* wcwidth, for the display width of table cells */
#include "cliargs.h"

#include "err.h"
#include "ids.h"
#include "lang.h"
#include "xalloc.h"
#include "owner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <locale.h>
#include <wchar.h>

void cli_error(const char *zh, const char *en)
{
    fprintf(stderr, TR("错误: %s\n", "error: %s\n"), TR(zh, en));
}

/* Does the comma list contain name, and does it take a value? 0 no, 1 flag, 2 value. */
static int spec_lookup(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        bool value = len > 0 && p[len - 1] == ':';
        size_t base = value ? len - 1 : len;
        if (base == n && strncmp(p, name, n) == 0)
            return value ? 2 : 1;
        p = end ? end + 1 : NULL;
    }
    return 0;
}

static const struct cli_command *match_command(const struct cli_command *table, char **words,
                                               int nwords, int *used)
{
    const struct cli_command *best = NULL;
    int best_used = 0;
    for (const struct cli_command *c = table; c->name; c++) {
        char buf[128];
        buf[0] = '\0';
        for (int i = 0; i < nwords; i++) {
            if (i)
                strncat(buf, " ", sizeof(buf) - strlen(buf) - 1);
            strncat(buf, words[i], sizeof(buf) - strlen(buf) - 1);
            if (strcmp(buf, c->name) == 0 && i + 1 > best_used) {
                best = c;
                best_used = i + 1;
            }
        }
    }
    *used = best_used;
    return best;
}

static bool take_global(int argc, char **argv, int *i, struct cli_parsed *out)
{
    const char *a = argv[*i];
    if (strcmp(a, "--json") == 0) {
        out->json = true;
        return true;
    }
    if (*i + 1 >= argc)
        return false;
    if (strcmp(a, "--data") == 0)
        out->data_dir = argv[++*i];
    else if (strcmp(a, "--log-level") == 0)
        out->log_level = argv[++*i];
    else if (strcmp(a, "--lang") == 0)
        out->lang = argv[++*i];
    else
        return false;
    return true;
}

/* The message of a bad --lang value, in both languages: which one was meant is unknown. */
static void bad_lang(const char *value)
{
    if (value)
        fprintf(stderr,
                "错误: --lang 的值「%.60s」无效,须为 zh(中文)或 en(英文)\n"
                "error: invalid --lang value '%.60s': use zh (Chinese) or en (English)\n",
                value, value);
    else
        fprintf(stderr, "错误: --lang 需要一个值:zh(中文)或 en(英文)\n"
                        "error: --lang needs a value: zh (Chinese) or en (English)\n");
}

static bool check_required(const struct cli_parsed *out)
{
    const char *p = out->cmd->required;
    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char name[64];
        snprintf(name, sizeof(name), "%.*s", (int)len, p);
        if (strcmp(name, "_") != 0 && !cli_get(out, name)) {
            char zh[160], en[160];
            snprintf(zh, sizeof(zh), "缺少必填选项 --%s(命令 %s)", name, out->cmd->name);
            snprintf(en, sizeof(en), "missing required option --%s (command %s)", name,
                     out->cmd->name);
            cli_error(zh, en);
            return false;
        }
        p = end ? end + 1 : NULL;
    }
    return true;
}

/* A typo is close when at most a third of the word (at least 1, at most 3) is wrong. */
static bool close_enough(const char *typed, size_t d)
{
    size_t allowed = strlen(typed) / 3;
    if (allowed < 1)
        allowed = 1;
    if (allowed > 3)
        allowed = 3;
    return d <= allowed;
}

static void unknown_command(const struct cli_command *table, char **words, int nwords)
{
    char typed[128] = "", zh[400], en[400];
    for (int i = 0; i < nwords; i++)
        snprintf(typed + strlen(typed), sizeof(typed) - strlen(typed), "%s%s", i ? " " : "",
                 words[i]);
    const struct cli_command *best = NULL;
    size_t best_d = 64;
    for (const struct cli_command *c = table; c->name && nwords; c++) {
        /* the whole name against as many words, and its first word against the first */
        size_t d = ids_edit_distance(typed, c->name);
        char first[64];
        snprintf(first, sizeof(first), "%.*s", (int)strcspn(c->name, " "), c->name);
        size_t d1 = ids_edit_distance(words[0], first);
        if (d1 < d)
            d = d1;
        if (d < best_d) {
            best = c;
            best_d = d;
        }
    }
    if (!nwords) {
        cli_error("缺少命令,请用 --help 查看可用命令", "no command given; see --help");
    } else if (best && close_enough(words[0], best_d)) {
        snprintf(zh, sizeof(zh), "未知命令「%.100s」;是否要输入「%s」?(用 --help 查看全部命令)",
                 typed, best->name);
        snprintf(en, sizeof(en), "unknown command '%.100s'; did you mean '%s'? (see --help)", typed,
                 best->name);
        cli_error(zh, en);
    } else {
        snprintf(zh, sizeof(zh), "未知命令「%.100s」,请用 --help 查看可用命令", typed);
        snprintf(en, sizeof(en), "unknown command '%.100s'; see --help", typed);
        cli_error(zh, en);
    }
}

/* The option of cmd's spec nearest to the one typed ("--memebr"), or NULL. */
static const char *nearest_option(const struct cli_command *cmd, const char *typed, char *buf,
                                  size_t size)
{
    size_t best_d = 64;
    bool found = false;
    for (const char *p = cmd->options; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char name[64];
        snprintf(name, sizeof(name), "%.*s", (int)(len && p[len - 1] == ':' ? len - 1 : len), p);
        size_t d = ids_edit_distance(typed, name);
        if (strcmp(name, "_") != 0 && d < best_d) {
            best_d = d;
            snprintf(buf, size, "%s", name);
            found = true;
        }
        p = end ? end + 1 : NULL;
    }
    return found && close_enough(typed, best_d) ? buf : NULL;
}

static void bad_option(const struct cli_command *cmd, const char *a, int kind)
{
    char zh[400], en[400], near[64];
    if (kind == 2) {
        snprintf(zh, sizeof(zh), "选项 %.120s 需要一个值(命令 %s;用 %s --help 查看)", a, cmd->name,
                 cmd->name);
        snprintf(en, sizeof(en), "option %.120s needs a value (command %s; see %s --help)", a,
                 cmd->name, cmd->name);
    } else if (strncmp(a, "--", 2) == 0 && nearest_option(cmd, a + 2, near, sizeof(near))) {
        snprintf(zh, sizeof(zh), "命令 %s 没有选项 %.100s;是否要输入 --%s?", cmd->name, a, near);
        snprintf(en, sizeof(en), "command %s has no option %.100s; did you mean --%s?", cmd->name,
                 a, near);
    } else {
        snprintf(zh, sizeof(zh), "命令 %s 不接受 %.120s(用 %s --help 查看它的选项)", cmd->name, a,
                 cmd->name);
        snprintf(en, sizeof(en), "command %s does not take %.120s (see %s --help for its options)",
                 cmd->name, a, cmd->name);
    }
    cli_error(zh, en);
}

bool cli_parse(int argc, char **argv, const struct cli_command *table, struct cli_parsed *out)
{
    char *words[8];
    int nwords = 0, i = 1;
    memset(out, 0, sizeof(*out));
    for (; i < argc; i++) {
        if (take_global(argc, argv, &i, out))
            continue;
        if (strncmp(argv[i], "--", 2) == 0 || nwords == 8)
            break;
        words[nwords++] = argv[i];
    }
    int used = 0;
    out->cmd = match_command(table, words, nwords, &used);
    if (!out->cmd) {
        unknown_command(table, words, nwords);
        return false;
    }
    if (used < nwords) {
        if (nwords - used > 1 || !spec_lookup(out->cmd->options, "_")) {
            cli_error("多余的参数", "unexpected argument");
            return false;
        }
        out->positional = words[used];
    }
    for (; i < argc; i++) {
        if (take_global(argc, argv, &i, out))
            continue;
        const char *a = argv[i];
        int kind = strncmp(a, "--", 2) == 0 ? spec_lookup(out->cmd->options, a + 2) : 0;
        if (kind == 0 || (kind == 2 && i + 1 >= argc) || out->n == CLIARGS_MAX_OPTS) {
            bad_option(out->cmd, a, kind);
            return false;
        }
        out->keys[out->n] = a + 2;
        out->values[out->n++] = kind == 2 ? argv[++i] : "";
    }
    if (out->cmd->required && out->cmd->required[0] == '_' && !out->positional) {
        cli_error("缺少参数", "missing argument");
        return false;
    }
    enum ds_lang lang;
    if (out->lang && ds_lang_parse(out->lang, &lang) != DS_OK) {
        bad_lang(out->lang);
        return false;
    }
    return check_required(out);
}

const char *cli_get(const struct cli_parsed *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->keys[i], key) == 0)
            return p->values[i];
    return NULL;
}

static void print_options(const struct cli_command *c)
{
    bool any = false;
    for (const char *p = c->options; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        bool value = len && p[len - 1] == ':';
        char name[64];
        snprintf(name, sizeof(name), "%.*s", (int)(value ? len - 1 : len), p);
        if (strcmp(name, "_") != 0) {
            printf("%s--%s%s%s", any ? "  " : TR("选项: ", "options: "), name, value ? " …" : "",
                   spec_lookup(c->required, name) ? TR(" (必填)", " (required)") : "");
            any = true;
        }
        p = end ? end + 1 : NULL;
    }
    if (any)
        printf("\n");
}

/* The half of "中文 / English" text (a command's description, a tool's summary) in the
 * language of the output; text without the separator is both. */
static const char *half(const char *both, char *buf, size_t size)
{
    const char *sep = strstr(both, " / ");
    if (!sep)
        return both;
    if (ds_lang_is_en())
        return sep + 3;
    snprintf(buf, size, "%.*s", (int)(sep - both), both);
    return buf;
}

#define GLOBAL_OPTIONS "--data DIR  --json  --lang zh|en  --log-level error|warn|info|debug"

void cli_command_help(const char *prog, const struct cli_command *c)
{
    char buf[1024];
    printf(TR("%s %s\n\n%s\n\n用法:\n  %s %s\n", "%s %s\n\n%s\n\nusage:\n  %s %s\n"), prog, c->name,
           half(c->usage_zh, buf, sizeof(buf)), prog, c->usage_en);
    print_options(c);
    printf(TR("全局选项: %s\n", "global options: %s\n"), GLOBAL_OPTIONS);
    if (c->example)
        printf(TR("\n例:\n  %s %s\n", "\nexample:\n  %s %s\n"), prog, c->example);
}

/* "help CMD…" or "CMD … --help": the one command's help. 0 printed, 2 unknown command,
 * -1 not a help request. */
static int command_help(int argc, char **argv, const char *prog, const struct cli_command *table)
{
    char *words[8];
    int nwords = 0, used = 0;
    bool asked = strcmp(argv[1], "help") == 0;
    for (int i = asked ? 2 : 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            asked = true;
        else if (strcmp(argv[i], "--data") == 0 || strcmp(argv[i], "--log-level") == 0)
            i++;
        else if (strncmp(argv[i], "--", 2) != 0 && nwords < 8)
            words[nwords++] = argv[i];
    }
    if (!asked)
        return -1;
    const struct cli_command *c = match_command(table, words, nwords, &used);
    if (!c) {
        unknown_command(table, words, nwords);
        return 2;
    }
    cli_command_help(prog, c);
    return 0;
}

#ifndef DS_VERSION
#define DS_VERSION "0"
#endif

/* roff needs its backslashes doubled and a leading . or ' escaped. */
static void roff_text(const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", stdout);
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", stdout);
        else if (*s == '-')
            fputs("\\-", stdout);
        else
            putchar(*s);
    }
}

void cli_man(const char *prog, const char *summary, const struct cli_command *table)
{
    printf(".TH %s 1 \"\" \"dualsync %s\" \"dualsync\"\n.SH NAME\n", prog, DS_VERSION);
    roff_text(prog);
    fputs(" \\- ", stdout);
    roff_text(summary);
    printf("\n.SH SYNOPSIS\n.B %s\n\\-\\-data DIR COMMAND [OPTIONS]\n", prog);
    printf(".PP\n.B %s help\nCOMMAND, or\n.B %s\nCOMMAND \\-\\-help: one command with an "
           "example.\n.SH COMMANDS\n",
           prog, prog);
    for (const struct cli_command *c = table; c->name; c++) {
        printf(".TP\n.B ");
        roff_text(c->name);
        printf("\n");
        roff_text(c->usage_zh);
        printf("\n.br\n");
        roff_text(prog);
        putchar(' ');
        roff_text(c->usage_en);
        if (c->example) {
            printf("\n.br\n例 example: ");
            roff_text(prog);
            putchar(' ');
            roff_text(c->example);
        }
        printf("\n");
    }
    printf(".SH GLOBAL OPTIONS\n\\-\\-data DIR, \\-\\-json, \\-\\-lang zh|en, \\-\\-log\\-level "
           "error|warn|info|debug, \\-\\-version\n");
    printf(".SH LANGUAGE\nMessages, help and tables are in one language: \\-\\-lang zh (Chinese) "
           "or en (English); without it DUALSYNC_LANG=zh|en, then the locale (the first set of "
           "LC_ALL, LC_MESSAGES, LANG: en* is English); Chinese otherwise. \\-\\-json output "
           "is the same in both.\n");
    printf(".SH SEE ALSO\nThe README and docs/ of dualsync (/usr/share/doc/dualsync).\n");
}

/* For shell completion: each command's name and options, a tab between. The completion
 * script offers --data and --json itself; --lang, which came later, is listed with every
 * command's options so that the script need not know it. */
static void list_commands(const struct cli_command *table)
{
    for (const struct cli_command *c = table; c->name; c++)
        printf("%s\t%s%slang:\n", c->name, c->options ? c->options : "",
               c->options && c->options[0] ? "," : "");
}

/* Takes every "--lang VALUE" out of the command line into *argv_out (the caller frees the
 * array, not the strings) and sets the language, before anything can be printed: a usage
 * error the parser meets before it reaches --lang (`dualsync statsu --lang en`) is then
 * already in the language asked for. The value of --data or --log-level is never taken
 * for an option. False after a message for a bad or missing value. */
static bool take_lang(int argc, char **argv, int *argc_out, char ***argv_out, const char **lang_out)
{
    char **kept = xcalloc((size_t)argc + 1, sizeof(*kept));
    const char *value = NULL;
    bool given = false;
    int n = 0;
    for (int i = 0; i < argc; i++) {
        if (i > 0 && strcmp(argv[i], "--lang") == 0) {
            given = true;
            value = i + 1 < argc ? argv[++i] : NULL;
            continue;
        }
        kept[n++] = argv[i];
        if ((strcmp(argv[i], "--data") == 0 || strcmp(argv[i], "--log-level") == 0) && i + 1 < argc)
            kept[n++] = argv[++i];
    }
    enum ds_lang lang;
    *argc_out = n;
    *argv_out = kept;
    if (given && !value) {
        bad_lang(NULL);
        return false;
    }
    if (ds_lang_resolve(value, &lang) != DS_OK) {
        bad_lang(value);
        return false;
    }
    ds_lang_set(lang);
    *lang_out = value;
    return true;
}

/* cli_start on the command line without its --lang: -1 when the tool should go on. */
static int start(int argc, char **argv, const char *prog, const char *summary,
                 const struct cli_command *table, struct cli_parsed *out)
{
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("%s %s\n", prog, DS_VERSION);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--man") == 0) { /* the build makes the man pages so */
        cli_man(prog, summary, table);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--commands") == 0) { /* deploy/bash-completion */
        list_commands(table);
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        (argc == 2 && strcmp(argv[1], "help") == 0)) {
        cli_usage(prog, summary, table);
        return argc < 2 ? 2 : 0;
    }
    int help = command_help(argc, argv, prog, table);
    if (help >= 0)
        return help;
    if (!cli_parse(argc, argv, table, out))
        return 2;
    if (!out->data_dir) {
        cli_error("需要 --data DIR(数据目录)", "--data DIR (the data directory) is required");
        return 2;
    }
    if (getenv("DUALSYNC_PARSE_ONLY")) /* the docs test: the command line is valid, stop */
        return 0;
    return -1;
}

int cli_start(int argc, char **argv, const char *prog, const char *summary,
              const struct cli_command *table, struct cli_parsed *out)
{
    char **args = NULL;
    const char *lang = NULL;
    int nargs = 0, rc = 2;
    umask(OWNER_UMASK); /* first: nothing a tool creates is anyone else's to read */
    if (take_lang(argc, argv, &nargs, &args, &lang)) {
        rc = start(nargs, args, prog, summary, table, out);
        out->lang = lang; /* the parser never saw it */
    }
    free(args);
    /* the command as typed, --lang and all, is what the refusal tells root to run instead */
    if (rc == -1 && !owner_check(out->data_dir, argc, argv))
        return 2;
    return rc;
}

void cli_usage(const char *prog, const char *summary, const struct cli_command *table)
{
    char buf[1024];
    printf(TR("%s: %s\n\n用法:\n", "%s: %s\n\nusage:\n"), prog, half(summary, buf, sizeof(buf)));
    for (const struct cli_command *c = table; c->name; c++)
        printf("  %s %s\n      %s\n", prog, c->usage_en, half(c->usage_zh, buf, sizeof(buf)));
    printf(TR("全局选项: %s\n", "global options: %s\n"), GLOBAL_OPTIONS);
    printf(TR("一条命令的说明和示例: %s help 命令, 或 %s 命令 --help\n",
              "one command with an example: %s help COMMAND, or %s COMMAND --help\n"),
           prog, prog);
}

void cli_csv_field(FILE *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

/* Terminal columns of UTF-8 text: wcwidth per character under a UTF-8 locale (CJK wide
 * characters take 2), one column per byte if the text does not decode. */
static int display_width(const char *s)
{
    mbstate_t st;
    memset(&st, 0, sizeof(st));
    int cols = 0;
    size_t len = strlen(s);
    while (len) {
        wchar_t wc;
        size_t n = mbrtowc(&wc, s, len, &st);
        if (n == (size_t)-1 || n == (size_t)-2 || n == 0)
            return (int)strlen(s); /* not UTF-8 here: count bytes */
        int w = wcwidth(wc);
        cols += w > 0 ? w : 0;
        s += n;
        len -= n;
    }
    return cols;
}

bool cli_data_dir_initialised(const char *dir)
{
    char path[4200];
    struct stat st;
    snprintf(path, sizeof(path), "%s/node.conf", dir);
    if (stat(path, &st) == 0)
        return true;
    snprintf(path, sizeof(path), "%s/broker.conf", dir);
    return stat(path, &st) == 0;
}

int cli_width(const char *s)
{
    static bool locale_set;
    if (!locale_set) {
        /* wcwidth needs a UTF-8 ctype whatever the caller's locale says */
        if (!setlocale(LC_CTYPE, "C.UTF-8"))
            (void)setlocale(LC_CTYPE, "en_US.UTF-8");
        locale_set = true;
    }
    return display_width(s ? s : "");
}

void cli_cell(const char *s, int width)
{
    int w = cli_width(s);
    fputs(s ? s : "", stdout);
    do /* at least one space: a cell wider than its column still ends */
        putchar(' ');
    while (++w < width);
}
