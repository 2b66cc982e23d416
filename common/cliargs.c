/* cliargs: a table-driven parser. Commands may be several words ("intro send"); the
 * longest matching name wins, so "org add" and "org list" coexist with "org". */
#include "cliargs.h"

#include <stdio.h>
#include <string.h>

void cli_error(const char *zh, const char *en)
{
    fprintf(stderr, "错误: %s\nerror: %s\n", zh, en);
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
    if ((strcmp(a, "--data") == 0 || strcmp(a, "--log-level") == 0) && *i + 1 < argc) {
        if (strcmp(a, "--data") == 0)
            out->data_dir = argv[++*i];
        else
            out->log_level = argv[++*i];
        return true;
    }
    return false;
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
        cli_error("未知命令,请用 --help 查看可用命令", "unknown command; see --help");
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
            char zh[200], en[200];
            snprintf(zh, sizeof(zh), "无效或不完整的选项: %.120s", a);
            snprintf(en, sizeof(en), "invalid or incomplete option: %.120s", a);
            cli_error(zh, en);
            return false;
        }
        out->keys[out->n] = a + 2;
        out->values[out->n++] = kind == 2 ? argv[++i] : "";
    }
    if (out->cmd->required && out->cmd->required[0] == '_' && !out->positional) {
        cli_error("缺少参数", "missing argument");
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

int cli_start(int argc, char **argv, const char *prog, const char *summary,
              const struct cli_command *table, struct cli_parsed *out)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        cli_usage(prog, summary, table);
        return argc < 2 ? 2 : 0;
    }
    if (!cli_parse(argc, argv, table, out))
        return 2;
    if (!out->data_dir) {
        cli_error("需要 --data DIR(数据目录)", "--data DIR (the data directory) is required");
        return 2;
    }
    return -1;
}

void cli_usage(const char *prog, const char *summary, const struct cli_command *table)
{
    printf("%s\n\n用法 / usage:\n", summary);
    for (const struct cli_command *c = table; c->name; c++)
        printf("  %s %s\n      %s\n", prog, c->usage_en, c->usage_zh);
    printf("全局选项 / global options: --data DIR  --json  --log-level error|warn|info|debug\n");
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
