/* fields: generic access to generated messages by descriptor. The conventions table is
 * the single place where a field name gets its meaning; adding a letter type with the
 * usual field names needs no new validation code. */
#include "fields.h"

#include "err.h"
#include "ids.h"
#include "keys.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum convention {
    C_SHORT = 0,
    C_DATE,
    C_COMMUNITY,
    C_ORG,
    C_EVENT_ID,
    C_MEMBER,
    C_CODE,
    C_SIDE,
    C_ITEM,
    C_NAME,
    C_TEXT,
    C_PERIOD,
};

static const struct {
    const char *name;
    enum convention c;
} string_conventions[] = {
    {"date", C_DATE},
    {"due", C_DATE},
    {"start", C_DATE},
    {"end", C_DATE},
    {"community", C_COMMUNITY},
    {"feedback_origin", C_COMMUNITY},
    {"org", C_ORG},
    {"attendees", C_ORG},
    {"request", C_EVENT_ID},
    {"intro", C_EVENT_ID},
    {"notice", C_EVENT_ID},
    {"difficulty", C_EVENT_ID},
    {"activity", C_EVENT_ID},
    {"need", C_EVENT_ID},
    {"claim", C_EVENT_ID},
    {"target", C_EVENT_ID},
    {"leader", C_MEMBER},
    {"claimant", C_MEMBER},
    {"group", C_CODE},
    {"team", C_CODE},
    {"kind", C_CODE},
    {"side", C_SIDE},
    {"categories", C_ITEM},
    {"lead", C_ITEM},
    {"name", C_NAME},
    {"title", C_NAME},
    {"subject", C_NAME},
    {"text", C_TEXT},
    {"decisions", C_TEXT},
    {"matter", C_TEXT},
    {"period", C_PERIOD},
};

static const struct {
    const char *name;
    uint64_t min, max;
} number_ranges[] = {
    {"year", 1949, 9999},      {"report_days", 1, 365}, {"minutes", 1, 366u * 24u * 60u},
    {"activities", 0, 100000}, {"working_days", 1, 60}, {"feedback_seq", 1, UINT64_MAX},
};

static enum convention convention_of(const char *field)
{
    size_t n = strlen(field);
    for (size_t i = 0; i < sizeof(string_conventions) / sizeof(string_conventions[0]); i++)
        if (strcmp(string_conventions[i].name, field) == 0)
            return string_conventions[i].c;
    if (n > 5 && strcmp(field + n - 5, "_date") == 0)
        return C_DATE;
    return C_SHORT;
}

static bool period_valid(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < 4; i++)
        if (i >= n || !isdigit((unsigned char)s[i]))
            return false;
    if (n == 4)
        return s[0] != '0';
    return n == 7 && s[4] == '-' && s[5] == 'Q' && s[6] >= '1' && s[6] <= '4' && s[0] != '0';
}

static bool string_valid(enum convention c, const char *s)
{
    char origin[IDS_ORG_MAX];
    uint64_t seq;
    if (!s[0])
        return true; /* "not given"; required fields are checked apart */
    switch (c) {
    case C_DATE:
        return ids_date_valid(s);
    case C_COMMUNITY:
        return ids_org_kind(s) == ORG_COMMUNITY;
    case C_ORG:
        return ids_org_valid(s);
    case C_EVENT_ID:
        return ids_event_id_parse(s, origin, &seq);
    case C_MEMBER:
        return ids_member_valid(s);
    case C_CODE:
        return ids_code_valid(s);
    case C_SIDE:
        return strcmp(s, "unit") == 0 || strcmp(s, "community") == 0;
    case C_ITEM:
        return ids_text_valid(s, FIELDS_ITEM_MAX, false) && !strpbrk(s, ",\n\t");
    case C_NAME:
        return ids_text_valid(s, IDS_NAME_MAX, false) && !strpbrk(s, "\n\t");
    case C_TEXT:
        return ids_text_valid(s, IDS_TEXT_MAX, false);
    case C_PERIOD:
        return period_valid(s);
    case C_SHORT:
    default:
        return ids_text_valid(s, FIELDS_SHORT_MAX, false);
    }
}

/* Body fields as the paper forms name them, for the Chinese half of a message. A field
 * missing here is named as it is in the schema. */
static const char *const labels_zh[][2] = {
    {"action", "处理方式"},
    {"activity", "活动"},
    {"approved", "同意"},
    {"attendees", "参会组织"},
    {"categories", "服务类别"},
    {"claim", "认领"},
    {"claimant", "认领人"},
    {"closed", "注销方式"},
    {"closed_date", "注销日期"},
    {"code", "代码"},
    {"community", "社区"},
    {"contact", "联系方式"},
    {"curve_key", "连接密钥"},
    {"date", "日期"},
    {"decisions", "决定事项"},
    {"due", "截止日期"},
    {"end", "结束日期"},
    {"event_id", "函件编号"},
    {"feedback", "反馈函"},
    {"feedback_id", "反馈函编号"},
    {"group", "楼栋联络组"},
    {"kind", "类别"},
    {"lead", "带头作用"},
    {"leader", "负责人"},
    {"leave", "退出"},
    {"matter", "公示事项"},
    {"member", "党员编号"},
    {"minutes", "时长(分钟)"},
    {"name", "姓名或名称"},
    {"need", "需求"},
    {"non_participation", "未参加情况"},
    {"occupation", "职业"},
    {"org", "组织"},
    {"outcome", "结果"},
    {"period", "期间"},
    {"poor_conduct", "不良表现"},
    {"rating", "评价"},
    {"reason", "原因"},
    {"report_days", "报到期限"},
    {"request", "征求意见函"},
    {"rest_time", "休息时间"},
    {"role", "职务"},
    {"sign_key", "签名密钥"},
    {"skills", "特长"},
    {"start", "开始日期"},
    {"status", "状态"},
    {"street", "街道"},
    {"subject", "事由"},
    {"target", "对象"},
    {"team", "志愿服务队"},
    {"text", "内容"},
    {"title", "标题"},
    {"to", "收件组织"},
    {"unit", "单位"},
    {"verdict", "意见"},
    {"via", "经由"},
    {"willingness", "服务意愿"},
    {"working_days", "工作日数"},
    {"year", "年度"},
    {"letter", "函件"},
    {"resolution", "解决办法"},
    {"intro", "介绍函编号"},
    {"activities", "参加活动次数"},
    {"difficulty", "困难"},
    {"feedback_origin", "反馈函发出方"},
    {"feedback_seq", "反馈函序号"},
    {"notice", "公示"},
    {"side", "一方"},
    {"key_from", "新密钥起始序号"},
    {"past_keys", "历任签名密钥"},
    {"rotation", "换钥签名"},
    {"state", "目录状态"},
};

const char *fields_label_zh(const char *name)
{
    for (size_t i = 0; i < sizeof(labels_zh) / sizeof(labels_zh[0]); i++)
        if (strcmp(labels_zh[i][0], name) == 0)
            return labels_zh[i][1];
    return name;
}

static const char *convention_rule_zh(enum convention c)
{
    static const char *const rules[] = {
        "不超过 256 字节的 UTF-8 文字",
        "日期 YYYY-MM-DD",
        "社区编号(community:<编号>)",
        "组织编号(unit:/community:/street:<编号>)",
        "函件编号(组织/序号)",
        "党员编号(1–64 个字母、数字或 -)",
        "代码(小写字母、数字、-,1–48 个)",
        "单位(unit)或社区(community)",
        "不超过 64 字节、不含逗号的列表项",
        "不超过 128 字节的名称",
        "不超过 4096 字节的文字",
        "期间 YYYY 或 YYYY-Qn",
    };
    return rules[c];
}

static const char *convention_rule(enum convention c)
{
    static const char *const rules[] = {
        "UTF-8 text of at most 256 bytes",
        "a date YYYY-MM-DD",
        "a community id (community:<code>)",
        "an org id (unit:/community:/street:<code>)",
        "an event id (org/seq)",
        "a member id (1-64 letters, digits or -)",
        "a code ([a-z0-9-], 1-48)",
        "unit or community",
        "a list item of at most 64 bytes without commas",
        "a name of at most 128 bytes",
        "text of at most 4096 bytes",
        "a period YYYY or YYYY-Qn",
    };
    return rules[c];
}

static bool number_valid(const char *field, uint64_t v)
{
    if (v == 0)
        return true;
    for (size_t i = 0; i < sizeof(number_ranges) / sizeof(number_ranges[0]); i++)
        if (strcmp(number_ranges[i].name, field) == 0)
            return v >= number_ranges[i].min && v <= number_ranges[i].max;
    return true;
}

#define MEMBER_AT(msg, off, type) (*(type *)((char *)(msg) + (off)))

static size_t repeated_count(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    return f->label == PROTOBUF_C_LABEL_REPEATED ? MEMBER_AT(m, f->quantifier_offset, size_t) : 1;
}

/* Pointer to element i of field f (the field itself when it is not repeated). */
static void *element(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, size_t i,
                     size_t elem_size)
{
    if (f->label != PROTOBUF_C_LABEL_REPEATED)
        return (char *)m + f->offset;
    return MEMBER_AT(m, f->offset, char *) + i * elem_size;
}

static uint64_t scalar_value(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, size_t i)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_UINT32:
        return *(uint32_t *)element(m, f, i, sizeof(uint32_t));
    case PROTOBUF_C_TYPE_UINT64:
        return *(uint64_t *)element(m, f, i, sizeof(uint64_t));
    case PROTOBUF_C_TYPE_BOOL:
        return *(protobuf_c_boolean *)element(m, f, i, sizeof(protobuf_c_boolean));
    case PROTOBUF_C_TYPE_ENUM:
    case PROTOBUF_C_TYPE_INT32:
        return (uint64_t)(int64_t) * (int32_t *)element(m, f, i, sizeof(int32_t));
    default:
        return 0;
    }
}

static bool field_given(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return repeated_count(m, f) > 0;
    if (f->type == PROTOBUF_C_TYPE_STRING)
        return MEMBER_AT(m, f->offset, const char *)[0] != '\0';
    if (f->type == PROTOBUF_C_TYPE_BYTES)
        return MEMBER_AT(m, f->offset, ProtobufCBinaryData).len > 0;
    if (f->type == PROTOBUF_C_TYPE_MESSAGE)
        return MEMBER_AT(m, f->offset, void *) != NULL;
    return scalar_value(m, f, 0) != 0;
}

static bool one_valid(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, size_t i,
                      char *why)
{
    if (f->type == PROTOBUF_C_TYPE_STRING) {
        const char *s = *(char **)element(m, f, i, sizeof(char *));
        enum convention c = convention_of(f->name);
        if (!s || !string_valid(c, s) || (f->label == PROTOBUF_C_LABEL_REPEATED && !s[0])) {
            snprintf(why, FIELDS_WHY_MAX, "%s须为%s\n%s must be %s", fields_label_zh(f->name),
                     convention_rule_zh(c), f->name, convention_rule(c));
            return false;
        }
    } else if (f->type == PROTOBUF_C_TYPE_ENUM) {
        int v = (int)(int32_t)scalar_value(m, f, i);
        if (v != 0 && !protobuf_c_enum_descriptor_get_value(f->descriptor, v)) {
            snprintf(why, FIELDS_WHY_MAX, "%s的取值 %d 未定义\n%s has an unknown value %d",
                     fields_label_zh(f->name), v, f->name, v);
            return false;
        }
    } else if (f->type == PROTOBUF_C_TYPE_UINT32 || f->type == PROTOBUF_C_TYPE_UINT64) {
        if (!number_valid(f->name, scalar_value(m, f, i))) {
            snprintf(why, FIELDS_WHY_MAX, "%s超出范围\n%s is out of range",
                     fields_label_zh(f->name), f->name);
            return false;
        }
    } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
        const ProtobufCMessage *sub = *(ProtobufCMessage **)element(m, f, i, sizeof(void *));
        if (sub && !fields_valid(sub, NULL, why))
            return false;
    }
    return true;
}

static bool required_given(const ProtobufCMessage *m, const char *required, char *why)
{
    char name[64];
    const char *p = required;
    while (p && *p) {
        size_t n = strcspn(p, ",");
        size_t copy = n < sizeof(name) ? n : sizeof(name) - 1; /* per letter: no snprintf */
        memcpy(name, p, copy);
        name[copy] = '\0';
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);
        if (!f || !field_given(m, f)) {
            snprintf(why, FIELDS_WHY_MAX, "缺少必填项:%s\n%s is required", fields_label_zh(name),
                     name);
            return false;
        }
        p += n + (p[n] == ',');
    }
    return true;
}

bool fields_valid(const ProtobufCMessage *msg, const char *required, char *why)
{
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        size_t count = repeated_count(msg, f);
        if (count > FIELDS_LIST_MAX) {
            snprintf(why, FIELDS_WHY_MAX, "%s超过 %d 项\n%s has more than %d items",
                     fields_label_zh(f->name), FIELDS_LIST_MAX, f->name, FIELDS_LIST_MAX);
            return false;
        }
        for (size_t k = 0; k < count; k++)
            if (!one_valid(msg, f, k, why))
                return false;
    }
    return required_given(msg, required, why);
}

/* ---------------------------------------------------------------- NULs in the raw body */

static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (unsigned shift = 0; *p < end && shift < 64; shift += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

/* protobuf-c hands a string over as a C string, so a NUL inside one would cut what every
 * screen shows while the signed bytes hold more ("张三\0<anything>"). The raw body is walked
 * once, nested messages included, and the first string field holding a NUL is returned
 * (NULL: none). Malformed wire is left to protobuf_c_message_unpack, which judged it; the
 * walk only makes sure it never steps past the end (an empty body may come as NULL, a
 * fixed field may be cut short), as even forming such a pointer is undefined. */
static const ProtobufCFieldDescriptor *string_with_nul(const ProtobufCMessageDescriptor *desc,
                                                       const uint8_t *p, size_t len, int depth)
{
    if (!len)
        return NULL;
    const uint8_t *end = p + len;
    uint64_t key, n;
    while (p < end && read_varint(&p, end, &key)) {
        switch (key & 7) {
        case 0:
            if (!read_varint(&p, end, &n))
                return NULL;
            continue;
        case 1:
        case 5:
            n = (key & 7) == 1 ? 8 : 4;
            if (n > (uint64_t)(end - p))
                return NULL;
            p += n;
            continue;
        case 2:
            break;
        default:
            return NULL;
        }
        if (!read_varint(&p, end, &n) || n > (uint64_t)(end - p))
            return NULL;
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field(desc, (unsigned)(key >> 3));
        if (f && f->type == PROTOBUF_C_TYPE_STRING && memchr(p, 0, (size_t)n))
            return f;
        if (f && f->type == PROTOBUF_C_TYPE_MESSAGE && depth < 8) {
            const ProtobufCFieldDescriptor *inner =
                string_with_nul(f->descriptor, p, (size_t)n, depth + 1);
            if (inner)
                return inner;
        }
        p += n;
    }
    return NULL;
}

bool fields_raw_strings_valid(const ProtobufCMessageDescriptor *desc, const uint8_t *body,
                              size_t len, char *why)
{
    const ProtobufCFieldDescriptor *nul = string_with_nul(desc, body, len, 0);
    if (nul)
        snprintf(why, FIELDS_WHY_MAX, "%s含有空字符(NUL)\n%s holds a NUL character",
                 fields_label_zh(nul->name), nul->name);
    return !nul;
}

bool fields_body_valid(const ProtobufCMessageDescriptor *desc, const uint8_t *body, size_t len,
                       const char *required, char *why)
{
    ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, len, body);
    if (!m) {
        snprintf(why, FIELDS_WHY_MAX, "函件内容无法解码\nthe %s body does not decode",
                 desc->short_name);
        return false;
    }
    bool ok = fields_valid(m, required, why) && fields_raw_strings_valid(desc, body, len, why);
    protobuf_c_message_free_unpacked(m, NULL);
    return ok;
}

ProtobufCMessage *fields_new(const ProtobufCMessageDescriptor *desc)
{
    ProtobufCMessage *m = xcalloc(1, desc->sizeof_message);
    protobuf_c_message_init(desc, m);
    return m;
}

void fields_free(ProtobufCMessage *msg)
{
    if (msg)
        protobuf_c_message_free_unpacked(msg, NULL);
}

const char *fields_enum_name(const ProtobufCEnumDescriptor *e, int value, char *buf)
{
    const ProtobufCEnumValue *v = value ? protobuf_c_enum_descriptor_get_value(e, value) : NULL;
    buf[0] = '\0';
    if (!v)
        return buf;
    const char *s = strchr(v->name, '_');
    size_t n = 0;
    for (s = s ? s + 1 : v->name; *s && n < 63; s++)
        buf[n++] = *s == '_' ? '-' : (char)tolower((unsigned char)*s);
    buf[n] = '\0';
    return buf;
}

static bool parse_enum(const ProtobufCEnumDescriptor *e, const char *text, int *out)
{
    char buf[64];
    for (unsigned i = 0; i < e->n_values; i++) {
        int v = e->values[i].value;
        if (v != 0 && strcmp(fields_enum_name(e, v, buf), text) == 0) {
            *out = v;
            return true;
        }
    }
    return false;
}

static bool parse_bool(const char *t, protobuf_c_boolean *out)
{
    if (!t[0] || !strcmp(t, "yes") || !strcmp(t, "true") || !strcmp(t, "1"))
        *out = 1;
    else if (!strcmp(t, "no") || !strcmp(t, "false") || !strcmp(t, "0"))
        *out = 0;
    else
        return false;
    return true;
}

static bool parse_u64(const char *t, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(t, &end, 10);
    if (errno || !isdigit((unsigned char)t[0]) || *end || v > max)
        return false;
    *out = v;
    return true;
}

static void set_string(char **slot, const char *text)
{
    if (*slot && *slot != protobuf_c_empty_string)
        free(*slot);
    *slot = xstrdup(text);
}

/* Bytes of the list separator at p (0 if none): the ASCII comma and semicolon, and the
 * full-width comma and semicolon and the enumeration comma 、 that Chinese text uses. */
static size_t separator_at(const char *p)
{
    static const char *const seps[] = {",", ";", "\xef\xbc\x8c", "\xef\xbc\x9b", "\xe3\x80\x81"};
    for (size_t i = 0; i < sizeof(seps) / sizeof(seps[0]); i++)
        if (strncmp(p, seps[i], strlen(seps[i])) == 0)
            return strlen(seps[i]);
    return 0;
}

/* Bytes of the blank at p (0 if none): ASCII space or tab, or the ideographic space. */
static size_t blank_at(const char *p)
{
    if (*p == ' ' || *p == '\t')
        return 1;
    return strncmp(p, "\xe3\x80\x80", 3) == 0 ? 3 : 0;
}

/* The next item of a list at p: *item and *len are the item without the blanks around it
 * (len 0 for an empty item); returns where the item after it starts (at the NUL when it
 * was the last). */
static const char *next_item(const char *p, const char **item, size_t *len)
{
    for (size_t b; (b = blank_at(p)) != 0;)
        p += b;
    const char *end = p, *last = p; /* last: the end of the item without its blanks */
    while (*end && !separator_at(end)) {
        size_t b = blank_at(end);
        end += b ? b : 1;
        if (!b)
            last = end;
    }
    *item = p;
    *len = (size_t)(last - p);
    return end + separator_at(end);
}

char *fields_list_canonical(const char *text)
{
    char *out = xmalloc(strlen(text) + 1), *w = out;
    const char *item;
    size_t len;
    for (const char *p = text; *p;) {
        p = next_item(p, &item, &len);
        if (!len)
            continue;
        if (w != out)
            *w++ = ',';
        memcpy(w, item, len);
        w += len;
    }
    *w = '\0';
    return out;
}

/* A repeated string from a list (fields_list_canonical's separators and blanks): the old
 * list is replaced. */
static void set_list(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, const char *text)
{
    size_t *n = &MEMBER_AT(m, f->quantifier_offset, size_t);
    char ***arr = &MEMBER_AT(m, f->offset, char **);
    const char *item;
    size_t len;
    for (size_t i = 0; i < *n; i++)
        free((*arr)[i]);
    free(*arr);
    *arr = NULL;
    *n = 0;
    for (const char *p = text; *p && *n < FIELDS_LIST_MAX + 1;) {
        p = next_item(p, &item, &len);
        if (!len)
            continue;
        *arr = xrealloc(*arr, (*n + 1) * sizeof(**arr));
        (*arr)[*n] = xmalloc(len + 1);
        memcpy((*arr)[*n], item, len);
        (*arr)[(*n)++][len] = '\0';
    }
}

int fields_set(ProtobufCMessage *m, const char *option, const char *text, char *why)
{
    char name[64];
    size_t n = strlen(option);
    if (n >= sizeof(name))
        return DS_ENOTFOUND;
    for (size_t i = 0; i <= n; i++)
        name[i] = option[i] == '-' ? '_' : option[i];
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);
    if (!f || f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_BYTES)
        return DS_ENOTFOUND;
    bool repeated = f->label == PROTOBUF_C_LABEL_REPEATED;
    if (repeated && f->type != PROTOBUF_C_TYPE_STRING)
        return DS_ENOTFOUND;
    uint64_t v = 0;
    int e = 0;
    bool ok = true;
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        if (repeated)
            set_list(m, f, text);
        else
            set_string(&MEMBER_AT(m, f->offset, char *), text);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        ok = parse_bool(text, &MEMBER_AT(m, f->offset, protobuf_c_boolean));
        break;
    case PROTOBUF_C_TYPE_UINT32:
        if ((ok = parse_u64(text, UINT32_MAX, &v)))
            MEMBER_AT(m, f->offset, uint32_t) = (uint32_t)v;
        break;
    case PROTOBUF_C_TYPE_UINT64:
        if ((ok = parse_u64(text, UINT64_MAX, &v)))
            MEMBER_AT(m, f->offset, uint64_t) = v;
        break;
    case PROTOBUF_C_TYPE_ENUM:
        if ((ok = parse_enum(f->descriptor, text, &e)))
            MEMBER_AT(m, f->offset, int) = e;
        break;
    default:
        return DS_ENOTFOUND;
    }
    if (!ok)
        snprintf(why, FIELDS_WHY_MAX,
                 "--%s:「%.60s」不是有效的取值\n--%s: \"%.60s\" is not a valid value", option, text,
                 option, text);
    return ok ? DS_OK : DS_EINVAL;
}

const char *fields_why_en(const char *why)
{
    const char *nl = strchr(why, '\n');
    return nl ? nl + 1 : why;
}

void fields_why_zh(const char *why, char *out, size_t size)
{
    snprintf(out, size, "%.*s", (int)strcspn(why, "\n"), why);
}

const char *fields_get_str(const ProtobufCMessage *m, const char *name)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);
    if (!f || f->type != PROTOBUF_C_TYPE_STRING || f->label == PROTOBUF_C_LABEL_REPEATED)
        return "";
    const char *s = MEMBER_AT(m, f->offset, const char *);
    return s ? s : "";
}

static json_t *one_json(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, size_t i)
{
    char buf[64];
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        json_t *s = json_string(*(char **)element(m, f, i, sizeof(char *)));
        return s ? s : json_string(""); /* stored text is valid UTF-8; be safe anyway */
    }
    case PROTOBUF_C_TYPE_BOOL:
        return json_boolean(scalar_value(m, f, i));
    case PROTOBUF_C_TYPE_ENUM:
        return json_string(fields_enum_name(f->descriptor, (int)scalar_value(m, f, i), buf));
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_INT32:
        return json_integer((json_int_t)scalar_value(m, f, i));
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = element(m, f, i, sizeof(ProtobufCBinaryData));
        char *hex = xmalloc(2 * b->len + 1);
        keys_hex(b->data, b->len, hex);
        json_t *s = json_string(hex);
        free(hex);
        return s;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage **)element(m, f, i, sizeof(void *));
        return sub ? fields_json(sub) : json_null();
    }
    default:
        return json_null();
    }
}

json_t *fields_json(const ProtobufCMessage *m)
{
    json_t *obj = json_object();
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->label != PROTOBUF_C_LABEL_REPEATED) {
            json_object_set_new(obj, f->name, one_json(m, f, 0));
            continue;
        }
        json_t *arr = json_array();
        for (size_t k = 0; k < repeated_count(m, f); k++)
            json_array_append_new(arr, one_json(m, f, k));
        json_object_set_new(obj, f->name, arr);
    }
    return obj;
}

char *fields_options(const ProtobufCMessageDescriptor *desc)
{
    size_t cap = 64, n = 0;
    char *out = xmalloc(cap);
    out[0] = '\0';
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        size_t need = strlen(f->name) + 3;
        if (n + need >= cap) {
            cap = 2 * (n + need);
            out = xrealloc(out, cap);
        }
        if (n)
            out[n++] = ',';
        for (const char *p = f->name; *p; p++)
            out[n++] = *p == '_' ? '-' : *p;
        if (f->type != PROTOBUF_C_TYPE_BOOL)
            out[n++] = ':';
        out[n] = '\0';
    }
    return out;
}
