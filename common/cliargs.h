/* cliargs: command-line parsing shared by `dualsync`, `dualsync-node` and `dualsync-broker`.
 * A command line is: [global options] command words [--option value | --flag]...
 * Global options (--data DIR, --json, --lang zh|en, --log-level L) may appear anywhere.
 * Each command has a spec naming its options ("member:" takes a value, "json" is a flag)
 * and which are required, so every tool rejects unknown or missing options the same way,
 * in the language of common/lang. */
#ifndef DUALSYNC_CLIARGS_H
#define DUALSYNC_CLIARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CLIARGS_MAX_OPTS 24

struct cli_command {
    const char *name;     /* "intro send" */
    const char *options;  /* comma separated, "member:,name:,json" (':' = takes a value) */
    const char *required; /* comma separated names that must be given */
    const char *usage_zh; /* what it does: "中文 / English"; help shows the half asked for */
    const char *usage_en; /* its synopsis, after the program's name */
    const char *example;  /* a complete command line after the program's name, or NULL */
};

struct cli_parsed {
    const struct cli_command *cmd;
    const char *data_dir;
    bool json;
    const char *log_level;
    const char *lang; /* --lang as given (zh or en), or NULL */
    size_t n;
    const char *keys[CLIARGS_MAX_OPTS];
    const char *values[CLIARGS_MAX_OPTS]; /* "" for flags */
    const char *positional;               /* one positional argument, if the spec allows */
};

/* Parses argv against the table (terminated by a NULL name). On failure prints a
 * message to stderr (common/lang's language) and returns false. It does not set the
 * language: cli_start does, from --lang, before anything is printed. */
bool cli_parse(int argc, char **argv, const struct cli_command *table, struct cli_parsed *out);

/* Value of an option, or NULL. */
const char *cli_get(const struct cli_parsed *p, const char *key);

/* Prints one command's help: what it does, its synopsis, options and example. */
void cli_command_help(const char *prog, const struct cli_command *c);

/* Prints a man page (roff) of every command in table, with its example: `PROG --man`,
 * which the build runs to make the installed man pages. */
void cli_man(const char *prog, const char *summary, const struct cli_command *table);

/* Prints "PROG: summary" and the usage of every command in table. summary says what the
 * tool is, "中文 / English" like a command's usage_zh; the man page shows both halves. */
void cli_usage(const char *prog, const char *summary, const struct cli_command *table);

/* The start every tool shares: first the language of everything printed is set (--lang
 * anywhere on the line, else ds_lang_from_env(); a bad --lang value is a usage error);
 * then --help / no arguments print the usage, "help CMD" or "CMD --help" that command's
 * help, --version the version, --man the man page, --commands the commands and their
 * options (for completion); then the command line is parsed and --data is required. With
 * DUALSYNC_PARSE_ONLY set in the environment it stops there (0: the line is a valid command), which
 * is how the documentation's commands are tested. Returns -1 when the tool should go on with *out,
 * or the exit code to return now (0 after
 * --help, 2 for a usage error). */
int cli_start(int argc, char **argv, const char *prog, const char *summary,
              const struct cli_command *table, struct cli_parsed *out);

/* Writes one CSV field to out (RFC 4180: quoted when it holds a comma, quote or line
 * break, quotes doubled): the reports' --csv output. */
void cli_csv_field(FILE *out, const char *s);

/* Prints s and pads it with spaces to width terminal columns (a CJK character takes two),
 * so tables with Chinese names line up. Longer text is printed whole, then one space. */
void cli_cell(const char *s, int width);
/* Terminal columns of UTF-8 text (as cli_cell counts them). */
int cli_width(const char *s);

/* Whether dir holds a node.conf or a broker.conf: commands that act on files of a data
 * directory check it first, so a mistyped --data neither leaves files elsewhere nor reads
 * as "nothing there". */
bool cli_data_dir_initialised(const char *dir);

/* Prints "错误: zh\n" or "error: en\n" to stderr, in the language of common/lang. */
void cli_error(const char *zh, const char *en);

#endif
