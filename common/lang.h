/* lang: the one language of the human output of `dualsync`, `dualsync-node` and
 * `dualsync-broker`: Chinese (zh-CN) or English, never both on one line. The operator picks
 * it with --lang zh|en; without that DUALSYNC_LANG decides, then the locale, and Chinese is
 * the default (a street office reads Chinese, and a server's locale is usually C or
 * C.UTF-8, which says nothing about the person at the terminal).
 * --json output, the logs, the web consoles and the man pages are not affected.
 * The choice is process-wide, like the log configuration: cli_start sets it once, before
 * anything is printed, and every human message reads it through TR(). Not thread-safe to
 * set; reading it from any thread afterwards is fine. */
#ifndef DUALSYNC_LANG_H
#define DUALSYNC_LANG_H

#include <stdbool.h>

enum ds_lang { DS_LANG_ZH, DS_LANG_EN };

/* The text for the chosen language: printf(TR("成员: %s\n", "member: %s\n"), id).
 * With two string literals the compiler checks both formats against the arguments, so
 * both must take the same arguments in the same order. zh and en are evaluated once. */
#define TR(zh, en) (ds_lang_is_en() ? (en) : (zh))

/* Sets the language of the process (default DS_LANG_ZH). */
void ds_lang_set(enum ds_lang lang);

/* The language set; ds_lang_is_en() is ds_lang_get() == DS_LANG_EN. */
enum ds_lang ds_lang_get(void);
bool ds_lang_is_en(void);

/* A --lang value: "zh" or "en" into *lang_out. DS_EINVAL for anything else, NULL included
 * (*lang_out untouched). */
int ds_lang_parse(const char *value, enum ds_lang *lang_out);

/* The language when the command line names none: DUALSYNC_LANG when it starts with "zh"
 * or "en" (any other value is ignored), else the first non-empty of LC_ALL, LC_MESSAGES
 * and LANG: one starting with "en" is English, anything else (zh_CN, C, POSIX, C.UTF-8)
 * and no locale at all are Chinese. */
enum ds_lang ds_lang_from_env(void);

/* The language of a process: the --lang value when given (NULL: none), else
 * ds_lang_from_env(). DS_OK, or DS_EINVAL for a --lang value other than zh and en
 * (*lang_out untouched). Does not set it: the caller passes the result to ds_lang_set. */
int ds_lang_resolve(const char *flag_value, enum ds_lang *lang_out);

#endif
