/* lang: see lang.h. The language is one variable, written by cli_start before any output
 * and read by every TR(); a function rather than an exported variable keeps the writes in
 * this file. Locale variables are read the way setlocale would order them for
 * LC_MESSAGES (LC_ALL, then LC_MESSAGES, then LANG; an empty one counts as unset), but by
 * prefix only: the programs ship no message catalogues, just two languages. */
#include "lang.h"

#include "err.h"

#include <stdlib.h>
#include <string.h>

static enum ds_lang current = DS_LANG_ZH;

void ds_lang_set(enum ds_lang lang)
{
    current = lang;
}

enum ds_lang ds_lang_get(void)
{
    return current;
}

bool ds_lang_is_en(void)
{
    return current == DS_LANG_EN;
}

int ds_lang_parse(const char *value, enum ds_lang *lang_out)
{
    if (value && strcmp(value, "zh") == 0)
        *lang_out = DS_LANG_ZH;
    else if (value && strcmp(value, "en") == 0)
        *lang_out = DS_LANG_EN;
    else
        return DS_EINVAL;
    return DS_OK;
}

/* The language a locale-style value names: 1 English, 0 Chinese, -1 neither. */
static int named(const char *value)
{
    if (strncmp(value, "en", 2) == 0)
        return 1;
    return strncmp(value, "zh", 2) == 0 ? 0 : -1;
}

enum ds_lang ds_lang_from_env(void)
{
    static const char *const locale_vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
    const char *v = getenv("DUALSYNC_LANG");
    if (v && named(v) >= 0)
        return named(v) ? DS_LANG_EN : DS_LANG_ZH;
    for (size_t i = 0; i < sizeof(locale_vars) / sizeof(locale_vars[0]); i++) {
        v = getenv(locale_vars[i]);
        if (v && v[0]) /* the first one set decides, even when it names neither */
            return named(v) == 1 ? DS_LANG_EN : DS_LANG_ZH;
    }
    return DS_LANG_ZH;
}

int ds_lang_resolve(const char *flag_value, enum ds_lang *lang_out)
{
    if (flag_value)
        return ds_lang_parse(flag_value, lang_out);
    *lang_out = ds_lang_from_env();
    return DS_OK;
}
