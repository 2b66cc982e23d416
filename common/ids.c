/* ids: validators are strict and allocation-free so they can run on every field of every
 * frame. The UTF-8 check follows RFC 3629 table 3-7 (the well-formed byte sequences),
 * which rejects overlong forms and UTF-16 surrogates that a lax decoder would let pass. */
#include "ids.h"

#include "strcopy.h"

#include <errno.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *prefix;
    enum org_kind kind;
} org_prefixes[] = {
    {"unit:", ORG_UNIT},
    {"community:", ORG_COMMUNITY},
    {"street:", ORG_STREET},
};

bool ids_code_valid(const char *code)
{
    size_t n = 0;
    for (const char *p = code; *p; p++, n++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return n >= 1 && n <= 48;
}

enum org_kind ids_org_kind(const char *org)
{
    if (!org)
        return ORG_NONE;
    for (size_t i = 0; i < sizeof(org_prefixes) / sizeof(org_prefixes[0]); i++) {
        size_t len = strlen(org_prefixes[i].prefix);
        if (strncmp(org, org_prefixes[i].prefix, len) == 0)
            return ids_code_valid(org + len) ? org_prefixes[i].kind : ORG_NONE;
    }
    return ORG_NONE;
}

bool ids_org_valid(const char *org)
{
    return ids_org_kind(org) != ORG_NONE;
}

const char *ids_kind_name(enum org_kind kind)
{
    switch (kind) {
    case ORG_UNIT:
        return "unit";
    case ORG_COMMUNITY:
        return "community";
    case ORG_STREET:
        return "street";
    default:
        return "none";
    }
}

enum org_kind ids_kind_parse(const char *name)
{
    for (int k = ORG_UNIT; k <= ORG_STREET; k++)
        if (strcmp(name, ids_kind_name((enum org_kind)k)) == 0)
            return (enum org_kind)k;
    return ORG_NONE;
}

bool ids_member_valid(const char *member)
{
    size_t n = 0;
    if (!member)
        return false;
    for (const char *p = member; *p; p++, n++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return false;
    }
    return n >= 1 && n <= IDS_MEMBER_MAX;
}

bool ids_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t need;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else {
            return false;
        }
        if (len - i <= need)
            return false;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k <= need; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return false;
        i += need + 1;
    }
    return true;
}

/* Characters that change how text around them is shown without being seen: the C1 controls
 * (U+0080–U+009F) and the bidirectional controls (U+061C, U+200E/F, U+202A–U+202E,
 * U+2066–U+2069). In a name they can make "张三" and a spoofed "张三" look alike, or turn a
 * row of a report around. Bytes of well-formed UTF-8 at s. */
static bool invisible_control_at(const unsigned char *s)
{
    if (s[0] == 0xC2 && s[1] >= 0x80 && s[1] <= 0x9F)
        return true;
    if (s[0] == 0xD8 && s[1] == 0x9C)
        return true;
    if (s[0] == 0xE2 && s[1] == 0x80)
        return s[2] == 0x8E || s[2] == 0x8F || (s[2] >= 0xAA && s[2] <= 0xAE);
    return s[0] == 0xE2 && s[1] == 0x81 && s[2] >= 0xA6 && s[2] <= 0xA9;
}

bool ids_text_valid(const char *s, size_t max, bool allow_empty)
{
    if (!s)
        return false;
    size_t len = strlen(s);
    if (len == 0)
        return allow_empty;
    if (len > max || !ids_utf8_valid(s, len))
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F)
            return false;
        if (c >= 0xC2 && invisible_control_at((const unsigned char *)s + i))
            return false; /* the UTF-8 is valid: the bytes it reads are there */
    }
    return true;
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

bool ids_date_valid(const char *date)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!date || strlen(date) != 10 || date[4] != '-' || date[7] != '-')
        return false;
    if (!all_digits(date, 4) || !all_digits(date + 5, 2) || !all_digits(date + 8, 2))
        return false;
    int y = atoi(date), m = atoi(date + 5), d = atoi(date + 8);
    if (y < 1900 || m < 1 || m > 12 || d < 1)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    int max = mdays[m - 1] + (m == 2 && leap ? 1 : 0);
    return d <= max;
}

/* 1..max digits at *s, value in *out. */
static bool take_digits(const char **s, int max, unsigned *out)
{
    int n = 0;
    *out = 0;
    while (n < max && **s >= '0' && **s <= '9') {
        *out = *out * 10 + (unsigned)(**s - '0');
        (*s)++;
        n++;
    }
    return n > 0;
}

bool ids_date_normalize(const char *text, char out[11])
{
    unsigned y, m, d;
    const char *s = text;
    if (!s || !take_digits(&s, 4, &y) || s - text != 4 || (*s != '-' && *s != '/'))
        return false;
    char sep = *s++;
    if (!take_digits(&s, 2, &m) || *s++ != sep || !take_digits(&s, 2, &d) || *s)
        return false;
    snprintf(out, 11, "%04u-%02u-%02u", y, m, d);
    return ids_date_valid(out);
}

size_t ids_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[64];
    if (la > 63 || lb > 63)
        return 64;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best =
                diag + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

void ids_event_id(char *buf, size_t size, const char *origin, uint64_t seq)
{
    strcopy_id(buf, size, origin, seq);
}

bool ids_event_id_parse(const char *id, char *origin_out, uint64_t *seq_out)
{
    const char *slash = id ? strrchr(id, '/') : NULL;
    if (!slash || (size_t)(slash - id) >= IDS_ORG_MAX)
        return false;
    char origin[IDS_ORG_MAX];
    memcpy(origin, id, (size_t)(slash - id));
    origin[slash - id] = '\0';
    const char *num = slash + 1;
    size_t n = strlen(num);
    if (n == 0 || n > 20 || !all_digits(num, n) || (num[0] == '0'))
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long seq = strtoull(num, &end, 10);
    if (errno == ERANGE || *end || seq == 0 || !ids_org_valid(origin))
        return false;
    memcpy(origin_out, origin, strlen(origin) + 1);
    *seq_out = (uint64_t)seq;
    return true;
}
